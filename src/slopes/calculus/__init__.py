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
* :mod:`slopes.calculus.integrals` -- :func:`integrate`, :func:`integrate_nd`
  (scipy quadrature), :func:`monte_carlo` with its standard error,
  :func:`expectation`, :func:`cdf_from_pdf` and :func:`moments` of a density.
* :mod:`slopes.calculus.estimators` -- gradients of expectations:
  :func:`score_function_grad` (REINFORCE) and :func:`reparam_grad`.
* :mod:`slopes.calculus.likelihood` -- :func:`fit_mle` (maximum likelihood by a
  gradient method, with standard errors), :func:`cross_entropy`, :func:`kl_divergence`.
* :mod:`slopes.calculus.variational` -- the reparameterized :func:`elbo`,
  :func:`fit_gaussian_vi`, and the conjugate :func:`normal_mean_posterior`, :func:`kl_normal`.

>>> import slopes as sl, slopes.numpy as snp
>>> sl.calculus.divergence(lambda p: p)(np.array([1.0, 2.0, 3.0]))
array(3.)
"""

from . import estimators, integrals, likelihood, matrix, variational, vector
from .estimators import GradientEstimate, reparam_grad, score_function_grad
from .integrals import (
    Moments,
    MonteCarloEstimate,
    cdf_from_pdf,
    expectation,
    integrate,
    integrate_nd,
    moments,
    monte_carlo,
)
from .likelihood import MLEFit, cross_entropy, fit_mle, kl_divergence
from .matrix import commutation_matrix, flatten_jacobian, unflatten_jacobian, unvec, vec, vec_jacobian
from .variational import NormalPosterior, VIFit, elbo, fit_gaussian_vi, kl_normal, normal_mean_posterior
from .vector import curl, divergence, gradient_field, jacobian_field, laplacian

__all__ = [
    # probability meets calculus: integrals, estimators, likelihood, variational
    "GradientEstimate",
    "MLEFit",
    "MonteCarloEstimate",
    "Moments",
    "NormalPosterior",
    "VIFit",
    "cdf_from_pdf",
    "cross_entropy",
    "elbo",
    "estimators",
    "expectation",
    "fit_gaussian_vi",
    "fit_mle",
    "integrals",
    "integrate",
    "integrate_nd",
    "kl_divergence",
    "kl_normal",
    "likelihood",
    "moments",
    "monte_carlo",
    "normal_mean_posterior",
    "reparam_grad",
    "score_function_grad",
    "variational",
    # vector and matrix calculus
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
