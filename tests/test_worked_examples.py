"""Worked examples of the source material, turned into checked facts.

Every numeric example about derivatives, gradients, Jacobians and Hessians found in
``shared/seeds`` is computed here with ``slopes`` and compared with a reference that does
not use ``slopes``:

* a closed form derived by hand (tolerance ``rtol=1e-10``),
* ``sympy`` (exact symbolic derivative, evaluated in float64), or
* central finite differences written below (tolerance ``rtol=1e-6``).

Seeds are referred to by their number: 000 (calculus & optimization essentials chapter),
001 (calculus & optimization crib sheet), 002 (calculus for ML/DS article),
003 (calculus for optimization: derivatives and gradients), 004 (lecture 3: calculus
concepts and optimization basics).  Where a seed is wrong, the mathematics wins and a
comment says so.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest
import sympy as sp

import slopes as sl
import slopes.numpy as snp

# Tolerances: exact derivatives against closed forms / sympy, and against finite differences.
EXACT = dict(rtol=1e-10, atol=1e-12)
NUMERIC = dict(rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------------------
# Independent references: central finite differences on plain NumPy code
# ---------------------------------------------------------------------------------------


def fd_derivative(g, x, h=1e-5):
    """Central difference of a scalar function of a scalar."""
    return (g(x + h) - g(x - h)) / (2.0 * h)


def fd_gradient(f, x, h=1e-5):
    """Central-difference gradient of a scalar function of an array of any shape."""
    x = np.asarray(x, dtype=float)
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[idx] = h
        out[idx] = (f(x + step) - f(x - step)) / (2.0 * h)
    return out


def fd_jacobian(F, x, h=1e-5):
    """Central-difference Jacobian, laid out as output.shape + input.shape."""
    x = np.asarray(x, dtype=float)
    out_shape = np.shape(F(x))
    jac = np.zeros(out_shape + x.shape)
    for idx in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[idx] = h
        col = (np.asarray(F(x + step)) - np.asarray(F(x - step))) / (2.0 * h)
        jac[(Ellipsis,) + idx] = col
    return jac


def sigmoid_np(z):
    return 1.0 / (1.0 + np.exp(-z))


def well_conditioned(rng, n):
    """A random n x n matrix safely away from singularity (diagonally dominant)."""
    return n * np.eye(n) + rng.uniform(-1.0, 1.0, size=(n, n))


# ---------------------------------------------------------------------------------------
# Functions under test, written once against an array namespace ``xp``
# (``snp`` for slopes, ``np`` for the finite-difference references).
# ---------------------------------------------------------------------------------------


def seed_f(x, xp=snp):
    """Seed 000 worked example: x1^2 + 2 x2^2 + exp(-x1 - x2)."""
    return x[0] ** 2 + 2 * x[1] ** 2 + xp.exp(-x[0] - x[1])


def seed_f_grad_closed(x):
    e = math.exp(-x[0] - x[1])
    return np.array([2 * x[0] - e, 4 * x[1] - e])


def seed_f_hess_closed(x):
    e = math.exp(-x[0] - x[1])
    return np.array([[2 + e, e], [e, 4 + e]])


def vector_F(x, xp=snp):
    """Seed 003 Jacobian demo: [x0^2, x1 x2, x0 + x1 + x2]."""
    return xp.stack([x[0] ** 2, x[1] * x[2], x[0] + x[1] + x[2]])


def vector_F_jac_closed(x):
    return np.array([[2 * x[0], 0.0, 0.0], [0.0, x[2], x[1]], [1.0, 1.0, 1.0]])


def quad3(w):
    """Seed 003 Hessian demo: w0^2 + 2 w1^2 + w0 w1 + 3 w2^2."""
    return w[0] ** 2 + 2 * w[1] ** 2 + w[0] * w[1] + 3 * w[2] ** 2


def sigmoid(z, xp=snp):
    return 1.0 / (1.0 + xp.exp(-z))


SEED_F_POINTS = [
    (0.0, 0.0),
    (1.0, 1.0),
    (0.5, 0.25),
    (1.0, -1.0),
    (-1.3, 2.1),
    (2.0, -0.7),
]


# =======================================================================================
# 1. Seed 000 worked example  f(x1, x2) = x1^2 + 2 x2^2 + exp(-x1 - x2)
# =======================================================================================


@pytest.mark.parametrize("point", SEED_F_POINTS)
def test_seed_f_gradient_matches_closed_form(point):
    """Seed 000 'worked example to reuse later': gradient [2x1 - e, 4x2 - e]."""
    x = np.array(point)
    g = sl.grad(seed_f)(x)
    assert isinstance(g, np.ndarray)
    assert g.shape == x.shape
    np.testing.assert_allclose(g, seed_f_grad_closed(x), **EXACT)


@pytest.mark.parametrize("point", SEED_F_POINTS)
def test_seed_f_hessian_matches_closed_form(point):
    """Seed 000 worked example: Hessian [[2+e, e], [e, 4+e]] with e = exp(-x1-x2)."""
    x = np.array(point)
    H = sl.hessian(seed_f)(x)
    assert H.shape == (2, 2)
    np.testing.assert_allclose(H, seed_f_hess_closed(x), **EXACT)


@pytest.mark.parametrize("point", SEED_F_POINTS)
def test_seed_f_hessian_is_symmetric_positive_definite(point):
    """Seed 000: the Hessian is symmetric and PD everywhere; eigenvalues 3+e +- sqrt(1+e^2)."""
    x = np.array(point)
    H = sl.hessian(seed_f)(x)
    np.testing.assert_allclose(H, H.T, **EXACT)
    e = math.exp(-x[0] - x[1])
    expected = np.array([3 + e - math.sqrt(1 + e * e), 3 + e + math.sqrt(1 + e * e)])
    eig = np.linalg.eigvalsh(H)
    np.testing.assert_allclose(eig, expected, **EXACT)
    assert eig.min() > 0


def test_seed_f_gradient_and_hessian_match_sympy():
    """Seed 000 worked example: gradient and Hessian agree with sympy's exact derivatives."""
    x1, x2 = sp.symbols("x1 x2", real=True)
    expr = x1**2 + 2 * x2**2 + sp.exp(-x1 - x2)
    grad_fn = sp.lambdify((x1, x2), [sp.diff(expr, v) for v in (x1, x2)], "numpy")
    hess_fn = sp.lambdify((x1, x2), sp.hessian(expr, (x1, x2)), "numpy")
    for point in SEED_F_POINTS:
        x = np.array(point)
        np.testing.assert_allclose(sl.grad(seed_f)(x), np.array(grad_fn(*point), float), **EXACT)
        np.testing.assert_allclose(sl.hessian(seed_f)(x), np.array(hess_fn(*point), float), **EXACT)


def test_seed_f_gradient_matches_finite_differences():
    """Seed 000 worked example: the gradient agrees with central differences."""
    for point in SEED_F_POINTS:
        x = np.array(point)
        ref = fd_gradient(partial(seed_f, xp=np), x)
        np.testing.assert_allclose(sl.grad(seed_f)(x), ref, **NUMERIC)


