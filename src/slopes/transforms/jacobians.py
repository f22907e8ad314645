"""Whole derivative matrices: ``jacfwd``, ``jacrev``, ``jacobian``, ``hessian`` and ``hvp``."""

from __future__ import annotations

import functools
import math

import numpy as np

from ..core import pytree
from ..core.batching import vmap_call
from ..core.forward import jvp_call
from ..core.ops.shape import reshape, transpose
from ..core.reverse import vjp_call
from ..core.trace import Tracer, shape_of
from ._common import Flat, as_output, check_callable, normalize_argnums, zeros_like
from .forward import jvp
from .reverse import grad

__all__ = ["jacfwd", "jacrev", "jacobian", "hessian", "hvp"]


def _size(x):
    return math.prod(shape_of(x))


def _basis(leaves):
    """Identity rows split over ``leaves``: one batched array per leaf, (N, *shape)."""
    n = sum(_size(x) for x in leaves)
    dtype = np.result_type(*[x.dtype for x in leaves])
    eye = np.eye(n, dtype=dtype)
    out, start = [], 0
    for x in leaves:
        k = _size(x)
        out.append(eye[:, start : start + k].reshape((n,) + tuple(shape_of(x))))
        start += k
    return out, n


def _reshaped(x, shape):
    shape = tuple(shape)
    if tuple(shape_of(x)) == shape:
        return x
    return reshape(x, shape) if isinstance(x, Tracer) else np.reshape(x, shape)


def _move_batch_last(b, lead_shape):
    """(N, *out_shape) with N = prod(in_shape) -> (*out_shape, *in_shape)."""
    out_nd = len(shape_of(b)) - 1
    if out_nd:
        perm = tuple(range(1, out_nd + 1)) + (0,)
        b = transpose(b, perm) if isinstance(b, Tracer) else np.transpose(b, perm)
    return _reshaped(b, tuple(shape_of(b)[:out_nd]) + tuple(lead_shape))


def _assemble(blocks, out_tree, in_trees_fn):
    """Nest per-(output, input) blocks: output structure outside, input structure inside."""
    return pytree.unflatten(out_tree, [in_trees_fn(row) for row in blocks])


def _split_rows(b, sizes):
    if len(sizes) == 1:
        return [b]
    out, start = [], 0
    for k in sizes:
        out.append(b[start : start + k])
        start += k
    return out


def _jacfwd_flat(flat):
    basis, n = _basis(flat.leaves)
    primal_outs = []

    def tangent_map(*ts):
        outs, touts = jvp_call(flat, flat.leaves, list(ts))
        primal_outs[:] = outs  # they do not depend on the tangents: never batched
        return [zeros_like(o) if t is None else t for o, t in zip(outs, touts)]

    if n == 1:
        touts = [_reshaped(t, (1,) + tuple(shape_of(t))) for t in tangent_map(basis[0][0])]
    else:
        touts = vmap_call(tangent_map, basis, [True] * len(basis), n)
    sizes = [_size(x) for x in flat.leaves]
    blocks = []
    for t in touts:
        parts = _split_rows(t, sizes)
        blocks.append([_move_batch_last(p, shape_of(x)) for p, x in zip(parts, flat.leaves)])
    return primal_outs, blocks


def _jacrev_flat(flat, traced=None):
    outs, pullback = traced or vjp_call(flat, flat.leaves)
    basis, m = _basis(outs)
    if m == 1 and len(outs) == 1:  # one scalar output: the gradient is the Jacobian
        cts = pullback([basis[0][0]])
        out_shape = tuple(shape_of(outs[0]))
        row = [
            np.zeros(out_shape + tuple(shape_of(x)), dtype=x.dtype)
            if c is None
            else _reshaped(c, out_shape + tuple(shape_of(x)))
            for x, c in zip(flat.leaves, cts)
        ]
        return outs, [row]

    def pull(*cs):
        return [c if c is not None else zeros_like(x) for x, c in zip(flat.leaves, pullback(list(cs)))]

    rows = vmap_call(pull, basis, [True] * len(basis), m)
    out_sizes = [_size(o) for o in outs]
    per_input = [_split_rows(r, out_sizes) for r in rows]
    blocks = []
    for j, o in enumerate(outs):
        blocks.append(
            [_reshaped(per_input[i][j], tuple(shape_of(o)) + tuple(shape_of(x))) for i, x in enumerate(flat.leaves)]
        )
    return outs, blocks


