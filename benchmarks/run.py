"""Side-by-side timing of slopes against hand-written NumPy and peer autodiff libraries.

Usage::

    python benchmarks/run.py            # full run (~0.2 s per measurement, 7 repeats)
    python benchmarks/run.py --quick    # smoke run (~0.05 s per measurement, 3 repeats)
    python benchmarks/run.py --only a1,d --libs numpy,slopes,autograd

Every library's answer is checked against the hand-written NumPy reference before it is
timed; a disagreement prints FAIL in its cell and makes the run exit non-zero, as does a
library raising an exception. Libraries that are not installed are shown as "n/a".

Timed calls take and return the library's own array type: inputs are converted once,
outside the timed region, and JAX results are waited for (``block_until_ready``) inside it.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import statistics
import subprocess
import sys
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

LAM = 1e-3  # L2 regularisation strength of the logistic loss
SEED = 0
RTOL = 1e-7  # agreement tolerance (relative), plus an absolute floor scaled to the answer
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "XLA_FLAGS",
)


# ----------------------------------------------------------------------------- problems
# Each objective is written once, against a NumPy-like namespace `xp` (numpy,
# slopes.numpy, autograd.numpy, jax.numpy or a thin torch shim), so every library
# differentiates literally the same expression.


@dataclass
class Problem:
    """An objective with its hand-written derivatives.

    ``make(xp, asarray)`` returns the objective written with namespace ``xp``; ``asarray``
    converts the problem's constant data to that library's array type. ``grad``/``hess``
    (vector problems) or ``nth(x, n)`` (scalar problems) are the NumPy references.
    """

    make: Callable[[Any, Callable], Callable]
    x0: Any
    grad: Callable | None = None
    hess: Callable | None = None
    nth: Callable | None = None


def quadratic_exp() -> Problem:
    """f(x) = x0^2 + 2 x1^2 + exp(-x0 - x1) at x = (1, 2)."""

    def grad(x):
        e = np.exp(-x[0] - x[1])
        return np.array([2.0 * x[0] - e, 4.0 * x[1] - e])

    return Problem(
        lambda xp, asarray: lambda x: x[0] ** 2 + 2 * x[1] ** 2 + xp.exp(-x[0] - x[1]),
        np.array([1.0, 2.0]),
        grad=grad,
    )


def rosenbrock() -> Problem:
    """2-D Rosenbrock (1 - x0)^2 + 100 (x1 - x0^2)^2 at x = (-1.2, 1)."""

    def grad(x):
        r = x[1] - x[0] ** 2
        return np.array([-2.0 * (1.0 - x[0]) - 400.0 * x[0] * r, 200.0 * r])

    return Problem(
        lambda xp, asarray: lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2,
        np.array([-1.2, 1.0]),
        grad=grad,
    )


def _sigmoid(t):
    """Numerically stable logistic sigmoid 1 / (1 + exp(-t))."""
    return 0.5 * (1.0 + np.tanh(0.5 * t))


def logistic(n: int, d: int) -> Problem:
    """L(w) = mean(log(1 + exp(-y * (X @ w)))) + LAM/2 ||w||^2 on fixed-seed data.

    With m = -y * (X @ w) and s = sigmoid(m): dL/dw = X^T (-y s) / n + LAM w, and since
    ds/dm = s (1 - s) and y^2 = 1, d2L/dw2 = X^T diag(s (1 - s)) X / n + LAM I.
    """
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((n, d))
    y = np.where(X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    w0 = 0.1 * rng.standard_normal(d)

    def make(xp, asarray):
        Xa, ya = asarray(X), asarray(y)
        return lambda w: xp.mean(xp.logaddexp(0.0, -ya * (Xa @ w))) + LAM / 2 * xp.sum(w * w)

    def grad(w):
        return X.T @ (-y * _sigmoid(-y * (X @ w))) / n + LAM * w

    def hess(w):
        s = _sigmoid(-y * (X @ w))
        return (X.T * (s * (1.0 - s))) @ X / n + LAM * np.eye(d)

    return Problem(make, w0, grad=grad, hess=hess)


def sin_plus_cos() -> Problem:
    """g(x) = sin(x) + cos(x) at x = 0; the n-th derivative is sin(x + n pi/2) + cos(x + n pi/2)."""

    def nth(x, n):
        return np.sin(x + n * np.pi / 2) + np.cos(x + n * np.pi / 2)

    return Problem(lambda xp, asarray: lambda x: xp.sin(x) + xp.cos(x), 0.0, nth=nth)


@dataclass
class Workload:
    """One timed row: differentiate ``problem`` with transform ``kind`` ('grad', 'hessian'
    or 'derivative' of the given ``order``)."""

    key: str
    title: str
    problem: Callable[[], Problem]
    kind: str
    order: int = 1

    def reference(self, p: Problem) -> Callable:
        """The hand-written NumPy implementation of this row's derivative."""
        if self.kind == "derivative":
            return lambda x: p.nth(x, self.order)
        return p.grad if self.kind == "grad" else p.hess


