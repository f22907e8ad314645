"""Vector calculus on fields written for one point: divergence, curl, Laplacian, gradient and Jacobian fields.

Every operator here takes a field written for **one point** ``x`` of shape
``(D,)`` -- a scalar field ``f(x) -> ()`` or a vector field ``F(x) -> (D,)`` --
and returns a new function of a point. That function accepts

* one point, shape ``(D,)``: it returns the value at that point;
* any array of points, shape ``(..., D)`` (a batch ``(N, D)``, a grid
  ``(20, 20, 2)`` stacked from :func:`numpy.meshgrid`, ...): it returns the
  values at every point, with the leading axes kept, e.g. ``(20, 20)`` for a
  divergence on a 20 x 20 grid. The points are evaluated together by
  :func:`slopes.vmap` over the flattened leading axes (no Python loop over
  points), then reshaped back.

All derivatives are exact (automatic differentiation), and the returned
functions can themselves be differentiated.

Examples
--------
>>> import slopes as sl, slopes.numpy as snp
>>> F = lambda p: snp.array([-p[1], p[0], 0.0 * p[2]])      # rotation about the z axis
>>> sl.calculus.curl(F)(np.array([1.0, 2.0, 3.0]))
array([0., 0., 2.])
>>> xs, ys = np.meshgrid(np.linspace(-1, 1, 4), np.linspace(-1, 1, 3))
>>> grid = np.stack([xs, ys], axis=-1)                     # shape (3, 4, 2)
>>> sl.calculus.laplacian(lambda p: snp.sum(p ** 2))(grid)  # 2 D = 4 everywhere
array([[4., 4., 4., 4.],
       [4., 4., 4., 4.],
       [4., 4., 4., 4.]])
"""

from __future__ import annotations

import math

import numpy as np

from .. import numpy as snp
from ..core.trace import Tracer, shape_of
from ..transforms import grad, hessian, jacfwd, jacobian, vmap

__all__ = ["divergence", "curl", "laplacian", "gradient_field", "jacobian_field"]


def _check_callable(fun, name):
    if not callable(fun):
        raise TypeError(f"{name}() expects a function of one point x of shape (D,), got {type(fun).__name__}")


def _pointwise(per_point, name, dim=None):
    """Lift ``per_point`` (one point of shape (D,)) to points of shape (..., D), vmapped."""

    def evaluate(x):
        if not isinstance(x, Tracer):
            x = np.asarray(x)
            if not np.issubdtype(x.dtype, np.inexact):
                x = x.astype(np.float64)
        shape = tuple(shape_of(x))
        if len(shape) == 0:
            raise ValueError(
                f"{name}(): a point must be an array of shape (D,) (or points of shape (..., D)), got a scalar"
            )
        if dim is not None and shape[-1] != dim:
            raise ValueError(
                f"{name}() is defined for {dim}-D fields only: got points of dimension {shape[-1]} "
                f"(shape {shape}); for a 2-D field (P, Q) use the 3-D field (P, Q, 0), whose curl is "
                "(0, 0, dQ/dx - dP/dy)"
            )
        if len(shape) == 1:
            out = per_point(x)
            return out if isinstance(out, Tracer) else np.asarray(out)
        lead, d = shape[:-1], shape[-1]
        n = math.prod(lead)
        if n == 0:  # no points: learn the per-point shape from one (ignored) evaluation
            with np.errstate(all="ignore"):
                out = np.asarray(per_point(np.ones(d, dtype=x.dtype)))
            return np.zeros(lead + out.shape, dtype=out.dtype)
        out = vmap(per_point)(snp.reshape(x, (n, d)))
        return snp.reshape(out, lead + tuple(shape_of(out))[1:])

    return evaluate


def _square_jacobian(F, x, name):
    J = jacfwd(F)(x)
    d = tuple(shape_of(x))[0]
    if tuple(shape_of(J)) != (d, d):
        out_shape = tuple(shape_of(J))[:-1]
        raise ValueError(
            f"{name}() needs a vector field F: R^{d} -> R^{d}, but F maps a point of shape ({d},) "
            f"to an output of shape {out_shape}"
        )
    return J


def _scalar_check(value_shape, d, name):
    if tuple(value_shape) != ():
        raise ValueError(
            f"{name}() needs a scalar field f: R^{d} -> R, but f returns an output of shape {tuple(value_shape)}"
        )


def divergence(F):
    """The divergence ``div F = sum_i dF_i/dx_i`` of a vector field ``F: R^D -> R^D``.

    The divergence is the trace of the Jacobian. At one point it is computed
    with :func:`slopes.jacfwd`: one batched forward-mode pass pushes the ``D``
    unit directions through ``F`` (the cost of ``D`` Jacobian-vector
    products, each about one evaluation of ``F``) and the diagonal is summed.
    Forward mode is the efficient choice because each ``dF_i/dx_i`` is the
    ``i``-th entry of the column ``J e_i`` -- reverse mode would pay for the
    same ``D`` passes plus a stored tape.

    Parameters
    ----------
    F : callable
        A vector field written for one point: ``F(x)`` with ``x`` of shape
        ``(D,)`` returns an array of shape ``(D,)``.

    Returns
    -------
    callable
        ``div F``: a point ``(D,)`` gives a scalar; points ``(..., D)`` give
        an array of shape ``(...)``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> div = sl.calculus.divergence(lambda p: p)        # the field (x, y, z)
    >>> div(np.array([1.0, 2.0, 3.0]))
    array(3.)
    >>> F = lambda p: snp.array([p[0] ** 2 * p[1], p[1] * p[2], snp.sin(p[2])])
    >>> sl.calculus.divergence(F)(np.array([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0]]))  # 2xy + z + cos z
    array([5., 1.])
    """
    _check_callable(F, "divergence")

    def one(x):
        return snp.trace(_square_jacobian(F, x, "divergence"))

    return _pointwise(one, "divergence")


