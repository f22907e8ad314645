"""Staging: run a function once on real inputs and record its primitive calls.

:func:`trace_program` calls ``fn`` with each input replaced by a
:class:`StageTracer`, and each primitive applied to one is appended to a
:class:`~slopes.core.program.Program`. Calls that touch no staged value are
ordinary NumPy: they are constants of the program, folded while tracing.

A staged value has its shape and dtype at once; its value is computed when
something reads it (a rule that looks at values, a call without a shape rule),
so every rule keeps working. A call on small computed arguments is computed
right away; a larger one whose result's shape and dtype are known without
running it (:mod:`slopes.core.abstract`) is only recorded, so work that the
optimized program drops (the tangents of a loss whose Hessian is wanted)
costs nothing.

A staged value is the same for every later call with the same signature only
in its shape and dtype, so anything that would decide on its *value* in Python
(``if x > 0``, ``float(x)``, ``np.asarray(x)``, an index array computed from
it) raises :class:`TracingError`, naming the line of user code responsible.
"""

from __future__ import annotations

import os
import traceback

import numpy as np

from .abstract import result_aval
from .program import Aval, Program
from .trace import Trace, Tracer, new_level, tracing_program

__all__ = ["StageTrace", "StageTracer", "TracingError", "compact_constant", "trace_program", "user_line"]

# Calls whose arguments are all computed and have at most this many elements each are computed
# while tracing: that costs a few microseconds, about what deferring them costs.
EAGER_MAX_SIZE = 4096

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TracingError(TypeError):
    """A function cannot be traced once and replayed (see :func:`slopes.jit`)."""


def user_line():
    """``file:line: code`` of the innermost calling frame outside slopes (and NumPy)."""
    for frame in reversed(traceback.extract_stack()[:-1]):
        name = os.path.abspath(frame.filename)
        if name.startswith(_PACKAGE) or f"{os.sep}numpy{os.sep}" in name:
            continue
        return f"{frame.filename}:{frame.lineno}: {(frame.line or '').strip()}"
    return "<unknown line>"


def concretization_error(what):
    return TracingError(
        f"sl.jit: {what} of a traced value, at {user_line()}\n"
        "Inside a jitted function values are not known while it is traced (the trace is "
        "replayed for every input of the same shapes), so Python cannot branch on them or "
        "turn them into floats or NumPy arrays. Use snp.where for a branch, pass a value "
        "that decides the control flow as a static argument (sl.jit(f, static_argnums=...)), "
        "or call the function without sl.jit."
    )


class StageTracer(Tracer):
    """A value of a function being staged: its program variable, shape and dtype, and its
    trace-time value, computed when first read if the call that makes it was only recorded."""

    __slots__ = ("var", "shape", "dtype", "_value", "_pending")
    _staged = True

    def __init__(self, trace, value, var, aval=None, pending=None):
        self._trace = trace
        self.var = var
        self._value = value
        self._pending = pending  # (prim, args, params) of a call not computed yet, else None
        if aval is None:
            aval = getattr(value, "shape", ()), getattr(value, "dtype", None)
        self.shape, self.dtype = aval

    @property
    def primal(self):
        if self._pending is not None:
            _compute(self)
        return self._value

    def __bool__(self):
        raise concretization_error("the truth value (an if, while, and/or or assert)")

    def __float__(self):
        raise concretization_error("float()")

    def __int__(self):
        raise concretization_error("int()")

    def __complex__(self):
        raise concretization_error("complex()")

    def __index__(self):
        raise concretization_error("use as an integer index")

    def __array__(self, dtype=None, copy=None):
        raise concretization_error("conversion to a NumPy array (np.asarray, or a NumPy function slopes cannot intercept)")

    __hash__ = None


class _EnclosingTracer(Exception):
    """A value of an enclosing transform reached the staged function through a closure."""


