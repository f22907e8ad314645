"""Non-differentiable questions asked of arrays: searching, counting, comparing, unique values.

Each is a primitive without derivative whose implementation is NumPy's function, so a
traced argument passes through to its value (forward and reverse mode return plain
arrays) and ``slopes.jit`` replays it on new inputs. Under ``vmap`` each example is
answered on its own (the loop fallback), since most answers' shapes depend on values.
"""

from __future__ import annotations

import numpy as np

from ..trace import Tracer
from .rules import make_nondiff

__all__ = [
    "allclose",
    "array_equal",
    "array_equiv",
    "searchsorted",
    "argpartition",
    "unique",
    "bincount",
    "count_nonzero",
    "flatnonzero",
    "argwhere",
    "isreal",
    "iscomplex",
    "isclose",
]


def _query(fn, elementwise=False):
    name = fn.__name__

    def impl(*arrays, **options):
        # options (rtol, side, kth...) steer the answer: a traced one would have NumPy call back here
        for key, v in options.items():
            if isinstance(v, Tracer):
                raise TypeError(
                    f"{name}(): {key} must be a plain value, not a traced one; use sl.stop_gradient({key})"
                )
        return fn(*arrays, **options)

    return make_nondiff(name, impl, batch=elementwise)


allclose = _query(np.allclose)
array_equal = _query(np.array_equal)
array_equiv = _query(np.array_equiv)
searchsorted = _query(np.searchsorted)
argpartition = _query(np.argpartition)
unique = _query(np.unique)
bincount = _query(np.bincount)
count_nonzero = _query(np.count_nonzero)
flatnonzero = _query(np.flatnonzero)
argwhere = _query(np.argwhere)
isreal = _query(np.isreal, elementwise=True)
iscomplex = _query(np.iscomplex, elementwise=True)
isclose = _query(np.isclose, elementwise=True)
