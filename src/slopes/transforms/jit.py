"""``jit``: trace a function once per input signature, then replay the program."""

from __future__ import annotations

import functools
import itertools
import threading

import numpy as np

from ..core import pytree
from ..core.kernels import numba_available
from ..core.staging import TracingError, trace_program
from ..core.trace import Tracer
from ._callpath import MISS, guarded_entry, returns_replay, tree_builder
from ._common import check_callable
from .program_view import TracedProgram

__all__ = ["jit", "Jitted", "TracingError"]

_DYNAMIC = (np.ndarray, np.generic, float, complex)

#: Calls of one program by the fast path after which its checked call path (``enter``, see
#: :mod:`._callpath`) is compiled: compiling costs about 40 us a leaf of the arguments and saves
#: about 0.25 us a leaf per call, so it pays for itself from about 160 calls (a training
#: loop), and a program called a few times (one ``sl.minimize``) never pays for it.
CHECKED_AFTER = 128


def jit(fun, static_argnums=(), *, cache_size=64, kernels="numpy"):
    """Make a function that runs ``fun`` as a traced, optimized, compiled program.

    The first call with a new *signature* (the pytree structure of the
    arguments, each array's shape and dtype, and the values of static
    arguments) runs ``fun`` once while recording every primitive call (a call
    on large arrays is computed only if a value is read while tracing); the
    recorded program is optimized (identities such as ``x * 1`` and zero or
    identity cotangents dropped, common subexpressions merged, work no output
    needs removed; anything computed from constants alone is folded while
    tracing) and compiled into one Python function, which computes the first
    call's results. Later calls with the same signature replay that function:
    the cost of NumPy and little more, and the same bits as the first call (a
    program called many times, such as a training loop's step, checks its
    arguments and builds its outputs in one function compiled for them).
    Composes with every transform: ``jit(grad(f))``, ``jit(hessian(f))``,
    ``jit(value_and_grad(f))``, ``jit(derivative(g, order=5))`` record the
    derivative's own program. Put ``jit`` outermost for speed; ``grad(jit(f))``
    and ``jit`` under ``vmap`` are correct but run ``fun`` unstaged.

    Parameters
    ----------
    fun : callable
        A function of arrays (or pytrees of arrays) written with
        :mod:`slopes.numpy`.
    static_argnums : int or tuple of ints
        Positional arguments that are not arrays to trace but fixed values of
        the program (sizes, flags, modes); each new value traces again. Python
        ``int``, ``bool``, ``str`` and ``None`` leaves are always static;
        NumPy arrays and scalars and Python floats are traced.
    cache_size : int
        How many programs (signatures) to keep, 64 by default; the least
        recently used is dropped beyond it.
    kernels : {"numpy", "numba"}
        How elementwise work runs. ``"numpy"`` (the default): one NumPy call
        per operation. ``"numba"`` (needs the ``slopes[fast]`` extra): each
        chain of elementwise operations on large arrays becomes one compiled
        loop, kept on disk (:mod:`slopes.core.kernels`); it compiles once
        (0.3-0.8 s per kernel; a new process loading it from disk spends
        0.2-0.7 s, mostly Numba's start-up) and pays for long arithmetic
        chains, not for chains of ``exp``/``log``, which NumPy vectorizes
        better. A row loop of one number per row (a GLM's gradient, read
        between ``X @ w`` and ``r @ X``) becomes one kernel reading each
        row of ``X`` once (:mod:`slopes.core.row_kernels`). A ReLU's
        ``where(x > 0, ...)`` is one kernel in each pass, and sums, softmaxes
        and logsumexps over a short last axis (a classifier's 10 classes) run
        their row reductions as compiled loops (:mod:`slopes.core.narrow_rows`).

    Returns
    -------
    Jitted
        Callable like ``fun``; ``.trace(*args)`` returns the optimized
        :class:`~slopes.core.program.Program` (print it to read it),
        ``.cache_info()`` the hits, misses and size, ``.clear_cache()``
        forgets all programs.

    Raises
    ------
    TracingError
        When ``fun`` makes a Python decision on a traced value (``if x > 0``,
        ``float(x)``, ``np.asarray(x)``, ``x[i]`` with ``i`` computed from
        inputs): the message names the line. Use ``snp.where`` for a branch, or
        make the deciding value static.

    Notes
    -----
    What ``fun`` reads from outside its arguments (globals, closures, random
    numbers) is frozen into the program when it is traced: a later change of
    a global is not seen until :meth:`Jitted.clear_cache` (or a new
    signature). Side effects of ``fun`` (printing, appending to a list,
    counting calls) happen only while tracing.

    A jitted function may be called from many threads at once: replays take
    no lock, results are those of a single thread, and each call gets arrays
    of its own (writing to one changes no other result). The cache holds at
    most ``cache_size`` programs, so memory stays bounded however many
    shapes pass through.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> f = lambda x: x[0] ** 2 + 2 * x[1] ** 2 + snp.exp(-x[0] - x[1])
    >>> df = sl.jit(sl.grad(f))
    >>> df(np.array([1.0, 2.0]))
    array([1.95021293, 7.95021293])
    >>> np.allclose(df(np.array([0.5, -0.5])), sl.grad(f)(np.array([0.5, -0.5])))
    True
    >>> df.cache_info()["misses"], df.cache_info()["hits"]
    (1, 1)

    Value-dependent Python is refused with the line that does it:

    >>> def relu_sum(x):
    ...     return snp.sum(x) if snp.sum(x) > 0 else 0.0
    >>> sl.jit(relu_sum)(np.ones(2))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    slopes.core.staging.TracingError: sl.jit: the truth value (an if, while, and/or or assert) of a traced value, at ...
    """
    check_callable(fun, "jit")
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    if not all(isinstance(i, int) for i in static_argnums):
        raise TypeError(f"jit(): static_argnums must be an int or a tuple of ints (got {static_argnums!r})")
    if not (isinstance(cache_size, int) and cache_size >= 1):
        raise ValueError(f"jit(): cache_size must be a positive integer (got {cache_size!r})")
    if kernels not in ("numpy", "numba"):
        raise ValueError(f"jit(): kernels must be 'numpy' or 'numba' (got {kernels!r})")
    if kernels == "numba" and not numba_available():
        raise ImportError("jit(kernels='numba') needs Numba: pip install 'slopes[fast]' (or keep kernels='numpy')")
    return Jitted(fun, tuple(static_argnums), cache_size, kernels)