WORKLOADS = [
    Workload("a1", "(a) grad x0^2+2x1^2+exp(-x0-x1)", quadratic_exp, "grad"),
    Workload("a2", "(a) grad rosenbrock 2-D", rosenbrock, "grad"),
    Workload("b1", "(b) grad logreg n=1e3 d=10", lambda: logistic(1000, 10), "grad"),
    Workload("b2", "(b) grad logreg n=1e5 d=100", lambda: logistic(100_000, 100), "grad"),
    Workload("c1", "(c) hessian logreg n=1e3 d=10", lambda: logistic(1000, 10), "hessian"),
    Workload("c2", "(c) hessian logreg n=1e3 d=100", lambda: logistic(1000, 100), "hessian"),
    Workload("d", "(d) 5th deriv sin+cos at 0", sin_plus_cos, "derivative", 5),
    Workload("d10", "(d) 10th deriv sin+cos at 0", sin_plus_cos, "derivative", 10),
]

# (label, workload key, peer, op, threshold): "slopes time / peer time <op> threshold".
TARGETS = [
    ("(a) quad-exp grad <= 1/4 autograd", "a1", "autograd", "<=", 0.25),
    ("(a) quad-exp grad < torch eager", "a1", "torch", "<", 1.0),
    ("(a) rosenbrock grad <= 1/4 autograd", "a2", "autograd", "<=", 0.25),
    ("(a) rosenbrock grad < torch eager", "a2", "torch", "<", 1.0),
    ("(b) large grad <= 1.2x numpy", "b2", "numpy", "<=", 1.2),
    ("(b) small grad <= 1/2 autograd", "b1", "autograd", "<=", 0.5),
    ("(c) hessian d=10 <= 1/3 autograd", "c1", "autograd", "<=", 1 / 3),
    ("(c) hessian d=100 <= 1/3 autograd", "c2", "autograd", "<=", 1 / 3),
    ("(d) 5th derivative <= 1/4 autograd", "d", "autograd", "<=", 0.25),
    # issue 4 (Taylor mode): the same workloads, stricter
    ("(taylor) 5th derivative <= 1/10 autograd", "d", "autograd", "<=", 0.1),
    ("(taylor) 10th derivative <= 1/50 autograd", "d10", "autograd", "<=", 0.02),
]


# ----------------------------------------------------------------------------- libraries


class Lib:
    """A library under test. Subclasses set ``xp`` and implement the three transforms.

    ``point`` converts the differentiation variable, ``asarray`` constant data, ``block``
    waits for an asynchronous result and ``to_numpy`` converts it back for checking.
    """

    name = "?"
    dist = ""  # distribution name, for the version shown in the machine section
    xp: Any = np

    @property
    def version(self) -> str:
        """Installed version of the library's distribution."""
        try:
            return importlib.metadata.version(self.dist)
        except importlib.metadata.PackageNotFoundError:
            return "?"

    def point(self, a):
        """The differentiation variable in this library's array type."""
        return a

    def asarray(self, a):
        """Constant data in this library's array type."""
        return a

    def block(self, out):
        """Wait until ``out`` is computed (asynchronous libraries)."""
        return out

    def to_numpy(self, out):
        """``out`` as a NumPy array, for checking."""
        return np.asarray(out)

    def grad(self, f):
        """Gradient transform of scalar-valued ``f``."""
        raise NotImplementedError

    def hessian(self, f):
        """Hessian transform of scalar-valued ``f``."""
        raise NotImplementedError

    def derivative(self, f, n):
        """``n``-th derivative transform of scalar-to-scalar ``f``."""
        raise NotImplementedError

    def build(self, w: Workload, p: Problem) -> Callable:
        """Return the timed callable (one argument: the converted point) for workload ``w``."""
        f = p.make(self.xp, self.asarray)
        if w.kind == "grad":
            return self.grad(f)
        if w.kind == "hessian":
            return self.hessian(f)
        return self.derivative(f, w.order)


