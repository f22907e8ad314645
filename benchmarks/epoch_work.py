"""Epochs of the digits MLP (speed.py's ``mlp`` row) to count instructions with, not time.

On a shared machine wall times move by 2x with the load; instruction counts do not. Run
the same epochs under Cachegrind twice, with and without the counted epochs; the
difference over their number is the instructions an epoch costs::

    for n in 0 10; do
      OPENBLAS_NUM_THREADS=1 valgrind --tool=cachegrind --cache-sim=no \\
        --cachegrind-out-file=/dev/null python benchmarks/epoch_work.py slopes-jit $n 2>&1 | grep "I *refs"
    done

Contenders: ``numpy`` (hand-written backprop and Adam), ``slopes-jit`` (the user's step
under ``sl.jit``) and ``fit`` (``sl.ml.fit``, one call of 8 + EPOCHS epochs). Eight epochs
run first in every case (warm-up: traces, the call path's compile), so only the counted
epochs differ.

A ``-numba`` suffix (``slopes-jit-numba``, ``fit-numba``, ``fit-calls-numba``) runs the same
with ``kernels="numba"`` (the ``slopes[fast]`` extra; the kernels compile, or load from the
disk cache, in the warm-up). Run one of them once under Cachegrind before counting, and
discard it: Numba's disk cache is kept per CPU, and Cachegrind's differs from the machine's,
so the first run under it compiles every kernel (twice the instructions of a counted run).

``fit-calls`` counts whole ``fit`` calls instead: one call of 8 epochs, then EPOCHS calls of
one epoch each. The difference over EPOCHS is a call of one epoch; less ``fit``'s steady
epoch, it is what each ``fit`` call pays once (its step programs, set-up, epoch end).
"""

from __future__ import annotations

import functools
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from speed import FitMLP, NumpyMLP, SlopesMLP, batches, digits_data, mlp_init, sjit  # noqa: E402

WARM = 8


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    numba = bool(argv) and argv[0].endswith("-numba")
    name = argv[0].removesuffix("-numba") if argv else ""
    if len(argv) != 2 or name not in ("numpy", "slopes-jit", "fit", "fit-calls") or not argv[1].isdigit() or (
            numba and name == "numpy"):
        print("usage: python benchmarks/epoch_work.py {numpy,slopes-jit,fit,fit-calls}[-numba] EPOCHS",
              file=sys.stderr)
        return 2
    X, labels, _ = digits_data()
    data = batches(X, labels)
    p0 = mlp_init()
    options = {"kernels": "numba"} if numba else {}  # none otherwise: a tree from before the option runs too
    if name == "fit":
        FitMLP(p0, data, **options).run(WARM + int(argv[1]))
        return 0
    if name == "fit-calls":
        fit = FitMLP(p0, data, **options)
        fit.run(WARM)
        for _ in range(int(argv[1])):
            fit.run(1)
        return 0
    wrap = functools.partial(sjit, **options)
    trainer = NumpyMLP(p0, data) if name == "numpy" else SlopesMLP(p0, data, wrap)
    for _ in range(WARM + int(argv[1])):
        trainer.epoch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
