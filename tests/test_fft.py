"""snp.fft: values equal NumPy's, derivatives against finite differences and JAX, transforms through it."""

from __future__ import annotations

import numpy as np
import pytest
from checks import check_derivatives
from peers import autograd_grad, jax_grad

import slopes as sl
import slopes.numpy as snp

NORMS = [None, "ortho", "forward"]


def parts(out):
    return snp.stack([snp.real(out), snp.imag(out)])


def complex_in(f):
    """``f`` of a complex array as a function of its real and imaginary parts."""
    return lambda xr, xi: f(xr + 1j * xi)


# name -> (transform of a complex (or, for r*, real) array, its NumPy counterpart, takes complex input)
CASES = {
    "fft": (lambda a, **k: snp.fft.fft(a, **k), np.fft.fft, True, [{}, {"n": 5}, {"n": 9, "axis": 0}]),
    "ifft": (lambda a, **k: snp.fft.ifft(a, **k), np.fft.ifft, True, [{}, {"n": 4, "axis": -2}]),
    "fft2": (lambda a, **k: snp.fft.fft2(a, **k), np.fft.fft2, True, [{}, {"s": (3, 8)}]),
    "ifft2": (lambda a, **k: snp.fft.ifft2(a, **k), np.fft.ifft2, True, [{}, {"axes": (0, 1)}]),
    "fftn": (lambda a, **k: snp.fft.fftn(a, **k), np.fft.fftn, True, [{}, {"axes": (1,)}, {"s": (5,), "axes": (0,)}]),
    "ifftn": (lambda a, **k: snp.fft.ifftn(a, **k), np.fft.ifftn, True, [{}, {"s": (2, 7), "axes": (0, 1)}]),
    "rfft": (lambda a, **k: snp.fft.rfft(a, **k), np.fft.rfft, False, [{}, {"n": 5}, {"n": 8, "axis": 0}]),
    "rfftn": (lambda a, **k: snp.fft.rfftn(a, **k), np.fft.rfftn, False, [{}, {"s": (3, 5), "axes": (0, 1)}]),
    "rfft2": (lambda a, **k: snp.fft.rfft2(a, **k), np.fft.rfft2, False, [{}]),
    "irfft": (lambda a, **k: snp.fft.irfft(a, **k), np.fft.irfft, True, [{}, {"n": 7}, {"n": 4, "axis": 0}]),
    "irfftn": (lambda a, **k: snp.fft.irfftn(a, **k), np.fft.irfftn, True, [{}, {"s": (3, 5), "axes": (0, 1)}, {"s": (4,), "axes": (0,)}]),
    "irfft2": (lambda a, **k: snp.fft.irfft2(a, **k), np.fft.irfft2, True, [{"s": (4, 6)}]),
    "hfft": (lambda a, **k: snp.fft.hfft(a, **k), np.fft.hfft, True, [{}, {"n": 7}]),
    "ihfft": (lambda a, **k: snp.fft.ihfft(a, **k), np.fft.ihfft, False, [{}, {"n": 5}]),
}
PARAMS = [(name, i, norm) for name, case in CASES.items() for i in range(len(case[3])) for norm in NORMS]


def _point(rng, takes_complex, shape=(3, 6)):
    x = rng.standard_normal(shape)
    return x + 1j * rng.standard_normal(shape) if takes_complex else x


