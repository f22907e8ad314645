"""Complex numbers: values, derivatives through complex intermediates, the grad convention.

Derivatives are checked on the real view of each function (real and imaginary
parts in, real and imaginary parts out) against finite differences, and the
gradient convention for complex inputs against JAX and autograd.
"""

from __future__ import annotations

import numpy as np
import pytest
from checks import check_derivatives
from peers import autograd_grad, jax_grad

import slopes as sl
import slopes.numpy as snp


def realified(f):
    """``f`` of complex arrays as a function of real and imaginary parts, to real outputs."""

    def g(xr, xi):
        out = f(xr + 1j * xi)
        return snp.stack([snp.real(out), snp.imag(out)])

    return g


def cpoint(rng, shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


COMPLEX_FUNCTIONS = {
    "mul": lambda z: z * (z + 1.5j),
    "div": lambda z: (z + 2.0) / (z * z + 3.0 + 1j),
    "exp": snp.exp,
    "log": lambda z: snp.log(z + 3.0),
    "sin_cos": lambda z: snp.sin(z) * snp.cos(z),
    "tanh": snp.tanh,
    "sqrt": lambda z: snp.sqrt(z + 3.0),
    "power": lambda z: (z + 3.0) ** 2.5,
    "square_reciprocal": lambda z: snp.square(z) + snp.reciprocal(z + 3.0),
    "conj": lambda z: snp.conj(z) * z,
    "real_imag": lambda z: snp.real(z) * snp.imag(z) + 1j * snp.real(z),
    "abs": lambda z: snp.abs(z) * z,
    "angle": lambda z: snp.angle(z + 0.1) * z,
    "sum_matmul": lambda z: snp.sum(snp.reshape(z, (2, 3)) @ snp.reshape(z, (3, 2)), axis=0),
    "methods": lambda z: z.conj() * z.real + z.imag,
}


@pytest.mark.parametrize("name", sorted(COMPLEX_FUNCTIONS))
def test_complex_function_values_and_derivatives(name):
    f = COMPLEX_FUNCTIONS[name]
    rng = np.random.default_rng(1)
    z = cpoint(rng, 6)
    # the value on plain arrays equals NumPy's own
    np_f = {"sum_matmul": lambda z: (z.reshape(2, 3) @ z.reshape(3, 2)).sum(0)}.get(name)
    if np_f is not None:
        np.testing.assert_allclose(f(z), np_f(z), rtol=1e-12)
    check_derivatives(realified(f), z.real, z.imag, rtol=1e-5, atol=1e-6)


def test_parts_match_numpy():
    z = np.array([3.0 + 4.0j, -1.0 - 2.0j, 0.0])
    np.testing.assert_array_equal(snp.real(z), np.real(z))
    np.testing.assert_array_equal(snp.imag(z), np.imag(z))
    np.testing.assert_array_equal(snp.conj(z), np.conj(z))
    np.testing.assert_array_equal(snp.angle(z), np.angle(z))
    np.testing.assert_allclose(snp.angle(z, deg=True), np.angle(z, deg=True))
    np.testing.assert_array_equal(snp.abs(z), np.abs(z))


def _real_valued_cases():
    return {
        "abs_squared": (lambda s: lambda z: s.sum(s.abs(z) ** 2)),
        "abs": (lambda s: lambda z: s.sum(s.abs(z))),
        "real_of_square": (lambda s: lambda z: s.sum(s.real(z * z))),
        "imag_of_exp": (lambda s: lambda z: s.sum(s.imag(s.exp(z)))),
        "angle": (lambda s: lambda z: s.sum(s.angle(z))),
        "log_abs_of_poly": (lambda s: lambda z: s.sum(s.log(s.abs(z**3 - 2.0 * z + 1j)))),
        "conj_product": (lambda s: lambda z: s.sum(s.real(s.conj(z) * z * (1.0 + 2j)))),
    }


# the convention is JAX's: checked on a few cases there (each costs a compilation), on all in autograd
@pytest.mark.parametrize("name", ["abs_squared", "real_of_square", "angle", "log_abs_of_poly"])
def test_grad_of_real_valued_function_matches_jax(name):
    make = _real_valued_cases()[name]
    z = cpoint(np.random.default_rng(2), 5)
    ours = sl.grad(make(snp))(z)
    assert ours.dtype == np.complex128
    np.testing.assert_allclose(ours, jax_grad(make, z), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(_real_valued_cases()))
def test_grad_of_real_valued_function_matches_autograd(name):
    make = _real_valued_cases()[name]
    z = cpoint(np.random.default_rng(3), 5)
    np.testing.assert_allclose(sl.grad(make(snp))(z), autograd_grad(make, z), rtol=1e-10, atol=1e-12)


def test_grad_convention_is_conjugate_of_df_dx_plus_i_df_dy():
    # |z|^2 = x^2 + y^2: df/dx - i df/dy = 2x - 2iy = 2 conj(z) (closed form)
    z = np.array([1.0 + 2.0j, -0.5 + 0.25j])
    np.testing.assert_allclose(sl.grad(lambda z: snp.sum(snp.abs(z) ** 2))(z), 2 * np.conj(z))


def test_holomorphic_grad_is_the_complex_derivative():
    z = 0.3 - 0.7j
    f = lambda z: snp.exp(z) * z**3 / (z + 2.0)  # noqa: E731
    closed = np.exp(z) * z**3 / (z + 2) * (1 + 3 / z - 1 / (z + 2))
    np.testing.assert_allclose(sl.grad(f, holomorphic=True)(z), closed, rtol=1e-12)
    # second complex derivative through nesting: (z^4)'' = 12 z^2
    d2 = sl.grad(sl.grad(lambda z: z**4, holomorphic=True), holomorphic=True)(z)
    np.testing.assert_allclose(d2, 12 * z**2, rtol=1e-12)


def test_holomorphic_grad_matches_jax():
    make = lambda m: lambda z: m.sin(z) * m.log(z)  # noqa: E731
    z = 0.4 + 1.1j
    ours = sl.grad(make(snp), holomorphic=True)(z)
    np.testing.assert_allclose(ours, jax_grad(make, z, holomorphic=True), rtol=1e-12)


def test_complex_output_without_holomorphic_says_what_to_do():
    with pytest.raises(TypeError, match="holomorphic=True"):
        sl.grad(lambda z: z * z)(1.0 + 1.0j)
    with pytest.raises(TypeError, match="complex inputs"):
        sl.grad(lambda z: z * z, holomorphic=True)(1.0)
    with pytest.raises(TypeError, match="not a complex one"):
        sl.grad(lambda z: snp.abs(z), holomorphic=True)(1.0j)


def test_real_input_through_complex_intermediates_gets_a_real_gradient():
    # f(x) = Re(exp(i x)) + |exp(i x) x|^2 = cos x + x^2
    f = lambda x: snp.sum(snp.real(snp.exp(1j * x)) + snp.abs(snp.exp(1j * x) * x) ** 2)  # noqa: E731
    x = np.array([0.3, -1.2], dtype=np.float32)
    g = sl.grad(f)(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, -np.sin(x) + 2 * x, rtol=1e-5)
    np.testing.assert_allclose(sl.hessian(f)(x.astype(float)), np.diag(-np.cos(x) + 2), rtol=1e-6, atol=1e-12)


def test_abs_and_angle_at_zero_have_zero_gradient():
    assert sl.grad(snp.abs)(0j) == 0
    assert sl.grad(snp.angle)(0j) == 0
    _, t = sl.jvp(snp.abs, (0j,), (1.0 + 1.0j,))
    assert t == 0


def test_complex64_keeps_its_dtype():
    z = np.array([1.0 + 1.0j, 2.0 - 1.0j], dtype=np.complex64)
    g = sl.grad(lambda z: snp.sum(snp.abs(z * z)))(z)
    assert g.dtype == np.complex64
    np.testing.assert_allclose(g, 2 * np.abs(z) * np.conj(z) / np.abs(z) * 1.0, rtol=1e-5)


def test_vmap_jit_and_taylor_through_complex_parts():
    f = lambda z: snp.abs(z) ** 2 + snp.real(snp.conj(z) * 1j) + snp.angle(z)  # noqa: E731
    zs = cpoint(np.random.default_rng(4), 4) + 2.0
    np.testing.assert_allclose(sl.vmap(f)(zs), np.abs(zs) ** 2 + np.real(np.conj(zs) * 1j) + np.angle(zs))
    grads = sl.vmap(sl.grad(f))(zs)
    jitted = sl.jit(sl.grad(f))
    for z, g in zip(zs, grads):
        np.testing.assert_allclose(jitted(z), g, rtol=1e-12)
        np.testing.assert_allclose(sl.grad(f)(z), g, rtol=1e-12)
    # Taylor mode on the real line through complex intermediates: g(t) = |exp(i t) (1 + t)|^2
    # = (1 + t)^2, whose derivatives at 0 are 2, 2, 0, 0
    g = lambda t: snp.abs(snp.exp(1j * t) * (1.0 + t)) ** 2 + snp.imag(snp.conj(snp.exp(1j * t)))  # noqa: E731
    # plus -sin(t): derivatives -1, 0, 1, 0
    for order, expected in zip(range(1, 5), [1.0, 2.0, 1.0, 0.0]):
        np.testing.assert_allclose(sl.derivative(g, order=order)(0.0), expected, atol=1e-12)


def _hermitian(m, a):
    return a @ m.conj(m.swapaxes(a, -1, -2)) + 0.5 * m.eye(a.shape[-1])


# complex matrices through linear algebra: name -> (function of a module m and a matrix, NumPy value)
LINALG = {
    "inv": lambda m, a: m.linalg.inv(a),
    "solve": lambda m, a: m.linalg.solve(a, m.arange(3.0) + 1j),
    "det": lambda m, a: m.linalg.det(a),
    "slogdet": lambda m, a: m.linalg.slogdet(a)[1],
    "vdot": lambda m, a: m.vdot(a, a * a),
    "einsum_trace": lambda m, a: m.einsum("ij,jk->ik", a, a) + m.trace(a),
    "cholesky": lambda m, a: m.linalg.cholesky(_hermitian(m, a)),
    "eigvalsh": lambda m, a: m.linalg.eigvalsh(_hermitian(m, a)),
    "eigh_vectors": lambda m, a: m.abs(m.linalg.eigh(_hermitian(m, a))[1]) ** 2,
}


def _complex_matrix(seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3)) + 2.0 * np.eye(3)


