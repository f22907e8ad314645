"""``logsumexp`` and ``log_softmax`` as primitives, with rules that read their outputs.

Composed of small operations (a maximum, a guard against all ``-inf``, a shift, ``exp``,
a sum, ``log``, an add), ``logsumexp`` cost about 7 equations in a staged program and 9
more for its gradient (the derivatives of ``log`` and of the sum, each with its mask); a
cross-entropy's value and gradient about 24. As primitives, each value is the stable
NumPy computation in one call, and the derivatives are short:

* ``log_softmax(x) = (x - m) - log(sum(exp(x - m)))``, ``m`` the maximum: its VJP is
  ``g - softmax * sum(g)`` with ``softmax = exp(log_softmax(x))`` read from the output
  (a cross-entropy's value and gradient: 11 equations). Shifting by ``m`` first, as
  PyTorch does, leaves the largest entries with the rounding of the sum only, where
  ``x - logsumexp(x)`` rounded ``logsumexp`` to the ulp of its magnitude first.
* ``logsumexp(x)``: its derivative is ``g * softmax(x)``, one :data:`scaled_softmax` call.

Non-finite inputs give what the composed forms gave: a row of all ``-inf`` has the
logsumexp ``-inf`` and a NaN gradient, a NaN entry makes the row NaN, and a ``+inf``
entry gives the logsumexp ``+inf`` and a zero gradient (now in forward mode too, which
gave NaN); log_softmax is NaN on all-``-inf`` rows and at ``+inf`` entries, and so is its
gradient there. A zero cotangent gives a zero derivative on every row, so ``where`` leaks
no NaN from the branch not taken.
"""

from __future__ import annotations

import numpy as np

from ..trace import Primitive, bind, shape_of
from .elementwise import exp, mul, neg, sub, unbroadcast
from .reduce import _expand, _reduce_batch, _shift, reduce_sum
from .rules import defjvp, mask_zero
from .shape import align

__all__ = ["log_softmax", "logsumexp", "scaled_softmax"]


def _shifted(x, axis):
    """``(m, x - m, sum(exp(x - m)), finite)`` over ``axis`` (kept): ``m`` the maximum (0 where
    not finite), ``finite`` whether every maximum was."""
    if type(x) is np.ndarray and x.dtype.kind == "f" and x.size:  # skips np.max's and np.sum's wrappers
        m = np.maximum.reduce(x, axis=axis, keepdims=True)
        total = np.add.reduce
    else:  # integers, scalars, and empty arrays (np.max raises its own message on those)
        m = np.max(x, axis=axis, keepdims=True)
        total = np.sum
    finite = np.isfinite(m).all()
    if not finite:  # a row of all -inf (or with +inf, NaN): any finite shift works
        m = np.where(np.isfinite(m), m, 0.0)
    d = np.subtract(x, m)
    return m, d, total(np.exp(d), axis=axis, keepdims=True), finite


def _logsumexp_impl(x, axis, keepdims, shifted=_shifted):
    m, _, s, _ = shifted(x, axis)
    out = np.log(s) + m
    if keepdims:
        return out
    return out.reshape(()) if axis is None else np.squeeze(out, axis=axis)


def _log_softmax_impl(x, axis, shifted=_shifted):
    # shifted: _shifted, or the compiled loops of slopes.core.narrow_rows (kernels="numba")
    _, d, s, finite = shifted(x, axis)
    if finite:  # entries finite or -inf below a finite maximum, a sum in [1, n]: no inf - inf
        return d - np.log(s)
    with np.errstate(invalid="ignore"):  # inf - inf on rows with +inf entries: NaN, as x - logsumexp(x)
        return d - np.log(s)


def _scaled_softmax_impl(w, x, lse, axis):
    r = np.exp(_log_softmax_impl(x, axis))
    r = np.multiply(w, r, out=r) if type(r) is np.ndarray and r.shape == np.shape(w) else w * r
    if np.isfinite(lse).all():  # then the softmax lies in [0, 1], and w * it is plain arithmetic
        return r
    # 0 where w is 0 (a branch not taken) and on rows whose lse is +inf, as the composed form gave
    return np.where((w == 0) | np.isposinf(lse), 0.0, r)


