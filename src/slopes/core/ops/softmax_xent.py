"""Softmax cross-entropy as one primitive whose output carries the softmax its gradient reads.

``softmax_xent(z, y)`` takes logits ``z`` of shape ``(..., k)`` and targets ``y``: float
weights of the same shape, or integer class labels of shape ``(...)``. It returns one array
of shape ``(..., k + 1)``: the softmax ``p`` of each row in the first ``k`` columns, and the
row's loss in the last,

    l = -sum_j y_j log_softmax(z)_j        (labels: l = logsumexp(z) - z_y).

Both come from one stable pass (shift by the row maximum, ``exp``, a row sum, ``log``), the
softmax as ``exp(z - m) / sum`` (correctly rounded: ``exp(log_softmax)`` carries
``|log p| * eps`` of relative error). :func:`unpack_xent` views the two parts out.

Why one primitive with a packed output: the gradient of the losses' sum weighted by ``c`` is
``c * (sum(y) p - y)`` per row, and ``p`` is already in the output, so the backward is one
call of :data:`xent_grad` that needs no second ``exp``, maximum or row sum over ``z``
(composed of ``log_softmax`` and a weighted sum, the value and gradient were 11 calls). The
softmax columns have their derivatives like any output, so rules that read ``p`` can
themselves be differentiated (Hessians, Hessian-vector products, any nesting):

* forward: ``dp = p * (dz - <p, dz>)`` and ``dl = <sum(y) p - y, dz> - <log_softmax(z), dy>``;
* reverse, for a cotangent ``[gp | gl]``: ``gz = p * (gp - <gp, p>) + gl * (sum(y) p - y)``
  and ``gy = -gl * log_softmax(z)``. The first term is skipped when ``gp`` is a known zero,
  as in every first-order gradient of the losses (the softmax columns are read only by rules).

Non-finite logits give what ``-sum(y * log_softmax(z))`` gives: a row of all ``-inf``, a NaN
entry or a ``+inf`` entry makes the row's softmax NaN (its gradient NaN), and a weight of 0
at a ``-inf`` logit gives ``0 * inf = NaN`` (as PyTorch's and optax's soft-target losses).
A zero cotangent gives a zero gradient on every row, so ``where`` leaks no NaN from the
branch not taken.
"""

from __future__ import annotations

import math

import numpy as np

from ..trace import Primitive, Tracer, bind, shape_of
from .elementwise import add, mul, neg, sub, unbroadcast
from .logsumexp import _shifted, log_softmax
from .reduce import reduce_sum
from .rules import ROWWISE, defjvp, mask_zero
from .shape import broadcast_to, concatenate, getitem, reshape

__all__ = ["softmax_xent", "unpack_xent", "xent_grad"]


def _is_labels(y):
    return y.dtype.kind in "iu"


_ONES = {}


def _ones(k, dtype):
    """A read-only vector of ``k`` ones in ``dtype`` (kept: row sums are products with it)."""
    v = _ONES.get((k, dtype))
    if v is None:
        v = _ONES[k, dtype] = np.ones(k, dtype)
        v.flags.writeable = False
    return v


def _row_sums(a, out=None):
    """Sums of a float array over its last axis, as a matrix-vector product with ones: on rows
    of tens of entries, a third of ``np.add.reduce``'s time."""
    return np.matmul(a, _ones(a.shape[-1], a.dtype), out=out)


def _row_total(e, axis, keepdims):
    return _row_sums(e)[..., None]


def _one_row(impl, *args):
    """``impl`` on arrays with one row, given a row (the products above need a matrix)."""
    return impl(*(np.reshape(a, (1,) + np.shape(a)) for a in args))[0]


def _softmax_xent_impl(z, y):
    if np.ndim(z) == 1:
        return _one_row(_softmax_xent_impl, z, y)
    _, d, e, s, finite = _shifted(z, -1, _row_total)
    dtype = e.dtype if _is_labels(y) or y.dtype == e.dtype else np.result_type(e, y)
    out = np.empty(z.shape[:-1] + (z.shape[-1] + 1,), dtype)
    if finite:  # a finite maximum in every row: the sums lie in [1, k], no inf - inf
        _fill(out, d, e, s, y)
    else:
        with np.errstate(all="ignore"):  # inf - inf, 0 / 0 on rows with +inf, NaN or only -inf: NaN
            _fill(out, d, e, s, y)
    return out


