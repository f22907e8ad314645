"""Complex numbers at the edges: finite differences and check_grad at complex points,
the jvp tangent check, and every elementwise ufunc of slopes.numpy on complex input.

The numeric gradient at a complex point follows sl.grad's (JAX's) convention,
``df/dx - i df/dy``; it is checked here against closed forms and JAX, never
against sl.grad alone.
"""

from __future__ import annotations

import numpy as np
import pytest
from peers import jax_grad

import slopes as sl
import slopes.numpy as snp

Z = np.array([1.0 + 2.0j, -0.5 + 0.3j, 0.7 - 1.1j])


# -- numeric.grad / numeric.jacobian at complex points ------------------------------------
def test_numeric_grad_at_complex_point_is_dx_minus_i_dy():
    # f = sum |z|**2 + Re(z**3): df/dx - i df/dy = 2 conj(z) + 3 z**2 (grad Re g = g')
    f = lambda z: np.sum(np.abs(z) ** 2 + np.real(z**3))  # noqa: E731
    g = sl.numeric.grad(f, Z)
    assert g.dtype == np.complex128
    np.testing.assert_allclose(g, 2 * np.conj(Z) + 3 * Z**2, rtol=1e-10)


def test_numeric_grad_at_complex_point_matches_jax():
    make = lambda s: lambda z: s.sum(s.log(s.abs(z**3 - 2.0 * z + 1j)))  # noqa: E731
    np.testing.assert_allclose(sl.numeric.grad(make(np), Z), jax_grad(make, Z), rtol=1e-9)


def test_numeric_grad_complex64_point_keeps_its_dtype_and_estimate_fields():
    est = sl.numeric.grad(lambda z: np.sum(np.abs(z)), Z.astype(np.complex64), full_output=True)
    assert est.value.dtype == np.complex64
    assert est.error.shape == est.step.shape == est.kink.shape == Z.shape
    np.testing.assert_allclose(est.value, np.conj(Z) / np.abs(Z), rtol=1e-5)   # d|z| = conj(z)/|z|


