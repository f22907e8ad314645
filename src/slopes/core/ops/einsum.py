"""``einsum`` as one primitive: its derivative with respect to an operand is another einsum.

Subscripts reach it explicit and without ellipsis (``'ij,jk->ik'``); the NumPy
layer (:func:`slopes.numpy.einsum`) parses what users write.
"""

from __future__ import annotations

import string

import numpy as np

from ..trace import ALL_ARGS, Primitive, bind, shape_of
from .elementwise import add, unbroadcast, where
from .rules import PerArg
from .shape import broadcast_to, reshape

__all__ = ["einsum"]


def _einsum_impl(*operands, subscripts):
    # NumPy's contraction-order search (and BLAS) pays off for chains and large operands;
    # for small pairs its overhead is larger than the product itself.
    big = len(operands) > 2 or max(np.size(o) for o in operands) > 2000
    return np.einsum(subscripts, *operands, optimize=big)


einsum = Primitive("einsum", _einsum_impl)


def _split(subscripts):
    ins, out = subscripts.split("->")
    return ins.split(","), out


def _join(ins, out):
    return ",".join(ins) + "->" + out


def _einsum_jvp(primals, tangents, params):
    ans = bind(einsum, primals, params)
    out = None
    for k, t in enumerate(tangents):
        if t is None:
            continue
        c = einsum(*primals[:k], t, *primals[k + 1 :], **params)
        out = c if out is None else add(out, c)
    return ans, out


def _einsum_vjp(k, g, ans, *ops, subscripts):
    ins, out = _split(subscripts)
    own = ins[k]
    others = [s for i, s in enumerate(ins) if i != k]
    seen = set(out).union(*others)
    labels = list(dict.fromkeys(own))  # distinct labels, in order of first appearance
    kept = "".join(c for c in labels if c in seen)
    rest = [o for i, o in enumerate(ops) if i != k]
    r = einsum(g, *rest, subscripts=_join([out] + others, kept))
    shape = tuple(shape_of(ops[k]))
    size = {c: shape[own.index(c)] for c in labels}
    r = unbroadcast(r, tuple(size[c] for c in kept))  # labels broadcast from size 1
    first = [own.index(c) == p and c in seen for p, c in enumerate(own)]
    r = reshape(r, tuple(n if f else 1 for n, f in zip(shape, first)))
    if tuple(shape_of(r)) != shape:  # labels summed away in operand k only, or repeated
        r = broadcast_to(r, shape=shape)
    if len(labels) < len(own):  # repeated labels: keep only the diagonal
        r = where(_diagonal_mask(own, shape), r, 0.0)
    return r


def _diagonal_mask(subs, shape):
    """True where every repeated label takes the same index at all its positions."""
    mask = np.ones((1,) * len(shape), dtype=bool)
    for p, c in enumerate(subs):
        q = subs.index(c)
        if q != p:
            iq = np.arange(shape[q]).reshape([-1 if i == q else 1 for i in range(len(shape))])
            ip = np.arange(shape[p]).reshape([-1 if i == p else 1 for i in range(len(shape))])
            mask = mask & (iq == ip)
    return np.broadcast_to(mask, shape)


def _einsum_batch(vals, batched, subscripts):
    ins, out = _split(subscripts)
    free = [c for c in string.ascii_letters if c not in subscripts]
    if not free:  # all 52 labels NumPy knows are taken, none left for the batch: loop (only case)
        from ..batching import loop_rule

        return loop_rule(einsum, vals, batched, {"subscripts": subscripts})
    z = free[0]
    ins = [z + s if b else s for s, b in zip(ins, batched)]
    return einsum(*vals, subscripts=_join(ins, z + out))


einsum.jvp = _einsum_jvp
einsum.vjps = PerArg(_einsum_vjp)
einsum.keeps = ALL_ARGS
einsum.batch = _einsum_batch