class NumpyLib(Lib):
    """Hand-written NumPy derivatives: the reference every other column is checked against."""

    name = dist = "numpy"

    def build(self, w, p):
        return w.reference(p)


class SlopesLib(Lib):
    """slopes, eager; with ``jit=True`` the transform is wrapped in ``sl.jit`` if it exists."""

    def __init__(self, jit=False):
        import slopes as sl
        import slopes.numpy as snp

        if jit and not hasattr(sl, "jit"):
            raise ImportError("slopes has no jit")
        self.sl, self.xp, self.jit = sl, snp, jit
        self.name, self.dist = ("slopes-jit" if jit else "slopes"), "slopes"

    @property
    def version(self) -> str:
        """Distribution version plus the git commit of the source tree, when there is one."""
        cmd = ["git", "-C", os.path.dirname(self.sl.__file__), "describe", "--always", "--dirty"]
        try:
            commit = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            commit = ""
        return super().version + (f" (git {commit})" if commit else "")

    def _wrap(self, fn):
        return self.sl.jit(fn) if self.jit else fn

    def grad(self, f):
        return self._wrap(self.sl.grad(f))

    def hessian(self, f):
        return self._wrap(self.sl.hessian(f))

    def derivative(self, f, n):
        return self._wrap(self.sl.derivative(f, order=n))


class AutogradLib(Lib):
    """HIPS autograd: ``grad``, ``hessian`` and ``grad`` nested n times."""

    def __init__(self):
        import autograd
        import autograd.numpy as anp

        self.ag, self.xp = autograd, anp
        self.name = self.dist = "autograd"

    def grad(self, f):
        return self.ag.grad(f)

    def hessian(self, f):
        return self.ag.hessian(f)

    def derivative(self, f, n):
        for _ in range(n):
            f = self.ag.grad(f)
        return f


class _TorchNumpy:
    """The few NumPy spellings the objectives use, on torch (everything else passes through)."""

    def __init__(self, torch):
        self._torch = torch

    def __getattr__(self, name):
        return getattr(self._torch, name)

    def logaddexp(self, a, b):
        t = self._torch
        return t.logaddexp(t.as_tensor(a, dtype=t.float64), t.as_tensor(b, dtype=t.float64))


class TorchLib(Lib):
    """PyTorch CPU eager: ``autograd.grad``, ``torch.func.hessian``, nested ``autograd.grad``."""

    def __init__(self):
        import torch

        self.torch, self.xp = torch, _TorchNumpy(torch)
        self.name = self.dist = "torch"

    def point(self, a):
        return self.torch.tensor(a, dtype=self.torch.float64, requires_grad=True)

    def asarray(self, a):
        return self.torch.as_tensor(a, dtype=self.torch.float64)

    def to_numpy(self, out):
        return out.detach().numpy()

    def grad(self, f):
        return lambda x: self.torch.autograd.grad(f(x), x)[0]

    def hessian(self, f):
        return lambda x: self.torch.func.hessian(f)(x.detach())

    def derivative(self, f, n):
        def nth(x):
            out = f(x)
            for _ in range(n):
                (out,) = self.torch.autograd.grad(out, x, create_graph=True)
            return out

        return nth


