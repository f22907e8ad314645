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