def _fill(out, d, e, s, y):
    """Write ``e / s`` and the rows' losses into ``out``, given ``d = z - m`` and ``e = exp(d)``."""
    k = out.shape[-1] - 1
    loss = out[..., k]
    np.divide(e, s, out=out[..., :k])
    ls = np.log(s)
    if _is_labels(y):  # log(s) - (z_y - m)
        np.subtract(ls, np.take_along_axis(d, y[..., None], axis=-1), out=loss[..., None])
        return
    # -log_softmax(z) = log(s) - (z - m), then its y-weighted row sums
    neg_logp = np.subtract(ls, d, out=d) if d.dtype == out.dtype else np.subtract(ls, d, dtype=out.dtype)
    _row_sums(np.multiply(y, neg_logp, out=neg_logp), out=loss)


def _xent_grad_impl(c, packed, y):
    if np.ndim(packed) == 1:
        return _one_row(_xent_grad_impl, c, packed, y) if np.ndim(c) else _one_row(
            lambda p, t: _xent_grad_impl(c, p, t), packed, y)
    k = packed.shape[-1] - 1
    p = packed[..., :k]
    w = c[..., None] if np.ndim(c) else c  # c: one weight per row, or one for all
    if _is_labels(y):
        r = np.multiply(p, w)
        at = y[..., None]
        np.put_along_axis(r, at, np.take_along_axis(r, at, axis=-1) - w, axis=-1)
    else:  # (p * sum(y) - y) * c
        r = np.multiply(p, _row_sums(y)[..., None])
        np.multiply(np.subtract(r, y, out=r), w, out=r)
    if math.isfinite(np.add.reduce(packed[..., k], axis=None)):  # finite losses: finite p (see above)
        return r
    return np.where(w == 0, 0.0, r).astype(r.dtype, copy=False)  # no NaN on rows a `where` did not take


#: ``softmax_xent(z, y)``: the softmax of ``z``'s rows and their cross-entropy losses against
#: ``y`` (float weights of ``z``'s shape, or integer labels of its shape without the last axis),
#: packed into one array of shape ``(..., k + 1)``; :func:`unpack_xent` splits it.
softmax_xent = Primitive("softmax_xent", _softmax_xent_impl)

#: ``xent_grad(c, packed, y) = c[..., None] * (sum(y) p - y)`` (labels: ``c * (p - onehot(y))``)
#: with ``p`` the softmax in ``packed``, the output of :data:`softmax_xent`: the gradient of
#: ``sum(c * losses)`` with respect to the logits; 0 on rows where ``c`` is 0. ``c`` has one
#: entry per row, or is one number for all.
xent_grad = Primitive("xent_grad", _xent_grad_impl)

# row k of the outputs depends on row k of the arguments only: row blocking may slice them
ROWWISE.update((softmax_xent, xent_grad))


def unpack_xent(packed):
    """``(p, losses)``: the softmax rows and the per-row losses of a :data:`softmax_xent` output.

    Examples
    --------
    >>> import numpy as np
    >>> p, losses = unpack_xent(softmax_xent(np.array([[0.0, 0.0], [1000.0, 0.0]]), np.array([0, 1])))
    >>> p.tolist(), losses.tolist()
    ([[0.5, 0.5], [1.0, 0.0]], [0.6931471805599453, 1000.0])
    """
    k = shape_of(packed)[-1] - 1
    return _probs(packed), getitem(packed, index=(Ellipsis, k))


def _probs(packed):
    return getitem(packed, index=(Ellipsis, slice(0, shape_of(packed)[-1] - 1)))


def _last(x):
    return (len(shape_of(x)) - 1,)


def _column(v):
    """``v`` of shape ``(...)`` as ``(..., 1)``."""
    return reshape(v, tuple(shape_of(v)) + (1,))


def _known_zero(x):
    return not isinstance(x, Tracer) and not np.any(x)


def _softmax_tangent(t, p):
    """``p * (t - <p, t>)`` over the last axis: the softmax's Jacobian (symmetric) applied to ``t``."""
    a = mask_zero(t, mul(t, p))
    u = reduce_sum(a, axis=_last(a), keepdims=True)
    return sub(a, mask_zero(u, mul(u, p)))


def _weighted_sum(t, w):
    """``sum(t * w)`` over the last axis, 0 where ``t`` is 0 whatever ``w`` is there."""
    return reduce_sum(mask_zero(t, mul(t, w)), axis=_last(t), keepdims=False)


