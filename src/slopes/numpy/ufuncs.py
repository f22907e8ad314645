"""Elementwise mathematics: arithmetic, exponentials, trigonometry, comparisons."""

from __future__ import annotations

import functools
import math as _m

import numpy as np

from ..core.dtypes import complex_valued, refuse_complex
from ..core.ops import elementwise as ew
from ._wrap import asarray_args, numpy_function

# name -> (primitive, number of arguments, example "x -> result" checked by doctest)
_TABLE = {
    "add": (ew.add, 2, ">>> float(snp.add(1.0, 2.0))\n3.0"),
    "subtract": (ew.sub, 2, ">>> float(snp.subtract(1.0, 2.0))\n-1.0"),
    "multiply": (ew.mul, 2, ">>> float(snp.multiply(3.0, 2.0))\n6.0"),
    "divide": (ew.div, 2, ">>> float(snp.divide(3.0, 2.0))\n1.5"),
    "power": (ew.power, 2, ">>> float(snp.power(2.0, 3.0))\n8.0"),
    "negative": (ew.neg, 1, ">>> float(snp.negative(2.0))\n-2.0"),
    "absolute": (ew.absolute, 1, ">>> float(snp.absolute(-2.0))\n2.0"),
    "fabs": (ew.absolute, 1, ">>> float(snp.fabs(-2.0))\n2.0"),
    "exp": (ew.exp, 1, ">>> float(snp.exp(0.0))\n1.0"),
    "exp2": (ew.exp2, 1, ">>> float(snp.exp2(3.0))\n8.0"),
    "expm1": (ew.expm1, 1, ">>> float(snp.expm1(0.0))\n0.0"),
    "log": (ew.log, 1, ">>> float(snp.log(1.0))\n0.0"),
    "log2": (ew.log2, 1, ">>> float(snp.log2(8.0))\n3.0"),
    "log10": (ew.log10, 1, ">>> float(snp.log10(100.0))\n2.0"),
    "log1p": (ew.log1p, 1, ">>> float(snp.log1p(0.0))\n0.0"),
    "sqrt": (ew.sqrt, 1, ">>> float(snp.sqrt(9.0))\n3.0"),
    "cbrt": (ew.cbrt, 1, ">>> float(snp.cbrt(27.0))\n3.0"),
    "square": (ew.square, 1, ">>> float(snp.square(3.0))\n9.0"),
    "reciprocal": (ew.reciprocal, 1, ">>> float(snp.reciprocal(4.0))\n0.25"),
    "sin": (ew.sin, 1, ">>> float(snp.sin(0.0))\n0.0"),
    "cos": (ew.cos, 1, ">>> float(snp.cos(0.0))\n1.0"),
    "tan": (ew.tan, 1, ">>> float(snp.tan(0.0))\n0.0"),
    "arcsin": (ew.arcsin, 1, ">>> float(snp.arcsin(0.0))\n0.0"),
    "arccos": (ew.arccos, 1, ">>> float(snp.arccos(1.0))\n0.0"),
    "arctan": (ew.arctan, 1, ">>> float(snp.arctan(0.0))\n0.0"),
    "arctan2": (ew.arctan2, 2, ">>> float(snp.arctan2(0.0, 1.0))\n0.0"),
    "sinh": (ew.sinh, 1, ">>> float(snp.sinh(0.0))\n0.0"),
    "cosh": (ew.cosh, 1, ">>> float(snp.cosh(0.0))\n1.0"),
    "tanh": (ew.tanh, 1, ">>> float(snp.tanh(0.0))\n0.0"),
    "arcsinh": (ew.arcsinh, 1, ">>> float(snp.arcsinh(0.0))\n0.0"),
    "arccosh": (ew.arccosh, 1, ">>> float(snp.arccosh(1.0))\n0.0"),
    "arctanh": (ew.arctanh, 1, ">>> float(snp.arctanh(0.0))\n0.0"),
    "hypot": (ew.hypot, 2, ">>> float(snp.hypot(3.0, 4.0))\n5.0"),
    "logaddexp": (ew.logaddexp, 2, ">>> float(round(snp.logaddexp(0.0, 0.0), 6))\n0.693147"),
    "maximum": (ew.maximum, 2, ">>> float(snp.maximum(1.0, 2.0))\n2.0"),
    "minimum": (ew.minimum, 2, ">>> float(snp.minimum(1.0, 2.0))\n1.0"),
    "floor": (ew.floor, 1, ">>> float(snp.floor(1.5))\n1.0"),
    "ceil": (ew.ceil, 1, ">>> float(snp.ceil(1.5))\n2.0"),
    "rint": (ew.rint, 1, ">>> float(snp.rint(1.4))\n1.0"),
    "trunc": (ew.trunc, 1, ">>> float(snp.trunc(-1.5))\n-1.0"),
    "floor_divide": (ew.floor_divide, 2, ">>> float(snp.floor_divide(7.0, 2.0))\n3.0"),
    "equal": (ew.equal, 2, ">>> bool(snp.equal(1.0, 1.0))\nTrue"),
    "not_equal": (ew.not_equal, 2, ">>> bool(snp.not_equal(1.0, 1.0))\nFalse"),
    "less": (ew.less, 2, ">>> bool(snp.less(1.0, 2.0))\nTrue"),
    "less_equal": (ew.less_equal, 2, ">>> bool(snp.less_equal(2.0, 2.0))\nTrue"),
    "greater": (ew.greater, 2, ">>> bool(snp.greater(1.0, 2.0))\nFalse"),
    "greater_equal": (ew.greater_equal, 2, ">>> bool(snp.greater_equal(2.0, 2.0))\nTrue"),
    "logical_and": (ew.logical_and, 2, ">>> bool(snp.logical_and(True, False))\nFalse"),
    "logical_or": (ew.logical_or, 2, ">>> bool(snp.logical_or(True, False))\nTrue"),
    "logical_xor": (ew.logical_xor, 2, ">>> bool(snp.logical_xor(True, True))\nFalse"),
    "logical_not": (ew.logical_not, 1, ">>> bool(snp.logical_not(True))\nFalse"),
    "isfinite": (ew.isfinite, 1, ">>> bool(snp.isfinite(1.0))\nTrue"),
    "isnan": (ew.isnan, 1, ">>> bool(snp.isnan(1.0))\nFalse"),
    "isinf": (ew.isinf, 1, ">>> bool(snp.isinf(1.0))\nFalse"),
    "signbit": (ew.signbit, 1, ">>> bool(snp.signbit(-1.0))\nTrue"),
}

