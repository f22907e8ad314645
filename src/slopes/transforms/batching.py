"""``vmap``: run a per-example function over a batch without a Python loop."""

from __future__ import annotations

import functools
import inspect

import numpy as np

from ..core import pytree
from ..core.batching import vmap_call
from ..core.ops.shape import getitem
from ..core.trace import Tracer, shape_of
from ..numpy.shapes import moveaxis
from ._common import as_output, check_callable

__all__ = ["vmap"]


def vmap(fun, in_axes=0, out_axes=0):
    """Vectorize ``fun`` over an axis of its inputs, without a Python loop.

    ``vmap(fun)(xs)`` equals ``np.stack([fun(x) for x in xs])``, computed in one
    pass over the whole batch: every operation inside ``fun`` runs on the
    batched arrays at once. It composes with the derivative transforms, so
    ``vmap(grad(loss), in_axes=(None, 0, 0))`` gives per-example gradients.

    Parameters
    ----------
    fun : callable
        A function of positional arrays or pytrees of arrays, returning an
        array or a pytree of arrays. Keyword arguments given to the vectorized
        function reach ``fun`` as they are (not mapped).
    in_axes : int, None, or a tuple with one entry per positional argument
        The axis of each argument to map over; ``None`` for an argument that
        is the same for every example. Negative axes count from the end. An
        entry may also be a pytree matching (a prefix of) its argument, one
        axis per subtree: ``({"w": None, "b": 0}, 0)``. A single int or
        ``None`` applies to every argument.
    out_axes : int, None, or a pytree matching (a prefix of) the output
        Where the mapped axis goes in each output (negative: counted from the
        end of the output, batch axis included). ``None`` returns an output
        that does not depend on the mapped inputs once, without a batch axis.

    Returns
    -------
    callable
        The vectorized function, with the signature of ``fun``.

    Raises
    ------
    ValueError
        When the mapped axes differ in length, an axis is out of range, no
        input is mapped, or ``in_axes`` does not fit the arguments; the message
        names the argument (and the key inside a pytree).

    Examples
    --------
    Per-example gradients of a loss, the parameters shared (``None``):

    >>> import slopes as sl, slopes.numpy as snp
    >>> per_example = sl.vmap(sl.grad(lambda w, x: snp.sum(w * x) ** 2), in_axes=(None, 0))
    >>> per_example(np.array([1.0, 1.0]), np.array([[1.0, 0.0], [1.0, 1.0]]))
    array([[2., 0.],
           [4., 4.]])

    Parameters as a dict, some entries mapped and some not:

    >>> f = lambda p, x: p["w"] * x + p["b"]
    >>> p = {"w": np.array(2.0), "b": np.array([0.0, 10.0])}
    >>> sl.vmap(f, in_axes=({"w": None, "b": 0}, 0))(p, np.array([1.0, 2.0]))
    array([ 2., 14.])

    Mapping over columns (``in_axes=1``) and putting the batch last:

    >>> A = np.arange(6.0).reshape(2, 3)
    >>> sl.vmap(lambda col: col * 2, in_axes=1, out_axes=-1)(A)
    array([[ 0.,  2.,  4.],
           [ 6.,  8., 10.]])

    Mapped axes of different lengths are refused, naming the arguments:

    >>> sl.vmap(lambda x, y: x + y)(np.ones(3), np.ones(4))
    Traceback (most recent call last):
    ...
    ValueError: vmap(): the mapped axes differ in length: x has 3 along axis 0, y has 4 along axis 0
    """
    check_callable(fun, "vmap")
    names = _parameter_names(fun)

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        axes = _per_argument(in_axes, len(args))
        leaves, batched, trees, mapped = [], [], [], []
        for k, (a, ax) in enumerate(zip(args, axes)):
            label = names[k] if k < len(names) else f"argument {k}"
            ls, tree = pytree.flatten(a)
            trees.append(tree)
            specs = []
            _leaf_axes(ax, tree, label, specs, "in_axes")
            for leaf, (leaf_ax, where) in zip(ls, specs):
                leaf = leaf if isinstance(leaf, Tracer) else np.asarray(leaf)
                if leaf_ax is None:
                    leaves.append(leaf)
                    batched.append(False)
                    continue
                shape = tuple(shape_of(leaf))
                if not -len(shape) <= leaf_ax < len(shape):
                    what = "a scalar" if not shape else f"of shape {shape}"
                    raise ValueError(f"vmap(): in_axes {leaf_ax} is out of range for {where}, {what}")
                mapped.append((where, leaf_ax, shape[leaf_ax]))
                leaves.append(leaf if leaf_ax in (0, -len(shape)) else moveaxis(leaf, leaf_ax, 0))
                batched.append(True)
        size = _batch_size(mapped)
        out_tree = []

        def flat_fun(*xs):
            it = iter(xs)
            rebuilt = [pytree.unflatten(t, [next(it) for _ in range(t.num_leaves)]) for t in trees]
            outs, tree = pytree.flatten(fun(*rebuilt, **kwargs))
            out_tree.append(tree)
            return outs

        out_batched = []
        outs = vmap_call(flat_fun, leaves, batched, size, out_batched)
        specs = []
        _leaf_axes(out_axes, out_tree[0], "the output", specs, "out_axes")
        res = [_place(o, ax, b, where) for o, (ax, where), b in zip(outs, specs, out_batched)]
        return pytree.unflatten(out_tree[0], [as_output(o) for o in res])

    return wrapped