class JaxLib(Lib):
    """JAX on CPU in float64: ``grad``, ``hessian``, nested ``grad``; eager or under ``jit``."""

    def __init__(self, jit=False):
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_platforms", "cpu")
        self.jax, self.xp, self.jit = jax, jnp, jit
        self.name, self.dist = ("jax-jit" if jit else "jax"), "jax"

    def _wrap(self, fn):
        return self.jax.jit(fn) if self.jit else fn

    def point(self, a):
        return self.xp.asarray(a, dtype=self.xp.float64)

    asarray = point

    def block(self, out):
        return out.block_until_ready()

    def grad(self, f):
        return self._wrap(self.jax.grad(f))

    def hessian(self, f):
        return self._wrap(self.jax.hessian(f))

    def derivative(self, f, n):
        for _ in range(n):
            f = self.jax.grad(f)
        return self._wrap(f)


LIBS = [
    ("numpy", NumpyLib, {}),
    ("slopes", SlopesLib, {}),
    ("slopes-jit", SlopesLib, {"jit": True}),
    ("autograd", AutogradLib, {}),
    ("torch", TorchLib, {}),
    ("jax", JaxLib, {}),
    ("jax-jit", JaxLib, {"jit": True}),
]


def load_libs(names):
    """Instantiate the requested libraries; map name -> Lib, or name -> reason it is n/a."""
    out = {}
    for name, cls, kw in LIBS:
        if name in names:
            try:
                out[name] = cls(**kw)
            except Exception as exc:  # not installed or not importable yet
                out[name] = f"{type(exc).__name__}: {exc}"
    return out


# ----------------------------------------------------------------------------- measuring


def _loops_for(timer: timeit.Timer, budget: float) -> int:
    """Loops per repeat: grow 1, 2, 5, 10, ... until one repeat takes ``budget`` seconds,
    as ``timeit.Timer.autorange`` does for 0.2 s."""
    for decade in (10**k for k in range(12)):
        for step in (1, 2, 5):
            if timer.timeit(decade * step) >= budget:
                return decade * step
    return decade * step


def median_times(fns: dict[str, Callable[[], Any]], budget: float, repeats: int) -> dict:
    """Median seconds per call of each function (or the exception it raised). Repeats are
    interleaved round-robin across the functions, so a change in machine load hits all of
    them alike and the ratios stay fair. Unlike plain timeit, the garbage collector stays
    enabled, as it is in a real optimisation loop."""
    timers = {k: timeit.Timer(f, setup="import gc; gc.enable()") for k, f in fns.items()}
    loops, samples, errors = {}, {k: [] for k in fns}, {}
    for rnd in range(repeats + 1):  # round 0 calibrates the loop counts
        for k, t in timers.items():
            if k in errors:
                continue
            try:
                if rnd == 0:
                    loops[k] = _loops_for(t, budget)
                else:
                    samples[k].append(t.timeit(loops[k]) / loops[k])
            except Exception as exc:
                errors[k] = exc
    return {k: errors.get(k) or statistics.median(samples[k]) for k in fns}


def agrees(out, ref) -> str | None:
    """None if ``out`` matches ``ref`` (shape, dtype and np.allclose); else a short reason."""
    out, ref = np.asarray(out), np.asarray(ref)
    if out.shape != ref.shape:
        return f"shape {out.shape} != {ref.shape}"
    if out.dtype != ref.dtype:
        return f"dtype {out.dtype} != {ref.dtype}"
    atol = 1e-10 * max(1.0, float(np.max(np.abs(ref))))
    if not np.allclose(out, ref, rtol=RTOL, atol=atol):
        return f"max abs err {np.max(np.abs(out - ref)):.3g}"
    return None


@dataclass
class Cell:
    """Outcome of one (workload, library) pair: a time, or why there is none."""

    seconds: float | None = None
    status: str = "ok"  # ok | FAIL | error | n/a
    detail: str = ""


def prepare(lib: Lib, w: Workload, p: Problem, ref) -> tuple[Cell, Callable | None]:
    """Build one library's transform for workload ``w``, call it once (warm-up and, for
    jit, compilation) and check the answer against ``ref``. Returns the cell and, if the
    answer is right, the zero-argument callable to time."""
    try:
        fn, x = lib.build(w, p), lib.point(p.x0)
        bad = agrees(lib.to_numpy(lib.block(fn(x))), ref)
        if bad:
            return Cell(status="FAIL", detail=bad), None
        return Cell(), lambda: lib.block(fn(x))
    except Exception as exc:
        return Cell(status="error", detail=f"{type(exc).__name__}: {exc}".splitlines()[0][:200]), None


