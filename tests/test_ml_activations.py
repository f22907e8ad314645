"""slopes.ml activations: values vs scipy/closed forms, derivatives vs closed forms and finite
differences, stability at extreme inputs, dtypes, and PyTorch when installed."""

import warnings

import numpy as np
import pytest
from checks import check_derivatives
from scipy import special, stats

import slopes as sl
import slopes.ml as ml

X = np.array([-30.0, -5.0, -1.3, -0.2, 0.0, 0.4, 1.0, 3.7, 30.0])
X_SMOOTH = np.array([-2.5, -1.3, -0.2, 0.4, 1.0, 3.7])  # away from kinks, for finite differences
EXTREME = np.array([-1e4, -1e3, -50.0, 0.0, 50.0, 1e3, 1e4])


def d1(f, x):
    """Elementwise first derivative of an elementwise f."""
    return sl.grad(lambda x: f(x).sum())(x)


def d2(f, x):
    """Elementwise second derivative of an elementwise f."""
    return sl.grad(lambda x: d1(f, x).sum())(x)


def gelu_tanh_ref(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))


# ---- values -------------------------------------------------------------------------


def test_values_against_scipy():
    np.testing.assert_allclose(ml.sigmoid(X), special.expit(X), rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(ml.log_sigmoid(X), special.log_expit(X), rtol=1e-13)
    np.testing.assert_allclose(ml.softplus(X), -special.log_expit(-X), rtol=1e-13)
    np.testing.assert_allclose(ml.tanh(X), np.tanh(X), rtol=1e-15)
    mid = np.abs(X) < 2  # where the erf form does not cancel
    exact = 0.5 * X * (1.0 + special.erf(X / np.sqrt(2.0)))
    np.testing.assert_allclose(ml.gelu(X[mid]), exact[mid], rtol=1e-14, atol=1e-300)
    # everywhere, tails included: Phi(x) = erfc(-x / sqrt 2) / 2 has no cancellation
    exact_tails = 0.5 * X * special.erfc(-X / np.sqrt(2.0))
    np.testing.assert_allclose(ml.gelu(X), exact_tails, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(ml.gelu(X, approximate=True), gelu_tanh_ref(X), rtol=1e-13)


def test_piecewise_values_closed_form():
    np.testing.assert_array_equal(ml.relu(X), np.where(X > 0, X, 0.0))
    np.testing.assert_allclose(ml.leaky_relu(X, 0.2), np.where(X > 0, X, 0.2 * X))
    np.testing.assert_allclose(ml.elu(X, alpha=1.5), np.where(X > 0, X, 1.5 * (np.exp(X) - 1.0)))


@pytest.mark.parametrize("axis", [-1, 0, 1, (0, 1), None])
def test_softmax_family_against_scipy(axis):
    z = np.random.default_rng(0).normal(size=(4, 5)) * 10
    np.testing.assert_allclose(ml.softmax(z, axis=axis), special.softmax(z, axis=axis), rtol=1e-12)
    np.testing.assert_allclose(
        ml.log_softmax(z, axis=axis), special.log_softmax(z, axis=axis), rtol=1e-12, atol=1e-14
    )
    np.testing.assert_allclose(ml.logsumexp(z, axis=axis), special.logsumexp(z, axis=axis), rtol=1e-13)
    keep = ml.logsumexp(z, axis=axis, keepdims=True)
    np.testing.assert_allclose(keep, special.logsumexp(z, axis=axis, keepdims=True), rtol=1e-13)


def test_softmax_bad_axis():
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        ml.softmax(np.zeros((2, 3)), axis=2)


def test_gelu_approximate_flag_checked():
    with pytest.raises(TypeError, match="approximate must be True or False"):
        ml.gelu(1.0, approximate="tanh")


# ---- derivatives vs closed forms ------------------------------------------------------


def test_first_derivatives_closed_form():
    s, sm = special.expit(X), special.expit(-X)  # sm = 1 - s without cancellation
    np.testing.assert_allclose(d1(ml.sigmoid, X), s * sm, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(d1(ml.softplus, X), s, rtol=1e-12)
    np.testing.assert_allclose(d1(ml.log_sigmoid, X), special.expit(-X), rtol=1e-12)
    np.testing.assert_allclose(d1(ml.tanh, X), 1 - np.tanh(X) ** 2, rtol=1e-12, atol=1e-300)
    gelu_prime = stats.norm.cdf(X) + X * stats.norm.pdf(X)
    np.testing.assert_allclose(d1(ml.gelu, X), gelu_prime, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(d1(ml.relu, X), (X > 0).astype(float))
    np.testing.assert_allclose(d1(lambda x: ml.leaky_relu(x, 0.2), X), np.where(X > 0, 1.0, 0.2))
    elu_prime = np.where(X > 0, 1.0, 1.5 * np.exp(X))
    np.testing.assert_allclose(d1(lambda x: ml.elu(x, 1.5), X), elu_prime, rtol=1e-12, atol=1e-15)


def test_second_derivatives_closed_form():
    s, sm, t = special.expit(X), special.expit(-X), np.tanh(X)
    np.testing.assert_allclose(d2(ml.sigmoid, X), s * sm * (sm - s), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(d2(ml.softplus, X), s * sm, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(d2(ml.tanh, X), -2 * t * (1 - t**2), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(d2(ml.gelu, X), stats.norm.pdf(X) * (2 - X**2), rtol=1e-10, atol=1e-15)


def test_conventions_at_zero():
    zero = np.zeros(1)
    assert d1(ml.relu, zero)[0] == 0.0  # house convention
    assert d1(lambda x: ml.leaky_relu(x, 0.3), zero)[0] == 0.3  # left derivative
    assert d1(lambda x: ml.elu(x, 2.0), zero)[0] == 2.0  # left derivative, alpha
    # the smooth ones are exact at 0 (no kink introduced by the stable formulations)
    assert d1(ml.sigmoid, zero)[0] == pytest.approx(0.25, rel=1e-15)
    assert d2(ml.softplus, zero)[0] == pytest.approx(0.25, rel=1e-15)
    assert d1(ml.gelu, zero)[0] == pytest.approx(0.5, rel=1e-15)


@pytest.mark.parametrize(
    "f",
    [
        ml.sigmoid,
        ml.log_sigmoid,
        ml.softplus,
        ml.tanh,
        ml.gelu,
        lambda x: ml.gelu(x, approximate=True),
        ml.relu,
        lambda x: ml.leaky_relu(x, 0.1),
        lambda x: ml.elu(x, 1.3),
    ],
)
def test_elementwise_against_finite_differences(f):
    check_derivatives(f, X_SMOOTH)


@pytest.mark.parametrize("f", [ml.softmax, ml.log_softmax, lambda z: ml.softmax(z, axis=0), ml.logsumexp])
def test_softmax_family_against_finite_differences(f):
    z = np.random.default_rng(1).normal(size=(3, 4))
    check_derivatives(f, z)


def test_softmax_jacobian_closed_form():
    z = np.array([0.3, -1.2, 2.0, 0.5])
    s = special.softmax(z)
    np.testing.assert_allclose(sl.jacobian(ml.softmax)(z), np.diag(s) - np.outer(s, s), atol=1e-15)
    np.testing.assert_allclose(sl.grad(ml.logsumexp)(z), s, rtol=1e-14)


def test_gelu_under_jit_vmap_and_jacobian():
    exact_prime = stats.norm.cdf(X_SMOOTH) + X_SMOOTH * stats.norm.pdf(X_SMOOTH)
    np.testing.assert_allclose(sl.jit(sl.grad(lambda x: ml.gelu(x).sum()))(X_SMOOTH), exact_prime, rtol=1e-12)
    np.testing.assert_allclose(sl.vmap(ml.gelu)(X_SMOOTH), X_SMOOTH * stats.norm.cdf(X_SMOOTH), rtol=1e-13)
    np.testing.assert_allclose(sl.jacobian(ml.gelu)(X_SMOOTH), np.diag(exact_prime), rtol=1e-12, atol=1e-300)


def test_relu_gradient_program_is_minimal():
    # relu is on the MLP's hot path: its gradient is one comparison and one select
    x = np.random.default_rng(0).normal(size=(8, 5))
    prog = sl.jit(sl.grad(lambda x: ml.relu(x).sum())).trace(x)
    assert len(prog.equations) <= 2, str(prog)


# ---- stability at extreme inputs -------------------------------------------------------

ALL = {
    "sigmoid": ml.sigmoid,
    "log_sigmoid": ml.log_sigmoid,
    "softplus": ml.softplus,
    "tanh": ml.tanh,
    "relu": ml.relu,
    "leaky_relu": ml.leaky_relu,
    "elu": ml.elu,
    "gelu": ml.gelu,
    "gelu_tanh": lambda x: ml.gelu(x, approximate=True),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(ALL))
def test_extreme_inputs_finite_silent_dtype_preserving(name, dtype):
    f, x = ALL[name], EXTREME.astype(dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        outs = [f(x), d1(f, x), d2(f, x)]
    for out in outs:
        assert np.all(np.isfinite(out))
        assert out.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("f", [ml.softmax, ml.log_softmax, lambda z: ml.logsumexp(z, axis=-1)])
def test_softmax_family_extreme_logits(f, dtype):
    z = np.array([[1e3, 0.0, -1e3], [1e4, 1e4, -1e4]], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        outs = [f(z), sl.hessian(lambda z: f(z)[0].sum())(z)]
    for out in outs:
        assert np.all(np.isfinite(out)) and out.dtype == dtype


def test_extreme_values_closed_form():
    x = np.array([-1e3, 1e3])
    np.testing.assert_array_equal(ml.sigmoid(x), [0.0, 1.0])
    np.testing.assert_array_equal(ml.softplus(x), [0.0, 1e3])
    np.testing.assert_array_equal(ml.log_sigmoid(x), [-1e3, 0.0])
    np.testing.assert_array_equal(ml.gelu(x), [0.0, 1e3])
    np.testing.assert_array_equal(ml.elu(x), [-1.0, 1e3])
    np.testing.assert_array_equal(d1(ml.softplus, x), [0.0, 1.0])
    np.testing.assert_allclose(ml.log_softmax(np.array([1e3, 0.0])), [0.0, -1e3])


# ---- PyTorch, when installed -------------------------------------------------------------


def test_against_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    t = torch.tensor(X, requires_grad=True)
    pairs = [
        (ml.sigmoid, torch.sigmoid),
        (ml.log_sigmoid, F.logsigmoid),
        (ml.softplus, lambda u: F.softplus(u, threshold=1e9)),
        (ml.relu, F.relu),
        (lambda x: ml.leaky_relu(x, 0.2), lambda u: F.leaky_relu(u, 0.2)),
        (lambda x: ml.elu(x, 1.5), lambda u: F.elu(u, 1.5)),
        (ml.gelu, F.gelu),
        (lambda x: ml.gelu(x, approximate=True), lambda u: F.gelu(u, approximate="tanh")),
        (ml.softmax, lambda u: F.softmax(u, dim=-1)),
        (ml.log_softmax, lambda u: F.log_softmax(u, dim=-1)),
    ]
    w = np.linspace(-1.0, 1.0, X.size)
    for ours, theirs in pairs:
        out = theirs(t)
        (g,) = torch.autograd.grad((out * torch.tensor(w)).sum(), t)
        np.testing.assert_allclose(ours(X), out.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(
            sl.grad(lambda x: (ours(x) * w).sum())(X), g.numpy(), rtol=1e-10, atol=1e-15
        )  # atol: PyTorch's gelu (erf form) and sigmoid backward lose relative accuracy in the tails
