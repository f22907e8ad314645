"""Report sections on calculus: derivative rules, Taylor polynomials, Jacobians and Hessians, critical points.

Each section function takes ``quick`` (smaller problems) and returns a
:class:`~slopes.report.page.Section`; :data:`SECTIONS` lists them in page order.

>>> [f.__name__ for f in SECTIONS]
['_derivative_rules', '_taylor_section', '_jacobian_hessian', '_critical_points_section']
"""

from __future__ import annotations

import numpy as np

import slopes.numpy as snp

from ..analysis import convexity, critical_points
from ..check import check_grad
from ..expr import parse
from ..taylor import taylor
from ..transforms import grad, hessian, jacobian
from .figures import draw
from .page import Section, Table

__all__ = [
    "DERIVATIVE_POINT",
    "DERIVATIVE_RULES",
    "TAYLOR_ORDERS",
    "TAYLOR_POINTS",
    "SECTIONS",
    "CRITICAL_POINT_PROBLEMS",
    "critical_point_survey",
    "derivative_checks",
    "jacobian_examples",
    "taylor_errors",
]

#: (rule, formula) pairs checked by :func:`derivative_rules`, at :data:`DERIVATIVE_POINT`.
DERIVATIVE_RULES = (
    ("power and sum", "x1**3 + 2*x2**2"),
    ("product", "x1*sin(x2)"),
    ("quotient", "x1/(1 + x2**2)"),
    ("chain", "exp(-(x1**2 + x2**2)/2)"),
    ("chain (softplus)", "log(1 + exp(x1*x2))"),
)
DERIVATIVE_POINT = (0.7, -1.3)

#: Taylor polynomials of sin(x) + cos(x) about 0, evaluated at these points.
TAYLOR_ORDERS = (1, 2, 3, 5, 8)
TAYLOR_POINTS = (0.5, 1.0, 2.0)


def _sin_plus_cos(x):
    return snp.sin(x) + snp.cos(x)


