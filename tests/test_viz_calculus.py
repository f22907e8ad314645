"""slopes.viz.calculus: secants and the tangent, Taylor polynomials and their errors.

References: difference quotients and closed-form derivatives in plain NumPy, Taylor series from
sympy, the PNG decoded by Pillow.
"""

import numpy as np
import pytest
import sympy as sp
from test_viz_landscape import assert_renders

import slopes.numpy as snp
import slopes.viz as sv


def f(x):
    return snp.sin(x) + x**2 / 4


def f_np(x):
    return np.sin(x) + x**2 / 4


def by_gid(ax, gid):
    return [line for line in ax.lines if line.get_gid() == gid]


def slope_and_intercept(line):
    x, y = line.get_xydata().T
    return np.polyfit(x, y, 1)


def test_secant_slopes_are_the_difference_quotients_and_the_tangent_slope_is_the_derivative():
    x0, hs = 1.0, (1.0, 0.5, 0.1, -0.3)
    fig = sv.secant_tangent(f, x0, hs)
    assert_renders(fig)
    (ax,) = fig.axes
    assert [line.get_gid() for line in ax.lines] == ["f"] + ["secant"] * 4 + ["tangent"]

    (graph,) = by_gid(ax, "f")
    np.testing.assert_allclose(graph.get_ydata(), f_np(graph.get_xdata()), rtol=1e-14)
    # the default view holds every secant point, with margin
    lo, hi = ax.get_xlim()
    assert lo < x0 - 0.3 and hi > x0 + 1.0

    quotients = [(f_np(x0 + h) - f_np(x0)) / h for h in hs]
    for line, q in zip(by_gid(ax, "secant"), quotients):
        slope, icpt = slope_and_intercept(line)
        assert slope == pytest.approx(q, rel=1e-10)
        assert slope * x0 + icpt == pytest.approx(f_np(x0), rel=1e-10)  # through (x0, f(x0))
    (tangent,) = by_gid(ax, "tangent")
    slope, icpt = slope_and_intercept(tangent)
    assert slope == pytest.approx(np.cos(x0) + x0 / 2, rel=1e-12)
    assert slope * x0 + icpt == pytest.approx(f_np(x0), rel=1e-12)
    # the secant slopes approach it as h shrinks: error O(h)
    errors = [abs(q - slope) for q in quotients[:3]]
    assert errors[0] > errors[1] > errors[2]

    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(texts) == 6 and texts[1].startswith("secant h = 1") and texts[-1].startswith("tangent")
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "f(x)" and "x0 = 1" in ax.get_title()
    # the marked points: x0 and each x0 + h, on the graph
    marked = np.concatenate([c.get_offsets() for c in ax.collections])
    expected = np.array([[x0 + h, f_np(x0 + h)] for h in hs] + [[x0, f_np(x0)]])
    np.testing.assert_allclose(marked, expected, rtol=1e-12)


def test_secant_tangent_xlim_is_respected():
    fig = sv.secant_tangent(lambda x: x**3, 0.5, hs=0.25, xlim=(-2, 2))
    ax = fig.axes[0]
    assert ax.get_xlim() == (-2.0, 2.0)
    (sec,) = by_gid(ax, "secant")
    assert slope_and_intercept(sec)[0] == pytest.approx((0.75**3 - 0.5**3) / 0.25)


X, S = sp.symbols("x s")


@pytest.mark.parametrize(
    "fun, expr, x0",
    [
        (lambda x: snp.exp(x) * snp.cos(x), sp.exp(X) * sp.cos(X), 0.5),
        (lambda x: snp.log1p(x**2), sp.log(1 + X**2), -0.3),
    ],
)
def test_taylor_polynomials_match_sympy_series_and_errors_are_their_distance_to_f(fun, expr, x0):
    orders = (1, 2, 3, 5)
    fig = sv.taylor_approximations(fun, x0, orders)
    assert_renders(fig)
    top, bottom = fig.axes
    assert [line.get_gid() for line in top.lines] == ["f"] + ["taylor"] * 4
    assert [line.get_label() for line in top.lines[1:]] == [f"order {n}" for n in orders]
    assert [line.get_gid() for line in bottom.lines] == ["error"] * 4
    assert bottom.get_yscale() == "log"
    assert top.get_title() and bottom.get_title() and bottom.get_xlabel() == "x" and bottom.get_ylabel()

    f_ref = sp.lambdify(X, expr, "numpy")
    xs = top.lines[0].get_xdata()
    assert xs[0] == pytest.approx(x0 - 2) and xs[-1] == pytest.approx(x0 + 2)
    np.testing.assert_allclose(top.lines[0].get_ydata(), f_ref(xs), rtol=1e-12, atol=1e-15)
    idx = np.array([0, 77, 150, 201, 333, 399])  # a few points on the curves
    # one sympy series in s = x - x0, truncated by degree for each order
    c = sp.Rational(x0).limit_denominator(100)
    coeffs = sp.Poly(sp.series(expr.subs(X, c + S), S, 0, orders[-1] + 1).removeO(), S).all_coeffs()[::-1]
    for n, poly, err in zip(orders, top.lines[1:], bottom.lines):
        p_ref = sp.lambdify(X, sum(coeffs[k] * (X - c) ** k for k in range(n + 1)), "numpy")
        np.testing.assert_allclose(poly.get_ydata()[idx], p_ref(xs[idx]), rtol=1e-10, atol=1e-12)
        e = err.get_ydata()
        np.testing.assert_allclose(e[idx], np.abs(f_ref(xs[idx]) - p_ref(xs[idx])), rtol=1e-6, atol=1e-13)


def test_taylor_of_a_polynomial_is_exact_from_its_degree_on():
    fig = sv.taylor_approximations(lambda x: x**3 - 2 * x, 1.0, orders=(3, 1), xlim=(-1, 3))
    top, bottom = fig.axes
    assert [line.get_label() for line in top.lines[1:]] == ["order 1", "order 3"]  # sorted
    xs = top.lines[1].get_xdata()
    # p_1 = f(1) + f'(1)(x - 1) = -1 + (x - 1)
    np.testing.assert_allclose(top.lines[1].get_ydata(), -1 + (xs - 1), atol=1e-12)
    e3 = bottom.lines[1].get_ydata()
    assert np.all(np.isnan(e3) | (e3 < 1e-12))  # exact: zero error is left off the log scale
    assert bottom.get_ylim()[0] > 0


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: sv.secant_tangent(f, 1.0, hs=(0.5, 0.0)), ValueError, "nonzero"),
        (lambda: sv.secant_tangent(f, 1.0, hs=()), ValueError, "nonzero"),
        (lambda: sv.secant_tangent(f, np.nan), ValueError, "x0 must be finite"),
        (lambda: sv.secant_tangent(f, "a"), TypeError, "x0 must be a real number"),
        (lambda: sv.secant_tangent(3.0, 1.0), TypeError, "callable"),
        (lambda: sv.secant_tangent(f, 1.0, xlim=(1, 1)), ValueError, "low < high"),
        (lambda: sv.taylor_approximations(f, 0.0, orders=(1, -2)), ValueError, "integers >= 0"),
        (lambda: sv.taylor_approximations(f, 0.0, orders=(1.5,)), ValueError, "integers >= 0"),
        (lambda: sv.taylor_approximations(f, 0.0, orders=()), ValueError, "non-empty"),
        (
            lambda: sv.taylor_approximations(lambda x: snp.stack([x, x]), 0.0),
            ValueError,
            "scalar to a scalar",
        ),
    ],
)
def test_bad_input_raises_clear_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()
