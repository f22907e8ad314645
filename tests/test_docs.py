"""The documentation sources: API coverage, toctrees, notebooks, shared computations.

Quick checks that do not build the site (``.ci/run`` builds it with warnings as errors).
"""

import ast
import importlib
import inspect
import re
import tomllib
import types
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_nb")
jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: The packages whose every public name must appear in the API reference.
PACKAGES = (
    "slopes",
    "slopes.numpy",
    "slopes.numpy.linalg",
    "slopes.numpy.fft",
    "slopes.scipy",
    "slopes.scipy.special",
    "slopes.scipy.stats",
    "slopes.scipy.linalg",
    "slopes.scipy.signal",
    "slopes.integrate",
    "slopes.numeric",
    "slopes.symbolic",
    "slopes.check",
    "slopes.expr",
    "slopes.analysis",
    "slopes.calculus",
    "slopes.optim",
    "slopes.problems",
    "slopes.ml",
    "slopes.ml.datasets",
    "slopes.distributed",
    "slopes.sampling",
    "slopes.viz",
    "slopes.report",
)

#: The course's chapters, in order, as tutorial documents.
CHAPTERS = (
    "derivatives",
    "gradients",
    "taylor",
    "landscapes",
    "gradient-methods",
    "newton",
    "constraints",
    "training",
    "probability",
)

#: Libraries a how-to may show but must not execute (the docs build does not install them).
PEERS = {"autograd", "jax", "jaxlib", "optax", "torch", "tensorflow"}