def test_seed_f_value_and_grad():
    """Seed 000 worked example: value_and_grad returns f(x) and the closed-form gradient."""
    x = np.array([0.3, -0.8])
    value, g = sl.value_and_grad(seed_f)(x)
    expected_value = 0.3**2 + 2 * 0.8**2 + math.exp(0.5)
    np.testing.assert_allclose(float(value), expected_value, **EXACT)
    np.testing.assert_allclose(g, seed_f_grad_closed(x), **EXACT)


@pytest.mark.parametrize("composition", ["jacfwd(jacrev)", "jacrev(jacfwd)", "jacfwd(grad)", "jacrev(grad)"])
def test_seed_f_hessian_by_composed_transforms(composition):
    """Seed 000 worked example: any composition of first-order transforms gives the Hessian."""
    builders = {
        "jacfwd(jacrev)": lambda f: sl.jacfwd(sl.jacrev(f)),
        "jacrev(jacfwd)": lambda f: sl.jacrev(sl.jacfwd(f)),
        "jacfwd(grad)": lambda f: sl.jacfwd(sl.grad(f)),
        "jacrev(grad)": lambda f: sl.jacrev(sl.grad(f)),
    }
    x = np.array([0.4, -0.9])
    H = builders[composition](seed_f)(x)
    np.testing.assert_allclose(H, seed_f_hess_closed(x), **EXACT)


def test_seed_f_gradient_vanishes_at_unique_minimizer():
    """Seed 000: the PD Hessian implies a unique minimizer, where the gradient is zero."""
    # Stationarity: 2 x1 = 4 x2 = exp(-x1 - x2)  =>  x1 = 2 x2 and 4 x2 = exp(-3 x2).
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if 4 * mid - math.exp(-3 * mid) > 0:
            hi = mid
        else:
            lo = mid
    x2 = 0.5 * (lo + hi)
    x_star = np.array([2 * x2, x2])
    np.testing.assert_allclose(sl.grad(seed_f)(x_star), np.zeros(2), atol=1e-12)


@pytest.mark.parametrize("point", SEED_F_POINTS[:4])
def test_seed_f_directional_derivative_is_gradient_dot_direction(point):
    """Seed 000 / 002: D_u f(x) = grad f(x)^T u for a unit direction u."""
    x = np.array(point)
    u = np.array([3.0, -4.0]) / 5.0
    expected = seed_f_grad_closed(x) @ u
    np.testing.assert_allclose(float(sl.directional_derivative(seed_f, x, u)), expected, **EXACT)
    _, tangent_out = sl.jvp(seed_f, (x,), (u,))
    np.testing.assert_allclose(float(tangent_out), expected, **EXACT)


def test_seed_f_steepest_ascent_direction_is_the_gradient():
    """Seed 002: the directional derivative is largest along grad/|grad|, where it equals |grad|."""
    x = np.array([1.0, -1.0])
    g = seed_f_grad_closed(x)
    u_star = g / np.linalg.norm(g)
    best = float(sl.directional_derivative(seed_f, x, u_star))
    np.testing.assert_allclose(best, np.linalg.norm(g), **EXACT)
    for angle in np.linspace(0.0, 2 * np.pi, 13):
        u = np.array([math.cos(angle), math.sin(angle)])
        assert float(sl.directional_derivative(seed_f, x, u)) <= best + 1e-12


@pytest.mark.parametrize("point", SEED_F_POINTS[:4])
def test_seed_f_hvp_and_second_directional_derivative(point):
    """Seed 000: H v via hvp, and D_u^2 f(x) = u^T H u (also as d^2/dt^2 f(x + t u) at 0)."""
    x = np.array(point)
    u = np.array([0.6, 0.8])
    H = seed_f_hess_closed(x)
    np.testing.assert_allclose(sl.hvp(seed_f, x, u), H @ u, **EXACT)
    second = sl.derivative(lambda t: seed_f(x + t * u), order=2)(0.0)
    np.testing.assert_allclose(float(second), u @ H @ u, **EXACT)


# =======================================================================================
# 2. Seed 003 Jacobian demo  F(x) = [x0^2, x1 x2, x0 + x1 + x2]
# =======================================================================================

JAC_AT_123 = np.array([[2.0, 0.0, 0.0], [0.0, 3.0, 2.0], [1.0, 1.0, 1.0]])


def test_vector_F_jacfwd_at_1_2_3():
    """Seed 003: forward-mode Jacobian of [x0^2, x1 x2, sum x] at (1,2,3) is [[2,0,0],[0,3,2],[1,1,1]]."""
    J = sl.jacfwd(vector_F)(np.array([1.0, 2.0, 3.0]))
    assert J.shape == (3, 3)
    np.testing.assert_allclose(J, JAC_AT_123, **EXACT)


def test_vector_F_jacrev_at_1_2_3():
    """Seed 003: reverse-mode Jacobian of [x0^2, x1 x2, sum x] at (1,2,3) is [[2,0,0],[0,3,2],[1,1,1]]."""
    J = sl.jacrev(vector_F)(np.array([1.0, 2.0, 3.0]))
    assert J.shape == (3, 3)
    np.testing.assert_allclose(J, JAC_AT_123, **EXACT)


def test_vector_F_jacobian_at_1_2_3():
    """Seed 003: sl.jacobian of [x0^2, x1 x2, sum x] at (1,2,3) is [[2,0,0],[0,3,2],[1,1,1]]."""
    J = sl.jacobian(vector_F)(np.array([1.0, 2.0, 3.0]))
    assert J.shape == (3, 3)
    np.testing.assert_allclose(J, JAC_AT_123, **EXACT)


def test_vector_F_jacobian_at_random_points_matches_closed_form_and_fd():
    """Seed 003 / 004: rows of the Jacobian are the gradients of the output components."""
    rng = np.random.default_rng(3)
    for _ in range(5):
        x = rng.normal(size=3)
        closed = vector_F_jac_closed(x)
        np.testing.assert_allclose(sl.jacfwd(vector_F)(x), closed, **EXACT)
        np.testing.assert_allclose(sl.jacrev(vector_F)(x), closed, **EXACT)
        np.testing.assert_allclose(closed, fd_jacobian(partial(vector_F, xp=np), x), **NUMERIC)


def test_vector_F_jvp_columns_and_vjp_rows():
    """Seed 002: forward mode pushes J e_j (columns), reverse mode pulls e_i^T J (rows)."""
    x = np.array([1.0, 2.0, 3.0])
    eye = np.eye(3)
    for j in range(3):
        value, col = sl.jvp(vector_F, (x,), (eye[j],))
        np.testing.assert_allclose(value, [1.0, 6.0, 6.0], **EXACT)
        np.testing.assert_allclose(col, JAC_AT_123[:, j], **EXACT)
    value, pullback = sl.vjp(vector_F, x)
    np.testing.assert_allclose(value, [1.0, 6.0, 6.0], **EXACT)
    for i in range(3):
        (row,) = pullback(eye[i])
        np.testing.assert_allclose(row, JAC_AT_123[i, :], **EXACT)


# =======================================================================================
# 3. Seed 003 Hessian demo  L(w) = w0^2 + 2 w1^2 + w0 w1 + 3 w2^2
# =======================================================================================

QUAD3_HESSIAN = np.array([[2.0, 1.0, 0.0], [1.0, 4.0, 0.0], [0.0, 0.0, 6.0]])


