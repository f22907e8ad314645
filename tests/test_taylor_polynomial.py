"""Taylor polynomials (``sl.taylor`` / ``sl.TaylorPolynomial``), issue 4 section 2.

References: exact values (polynomials reproduced, Maclaurin series of closed
forms, ``1/k!``), sympy derivative tensors, ``sl.hessian`` / ``sl.derivative``,
and the error orders of the linear and quadratic models measured on a log-log fit.
"""

import itertools
import math

import numpy as np
import pytest
import sympy as sp

import slopes as sl
import slopes.numpy as snp


def _close_ulps(a, b, n=4):
    return abs(a - b) <= n * math.ulp(max(abs(a), abs(b), 1e-300))


# -- printing ---------------------------------------------------------------------------------------
def test_str_of_the_issue_example():
    f = lambda v: v[0] ** 2 + 2 * v[0] * v[1] + v[1] ** 3
    p = sl.taylor(f, np.array([1.0, 2.0]), 3)
    assert str(p) == "13 + 6(x-1) + 14(y-2) + (x-1)^2 + 2(x-1)(y-2) + 6(y-2)^2 + (y-2)^3"
    # a higher order adds nothing: the polynomial is already exact
    assert str(sl.taylor(f, np.array([1.0, 2.0]), 5)) == str(p)


def test_str_names_from_expression_user_and_defaults():
    e = sl.parse("a**2 * b + exp(b)")
    p = sl.taylor(e, np.array([1.0, 0.0]), 2)
    assert str(p) == "1 + 2b + 2(a-1)b + b^2/2"
    assert p.variables == ("a", "b")
    q = sl.taylor(lambda v: v[0] * v[1], np.array([0.0, -1.0]), 2, variables="u, w")
    assert str(q) == "-u + u(w+1)"
    r = sl.taylor(lambda v: snp.sum(v**2), np.zeros(4), 2)
    assert r.variables == ("x1", "x2", "x3", "x4")
    assert str(r) == "x1^2 + x2^2 + x3^2 + x4^2"
    assert sl.taylor(lambda v: snp.sum(v), np.zeros(3), 1).variables == ("x", "y", "z")
    assert str(sl.taylor(lambda t: 0.0 * t, 0.0, 3)) == "0"


def test_str_non_rational_coefficients_and_centers():
    p = sl.taylor(snp.sin, 1.0, 1)
    assert str(p) == "0.841471 + 0.540302(x-1)"
    q = sl.taylor(lambda x: x**3, -0.5, 3)
    assert str(q) == "-1/8 + 3(x+0.5)/4 - 3(x+0.5)^2/2 + (x+0.5)^3"
    assert "TaylorPolynomial(order=3" in repr(q)


# -- univariate: Taylor mode ------------------------------------------------------------------------
def test_maclaurin_sin_plus_cos_exact():
    p = sl.taylor(lambda x: snp.sin(x) + snp.cos(x), 0.0, 20)
    signs = [1, 1, -1, -1]
    for k, c in enumerate(p.coefficients):
        assert _close_ulps(c, signs[k % 4] / math.factorial(k)), (k, c)
    assert p.coefficients[:5] == [1.0, 1.0, -0.5, -1 / 6, 1 / 24]
    assert str(sl.taylor(lambda x: snp.sin(x) + snp.cos(x), 0.0, 7)) == (
        "1 + x - x^2/2 - x^3/6 + x^4/24 + x^5/120 - x^6/720 - x^7/5040"
    )
    assert p.center == 0.0 and p.order == 20 and len(p.derivatives) == 21
    assert all(isinstance(d, float) for d in p.derivatives)


def test_univariate_high_order_and_derivative_agree():
    p = sl.taylor(snp.exp, 0.0, 25)
    for k, c in enumerate(p.coefficients):
        assert _close_ulps(c, 1 / math.factorial(k), 8)
    g = lambda x: snp.log(1.0 + x**2) * snp.tanh(x)
    q = sl.taylor(g, 0.7, 6)
    for k in range(7):
        assert np.isclose(q.derivatives[k], float(sl.derivative(g, order=k)(0.7)), rtol=1e-12)