@pytest.mark.parametrize("name", sorted(LINALG))
def test_complex_linear_algebra_values_and_derivatives(name):
    f = LINALG[name]
    a = _complex_matrix(5)
    value = f(snp, a)
    if name == "eigh_vectors":  # eigenvectors are defined up to a phase: compare |V|
        np.testing.assert_allclose(value, f(np, a), rtol=1e-10)
    else:
        np.testing.assert_allclose(value, f(np, a), rtol=1e-10, atol=1e-12)
    check_derivatives(realified(lambda z: f(snp, z)), a.real, a.imag, rtol=1e-5, atol=1e-6)


# autograd where it differentiates the case for complex input, else JAX (slower: it compiles)
_LINALG_PEER = {"cholesky": jax_grad, "vdot": jax_grad, "eigvalsh": jax_grad}


@pytest.mark.parametrize("name", sorted(LINALG))
def test_complex_linear_algebra_gradients_match_a_peer(name):
    f = LINALG[name]
    make = lambda m: lambda z: m.sum(m.abs(f(m, z)) ** 2)  # noqa: E731
    a = _complex_matrix(6)
    peer = _LINALG_PEER.get(name, autograd_grad)
    np.testing.assert_allclose(sl.grad(make(snp))(a), peer(make, a), rtol=1e-8, atol=1e-10)


