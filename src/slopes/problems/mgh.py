"""The Moré-Garbow-Hillstrom unconstrained test problems.

Each problem is a sum of squares ``f(x) = sum_i f_i(x)**2`` of residuals ``f_i``, written
here from the mathematical definitions (and data tables) in

    J. J. Moré, B. S. Garbow, K. E. Hillstrom, "Testing unconstrained optimization
    software", ACM Transactions on Mathematical Software 7(1), 17-41, 1981.

The numbering ``MGH #k`` is the paper's. Starting points are the paper's standard ones and
the minimum values are the paper's (quoted there to six significant figures, so compare
them with a relative tolerance of about ``1e-5``). Every function is written with
``slopes.numpy``, so :func:`slopes.grad` and :func:`slopes.hessian` apply.

>>> import numpy as np, slopes as sl
>>> p = sl.problems.mgh.wood()
>>> float(p(p.x0)), float(p(p.x_min))
(19192.0, 0.0)
"""

from __future__ import annotations

import numpy as np

from .. import numpy as snp
from .base import Problem

__all__ = [
    "MGH_NAMES",
    "bard",
    "beale",
    "biggs_exp6",
    "box_3d",
    "brown_badly_scaled",
    "extended_rosenbrock",
    "freudenstein_roth",
    "gaussian",
    "helical_valley",
    "jennrich_sampson",
    "kowalik_osborne",
    "meyer",
    "penalty_i",
    "powell_badly_scaled",
    "powell_singular",
    "rosenbrock",
    "trigonometric",
    "variably_dimensioned",
    "watson",
    "wood",
]

_REF = "Moré, Garbow & Hillstrom (1981), ACM TOMS 7(1)"


def _sum_of_squares(residuals):
    return lambda x: snp.sum(residuals(x) ** 2)


def _problem(name, number, residuals, x0, f_min, x_min, **kw):
    return Problem(
        name=name,
        fun=_sum_of_squares(residuals),
        x0=x0,
        f_min=f_min,
        x_min=x_min,
        residuals=residuals,
        source=f"MGH #{number}; {_REF}",
        **kw,
    )


def rosenbrock() -> Problem:
    """Rosenbrock (MGH #1): ``f1 = 10 (x2 - x1^2)``, ``f2 = 1 - x1``; 0 at (1, 1).

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.mgh.rosenbrock()
    >>> p.grad(p.x0)
    array([-215.6,  -88. ])
    """
    res = lambda x: snp.stack([10.0 * (x[1] - x[0] ** 2), 1.0 - x[0]])
    return _problem("rosenbrock", 1, res, [-1.2, 1.0], 0.0, [1.0, 1.0], f_x0=24.2)


def freudenstein_roth() -> Problem:
    """Freudenstein and Roth (MGH #2): 0 at (5, 4); a local minimum 48.9842... .

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.mgh.freudenstein_roth()
    >>> float(p(p.x0)), float(p(p.x_min))
    (400.5, 0.0)
    """

    def res(x):
        return snp.stack(
            [
                -13.0 + x[0] + ((5.0 - x[1]) * x[1] - 2.0) * x[1],
                -29.0 + x[0] + ((x[1] + 1.0) * x[1] - 14.0) * x[1],
            ]
        )

    return _problem(
        "freudenstein_roth", 2, res, [0.5, -2.0], 0.0, [5.0, 4.0], f_x0=400.5,
        other_minima=((48.9842, [11.41, -0.8968]),),
        notes="From the standard start, local methods usually reach the local minimum "
        "48.9842... near (11.41, -0.8968); the paper lists both minima.",
    )


