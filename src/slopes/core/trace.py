"""Primitives, traces and tracers: the dispatch at the heart of every transform.

A *primitive* is one NumPy operation with its derivative rules. Calling it with
plain arrays runs its NumPy implementation. Calling it with a *tracer* (a value
being watched by a transform: forward mode, reverse mode or batching) hands the
call to that tracer's *trace*, which applies the primitive's rules.

Transforms nest. Every active trace has a level (its depth in the stack of
transforms in progress); a primitive is processed by the highest-level trace
among its arguments, and values of lower levels are constants to it. This is
what keeps nested derivatives from mixing their perturbations.

Levels belong to a thread: each thread counts its own transforms in progress,
so transforms running at the same time in different threads never share or
shift each other's levels.
"""

from __future__ import annotations

import math
import threading

import numpy as np

__all__ = [
    "ALL_ARGS", "Primitive", "Trace", "Tracer", "bind", "new_level", "current_level", "concrete", "shape_of",
    "staged", "tracing_program", "in_program",
]


class _Levels:
    """One thread's stack of transforms in progress: its depth (0: plain NumPy), and how many
    of them trace a program (``slopes.jit``)."""

    __slots__ = ("depth", "thread", "programs")

    def __init__(self):
        self.depth = 0
        self.thread = threading.get_ident()
        self.programs = 0


class _PerThread(threading.local):
    def __init__(self):  # runs once in each thread that uses it
        self.levels = _Levels()


_per_thread = _PerThread()
# the threads with a transform in progress: while there is none, no tracer exists anywhere and
# a primitive skips dispatch after one lock-free test (set.add and set.discard are atomic)
_tracing = set()


class _AllArgs:
    """``keeps`` of a primitive whose rules read every argument (however many) but not its output."""

    def __contains__(self, key):
        return key != "ans"

    def __repr__(self):
        return "ALL_ARGS"


ALL_ARGS = _AllArgs()


class Primitive:
    """One differentiable operation.

    Attributes
    ----------
    impl : callable
        The NumPy implementation, ``impl(*arrays, **params)``.
    jvp : callable or None
        ``jvp(primals, tangents, params) -> (out, tangent_out)``; a tangent is
        ``None`` when it is zero. ``None`` for a primitive without a forward rule.
    vjps : tuple of callables, or None
        One rule per argument, ``vjp_i(g, ans, *args, **params)`` giving the
        cotangent of argument ``i`` from the output cotangent ``g``; an entry is
        ``None`` where the argument is not differentiable.
    batch : callable or None
        ``batch(args, batched, **params)``: the operation applied to arguments
        whose ``batched[i]`` ones carry an extra leading axis; returns the result
        with the batch axis in front. Without one, ``vmap`` loops.
    accumulate : callable or None
        Optional fast path of the reverse sweep for a one-argument primitive:
        ``accumulate(prev, prev_is_private, g, ans, x, **params)`` returns
        ``prev`` plus the cotangent of ``x`` (updating ``prev`` in place when it
        is private to the sweep), or ``None`` to use ``vjps`` instead.
    params : tuple of str
        Parameters that may be given positionally after the arrays, as in
        ``reshape(x, shape)``; the primitive then takes exactly one array.
    differentiable : bool
        False for operations whose outputs carry no derivative (comparisons,
        ``floor``, ``argmax``): every transform treats their result as constant.
    keeps : container or None
        The values the reverse rules read, beyond shapes and dtypes: argument
        indices and ``"ans"`` for the output (``ALL_ARGS`` for every argument).
        ``None`` (the default) keeps everything. Reverse mode releases the
        other large arrays right after the forward call, so the tape holds only
        what the backward pass needs.
    lasting : bool
        True (the default) for a primitive that lives as long as the process;
        False for one made around a user's function (``sl.custom_jvp``), which
        stores of compiled programs must not keep alive
        (:mod:`slopes.core.program_memo`).
    """

    __slots__ = ("name", "impl", "jvp", "vjps", "batch", "differentiable", "params", "accumulate", "keeps",
                 "lasting")

    def __init__(self, name, impl, differentiable=True, params=()):
        self.name = name
        self.impl = impl
        self.jvp = None
        self.vjps = None
        self.batch = None
        self.differentiable = differentiable
        # names of trailing parameters that may also be passed positionally
        self.params = params
        self.accumulate = None
        self.keeps = None
        self.lasting = True

    def __call__(self, *args, **params):
        if self.params and len(args) > 1:
            n = len(args) - len(self.params)
            params.update(zip(self.params, args[n:]))
            args = args[:n]
        if not _tracing:  # no transform in progress: no tracers can be here
            return self.impl(*args, **params)
        return bind(self, args, params)

    def __repr__(self):
        return f"<primitive {self.name}>"


