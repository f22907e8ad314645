"""Calculus on top of the derivative transforms: vector calculus and matrix-calculus views.

* :mod:`slopes.calculus.vector` -- :func:`divergence`, :func:`curl`,
  :func:`laplacian`, :func:`gradient_field`, :func:`jacobian_field` of fields
  written for one point, evaluated at one point or at a whole grid of points.
* :mod:`slopes.calculus.matrix` -- the two views of the derivative of a
  matrix with respect to a matrix: the full Jacobian tensor and the flattened
  (vectorized) Jacobian matrix, with :func:`flatten_jacobian`,
  :func:`unflatten_jacobian`, :func:`vec`, :func:`unvec`,
  :func:`vec_jacobian` and :func:`commutation_matrix`, in row-major ("C") or
  column-major ("F", the textbooks' ``vec``) order.

>>> import slopes as sl, slopes.numpy as snp
>>> sl.calculus.divergence(lambda p: p)(np.array([1.0, 2.0, 3.0]))
array(3.)
"""

from . import matrix, vector
from .matrix import commutation_matrix, flatten_jacobian, unflatten_jacobian, unvec, vec, vec_jacobian
from .vector import curl, divergence, gradient_field, jacobian_field, laplacian

__all__ = [
    "commutation_matrix",
    "curl",
    "divergence",
    "flatten_jacobian",
    "gradient_field",
    "jacobian_field",
    "laplacian",
    "matrix",
    "unflatten_jacobian",
    "unvec",
    "vec",
    "vec_jacobian",
    "vector",
]
