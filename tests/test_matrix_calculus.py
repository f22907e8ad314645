"""Matrix calculus: the identity table and the two views (full tensor / flattened vec matrix).

Every identity is checked three ways: automatic differentiation (sl.grad /
sl.jacobian), the closed form, and central finite differences computed here
with plain NumPy. Each function is written once against an array module
``xp`` and evaluated with ``xp=snp`` (AD) and ``xp=np`` (finite differences).
"""

import functools

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
from slopes.calculus import (
    commutation_matrix,
    flatten_jacobian,
    unflatten_jacobian,
    unvec,
    vec,
    vec_jacobian,
)

RNG = np.random.default_rng(42)
N = 3
A = RNG.normal(size=(N, N))
X0 = RNG.normal(size=(N, N)) + 3.0 * np.eye(N)  # well conditioned
a = RNG.normal(size=N)
b = RNG.normal(size=N)
I = np.eye(N)  # noqa: E741


def fd_jacobian(f, X, h=1e-6):
    """Central differences, plain NumPy: shape f(X).shape + X.shape."""
    X = np.asarray(X, dtype=float)
    out_shape = np.shape(f(X))
    J = np.zeros(out_shape + X.shape)
    for idx in np.ndindex(X.shape):
        E = np.zeros_like(X)
        E[idx] = h
        J[(Ellipsis,) + idx] = (np.asarray(f(X + E)) - np.asarray(f(X - E))) / (2 * h)
    return J


def both(f):
    """(AD version, NumPy version) of a function written against ``xp``."""
    return functools.partial(f, xp=snp), functools.partial(f, xp=np)