#: ``logsumexp(x, axis=axes or None, keepdims=bool)``, the value of the stable NumPy form.
logsumexp = Primitive("logsumexp", _logsumexp_impl)

#: ``log_softmax(x, axis=axes or None)``: ``x`` minus its logsumexp over ``axis``.
log_softmax = Primitive("log_softmax", _log_softmax_impl)

#: ``scaled_softmax(w, x, lse, axis=...) = w * softmax(x)`` over ``axis``, given ``lse``, the
#: logsumexp of ``x`` with ``keepdims`` (``w`` broadcasts against ``x``). The softmax is
#: ``exp(log_softmax(x))``, accurate in the largest entries; 0 where ``w`` is 0 and on rows whose
#: ``lse`` is ``+inf``. Its rules read ``lse`` as the function of ``x`` it is.
scaled_softmax = Primitive("scaled_softmax", _scaled_softmax_impl)


def _scaled_softmax_batch(vals, batched, axis):
    """Line the arguments up as an elementwise operation does; ``axis`` moves with a batched ``x``."""
    nd = max(len(shape_of(v)) - b for v, b in zip(vals, batched))
    vals = align(vals, batched, nd)
    return bind(scaled_softmax, vals, {"axis": _shift(axis, nd) if batched[1] else axis})


scaled_softmax.batch = _scaled_softmax_batch
# linear in w; d softmax = softmax * (dx - dlse), so the other two rules reuse the output
defjvp(
    scaled_softmax,
    lambda t, ans, w, x, lse, axis: scaled_softmax(t, x, lse, axis=axis),
    lambda t, ans, w, x, lse, axis: mul(t, ans),
    lambda t, ans, w, x, lse, axis: neg(mul(t, ans)),
)


def _ct_times_ans(g, ans):
    return mask_zero(g, mul(g, ans))


scaled_softmax.vjps = (
    lambda g, ans, w, x, lse, axis: unbroadcast(scaled_softmax(g, x, lse, axis=axis), shape_of(w)),
    lambda g, ans, w, x, lse, axis: unbroadcast(_ct_times_ans(g, ans), shape_of(x)),
    lambda g, ans, w, x, lse, axis: neg(unbroadcast(_ct_times_ans(g, ans), shape_of(lse))),
)
scaled_softmax.keeps = None  # the rules read every argument and the output


def _logsumexp_jvp(primals, tangents, params):
    ans = bind(logsumexp, primals, params)
    t = tangents[0]
    if t is None:
        return ans, None
    x, axis = primals[0], params["axis"]
    lse = _expand(ans, x, axis, params["keepdims"])
    return ans, reduce_sum(scaled_softmax(t, x, lse, axis=axis), **params)


def _logsumexp_vjp(g, ans, x, axis, keepdims):
    return scaled_softmax(_expand(g, x, axis, keepdims), x, _expand(ans, x, axis, keepdims), axis=axis)


logsumexp.jvp = _logsumexp_jvp
logsumexp.vjps = (_logsumexp_vjp,)
logsumexp.batch = _reduce_batch(logsumexp)
logsumexp.keeps = (0, "ans")


def _softmax_times_sum(g, ans, axis):
    """``exp(ans) * sum(g)`` over ``axis``: the softmax part of log_softmax's derivatives."""
    s = reduce_sum(g, axis=axis, keepdims=True)
    return mask_zero(s, mul(s, exp(ans)))


def _log_softmax_jvp(primals, tangents, params):
    ans = bind(log_softmax, primals, params)
    t = tangents[0]
    if t is None:
        return ans, None
    p_t = reduce_sum(mask_zero(t, mul(t, exp(ans))), axis=params["axis"], keepdims=True)
    return ans, sub(t, p_t)


log_softmax.jvp = _log_softmax_jvp
log_softmax.vjps = (lambda g, ans, x, axis: sub(g, _softmax_times_sum(g, ans, axis)),)
log_softmax.batch = _reduce_batch(log_softmax)
log_softmax.keeps = ("ans",)
