"""Speed: trace once, replay fast. ``sl.jit`` side by side with hand-written NumPy and peers.

Usage::

    python benchmarks/speed.py            # full run (median of 7 repeats, each >= 0.2 s)
    python benchmarks/speed.py --quick    # smoke run (median of 3 repeats, each >= 0.05 s)
    python benchmarks/speed.py --only a1,mlp,mem
    python benchmarks/speed.py --only lbfgs,lbfgs_ext --min --repeats 60   # fastest of 60 short repeats

Rows (keys for ``--only``):

- a1, a2   gradient of x1^2 + 2 x2^2 + exp(-x1-x2) and of 2-D Rosenbrock: ``sl.jit(sl.grad(f))``
           vs ``jax.jit(jax.grad(f))`` (NumPy array in, ``np.asarray`` out) and hand-written NumPy
- b1, b2   logistic-loss gradient, (n, d) = (1000, 10) and (100000, 100), vs the closed form
           (and b2 vs ``jax.jit(jax.grad(f))`` of the same loss and, for information, vs
           slopes without row blocking and the closed form blocked by hand in one pass over X); b2
           also times ``kernels="numba"`` (the slopes[fast] extra), prints the first-call time of
           a new jitted gradient with it and CPU-time ratios (jax's over all its threads)
- c        logistic-loss Hessian, n = 10000, d = 100, vs the closed form
- mlp      one epoch of a 64-128-10 ReLU MLP with Adam on a 1797 x 64 digits-like set: the
           user's jitted whole step (value, gradient, ``sl.optim.adam`` update, parameter write)
           and ``sl.ml.fit``, each also with ``kernels="numba"``, vs hand-written NumPy backprop
           + Adam, jax.jit + optax.adam and PyTorch (CPU, float64); CPU-time ratios printed too
- lbfgs    ``sl.minimize(method="lbfgs")`` on the chained 100-D Rosenbrock vs scipy's L-BFGS-B
           with a hand-written gradient; slopes once with its own (AD) gradient and once with
           the same hand-written one (``jac=``), so that only the drivers' overhead differs;
           repeated AD solves replay the programs kept from the first (the info row
           "traced each call" forgets them before each solve, as a first call would)
- lbfgs_ext the same on the extended 100-D Rosenbrock (independent 2-D pairs)
           (both rows also time optax's lbfgs with its zoom line search: the whole loop in one
           ``jax.jit``, float64, the same start and the same stop, max|grad| <= gtol)
- d5       5th derivative of sin + cos at 0 vs the closed form cos(x) - sin(x)
- mem      tracemalloc peaks of the (100000, 100) logistic gradient, eager and jitted, vs the
           forward pass alone

Every row but mem also times the first call of a new ``sl.jit`` of its function (it traces,
optimizes, compiles and runs once; median of a few fresh wrappers), with the target < 20 ms.
Row c also times ``jax.jit(jax.hessian(loss))`` (x64, ``block_until_ready``) when JAX is installed.

Every answer is checked against its reference (``np.allclose``) before anything is timed.
Timing is timeit-style: after warm-up calls, the loop count N grows 1, 2, 5, 10, ... until a
repeat lasts the minimum time; then the contenders of a row are timed interleaved (the order
alternates between repeats) and the median repeat is divided by N. The report ends with the
targets, each PASS, MISS or n/a (a peer that is not installed); the exit status is 1 when a
target misses or an answer disagrees.

While slopes has no ``sl.jit`` the script times the eager transforms in its place and says so.
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib.metadata
import importlib.util
import inspect
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import slopes as sl
import slopes.numpy as snp

SEED = 0
LAM = 1e-3
RTOL = 1e-7
GTOL = 1e-5
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS")
ALL_KEYS = ("a1", "a2", "b1", "b2", "c", "mlp", "lbfgs", "lbfgs_ext", "d5", "mem")

JIT = getattr(sl, "jit", None)
JIT_NOTE = "sl.jit not available: eager timings"
NO_JIT = False  # set by --no-jit
SLOPES = "slopes-jit" if JIT is not None else "slopes (eager, no sl.jit)"


def sjit(fun: Callable, **options) -> Callable:
    """``sl.jit(fun, **options)`` when slopes has it, else ``fun`` itself (eager fallback)."""
    return fun if JIT is None else JIT(fun, **options)


# ----------------------------------------------------------------------------- peers


def load_jax():
    """(jax, jax.numpy) with float64 enabled, or (None, reason)."""
    try:
        import jax
    except ImportError:
        return None, "skipped (jax not installed)"
    except Exception as e:  # a broken install should not stop the run
        return None, f"skipped (jax import failed: {type(e).__name__})"
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    return (jax, jnp), None


def load_optax(jaxlib):
    """((jax, jax.numpy), optax) for the MLP and L-BFGS rows, or (None, reason)."""
    if jaxlib[0] is None:
        return None, jaxlib[1]
    try:
        import optax
    except ImportError:
        return None, "skipped (optax not installed)"
    except Exception as e:
        return None, f"skipped (optax import failed: {type(e).__name__})"
    return (jaxlib[0], optax), None


def load_torch():
    """The torch module, or (None, reason)."""
    try:
        import torch
    except ImportError:
        return None, "skipped (torch not installed)"
    except Exception as e:
        return None, f"skipped (torch import failed: {type(e).__name__})"
    # one thread, like the BLAS of the other contenders: with JAX loaded in the same process
    # (the mlp row's jax.jit + optax), torch's default 2 threads fought XLA's for the 2 cores and
    # an epoch took 0.9-1.1 s instead of 12 ms
    torch.set_num_threads(1)
    return torch, None


def load_scipy():
    try:
        from scipy.optimize import minimize
    except ImportError:
        return None, "skipped (scipy not installed)"
    return minimize, None


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", os.path.dirname(os.path.abspath(sl.__file__)), "describe", "--always", "--dirty"],
            capture_output=True, text=True, timeout=10,
        )
        return out.stdout.strip() or "?"
    except Exception:
        return "?"


# ----------------------------------------------------------------------------- timing


def _run(fn: Callable, loops: int) -> float:
    t0 = time.perf_counter()
    for _ in range(loops):
        fn()
    return time.perf_counter() - t0


def autorange(fn: Callable, min_time: float) -> int:
    """Smallest loop count in 1, 2, 5, 10, 20, ... whose run lasts >= min_time."""
    base = 1
    while True:
        for k in (1, 2, 5):
            if _run(fn, base * k) >= min_time:
                return base * k
        base *= 10


STATISTIC = statistics.median  # of the repeats; --min takes the fastest (a busy machine's noise only adds)


def time_interleaved(fns: dict[str, Callable], repeats: int, min_time: float) -> dict[str, tuple]:
    """{name: (median (or --min: fastest) seconds per call, loops)}; contenders alternate within each repeat."""
    for fn in fns.values():  # warm-up (caches, jit compilation, BLAS threads)
        fn()
    loops = {k: autorange(f, min_time) for k, f in fns.items()}
    samples: dict[str, list] = {k: [] for k in fns}
    order = list(fns)
    for r in range(repeats):
        for k in order if r % 2 == 0 else order[::-1]:
            samples[k].append(_run(fns[k], loops[k]) / loops[k])
    return {k: (STATISTIC(v), loops[k]) for k, v in samples.items()}


def fmt_time(s: float | None) -> str:
    if s is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


# ----------------------------------------------------------------------------- checking


def _leaves(t):
    if isinstance(t, dict):
        return [v for k in sorted(t) for v in _leaves(t[k])]
    if isinstance(t, list | tuple):
        return [v for x in t for v in _leaves(x)]
    return [np.asarray(t, dtype=np.float64)]


def agree(got, want, rtol=RTOL, atol=None) -> tuple[bool, str]:
    """np.allclose leaf by leaf; atol defaults to 1e-10 times the reference's magnitude."""
    g, w = _leaves(got), _leaves(want)
    if len(g) != len(w):
        return False, f"structure differs ({len(g)} vs {len(w)} leaves)"
    worst = 0.0
    for a, b in zip(g, w):
        if a.shape != b.shape:
            return False, f"shape {a.shape} vs {b.shape}"
        tol = 1e-10 * max(1.0, float(np.max(np.abs(b)))) if atol is None else atol
        if not np.allclose(a, b, rtol=rtol, atol=tol):
            return False, f"max abs err {float(np.max(np.abs(a - b))):.2e}"
        if a.size:
            worst = max(worst, float(np.max(np.abs(a - b))))
    return True, f"ok (max abs err {worst:.1e})"