def _ones_of_rows(packed):
    return np.ones(shape_of(packed)[:-1], getattr(packed, "dtype", np.float64))


def _neg_log_softmax(z):
    return neg(log_softmax(z, axis=_last(z)))


def _softmax_xent_jvp(primals, tangents, params):
    packed = bind(softmax_xent, primals, params)
    (z, y), (tz, ty) = primals, tangents
    if tz is None and ty is None:
        return packed, None
    p = _probs(packed)
    if tz is not None:
        dp = _softmax_tangent(tz, p)
        dl = _weighted_sum(tz, xent_grad(_ones_of_rows(packed), packed, y))
    else:
        dp, dl = np.zeros(shape_of(p), packed.dtype), None
    if ty is not None:
        dly = _weighted_sum(ty, _neg_log_softmax(z))
        dl = dly if dl is None else add(dl, dly)
    return packed, concatenate(dp, _column(dl), axis=_last(p)[0])


def _as_number_if_uniform(c):
    """A known cotangent equal on every row (a mean's or a sum's) as that one number, so the
    gradient scales by a number, not by a column of them."""
    if isinstance(c, Tracer) or not np.ndim(c) or not c.size:
        return c
    first = c.flat[0]
    return np.asarray(first) if (c == first).all() else c


def _softmax_xent_vjp_z(g, packed, z, y):
    k = shape_of(packed)[-1] - 1
    gz = xent_grad(_as_number_if_uniform(getitem(g, index=(Ellipsis, k))), packed, y)
    gp = getitem(g, index=(Ellipsis, slice(0, k)))
    if _known_zero(gp):  # only the losses were read: no softmax term
        return gz
    return add(gz, _softmax_tangent(gp, _probs(packed)))


def _softmax_xent_vjp_y(g, packed, z, y):
    if _is_labels(y):
        return None
    gl = _column(getitem(g, index=(Ellipsis, shape_of(packed)[-1] - 1)))
    return mask_zero(gl, mul(gl, _neg_log_softmax(z)))


def _rows_batch(prim, number_ok=()):
    """Batch rule of a row primitive whose arguments share their leading axes: the unbatched
    ones broadcast along the batch axis (a 0-d one among ``number_ok`` stays a number)."""

    def rule(vals, batched, **params):
        size = next(shape_of(v)[0] for v, b in zip(vals, batched) if b)
        vals = [v if b or (i in number_ok and not shape_of(v)) else broadcast_to(v, (size,) + tuple(shape_of(v)))
                for i, (v, b) in enumerate(zip(vals, batched))]
        return bind(prim, vals, params)

    return rule


softmax_xent.jvp = _softmax_xent_jvp
softmax_xent.vjps = (_softmax_xent_vjp_z, _softmax_xent_vjp_y)
softmax_xent.batch = _rows_batch(softmax_xent)
softmax_xent.keeps = (0, 1, "ans")  # z only for the targets' rule


def _row_weights(c, packed, y):
    """``c * sum(y)`` as a column (labels: ``c``): how ``xent_grad`` scales the softmax."""
    c = _column(c)
    return c if _is_labels(y) else mul(c, reduce_sum(y, axis=_last(y), keepdims=True))


def _pad_column(gp):
    """``[gp | 0]``: a cotangent of the softmax columns as one of the packed output."""
    zero = np.zeros(tuple(shape_of(gp)[:-1]) + (1,), getattr(gp, "dtype", np.float64))
    return concatenate(gp, zero, axis=_last(gp)[0])


# linear in c and in (float) y; in the softmax columns, a scaling by c * sum(y)
defjvp(
    xent_grad,
    lambda t, ans, c, packed, y: xent_grad(t, packed, y),
    lambda t, ans, c, packed, y: mul(_row_weights(c, packed, y), _probs(t)),
    lambda t, ans, c, packed, y: xent_grad(c, packed, t),
)
xent_grad.vjps = (
    lambda g, ans, c, packed, y: unbroadcast(_weighted_sum(g, xent_grad(_ones_of_rows(packed), packed, y)),
                                             shape_of(c)),
    lambda g, ans, c, packed, y: _pad_column(mul(_row_weights(c, packed, y), g)),
    lambda g, ans, c, packed, y: None if _is_labels(y) else mul(
        _column(c), sub(reduce_sum(mul(g, _probs(packed)), axis=_last(g), keepdims=True), g)),
)
xent_grad.batch = _rows_batch(xent_grad, number_ok=(0,))