class _Entry:
    """One traced program: its compiled replay, where its outputs go, and when it was last used."""

    __slots__ = ("replay", "run", "enter", "fast_calls", "out_tree", "program", "signature", "fast_key", "used")

    def __init__(self, program, out_tree, signature, fast_key, used):
        self.replay = program.compile(bare=out_tree.kind == "leaf")
        # run(*dynamic leaves) -> what the caller gets: straight from the replay when that is
        # already the output (a lone leaf, or a tuple of leaves such as value_and_grad's (f, g))
        if returns_replay(out_tree):
            self.run = self.replay
        else:
            build, replay = tree_builder(out_tree), self.replay
            self.run = lambda *xs: build(replay(*xs))
        self.enter = None  # enter(args): the checked call path (see _callpath), compiled once used
        self.fast_calls = 0  # calls served by the fast path before enter was compiled (CHECKED_AFTER)
        self.out_tree = out_tree
        self.program = program
        self.signature = signature
        self.fast_key = fast_key
        self.used = used  # tick of the latest call it served: the cache drops the lowest


class Jitted:
    """A function compiled by :func:`jit` (see there).

    Safe to call from many threads at once: lookups read the cache without a
    lock (one dict lookup is atomic), and only adding or dropping a program
    takes one, so a replay never waits. Two threads that miss on the same new
    signature together may both trace it; one program is kept.
    """

    kernels = "numpy"  # also for a Jitted pickled before the option existed

    def __init__(self, fun, static_argnums, cache_size, kernels="numpy"):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.static_argnums = static_argnums
        self.cache_size = cache_size
        self.kernels = kernels
        self._start()

    def _start(self):
        self._programs = {}  # signature -> _Entry
        self._fast = {}  # calls with positional arrays / floats / pytrees of arrays: _fast_key -> entry
        self._last = None  # the entry the latest fast call used: its enter() is tried first
        self._lock = threading.Lock()  # held to add or drop programs and to count misses
        # One tick per call and per cache_info(): next() on a count is one C call, atomic under the
        # GIL, so the fast path records recency (entry.used) and, by difference, the hit count
        # without a lock.
        self._clock = itertools.count()
        self._misses = 0
        self._info_reads = 0

    def __call__(self, *args, **kwargs):
        if not kwargs:
            # The program the previous call used, if these arguments fit it: one compiled
            # function checks their structure, shapes and dtypes, replays and builds the output.
            last = self._last
            if last is not None:
                out = last.enter(args)
                if out is not MISS:
                    last.used = next(self._clock)
                    return out
            # The fast path (no static arguments, hence no keywords in the keys): a lone array
            # is keyed inline, anything else by one pass of _fast_key.
            if len(args) == 1 and type(args[0]) is np.ndarray:
                a = args[0]
                entry = self._fast.get(((a.shape, a.dtype),))  # what _fast_key gives, without its loop
                if entry is not None:
                    entry.used = next(self._clock)
                    return entry.run(a)
            else:
                dyn = []
                entry = self._fast.get(_fast_key(args, dyn))  # empty under static_argnums; None finds nothing
                if entry is not None:
                    entry.used = next(self._clock)
                    if entry.enter is None:
                        entry.fast_calls += 1
                        if entry.fast_calls == CHECKED_AFTER:  # once: None if these arguments have no check
                            entry.enter = guarded_entry(args, entry.replay, entry.out_tree)
                    if entry.enter is not None:
                        self._last = entry
                    return entry.run(*dyn)
        found = self._program(args, kwargs)
        if found is None:  # under an outer transform: run unstaged
            return self.fun(*args, **kwargs)
        entry, dyn = found
        return entry.run(*dyn)

    def replay_for(self, *args):
        """The function that answers a call with ``args`` (no keywords), without the cache
        lookup: ``replay_for(*args)(*leaves) == self(*args)``, ``leaves`` being the leaves of
        ``args`` in :func:`slopes.core.pytree.flatten`'s order (0-d ones as arrays), for every
        call whose leaves have the same structure, shapes and dtypes; None if no program is
        traced for it (or it returns another structure than one output or a flat tuple of
        them). For a caller that checks the signature itself and calls one program many times
        (:meth:`slopes.optim.methods_base.Problem.value_and_grad`, the training step of
        :func:`slopes.ml.fit`).

        Examples
        --------
        >>> import slopes as sl, slopes.numpy as snp
        >>> vg = sl.jit(sl.value_and_grad(lambda x: snp.sum(x ** 2)))
        >>> x = np.array([1.0, 2.0])
        >>> vg.replay_for(x) is None
        True
        >>> _ = vg(x)
        >>> vg.replay_for(x)(np.array([3.0, 4.0]))
        (np.float64(25.0), array([6., 8.]))
        >>> f = sl.jit(lambda a, b: a[0] * b)
        >>> _ = f((np.ones(2),), np.ones(2))
        >>> f.replay_for((np.ones(2),), np.ones(2))(np.full(2, 2.0), np.full(2, 3.0))
        array([6., 6.])
        """
        key = _fast_key(args, [])
        entry = None if key is None else self._fast.get(key)
        return None if entry is None or entry.run is not entry.replay else entry.replay

    # -- the general path ---------------------------------------------------------------
    def _split(self, args, kwargs):
        n = len(args)
        statics = {}
        for i in self.static_argnums:
            if not -n <= i < n:
                raise ValueError(f"jit(): static_argnums {i} is out of range for a call with {n} argument(s)")
            statics[i % n] = args[i]
        dyn_args = tuple(a for i, a in enumerate(args) if i not in statics)
        leaves, tree = pytree.flatten((dyn_args, kwargs))
        return statics, leaves, tree

    def _signature(self, statics, leaves, tree):
        sig = []
        for k, x in enumerate(leaves):
            if isinstance(x, _DYNAMIC):
                x = leaves[k] = np.asarray(x)
                sig.append((x.shape, x.dtype))
            else:
                sig.append(("static", _hashable(x, f"leaf {k} of the arguments")))
        st = tuple((i, _hashable(v, f"static argument {i}")) for i, v in sorted(statics.items()))
        return (tree, tuple(sig), st)

    def _program(self, args, kwargs):
        """``(entry, its arguments)`` for this call, tracing on a miss; None under an outer transform."""
        statics, leaves, tree = self._split(args, kwargs)
        if any(isinstance(x, Tracer) for x in leaves) or any(
            isinstance(x, Tracer) for x in pytree.leaves(list(statics.values()))
        ):
            return None
        key = self._signature(statics, leaves, tree)
        dyn_pos = [k for k, s in enumerate(key[1]) if s[0] != "static"]
        dyn = [leaves[k] for k in dyn_pos]
        entry = self._programs.get(key)
        if entry is not None:
            entry.used = next(self._clock)
            return entry, dyn
        with self._lock:
            self._misses += 1
            tick = next(self._clock)
        out_box = []

        def flat_fun(*xs):
            ls = list(leaves)
            for k, x in zip(dyn_pos, xs):
                ls[k] = x
            dyn_args, kw = pytree.unflatten(tree, ls)
            it = iter(dyn_args)
            full = [statics[i] if i in statics else next(it) for i in range(len(args))]
            outs, out_tree = pytree.flatten(self.fun(*full, **kw))
            out_box.append(out_tree)
            return outs

        try:
            program, _ = trace_program(flat_fun, dyn, values=False)  # the caller replays it
        except LookupError:  # a closure holds a value of an enclosing transform
            return None
        program.optimize()
        program.kernels = self.kernels
        fast = None if kwargs or statics else _fast_key(args, [])
        out_tree = out_box[0]
        entry = _Entry(program, out_tree, key, fast, tick)
        self._keep(entry)
        # the caller runs the optimized program for the first call's results too: less work than
        # computing them while tracing, and the same bits as every later call
        return entry, dyn

    def _keep(self, entry):
        """Add a new program, dropping the least recently used beyond ``cache_size``."""
        with self._lock:
            if entry.signature in self._programs:  # another thread traced it meanwhile
                return
            while len(self._programs) >= self.cache_size:
                old = min(self._programs.values(), key=_recency)
                del self._programs[old.signature]
                if self._fast.get(old.fast_key) is old:
                    del self._fast[old.fast_key]
                if self._last is old:
                    self._last = None
            self._programs[entry.signature] = entry
            if entry.fast_key is not None:
                self._fast[entry.fast_key] = entry

    # -- inspection -----------------------------------------------------------------------
    def trace(self, *args, **kwargs):
        """The optimized program for these arguments (traced now if not cached).

        Examples
        --------
        >>> import slopes as sl, slopes.numpy as snp
        >>> print(sl.jit(lambda x: snp.sum(x * 1.0 + snp.sin(x))).trace(np.zeros(3)))
        program(%0: float64[3])
          %2: float64[3] = sin(%0)
          %3: float64[3] = add(%0, %2)
          %4: float64[] = sum(%3, axis=None, keepdims=False)
          return %4
        """
        found = self._program(args, kwargs)
        if found is None:
            raise TypeError(
                "Jitted.trace(): these arguments hold values of an enclosing transform, which "
                "run unstaged; call .trace() with plain arrays"
            )
        return TracedProgram.of(found[0].program)

    def cache_info(self):
        """``{"hits", "misses", "size", "maxsize"}`` of the program cache.

        Examples
        --------
        >>> import slopes as sl, slopes.numpy as snp
        >>> f = sl.jit(lambda x: snp.sum(x ** 2))
        >>> _ = f(np.ones(2)), f(np.zeros(2)), f(np.ones(3))
        >>> f.cache_info()
        {'hits': 1, 'misses': 2, 'size': 2, 'maxsize': 64}
        """
        with self._lock:
            calls = next(self._clock) - self._info_reads  # ticks drawn by calls so far
            self._info_reads += 1
            return {"hits": calls - self._misses, "misses": self._misses, "size": len(self._programs),
                    "maxsize": self.cache_size}

    def clear_cache(self):
        """Forget every traced program (e.g. after changing a global ``fun`` reads)."""
        with self._lock:
            self._programs = {}
            self._fast = {}
            self._last = None

    # -- pickling: the function and settings travel, programs are traced again where they land --
    def __getstate__(self):
        state = dict(self.__dict__)
        for name in ("_programs", "_fast", "_last", "_lock", "_clock", "_misses", "_info_reads"):
            del state[name]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._start()

    def __repr__(self):
        return f"<jitted {getattr(self.fun, '__name__', 'function')}: {len(self._programs)} program(s)>"


