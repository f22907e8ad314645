"""The engine: primitives, tracing, and the forward, reverse and batching interpreters.

Nothing here imports the rest of slopes.
"""

from . import pytree
from .ops import decompositions, einsum, elementwise, linalg, reduce, reorder, shape  # noqa: F401
from .trace import Primitive, Tracer, bind, concrete

__all__ = ["Primitive", "Tracer", "bind", "concrete", "pytree"]
