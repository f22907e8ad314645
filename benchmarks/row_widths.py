"""The logistic gradient's Numba row kernel (``sl.jit(..., kernels="numba")``) at several row widths.

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/row_widths.py              # d = 10, 30, 100, 300, 1000, 5000
    OPENBLAS_NUM_THREADS=1 python benchmarks/row_widths.py --widths 100,1000 --repeats 15

For each width ``d``, X holds ``10_000_000 // d`` rows (80 MB, as speed.py's b2 row) and the
gradient of ``mean(logaddexp(0, X w) - y X w)`` is timed against hand-written NumPy
(``X.T @ (sigmoid(X w) - y) / n``, speed.py's reference): CPU time of this thread
(``time.thread_time``), median of interleaved repeats, as a ratio to NumPy. To compare two
versions of :mod:`slopes.core.row_kernels`, alternate runs between their trees
(``PYTHONPATH=...``).

Not a test; on a shared machine the ratios move by several percent between runs.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from speed import cpu_time_medians, logistic_data, logistic_grad, logistic_loss  # noqa: E402

import slopes as sl  # noqa: E402
import slopes.numpy as snp  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="10,30,100,300,1000,5000")
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args(argv)
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":  # this thread's CPU time would miss BLAS's threads
        print("run with OPENBLAS_NUM_THREADS=1: NumPy's products are timed on this thread", file=sys.stderr)
        return 2
    print(f"slopes {sl.__file__}")
    print(f"{'d':>6} {'rows':>9} {'numpy':>9} {'kernel / numpy':>15}")
    for d in map(int, args.widths.split(",")):
        X, y, w = logistic_data(10_000_000 // d, d)
        grad = sl.jit(sl.grad(logistic_loss(snp, X, y)), kernels="numba")
        hand = logistic_grad(X, y)
        got, want = grad(w), hand(w)
        if not np.allclose(got, want, rtol=1e-10, atol=1e-14):
            print(f"{d:>6}: the kernel's gradient differs from NumPy's (max abs err {np.abs(got - want).max():.1e})")
            return 1
        t = cpu_time_medians({"kernel": (lambda: grad(w), 1), "numpy": (lambda: hand(w), 1)}, args.repeats)
        print(f"{d:>6} {X.shape[0]:>9} {t['numpy'] * 1e3:>7.2f} ms {t['kernel'] / t['numpy']:>15.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
