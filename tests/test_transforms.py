"""The transforms: grad, value_and_grad, jvp, vjp, Jacobians, Hessians, n-th derivatives,
directional derivatives, nesting, pytrees, custom rules, vmap, dtypes.

References are independent of slopes: finite differences computed here with NumPy,
closed forms, and sympy.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from checks import check_derivatives
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import slopes as sl
import slopes.numpy as snp
from slopes.core.trace import Tracer

# no shrinking: a failure is reported at once, keeping the suite fast even when red
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
FAST = settings(max_examples=15, deadline=None, phases=NO_SHRINK)


def fd_jacobian(f, x, eps=1e-6):
    """Central-difference Jacobian, shape f(x).shape + x.shape, plain NumPy."""
    x = np.asarray(x, dtype=float)
    f0 = np.asarray(f(x))
    J = np.zeros(f0.shape + x.shape)
    for k in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[k] = eps
        J[(Ellipsis,) + k] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps)
    return J


def is_plain(x):
    return type(x) is np.ndarray


def same_structure(a, b):
    """Structure equality of nested dict/list/tuple, leaves compared by shape only."""
    if isinstance(a, dict):
        return isinstance(b, dict) and set(a) == set(b) and all(same_structure(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same_structure(u, v) for u, v in zip(a, b))
    return np.shape(a) == np.shape(b)


def all_leaves(tree):
    if isinstance(tree, dict):
        return [leaf for k in sorted(tree) for leaf in all_leaves(tree[k])]
    if isinstance(tree, (list, tuple)):
        return [leaf for t in tree for leaf in all_leaves(t)]
    return [tree]


# -- grad and value_and_grad -------------------------------------------------------------------------
def test_grad_closed_form():
    f = lambda x: x[0] ** 2 + 2 * x[1] ** 2 + snp.exp(-x[0] - x[1])  # noqa: E731
    x = np.array([0.3, -0.7])
    e = np.exp(-x[0] - x[1])
    g = sl.grad(f)(x)
    assert is_plain(g) and g.shape == (2,)
    np.testing.assert_allclose(g, [2 * x[0] - e, 4 * x[1] - e], rtol=1e-15)
    v, g2 = sl.value_and_grad(f)(x)
    assert is_plain(v) and v.shape == ()
    np.testing.assert_allclose(v, x[0] ** 2 + 2 * x[1] ** 2 + e, rtol=1e-15)
    np.testing.assert_array_equal(g, g2)


def test_grad_argnums():
    f = lambda a, b, c: snp.sum(a * b**2) + c**3  # noqa: E731
    a, b, c = np.array([1.0, 2.0]), np.array([3.0, -1.0]), 2.0
    np.testing.assert_array_equal(sl.grad(f)(a, b, c), b**2)
    np.testing.assert_array_equal(sl.grad(f, argnums=1)(a, b, c), 2 * a * b)
    np.testing.assert_array_equal(sl.grad(f, argnums=-1)(a, b, c), 3 * c**2)
    ga, gc = sl.grad(f, argnums=(0, 2))(a, b, c)
    np.testing.assert_array_equal(ga, b**2)
    assert float(gc) == 12.0
    res = sl.grad(f, argnums=(1,))(a, b, c)
    assert isinstance(res, tuple) and len(res) == 1
    np.testing.assert_array_equal(res[0], 2 * a * b)
    v, (gb, gc) = sl.value_and_grad(f, argnums=(1, 2))(a, b, c)
    np.testing.assert_allclose(v, np.sum(a * b**2) + c**3)
    np.testing.assert_array_equal(gb, 2 * a * b)
    # keyword arguments are passed through, not differentiated
    h = lambda x, scale=1.0: scale * snp.sum(x**2)  # noqa: E731
    np.testing.assert_array_equal(sl.grad(h)(a, scale=3.0), 6 * a)


def test_grad_has_aux():
    def f(x):
        y = snp.sum(x**2)
        return y, {"y": y, "x2": x * 2, "name": "loss"}

    x = np.array([1.0, -2.0])
    g, aux = sl.grad(f, has_aux=True)(x)
    np.testing.assert_array_equal(g, 2 * x)
    assert is_plain(aux["y"]) and float(aux["y"]) == 5.0
    assert is_plain(aux["x2"]) and np.array_equal(aux["x2"], 2 * x)
    assert aux["name"] == "loss"
    (v, aux2), g2 = sl.value_and_grad(f, has_aux=True)(x)
    assert float(v) == 5.0 and np.array_equal(g2, 2 * x) and is_plain(aux2["x2"])
    # with argnums
    (gx, gs), aux3 = sl.grad(lambda x, s: (s * snp.sum(x), s), argnums=(0, 1), has_aux=True)(x, 3.0)
    np.testing.assert_array_equal(gx, [3.0, 3.0])
    assert float(gs) == -1.0 and float(aux3) == 3.0
    # Jacobians with aux
    J, aux4 = sl.jacobian(lambda x: (x**2, snp.sum(x)), has_aux=True)(x)
    np.testing.assert_array_equal(J, np.diag(2 * x))
    assert is_plain(aux4) and float(aux4) == -1.0
    J, _ = sl.jacfwd(lambda x: (x**3, 0.0), has_aux=True)(x)
    np.testing.assert_array_equal(J, np.diag(3 * x**2))


# -- jvp and vjp -----------------------------------------------------------------------------------------
def test_jvp_and_vjp_closed_form():
    A = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
    f = lambda x: snp.tanh(A @ x)  # noqa: E731
    x = np.array([0.1, -0.3, 0.2])
    v = np.array([1.0, 0.5, -2.0])
    J = (1 - np.tanh(A @ x) ** 2)[:, None] * A
    out, tout = sl.jvp(f, (x,), (v,))
    assert is_plain(out) and is_plain(tout)
    np.testing.assert_allclose(out, np.tanh(A @ x), rtol=1e-15)
    np.testing.assert_allclose(tout, J @ v, rtol=1e-14)
    out, vjp_fn = sl.vjp(f, x)
    w = np.array([2.0, -1.0])
    (ct,) = vjp_fn(w)
    assert is_plain(out) and is_plain(ct)
    np.testing.assert_allclose(ct, w @ J, rtol=1e-14)


def test_jvp_vjp_several_arguments_and_pytrees():
    def f(p, z):
        return {"a": p["w"] * z, "b": snp.sum(p["b"][0] ** 2) * z}

    p = {"w": np.array([1.0, 2.0]), "b": [np.array([0.5, -1.0])]}
    z = 3.0
    tp = {"w": np.array([1.0, 0.0]), "b": [np.array([0.0, 2.0])]}
    out, tout = sl.jvp(f, (p, z), (tp, 1.0))
    assert set(out) == {"a", "b"} and is_plain(tout["a"]) and is_plain(tout["b"])
    np.testing.assert_allclose(tout["a"], tp["w"] * z + p["w"] * 1.0)
    np.testing.assert_allclose(tout["b"], 2 * np.sum(p["b"][0] * tp["b"][0]) * z + np.sum(p["b"][0] ** 2))
    out, vjp_fn = sl.vjp(f, p, z)
    cp, cz = vjp_fn({"a": np.array([1.0, 1.0]), "b": np.array(2.0)})
    assert same_structure(cp, p)
    np.testing.assert_allclose(cp["w"], [z, z])
    np.testing.assert_allclose(cp["b"][0], 2 * 2 * p["b"][0] * z)
    np.testing.assert_allclose(cz, np.sum(p["w"]) + 2 * np.sum(p["b"][0] ** 2))


@FAST
@given(n=st.integers(1, 5), m=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_inner_product_identity_jvp_vjp(n, m, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    B = rng.standard_normal((m, n))
    f = lambda x: snp.sin(A @ x) * snp.exp(B @ x / 3)  # noqa: E731
    x, v, w = rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal(m)
    _, Jv = sl.jvp(f, (x,), (v,))
    _, vjp_fn = sl.vjp(f, x)
    (JTw,) = vjp_fn(w)
    np.testing.assert_allclose(np.dot(w, Jv), np.dot(JTw, v), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(Jv, fd_jacobian(f, x) @ v, rtol=1e-6, atol=1e-8)


# -- Jacobians -------------------------------------------------------------------------------------------
@FAST
@given(
    nm=st.sampled_from([(5, 2), (2, 5), (3, 3), (1, 4), (4, 1), (1, 1)]),
    seed=st.integers(0, 2**32 - 1),
)
def test_jacfwd_jacrev_jacobian_agree_with_finite_differences(nm, seed):
    n, m = nm
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    c = rng.standard_normal(m)
    f = lambda x: snp.tanh(A @ x + c) + (A @ x**2) / 4  # noqa: E731
    x = rng.standard_normal(n)
    ref = fd_jacobian(f, x)
    closed = (1 - np.tanh(A @ x + c) ** 2)[:, None] * A + A * x[None, :] / 2
    np.testing.assert_allclose(ref, closed, rtol=1e-6, atol=1e-8)
    for jac in (sl.jacfwd, sl.jacrev, sl.jacobian):
        J = jac(f)(x)
        assert is_plain(J) and J.shape == (m, n)
        np.testing.assert_allclose(J, closed, rtol=1e-13, atol=1e-14)


def test_jacobian_shapes_for_matrix_inputs_and_outputs():
    X = np.random.default_rng(1).standard_normal((2, 3))
    f = lambda X: X @ X.T  # (2, 3) -> (2, 2)  # noqa: E731
    # closed form: d(XX^T)_ij / dX_kl = delta_ik X_jl + delta_jk X_il
    I2 = np.eye(2)
    expected = np.einsum("ik,jl->ijkl", I2, X) + np.einsum("jk,il->ijkl", I2, X)
    for jac in (sl.jacfwd, sl.jacrev, sl.jacobian):
        J = jac(f)(X)
        assert J.shape == (2, 2, 2, 3)
        np.testing.assert_allclose(J, expected, rtol=1e-14, atol=1e-15)
    # vector -> matrix, matrix -> scalar, scalar -> matrix
    v = np.array([1.0, 2.0, 3.0])
    for jac in (sl.jacfwd, sl.jacrev, sl.jacobian):
        J = jac(lambda u: snp.reshape(u, (3, 1)) * snp.reshape(u, (1, 3)))(v)
        assert J.shape == (3, 3, 3)
        np.testing.assert_allclose(J, fd_jacobian(lambda u: np.outer(u, u), v), rtol=1e-8)
        J = jac(lambda U: snp.sum(U**2))(X)
        assert J.shape == (2, 3)
        np.testing.assert_allclose(J, 2 * X, rtol=1e-15)
        J = jac(lambda s: s * X)(2.0)
        assert J.shape == (2, 3)
        np.testing.assert_array_equal(J, X)


def test_jacobian_of_pytree_input_and_output():
    def f(p):
        return (p["a"] * p["b"][0], snp.sum(p["a"]))

    p = {"a": np.array([1.0, 2.0]), "b": [3.0]}
    for jac in (sl.jacfwd, sl.jacrev, sl.jacobian):
        J = jac(f)(p)
        assert isinstance(J, tuple) and len(J) == 2
        assert same_structure(J[0], {"a": np.zeros((2, 2)), "b": [np.zeros(2)]})
        np.testing.assert_array_equal(J[0]["a"], 3.0 * np.eye(2))
        np.testing.assert_array_equal(J[0]["b"][0], p["a"])
        np.testing.assert_array_equal(J[1]["a"], [1.0, 1.0])
        np.testing.assert_array_equal(J[1]["b"][0], 0.0)
        assert all(is_plain(leaf) for leaf in all_leaves(J))


# -- Hessians --------------------------------------------------------------------------------------------
@FAST
@given(n=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_hessian_symmetric_and_matches_closed_form_and_fd(n, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    b = rng.standard_normal(n)
    f = lambda x: 0.5 * x @ (A @ x) + snp.sum(snp.exp(b * x)) + snp.sum(x) ** 3  # noqa: E731
    x = rng.standard_normal(n) / 2
    H = sl.hessian(f)(x)
    assert is_plain(H) and H.shape == (n, n)
    np.testing.assert_allclose(H, H.T, rtol=1e-13, atol=1e-13)
    closed = (A + A.T) / 2 + np.diag(b**2 * np.exp(b * x)) + 6 * np.sum(x) * np.ones((n, n))
    np.testing.assert_allclose(H, closed, rtol=1e-12, atol=1e-12)
    # finite differences of the gradient
    np.testing.assert_allclose(H, fd_jacobian(sl.grad(f), x), rtol=1e-6, atol=1e-6)
    # hvp is H @ v
    v = rng.standard_normal(n)
    hv = sl.hvp(f, x, v)
    assert is_plain(hv)
    np.testing.assert_allclose(hv, H @ v, rtol=1e-12, atol=1e-12)


def test_hessian_of_matrix_input_and_vector_output():
    X = np.array([[1.0, 2.0], [0.5, -1.0]])
    H = sl.hessian(lambda M: snp.sum(M**3))(X)
    assert H.shape == (2, 2, 2, 2)
    expected = np.zeros((2, 2, 2, 2))
    for i, j in np.ndindex(2, 2):
        expected[i, j, i, j] = 6 * X[i, j]
    np.testing.assert_array_equal(H, expected)
    # array-valued function: output.shape + input.shape + input.shape
    x = np.array([1.0, 2.0, 3.0])
    H = sl.hessian(lambda u: snp.stack([u[0] * u[1], u[2] ** 2]))(x)
    assert H.shape == (2, 3, 3)
    np.testing.assert_array_equal(H[0], [[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(H[1], np.diag([0, 0, 2.0]))
    # Hessian against sympy for a function of two variables
    a, b = sp.symbols("a b")
    expr = sp.sin(a * b) + a**3 * sp.exp(b) - sp.log(1 + a**2 + b**2)
    f = lambda u: snp.sin(u[0] * u[1]) + u[0] ** 3 * snp.exp(u[1]) - snp.log(1 + u[0] ** 2 + u[1] ** 2)  # noqa: E731
    p = {a: 0.7, b: -0.4}
    exact = np.array([[float(sp.diff(expr, s, t).subs(p)) for t in (a, b)] for s in (a, b)])
    np.testing.assert_allclose(sl.hessian(f)(np.array([0.7, -0.4])), exact, rtol=1e-13)


# -- n-th derivatives ------------------------------------------------------------------------------------
def test_derivative_sin_plus_cos_at_zero():
    g = lambda x: snp.sin(x) + snp.cos(x)  # noqa: E731
    pattern = [1.0, 1.0, -1.0, -1.0]
    for n in range(9):
        d = sl.derivative(g, order=n)(0.0)
        assert is_plain(d)
        assert float(d) == pytest.approx(pattern[n % 4], abs=1e-14), n


def test_derivative_exp_and_power_closed_forms():
    for n in range(7):
        np.testing.assert_allclose(sl.derivative(snp.exp, order=n)(0.8), math.exp(0.8), rtol=1e-14)
        np.testing.assert_allclose(sl.derivative(lambda x: snp.exp(2 * x), order=n)(0.3), 2**n * math.exp(0.6), rtol=1e-14)
    x0 = 1.7
    for n in range(8):
        exact = math.perm(5, n) * x0 ** (5 - n) if n <= 5 else 0.0
        got = sl.derivative(lambda x: x**5, order=n)(x0)
        np.testing.assert_allclose(got, exact, rtol=1e-14, atol=0)
    # elementwise on arrays
    xs = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(sl.derivative(lambda x: x**5, order=3)(xs), 60 * xs**2, rtol=1e-14)
    # against sympy for a less regular function
    t = sp.Symbol("t")
    expr = sp.atan(t) * sp.exp(-(t**2))
    f = lambda x: snp.arctan(x) * snp.exp(-(x**2))  # noqa: E731
    for n in range(1, 6):
        exact = float(sp.diff(expr, t, n).subs(t, 0.6))
        np.testing.assert_allclose(sl.derivative(f, order=n)(0.6), exact, rtol=1e-12)


def test_directional_derivative():
    f = lambda x: x[0] ** 2 + 3 * x[1] + snp.sin(x[2])  # noqa: E731
    x = np.array([1.0, 0.0, 0.5])
    u = np.array([3.0, 4.0, 12.0])
    g = np.array([2 * x[0], 3.0, np.cos(x[2])])
    d = sl.directional_derivative(f, x, u)
    assert is_plain(d)
    np.testing.assert_allclose(d, g @ u, rtol=1e-15)
    np.testing.assert_allclose(sl.directional_derivative(f, x, u, normalize=True), g @ u / 13.0, rtol=1e-15)
    # finite differences along the unit direction
    e = u / 13.0
    fd = (f(x + 1e-6 * e) - f(x - 1e-6 * e)) / 2e-6
    np.testing.assert_allclose(sl.directional_derivative(f, x, u, normalize=True), fd, rtol=1e-8)


# -- nesting -----------------------------------------------------------------------------------------------
def test_hessian_of_hessian_is_fourth_derivative_tensor():
    x = np.array([1.0, -2.0, 0.5])
    T = sl.hessian(sl.hessian(lambda v: snp.sum(v**4)))(x)
    assert T.shape == (3, 3, 3, 3)
    expected = np.zeros((3, 3, 3, 3))
    for i in range(3):
        expected[i, i, i, i] = 24.0
    np.testing.assert_array_equal(T, expected)
    # the third derivative tensor of sum(x**4): 24 x_i on the diagonal, by jacfwd of hessian
    T3 = sl.jacfwd(sl.hessian(lambda v: snp.sum(v**4)))(x)
    expected3 = np.zeros((3, 3, 3))
    for i in range(3):
        expected3[i, i, i] = 24 * x[i]
    np.testing.assert_allclose(T3, expected3, rtol=1e-15)
    # a mixed one: f = x0^2 x1^2, d^4 f / dx0^2 dx1^2 = 4
    T = sl.hessian(sl.hessian(lambda v: v[0] ** 2 * v[1] ** 2))(np.array([0.3, 0.7]))
    assert T[0, 0, 1, 1] == 4.0 and T[0, 1, 0, 1] == 4.0 and T[1, 1, 0, 0] == 4.0
    assert T[0, 0, 0, 0] == 0.0 and T[0, 0, 0, 1] == 0.0


def test_grad_of_jvp_and_jvp_of_grad():
    x = np.array([0.3, 1.2])
    v = np.array([1.0, -2.0])
    # d/dx <J(x) v, 1> for f = sin: sum(cos(x) v) -> -sin(x) v
    g = sl.grad(lambda u: snp.sum(sl.jvp(snp.sin, (u,), (v,))[1]))(x)
    np.testing.assert_allclose(g, -np.sin(x) * v, rtol=1e-15)
    # grad of a jvp with respect to the tangent is the vjp
    g = sl.grad(lambda t: snp.sum(sl.jvp(lambda u: u**3, (x,), (t,))[1]))(v)
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-15)
    # jvp of grad is the hvp
    _, hv = sl.jvp(sl.grad(lambda u: snp.sum(u**3)), (x,), (v,))
    np.testing.assert_allclose(hv, 6 * x * v, rtol=1e-15)


def test_jacfwd_of_jacrev_and_other_compositions():
    f = lambda u: snp.sum(snp.sin(u) * u[::-1])  # noqa: E731
    x = np.array([0.2, -0.5, 1.1])
    H_ref = fd_jacobian(sl.grad(f), x)
    for outer in (sl.jacfwd, sl.jacrev, sl.jacobian):
        for inner in (sl.jacfwd, sl.jacrev, sl.jacobian, sl.grad):
            H = outer(inner(f))(x)
            assert is_plain(H)
            np.testing.assert_allclose(H, H_ref, rtol=1e-6, atol=1e-8, err_msg=f"{outer.__name__}({inner.__name__})")
    # exact value: H_ij = -sin(x_i) x_rev_i delta_ij + cos(x_i) d(x_rev_i)/dx_j + cos(x_rev_i)...
    n = 3
    P = np.eye(n)[::-1]
    H_exact = np.diag(-np.sin(x) * x[::-1]) + np.diag(np.cos(x)) @ P + (np.diag(np.cos(x)) @ P).T
    np.testing.assert_allclose(sl.hessian(f)(x), H_exact, rtol=1e-14, atol=1e-15)


def test_perturbation_confusion():
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1, at any x, y
    for x0, y0 in [(3.0, 1.0), (-0.5, 7.0)]:
        assert float(sl.grad(lambda x: x * sl.grad(lambda y: x + y)(y0))(x0)) == 1.0
        assert float(sl.derivative(lambda x: x * sl.derivative(lambda y: x + y)(y0))(x0)) == 1.0
        assert float(sl.grad(lambda x: x * sl.derivative(lambda y: x + y)(y0))(x0)) == 1.0
        assert float(sl.derivative(lambda x: x * sl.grad(lambda y: x + y)(y0))(x0)) == 1.0


def test_perturbation_confusion_subtle():
    # d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x, for any y
    inners = [
        lambda x, y0: sl.grad(lambda y: x * y)(y0),
        lambda x, y0: sl.derivative(lambda y: x * y)(y0),
        lambda x, y0: sl.jvp(lambda y: x * y, (y0,), (1.0,))[1],
        lambda x, y0: sl.jacfwd(lambda y: x * y)(y0),
        lambda x, y0: sl.jacrev(lambda y: x * y)(y0),
        lambda x, y0: sl.vjp(lambda y: x * y, y0)[1](1.0)[0],
    ]
    outers = [
        lambda F, x0: sl.grad(F)(x0),
        lambda F, x0: sl.derivative(F)(x0),
        lambda F, x0: sl.jacfwd(F)(x0),
        lambda F, x0: sl.jacrev(F)(x0),
    ]
    for x0, y0 in [(3.0, 2.0), (-1.5, 0.25)]:
        for i, inner in enumerate(inners):
            for j, outer in enumerate(outers):
                got = outer(lambda x: x * inner(x, y0), x0)
                assert float(got) == 2 * x0, (i, j, float(got))
    # the inner point depending on x: d/dx [d/dy (x*y)]|_{y=x} = d/dx x = 1; and
    # d/dx [x * d/dy (x * y**2)|_{y=x}] = d/dx [2 x^3] = 6 x^2
    assert float(sl.grad(lambda x: sl.grad(lambda y: x * y)(x))(2.0)) == 1.0
    assert float(sl.grad(lambda x: x * sl.grad(lambda y: x * y**2)(x))(2.0)) == 24.0
    assert float(sl.derivative(lambda x: x * sl.grad(lambda y: x * y**2)(x))(2.0)) == 24.0


def test_more_nesting_combinations():
    x = np.array([1.0, 2.0])
    # grad of a vjp: d/du sum(3 u^2) = 6 u
    g = sl.grad(lambda u: snp.sum(sl.vjp(lambda v: v**3, u)[1](np.ones(2))[0]))(x)
    np.testing.assert_array_equal(g, 6 * x)
    # Jacobian of a vjp with respect to the cotangent is J^T
    J = sl.jacrev(lambda w: sl.vjp(lambda v: v**3, x)[1](w)[0])(np.ones(2))
    np.testing.assert_array_equal(J, np.diag(3 * x**2))
    # grad of an hvp: d/dx sum(12 x^2 * 1) = 24 x
    np.testing.assert_array_equal(sl.grad(lambda u: snp.sum(sl.hvp(lambda y: snp.sum(y**4), u, np.ones(2))))(x), 24 * x)
    # an inner has_aux inside an outer grad: d/dx [4x + 2x] = 6
    def outer(s):
        g, aux = sl.grad(lambda y: (s * y**2, s * y), has_aux=True)(2.0)
        return g + aux

    assert float(sl.grad(outer)(3.0)) == 6.0
    # derivative of a vmapped function, vmap of derivatives, vmap of grad closing over the batch
    assert float(sl.derivative(lambda s: snp.sum(sl.vmap(lambda r: r * s**2)(np.ones(3))))(2.0)) == 12.0
    np.testing.assert_allclose(sl.vmap(sl.derivative(snp.sin, order=3))(np.array([0.0, 1.0])), -np.cos([0.0, 1.0]), rtol=1e-15)
    s = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(sl.vmap(lambda c: sl.grad(lambda y: snp.sin(y * c))(c))(s), s * np.cos(s * s), rtol=1e-15)
    # a directional derivative inside grad
    g = sl.grad(lambda u: sl.directional_derivative(lambda y: snp.sum(y**3), u, np.ones(2)))(x)
    np.testing.assert_array_equal(g, 6 * x)


# -- pytrees ---------------------------------------------------------------------------------------------
PYTREES = [
    {"w": np.array([1.0, 2.0]), "b": np.array(0.5)},
    [np.array([1.0, -1.0]), np.array([[2.0, 3.0]])],
    (np.array(2.0), np.array([0.1, 0.2, 0.3])),
    {"layers": [{"w": np.array([[1.0, 0.5], [0.0, 2.0]]), "b": np.array([0.1, -0.1])}, {"w": np.array([[3.0], [1.0]]), "b": np.array([0.0])}], "scale": (np.array(1.5),)},
]


def _tree_loss(tree):
    return sum(snp.sum(snp.sin(leaf) * leaf) for leaf in all_leaves(tree))


@pytest.mark.parametrize("k", range(len(PYTREES)))
def test_grad_of_pytree_params(k):
    tree = PYTREES[k]
    g = sl.grad(_tree_loss)(tree)
    assert same_structure(g, tree)
    for gl, xl in zip(all_leaves(g), all_leaves(tree)):
        assert type(gl) is np.ndarray and not isinstance(gl, Tracer)
        assert gl.shape == np.shape(xl) and gl.dtype == np.float64
        np.testing.assert_allclose(gl, np.cos(xl) * xl + np.sin(xl), rtol=1e-15)
    v, g2 = sl.value_and_grad(_tree_loss)(tree)
    assert same_structure(g2, tree) and is_plain(v)
    # hessian of a pytree: the input structure nested in itself
    if k == 0:
        H = sl.hessian(lambda p: snp.sum(p["w"] ** 2) * p["b"])(tree)
        assert set(H) == {"w", "b"} and set(H["w"]) == {"w", "b"}
        np.testing.assert_array_equal(H["w"]["w"], 2 * tree["b"] * np.eye(2))
        np.testing.assert_array_equal(H["w"]["b"], 2 * tree["w"])
        np.testing.assert_array_equal(H["b"]["w"], 2 * tree["w"])
        assert float(H["b"]["b"]) == 0.0


def test_mlp_gradient_on_pytree_matches_finite_differences():
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((3, 4)), "b1": rng.standard_normal(4), "W2": rng.standard_normal((4, 1)), "b2": rng.standard_normal(1)}
    X = rng.standard_normal((5, 3))
    y = rng.standard_normal((5, 1))

    def loss(p):
        h = snp.tanh(X @ p["W1"] + p["b1"])
        return snp.mean((h @ p["W2"] + p["b2"] - y) ** 2)

    g = sl.grad(loss)(params)
    assert same_structure(g, params)
    for key in params:
        def partial(v, key=key):
            q = dict(params)
            q[key] = v
            return loss(q)

        np.testing.assert_allclose(g[key], fd_jacobian(partial, params[key]), rtol=1e-6, atol=1e-9)


# -- custom rules ----------------------------------------------------------------------------------------
@sl.custom_jvp
def softplus(x):
    return snp.logaddexp(0.0, x)


@softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return softplus(x), t / (1.0 + snp.exp(-x))


@sl.custom_jvp
def straight_through_floor(x):
    return snp.floor(x)


@straight_through_floor.defjvp
def _stf_jvp(primals, tangents):
    return straight_through_floor(primals[0]), tangents[0]


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_custom_jvp_value_and_derivatives():
    xs = np.array([-2.0, 0.0, 1.5])
    np.testing.assert_allclose(softplus(xs), np.log1p(np.exp(xs)), rtol=1e-15)
    s = _sigmoid(xs)
    for x0, s0 in zip(xs, s):
        np.testing.assert_allclose(sl.grad(softplus)(x0), s0, rtol=1e-15)
        np.testing.assert_allclose(sl.derivative(softplus)(x0), s0, rtol=1e-15)
        # second derivative, both by forward-over-forward and reverse-over-reverse
        np.testing.assert_allclose(sl.derivative(softplus, order=2)(x0), s0 * (1 - s0), rtol=1e-14)
        np.testing.assert_allclose(sl.grad(sl.grad(softplus))(x0), s0 * (1 - s0), rtol=1e-14)
        np.testing.assert_allclose(sl.hessian(softplus)(x0), s0 * (1 - s0), rtol=1e-14)
    np.testing.assert_allclose(sl.vmap(sl.grad(softplus))(xs), s, rtol=1e-15)
    np.testing.assert_allclose(sl.vmap(softplus)(xs), np.log1p(np.exp(xs)), rtol=1e-15)
    for jac in (sl.jacfwd, sl.jacrev, sl.jacobian):
        np.testing.assert_allclose(jac(softplus)(xs), np.diag(s), rtol=1e-15)
    np.testing.assert_allclose(sl.hessian(lambda v: snp.sum(softplus(v)))(xs), np.diag(s * (1 - s)), rtol=1e-14)
    check_derivatives(softplus, xs)


def test_custom_jvp_rule_is_the_one_used():
    # floor has derivative 0; the straight-through rule says 1
    x = np.array([0.3, 1.7, -2.2])
    np.testing.assert_array_equal(straight_through_floor(x), np.floor(x))
    np.testing.assert_array_equal(sl.grad(lambda v: snp.sum(straight_through_floor(v) * v))(x), np.floor(x) + x)
    for jac in (sl.jacfwd, sl.jacrev):
        np.testing.assert_array_equal(jac(straight_through_floor)(x), np.eye(3))
    np.testing.assert_array_equal(sl.vmap(sl.grad(straight_through_floor))(x), np.ones(3))
    assert float(sl.derivative(straight_through_floor, order=2)(0.3)) == 0.0


def test_custom_jvp_two_arguments():
    @sl.custom_jvp
    def f(x, y):
        return x * snp.sin(y)

    @f.defjvp
    def _(primals, tangents):
        (x, y), (tx, ty) = primals, tangents
        return f(x, y), tx * snp.sin(y) + x * snp.cos(y) * ty

    gx, gy = sl.grad(f, argnums=(0, 1))(2.0, 0.5)
    np.testing.assert_allclose([gx, gy], [np.sin(0.5), 2 * np.cos(0.5)], rtol=1e-15)
    H = sl.hessian(lambda v: f(v[0], v[1]))(np.array([2.0, 0.5]))
    np.testing.assert_allclose(H, [[0, np.cos(0.5)], [np.cos(0.5), -2 * np.sin(0.5)]], rtol=1e-14, atol=1e-15)
    check_derivatives(f, np.array([2.0, -1.0]), np.array([0.5, 0.3]))


@sl.custom_vjp
def stable_norm(x):
    return snp.sqrt(snp.sum(x**2))


def _norm_fwd(x):
    n = stable_norm(x)
    return n, (x, n)


def _norm_bwd(res, g):
    x, n = res
    return (g * x / n,)


stable_norm.defvjp(_norm_fwd, _norm_bwd)


@sl.custom_vjp
def clip_gradient(x):
    return x


clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (snp.clip(g, -1.0, 1.0),))


def test_custom_vjp_value_and_derivatives():
    x = np.array([3.0, -4.0, 12.0])
    n = 13.0
    np.testing.assert_allclose(stable_norm(x), n, rtol=1e-15)
    np.testing.assert_allclose(sl.grad(stable_norm)(x), x / n, rtol=1e-15)
    H_exact = (np.eye(3) - np.outer(x, x) / n**2) / n
    # second derivative: reverse over the custom reverse rule, and forward over it
    np.testing.assert_allclose(sl.jacrev(sl.grad(stable_norm))(x), H_exact, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(sl.hessian(stable_norm)(x), H_exact, rtol=1e-14, atol=1e-16)
    # jacfwd differentiates the function's own code (same derivative here)
    np.testing.assert_allclose(sl.jacfwd(stable_norm)(x), x / n, rtol=1e-15)
    # under vmap: per-row norms and per-row gradients
    X = np.array([[3.0, 4.0, 0.0], [1.0, 2.0, 2.0]])
    np.testing.assert_allclose(sl.vmap(stable_norm)(X), [5.0, 3.0], rtol=1e-15)
    np.testing.assert_allclose(sl.vmap(sl.grad(stable_norm))(X), X / np.array([[5.0], [3.0]]), rtol=1e-15)
    check_derivatives(stable_norm, x)


def test_custom_vjp_rule_is_the_one_used():
    assert float(sl.grad(lambda v: 5.0 * clip_gradient(v))(2.0)) == 1.0
    assert float(sl.grad(lambda v: -0.5 * clip_gradient(v))(2.0)) == -0.5
    np.testing.assert_array_equal(sl.vmap(sl.grad(lambda v: 3.0 * clip_gradient(v)))(np.array([1.0, 2.0])), [1.0, 1.0])
    np.testing.assert_array_equal(sl.jacrev(lambda v: 3.0 * clip_gradient(v))(np.array([1.0, 2.0])), np.eye(2))
    # forward mode differentiates the code: d/dx 3x = 3
    np.testing.assert_array_equal(sl.jacfwd(lambda v: 3.0 * clip_gradient(v))(np.array([1.0, 2.0])), 3.0 * np.eye(2))


# -- vmap --------------------------------------------------------------------------------------------------
def test_vmap_in_axes_and_out_axes():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 3))
    w = rng.standard_normal(3)
    f = lambda w, x: snp.tanh(snp.sum(w * x)) * x  # noqa: E731
    loop = np.stack([np.tanh(np.sum(w * x)) * x for x in X])
    np.testing.assert_allclose(sl.vmap(f, in_axes=(None, 0))(w, X), loop, rtol=1e-15)
    np.testing.assert_allclose(sl.vmap(f, in_axes=(None, 1))(w, X.T), loop, rtol=1e-15)
    np.testing.assert_allclose(sl.vmap(f, in_axes=(None, -1))(w, X.T), loop, rtol=1e-15)
    np.testing.assert_allclose(sl.vmap(f, in_axes=(None, 0), out_axes=1)(w, X), loop.T, rtol=1e-15)
    np.testing.assert_allclose(sl.vmap(f, in_axes=(None, 0), out_axes=-1)(w, X), loop.T, rtol=1e-15)
    # both mapped
    W = rng.standard_normal((4, 3))
    np.testing.assert_allclose(sl.vmap(f)(W, X), np.stack([np.tanh(np.sum(a * b)) * b for a, b in zip(W, X)]), rtol=1e-15)
    np.testing.assert_allclose(sl.vmap(f, in_axes=0)(W, X), sl.vmap(f, in_axes=(0, 0))(W, X))
    # a scalar output per example, and several outputs
    out = sl.vmap(lambda x: (snp.sum(x), x * 2))(X)
    assert isinstance(out, tuple) and is_plain(out[0]) and out[0].shape == (4,)
    np.testing.assert_allclose(out[0], X.sum(axis=1))
    np.testing.assert_allclose(out[1], 2 * X)
    # an output that does not depend on the mapped input is broadcast along the batch
    np.testing.assert_array_equal(sl.vmap(lambda x: np.ones(2))(X), np.ones((4, 2)))
    # nested vmap: an outer product
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])
    np.testing.assert_array_equal(sl.vmap(lambda s: sl.vmap(lambda t: s * t)(b))(a), np.outer(a, b))
    # a pytree argument, mapped leaf by leaf
    batch = {"x": X, "y": X[:, 0]}
    np.testing.assert_allclose(sl.vmap(lambda d: snp.sum(d["x"]) * d["y"])(batch), X.sum(axis=1) * X[:, 0])


def test_vmap_per_example_gradients_equal_a_loop():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((6, 3))
    y = rng.standard_normal(6)
    w = rng.standard_normal(3)

    def loss(w, x, t):
        return (snp.tanh(snp.sum(w * x)) - t) ** 2

    per_ex = sl.vmap(sl.grad(loss), in_axes=(None, 0, 0))(w, X, y)
    loop = np.stack([sl.grad(loss)(w, x, t) for x, t in zip(X, y)])
    assert is_plain(per_ex) and per_ex.shape == (6, 3)
    np.testing.assert_allclose(per_ex, loop, rtol=1e-14, atol=1e-15)
    # and against the closed form
    z = X @ w
    closed = (2 * (np.tanh(z) - y) * (1 - np.tanh(z) ** 2))[:, None] * X
    np.testing.assert_allclose(per_ex, closed, rtol=1e-13)
    # per-example Hessians and Jacobians
    per_H = sl.vmap(sl.hessian(loss), in_axes=(None, 0, 0))(w, X, y)
    np.testing.assert_allclose(per_H, np.stack([sl.hessian(loss)(w, x, t) for x, t in zip(X, y)]), rtol=1e-13, atol=1e-14)
    per_J = sl.vmap(sl.jacfwd(lambda x: snp.sin(x) * x[0]))(X)
    np.testing.assert_allclose(per_J, np.stack([fd_jacobian(lambda v: np.sin(v) * v[0], x) for x in X]), rtol=1e-6, atol=1e-9)
    # gradient of a vmapped loss
    g = sl.grad(lambda w: snp.mean(sl.vmap(loss, in_axes=(None, 0, 0))(w, X, y)))(w)
    np.testing.assert_allclose(g, loop.mean(axis=0), rtol=1e-13)


def test_vmap_of_matmul_matches_a_loop_for_every_operand_layout():
    """Every combination of batched / unbatched, 1-D / 2-D operands of ``@`` under vmap."""
    rng = np.random.default_rng(2)
    B, k = 3, 4
    operands = {
        "vec": rng.standard_normal(k),
        "mat": rng.standard_normal((k, k)),
    }
    for (na, a), (nb, b) in [(p, q) for p in operands.items() for q in operands.items()]:
        Ab = np.stack([a * (i + 1) for i in range(B)])
        Bb = np.stack([b - i for i in range(B)])
        cases = {
            "both": (sl.vmap(lambda u, v: u @ v)(Ab, Bb), [Ab[i] @ Bb[i] for i in range(B)]),
            "left": (sl.vmap(lambda u: u @ b)(Ab), [Ab[i] @ b for i in range(B)]),
            "right": (sl.vmap(lambda v: a @ v)(Bb), [a @ Bb[i] for i in range(B)]),
        }
        for which, (got, loop) in cases.items():
            np.testing.assert_allclose(got, np.stack(loop), rtol=1e-14, err_msg=f"{na} @ {nb}, {which} batched")


def test_hessian_of_quadratic_forms_written_with_matmul():
    A = np.array([[2.0, 1.0], [0.0, 3.0]])
    x = np.array([1.0, -2.0])
    np.testing.assert_allclose(sl.hessian(lambda v: v @ v)(x), 2 * np.eye(2))
    np.testing.assert_allclose(sl.hessian(lambda v: v @ (A @ v))(x), A + A.T)
    np.testing.assert_allclose(sl.jacfwd(lambda v: v @ A)(x), A.T)
    np.testing.assert_allclose(sl.jacfwd(lambda v: A @ v)(x), A)


# -- dtypes -------------------------------------------------------------------------------------------------
def test_float32_in_float32_out():
    x = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    f = lambda v: snp.sum(snp.sin(v) * v**2 + 2.0 * v)  # noqa: E731
    g = sl.grad(f)(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, np.cos(x) * x**2 + 2 * np.sin(x) * x + 2, rtol=1e-5)
    v, g = sl.value_and_grad(f)(x)
    assert v.dtype == np.float32 and g.dtype == np.float32
    for jac in (sl.jacfwd, sl.jacrev, sl.jacobian):
        assert jac(lambda v: snp.exp(v) * 3.0)(x).dtype == np.float32
    H = sl.hessian(f)(x)
    assert H.dtype == np.float32
    np.testing.assert_allclose(H, np.diag(-np.sin(x) * x**2 + 4 * np.cos(x) * x + 2 * np.sin(x)), rtol=1e-4, atol=1e-5)
    assert sl.hvp(f, x, np.ones(3, dtype=np.float32)).dtype == np.float32
    out, t = sl.jvp(snp.tanh, (x,), (np.ones(3, dtype=np.float32),))
    assert out.dtype == np.float32 and t.dtype == np.float32
    _, vjp_fn = sl.vjp(snp.tanh, x)
    assert vjp_fn(np.ones(3, dtype=np.float32))[0].dtype == np.float32
    assert sl.derivative(snp.sin, order=3)(np.float32(0.5)).dtype == np.float32
    assert sl.vmap(sl.grad(f))(np.ones((2, 3), dtype=np.float32)).dtype == np.float32


def test_gradient_has_its_input_dtype_even_when_the_function_promotes():
    """A float32 parameter gets a float32 gradient, also when the function mixes in float64
    constants (data, labels) and so computes in float64: the cotangent of an input has the
    input's dtype, as an optimizer updating float32 parameters needs."""
    x = np.array([0.5, -1.0], dtype=np.float32)
    data = np.array([2.0, 3.0])  # float64
    g = sl.grad(lambda v: snp.sum(v * data))(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, data, rtol=1e-6)
    assert sl.value_and_grad(lambda v: snp.sum(v * data))(x)[1].dtype == np.float32
    _, vjp_fn = sl.vjp(lambda v: v * data, x)
    assert vjp_fn(np.ones(2))[0].dtype == np.float32
    # a pytree with mixed precisions: each leaf's gradient has that leaf's dtype
    g = sl.grad(lambda p: snp.sum(p["a"]) * snp.sum(p["b"]))({"a": x, "b": np.ones(2)})
    assert g["a"].dtype == np.float32 and g["b"].dtype == np.float64


