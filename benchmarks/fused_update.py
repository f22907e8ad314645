"""The MLP training step's replay with its update fused across leaves, against leaf by leaf.

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/fused_update.py [ROUNDS]

Traces the user's step of ``speed.py``'s ``mlp`` row once, compiles its program twice
(as ``sl.jit`` does, with Adam's chain run once over all four leaves by
:mod:`slopes.core.horizontal`, and with that pass turned off), and times epochs of each
and of the hand-written NumPy step, interleaved, in CPU time (less moved by other
processes than wall time on a shared machine): the minimum over ``ROUNDS`` rounds (15).
Each replay passes its results back as the next step's arguments, as a training loop does.

Not a test; the figures move between runs on a busy machine.
"""

from __future__ import annotations

import copy
import os
import sys
import time
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import slopes as sl  # noqa: E402
from slopes.core import pytree  # noqa: E402
from speed import NumpyMLP, adam_step, batches, digits_data, mlp_init  # noqa: E402


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    rounds = int(argv[0]) if argv else 15
    X, labels, _ = digits_data()
    data = [b for b in batches(X, labels) if len(b[0]) == 64]  # one batch shape: one program
    p0, opt = mlp_init(), sl.optim.adam(1e-3)
    state = opt.init(p0)
    step = sl.jit(adam_step(opt))
    step(p0, state, *data[0][:2])
    (entry,) = step._programs.values()
    leaf_by_leaf = copy.copy(entry.program)
    leaf_by_leaf.fuse_leaves_done = True  # horizontal.fuse_leaves leaves it as it is
    n = len(pytree.leaves((p0, state)))
    args0 = [np.asarray(a) for a in pytree.leaves((p0, state))]

    def epoch(replay):
        def run():
            a = args0
            for xb, yb, _ in data:  # 0-d results as arrays, as sl.jit passes them
                a = [x if type(x) is np.ndarray else np.asarray(x) for x in replay(*a, xb, yb)[:n]]
        return run

    contenders = {"fused across leaves": epoch(entry.program.compile()),
                  "leaf by leaf": epoch(leaf_by_leaf.compile()),
                  "hand NumPy": NumpyMLP(p0, data).epoch}
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(rounds):
        for k, fn in contenders.items():
            t = min(timeit.Timer(fn, timer=time.process_time).repeat(number=5, repeat=3))
            best[k] = min(best[k], t / 5 / len(data) * 1e6)
    for k, us in best.items():
        print(f"  {k:20s} {us:7.1f} us a step (CPU)  {us / best['hand NumPy']:.3f}x hand NumPy")
    print(f"  fused / leaf by leaf: {best['fused across leaves'] / best['leaf by leaf']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
