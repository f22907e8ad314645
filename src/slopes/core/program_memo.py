"""A traced program seen before: its optimized equations and compiled code, found by content.

Tracing the same function on arguments of the same shapes records the same equations:
each ``sl.ml.fit`` call's step programs, a fresh ``sl.jit`` wrapper of the same loss, the
folds of a cross-validation. Optimizing such a program and writing its source again
(about 2 ms for a training step of 100 equations) gives what it gave before, since both
are functions of the equations alone. :func:`content_key` is a key that is equal exactly
when two programs are the same program:

* the variables' shapes and dtypes, the inputs, the outputs, and each equation's
  primitive (the object itself), variables and parameters;
* scalars (Python and NumPy) by their bits;
* arrays by identity *and* by their bits: a program that captures an array
  (``lambda w: X @ w``) meets its entry only with that very array, which it reads in
  place as a fresh program would, and not after the array was written to in place (the
  optimizer may have folded its values). The tracer's uniform constants (a cotangent seed
  ``1/n`` broadcast to ``n`` rows) are one shared array per value
  (:func:`~slopes.core.staging.compact_constant`), so they meet their entry too;
* primitives, types and NumPy's functions by identity (the key holds the object, so the
  identity is never reused while the entry lives).

A program with a function of the user's among its parameters (``sl.checkpoint``) is not
kept, nor one holding arrays of more than :data:`MAX_PINNED_BYTES`: the store would keep
them, and what they hold, alive.

The store is bounded (:data:`SIZE` entries, oldest dropped first) and safe to use from
many threads (a lookup is one dict read; two threads storing one key keep either value).
"""

from __future__ import annotations

import struct
import threading
import types

import numpy as np

from .trace import Primitive

__all__ = ["content_key", "lookup", "store", "clear", "scalar_key", "SIZE", "MAX_PINNED_BYTES"]

#: Entries kept (optimized programs and compiled functions together).
SIZE = 256
#: Bytes of a program's arrays (other than broadcasts of one element) beyond which it is not kept.
MAX_PINNED_BYTES = 1 << 16

_entries: dict = {}
_lock = threading.Lock()
_PLAIN = (type(None), bool, int, str, bytes)
_PACK = {float: struct.Struct("<d").pack, complex: struct.Struct("<dd").pack}
# objects keyed by identity alone: types, NumPy's ufuncs and C functions, primitives
_LASTING = (type, np.ufunc, types.BuiltinFunctionType, Primitive)


class _Unkeyable(Exception):
    """The program holds an object the key cannot be built from, or too many bytes of arrays."""


def content_key(program):
    """A hashable key equal for programs with the same equations, constants and shapes, or
    None when the program cannot be keyed (see the module docstring).

    >>> import slopes.numpy as snp
    >>> from slopes.core.staging import trace_program
    >>> f = lambda x: [snp.sin(x) * 2.0]
    >>> a, _ = trace_program(f, [np.zeros(3)])
    >>> b, _ = trace_program(f, [np.ones(3)])
    >>> c, _ = trace_program(f, [np.zeros(4)])
    >>> content_key(a) == content_key(b), content_key(a) == content_key(c)
    (True, False)
    """
    pinned = [0]  # bytes of arrays held by identity
    eqs = []
    try:
        for prim, ins, params, out in program.equations:
            if not prim.lasting:  # a user's rule: keeping the program would keep the user's function
                return None
            for r in ins:
                if type(r) is not int:  # a constant among the variables: its key in its place
                    ins = _refs(ins, pinned)
                    break
            eqs.append((prim, ins, _const(params, pinned) if params else None, out))
        outs = _refs(program.outputs, pinned)
        key = (tuple(program.avals.items()), tuple(program.inputs), tuple(eqs), outs)
        hash(key)
    except (_Unkeyable, TypeError):  # TypeError: something unhashable among the avals
        return None
    return key


def _refs(refs, pinned):
    return tuple(r if type(r) is int else _const(r.value, pinned) for r in refs)


def scalar_key(v):
    """``(type, exact bits)`` of a Python or NumPy scalar, or None for other values: equal for
    the same bits only (-0.0 is not 0.0; a NaN equals its copy, not another payload).

    >>> scalar_key(0.0) == scalar_key(-0.0), scalar_key(1) == scalar_key(1.0)
    (False, False)
    """
    t = type(v)
    if t in _PLAIN:
        return (t, v)
    if t is float or t is complex:  # every bit: the sign of a zero, a NaN's payload
        return (t, _PACK[t](v) if t is float else _PACK[t](v.real, v.imag))
    if isinstance(v, np.generic) and not v.dtype.hasobject:
        return (t, v.tobytes())
    return None


def _const(v, pinned):
    """The key of a constant (or a parameter value)."""
    found = scalar_key(v)
    if found is not None:
        return found
    if type(v) is np.ndarray:
        return _array(v, pinned)
    t = type(v)
    if t is tuple or t is list:
        return (t, *(_const(e, pinned) for e in v))
    if t is dict:
        return (dict, *((_const(k, pinned), _const(x, pinned)) for k, x in v.items()))
    if t is slice:
        return (slice, _const(v.start, pinned), _const(v.stop, pinned), _const(v.step, pinned))
    if isinstance(v, np.dtype):  # compared by value (structured dtypes of one size differ)
        return v
    if isinstance(v, _LASTING) and getattr(v, "lasting", True):  # module-level objects: held by identity
        return _Same(v)
    raise _Unkeyable  # a function or object of the user's: a program of its own (the store would keep it)


def _array(v, pinned):
    """An array by identity and by its bits now: the kept program reads this very array, as a
    fresh one would, and one written to in place since (whose values the optimizer may have
    folded) is another program. One repeated element (a broadcast) is read once."""
    if v.dtype.hasobject:
        raise _Unkeyable
    if v.size and not any(v.strides):
        bits = v[(0,) * v.ndim].tobytes()
    else:
        pinned[0] += v.nbytes
        if pinned[0] > MAX_PINNED_BYTES:
            raise _Unkeyable
        bits = v.tobytes()
    return (_Same(v), v.dtype.str, v.shape, v.strides, bits)


class _Same:
    """An object compared by identity, and held (so its id is not reused while keyed)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __eq__(self, other):
        return type(other) is _Same and other.obj is self.obj

    def __hash__(self):
        return id(self.obj)


def lookup(key):
    """The value stored under ``key`` (None when absent or when ``key`` is None).

    >>> store(("doc", 1), "x"); lookup(("doc", 1)), lookup(("doc", 2)), lookup(None)
    ('x', None, None)
    """
    return None if key is None else _entries.get(key)


def store(key, value) -> None:
    """Keep ``value`` under ``key`` (nothing for a None key), dropping the oldest entry beyond :data:`SIZE`.

    >>> store(("doc", 3), "y"); lookup(("doc", 3))
    'y'
    """
    if key is None:
        return
    with _lock:
        while len(_entries) >= SIZE:
            del _entries[next(iter(_entries))]
        _entries[key] = value


def clear() -> None:
    """Forget every entry.

    >>> clear(); lookup(("doc", 3)) is None
    True
    """
    with _lock:
        _entries.clear()