# ----------------------------------------------------------------------------- rows


@dataclass
class Contender:
    name: str
    fn: Callable | None = None  # the timed call (no arguments)
    skip: str | None = None  # reason it was not run
    check: str = ""  # "ok ..." / "FAIL ..." / "error ..." / "reference"
    ok: bool = True
    seconds: float | None = None
    loops: int = 0
    info: bool = False  # informational: no target depends on it
    per: int = 1  # the timed call does this many units of work (time is reported per unit)


@dataclass
class Row:
    key: str
    title: str
    ref: str  # name of the reference contender
    contenders: list[Contender] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)  # lines printed under the table
    first: float | None = None  # seconds of the first call of a new sl.jit of the row's function

    def get(self, name) -> Contender | None:
        return next((c for c in self.contenders if c.name == name), None)


def add(row: Row, name: str, build: Callable, reference=None, info=False, per=1, **agree_kw):
    """Build a contender: ``build()`` returns (answer, timed_fn); check the answer.

    ``timed_fn`` may do ``per`` units of the row's work (e.g. epochs); its time is divided by ``per``."""
    c = Contender(name, info=info, per=per)
    row.contenders.append(c)
    try:
        answer, c.fn = build()
    except Exception as e:
        c.ok, c.check, c.fn = False, f"error: {type(e).__name__}: {str(e).splitlines()[0][:120]}", None
        return None
    if reference is None:
        c.check = "reference"
    else:
        c.ok, c.check = agree(answer, reference, **agree_kw)
        if not c.ok:
            c.check = "FAIL " + c.check
    return answer


def add_numba(row: Row, name: str, build: Callable, reference, **kw) -> bool:
    """A contender ``name`` with ``kernels="numba"`` (the slopes[fast] extra), as :func:`add`;
    skipped without Numba or ``sl.jit``. Whether it was added."""
    if JIT is None or importlib.util.find_spec("numba") is None:
        skipped(row, name, "numba not installed (the slopes[fast] extra)" if JIT else "no sl.jit")
        return False
    add(row, name, build, reference, **kw)
    return True


def skipped(row: Row, name: str, reason: str, info=False):
    row.contenders.append(Contender(name, skip=reason, check=reason, info=info))


def peer(row, name, lib, build, reference, info=False, **kw):
    mod, reason = lib
    if mod is None:
        skipped(row, name, reason, info)
    else:
        add(row, name, lambda: build(mod), reference, info, **kw)


# -- (1) small gradients ------------------------------------------------------------------


def quad_exp(xp):
    return lambda x: x[0] ** 2 + 2 * x[1] ** 2 + xp.exp(-x[0] - x[1])


def quad_exp_grad(x):
    e = np.exp(-x[0] - x[1])
    return np.array([2.0 * x[0] - e, 4.0 * x[1] - e])


def rosen2(xp):
    return lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def rosen2_grad(x):
    r = x[1] - x[0] ** 2
    return np.array([-2.0 * (1.0 - x[0]) - 400.0 * x[0] * r, 200.0 * r])


def row_small_grad(key, title, make, grad, x, jaxlib):
    row = Row(key, title, "numpy")
    ref = grad(x)
    add(row, "numpy", lambda: (ref, lambda: grad(x)))

    def slopes_build(transform):
        g = transform(sl.grad(make(snp)))
        return g(x), lambda: g(x)

    add(row, SLOPES, lambda: slopes_build(sjit), ref)
    if JIT is not None:
        add(row, "slopes (eager)", lambda: slopes_build(lambda f: f), ref, info=True)

    def jax_build(mods):
        jax, jnp = mods
        g = jax.jit(jax.grad(make(jnp)))
        return np.asarray(g(x)), lambda: np.asarray(g(x))

    peer(row, "jax-jit", jaxlib, jax_build, ref)
    return row


# -- (2, 3, 7) logistic loss -----------------------------------------------------------------


def logistic_data(n, d, seed=SEED):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0).astype(np.float64)
    w = 0.1 * rng.standard_normal(d)
    return X, y, w


def logistic_loss(xp, X, y):
    """L(w) = mean(softplus(z) - y z) + LAM/2 |w|^2, z = X w, y in {0, 1}; softplus = logaddexp(0, .)."""

    def loss(w):
        z = X @ w
        return xp.mean(xp.logaddexp(0.0, z) - y * z) + LAM / 2 * xp.sum(w * w)

    return loss


def sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))


def logistic_grad(X, y):
    n = X.shape[0]
    return lambda w: X.T @ (sigmoid(X @ w) - y) / n + LAM * w


