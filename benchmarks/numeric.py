"""Numeric differentiation side by side: slopes.numeric against numdifftools.

Usage::

    python benchmarks/numeric.py           # ~0.2 s per measurement, median of 7 repeats
    python benchmarks/numeric.py --quick   # ~0.05 s per measurement, median of 3 repeats

Both libraries differentiate the same plain-NumPy function at the same point with their
default settings (automatic steps and Richardson extrapolation; central differences, and
the complex step where both offer it). Every answer is compared with the exact derivative
(closed form, cross-checked against slopes' AD), so speed is reported next to accuracy:
the max absolute error of each answer, the number of function evaluations per call, the
median time per call (each library timed twice, interleaved, the smaller median kept), and
the ratio numdifftools time / slopes time (> 1: slopes faster).

The target: "numeric differentiation must not be slower than numdifftools on the same
gradient at the same accuracy". A row passes when slopes is at least as fast and its
error is no larger than numdifftools' (or below 1e-12 relative to the gradient's scale,
where both are at rounding level).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import statistics
import sys
import timeit

import numpy as np

import slopes as sl
import slopes.numpy as snp

try:
    import numdifftools as nd
except ImportError:  # pragma: no cover - the bench extra is optional
    nd = None

# ----------------------------------------------------------------------------- problems


def rosen(x, xp=np):
    return xp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


_A = np.random.default_rng(0).normal(size=(10, 10)) / 3
_b = np.linspace(-1.0, 1.0, 10)


def smooth10(x, xp=np):
    """A smooth 10-D function: Gaussian bumps plus a log of a quadratic form plus a sine."""
    return xp.sum(xp.exp(-x * x)) + xp.log1p(xp.sum((_A @ x) ** 2)) + xp.sin(_b @ x)


def quad_exp(x, xp=np):
    return x[0] ** 2 + 2 * x[1] ** 2 + xp.exp(-x[0] - x[1])


def rosen_grad(x):
    g = np.zeros_like(x)
    g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


def smooth10_grad(x):
    u = _A @ x
    return -2 * x * np.exp(-x * x) + 2 * _A.T @ u / (1 + u @ u) + np.cos(_b @ x) * _b


def quad_exp_hess(x):
    e = np.exp(-x[0] - x[1])
    return np.array([[2 + e, e], [e, 4 + e]])


# (key, label, kind, f, x, exact)
PROBLEMS = [
    ("g1", "grad rosenbrock 2-D at (-1.2, 1)", "grad", rosen, np.array([-1.2, 1.0]), rosen_grad),
    ("g2", "grad smooth 10-D", "grad", smooth10, np.linspace(-0.9, 0.9, 10), smooth10_grad),
    ("g3", "grad rosenbrock 10-D", "grad", rosen, np.linspace(-1.0, 1.2, 10), rosen_grad),
    ("h1", "hessian x0^2+2x1^2+exp(-x0-x1)", "hessian", quad_exp, np.array([1.0, 2.0]), quad_exp_hess),
    ("d1", "derivative exp at 1", "derivative", np.exp, np.array(1.0), np.exp),
]


def runners(kind, f, method):
    """(slopes callable, numdifftools callable) computing the same derivative."""
    s = {"grad": sl.numeric.grad, "hessian": sl.numeric.hessian, "derivative": sl.numeric.derivative}[kind]
    ours = lambda x: s(f, x, method=method)
    theirs = None
    if nd is not None:
        cls = {"grad": nd.Gradient, "hessian": nd.Hessian, "derivative": nd.Derivative}[kind]
        d = cls(f, method=method)
        theirs = lambda x: d(x)
    return ours, theirs


# ----------------------------------------------------------------------------- measuring


def time_call(fn, x, target, repeat):
    loops = 1
    while True:
        t = timeit.timeit(lambda: fn(x), number=loops)
        if t >= target:
            break
        loops = loops * 2 if t < target / 10 else max(loops + 1, int(loops * target / max(t, 1e-9)))
    times = timeit.repeat(lambda: fn(x), number=loops, repeat=repeat)
    return statistics.median(times) / loops


def time_pair(ours, theirs, x, target, repeat):
    """Both timings, interleaved twice; the smaller median of each (robust to bursts of load)."""
    t_s, t_n = [], []
    for _ in range(2):
        t_s.append(time_call(ours, x, target, repeat))
        t_n.append(time_call(theirs, x, target, repeat))
    return min(t_s), min(t_n)


def count_evals(f):
    n = [0]

    def counted(y):
        n[0] += 1
        return f(y)

    return counted, n


def fmt_time(t):
    return f"{t * 1e6:.0f} us" if t < 1e-2 else f"{t * 1e3:.1f} ms"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="shorter measurements (smoke run)")
    args = ap.parse_args(argv)
    target, repeat = (0.05, 3) if args.quick else (0.2, 7)
    print("== versions")
    print(f"numpy        {np.__version__}")
    print(f"slopes       {sl.__version__}")
    print(
        f"numdifftools {importlib.metadata.version('numdifftools') if nd is not None else 'n/a (pip install numdifftools)'}"
    )
    print(f"timing       median of {repeat} repeats, ~{target} s each; float64\n")

    # the closed forms are checked against slopes' AD before anything is timed
    for key, _, kind, f, x, exact in PROBLEMS:
        if kind == "grad":
            ad = sl.grad(lambda y, f=f: f(y, xp=snp))(x)
        elif kind == "hessian":
            ad = sl.hessian(lambda y, f=f: f(y, xp=snp))(x)
        else:
            ad = sl.derivative(snp.exp)(x)
        assert np.allclose(ad, exact(x), rtol=1e-12, atol=1e-12), f"closed form of {key} disagrees with AD"

    header = [
        "workload",
        "method",
        "slopes err",
        "nd err",
        "slopes evals",
        "nd evals",
        "slopes",
        "numdifftools",
        "nd/slopes",
        "verdict",
    ]
    rows, misses = [], 0
    for key, label, kind, f, x, exact in PROBLEMS:
        methods = ["central", "complex"] if kind != "hessian" else ["central"]
        for method in methods:
            print(f"measuring {key} {method} ...", file=sys.stderr)
            ref = exact(x)
            scale = max(1.0, float(np.max(np.abs(ref))))
            counted, n = count_evals(f)
            ours, theirs = runners(kind, counted, method)
            n[0] = 0
            err_s = float(np.max(np.abs(ours(x) - ref)))
            ev_s = n[0]
            if theirs is None:
                t_s = time_call(runners(kind, f, method)[0], x, target, repeat)
                rows.append(
                    [
                        f"{key} {label}",
                        method,
                        f"{err_s:.1e}",
                        "n/a",
                        str(ev_s),
                        "n/a",
                        fmt_time(t_s),
                        "n/a",
                        "n/a",
                        "n/a",
                    ]
                )
                continue
            n[0] = 0
            err_n = float(np.max(np.abs(np.asarray(theirs(x)) - ref)))
            ev_n = n[0]
            t_s, t_n = time_pair(*runners(kind, f, method), x, target, repeat)
            ratio = t_n / t_s
            accurate = err_s <= err_n or err_s <= 1e-12 * scale
            ok = ratio >= 1.0 and accurate
            misses += not ok
            rows.append(
                [
                    f"{key} {label}",
                    method,
                    f"{err_s:.1e}",
                    f"{err_n:.1e}",
                    str(ev_s),
                    str(ev_n),
                    fmt_time(t_s),
                    fmt_time(t_n),
                    f"{ratio:.2f}",
                    "PASS" if ok else ("MISS (slower)" if ratio < 1 else "MISS (less accurate)"),
                ]
            )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("== slopes.numeric vs numdifftools (max abs error vs exact; time per call)")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    print()
    print("all rows pass" if not misses else f"{misses} row(s) miss the target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
