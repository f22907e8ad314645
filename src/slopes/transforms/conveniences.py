"""Derivative conveniences other autodiff libraries offer, under their names.

``elementwise_grad`` (autograd's): the derivative of each output entry with
respect to its own input entry, for elementwise functions. ``ggnvp`` and
``make_ggnvp`` (autograd's ``make_ggnvp``): generalized Gauss-Newton-vector
products ``J^T H_loss J v``, the curvature second-order optimizers use for
least squares and cross-entropy, built from one JVP, one HVP of the loss and
one VJP, never forming ``J`` or the Hessian.
"""

from __future__ import annotations

import functools

import numpy as np

from ..core import pytree
from ..core.trace import shape_of
from ._common import check_callable
from .forward import jvp
from .jacobians import hvp
from .reverse import grad, vjp

__all__ = ["elementwise_grad", "ggnvp", "make_ggnvp"]


def elementwise_grad(fun, argnums=0, has_aux=False):
    """Derivative of each output entry with respect to its input entry, for elementwise ``fun``.

    The gradient of ``sum(fun(x))``, that is the column sums of the Jacobian
    (the vector-Jacobian product with ones), in one reverse pass. For an
    elementwise function (``sin``, an activation, ``x**3 - x``) the Jacobian
    is diagonal and this is exactly ``fun'`` at every entry; for other
    functions it is still the column sums, as in autograd (nothing checks
    that ``fun`` is elementwise).

    Parameters
    ----------
    fun : callable
        Written with :mod:`slopes.numpy`; returns an array (or a pytree of
        arrays, whose entries are all summed).
    argnums : int or tuple of ints
        The positional argument(s) to differentiate with respect to.
    has_aux : bool
        ``fun`` returns ``(output, aux)``; the result is then ``(derivative, aux)``.

    Returns
    -------
    callable
        Returns arrays shaped like the arguments named by ``argnums``.

    Examples
    --------
    >>> import numpy as np, slopes as sl, slopes.numpy as snp
    >>> sl.elementwise_grad(lambda x: x ** 3 - x)(np.array([0.0, 1.0, 2.0]))
    array([-1.,  2., 11.])
    """
    check_callable(fun, "elementwise_grad")

    @functools.wraps(fun)
    def total(*args, **kwargs):
        out = fun(*args, **kwargs)
        aux = None
        if has_aux:
            out, aux = out
        s = sum(leaf.sum() if hasattr(leaf, "sum") else leaf for leaf in pytree.leaves(out))
        return (s, aux) if has_aux else s

    return grad(total, argnums, has_aux)


def _half_squared_norm(y):
    return 0.5 * sum((leaf * leaf).sum() for leaf in pytree.leaves(y))


def ggnvp(fun, x, v, loss=None):
    """Generalized Gauss-Newton-vector product ``J(x)^T H_loss(fun(x)) J(x) v``.

    ``J`` is the Jacobian of ``fun`` at ``x`` and ``H_loss`` the Hessian of
    ``loss`` at ``fun(x)``: the Hessian of ``loss(fun(x))`` without the
    term of ``fun``'s own curvature, positive semi-definite whenever ``loss``
    is convex. Computed as one JVP of ``fun``, one HVP of ``loss`` and one
    VJP of ``fun``, without forming ``J`` or ``H_loss``.

    Parameters
    ----------
    fun : callable
        The model: ``x`` (array or pytree) to outputs ``y`` (array or pytree).
    x : array_like or pytree
        Where to evaluate.
    v : array_like or pytree
        The vector, shaped like ``x``.
    loss : callable, optional
        Scalar function of ``y``. Default: ``0.5 * sum(y**2)`` (summing over
        every entry), for which ``H_loss = I`` and the product is ``J^T J v``,
        the Gauss-Newton matrix of least squares (autograd's default loss
        sums over the last axis only, which is the same for a vector ``y``).

    Returns
    -------
    ndarray or pytree
        Shaped like ``x``.

    See Also
    --------
    make_ggnvp : autograd's spelling, ``make_ggnvp(f, g)(x)(v)``.

    Examples
    --------
    >>> import numpy as np, slopes as sl, slopes.numpy as snp
    >>> A = np.array([[1.0, 2.0], [0.0, 1.0], [1.0, 0.0]])
    >>> sl.ggnvp(lambda x: A @ x, np.zeros(2), np.array([1.0, 0.0]))  # A^T A v
    array([2., 2.])
    """
    check_callable(fun, "ggnvp")
    _check_like(v, x)
    if loss is None:
        loss = _half_squared_norm
    else:
        check_callable(loss, "ggnvp")
        loss = _scalar_valued(loss)
    y, jv = jvp(fun, (x,), (v,))
    _, pull = vjp(fun, x)
    (out,) = pull(hvp(loss, y, jv))
    return out


def _check_like(v, x):
    xs, x_tree = pytree.flatten(x)
    vs, v_tree = pytree.flatten(v)
    if v_tree != x_tree or any(shape_of(a) != np.shape(b) for a, b in zip(xs, vs)):
        raise ValueError(
            f"ggnvp(): v must have x's structure and shapes, {x_tree!r} with shapes "
            f"{[shape_of(a) for a in xs]}; got {v_tree!r} with shapes {[np.shape(b) for b in vs]}"
        )


def _scalar_valued(loss):
    @functools.wraps(loss)
    def checked(y):
        out = loss(y)
        if shape_of(out) != ():
            raise TypeError(
                f"ggnvp(): loss must return a scalar (the loss of fun's output), but it returned "
                f"shape {shape_of(out)}; reduce it, e.g. with snp.sum or snp.mean"
            )
        return out

    return checked


def make_ggnvp(f, g=None, f_argnum=0):
    """autograd's ``make_ggnvp``: ``make_ggnvp(f, g)(*args)(v)`` is :func:`ggnvp` at ``args[f_argnum]``.

    Parameters
    ----------
    f : callable
        The model, differentiated in its argument ``f_argnum``.
    g : callable, optional
        The loss of ``f``'s output (default ``0.5 * sum(y**2)``, see :func:`ggnvp`).
    f_argnum : int
        Which positional argument of ``f`` is ``x``.

    Returns
    -------
    callable
        ``(*args, **kwargs) -> (v -> J^T H_g J v)``.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> A = np.array([[1.0, 2.0], [0.0, 1.0], [1.0, 0.0]])
    >>> sl.make_ggnvp(lambda x: A @ x)(np.zeros(2))(np.array([0.0, 1.0]))
    array([2., 5.])
    """
    check_callable(f, "make_ggnvp")

    def at(*args, **kwargs):
        if not isinstance(f_argnum, int) or not -len(args) <= f_argnum < len(args):
            raise ValueError(
                f"make_ggnvp(): f_argnum={f_argnum!r} does not name one of the {len(args)} "
                "positional argument(s) given"
            )

        def of_x(x):
            full = list(args)
            full[f_argnum] = x
            return f(*full, **kwargs)

        return lambda v: ggnvp(of_x, args[f_argnum], v, loss=g)

    return at