def test_numeric_jacobian_and_pytree_at_complex_points():
    J = sl.numeric.jacobian(np.abs, Z)
    np.testing.assert_allclose(J, np.diag(np.conj(Z) / np.abs(Z)), rtol=1e-10, atol=1e-12)
    g = sl.numeric.grad(lambda t: np.sum(np.real(t["a"] ** 2)), {"a": Z})
    np.testing.assert_allclose(g["a"], 2 * Z, rtol=1e-10)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: sl.numeric.grad(lambda z: np.sum(z), Z), "real-valued function"),
        (lambda: sl.numeric.grad(lambda z: np.sum(np.abs(z)), Z, method="complex"), "needs a real point"),
        (lambda: sl.numeric.hessian(lambda z: np.sum(np.abs(z)), Z), "take complex points"),
    ],
)
def test_numeric_refuses_what_it_cannot_do_at_complex_points(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()


# -- check_grad at complex points ------------------------------------------------------------
def test_check_grad_passes_on_correct_complex_derivatives():
    f = lambda z: snp.sum(snp.abs(z) ** 2 + snp.real(snp.exp(z) * (1 + 2j)))  # noqa: E731
    report = sl.check_grad(f, Z)
    assert report.ok, report
    assert report.ad.shape == (2 * Z.size,)   # compared as (df/dx, df/dy) per entry
    assert "d/dy[2]" in str(report)


def _wrong_imaginary_rule():
    @sl.custom_jvp
    def cube(z):
        return z * z * z

    @cube.defjvp
    def _(primals, tangents):
        (z,), (t,) = primals, tangents
        return cube(z), 3.0 * snp.conj(z) * z * t   # wrong: should be 3 z**2 t (holomorphic)

    return cube


def test_check_grad_fails_a_wrong_custom_rule_on_a_complex_function():
    cube = _wrong_imaginary_rule()
    report = sl.check_grad(lambda z: snp.sum(snp.real(cube(z))), Z)
    assert not report.ok
    assert report.entry_ok is not None and not report.entry_ok.all()
    # the same rule at a real point is right (conj(x) = x): the failure is the complex part
    assert sl.check_grad(lambda x: snp.sum(snp.real(cube(x))), Z.real).ok


def test_check_grad_complex_pytree_names_entries_and_refuses_hessian():
    f = lambda t: snp.sum(snp.abs(t["a"]) ** 2) + snp.real(t["b"] ** 2)  # noqa: E731
    report = sl.check_grad(f, {"a": Z, "b": 1.0 + 0.5j})
    assert report.ok, report
    assert "d/dy['b']" in str(report)
    bad = sl.check_grad(lambda z: snp.abs(z), 1.0 + 1.0j, kind="hessian")
    assert not bad.ok and "kind='grad'" in bad.message


def test_check_grad_complex64_uses_float32_tolerance():
    report = sl.check_grad(lambda z: snp.sum(snp.abs(z) ** 2), Z.astype(np.complex64))
    assert report.ok and report.rtol == pytest.approx(10 * np.sqrt(np.finfo(np.float32).eps))


# -- jvp: a complex tangent for a real primal ------------------------------------------------
def test_jvp_refuses_a_complex_tangent_for_a_real_primal():
    with pytest.raises(TypeError, match="complex tangent for a real primal"):
        sl.jvp(snp.sin, (1.0,), (1j,))
    with pytest.raises(TypeError, match="complex tangent"):
        sl.jvp(lambda t: snp.sum(t["x"]), ({"x": np.ones(2)},), ({"x": np.ones(2) * 1j},))


def test_jvp_real_tangent_for_complex_primal_is_the_real_direction():
    z = 0.3 + 0.4j
    _, t = sl.jvp(snp.sin, (z,), (1.0,))
    assert complex(t) == pytest.approx(np.cos(z))     # holomorphic: sin'(z) * 1
    _, t = sl.jvp(snp.sin, (z,), (1j,))
    assert complex(t) == pytest.approx(1j * np.cos(z))


# -- every elementwise ufunc of slopes.numpy on complex input ---------------------------------
def _elementwise_ufuncs():
    """Names slopes.numpy shares with NumPy's elementwise ufuncs (gufuncs such as matmul excluded)."""
    return sorted(
        n
        for n in dir(snp)
        if isinstance(getattr(np, n, None), np.ufunc) and getattr(np, n).signature is None and getattr(np, n).nin <= 2
    )


# accepted by slopes.numpy but refused (or typed differently) by NumPy, in slopes/numpy/elementwise_extra.py
_KNOWN_GAPS: set[str] = set()  # names whose complex behaviour is not NumPy's yet (strict xfail)
A = np.array([1.0 + 2.0j, -0.6 + 0.3j, 0.7 - 1.1j, 1.3 + 0.4j])   # off every branch cut, no ties in
B = np.array([0.4 - 1.0j, 0.8 + 0.6j, -1.2 + 0.5j, 1.1 + 0.9j])   # real part between A and B
WEIGHTS = np.array([0.3 - 0.7j, 1.1 + 0.2j, -0.4 + 0.9j, 0.6 - 0.5j])


def _arguments(name):
    return (A,) if getattr(np, name).nin == 1 else (A, B)


def _numpy_outcome(name, args):
    with np.errstate(all="ignore"):
        try:
            return getattr(np, name)(*args), None
        except TypeError as e:
            return None, e


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")  # the known gaps drop imaginary parts
@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="not refused yet")) if n in _KNOWN_GAPS else n
     for n in _elementwise_ufuncs()],
)
def test_elementwise_value_on_complex_input_is_numpys_or_both_refuse(name):
    args = _arguments(name)
    expected, refused = _numpy_outcome(name, args)
    if refused is not None:
        with pytest.raises(TypeError):
            getattr(snp, name)(*args)
        return
    with np.errstate(all="ignore"):
        got = getattr(snp, name)(*args)
    for g, e in zip(*(([v] if not isinstance(v, tuple) else list(v)) for v in (got, expected))):
        assert np.asarray(g).dtype == np.asarray(e).dtype
        np.testing.assert_allclose(g, e, rtol=1e-14, atol=1e-15)


def _differentiable_on_complex():
    out = []
    for name in _elementwise_ufuncs():
        if name in _KNOWN_GAPS:
            continue
        value, refused = _numpy_outcome(name, _arguments(name))
        if refused is None and not isinstance(value, tuple) and np.asarray(value).dtype.kind in "fc":
            out += [(name, k) for k in range(len(_arguments(name)))]
    return out