@pytest.mark.parametrize("point", [(1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (-2.5, 0.3, 7.0)])
def test_quadratic_loss_hessian(point):
    """Seed 003: Hessian of w0^2 + 2w1^2 + w0 w1 + 3w2^2 is [[2,1,0],[1,4,0],[0,0,6]] everywhere."""
    H = sl.hessian(quad3)(np.array(point))
    assert H.shape == (3, 3)
    np.testing.assert_allclose(H, QUAD3_HESSIAN, **EXACT)


def test_quadratic_loss_hessian_eigenvalues():
    """Seed 003: Hessian eigenvalues are 3 - sqrt2, 3 + sqrt2 and 6, all positive (strictly convex)."""
    H = sl.hessian(quad3)(np.array([1.0, 1.0, 1.0]))
    eig = np.linalg.eigvalsh(H)
    expected = np.array([3 - math.sqrt(2), 3 + math.sqrt(2), 6.0])
    np.testing.assert_allclose(eig, expected, **EXACT)
    assert eig.min() > 0


def test_quadratic_loss_condition_number():
    """Seed 003: condition number of the Hessian is 6 / (3 - sqrt2) = 6 (3 + sqrt2) / 7."""
    H = sl.hessian(quad3)(np.array([1.0, 1.0, 1.0]))
    expected = 6.0 / (3.0 - math.sqrt(2))
    np.testing.assert_allclose(expected, 6.0 * (3.0 + math.sqrt(2)) / 7.0, **EXACT)
    eig = np.linalg.eigvalsh(H)
    np.testing.assert_allclose(eig.max() / eig.min(), expected, **EXACT)
    np.testing.assert_allclose(np.linalg.cond(H), expected, **EXACT)


def test_quadratic_loss_gradient():
    """Seed 003: gradient of the quadratic loss is [2w0 + w1, 4w1 + w0, 6w2] (= H w)."""
    w = np.array([1.0, 1.0, 1.0])
    np.testing.assert_allclose(sl.grad(quad3)(w), [3.0, 5.0, 6.0], **EXACT)
    w = np.array([-0.7, 2.2, 0.4])
    np.testing.assert_allclose(sl.grad(quad3)(w), QUAD3_HESSIAN @ w, **EXACT)


# =======================================================================================
# 4. Seed 004 Maclaurin example: derivatives of sin + cos
# =======================================================================================


def sin_plus_cos(x):
    return snp.sin(x) + snp.cos(x)


@pytest.mark.parametrize("n", range(9))
def test_sin_plus_cos_nth_derivative_at_zero(n):
    """Seed 004: f^(n)(0) for f = sin + cos runs 1, 1, -1, -1, 1, 1, -1, -1, 1."""
    expected = [1.0, 1.0, -1.0, -1.0][n % 4]
    value = float(sl.derivative(sin_plus_cos, order=n)(0.0))
    np.testing.assert_allclose(value, expected, **EXACT)


@pytest.mark.parametrize("n", range(7))
def test_sin_plus_cos_nth_derivative_away_from_zero(n):
    """Seed 004: d^n/dx^n (sin + cos)(x) = sin(x + n pi/2) + cos(x + n pi/2), at x = 0.7."""
    x = 0.7
    expected = math.sin(x + n * math.pi / 2) + math.cos(x + n * math.pi / 2)
    value = float(sl.derivative(sin_plus_cos, order=n)(x))
    np.testing.assert_allclose(value, expected, **EXACT)


# =======================================================================================
# 5. Single-variable derivative tables (seeds 001, 002, 003)
# =======================================================================================

DERIVATIVE_TABLE = [
    # name, f (snp), closed-form f', point
    ("constant", lambda x: 0.0 * x + 4.2, lambda x: 0.0, 1.3),
    ("identity", lambda x: x, lambda x: 1.0, -0.4),
    ("x^2", lambda x: x**2, lambda x: 2 * x, 50.0),  # seed 000's GD example: f'(50) = 100
    ("x^3", lambda x: x**3, lambda x: 3 * x**2, -1.7),
    ("x^7", lambda x: x**7, lambda x: 7 * x**6, 1.1),
    ("x^-2", lambda x: x**-2, lambda x: -2 * x**-3, 1.7),
    ("x^0.5", lambda x: x**0.5, lambda x: 0.5 * x**-0.5, 2.3),
    ("exp", lambda x: snp.exp(x), lambda x: math.exp(x), 0.9),
    ("log", lambda x: snp.log(x), lambda x: 1.0 / x, 3.5),
    ("sin", lambda x: snp.sin(x), lambda x: math.cos(x), 1.2),
    ("cos", lambda x: snp.cos(x), lambda x: -math.sin(x), 1.2),
    ("tanh", lambda x: snp.tanh(x), lambda x: 1.0 - math.tanh(x) ** 2, 0.6),
    ("sigmoid", lambda x: sigmoid(x), lambda x: sigmoid_np(x) * (1 - sigmoid_np(x)), -1.4),
    ("relu(+)", lambda x: snp.maximum(x, 0.0), lambda x: 1.0, 0.8),
    ("relu(-)", lambda x: snp.maximum(x, 0.0), lambda x: 0.0, -0.8),
    ("leaky_relu(+)", lambda x: snp.where(x > 0, x, 0.01 * x), lambda x: 1.0, 2.0),
    ("leaky_relu(-)", lambda x: snp.where(x > 0, x, 0.01 * x), lambda x: 0.01, -2.0),
    ("x^3 + 2x - 5", lambda x: x**3 + 2 * x - 5, lambda x: 3 * x**2 + 2, 1.5),
]


@pytest.mark.parametrize(
    "name, f, fprime, x", DERIVATIVE_TABLE, ids=[row[0] for row in DERIVATIVE_TABLE]
)
def test_derivative_table(name, f, fprime, x):
    """Seeds 001 / 003: the memorised derivative of each elementary or activation function."""
    np.testing.assert_allclose(float(sl.derivative(f, order=1)(x)), fprime(x), **EXACT)
    np.testing.assert_allclose(float(sl.grad(f)(x)), fprime(x), **EXACT)


def test_sympy_example_cubic_derivative():
    """Seed 002: sympy gives d/dx (x^3 + 2x - 5) = 3x^2 + 2; slopes agrees at many points."""
    xs = sp.Symbol("x", real=True)
    dexpr = sp.diff(xs**3 + 2 * xs - 5, xs)
    assert sp.simplify(dexpr - (3 * xs**2 + 2)) == 0
    ref = sp.lambdify(xs, dexpr, "numpy")
    d = sl.derivative(lambda x: x**3 + 2 * x - 5, order=1)
    for x in np.linspace(-3.0, 3.0, 7):
        np.testing.assert_allclose(float(d(float(x))), ref(x), **EXACT)


@pytest.mark.parametrize("rule", ["sum", "product", "quotient", "chain"])
def test_differentiation_rules(rule):
    """Seeds 000 / 001 / 004: sum, product, quotient and chain rules on sin and exp, checked by hand."""
    x = 0.77
    s, c, e = math.sin(x), math.cos(x), math.exp(x)
    cases = {
        "sum": (lambda t: snp.sin(t) + snp.exp(t), c + e),
        "product": (lambda t: snp.sin(t) * snp.exp(t), c * e + s * e),
        "quotient": (lambda t: snp.sin(t) / snp.exp(t), (c * e - s * e) / e**2),
        "chain": (lambda t: snp.sin(snp.exp(t)), math.cos(e) * e),
    }
    f, expected = cases[rule]
    np.testing.assert_allclose(float(sl.derivative(f, order=1)(x)), expected, **EXACT)


def test_sigmoid_derivative_peaks_at_one_quarter():
    """Seed 003: the sigmoid's derivative is at most 0.25, attained at 0."""
    d = sl.derivative(sigmoid, order=1)
    np.testing.assert_allclose(float(d(0.0)), 0.25, **EXACT)
    for x in np.linspace(-6.0, 6.0, 25):
        assert float(d(float(x))) <= 0.25 + 1e-15


def test_stacked_sigmoids_shrink_the_gradient():
    """Seed 003: through k sigmoid layers the derivative is a product of factors <= 0.25."""
    k = 6

    def stack(x):
        for _ in range(k):
            x = sigmoid(x)
        return x

    x0 = 0.3
    # Hand chain rule: product of sigma'(a_j) over the pre-activations a_j.
    a, expected = x0, 1.0
    for _ in range(k):
        s = sigmoid_np(a)
        expected *= s * (1 - s)
        a = s
    got = float(sl.derivative(stack, order=1)(x0))
    np.testing.assert_allclose(got, expected, **EXACT)
    assert got <= 0.25**k


# =======================================================================================
# 6. Partial derivatives and small gradients (seeds 000, 001, 004)
# =======================================================================================


def test_partials_of_x2_plus_xy_plus_y2():
    """Seed 001: f = x^2 + xy + y^2 has df/dx = 2x + y and df/dy = x + 2y."""
    f = lambda v: v[0] ** 2 + v[0] * v[1] + v[1] ** 2
    for x, y in [(1.0, 2.0), (-0.5, 3.0), (0.0, 0.0)]:
        np.testing.assert_allclose(sl.grad(f)(np.array([x, y])), [2 * x + y, x + 2 * y], **EXACT)


def test_elongated_bowl_gradient_and_conditioning():
    """Seed 001 exercise: f = x^2 + 10 y^2 has gradient (2x, 20y), Hessian diag(2, 20), kappa 10."""
    f = lambda v: v[0] ** 2 + 10 * v[1] ** 2
    v = np.array([1.5, -0.5])
    np.testing.assert_allclose(sl.grad(f)(v), [3.0, -10.0], **EXACT)
    H = sl.hessian(f)(v)
    np.testing.assert_allclose(H, np.diag([2.0, 20.0]), **EXACT)
    np.testing.assert_allclose(np.linalg.cond(H), 10.0, **EXACT)


def test_seed004_gradient_descent_quadratic_gradient():
    """Seed 004 GD example: f = 1/2 x^T [[2,1],[1,20]] x - [5,3] x; grad at (-3,-1) is (-12,-26)."""
    Q = np.array([[2.0, 1.0], [1.0, 20.0]])
    b = np.array([5.0, 3.0])
    f = lambda x: 0.5 * x @ (Q @ x) - b @ x
    x0 = np.array([-3.0, -1.0])
    np.testing.assert_allclose(sl.grad(f)(x0), [-12.0, -26.0], **EXACT)
    x1, x2 = 0.4, -1.1
    np.testing.assert_allclose(
        sl.grad(f)(np.array([x1, x2])), [2 * x1 + x2 - 5, x1 + 20 * x2 - 3], **EXACT
    )
    np.testing.assert_allclose(sl.hessian(f)(x0), Q, **EXACT)


def test_seed000_convex_quadratic_gradient_hessian_and_smoothness():
    """Seed 000 convex quadratic: grad = Qx + c, Hessian = Q, L = (5+sqrt5)/2, mu = (5-sqrt5)/2."""
    Q = np.array([[3.0, 1.0], [1.0, 2.0]])
    c = np.array([-2.0, 1.0])
    f = lambda x: 0.5 * x @ (Q @ x) + c @ x
    x0 = np.array([1.8, -1.5])  # the seed's starting point for projected gradient
    np.testing.assert_allclose(sl.grad(f)(x0), [1.9, -0.2], **EXACT)
    H = sl.hessian(f)(x0)
    np.testing.assert_allclose(H, Q, **EXACT)
    eig = np.linalg.eigvalsh(H)
    np.testing.assert_allclose(eig, [(5 - math.sqrt(5)) / 2, (5 + math.sqrt(5)) / 2], **EXACT)


def test_saddle_point_has_zero_gradient_and_indefinite_hessian():
    """Seed 004: x1^2 - x2^2 has zero gradient at the origin yet is a saddle (indefinite Hessian)."""
    # The seed prints this example as "x_1^2 x_2^2" (a lost minus sign).  With the product the
    # Hessian at 0 is the zero matrix and f(0, eps) = 0 is *not* smaller than f(0, 0), so the
    # seed's own argument only holds for x1^2 - x2^2, which is what is tested here.
    f = lambda x: x[0] ** 2 - x[1] ** 2
    origin = np.zeros(2)
    np.testing.assert_allclose(sl.grad(f)(origin), [0.0, 0.0], **EXACT)
    H = sl.hessian(f)(origin)
    np.testing.assert_allclose(H, np.diag([2.0, -2.0]), **EXACT)
    eig = np.linalg.eigvalsh(H)
    assert eig.min() < 0 < eig.max()


def test_half_squared_norm_gradient_is_x():
    """Seed 000 identity: grad of 1/2 ||x||^2 is x."""
    x = np.random.default_rng(0).normal(size=5)
    np.testing.assert_allclose(sl.grad(lambda v: 0.5 * snp.sum(v * v))(x), x, **EXACT)


def test_half_least_squares_gradient_and_hessian():
    """Seed 000 identity: grad of 1/2 ||Aw - b||^2 is A^T (Aw - b) and its Hessian is A^T A."""
    rng = np.random.default_rng(1)
    A = rng.normal(size=(6, 4))
    b = rng.normal(size=6)
    w = rng.normal(size=4)
    f = lambda w: 0.5 * snp.sum((A @ w - b) ** 2)
    np.testing.assert_allclose(sl.grad(f)(w), A.T @ (A @ w - b), **EXACT)
    np.testing.assert_allclose(sl.hessian(f)(w), A.T @ A, **EXACT)


def test_hessian_is_symmetric_clairaut_against_sympy():
    """Seed 000 / 004: mixed partials commute (Clairaut); the Hessian equals sympy's."""
    a, b, c = sp.symbols("a b c", real=True)
    expr = sp.sin(a * b) + a**3 * c + sp.exp(b * c) / (1 + a**2)
    hess_ref = sp.lambdify((a, b, c), sp.hessian(expr, (a, b, c)), "numpy")

    def f(x):
        return snp.sin(x[0] * x[1]) + x[0] ** 3 * x[2] + snp.exp(x[1] * x[2]) / (1 + x[0] ** 2)

    x = np.array([0.4, -1.1, 0.7])
    H = sl.hessian(f)(x)
    np.testing.assert_allclose(H, H.T, **EXACT)
    np.testing.assert_allclose(H, np.array(hess_ref(*x), dtype=float), **EXACT)


# =======================================================================================
# 7. Seed 004 Taylor example: the derivatives of f = x^2 + 2xy + y^3 at (1, 2)
#    (only the derivative tensors; Taylor polynomials are tested elsewhere)
# =======================================================================================


def taylor_f(v):
    return v[0] ** 2 + 2 * v[0] * v[1] + v[1] ** 3


def test_taylor_example_value_and_gradient_at_1_2():
    """Seed 004: f(1,2) = 13 and grad f(1,2) = (6, 14)."""
    value, g = sl.value_and_grad(taylor_f)(np.array([1.0, 2.0]))
    np.testing.assert_allclose(float(value), 13.0, **EXACT)
    np.testing.assert_allclose(g, [6.0, 14.0], **EXACT)


def test_taylor_example_hessian_at_1_2():
    """Seed 004: the Hessian [[2, 2], [2, 6y]] equals [[2, 2], [2, 12]] at (1, 2)."""
    np.testing.assert_allclose(sl.hessian(taylor_f)(np.array([1.0, 2.0])), [[2.0, 2.0], [2.0, 12.0]], **EXACT)


def test_taylor_example_third_derivative_tensor():
    """Seed 004: D^3 f is 2x2x2 with dH/dx = 0 and dH/dy = [[0,0],[0,6]]; sympy agrees."""
    x = np.array([1.0, 2.0])
    T = sl.jacfwd(sl.hessian(taylor_f))(x)
    assert T.shape == (2, 2, 2)
    expected = np.zeros((2, 2, 2))
    expected[1, 1, 1] = 6.0
    np.testing.assert_allclose(T, expected, **EXACT)
    np.testing.assert_allclose(T[:, :, 0], np.zeros((2, 2)), **EXACT)
    np.testing.assert_allclose(T[:, :, 1], [[0.0, 0.0], [0.0, 6.0]], **EXACT)
    # The same tensor from sympy.
    xs, ys = sp.symbols("x y", real=True)
    expr = xs**2 + 2 * xs * ys + ys**3
    d3 = sp.derive_by_array(sp.derive_by_array(sp.derive_by_array(expr, (xs, ys)), (xs, ys)), (xs, ys))
    ref = np.array(d3.subs({xs: 1, ys: 2}).tolist(), dtype=float)
    np.testing.assert_allclose(T, ref, **EXACT)
    # And by reverse-over-reverse-over-reverse.
    T_rev = sl.jacrev(sl.jacrev(sl.grad(taylor_f)))(x)
    np.testing.assert_allclose(T_rev, expected, **EXACT)


# =======================================================================================
# 8. Chain rule (seeds 000, 002, 004)
# =======================================================================================


@pytest.mark.parametrize("t", [0.0, 0.3, 1.0, 2.5, -1.7, math.pi / 2])
def test_chain_rule_seed004_example(t):
    """Seed 004: f = x1^2 + 2 x2 with x1 = sin t, x2 = cos t has df/dt = 2 sin t (cos t - 1)."""

    def f_of_t(t):
        x1, x2 = snp.sin(t), snp.cos(t)
        return x1**2 + 2 * x2

    expected = 2 * math.sin(t) * (math.cos(t) - 1)
    np.testing.assert_allclose(float(sl.derivative(f_of_t, order=1)(t)), expected, **EXACT)
    np.testing.assert_allclose(float(sl.grad(f_of_t)(t)), expected, **EXACT)


def test_chain_rule_two_parameters():
    """Seed 004: df/d(s,t) = df/dx . dx/d(s,t), here f = x1^2 + 2 x2 with x1 = s t, x2 = s + t^2."""

    def f(p):
        s, t = p[0], p[1]
        x1, x2 = s * t, s + t**2
        return x1**2 + 2 * x2

    s, t = 1.3, -0.6
    x1 = s * t
    expected = np.array([2 * x1 * t + 2, 2 * x1 * s + 4 * t])
    np.testing.assert_allclose(sl.grad(f)(np.array([s, t])), expected, **EXACT)


def _h(x, xp=snp):
    return xp.stack([x[0] * x[1], xp.sin(x[0]), x[1] ** 2 + x[2]])


def _g(u):
    return u[0] ** 2 + u[1] * u[2]


def test_vector_chain_rule_gradient_is_jacobian_transpose_times_gradient():
    """Seed 000: grad (g o h)(x) = J_h(x)^T grad g(h(x)), with J_h and grad g derived by hand."""
    x = np.array([0.9, -1.4, 0.5])
    J_h = np.array([[x[1], x[0], 0.0], [math.cos(x[0]), 0.0, 0.0], [0.0, 2 * x[1], 1.0]])
    u = np.array([x[0] * x[1], math.sin(x[0]), x[1] ** 2 + x[2]])
    grad_g = np.array([2 * u[0], u[2], u[1]])
    expected = J_h.T @ grad_g
    np.testing.assert_allclose(sl.grad(lambda v: _g(_h(v)))(x), expected, **EXACT)
    # Reverse mode pulls the outer gradient back through h: exactly J_h^T grad_g.
    _, pullback = sl.vjp(_h, x)
    (pulled,) = pullback(grad_g)
    np.testing.assert_allclose(pulled, expected, **EXACT)
    np.testing.assert_allclose(sl.jacobian(_h)(x), J_h, **EXACT)


# =======================================================================================
# 9. Derivatives with respect to matrices (seeds 002, 004)
# =======================================================================================


def test_linear_map_jacobian_wrt_x_is_A():
    """Seed 004: for f(x) = A x, df/dx = A."""
    rng = np.random.default_rng(10)
    A = rng.normal(size=(4, 3))
    x = rng.normal(size=3)
    J = sl.jacobian(lambda v: A @ v)(x)
    assert J.shape == (4, 3)
    np.testing.assert_allclose(J, A, **EXACT)


def test_linear_map_jacobian_wrt_A_tensor():
    """Seeds 004 / 002: for f = A x with A (m,n), df/dA has shape (m,m,n) and df_i/dA_jk = delta_ij x_k."""
    rng = np.random.default_rng(11)
    m, n = 4, 3
    A = rng.normal(size=(m, n))
    x = rng.normal(size=n)
    J = sl.jacobian(lambda M: M @ x)(A)
    assert J.shape == (m, m, n)
    expected = np.einsum("ij,k->ijk", np.eye(m), x)
    np.testing.assert_allclose(J, expected, **EXACT)
    # Each row-slice df_i/dA_{i,:} is x^T and every other row-slice is zero.
    for i in range(m):
        np.testing.assert_allclose(J[i, i, :], x, **EXACT)


def test_gram_matrix_jacobian_wrt_R_tensor():
    """Seed 004: K = R^T R, dK/dR has shape (n,n,m,n) and dK_ij/dR_ab = delta_jb R_ai + delta_ib R_aj."""
    # The seed's case table (R_iq if j = p != q; R_ip if j = q != p; 2 R_iq if j = p = q) is the
    # same formula written entrywise; this closed form covers all cases at once.
    rng = np.random.default_rng(12)
    m, n = 4, 3
    R = rng.normal(size=(m, n))
    J = sl.jacobian(lambda M: M.T @ M)(R)
    assert J.shape == (n, n, m, n)
    eye = np.eye(n)
    expected = np.einsum("jb,ai->ijab", eye, R) + np.einsum("ib,aj->ijab", eye, R)
    np.testing.assert_allclose(J, expected, **EXACT)
    np.testing.assert_allclose(J, fd_jacobian(lambda M: M.T @ M, R), **NUMERIC)


def test_matrix_valued_function_jacobian_tensor_and_flattening():
    """Seed 004: dA/dx of A(x) in R^{4x2}, x in R^3, is a 4x2x3 tensor; flattening A first gives its reshape."""
    rng = np.random.default_rng(13)
    M0, M1, M2 = (rng.normal(size=(4, 2)) for _ in range(3))

    def A_of_x(x):
        return M0 * x[0] + M1 * x[1] ** 2 + M2 * (x[0] * x[2])

    x = np.array([0.5, -1.2, 2.0])
    T = sl.jacobian(A_of_x)(x)
    assert T.shape == (4, 2, 3)
    expected = np.stack([M0 + M2 * x[2], 2 * x[1] * M1, M2 * x[0]], axis=-1)
    np.testing.assert_allclose(T, expected, **EXACT)
    flat = sl.jacobian(lambda v: snp.reshape(A_of_x(v), (8,)))(x)
    assert flat.shape == (8, 3)
    np.testing.assert_allclose(flat, expected.reshape(8, 3), **EXACT)


def test_grad_of_a_dot_x_is_a():
    """Seeds 000 / 004: d/dx a^T x = a."""
    rng = np.random.default_rng(20)
    a, x = rng.normal(size=5), rng.normal(size=5)
    np.testing.assert_allclose(sl.grad(lambda v: a @ v)(x), a, **EXACT)


def test_grad_of_bilinear_form_wrt_matrix_is_outer_product():
    """Seeds 004 / 002: d/dX a^T X b = a b^T."""
    rng = np.random.default_rng(21)
    a, b = rng.normal(size=4), rng.normal(size=3)
    X = rng.normal(size=(4, 3))
    g = sl.grad(lambda M: a @ M @ b)(X)
    assert g.shape == X.shape
    np.testing.assert_allclose(g, np.outer(a, b), **EXACT)


def test_grad_of_quadratic_form_with_nonsymmetric_B():
    """Seed 004: d/dx x^T B x = (B + B^T) x, for a non-symmetric B."""
    rng = np.random.default_rng(22)
    B = rng.normal(size=(4, 4))
    x = rng.normal(size=4)
    assert not np.allclose(B, B.T)
    np.testing.assert_allclose(sl.grad(lambda v: v @ B @ v)(x), (B + B.T) @ x, **EXACT)
    np.testing.assert_allclose(sl.hessian(lambda v: v @ B @ v)(x), B + B.T, **EXACT)


def test_grad_of_trace_is_identity():
    """Seed 004: d/dX tr(X) = I."""
    X = np.random.default_rng(23).normal(size=(4, 4))
    np.testing.assert_allclose(sl.grad(snp.trace)(X), np.eye(4), **EXACT)


def test_grad_of_trace_AX_is_A_transpose():
    """Seed 004: d/dX tr(A X) = A^T."""
    rng = np.random.default_rng(24)
    A, X = rng.normal(size=(3, 5)), rng.normal(size=(5, 3))
    g = sl.grad(lambda M: snp.trace(A @ M))(X)
    assert g.shape == (5, 3)
    np.testing.assert_allclose(g, A.T, **EXACT)


def test_grad_of_trace_of_matrix_function():
    """Seed 004: d tr(f(X)) = tr(df(X)); for f(X) = X^T A X this gives (A + A^T) X."""
    rng = np.random.default_rng(25)
    A, X = rng.normal(size=(4, 4)), rng.normal(size=(4, 3))
    g = sl.grad(lambda M: snp.trace(M.T @ A @ M))(X)
    np.testing.assert_allclose(g, (A + A.T) @ X, **EXACT)


def test_grad_of_determinant_is_jacobi_formula():
    """Seed 004: d/dX det X = det(X) X^{-T} (Jacobi's formula)."""
    rng = np.random.default_rng(26)
    X = well_conditioned(rng, 4)
    g = sl.grad(snp.linalg.det)(X)
    expected = np.linalg.det(X) * np.linalg.inv(X).T
    np.testing.assert_allclose(g, expected, **EXACT)
    np.testing.assert_allclose(g, fd_gradient(np.linalg.det, X), **NUMERIC)


def test_grad_of_determinant_of_matrix_function():
    """Seed 004: d det(f(X)) = det(f(X)) tr(f(X)^{-1} df); for f(X) = A X: det(AX) A^T (AX)^{-T}."""
    rng = np.random.default_rng(27)
    A, X = well_conditioned(rng, 3), well_conditioned(rng, 3)
    g = sl.grad(lambda M: snp.linalg.det(A @ M))(X)
    AX = A @ X
    expected = np.linalg.det(AX) * A.T @ np.linalg.inv(AX).T
    np.testing.assert_allclose(g, expected, **EXACT)


def test_jacobian_of_matrix_inverse_tensor():
    """Seed 004: d(X^{-1})_ij / dX_ab = -(X^{-1})_ia (X^{-1})_bj, as a full (n,n,n,n) tensor."""
    rng = np.random.default_rng(28)
    n = 3
    X = well_conditioned(rng, n)
    Xi = np.linalg.inv(X)
    J = sl.jacobian(snp.linalg.inv)(X)
    assert J.shape == (n, n, n, n)
    expected = -np.einsum("ia,bj->ijab", Xi, Xi)
    np.testing.assert_allclose(J, expected, **EXACT)
    np.testing.assert_allclose(J, fd_jacobian(np.linalg.inv, X), **NUMERIC)


def test_grad_of_bilinear_form_of_inverse():
    """Seed 004: d/dX a^T X^{-1} b = -X^{-T} a b^T X^{-T}."""
    rng = np.random.default_rng(29)
    n = 4
    X = well_conditioned(rng, n)
    a, b = rng.normal(size=n), rng.normal(size=n)
    g = sl.grad(lambda M: a @ snp.linalg.inv(M) @ b)(X)
    XiT = np.linalg.inv(X).T
    np.testing.assert_allclose(g, -XiT @ np.outer(a, b) @ XiT, **EXACT)


def test_weighted_least_squares_gradient():
    """Seed 004: f(w) = (y - Xw)^T W (y - Xw), W symmetric, has gradient -2 X^T W (y - Xw)."""
    rng = np.random.default_rng(30)
    n, p = 7, 3
    X, y, w = rng.normal(size=(n, p)), rng.normal(size=n), rng.normal(size=p)
    S = rng.normal(size=(n, n))
    W = S @ S.T + np.eye(n)
    f = lambda v: (y - X @ v) @ W @ (y - X @ v)
    np.testing.assert_allclose(sl.grad(f)(w), -2 * X.T @ W @ (y - X @ w), **EXACT)


def test_weighted_least_squares_gradient_nonsymmetric_weight():
    """Seed 004 (general W): without symmetry the gradient is -X^T (W + W^T)(y - Xw)."""
    rng = np.random.default_rng(31)
    n, p = 6, 3
    X, y, w = rng.normal(size=(n, p)), rng.normal(size=n), rng.normal(size=p)
    W = rng.normal(size=(n, n))
    f = lambda v: (y - X @ v) @ W @ (y - X @ v)
    np.testing.assert_allclose(sl.grad(f)(w), -X.T @ (W + W.T) @ (y - X @ w), **EXACT)


def test_least_squares_gradient_seed004():
    """Seed 004: L(theta) = ||y - Phi theta||^2 has gradient -2 Phi^T (y - Phi theta), and dL/de = 2e."""
    # The seed writes dL/de = e (the factor 2 of d(e^T e)/de is missing) but then states the
    # correct final gradient -2 e^T Phi.  The mathematics: dL/de = 2e.
    rng = np.random.default_rng(32)
    Phi, y, theta = rng.normal(size=(8, 3)), rng.normal(size=8), rng.normal(size=3)
    L = lambda th: snp.sum((y - Phi @ th) ** 2)
    np.testing.assert_allclose(sl.grad(L)(theta), -2 * Phi.T @ (y - Phi @ theta), **EXACT)
    e = y - Phi @ theta
    np.testing.assert_allclose(sl.grad(lambda v: v @ v)(e), 2 * e, **EXACT)


# =======================================================================================
# 10. Losses of machine learning models (seeds 000, 002, 003)
# =======================================================================================


def _regression_data(seed, n=20, p=4):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, p)), rng.normal(size=n), rng.normal(size=p)


