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
    "frexp_exponent",
    "digitize",
    "isin",
    "lexsort",
    "union1d",
    "intersect1d",
    "setdiff1d",
    "setxor1d",
    "histogram",
    "histogram_bin_edges",
    "histogram2d",
    "histogramdd",
    "packbits",
    "unpackbits",
    "unravel_index",
    "ravel_multi_index",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "bitwise_count",
    "invert",
    "left_shift",
    "right_shift",
    "gcd",
    "lcm",
    "nextafter",
    "spacing",
    "unwrap_correction",
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
frexp_exponent = make_nondiff("frexp_exponent", lambda x: np.frexp(x)[1])

# set operations, binning, sorting keys, index conversions: answers shaped by the values
digitize = _query(np.digitize)
isin = _query(np.isin)
lexsort = _query(np.lexsort)
union1d = _query(np.union1d)
intersect1d = _query(np.intersect1d)
setdiff1d = _query(np.setdiff1d)
setxor1d = _query(np.setxor1d)
histogram = _query(np.histogram)
histogram_bin_edges = _query(np.histogram_bin_edges)
histogram2d = _query(np.histogram2d)
histogramdd = _query(np.histogramdd)
packbits = _query(np.packbits)
unpackbits = _query(np.unpackbits)
unravel_index = _query(np.unravel_index)
ravel_multi_index = _query(np.ravel_multi_index)

# integer arithmetic: elementwise, no derivative
bitwise_and = _query(np.bitwise_and, elementwise=True)
bitwise_or = _query(np.bitwise_or, elementwise=True)
bitwise_xor = _query(np.bitwise_xor, elementwise=True)
bitwise_count = _query(np.bitwise_count, elementwise=True)
invert = _query(np.invert, elementwise=True)
left_shift = _query(np.left_shift, elementwise=True)
right_shift = _query(np.right_shift, elementwise=True)
gcd = _query(np.gcd, elementwise=True)
lcm = _query(np.lcm, elementwise=True)
nextafter = _query(np.nextafter, elementwise=True)
spacing = _query(np.spacing, elementwise=True)
# what unwrap adds to its input: multiples of the period, constant between the jumps
unwrap_correction = _query(lambda p, **options: np.unwrap(p, **options) - p)
unwrap_correction.name = "unwrap_correction"
