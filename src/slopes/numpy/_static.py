"""Values that decide a result's shape or layout: read once, so they must be known when traced."""

from __future__ import annotations

import numpy as np

from ..core.trace import Tracer, concrete, staged

__all__ = ["known_value"]


def known_value(v, fn, what):
    """The plain value of ``v`` (positions, masks, counts), which carries no derivative.

    Under ``sl.jit`` such a value would be read once and baked into the replayed
    program, and under ``vmap`` it differs per example: both are refused with a
    message naming ``fn`` and ``what``.

    Examples
    --------
    >>> known_value([0, 2], "delete", "the positions")
    array([0, 2])
    """
    if not isinstance(v, Tracer):
        return np.asarray(v)
    if staged(v):
        from ..core.staging import TracingError, user_line

        raise TracingError(
            f"sl.jit: {fn}() needs {what} before tracing (the result's shape depends on them), "
            f"at {user_line()}; pass them as a static argument (static_argnums=...)"
        )
    value = concrete(v)
    if tuple(np.shape(value)) != tuple(v.shape):
        raise TypeError(f"{fn}(): {what} cannot differ per example under vmap (the result's shape depends on them)")
    return value