def test_float64_is_the_default():
    assert sl.grad(lambda v: v**2)(1.5).dtype == np.float64
    assert sl.jacobian(lambda v: v**2)(np.array([1.0, 2.0])).dtype == np.float64
    assert sl.hessian(lambda v: v**3)(2.0).dtype == np.float64
    assert sl.derivative(snp.exp)(0.0).dtype == np.float64
    assert sl.grad(lambda a, b: a * b, argnums=(0, 1))(1.0, 2.0)[1].dtype == np.float64


def test_float16_works_for_simple_functions():
    x = np.array([0.5, 1.5], dtype=np.float16)
    g = sl.grad(lambda v: snp.sum(v**2))(x)
    assert g.dtype == np.float16
    np.testing.assert_allclose(g.astype(float), [1.0, 3.0], rtol=1e-3)


@pytest.mark.parametrize("bad", [1, np.array([1, 2]), True, np.array([True, False]), np.int32(3)])
@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "jacfwd", "jacrev", "jacobian", "hessian", "derivative"])
def test_integer_and_bool_inputs_raise_helpful_typeerror(transform, bad):
    fn = getattr(sl, transform)
    f = (lambda v: v * 2.0) if transform in ("jacfwd", "jacrev", "jacobian", "derivative") else (lambda v: snp.sum(v * 2.0))
    with pytest.raises(TypeError) as info:
        fn(f)(bad)
    msg = str(info.value)
    assert "float" in msg and str(np.asarray(bad).dtype) in msg
    assert "1.0" in msg or "dtype=float" in msg  # it says how to fix it