def run_workload(w: Workload, libs: dict, names: list[str], budget: float, repeats: int) -> dict:
    """Check every library on workload ``w``, then time the correct ones; name -> Cell."""
    p = w.problem()
    ref = w.reference(p)(p.x0)
    cells, timed = {}, {}
    for name in names:
        lib = libs[name]
        if not isinstance(lib, Lib):
            cells[name] = Cell(status="n/a")
            continue
        cells[name], fn = prepare(lib, w, p, ref)
        if fn is not None:
            timed[name] = fn
    for name, t in median_times(timed, budget, repeats).items():
        if isinstance(t, Exception):  # passed the check but failed when called again
            cells[name] = Cell(status="error", detail=f"while timing: {type(t).__name__}: {t}")
        else:
            cells[name].seconds = t
    for name in names:
        print(f"  {w.key:<3} {name:<11} {cell_text(cells[name])}", file=sys.stderr, flush=True)
    return cells


# ----------------------------------------------------------------------------- self-check


def _central_diff(fn, x, h):
    """Central differences of ``fn`` at vector ``x``: result shape fn(x).shape + x.shape."""
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        cols.append((np.asarray(fn(x + e)) - np.asarray(fn(x - e))) / (2 * h))
    return np.stack(cols, axis=-1)


def self_check(workloads) -> list[str]:
    """Verify the hand-written references against finite differences; return failures."""
    failures = []
    for w in workloads:
        p = w.problem()
        if w.kind == "derivative":  # d/dx nth(x, k - 1) == nth(x, k), and nth(x, 0) == g(x)
            g = p.make(np, np.asarray)
            pairs = [(p.nth(p.x0, 0), g(p.x0))] + [
                (p.nth(p.x0, k), (p.nth(p.x0 + 1e-5, k - 1) - p.nth(p.x0 - 1e-5, k - 1)) / 2e-5)
                for k in range(1, w.order + 1)
            ]
        elif w.kind == "grad":
            pairs = [(p.grad(p.x0), _central_diff(p.make(np, np.asarray), p.x0, 1e-6))]
        else:
            pairs = [(p.hess(p.x0), _central_diff(p.grad, p.x0, 1e-5))]
        for ref, fd in pairs:
            if not np.allclose(ref, fd, rtol=1e-5, atol=1e-7):
                failures.append(
                    f"{w.key}: reference disagrees with finite differences "
                    f"(max abs err {np.max(np.abs(np.asarray(ref) - fd)):.3g})"
                )
    return failures


# ----------------------------------------------------------------------------- reporting


def fmt_time(s: float) -> str:
    """Seconds as a short human string (ns/us/ms/s)."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def cell_text(c: Cell | str | None) -> str:
    """Table text for a cell: time, 'FAIL', 'error: Type' or 'n/a'."""
    if not isinstance(c, Cell) or c.status == "n/a":
        return "n/a"
    if c.status == "ok":
        return fmt_time(c.seconds)
    if c.status == "error":
        return "error: " + c.detail.split(":")[0][:14]
    return c.status


def print_table(header, rows):
    """Print a plain fixed-width table (first column left-aligned, others right)."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    for r in [header, ["-" * w for w in widths]] + rows:
        print(
            "  ".join(
                str(v).ljust(w) if i == 0 else str(v).rjust(w) for i, (v, w) in enumerate(zip(r, widths))
            )
        )


def ratio(results, key, num, den) -> float | None:
    """results[key][num] / results[key][den] when both were timed, else None."""
    a, b = results[key].get(num), results[key].get(den)
    if isinstance(a, Cell) and isinstance(b, Cell) and a.seconds and b.seconds:
        return a.seconds / b.seconds
    return None