def _himmelblau(x):
    return (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2


def _six_hump_camel(x):
    return (4 - 2.1 * x[0] ** 2 + x[0] ** 4 / 3) * x[0] ** 2 + x[0] * x[1] + (-4 + 4 * x[1] ** 2) * x[1] ** 2


def _bowl(x):
    return x[0] ** 2 + 10.0 * x[1] ** 2


def derivative_checks():
    """Each rule of :data:`DERIVATIVE_RULES` checked three ways at :data:`DERIVATIVE_POINT`.

    The computation of the report's "derivative rules" section, shared with the tutorials.

    Returns
    -------
    list of (str, str, slopes.check.GradCheckReport)
        ``(rule, formula, report)``: AD, finite differences and sympy side by side.

    Examples
    --------
    >>> [(rule, report.ok) for rule, _, report in derivative_checks()][:2]
    [('power and sum', True), ('product', True)]
    """
    x = np.array(DERIVATIVE_POINT)
    return [(rule, formula, check_grad(parse(formula), x)) for rule, formula in DERIVATIVE_RULES]


def _derivative_rules(quick: bool = False) -> Section:
    """The differentiation rules, each checked three ways with :func:`slopes.check_grad`."""
    rows = []
    for rule, formula, r in derivative_checks():
        rows.append(
            (
                rule,
                f"`{formula}`",
                r.ad[0],
                r.ad[1],
                float(np.max(np.abs(r.ad - r.numeric))),
                float(np.max(r.numeric_error)),
                float(np.max(np.abs(r.ad - r.symbolic))),
                "ok" if r.ok else "MISMATCH",
            )
        )
    text = [
        "Each rule of differentiation (sum, power, product, quotient, chain) is exercised by one formula, "
        f"parsed with `sl.parse` and checked at x = {DERIVATIVE_POINT} with `sl.check_grad`: the gradient by "
        "reverse-mode automatic differentiation (AD) is compared with central finite differences "
        "(Richardson-extrapolated, with an error estimate) and with the exact sympy derivative evaluated "
        "at the point.",
        "AD and sympy agree to rounding (about 1e-16); finite differences agree to their own error "
        "estimate. A wrong rule would show errors many orders of magnitude larger.",
        "The figure shows the secant slopes (f(x0 + h) - f(x0)) / h of f(x) = sin x + cos x turning into "
        "the tangent as h shrinks: the limit that defines the derivative.",
    ]
    table = Table(
        (
            "rule",
            "f(x1, x2)",
            "df/dx1 (AD)",
            "df/dx2 (AD)",
            "max |AD - numeric|",
            "numeric error estimate",
            "max |AD - sympy|",
            "verdict",
        ),
        rows,
        caption=f"Gradient at x = {DERIVATIVE_POINT}, three ways",
    )
    fig = draw(
        "secant_tangent",
        _sin_plus_cos,
        0.5,
        hs=(1.0, 0.5, 0.1),
        xlim=(-1.5, 2.5),
        caption="Secants through x0 = 0.5 with h = 1, 0.5, 0.1 approach the tangent of sin x + cos x",
    )
    return Section("derivative-rules", "Derivative rules checked three ways", text, [table], [fig])


def taylor_errors(orders=TAYLOR_ORDERS, points=TAYLOR_POINTS):
    """Taylor polynomials of sin x + cos x about 0 and their errors at ``points``.

    The computation of the report's Taylor section, shared with the tutorials.

    Parameters
    ----------
    orders : sequence of int
        The degrees n of the polynomials T_n.
    points : sequence of float
        Where the errors ``|f(x) - T_n(x)|`` are measured.

    Returns
    -------
    list of (int, slopes.TaylorPolynomial, ndarray)
        ``(n, T_n, errors)``, the errors in the order of ``points``.

    Examples
    --------
    >>> n, p, err = taylor_errors(orders=(3,), points=(0.5,))[0]
    >>> str(p), bool(err[0] <= 2**0.5 * 0.5**4 / 24)  # Lagrange: |f^(4)| <= sqrt 2
    ('1 + x - x^2/2 - x^3/6', True)
    """
    x = np.array(points, dtype=float)
    exact = np.sin(x) + np.cos(x)
    polys = [(n, taylor(_sin_plus_cos, 0.0, n)) for n in orders]
    return [(n, p, np.abs(exact - np.asarray(p(x)))) for n, p in polys]


def _taylor_section(quick: bool = False) -> Section:
    """Taylor polynomials of sin x + cos x about 0 and their errors."""
    f = _sin_plus_cos
    rows = [(n, str(p), *(float(e) for e in err)) for n, p, err in taylor_errors()]
    text = [
        "The Taylor polynomial T_n of f(x) = sin x + cos x about x0 = 0 is computed with `sl.taylor` "
        "(one Taylor-mode pass gives all the coefficients f^(k)(0) / k! exactly). The derivatives at 0 "
        "cycle through 1, 1, -1, -1, so the coefficients are +-1/k!, with the signs repeating in pairs.",
        "The table gives |f(x) - T_n(x)| at three points: the error falls like |x|^(n+1) / (n+1)!, fast "
        "near the center and slowly far from it.",
    ]
    table = Table(
        (
            "order n",
            "T_n(x) (coefficients f^(k)(0) / k!)",
            *(f"|f - T_n| at x = {x:g}" for x in TAYLOR_POINTS),
        ),
        rows,
        caption="Taylor polynomials of sin x + cos x about 0 and their errors",
    )
    fig = draw(
        "taylor_approximations",
        f,
        0.0,
        orders=TAYLOR_ORDERS[:4],
        xlim=(-3.0, 3.0),
        caption="sin x + cos x and its Taylor polynomials about 0; the errors |f - T_n| on a log scale",
    )
    return Section("taylor", "Taylor polynomials and their errors", text, [table], [fig])


def jacobian_examples():
    """Jacobians, gradients and Hessians by AD beside their closed forms.

    The computation of the report's Jacobian and Hessian section, shared with the tutorials.

    Returns
    -------
    list of (str, str, ndarray, ndarray)
        ``(kind, function, by_ad, closed_form)``, the two arrays of the same shape.

    Examples
    --------
    >>> kind, what, ad, exact = jacobian_examples()[0]
    >>> kind, what, bool(np.allclose(ad, exact))
    ('Jacobian', 'polar map (r cos t, r sin t) at (r, t) = (2, pi/6)', True)
    """
    rng = np.random.default_rng(0)
    r_theta = np.array([2.0, np.pi / 6])
    polar = lambda p: snp.stack([p[0] * snp.cos(p[1]), p[0] * snp.sin(p[1])])  # noqa: E731
    r, t = r_theta
    J_polar = np.array([[np.cos(t), -r * np.sin(t)], [np.sin(t), r * np.cos(t)]])

    A = rng.normal(size=(3, 4))
    x4 = rng.normal(size=4)
    z = np.array([1.0, 2.0, 3.0])
    s = np.exp(z - z.max()) / np.exp(z - z.max()).sum()

    X = rng.normal(size=(20, 3))
    y = rng.normal(size=20)
    w = rng.normal(size=3)
    mse = lambda w: 0.5 * snp.mean((X @ w - y) ** 2)  # noqa: E731
    labels = (y > 0).astype(float)
    logloss = lambda w: snp.mean(snp.logaddexp(0.0, X @ w) - labels * (X @ w))  # noqa: E731
    p = 1 / (1 + np.exp(-(X @ w)))

    quad = lambda v: v[0] ** 2 + v[0] * v[1] + v[1] ** 2  # noqa: E731
    return [
        ("Jacobian", "polar map (r cos t, r sin t) at (r, t) = (2, pi/6)", jacobian(polar)(r_theta), J_polar),
        ("Jacobian", "linear map A x (A: 3 x 4)", jacobian(lambda v: A @ v)(x4), A),
        (
            "Jacobian",
            "softmax at z = (1, 2, 3)",
            jacobian(lambda v: snp.exp(v - snp.logsumexp(v)))(z),
            np.diag(s) - np.outer(s, s),
        ),
        ("gradient", "least squares (1/2n) |X w - y|^2", grad(mse)(w), X.T @ (X @ w - y) / len(y)),
        (
            "Hessian",
            "x^2 + x y + y^2",
            hessian(quad)(np.array([0.3, -0.4])),
            np.array([[2.0, 1.0], [1.0, 2.0]]),
        ),
        ("Hessian", "least squares (1/2n) |X w - y|^2", hessian(mse)(w), X.T @ X / len(y)),
        ("Hessian", "logistic loss (mean)", hessian(logloss)(w), X.T @ (X * (p * (1 - p))[:, None]) / len(y)),
    ]


def _jacobian_hessian(quick: bool = False) -> Section:
    """Jacobians and Hessians by AD against their closed forms."""
    examples = jacobian_examples()
    rows = [
        (kind, what, "x".join(map(str, ad.shape)), float(np.max(np.abs(ad - ref))))
        for kind, what, ad, ref in examples
    ]
    det = float(np.linalg.det(examples[0][2]))
    text = [
        "Derivatives of vector-valued maps and second derivatives, by `sl.jacobian`, `sl.grad` and "
        "`sl.hessian`, compared entry by entry with the closed forms: for the polar map "
        "[[cos t, -r sin t], [sin t, r cos t]]; for a linear map, A itself; for softmax, diag(s) - s s^T; "
        "for least squares, X^T (X w - y) / n and X^T X / n; for the logistic loss, X^T W X / n with "
        "W = diag(p (1 - p)); for x^2 + x y + y^2, [[2, 1], [1, 2]].",
        f"The determinant of the polar Jacobian is r: AD gives {det:.12g} at r = 2. Every difference in "
        "the table is at the level of rounding.",
        "The figure shows the gradient field of x^2 + 2 y^2 + exp(-x - y): the arrows are orthogonal to the "
        "level sets.",
    ]
    table = Table(
        ("derivative", "function", "shape", "max |AD - closed form|"),
        rows,
        caption="Jacobians, gradients and Hessians by AD against closed forms",
    )
    f = lambda v: v[0] ** 2 + 2 * v[1] ** 2 + snp.exp(-v[0] - v[1])  # noqa: E731
    fig = draw(
        "contour_gradients",
        f,
        (-2.0, 2.0),
        (-2.0, 2.0),
        n_arrows=12,
        caption="Level sets of x^2 + 2 y^2 + exp(-x - y) and its normalized gradient",
    )
    return Section("jacobian-hessian", "Jacobian and Hessian examples", text, [table], [fig])


#: (name, function, x-range, y-range) of the critical-points section.
CRITICAL_POINT_PROBLEMS = (
    ("Himmelblau", _himmelblau, (-5.0, 5.0), (-5.0, 5.0)),
    ("six-hump camel", _six_hump_camel, (-2.0, 2.0), (-1.0, 1.0)),
)


def critical_point_survey(n_starts: int = 128):
    """Critical points of Himmelblau's function and the six-hump camel in their boxes.

    The computation of the report's critical-points section, shared with the tutorials.

    Parameters
    ----------
    n_starts : int
        Seeded Newton starts per function (:func:`slopes.analysis.critical_points`).

    Returns
    -------
    dict of str to list of slopes.analysis.CriticalPoint
        Keyed by the names of :data:`CRITICAL_POINT_PROBLEMS`.

    Examples
    --------
    >>> found = critical_point_survey(n_starts=64)
    >>> sorted(c.kind for c in found["Himmelblau"]).count("minimum")
    4
    """
    return {
        name: critical_points(f, [xlim, ylim], n_starts=n_starts, seed=0)
        for name, f, xlim, ylim in CRITICAL_POINT_PROBLEMS
    }


def _critical_points_section(quick: bool = False) -> Section:
    """Critical points of Himmelblau's function and the six-hump camel, and convexity evidence."""
    n_starts = 64 if quick else 128
    problems = CRITICAL_POINT_PROBLEMS
    rows, figures = [], []
    found = critical_point_survey(n_starts)
    for name, f, xlim, ylim in problems:
        cps = found[name]
        for c in cps:
            rows.append(
                (
                    name,
                    c.kind,
                    float(c.x[0]),
                    float(c.x[1]),
                    float(c.value),
                    float(c.eigenvalues[0]),
                    float(c.eigenvalues[-1]),
                )
            )
        figures.append(
            draw(
                "critical_points_plot",
                f,
                xlim,
                ylim,
                points=cps,
                caption=f"Critical points of {name} in {list(xlim)} x {list(ylim)}, by kind",
            )
        )
    n_samples = 64 if quick else 256
    conv_rows = []
    for name, f, box in [
        ("Himmelblau", _himmelblau, [(-5.0, 5.0), (-5.0, 5.0)]),
        ("six-hump camel", _six_hump_camel, [(-2.0, 2.0), (-1.0, 1.0)]),
        ("x^2 + 10 y^2", _bowl, [(-5.0, 5.0), (-5.0, 5.0)]),
    ]:
        rep = convexity(f, box, n_samples=n_samples, seed=0)
        verdict = "no counterexample found" if rep.no_counterexample else "not convex (counterexample)"
        conv_rows.append((name, str(box), rep.min_eigenvalue, rep.mu, verdict))
    counts = {
        n: {k: sum(c.kind == k for c in cps) for k in ("minimum", "maximum", "saddle")}
        for n, cps in found.items()
    }
    text = [
        "`sl.analysis.critical_points` solves grad f = 0 in a box by multi-start Newton "
        f"({n_starts} seeded starts) and classifies each root by the eigenvalues of its Hessian: all positive, "
        "a minimum; all negative, a maximum; mixed signs, a saddle.",
        "Himmelblau's function has {minimum} minima (all with f = 0), {saddle} saddles and {maximum} "
        "maximum; ".format(**counts["Himmelblau"])
        + "the six-hump camel has {minimum} minima, {saddle} saddles and {maximum} maxima in its box "
        "(the two global minima have f = -1.0316).".format(**counts["six-hump camel"]),
        "`sl.analysis.convexity` samples Hessian eigenvalues and the first-order condition "
        "f(y) >= f(x) + grad f(x).(y - x): both non-convex functions yield a counterexample, while the "
        "elongated bowl shows none and a strong-convexity estimate mu = 2 (its Hessian is diag(2, 20)).",
    ]
    tables = [
        Table(
            (
                "function",
                "kind",
                "x1",
                "x2",
                "f",
                "smallest Hessian eigenvalue",
                "largest Hessian eigenvalue",
            ),
            rows,
            caption="Critical points found and classified",
        ),
        Table(
            ("function", "box", "min sampled eigenvalue", "mu estimate", "verdict"),
            conv_rows,
            caption=f"Convexity evidence from {n_samples} samples",
        ),
    ]
    return Section("critical-points", "Critical points and convexity", text, tables, figures)


SECTIONS = (_derivative_rules, _taylor_section, _jacobian_hessian, _critical_points_section)
