"""Pytree points for the numeric differentiators: differentiate the flat function, rebuild the tree.

``sl.numeric.grad(f, params)`` with ``params`` a nested dict/list/tuple of
arrays (as :func:`slopes.grad` accepts) works on ``ravel_pytree(params)`` and
returns its result in ``params``' structure: the gradient like ``params``, a
Jacobian with leaves ``f(x).shape + leaf.shape``, a Hessian as a tree of
trees (``H[i][k]`` of shape ``leaf_i.shape + leaf_k.shape``), and every field
of an :class:`~.api.Estimate` likewise.
"""

from __future__ import annotations

import functools

import numpy as np

from ..core.pytree import key_paths, tree_map
from ..core.ravel import ravel_pytree

__all__ = ["is_tree", "on_trees"]


def is_tree(x):
    return isinstance(x, (list, tuple, dict))


def on_trees(impl, name):
    """``impl(f, x, **options)`` extended to pytree points ``x`` (arrays go straight through)."""

    def run(f, x, **options):
        if not is_tree(x):
            return impl(f, x, **options)
        flat, unravel = _flat_point(x, name)

        @functools.wraps(f)
        def flat_f(v):
            return f(unravel(v))

        out = impl(flat_f, flat, **options)
        rebuild = functools.partial(_hessian_tree, unravel=unravel) if name == "hessian" else unravel
        if isinstance(out, tuple):  # an Estimate: every field in the tree's structure
            return type(out)(*(rebuild(np.asarray(a)) for a in out))
        return rebuild(out)

    return run


def _flat_point(tree, name):
    for keys, leaf in key_paths(tree):
        dtype = np.asarray(leaf).dtype
        if dtype.kind not in "fc":
            where = "".join(f"[{k!r}]" for k in keys)
            raise TypeError(
                f"numeric.{name}() differentiates with respect to floating-point inputs, but the leaf "
                f"{where} of the point has dtype {dtype}. Pass floats (or complex numbers) there, e.g. 1.0 instead of 1, or "
                f"np.asarray(leaf, dtype=float)."
            )
    flat, unravel = ravel_pytree(tree)
    if flat.size == 0:
        raise ValueError(f"numeric.{name}(): the point {tree!r} has no entries to differentiate with respect to")
    return flat, unravel


def _hessian_tree(M, unravel):
    """``(n, n)`` -> tree of trees: ``H[i][k]`` of shape ``leaf_i.shape + leaf_k.shape``.

    The columns of block ``k`` come out as a leaf of shape ``(n, *leaf_k.shape)``;
    unraveling its rows gives ``M[rows i, cols k]`` arranged ``leaf_k + leaf_i``,
    which is block ``(k, i)`` because a Hessian is symmetric.
    """
    return tree_map(lambda cols: unravel(np.moveaxis(cols, 0, -1)), unravel(M))
