"""Mini-batch iteration over a data set, for stochastic gradient methods.

When :func:`slopes.minimize` is given ``data=``, the objective is ``fun(x, batch)``
(a mean loss over the batch) and each iteration of ``gd`` / ``momentum`` / ``adam``
/ ... sees one mini-batch. This module supplies the two pieces:

:class:`MiniBatches`
    Splits ``data`` (an array whose first axis indexes samples, or a tuple / list /
    dict of such arrays with a common first length) into batches of ``batch_size``
    (``None`` or ``n``: full batch; ``1``: single sample; else mini-batch; the last
    batch of an epoch may be smaller). With ``shuffle=True`` the order is a fresh
    permutation each epoch drawn from ``np.random.default_rng(seed)``: the same seed
    gives the same sequence of batches.
:class:`BatchedProblem`
    Wraps the counted :class:`~slopes.optim.methods_base.Problem` so that methods call
    ``problem.f(x)`` / ``grad(x)`` / ``value_and_grad(x)`` as usual and get values on the
    *current* batch; the driver calls :meth:`BatchedProblem.advance` once per iteration
    and :meth:`BatchedProblem.full_value_and_grad` on the whole data at epoch ends (for
    the best point) and at the end (the full-data gradient norm decides success).

:func:`run_epochs` is the loop that ties them to a method; :func:`slopes.minimize`
uses it when ``data=`` is given.

Examples
--------
>>> from slopes.optim.stochastic import MiniBatches
>>> mb = MiniBatches(np.arange(5.0), batch_size=2, shuffle=False)
>>> [b.tolist() for b in mb.epoch()]
[[0.0, 1.0], [2.0, 3.0], [4.0]]
>>> mb.n, mb.batches_per_epoch
(5, 3)
"""

from __future__ import annotations

import math
import time

import numpy as np

__all__ = ["MiniBatches", "BatchedProblem", "run_epochs", "take"]



def _first_len(data) -> int:
    if isinstance(data, dict):
        leaves = list(data.values())
    elif isinstance(data, (tuple, list)):
        leaves = list(data)
    else:
        leaves = [data]
    if not leaves:
        raise ValueError("data is empty")
    lens = {int(np.shape(v)[0]) if np.ndim(v) > 0 else -1 for v in leaves}
    if -1 in lens:
        raise ValueError("data: every array needs a first axis indexing the samples (got a scalar)")
    if len(lens) != 1:
        raise ValueError(f"data: arrays have different numbers of samples (first-axis lengths {sorted(lens)})")
    n = lens.pop()
    if n == 0:
        raise ValueError("data has no samples")
    return n


def take(data, idx):
    """Rows ``idx`` of ``data`` (an array, or a tuple / list / dict of arrays).

    Examples
    --------
    >>> from slopes.optim.stochastic import take
    >>> X, y = np.arange(6.0).reshape(3, 2), np.array([1.0, 2.0, 3.0])
    >>> Xb, yb = take((X, y), np.array([2, 0]))
    >>> Xb.tolist(), yb.tolist()
    ([[4.0, 5.0], [0.0, 1.0]], [3.0, 1.0])
    """
    if isinstance(data, dict):
        return {k: np.asarray(v)[idx] for k, v in data.items()}
    if isinstance(data, (tuple, list)):
        return type(data)(np.asarray(v)[idx] for v in data)
    return np.asarray(data)[idx]