def test_mse_loss_gradient():
    """Seed 003: MSE mean((Xw - y)^2) has gradient 2/n X^T (Xw - y)."""
    X, y, w = _regression_data(40)
    n = len(y)
    loss = lambda v: snp.mean((X @ v - y) ** 2)
    np.testing.assert_allclose(sl.grad(loss)(w), 2.0 / n * X.T @ (X @ w - y), **EXACT)


def test_half_mse_loss_gradient_seed000():
    """Seed 000: J(w) = 1/(2n) ||Xw - y||^2 has gradient 1/n X^T (Xw - y)."""
    X, y, w = _regression_data(41)
    n = len(y)
    loss = lambda v: snp.sum((X @ v - y) ** 2) / (2 * n)
    np.testing.assert_allclose(sl.grad(loss)(w), X.T @ (X @ w - y) / n, **EXACT)


def test_mse_loss_derivative_wrt_predictions_and_bias():
    """Seed 003 table: d/dyhat_i of (1/n) sum (y - yhat)^2 is 2/n (yhat_i - y_i); wrt a shared bias, the sum."""
    # The seed's table entry "(2/n) sum (yhat_i - y_i)" is the derivative with respect to a bias
    # added to every prediction; per prediction the derivative is (2/n)(yhat_i - y_i).
    rng = np.random.default_rng(42)
    y, yhat = rng.normal(size=9), rng.normal(size=9)
    n = len(y)
    loss = lambda p: snp.mean((y - p) ** 2)
    np.testing.assert_allclose(sl.grad(loss)(yhat), 2.0 / n * (yhat - y), **EXACT)
    d_bias = sl.derivative(lambda b: snp.mean((y - (yhat + b)) ** 2), order=1)(0.0)
    np.testing.assert_allclose(float(d_bias), 2.0 / n * np.sum(yhat - y), **EXACT)


