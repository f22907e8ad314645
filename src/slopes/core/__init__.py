"""The engine: primitives, tracing, and the forward, reverse and batching interpreters.

Nothing here imports the rest of slopes.
"""

from . import pytree
from .trace import Primitive, Tracer, bind, concrete
from .ops import elementwise, linalg, reduce, shape  # noqa: F401  (defines the primitives)

__all__ = ["Primitive", "Tracer", "bind", "concrete", "pytree"]