def powell_badly_scaled() -> Problem:
    """Powell badly scaled (MGH #3): 0 at (1.098...e-5, 9.106...).

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.mgh.powell_badly_scaled()
    >>> round(float(p(p.x0)), 6)
    1.135263
    """
    res = lambda x: snp.stack([1e4 * x[0] * x[1] - 1.0, snp.exp(-x[0]) + snp.exp(-x[1]) - 1.0001])
    return _problem(
        "powell_badly_scaled", 3, res, [0.0, 1.0], 0.0, None,
        f_x0=1.0 + (np.exp(-1.0) - 1e-4) ** 2,
        notes="Minimizer about (1.098e-5, 9.106); not in closed form, so x_min is None.",
    )


def brown_badly_scaled() -> Problem:
    """Brown badly scaled (MGH #4): 0 at (1e6, 2e-6).

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.mgh.brown_badly_scaled()
    >>> float(p(p.x_min))
    0.0
    """
    res = lambda x: snp.stack([x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2.0])
    return _problem(
        "brown_badly_scaled", 4, res, [1.0, 1.0], 0.0, [1e6, 2e-6],
        f_x0=(1.0 - 1e6) ** 2 + (1.0 - 2e-6) ** 2 + 1.0,
    )


def beale() -> Problem:
    """Beale (MGH #5): ``f_i = y_i - x1 (1 - x2^i)``, ``y = (1.5, 2.25, 2.625)``; 0 at (3, 0.5).

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.mgh.beale()
    >>> float(p(p.x0))
    14.203125
    """
    y = np.array([1.5, 2.25, 2.625])
    i = np.arange(1.0, 4.0)
    res = lambda x: y - x[0] * (1.0 - x[1] ** i)
    return _problem("beale", 5, res, [1.0, 1.0], 0.0, [3.0, 0.5], f_x0=14.203125)


def jennrich_sampson(m: int = 10) -> Problem:
    """Jennrich and Sampson (MGH #6): ``f_i = 2 + 2i - (e^{i x1} + e^{i x2})``; 124.362 for m = 10.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.mgh.jennrich_sampson()
    >>> p.n, p.f_min
    (2, 124.362)
    """
    i = np.arange(1.0, m + 1.0)
    res = lambda x: 2.0 + 2.0 * i - (snp.exp(i * x[0]) + snp.exp(i * x[1]))
    return _problem(
        "jennrich_sampson", 6, res, [0.3, 0.4], 124.362 if m == 10 else None, None,
        notes="Minimizer about (0.2578, 0.2578) for m = 10 (the paper's 4 digits), so x_min is None.",
    )


def helical_valley() -> Problem:
    """Helical valley (MGH #7): 0 at (1, 0, 0).

    ``theta = arctan(x2/x1) / (2 pi)`` for ``x1 > 0`` and ``+ 1/2`` for ``x1 < 0``
    (undefined at ``x1 = 0``).

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.mgh.helical_valley()
    >>> float(p(p.x0)), float(p(p.x_min))
    (2500.0, 0.0)
    """

    def res(x):
        base = snp.arctan(x[1] / x[0]) / (2.0 * np.pi)
        theta = snp.where(x[0] > 0, base, base + 0.5)
        return snp.stack([10.0 * (x[2] - 10.0 * theta), 10.0 * (snp.sqrt(x[0] ** 2 + x[1] ** 2) - 1.0), x[2]])

    return _problem("helical_valley", 7, res, [-1.0, 0.0, 0.0], 0.0, [1.0, 0.0, 0.0], f_x0=2500.0)


_BARD_Y = np.array([0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96, 1.34, 2.10, 4.39])


def bard() -> Problem:
    """Bard (MGH #8): ``f_i = y_i - (x1 + u_i / (v_i x2 + w_i x3))``; 8.21487e-3.

    ``u_i = i``, ``v_i = 16 - i``, ``w_i = min(u_i, v_i)``, ``i = 1..15``.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.mgh.bard()
    >>> p.n, p.f_min
    (3, 0.00821487)
    """
    u = np.arange(1.0, 16.0)
    v = 16.0 - u
    w = np.minimum(u, v)
    res = lambda x: _BARD_Y - (x[0] + u / (v * x[1] + w * x[2]))
    return _problem(
        "bard", 8, res, [1.0, 1.0, 1.0], 8.21487e-3, None,
        other_minima=((17.4286, None),),
        notes="Also 17.4286... as x2, x3 -> -inf (x1 = 0.8406...).",
    )


