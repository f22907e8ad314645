"""A pytree as one flat vector and back, and the names of that vector's entries.

What code written for one array (finite differences, gradient checks,
optimizers over a vector) needs to handle an MLP's list of ``{"W", "b"}``:
``ravel_pytree`` concatenates the leaves in :func:`~slopes.core.pytree.flatten`
order, ``unravel`` rebuilds the tree (also from a traced vector, so a function
of the tree can be differentiated as a function of the vector), and
``entry_names`` names each entry by its path, ``[1]['W'][2, 0]``.
"""

from __future__ import annotations

import numpy as np

from .pytree import flatten, key_paths, unflatten

__all__ = ["ravel_pytree", "entry_names"]


def ravel_pytree(tree):
    """Flatten a pytree of arrays into one 1-D array, and return the function that undoes it.

    The leaves are raveled in C order and concatenated in the tree's leaf order
    (dict keys sorted), in the leaves' common dtype (``np.result_type``).

    Parameters
    ----------
    tree : array_like or pytree (nested dict / list / tuple) of array_like

    Returns
    -------
    flat : np.ndarray, shape (n,)
        All entries, ``n`` the total number of entries.
    unravel : callable
        ``unravel(v)`` rebuilds the tree from a vector of shape ``(n,)`` (a
        NumPy array or a traced vector inside a transform); leaves come back
        with their shapes and, for NumPy input, their dtypes. Leading axes
        are kept: ``v`` of shape ``(..., n)`` gives leaves of shape
        ``(..., *leaf.shape)`` (a Jacobian's columns, per leaf).

    Raises
    ------
    TypeError
        A leaf that is not numeric (a string, an object).

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> params = [{"W": np.ones((2, 2)), "b": np.zeros(2)}, {"W": np.full((1, 2), 3.0), "b": np.zeros(1)}]
    >>> flat, unravel = sl.ravel_pytree(params)
    >>> flat
    array([1., 1., 1., 1., 0., 0., 3., 3., 0.])
    >>> unravel(2 * flat)[1]["W"]
    array([[6., 6.]])
    """
    leaves, treedef = flatten(tree)
    arrays = [_numeric(leaf, k) for k, leaf in enumerate(leaves)]
    shapes = [a.shape for a in arrays]
    dtypes = [a.dtype for a in arrays]
    sizes = [a.size for a in arrays]
    n = int(sum(sizes))
    dtype = np.result_type(*arrays) if arrays else np.dtype(np.float64)
    flat = np.concatenate([a.ravel().astype(dtype) for a in arrays]) if arrays else np.zeros(0)
    ends = np.cumsum(sizes).tolist()

    def unravel(v):
        shape = getattr(v, "shape", None)
        if shape is None or len(shape) < 1 or shape[-1] != n:
            raise ValueError(
                f"unravel() needs a vector of {n} entries (as ravel_pytree gave), got shape {shape}; "
                f"the tree has {len(shapes)} leaves of shapes {shapes}"
            )
        lead = tuple(shape[:-1])
        pieces = []
        for start, end, s, dt in zip([0] + ends[:-1], ends, shapes, dtypes):
            piece = v[..., start:end].reshape(lead + s)
            if isinstance(piece, np.ndarray) and piece.dtype != dt and np.can_cast(dt, piece.dtype):
                piece = piece.astype(dt)  # back to the leaf's own (narrower) float dtype
            pieces.append(piece)
        return unflatten(treedef, pieces)

    return flat, unravel


def _numeric(leaf, k):
    a = np.asarray(leaf)
    if a.dtype.kind not in "biufc":
        raise TypeError(
            f"ravel_pytree(): leaf {k} is not numeric ({type(leaf).__name__} of dtype {a.dtype}); "
            f"pytree leaves must be arrays or numbers. Use None for an empty subtree."
        )
    return a


def entry_names(tree):
    """The name of every entry of ``ravel_pytree(tree)[0]``: its path and its index in the leaf.

    Paths are written as in Python: ``[1]['W'][2, 0]`` is entry ``[2, 0]`` of
    ``tree[1]['W']``; a bare array's entries are just ``[2, 0]``, a scalar
    leaf's is its path alone (``[]`` for a bare scalar).

    Examples
    --------
    >>> entry_names([{"W": np.zeros((1, 2)), "b": 0.0}])
    ["[0]['W'][0, 0]", "[0]['W'][0, 1]", "[0]['b']"]
    >>> entry_names(np.zeros(2))
    ['[0]', '[1]']
    """
    names = []
    for keys, leaf in key_paths(tree):
        path = "".join(f"[{k!r}]" for k in keys)
        shape = np.shape(leaf)
        if not shape:
            names.append(path or "[]")
        names += [f"{path}[{', '.join(map(str, index))}]" for index in np.ndindex(shape)] if shape else []
    return names
