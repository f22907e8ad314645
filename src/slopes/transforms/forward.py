"""Forward mode: ``jvp``, ``derivative`` (Taylor mode, any order) and ``directional_derivative``."""

from __future__ import annotations

import functools

import numpy as np

from ..core import pytree
from ..core.dtypes import complex_valued
from ..core.forward import jvp_call
from ..core.taylor import taylor_call
from ..core.trace import Tracer, shape_of
from ._common import Flat, as_input, as_output, check_callable, fun_name, zeros_like

__all__ = ["jvp", "derivative", "directional_derivative"]


def jvp(fun, primals, tangents):
    """Evaluate ``fun(*primals)`` and its directional derivative ``J @ tangents``.

    Parameters
    ----------
    fun : callable
    primals : tuple
        The arguments of ``fun`` (arrays or pytrees).
    tangents : tuple
        One tangent per primal, of the same shapes.

    Returns
    -------
    (out, tangent_out)

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> sl.jvp(snp.sin, (0.0,), (2.0,))
    (array(0.), array(2.))
    """
    check_callable(fun, "jvp")
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp(fun, primals, tangents): primals and tangents must be tuples, e.g. (x,), (v,)")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp(): {len(primals)} primal(s) but {len(tangents)} tangent(s)")
    flat = Flat(fun, tuple(primals), {}, tuple(range(len(primals))), "jvp")
    tans, ttree = pytree.flatten(list(tangents))
    ptree = pytree.flatten(list(primals))[1]
    if ttree != ptree:
        raise ValueError(f"jvp(): tangents have structure {ttree!r}, primals {ptree!r}")
    tans = [_tangent_like(t, p) for t, p in zip(tans, flat.leaves)]
    outs, touts = jvp_call(flat, flat.leaves, tans)
    out = pytree.unflatten(flat.out_tree, [as_output(o) for o in outs])
    tout = pytree.unflatten(
        flat.out_tree,
        [zeros_like(o) if t is None else as_output(t) for o, t in zip(outs, touts)],
    )
    return out, tout


def _tangent_like(t, p):
    if complex_valued(t if isinstance(t, Tracer) else np.asarray(t)) and not complex_valued(p):
        # casting would drop the imaginary part: a direction that does not exist for a real input
        raise TypeError(
            f"jvp(): a complex tangent for a real primal of dtype {p.dtype}: a real input only moves along "
            f"the real line. Pass a real tangent (e.g. np.real(v)), or make the primal complex "
            f"(x.astype(complex)) to differentiate along a complex direction."
        )
    t = t if isinstance(t, Tracer) else np.asarray(t, dtype=p.dtype)
    if shape_of(t) != shape_of(p):
        raise ValueError(f"jvp(): tangent of shape {shape_of(t)} for a primal of shape {shape_of(p)}")
    return t


def derivative(fun, order=1):
    """The ``order``-th derivative of a scalar function of one variable.

    ``fun`` maps a scalar to a scalar; called with an array, the derivative is
    taken entry by entry, which is right for functions that act elementwise.
    Order 0 returns ``fun`` itself. All orders are computed in one Taylor-mode
    pass (``O(order**2)`` work, not the ``O(2**order)`` of nested derivatives).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> g = lambda x: snp.sin(x) + snp.cos(x)
    >>> [float(sl.derivative(g, order=n)(0.0)) for n in range(5)]
    [1.0, 1.0, -1.0, -1.0, 1.0]
    """
    check_callable(fun, "derivative")
    if not isinstance(order, (int, np.integer)) or order < 0:
        raise ValueError(f"derivative(): order must be a non-negative integer, got {order!r}")
    order = int(order)
    scale = 1.0  # order!, as a float (inf beyond float range rather than an error)
    for k in range(2, order + 1):
        scale *= k

    @functools.wraps(fun)
    def wrapped(x):
        x = as_input(x, "derivative", "the point")
        if order == 0:
            return as_output(fun(x))

        # the line x + t: series [1, 0, ..., 0]; the order-th coefficient is f^(n)(x) / n!
        shape = shape_of(x)
        one = x.dtype.type(1) if shape == () else np.ones(shape, dtype=x.dtype)
        line = [one] + [None] * (order - 1)
        outs, series = taylor_call(lambda y: [fun(y)], [x], [line], order)
        out = outs[0]
        if shape_of(out) != shape_of(x):
            raise TypeError(
                f"derivative() needs a scalar (or elementwise) function; {fun_name(fun)} "
                f"maps shape {shape_of(x)} to {shape_of(out)}. Use sl.grad or sl.jacobian."
            )
        c = None if series[0] is None else series[0][-1]
        if c is None:
            return np.zeros(shape_of(x), dtype=x.dtype)
        return as_output(c * scale if order > 1 else c)

    return wrapped


def directional_derivative(fun, x, u, normalize=False):
    """The rate of change of ``fun`` at ``x`` along ``u``: ``grad f(x) @ u``.

    Parameters
    ----------
    normalize : bool
        Divide ``u`` by its length first, giving the slope per unit distance.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> f = lambda x: x[0] ** 2 + 3 * x[1]
    >>> float(sl.directional_derivative(f, np.array([1.0, 0.0]), np.array([1.0, 1.0])))
    5.0
    """
    check_callable(fun, "directional_derivative")
    u = np.asarray(u, dtype=np.result_type(np.asarray(x).dtype, np.float64) if not isinstance(x, Tracer) else x.dtype)
    if normalize:
        n = np.linalg.norm(u)
        if n == 0:
            raise ValueError("directional_derivative(): u is the zero vector and cannot be normalized")
        u = u / n
    out, t = jvp(fun, (x,), (u,))
    if np.shape(out) != ():
        raise TypeError(
            f"directional_derivative() needs a scalar function; {fun_name(fun)} returned shape "
            f"{np.shape(out)}. Use sl.jvp for the directional derivative of a vector function."
        )
    return t
