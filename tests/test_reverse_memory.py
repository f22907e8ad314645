"""Reverse mode keeps only what the backward pass reads (Primitive.keeps)."""

import numpy as np
import pytest

import slopes as sl
import slopes.core.reverse as reverse
import slopes.numpy as snp
from slopes.core.ops import elementwise

from memory import peak_bytes


@pytest.fixture
def default_release(monkeypatch):
    # the suite's conftest releases everything; measure with the library's default
    monkeypatch.setattr(reverse, "RELEASE_MIN_SIZE", 4096)


def test_logistic_gradient_peak_is_at_most_twice_the_forward_pass(default_release):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20000, 20))
    y = (X[:, 0] > 0).astype(float)
    w = 0.1 * rng.standard_normal(20)

    def loss(xp):
        return lambda w: xp.mean(xp.logaddexp(0.0, X @ w) - y * (X @ w)) + 0.5e-3 * xp.sum(w * w)

    forward = peak_bytes(lambda: loss(np)(w))[0]
    g = sl.grad(loss(snp))
    p = 1 / (1 + np.exp(-(X @ w)))
    np.testing.assert_allclose(g(w), X.T @ (p - y) / len(y) + 1e-3 * w, rtol=1e-10)
    assert peak_bytes(lambda: g(w))[0] <= 2.0 * forward


def test_released_value_read_by_a_rule_fails_loudly(monkeypatch):
    monkeypatch.setattr(reverse, "RELEASE_MIN_SIZE", 1)
    monkeypatch.setattr(elementwise.exp, "keeps", (0,))  # a wrong declaration: exp' reads ans
    with pytest.raises(RuntimeError, match="keeps"):
        sl.grad(lambda x: snp.exp(x).sum())(np.ones(3))


def test_nested_derivatives_keep_everything():
    # values under an outer transform are tracers: nothing is released, hessians stay exact
    f = lambda x: snp.sum(snp.exp(x) * snp.sin(x))
    x = np.linspace(-1, 1, 5)
    np.testing.assert_allclose(sl.hessian(f)(x), np.diag(2 * np.exp(x) * np.cos(x)), rtol=1e-12, atol=1e-14)
