"""Where the digits MLP's jitted training step spends its time, line by line of the replay.

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/step_profile.py            # 20 most costly lines
    OPENBLAS_NUM_THREADS=1 python benchmarks/step_profile.py --top 40

It traces the user's whole step of the ``mlp`` row of ``speed.py`` (value and gradient,
Adam, ``apply_updates`` under one ``sl.jit``), then prints:

- per step, side by side (interleaved repeats, minimum CPU time per step): the replay on one
  batch repeated, the hand-written NumPy step (``speed.NumpyMLP``) on that batch, and both
  over a whole epoch (a new batch each step, the parameters carried along);
- the same epoch replayed leaf by leaf: the program compiled without running Adam's chain
  once over all four leaves (:mod:`slopes.core.horizontal`), and the ratio of the two;
- the same epoch through the jitted function itself (``step(params, state, xb, yb)``: the
  replay plus the call path, which checks the arguments and builds the output trees);
- the Adam update of the four leaves written by hand leaf by leaf (12 NumPy calls a leaf)
  against the same arithmetic on one flat buffer of all leaves (12 calls in all, the
  gradients copied into it, the results viewed out of it), as the replay now runs it;
- the replayed program's lines with their time per step inside an epoch, each line timed
  with ``time.perf_counter`` around it (the timers add about 0.1 us a line).

Not a test; times on a shared machine move by 10% between runs.
"""

from __future__ import annotations

import argparse
import ast
import collections
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


def timed_replay(source, namespace):
    """The replay compiled with a timer around every line but ``del``/``return``: (fn, totals, lines)."""
    tree = ast.parse(source)
    body = tree.body[0].body
    totals = collections.Counter()
    timed = []
    for i, stmt in enumerate(body):
        if isinstance(stmt, (ast.Delete, ast.Return)):
            timed.append(stmt)
            continue
        timed += ast.parse("_t0 = _clock()").body + [stmt] + ast.parse(f"_totals[{i}] += _clock() - _t0").body
    tree.body[0].body = timed
    ast.fix_missing_locations(tree)
    ns = dict(namespace, _totals=totals, _clock=time.perf_counter)
    exec(compile(tree, "<timed replay>", "exec"), ns)  # noqa: S102 - the program's own source, with timers
    return ns["replay"], totals, [ast.unparse(s) for s in body]


def per_step(fn, steps, repeats=7, number=20):
    """Microseconds of CPU time a step (less moved by other processes than wall time)."""
    timer = timeit.Timer(fn, timer=time.process_time)
    return min(timer.repeat(number=number, repeat=repeats)) / number / steps * 1e6


def adam_layouts(params, b1=0.9, b2=0.999):
    """``{name: (fn, 1)}``: one Adam update of ``params``' leaves, leaf by leaf as the replay
    does it, and on one flat buffer of all leaves."""
    rng = np.random.default_rng(0)
    leaves = list(params.values())
    g, m0, v0 = ([rng.standard_normal(p.shape) for p in leaves] for _ in range(3))
    v0 = [v * v for v in v0]
    step, eps = np.float64(-1e-3), np.float64(1e-8)

    def update(p, m0, v0, g):  # the replay's operations for one leaf (Adam, then p + u)
        m = g - m0
        np.add(np.multiply(m, 1 - b1, out=m), m0, out=m)
        v = g * g
        np.add(np.multiply(np.subtract(v, v0, out=v), 1 - b2, out=v), v0, out=v)
        u = np.sqrt(v)
        np.multiply(np.divide(m, np.add(u, eps, out=u), out=u), step, out=u)
        return m, v, np.add(p, u, out=u)

    def per_leaf():
        for p, m, v, gg in zip(leaves, m0, v0, g):
            update(p, m, v, gg)

    flat = [np.concatenate(x, axis=None) for x in (leaves, m0, v0)]
    ends = np.cumsum([p.size for p in leaves])
    pieces = [(a, b, p.shape) for a, b, p in zip([0, *ends[:-1]], ends, leaves)]

    def one_buffer():  # p, m, v already flat (as the previous step's outputs would be)
        outs = update(*flat, np.concatenate(g, axis=None))
        return [o[a:b].reshape(shape) for o in outs for a, b, shape in pieces]

    return {"Adam, leaf by leaf": (per_leaf, 1), "Adam, one flat buffer": (one_buffer, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=20, help="how many of the costliest lines to print")
    args = ap.parse_args(argv)

    X, labels, _ = digits_data()
    data = [b for b in batches(X, labels) if len(b[0]) == 64]  # one batch shape: one program
    p0, opt = mlp_init(), sl.optim.adam(1e-3)
    state = opt.init(p0)
    step = sl.jit(adam_step(opt))
    xb, yb, _ = data[0]
    step(p0, state, xb, yb)
    (entry,) = step._programs.values()
    replay = entry.program.compile()
    unfused = copy.copy(entry.program)
    unfused.fuse_leaves_done = True  # horizontal.fuse_leaves leaves it as it is
    n_state = len(pytree.leaves((p0, state)))
    args0 = [np.asarray(a) for a in pytree.leaves((p0, state))]

    def epoch(fn):
        def run():
            a = args0
            for xb_, yb_, _ in data:  # 0-d results (NumPy or Python scalars) as arrays, as sl.jit passes them
                a = [x if type(x) is np.ndarray else np.asarray(x) for x in fn(*a, xb_, yb_)[:n_state]]
        return run

    def jit_epoch():
        p, s = p0, state
        for xb_, yb_, _ in data:
            p, s, _ = step(p, s, xb_, yb_)

    hand_one, hand_all = NumpyMLP(p0, data[:1]), NumpyMLP(p0, data)
    contenders = {
        "slopes replay, one batch": (lambda: replay(*args0, xb, yb), 1),
        "hand NumPy, one batch": (hand_one.epoch, 1),
        "slopes replay, epoch": (epoch(replay), len(data)),
        "slopes replay, leaf by leaf": (epoch(unfused.compile()), len(data)),
        "slopes jit call, epoch": (jit_epoch, len(data)),
        "hand NumPy, epoch": (hand_all.epoch, len(data)),
        **adam_layouts(p0),
    }
    best = {k: float("inf") for k in contenders}
    for _ in range(3):  # interleaved: the machine's load shifts between rounds
        for k, (fn, steps) in contenders.items():
            best[k] = min(best[k], per_step(fn, steps))
    print(f"{len(data)} batches of 64, {len(entry.program.equations)} operations in the step program")
    for k, us in best.items():
        print(f"  {k:28s} {us:7.1f} us a step")
    print(f"  replay fused / leaf by leaf: {best['slopes replay, epoch'] / best['slopes replay, leaf by leaf']:.3f}")

    timed, totals, lines = timed_replay(replay.source, replay.__globals__)
    runs = 50
    for _ in range(runs):
        epoch(timed)()
    steps = runs * len(data)
    print(f"\nreplay lines inside an epoch (us a step; all timed lines: {sum(totals.values()) / steps * 1e6:.1f} us)")
    for i, t in totals.most_common(args.top):
        print(f"  {t / steps * 1e6:6.2f}  {lines[i][:100]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