def _jacobian_transform(name, method):
    def make(fun, argnums=0, has_aux=False, holomorphic=False):
        check_callable(fun, name)

        @functools.wraps(fun)
        def wrapped(*args, **kwargs):
            nums, single = normalize_argnums(argnums, len(args), name)
            flat = Flat(fun, args, kwargs, nums, name, has_aux, holomorphic)
            _, blocks = method(flat)
            jac = _assemble(
                [[as_output(b) for b in row] for row in blocks],
                flat.out_tree,
                lambda row: flat.in_structure(row, single),
            )
            return (jac, flat.lowered_aux()) if has_aux else jac

        return wrapped

    return make


_jacfwd = _jacobian_transform("jacfwd", _jacfwd_flat)
_jacrev = _jacobian_transform("jacrev", _jacrev_flat)


def jacfwd(fun, argnums=0, has_aux=False, holomorphic=False):
    """Jacobian by forward mode: one batched pass pushing every input direction.

    The result has shape ``output.shape + input.shape`` (for pytrees: the
    output structure, each leaf holding the input structure). Efficient when
    there are fewer inputs than outputs. Complex inputs need
    ``holomorphic=True`` (then the Jacobian is ``f'(z)``), as in JAX; so do
    complex outputs in :func:`jacrev`, :func:`jacobian` and :func:`hessian`.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> F = lambda x: snp.array([x[0] ** 2, x[1] * x[2], x[0] + x[1] + x[2]])
    >>> sl.jacfwd(F)(np.array([1.0, 2.0, 3.0]))
    array([[2., 0., 0.],
           [0., 3., 2.],
           [1., 1., 1.]])
    """
    return _jacfwd(fun, argnums, has_aux, holomorphic)


def jacrev(fun, argnums=0, has_aux=False, holomorphic=False):
    """Jacobian by reverse mode: one forward pass, then all output rows pulled back at once.

    Same result layout as :func:`jacfwd`; efficient when there are fewer
    outputs than inputs.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> sl.jacrev(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    return _jacrev(fun, argnums, has_aux, holomorphic)


def jacobian(fun, argnums=0, has_aux=False, holomorphic=False):
    """Jacobian, choosing the mode from the shapes: reverse when outputs <= inputs.

    Each call first runs ``fun`` in reverse mode; when it turns out to have
    more outputs than inputs, the Jacobian is taken in forward mode instead
    (one more evaluation of ``fun``).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> sl.jacobian(lambda x: A @ x)(np.array([1.0, 1.0]))
    array([[1., 2.],
           [3., 4.]])
    """
    return _jacobian_transform("jacobian", _jacobian_flat)(fun, argnums, has_aux, holomorphic)


def _jacobian_flat(flat):
    traced = vjp_call(flat, flat.leaves)
    n_in = sum(_size(x) for x in flat.leaves)
    n_out = sum(_size(o) for o in traced[0])
    return _jacrev_flat(flat, traced) if n_out <= n_in else _jacfwd_flat(flat)


def hessian(fun, argnums=0, holomorphic=False):
    """Hessian: forward mode over reverse mode, ``jacfwd(jacrev(fun))``.

    For a scalar function the result has shape ``input.shape + input.shape``
    (for pytrees, the input structure nested in itself); for an array-valued
    one, ``output.shape + input.shape + input.shape``.

    Examples
    --------
    >>> import slopes as sl
    >>> f = lambda w: w[0] ** 2 + 2 * w[1] ** 2 + w[0] * w[1] + 3 * w[2] ** 2
    >>> sl.hessian(f)(np.zeros(3))
    array([[2., 1., 0.],
           [1., 4., 0.],
           [0., 0., 6.]])
    """
    check_callable(fun, "hessian")
    return jacfwd(jacrev(fun, argnums, holomorphic=holomorphic), argnums, holomorphic=holomorphic)


def hvp(fun, x, v):
    """Hessian-vector product ``H(x) @ v`` without forming ``H`` (forward over reverse).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> sl.hvp(lambda x: snp.sum(x ** 3), np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    array([ 6., 12.])
    """
    check_callable(fun, "hvp")
    return jvp(grad(fun), (x,), (v,))[1]