class MiniBatches:
    """Batches over the samples of ``data``, reshuffled each epoch from a seeded generator.

    Parameters
    ----------
    data : array or tuple / list / dict of arrays
        Samples along the first axis (all arrays the same length ``n``).
    batch_size : int or None
        ``None`` (or ``>= n``): full batch, the data itself each iteration; ``1``: one
        sample per step; otherwise mini-batches (the last one of an epoch holds the
        remaining ``n % batch_size`` samples).
    shuffle : bool
        Draw a fresh permutation of the samples at the start of each epoch.
    seed : int, Generator or None
        For ``np.random.default_rng(seed)``.

    Examples
    --------
    >>> from slopes.optim.stochastic import MiniBatches
    >>> a = [b.tolist() for b in MiniBatches(np.arange(4), 2, seed=0).epoch()]
    >>> b = [b.tolist() for b in MiniBatches(np.arange(4), 2, seed=0).epoch()]
    >>> a == b, sorted(sum(a, []))
    (True, [0, 1, 2, 3])
    >>> [b.tolist() for b in MiniBatches(np.arange(3), None).epoch()]   # full batch
    [[0, 1, 2]]
    """

    def __init__(self, data, batch_size=None, shuffle: bool = True, seed=None):
        self.data = data
        self.n = _first_len(data)
        if batch_size is None:
            bs = self.n
        else:
            if isinstance(batch_size, bool) or int(batch_size) != batch_size or int(batch_size) < 1:
                raise ValueError(f"batch_size must be a positive integer or None (full batch), got {batch_size!r}")
            bs = min(int(batch_size), self.n)
        self.batch_size = bs
        self.full_batch = bs == self.n
        self.shuffle = bool(shuffle)
        self.rng = np.random.default_rng(seed)
        self.batches_per_epoch = math.ceil(self.n / bs)
        self.epochs_done = 0
        self._arrays = take(data, slice(None))  # every leaf an array once (a list is not converted per batch)
        self._in_order = None  # the unshuffled batches, made once

    def epoch(self):
        """The batches of the next epoch, as a list (full batch: ``[data]`` itself).

        Batches are views: of the data's arrays in their order (the same views every
        epoch), or, shuffled, of one copy of the rows in the epoch's order.
        """
        self.epochs_done += 1
        if self.full_batch:
            return [self.data]
        if not self.shuffle:
            if self._in_order is None:
                self._in_order = self._slices(self._arrays)
            return self._in_order
        return self._slices(take(self._arrays, self.rng.permutation(self.n)))  # one gather an epoch

    def _slices(self, rows):
        """``rows`` cut into consecutive batches (views)."""
        bs = self.batch_size
        return [take(rows, slice(i, i + bs)) for i in range(0, self.n, bs)]

    def __iter__(self):
        """Endless ``(epoch, index_in_epoch, batch)`` triples."""
        while True:
            e = self.epochs_done
            for i, b in enumerate(self.epoch()):
                yield e, i, b


class BatchedProblem:
    """A counted problem whose ``f`` / ``grad`` / ``value_and_grad`` use the current batch.

    Parameters
    ----------
    problem : slopes.optim.methods_base.Problem
        Built with ``fun(x, batch)`` (and ``grad(x, batch)``); evaluations are counted there
        (``nfev``, ``ngev`` read through).
    batches : MiniBatches

    Examples
    --------
    >>> from slopes.optim.methods_base import Problem
    >>> from slopes.optim.stochastic import BatchedProblem, MiniBatches
    >>> p = Problem(lambda x, z: float(np.mean((x[0] - z) ** 2)), lambda x, z: np.array([2 * np.mean(x[0] - z)]))
    >>> bp = BatchedProblem(p, MiniBatches(np.array([1.0, 3.0]), 1, shuffle=False))
    >>> bp.advance(); bp.grad(np.zeros(1)), bp.epoch, bp.end_of_epoch
    (array([-2.]), 0, False)
    >>> bp.advance(); bp.grad(np.zeros(1)), bp.end_of_epoch
    (array([-6.]), True)
    >>> bp.full_value_and_grad(np.zeros(1))
    (5.0, array([-4.]))
    """

    def __init__(self, problem, batches: MiniBatches):
        self.inner = problem
        self.batches = batches
        self._it = iter(batches)
        self.batch = None
        self.epoch = -1
        self.index = -1

    def __getattr__(self, name):  # dtype, projection, L, learning_rate, ... from the inner problem
        if name in ("inner", "batches"):
            raise AttributeError(name)
        return getattr(self.inner, name)

    @property
    def end_of_epoch(self) -> bool:
        """Whether the current batch is the last one of its epoch."""
        return self.index == self.batches.batches_per_epoch - 1

    def advance(self) -> None:
        """Move to the next batch (a new epoch reshuffles)."""
        self.epoch, self.index, self.batch = next(self._it)

    def _need_batch(self):
        if self.batch is None:
            self.advance()
        return self.batch

    def f(self, x) -> float:
        return self.inner.f(x, self._need_batch())

    def grad(self, x):
        return self.inner.grad(x, self._need_batch())

    def value_and_grad(self, x):
        return self.inner.value_and_grad(x, self._need_batch())

    def hess(self, x):
        return self.inner.hess(x, self._need_batch())

    def full_f(self, x) -> float:
        """``fun(x, data)`` on all samples (counted)."""
        return self.inner.f(x, self.batches.data)

    def full_value_and_grad(self, x):
        """``(fun, grad)`` on all samples (counted)."""
        return self.inner.value_and_grad(x, self.batches.data)


