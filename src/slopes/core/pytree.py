"""Pytrees: nested dicts, lists and tuples (namedtuples too) whose leaves are arrays.

``flatten`` turns a tree into a list of leaves and a hashable ``TreeDef``;
``unflatten`` rebuilds a tree of the same structure from new leaves. Dict keys
are visited in sorted order (insertion order when keys cannot be sorted), so
two dicts with the same keys have the same structure. ``None`` is an empty
subtree, as in the other autodiff libraries.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TreeDef", "flatten", "unflatten", "tree_map", "leaves", "paths", "key_paths"]


class TreeDef:
    """The shape of a pytree without its leaves (hashable, comparable)."""

    __slots__ = ("kind", "meta", "children", "num_leaves", "_key", "_hash")

    def __init__(self, kind, meta, children):
        self.kind = kind  # "leaf", "none", "tuple", "list", "dict", "namedtuple"
        self.meta = meta  # dict keys or namedtuple class
        self.children = children
        self.num_leaves = 1 if kind == "leaf" else sum(c.num_leaves for c in children)
        self._hash = None  # the key and hash are made on first use (most TreeDefs never need them)

    def key(self):
        """A tuple equal for equal structures (computed once)."""
        if self._hash is None:
            # dict keys with their types: 1, 1.0 and True are equal keys of different trees
            meta = (self.meta, tuple(map(type, self.meta))) if self.kind == "dict" else self.meta
            self._key = (self.kind, meta, tuple(c.key() for c in self.children))
            self._hash = hash(self._key)
        return self._key

    def __eq__(self, other):
        if self is other:
            return True
        if not isinstance(other, TreeDef) or self.num_leaves != other.num_leaves:
            return False
        return self.key() == other.key()

    def __hash__(self):
        if self._hash is None:
            self.key()
        return self._hash

    def __repr__(self):
        if self.kind == "leaf":
            return "*"
        if self.kind == "none":
            return "None"
        inner = ", ".join(map(repr, self.children))
        if self.kind == "dict":
            inner = ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.meta, self.children))
            return "{" + inner + "}"
        if self.kind == "list":
            return "[" + inner + "]"
        if self.kind == "namedtuple":
            return f"{self.meta.__name__}({inner})"
        return "(" + inner + ("," if len(self.children) == 1 else "") + ")"


_LEAF = TreeDef("leaf", None, ())
_NONE = TreeDef("none", None, ())


def _dict_keys(d):
    try:
        return tuple(sorted(d))
    except TypeError:
        return tuple(d)


def _flatten(tree, out):
    t = type(tree)
    if t is dict:  # the common containers first, by exact type
        keys = _dict_keys(tree)
        return TreeDef("dict", keys, tuple([_flatten(tree[k], out) for k in keys]))
    if t is list:
        return TreeDef("list", None, tuple([_flatten(v, out) for v in tree]))
    if t is np.ndarray or t is float:
        out.append(tree)
        return _LEAF
    if isinstance(tree, (list, tuple)):
        kids = tuple(_flatten(t, out) for t in tree)
        if isinstance(tree, list):
            return TreeDef("list", None, kids)
        if hasattr(tree, "_fields"):
            return TreeDef("namedtuple", type(tree), kids)
        return TreeDef("tuple", None, kids)
    if isinstance(tree, dict):
        keys = _dict_keys(tree)
        return TreeDef("dict", keys, tuple(_flatten(tree[k], out) for k in keys))
    if tree is None:
        return _NONE
    out.append(tree)
    return _LEAF


def flatten(tree):
    """Return ``(leaves, treedef)`` for a pytree.

    Examples
    --------
    >>> leaves, tdef = flatten({"b": [1, 2], "a": 3})
    >>> leaves
    [3, 1, 2]
    >>> unflatten(tdef, [30, 10, 20])
    {'a': 30, 'b': [10, 20]}
    """
    if not isinstance(tree, (list, tuple, dict)) and tree is not None:
        return [tree], _LEAF  # a single array: the common case
    out = []
    tdef = _flatten(tree, out)
    return out, tdef


def unflatten(treedef, leaves):
    """Build a pytree with structure ``treedef`` from an iterable of leaves."""
    it = iter(leaves)
    tree = _build(treedef, it)
    if next(it, _sentinel) is not _sentinel:
        raise ValueError(f"too many leaves for tree structure {treedef!r}")
    return tree


_sentinel = object()


def _build(td, it):
    kind = td.kind
    if kind == "leaf":
        leaf = next(it, _sentinel)
        if leaf is _sentinel:
            raise ValueError("too few leaves for the tree structure")
        return leaf
    if kind == "none":
        return None
    kids = [_build(c, it) for c in td.children]
    if kind == "tuple":
        return tuple(kids)
    if kind == "list":
        return kids
    if kind == "dict":
        return dict(zip(td.meta, kids))
    return td.meta(*kids)


def leaves(tree):
    """The leaves of a pytree, in flatten order.

    Examples
    --------
    >>> leaves((1, {"w": 2}))
    [1, 2]
    """
    out = []
    _collect(tree, out)
    return out


def _collect(tree, out):
    """``flatten``'s leaves, without building the structure."""
    if isinstance(tree, dict):
        for k in _dict_keys(tree):
            _collect(tree[k], out)
    elif isinstance(tree, (list, tuple)):
        for v in tree:
            _collect(v, out)
    elif tree is not None:
        out.append(tree)


def tree_map(fn, tree, *rest):
    """Apply ``fn`` leaf by leaf to one or more pytrees of the same structure.

    Examples
    --------
    >>> tree_map(lambda a, b: a + b, {"w": 1, "b": 2}, {"w": 10, "b": 20})
    {'b': 22, 'w': 11}
    """
    flat, tdef = flatten(tree)
    others = []
    for r in rest:
        fr, td = flatten(r)
        if td != tdef:
            raise ValueError(f"tree_map: structures differ: {tdef!r} vs {td!r}")
        others.append(fr)
    return unflatten(tdef, [fn(*xs) for xs in zip(flat, *others)])


def key_paths(tree):
    """Pairs ``(keys, leaf)`` in flatten order, ``keys`` the tuple of dict keys and indices leading to the leaf.

    Examples
    --------
    >>> key_paths({"layer": [{"w": 1}], "b": 2})
    [(('b',), 2), (('layer', 0, 'w'), 1)]
    """
    out = []

    def walk(t, keys):
        if isinstance(t, dict):
            for k in _dict_keys(t):
                walk(t[k], keys + (k,))
        elif isinstance(t, (list, tuple)):
            for i, v in enumerate(t):
                walk(v, keys + (i,))
        elif t is not None:
            out.append((keys, t))

    walk(tree, ())
    return out


def paths(tree):
    """Pairs ``(path, leaf)``, the path a '/'-joined string of keys and indices.

    Examples
    --------
    >>> paths({"layer": [{"w": 1}]})
    [('layer/0/w', 1)]
    """
    return [("/".join(map(str, keys)), leaf) for keys, leaf in key_paths(tree)]