class Trace:
    """A transform in progress; ``level`` orders nested transforms."""

    __slots__ = ("level",)

    def __init__(self, level):
        self.level = level

    def process(self, prim, args, params):  # pragma: no cover - abstract
        raise NotImplementedError


class new_level:
    """Context manager giving a fresh trace level, one deeper than the current.

    Examples
    --------
    >>> with new_level() as level:
    ...     level >= 1
    True
    """

    __slots__ = ("level",)

    def __enter__(self):
        levels = _per_thread.levels
        levels.depth += 1
        if levels.depth == 1:
            _tracing.add(levels.thread)
        self.level = levels.depth
        return self.level

    def __exit__(self, *exc):
        levels = _per_thread.levels
        levels.depth -= 1
        if not levels.depth:
            _tracing.discard(levels.thread)
        return False


def current_level():
    """The level of this thread's innermost transform in progress (0 when there is none).

    Examples
    --------
    >>> current_level()
    0
    >>> with new_level() as level:
    ...     current_level() == level
    True
    """
    return _per_thread.levels.depth


class tracing_program:
    """Context manager marking this thread as tracing a program (see :func:`in_program`).

    Examples
    --------
    >>> with tracing_program():
    ...     in_program()
    True
    >>> in_program()
    False
    """

    __slots__ = ()

    def __enter__(self):
        _per_thread.levels.programs += 1

    def __exit__(self, *exc):
        _per_thread.levels.programs -= 1
        return False


def in_program():
    """Whether this thread is tracing a program: every value computed now is either recorded
    or a constant of the program, which never writes to its constants and hands copies of
    them to callers, so a rule may give a read-only view where it would otherwise copy."""
    return _per_thread.levels.programs > 0


def bind(prim, args, params):
    """Apply ``prim`` to ``args``: NumPy directly, or the rules of the top trace."""
    top = None
    level = 0
    for a in args:
        if isinstance(a, Tracer):
            t = a._trace
            if t.level > level:
                top = t
                level = t.level
    if top is None:
        return prim.impl(*args, **params)
    return top.process(prim, args, params)


def concrete(x):
    """The NumPy value underneath any stack of tracers (batched values keep their batch axis)."""
    while isinstance(x, Tracer):
        x = x.primal
    return x


def staged(x):
    """Whether ``x`` is (or wraps) a value being staged by ``slopes.jit``.

    Rules that would choose a code path from a value (e.g. "mask only if some
    entry is not finite") must take the path that is right for every value when
    this is true: the choice is recorded once and replayed for other inputs.
    """
    while isinstance(x, Tracer):
        if x._staged:
            return True
        x = x.primal
    return False


def shape_of(x):
    """The shape of an array, a Python scalar or a tracer (per example under ``vmap``)."""
    s = getattr(x, "shape", None)
    return () if s is None else s


