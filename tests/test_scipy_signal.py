"""``slopes.scipy.signal.convolve/correlate`` and ``snp.convolve`` against SciPy, NumPy and peers.

1-D and N-D, every mode, both operands differentiable: values equal SciPy's or
NumPy's, first and second derivatives match finite differences, and the
shared checks of ``case_checks.py`` (jacobians, jit, vmap, Taylor mode) pass.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from case_checks import (
    arguments,
    assert_jacobians_and_jit,
    assert_taylor_equals_nested_jvp,
    assert_values,
    assert_vmap_equals_loop,
)
from checks import check_derivatives

import slopes as sl
import slopes.numpy as snp
import slopes.scipy.signal as sig


def shapes(*shapes):
    return lambda rng: tuple(rng.standard_normal(s) for s in shapes)


def pair(name, mode, method="auto"):
    """(slopes, SciPy) versions of ``name`` with a mode and method."""
    ours, theirs = getattr(sig, name), getattr(scipy.signal, name)
    return (lambda a, b: ours(a, b, mode, method)), (lambda a, b: theirs(a, b, mode, method))


CASES = {}
for _name in ("convolve", "correlate"):
    for _mode in ("full", "same", "valid"):
        CASES[f"{_name}_1d_{_mode}"] = (*pair(_name, _mode), shapes((6,), (3,)))
        CASES[f"{_name}_1d_{_mode}_long_kernel"] = (*pair(_name, _mode), shapes((2,), (5,)))
        CASES[f"{_name}_2d_{_mode}"] = (*pair(_name, _mode), shapes((4, 5), (2, 3)))
    CASES[f"{_name}_3d_full_fft"] = (*pair(_name, "full", "fft"), shapes((2, 3, 2), (2, 2, 2)))
    CASES[f"{_name}_2d_same_even_direct"] = (*pair(_name, "same", "direct"), shapes((4, 4), (2, 4)))
for _mode in ("full", "same", "valid"):
    CASES[f"numpy_convolve_{_mode}"] = (
        lambda a, v, m=_mode: snp.convolve(a, v, m),
        lambda a, v, m=_mode: np.convolve(a, v, m),
        shapes((3,), (5,)),
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_equal_scipy_and_numpy(name):
    assert_values(CASES[name])


@pytest.mark.parametrize("name", sorted(CASES))
def test_derivatives_against_finite_differences(name):
    check_derivatives(CASES[name][0], *arguments(CASES[name]), order=2)


SHARED = [
    "convolve_1d_full",
    "correlate_2d_same",
    "convolve_2d_valid",
    "numpy_convolve_same",
    "correlate_1d_valid_long_kernel",
]


@pytest.mark.parametrize("name", SHARED)
def test_jacfwd_equals_jacrev_and_jit_equals_call(name):
    assert_jacobians_and_jit(CASES[name])


@pytest.mark.parametrize("name", SHARED)
def test_vmap_equals_loop(name):
    assert_vmap_equals_loop(CASES[name])


@pytest.mark.parametrize("name", SHARED)
def test_taylor_mode_equals_nested_jvp(name):
    assert_taylor_equals_nested_jvp(CASES[name])


def test_vmap_with_one_operand_mapped_and_per_example_gradients():
    rng = np.random.default_rng(3)
    signals, kernel = rng.standard_normal((4, 7)), rng.standard_normal(3)
    batched = sl.vmap(lambda s: sig.convolve(s, kernel, "same"))(signals)
    expected = [scipy.signal.convolve(s, kernel, "same") for s in signals]
    np.testing.assert_allclose(batched, expected, rtol=1e-12)
    loss = lambda k, s: snp.sum(sig.correlate(s, k, "valid") ** 2)  # noqa: E731
    per_example = sl.vmap(sl.grad(loss), in_axes=(None, 0))(kernel, signals)
    expected = [sl.grad(loss)(kernel, s) for s in signals]
    np.testing.assert_allclose(per_example, expected, rtol=1e-10, atol=1e-12)


def test_gradient_of_convolution_is_correlation():
    """d <w, x * k> / dx = correlate(w, k, 'valid'), a closed form computed by SciPy."""
    rng = np.random.default_rng(4)
    x, k = rng.standard_normal((5, 4)), rng.standard_normal((2, 3))
    w = rng.standard_normal((6, 6))
    g = sl.grad(lambda x: snp.sum(w * sig.convolve(x, k)))(x)
    np.testing.assert_allclose(g, scipy.signal.correlate(w, k, "valid"), rtol=1e-12, atol=1e-12)


def test_gradients_match_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(5)
    x, k = rng.standard_normal((5, 4)), rng.standard_normal((2, 3))
    # every mode once, each function once in a centred mode (where the conventions could differ)
    for name, mode in (("convolve", "full"), ("correlate", "same"), ("convolve", "valid")):
        ours = sl.grad(lambda x, k: snp.sum(getattr(sig, name)(x, k, mode) ** 3), argnums=(0, 1))(x, k)
        fn = getattr(jax.scipy.signal, name)
        theirs = jax.grad(lambda x, k: (fn(x, k, mode) ** 3).sum(), argnums=(0, 1))(x, k)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, np.asarray(b), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: sig.convolve(np.ones(3), np.ones((2, 2))), "same number of dimensions"),
        (lambda: sig.convolve(np.ones(3), np.ones(2), mode="middle"), "mode must be"),
        (lambda: sig.convolve(np.ones(3), np.ones(2), method="fast"), "method must be"),
        (lambda: sig.correlate(np.ones((3, 1)), np.ones((1, 3)), mode="valid"), "at least as large"),
        (lambda: sig.convolve(np.ones(0), np.ones(2)), "must not be empty"),
        (lambda: sig.fftconvolve(np.ones((2, 2)), np.ones((2, 2)), axes=0), "axes=None"),
        (lambda: snp.convolve(np.ones((2, 2)), np.ones(2)), "must be 1-D"),
    ],
)
def test_bad_input_gets_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