def _recency(entry):
    return entry.used


_SCALAR = ((), np.dtype(np.float64))  # a Python float is traced as a 0-d float64 array


def _fast_key(args, leaves):
    """The signature of a call whose arguments are arrays, Python floats, or dicts (string
    keys), lists, tuples and namedtuples of arrays, NumPy scalars, floats and None, else None; appends the leaves (floats as 0-d arrays)
    to ``leaves`` in :func:`pytree.flatten`'s order. One pass, for the calls a training
    loop or an optimizer makes thousands of times."""
    key = []
    for a in args:
        t = type(a)
        if t is np.ndarray:  # the common case, inline
            leaves.append(a)
            key.append((a.shape, a.dtype))
            continue
        if t is float:
            leaves.append(np.asarray(a))
            key.append(_SCALAR)
            continue
        k = _tree_key(a, leaves)
        if k is None:
            return None
        key.append(k)
    return tuple(key)


def _tree_key(x, leaves):
    t = type(x)
    if t is np.ndarray:
        leaves.append(x)
        return (x.shape, x.dtype)
    if t is dict:
        try:
            names = sorted(x)  # pytree.flatten's order
        except TypeError:
            return None
        parts = [tuple(names)]
        for n in names:
            if type(n) is not str:
                return None
            k = _tree_key(x[n], leaves)
            if k is None:
                return None
            parts.append(k)
        return ("d", *parts)
    if t is float:
        leaves.append(np.asarray(x))
        return _SCALAR
    if isinstance(x, np.generic):  # a NumPy scalar, e.g. an optimizer state's step count
        leaves.append(np.asarray(x))
        return ((), x.dtype)
    if x is None:
        return ("n",)
    is_tuple = isinstance(x, tuple)  # a namedtuple (an optimizer state) is keyed with its class
    if t is list or is_tuple:
        parts = []
        for v in x:
            k = _tree_key(v, leaves)
            if k is None:
                return None
            parts.append(k)
        return ("l" if t is list else "t" if t is tuple else t, *parts)
    return None


def _hashable(x, what):
    if callable(getattr(type(x), "__dask_graph__", None)):  # hashable, but a lazy array is no static value
        raise TypeError(
            f"jit(): {what} is a dask {type(x).__name__}; a jitted function runs on NumPy arrays. Sum a "
            "loss over its row chunks with slopes.distributed.ChunkedObjective (or sl.minimize(loss, x0, "
            "data=(X, y))), or apply the function per chunk with X.map_blocks"
        )
    try:
        hash(x)
    except TypeError:
        raise TypeError(
            f"jit(): {what} is a {type(x).__name__}, which is neither an array (traced) nor "
            "hashable (static). Pass arrays, or make it hashable (a tuple)."
        ) from None
    return (type(x), x)