_NOTES = {
    "absolute": "The derivative at 0 is taken to be 0 (a valid subgradient).",
    "maximum": "Where the arguments tie, each receives half of the derivative.",
    "minimum": "Where the arguments tie, each receives half of the derivative.",
    "hypot": "At (0, 0) the gradient is taken to be 0 (a valid subgradient).",
}

# what to use instead, for the functions NumPy defines on real numbers only
_PARTS = "apply it to snp.real(z) and snp.imag(z) separately"
_REAL_ONLY = {
    "arctan2": "the argument of z is snp.angle(z)",
    "hypot": "the modulus of z is snp.abs(z)",
    "logaddexp": "write snp.log(snp.exp(x) + snp.exp(y))",
    "cbrt": "the principal cube root is z ** (1 / 3)",
    "fabs": "the modulus of z is snp.abs(z)",
    "signbit": "test snp.signbit(snp.real(z))",
    "floor": _PARTS,
    "ceil": _PARTS,
    "trunc": _PARTS,
    "floor_divide": _PARTS,
}


def _real_only(fn, hint):
    @functools.wraps(fn)
    def checked(*args):
        args = asarray_args(args)
        refuse_complex(fn.__name__, args, hint)
        return fn(*args)

    return checked


for _name, (_prim, _n, _ex) in _TABLE.items():
    _fn = numpy_function(_name, _prim, _n, _ex, _NOTES.get(_name, ""), __name__)
    globals()[_name] = _real_only(_fn, _REAL_ONLY[_name]) if _name in _REAL_ONLY else _fn

# NumPy's other names for the same functions
_ALIASES = {
    "abs": "absolute",
    "true_divide": "divide",
    "pow": "power",
    "asin": "arcsin",
    "acos": "arccos",
    "atan": "arctan",
    "atan2": "arctan2",
    "asinh": "arcsinh",
    "acosh": "arccosh",
    "atanh": "arctanh",
}
for _alias, _target in _ALIASES.items():
    globals()[_alias] = globals()[_target]


