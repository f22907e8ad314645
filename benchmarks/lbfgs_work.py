"""L-BFGS solves of speed.py's ``lbfgs`` / ``lbfgs_ext`` rows to count instructions with, not time.

On a shared machine wall times move by 2x with the load; instruction counts do not. Run
the same solves under Cachegrind twice, with and without the counted solves; the
difference over their number is the instructions a solve costs::

    for n in 0 10; do
      PYTHONHASHSEED=0 OPENBLAS_NUM_THREADS=1 valgrind --tool=cachegrind --cache-sim=no \\
        --cachegrind-out-file=/dev/null python benchmarks/lbfgs_work.py slopes lbfgs_ext $n 2>&1 | grep "I *refs"
    done

Contenders: ``scipy`` (L-BFGS-B given the hand-written gradient), ``slopes`` (``sl.minimize``
with its own AD gradient) and ``slopes-jac`` (``sl.minimize`` given the hand-written
gradient). Two solves run first in every case (warm-up: imports, traces, kept programs),
so only the counted solves differ.
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from speed import GTOL, ROSENBROCKS, sl  # noqa: E402

WARM = 2
CONTENDERS = ("scipy", "slopes", "slopes-jac")


def solver(contender, row, n=100):
    """``solve()`` running one L-BFGS solve of ``row``'s Rosenbrock by ``contender``."""
    _, fun_sl, fun_np, grad_np = ROSENBROCKS[row]
    x0 = np.tile([-1.2, 1.0], n // 2)
    if contender == "scipy":
        from scipy.optimize import minimize

        def solve():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return minimize(fun_np, x0, jac=grad_np, method="L-BFGS-B", options={"gtol": GTOL})

        return solve
    if contender == "slopes":
        return lambda: sl.minimize(fun_sl, x0, method="lbfgs", gtol=GTOL)
    return lambda: sl.minimize(fun_np, x0, method="lbfgs", gtol=GTOL, jac=grad_np)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3 or argv[0] not in CONTENDERS or argv[1] not in ROSENBROCKS or not argv[2].isdigit():
        print(f"usage: python benchmarks/lbfgs_work.py {{{','.join(CONTENDERS)}}} {{{','.join(ROSENBROCKS)}}} SOLVES",
              file=sys.stderr)
        return 2
    solve = solver(argv[0], argv[1])
    for _ in range(WARM + int(argv[2])):
        solve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
