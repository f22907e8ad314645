"""A constant that is one value broadcast, where that value is an identity element, is dropped.

The backward pass of a sum broadcasts its cotangent, ``1.0`` for a scalar loss, to the
summed shape; folded while tracing, that is a constant array of ones (a read-only view
with all strides 0), and in the chained Rosenbrock's value-and-gradient program it
multiplied an intermediate: one more NumPy call in every replay, which the identity
rules of :meth:`Program.optimize <slopes.core.program.Program.optimize>` did not see
(they test small arrays entry by entry, and this one had 99).

:func:`scalar_operand` gives an elementwise ``add``, ``subtract``, ``multiply`` or
``divide`` the scalar of its constant operand where the constant has all strides 0
(every entry is the first: an O(1) test, no pass over it), the other operand already
has the result's shape and dtype, and the scalar makes the equation an identity
(``x * 1``, ``x / 1``, ``x + 0``, ``x - 0``), which ``optimize`` then drops. Other
broadcast constants are left as they are: a constant array may be the base of a scaling
chain that :mod:`slopes.core.scalings` folds.

>>> from slopes.core.staging import trace_program
>>> ones = np.broadcast_to(1.0, (3,))
>>> prog, _ = trace_program(lambda x: [x * ones, x * (2.0 * ones)], [np.zeros(3)])
>>> [e.prim.name for e in prog.equations]
['multiply', 'multiply']
>>> [e.prim.name for e in prog.optimize().equations]   # x * ones is x
['multiply']
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
    """``e`` with a broadcast constant operand read as its scalar where that makes ``e`` an identity."""
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
                scalar = e._replace(ins=tuple(ins))
                if program._identity_of(scalar) is not None:
                    return scalar
    return e
