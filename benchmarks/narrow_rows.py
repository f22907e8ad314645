"""Reductions over a short last axis: ``kernels="numba"``'s row loops against the NumPy replay.

Usage::

    python benchmarks/narrow_rows.py                      # rows 64 and 4096, widths 2, 10, 16, 32
    python benchmarks/narrow_rows.py --rows 64 --widths 10 --repeats 15
    python benchmarks/narrow_rows.py --widths 32 --max-width 32   # rows wider than the limit, compiled

For each ``(rows, k)``, three jitted functions of a float64 ``(rows, k)`` array are timed
with ``sl.jit(f)`` (the NumPy replay) and ``sl.jit(f, kernels="numba")``
(:mod:`slopes.core.narrow_rows`): ``sum(z, axis=1)``, ``log_softmax(z)`` and the value and
gradient of a cross-entropy ``-sum(y * log_softmax(z))``. Each line gives the replay's
microseconds a call (CPU time of this thread, median of interleaved repeats) and the
kernels' time as a ratio to it, and checks that the two give the same bits. Rows wider than
:data:`slopes.core.narrow_rows.MAX_WIDTH` stay with NumPy ("(numpy)" after the ratio: the
replay timed against itself) unless ``--max-width`` raises the limit for the run.

Not a test; on a shared machine the ratios move by several percent between runs.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from speed import cpu_time_medians  # noqa: E402

import slopes as sl  # noqa: E402
import slopes.numpy as snp  # noqa: E402


def workloads():
    """``{name: function of (z, y)}``: a row sum, a log-softmax, a cross-entropy's value and gradient."""
    def cross_entropy(z, y):
        return -snp.sum(y * sl.ml.log_softmax(z))

    return {
        "sum over rows": lambda z, y: snp.sum(z, axis=1),
        "log_softmax": lambda z, y: sl.ml.log_softmax(z),
        "cross-entropy value and grad": sl.value_and_grad(cross_entropy),
    }


def same_bits(a, b):
    a, b = (x if isinstance(x, tuple) else (x,) for x in (a, b))
    return all(np.array_equal(np.asarray(p), np.asarray(q)) for p, q in zip(a, b))


def positive_ints(text):
    """``"2,10"`` -> ``[2, 10]``; an argparse error for anything but positive integers."""
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, got {text!r}")
    return values


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=positive_ints, default="64,4096")
    parser.add_argument("--widths", type=positive_ints, default="2,10,16,32")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--max-width", type=int, help="compile rows up to this many entries (default: MAX_WIDTH)")
    args = parser.parse_args(argv)
    from slopes.core import narrow_rows
    from slopes.core.kernels import numba_available

    if not numba_available():
        print("needs Numba: pip install -e '.[fast]'", file=sys.stderr)
        return 2
    if args.max_width is not None:  # part of a compiled program's key: programs compiled after see it
        narrow_rows.MAX_WIDTH = args.max_width
    rng = np.random.default_rng(0)
    print(f"{'workload':30s} {'rows':>6s} {'k':>4s} {'NumPy replay':>13s} {'numba / replay':>15s}  bits")
    for rows in args.rows:
        for k in args.widths:
            z = rng.standard_normal((rows, k))
            y = np.eye(k)[rng.integers(0, k, rows)]
            for name, f in workloads().items():
                plain, fast = sl.jit(f), sl.jit(f, kernels="numba")
                plain(z, y), fast(z, y)  # traces and compiles (or loads) out of the timing
                t = cpu_time_medians({"numpy": (lambda: plain(z, y), 1), "numba": (lambda: fast(z, y), 1)},
                                     repeats=args.repeats, units=max(20, 200_000 // z.size))
                same = "same" if same_bits(plain(z, y), fast(z, y)) else "DIFFER"
                kept = "" if 2 <= k <= narrow_rows.MAX_WIDTH else " (numpy)"
                print(f"{name:30s} {rows:6d} {k:4d} {t['numpy'] * 1e6:10.1f} us {t['numba'] / t['numpy']:15.2f}  "
                      f"{same}{kept}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
