"""Functions that apply a function: ``apply_along_axis``, ``apply_over_axes``, ``vectorize``,
``piecewise``, ``fromfunction``.

``apply_along_axis`` and ``vectorize`` map the function over the slices or entries
with batching (as ``sl.vmap`` does), not a Python loop, so they run at NumPy speed
and are differentiable when the function is. ``piecewise`` evaluates each piece
everywhere and selects with ``where``: pieces never leak NaN or inf where they are
not selected.
"""

from __future__ import annotations

import numpy as np

from ..core.batching import vmap_call
from ..core.ops import elementwise as ew
from ..core.trace import shape_of
from ._axes import normalize_axis
from .creation import asarray
from .shapes import broadcast_arrays, moveaxis, reshape

__all__ = ["apply_along_axis", "apply_over_axes", "vectorize", "piecewise", "fromfunction"]


def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """Differentiable ``numpy.apply_along_axis``: ``func1d`` applied to every 1-d slice along ``axis``.

    The result's axes from ``func1d`` take the place of ``axis``, as in NumPy.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.apply_along_axis(lambda r: r[0] * r[-1], 1, np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([ 2., 12.])
    >>> sl.grad(lambda a: snp.apply_along_axis(snp.sort, 0, a)[0].sum())(np.array([[2.0], [1.0]]))
    array([[0.],
           [1.]])
    """
    arr = asarray(arr)
    shape = tuple(shape_of(arr))
    axis = normalize_axis(axis, len(shape))
    lead = shape[:axis] + shape[axis + 1 :]
    rows = reshape(moveaxis(arr, axis, -1), (-1, shape[axis]))
    count = shape_of(rows)[0]
    if count == 0:
        raise ValueError("apply_along_axis(): cannot apply the function to 0 slices")
    (out,) = vmap_call(lambda r: [asarray(func1d(r, *args, **kwargs))], [rows], [True], count)
    result = tuple(out.shape[1:])
    out = reshape(out, lead + result)
    return moveaxis(out, tuple(range(len(lead), len(lead) + len(result))), tuple(range(axis, axis + len(result))))


def vectorize(pyfunc, otypes=None, doc=None, excluded=None, cache=False, signature=None):
    """Differentiable ``numpy.vectorize``: a scalar function applied to every entry of broadcast arrays.

    The entries are processed together by batching (``sl.vmap``), so ``pyfunc``
    must be written with array operations (``snp.where``, not ``if``).
    Arguments named in ``excluded`` (positions or keywords) are passed whole.
    ``signature`` (generalized ufuncs) is not supported: use ``sl.vmap`` there.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> f = snp.vectorize(lambda a, b: snp.maximum(a, b) ** 2)
    >>> f(np.array([1.0, -3.0]), 0.5)
    array([1.  , 0.25])
    >>> sl.grad(lambda x: f(x, 0.5).sum())(np.array([1.0, -3.0]))
    array([2., 0.])
    """
    if signature is not None:
        raise NotImplementedError("vectorize(): signature= is not supported; map the core dimensions with sl.vmap")
    excluded = set() if excluded is None else set(excluded)

    def vectorized(*args, **kwargs):
        mapped = [i for i in range(len(args)) if i not in excluded]
        mapped_kw = [k for k in kwargs if k not in excluded]
        values = broadcast_arrays(*[asarray(args[i]) for i in mapped], *[asarray(kwargs[k]) for k in mapped_kw])
        shape = tuple(shape_of(values[0])) if values else ()
        size = int(np.prod(shape))
        flat = [reshape(v, (size,)) for v in values]

        def one(*entries):
            full, kw = list(args), dict(kwargs)
            for i, e in zip(mapped, entries):
                full[i] = e
            for k, e in zip(mapped_kw, entries[len(mapped) :]):
                kw[k] = e
            return [asarray(pyfunc(*full, **kw))]

        if size == 0 or not flat:
            return asarray(pyfunc(*args, **kwargs))
        (out,) = vmap_call(one, flat, [True] * len(flat), size)
        return reshape(out, shape + tuple(out.shape[1:]))

    vectorized.__doc__ = doc if doc is not None else getattr(pyfunc, "__doc__", None)
    return vectorized


def piecewise(x, condlist, funclist, *args, **kw):
    """Differentiable ``numpy.piecewise``: ``funclist[i]`` where ``condlist[i]`` holds (0 elsewhere).

    As in NumPy, a function or a constant per condition, one extra entry for
    where no condition holds, and the last true condition wins. Each function is
    evaluated on all of ``x`` and selected with ``where``, so a piece never leaks
    NaN or inf into the value or derivative where it is not chosen.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> x = np.array([-2.0, 0.5, 3.0])
    >>> snp.piecewise(x, [x < 0, x >= 1], [lambda v: -v, 1.0, lambda v: v ** 2])
    array([2.  , 0.25, 1.  ])
    >>> sl.grad(lambda x: snp.piecewise(x, [x < 0], [lambda v: -v, snp.sqrt]).sum())(np.array([-1.0, 4.0]))
    array([-1.  ,  0.25])
    """
    x = asarray(x)
    if not isinstance(condlist, (list, tuple)) or (len(condlist) and np.ndim(condlist[0]) == 0 and len(shape_of(x))):
        condlist = [condlist]
    conds = [asarray(c) for c in condlist]
    n = len(conds)
    if len(funclist) not in (n, n + 1):
        raise ValueError(
            f"piecewise(): {n} condition(s) need {n} or {n + 1} functions, got {len(funclist)}"
        )

    def value(f):
        with np.errstate(all="ignore"):  # a piece evaluated where it is not chosen may overflow
            return f(x, *args, **kw) if callable(f) else f

    if len(funclist) == n + 1:  # the last entry: where no condition holds
        none = conds[0]
        for c in conds[1:]:
            none = ew.logical_or(none, c)
        conds, funclist = conds + [ew.logical_not(none)], list(funclist)
    out = ew.mul(x, 0.0)
    for c, f in zip(conds, funclist):
        out = ew.where(c, value(f), out)
    return out


def apply_over_axes(func, a, axes):
    """Differentiable ``numpy.apply_over_axes``: ``func(a, axis)`` over each axis in turn, keeping dimensions.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.apply_over_axes(snp.sum, np.ones((2, 3)), [0, 1])
    array([[6.]])
    """
    out = asarray(a)
    nd = len(shape_of(out))
    for axis in np.atleast_1d(axes):
        axis = normalize_axis(int(axis), nd)
        res = asarray(func(out, axis))
        if len(shape_of(res)) == nd - 1:  # a reduction dropped the axis: put it back, as NumPy
            res = reshape(res, tuple(shape_of(res))[:axis] + (1,) + tuple(shape_of(res))[axis:])
        elif len(shape_of(res)) != nd:
            raise ValueError("apply_over_axes(): func must keep or drop exactly the axis it is given")
        out = res
    return out


def fromfunction(function, shape, *, dtype=float, **kwargs):
    """``numpy.fromfunction``: ``function`` called once with the index grids of ``shape``.

    The grids are constants; whatever ``function`` computes with traced values it
    closes over stays differentiable.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.fromfunction(lambda i, j: i + 2 * j, (2, 2))
    array([[0., 2.],
           [1., 3.]])
    >>> float(sl.grad(lambda s: snp.fromfunction(lambda i, j: s * i * j, (2, 3)).sum())(1.0))
    3.0
    """
    return function(*np.indices(shape, dtype=dtype), **kwargs)
