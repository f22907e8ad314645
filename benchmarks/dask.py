"""Full-batch logistic regression on Dask: slopes' ChunkedObjective against dask-glm and dask-ml.

Usage::

    python benchmarks/dask.py                  # 2,000,000 x 50 float64, 5 alternating repeats
    python benchmarks/dask.py --n 200000       # a smaller problem to try things out
    python benchmarks/dask.py --parts 20,memory,100,ooc   # without dask-ml

The data are generated on the workers (``dask.array.random``) and persisted; they never
pass through this process. Three set-ups on a 2-worker ``LocalCluster`` (one thread
each): the data in 20 row chunks, in 100 row chunks, and out of core (100 chunks,
workers' memory limits summing to 0.8 of the data, so persisting spills to disk).

slopes against dask-glm's ``lbfgs``: both sides run scipy's ``fmin_l_bfgs_b`` on dask-glm's
logistic loss (the sum over rows, no penalty) from x = 0 with the same ``pgtol`` and
``maxiter``; dask-glm evaluates it with dask.array expressions (``normalize=False``, its
fastest setting), slopes with ``ChunkedObjective(..., reduction="sum")``: one task per
chunk computing the chunk's jitted value and gradient. Every point either side
evaluates is recorded and the two sequences are asserted identical (same length, every
point equal to 1e-8 relative). Repeats alternate dask-glm, slopes, dask-glm, ...; each
fit builds its objective afresh (the per-chunk functions are shipped and traced inside
the timed fit). Reported: median and range of the fit times, and the ratio of medians.

Beside them: the same slopes fit on the whole data in this one process (NumPy arrays,
one chunk, no cluster), and dask-ml's ``LogisticRegression()`` with its defaults
(ADMM, C=1, intercept) against ``sl.minimize(method="lbfgs", data=(X, y))`` on the same
penalized objective (coefficients compared, not iterates: the algorithms differ).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time

# run as a script, this file's folder comes first on sys.path, where its name hides the dask package
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import numpy as np
import scipy.optimize

import slopes as sl
import slopes.numpy as snp
from slopes.distributed import ChunkedObjective

TARGETS = {"20 chunks": 1.5, "100 chunks": 2.0, "out of core": 2.5}
DASK_ML_TARGET = 4.0


def logistic_sum(w, batch):
    """dask-glm's ``Logistic.pointwise_loss``, written with slopes.numpy."""
    X, y = batch
    z = X @ w
    return snp.sum(z + snp.log1p(snp.exp(-z))) - snp.dot(y, z)


def penalized_mean(theta, batch, n):
    """dask-ml's default objective (l2 penalty C=1 on every coefficient, intercept last), over n."""
    X, y = batch
    z = X @ theta[:-1] + theta[-1]
    return snp.mean(snp.logaddexp(0.0, z) - y * z) + 0.5 * snp.sum(theta * theta) / n


class Recorder:
    """scipy's fmin_l_bfgs_b, keeping every point it evaluates."""

    def __init__(self):
        self.points = []

    def __call__(self, func, x0, **kwargs):
        def recorded(x, *args):
            self.points.append(np.array(x, copy=True))
            return func(x, *args)

        return scipy.optimize.fmin_l_bfgs_b(recorded, x0, **kwargs)


def make_data(n, d, chunks, seed=0):
    import dask.array as da

    rows = math.ceil(n / chunks)
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((n, d), chunks=(rows, d))
    w = np.linspace(-1.0, 1.0, d) * 2.0 / math.sqrt(d)
    p = 1.0 / (1.0 + da.exp(-(X @ w)))
    y = (rng.random(n, chunks=(rows,)) < p).astype(np.float64)
    return X, y


def fit_dask_glm(X, y, tol, maxiter):
    import dask_glm.algorithms as algorithms

    rec = Recorder()
    real, algorithms.fmin_l_bfgs_b = algorithms.fmin_l_bfgs_b, rec
    try:
        beta = algorithms.lbfgs(X, y, tol=tol, max_iter=maxiter, normalize=False)
    finally:
        algorithms.fmin_l_bfgs_b = real
    return beta, rec.points


def fit_slopes(X, y, tol, maxiter, client=None):
    objective = ChunkedObjective(logistic_sum, (X, y), reduction="sum", client=client)
    rec = Recorder()
    beta, _, _ = rec(objective.value_and_grad, np.zeros(X.shape[1]), pgtol=tol, maxiter=maxiter, iprint=-1)
    return beta, rec.points


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def same_points(a, b):
    if len(a) != len(b):
        raise AssertionError(f"the two sides evaluated {len(a)} and {len(b)} points")
    worst = max(float(np.max(np.abs(p - q) / (1.0 + np.abs(q)))) for p, q in zip(a, b))
    if worst > 1e-8:
        raise AssertionError(f"iterates differ by {worst:.3g} (relative)")
    return worst


def summary(times):
    return f"{statistics.median(times):7.2f} s [{min(times):.2f}-{max(times):.2f}]"