def test_jacobians_of_complex_inputs_need_holomorphic_as_in_jax():
    z = np.array([1.0 + 1.0j, 2.0 - 1.0j])
    square = lambda z: z**2  # noqa: E731
    for jac in (sl.jacfwd, sl.jacrev, sl.jacobian):
        np.testing.assert_allclose(jac(square, holomorphic=True)(z), np.diag(2 * z))
        with pytest.raises(TypeError, match="holomorphic=True"):
            jac(square)(z)
    # second complex derivative of sum(z**3): diag(6 z)
    np.testing.assert_allclose(sl.hessian(lambda z: snp.sum(z**3), holomorphic=True)(z), np.diag(6 * z))
    with pytest.raises(TypeError, match="holomorphic=True"):
        sl.hessian(lambda z: snp.sum(snp.abs(z) ** 2))(z)
    # a real input with complex outputs: forward mode is well defined, reverse mode asks
    x = np.array([0.3, -0.4])
    expected = np.diag(1j * np.exp(1j * x))
    np.testing.assert_allclose(sl.jacfwd(lambda x: snp.exp(1j * x))(x), expected)
    with pytest.raises(TypeError, match="returns complex values"):
        sl.jacrev(lambda x: snp.exp(1j * x))(x)


@pytest.mark.parametrize("name", ["var", "std"])
def test_variance_of_complex_samples_is_real_as_in_numpy(name):
    z = cpoint(np.random.default_rng(8), (3, 4))
    ours, theirs = getattr(snp, name), getattr(np, name)
    np.testing.assert_allclose(ours(z, axis=1, ddof=1), theirs(z, axis=1, ddof=1), rtol=1e-12)
    make = lambda m: lambda z: m.sum(getattr(m, name)(z, axis=0))  # noqa: E731
    np.testing.assert_allclose(sl.grad(make(snp))(z), autograd_grad(make, z), rtol=1e-10)
    check_derivatives(realified(lambda z: ours(z, axis=0)), z.real, z.imag, rtol=1e-5, atol=1e-6)


def test_norms_of_complex_arrays_are_numpys():
    rng = np.random.default_rng(3)
    z = rng.normal(size=4) + 1j * rng.normal(size=4)
    A = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))
    for o in (None, 1, 2, np.inf, -np.inf, 3, 0):
        np.testing.assert_allclose(snp.linalg.norm(z, ord=o), np.linalg.norm(z, ord=o), rtol=1e-13)
    for o in (None, "fro", 1, -1, np.inf, 2, -2, "nuc"):
        np.testing.assert_allclose(snp.linalg.norm(A, ord=o), np.linalg.norm(A, ord=o), rtol=1e-13)
    # the Euclidean norm's gradient in JAX's convention df/dx - i df/dy: (x - i y) / |z| = conj(z) / |z|
    np.testing.assert_allclose(sl.grad(snp.linalg.norm)(z), np.conj(z) / np.linalg.norm(z), rtol=1e-13)
    # the derivatives of SVD, pinv and QR of complex matrices: tests/test_complex_edges.py