def test_logistic_loss_pm1_labels_gradient():
    """Seed 000: mean log(1 + exp(-y Xw)) with y in {-1, +1} has gradient -1/n X^T (y sigma(-y Xw))."""
    rng = np.random.default_rng(43)
    n, p = 25, 3
    X, w = rng.normal(size=(n, p)), rng.normal(size=p)
    y = np.where(rng.uniform(size=n) < 0.5, -1.0, 1.0)
    loss = lambda v: snp.mean(snp.log(1.0 + snp.exp(-y * (X @ v))))
    expected = -X.T @ (y * sigmoid_np(-y * (X @ w))) / n
    np.testing.assert_allclose(sl.grad(loss)(w), expected, **EXACT)


def test_logistic_loss_single_sample_identity():
    """Seed 000 identity: grad_w log(1 + exp(-y w^T x)) = -y sigma(-y w^T x) x."""
    rng = np.random.default_rng(44)
    x, w = rng.normal(size=4), rng.normal(size=4)
    for y in (-1.0, 1.0):
        f = lambda v: snp.log(1.0 + snp.exp(-y * (v @ x)))
        np.testing.assert_allclose(sl.grad(f)(w), -y * sigmoid_np(-y * (w @ x)) * x, **EXACT)


def _bce(v, X, y, xp=snp):
    p = sigmoid(X @ v, xp=xp)
    return xp.mean(-(y * xp.log(p) + (1.0 - y) * xp.log(1.0 - p)))