def positive(x):
    """Differentiable ``numpy.positive``: returns ``x``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> float(snp.positive(-2.0))
    -2.0
    """
    return x


def round(x, decimals=0):  # noqa: A001 - NumPy's name
    """Differentiable ``numpy.round`` (derivative 0 almost everywhere).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> float(snp.round(2.567, 1))
    2.6
    """
    return ew.round_(*asarray_args((x,)), decimals=decimals)


around = round


def mod(x, y):
    """Differentiable ``numpy.mod``: ``x - floor(x / y) * y``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> float(snp.mod(7.0, 3.0))
    1.0
    """
    x, y = asarray_args((x, y))
    refuse_complex("mod", (x, y), _PARTS)
    return ew.sub(x, ew.mul(ew.floor_divide(x, y), y))


remainder = mod


def sign(x):
    """Differentiable ``numpy.sign``: -1, 0 or 1 for reals; ``z / |z|`` for complex (0 at 0).

    For real ``x`` the derivative is 0 (everywhere, as in JAX and autograd).
    For complex ``z`` NumPy (>= 2) defines ``sign(z) = z / |z|``, a smooth map
    away from 0, and its derivative is that of ``z / |z|`` (JAX gives 0 there);
    at ``z = 0`` the value and the derivative are 0.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.sign(-3.0)), complex(snp.sign(3.0 + 4.0j))
    (-1.0, (0.6+0.8j))
    >>> complex(sl.grad(lambda z: snp.imag(snp.sign(z)))(2.0 + 0.0j))   # d/dy (y / |z|) = 1/2 at z = 2
    -0.5j
    """
    (x,) = asarray_args((x,))
    if not complex_valued(x):
        return ew.sign(x)
    zero = ew.equal(x, 0)
    smooth = ew.where(zero, 0.0, ew.div(x, ew.where(zero, 1.0, ew.absolute(x))))
    # NumPy's exact value, and the derivative of z / |z| (smooth - smooth is exactly 0 in value)
    return ew.add(ew.sign(x), ew.sub(smooth, ew.stop_gradient(smooth)))


def where(condition, x=None, y=None):
    """Differentiable ``numpy.where``: ``x`` where ``condition`` holds, else ``y``.

    The branch not taken never leaks NaN or inf into the derivative:
    ``where(x > 0, sqrt(x), 0.0)`` has derivative 0 at ``x = -1``.
    With only ``condition``, returns the indices of its non-zero entries.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> f = lambda x: snp.where(x > 0, snp.sqrt(x), 0.0)
    >>> with np.errstate(invalid="ignore"):  # sqrt(-1) is still evaluated, as in NumPy
    ...     float(sl.grad(f)(-1.0))
    0.0
    """
    if x is None and y is None:
        from .queries import nonzero  # a primitive: sl.jit replays it on new values

        return nonzero(condition)
    if x is None or y is None:
        raise TypeError("where() takes either 1 or 3 arguments: where(condition, x, y)")
    return ew.where(*asarray_args((condition, x, y)))


def stop_gradient(x):
    """The value of ``x``, seen by every transform as a constant (its derivative is 0).

    Use it to hold part of a computation fixed (a target network, a shift
    that only guards against overflow), or to read a traced value.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(sl.grad(lambda x: x * snp.stop_gradient(x))(3.0))   # d/dx [x * c] = c
    3.0
    """
    return ew.stop_gradient(*asarray_args((x,)))


def clip(x, a_min=None, a_max=None):
    """Differentiable ``numpy.clip``.

    The derivative with respect to ``x`` is 1 where ``a_min <= x <= a_max``
    (bounds included) and 0 outside; the bounds may be traced too.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.clip(5.0, 0.0, 1.0))
    1.0
    >>> float(sl.grad(lambda x: snp.clip(x, 0.0, 1.0))(0.5))
    1.0
    """
    if a_min is None and a_max is None:
        raise ValueError("clip() needs at least one of a_min and a_max")
    lo = -_m.inf if a_min is None else a_min
    hi = _m.inf if a_max is None else a_max
    return ew.clip(*asarray_args((x, lo, hi)))


__all__ = sorted(
    list(_TABLE)
    + list(_ALIASES)
    + ["sign", "positive", "round", "around", "mod", "remainder", "where", "clip", "stop_gradient"]
)
