"""Mixed precision: float16 engine path, dynamic loss scaling (skip/halve, growth), accuracy, underflow."""

import sys
import warnings

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
import slopes.optim as so
from slopes.ml import DynamicLossScale, fit, underflow_fraction

F16_MAX = float(np.finfo(np.float16).max)  # 65504


def test_engine_float16_path():
    f = lambda w, x: snp.mean(snp.logaddexp(0.0, -(x @ w))) + snp.sum(snp.tanh(w) ** 2)
    w = np.array([0.5, -0.25], np.float16)
    x = np.array([[1.0, 2.0], [-1.0, 0.5]], np.float16)
    value, g = sl.value_and_grad(f)(w, x)
    assert g.dtype == np.float16 and np.asarray(value).dtype == np.float16
    # central differences in float64 on the same (float16-representable) inputs
    w64, x64 = w.astype(float), x.astype(float)
    f64 = lambda v: np.mean(np.logaddexp(0.0, -(x64 @ v))) + np.sum(np.tanh(v) ** 2)
    fd = np.array([(f64(w64 + h) - f64(w64 - h)) / 2e-6 for h in 1e-6 * np.eye(2)])
    np.testing.assert_allclose(g.astype(float), fd, rtol=5e-3, atol=1e-3)


def test_overflow_skips_step_and_halves_scale():
    # loss = 2 sum(w^2) = 4 at w = (1, 1): 4 * 2**15 and 4 * 2**14 exceed float16's max, 4 * 2**13 does not
    loss = lambda w, b: 2.0 * snp.sum(w**2) + 0.0 * snp.sum(b)
    assert 4 * 2.0**14 > F16_MAX > 4 * 2.0**13
    lr = 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the expected overflow must not leak warnings
        res = fit(loss, np.ones(2), np.zeros(1), optimizer=so.sgd(lr), epochs=3, mixed_precision=True)
    h = res.history.step
    np.testing.assert_array_equal(h["skipped"], [True, True, False])
    np.testing.assert_array_equal(h["loss_scale"], [2.0**14, 2.0**13, 2.0**13])
    assert np.isnan(h["loss"][0]) and h["loss"][2] == pytest.approx(4.0, rel=1e-3)
    # one real step: w - lr * 4 w (the float32 reference), in float32 master weights
    assert res.params.dtype == np.float32
    np.testing.assert_allclose(res.params, (1 - 4 * lr) * np.ones(2), rtol=1e-3)
    assert so.step_count(res.state) == 1 and res.loss_scale.skipped == 2