_GAUSS_Y = np.array(
    [0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989,
     0.3521, 0.2420, 0.1295, 0.0540, 0.0175, 0.0044, 0.0009]
)


def gaussian() -> Problem:
    """Gaussian (MGH #9): ``f_i = x1 exp(-x2 (t_i - x3)^2 / 2) - y_i``, ``t_i = (8 - i)/2``; 1.12793e-8.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.mgh.gaussian()
    >>> p.n, p.f_min
    (3, 1.12793e-08)
    """
    t = (8.0 - np.arange(1.0, 16.0)) / 2.0
    res = lambda x: x[0] * snp.exp(-x[1] * (t - x[2]) ** 2 / 2.0) - _GAUSS_Y
    return _problem("gaussian", 9, res, [0.4, 1.0, 0.0], 1.12793e-8, None)


_MEYER_Y = np.array(
    [34780.0, 28610.0, 23650.0, 19630.0, 16370.0, 13720.0, 11540.0, 9744.0,
     8261.0, 7030.0, 6005.0, 5147.0, 4427.0, 3820.0, 3307.0, 2872.0]
)


def meyer() -> Problem:
    """Meyer (MGH #10): ``f_i = x1 exp(x2 / (t_i + x3)) - y_i``, ``t_i = 45 + 5i``; 87.9458.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.mgh.meyer()
    >>> p.n, p.f_min
    (3, 87.9458)
    """
    t = 45.0 + 5.0 * np.arange(1.0, 17.0)
    res = lambda x: x[0] * snp.exp(x[1] / (t + x[2])) - _MEYER_Y
    return _problem(
        "meyer", 10, res, [0.02, 4000.0, 250.0], 87.9458, None,
        notes="Minimizer about (0.0056096, 6181.35, 345.224); very badly scaled.",
    )


def box_3d(m: int = 10) -> Problem:
    """Box three-dimensional (MGH #12): 0 at (1, 10, 1) (also (10, 1, -1) and x1 = x2, x3 = 0).

    ``f_i = exp(-t_i x1) - exp(-t_i x2) - x3 (exp(-t_i) - exp(-10 t_i))``, ``t_i = 0.1 i``.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.mgh.box_3d()
    >>> float(p(p.x_min)) < 1e-30
    True
    """
    t = 0.1 * np.arange(1.0, m + 1.0)
    res = lambda x: snp.exp(-t * x[0]) - snp.exp(-t * x[1]) - x[2] * (np.exp(-t) - np.exp(-10.0 * t))
    return _problem(
        "box_3d", 12, res, [0.0, 10.0, 20.0], 0.0, [1.0, 10.0, 1.0],
        notes="Minimizer not unique: (1, 10, 1), (10, 1, -1), and (a, a, 0) for any a.",
    )


def powell_singular() -> Problem:
    """Powell singular (MGH #13): 0 at the origin, where the Hessian is singular.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.mgh.powell_singular()
    >>> float(p(p.x0))
    215.0
    """

    def res(x):
        return snp.stack(
            [
                x[0] + 10.0 * x[1],
                np.sqrt(5.0) * (x[2] - x[3]),
                (x[1] - 2.0 * x[2]) ** 2,
                np.sqrt(10.0) * (x[0] - x[3]) ** 2,
            ]
        )

    return _problem("powell_singular", 13, res, [3.0, -1.0, 0.0, 1.0], 0.0, [0.0, 0.0, 0.0, 0.0], f_x0=215.0)


