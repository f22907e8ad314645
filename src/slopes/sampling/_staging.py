"""Trace a function once with :func:`slopes.jit` when it can be traced; otherwise run it eagerly."""

from __future__ import annotations

from ..core.staging import TracingError
from ..transforms.jit import jit


class Staged:
    """Call ``jit(fn)``; on the first :class:`TracingError` fall back to ``fn`` for good.

    Samplers and SDE solvers call the same derivative thousands of times, so
    replaying a traced program pays; a function with Python control flow on
    values cannot be traced and simply runs unstaged.
    """

    def __init__(self, fn):
        self.eager = fn
        self.jitted = jit(fn)

    def __call__(self, *args):
        if self.jitted is not None:
            try:
                return self.jitted(*args)
            except TracingError:
                self.jitted = None
        return self.eager(*args)