def curl(F):
    """The curl ``curl F = nabla x F`` of a vector field ``F: R^3 -> R^3``.

    ``curl F = (dF_3/dy - dF_2/dz, dF_1/dz - dF_3/dx, dF_2/dx - dF_1/dy)``,
    read off the Jacobian (forward mode, :func:`slopes.jacfwd`). The curl is
    defined in three dimensions only; points of any other dimension raise a
    ``ValueError``. For a planar field ``(P, Q)``, use ``(P, Q, 0)``: its curl
    is ``(0, 0, dQ/dx - dP/dy)``.

    Parameters
    ----------
    F : callable
        A vector field written for one point: ``F(x)`` with ``x`` of shape
        ``(3,)`` returns an array of shape ``(3,)``.

    Returns
    -------
    callable
        ``curl F``: a point ``(3,)`` gives a vector ``(3,)``; points
        ``(..., 3)`` give an array ``(..., 3)``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> F = lambda p: snp.array([-p[1], p[0], 0.0 * p[2]])   # a rotation
    >>> sl.calculus.curl(F)(np.array([[1.0, 0.0, 0.0], [5.0, -1.0, 2.0]]))
    array([[0., 0., 2.],
           [0., 0., 2.]])
    """
    _check_callable(F, "curl")

    def one(x):
        J = _square_jacobian(F, x, "curl")
        # "+ 0.0" turns the -0.0 of "0 - 0" into 0.0, so a zero component prints as 0.
        return snp.stack([J[2, 1] - J[1, 2], J[0, 2] - J[2, 0], J[1, 0] - J[0, 1]]) + 0.0

    return _pointwise(one, "curl", dim=3)


def laplacian(f):
    """The Laplacian ``Delta f = sum_i d^2 f / dx_i^2`` of a scalar field ``f: R^D -> R``.

    The trace of the Hessian, itself computed as forward over reverse mode
    (:func:`slopes.hessian`).

    Parameters
    ----------
    f : callable
        A scalar field written for one point: ``f(x)`` with ``x`` of shape
        ``(D,)`` returns a scalar.

    Returns
    -------
    callable
        ``Delta f``: a point ``(D,)`` gives a scalar; points ``(..., D)``
        give an array ``(...)``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> lap = sl.calculus.laplacian(lambda p: p[0] ** 2 - p[1] ** 2)   # harmonic
    >>> lap(np.array([0.3, -1.2]))
    array(0.)
    >>> sl.calculus.laplacian(lambda p: snp.sum(p ** 2))(np.ones((2, 5)))   # 2 D, D = 5
    array([10., 10.])
    """
    _check_callable(f, "laplacian")

    def one(x):
        H = hessian(f)(x)
        d = tuple(shape_of(x))[0]
        _scalar_check(tuple(shape_of(H))[:-2], d, "laplacian")
        return snp.trace(H)

    return _pointwise(one, "laplacian")


def gradient_field(f):
    """The gradient field ``nabla f: R^D -> R^D`` of a scalar field ``f``.

    Reverse mode (:func:`slopes.grad`) at every point.

    Parameters
    ----------
    f : callable
        A scalar field written for one point: ``f(x)`` with ``x`` of shape
        ``(D,)`` returns a scalar.

    Returns
    -------
    callable
        ``nabla f``: a point ``(D,)`` gives a vector ``(D,)``; points
        ``(..., D)`` give an array ``(..., D)``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> g = sl.calculus.gradient_field(lambda p: p[0] ** 2 + 3 * p[1])
    >>> g(np.array([[1.0, 0.0], [2.0, 5.0]]))
    array([[2., 3.],
           [4., 3.]])
    """
    _check_callable(f, "gradient_field")

    return _pointwise(grad(f), "gradient_field")


def jacobian_field(F):
    """The Jacobian field ``x -> J_F(x)`` of a field ``F: R^D -> R^M``.

    Each Jacobian has shape ``F(x).shape + (D,)`` (rows are the gradients of
    the components), computed by :func:`slopes.jacobian` (reverse mode when
    ``F`` has at most ``D`` outputs, forward mode otherwise).

    Parameters
    ----------
    F : callable
        A field written for one point: ``F(x)`` with ``x`` of shape ``(D,)``.

    Returns
    -------
    callable
        ``J_F``: a point ``(D,)`` gives ``F(x).shape + (D,)``; points
        ``(..., D)`` give ``(...) + F(x).shape + (D,)``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> J = sl.calculus.jacobian_field(lambda p: snp.array([p[0] * p[1], p[0] + p[1]]))
    >>> J(np.array([2.0, 3.0]))
    array([[3., 2.],
           [1., 1.]])
    >>> J(np.zeros((4, 5, 2))).shape
    (4, 5, 2, 2)
    """
    _check_callable(F, "jacobian_field")

    return _pointwise(jacobian(F), "jacobian_field")
