"""The compiled call path of a jitted function: checking arguments, building outputs.

A training loop calls its jitted step thousands of times with arguments of one structure
(a dict of parameters, an optimizer state, a batch). Walking that structure on every call
to key the program cache, then walking the output structure to rebuild it, cost about
7 us a call, a twentieth of a small MLP's whole step. Here both walks are written out
once as straight-line Python for the structure seen:

- :func:`guarded_entry` compiles ``enter(args)`` (``sl.jit`` does, once a program has served
  :data:`slopes.transforms.jit.CHECKED_AFTER` calls): it checks that ``args`` have exactly the
  structure, shapes and dtypes the program was traced for (the checks the cache key
  would make), then replays the program and builds the output tree in the same function.
  On any difference it returns :data:`MISS` and the caller takes the general path.
- :func:`tree_builder` compiles ``leaves -> tree`` for an output structure (once per structure).

The leaves are taken in :func:`slopes.core.pytree.flatten`'s order (dict keys sorted),
Python floats and NumPy scalars as 0-d arrays, as :func:`slopes.transforms.jit._fast_key`
gives them.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from ..core import pytree

__all__ = ["MISS", "guarded_entry", "returns_replay", "tree_builder"]


class _Miss:
    """The one value ``enter`` returns when a call does not fit its program."""

    __slots__ = ()

    def __repr__(self):
        return "MISS"


MISS = _Miss()

_LARGE = 1000  # leaves beyond which Python's compiler is kept out of deep nesting


def _tree_expr(tree, ns, leaf):
    """Python source building ``tree`` from the expressions ``next(leaf)`` of its leaves;
    names it needs (dict keys, namedtuple classes) are added to ``ns``."""
    if tree.kind == "leaf":
        return next(leaf)
    if tree.kind == "none":
        return "None"
    kids = [_tree_expr(c, ns, leaf) for c in tree.children]
    if tree.kind == "tuple":
        return "(" + "".join(k + ", " for k in kids) + ")"
    if tree.kind == "list":
        return "[" + ", ".join(kids) + "]"
    names = [f"c{len(ns) + i}" for i in range(len(kids) if tree.kind == "dict" else 1)]
    if tree.kind == "dict":
        ns.update(zip(names, tree.meta))
        return "{" + ", ".join(f"{n}: {k}" for n, k in zip(names, kids)) + "}"
    ns[names[0]] = tree.meta  # a namedtuple's class
    return f"{names[0]}({', '.join(kids)})"


@functools.lru_cache(maxsize=16)
def tree_builder(tree):
    """``leaves -> tree`` for structure ``tree``, compiled once: what :func:`pytree.unflatten`
    does, without walking the structure at every call.

    The builders of the latest structures are kept (a training loop's trees, its programs'
    outputs), so many ``fit`` calls or programs of one structure compile one builder (0.2 ms
    for Adam's state of a small network).

    Examples
    --------
    >>> from slopes.core import pytree
    >>> from slopes.transforms._callpath import tree_builder
    >>> tree = pytree.flatten(({"b": 1.0, "a": [2.0, None]}, (3.0,)))[1]
    >>> tree_builder(tree)([1, 2, 3])
    ({'a': [1, None], 'b': 2}, (3,))
    """
    if tree.num_leaves > _LARGE:
        return functools.partial(pytree.unflatten, tree)
    ns = {}
    body = _tree_expr(tree, ns, (f"v[{k}]" for k in itertools.count()))
    return eval(f"lambda v: {body}", ns)  # noqa: S307 - source built above from the structure


class _Writer:
    """The lines of ``enter``: checks of each argument's structure, then its leaves' names."""

    def __init__(self):
        self.lines, self.ns, self.leaves = [], {"_MISS": MISS, "_nd": np.ndarray, "_generic": np.generic,
                                             "_asarray": np.asarray}, []
        self._names = itertools.count()

    def const(self, value):
        name = f"k{len(self.ns)}"
        self.ns[name] = value
        return name

    def reject_unless(self, test):
        self.lines.append(f"        if not ({test}): return _MISS")

    def fresh(self):
        return f"t{next(self._names)}"

    def visit(self, name, x):
        """Lines checking that the value called ``name`` is shaped like ``x``; False when ``x``
        is of a kind the fast cache key does not take (then there is no guarded entry)."""
        t = type(x)
        if (t is np.ndarray and x.ndim) or t is float:  # a float is traced as a 0-d float64 array
            test = f"type({name}) is {self.const(t)}"
            if t is np.ndarray:
                d = self.const(x.dtype)  # NumPy's dtypes are mostly one object each: `is` first
                test += f" and {name}.shape == {self.const(x.shape)} and ({name}.dtype is {d} or {name}.dtype == {d})"
            self.reject_unless(test)
            if t is float:
                self.lines.append(f"        {name} = _asarray({name})")
            self.leaves.append(name)
            return True
        if t is np.ndarray or isinstance(x, np.generic):  # 0-d: an array or a NumPy scalar, either
            # (a replay returns a 0-d result as a scalar, which the next step passes back)
            self.reject_unless(f"(type({name}) is _nd or isinstance({name}, _generic)) and {name}.shape == () "
                               f"and {name}.dtype == {self.const(x.dtype)}")
            self.lines.append(f"        {name} = _asarray({name})")
            self.leaves.append(name)
            return True
        if x is None:
            self.reject_unless(f"{name} is None")
            return True
        if t is dict:
            if not all(type(k) is str for k in x):
                return False
            self.reject_unless(f"type({name}) is dict and len({name}) == {len(x)}")
            kids = [(self.fresh(), k) for k in sorted(x)]
            self.lines += [f"        {kid} = {name}[{k!r}]" for kid, k in kids]  # a missing key: KeyError
            return all(self.visit(kid, x[k]) for kid, k in kids)
        if t is list or isinstance(x, tuple):
            self.reject_unless(f"type({name}) is {self.const(t)} and len({name}) == {len(x)}")
            kids = [self.fresh() for _ in x]
            if kids:
                self.lines.append(f"        {', '.join(kids)}, = {name}")
            return all(self.visit(kid, v) for kid, v in zip(kids, x))
        return False


def returns_replay(out_tree):
    """Whether a program whose outputs have the structure ``out_tree`` hands the caller its
    replay's own result: a lone output (the replay returns it bare) or a tuple of outputs
    (value_and_grad's ``(f, g)``), which is the replay's tuple."""
    return out_tree.kind == "leaf" or out_tree.kind == "tuple" and all(c.kind == "leaf" for c in out_tree.children)


def guarded_entry(args, replay, out_tree):
    """``enter(args)``: ``replay``'s outputs as the tree ``out_tree`` when ``args`` have the
    structure, shapes and dtypes of ``args`` here, else :data:`MISS`; None when ``args`` hold
    something the fast cache key does not take (a static value, a dict with other keys than
    strings) or too many leaves.

    Examples
    --------
    >>> from slopes.core import pytree
    >>> from slopes.transforms._callpath import MISS, guarded_entry
    >>> out_tree = pytree.flatten({"s": 0.0})[1]
    >>> enter = guarded_entry(({"x": np.ones(2)}, 1.0), lambda x, y: (x.sum() * y,), out_tree)
    >>> enter(({"x": np.arange(2.0)}, 3.0))
    {'s': np.float64(3.0)}
    >>> enter(({"x": np.ones(3)}, 3.0)) is MISS, enter(({"y": np.ones(2)}, 3.0)) is MISS
    (True, True)
    """
    if out_tree.num_leaves > _LARGE:
        return None
    w = _Writer()
    names = [f"a{k}" for k in range(len(args))]
    w.reject_unless(f"len(args) == {len(args)}")
    if names:
        w.lines.append(f"        {', '.join(names)}, = args")
    if not all(w.visit(n, a) for n, a in zip(names, args)) or len(w.leaves) > _LARGE:
        return None
    w.ns["_replay"] = replay
    call = f"_replay({', '.join(w.leaves)})"
    if returns_replay(out_tree):  # the replay's own result is the output
        tail = [f"    return {call}"]
    else:
        tail = [f"    v = {call}", f"    return {_tree_expr(out_tree, w.ns, (f'v[{k}]' for k in itertools.count()))}"]
    # the checks in a try (a dict without one of the keys raises KeyError; no cost when none
    # is raised), the replay outside it, so that its own errors reach the caller
    source = "\n".join(["def enter(args):", "    try:", *w.lines, "    except KeyError:", "        return _MISS", *tail])
    exec(compile(source, "<slopes.jit call>", "exec"), w.ns)  # noqa: S102 - source built above
    enter = w.ns["enter"]
    enter.source = source
    return enter
