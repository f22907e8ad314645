"""Vocabulary speed: every differentiable name autograd has, eager gradient, slopes against autograd.

Usage::

    python benchmarks/vocabulary.py              # all names (median of 5 repeats, each >= 0.1 s)
    python benchmarks/vocabulary.py --quick      # median of 3 repeats, each >= 0.02 s
    python benchmarks/vocabulary.py --only sin,linalg.inv,special.

The names come from autograd itself: each public function of ``autograd.numpy``,
``autograd.numpy.linalg``/``fft`` and ``autograd.scipy.special``/``linalg``/``signal``/
``stats.*``. Its slopes counterpart (``slopes.numpy``, ``slopes.scipy.special``, ...) is
looked up by the same path when the row runs, so names slopes gains later appear without
editing this file; names slopes lacks are listed as missing.

Each name is called on about 1000 float64 entries: the first argument pattern under which
autograd's gradient is finite (a vector in (0.1, 0.9), one in (1.1, 2), a pair of vectors, an
integer then a vector, a 32 x 32 symmetric positive-definite matrix, a pair of matrices, last a
complex vector for the complex parts), or the arguments ``EXPLICIT`` gives the row or the name. The
objective is the sum of squares of the (real parts of the) outputs; the gradient is taken with respect
to the first float argument, by ``sl.grad`` and ``autograd.grad``, eagerly, on the same
NumPy input. Answers are compared (rtol 1e-7) before timing; a disagreement or an error
marks the row and makes the exit status 1. Timing is timeit-style, the two libraries
interleaved; the ratio is autograd's time over slopes' (above 1: slopes is faster).
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
import warnings

import numpy as np

import slopes as sl

RTOL = 1e-7
SEED = 0
# (autograd module, the module it mirrors, slopes' module, attribute path prefix, row name prefix)
MODULES = [
    ("autograd.numpy", "numpy", "slopes.numpy", "", ""),
    ("autograd.numpy.linalg", "numpy.linalg", "slopes.numpy.linalg", "", "linalg."),
    ("autograd.numpy.fft", "numpy.fft", "slopes.numpy.fft", "", "fft."),
    ("autograd.scipy.special", "scipy.special", "slopes.scipy.special", "", "special."),
    ("autograd.scipy.linalg", "scipy.linalg", "slopes.scipy.linalg", "", "scipy.linalg."),
    ("autograd.scipy.signal", "scipy.signal", "slopes.scipy.signal", "", "signal."),
] + [
    (f"autograd.scipy.stats.{d}", "scipy.stats", "slopes.scipy.stats", f"{d}.", f"stats.{d}.")
    for d in ("beta", "chi2", "dirichlet", "gamma", "multivariate_normal", "norm", "poisson", "t")
]
# Functions whose arguments the generic patterns do not cover: name -> (arguments, differentiated one).
EXPLICIT = {
    "reshape": lambda d: ((d.x, (20, 50)), 0),
    "broadcast_to": lambda d: ((d.x[:, None], (1000, 2)), 0),  # autograd: no new leading axes
    "clip": lambda d: ((d.x, 0.2, 0.8), 0),
    "einsum": lambda d: (("ij,jk->ik", d.A, d.B), 1),
    "repeat": lambda d: ((d.x, 2), 0),
    "tile": lambda d: ((d.x, 2), 0),
    "take": lambda d: ((d.x, np.arange(0, 1000, 3)), 0),
    "take_along_axis": lambda d: ((d.A, np.argsort(d.A, axis=1), 1), 0),
    "where": lambda d: ((d.x > 0.5, d.x, d.y), 1),
    "pad": lambda d: ((d.x, 2, "constant"), 0),  # autograd needs the mode
    "moveaxis": lambda d: ((d.A, 0, 1), 0),
    "swapaxes": lambda d: ((d.A, 0, 1), 0),
    "expand_dims": lambda d: ((d.x, 0), 0),
    "split": lambda d: ((d.x, 4), 0),
    "array_split": lambda d: ((d.x, 3), 0),
    "roll": lambda d: ((d.x, 3), 0),
    "tril": lambda d: ((d.A,), 0),
    "triu": lambda d: ((d.A,), 0),
    "diag": lambda d: ((d.A,), 0),
    "diagonal": lambda d: ((d.A, 0, -1, -2), 0),  # autograd: the last two axes only
    "concatenate": lambda d: (((d.x, d.y),), 0),
    "stack": lambda d: (((d.x, d.y),), 0),
    "hstack": lambda d: (((d.x, d.y),), 0),
    "vstack": lambda d: (((d.x, d.y),), 0),
    "dstack": lambda d: (((d.x, d.y),), 0),
    "column_stack": lambda d: (((d.x, d.y),), 0),
    "outer": lambda d: ((d.x[:32], d.y[:32]), 0),
    "kron": lambda d: ((d.x[:32], d.y[:32]), 0),
    "matrix_power": lambda d: ((d.A, 3), 0),
    "multi_dot": lambda d: (([d.A, d.B, d.A],), 0),
    "eigh": lambda d: ((d.A,), 0),
    "eigvalsh": lambda d: ((d.A,), 0),
    "average": lambda d: ((d.x, 0, d.y), 0),
    "prod": lambda d: ((1.0 + 0.01 * (d.x - 0.5),), 0),  # near 1: no overflow in a product of 1000
    "cumprod": lambda d: ((1.0 + 0.01 * (d.x - 0.5),), 0),
    "cross": lambda d: ((d.x[:999].reshape(333, 3), d.y[:999].reshape(333, 3)), 0),
    "hsplit": lambda d: ((d.A, 4), 0),
    "vsplit": lambda d: ((d.A, 4), 0),
    "dsplit": lambda d: ((d.A.reshape(2, 16, 32), 4), 0),
    "partition": lambda d: ((d.x, 500), 0),
    "rollaxis": lambda d: ((d.A, 1), 0),
    # rows (module prefix included) whose name alone is ambiguous, or whose shapes come after x
    "linalg.svd": lambda d: ((d.A, False), 0),  # autograd: reduced factors only
    "special.betainc": lambda d: ((2.0, 3.0, d.x), 2),
    "special.multigammaln": lambda d: ((1.1 + d.y, 3), 0),
    "scipy.linalg.solve_sylvester": lambda d: ((d.A, d.A, d.B), 0),
    # a diagonally dominant tridiagonal matrix of order 333, in SciPy's banded storage
    "scipy.linalg.solve_banded": lambda d: (((1, 1), np.stack([d.x[:333], 4.0 + d.y[:333], d.x[333:666]]),
                                             d.y[333:666]), 1),
    **{f"stats.beta.{k}": (lambda d: ((d.x, 2.0, 3.0), 0)) for k in ("cdf", "logpdf", "pdf")},
    **{f"stats.chi2.{k}": (lambda d: ((1.1 + d.y, 3.0), 0)) for k in ("logpdf", "pdf")},
    # a point of the simplex (250 points of 4 coordinates would need autograd to loop)
    "stats.dirichlet.logpdf": lambda d: ((d.x / d.x.sum(), 1.0 + d.y), 0),
    "stats.dirichlet.pdf": lambda d: ((d.x[:10] / d.x[:10].sum(), 1.0 + d.y[:10]), 0),  # 1000: underflow
    **{
        f"stats.multivariate_normal.{k}": (lambda d: ((d.x.reshape(250, 4), np.zeros(4), d.A[:4, :4]), 0))
        for k in ("logpdf", "pdf")
    },
    "stats.multivariate_normal.entropy": lambda d: ((np.zeros(32), d.A), 1),  # in cov (mean: only its size)
}
# Rows where autograd's gradient is wrong, so there is nothing to time against: row -> why.
AUTOGRAD_WRONG = {
    # the gradient of sum(partition(x, k)**2) is 2x; autograd misplaces entries once n is large
    "partition": "autograd's gradient of sum(partition(x, 500)**2) is not 2x",
}
# Symmetric-matrix functions: autograd differentiates the lower triangle NumPy reads, slopes the
# symmetric part (its documented convention); the two agree on symmetric directions.
SYMMETRIC_INPUT = {"linalg.eigh", "linalg.eigvalsh", "scipy.linalg.eigh", "scipy.linalg.eigvalsh"}


class Inputs:
    """The arrays the patterns are made of: about 1000 float64 entries each."""

    def __init__(self, rng):
        self.x = rng.uniform(0.1, 0.9, 1000)
        self.y = rng.uniform(0.1, 0.9, 1000)
        self.B = rng.standard_normal((32, 32))
        self.A = self.B @ self.B.T / 32 + np.eye(32)  # symmetric positive definite
        # read-only: a ufunc tried on a pattern with one argument too many takes it as ``out``
        # (gammasgn(x, y) writes into y), which left later rows with no pattern that fits
        for v in (self.x, self.y, self.B, self.A):
            v.flags.writeable = False


def resolve(module, path):
    """``module.path`` (dotted attributes), or None when slopes does not have it (yet)."""
    try:
        obj = importlib.import_module(module)
    except ImportError:
        return None
    for part in filter(None, path.split(".")):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def differentiable_names(ag_mod, reference, attr_prefix):
    """autograd's functions with a derivative rule, and its wrappers of the reference module's names."""
    from autograd.core import primitive_vjps

    names = []
    for name in sorted(dir(ag_mod)):
        fn = getattr(ag_mod, name)
        if name.startswith("_") or not callable(fn) or isinstance(fn, type):
            continue
        try:
            has_rule = fn in primitive_vjps
        except TypeError:  # unhashable
            continue
        primitive = getattr(fn, "_is_autograd_primitive", False)
        wrapper = not primitive and getattr(fn, "__module__", "").startswith("autograd")
        # the mirrored module's own names only (not autograd's helpers and imports)
        if (has_rule or wrapper) and resolve(reference, attr_prefix + name) is not None:
            names.append(name)
    return names


def patterns(row, name, data):
    """(label, arguments, index of the differentiated one) to try, in order."""
    explicit = EXPLICIT.get(row) or EXPLICIT.get(name)
    if explicit is not None:
        args, argnum = explicit(data)
        return [("explicit", args, argnum)]
    return [
        ("x in (0.1, 0.9)", (data.x,), 0),
        ("x in (1.1, 2)", (1.0 + 0.1 + data.y,), 0),
        ("x, y", (data.x, data.y), 0),
        ("2, x", (2, data.x), 1),
        ("A 32x32 spd", (data.A,), 0),
        ("A, B 32x32", (data.A, data.B), 0),
        # last: complex parts (angle, imag) have no gradient on the real line
        ("z = x + iy", (data.x + 1j * data.y,), 0),
    ]


def objective(np_, fn, args, argnum):
    """x -> sum of squares of (the real parts of) every float output of ``fn`` with ``x`` at ``argnum``."""

    def f(x):
        full = list(args)
        full[argnum] = x
        out = fn(*full)
        total = 0.0
        # a tuple, a list, or autograd's box of one
        several = not hasattr(out, "shape") and hasattr(out, "__len__")
        for o in [out[i] for i in range(len(out))] if several else (out,):
            kind = np.dtype(o.dtype).kind if hasattr(o, "dtype") else "f"
            if kind == "c":
                o = np_.real(o)
            if kind in "cf":  # squares: blind to the signs of eigenvectors and singular vectors
                total = total + np_.sum(o * o)
        return total

    return f


def first_working_pattern(row, name, ag_fn, data):
    """(label, args, argnum, autograd's gradient function, its value) of the first fitting pattern."""
    import autograd
    import autograd.numpy as anp

    for label, args, argnum in patterns(row, name, data):
        grad = autograd.grad(objective(anp, ag_fn, args, argnum))
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                g = np.asarray(grad(args[argnum]))
        except Exception:  # this pattern does not fit the function
            continue
        if np.all(np.isfinite(g)) and np.any(g != 0):
            return label, args, argnum, grad, g
    return None


def per_call(fn, arg, min_time):
    """Seconds per call: loops grow 1, 2, 5, 10, ... until one repeat lasts ``min_time``."""
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            fn(arg)
        spent = time.perf_counter() - t
        if spent >= min_time:
            return spent / n, n
        n = n * 2 if str(n)[0] in "15" else n * 5 // 2


def interleaved(fns, arg, min_time, repeats):
    loops = [per_call(f, arg, min_time)[1] for f in fns]
    times = [[] for _ in fns]
    for r in range(repeats):
        order = range(len(fns)) if r % 2 == 0 else reversed(range(len(fns)))
        for k in order:
            t = time.perf_counter()
            for _ in range(loops[k]):
                fns[k](arg)
            times[k].append((time.perf_counter() - t) / loops[k])
    return [statistics.median(t) for t in times]


def fmt(seconds):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter repeats (a smoke run)")
    parser.add_argument("--only", default="", help="comma-separated row names or prefixes")
    opts = parser.parse_args(argv)
    try:
        import autograd  # noqa: F401
    except ImportError:
        print("autograd is not installed (pip install autograd): nothing to compare against")
        return 0
    min_time, repeats = (0.02, 3) if opts.quick else (0.1, 5)
    wanted = [w for w in opts.only.split(",") if w]
    rows, missing, unfit, bad, peer_wrong = [], [], [], [], []
    data = Inputs(np.random.default_rng(SEED))
    for ag_module, reference, sl_module, attr_prefix, prefix in MODULES:
        ag_mod = resolve(ag_module, "")
        if ag_mod is None:
            continue
        names = differentiable_names(ag_mod, reference, attr_prefix)
        for name in names:
            row = prefix + name
            if wanted and not any(row == w or (w.endswith(".") and row.startswith(w)) for w in wanted):
                continue
            sl_fn = resolve(sl_module, attr_prefix + name)
            if sl_fn is None:
                missing.append(row)
                continue
            if row in AUTOGRAD_WRONG:
                peer_wrong.append(f"{row} ({AUTOGRAD_WRONG[row]})")
                continue
            found = first_working_pattern(row, name, getattr(ag_mod, name), data)
            if found is None:
                unfit.append(row)
                continue
            label, args, argnum, ag_grad, g_ag = found
            sl_grad = sl.grad(objective(sl.numpy, sl_fn, args, argnum))
            x = args[argnum]
            try:
                g_sl = np.asarray(sl_grad(x))
            except Exception as e:
                bad.append(f"{row}: {type(e).__name__}: {e}".splitlines()[0][:160])
                rows.append((row, label, None, None, "error"))
                continue
            if row in SYMMETRIC_INPUT:
                g_sl, g_ag = ((g + np.swapaxes(g, -1, -2)) / 2 for g in (g_sl, g_ag))
            scale = max(float(np.max(np.abs(g_ag))), 1e-300)
            if g_sl.shape != g_ag.shape or not np.allclose(g_sl, g_ag, rtol=RTOL, atol=1e-10 * scale):
                err = float(np.max(np.abs(g_sl - g_ag))) if g_sl.shape == g_ag.shape else float("nan")
                bad.append(f"{row}: gradients differ (max abs diff {err:.2e}, scale {scale:.2e})")
                rows.append((row, label, None, None, "DIFF"))
                continue
            t_sl, t_ag = interleaved([sl_grad, ag_grad], x, min_time, repeats)
            rows.append((row, label, t_sl, t_ag, "ok"))
            print(f"  {row}", file=sys.stderr)
    report(rows, missing, unfit, bad, peer_wrong)
    return 1 if bad else 0


def report(rows, missing, unfit, bad, peer_wrong):
    print("== eager gradient per call, ~1000 float64 entries")
    print("   (ratio = autograd / slopes: above 1 means slopes is faster)")
    header = ("name", "input", "slopes", "autograd", "ratio", "check")
    table = [header] + [
        (r, lab, fmt(a) if a else "-", fmt(b) if b else "-", f"{b / a:.3g}" if a else "-", chk)
        for r, lab, a, b, chk in rows
    ]
    widths = [max(len(str(line[k])) for line in table) for k in range(len(header))]
    for k, line in enumerate(table):
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip())
        if k == 0:
            print("  ".join("-" * w for w in widths))
    ratios = [b / a for _, _, a, b, _ in rows if a]
    if ratios:
        print(
            f"\n{len(ratios)} names timed; ratio geometric mean {np.exp(np.mean(np.log(ratios))):.3g}, "
            f"min {min(ratios):.3g}, max {max(ratios):.3g}"
        )
    if missing:
        print(f"\nnot in slopes yet ({len(missing)}): {', '.join(missing)}")
    if unfit:
        print(f"\nno input pattern fits autograd's version ({len(unfit)}): {', '.join(unfit)}")
    if peer_wrong:
        print(f"\nnot timed, autograd's gradient is wrong: {', '.join(peer_wrong)}")
    print("\nall answers agree" if not bad else "\nproblems:\n  " + "\n  ".join(bad))


if __name__ == "__main__":
    sys.exit(main())
