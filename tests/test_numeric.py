"""slopes.numeric: finite-difference weights, quotients, Richardson, complex step, and the API.

Every claim is checked against an independent reference: closed-form derivatives,
known stencil tables, exact polynomial identities, or slopes' AD.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import slopes as sl
import slopes.numpy as snp
from slopes import numeric as nm

# ----------------------------------------------------------------------------- fd_weights

TABLES = [
    ([-1, 0, 1], 1, [-1 / 2, 0, 1 / 2]),
    ([-1, 0, 1], 2, [1, -2, 1]),
    ([-2, -1, 0, 1, 2], 1, [1 / 12, -2 / 3, 0, 2 / 3, -1 / 12]),
    ([-2, -1, 0, 1, 2], 2, [-1 / 12, 4 / 3, -5 / 2, 4 / 3, -1 / 12]),
    ([-2, -1, 0, 1, 2], 4, [1, -4, 6, -4, 1]),
    ([0, 1], 1, [-1, 1]),
    ([0, 1, 2], 1, [-3 / 2, 2, -1 / 2]),
    ([0, 1, 2, 3], 3, [-1, 3, -3, 1]),
    ([0, -1, -2], 1, [3 / 2, -2, 1 / 2]),
]


@pytest.mark.parametrize("stencil, order, expected", TABLES)
def test_fd_weights_known_tables(stencil, order, expected):
    np.testing.assert_allclose(nm.fd_weights(stencil, order), expected, rtol=1e-13, atol=1e-14)


def _exact_weights(stencil, order):
    """Weights from the Vandermonde system solved in exact rational arithmetic."""
    s = [Fraction(v).limit_denominator(10**6) for v in stencil]
    n = len(s)
    A = [
        [s[k] ** i for k in range(n)] + [Fraction(math.factorial(order)) if i == order else Fraction(0)]
        for i in range(n)
    ]
    for c in range(n):  # Gauss-Jordan
        p = next(r for r in range(c, n) if A[r][c] != 0)
        A[c], A[p] = A[p], A[c]
        A[c] = [v / A[c][c] for v in A[c]]
        for r in range(n):
            if r != c and A[r][c] != 0:
                A[r] = [a - A[r][c] * b for a, b in zip(A[r], A[c])]
    return np.array([float(A[r][n]) for r in range(n)])


@pytest.mark.parametrize("seed", range(6))
def test_fd_weights_exact_on_polynomials_of_low_degree(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 7))
    stencil = np.sort(rng.choice(np.arange(-8, 9) / 2, size=n, replace=False))
    order = int(rng.integers(0, n))
    w = nm.fd_weights(stencil, order)
    np.testing.assert_allclose(w, _exact_weights(stencil, order), rtol=1e-10, atol=1e-10)
    # exact on every monomial t**deg, deg < n, at x = 0.3, h = 0.25
    x, h = 0.3, 0.25
    for deg in range(n):
        approx = np.sum(w * (x + stencil * h) ** deg) / h**order
        exact = math.perm(deg, order) * x ** (deg - order) if deg >= order else 0.0
        assert approx == pytest.approx(exact, rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.integers(-12, 12), min_size=1, max_size=8, unique=True),
    order=st.integers(0, 7),
    x=st.floats(-2, 2),
)
def test_fd_weights_property_exact_on_polynomials(offsets, order, x):
    """Any distinct stencil of n points differentiates polynomials of degree < n exactly."""
    s = np.array(offsets, dtype=float) / 4
    if order >= s.size:
        with pytest.raises(ValueError, match="stencil points"):
            nm.fd_weights(s, order)
        return
    w = nm.fd_weights(s, order)
    h = 0.5
    deg = s.size - 1
    approx = np.sum(w * (x + s * h) ** deg) / h**order
    exact = math.perm(deg, order) * x ** (deg - order) if deg >= order else 0.0
    scale = np.sum(np.abs(w) * np.abs(x + s * h) ** deg) / h**order
    assert abs(approx - exact) <= 1e-11 * max(1.0, scale)


def test_fd_weights_errors():
    with pytest.raises(ValueError, match="at least 3 stencil points"):
        nm.fd_weights([-1, 1], 2)
    with pytest.raises(ValueError, match="distinct"):
        nm.fd_weights([0, 1, 1], 1)
    with pytest.raises(ValueError, match="non-negative integer"):
        nm.fd_weights([0, 1], -1)


# ----------------------------------------------------------------------------- quotients


def test_stencils_and_difference_quotient():
    np.testing.assert_array_equal(nm.stencil(1, 4, "central"), [-2, -1, 0, 1, 2])
    np.testing.assert_array_equal(nm.stencil(2, 2, "backward"), [0, -1, -2, -3])
    with pytest.raises(ValueError, match="even accuracy"):
        nm.stencil(1, 3, "central")
    with pytest.raises(ValueError, match="kind"):
        nm.stencil(1, 2, "sideways")
    # a stencil of n points is exact on polynomials of degree < n: x**3 on 5-point stencils
    for order, accuracy in ((1, 4), (2, 4), (3, 2)):
        got = nm.difference_quotient(lambda t: t**3 - t, 1.5, 0.25, order=order, accuracy=accuracy)
        assert got == pytest.approx([3 * 1.5**2 - 1, 6 * 1.5, 6.0][order - 1], rel=1e-12)
    # elementwise on arrays, with per-entry steps
    x = np.array([0.5, 1.0, 2.0])
    got = nm.difference_quotient(np.exp, x, np.array([1e-3, 1e-3, 1e-4]), accuracy=4)
    np.testing.assert_allclose(got, np.exp(x), rtol=1e-10)


def _log_slope(f, df, x, hs, kind):
    err = [
        abs(nm.difference_quotient(f, x, h, accuracy=1 if kind != "central" else 2, kind=kind) - df(x))
        for h in hs
    ]
    return np.polyfit(np.log(hs), np.log(err), 1)[0]


@pytest.mark.parametrize(
    "f, df, x", [(np.exp, np.exp, 0.7), (np.sin, np.cos, 1.1), (np.log, lambda t: 1 / t, 2.0)]
)
def test_convergence_orders(f, df, x):
    """Secant (forward) quotients converge at order 1, central ones at order 2."""
    hs = np.logspace(-4, -1.5, 12)  # truncation dominates rounding over this range
    assert _log_slope(f, df, x, hs, "forward") == pytest.approx(1.0, abs=0.15)
    assert _log_slope(f, df, x, hs, "backward") == pytest.approx(1.0, abs=0.15)
    hs = np.logspace(-3, -1, 12)
    assert _log_slope(f, df, x, hs, "central") == pytest.approx(2.0, abs=0.15)


# ----------------------------------------------------------------------------- richardson


def test_richardson_extrapolates_and_bounds_its_error():
    h = 0.2 / 2.0 ** np.arange(6)
    A = (np.sin(1 + h) - np.sin(1 - h)) / (2 * h)
    value, error = nm.richardson(A, h, order=2)
    assert abs(value - np.cos(1.0)) < 1e-14
    assert abs(value - np.cos(1.0)) <= error < 1e-12
    # one-sided quotients: error in all powers of h; increasing steps are accepted too
    A1 = (np.exp(h) - 1) / h
    value, error = nm.richardson(A1[::-1], h[::-1], order=1)
    assert abs(value - 1) <= error < 1e-9
    # vector-valued
    V = np.stack([A, 2 * A], axis=1)
    value, error = nm.richardson(V, h, order=2)
    np.testing.assert_allclose(value, [np.cos(1), 2 * np.cos(1)], rtol=1e-14)
    with pytest.raises(ValueError, match="geometric"):
        nm.richardson(A[:3], [0.1, 0.05, 0.01])


# ----------------------------------------------------------------------------- derivative accuracy

FUNCS = [
    (np.exp, np.exp, np.exp, [-2.0, 0.0, 0.5, 1.0, 3.0]),
    (np.sin, np.cos, lambda t: -np.sin(t), [-1.0, 0.0, 0.3, 1.0, 2.5]),
    (np.log, lambda t: 1 / t, lambda t: -1 / t**2, [0.5, 1.0, 2.0, 10.0, 100.0]),
    (lambda t: t**3 + 2 * t - 5, lambda t: 3 * t**2 + 2, lambda t: 6 * t, [-2.0, 0.0, 0.5, 1.0, 3.0]),
]


@pytest.mark.parametrize("f, df, d2f, points", FUNCS)
def test_central_richardson_reaches_1e_10(f, df, d2f, points):
    for x in points:
        est = nm.derivative(f, x, full_output=True)
        exact = df(x)
        assert abs(est.value - exact) <= 1e-10 * abs(exact)
        assert abs(est.value - exact) <= est.error
        assert est.step > 0 and est.value.shape == est.error.shape == ()
        # second derivatives: less headroom, still far beyond a single quotient
        assert nm.derivative(f, x, order=2) == pytest.approx(d2f(x), rel=1e-7, abs=1e-9)
        # complex step: accurate to rounding
        assert nm.derivative(f, x, method="complex") == pytest.approx(exact, rel=2e-15, abs=1e-15)
        assert nm.complex_step(f, x) == pytest.approx(exact, rel=2e-15, abs=1e-15)


def _random_function(rng):
    """a exp(b x) + c sin(d x) + e log(1 + x^2), with first and second derivatives."""
    a, c, e = rng.normal(size=3)
    b, d = rng.uniform(-2, 2), rng.uniform(0.2, 5)
    f = lambda x: a * np.exp(b * x) + c * np.sin(d * x) + e * np.log1p(x * x)
    df = lambda x: a * b * np.exp(b * x) + c * d * np.cos(d * x) + e * 2 * x / (1 + x * x)
    d2f = lambda x: (
        a * b * b * np.exp(b * x) - c * d * d * np.sin(d * x) + e * 2 * (1 - x * x) / (1 + x * x) ** 2
    )
    return f, df, d2f


@pytest.mark.parametrize("method, order", [("central", 1), ("central", 2), ("forward", 1), ("backward", 1)])
def test_error_estimate_bounds_true_error_in_95_percent(method, order):
    rng = np.random.default_rng(20261123 + order)
    n, covered = 200, 0
    for _ in range(n):
        f, df, d2f = _random_function(rng)
        x = rng.uniform(-3, 3)
        est = nm.derivative(f, x, order=order, method=method, full_output=True)
        exact = (df if order == 1 else d2f)(x)
        covered += abs(est.value - exact) <= est.error
        assert est.error < 1e-4 * max(1.0, abs(exact))  # and the estimate is informative
    assert covered >= 0.95 * n, f"error estimate covered the true error in {covered}/{n} cases"


def test_gradient_error_estimates_bound_true_errors():
    """Random f(x) = sum sin(A x + b) + c exp(0.3 |x|^2) in 3-D, gradient in closed form."""
    rng = np.random.default_rng(7)
    covered = total = 0
    for _ in range(60):
        A, b, c, x = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(), rng.normal(size=3)
        f = lambda x, A=A, b=b, c=c: np.sum(np.sin(A @ x + b)) + c * np.exp(0.3 * x @ x)
        exact = A.T @ np.cos(A @ x + b) + 0.6 * c * x * np.exp(0.3 * x @ x)
        for method in ("central", "forward"):
            est = nm.grad(f, x, method=method, full_output=True)
            covered += int(np.sum(np.abs(est.value - exact) <= est.error))
            total += x.size
    assert covered >= 0.95 * total, f"error estimate covered the true error in {covered}/{total} entries"


def test_elementwise_derivative_and_curried_form():
    x = np.linspace(-1, 1, 5)
    np.testing.assert_allclose(nm.derivative(np.sin, x), np.cos(x), rtol=1e-12, atol=1e-14)
    d3 = nm.derivative(lambda t: snp.sin(t), order=3)  # slopes.numpy works too
    np.testing.assert_allclose(d3(x), -np.cos(x), rtol=1e-6)
    assert nm.derivative(np.exp, 0.0, order=0) == 1.0
    np.testing.assert_allclose(nm.derivative(lambda t: t**4, x, order=2), 12 * x**2, rtol=1e-9, atol=1e-12)
    est = nm.derivative(np.exp, x, full_output=True)
    assert est.value.shape == est.error.shape == est.step.shape == x.shape


def test_explicit_step_is_a_single_quotient():
    h = 1e-2
    got = nm.derivative(np.exp, 1.0, step=h)
    assert got == nm.difference_quotient(np.exp, 1.0, h)
    est = nm.derivative(np.exp, 1.0, step=h, full_output=True)
    assert abs(est.value - np.e) <= est.error < 1e-3 and est.step == h
    fwd = nm.derivative(np.exp, 1.0, step=h, method="forward")
    assert fwd == pytest.approx((np.exp(1 + h) - np.e) / h, rel=1e-14)


# ----------------------------------------------------------------------------- grad / jacobian / hessian vs AD


def _quad_exp(x, xp=snp):
    return x[0] ** 2 + 2 * x[1] ** 2 + xp.exp(-x[0] - x[1])


def _rosen(x, xp=snp):
    return xp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def _logistic(x, xp=snp):
    A = np.array([[1.0, -0.5, 0.2], [0.3, 0.8, -1.0], [-0.7, 0.1, 0.4], [0.2, 0.2, 0.9]])
    y = np.array([1.0, -1.0, 1.0, -1.0])
    return xp.mean(xp.log1p(xp.exp(-y * (A @ x)))) + 0.05 * xp.sum(x * x)


def _matrix_fun(X, xp=snp):
    return xp.sum(xp.sin(X) * X[::-1]) + xp.sum(X**3) / 10


SCALAR_FUNCS = [
    (_quad_exp, np.array([1.0, 2.0])),
    (_rosen, np.array([-1.2, 1.0, 0.5])),
    (_logistic, np.array([0.3, -0.2, 0.5])),
    (_matrix_fun, np.array([[0.1, 0.7], [-0.4, 1.3]])),
]


@pytest.mark.parametrize("f, x", SCALAR_FUNCS)
def test_grad_and_hessian_agree_with_ad(f, x):
    g_ad, H_ad = sl.grad(f)(x), sl.hessian(f)(x)
    scale = max(1.0, np.abs(g_ad).max())
    for method in ("central", "forward", "backward"):
        g = nm.grad(f, x, method=method)
        assert g.shape == x.shape
        np.testing.assert_allclose(g, g_ad, rtol=1e-8, atol=1e-8 * scale)
    npf = lambda x: f(x, xp=np)  # plain NumPy: complex input works
    np.testing.assert_allclose(nm.grad(npf, x, method="complex"), g_ad, rtol=1e-13, atol=1e-13 * scale)
    H = nm.hessian(f, x)
    assert H.shape == x.shape + x.shape
    np.testing.assert_allclose(H, H_ad, rtol=1e-7, atol=1e-7 * max(1.0, np.abs(H_ad).max()))
    np.testing.assert_allclose(
        nm.hessian(f, x, method="forward"), H_ad, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(H_ad).max())
    )
    est = nm.grad(f, x, full_output=True)
    assert np.all(np.abs(est.value - g_ad) <= est.error + 1e-15)


def _vector_fun(x, xp=snp):
    return xp.stack([x[0] * x[1], xp.sin(x[2]) + x[0] ** 2, xp.exp(x[1] - x[2]), x[0] * x[1] * x[2]])


def test_jacobian_agrees_with_ad_and_shapes():
    x = np.array([0.5, -1.0, 2.0])
    J_ad = sl.jacobian(_vector_fun)(x)
    J = nm.jacobian(_vector_fun, x)
    assert J.shape == (4, 3)
    np.testing.assert_allclose(J, J_ad, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(
        nm.jacobian(lambda x: _vector_fun(x, np), x, method="complex"), J_ad, rtol=1e-14, atol=1e-15
    )
    # matrix in, matrix out: output.shape + input.shape
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    F = lambda X: snp.tanh(X @ X.T)[:, :1]
    np.testing.assert_allclose(nm.jacobian(F)(X), sl.jacobian(F)(X), rtol=1e-8, atol=1e-10)
    est = nm.jacobian(F, X, full_output=True)
    assert est.value.shape == est.error.shape == est.step.shape == (2, 1, 2, 2)


# ----------------------------------------------------------------------------- errors


def test_integer_input_raises_type_error():
    for call in (
        lambda: nm.grad(_quad_exp, np.array([1, 2])),
        lambda: nm.derivative(np.exp, 1),
        lambda: nm.hessian(_quad_exp)(np.array([1, 2])),
        lambda: nm.jacobian(_vector_fun, np.array([1, 2, 3])),
        lambda: nm.complex_step(np.exp, 1),
        lambda: nm.difference_quotient(np.exp, 1, 0.1),
    ):
        with pytest.raises(TypeError, match="floating-point"):
            call()


def test_non_finite_values_are_named():
    with pytest.raises(nm.NonFiniteError, match=r"non-finite.*at the point x = 0.0"):
        nm.derivative(np.log, 0.0)
    with pytest.raises(nm.NonFiniteError, match="at the neighbour"):
        nm.derivative(np.sqrt, 1e-12)  # even the smallest automatic step leaves the domain
    with pytest.raises(nm.NonFiniteError, match=r"neighbour x = -0\.5"):
        nm.derivative(np.log, 0.5, step=1.0)
    with pytest.raises(nm.NonFiniteError, match="neighbour"):
        nm.grad(lambda x: np.log(x[0]) + x[1], np.array([0.1, 1.0]), step=0.2)
    with pytest.raises(ValueError):  # NonFiniteError is a ValueError and a FloatingPointError
        nm.grad(lambda x: np.inf * x[0], np.array([1.0]))
    # automatic steps shrink away from a nearby domain edge instead of failing
    assert nm.derivative(np.log, 0.05) == pytest.approx(20.0, rel=1e-9)
    assert nm.derivative(np.log, 1e-4) == pytest.approx(1e4, rel=1e-9)
    # and away from overflow: exp(700 t) is finite at 1 but not at 1.125
    assert nm.derivative(lambda t: np.exp(700 * t), 1.0) == pytest.approx(700 * np.exp(700.0), rel=1e-8)
    np.testing.assert_allclose(nm.derivative(np.log, np.array([1e-3, 1.0])), [1e3, 1.0], rtol=1e-9)


def test_bad_arguments():
    with pytest.raises(TypeError, match="scalar-valued"):
        nm.grad(lambda x: x**2, np.ones(2))
    with pytest.raises(TypeError, match="scalar .or elementwise"):
        nm.derivative(lambda x: np.sum(x), np.ones(2))
    with pytest.raises(ValueError, match="first derivatives only"):
        nm.hessian(_quad_exp, np.ones(2), method="complex")
    with pytest.raises(ValueError, match="method"):
        nm.grad(_quad_exp, np.ones(2), method="symmetric")
    with pytest.raises(TypeError, match="imaginary part"):
        nm.grad(lambda x: np.abs(x[0]) + np.sum(np.real(x)), np.ones(2), method="complex")
    with pytest.raises(ValueError, match="positive"):
        nm.grad(_quad_exp, np.ones(2), step=0.0)


def test_dtype_and_public_face():
    x32 = np.array([0.5, 1.0], dtype=np.float32)
    g = nm.grad(lambda x: np.sum(np.exp(x)), x32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, np.exp(x32.astype(float)), rtol=1e-6)
    assert "numeric" in sl.__all__ and sl.numeric is nm
    assert nm.grad(_quad_exp).__name__ == "_quad_exp"


# ----------------------------------------------------------------------------- kinks


def _counted(f):
    calls = [0]

    def g(x):
        calls[0] += 1
        return f(x)

    return g, calls


def test_smaller_steps_only_on_the_coordinate_with_a_kink_and_a_bounded_budget():
    from slopes.numeric.api import MAX_EXTENSIONS, MIN_EXTENSION, MIN_VALID, N_STEPS

    smooth, calls = _counted(lambda x: float(np.sum(np.sin(x))))
    nm.grad(smooth, np.array([0.3, -1.0, 2.0]))
    assert calls[0] == 1 + 2 * 3 * N_STEPS  # f(x), then two neighbours per coordinate and step
    kinked, calls = _counted(lambda x: float(np.sum(np.sin(x)) + abs(x[1])))
    est = nm.grad(kinked, np.array([0.3, 0.0, 2.0]), full_output=True)  # a kink exactly at x[1]
    # each round adds at least MIN_EXTENSION * 2**round steps (MIN_VALID - 1 when more are short), on x[1] alone
    budget = 2 * sum(max(MIN_VALID - 1, MIN_EXTENSION << r) for r in range(MAX_EXTENSIONS))
    assert 1 + 2 * 3 * N_STEPS + 2 * MIN_EXTENSION < calls[0] <= 1 + 2 * 3 * N_STEPS + budget
    assert est.kink.tolist() == [False, True, False]
    np.testing.assert_allclose(est.value[[0, 2]], np.cos([0.3, 2.0]), rtol=1e-12)
    # the one-sided slopes there are cos(0) - 1 and cos(0) + 1: the error covers both
    assert abs(est.value[1] - 0.0) <= est.error[1] and abs(est.value[1] - 2.0) <= est.error[1]


def test_trusted_rows_start_after_a_kink_between_the_steps():
    h = 2.0 ** -np.arange(3, 11)
    kink = 3e-3  # between the 6th and 7th steps: rows 0..5 straddle it
    f = lambda t: np.abs(t - kink) + np.exp(t)  # noqa: E731
    Q = ((f(h) - f(-h)) / (2 * h))[:, None]
    first = nm.smoothness.trusted_from([(Q, 1e-16 / h[:, None], 2)], 2.0, np.array([8]))
    assert first[0] >= 6  # no row whose stencil contains the kink is trusted
    assert abs(nm.derivative(f, 0.0) - (1.0 - 1.0)) < 1e-9  # exp'(0) - 1, from the trusted side
