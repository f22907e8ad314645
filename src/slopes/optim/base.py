"""The gradient-transformation protocol: ``init``/``update`` pairs over pytrees.

A :class:`GradientTransformation` is a pair of pure functions::

    state = t.init(params)
    updates, state = t.update(grads, state, params=None, **extra)
    params = apply_updates(params, updates)

``updates`` already carry the minus sign and the learning rate. Every state is a
NamedTuple (or a tuple of them, for :func:`chain`) holding the step ``count`` and,
for the transformations that have one, the learning rate ``lr`` the *next* update
will use; :func:`learning_rate` and :func:`step_count` read them from any state.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple


from ..core.pytree import flatten, leaves, unflatten
from ._leafops import array, fresh, like, sqrt, sum_squares

__all__ = [
    "GradientTransformation",
    "ChainState",
    "apply_updates",
    "chain",
    "learning_rate",
    "step_count",
    "global_norm",
]


class GradientTransformation(NamedTuple):
    """A pair ``(init, update)``; see the module docstring for the protocol.

    Examples
    --------
    >>> from slopes.optim import GradientTransformation, apply_updates
    >>> halve = GradientTransformation(lambda p: (), lambda g, s, params=None, **kw: (
    ...     {k: -0.5 * v for k, v in g.items()}, s))
    >>> upd, _ = halve.update({"w": np.array([2.0])}, halve.init(None))
    >>> apply_updates({"w": np.array([1.0])}, upd)
    {'w': array([0.])}
    """

    init: Callable[[Any], Any]
    update: Callable[..., tuple[Any, Any]]


class ChainState(NamedTuple):
    """The state of :func:`chain`: one inner state per transformation."""

    states: tuple


def apply_updates(params, updates):
    """Return ``params + updates`` leaf by leaf, keeping each parameter's dtype.

    Examples
    --------
    >>> from slopes.optim import apply_updates
    >>> p = {"w": np.ones(2, dtype=np.float32)}
    >>> apply_updates(p, {"w": np.array([0.5, -0.5])})["w"]
    array([1.5, 0.5], dtype=float32)
    """

    ps, tdef = flatten(params)
    us = leaves(updates)
    if len(us) != len(ps):
        raise ValueError(
            f"apply_updates: updates have {len(us)} arrays for {len(ps)} parameters; pass the updates "
            "the optimizer returned for these params"
        )
    out = []
    for p, u in zip(ps, us):  # one pass (this runs once per training step); traceable
        p = array(p)
        out.append(like(fresh(p + u), p))
    return unflatten(tdef, out)


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Compose transformations: the updates of each feed the next.

    Extra keyword arguments to ``update`` (``loss=``, ``grad_fn=``) reach every
    transformation in the chain.

    Examples
    --------
    >>> from slopes.optim import chain, clip_by_global_norm, sgd, learning_rate, step_count
    >>> opt = chain(clip_by_global_norm(1.0), sgd(0.1))
    >>> state = opt.init(np.zeros(2))
    >>> upd, state = opt.update(np.array([3.0, 4.0]), state)
    >>> upd
    array([-0.06, -0.08])
    >>> learning_rate(state), step_count(state)
    (0.1, 1)
    """
    transforms = tuple(transforms)

    def init(params):
        return ChainState(tuple(t.init(params) for t in transforms))

    def update(grads, state, params=None, **extra):
        new = []
        for t, s in zip(transforms, state.states):
            grads, s = t.update(grads, s, params, **extra)
            new.append(s)
        return grads, ChainState(tuple(new))

    return GradientTransformation(init, update)


_MISSING = object()


def _find_all(state, field, out):
    fields = getattr(state, "_fields", None)
    if fields is not None and field in fields:
        out.append(getattr(state, field))
    if isinstance(state, tuple):
        for child in state:
            if isinstance(child, tuple):
                _find_all(child, field, out)
    return out


def learning_rate(state) -> float:
    """The learning rate the next update will use, read from any optimizer state.

    It is the first ``lr`` found in the state (searching chains depth first), times
    every ``lr_scale`` found (e.g. that of :func:`reduce_on_plateau`).

    Examples
    --------
    >>> from slopes.optim import adam, learning_rate, exponential_decay
    >>> opt = adam(exponential_decay(1.0, 0.5))
    >>> learning_rate(opt.init(np.zeros(1)))
    1.0
    >>> _, s = opt.update(np.ones(1), opt.init(np.zeros(1)))
    >>> learning_rate(s)
    0.5
    """
    lrs = _find_all(state, "lr", [])
    if not lrs:
        raise ValueError("this optimizer state holds no learning rate (no 'lr' field in it or its parts)")
    scale = math.prod(float(s) for s in _find_all(state, "lr_scale", []))
    return float(lrs[0]) * scale


def step_count(state) -> int:
    """The number of updates taken, read from any optimizer state.

    Examples
    --------
    >>> from slopes.optim import sgd, step_count
    >>> opt = sgd(0.1)
    >>> s = opt.init(np.zeros(1))
    >>> _, s = opt.update(np.ones(1), s)
    >>> step_count(s)
    1
    """
    counts = _find_all(state, "count", [])
    if not counts:
        raise ValueError("this optimizer state holds no step count (no 'count' field in it or its parts)")
    return int(counts[0])


def global_norm(tree) -> float:
    """The 2-norm of all the leaves of a pytree taken together, as a float.

    Computed in float64. Under :func:`slopes.jit` (a traced training step) it is a
    0-d traced value, found by the same operations.

    Examples
    --------
    >>> from slopes.optim import global_norm
    >>> global_norm({"a": np.array([3.0]), "b": [np.array([4.0])]})
    5.0
    """
    return sqrt(sum_of_squares(tree))


def sum_of_squares(tree):
    """The sum of the squares of every entry of ``tree``'s leaves, leaf by leaf in tree order:
    :func:`global_norm` before its square root.

    Examples
    --------
    >>> float(sum_of_squares({"a": np.array([3.0]), "b": [np.array([4.0])]}))
    25.0
    """
    terms = [sum_squares(x) for x in flatten(tree)[0]]
    # from the first term, not 0.0 + it: the same number (a sum of squares is never -0.0), and
    # a traced step records no addition of zero
    total = terms[0] if terms else 0.0
    for t in terms[1:]:
        total = total + t
    return total
