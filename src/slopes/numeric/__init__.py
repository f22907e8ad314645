"""Numeric differentiation: finite differences, Richardson extrapolation, the complex step.

The third road to a derivative, next to exact AD (:func:`slopes.grad`) and
symbolic differentiation: only function values are needed, so it checks the
other two. Every estimate can come with an error estimate
(``full_output=True``). Automatic steps notice a kink (ReLU, abs, max) inside
their stencil and take smaller steps there; a kink closer than the smallest
step is flagged (``Estimate.kink``) with a widened error. Points may be
pytrees, as for :func:`slopes.grad`.

>>> import numpy as np, slopes as sl
>>> sl.numeric.fd_weights([-2, -1, 0, 1, 2], 1) * 12
array([ 1., -8.,  0.,  8., -1.])
>>> g = sl.numeric.grad(lambda x: np.sum(np.sin(x)), np.array([0.0, 1.0]))
>>> bool(np.allclose(g, np.cos([0.0, 1.0]), rtol=1e-12))
True
"""

from ._common import NonFiniteError
from .api import Estimate, derivative, grad, hessian, jacobian
from .complex_step import complex_step
from .quotients import difference_quotient, stencil
from .richardson import Extrapolation, richardson
from .weights import fd_weights

__all__ = [
    "Estimate",
    "Extrapolation",
    "NonFiniteError",
    "complex_step",
    "derivative",
    "difference_quotient",
    "fd_weights",
    "grad",
    "hessian",
    "jacobian",
    "richardson",
    "stencil",
]
