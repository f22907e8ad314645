"""``multistart``: one :func:`~slopes.optim.minimize` run per starting point, on any executor.

A nonconvex loss has many basins; running the same method from many starts and keeping
the lowest value is the simplest global strategy, and the runs are independent, so they
spread over threads, processes or a Dask cluster (see :mod:`slopes.executors`).
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
from collections.abc import Mapping

import numpy as np

from ..core.pytree import flatten
from ..core.ravel import ravel_pytree
from ..executors import run_tasks, spawn_seeds
from .driver import minimize
from .result import Result

__all__ = ["multistart", "MultistartResult"]


@dataclasses.dataclass
class MultistartResult:
    """What :func:`multistart` returns.

    Attributes
    ----------
    results : list of Result
        One per start, in the order of the starts.
    best : Result
        The run with the lowest ``fun`` (NaN counts as worst; ties go to the earlier start).
    best_index : int
        Its position in ``results``.
    x0s : list
        The starting points (drawn ones included).
    seeds : list of np.random.SeedSequence
        The seed each run received (children of ``SeedSequence(seed)``).

    ``x`` and ``fun`` read the best run's; ``funs`` is every run's final value.
    """

    results: list
    best: Result
    best_index: int
    x0s: list
    seeds: list

    @property
    def x(self):
        return self.best.x

    @property
    def fun(self) -> float:
        return self.best.fun

    @property
    def funs(self) -> np.ndarray:
        return np.array([r.fun for r in self.results], dtype=np.float64)

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self):
        return iter(self.results)

    def __getitem__(self, i) -> Result:
        return self.results[i]

    def __repr__(self) -> str:
        n_ok = sum(r.success for r in self.results)
        return (f"MultistartResult(runs={len(self)}, succeeded={n_ok}, best_index={self.best_index}, "
                f"fun={self.fun:.6g})")


def multistart(fun, x0s, method: str = "lbfgs", *, executor=None, seed=None, sampler=None,
               **minimize_options) -> MultistartResult:
    """Minimize ``fun`` from each start in ``x0s``, serially or on an executor, and keep the best.

    Parameters
    ----------
    fun : callable
        As for :func:`~slopes.optim.minimize`. With a ``ProcessPoolExecutor`` it is pickled:
        a module-level function always works, a lambda or closure only when ``cloudpickle``
        is installed (loky's and Dask's executors always pickle by value).
    x0s : array_like, list of pytrees, or int
        The starts: an array of shape ``(k, n)`` (one row per start); a list of ``k``
        pytrees of one structure (each run minimizes over the raveled tree and its
        ``x``, ``x_best`` and ``grad`` come back as trees); or an int ``k`` to draw ``k``
        starts with ``sampler``.
    method : str
        Any method of :func:`~slopes.optim.minimize`.
    executor : concurrent.futures.Executor or None
        Where the runs go (``submit``): a thread or process pool, loky's executor, Dask's
        ``client.get_executor()``; None runs them here one after another.
    seed : None, int or np.random.SeedSequence
        Root of the runs' seeds: run ``i`` gets ``SeedSequence(seed).spawn(k + 1)[i]`` as
        ``minimize(seed=...)`` (it shuffles the mini-batches of stochastic methods); the
        last child draws the starts when ``x0s`` is an int. The seeds are fixed before
        any run is dispatched, so every executor gives bit-identical results.
    sampler : callable or box, optional
        For an int ``x0s``: ``sampler(rng) -> x0`` called ``k`` times with one
        ``np.random.Generator``, or a finite box (a list of ``(min, max)`` pairs, one per
        coordinate, or ``scipy.optimize.Bounds``) to draw uniformly in. When omitted,
        the ``bounds=`` given for the method is the box.
    **minimize_options
        Passed to every :func:`~slopes.optim.minimize` call (``maxiter``, ``gtol``,
        ``learning_rate``, ``data``, ``bounds``, ...).

    Returns
    -------
    MultistartResult
        ``results`` in start order, ``best``, ``best_index``, ``x``, ``fun``, ``x0s``, ``seeds``.

    Raises
    ------
    ValueError
        No starts, a 1-D array of starts, pytrees of different structures, or an int
        ``x0s`` without a sampler or finite box.
    TypeError
        An executor without ``submit``, or a sampler that is neither callable nor a box.

    Examples
    --------
    The double well ``(x^2 - 1)^2 + 0.3 x`` has its lower minimum near ``x = -1``:

    >>> import slopes as sl
    >>> f = lambda x: (x[0] ** 2 - 1.0) ** 2 + 0.3 * x[0]
    >>> r = sl.optim.multistart(f, [[1.5], [-0.5], [0.8]], method="bfgs")
    >>> r.best_index, round(float(r.x[0]), 3), r.funs.round(3).tolist()
    (1, -1.036, [0.294, -0.305, 0.294])
    >>> r = sl.optim.multistart(f, 8, sampler=[(-2, 2)], seed=0)
    >>> round(r.fun, 3), len(r)
    (-0.305, 8)
    """
    who = "multistart()"
    starts, k = _starts(x0s, sampler, minimize_options.get("bounds"), who)
    seeds = spawn_seeds(seed, k + 1, who)
    if starts is None:
        starts = _draw(sampler if sampler is not None else minimize_options.get("bounds"), k,
                       np.random.default_rng(seeds[k]), who)
    # what all runs share travels once, inside the task function; each task is (start, seed)
    task = functools.partial(_run_one, fun, method, minimize_options)
    results = run_tasks(task, zip(starts, seeds[:k]), executor, who)
    funs = [r.fun for r in results]
    best = min(range(k), key=lambda i: (np.isnan(funs[i]), funs[i], i))
    return MultistartResult(results=results, best=results[best], best_index=best, x0s=starts,
                            seeds=seeds[:k])


def _starts(x0s, sampler, bounds, who):
    """``(starts, k)``; ``starts`` is None when ``k`` starts are still to be drawn."""
    if isinstance(x0s, numbers.Integral) and not isinstance(x0s, bool):
        if x0s < 1:
            raise ValueError(f"{who}: x0s = {x0s}: need at least one start")
        if sampler is None and bounds is None:
            raise ValueError(f"{who}: x0s = {x0s} is a number of starts; give sampler=(a function "
                             "rng -> x0, or a box of (min, max) pairs) to draw them from")
        return None, int(x0s)
    if sampler is not None:
        raise ValueError(f"{who}: sampler= draws starts only when x0s is their number (an int)")
    if isinstance(x0s, np.ndarray) or not isinstance(x0s, list | tuple):
        starts = list(np.atleast_1d(np.asarray(x0s)))
    else:
        starts = list(x0s)
    if not starts:
        raise ValueError(f"{who}: x0s is empty; give at least one start")
    if _rows(starts):
        return list(np.asarray(starts, dtype=np.float64)), len(starts)
    if all(np.ndim(s) == 0 and not isinstance(s, Mapping) for s in starts):
        raise ValueError(
            f"{who}: x0s must hold one start per row, shape (k, n); got {len(starts)} numbers. "
            "For starts of one coordinate use np.reshape(x0s, (-1, 1)); for one start use sl.minimize"
        )
    if any(isinstance(s, Mapping | list | tuple) for s in starts):
        structures = {repr(flatten(s)[1]) for s in starts}
        if len(structures) > 1:
            raise ValueError(f"{who}: the starts are pytrees of {len(structures)} different "
                             "structures; every start needs the same keys and leaf shapes")
    return starts, len(starts)


def _rows(starts) -> bool:
    """True when the starts are rows of numbers (``[[1, 2], [3, 4]]``), not pytrees."""
    try:
        arr = np.asarray(starts, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return arr.ndim >= 2


def _draw(sampler, k, rng, who):
    if callable(sampler):
        return [np.asarray(sampler(rng)) for _ in range(k)]
    from .bounds import read_bounds

    if hasattr(sampler, "lb") and hasattr(sampler, "ub"):
        shape = np.broadcast(np.asarray(sampler.lb), np.asarray(sampler.ub)).shape
    elif isinstance(sampler, list | tuple | np.ndarray) and all(np.ndim(p) == 1 for p in sampler):
        shape = (len(sampler),)
    else:
        raise TypeError(f"{who}: sampler must be a function rng -> x0, a list of (min, max) pairs "
                        f"(one per coordinate) or scipy.optimize.Bounds; got {sampler!r}")
    lower, upper = read_bounds(sampler, shape)
    if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
        raise ValueError(f"{who}: starts are drawn uniformly in the box, so every bound must be "
                         f"finite (got lower={lower}, upper={upper})")
    return [rng.uniform(lower, upper) for _ in range(k)]


class _OnFlat:
    """``fun`` of a pytree as a function of its raveled vector (``minimize`` takes vectors)."""

    def __init__(self, fun, unravel):
        self.fun, self.unravel = fun, unravel

    def __call__(self, v, *args):
        return self.fun(self.unravel(v), *args)


def _run_one(fun, method, options, x0, seed) -> Result:
    """One run, on a worker: pytrees are raveled here, so no closure crosses to the worker."""
    if not isinstance(x0, Mapping | list | tuple):
        return minimize(fun, x0, method, seed=seed, **options)
    flat, unravel = ravel_pytree(x0)
    r = minimize(_OnFlat(fun, unravel), flat, method, seed=seed, **options)
    return dataclasses.replace(r, x=unravel(r.x), x_best=unravel(r.x_best),
                               grad=None if r.grad is None else unravel(r.grad))
