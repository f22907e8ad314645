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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from speed import ROSENBROCKS, lbfgs_solver  # noqa: E402

WARM = 2
CONTENDERS = ("scipy", "slopes", "slopes-jac")


def solver(contender, row):
    """``solve()`` running one L-BFGS solve of ``row``'s Rosenbrock by ``contender``."""
    if contender == "scipy":
        from scipy.optimize import minimize

        return lbfgs_solver(row, scipy_minimize=minimize)
    return lbfgs_solver(row) if contender == "slopes" else lbfgs_solver(row, jac=ROSENBROCKS[row][3])


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