def test_binary_cross_entropy_01_labels_gradient():
    """Seeds 000 / 003: BCE with 0/1 labels and sigmoid(Xw) has gradient X^T (sigmoid(Xw) - y) / n."""
    rng = np.random.default_rng(45)
    n, p = 30, 4
    X, w = rng.normal(size=(n, p)), 0.5 * rng.normal(size=p)
    y = (rng.uniform(size=n) < 0.5).astype(float)
    expected = X.T @ (sigmoid_np(X @ w) - y) / n
    g = sl.grad(lambda v: _bce(v, X, y))(w)
    np.testing.assert_allclose(g, expected, **EXACT)
    np.testing.assert_allclose(expected, fd_gradient(lambda v: _bce(v, X, y, xp=np), w), **NUMERIC)


def test_binary_cross_entropy_and_pm1_logistic_are_the_same_loss():
    """Seed 000: with y01 = (y + 1)/2 the BCE and the +-1 logistic loss have equal values and gradients."""
    rng = np.random.default_rng(46)
    n, p = 15, 3
    X, w = rng.normal(size=(n, p)), rng.normal(size=p)
    y_pm = np.where(rng.uniform(size=n) < 0.5, -1.0, 1.0)
    y01 = (y_pm + 1.0) / 2.0
    v1, g1 = sl.value_and_grad(lambda v: _bce(v, X, y01))(w)
    v2, g2 = sl.value_and_grad(lambda v: snp.mean(snp.log(1.0 + snp.exp(-y_pm * (X @ v)))))(w)
    ref_value = np.mean(np.log1p(np.exp(-y_pm * (X @ w))))
    np.testing.assert_allclose(float(v1), ref_value, **EXACT)
    np.testing.assert_allclose(float(v2), ref_value, **EXACT)
    ref_grad = X.T @ (sigmoid_np(X @ w) - y01) / n
    np.testing.assert_allclose(g1, ref_grad, **EXACT)
    np.testing.assert_allclose(g2, ref_grad, **EXACT)