@pytest.mark.parametrize("name, argnum", _differentiable_on_complex())
def test_elementwise_grad_on_complex_input_matches_finite_differences_of_numpy(name, argnum):
    """sl.grad of Re(sum(w * f(z))) against differences of NumPy's own f along x and y."""
    args = list(_arguments(name))

    def real_valued(module):
        def f(z):
            full = args[:argnum] + [z] + args[argnum + 1 :]
            return module.sum(module.real(WEIGHTS * getattr(module, name)(*full)))

        return f

    ours = sl.grad(real_valued(snp))(args[argnum])
    reference = sl.numeric.grad(real_valued(np), args[argnum])
    np.testing.assert_allclose(ours, reference, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("name", ["maximum", "minimum", "absolute", "sqrt", "log", "power", "arctanh", "reciprocal"])
def test_elementwise_grad_on_complex_input_matches_jax(name):
    def make(module):
        return lambda z: module.sum(module.real(WEIGHTS * getattr(module, name)(*([z, B][: getattr(np, name).nin]))))

    np.testing.assert_allclose(sl.grad(make(snp))(A), jax_grad(make, A), rtol=1e-10, atol=1e-12)


def test_maximum_minimum_clip_order_complex_numbers_like_numpy():
    # NumPy orders complex numbers lexicographically: real parts first, then imaginary parts
    a, b = np.array([1.0 + 2.0j, 1.0 - 1.0j]), np.array([1.0 + 3.0j, 0.5 + 9.0j])
    np.testing.assert_array_equal(snp.maximum(a, b), np.maximum(a, b))
    np.testing.assert_array_equal(snp.minimum(a, b), np.minimum(a, b))
    lo, hi = 0.5 + 0.0j, 1.2 + 0.5j
    np.testing.assert_array_equal(snp.clip(A, lo, hi), np.clip(A, lo, hi))
    # inside the bounds clip passes z through (derivative: the identity), outside the bound wins
    f = lambda module: lambda z: module.sum(module.real(WEIGHTS * module.clip(z, lo, hi)))  # noqa: E731
    np.testing.assert_allclose(sl.grad(f(snp))(A), sl.numeric.grad(f(np), A), rtol=1e-7, atol=1e-8)


def test_complex_sign_derivative_forward_reverse_second_order():
    from checks import check_derivatives
    from test_complex import realified

    check_derivatives(realified(snp.sign), A.real, A.imag, rtol=1e-5, atol=1e-6)


def test_complex_sign_at_zero_is_zero_without_nan():
    z = np.array([0.0 + 0.0j, 3.0 + 4.0j])
    np.testing.assert_array_equal(snp.sign(z), np.sign(z))
    g = sl.grad(lambda z: snp.sum(snp.real(snp.sign(z)) + snp.imag(snp.sign(z))))(z)
    assert np.all(np.isfinite(g)) and g[0] == 0


def test_complex_sign_under_vmap_and_jit():
    f = lambda z: snp.real(snp.sign(z) * (1 - 2j))  # noqa: E731
    np.testing.assert_allclose(sl.vmap(f)(A), np.real(np.sign(A) * (1 - 2j)), rtol=1e-15)
    g = sl.jit(sl.grad(lambda z: snp.sum(f(z))))
    np.testing.assert_allclose(g(A), sl.numeric.grad(lambda z: np.sum(np.real(np.sign(z) * (1 - 2j))), A), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(g(B), sl.numeric.grad(lambda z: np.sum(np.real(np.sign(z) * (1 - 2j))), B), rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize(
    "call, hint",
    [
        (lambda: snp.arctan2(1j, 1.0), "snp.angle"),
        (lambda: snp.hypot(1.0, 2j), "snp.abs"),
        (lambda: snp.floor([1.5 + 1j]), "snp.real"),
        (lambda: snp.mod(1j, 2.0), "snp.real"),
        (lambda: snp.fabs(1j), "snp.abs"),
        (lambda: sl.grad(lambda z: snp.real(snp.logaddexp(z, 1.0)))(1j), "snp.log"),
    ],
)
def test_real_only_functions_refuse_complex_input_naming_the_alternative(call, hint):
    with pytest.raises(TypeError, match=f"real numbers only.*{hint}"):
        call()


# -- singular values and pseudo-inverse of complex matrices ----------------------------------
_RNG = np.random.default_rng(7)
M = _RNG.standard_normal((4, 3)) + 1j * _RNG.standard_normal((4, 3))
W_M = _RNG.standard_normal((3, 4)) + 1j * _RNG.standard_normal((3, 4))
B_M = _RNG.standard_normal(4) + 1j * _RNG.standard_normal(4)
SPECTRAL = {
    "nuclear_norm": lambda s: lambda a: s.linalg.norm(a, "nuc"),
    "spectral_norm": lambda s: lambda a: s.linalg.norm(a, 2),
    "svdvals_cubed": lambda s: lambda a: s.sum(s.linalg.svd(a, compute_uv=False) ** 3),
    "pinv": lambda s: lambda a: s.sum(s.real(W_M * s.linalg.pinv(a))),
    "cond": lambda s: lambda a: s.linalg.cond(a),
}


@pytest.mark.parametrize("name", sorted(SPECTRAL))
def test_spectral_functions_of_complex_matrices_match_jax_and_finite_differences(name):
    make = SPECTRAL[name]
    ours = sl.grad(make(snp))(M)
    np.testing.assert_allclose(ours, sl.numeric.grad(make(np), M), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(ours, jax_grad(make, M), rtol=1e-10, atol=1e-12)


def test_lstsq_of_complex_matrix_value_residuals_and_gradient():
    res = snp.linalg.lstsq(M, B_M)
    ref = np.linalg.lstsq(M, B_M)
    np.testing.assert_allclose(res.x, ref[0], rtol=1e-12)
    np.testing.assert_allclose(res.residuals, ref[1], rtol=1e-12)   # sum |r|**2, real
    assert res.residuals.dtype == ref[1].dtype
    make = lambda s: lambda a: s.sum(s.real(s.linalg.lstsq(a, B_M)[0] * (1 + 2j)))  # noqa: E731
    np.testing.assert_allclose(sl.grad(make(snp))(M), sl.numeric.grad(make(np), M), rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("name", ["svdvals", "pinv"])
def test_svdvals_and_pinv_complex_forward_reverse_second_order(name):
    from checks import check_derivatives
    from test_complex import realified

    f = {"svdvals": lambda a: snp.linalg.svdvals(a).astype(complex), "pinv": snp.linalg.pinv}[name]
    check_derivatives(realified(f), M.real, M.imag, rtol=1e-5, atol=1e-6)


def _phase_free(full_matrices, shape):
    """|U|**2 entries and the projector V V^H: independent of each singular pair's phase."""
    rng = np.random.default_rng(8)
    wu = rng.standard_normal((shape[0], shape[0] if full_matrices else min(shape)))
    wv = rng.standard_normal((shape[1], shape[1])) + 1j * rng.standard_normal((shape[1], shape[1]))

    def make(s):
        def f(a):
            u, _, vh = s.linalg.svd(a, full_matrices=full_matrices)
            return s.sum(s.abs(u) ** 2 * wu) + s.sum(s.real(wv * (s.conj(vh).T @ vh)))

        return f

    return make


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5)])
@pytest.mark.parametrize("full_matrices", [False, True])
def test_singular_vectors_of_complex_matrices_phase_free_functions_match_finite_differences(shape, full_matrices):
    rng = np.random.default_rng(9)
    a = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    make = _phase_free(full_matrices, shape)
    np.testing.assert_allclose(sl.grad(make(snp))(a), sl.numeric.grad(make(np), a), rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("shape", [(4, 3), (3, 5)])
def test_singular_vectors_of_complex_matrices_take_jaxs_phase(shape):
    # each pair (u_i, v_i) is fixed only up to a common phase; dU carries JAX's choice, i Im diag(P) / s
    rng = np.random.default_rng(10)
    a = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    k = min(shape)
    wu = rng.standard_normal((shape[0], k)) + 1j * rng.standard_normal((shape[0], k))
    wv = rng.standard_normal((k, shape[1])) + 1j * rng.standard_normal((k, shape[1]))

    def make(s):
        def f(a):
            u, _, vh = s.linalg.svd(a, full_matrices=False)
            return s.sum(s.real(wu * u)) + s.sum(s.imag(wv * vh))

        return f

    np.testing.assert_allclose(sl.grad(make(snp))(a), jax_grad(make, a), rtol=1e-10, atol=1e-12)


def test_svd_complex_forward_reverse_second_order_on_a_phase_free_function():
    from checks import check_derivatives
    from test_complex import realified

    def projectors(z):
        u, s, vh = snp.linalg.svd(z, full_matrices=False)
        parts = [u @ snp.conj(u).T, snp.conj(vh).T @ vh, s.astype(complex)]
        return snp.concatenate([snp.ravel(p) for p in parts])

    check_derivatives(realified(projectors), M.real, M.imag, rtol=1e-5, atol=1e-6)


# -- QR of complex matrices ------------------------------------------------------------------
def _qr_weights(shape):
    rng = np.random.default_rng(11)
    k = min(shape)
    wq = rng.standard_normal((shape[0], k)) + 1j * rng.standard_normal((shape[0], k))
    wr = rng.standard_normal((k, shape[1])) + 1j * rng.standard_normal((k, shape[1]))
    return wq, wr


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5)])
def test_qr_of_complex_matrix_value_and_gradient_match_numpy_jax_and_finite_differences(shape):
    rng = np.random.default_rng(12)
    a = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    for ours, ref in zip(snp.linalg.qr(a), np.linalg.qr(a)):   # the wide case's R2 is Q^H A2
        np.testing.assert_allclose(ours, ref, rtol=1e-13, atol=1e-14)
    wq, wr = _qr_weights(shape)

    def make(s):
        return lambda a: s.sum(s.real(wq * s.linalg.qr(a)[0])) + s.sum(s.imag(wr * s.linalg.qr(a)[1]))

    ours = sl.grad(make(snp))(a)
    np.testing.assert_allclose(ours, sl.numeric.grad(make(np), a), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(ours, jax_grad(make, a), rtol=1e-10, atol=1e-12)


def test_qr_complex_residual_and_complete_basis_projector_match_finite_differences():
    rng = np.random.default_rng(13)
    a = rng.standard_normal((5, 3)) + 1j * rng.standard_normal((5, 3))
    w = rng.standard_normal((5, 5))

    def residual(s):   # |Q R - 1|**2 with Q R = A: df/dx - i df/dy of |A - 1|**2 is 2 conj(A - 1)
        return lambda a: s.sum(s.abs(s.linalg.qr(a)[0] @ s.linalg.qr(a)[1] - 1.0) ** 2)

    np.testing.assert_allclose(sl.grad(residual(snp))(a), 2 * np.conj(a - 1.0), rtol=1e-10)

    def projector(s):   # Q2 Q2^H does not depend on the choice of the complement's basis
        def f(a):
            q2 = s.linalg.qr(a, mode="complete")[0][:, 3:]
            return s.sum(s.real(w * (q2 @ s.conj(q2).T)))

        return f

    np.testing.assert_allclose(sl.grad(projector(snp))(a), sl.numeric.grad(projector(np), a), rtol=1e-8, atol=1e-9)


def test_qr_complex_forward_reverse_second_order():
    from checks import check_derivatives
    from test_complex import realified

    rng = np.random.default_rng(14)
    a = rng.standard_normal((4, 3)) + 1j * rng.standard_normal((4, 3))
    check_derivatives(realified(lambda z: snp.concatenate(snp.linalg.qr(z), axis=0)), a.real, a.imag, rtol=1e-5, atol=1e-6)


def test_svd_of_complex_matrix_values_and_dtypes_are_numpys():
    for ours, ref in zip(snp.linalg.svd(M), np.linalg.svd(M)):
        assert ours.dtype == ref.dtype   # S is real (float64), U and Vh complex
        np.testing.assert_allclose(ours, ref, rtol=1e-13, atol=1e-14)


def test_complex_svd_and_qr_gradients_under_vmap_and_jit():
    rng = np.random.default_rng(15)
    stack = rng.standard_normal((3, 4, 3)) + 1j * rng.standard_normal((3, 4, 3))

    def loss(s):   # nuclear norm plus a phase-free function of Q
        return lambda a: s.linalg.norm(a, "nuc") + s.sum(s.abs(s.linalg.qr(a)[0][:, 0]) ** 3)

    expected = np.stack([sl.numeric.grad(loss(np), a) for a in stack])
    np.testing.assert_allclose(sl.vmap(sl.grad(loss(snp)))(stack), expected, rtol=1e-8, atol=1e-9)
    jitted = sl.jit(sl.grad(loss(snp)))
    for a, e in zip(stack, expected):
        np.testing.assert_allclose(jitted(a), e, rtol=1e-8, atol=1e-9)


def test_vecdot_and_vecmat_conjugate_their_first_argument_as_numpy():
    np.testing.assert_allclose(snp.vecdot(A, B), np.vecdot(A, B), rtol=1e-14)
    M = np.outer(B, WEIGHTS)
    np.testing.assert_allclose(snp.vecmat(A, M), np.vecmat(A, M), rtol=1e-14)
    # JAX's convention df/dx - i df/dy of sum(x^2 + y^2) is 2x - 2iy = 2 conj(z)
    f = lambda z: snp.real(snp.vecdot(z, z))  # noqa: E731  (= sum |z|^2, gradient 2 conj(z))
    np.testing.assert_allclose(sl.grad(f)(A), 2 * np.conj(A), rtol=1e-14)