def wood() -> Problem:
    """Wood (MGH #14): 0 at (1, 1, 1, 1).

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> sl.problems.mgh.wood().n
    4
    """

    def res(x):
        return snp.stack(
            [
                10.0 * (x[1] - x[0] ** 2),
                1.0 - x[0],
                np.sqrt(90.0) * (x[3] - x[2] ** 2),
                1.0 - x[2],
                np.sqrt(10.0) * (x[1] + x[3] - 2.0),
                (x[1] - x[3]) / np.sqrt(10.0),
            ]
        )

    return _problem("wood", 14, res, [-3.0, -1.0, -3.0, -1.0], 0.0, [1.0, 1.0, 1.0, 1.0], f_x0=19192.0)


_KO_Y = np.array([0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342, 0.0323, 0.0235, 0.0246])
_KO_U = np.array([4.0, 2.0, 1.0, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625])


def kowalik_osborne() -> Problem:
    """Kowalik and Osborne (MGH #15): ``f_i = y_i - x1 (u_i^2 + u_i x2) / (u_i^2 + u_i x3 + x4)``; 3.07505e-4.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.mgh.kowalik_osborne()
    >>> p.n, p.f_min
    (4, 0.000307505)
    """
    u = _KO_U
    res = lambda x: _KO_Y - x[0] * (u**2 + u * x[1]) / (u**2 + u * x[2] + x[3])
    return _problem(
        "kowalik_osborne", 15, res, [0.25, 0.39, 0.415, 0.39], 3.07505e-4, None,
        other_minima=((1.02734e-3, None),),
        notes="Also 1.02734e-3 at infinity (x1 -> inf, x3, x4 -> -inf).",
    )


def biggs_exp6(m: int = 13) -> Problem:
    """Biggs EXP6 (MGH #18): 5.65565e-3 for m = 13 (and 0 at (1, 10, 1, 5, 4, 3)).

    ``f_i = x3 e^{-t_i x1} - x4 e^{-t_i x2} + x6 e^{-t_i x5} - y_i``, ``t_i = 0.1 i``,
    ``y_i = e^{-t_i} - 5 e^{-10 t_i} + 3 e^{-4 t_i}``.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.mgh.biggs_exp6()
    >>> float(p(np.array([1.0, 10.0, 1.0, 5.0, 4.0, 3.0]))) < 1e-28
    True
    """
    t = 0.1 * np.arange(1.0, m + 1.0)
    y = np.exp(-t) - 5.0 * np.exp(-10.0 * t) + 3.0 * np.exp(-4.0 * t)
    res = lambda x: x[2] * snp.exp(-t * x[0]) - x[3] * snp.exp(-t * x[1]) + x[5] * snp.exp(-t * x[4]) - y
    return _problem(
        "biggs_exp6", 18, res, [1.0, 2.0, 1.0, 1.0, 1.0, 1.0], 0.0, [1.0, 10.0, 1.0, 5.0, 4.0, 3.0],
        other_minima=((5.65565e-3, None),) if m == 13 else (),
        notes="Global minimum 0 at (1, 10, 1, 5, 4, 3) (not unique); for m = 13 the paper also "
        "lists the local minimum 5.65565e-3, which local methods often reach from x0.",
    )


_WATSON_F = {6: 2.28767e-3, 9: 1.39976e-6, 12: 4.72238e-10}


def watson(n: int = 6) -> Problem:
    """Watson (MGH #20), 2 <= n <= 31, m = 31: 2.28767e-3 for n = 6.

    ``f_i = sum_{j=2}^n (j-1) x_j t_i^{j-2} - (sum_{j=1}^n x_j t_i^{j-1})^2 - 1`` with
    ``t_i = i/29`` (i = 1..29), ``f_30 = x1``, ``f_31 = x2 - x1^2 - 1``.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.mgh.watson()
    >>> p.n, float(p(p.x0))
    (6, 30.0)
    """
    t = np.arange(1.0, 30.0) / 29.0
    j = np.arange(1, n + 1)
    P = t[:, None] ** (j - 1)                                   # t_i^{j-1}, shape (29, n)
    D = np.zeros((29, n))
    D[:, 1:] = (j[1:] - 1) * t[:, None] ** (j[1:] - 2)         # (j-1) t_i^{j-2}

    def res(x):
        r = snp.dot(D, x) - snp.dot(P, x) ** 2 - 1.0
        return snp.concatenate([r, snp.stack([x[0], x[1] - x[0] ** 2 - 1.0])])

    return _problem("watson", 20, res, np.zeros(n), _WATSON_F.get(n), None, f_x0=30.0)