def test_scale_grows_after_clean_steps():
    ls = DynamicLossScale(init_scale=2.0**10, growth_interval=3)
    for _ in range(2):
        ls.update(True)
    assert ls.scale == 2.0**10
    ls.update(True)
    assert ls.scale == 2.0**11 and ls.good_steps == 0
    ls.update(False)  # an overflow resets the count
    assert ls.scale == 2.0**10
    # through fit: clean steps on a tame loss, scale doubles every 3 steps up to the float16 cap 2**15
    loss = lambda w, b: 0.5 * snp.mean((b @ w) ** 2)
    res = fit(
        loss,
        np.ones(2),
        np.ones((4, 2)) * 0.1,
        optimizer=so.sgd(0.1),
        epochs=20,
        mixed_precision=DynamicLossScale(init_scale=2.0**12, growth_interval=3),
    )
    k = np.arange(1, 21)
    np.testing.assert_array_equal(res.history.step["loss_scale"], np.minimum(2.0 ** (12 + k // 3), 2.0**15))
    assert not res.history.step["skipped"].any()


def _logistic_data(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    w = np.array([2.0, -1.0, 0.5, 0.0, 1.5])
    y = (X @ w + 0.5 + rng.logistic(size=n) > 0).astype(float)
    return X, y


def logistic(p, b):
    z = b[0] @ p["w"] + p["b"]
    return snp.mean(snp.logaddexp(0.0, z) - b[1] * z)  # stable -log-likelihood


def test_logistic_regression_mixed_matches_float32_accuracy():
    X, y = _logistic_data(600, 0)
    Xt, yt = _logistic_data(600, 1)
    p0 = {"w": np.zeros(5, np.float32), "b": np.zeros((), np.float32)}
    kw = dict(optimizer=so.adam(so.cosine_decay(0.1, 285)), epochs=15, batch_size=32, seed=0)
    full = fit(logistic, p0, (X.astype(np.float32), y.astype(np.float32)), **kw)
    mixed = fit(logistic, p0, (X, y), mixed_precision=True, **kw)
    acc = lambda p: np.mean(((Xt @ p["w"] + p["b"]) > 0) == (yt > 0.5))
    assert mixed.params["w"].dtype == np.float32
    assert abs(acc(mixed.params) - acc(full.params)) <= 0.01
    # and both reach the accuracy of scipy's exact maximum-likelihood fit
    from scipy.optimize import minimize

    def nll(v):
        z = X @ v[:5] + v[5]
        return np.mean(np.logaddexp(0.0, z) - y * z)

    v = minimize(nll, np.zeros(6), method="BFGS").x
    ref = np.mean(((Xt @ v[:5] + v[5]) > 0) == (yt > 0.5))
    assert abs(acc(mixed.params) - ref) <= 0.01


def test_underflow_fraction_against_float16_rounding():
    rng = np.random.default_rng(0)
    x = 10.0 ** rng.uniform(-4, 0, size=200)
    loss = lambda w, x: 1e-4 * snp.sum(w * x)  # gradient 1e-4 x, from 1e-8 to 1e-4
    g = 1e-4 * x
    expected = int(np.sum((g != 0) & (g.astype(np.float16) == 0)))  # what float16 rounds to 0
    u = underflow_fraction(loss, np.zeros(200), x)
    assert expected > 0 and u.total == 200
    # float16 computes 1e-4 * x in two roundings, so allow the entries at the very edge to differ
    assert abs(u.count - expected) <= 3 and u.fraction == pytest.approx(u.count / 200)
    assert underflow_fraction(loss, np.zeros(200), x, scale=2.0**14).count == 0


def test_divergence_at_min_scale():
    loss = lambda w, b: snp.sum(w**2) + 0.0 * snp.sum(b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = fit(
            loss,
            np.full(2, 1e3),
            np.zeros(1),
            optimizer=so.sgd(0.1),
            epochs=40,
            mixed_precision=DynamicLossScale(init_scale=4.0, min_scale=1.0),
        )
    # 2e6 overflows float16 at any scale >= 1: two halvings, then divergence
    assert res.diverged and res.step == 2 and np.all(res.params == 1e3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(growth_interval=0), "growth_interval"),
        (dict(init_scale=2.0**16), "2\\*\\*15"),
        (dict(backoff_factor=1.5), "backoff_factor"),
        (dict(min_scale=0.0), "min_scale"),
    ],
)
def test_bad_scaler(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DynamicLossScale(**kwargs)


def test_bad_mixed_precision_argument():
    with pytest.raises(TypeError, match="mixed_precision"):
        fit(lambda w, b: snp.sum(w * b[0]), np.ones(1), np.ones(2), mixed_precision="fp16")


# ---------------------------------------------------------------- bfloat16 (optional extra: ml_dtypes)


def test_engine_bfloat16_path():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    bf16 = ml_dtypes.bfloat16
    f = lambda w, x: snp.sum(snp.tanh(x @ w) ** 2) + snp.sum(w * w)
    w = np.array([0.5, -0.25], bf16)
    x = np.array([[1.0, 2.0], [-1.0, 0.5]], bf16)
    value, g = sl.value_and_grad(f)(w, x)
    assert g.dtype == bf16
    assert sl.jit(sl.grad(f))(w, x).dtype == bf16
    # float64 central differences on the same (bfloat16-representable) inputs; bfloat16 keeps 8 bits
    w64, x64 = w.astype(float), x.astype(float)
    f64 = lambda v: np.sum(np.tanh(x64 @ v) ** 2) + np.sum(v * v)
    fd = np.array([(f64(w64 + h) - f64(w64 - h)) / 2e-6 for h in 1e-6 * np.eye(2)])
    np.testing.assert_allclose(g.astype(float), fd, rtol=2e-2, atol=1e-2)
    np.testing.assert_allclose(float(value), f64(w64), rtol=2e-2)
    np.testing.assert_allclose(sl.numeric.grad(lambda v: f(v, x64), w), fd, rtol=2e-2)


def test_bfloat16_without_ml_dtypes_names_the_extra(monkeypatch):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    w = np.ones(2, ml_dtypes.bfloat16)  # a bfloat16 array from elsewhere, then ml_dtypes is gone
    monkeypatch.setitem(sys.modules, "ml_dtypes", None)
    with pytest.raises(ImportError, match=r"grad\(\): bfloat16 needs the ml_dtypes package: pip install 'slopes\[bf16\]'"):
        sl.grad(lambda v: snp.sum(v * v))(w)


def test_bfloat16_mixed_precision_asks_for_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ml_dtypes", None)  # as if not installed
    with pytest.raises(ImportError, match=r"slopes\[bf16\]"):
        fit(lambda w, b: snp.sum(w * b), np.ones(1), np.ones(2), mixed_precision="bfloat16")
    with pytest.raises(ImportError, match=r"slopes\[bf16\]"):
        DynamicLossScale(dtype="bfloat16")


def test_bfloat16_scaler_range_and_underflow():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    # bfloat16 has float32's exponent range: the scale may reach 2**127, and 1e-30 is not lost
    with pytest.raises(ValueError, match="2\\*\\*15"):
        DynamicLossScale(init_scale=2.0**20)
    assert DynamicLossScale(init_scale=2.0**20, dtype="bfloat16").max_scale == 2.0**127
    rng = np.random.default_rng(0)
    x = 10.0 ** rng.uniform(-42, 0, size=200)
    loss = lambda w, x: snp.sum(w * x)  # gradient x, from 1e-42 to 1 (float32 keeps all of it)
    expected = int(np.sum(x.astype(ml_dtypes.bfloat16) == 0))  # what bfloat16 rounds to 0 (below ~5e-41)
    u = underflow_fraction(loss, np.zeros(200), x, dtype="bfloat16")
    f16 = underflow_fraction(loss, np.zeros(200), x)
    assert 0 < expected and abs(u.count - expected) <= 1
    assert f16.count > 140 > 20 > u.count  # float16 loses everything below 6e-8: measured 151 vs 9


def test_logistic_regression_bfloat16_matches_float32_accuracy():
    pytest.importorskip("ml_dtypes")
    X, y = _logistic_data(600, 0)
    Xt, yt = _logistic_data(600, 1)
    p0 = {"w": np.zeros(5, np.float32), "b": np.zeros((), np.float32)}
    kw = dict(optimizer=so.adam(so.cosine_decay(0.1, 285)), epochs=15, batch_size=32, seed=0)
    full = fit(logistic, p0, (X.astype(np.float32), y.astype(np.float32)), **kw)
    mixed = fit(logistic, p0, (X, y), mixed_precision="bfloat16", **kw)
    acc = lambda p: np.mean(((Xt @ p["w"] + p["b"]) > 0) == (yt > 0.5))
    assert mixed.params["w"].dtype == np.float32 and mixed.loss_scale.dtype.name == "bfloat16"
    assert not mixed.history.step["skipped"].any()
    assert abs(acc(mixed.params) - acc(full.params)) <= 0.01
