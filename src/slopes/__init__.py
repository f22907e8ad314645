"""slopes: the calculus and optimization of machine learning, computable and checkable on NumPy.

>>> import numpy as np, slopes as sl, slopes.numpy as snp
>>> f = lambda x: x[0] ** 2 + 2 * x[1] ** 2 + snp.exp(-x[0] - x[1])
>>> sl.grad(f)(np.array([0.0, 0.0]))
array([-1., -1.])
"""

from . import numpy  # noqa: F401  (installs the ndarray API on traced values)
from .core.ops.elementwise import stop_gradient
from .core.pytree import tree_map
from .custom import custom_jvp, custom_vjp
from .transforms import (
    derivative,
    directional_derivative,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    value_and_grad,
    vjp,
    vmap,
)

__version__ = "0.1.0"

__all__ = [
    "custom_jvp",
    "custom_vjp",
    "derivative",
    "directional_derivative",
    "grad",
    "hessian",
    "hvp",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jvp",
    "stop_gradient",
    "tree_map",
    "value_and_grad",
    "vjp",
    "vmap",
]