def test_regularized_logistic_gradient_and_hessian():
    """Seed 000 Newton step: grad = X^T (p - y)/n + lam w, Hessian = X^T diag(p(1-p)) X / n + lam I."""
    # The seed's code computes W = p (1 - p) but then builds (X.T * w) @ X, scaling by the
    # weight vector w instead of W; the curvature weights are W = p (1 - p), as used here.
    rng = np.random.default_rng(47)
    n, p, lam = 40, 3, 0.1
    X, w = rng.normal(size=(n, p)), 0.3 * rng.normal(size=p)
    y = (rng.uniform(size=n) < 0.5).astype(float)
    loss = lambda v: _bce(v, X, y) + 0.5 * lam * snp.sum(v * v)
    prob = sigmoid_np(X @ w)
    np.testing.assert_allclose(sl.grad(loss)(w), X.T @ (prob - y) / n + lam * w, **EXACT)
    expected_H = (X.T * (prob * (1 - prob))) @ X / n + lam * np.eye(p)
    H = sl.hessian(loss)(w)
    np.testing.assert_allclose(H, expected_H, **EXACT)


def test_single_neuron_backprop_worked_example():
    """Seed 003: x=2, y=1, w=0.5, b=-0.1: z=0.9, yhat~0.7109, L~0.3412, dL/dw=(yhat-y)x, dL/db=yhat-y."""
    x, y = 2.0, 1.0

    def loss(w, b):
        yhat = sigmoid(w * x + b)
        return -(y * snp.log(yhat) + (1 - y) * snp.log(1 - yhat))

    yhat = sigmoid_np(0.9)
    value, (dw, db) = sl.value_and_grad(loss, argnums=(0, 1))(0.5, -0.1)
    assert round(yhat, 4) == 0.7109
    assert round(float(value), 4) == 0.3412
    np.testing.assert_allclose(float(value), -math.log(yhat), **EXACT)
    np.testing.assert_allclose(float(dw), (yhat - y) * x, **EXACT)
    np.testing.assert_allclose(float(db), yhat - y, **EXACT)


