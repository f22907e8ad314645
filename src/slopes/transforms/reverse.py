"""Reverse mode: ``grad``, ``value_and_grad`` and ``vjp``."""

from __future__ import annotations

import functools

import numpy as np

from ..core import pytree
from ..core.dtypes import is_complex, is_floating
from ..core.reverse import vjp_call
from ..core.trace import Tracer, shape_of
from ._common import Flat, as_output, check_callable, fun_name, normalize_argnums, zeros_like

__all__ = ["grad", "value_and_grad", "vjp"]


def value_and_grad(fun, argnums=0, has_aux=False, holomorphic=False):
    """Make a function returning ``(fun(*args), gradient)`` in one pass.

    Parameters
    ----------
    fun : callable
        Scalar-valued function of arrays (or pytrees of arrays).
    argnums : int or tuple of ints
        Which positional arguments to differentiate with respect to. With a
        tuple, the gradient is a tuple with one entry per argument.
    has_aux : bool
        ``fun`` returns ``(value, aux)``; then the result is
        ``((value, aux), gradient)`` and ``aux`` is passed through undifferentiated.
    holomorphic : bool
        ``fun`` is complex-valued and holomorphic in complex inputs; see :func:`grad`.

    Returns
    -------
    callable
        Same arguments as ``fun``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> value, g = sl.value_and_grad(lambda x: snp.sum(x ** 2))(np.array([1.0, 2.0]))
    >>> float(value), g
    (5.0, array([2., 4.]))
    """
    check_callable(fun, "value_and_grad")

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        nums, single = normalize_argnums(argnums, len(args), "grad")
        flat = Flat(fun, args, kwargs, nums, "grad", has_aux, holomorphic)
        outs, pullback = vjp_call(flat, flat.leaves)
        if flat.out_tree.num_leaves != 1 or flat.out_tree.kind != "leaf":
            raise TypeError(
                f"grad() needs a function returning one scalar; {fun_name(fun)} returned "
                f"{flat.out_tree!r} structure. If it returns (value, extra), pass has_aux=True."
            )
        (out,) = outs
        shape = shape_of(out)
        if shape != ():
            raise TypeError(
                f"grad() needs a scalar-valued function, but {fun_name(fun)} returned an "
                f"array of shape {shape}. Reduce it to a scalar (e.g. snp.sum or snp.mean), "
                f"or use sl.jacobian / sl.jacrev for the derivative of a vector output."
            )
        dtype = out.dtype if hasattr(out, "dtype") else np.result_type(out)
        if holomorphic:
            _check_holomorphic(fun, dtype)
        elif not is_floating(dtype):
            hint = (
                " For a holomorphic function pass holomorphic=True; otherwise differentiate a "
                "real part of it (snp.real, snp.abs)." if is_complex(dtype) else ""
            )
            raise TypeError(f"grad(): the output of {fun_name(fun)} has dtype {dtype}, not a float.{hint}")
        cts = pullback([dtype.type(1)])  # a NumPy scalar: fast arithmetic
        grads = [
            zeros_like(x) if c is None else as_output(c, x) for x, c in zip(flat.leaves, cts)
        ]
        g = flat.in_structure(grads, single)
        value = as_output(out)
        if has_aux:
            return (value, flat.lowered_aux()), g
        return value, g

    return wrapped


def _check_holomorphic(fun, dtype):
    if not is_complex(dtype):
        raise TypeError(
            f"grad(holomorphic=True): the output of {fun_name(fun)} has dtype {dtype}, not a "
            "complex one. Drop holomorphic=True for a real-valued function."
        )


def grad(fun, argnums=0, has_aux=False, holomorphic=False):
    """Make a function returning the gradient of a scalar-valued ``fun``.

    Parameters
    ----------
    fun : callable
        Written with :mod:`slopes.numpy`; returns a scalar.
    argnums : int or tuple of ints
        The positional argument(s) to differentiate with respect to.
    has_aux : bool
        ``fun`` returns ``(value, aux)``; the result is then ``(gradient, aux)``.
    holomorphic : bool
        ``fun`` is complex-valued and holomorphic in its (complex) inputs: the
        result is the complex derivative ``f'(z)``.

    Returns
    -------
    callable
        Returns arrays of the same shape (and pytree structure) as the
        arguments named by ``argnums``.

    Notes
    -----
    Complex inputs follow JAX's convention (and autograd's, which agrees): for
    a real-valued ``f`` of ``z = x + iy`` the gradient is
    ``conj(df/dx + i df/dy) = df/dx - i df/dy``, so ``grad(lambda z: abs(z)**2)(z)``
    is ``2 * conj(z)``. Step along its conjugate to ascend:
    ``z + eta * conj(grad(f)(z))``. A complex-valued ``f`` needs ``holomorphic=True``
    (then the result is ``f'(z)``) or a real part taken first.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> f = lambda x: x[0] ** 2 + 2 * x[1] ** 2 + snp.exp(-x[0] - x[1])
    >>> sl.grad(f)(np.array([1.0, 2.0])).round(6)
    array([1.950213, 7.950213])
    >>> complex(sl.grad(lambda z: snp.abs(z) ** 2)(1.0 + 2.0j))
    (2-4j)
    >>> complex(sl.grad(lambda z: z ** 3, holomorphic=True)(1.0 + 1.0j))
    6j
    """
    check_callable(fun, "grad")
    vg = value_and_grad(fun, argnums, has_aux, holomorphic)

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        (value, g) = vg(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    return wrapped


def vjp(fun, *primals, has_aux=False):
    """Evaluate ``fun(*primals)`` and return a function pulling cotangents back.

    Returns
    -------
    out : pytree of ndarray
        ``fun(*primals)``.
    vjp_fn : callable
        ``vjp_fn(cotangent)`` with ``cotangent`` shaped like ``out`` returns a
        tuple with one entry per primal: ``cotangent^T J``.
    aux : optional
        Only when ``has_aux=True``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> out, vjp_fn = sl.vjp(lambda x: x ** 2, np.array([1.0, 3.0]))
    >>> vjp_fn(np.array([1.0, 1.0]))
    (array([2., 6.]),)
    """
    check_callable(fun, "vjp")
    if not primals:
        raise TypeError("vjp() needs at least one primal input: vjp(fun, x)")
    flat = Flat(fun, primals, {}, tuple(range(len(primals))), "vjp", has_aux)
    outs, pullback = vjp_call(flat, flat.leaves)
    out_tree = flat.out_tree

    def vjp_fn(cotangent):
        cts, tree = pytree.flatten(cotangent)
        if tree != out_tree:
            raise ValueError(f"vjp_fn: the cotangent must have the output's structure {out_tree!r}, got {tree!r}")
        for c, o in zip(cts, outs):
            if shape_of(c) != shape_of(o):
                raise ValueError(
                    f"vjp_fn: cotangent of shape {shape_of(c)} for an output of shape {shape_of(o)}"
                )
        res = pullback([c if isinstance(c, Tracer) else np.asarray(c, dtype=o.dtype) for c, o in zip(cts, outs)])
        leaves = [zeros_like(x) if r is None else as_output(r, x) for x, r in zip(flat.leaves, res)]
        return flat.in_structure(leaves, False)

    out = pytree.unflatten(out_tree, [as_output(o) for o in outs])
    if has_aux:
        return out, vjp_fn, flat.lowered_aux()
    return out, vjp_fn