def test_univariate_random_polynomials_reproduced():
    rng = np.random.default_rng(0)
    for n in range(0, 7):
        a = rng.integers(-5, 6, size=n + 1).astype(float)
        f = lambda x, a=a: sum(ak * x**k for k, ak in enumerate(a))
        x0 = float(rng.normal())
        p = sl.taylor(f, x0, n)
        xs = rng.normal(size=(3, 5)) * 2
        assert np.allclose(p(xs), f(xs), rtol=1e-12, atol=1e-12)
        assert np.all(p.remainder_estimate(xs) == 0.0)
        assert isinstance(p(0.3), np.float64)


# -- multivariate: nested forward mode ---------------------------------------------------------------
def _random_polynomial(rng, D, degree):
    monos = [a for a in itertools.product(range(degree + 1), repeat=D) if sum(a) <= degree]
    coefs = rng.integers(-4, 5, size=len(monos)).astype(float)

    def f(v):
        out = 0.0
        for c, a in zip(coefs, monos):
            term = c
            for i, e in enumerate(a):
                if e:
                    term = term * v[i] ** e
            out = out + term
        return out

    def f_np(x):
        return sum(
            c * np.prod([x[..., i] ** e for i, e in enumerate(a)], axis=0) for c, a in zip(coefs, monos)
        )

    return f, f_np


@pytest.mark.parametrize("D,degree", [(1, 4), (2, 3), (2, 4), (3, 3)])
def test_multivariate_random_polynomials_reproduced(D, degree):
    rng = np.random.default_rng(D * 10 + degree)
    f, f_np = _random_polynomial(rng, D, degree)
    x0 = rng.normal(size=D)
    p = sl.taylor(f, x0, degree)
    xs = rng.normal(size=(4, 3, D)) * 1.5
    assert p(xs).shape == (4, 3)
    assert np.allclose(p(xs), f_np(xs), rtol=1e-10, atol=1e-10)
    assert np.isclose(float(p(xs[0, 0])), f_np(xs[0, 0]), rtol=1e-10, atol=1e-10)
    assert np.allclose(p.remainder_estimate(xs), 0.0, atol=1e-9)
    # the polynomial is exact, so its value agrees with f's at a point
    assert np.isclose(float(p(x0)), float(f(x0)))


def _sympy_tensor(expr, names, point, k):
    syms = [sp.Symbol(n, real=True) for n in names]
    sub = dict(zip(syms, point))
    D = len(names)
    out = np.empty((D,) * k)
    for idx in itertools.product(range(D), repeat=k):
        d = expr
        for i in idx:
            d = sp.diff(d, syms[i])
        out[idx] = float(d.subs(sub).evalf(30))
    return out if k else float(out)


@pytest.mark.parametrize(
    "text",
    [
        "3*x**3*y - 2*x*y**2 + y**4 - 5*x + 1",
        "exp(x - 2*y) * sin(x*y)",
        "log(1 + x**2 + y**2) + cos(x) * y**3",
        "sqrt(2 + x**2) / (1 + y**2) + tanh(x + y)",
    ],
)
def test_tensors_against_sympy(text):
    e = sl.parse(text)
    expr = e.to_sympy()
    point = np.array([0.4, -0.7])
    p = sl.taylor(e, point, 4)
    assert p.variables == ("x", "y")
    for k in range(5):
        ref = _sympy_tensor(expr, e.variables, point, k)
        got = p.derivatives[k]
        assert np.shape(got) == (2,) * k
        assert np.allclose(got, ref, rtol=1e-10, atol=1e-10), (k, got, ref)
        assert np.allclose(p.coefficients[k], np.asarray(ref) / math.factorial(k), rtol=1e-10, atol=1e-10)
    # the monomial coefficients are the sympy series coefficients
    x, y = sp.symbols("x y", real=True)
    for (a, b), c in p.terms().items():
        d = sp.diff(expr, x, a, y, b) if a + b else expr
        ref = float(d.subs({x: point[0], y: point[1]})) / (math.factorial(a) * math.factorial(b))
        assert np.isclose(c, ref, rtol=1e-10, atol=1e-10)


