"""README.md as written: every Python block runs in order, its numbers hold, its commands work.

The Python blocks run top to bottom in one namespace, statement by statement, keeping the
value of each bare expression (as an interactive session would show it) so that the
numbers the README states can be checked against closed forms. The ``slopes`` command
lines of the bash blocks all parse, and every one runs except ``slopes report`` (the full
lab report takes about 10 s; its build is tested in test_report.py) and ``slopes lab`` (a
server; tested in test_lab_api.py and test_lab_browser.py).
"""

import ast
import contextlib
import io
import math
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

from slopes.cli import cli

README = Path(__file__).resolve().parents[1] / "README.md"
NOT_RUN = {"report", "lab"}  # too slow for the suite / a server that runs until stopped; parsed only


def fenced_blocks(language: str) -> list[str]:
    """The bodies of the README's ```language blocks, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)


def run_python_blocks() -> tuple[dict[str, object], dict[str, object]]:
    """Execute every Python block; return ({source of each bare expression: its value}, the namespace)."""
    namespace: dict[str, object] = {}
    values: dict[str, object] = {}
    for number, block in enumerate(fenced_blocks("python")):
        for stmt in ast.parse(block).body:
            source = ast.get_source_segment(block, stmt)
            where = f"README python block {number}, line {stmt.lineno}: {source}"
            with contextlib.redirect_stdout(io.StringIO()):
                if isinstance(stmt, ast.Expr):
                    values[source] = eval(compile(ast.Expression(stmt.value), where, "eval"), namespace)
                else:
                    exec(compile(ast.Module([stmt], []), where, "exec"), namespace)
    return values, namespace


@pytest.fixture(scope="module")
def session():
    return run_python_blocks()


@pytest.fixture
def readme(session):
    return session[0]


def slopes_command_lines() -> list[list[str]]:
    """Every ``slopes ...`` command of the bash blocks as an argument list (comments dropped)."""
    commands = []
    for block in fenced_blocks("bash"):
        for line in block.splitlines():
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                if words and words[0] == "slopes":
                    commands.append(words[1:])
    return commands


COMMANDS = slopes_command_lines()


def test_the_readme_has_python_blocks_and_commands():
    assert len(fenced_blocks("python")) >= 7
    assert {c[0] for c in COMMANDS} >= {"diff", "grad", "taylor", "race", "train", "minimize", "report"}


def test_every_python_block_runs_as_written(readme):
    assert "sl.grad(f)(x)" in readme  # the first block's values were recorded
    last = "sl.sampling.hmc(lambda x: -0.5 * x @ x, np.zeros(2), n_samples=2000, seed=0)"
    assert last in readme  # ... and so were the last block's


def test_derivatives_stated_in_the_readme(readme):
    t = math.exp(-3.0)  # f = x0^2 + 2 x1^2 + exp(-x0 - x1) at (1, 2)
    np.testing.assert_allclose(readme["sl.grad(f)(x)"], [2 - t, 8 - t], rtol=1e-14)
    np.testing.assert_allclose(readme["sl.grad(f)(x)"], [1.950213, 7.950213], atol=5e-7)  # as printed
    np.testing.assert_allclose(readme["sl.hessian(f)(x)"], [[2 + t, t], [t, 4 + t]], rtol=1e-14)
    np.testing.assert_allclose(
        readme["sl.jacobian(lambda x: snp.array([x[0]**2, x[0]*x[1]]))(x)"], [[2.0, 0.0], [2.0, 1.0]]
    )
    # (sin + cos)^(5) = cos - sin, which is 1 at 0
    assert readme["sl.derivative(lambda t: snp.sin(t) + snp.cos(t), order=5)(0.0)"] == pytest.approx(1.0)
    exact = readme["sl.symbolic.gradient(e)"]
    x1, x2 = sorted(exact.free_symbols, key=str)  # slopes' symbols (they carry assumptions)
    e = x1**2 + 2 * x2**2 + sp.exp(-x1 - x2)
    assert exact == sp.Matrix([[sp.diff(e, x1)], [sp.diff(e, x2)]])


def test_taylor_errors_stated_in_the_readme(readme):
    s = 0.5
    by_hand = 1 + s - s**2 / 2 - s**3 / 6 + s**4 / 24 + s**5 / 120
    error = readme["np.sin(.5) + np.cos(.5) - p(.5)"]
    assert error == pytest.approx(math.sin(s) + math.cos(s) - by_hand, rel=1e-9)
    assert f"{error:.2e}" == "-2.31e-05"
    assert readme["p.remainder_estimate(.5)"] == pytest.approx(-(s**6) / 720, rel=1e-12)


def test_landscape_and_expectation_stated_in_the_readme(readme, session):
    kinds = [p.kind for p in session[1]["pts"]]  # Himmelblau's function: 4 minima, 4 saddles, 1 maximum
    assert (kinds.count("minimum"), kinds.count("saddle"), kinds.count("maximum"), len(kinds)) == (4, 4, 1, 9)
    assert readme["sl.analysis.classify(himmelblau, np.array([3.0, 2.0])).kind"] == "minimum"
    mean, _ = readme["sl.calculus.expectation(lambda z: z**2, scipy.stats.norm(1, 2))"]
    assert mean == pytest.approx(1.0**2 + 2.0**2, rel=1e-10)  # E z^2 = mu^2 + sigma^2


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(c)[:60] for c in COMMANDS])
def test_every_readme_command_parses(args):
    """Parse and check (without running) each command line as the shell hands it to ``slopes``."""
    name, *rest = args
    cli.commands[name].make_context(f"slopes {name}", rest)


@pytest.mark.parametrize(
    "args", [c for c in COMMANDS if c[0] not in NOT_RUN], ids=[c[0] for c in COMMANDS if c[0] not in NOT_RUN]
)
def test_every_cheap_readme_command_runs(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the commands write their figures and runs/ here
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    for word in args:  # every figure the command was asked to draw is there
        if word.endswith(".png"):
            assert (tmp_path / word).read_bytes()[:4] == b"\x89PNG"


def test_every_module_the_readme_lists_is_reachable_and_matplotlib_loads_only_when_used():
    """In a fresh interpreter (this session may have imported slopes.viz already)."""
    first_cells = re.findall(r"^\| ([^|]*`sl\.[^|]*)\|", README.read_text(encoding="utf-8"), re.M)
    listed = sorted({name for cell in first_cells for name in re.findall(r"`sl\.(\w+)", cell)})
    assert {"viz", "numeric", "optim", "ml"} <= set(listed)
    code = f"""
import sys
import slopes as sl
heavy = ('matplotlib', 'slopes.viz', 'slopes.report', 'scipy.signal', 'scipy.stats', 'sklearn')
print(sorted(m for m in heavy if m in sys.modules))
print([name for name in {listed!r} if not hasattr(sl, name)])
print(sl.viz.save.__name__, sl.report.build.__name__, 'matplotlib' in sys.modules)
print({{'viz', 'report'}} <= set(dir(sl)) & set(sl.__all__))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["[]", "[]", "save build True", "True"]
