"""The derivative transforms: grad, jvp, vjp, Jacobians, Hessians, n-th derivatives, vmap, jit.

Every transform takes a function written with :mod:`slopes.numpy` and returns a
new function (or, for ``jvp``/``vjp``/``hvp``/``directional_derivative``, the
values directly). Inputs are arrays, Python scalars or pytrees of them;
outputs are plain ``np.ndarray`` in the same structure. Transforms nest freely.
"""

from .batching import vmap
from .recompute import checkpoint
from .conveniences import elementwise_grad, ggnvp, make_ggnvp
from .forward import derivative, directional_derivative, jvp
from .jacobians import hessian, hvp, jacfwd, jacobian, jacrev
from .jit import jit
from .reverse import grad, value_and_grad, vjp

__all__ = [
    "grad",
    "value_and_grad",
    "jvp",
    "vjp",
    "jacfwd",
    "jacrev",
    "jacobian",
    "hessian",
    "hvp",
    "derivative",
    "directional_derivative",
    "vmap",
    "jit",
    "checkpoint",
    "elementwise_grad",
    "ggnvp",
    "make_ggnvp",
]
