"""A constant that is one value broadcast to an array is read as that value.

The backward pass of a sum broadcasts its cotangent, ``1.0`` for a scalar loss, to the
summed shape; folded while tracing, that is a constant array of ones (a read-only view
with all strides 0), and anything computed from it, e.g. ``100.0 * ones``, is one too.
Multiplying by such an array costs a pass over it and hides the identity: in the
chained Rosenbrock's value-and-gradient program ``c * v`` with ``c`` all ones is
replayed as one more NumPy call per evaluation.

:func:`scalar_operand` gives an elementwise ``add``, ``subtract``, ``multiply`` or
``divide`` the scalar of its constant operand's dtype instead, where the constant has
all strides 0 (so every entry is the first: an O(1) test, no pass over it), the other
operand already has the result's shape and dtype (so nothing broadcasts or casts
differently), and the constant's dtype is the result's. The result is the same bit for
bit: NumPy applies one scalar per entry either way. :meth:`Program.optimize
<slopes.core.program.Program.optimize>` then drops ``x * 1`` and ``x + 0`` as identities.

>>> import numpy as np
>>> from slopes.core.program import Const, Equation
>>> from slopes.core.ops.elementwise import mul
>>> class P:  # what scalar_operand reads of a program: shapes and dtypes of variables
...     avals = {0: ((3,), np.dtype("float64")), 1: ((3,), np.dtype("float64"))}
>>> e = Equation(mul, (Const(np.broadcast_to(np.float64(1.0), (3,))), 0), {}, 1)
>>> scalar_operand(P, e).ins[0]
1.0
"""

from __future__ import annotations

import numpy as np

from .program import Const

__all__ = ["scalar_operand"]

_ELEMENTWISE = {"add", "subtract", "multiply", "divide"}


def _one_value(v, dtype):
    """``v``'s single value as a scalar of ``dtype``, if ``v`` is an array of that dtype with all strides 0."""
    if type(v) is np.ndarray and v.ndim and v.size and v.dtype == dtype and not any(v.strides):
        return v.dtype.type(v.flat[0])
    return None


def scalar_operand(program, e):
    """``e`` with a constant operand that is one value broadcast replaced by that value (see the module)."""
    if e.prim.name not in _ELEMENTWISE or len(e.ins) != 2:
        return e
    out = program.avals[e.out]
    for i, r in enumerate(e.ins):
        other = e.ins[1 - i]
        if type(r) is Const and type(other) is int and program.avals[other] == out:
            value = _one_value(r.value, out[1])
            if value is not None:
                ins = list(e.ins)
                ins[i] = Const(value)
                return e._replace(ins=tuple(ins))
    return e
