"""slopes.analysis.critical: the Hessian test and multi-start Newton, against sympy and closed forms."""

import numpy as np
import pytest
import sympy as sp

import slopes as sl
from slopes.analysis import classify, critical_points

X, Y = sp.symbols("x y")


def himmelblau(x):
    return (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2


def camel(x):
    return (4 - 2.1 * x[0] ** 2 + x[0] ** 4 / 3) * x[0] ** 2 + x[0] * x[1] + (-4 + 4 * x[1] ** 2) * x[1] ** 2


HIMMELBLAU_SYM = (X**2 + Y - 11) ** 2 + (X + Y**2 - 7) ** 2
CAMEL_SYM = (4 - sp.Rational(21, 10) * X**2 + X**4 / 3) * X**2 + X * Y + (-4 + 4 * Y**2) * Y**2


def sympy_critical_points(expr, box):
    """All real critical points of a polynomial in (x, y) in the box, by elimination (resultant in x)."""
    gx, gy = sp.diff(expr, X), sp.diff(expr, Y)
    hess = sp.lambdify((X, Y), sp.hessian(expr, (X, Y)))
    fval = sp.lambdify((X, Y), expr)
    pts = []
    for ry in sp.Poly(sp.resultant(gx, gy, X), Y).nroots(n=30, maxsteps=200):
        if abs(sp.im(ry)) > 1e-12:
            continue
        y0 = float(sp.re(ry))
        for rx in sp.Poly(gy.subs(Y, y0), X).nroots(n=30):
            x0 = float(sp.re(rx))
            if abs(sp.im(rx)) > 1e-9 or abs(float(gx.subs({X: x0, Y: y0}))) > 1e-6:
                continue
            inside = box[0][0] <= x0 <= box[0][1] and box[1][0] <= y0 <= box[1][1]
            if inside and all(np.hypot(x0 - p[0], y0 - p[1]) > 1e-6 for p in pts):
                pts.append((x0, y0))
    out = []
    for p in pts:
        w = np.linalg.eigvalsh(np.array(hess(*p), dtype=float))
        kind = "minimum" if w[0] > 0 else "maximum" if w[1] < 0 else "saddle"
        out.append((np.array(p), kind, float(fval(*p))))
    return out


def match(found, reference, atol=1e-6):
    """Pair each reference point with exactly one found point; check kind and f value."""
    assert len(found) == len(reference)
    for x_ref, kind, f_ref in reference:
        near = [p for p in found if np.linalg.norm(p.x - x_ref) < atol]
        assert len(near) == 1, (x_ref, kind)
        assert near[0].kind == kind
        assert near[0].value == pytest.approx(f_ref, abs=1e-9)


# ---- classify ----


def test_classify_kinds_against_closed_form_hessians():
    c = classify(lambda x: x[0] ** 2 - x[1] ** 2, np.zeros(2))
    assert c.kind == "saddle"
    np.testing.assert_array_equal(c.eigenvalues, [-2.0, 2.0])
    np.testing.assert_array_equal(c.hessian, np.diag([2.0, -2.0]))
    assert classify(lambda x: 3 * x[0] ** 2 + x[0] * x[1] + x[1] ** 2, np.zeros(2)).kind == "minimum"
    c = classify(lambda x: -(x[0] ** 2) - 2 * x[1] ** 2 - x[2] ** 2, np.zeros(3))
    assert c.kind == "maximum"
    np.testing.assert_array_equal(c.eigenvalues, [-4.0, -2.0, -2.0])


def test_classify_not_critical_reports_the_gradient_norm():
    c = classify(lambda x: x[0] ** 2 + x[1] ** 2, np.array([1.0, 2.0]))
    assert c.kind == "not critical"
    assert c.grad_norm == pytest.approx(np.hypot(2.0, 4.0), rel=1e-15)
    np.testing.assert_array_equal(c.eigenvalues, [2.0, 2.0])  # still given


def test_classify_degenerate_cases():
    # x1^2 x2^2 (the course's example): zero Hessian at 0, so the test is inconclusive.
    # (The notes call (0,0) "not a local minimum"; f >= 0 = f(0) says it is one, non-strict.)
    c = classify(lambda x: x[0] ** 2 * x[1] ** 2, np.zeros(2))
    assert c.kind == "degenerate"
    np.testing.assert_array_equal(c.eigenvalues, [0.0, 0.0])
    g = np.linspace(-1, 1, 41)
    assert np.min(np.outer(g, g) ** 2) >= 0.0
    assert classify(lambda x: x[0] ** 4, np.zeros(1)).kind == "degenerate"
    assert classify(lambda x: x[0] ** 2 + x[1] ** 3, np.zeros(2)).kind == "degenerate"
    # one zero eigenvalue but the others of both signs: indefinite, a saddle whatever the zero does
    assert classify(lambda x: x[0] ** 2 - x[1] ** 2 + x[2] ** 4, np.zeros(3)).kind == "saddle"


def test_classify_tolerance_is_relative_to_the_hessian_scale():
    f = lambda x: x[0] ** 2 + 1e-10 * x[1] ** 2  # eigenvalues 2 and 2e-10
    c = classify(f, np.zeros(2))
    assert c.kind == "degenerate" and c.tol == pytest.approx(np.sqrt(np.finfo(float).eps) * 2)
    assert classify(f, np.zeros(2), tol=1e-12).kind == "minimum"
    big = lambda x: 1e6 * (x[0] ** 2 + 1e-10 * x[1] ** 2)  # same shape, scaled: same verdict
    assert classify(big, np.zeros(2)).kind == "degenerate"
    # a point known to 6 digits: not critical at the default gtol, critical with a looser one
    p = np.array([-2.805118, 3.131312])
    assert classify(himmelblau, p).kind == "not critical"
    assert classify(himmelblau, p, gtol=1e-3).kind == "minimum"


@pytest.mark.parametrize(
    "f, expr",
    [
        (lambda x: 1 / x[0], 1 / X),  # a pole
        (lambda x: sl.numpy.sqrt(x[0]), sp.sqrt(X)),  # branch points
        (lambda x: sl.numpy.log(x[0]), sp.log(X)),
        (lambda x: sl.numpy.cbrt(x[0]) + x[1] ** 2, sp.cbrt(X) + Y**2),  # a cusp
        (lambda x: x[0] ** 1.5 + x[1] ** 2, X ** sp.Rational(3, 2) + Y**2),  # C^1, not C^2
    ],
)
def test_classify_calls_non_finite_derivatives_not_differentiable(f, expr):
    # sympy: at 0 the first or second derivative of each is infinite (zoo / oo) or undefined
    syms = sorted(expr.free_symbols, key=str)
    derivs = [sp.diff(expr, s) for s in syms] + [sp.diff(expr, s, 2) for s in syms]
    assert any(not sp.limit(d, X, 0, "+").subs(Y, 0).is_finite for d in derivs)
    c = classify(f, np.zeros(len(syms)))
    assert c.kind == "not differentiable"  # was 'degenerate': an inf gradient passed an inf tolerance
    assert np.all(np.isnan(c.eigenvalues)) and np.isnan(c.tol) and np.isnan(c.gtol)


def test_classify_float32_in_float32_out():
    c = classify(lambda x: x[0] ** 2 - 3 * x[1] ** 2, np.zeros(2, dtype=np.float32))
    assert c.eigenvalues.dtype == np.float32 and c.hessian.dtype == np.float32
    assert c.kind == "saddle"


def test_classify_scalar_point_and_bad_input():
    c = classify(lambda t: t**3 - 3 * t, 1.0)  # f'' = 6 t = 6 at t = 1
    assert c.kind == "minimum" and c.eigenvalues.tolist() == [6.0]
    with pytest.raises(TypeError, match="scalar"):
        classify(lambda x: x * 2, np.zeros(2))
    with pytest.raises(TypeError, match="callable"):
        classify("x**2", np.zeros(2))
    with pytest.raises(ValueError, match="tol"):
        classify(himmelblau, np.zeros(2), tol=-1.0)
    with pytest.raises(ValueError, match="1-D"):
        classify(himmelblau, np.zeros((2, 2)))


# ---- critical_points ----


def test_saddle_of_x1sq_minus_x2sq():
    pts = critical_points(lambda x: x[0] ** 2 - x[1] ** 2, [(-1, 1), (-1, 1)], n_starts=16)
    assert len(pts) == 1 and pts[0].kind == "saddle"
    assert np.linalg.norm(pts[0].x) < 1e-12


@pytest.fixture(scope="module")
def himmelblau_points():
    return critical_points(himmelblau, [(-5, 5), (-5, 5)])


def test_himmelblau_against_sympy_and_known_minima(himmelblau_points):
    match(himmelblau_points, sympy_critical_points(HIMMELBLAU_SYM, [(-5, 5), (-5, 5)]))
    kinds = [p.kind for p in himmelblau_points]
    assert kinds.count("minimum") == 4 and kinds.count("saddle") == 4 and kinds.count("maximum") == 1
    known = [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]
    minima = [p for p in himmelblau_points if p.kind == "minimum"]
    for m in known:
        assert any(np.allclose(p.x, m, atol=1e-6) for p in minima)
    assert all(abs(p.value) < 1e-20 for p in minima)
    (mx,) = [p for p in himmelblau_points if p.kind == "maximum"]
    np.testing.assert_allclose(mx.x, [-0.270845, -0.923039], atol=1e-6)
    # sorted by f
    values = [p.value for p in himmelblau_points]
    assert values == sorted(values)


def test_six_hump_camel_against_sympy():
    box = [(-3, 3), (-2, 2)]
    pts = critical_points(camel, box)
    ref = sympy_critical_points(CAMEL_SYM, box)
    match(pts, ref)
    kinds = [p.kind for p in pts]
    assert kinds.count("minimum") == 6  # the textbook's six humps
    best = pts[:2]
    assert [p.kind for p in best] == ["minimum", "minimum"]
    for p in best:
        assert p.value == pytest.approx(-1.0316, abs=1e-4)
    np.testing.assert_allclose(sorted(np.abs(best[0].x)), sorted([0.0898, 0.7126]), atol=1e-4)


def test_same_seed_same_points_and_errors():
    a = critical_points(himmelblau, [(-5, 5), (-5, 5)], n_starts=32, seed=3)
    b = critical_points(himmelblau, [(-5, 5), (-5, 5)], n_starts=32, seed=3)
    assert [p.x.tolist() for p in a] == [p.x.tolist() for p in b]
    with pytest.raises(ValueError, match="low < high"):
        critical_points(himmelblau, [(5, -5), (-5, 5)])
    with pytest.raises(ValueError, match=r"\(low, high\) pair"):
        critical_points(himmelblau, [-5, 5])
    with pytest.raises(ValueError, match="n_starts"):
        critical_points(himmelblau, [(-5, 5), (-5, 5)], n_starts=0)


def test_box_restricts_the_points():
    # only the minimum (3, 2) of Himmelblau lies in [2, 4] x [1, 3]
    pts = critical_points(himmelblau, [(2, 4), (1, 3)], n_starts=16)
    assert len(pts) == 1 and pts[0].kind == "minimum"
    np.testing.assert_allclose(pts[0].x, [3.0, 2.0], atol=1e-12)


def test_no_overflow_warnings_far_out():
    with np.errstate(all="raise"):
        pts = critical_points(lambda x: x[0] ** 2 - x[1] ** 2, [(-1e3, 1e3), (-1e3, 1e3)], n_starts=8)
    assert len(pts) == 1 and pts[0].kind == "saddle"
    assert sl.analysis.classify(lambda x: x[0] ** 2, np.array([1e3])).kind == "not critical"