def test_integer_inputs_to_jvp_and_vjp_raise():
    with pytest.raises(TypeError, match="float"):
        sl.jvp(lambda v: v * 2.0, (np.array([1, 2]),), (np.array([1, 1]),))
    with pytest.raises(TypeError, match="float"):
        sl.vjp(lambda v: v * 2.0, np.array([1, 2]))


# -- top-level outputs are plain arrays ------------------------------------------------------------------
def test_transform_outputs_are_plain_ndarrays():
    x = np.array([0.5, 1.5])
    f = lambda v: snp.sum(v**3)  # noqa: E731
    F = lambda v: snp.sin(v) * v[0]  # noqa: E731
    v, g = sl.value_and_grad(f)(x)
    out, t = sl.jvp(F, (x,), (x,))
    y, vjp_fn = sl.vjp(F, x)
    results = [
        sl.grad(f)(x),
        v,
        g,
        out,
        t,
        y,
        vjp_fn(np.ones(2))[0],
        sl.jacfwd(F)(x),
        sl.jacrev(F)(x),
        sl.jacobian(F)(x),
        sl.hessian(f)(x),
        sl.hvp(f, x, x),
        sl.derivative(snp.sin, order=2)(0.3),
        sl.derivative(snp.sin, order=0)(0.3),
        sl.directional_derivative(f, x, x),
        sl.vmap(F)(np.ones((3, 2))),
        sl.grad(lambda s: s * 2.0)(1.0),
        sl.grad(lambda s: 3.0)(1.0),  # constant function: zero gradient
        sl.jacobian(lambda s: np.ones(2))(x),
    ]
    for r in results:
        assert type(r) is np.ndarray, type(r)
    np.testing.assert_array_equal(sl.grad(lambda s: 3.0)(1.0), 0.0)
    np.testing.assert_array_equal(sl.jacobian(lambda s: np.ones(2))(x), np.zeros((2, 2)))
    # inside an outer transform the inner results are traced (that is what nesting needs)
    seen = []
    sl.grad(lambda s: (seen.append(sl.grad(lambda u: u**3)(s)), seen[-1])[1])(2.0)
    assert isinstance(seen[0], Tracer)
