"""slopes: the calculus and optimization of machine learning, computable and checkable on NumPy.

>>> import numpy as np, slopes as sl, slopes.numpy as snp
>>> f = lambda x: x[0] ** 2 + 2 * x[1] ** 2 + snp.exp(-x[0] - x[1])
>>> sl.grad(f)(np.array([0.0, 0.0]))
array([-1., -1.])
"""

from . import analysis as analysis
from . import calculus as calculus
from . import distributed as distributed
from . import ml as ml
from . import numeric as numeric
from . import numpy  # noqa: F401  (installs the ndarray API on traced values)
from . import optim as optim
from . import problems as problems
from . import sampling as sampling
from . import symbolic as symbolic
from .check import check_grad, check_rule
from .core.pytree import tree_map
from .core.ravel import ravel_pytree
from .custom import custom_jvp, custom_vjp
from .expr import BudgetError, Expression, ExpressionError, budget, parse
from .numpy import stop_gradient
from .optim import minimize
from .taylor import TaylorPolynomial, taylor
from .transforms import (
    checkpoint,
    derivative,
    directional_derivative,
    elementwise_grad,
    ggnvp,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jit,
    jvp,
    make_ggnvp,
    value_and_grad,
    vjp,
    vmap,
)

__version__ = "0.1.0"

# Modules that pull in heavy dependencies (matplotlib, scipy's submodules) load on first use:
# ``sl.viz`` works after ``import slopes as sl`` without making every import pay for matplotlib.
_LAZY_MODULES = ("integrate", "report", "scipy", "viz")


def __getattr__(name):
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")  # also binds it as an attribute
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_MODULES))


__all__ = [
    "BudgetError",
    "Expression",
    "ExpressionError",
    "TaylorPolynomial",
    "analysis",
    "budget",
    "calculus",
    "check_grad",
    "check_rule",
    "checkpoint",
    "custom_jvp",
    "custom_vjp",
    "derivative",
    "directional_derivative",
    "elementwise_grad",
    "ggnvp",
    "grad",
    "hessian",
    "hvp",
    "integrate",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jvp",
    "make_ggnvp",
    "minimize",
    "ml",
    "numeric",
    "optim",
    "parse",
    "problems",
    "ravel_pytree",
    "report",
    "scipy",
    "sampling",
    "stop_gradient",
    "symbolic",
    "taylor",
    "tree_map",
    "value_and_grad",
    "vjp",
    "viz",
    "vmap",
    "jit",
]
