"""``vmap``: run a per-example function over a batch without a Python loop."""

from __future__ import annotations

import functools

import numpy as np

from ..core import pytree
from ..core.batching import vmap_call
from ..core.trace import Tracer, shape_of
from ..numpy.shapes import moveaxis
from ._common import as_output, check_callable

__all__ = ["vmap"]


def vmap(fun, in_axes=0, out_axes=0):
    """Vectorize ``fun`` over an axis of its inputs, without a Python loop.

    Parameters
    ----------
    in_axes : int, None, or a tuple with one entry per positional argument
        The axis of each argument to map over (``None``: not mapped).
    out_axes : int
        Where the mapped axis goes in every output.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> per_example = sl.vmap(sl.grad(lambda w, x: snp.sum(w * x) ** 2), in_axes=(None, 0))
    >>> per_example(np.array([1.0, 1.0]), np.array([[1.0, 0.0], [1.0, 1.0]]))
    array([[2., 0.],
           [4., 4.]])
    """
    check_callable(fun, "vmap")

    @functools.wraps(fun)
    def wrapped(*args):
        axes = in_axes if isinstance(in_axes, (tuple, list)) else (in_axes,) * len(args)
        if len(axes) != len(args):
            raise ValueError(f"vmap(): in_axes has {len(axes)} entries for {len(args)} arguments")
        leaves, batched, sizes, trees = [], [], set(), []
        for a, ax in zip(args, axes):
            ls, tree = pytree.flatten(a)
            trees.append(tree)
            for leaf in ls:
                leaf = leaf if isinstance(leaf, Tracer) else np.asarray(leaf)
                if ax is None:
                    leaves.append(leaf)
                    batched.append(False)
                    continue
                nd = len(shape_of(leaf))
                if not -nd <= ax < nd:
                    raise ValueError(f"vmap(): in_axes {ax} is out of range for an input of shape {shape_of(leaf)}")

                leaf = moveaxis(leaf, ax, 0)
                sizes.add(shape_of(leaf)[0])
                leaves.append(leaf)
                batched.append(True)
        if len(sizes) != 1:
            raise ValueError(
                "vmap(): the mapped axes must all have one length, got "
                + (", ".join(map(str, sorted(sizes))) if sizes else "no mapped input")
            )
        out_tree = []

        def flat_fun(*xs):
            it = iter(xs)
            rebuilt = [pytree.unflatten(t, [next(it) for _ in range(t.num_leaves)]) for t in trees]
            outs, tree = pytree.flatten(fun(*rebuilt))
            out_tree.append(tree)
            return outs

        outs = vmap_call(flat_fun, leaves, batched, sizes.pop())
        if out_axes != 0:

            outs = [moveaxis(o, 0, out_axes) for o in outs]
        return pytree.unflatten(out_tree[0], [as_output(o) for o in outs])

    return wrapped