def check(f, closed, X, *, tensor=False, rtol=1e-9, fd_tol=1e-6):
    f_ad, f_np = both(f)
    ad = sl.jacobian(f_ad)(X) if tensor else sl.grad(f_ad)(X)
    np.testing.assert_allclose(ad, closed, rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(fd_jacobian(f_np, X), closed, rtol=fd_tol, atol=fd_tol)
    return ad


# f(X) = A X X and its Jacobian tensor df_ij/dX_kl = A_ik X_lj + (AX)_ik delta_jl
def f_inner(X, xp):
    return A @ X @ X


def df_inner(X):
    return np.einsum("ik,lj->ijkl", A, X) + np.einsum("ik,jl->ijkl", A @ X, I)


# ---------------------------------------------------------------- the identity table


def test_inner_function_tensor():
    check(f_inner, df_inner(X0), X0, tensor=True)


def test_d_transpose():
    """d/dX f(X)^T = (df/dX)^T: the output axes of the tensor swap."""
    ad = check(lambda X, xp: xp.transpose(f_inner(X, xp)), np.swapaxes(df_inner(X0), 0, 1), X0, tensor=True)
    assert ad.shape == (N, N, N, N)


def test_d_trace():
    """d/dX tr f(X) = tr(df/dX): the trace over the output axes."""
    check(lambda X, xp: xp.trace(f_inner(X, xp)), np.einsum("iikl->kl", df_inner(X0)), X0)


def test_d_det():
    """d/dX det f(X) = det f(X) tr(f(X)^-1 df/dX)."""
    F = A @ X0 @ X0
    closed = np.linalg.det(F) * np.einsum("ij,jikl->kl", np.linalg.inv(F), df_inner(X0))
    check(lambda X, xp: xp.linalg.det(f_inner(X, xp)), closed, X0, rtol=1e-8, fd_tol=1e-5)


def test_d_inverse_full_tensor():
    """d/dX f(X)^-1 = -f^-1 (df/dX) f^-1, as the full (N, N, N, N) tensor."""
    Finv = np.linalg.inv(A @ X0 @ X0)
    closed = -np.einsum("ia,abkl,bj->ijkl", Finv, df_inner(X0), Finv)
    ad = check(lambda X, xp: xp.linalg.inv(f_inner(X, xp)), closed, X0, tensor=True, rtol=1e-8, fd_tol=1e-5)
    assert ad.shape == (N, N, N, N)


def test_d_a_Xinv_b():
    """d/dX a^T X^-1 b = -(X^-1)^T a b^T (X^-1)^T."""
    Xi = np.linalg.inv(X0)
    check(lambda X, xp: a @ xp.linalg.inv(X) @ b, -Xi.T @ np.outer(a, b) @ Xi.T, X0)


def test_d_a_x():
    """d/dx a^T x = a (the row a^T in numerator layout)."""
    x = RNG.normal(size=N)
    check(lambda x, xp: a @ x, a, x)


def test_d_a_X_b():
    """d/dX a^T X b = a b^T."""
    check(lambda X, xp: a @ X @ b, np.outer(a, b), X0)


def test_d_x_B_x():
    """d/dx x^T B x = x^T (B + B^T)."""
    x, B = RNG.normal(size=N), RNG.normal(size=(N, N))
    check(lambda x, xp: x @ B @ x, x @ (B + B.T), x)


def _wls_data():
    n, d = 6, 3
    rng = np.random.default_rng(7)
    Xd = rng.normal(size=(n, d))
    y = rng.normal(size=n)
    w = rng.normal(size=d)
    L = rng.normal(size=(n, n))
    W = L @ L.T + np.eye(n)  # symmetric positive definite weights
    return Xd, y, w, W


def test_weighted_least_squares_wrt_w():
    """d/dw (y - Xw)^T W (y - Xw) = -2 X^T W (y - Xw) for symmetric W."""
    Xd, y, w, W = _wls_data()
    closed = -2 * Xd.T @ W @ (y - Xd @ w)
    check(lambda w, xp: (y - Xd @ w) @ W @ (y - Xd @ w), closed, w)


def test_weighted_least_squares_wrt_X():
    """d/dX (y - Xw)^T W (y - Xw) = -2 W (y - Xw) w^T for symmetric W."""
    Xd, y, w, W = _wls_data()
    closed = -2 * np.outer(W @ (y - Xd @ w), w)
    check(lambda X, xp: (y - X @ w) @ W @ (y - X @ w), closed, Xd)


def test_seed_example_K_equals_RtR():
    """K = R^T R: dK_pq/dR_ij from the worked example, tensor shape (N x N) x (M x N)."""
    R = RNG.normal(size=(4, 2))
    closed = np.einsum("jp,iq->pqij", np.eye(2), R) + np.einsum("jq,ip->pqij", np.eye(2), R)
    check(lambda R, xp: R.T @ R, closed, R, tensor=True)
    assert vec_jacobian(lambda R: R.T @ R)(R).shape == (4, 8)


# ---------------------------------------------------------------- the vec identities


@pytest.mark.parametrize("shapes", [(2, 3, 4, 5), (3, 3, 3, 3), (1, 2, 2, 1)])
def test_vec_AXB(shapes):
    m, n, p, q = shapes
    rng = np.random.default_rng(1)
    Am, Xm, Bm = rng.normal(size=(m, n)), rng.normal(size=(n, p)), rng.normal(size=(p, q))
    J = sl.jacobian(lambda X: Am @ X @ Bm)(Xm)
    assert J.shape == (m, q, n, p)
    MF = flatten_jacobian(J, (m, q), (n, p), order="F")
    MC = flatten_jacobian(J, (m, q), (n, p), order="C")
    assert MF.shape == MC.shape == (m * q, n * p)
    np.testing.assert_allclose(MF, np.kron(Bm.T, Am), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(MC, np.kron(Am, Bm.T), rtol=1e-13, atol=1e-13)
    # vec_jacobian is the same, and finite differences agree with the tensor
    np.testing.assert_allclose(vec_jacobian(lambda X: Am @ X @ Bm, order="F")(Xm), MF, atol=1e-13)
    np.testing.assert_allclose(fd_jacobian(lambda X: Am @ X @ Bm, Xm), J, atol=1e-7)
    # the identity is the linear map it claims to be
    np.testing.assert_allclose(MF @ vec(Xm, "F"), vec(Am @ Xm @ Bm, "F"), atol=1e-12)
    np.testing.assert_allclose(MC @ vec(Xm, "C"), vec(Am @ Xm @ Bm, "C"), atol=1e-12)
    # C and F views differ by commutation matrices
    np.testing.assert_allclose(MC, commutation_matrix(m, q) @ MF @ commutation_matrix(n, p).T, atol=1e-13)
    # round trips
    for order, M in (("F", MF), ("C", MC)):
        np.testing.assert_array_equal(unflatten_jacobian(M, (m, q), (n, p), order=order), J)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize(
    "out_shape,in_shape",
    [((), (3,)), ((2,), ()), ((2, 3), (4,)), ((4,), (2, 3)), ((2, 3, 2), (3, 2)), ((), ())],
)
def test_flatten_unflatten_round_trip(order, out_shape, in_shape):
    J = np.arange(float(np.prod(out_shape + in_shape, dtype=int))).reshape(out_shape + in_shape)
    M = flatten_jacobian(J, out_shape, in_shape, order=order)
    assert M.shape == (int(np.prod(out_shape, dtype=int)), int(np.prod(in_shape, dtype=int)))
    np.testing.assert_array_equal(unflatten_jacobian(M, out_shape, in_shape, order=order), J)
    # entries: M[vec index of out, vec index of in] = J[out, in], with NumPy's ravel_multi_index
    for oi in np.ndindex(out_shape):
        for ii in np.ndindex(in_shape):
            r = np.ravel_multi_index(oi, out_shape, order=order) if out_shape else 0
            c = np.ravel_multi_index(ii, in_shape, order=order) if in_shape else 0
            assert M[r, c] == J[oi + ii]


def test_vec_and_unvec():
    X = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(vec(X, "C"), X.ravel(order="C"))
    np.testing.assert_array_equal(vec(X, "F"), X.ravel(order="F"))
    np.testing.assert_array_equal(vec(X, "F"), vec(X.T, "C"))
    for order in "CF":
        np.testing.assert_array_equal(unvec(vec(X, order), (3, 4), order), X)
    K = commutation_matrix(3, 4)
    np.testing.assert_array_equal(K @ vec(X, "F"), vec(X.T, "F"))
    np.testing.assert_array_equal(K @ vec(X, "F"), vec(X, "C"))


def test_vec_inside_a_differentiated_function():
    """vec works on traced arrays: d vec_F(X^2 elementwise)/d vec_F(X) is diagonal."""
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    J = sl.jacobian(lambda X: vec(X**2, "F"))(X)
    M = flatten_jacobian(J, (4,), (2, 2), order="F")
    np.testing.assert_allclose(M, np.diag(2 * vec(X, "F")))


def test_errors():
    J = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match="order"):
        flatten_jacobian(J, (2, 3), (4,), order="K")
    with pytest.raises(ValueError, match="expected"):
        flatten_jacobian(J, (2,), (4,))
    with pytest.raises(ValueError, match="expected"):
        unflatten_jacobian(np.zeros((6, 5)), (2, 3), (4,))
    with pytest.raises(ValueError, match="cannot fold"):
        unvec(np.zeros(5), (2, 3))