def public_names(module):
    """``__all__``, or the names without a leading underscore, without submodules."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_")]
    return [n for n in names if not isinstance(getattr(module, n), types.ModuleType)]


def api_entries(objects=None):
    """(objects listed by autosummary, modules given an automodule) over docs/api/*.rst.

    ``objects``, a list, receives ``(qualified name, object)`` of every entry.
    """
    listed, modules = set(), set()
    directive = re.compile(r"^\.\. (currentmodule|automodule|autosummary)::\s*(\S*)")
    for page in sorted((DOCS / "api").glob("*.rst")):
        current, in_summary = None, False
        for line in page.read_text(encoding="utf-8").splitlines():
            m = directive.match(line)
            if m:
                kind, arg = m.groups()
                if kind in ("currentmodule", "automodule"):
                    current = arg
                if kind == "automodule":
                    modules.add(arg)
                in_summary = kind == "autosummary"
                continue
            if in_summary and line.startswith("   ") and not line.strip().startswith(":") and line.strip():
                obj = getattr(importlib.import_module(current), line.strip())
                listed.add(id(obj))
                if objects is not None:
                    objects.append((f"{current}.{line.strip()}", obj))
            elif in_summary and line.strip() and not line.startswith(" "):
                in_summary = False
    return listed, modules


def notebooks():
    return sorted(p for p in (DOCS / "tutorials").glob("*.md") if p.name != "index.md") + sorted(
        p for p in (DOCS / "howto").glob("*.md") if p.name != "index.md"
    )


def code_cells(path):
    nb = jupytext.read(path, fmt="md:myst")
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_every_public_name_has_an_api_entry():
    listed, modules = api_entries()
    missing = []
    for name in PACKAGES:
        module = importlib.import_module(name)
        assert name in modules, f"docs/api: no '.. automodule:: {name}'; give it a section"
        missing += [f"{name}.{n}" for n in public_names(module) if id(getattr(module, n)) not in listed]
        # a public submodule (sl.optim, sl.optim.prox, ...) needs its own section, unless
        # everything in it is listed where its package re-exports it
        for n in getattr(module, "__all__", ()):
            sub = getattr(module, n)
            if isinstance(sub, types.ModuleType) and sub.__name__ not in modules:
                missing += [f"{sub.__name__}.{m}" for m in public_names(sub) if id(getattr(sub, m)) not in listed]
    assert not missing, (
        "public names without an entry in the API reference; add each to an autosummary list "
        f"in docs/api/<module>.rst: {missing}"
    )


def test_api_coverage_check_sees_an_unlisted_name(monkeypatch):
    # the check above is only as good as its parser: an unlisted object must show up as missing
    import slopes.check

    listed, _ = api_entries()
    monkeypatch.setattr(slopes.check, "not_documented_anywhere", lambda: None, raising=False)
    monkeypatch.setattr(slopes.check, "__all__", [*slopes.check.__all__, "not_documented_anywhere"])
    unlisted = [n for n in public_names(slopes.check) if id(getattr(slopes.check, n)) not in listed]
    assert unlisted == ["not_documented_anywhere"]


def test_autosummary_lines_keep_their_markup():
    # autosummary's table shows a docstring's text up to the first ". ": a period inside
    # ``code`` cuts the literal in two and fails the build with -W (write ``a @ x``, not ``a . x``)
    from sphinx.ext.autosummary import periods_re

    objects, broken = [], []
    api_entries(objects)
    for qualname, obj in objects:
        doc = inspect.getdoc(obj) if callable(obj) or inspect.isclass(obj) else None
        first_paragraph = " ".join((doc or "").split("\n\n")[0].split())
        summary = periods_re.split(first_paragraph)[0]
        if summary.count("``") % 2:
            broken.append(f"{qualname}: {summary!r}")
    assert not broken, f"summaries with an unclosed ``literal``: {broken}"


def toctree_entries(page):
    text = page.read_text(encoding="utf-8")
    if page.suffix == ".md":
        blocks = re.findall(r"```\{toctree\}\n(.*?)```", text, flags=re.S)
    else:
        blocks = re.findall(r"\.\. toctree::\n((?:\s*\n|   .*\n)*)", text)
    return [
        line.strip()
        for block in blocks
        for line in block.splitlines()
        if line.strip() and not line.strip().startswith(":")
    ]


def test_every_toctree_entry_exists():
    pages = [DOCS / "index.md", DOCS / "tutorials" / "index.md", DOCS / "howto" / "index.md", DOCS / "api" / "index.rst"]
    for page in pages:
        entries = toctree_entries(page)
        assert entries, f"{page} has no toctree"
        for entry in entries:
            target = page.parent / entry
            assert target.with_suffix(".md").exists() or target.with_suffix(".rst").exists(), (
                f"{page.relative_to(ROOT)} lists {entry!r}, which has no .md or .rst source"
            )


def test_one_tutorial_per_chapter_in_course_order():
    assert toctree_entries(DOCS / "tutorials" / "index.md") == list(CHAPTERS)
    assert sorted(p.stem for p in (DOCS / "tutorials").glob("*.md") if p.name != "index.md") == sorted(CHAPTERS)


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_notebook_is_valid_mystnb_text(path):
    text = path.read_text(encoding="utf-8")
    header = text.split("---", 2)[1]
    assert "file_format: mystnb" in header and "kernelspec:" in header and "format_name: myst" in header
    nb = jupytext.read(path, fmt="md:myst")
    nbformat.validate(nb)
    sources = code_cells(path)
    assert sources, f"{path.name} has no code cell"
    for src in sources:
        ast.parse(src)  # a syntax error fails here, before a docs build
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), "a page starts with its title"


def test_howtos_do_not_execute_peer_libraries():
    for path in notebooks():
        for src in code_cells(path):
            for node in ast.walk(ast.parse(src)):
                if isinstance(node, ast.Import):
                    roots = {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom):
                    roots = {(node.module or "").split(".")[0]}
                else:
                    continue
                assert not roots & PEERS, f"{path.name} executes an import of {roots & PEERS}; show it unexecuted"


def test_tutorials_call_the_report_computations():
    # the report and the tutorials share one computation per worked example
    text = "\n".join("\n".join(code_cells(p)) for p in notebooks())
    for name in ("sections_calculus", "sections_optim", "sections_ml"):
        module = importlib.import_module(f"slopes.report.{name}")
        shared = [n for n in module.__all__ if callable(getattr(module, n)) and n.islower() and n != "load_standardized"]
        assert shared
        for fn in shared:
            assert re.search(rf"\b{fn}\(", text), f"no tutorial calls slopes.report.{name}.{fn}"


def test_docs_extra_and_ci_build():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extra = " ".join(project["optional-dependencies"]["docs"])
    for package in ("sphinx", "myst-nb", "jupytext", "nbclient", "ipykernel", "pydata-sphinx-theme", "numpydoc"):
        assert package in extra, f"the docs extra lacks {package}"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r'pip install .*-e "\.\[[^]]*\bdocs\b', ci)
    assert "python -m sphinx -W --keep-going -b html docs docs/_build/html" in ci


def test_conf_raises_on_notebook_errors_and_caches():
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    assert 'nb_execution_mode = "cache"' in conf and "nb_execution_raise_on_error = True" in conf


def test_notebook_cache_follows_the_library(tmp_path):
    # cached outputs are keyed by the notebook's text; the cache folder by the library's files
    tree = ast.parse((DOCS / "conf.py").read_text(encoding="utf-8"))
    (fn,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "library_digest"]
    namespace = {"hashlib": __import__("hashlib"), "SRC": tmp_path}
    exec(compile(ast.Module([fn], []), "conf.py", "exec"), namespace)
    digest = namespace["library_digest"]
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    before = digest(tmp_path)
    assert digest(tmp_path) == before  # deterministic
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "a.pyc").write_bytes(b"noise")
    assert digest(tmp_path) == before  # bytecode does not count
    (tmp_path / "pkg" / "a.py").write_text("x = 2\n")
    assert digest(tmp_path) != before


def test_math_renders_offline_from_a_vendored_mathjax():
    # Sphinx's default MathJax comes from a CDN: offline, readers would see raw TeX
    tree = ast.parse((DOCS / "conf.py").read_text(encoding="utf-8"))
    assigned = {
        t.id: n.value for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)
    }
    path = ast.literal_eval(assigned["mathjax_path"])
    assert "//" not in path
    static = [DOCS / p for p in ast.literal_eval(assigned["html_static_path"])]
    script = [d / path for d in static if (d / path).is_file()]
    assert script and script[0].stat().st_size > 1_000_000  # the whole TeX-to-SVG bundle
    assert (script[0].parent / "LICENSE").is_file()
