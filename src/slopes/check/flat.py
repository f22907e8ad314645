"""Points that are pytrees: the flat vector the checks compare on, and the names of its entries."""

from __future__ import annotations

import functools

from ..core.pytree import tree_map
from ..core.ravel import entry_names, ravel_pytree
from .point import as_point


def is_tree(x):
    return isinstance(x, (list, tuple, dict))


def flat_point(f, x):
    """``(f of the flat vector, the flat vector, entry names)`` for a pytree ``x``.

    Integer leaves become float64 (as :func:`~.point.as_point` does for arrays);
    the names are paths such as ``[1]['W'][2, 0]``.
    """
    tree = tree_map(as_point, x)
    flat, unravel = ravel_pytree(tree)

    @functools.wraps(f)
    def on_flat(v):
        return f(unravel(v))

    return on_flat, flat, entry_names(tree)
