"""Independent runs over any executor: one spawned seed per run, results in submission order.

:func:`slopes.optim.multistart`, :func:`slopes.ml.sweep` and
:func:`slopes.sampling.hmc_chains` all run ``n`` independent tasks. Each task's
randomness comes from its own child of ``np.random.SeedSequence(seed).spawn(n)``,
drawn before anything is dispatched, and results are collected in task order, so
the answer does not depend on which executor ran the tasks, or in which order they
finished: serial and parallel runs are bit-identical.

An executor is anything with ``submit(fn, *args) -> future`` whose future has
``result()``: :class:`concurrent.futures.ThreadPoolExecutor` and
:class:`~concurrent.futures.ProcessPoolExecutor`, loky's
``get_reusable_executor()``, Dask's ``client.get_executor()`` (or the ``Client``
itself). A process pool pickles each task with plain :mod:`pickle`; when
``cloudpickle`` is installed, the task function is sent by value with it, so
lambdas and closures reach the workers too. Without it, use module-level functions.

This module sits below everything else in slopes: it imports nothing of it.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["check_executor", "run_tasks", "spawn_seeds"]

_EXAMPLES = (
    "concurrent.futures.ThreadPoolExecutor(2), ProcessPoolExecutor(2), loky's "
    "get_reusable_executor(), or Dask's client.get_executor()"
)


def spawn_seeds(seed, n: int, who: str = "spawn_seeds()") -> list[np.random.SeedSequence]:
    """The ``n`` independent child seeds of ``seed``: ``np.random.SeedSequence(seed).spawn(n)``.

    Parameters
    ----------
    seed : None, int, sequence of int, or np.random.SeedSequence
        The root; None draws fresh entropy (the runs then differ between calls, but
        serial and parallel runs of one call still agree).
    n : int
        Number of children.
    who : str
        The caller, for error messages.

    Returns
    -------
    list of np.random.SeedSequence
        Child ``i`` seeds run ``i``; ``np.random.default_rng(child)`` makes its generator.

    Examples
    --------
    >>> a = spawn_seeds(7, 3)
    >>> b = np.random.SeedSequence(7).spawn(3)
    >>> [int(s.generate_state(1)[0]) for s in a] == [int(s.generate_state(1)[0]) for s in b]
    True
    """
    if isinstance(seed, np.random.SeedSequence):
        # a copy: spawning from the caller's own object would advance it, and the next
        # call with the same seed would give other children
        root = np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key)
    elif seed is None or isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if seed is not None and seed < 0:
            raise ValueError(f"{who}: seed must be a non-negative integer (got {seed})")
        root = np.random.SeedSequence(seed)
    else:
        raise TypeError(
            f"{who}: seed must be None, a non-negative int or a np.random.SeedSequence (got "
            f"{type(seed).__name__}); each run's seed is spawned from it"
        )
    return root.spawn(int(n))


def check_executor(executor, who: str):
    """``executor`` if it can run tasks (None means serial), else a TypeError naming what works.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(1) as pool:
    ...     check_executor(pool, "f()") is pool
    True
    >>> check_executor("threads", "f()")
    Traceback (most recent call last):
    ...
    TypeError: f(): executor must have a submit(fn, *args) method, e.g. ...
    """
    if executor is None:
        return None
    if isinstance(executor, type):
        raise TypeError(f"{who}: executor is the class {executor.__name__}; pass an instance, e.g. {executor.__name__}(2)")
    if not callable(getattr(executor, "submit", None)):
        raise TypeError(
            f"{who}: executor must have a submit(fn, *args) method, e.g. {_EXAMPLES}; got "
            f"{type(executor).__name__} (use executor=None to run serially)"
        )
    return executor


class _ByValue:
    """A task function that pickles by value with cloudpickle (serialized once, then reused).

    A ProcessPoolExecutor pickles with plain pickle, which sends functions by name and so
    refuses lambdas and closures; this wrapper sends the function itself.
    """

    def __init__(self, fn):
        self.fn = fn
        self._blob = None

    def __call__(self, *args):
        return self.fn(*args)

    def __reduce__(self):
        import pickle

        import cloudpickle

        if self._blob is None:
            self._blob = cloudpickle.dumps(self.fn)
        return pickle.loads, (self._blob,)


def _portable(fn):
    try:
        import cloudpickle  # noqa: F401
    except ImportError:  # plain pickle: module-level functions only
        return fn
    return _ByValue(fn)


def run_tasks(fn, tasks, executor=None, who: str = "run_tasks()") -> list:
    """``[fn(*args) for args in tasks]``, on ``executor`` when one is given, in task order.

    Parameters
    ----------
    fn : callable
        The task. What every call shares belongs in it (e.g. a ``functools.partial``):
        with a process pool it is serialized once, by value when cloudpickle is
        installed (see the module notes).
    tasks : iterable of tuple
        The positional arguments of each call (plain data: they are pickled with the
        executor's own pickler).
    executor : concurrent.futures.Executor-like or None
        None runs the calls here, one after another.
    who : str
        The caller, for error messages.

    Returns
    -------
    list
        The results, in the order of ``tasks`` whatever order they finished in. The
        first task that raised re-raises here, and the tasks not started yet are cancelled.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(2) as pool:
    ...     run_tasks(pow, [(2, 3), (3, 2), (10, 0)], pool)
    [8, 9, 1]
    """
    executor = check_executor(executor, who)
    tasks = [tuple(t) for t in tasks]
    if executor is None:
        return [fn(*args) for args in tasks]
    sent = _portable(fn)
    futures = [executor.submit(sent, *args) for args in tasks]
    try:
        return [f.result() for f in futures]
    except BaseException as e:
        for f in futures:
            f.cancel()
        if _is_pickling_error(e):
            raise TypeError(
                f"{who}: a task could not be sent to the executor's workers ({e}). A process pool "
                "pickles with plain pickle: define the function at module level, or install "
                "cloudpickle, or use loky's or Dask's executor (they pickle by value)"
            ) from e
        raise


def _is_pickling_error(e: BaseException) -> bool:
    import pickle

    return isinstance(e, pickle.PicklingError) or (
        isinstance(e, AttributeError | TypeError) and "pickle" in str(e).lower()
    )
