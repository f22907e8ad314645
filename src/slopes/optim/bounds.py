"""Reading ``bounds=``: scipy's spellings with scipy's meanings, and nothing read by guesswork.

scipy spells a box two ways: ``scipy.optimize.minimize`` takes one ``(min, max)`` pair per
coordinate, ``least_squares`` and ``lsq_linear`` take ``(lower, upper)``. For two
coordinates a tuple of two pairs reads both ways with different meanings; that one form is
refused with both readings shown, and every other form has exactly one reading.
:func:`read_bounds` is the one reader: :func:`slopes.minimize` turns its result into a
:func:`~slopes.optim.projections.box` for every method that takes ``bounds=``.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

__all__ = ["read_bounds"]

_SPELLINGS = (
    "a list of (min, max) pairs, one per coordinate (scipy.optimize.minimize's form; None for no "
    "bound), scipy.optimize.Bounds(lower, upper), or (lo, hi) with two numbers for one box "
    "lo <= x[i] <= hi on every coordinate"
)


def read_bounds(bounds, shape) -> tuple[np.ndarray, np.ndarray]:
    """The box ``(lower, upper)`` that ``bounds`` describes, for points of ``shape``.

    Accepted spellings (``n`` is the number of coordinates, counted in ``x0``'s flat order):

    - ``scipy.optimize.Bounds(lb, ub)`` (or any object with ``.lb`` and ``.ub``): scalars
      or arrays broadcasting to ``shape``.
    - a list of ``n`` pairs ``(min, max)``, or an array of shape ``(n, 2)``: scipy.optimize.minimize's
      meaning; ``None`` (or ``-inf`` / ``inf``) for no bound.
    - ``(lo, hi)`` with two numbers (or None): one box ``lo <= x[i] <= hi`` for every coordinate.
    - a tuple ``(lower, upper)`` of arrays broadcasting to ``shape`` (scipy.optimize.least_squares'
      meaning), where it cannot be read as pairs.

    Parameters
    ----------
    bounds : see above
    shape : tuple of int
        The shape of the points (``x0.shape``).

    Returns
    -------
    lower, upper : ndarray
        Float arrays of ``shape``; ``-inf`` / ``inf`` where unbounded.

    Raises
    ------
    ValueError
        For a spelling with no reading, a tuple (or array) of two pairs for two coordinates
        (it reads both as pairs and as (lower, upper); the message shows both and how to
        write each), a NaN bound, or a lower bound above its upper bound.

    Examples
    --------
    >>> from slopes.optim.bounds import read_bounds
    >>> read_bounds([(0, 1), (2, None)], (2,))
    (array([0., 2.]), array([ 1., inf]))
    >>> read_bounds((-1, 1), (3,))
    (array([-1., -1., -1.]), array([1., 1., 1.]))
    >>> read_bounds(((0, 1), (2, 3)), (2,))
    Traceback (most recent call last):
    ...
    ValueError: bounds=((0, 1), (2, 3)) is ambiguous for 2 coordinates: ...
    """
    shape = tuple(int(s) for s in shape)
    n = math.prod(shape)
    if hasattr(bounds, "lb") and hasattr(bounds, "ub"):
        box = _lower_upper((bounds.lb, bounds.ub), shape)
        if box is None:
            raise ValueError(
                f"bounds: Bounds(lb={bounds.lb!r}, ub={bounds.ub!r}) do not broadcast to the shape "
                f"{shape} of x0; give scalars or arrays of that shape"
            )
    else:
        box = _one_reading(bounds, shape, n)
    return _checked(*box)


def _one_reading(bounds, shape, n):
    try:
        sized = not isinstance(bounds, (str, bytes, dict)) and len(bounds) >= 0
    except TypeError:  # a number, a 0-d array, a generator
        sized = False
    if not sized:
        raise ValueError(f"bounds={bounds!r} cannot be read for {n} coordinates; give {_SPELLINGS}")
    pairs = _pairs(bounds, shape, n)
    lower_upper = _lower_upper(bounds, shape)
    if isinstance(bounds, list) and not all(_is_number(b) for b in bounds):
        lower_upper = None  # a list is scipy.optimize.minimize's form: pairs (or one box lo, hi)
    if pairs is None and lower_upper is None:
        got = f"{len(bounds)} entries" if len(bounds) != n else "entries that are not (min, max) pairs"
        raise ValueError(f"bounds={bounds!r} cannot be read for {n} coordinates (got {got}); give {_SPELLINGS}")
    if pairs is None or lower_upper is None or _same(pairs, lower_upper):
        return lower_upper if pairs is None else pairs
    raise ValueError(
        f"bounds={bounds!r} is ambiguous for {n} coordinates: read as (min, max) pairs "
        f"(scipy.optimize.minimize's meaning) it is {_describe(pairs)}; read as (lower, upper) "
        f"(scipy.optimize.least_squares' meaning) it is {_describe(lower_upper)}. Write the first "
        f"as a list of pairs, bounds={_as_pairs(pairs)}, or the second as "
        f"bounds=scipy.optimize.Bounds({_as_list(lower_upper[0])}, {_as_list(lower_upper[1])})"
    )


def _limit(value, unbounded):
    """A float array from a bound (``None`` entries mean ``unbounded``), or None if not numbers."""
    if value is None:
        return np.array(unbounded)
    try:
        arr = np.asarray(value, dtype=object)
        if arr.dtype == object:
            arr = np.frompyfunc(lambda v: unbounded if v is None else v, 1, 1)(arr)
        return np.asarray(arr, dtype=float)
    except (TypeError, ValueError):
        return None


def _is_number(v):
    return v is None or (isinstance(v, (Real, np.number)) and not isinstance(v, bool))


def _pairs(bounds, shape, n):
    """The reading as one (min, max) pair per coordinate, or None."""
    if len(bounds) != n:
        return None
    lo, hi = [], []
    for p in bounds:
        if isinstance(p, (str, bytes)) or not hasattr(p, "__len__") or len(p) != 2:
            return None
        if not (_is_number(p[0]) and _is_number(p[1])):
            return None
        lo.append(_limit(p[0], -np.inf))
        hi.append(_limit(p[1], np.inf))
    return np.reshape(lo, shape), np.reshape(hi, shape)


def _lower_upper(bounds, shape):
    """The reading as (lower, upper), each broadcasting to ``shape``, or None."""
    if len(bounds) != 2:
        return None
    lo, hi = _limit(bounds[0], -np.inf), _limit(bounds[1], np.inf)
    if not (_broadcasts_to(lo, shape) and _broadcasts_to(hi, shape)):
        return None
    return np.broadcast_to(lo, shape).copy(), np.broadcast_to(hi, shape).copy()


def _broadcasts_to(b, shape):
    try:
        return b is not None and np.broadcast_shapes(b.shape, shape) == shape
    except ValueError:
        return False


def _same(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a, b))


def _checked(lo, hi):
    if np.isnan(lo).any() or np.isnan(hi).any():
        raise ValueError("bounds must not be NaN (use None or +-inf for 'no bound')")
    bad = np.flatnonzero(lo > hi)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"bounds: the lower bound {lo.flat[i]:g} of x[{i}] is above its upper bound {hi.flat[i]:g}"
        )
    return lo, hi


def _describe(box):
    lo, hi = box
    return ", ".join(f"x[{i}] in [{a:g}, {b:g}]" for i, (a, b) in enumerate(zip(lo.flat, hi.flat)))


def _code(v, unbounded="None"):
    """A bound as Python source: a number, or ``unbounded`` for an infinite one."""
    if not math.isinf(v):
        return f"{v:g}"
    return unbounded if unbounded == "None" else ("-" if v < 0 else "") + unbounded


def _as_pairs(box):
    return "[" + ", ".join(f"({_code(a)}, {_code(b)})" for a, b in zip(box[0].flat, box[1].flat)) + "]"


def _as_list(arr):
    return "[" + ", ".join(_code(v, "np.inf") for v in arr.flat) + "]"
