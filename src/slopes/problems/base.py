"""The :class:`Problem` record shared by every test problem."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = ["Box", "Problem", "StochasticProblem"]


class Box(NamedTuple):
    """A problem's box ``lb <= x <= ub``: unpacks as ``(lower, upper)`` and, having ``.lb`` and
    ``.ub`` as ``scipy.optimize.Bounds`` does, goes to ``minimize(bounds=...)`` with one reading.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> b = Box(np.zeros(2), np.ones(2))
    >>> lo, hi = b
    >>> r = sl.minimize(lambda x: ((x - 2.0) ** 2).sum(), np.zeros(2), method="projected_gradient", bounds=b)
    >>> np.round(r.x, 6)
    array([1., 1.])
    """

    lb: np.ndarray
    ub: np.ndarray


@dataclass(frozen=True)
class Problem:
    """A test function with its standard start and its known minimum.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"rosenbrock"``.
    fun : callable
        ``fun(x) -> float`` for a 1-D float array ``x`` of length ``n``, written with
        ``slopes.numpy`` so that :func:`slopes.grad` and :func:`slopes.hessian` apply.
    x0 : numpy.ndarray
        The standard starting point.
    f_min : float or None
        The known minimum value (``-inf`` for a function unbounded below, ``None`` when
        not known for this size).
    x_min : numpy.ndarray or None
        A known minimizer, or ``None`` when it is not unique or not known in closed form.
    source : str
        Where the definition, the start and the minimum come from.
    residuals : callable or None
        For a sum of squares, ``residuals(x) -> array`` with ``fun(x) == sum(residuals(x)**2)``.
    f_x0 : float or None
        The value at ``x0`` where the source states it (or it is computed by hand).
    other_minima : tuple of (float, array or None)
        Further known local minima ``(value, approximate point or None)`` that a local
        method may reach from ``x0``.
    bounds : Box or None
        ``Box(lower, upper)`` for a box-constrained problem (unpacks as ``lo, hi``, and
        ``minimize(bounds=p.bounds)`` reads it as ``scipy.optimize.Bounds``); ``None`` when
        unconstrained.
    notes : str
        Anything a user should know (non-unique minimizers, typos in the source, ...).

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.get("rosenbrock")
    >>> p.n, float(p(p.x0)), float(p(p.x_min))
    (2, 24.2, 0.0)
    >>> p.grad(p.x_min)
    array([0., 0.])
    """

    name: str
    fun: Callable
    x0: np.ndarray
    f_min: float | None
    x_min: np.ndarray | None
    source: str
    residuals: Callable | None = None
    f_x0: float | None = None
    other_minima: tuple = ()
    bounds: Box | None = None
    notes: str = ""

    def __post_init__(self):
        object.__setattr__(self, "x0", np.asarray(self.x0, dtype=float))
        if self.x_min is not None:
            object.__setattr__(self, "x_min", np.asarray(self.x_min, dtype=float))

    @property
    def n(self) -> int:
        """Number of variables."""
        return int(self.x0.size)

    def __call__(self, x):
        return self.fun(x)

    def grad(self, x) -> np.ndarray:
        """Exact gradient by reverse-mode AD (:func:`slopes.grad`).

        Examples
        --------
        >>> import numpy as np, slopes as sl
        >>> sl.problems.get("beale").grad(np.array([3.0, 0.5]))
        array([0., 0.])
        """
        from ..transforms import grad

        return grad(self.fun)(np.asarray(x, dtype=float))

    def hessian(self, x) -> np.ndarray:
        """Exact Hessian by AD (:func:`slopes.hessian`).

        Examples
        --------
        >>> import numpy as np, slopes as sl
        >>> sl.problems.get("rosenbrock").hessian(np.array([1.0, 1.0]))
        array([[ 802., -400.],
               [-400.,  200.]])
        """
        from ..transforms import hessian

        return hessian(self.fun)(np.asarray(x, dtype=float))


@dataclass(frozen=True)
class StochasticProblem(Problem):
    """A problem whose objective is an expectation over data, with sampled gradients.

    ``fun`` is the population objective (up to an additive constant);
    ``sample(m, rng)`` draws ``m`` data points; ``sample_loss(x, z)`` is the per-sample
    loss (a vector, one entry per data point, written with ``slopes.numpy``), so that the
    mean of ``sample_loss`` over a batch is an unbiased estimate of ``fun`` (plus the
    constant ``loss_offset``) and its gradient an unbiased estimate of ``grad fun``.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.get("square_sgd")
    >>> x = np.array([3.0])
    >>> p.grad(x)                                   # exact (full-batch) gradient
    array([6.])
    >>> p.minibatch_grad(x, 4, np.random.default_rng(0)).shape
    (1,)
    """

    sample: Callable | None = None
    sample_loss: Callable | None = None
    loss_offset: float = 0.0
    seed: int = 0

    def batch_loss(self, x, z):
        """Mean per-sample loss over the batch ``z`` (differentiable in ``x``).

        Examples
        --------
        >>> import numpy as np, slopes as sl
        >>> p = sl.problems.get("square_sgd")
        >>> float(p.batch_loss(np.array([1.0]), np.array([0.0, 2.0])))
        1.0
        """
        from .. import numpy as snp

        return snp.mean(self.sample_loss(x, z))

    def minibatch_grad(self, x, m: int, rng=None) -> np.ndarray:
        """Gradient of the mean loss over ``m`` fresh samples (``m = 1``: one-sample SGD).

        ``rng`` is a :class:`numpy.random.Generator` or a seed (default: ``self.seed``).

        Examples
        --------
        >>> import numpy as np, slopes as sl
        >>> p = sl.problems.get("square_sgd")
        >>> g1 = p.minibatch_grad(np.array([0.0]), 8, 1)
        >>> g2 = p.minibatch_grad(np.array([0.0]), 8, 1)
        >>> bool(np.array_equal(g1, g2))             # same seed, same result
        True
        """
        from ..transforms import grad

        rng = np.random.default_rng(self.seed if rng is None else rng)
        z = self.sample(m, rng)
        return grad(lambda x_: self.batch_loss(x_, z))(np.asarray(x, dtype=float))
