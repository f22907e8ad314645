"""Matrix products: ``matmul`` with NumPy's full semantics (1-D operands, stacks)."""

from __future__ import annotations

import numpy as np

from ..trace import ALL_ARGS, Primitive, in_program, shape_of
from .elementwise import mul, unbroadcast
from .rules import defjvp
from .shape import reshape, transpose

__all__ = ["is_identity", "matmul", "swap_last"]


def swap_last(x):
    """Transpose the last two axes."""
    nd = len(shape_of(x))
    return transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def is_identity(x, dtype=None):
    """Whether ``x`` is a plain square identity matrix whose product with a ``dtype`` operand
    keeps that dtype (so the product is the operand itself, not a cast of it).

    Looking costs O(k^2) reads; the product it saves costs O(n k^2) operations.

    >>> is_identity(np.eye(3)), is_identity(np.eye(3)[::-1]), is_identity(np.ones((1, 1)))
    (True, False, True)
    >>> is_identity(np.eye(2), np.float32)  # float32 @ float64 would be float64
    False
    """
    if type(x) is not np.ndarray or x.ndim != 2 or x.shape[0] != x.shape[1] or not x.size:
        return False
    if dtype is not None and np.result_type(x.dtype, dtype) != dtype:
        return False
    k = x.shape[0]
    return bool(x[0, 0] == 1 and np.count_nonzero(x) == k and (x.diagonal() == 1).all())


def _owned(x):
    """``x`` as the product of an identity would give it: an array of its own for a plain
    array (the caller may write to a Jacobian; the user's data must not change with it).
    While a program is traced it is a constant of the program, never written and copied
    for callers: a read-only view then (no copy of a data matrix per trace)."""
    if type(x) is not np.ndarray:
        return x
    if in_program():
        view = x.view()
        view.flags.writeable = False
        return view
    return np.array(x, order="K")


def _append_axis(x, pos):
    s = shape_of(x)
    pos = pos if pos >= 0 else len(s) + 1 + pos
    return reshape(x, s[:pos] + (1,) + s[pos:])


def _drop_last(x):
    return reshape(x, shape_of(x)[:-1])


matmul = Primitive("matmul", np.matmul)
defjvp(matmul, lambda t, ans, a, b: matmul(t, b), lambda t, ans, a, b: matmul(a, t))


def _vjp_a(g, ans, a, b):
    na, nb = len(shape_of(a)), len(shape_of(b))
    if na == 1 and nb == 1:
        return mul(g, b)
    if nb == 1:  # out (..., n): ga = g outer b
        ga = mul(_append_axis(g, -1), b)
    elif na == 1:  # out (..., m): ga = b @ g
        ga = matmul(b, g) if nb == 2 else _drop_last(matmul(b, _append_axis(g, -1)))
    else:
        ga = matmul(g, swap_last(b))
    return unbroadcast(ga, shape_of(a))


def _vjp_b(g, ans, a, b):
    na, nb = len(shape_of(a)), len(shape_of(b))
    if na == 1 and nb == 1:
        return mul(g, a)
    if na == 1:  # out (..., m): gb = a outer g
        gb = mul(reshape(a, (shape_of(a)[0], 1)), _append_axis(g, -2))
    elif nb == 1:  # out (..., n): gb = g @ a
        gb = matmul(g, a) if na == 2 else _drop_last(matmul(swap_last(a), _append_axis(g, -1)))
    else:
        gb = matmul(swap_last(a), g)
    return unbroadcast(gb, shape_of(b))


matmul.vjps = (_vjp_a, _vjp_b)
matmul.keeps = ALL_ARGS


def _matmul_batch(vals, batched):
    """Batched matmul that keeps plain BLAS calls for the common shapes."""
    a, b = vals
    ba, bb = batched
    na = len(a.shape) - ba
    nb = len(b.shape) - bb
    if ba and not bb and nb == 2 and na in (1, 2):
        # (B, k) @ (k, m) or (B, n, k) @ (k, m): one matrix product
        if na == 1:
            # jacrev pulls the identity basis back through x @ b: the rows of b themselves
            return _owned(b) if is_identity(a, getattr(b, "dtype", None)) else matmul(a, b)
        B, n, k = a.shape
        return reshape(matmul(reshape(a, (B * n, k)), b), (B, n, b.shape[1]))
    if bb and not ba and na == 2 and nb == 1:
        # (n, k) @ (B, k): (b @ a^T), one matrix product; jacfwd pushes the identity
        # basis through a @ w: that is a^T itself, not an (n, k, k) product
        if is_identity(b, getattr(a, "dtype", None)):
            return _owned(np.transpose(a)) if type(a) is np.ndarray else swap_last(a)
        return matmul(b, swap_last(a))
    # general case: make vectors matrices, line up the stack axes, multiply, squeeze
    a_row = ba and na == 1
    b_col = bb and nb == 1
    if a_row:
        a = _append_axis(a, 1)  # (B, 1, k)
    if b_col:
        b = _append_axis(b, -1)  # (B, k, 1)
    ra = len(a.shape) - ba
    rb = len(b.shape) - bb
    rank = max(ra, rb)
    if ba and ra < rank:
        a = reshape(a, (a.shape[0],) + (1,) * (rank - ra) + tuple(a.shape[1:]))
    if bb and rb < rank:
        b = reshape(b, (b.shape[0],) + (1,) * (rank - rb) + tuple(b.shape[1:]))
    b_is_vector = len(b.shape) == 1  # NumPy then drops the last axis of the product
    out = matmul(a, b)
    if b_col:
        out = reshape(out, out.shape[:-1])
    if a_row:
        s = out.shape
        out = reshape(out, s[:-1]) if (b_col or b_is_vector) else reshape(out, s[:-2] + s[-1:])
    return out


matmul.batch = _matmul_batch
