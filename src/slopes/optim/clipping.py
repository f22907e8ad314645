"""Gradient clipping transformations (they trace: see :mod:`slopes.optim.transforms`)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core.pytree import tree_map
from ..core.trace import Tracer
from ._leafops import like, start
from ._validate import check_number
from .base import GradientTransformation, global_norm

__all__ = ["clip_by_global_norm", "clip_by_value", "ClipNormState", "ClipValueState"]


class ClipNormState(NamedTuple):
    """``norm`` is the global norm of the last gradient *before* clipping (0 before any)."""

    count: int
    norm: float


class ClipValueState(NamedTuple):
    """State of :func:`clip_by_value`: only the step ``count``."""

    count: int


def clip_by_global_norm(max_norm: float, eps: float = 0.0) -> GradientTransformation:
    """Rescale the whole gradient pytree so its global 2-norm is at most ``max_norm``.

    With ``n = ||g||`` over all leaves together, ``g <- g * max_norm / (n + eps)``
    when that factor is below 1, else ``g`` is unchanged. ``eps=1e-6`` reproduces
    ``torch.nn.utils.clip_grad_norm_``. The state keeps ``n`` (``state.norm``).

    Examples
    --------
    >>> from slopes.optim import clip_by_global_norm
    >>> clip = clip_by_global_norm(1.0)
    >>> g, s = clip.update({"a": np.array([3.0]), "b": np.array([4.0])}, clip.init(None))
    >>> g, s.norm
    ({'a': array([0.6]), 'b': array([0.8])}, 5.0)
    """
    max_norm = check_number(max_norm, "clip_by_global_norm: max_norm", low=0, low_open=True)
    eps = check_number(eps, "clip_by_global_norm: eps", low=0)

    def init(params):
        return ClipNormState(start(), 0.0)

    def update(grads, state, params=None, **extra):
        norm = global_norm(grads)
        # max_norm / (norm + eps) when below 1, else exactly 1 (no division by a zero norm)
        coef = max_norm / np.maximum(norm + eps, max_norm)
        if isinstance(coef, Tracer) or coef < 1.0:  # eagerly, an unclipped gradient is returned as it is
            grads = tree_map(lambda g: like(g * coef, g), grads)
        return grads, ClipNormState(state.count + 1, norm)

    return GradientTransformation(init, update)


def clip_by_value(min_value: float, max_value: float) -> GradientTransformation:
    """Clip every gradient entry to ``[min_value, max_value]``.

    Examples
    --------
    >>> from slopes.optim import clip_by_value
    >>> clip = clip_by_value(-1.0, 1.0)
    >>> clip.update(np.array([-3.0, 0.5, 2.0]), clip.init(None))[0]
    array([-1. ,  0.5,  1. ])
    """
    # an infinite bound is allowed: it clips on one side only
    for name, v in (("min_value", min_value), ("max_value", max_value)):
        if np.isnan(v):
            raise ValueError(f"clip_by_value: {name} must be a number, got nan")
    if min_value > max_value:
        raise ValueError(f"clip_by_value: min_value {min_value!r} > max_value {max_value!r}")

    def init(params):
        return ClipValueState(start())

    def update(grads, state, params=None, **extra):
        return tree_map(lambda g: np.clip(g, min_value, max_value), grads), ClipValueState(state.count + 1)

    return GradientTransformation(init, update)