def run_epochs(method, bproblem: BatchedProblem, x0, epochs: int, *, gtol: float, callback=None,
               record_x: bool = False, method_name: str = "", maxiter: int | None = None):
    """Run ``method`` for ``epochs`` passes over the data, one batch per iteration.

    Each iteration moves to the next batch and takes one ``method.step`` (which evaluates
    on that batch through ``bproblem``); at each epoch end the full-data objective is
    evaluated and the lowest one kept as the best point. At the end the full-data
    gradient at the final iterate decides success: ``max|grad| <= gtol``. Divergence
    (non-finite ``x`` or batch ``f``, a batch ``f > f0 + 1e6 (1 + |f0|)`` with ``f0`` the
    full-data value at ``x0``, or ``max|x| > 1e12 (1 + max|x0|)``) stops the run with
    ``success=False`` (status 2).

    Parameters
    ----------
    method : Method
        Built on ``bproblem`` (e.g. ``METHODS["adam"](bproblem, {})``).
    bproblem : BatchedProblem
    x0 : ndarray
    epochs : int
    gtol : float
    callback : callable, optional
        ``callback(result)`` after each iteration (a :class:`~slopes.optim.result.Result`
        view); returning True stops the run (status 3).
    record_x : bool
        Record the iterates in ``history.x``.
    method_name : str
        Stored in ``Result.method``.
    maxiter : int, optional
        Stop after this many iterations (batches) even if fewer than ``epochs`` passes are done.

    Returns
    -------
    Result
        ``fun``, ``grad`` and ``grad_norm`` are full-data values at ``x``; ``history`` has
        per-iteration *batch* values (``f``, ``grad_norm`` = ``max|g|`` of the batch
        gradient) and row 0 the start; ``fun_best`` the lowest full-data value seen.

    Examples
    --------
    Least squares ``mean((X w - y)^2)`` with a hand-written one-line SGD method:

    >>> from slopes.optim.methods_base import Method, Problem, StepInfo
    >>> from slopes.optim.stochastic import BatchedProblem, MiniBatches, run_epochs
    >>> class SGD(Method):
    ...     name, options = "sgd", {}
    ...     def init(self, x, f, g): return (x, g)
    ...     def step(self, s, k):
    ...         x = s[0] - 0.1 * s[1]; f, g = self.problem.value_and_grad(x)
    ...         return StepInfo(x, f, g, 0.0, 0.1, (x, g))
    >>> X = np.random.default_rng(0).normal(size=(40, 2)); y = X @ np.array([1.0, -2.0])
    >>> loss = lambda w, b: float(np.mean((b[0] @ w - b[1]) ** 2))
    >>> grad = lambda w, b: 2 * b[0].T @ (b[0] @ w - b[1]) / len(b[1])
    >>> bp = BatchedProblem(Problem(loss, grad), MiniBatches((X, y), 8, seed=1))
    >>> r = run_epochs(SGD(bp, {}), bp, np.zeros(2), 60, gtol=1e-6)
    >>> r.success, np.round(r.x, 6), r.nit
    (True, array([ 1., -2.]), 300)
    """
    from .methods_base import DivergenceWatch, Method
    from .result import History, Result

    t0 = time.perf_counter()
    x = np.array(x0, dtype=bproblem.dtype, copy=True)
    hist = History(record_x=record_x)

    def gnorm(g):
        return float(np.max(np.abs(g))) if g is not None and np.size(g) else 0.0

    def record(f, g, step_size, lr):
        hist.append(x=x, f=f, grad_norm=gnorm(g), step_size=step_size, lr=lr, nfev=bproblem.nfev,
                    ngev=bproblem.ngev, nhev=bproblem.nhev)

    f_full, g_full = bproblem.full_value_and_grad(x)
    f0 = float(f_full)
    watch = DivergenceWatch(x, f0)
    best = [x.copy(), f_full]
    nit = 0

    def make(success, status, message, fun, grad):
        return Result(x=x.copy(), fun=float(fun), grad=None if grad is None else np.array(grad, copy=True),
                      grad_norm=gnorm(grad) if grad is not None else math.nan, nit=nit, nfev=bproblem.nfev,
                      ngev=bproblem.ngev, nhev=bproblem.nhev, success=bool(success), status=status,
                      message=message, elapsed=time.perf_counter() - t0, x_best=best[0].copy(),
                      fun_best=float(best[1]), history=hist, method=method_name)

    if not np.isfinite(f_full):
        record(f_full, g_full, math.nan, math.nan)
        return make(False, 2, f"diverged: f(x0) = {f_full} on the full data", f_full, g_full)
    bproblem.advance()
    f, g = bproblem.value_and_grad(x)
    record(f, g, math.nan, math.nan)
    status, message = None, ""
    try:
        state = method.init(x, f, g)
        if int(epochs) < 1:
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
        total = int(epochs) * bproblem.batches.batches_per_epoch
        if maxiter is not None:
            total = min(total, int(maxiter))
        for k in range(total):
            if k > 0:
                bproblem.advance()
            info = method.step(state, k)
            if info.extra.get("failed"):
                status, message = 4, f"method failure at iteration {k + 1}: {info.extra['failed']}"
                break
            xn = np.asarray(info.x, dtype=bproblem.dtype)
            fn = float(info.f)
            why = watch.reason(xn, fn, what="batch f")
            if why is not None:
                status = 2
                message = (f"diverged: {why} at iteration {k + 1} (epoch {bproblem.epoch + 1}); try a smaller "
                           f"learning_rate. The best point seen is in x_best (f = {best[1]:.6g})")
                break
            x, state, nit = xn, info.state, k + 1
            record(float(info.f), info.g, float(info.step_size), float(info.lr))
            if bproblem.end_of_epoch:
                fe = bproblem.full_f(x)
                if fe < best[1]:
                    best[0], best[1] = x.copy(), fe
            if callback is not None and callback(make(False, 3, "running", info.f, info.g)):
                status, message = 3, f"stopped by callback at iteration {nit}"
                break
    except KeyboardInterrupt:
        status, message = 5, f"interrupted at iteration {nit}; the best point seen is in x_best"
    fun, grad = bproblem.full_value_and_grad(x)
    # the method's own measure: max|grad|, or the projected-gradient residual on a constraint set
    gn = float(method.optimality(x, fun, grad))
    what = "max|grad|" if type(method).optimality is Method.optimality else "optimality measure"
    if np.isfinite(fun) and fun < best[1]:
        best[0], best[1] = x.copy(), fun
    if status is not None:
        return make(False, status, message, fun, grad)
    if np.isfinite(gn) and gn <= gtol:
        return make(True, 0, f"converged: full-data {what} {gn:.3g} <= gtol {gtol:.3g} after {nit} "
                             f"iteration(s)", fun, grad)
    return make(False, 1, f"{nit} iteration(s) done ({epochs} epoch(s) asked); full-data {what} {gn:.3g} > "
                          f"gtol {gtol:.3g}", fun, grad)