def extended_rosenbrock(n: int = 10) -> Problem:
    """Extended Rosenbrock (MGH #21), n even: 0 at (1, ..., 1).

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.mgh.extended_rosenbrock(4)
    >>> p.x0
    array([-1.2,  1. , -1.2,  1. ])
    """
    if n % 2:
        raise ValueError(f"extended_rosenbrock needs an even n, got n={n}")

    def res(x):
        odd, even = x[0::2], x[1::2]
        return snp.concatenate([10.0 * (even - odd**2), 1.0 - odd])

    return _problem(
        "extended_rosenbrock", 21, res, np.tile([-1.2, 1.0], n // 2), 0.0, np.ones(n), f_x0=24.2 * n / 2
    )


def trigonometric(n: int = 10) -> Problem:
    """Trigonometric (MGH #26): ``f_i = n - sum_j cos x_j + i (1 - cos x_i) - sin x_i``; 0.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.mgh.trigonometric(5)
    >>> float(p(np.zeros(5)))
    0.0
    """
    i = np.arange(1.0, n + 1.0)
    res = lambda x: n - snp.sum(snp.cos(x)) + i * (1.0 - snp.cos(x)) - snp.sin(x)
    return _problem(
        "trigonometric", 26, res, np.full(n, 1.0 / n), 0.0, None,
        other_minima=((2.79506e-5, None),) if n == 10 else (),
        notes="Minimum 0 (e.g. at x = 0, and at other points); for n = 10 local methods from x0 "
        "often reach the local minimum 2.79506e-5.",
    )


def variably_dimensioned(n: int = 10) -> Problem:
    """Variably dimensioned (MGH #25): 0 at (1, ..., 1); ``x0_j = 1 - j/n``.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> sl.problems.mgh.variably_dimensioned(4).x0
    array([0.75, 0.5 , 0.25, 0.  ])
    """
    j = np.arange(1.0, n + 1.0)

    def res(x):
        s = snp.sum(j * (x - 1.0))
        return snp.concatenate([x - 1.0, snp.stack([s, s**2])])

    return _problem("variably_dimensioned", 25, res, 1.0 - j / n, 0.0, np.ones(n))


_PENALTY_I_F = {4: 2.24997e-5, 10: 7.08765e-5}


def penalty_i(n: int = 4) -> Problem:
    """Penalty function I (MGH #23): ``f_i = sqrt(1e-5) (x_i - 1)``, ``f_{n+1} = |x|^2 - 1/4``; 2.24997e-5 (n = 4).

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> p = sl.problems.mgh.penalty_i()
    >>> p.x0, p.f_min
    (array([1., 2., 3., 4.]), 2.24997e-05)
    """

    def res(x):
        return snp.concatenate([np.sqrt(1e-5) * (x - 1.0), snp.stack([snp.sum(x**2) - 0.25])])

    return _problem("penalty_i", 23, res, np.arange(1.0, n + 1.0), _PENALTY_I_F.get(n), None)


_FACTORIES = (
    rosenbrock, freudenstein_roth, powell_badly_scaled, brown_badly_scaled, beale, jennrich_sampson,
    helical_valley, bard, gaussian, meyer, box_3d, powell_singular, wood, kowalik_osborne, biggs_exp6,
    watson, extended_rosenbrock, trigonometric, variably_dimensioned, penalty_i,
)

MGH_NAMES = tuple(f.__name__ for f in _FACTORIES)