def logistic_grad_blocked(X, y, block_bytes=1 << 20):
    """The closed form in one pass over X: per block of rows (about ``block_bytes``, in cache),
    r_b = sigmoid(X_b w) - y_b, then g += r_b X_b while X_b is still in cache."""
    n, d = X.shape
    rows = max(1, block_bytes // X.strides[0])
    blocks = [(X[i:i + rows], y[i:i + rows]) for i in range(0, n, rows)]

    def grad(w):
        g = np.zeros(d)
        for B, yb in blocks:
            r = sigmoid(B @ w)
            r -= yb
            g += r @ B
        return g / n + LAM * w

    return grad


def cpu_time_ratios(row, names, ref, repeats=9, units=3, threads=()):
    """The median CPU time per unit of work (a call, or an epoch: ``Contender.per``) of ``row``'s
    contenders ``names`` (those that ran; interleaved, each sample at least ``units`` units) as
    ratios to ``ref``'s. A contender's own thread is timed (``time.thread_time``: the wall
    clock on a shared machine also counts the time other processes hold the core); those in
    ``threads`` run work on threads of their own (jax), and every thread of the process is
    timed for them (``time.process_time``, which would also charge a single-threaded
    contender for a peer's worker threads still spinning after its call)."""
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":  # thread time would miss BLAS's own threads
        return "not measured: run with OPENBLAS_NUM_THREADS=1"
    fns = {c.name: (c.fn, c.per) for c in row.contenders if c.fn is not None and c.name in names}
    medians = cpu_time_medians(fns, repeats, units, threads)
    base = medians[ref]
    return f"{ref} {fmt_time(base)}; " + ", ".join(f"{k} {v / base:.3f}" for k, v in medians.items() if k != ref)


def cpu_time_medians(fns, repeats=9, units=3, threads=()):
    """``{name: median CPU seconds per unit of work}`` of ``fns`` (``{name: (fn, units a call
    does)}``), timed in interleaved repeats of at least ``units`` units: this thread's time, or
    the process's for the names in ``threads`` (see :func:`cpu_time_ratios`)."""
    samples = {k: [] for k in fns}
    for r in range(repeats):
        for k in list(fns) if r % 2 == 0 else list(fns)[::-1]:
            fn, per = fns[k]
            clock = time.process_time if k in threads else time.thread_time
            calls = -(-units // per)
            t0 = clock()
            for _ in range(calls):
                fn()
            samples[k].append((clock() - t0) / (calls * per))
    return {k: statistics.median(v) for k, v in samples.items()}


def logistic_hess(X, y):
    n, d = X.shape
    eye = np.eye(d)

    def hess(w):
        p = sigmoid(X @ w)
        return X.T @ (X * (p * (1.0 - p))[:, None]) / n + LAM * eye

    return hess


def row_logistic(key, title, n, d, kind, jaxlib=None):
    X, y, w = logistic_data(n, d)
    row = Row(key, title, "numpy")
    ref_fn = logistic_grad(X, y) if kind == "grad" else logistic_hess(X, y)
    ref = ref_fn(w)
    add(row, "numpy", lambda: (ref, lambda: ref_fn(w)))
    transform = sl.grad if kind == "grad" else sl.hessian

    def slopes_build(wrap):
        g = wrap(transform(logistic_loss(snp, X, y)))
        return g(w), lambda: g(w)

    add(row, SLOPES, lambda: slopes_build(sjit), ref)
    if JIT is not None:
        add(row, "slopes (eager)", lambda: slopes_build(lambda f: f), ref, info=True)
    tiling = sys.modules.get("slopes.core.tiling")  # the compiler's row blocking, where slopes has it
    if key == "b2" and tiling is not None:  # the row of one large matrix

        def unblocked():
            min_bytes, tiling.MIN_BYTES = tiling.MIN_BYTES, float("inf")
            try:  # the replay is compiled by the first call
                return slopes_build(sjit)
            finally:
                tiling.MIN_BYTES = min_bytes

        add(row, f"{SLOPES}, no row blocking", unblocked, ref, info=True)
        hand_blocked = logistic_grad_blocked(X, y)
        add(row, "numpy, blocked by hand", lambda: (hand_blocked(w), lambda: hand_blocked(w)), ref, info=True)
        if add_numba(row, NUMBA, lambda: slopes_build(functools.partial(sjit, kernels="numba")), ref):
            row.extra.append("kernels='numba' first call: " + numba_compile_times(n, d))
    if jaxlib is not None:

        def jax_build(mods):
            jax, jnp = mods
            g = jax.jit((jax.grad if kind == "grad" else jax.hessian)(logistic_loss(jnp, jnp.asarray(X),
                                                                                  jnp.asarray(y))))
            wj = jnp.asarray(w)
            return np.asarray(g(wj)), lambda: g(wj).block_until_ready()

        peer(row, "jax-jit", jaxlib, jax_build, ref)
    if key == "b2" and tiling is not None:
        row.extra.append("CPU time per call (not counting time the scheduler gives other processes; jax: every "
                         "thread of the process, the others: their own thread): "
                         + cpu_time_ratios(row, ("numpy", SLOPES, f"{SLOPES}, no row blocking",
                                                 "numpy, blocked by hand", NUMBA, "jax-jit"), "numpy",
                                           threads=("jax-jit",)))
    return row


_FIRST_CALL_NUMBA = """
import sys, time
sys.path.insert(0, {bench!r})
import slopes as sl, slopes.numpy as snp
from speed import logistic_data, logistic_loss
X, y, w = logistic_data({n}, {d})
g = sl.jit(sl.grad(logistic_loss(snp, X, y)), kernels="numba")
t0 = time.perf_counter(); g(w); t1 = time.perf_counter()  # traces and compiles (or loads) the kernels
print(t1 - t0)
"""


def numba_compile_times(n, d):
    """The first call of a new ``sl.jit(..., kernels='numba')`` in a new process (trace, optimize,
    compile the kernels, run once): with an empty kernel cache, then with the cache the first
    process left on disk."""
    import tempfile

    script = _FIRST_CALL_NUMBA.format(bench=os.path.dirname(os.path.abspath(__file__)), n=n, d=d)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, SLOPES_CACHE_DIR=cache)
        out = []
        for _ in range(2):
            run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
            out.append(fmt_time(float(run.stdout.split()[-1])) if run.returncode == 0 else "error")
    return f"{out[0]} compiling, {out[1]} from the disk cache (a new process each)"


# -- (4) MLP epoch -------------------------------------------------------------------------


def digits_data():
    """(X float64 (1797, 64) in [0, 1], integer labels): the digits set bundled with slopes."""
    d = sl.ml.datasets.load("digits")
    return d.X / 16.0, d.y, "digits (bundled with slopes)"


def mlp_init(seed=SEED):
    """torch.nn.Linear's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    rng = np.random.default_rng(seed + 1)
    b1, b2 = 1 / np.sqrt(64), 1 / np.sqrt(128)
    return {
        "W1": rng.uniform(-b1, b1, (64, 128)), "b1": rng.uniform(-b1, b1, 128),
        "W2": rng.uniform(-b2, b2, (128, 10)), "b2": rng.uniform(-b2, b2, 10),
    }


def mlp_loss(p, xb, yb):
    """Softmax cross-entropy of a 64-128-10 ReLU MLP; yb one-hot (written as a user would, with sl.ml)."""
    h = sl.ml.relu(xb @ p["W1"] + p["b1"])
    return sl.ml.cross_entropy(h @ p["W2"] + p["b2"], yb)


def batches(X, labels, bs=64):
    onehot = np.eye(10)[labels]
    return [(X[i:i + bs], onehot[i:i + bs], labels[i:i + bs]) for i in range(0, len(X), bs)]


def adam_step(opt):
    """The user's training step: value, gradient, Adam update and parameter write."""

    def step(params, state, xb, yb):
        loss, g = sl.value_and_grad(mlp_loss)(params, xb, yb)
        updates, state = opt.update(g, state, params)
        return sl.optim.apply_updates(params, updates), state, loss

    return step


class SlopesMLP:
    """``wrap(step)`` per batch: with ``sjit``, the whole step is one replayed program."""

    def __init__(self, params, data, wrap):
        self.params = {k: v.copy() for k, v in params.items()}
        self.data = data
        self.opt = sl.optim.adam(1e-3)
        self.step = wrap(adam_step(self.opt))
        self.state = self.opt.init(self.params)

    def epoch(self):
        params, state, step = self.params, self.state, self.step
        for xb, yb, _ in self.data:
            params, state, _ = step(params, state, xb, yb)
        self.params, self.state = params, state


class SlopesGradOnlyMLP(SlopesMLP):
    """The previous way: a jitted value-and-gradient, then the eager Adam update."""

    def __init__(self, params, data):
        super().__init__(params, data, lambda f: f)
        self.vg = sjit(sl.value_and_grad(mlp_loss))

    def epoch(self):
        params, state, opt, vg = self.params, self.state, self.opt, self.vg
        for xb, yb, _ in self.data:
            _, g = vg(params, xb, yb)
            upd, state = opt.update(g, state, params)
            params = sl.optim.apply_updates(params, upd)
        self.params, self.state = params, state


class FitMLP:
    """Epochs through ``sl.ml.fit`` (batches in the fixed order: shuffle=False), Adam as in the others."""

    def __init__(self, params, data, **options):
        self.params = {k: v.copy() for k, v in params.items()}
        self.X = np.concatenate([xb for xb, _, _ in data])
        self.Y = np.concatenate([yb for _, yb, _ in data])
        self.bs = len(data[0][0])
        self.options = options  # more of fit's options (kernels=)

    def run(self, epochs):
        r = sl.ml.fit(lambda p, b: mlp_loss(p, *b), self.params, (self.X, self.Y),
                      optimizer=sl.optim.adam(1e-3), epochs=epochs, batch_size=self.bs, shuffle=False,
                      progress=False, **self.options)
        return r.params


class NumpyMLP:
    """Hand-written backprop and Adam (in place)."""

    def __init__(self, params, data, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        self.params = {k: v.copy() for k, v in params.items()}
        self.data = data
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps

    def grads(self, xb, yb):
        p = self.params
        a = xb @ p["W1"] + p["b1"]
        h = np.maximum(a, 0.0)
        z = h @ p["W2"] + p["b2"]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        dz = (e / e.sum(axis=1, keepdims=True) - yb) / xb.shape[0]
        dh = (dz @ p["W2"].T) * (a > 0)
        return {"W1": xb.T @ dh, "b1": dh.sum(0), "W2": h.T @ dz, "b2": dz.sum(0)}

    def epoch(self):
        lr, b1, b2, eps = self.lr, self.b1, self.b2, self.eps
        for xb, yb, _ in self.data:
            g = self.grads(xb, yb)
            self.t += 1
            c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
            for k, p in self.params.items():
                m, v, gk = self.m[k], self.v[k], g[k]
                m *= b1
                m += (1 - b1) * gk
                v *= b2
                v += (1 - b2) * gk * gk
                p -= lr * (m / c1) / (np.sqrt(v / c2) + eps)


class JaxOptaxMLP:
    """jax.jit of the same step with optax.adam (float64; batches on the device beforehand)."""

    def __init__(self, jax, optax, params, data):
        jnp = jax.numpy
        self.jax = jax

        def loss(p, xb, yb):
            h = jax.nn.relu(xb @ p["W1"] + p["b1"])
            return -jnp.mean(jnp.sum(yb * jax.nn.log_softmax(h @ p["W2"] + p["b2"]), axis=1))

        opt = optax.adam(1e-3)

        def step(p, s, xb, yb):
            value, g = jax.value_and_grad(loss)(p, xb, yb)
            u, s = opt.update(g, s, p)
            return optax.apply_updates(p, u), s, value

        self.step = jax.jit(step)
        self.params = {k: jnp.asarray(v) for k, v in params.items()}
        self.state = opt.init(self.params)
        self.data = [(jnp.asarray(xb), jnp.asarray(yb)) for xb, yb, _ in data]

    def epoch(self):
        params, state, step = self.params, self.state, self.step
        for xb, yb in self.data:
            params, state, _ = step(params, state, xb, yb)
        self.params, self.state = self.jax.block_until_ready((params, state))


class TorchMLP:
    def __init__(self, torch, params, data):
        self.torch = torch
        nn = torch.nn
        self.model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).double()
        with torch.no_grad():
            self.model[0].weight.copy_(torch.from_numpy(params["W1"].T.copy()))
            self.model[0].bias.copy_(torch.from_numpy(params["b1"]))
            self.model[2].weight.copy_(torch.from_numpy(params["W2"].T.copy()))
            self.model[2].bias.copy_(torch.from_numpy(params["b2"]))
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.data = [(torch.from_numpy(xb), torch.from_numpy(lb)) for xb, _, lb in data]
        self.ce = nn.functional.cross_entropy

    def epoch(self):
        model, opt, ce = self.model, self.opt, self.ce
        for xb, lb in self.data:
            opt.zero_grad(set_to_none=True)
            ce(model(xb), lb).backward()
            opt.step()

    @property
    def params(self):
        m = self.model
        return {
            "W1": m[0].weight.detach().numpy().T, "b1": m[0].bias.detach().numpy(),
            "W2": m[2].weight.detach().numpy().T, "b2": m[2].bias.detach().numpy(),
        }


def fit_first_call(p0, data) -> str:
    """Milliseconds of the first call (trace, compile and one step) of fit's step program."""
    from slopes.ml.train_step import StagedStep

    xb, yb, _ = data[0]
    opt = sl.optim.adam(1e-3)
    forget_programs()
    t0 = time.perf_counter()
    StagedStep(lambda p, b: mlp_loss(p, *b), opt)(p0, opt.init(p0), (xb, yb))
    return f"first call of fit's step program (trace + compile + one step, batch 64; goal < 20 ms): " \
           f"{(time.perf_counter() - t0) * 1e3:.1f} ms (the user's jitted step: table (8))"


def row_mlp(torchlib, optaxlib):
    X, labels, source = digits_data()
    data = batches(X, labels)
    p0 = mlp_init()
    row = Row("mlp", "(4) MLP 64-128-10 epoch, Adam, batch 64", "numpy")
    row.extra.append(f"data: {source}, {X.shape[0]} x {X.shape[1]}, 10 classes, {len(data)} batches "
                     "per epoch (fixed order), float64; answers = parameters after one epoch from the "
                     "same initial parameters")
    # gradient check at the initial parameters, then the epoch itself
    ref_g = NumpyMLP(p0, data).grads(data[0][0], data[0][1])
    ok, msg = agree(sl.grad(mlp_loss)(p0, data[0][0], data[0][1]), ref_g)
    row.extra.append(f"first-batch gradient, eager sl.grad vs hand-written backprop: {msg}")

    def trainer_build(make):
        t = make()
        t.epoch()
        return {k: np.array(v) for k, v in t.params.items()}, t.epoch

    ref = add(row, "numpy", lambda: trainer_build(lambda: NumpyMLP(p0, data)))
    kw = dict(rtol=1e-6, atol=1e-9)
    add(row, SLOPES, lambda: trainer_build(lambda: SlopesMLP(p0, data, sjit)), ref, **kw)
    add_numba(row, NUMBA, lambda: trainer_build(lambda: SlopesMLP(p0, data, functools.partial(sjit, kernels="numba"))),
              ref, **kw)
    if JIT is not None:
        row.extra.append(fit_first_call(p0, data))
    if hasattr(sl, "ml"):
        # one fit call of 20 epochs, per epoch: the epoch as a training run pays for it, with the
        # one-time tracing (one program per batch shape, about 3 ms each) spread over the run
        fit_epochs = 20

        def fit_build(**options):
            t = FitMLP(p0, data, **options)
            return t.run(1), lambda: t.run(fit_epochs)

        add(row, "slopes sl.ml.fit", fit_build, ref, per=fit_epochs, **kw)
        add_numba(row, FIT_NUMBA, lambda: fit_build(kernels="numba"), ref, per=fit_epochs, **kw)
    if JIT is not None:
        add(row, "slopes-jit grad, eager adam", lambda: trainer_build(lambda: SlopesGradOnlyMLP(p0, data)), ref,
            info=True, **kw)
        add(row, "slopes (eager)", lambda: trainer_build(lambda: SlopesMLP(p0, data, lambda f: f)), ref,
            info=True, **kw)
    peer(row, "jax-jit + optax", optaxlib,
         lambda mods: trainer_build(lambda: JaxOptaxMLP(mods[0][0], mods[1], p0, data)), ref, **kw)
    peer(row, "torch", torchlib, lambda torch: trainer_build(lambda: TorchMLP(torch, p0, data)), ref, **kw)
    # jax runs part of an epoch on threads of its own: the CPU time of every thread shows what
    # the wall clock's comparison with one slopes thread leaves out
    row.extra.append("CPU time per epoch (jax: every thread of the process; the others: their own thread): "
                     + cpu_time_ratios(row, ("numpy", SLOPES, NUMBA, "slopes sl.ml.fit", FIT_NUMBA, "jax-jit + optax"),
                                       "numpy",
                                       repeats=5, units=20, threads=("jax-jit + optax",)))
    if not ok:
        row.get(SLOPES).ok = False
        row.get(SLOPES).check = "FAIL gradient " + msg
    return row


# -- (5) L-BFGS on the chained Rosenbrock ---------------------------------------------------


def chained_rosen(x):
    return snp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def chained_rosen_np(x):
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def chained_rosen_grad(x):
    r = x[1:] - x[:-1] ** 2
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * r - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * r
    return g


def extended_rosen(x):
    return snp.sum(100.0 * (x[1::2] - x[::2] ** 2) ** 2 + (1.0 - x[::2]) ** 2)


def extended_rosen_np(x):
    return float(np.sum(100.0 * (x[1::2] - x[::2] ** 2) ** 2 + (1.0 - x[::2]) ** 2))


def extended_rosen_grad(x):
    r = x[1::2] - x[::2] ** 2
    g = np.empty_like(x)
    g[::2] = -400.0 * x[::2] * r - 2.0 * (1.0 - x[::2])
    g[1::2] = 200.0 * r
    return g


ROSENBROCKS = {"lbfgs": ("chained", chained_rosen, chained_rosen_np, chained_rosen_grad),
               "lbfgs_ext": ("extended", extended_rosen, extended_rosen_np, extended_rosen_grad)}


def minimize_has_jit():
    try:
        prm = inspect.signature(sl.minimize).parameters.get("jit")
    except (TypeError, ValueError):
        return None
    return None if prm is None else prm.default


def optax_lbfgs_solver(mods, key, x0, maxiter=10_000):
    """A jitted optax lbfgs run from ``x0`` to max|grad| <= GTOL; returns ``solve() -> (x, nit)``."""
    (jax, jnp), optax = mods
    import optax.tree_utils as otu

    jfun = (lambda x: jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)) if key == "lbfgs" \
        else (lambda x: jnp.sum(100.0 * (x[1::2] - x[::2] ** 2) ** 2 + (1.0 - x[::2]) ** 2))
    opt = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(jfun)

    def run(x):
        def step(carry):
            x, state = carry
            value, grad = value_and_grad(x, state=state)
            updates, state = opt.update(grad, state, x, value=value, grad=grad, value_fn=jfun)
            return optax.apply_updates(x, updates), state

        def more(carry):
            _, state = carry
            k = otu.tree_get(state, "count")
            g = otu.tree_get(state, "grad")
            return (k == 0) | ((k < maxiter) & (jnp.max(jnp.abs(g)) > GTOL))

        x, state = jax.lax.while_loop(more, step, (x, opt.init(x)))
        return x, otu.tree_get(state, "count")

    runj = jax.jit(run)
    xj = jnp.asarray(x0, dtype=jnp.float64)

    def solve():
        x, k = runj(xj)
        return np.asarray(x), int(k)

    return solve


