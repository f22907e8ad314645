"""Sphinx configuration of the slopes documentation.

Build (warnings are errors; notebooks execute, cached by content hash in
``docs/_build/.jupyter_cache``)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import hashlib
import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
SRC = DOCS.parent / "src"

# Document (and execute the notebooks against) the checkout these sources belong to, even
# when another copy of slopes is installed: the kernels inherit PYTHONPATH.
sys.path.insert(0, str(SRC))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
# The notebook kernels read their startup file (no progress-bar warning) from here.
os.environ["IPYTHONDIR"] = str(DOCS / "_ipython")
os.environ.setdefault("MPLBACKEND", "Agg")

import slopes  # noqa: E402

project = "slopes"
author = "the slopes developers"
copyright = "the slopes developers"
release = version = slopes.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
]

exclude_patterns = ["_build", "_ipython", "_static", "**/.ipynb_checkpoints", "README.md"]
templates_path = ["_templates"]

# --- API reference: autosummary stubs from the docstrings, read by numpydoc ---------------
# The stubs are regenerated on every build; stale ones (a renamed function) would be orphans.
shutil.rmtree(DOCS / "api" / "generated", ignore_errors=True)
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# Examples in docstrings are doctested by pytest; here they are only shown.
numpydoc_use_plots = False

# --- notebooks: MyST markdown, executed at build time, cached by content hash --------------
nb_execution_mode = "cache"


def library_digest(src=SRC):
    """A hash of the library's files: outputs cached under it are never stale."""
    h = hashlib.sha256()
    for path in sorted(p for p in src.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(path.relative_to(src).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


# The cache keys each notebook by its content; the folder is keyed by the library's, so a
# change in slopes re-executes the notebooks instead of showing the old outputs.
_CACHE = DOCS / "_build" / ".jupyter_cache"
nb_execution_cache_path = str(_CACHE / library_digest())
for _old in _CACHE.glob("*"):
    if str(_old) != nb_execution_cache_path:
        shutil.rmtree(_old, ignore_errors=True) if _old.is_dir() else _old.unlink()
nb_execution_raise_on_error = True
nb_execution_timeout = 180
# A warning printed by a tutorial (a NaN, a deprecation) fails the build like any other warning.
nb_output_stderr = "warn"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]

# --- HTML ---------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"slopes {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": True,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_static_path = ["_static"]
# MathJax from the package itself (docs/_static/mathjax, SVG output with its glyphs inline),
# so the built site renders math offline; Sphinx's default loads it from a CDN
mathjax_path = "mathjax/tex-svg.js"
mathjax3_config = {"options": {"enableMenu": False}}
html_show_sourcelink = False