class Tracer:
    """A value watched by a transform. It behaves like an ``ndarray``.

    Tracers support NumPy's operators, methods (``x.T``, ``x.sum()``,
    ``x.reshape(...)``, ``x[i]``, ``x @ y``) and most ``numpy`` functions called
    on them directly (they are routed to :mod:`slopes.numpy`). They cannot be
    written to in place; use ``x.at[i].set(v)``.
    """

    __slots__ = ("_trace", "primal")
    __array_priority__ = 1000
    _staged = False  # True for slopes.jit's staged values

    # -- array facts -------------------------------------------------------
    @property
    def shape(self):
        return self.primal.shape

    @property
    def dtype(self):
        return self.primal.dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    def __len__(self):
        shape = self.shape
        if not shape:
            raise TypeError("len() of a 0-d traced array")
        return shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self):
        return f"{type(self).__name__}(shape={self.shape}, dtype={self.dtype})"

    # -- conversions that would lose the derivative --------------------------
    def _plain_value(self):
        """The value underneath, or None when a transform maps over it (vmap) or stages it (jit)."""
        x = self
        while isinstance(x, Tracer):
            if x._staged or tuple(x.shape) != tuple(getattr(x.primal, "shape", ())):
                return None
            x = x.primal
        return x

    def __array__(self, dtype=None, copy=None):
        # np.int64(x), np.asarray(x, dtype=bool): an integer or boolean value has derivative 0
        # almost everywhere, so converting to one loses nothing (as in autograd)
        if dtype is not None and np.dtype(dtype).kind in "biu":
            value = self._plain_value()
            if value is not None:
                return np.asarray(value, dtype=dtype)
        raise TypeError(
            "a traced value was converted to a plain NumPy array, which would drop its "
            "derivative. This happens with np.asarray(x), with writing a traced value "
            "into a NumPy array (a[i] = x), and with NumPy functions slopes cannot "
            "intercept. Build arrays with slopes.numpy (snp.stack, snp.concatenate, "
            "x.at[i].set(v)); use sl.stop_gradient(x) if you only want the value."
        )

    def _scalar_error(self, kind):
        raise TypeError(
            f"{kind}() of a traced value would drop its derivative. Keep it an array and "
            "use slopes.numpy functions (math.exp, math.sqrt, ... convert to float: use "
            "snp.exp, snp.sqrt instead); for Python control flow on values, compare "
            "(x > 0 gives a plain boolean array); use sl.stop_gradient(x) for the value."
        )

    def __float__(self):
        self._scalar_error("float")

    def __int__(self):
        # int(x) of one traced number: its derivative is 0 almost everywhere, nothing is lost
        value = self._plain_value()
        if value is None or np.size(value) != 1:
            raise TypeError(
                "int() needs one known number: under vmap a traced value holds one per example "
                "(and under sl.jit it is not known while tracing). Keep it an array: "
                "snp.floor(x), x.astype(int)."
            )
        return int(value)

    def __complex__(self):
        self._scalar_error("complex")

    def __index__(self):
        value = self._plain_value()
        if value is None or np.ndim(value) != 0 or np.dtype(self.dtype).kind not in "biu":
            self._scalar_error("operator.index")
        return int(value)

    def __bool__(self):
        raise TypeError(
            "the truth value of a traced value depends on the transform in progress "
            "(this is an error under vmap). Compare first (x > 0) or use snp.where."
        )

    # -- in-place updates are refused ------------------------------------------
    def __setitem__(self, index, value):
        raise TypeError(
            "traced arrays cannot be modified in place (x[i] = v). Use the functional "
            "form, which returns a new array: x = x.at[i].set(v) (also .add, .multiply, "
            ".min, .max), or snp.at(x)[i].set(v) for any array."
        )

    def _inplace(self, op):
        raise TypeError(
            f"in-place '{op}=' on a traced array is not supported: slopes arrays are "
            f"immutable while a derivative is taken. Write x = x {op} v instead, or, for "
            f"part of the array, the functional update x = x.at[i].add(v) (also .set, "
            f".multiply, .divide, .power)."
        )

    def __iadd__(self, other):
        self._inplace("+")

    def __isub__(self, other):
        self._inplace("-")

    def __imul__(self, other):
        self._inplace("*")

    def __itruediv__(self, other):
        self._inplace("/")

    def __ipow__(self, other):
        self._inplace("**")

    def __imatmul__(self, other):
        self._inplace("@")

    __hash__ = None