def machine_info(libs):
    """Print platform, CPU, Python, BLAS, thread settings and every library's version."""
    print("== machine")
    print(f"platform     {platform.platform()} ({platform.machine()})")
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    print(f"cpus         {cpus} (usable {usable})   processor: {platform.processor() or '?'}")
    print(f"python       {sys.version.split()[0]} ({platform.python_implementation()})")
    if hasattr(os, "getloadavg"):
        load = os.getloadavg()
        print(f"load avg     {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min)")
        if load[0] > 0.5 * usable:
            print(
                "WARNING      the machine is busy: timings are distorted, most of all the BLAS-bound "
                "rows (multi-threaded BLAS slows badly when a core is taken; compare with "
                "OPENBLAS_NUM_THREADS=1)"
            )
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        print(f"numpy blas   {blas.get('name')} {blas.get('version', '')}")
    except Exception:
        pass
    print("threads env  " + ", ".join(f"{v}={os.environ.get(v, '(unset)')}" for v in THREAD_VARS))
    for name, lib in libs.items():
        extra = ""
        if isinstance(lib, TorchLib):
            extra = f"  (torch threads {lib.torch.get_num_threads()})"
        elif isinstance(lib, JaxLib):
            extra = f"  (jaxlib {importlib.metadata.version('jaxlib')})"
        print(f"{name:<12} {lib.version + extra if isinstance(lib, Lib) else 'n/a  (' + lib + ')'}")


def _fmt_ratio(r):
    """A ratio as text, or n/a."""
    return "n/a" if r is None else f"{r:.3g}"


def main(argv=None) -> int:
    """Parse arguments, run the benchmark and print the report; return the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="0.05 s per measurement, 3 repeats")
    ap.add_argument("--only", help="comma-separated workload keys (a1,a2,b1,b2,c1,c2,d)")
    ap.add_argument("--libs", help="comma-separated libraries (default: all)")
    args = ap.parse_args(argv)
    budget, repeats = (0.05, 3) if args.quick else (0.2, 7)
    workloads = [w for w in WORKLOADS if not args.only or w.key in args.only.split(",")]
    names = [n for n, _, _ in LIBS if not args.libs or n in args.libs.split(",") or n == "numpy"]

    libs = load_libs(names)
    machine_info(libs)
    print(
        f"timing       median of {repeats} repeats, ~{budget} s each; float64; "
        f"answers checked with rtol={RTOL}"
    )

    print("\n== reference self-check (hand-written NumPy vs finite differences)")
    bad_refs = self_check(workloads)
    print("\n".join("FAIL " + m for m in bad_refs) or "ok")

    results = {w.key: run_workload(w, libs, names, budget, repeats) for w in workloads}
    notes = [
        f"{c.status} {k} {n}: {c.detail}"
        for k, row in results.items()
        for n, c in row.items()
        if c.status in ("FAIL", "error")
    ]

    print("\n== median time per call")
    print_table(
        ["workload"] + names, [[w.title] + [cell_text(results[w.key][n]) for n in names] for w in workloads]
    )
    for n in notes:
        print(n)

    peers = [n for n in names if n not in ("numpy", "slopes")]
    print("\n== ratios (x/slopes: > 1 means slopes is faster; slopes/numpy: overhead over hand-written)")
    print_table(
        ["workload", "slopes/numpy"] + [f"{n}/slopes" for n in peers],
        [
            [w.title]
            + [_fmt_ratio(ratio(results, w.key, "slopes", "numpy"))]
            + [_fmt_ratio(ratio(results, w.key, n, "slopes")) for n in peers]
            for w in workloads
        ],
    )

    print("\n== targets (eager slopes time / reference time)")
    rows = []
    for label, key, peer, op, limit in TARGETS:
        if key not in results:
            continue
        r = ratio(results, key, "slopes", peer)
        verdict = "n/a" if r is None else ("PASS" if (r <= limit if op == "<=" else r < limit) else "MISS")
        rows.append([label, _fmt_ratio(r), f"{op} {limit:.3g}", verdict])
    print_table(["target", "measured", "goal", "verdict"], rows)

    failed = bool(bad_refs or notes)
    print("\nFAIL: some answers disagree with NumPy or raised" if failed else "\nall answers agree")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
