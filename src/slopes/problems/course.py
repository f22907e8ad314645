"""The source material's own example problems (``shared/seeds``).

Each problem's ``source`` names the text it comes from. Where the text gives no starting
point, the one here is slopes' choice and the ``notes`` say so.

>>> import numpy as np, slopes as sl
>>> p = sl.problems.get("quadratic_2x2")
>>> p.x_min * 39                       # the minimizer is (97, 1) / 39
array([97.,  1.])
"""

from __future__ import annotations

import numpy as np

from .. import numpy as snp
from .base import Box, Problem, StochasticProblem

__all__ = [
    "COURSE_NAMES",
    "box_quadratic",
    "elongated_bowl",
    "quadratic_2x2",
    "saddle",
    "square_sgd",
]


def quadratic_2x2() -> Problem:
    """``f(x) = 1/2 x^T A x - b^T x`` with ``A = [[2, 1], [1, 20]]``, ``b = (5, 3)``, from (-3, -1).

    The minimizer solves ``A x = b``: ``x* = (97, 1)/39``, ``f* = -b^T x*/2 = -244/39``.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.course.quadratic_2x2()
    >>> p.grad(p.x0)                        # (2 x1 + x2 - 5, x1 + 20 x2 - 3)
    array([-12., -26.])
    """
    A = np.array([[2.0, 1.0], [1.0, 20.0]])
    b = np.array([5.0, 3.0])
    x_min = np.linalg.solve(A, b)
    return Problem(
        name="quadratic_2x2",
        fun=lambda x: 0.5 * snp.dot(x, snp.dot(A, x)) - snp.dot(b, x),
        x0=[-3.0, -1.0],
        f_min=-244.0 / 39.0,
        x_min=x_min,
        f_x0=0.5 * (2 * 9 + 2 * 3 + 20) - (-15 - 3),
        source="seed 004 (gradient descent example: 1/2 x^T [[2,1],[1,20]] x - [5,3] x from (-3,-1))",
    )


def elongated_bowl() -> Problem:
    """``f(x, y) = x^2 + 10 y^2``, the elongated bowl for comparing SGD with momentum.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.course.elongated_bowl()
    >>> p.hessian(p.x0)
    array([[ 2.,  0.],
           [ 0., 20.]])
    """
    return Problem(
        name="elongated_bowl",
        fun=lambda x: x[0] ** 2 + 10.0 * x[1] ** 2,
        x0=[-8.0, 2.0],
        f_min=0.0,
        x_min=[0.0, 0.0],
        f_x0=104.0,
        source="seed 001 (exercise: minimize x^2 + 10 y^2 with vanilla SGD and with momentum)",
        notes="The source gives no start; x0 = (-8, 2) is slopes' choice. Condition number 10.",
    )


def box_quadratic() -> Problem:
    """``f(x) = 1/2 x^T Q x + c^T x``, ``Q = [[3, 1], [1, 2]]``, ``c = (-2, 1)`` on the box [-2, 2]^2.

    ``bounds = Box(lower, upper)``; the start (1.8, -1.5) and the step ``1/L`` with
    ``L = lambda_max(Q) = (5 + sqrt 5)/2`` (the Lipschitz constant of the gradient, in
    ``notes`` and ``Problem.notes``) are the source's. The unconstrained minimizer
    ``-Q^{-1} c = (1, -1)`` lies inside the box, so it is also the constrained one,
    with ``f* = -3/2``; it is a fixed point of the projected-gradient map.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.get("box_quadratic")
    >>> lo, hi = p.bounds
    >>> x = p.x_min
    >>> bool(np.allclose(np.clip(x - p.grad(x) / sl.problems.course.BOX_QUADRATIC_L, lo, hi), x))
    True
    >>> r = sl.minimize(p.fun, p.x0, method="projected_gradient", bounds=p.bounds)
    >>> r.success, np.round(r.x, 6)
    (True, array([ 1., -1.]))
    """
    Q = np.array([[3.0, 1.0], [1.0, 2.0]])
    c = np.array([-2.0, 1.0])
    return Problem(
        name="box_quadratic",
        fun=lambda x: 0.5 * snp.dot(x, snp.dot(Q, x)) + snp.dot(c, x),
        x0=[1.8, -1.5],
        f_min=-1.5,
        x_min=[1.0, -1.0],
        bounds=Box(np.array([-2.0, -2.0]), np.array([2.0, 2.0])),
        f_x0=0.5 * (3 * 1.8**2 + 2 * 1.8 * -1.5 + 2 * 1.5**2) + (-3.6 - 1.5),
        source="seed 000 (projected gradient on a convex quadratic with box constraints)",
        notes=f"Box-constrained on [-2, 2]^2; L = lambda_max(Q) = {BOX_QUADRATIC_L!r}; step 1/L.",
    )


BOX_QUADRATIC_L = float((5.0 + np.sqrt(5.0)) / 2.0)
"""Lipschitz constant of the gradient of :func:`box_quadratic` (the largest eigenvalue of Q)."""


def saddle() -> Problem:
    """``f(x) = x1^2 - x2^2``: a saddle at the origin, unbounded below (``f_min = -inf``).

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.get("saddle")
    >>> bool(np.all(p.grad(np.zeros(2)) == 0)), np.linalg.eigvalsh(p.hessian(np.zeros(2)))
    (True, array([-2.,  2.]))
    """
    return Problem(
        name="saddle",
        fun=lambda x: x[0] ** 2 - x[1] ** 2,
        x0=[1.0, 0.1],
        f_min=-np.inf,
        x_min=None,
        f_x0=0.99,
        source="seed 004 (challenges with gradient descent: saddle points)",
        notes="Stationary point (0, 0) is a saddle (Hessian diag(2, -2)); no minimum. The source's "
        "text reads 'x_1^2 x_2^2', but its claim (f(0, eps) < f(0, 0)) holds for x1^2 - x2^2; "
        "the mathematics wins. x0 = (1, 0.1) is slopes' choice: GD is drawn to the saddle and then "
        "escapes along x2.",
    )


def square_sgd() -> StochasticProblem:
    """``f(x) = x^2`` with exact, one-sample and mini-batch gradients (data ``z ~ N(0, 1)``).

    Per-sample loss ``l_z(x) = (x - z)^2``, so ``E[l_z(x)] = x^2 + 1`` and the one-sample
    gradient ``2 (x - z)`` is unbiased for ``f'(x) = 2x`` with variance 4; the mean over a
    mini-batch of ``m`` has variance ``4/m``. ``x`` is a length-1 array; start 80 (the
    source's SGD and mini-batch runs, with learning rate 0.01).

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.course.square_sgd()
    >>> z = p.sample(3, np.random.default_rng(0))
    >>> p.sample_loss(np.array([0.0]), z).shape
    (3,)
    """
    return StochasticProblem(
        name="square_sgd",
        fun=lambda x: snp.sum(x**2),
        x0=[80.0],
        f_min=0.0,
        x_min=[0.0],
        f_x0=6400.0,
        source="seed 000 (4.1: full-batch, stochastic and mini-batch gradient descent on x^2)",
        notes="Population objective x^2; batch losses estimate x^2 + 1 (loss_offset = 1).",
        sample=lambda m, rng: rng.normal(0.0, 1.0, size=m),
        sample_loss=lambda x, z: (x[0] - z) ** 2,
        loss_offset=1.0,
        seed=0,
    )


_FACTORIES = (quadratic_2x2, elongated_bowl, box_quadratic, saddle, square_sgd)
COURSE_NAMES = tuple(f.__name__ for f in _FACTORIES)