def test_closed_form_tensors():
    # f = exp(a . x): D^k f = exp(a . x0) a (x) a (x) ... (x) a
    a = np.array([0.5, -1.0, 2.0])
    x0 = np.array([0.1, 0.2, -0.3])
    p = sl.taylor(lambda v: snp.exp(v @ a), x0, 4)
    e = np.exp(a @ x0)
    outer = np.array(1.0)
    for k in range(5):
        assert np.allclose(p.derivatives[k], e * outer, rtol=1e-13)
        outer = np.multiply.outer(outer, a)
    # quadratic form 1/2 x.Ax + b.x: exact gradient and Hessian, no cubic term
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    b = np.array([1.0, -1.0])
    q = sl.taylor(lambda v: 0.5 * v @ A @ v + b @ v, np.array([1.0, 1.0]), 3)
    assert np.array_equal(q.derivatives[1], A @ np.ones(2) + b)
    assert np.array_equal(q.derivatives[2], A)
    assert np.array_equal(q.derivatives[3], np.zeros((2, 2, 2)))


def test_symmetry_clairaut():
    f = lambda v: snp.sin(v[0] * v[1] ** 2) + snp.exp(v[0] - v[1] * v[2]) * v[2] ** 2
    p = sl.taylor(f, np.array([0.3, -0.8, 1.1]), 3)
    H, T = p.derivatives[2], p.derivatives[3]
    assert np.allclose(H, H.T, rtol=1e-13, atol=1e-13)
    for perm in itertools.permutations(range(3)):
        assert np.allclose(T, T.transpose(perm), rtol=1e-13, atol=1e-13)
    assert np.allclose(H, sl.hessian(f)(np.array([0.3, -0.8, 1.1])), rtol=1e-13)


def test_second_directional_derivative():
    f = lambda v: snp.log(1.0 + v[0] ** 2) * snp.cos(v[1]) + v[0] * v[1] ** 3
    x0 = np.array([0.5, -1.2])
    p = sl.taylor(f, x0, 2)
    rng = np.random.default_rng(3)
    for _ in range(3):
        u = rng.normal(size=2)
        uHu = u @ p.derivatives[2] @ u
        line = sl.taylor(lambda t, u=u: f(x0 + t * u), 0.0, 2)
        assert np.isclose(uHu, 2 * line.coefficients[2], rtol=1e-12)
        assert np.isclose(uHu, u @ sl.hessian(f)(x0) @ u, rtol=1e-12)
        assert np.isclose(p.derivatives[1] @ u, line.coefficients[1], rtol=1e-12)


# -- linear and quadratic models: error orders ----------------------------------------------------------
def _slope(model, f_np, x0, u):
    hs = np.logspace(-3, -1, 9)
    errs = [abs(f_np(x0 + h * u) - float(model(x0 + h * u))) for h in hs]
    return np.polyfit(np.log(hs), np.log(errs), 1)[0]


@pytest.mark.parametrize(
    "f,f_np,x0",
    [
        (lambda x: snp.exp(x) * snp.sin(2 * x), lambda x: np.exp(x) * np.sin(2 * x), 0.3),
        (lambda x: 1.0 / (1.0 + x**2), lambda x: 1.0 / (1.0 + x**2), 0.7),
        (
            lambda v: snp.exp(v[0] - v[1]) + v[0] * snp.sin(v[1]),
            lambda v: np.exp(v[0] - v[1]) + v[0] * np.sin(v[1]),
            np.array([0.2, 0.5]),
        ),
        (
            lambda v: snp.log(1.0 + v[0] ** 2 + 2 * v[1] ** 2),
            lambda v: np.log(1.0 + v[0] ** 2 + 2 * v[1] ** 2),
            np.array([0.6, -0.4]),
        ),
    ],
)
def test_linear_and_quadratic_model_error_orders(f, f_np, x0):
    u = 1.0 if np.ndim(x0) == 0 else np.array([0.6, -0.8])
    lin, quad = sl.taylor(f, x0, 1), sl.taylor(f, x0, 2)
    # the linear model is f(x) + grad.s, the quadratic adds s.H s / 2
    s = 0.01 * u
    g = sl.grad(f)(x0) if np.ndim(x0) else sl.derivative(f)(x0)
    H = sl.hessian(f)(x0) if np.ndim(x0) else sl.derivative(f, order=2)(x0)
    assert np.isclose(float(lin(x0 + s)), f_np(x0) + np.sum(g * s), rtol=1e-13)
    assert np.isclose(
        float(quad(x0 + s)),
        f_np(x0) + np.sum(g * s) + 0.5 * np.sum(s * (H @ s if np.ndim(H) else H * s)),
        rtol=1e-13,
    )
    assert abs(_slope(lin, f_np, x0, u) - 2.0) < 0.1
    assert abs(_slope(quad, f_np, x0, u) - 3.0) < 0.1


