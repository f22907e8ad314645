"""snp.linalg.eig/eigvals: values equal NumPy's, derivatives against finite differences and JAX."""

from __future__ import annotations

import numpy as np
import pytest
from checks import check_derivatives
from peers import jax_grad, jax_numpy

import slopes as sl
import slopes.numpy as snp


def _matrix(seed, complex_entries, n=4):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    return a + 1j * rng.standard_normal((n, n)) if complex_entries else a


def _phase_free(w, v):
    """Phase-free functions of the decomposition, as real outputs."""
    return snp.concatenate([snp.real(w), snp.imag(w), snp.ravel(snp.abs(v) ** 2)])


@pytest.mark.parametrize("complex_entries", [False, True])
def test_values_equal_numpy(complex_entries):
    a = _matrix(0, complex_entries)
    w, v = snp.linalg.eig(a)
    w_np, v_np = np.linalg.eig(a)
    np.testing.assert_allclose(w, w_np, rtol=1e-12)
    np.testing.assert_allclose(np.abs(v), np.abs(v_np), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a @ v, v * w, atol=1e-12)  # A V = V diag(w)
    np.testing.assert_allclose(snp.linalg.eigvals(a), np.linalg.eigvals(a), rtol=1e-12)
    assert w.dtype.kind == "c" and v.dtype.kind == "c"


def test_derivatives_of_a_real_matrix_match_finite_differences():
    check_derivatives(lambda a: _phase_free(*snp.linalg.eig(a)), _matrix(1, False), rtol=1e-5, atol=1e-6)


def test_derivatives_of_a_complex_matrix_match_finite_differences():
    a = _matrix(2, True)
    check_derivatives(lambda ar, ai: _phase_free(*snp.linalg.eig(ar + 1j * ai)), a.real, a.imag, rtol=1e-5, atol=1e-6)


def test_gradients_match_jax():  # a complex matrix (the real case: finite differences, closed form)
    jax, jnp = jax_numpy()

    def eig(m):  # JAX differentiates eigenvectors only when asked to
        if m is snp:
            return snp.linalg.eig
        return lambda a: jax.lax.linalg.eig(a, compute_left_eigenvectors=False, enable_eigvec_derivs=True)

    def make(m):
        return lambda a: m.sum(m.abs(eig(m)(a)[1]) ** 3 * m.arange(4.0)) + m.sum(m.real(eig(m)(a)[0] ** 2))

    a = _matrix(3, True)
    ours = sl.grad(make(snp))(a)
    assert ours.dtype == a.dtype
    np.testing.assert_allclose(ours, jax_grad(make, a), rtol=1e-9, atol=1e-10)


def test_eigenvalue_gradient_closed_form():
    # for real A the gradient of Re(w_i) is Re(u_i v_i^T) (first-order perturbation theory),
    # u_i, v_i the left/right eigenvectors normalized by u_i^T v_i = 1
    a = np.array([[2.0, 1.0, 0.0], [0.5, -1.0, 0.3], [0.0, 0.2, 0.5]])
    w, vr = np.linalg.eig(a)
    left = np.linalg.inv(vr).T  # columns: left eigenvectors with left^T vr = I
    i = int(np.argmax(w.real))
    g = sl.grad(lambda a: snp.real(snp.linalg.eigvals(a)[i]))(a)
    np.testing.assert_allclose(g, np.real(np.outer(left[:, i], vr[:, i])), rtol=1e-10, atol=1e-12)


def test_vmap_jit_and_taylor_through_eig():
    f = lambda a: snp.sum(snp.abs(snp.linalg.eigvals(a)) ** 2)  # noqa: E731
    stack = np.stack([_matrix(s, False, 3) for s in range(3)])
    np.testing.assert_allclose(sl.vmap(f)(stack), [f(a) for a in stack], rtol=1e-12)
    grads = sl.vmap(sl.grad(f))(stack)
    jitted = sl.jit(sl.grad(f))
    for a, g in zip(stack, grads):
        np.testing.assert_allclose(sl.grad(f)(a), g, rtol=1e-10)
        np.testing.assert_allclose(jitted(a), g, rtol=1e-10)
    # along A(t) = A + t I every eigenvalue moves by t: sum(w(t)) = trace(A) + n t exactly
    a = stack[0]
    line = lambda t: snp.real(snp.sum(snp.linalg.eigvals(a + t * np.eye(3))))  # noqa: E731
    np.testing.assert_allclose(sl.derivative(line, order=1)(0.0), 3.0, rtol=1e-10)
    np.testing.assert_allclose(sl.derivative(line, order=2)(0.0), 0.0, atol=1e-9)


def test_non_square_input_is_refused_clearly():
    with pytest.raises(ValueError, match="square matrix"):
        snp.linalg.eig(np.ones((2, 3)))