def lbfgs_solver(key, n=100, scipy_minimize=None, **kw):
    """``solve()``: one L-BFGS solve of ``ROSENBROCKS[key]`` from (-1.2, 1, -1.2, 1, ...), by
    scipy's L-BFGS-B (``scipy_minimize``) with the hand-written gradient, else by
    ``sl.minimize(method="lbfgs", **kw)``: its own AD gradient, or ``jac=`` of the NumPy objective."""
    _, fun_sl, fun_np, grad_np = ROSENBROCKS[key]
    x0 = np.tile([-1.2, 1.0], n // 2)
    if scipy_minimize is not None:
        def solve():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return scipy_minimize(fun_np, x0, jac=grad_np, method="L-BFGS-B", options={"gtol": GTOL})

        return solve
    fun = fun_np if kw.get("jac") is not None else fun_sl
    return lambda: sl.minimize(fun, x0, method="lbfgs", gtol=GTOL, **kw)


def row_lbfgs(scipylib, optaxlib=(None, "not loaded"), key="lbfgs", n=100):
    kind, fun_sl, fun_np, grad_np = ROSENBROCKS[key]
    x0 = np.tile([-1.2, 1.0], n // 2)
    row = Row(key, f"(5) L-BFGS {kind} Rosenbrock n={n}", "scipy L-BFGS-B")
    stats = {}

    def scipy_build(minimize):
        solve = lbfgs_solver(key, n, scipy_minimize=minimize)
        r = solve()
        stats["scipy L-BFGS-B"] = (int(r.nit), int(r.nfev), int(r.njev), float(r.fun), r.x, bool(r.success))
        return r.x, solve

    def slopes_build(**kw):
        solve = lbfgs_solver(key, n, **kw)
        r = solve()
        name = "slopes lbfgs" + (" (" + ", ".join(f"{k}={getattr(v, '__name__', v)}" for k, v in kw.items()) + ")"
                                 if kw else "")
        stats[name] = (r.nit, r.nfev, r.ngev, float(r.fun), r.x, bool(r.success))
        return r.x, solve

    def fresh_build(forget):
        def solve():
            forget(fun_sl)  # a first minimize call with this function: it is traced
            return sl.minimize(fun_sl, x0, method="lbfgs", gtol=GTOL)

        return solve().x, solve

    ref = None
    if scipylib[0] is not None:
        ref = add(row, "scipy L-BFGS-B", lambda: scipy_build(scipylib[0]))
    else:
        skipped(row, "scipy L-BFGS-B", scipylib[1])
    if ref is None:  # no scipy (or it failed): check against the known minimizer instead
        ref = np.ones(n)
    kw = dict(rtol=0.0, atol=1e-4)
    jit_default = minimize_has_jit()
    if jit_default is not None and NO_JIT:  # --no-jit: eager everywhere
        add(row, "slopes lbfgs", lambda: slopes_build(jit=False), ref, **kw)
    else:
        add(row, "slopes lbfgs", slopes_build, ref, **kw)
    if jit_default is not None and not NO_JIT:
        add(row, "slopes lbfgs (jit=False)", lambda: slopes_build(jit=False), ref, info=True, **kw)
        forget = getattr(getattr(sl.optim, "program_cache", None), "clear_programs", None)
        if forget is not None:  # the row above replays the programs kept from the first call
            add(row, "slopes lbfgs (traced each call)", lambda: fresh_build(forget), ref, info=True, **kw)
    add(row, "slopes lbfgs (jac=)", lambda: slopes_build(jac=grad_np), ref, **kw)

    def optax_build(mods):
        solve = optax_lbfgs_solver(mods, key, x0)
        x, nit = solve()  # traces and compiles
        x = np.asarray(x, dtype=np.float64)
        stats["optax lbfgs"] = (nit, None, None, float(fun_np(x)), x, True)
        return x, lambda: solve()[0]

    peer(row, "optax lbfgs", optaxlib, optax_build, ref, **kw)
    row.extra.append("sl.minimize jit= option: " + ("absent" if jit_default is None
                                                   else f"present (default {jit_default!r})"))
    for name, (nit, nfev, ngev, f, x, ok) in stats.items():
        gmax = float(np.max(np.abs(grad_np(np.asarray(x, dtype=np.float64)))))
        if nfev is None:  # optax counts no evaluations in its state
            row.extra.append(f"{name}: nit {nit}, final f {f:.3e}, max|grad| {gmax:.2e}, "
                             f"max|x - 1| {float(np.max(np.abs(x - 1))):.1e}")
            continue
        row.extra.append(f"{name}: nit {nit}, nfev {nfev}, ngev {ngev}, final f {f:.3e}, "
                         f"max|grad| {gmax:.2e}, success {ok}, max|x - 1| {float(np.max(np.abs(x - 1))):.1e}")
    return row


# -- (6) 5th derivative ----------------------------------------------------------------------


def row_d5():
    row = Row("d5", "(6) 5th derivative sin+cos at 0", "numpy")
    x = 0.0
    add(row, "numpy", lambda: (np.cos(x) - np.sin(x), lambda: np.cos(x) - np.sin(x)))

    def slopes_build(wrap):
        g = wrap(sl.derivative(lambda t: snp.sin(t) + snp.cos(t), order=5))
        return g(x), lambda: g(x)

    add(row, SLOPES, lambda: slopes_build(sjit), 1.0, rtol=1e-12, atol=1e-12)
    if JIT is not None:
        add(row, "slopes (eager)", lambda: slopes_build(lambda f: f), 1.0, info=True, rtol=1e-12, atol=1e-12)
    return row


# -- (7) memory ------------------------------------------------------------------------------


def peak_bytes(fn: Callable) -> int:
    """Peak traced allocation during one call, above what was allocated before it."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        out = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
        del out
    finally:
        tracemalloc.stop()
    return peak


def memory(n=100_000, d=100):
    """Rows (label, peak MB, ratio to forward or None, check, target?) for the large logistic loss."""
    X, y, w = logistic_data(n, d)
    fwd = logistic_loss(np, X, y)
    loss = logistic_loss(snp, X, y)
    ref = logistic_grad(X, y)(w)
    out = []
    fwd(w)
    base = peak_bytes(lambda: fwd(w))
    out.append(("forward loss(w), plain NumPy (baseline)", base, None, "-", False))
    out.append(("forward loss(w), snp on NumPy input", peak_bytes(lambda: loss(w)), None, "-", False))
    out.append(("hand-written gradient", peak_bytes(lambda: logistic_grad(X, y)(w)), None, "-", False))

    def measured(label, fn, target):
        try:
            holder = {}
            pk = peak_bytes(lambda: holder.setdefault("g", fn()))
            ok, msg = agree(holder["g"], ref)
            out.append((label, pk, pk / base, msg if ok else "FAIL " + msg, target))
        except Exception as e:
            out.append((label, None, None, f"error: {type(e).__name__}: {str(e)[:80]}", target))

    g_eager = sl.grad(loss)
    g_eager(w)
    measured("eager sl.grad(loss)(w)", lambda: g_eager(w), True)
    if JIT is None:
        out.append(("jitted: " + ("skipped (--no-jit)" if NO_JIT else "sl.jit not available"), None, None, "n/a", True))
    else:
        gj = JIT(sl.grad(loss))
        measured("sl.jit(sl.grad(loss))(w), first call (traces)", lambda: gj(w), False)
        measured("sl.jit(sl.grad(loss))(w), replay", lambda: gj(w), True)
    return out


# -- (8) first call ---------------------------------------------------------------------------

NUMBA = "slopes-jit, kernels='numba'"  # the optional compiled kernels (the slopes[fast] extra)
FIT_NUMBA = "slopes sl.ml.fit, kernels='numba'"
FIRST_CALL = "first call"  # a TARGETS denominator: the slopes contender's first call, in seconds
FIRST_CALL_LIMIT = 0.020
FIRST_CALL_FRESH = 5  # fresh sl.jit wrappers timed per workload; the median is reported
LOGISTIC_SIZES = {"b1": (1000, 10), "b2": (100_000, 100), "c": (10_000, 100)}


def first_call_workload(key):
    """``(make, args)`` for row ``key``: ``make()`` returns a new function (the row's transform,
    not yet traced), whose ``sl.jit`` is first called on ``args``. For the L-BFGS rows it is the
    value and gradient that ``sl.minimize`` traces; for mlp the user's whole jitted step."""
    if key in ("a1", "a2"):
        make_f, x = (quad_exp, [1.0, 2.0]) if key == "a1" else (rosen2, [-1.2, 1.0])
        return (lambda: sl.grad(make_f(snp))), (np.array(x),)
    if key in LOGISTIC_SIZES:
        X, y, w = logistic_data(*LOGISTIC_SIZES[key])
        transform = sl.hessian if key == "c" else sl.grad
        return (lambda: transform(logistic_loss(snp, X, y))), (w,)
    if key == "mlp":  # the user's whole training step, as the row times it
        X, labels, _ = digits_data()
        xb, yb, _ = batches(X, labels)[0]
        p0, opt = mlp_init(), sl.optim.adam(1e-3)
        return (lambda: adam_step(opt)), (p0, opt.init(p0), xb, yb)
    if key in ROSENBROCKS:
        fun = ROSENBROCKS[key][1]
        return (lambda: sl.value_and_grad(lambda x: fun(x))), (np.tile([-1.2, 1.0], 50),)
    return (lambda: sl.derivative(lambda t: snp.sin(t) + snp.cos(t), order=5)), (0.0,)


def forget_programs():
    """Forget the programs optimized and compiled so far (``slopes.core.program_memo``): a first
    call then pays for them, as in a new process, not only for its trace."""
    try:
        from slopes.core import program_memo
    except ImportError:  # a slopes before the memo
        return
    program_memo.clear()


def first_call(key) -> float:
    """Median over fresh ``sl.jit`` wrappers of the first call's time (trace, optimize, compile)."""
    make, args = first_call_workload(key)
    times = []
    for _ in range(FIRST_CALL_FRESH):
        fn = JIT(make())
        forget_programs()
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# ----------------------------------------------------------------------------- report


def print_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    for r in [header, ["-" * w for w in widths]] + rows:
        print("  ".join(str(v).ljust(w) if i in (0, 1, len(r) - 1) else str(v).rjust(w)
                        for i, (v, w) in enumerate(zip(r, widths))).rstrip())


def machine(repeats, min_time, jaxlib, torchlib):
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f" (blas {blas.get('name')} {blas.get('version', '')})"
    except Exception:
        blas = ""
    torch_v = version("torch")
    if torchlib[0] is not None:
        torch_v += f" (torch threads {torchlib[0].get_num_threads()})"
    elif version("torch") != "not installed":
        torch_v += f" ({torchlib[1]})"
    jax_v = version("jax")
    if jaxlib[0] is None and jaxlib[1] != "not needed" and jax_v != "not installed":
        jax_v += f" ({jaxlib[1]})"
    print("== machine")
    print(f"date        {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"platform    {platform.platform()}")
    print(f"cpus        {os.cpu_count()} (usable {usable})")
    if load:
        print(f"load avg    {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min)")
        if load[0] > 0.5 * usable:
            print("WARNING     the machine is busy: timings are distorted (BLAS-bound rows the most)")
    print("threads env " + ", ".join(f"{v}={os.environ.get(v, '(unset)')}" for v in THREAD_VARS))
    print(f"python      {sys.version.split()[0]}")
    print(f"numpy       {np.__version__}{blas}")
    print(f"scipy       {version('scipy')}")
    print(f"jax         {jax_v}")
    print(f"optax       {version('optax')}")
    print(f"torch       {torch_v}")
    print(f"slopes      {version('slopes')} (git {git_commit()})")
    if JIT is None:
        print(f"{JIT_NOTE} (the 'slopes' rows time sl.grad etc. without jit)")
    else:
        print("sl.jit      available")
    print(f"timing      {STATISTIC.__name__} of {repeats} repeats of N calls, each repeat >= {min_time} s, contenders "
          f"interleaved; float64; answers checked with np.allclose (rtol {RTOL} unless noted)")


# (label, row key, numerator, denominator, threshold): time(num) / time(den) <= threshold;
# "slopes" stands for the slopes-jit contender (or its eager fallback)
TARGETS = [
    ("(1) quad-exp grad <= 0.5x jax.jit", "a1", "slopes", "jax-jit", 0.5),
    ("(1) quad-exp grad <= 6x numpy", "a1", "slopes", "numpy", 6.0),
    ("(1) rosenbrock grad <= 0.5x jax.jit", "a2", "slopes", "jax-jit", 0.5),
    ("(1) rosenbrock grad <= 6x numpy", "a2", "slopes", "numpy", 6.0),
    ("(2) logistic grad (1e3, 10) <= 2x numpy", "b1", "slopes", "numpy", 2.0),
    ("(2) logistic grad (1e5, 100) <= 0.9x numpy", "b2", "slopes", "numpy", 0.9),
    ("(2) logistic grad (1e5, 100) <= jax.jit", "b2", "slopes", "jax-jit", 1.0),
    ("(2) the same, kernels='numba' (slopes[fast]) <= 0.9x numpy", "b2", NUMBA, "numpy", 0.9),
    ("(2) the same, kernels='numba' (slopes[fast]) <= jax.jit", "b2", NUMBA, "jax-jit", 1.0),
    ("(3) logistic hessian d=100 <= 1.5x numpy", "c", "slopes", "numpy", 1.5),
    ("(3) logistic hessian d=100 <= jax.jit", "c", "slopes", "jax-jit", 1.0),
    ("(4) MLP epoch <= 1.0x numpy", "mlp", "slopes", "numpy", 1.0),
    ("(4) MLP epoch <= jax.jit + optax", "mlp", "slopes", "jax-jit + optax", 1.0),
    ("(4) MLP epoch <= torch", "mlp", "slopes", "torch", 1.0),
    ("(4) the same, kernels='numba' (slopes[fast]) <= 1.0x numpy", "mlp", NUMBA, "numpy", 1.0),
    ("(4) the same, kernels='numba' (slopes[fast]) <= jax.jit + optax", "mlp", NUMBA, "jax-jit + optax", 1.0),
    ("(4') sl.ml.fit epoch <= 1.0x numpy", "mlp", "slopes sl.ml.fit", "numpy", 1.0),
    ("(4') sl.ml.fit epoch <= jax.jit + optax", "mlp", "slopes sl.ml.fit", "jax-jit + optax", 1.0),
    ("(4') sl.ml.fit epoch <= torch (ML issue)", "mlp", "slopes sl.ml.fit", "torch", 1.0),
    ("(4') the same, kernels='numba' (slopes[fast]) <= 1.0x numpy", "mlp", FIT_NUMBA, "numpy", 1.0),
    ("(4') the same, kernels='numba' (slopes[fast]) <= jax.jit + optax", "mlp", FIT_NUMBA, "jax-jit + optax", 1.0),
    ("(5) L-BFGS solve <= scipy L-BFGS-B", "lbfgs", "slopes lbfgs", "scipy L-BFGS-B", 1.0),
    ("(5) L-BFGS, same gradient (jac=), chained <= scipy", "lbfgs", "slopes lbfgs (jac=)", "scipy L-BFGS-B", 1.0),
    ("(5) L-BFGS, same gradient (jac=), extended <= scipy", "lbfgs_ext", "slopes lbfgs (jac=)",
     "scipy L-BFGS-B", 1.0),
    ("(5) L-BFGS chained <= 2x optax lbfgs (jitted loop)", "lbfgs", "slopes lbfgs", "optax lbfgs", 2.0),
    ("(5) L-BFGS extended <= 2x optax lbfgs (jitted loop)", "lbfgs_ext", "slopes lbfgs", "optax lbfgs", 2.0),
    ("(5) L-BFGS (jac=) chained <= 2x optax lbfgs", "lbfgs", "slopes lbfgs (jac=)", "optax lbfgs", 2.0),
    ("(5) L-BFGS (jac=) extended <= 2x optax lbfgs", "lbfgs_ext", "slopes lbfgs (jac=)", "optax lbfgs", 2.0),
    ("(6) 5th derivative <= 20x numpy", "d5", "slopes", "numpy", 20.0),
] + [(f"(8) first call {key} < 20 ms", key, "slopes", FIRST_CALL, FIRST_CALL_LIMIT) for key in ALL_KEYS if key != "mem"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 repeats of >= 0.05 s (default 7 of >= 0.2 s)")
    ap.add_argument("--only", help="comma-separated row keys: " + ",".join(ALL_KEYS))
    ap.add_argument("--no-jit", action="store_true",
                    help="time the eager transforms in place of sl.jit (the fallback used when slopes has no jit)")
    ap.add_argument("--repeats", type=int, help="repeats per contender (default 7, --quick 3)")
    ap.add_argument("--min", action="store_true",
                    help="report the fastest repeat instead of the median, repeats of >= 5 ms (for a machine "
                         "shared with other jobs)")
    args = ap.parse_args(argv)
    global JIT, JIT_NOTE, SLOPES, NO_JIT, STATISTIC
    if args.no_jit:
        JIT, JIT_NOTE, NO_JIT = None, "sl.jit not used (--no-jit): eager timings", True
        SLOPES = "slopes (eager, --no-jit)"
    min_time, repeats = (0.05, 3) if args.quick else (0.2, 7)
    if args.repeats is not None:
        if args.repeats < 1:
            ap.error(f"--repeats must be a positive integer (got {args.repeats})")
        repeats = args.repeats
    if args.min:  # short repeats: the fastest of many finds windows the other jobs left alone
        STATISTIC, min_time = min, 0.005
    keys = ALL_KEYS if not args.only else tuple(k.strip() for k in args.only.split(","))
    unknown = set(keys) - set(ALL_KEYS)
    if unknown:
        ap.error(f"unknown row keys: {sorted(unknown)}")
    t_start = time.perf_counter()

    jaxlib = load_jax() if {"a1", "a2", "b2", "c", "mlp", "lbfgs", "lbfgs_ext"} & set(keys) else (None, "not needed")
    optaxlib = load_optax(jaxlib) if {"mlp", "lbfgs", "lbfgs_ext"} & set(keys) else (None, "not needed")
    torchlib = load_torch()
    scipylib = load_scipy()
    machine(repeats, min_time, jaxlib, torchlib)

    builders = {
        "a1": lambda: row_small_grad("a1", "(1) grad x1^2+2x2^2+exp(-x1-x2)", quad_exp, quad_exp_grad,
                                     np.array([1.0, 2.0]), jaxlib),
        "a2": lambda: row_small_grad("a2", "(1) grad rosenbrock 2-D", rosen2, rosen2_grad,
                                     np.array([-1.2, 1.0]), jaxlib),
        "b1": lambda: row_logistic("b1", "(2) logistic grad n=1e3 d=10", *LOGISTIC_SIZES["b1"], "grad"),
        "b2": lambda: row_logistic("b2", "(2) logistic grad n=1e5 d=100", *LOGISTIC_SIZES["b2"], "grad", jaxlib),
        "c": lambda: row_logistic("c", "(3) logistic hessian n=1e4 d=100", *LOGISTIC_SIZES["c"], "hessian",
                                  jaxlib),
        "mlp": lambda: row_mlp(torchlib, optaxlib),
        "lbfgs": lambda: row_lbfgs(scipylib, optaxlib),
        "lbfgs_ext": lambda: row_lbfgs(scipylib, optaxlib, "lbfgs_ext"),
        "d5": row_d5,
    }
    rows: list[Row] = []
    for key in keys:
        if key == "mem":
            continue
        print(f"[{time.perf_counter() - t_start:5.1f}s] {key}", file=sys.stderr, flush=True)
        row = builders[key]()
        live = {c.name: c.fn for c in row.contenders if c.fn is not None}
        for name, (sec, loops) in time_interleaved(live, repeats, min_time).items():
            c = row.get(name)
            c.seconds, c.loops = sec / c.per, loops
        if JIT is not None:
            row.first = first_call(key)
        rows.append(row)

    failures = []
    print("\n== time per call (ratio = contender / reference of the row)")
    table = []
    for row in rows:
        ref = row.get(row.ref)
        for i, c in enumerate(row.contenders):
            r = (c.seconds / ref.seconds) if c.seconds and ref and ref.seconds else None
            name = c.name + (" (info)" if c.info else "")
            table.append([row.title if i == 0 else "", name,
                          fmt_time(c.seconds) if c.skip is None else "-",
                          "-" if r is None else f"{r:.3g}",
                          f"{c.loops}x{repeats}" if c.loops else "-",
                          c.check])
            if not c.ok:
                failures.append(f"{row.title} / {c.name}: {c.check}")
    print_table(["workload", "contender", "per call", "ratio", "N x rep", "check"], table)
    for row in rows:
        for line in row.extra:
            print(f"  {row.key}: {line}")
    if JIT is not None and rows:
        print(f"\n== (8) first call of a new sl.jit (traces, optimizes, compiles and runs once; median of "
              f"{FIRST_CALL_FRESH} fresh wrappers)")
        print_table(["workload", "first call", "replay", "first / replay"],
                    [[r.title, fmt_time(r.first), fmt_time(r.get(SLOPES).seconds),
                      f"{r.first / r.get(SLOPES).seconds:.3g}" if r.get(SLOPES).seconds else "-"]
                     for r in rows if r.get(SLOPES) is not None])

    mem = None
    if "mem" in keys:
        print(f"[{time.perf_counter() - t_start:5.1f}s] mem", file=sys.stderr, flush=True)
        mem = memory()
        print("\n== (7) memory: tracemalloc peak during one call, logistic loss n=1e5 d=100 "
              "(X, y, w allocated before tracing)")
        print_table(["measurement", "peak", "/ forward", "check"],
                    [[lab, "-" if pk is None else f"{pk / 1e6:.2f} MB",
                      "-" if r is None else f"{r:.2f}", chk] for lab, pk, r, chk, _ in mem])
        for lab, _, _, chk, _ in mem:
            if chk.startswith(("FAIL", "error")):
                failures.append(f"memory / {lab}: {chk}")

    print("\n== targets" + ("" if JIT is not None else f" ({JIT_NOTE})"))
    verdicts = []
    by_key = {r.key: r for r in rows}
    for label, key, num, den, thr in TARGETS:
        if key not in by_key:
            continue
        num = SLOPES if num == "slopes" else num
        a, b = by_key[key].get(num), by_key[key].get(den)
        if den == FIRST_CALL:
            first = by_key[key].first
            verdicts.append([label, "-" if first is None else f"{first * 1e3:.3g} ms", f"< {thr * 1e3:g} ms",
                             "n/a (no sl.jit)" if first is None else "PASS" if first < thr else "MISS"])
        elif a is not None and a.skip:
            verdicts.append([label, "-", f"<= {thr:g}", f"n/a ({a.skip})"])
        elif b is None or b.skip:
            verdicts.append([label, "-", f"<= {thr:g}", "n/a (" + (b.skip if b else "no reference") + ")"])
        elif a is None or a.seconds is None or b.seconds is None:
            verdicts.append([label, "-", f"<= {thr:g}", "MISS (not measured)"])
        else:
            r = a.seconds / b.seconds
            v = "PASS" if r <= thr and a.ok else ("MISS" if a.ok else "MISS (answer disagrees)")
            verdicts.append([label, f"{r:.4g}", f"<= {thr:g}", v])
    if mem is not None:
        for lab, _, r, chk, target in mem:
            if target:
                short = "eager" if lab.startswith("eager") else "jitted"
                label = f"(7) memory {short} grad <= 2x forward"
                if r is None:
                    verdicts.append([label, "-", "<= 2", "MISS (" + chk + ")" if chk != "n/a" else "MISS (no sl.jit)"])
                else:
                    verdicts.append([label, f"{r:.2f}", "<= 2",
                                     "PASS" if r <= 2 and chk.startswith("ok") else "MISS"])
    print_table(["target", "measured", "goal", "verdict"], verdicts)
    misses = sum(v[3].startswith("MISS") for v in verdicts)
    passes = sum(v[3] == "PASS" for v in verdicts)
    print(f"\n{passes} PASS, {misses} MISS, {len(verdicts) - passes - misses} n/a")
    if failures:
        print("\nanswers that disagree or raised:")
        for f in failures:
            print("  " + f)
    else:
        print("all answers agree")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"total {time.perf_counter() - t_start:.0f} s; load average at end "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if load[0] > 0.5 * usable:
        print("WARNING: the machine got busy during the run; BLAS-bound rows (b2, c, lbfgs) are distorted. "
              "Re-run on an idle machine or compare with OPENBLAS_NUM_THREADS=1.")
    return 1 if misses or failures else 0


if __name__ == "__main__":
    sys.exit(main())