# -- remainder estimate ----------------------------------------------------------------------------------
def test_remainder_estimate_is_the_leading_error():
    p = sl.taylor(snp.exp, 0.0, 3)
    for h in [0.1, 0.01]:
        err = np.exp(h) - float(p(h))
        est = float(p.remainder_estimate(h))
        assert _close_ulps(est, h**4 / 24, 8)
        assert abs(err - est) < h**5  # the next term, h^5/120, is what is left
    f = lambda v: snp.cos(v[0]) * snp.exp(v[1])
    f_np = lambda v: np.cos(v[..., 0]) * np.exp(v[..., 1])
    x0 = np.array([0.4, 0.1])
    q = sl.taylor(f, x0, 2)
    s = np.array([[0.01, 0.02], [-0.02, 0.01], [0.005, -0.005]])
    err = f_np(x0 + s) - q(x0 + s)
    est = q.remainder_estimate(x0 + s)
    assert est.shape == (3,)
    assert np.allclose(err / est, 1.0, atol=0.1)
    T3 = sl.jacfwd(sl.jacfwd(sl.jacfwd(f)))(x0)
    assert np.allclose(est, np.einsum("ijk,ni,nj,nk->n", T3, s, s, s) / 6, rtol=1e-12)


# -- the object --------------------------------------------------------------------------------------
def test_polynomial_object_and_evaluation_is_differentiable():
    p = sl.TaylorPolynomial(np.array([1.0, 0.0]), [1.0, [2.0, 3.0], [[2.0, 1.0], [1.0, 0.0]]])
    assert str(p) == "1 + 2(x-1) + 3y + (x-1)^2 + (x-1)y"
    with pytest.raises(ValueError, match="no derivative of order n\\+1"):
        p.remainder_estimate(np.zeros(2))
    f = lambda v: v[0] ** 2 * v[1] + v[1] ** 3
    q = sl.taylor(f, np.array([1.0, 2.0]), 3)
    x = np.array([0.3, -1.1])
    assert np.allclose(sl.grad(q)(x), sl.grad(f)(x), rtol=1e-12)
    r = sl.taylor(snp.sin, 0.0, 9)
    assert np.isclose(float(sl.grad(r)(0.2)), np.cos(0.2), rtol=1e-8)


def test_constant_functions():
    p = sl.taylor(lambda v: 2.5 + 0.0 * v[0], np.array([1.0, 1.0]), 2)
    assert str(p) == "5/2"
    assert np.array_equal(p.derivatives[2], np.zeros((2, 2)))
    q = sl.taylor(lambda x: 7.0, 0.5, 2)
    assert q.coefficients == [7.0, 0.0, 0.0]


def test_errors():
    with pytest.raises(ValueError, match="order"):
        sl.taylor(snp.sin, 0.0, -1)
    with pytest.raises(ValueError, match="order"):
        sl.taylor(snp.sin, 0.0, 1.5)
    with pytest.raises(ValueError, match="shape"):
        sl.taylor(snp.sin, np.zeros((2, 2)), 1)
    with pytest.raises(TypeError, match="scalar function"):
        sl.taylor(lambda v: v * 2.0, np.zeros(2), 1)
    with pytest.raises(TypeError, match="scalar function"):
        sl.taylor(lambda x: snp.stack([x, x]), 0.0, 2)
    p = sl.taylor(lambda v: v[0] * v[1], np.zeros(2), 2)
    with pytest.raises(ValueError, match=r"points of shape \(\.\.\., 2\)"):
        p(np.zeros(3))
    with pytest.raises(ValueError, match="names 1 variable"):
        sl.taylor(lambda v: v[0] * v[1], np.zeros(2), 2, variables=["x"])