def compact_constant(value):
    """``value``, or a read-only broadcast of its one repeated element when every entry of the
    array is the same bit pattern (a cotangent seed ``1/n`` broadcast to ``n`` rows, a folded
    ``ones_like``). The program then holds one element, not ``n``: its memory and pickled size
    no longer grow with the data, and replays compute the same bits from the same values.

    >>> c = compact_constant(np.full((1000, 3), 0.25))
    >>> c.shape, c.strides, float(c[7, 2])
    ((1000, 3), (0, 0), 0.25)
    >>> compact_constant(np.arange(3.0)).strides
    (8,)
    """
    if type(value) is not np.ndarray or value.size <= 1 or not any(value.strides) or value.dtype.hasobject:
        return value
    flat = value.ravel(order="K")  # memory order: a view of a transposed array, not a copy
    # cheap refusals first (the ends, then a few entries spread over the array), then every entry
    if (flat[:1].tobytes() != flat[-1:].tobytes() or not _same_bits(flat[:: max(1, flat.size // 64)])
            or not _same_bits(flat)):
        return value
    # one array per value, shape and dtype: every trace of a function holds the same constant,
    # and finds the programs optimized and compiled before (slopes.core.program_memo)
    key = (value.dtype.str, value.shape, flat[:1].tobytes())
    found = _UNIFORM.get(key)
    if found is None:
        if len(_UNIFORM) >= _UNIFORM_KEPT:
            _UNIFORM.clear()
        found = _UNIFORM[key] = np.broadcast_to(flat[:1].copy().reshape((1,) * value.ndim), value.shape)
    return found


_UNIFORM = {}  # (dtype, shape, the element's bytes) -> its read-only broadcast (compact_constant)
_UNIFORM_KEPT = 1024


def _same_bits(flat):
    """Whether every entry of the 1-D ``flat`` has the bit pattern of the first (so -0.0 and
    0.0, or NaN payloads, stay apart), compared as unsigned words of the widest size that
    divides the item size."""
    size = flat.dtype.itemsize
    word = next(w for w in (8, 4, 2, 1) if size % w == 0)
    cells = np.ascontiguousarray(flat).view(f"u{word}").reshape(flat.size, size // word)
    return bool((cells == cells[0]).all())


class StageTrace(Trace):
    __slots__ = ("program", "_constants")

    def __init__(self, level):
        self.level = level
        self.program = Program()
        self._constants = {}  # id -> (array, its Const): each captured array is checked once

    def constant(self, value):
        """The program's :class:`Const` for ``value`` (uniform arrays kept as one element)."""
        if type(value) is not np.ndarray:
            return self.program.constant(value)
        seen = self._constants.get(id(value))
        if seen is None:  # the array is kept in the entry, so its id is not reused meanwhile
            seen = self._constants[id(value)] = (value, self.program.constant(compact_constant(value)))
        return seen[1]

    def new_input(self, value):
        return StageTracer(self, value, self.program.new_input(value))

    def process(self, prim, args, params):
        refs = list(args)
        vals = list(args)  # the values, when all are computed
        small = True  # all arguments computed and small: computing costs less than deferring
        for i, a in enumerate(args):
            if type(a) is StageTracer and a._trace is self:
                refs[i] = a.var
                if small and (a._pending is not None or getattr(a._value, "size", 1) > EAGER_MAX_SIZE):
                    small = False
                vals[i] = a._value
            elif isinstance(a, Tracer):
                raise _EnclosingTracer()
            else:
                refs[i] = self.constant(a)
                if small and getattr(a, "size", 1) > EAGER_MAX_SIZE:
                    small = False
        for v in params.values():
            if isinstance(v, Tracer) or (type(v) is tuple and any(isinstance(e, Tracer) for e in v)):
                raise TracingError(
                    f"sl.jit: '{prim.name}' received a traced value as a parameter, at {user_line()}; "
                    "pass it as a static argument (static_argnums=...)"
                )
        refs = tuple(refs)
        if not small:
            aval = result_aval(prim, args, params)
            if aval is not None:  # recorded now, computed only if read
                var = self.program.record(prim, refs, params, Aval(*aval))
                return StageTracer(self, None, var, aval, (prim, args, params))
            vals = [a.primal if type(a) is StageTracer else a for a in args]
        out = prim.impl(*vals, **params)
        return StageTracer(self, out, self.program.record(prim, refs, params, out))


def _compute(tracer):
    """Compute the value of a recorded call and of the recorded calls it reads (a loop, not
    recursion: a chain of thousands of calls may be waiting)."""
    todo = [tracer]
    while todo:
        t = todo[-1]
        if t._pending is None:
            todo.pop()
            continue
        prim, args, params = t._pending
        waiting = [a for a in args if type(a) is StageTracer and a._pending is not None]
        if waiting:
            todo.extend(waiting)
            continue
        out = prim.impl(*[a._value if type(a) is StageTracer else a for a in args], **params)
        if getattr(out, "shape", ()) != t.shape or getattr(out, "dtype", None) != t.dtype:
            raise RuntimeError(  # a wrong shape rule would compile a wrong program: stop here
                f"slopes.core.abstract: '{prim.name}' was expected to give {t.dtype}{list(t.shape)}, "
                f"NumPy gave {getattr(out, 'dtype', type(out))}{list(getattr(out, 'shape', ()))}"
            )
        t._value, t._pending = out, None
        todo.pop()


def trace_program(fn, inputs, values=True):
    """Stage ``fn(*inputs)`` (flat lists in and out) into a :class:`Program`.

    Returns ``(program, output_values)``; outputs that do not depend on the
    inputs become constants of the program. With ``values=False`` the outputs
    are not computed (``output_values`` is None): a caller that runs the
    optimized program anyway saves the unoptimized program's work. Raises
    :class:`TracingError` for value-dependent Python, and ``LookupError`` when
    a value of an enclosing transform enters through a closure (the caller
    then runs ``fn`` unstaged).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> prog, outs = trace_program(lambda x: [snp.sin(x) * 2.0], [np.array([0.5])])
    >>> [e.prim.name for e in prog.equations]
    ['sin', 'multiply']
    >>> prog.compile()(np.array([0.0]))[0]
    array([0.])
    """
    with new_level() as level, tracing_program():
        trace = StageTrace(level)
        ins = [trace.new_input(v) for v in inputs]
        try:
            outs = fn(*ins)
        except _EnclosingTracer:
            raise LookupError("a value of an enclosing transform is used through a closure") from None
        found = []
        for o in outs:
            if type(o) is StageTracer and o._trace is trace:
                trace.program.outputs.append(o.var)
                found.append(o.primal if values else None)
            elif isinstance(o, Tracer):
                raise LookupError("an output belongs to an enclosing transform")
            else:  # the program keeps its own copy: the caller may write to the one it gets
                kept = compact_constant(o.copy()) if isinstance(o, np.ndarray) else o
                trace.program.outputs.append(trace.program.constant(kept))
                found.append(o)
    return trace.program, (found if values else None)
