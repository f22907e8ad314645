"""What ``sl.ml.fit`` adds around the replayed training step, per epoch of ``speed.py``'s ``mlp`` row.

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/fit_profile.py            # 7 interleaved repeats
    OPENBLAS_NUM_THREADS=1 python benchmarks/fit_profile.py --repeats 15
    OPENBLAS_NUM_THREADS=1 python benchmarks/fit_profile.py --once       # the one-time work, split
    OPENBLAS_NUM_THREADS=1 python benchmarks/fit_profile.py --kernels numba   # the slopes[fast] kernels

Milliseconds of CPU time (``time.process_time``: on a shared machine, the time other
processes take the core is left out) per epoch, minimum and median of interleaved repeats:

- ``numpy``: the hand-written step (``speed.NumpyMLP``), the reference;
- ``user step``: the user's own ``sl.jit`` step (value, gradient, Adam, parameter write);
- ``fit's step``: fit's replayed step (``slopes.ml.train_step.StagedStep``: the same plus the
  gradient's and the new parameters' norms) in a bare loop;
- ``fit, per epoch``: a 21-epoch ``fit`` less a 1-epoch one, over 20: fit's loop without the
  one-time work;
- ``fit as speed.py times it``: a 20-epoch ``fit`` over 20, its two traces (the batch of 64
  rows and the short last one) included; ``once per fit call`` is that one-time work.

``--once`` splits the one-time work of a ``fit`` call (one epoch, called again and again) into
the traces (Python running the loss and the optimizer on traced values), the program
optimizer, the compile (source writing, and running the code that defines the replay), and
the rest (the replays, fit's set-up and its epoch end). A call after the first finds its
programs' optimized equations and code by content (:mod:`slopes.core.program_memo`): its
optimize is the key's cost, and its compile runs the kept code in a new namespace.

On a busy machine even CPU times move by 10%; instruction counts do not. The same split in
instructions: ``benchmarks/epoch_work.py`` (contenders ``numpy``, ``slopes-jit`` and ``fit``,
and their ``-numba`` variants) under Cachegrind, as its docstring says.

Not a test.
"""

from __future__ import annotations

import argparse
import collections
import functools
import importlib
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from speed import FitMLP, NumpyMLP, SlopesMLP, batches, digits_data, mlp_init, mlp_loss, sjit  # noqa: E402

import slopes as sl  # noqa: E402
from slopes.ml.train_step import StagedStep  # noqa: E402


def staged_epoch(p0, data, kernels="numpy"):
    """An epoch of fit's replayed step alone, the parameters and state carried along."""
    opt = sl.optim.adam(1e-3)
    step = StagedStep(lambda p, b: mlp_loss(p, *b), opt, kernels)
    rows = [(xb, yb) for xb, yb, _ in data]
    carried = [{k: v.copy() for k, v in p0.items()}, opt.init(p0)]

    def epoch():
        p, s = carried
        with np.errstate(over="ignore", invalid="ignore"):  # as fit's loop, once around it
            for b in rows:
                *_, p, s = step(p, s, b)
        carried[:] = p, s

    return epoch


def once_split(fit, calls):
    """CPU ms per ``fit`` call (one epoch) of the traces, the program optimizer and the compile,
    timed by wrapping those functions; ``rest`` is the call's remaining time."""
    from slopes.core.program import Program

    jit_module = importlib.import_module("slopes.transforms.jit")
    spent = collections.Counter()
    inside = collections.Counter()  # count the outermost call only (a source writes its lowered copy's source inside it)

    def timed(owner, name, label):
        fn = getattr(owner, name)

        def wrapper(*a, **k):
            if inside[label]:
                return fn(*a, **k)
            inside[label] += 1
            t0 = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                spent[label] += time.process_time() - t0
                inside[label] -= 1

        setattr(owner, name, wrapper)
        return fn

    originals = [(jit_module, "trace_program", timed(jit_module, "trace_program", "trace")),
                 (Program, "optimize", timed(Program, "optimize", "optimize")),
                 (Program, "compile", timed(Program, "compile", "compile"))]
    try:
        fit.run(1)
        spent.clear()
        t0 = time.process_time()
        for _ in range(calls):
            fit.run(1)
        total = time.process_time() - t0
    finally:
        for owner, name, fn in originals:
            setattr(owner, name, fn)
    print(f"one fit call of 1 epoch, CPU ms (mean of {calls}; two programs: 64 rows and the last 5):")
    for label in ("trace", "optimize", "compile"):
        print(f"    {label:10s} {spent[label] / calls * 1e3:7.3f} ms")
    rest = (total - sum(spent.values())) / calls * 1e3
    print(f"    {'rest':10s} {rest:7.3f} ms  (the epoch's replays, fit's own work)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--once", action="store_true", help="split the one-time work of a fit call")
    parser.add_argument("--kernels", choices=("numpy", "numba"), default="numpy",
                        help="the user's step and fit with this kernels= option (numba: the fast extra)")
    args = parser.parse_args()
    X, labels, _ = digits_data()
    data, p0 = batches(X, labels), mlp_init()
    kernels = args.kernels
    fit = FitMLP(p0, data, kernels=kernels)
    if args.once:
        once_split(fit, 10 * args.repeats)
        return
    wrap = functools.partial(sjit, kernels=kernels)
    runs = {  # name: (function, calls per repeat, epochs per call)
        "numpy": (NumpyMLP(p0, data).epoch, 20, 1),
        "user step": (SlopesMLP(p0, data, wrap).epoch, 20, 1),
        "fit's step": (staged_epoch(p0, data, kernels), 20, 1),
        "fit 1 epoch": (lambda: fit.run(1), 5, 1),
        "fit 21 epochs": (lambda: fit.run(21), 1, 21),
    }
    for fn, _, _ in runs.values():
        fn()  # traces and first calls out of the timing
    ms = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, (fn, calls, _) in runs.items():
            t0 = time.process_time()
            for _ in range(calls):
                fn()
            ms[name].append((time.process_time() - t0) / calls * 1e3)
    print(f"MLP 64-128-10, digits, batch 64, Adam, kernels={kernels!r}: CPU ms per epoch "
          f"({args.repeats} interleaved repeats)")
    for stat in (np.min, np.median):
        t = {name: float(stat(v)) for name, v in ms.items()}
        per_epoch = (t["fit 21 epochs"] - t["fit 1 epoch"]) / 20
        once = t["fit 1 epoch"] - per_epoch
        rows = {"numpy": t["numpy"], "user step": t["user step"], "fit's step": t["fit's step"],
                "fit, per epoch": per_epoch, "fit as speed.py times it": per_epoch + once / 20}
        print(f"  {stat.__name__}:")
        for name, v in rows.items():
            print(f"    {name:26s} {v:7.3f} ms  {v / t['numpy']:5.3f}x numpy")
        print(f"    {'once per fit call':26s} {once:7.3f} ms")


if __name__ == "__main__":
    main()