@pytest.mark.parametrize("name,i,norm", PARAMS)
def test_values_equal_numpy(name, i, norm):
    ours, theirs, takes_complex, kwargs = CASES[name]
    a = _point(np.random.default_rng(0), takes_complex)
    np.testing.assert_allclose(ours(a, norm=norm, **kwargs[i]), theirs(a, norm=norm, **kwargs[i]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,i", [(name, i) for name, case in CASES.items() for i in range(len(case[3]))])
def test_first_and_second_derivatives_match_finite_differences(name, i):
    ours, _, takes_complex, kwargs = CASES[name]
    norm = ["ortho", None, "forward"][i % 3]
    rng = np.random.default_rng(i + 1)
    a = _point(rng, takes_complex, (3, 4))
    # a smooth nonlinearity after the (linear) transform makes the second derivatives non-zero
    transform = lambda a: snp.sin(ours(a, norm=norm, **kwargs[i]))  # noqa: E731
    if takes_complex:
        check_derivatives(lambda xr, xi: parts(transform(xr + 1j * xi)), a.real, a.imag, atol=1e-6)
    else:
        check_derivatives(lambda x: parts(transform(x)), a, atol=1e-6)


# name -> (make(module), complex input, peer): autograd where it has the rule (odd-length real
# transforms and hfft it lacks), JAX otherwise
PEER_CASES = {
    "power_spectrum_rfft": (lambda f: lambda x: f.sum(f.abs(f.fft.rfft(x, n=9)) ** 2), False, jax_grad),
    "rfft_irfft": (lambda f: lambda x: f.sum(f.fft.irfft(f.fft.rfft(x), n=7) * f.arange(7.0)), False, jax_grad),
    "irfft_odd": (lambda f: lambda z: f.sum(f.sin(f.fft.irfft(z, n=9, norm="ortho"))), True, jax_grad),
    "hfft": (lambda f: lambda z: f.sum(f.cos(f.fft.hfft(z, n=6))), True, jax_grad),
    "irfft_even": (lambda f: lambda z: f.sum(f.fft.irfft(z) ** 2), True, autograd_grad),
    "fft2_abs": (lambda f: lambda z: f.sum(f.abs(f.fft.fft2(z, s=(4, 3))) ** 3), True, autograd_grad),
    "ifftn_real_part": (lambda f: lambda z: f.sum(f.real(f.fft.ifftn(z * z, norm="forward"))), True, autograd_grad),
    "rfftn_even": (lambda f: lambda x: f.sum(f.abs(f.fft.rfftn(x, s=(4, 6), axes=(0, 1)))), False, autograd_grad),
    "fftshift": (lambda f: lambda x: f.sum(f.fft.fftshift(x) * f.arange(5.0)), False, autograd_grad),
}


@pytest.mark.parametrize("name", sorted(PEER_CASES))
def test_gradients_match_a_peer(name):
    make, takes_complex, peer = PEER_CASES[name]
    a = _point(np.random.default_rng(7), takes_complex, (4, 5))
    if name == "fftshift":
        a = a[0]
    ours = sl.grad(make(snp))(a)
    assert ours.dtype == a.dtype
    np.testing.assert_allclose(ours, peer(make, a), rtol=1e-9, atol=1e-9)


def test_power_spectrum_gradient_closed_form():
    # Parseval: sum |fft(x)|^2 = n sum x^2, gradient 2 n x
    x = np.random.default_rng(3).standard_normal(8)
    np.testing.assert_allclose(sl.grad(lambda x: snp.sum(snp.abs(snp.fft.fft(x)) ** 2))(x), 16 * x)
    np.testing.assert_allclose(sl.grad(lambda x: snp.sum(snp.abs(snp.fft.fft(x, norm="ortho")) ** 2))(x), 2 * x)


def test_irfft_ignores_imaginary_parts_of_zero_and_nyquist_frequencies():
    z = np.array([1.0 + 2.0j, 0.5 - 1.0j, 0.25 + 3.0j])  # n = 4: index 2 is the Nyquist frequency
    g = sl.grad(lambda z: snp.sum(snp.fft.irfft(z) * np.arange(1.0, 5.0)))(z)
    assert g[0].imag == 0 and g[2].imag == 0
    assert g[1].imag != 0


def test_fftshift_and_freqs_match_numpy():
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(snp.fft.fftshift(x), np.fft.fftshift(x))
    np.testing.assert_array_equal(snp.fft.ifftshift(x, axes=1), np.fft.ifftshift(x, axes=1))
    np.testing.assert_array_equal(snp.fft.ifftshift(snp.fft.fftshift(x)), x)
    np.testing.assert_array_equal(snp.fft.fftfreq(5, d=0.1), np.fft.fftfreq(5, d=0.1))
    np.testing.assert_array_equal(snp.fft.rfftfreq(6), np.fft.rfftfreq(6))


def test_vmap_jit_and_taylor_through_fft():
    f = lambda x: snp.sum(snp.abs(snp.fft.rfft(x, n=6)) ** 2) + snp.sum(snp.fft.irfft(snp.fft.fft(x)[:3], n=5))  # noqa: E731
    xs = np.random.default_rng(5).standard_normal((3, 4))
    np.testing.assert_allclose(sl.vmap(f)(xs), [f(x) for x in xs], rtol=1e-12)
    grads = sl.vmap(sl.grad(f))(xs)
    jitted = sl.jit(sl.grad(f))
    for x, g in zip(xs, grads):
        np.testing.assert_allclose(sl.grad(f)(x), g, rtol=1e-12)
        np.testing.assert_allclose(jitted(x), g, rtol=1e-12)
    # Taylor mode along a line x0 + t v: the third derivative of a cubic in t, exactly
    x0, v = xs[0], xs[1]
    cubic = lambda t: snp.sum(snp.real(snp.fft.fft(x0 + t * v)) ** 3)  # noqa: E731
    r = np.real(np.fft.fft(v))
    np.testing.assert_allclose(sl.derivative(cubic, order=3)(0.0), 6 * np.sum(r**3), rtol=1e-10)


def test_bad_arguments_name_the_problem():
    x = np.ones(4)
    with pytest.raises(ValueError, match="norm='other'"):
        snp.fft.fft(x, norm="other")
    with pytest.raises(ValueError, match="valid number of points"):
        snp.fft.fft(x, n=0)
    with pytest.raises(ValueError, match="out of range"):
        snp.fft.fft(x, axis=1)
    with pytest.raises(TypeError, match="real signal"):
        snp.fft.rfft(x + 1j)
    with pytest.raises(ValueError, match="repeat an axis"):
        snp.fft.fftn(np.ones((2, 2)), axes=(0, 0))