def compare(name, X, y, args, client):
    """Alternating repeats of dask-glm and slopes on persisted data: (ratio of medians, slopes' median)."""
    fit_dask_glm(X, y, args.tol, args.maxiter)  # warm-up: imports on the workers, caches
    fit_slopes(X, y, args.tol, args.maxiter)
    glm, ours, worst, evals = [], [], 0.0, 0
    for _ in range(args.repeats):
        t, (_, glm_points) = timed(fit_dask_glm, X, y, args.tol, args.maxiter)
        glm.append(t)
        t, (_, our_points) = timed(fit_slopes, X, y, args.tol, args.maxiter)
        ours.append(t)
        worst = max(worst, same_points(our_points, glm_points))
        evals = len(our_points)
    ratio = statistics.median(glm) / statistics.median(ours)
    pairs = [g / s for g, s in zip(glm, ours)]
    print(f"{name:12s} dask-glm {summary(glm)}  slopes {summary(ours)}  ratio {ratio:4.2f}x "
          f"[{min(pairs):.2f}-{max(pairs):.2f}]  ({evals} evaluations, iterates equal to {worst:.1e})",
          flush=True)
    return ratio, statistics.median(ours)


def cluster(memory_limit=None):
    import dask
    from distributed import Client, LocalCluster

    if memory_limit is not None:  # spill to disk instead of pausing the workers
        dask.config.set({"distributed.worker.memory.target": 0.5, "distributed.worker.memory.spill": 0.6,
                         "distributed.worker.memory.pause": False, "distributed.worker.memory.terminate": False})
    lc = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      memory_limit=memory_limit or "auto", silence_logs=40)
    return lc, Client(lc)


def persisted(client, n, d, chunks):
    from distributed import wait

    X, y = client.persist(list(make_data(n, d, chunks)))
    wait([X, y])
    return X, y


def in_memory(args, X, y):
    """The same slopes fit on NumPy arrays in this process; returns the median time."""
    Xn, yn = X.compute(), y.compute()
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        objective = ChunkedObjective(logistic_sum, (Xn, yn), reduction="sum")
        Recorder()(objective.value_and_grad, np.zeros(Xn.shape[1]), pgtol=args.tol, maxiter=args.maxiter,
                   iprint=-1)
        times.append(time.perf_counter() - start)
    print(f"{'in memory':12s} slopes, one process, NumPy arrays: {summary(times)}", flush=True)
    return statistics.median(times)


def dask_ml_row(args, X, y):
    from dask_ml.linear_model import LogisticRegression

    n = X.shape[0]
    LogisticRegression(max_iter=1).fit(X[:1000], y[:1000])  # warm-up: imports on the workers
    ml, ours, gap = [], [], 0.0
    for _ in range(args.ml_repeats):
        t, model = timed(LogisticRegression().fit, X, y)
        ml.append(t)
        t, r = timed(sl.minimize, lambda th, b: penalized_mean(th, b, n), np.zeros(X.shape[1] + 1),
                     method="lbfgs", data=(X, y))
        ours.append(t)
        theirs = np.append(model.coef_, model.intercept_)
        gap = max(gap, float(np.max(np.abs(r.x - theirs))))
    ratio = statistics.median(ml) / statistics.median(ours)
    print(f"{'dask-ml':12s} LogisticRegression() {summary(ml)}  slopes lbfgs {summary(ours)}  ratio {ratio:4.2f}x "
          f"(max coefficient gap {gap:.1e}; slopes {r.nit} iterations, {r.passes} passes)", flush=True)
    return ratio


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2_000_000)
    ap.add_argument("--d", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--ml-repeats", type=int, default=1)
    ap.add_argument("--tol", type=float, default=1e-4, help="pgtol of both L-BFGS-B runs (dask-glm's default)")
    ap.add_argument("--maxiter", type=int, default=100, help="maxiter of both (dask-glm's default)")
    ap.add_argument("--parts", default="20,memory,ml,100,ooc",
                    help="comma-separated: 20 (chunks), memory (one process), ml (dask-ml), 100 (chunks), ooc")
    args = ap.parse_args(argv)
    parts = set(args.parts.split(","))
    n, d = args.n, args.d
    gb = n * d * 8 / 1e9
    print(f"logistic regression, {n:,} x {d} float64 ({gb:.2f} GB), 2 workers x 1 thread, "
          f"{args.repeats} alternating repeats; python {sys.version.split()[0]}", flush=True)
    ratios = {}
    lc, client = cluster()
    try:
        X, y = persisted(client, n, d, 20)
        if "20" in parts:
            ratios["20 chunks"], on_cluster = compare("20 chunks", X, y, args, client)
            if "memory" in parts:
                single = in_memory(args, X, y)
                print(f"{'':12s} in memory, one process takes {single / on_cluster:.2f}x the time of "
                      "slopes on the 2-worker cluster (20 chunks)", flush=True)
        if "ml" in parts:
            ratios["dask-ml"] = dask_ml_row(args, X, y)
        del X, y
        if "100" in parts:
            X, y = persisted(client, n, d, 100)
            ratios["100 chunks"], _ = compare("100 chunks", X, y, args, client)
            del X, y
    finally:
        client.close()
        lc.close()
    if "ooc" in parts:
        lc, client = cluster(memory_limit=int(0.4 * n * d * 8))
        try:
            X, y = persisted(client, n, d, 100)
            ratios["out of core"], _ = compare("out of core", X, y, args, client)
        finally:
            client.close()
            lc.close()
    print("\ntargets (issue 17):")
    for name, want in list(TARGETS.items()) + [("dask-ml", DASK_ML_TARGET)]:
        if name in ratios:
            got = ratios[name]
            print(f"  {name:12s} >= {want:.1f}x: {got:.2f}x  {'PASS' if got >= want else 'MISS'}")


if __name__ == "__main__":
    main()