def test_sigmoid_bce_gradient_wrt_logit_is_yhat_minus_y():
    """Seed 003: for sigmoid + BCE, dL/dz = yhat - y, for either label and many logits."""
    for y in (0.0, 1.0):
        loss = lambda z: -(y * snp.log(sigmoid(z)) + (1 - y) * snp.log(1 - sigmoid(z)))
        for z in (-2.0, -0.3, 0.0, 0.9, 3.1):
            np.testing.assert_allclose(float(sl.grad(loss)(z)), sigmoid_np(z) - y, **EXACT)


def _softmax(z, xp=snp):
    e = xp.exp(z)
    return e / xp.sum(e)


def test_softmax_jacobian():
    """Seed 003 table: d softmax_i / d z_j = s_i (delta_ij - s_j)."""
    z = np.array([0.2, -1.0, 1.5, 0.3])
    s = np.exp(z) / np.exp(z).sum()
    J = sl.jacobian(_softmax)(z)
    np.testing.assert_allclose(J, np.diag(s) - np.outer(s, s), **EXACT)


def test_softmax_cross_entropy_gradient_is_q_minus_p():
    """Seeds 002 / 003: H(p, softmax(z)) = -sum p log softmax(z) has gradient softmax(z) - p."""
    z = np.array([0.5, -0.2, 2.0, -1.1, 0.0])
    s = np.exp(z) / np.exp(z).sum()
    one_hot = np.array([0.0, 0.0, 1.0, 0.0, 0.0])
    soft = np.array([0.1, 0.2, 0.4, 0.2, 0.1])
    for p in (one_hot, soft):
        loss = lambda v: -snp.sum(p * snp.log(_softmax(v)))
        np.testing.assert_allclose(sl.grad(loss)(z), s - p, **EXACT)


def test_seed001_backprop_exercise_against_sympy():
    """Seed 001 exercise: y = w2 sigma(w1 x + b1) + b2, L = (y - t)^2; dL/dw1 = 2(y-t) w2 sigma'(z) x."""
    x, target = 1.5, 0.5
    params = dict(w1=0.8, b1=-0.3, w2=1.7, b2=0.2)

    def loss(w1, b1, w2, b2):
        out = w2 * sigmoid(w1 * x + b1) + b2
        return (out - target) ** 2

    grads = sl.grad(loss, argnums=(0, 1, 2, 3))(*params.values())
    # Closed form by hand.
    z = params["w1"] * x + params["b1"]
    s = sigmoid_np(z)
    out = params["w2"] * s + params["b2"]
    r = 2 * (out - target)
    by_hand = [r * params["w2"] * s * (1 - s) * x, r * params["w2"] * s * (1 - s), r * s, r]
    np.testing.assert_allclose([float(g) for g in grads], by_hand, **EXACT)
    # And from sympy.
    w1, b1, w2, b2 = syms = sp.symbols("w1 b1 w2 b2", real=True)
    expr = (w2 / (1 + sp.exp(-(w1 * x + b1))) + b2 - target) ** 2
    subs = dict(zip(syms, params.values()))
    ref = [float(sp.diff(expr, v).evalf(subs=subs)) for v in syms]
    np.testing.assert_allclose([float(g) for g in grads], ref, **EXACT)


def test_minibatch_gradient_of_x_squared_surrogate():
    """Seed 000: d/dx of (x - z)^2 is 2(x - z); of mean_j (x - z_j)^2 it is 2(x - mean z)."""
    rng = np.random.default_rng(48)
    z = rng.normal(size=32)
    x0 = 80.0
    one = sl.derivative(lambda x: (x - z[0]) ** 2, order=1)(x0)
    np.testing.assert_allclose(float(one), 2 * (x0 - z[0]), **EXACT)
    batch = sl.derivative(lambda x: snp.mean((x - z) ** 2), order=1)(x0)
    np.testing.assert_allclose(float(batch), 2 * (x0 - z.mean()), **EXACT)


def _two_layer_loss(A0, b0, A1, b1, x, y, xp=snp):
    f1 = xp.tanh(A0 @ x + b0)
    f2 = sigmoid(A1 @ f1 + b1, xp=xp)
    return xp.sum((y - f2) ** 2)


def test_deep_network_layer_gradients_by_backprop():
    """Seed 004: for f_i = sigma_i(A f_{i-1} + b), L = ||y - f_K||^2, per-layer gradients by the chain rule."""
    rng = np.random.default_rng(49)
    A0, b0 = rng.normal(size=(5, 3)), rng.normal(size=5)
    A1, b1 = rng.normal(size=(2, 5)), rng.normal(size=2)
    x, y = rng.normal(size=3), rng.uniform(size=2)
    grads = sl.grad(_two_layer_loss, argnums=(0, 1, 2, 3))(A0, b0, A1, b1, x, y)
    # Backpropagation written by hand in NumPy.
    f1 = np.tanh(A0 @ x + b0)
    f2 = sigmoid_np(A1 @ f1 + b1)
    delta2 = 2 * (f2 - y) * f2 * (1 - f2)
    delta1 = (A1.T @ delta2) * (1 - f1**2)
    by_hand = [np.outer(delta1, x), delta1, np.outer(delta2, f1), delta2]
    for got, ref in zip(grads, by_hand):
        assert got.shape == ref.shape
        np.testing.assert_allclose(got, ref, **EXACT)
    # Finite differences on the plain NumPy loss, one parameter block at a time.
    args = [A0, b0, A1, b1]
    for k, got in enumerate(grads):

        def partial_loss(block, k=k):
            local = list(args)
            local[k] = block
            return _two_layer_loss(*local, x, y, xp=np)

        np.testing.assert_allclose(got, fd_gradient(partial_loss, args[k]), **NUMERIC)