def _parameter_names(fun):
    """Names of ``fun``'s positional parameters, to name arguments in errors."""
    try:
        params = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature
        return []
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in params if p.kind in kinds]


def _is_axis(ax):
    return ax is None or (isinstance(ax, (int, np.integer)) and not isinstance(ax, bool))


def _per_argument(in_axes, nargs):
    if isinstance(in_axes, (tuple, list)):
        if len(in_axes) != nargs:
            raise ValueError(
                f"vmap(): in_axes has {len(in_axes)} entries for {nargs} arguments; give one "
                "entry (an axis, None, or a pytree of them) per positional argument"
            )
        return tuple(in_axes)
    return (in_axes,) * nargs


def _leaf_axes(spec, tree, where, out, name):
    """Append ``(axis, label)`` for every leaf of ``tree``, the axes read off ``spec``.

    ``spec`` is an axis (or None) for the whole subtree, or a container with
    the structure of ``tree`` down to some depth; leaves come in flatten order.
    """
    if tree.kind == "none":
        return
    if tree.kind == "leaf":
        if not _is_axis(spec):
            raise ValueError(
                f"vmap(): {name} gives {type(spec).__name__} {spec!r} for {where}, an array; "
                "it needs an int or None there"
            )
        out.append((None if spec is None else int(spec), where))
        return
    if _is_axis(spec):
        kids = [spec] * len(tree.children)
    elif tree.kind == "dict" and isinstance(spec, dict):
        if set(spec) != set(tree.meta):
            raise ValueError(
                f"vmap(): {name} for {where} has keys {sorted(map(str, spec))}, "
                f"but the value there has keys {sorted(map(str, tree.meta))}"
            )
        kids = [spec[k] for k in tree.meta]
    elif tree.kind != "dict" and isinstance(spec, (list, tuple)) and len(spec) == len(tree.children):
        kids = list(spec)
    else:
        raise ValueError(f"vmap(): {name} {spec!r} does not match the structure of {where}, {tree!r}")
    keys = tree.meta if tree.kind == "dict" else range(len(tree.children))
    for key, s, child in zip(keys, kids, tree.children):
        _leaf_axes(s, child, f"{where}[{key!r}]", out, name)


def _batch_size(mapped):
    if not mapped:
        raise ValueError("vmap(): no input is mapped (every in_axes is None); map at least one argument")
    sizes = {n for _, _, n in mapped}
    if len(sizes) == 1:
        return sizes.pop()
    first = {}
    for where, ax, n in mapped:  # one example per length is enough to see the problem
        first.setdefault(n, f"{where} has {n} along axis {ax}")
    raise ValueError("vmap(): the mapped axes differ in length: " + ", ".join(first.values()))


def _place(o, ax, batched, where):
    """Move the batch axis of output ``o`` (in front) to ``ax``; drop it for ``None``."""
    if ax is None:
        if batched:
            raise ValueError(
                f"vmap(): out_axes is None for {where}, but it depends on the mapped inputs "
                "(it differs between examples); give it an axis"
            )
        return getitem(o, index=(0,)) if isinstance(o, Tracer) else np.array(o[0])
    nd = len(shape_of(o))
    if not -nd <= ax < nd:
        raise ValueError(f"vmap(): out_axes {ax} is out of range for {where}, which has {nd} axes with the batch")
    return o if ax in (0, -nd) else moveaxis(o, 0, ax)
