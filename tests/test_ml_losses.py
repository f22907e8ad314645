"""slopes.ml losses and penalties: closed forms, the classic gradients (sigmoid+BCE, softmax+CE),
finite differences, scikit-learn and PyTorch when installed, extreme logits, errors."""

import warnings

import numpy as np
import pytest
from checks import check_derivatives
from scipy import special

import slopes as sl
import slopes.ml as ml

RNG = np.random.default_rng(0)
N, K = 6, 4
LOGITS = RNG.normal(size=(N, K)) * 2
LABELS = np.array([0, 3, 1, 1, 2, 0])
ONEHOT = np.eye(K)[LABELS]
PROBS = special.softmax(RNG.normal(size=(N, K)), axis=1)
Z = RNG.normal(size=N) * 2
Y01 = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
PRED, TARGET = RNG.normal(size=(N, 2)), RNG.normal(size=(N, 2))


# ---- the worked examples --------------------------------------------------------------


def test_single_neuron_example():
    # z = w x + b, y_hat = sigmoid(z), L = BCE(y_hat, y) with x=2, y=1, w=0.5, b=-0.1
    x, y = 2.0, 1.0

    def loss(w, b):
        return ml.binary_cross_entropy(ml.sigmoid(w * x + b), np.float64(y))

    y_hat = 1.0 / (1.0 + np.exp(-0.9))
    assert y_hat == pytest.approx(0.7109, abs=5e-5)
    assert float(loss(0.5, -0.1)) == pytest.approx(-np.log(y_hat), rel=1e-14)
    assert float(loss(0.5, -0.1)) == pytest.approx(0.3412, abs=5e-5)
    dw, db = sl.grad(loss, argnums=(0, 1))(0.5, -0.1)
    assert dw == pytest.approx((y_hat - y) * x, rel=1e-12)
    assert db == pytest.approx(y_hat - y, rel=1e-12)
    dw_logits = sl.grad(lambda w: ml.binary_cross_entropy_with_logits(w * x - 0.1, np.float64(y)))(0.5)
    assert dw_logits == pytest.approx((y_hat - y) * x, rel=1e-12)


@pytest.mark.parametrize("reduction, scale", [("mean", 1 / N), ("sum", 1.0)])
def test_bce_after_sigmoid_gradient_is_prediction_minus_label(reduction, scale):
    expected = (special.expit(Z) - Y01) * scale
    g1 = sl.grad(lambda z: ml.binary_cross_entropy(ml.sigmoid(z), Y01, reduction=reduction))(Z)
    g2 = sl.grad(lambda z: ml.binary_cross_entropy_with_logits(z, Y01, reduction=reduction))(Z)
    np.testing.assert_allclose(g1, expected, rtol=1e-10)
    np.testing.assert_allclose(g2, expected, rtol=1e-12)


@pytest.mark.parametrize("reduction, scale", [("mean", 1 / N), ("sum", 1.0)])
@pytest.mark.parametrize("target", [LABELS, ONEHOT], ids=["labels", "onehot"])
def test_softmax_cross_entropy_gradient_is_softmax_minus_onehot(target, reduction, scale):
    g = sl.grad(lambda z: ml.cross_entropy(z, target, reduction=reduction))(LOGITS)
    np.testing.assert_allclose(g, (special.softmax(LOGITS, axis=1) - ONEHOT) * scale, rtol=1e-12, atol=1e-15)


# ---- values: closed forms ----------------------------------------------------------------


def test_regression_losses_closed_form():
    r = PRED - TARGET
    assert float(ml.mse(PRED, TARGET)) == pytest.approx(np.mean(r**2), rel=1e-14)
    assert float(ml.mse(PRED, TARGET, reduction="sum")) == pytest.approx(np.sum(r**2), rel=1e-14)
    np.testing.assert_allclose(ml.mse(PRED, TARGET, reduction="none"), r**2)
    assert float(ml.mae(PRED, TARGET)) == pytest.approx(np.mean(np.abs(r)), rel=1e-14)
    d = 0.7
    hub = np.where(np.abs(r) <= d, 0.5 * r**2, d * (np.abs(r) - 0.5 * d))
    np.testing.assert_allclose(ml.huber(PRED, TARGET, delta=d, reduction="none"), hub, rtol=1e-14)
    np.testing.assert_allclose(
        sl.grad(lambda p: ml.huber(p, TARGET, delta=d, reduction="sum"))(PRED), np.clip(r, -d, d), rtol=1e-14
    )


def test_classification_losses_closed_form():
    p = special.expit(Z)
    bce = -(Y01 * np.log(p) + (1 - Y01) * np.log(1 - p))
    np.testing.assert_allclose(ml.binary_cross_entropy(p, Y01, reduction="none"), bce, rtol=1e-12)
    np.testing.assert_allclose(ml.binary_cross_entropy_with_logits(Z, Y01, reduction="none"), bce, rtol=1e-12)
    logp = special.log_softmax(LOGITS, axis=1)
    ce = -logp[np.arange(N), LABELS]
    np.testing.assert_allclose(ml.cross_entropy(LOGITS, LABELS, reduction="none"), ce, rtol=1e-13)
    np.testing.assert_allclose(ml.nll(logp, LABELS, reduction="none"), ce, rtol=1e-13)
    soft = -(PROBS * logp).sum(axis=1)
    np.testing.assert_allclose(ml.cross_entropy(LOGITS, PROBS, reduction="none"), soft, rtol=1e-13)
    ypm = 2 * Y01 - 1
    hinge = np.maximum(0, 1 - ypm * Z)
    np.testing.assert_allclose(ml.hinge(Z, ypm, reduction="none"), hinge)
    np.testing.assert_allclose(ml.hinge(Z, Y01.astype(int), reduction="none"), hinge)  # {0, 1} labels


def test_cross_entropy_batch_axes():
    z = RNG.normal(size=(2, 3, K))
    y = RNG.integers(0, K, size=(2, 3))
    ref = -np.take_along_axis(special.log_softmax(z, axis=-1), y[..., None], axis=-1)[..., 0]
    np.testing.assert_allclose(ml.cross_entropy(z, y, reduction="none"), ref, rtol=1e-13)


def test_bce_clipping_keeps_loss_finite_at_zero_and_one():
    p, y = np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vals = ml.binary_cross_entropy(p, y, reduction="none")
        vals32 = ml.binary_cross_entropy(p.astype(np.float32), y.astype(np.float32), reduction="none")
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(
        vals, [-np.log1p(-eps), -np.log1p(-eps), -np.log(eps), -np.log(eps)], rtol=1e-12
    )
    assert vals32.dtype == np.float32 and np.all(np.isfinite(vals32))


# ---- derivatives vs finite differences ---------------------------------------------------


@pytest.mark.parametrize(
    "f",
    [
        lambda z: ml.binary_cross_entropy_with_logits(z, Y01),
        lambda z: ml.binary_cross_entropy(ml.sigmoid(z), Y01),
        lambda z: ml.hinge(z, 2 * Y01 - 1),
        lambda z: ml.mse(z, Y01),
        lambda z: ml.huber(z, Y01, delta=0.5),
    ],
)
def test_binary_and_regression_losses_against_finite_differences(f):
    z = Z + 0.013  # keep away from hinge/huber kinks
    check_derivatives(f, z)


@pytest.mark.parametrize(
    "f",
    [
        lambda z: ml.cross_entropy(z, LABELS),
        lambda z: ml.cross_entropy(z, PROBS, reduction="sum"),
        lambda z: ml.nll(ml.log_softmax(z), LABELS),
    ],
)
def test_cross_entropy_against_finite_differences(f):
    check_derivatives(f, LOGITS)


# ---- extreme logits, dtypes, transforms ---------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_logits_finite_loss_and_gradient(dtype):
    z = np.array([1e3, -1e3, 1e3, -1e3], dtype=dtype)
    y = np.array([0.0, 1.0, 1.0, 0.0], dtype=dtype)
    zk = np.array([[1e3, 0.0, -1e3], [0.0, 1e3, 0.0]], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        bce, gb = sl.value_and_grad(lambda z: ml.binary_cross_entropy_with_logits(z, y, reduction="sum"))(z)
        ce, gc = sl.value_and_grad(lambda z: ml.cross_entropy(z, np.array([2, 1]), reduction="sum"))(zk)
        hb = sl.hessian(lambda z: ml.binary_cross_entropy_with_logits(z, y))(z)
    assert float(bce) == pytest.approx(2e3, rel=1e-6)  # two wrong-side logits of size 1e3
    np.testing.assert_allclose(gb, [1.0, -1.0, 0.0, 0.0], atol=1e-6)  # sigmoid(z) - y
    assert float(ce) == pytest.approx(2e3, rel=1e-6)  # row 0: true class at -1e3; row 1: correct
    np.testing.assert_allclose(gc, [[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]], atol=1e-6)
    for out in (bce, gb, ce, gc, hb):
        assert np.asarray(out).dtype == dtype and np.all(np.isfinite(out))


def test_float32_in_float32_out_with_float64_or_int_targets():
    p32 = PRED.astype(np.float32)
    assert ml.mse(p32, TARGET).dtype == np.float32
    assert ml.hinge(Z.astype(np.float32), np.array([1, -1, 1, 1, -1, -1])).dtype == np.float32
    assert ml.cross_entropy(LOGITS.astype(np.float32), ONEHOT).dtype == np.float32
    assert ml.cross_entropy(LOGITS.astype(np.float32), LABELS).dtype == np.float32


def test_per_example_losses_under_vmap_and_jit():
    per = sl.vmap(lambda z, y: ml.cross_entropy(z, y))(LOGITS, LABELS)
    np.testing.assert_allclose(per, ml.cross_entropy(LOGITS, LABELS, reduction="none"), rtol=1e-14)
    g = sl.jit(sl.grad(lambda z: ml.cross_entropy(z, LABELS)))(LOGITS)
    np.testing.assert_allclose(g, (special.softmax(LOGITS, axis=1) - ONEHOT) / N, rtol=1e-12, atol=1e-15)


# ---- penalties ----------------------------------------------------------------------------

PARAMS = {"W": RNG.normal(size=(3, 2)), "layers": [RNG.normal(size=4), np.array(0.5)]}
FLAT = np.concatenate([PARAMS["W"].ravel(), PARAMS["layers"][0], [0.5]])


def test_penalties_closed_form_over_pytree():
    lam = 0.3
    assert float(ml.l1_penalty(PARAMS, lam)) == pytest.approx(lam * np.abs(FLAT).sum(), rel=1e-14)
    assert float(ml.l2_penalty(PARAMS, lam)) == pytest.approx(lam / 2 * (FLAT**2).sum(), rel=1e-14)
    r = 0.25
    enet = lam * (r * np.abs(FLAT).sum() + (1 - r) / 2 * (FLAT**2).sum())
    assert float(ml.elastic_net_penalty(PARAMS, lam, r)) == pytest.approx(enet, rel=1e-14)
    assert float(ml.elastic_net_penalty(PARAMS, lam, 1.0)) == pytest.approx(float(ml.l1_penalty(PARAMS, lam)))
    assert float(ml.elastic_net_penalty(PARAMS, lam, 0.0)) == pytest.approx(float(ml.l2_penalty(PARAMS, lam)))


def test_penalty_gradients_closed_form():
    lam = 0.3
    g2 = sl.grad(lambda p: ml.l2_penalty(p, lam))(PARAMS)
    np.testing.assert_allclose(g2["W"], lam * PARAMS["W"])  # weight decay
    np.testing.assert_allclose(g2["layers"][0], lam * PARAMS["layers"][0])
    g1 = sl.grad(lambda p: ml.l1_penalty(p, lam))(PARAMS)
    np.testing.assert_allclose(g1["W"], lam * np.sign(PARAMS["W"]))
    assert float(g1["layers"][1]) == pytest.approx(lam)


# ---- peers ----------------------------------------------------------------------------------


def test_against_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    assert float(ml.mse(PRED, TARGET)) == pytest.approx(metrics.mean_squared_error(TARGET, PRED), rel=1e-13)
    assert float(ml.mae(PRED, TARGET)) == pytest.approx(metrics.mean_absolute_error(TARGET, PRED), rel=1e-13)
    p = special.expit(Z)
    assert float(ml.binary_cross_entropy(p, Y01)) == pytest.approx(metrics.log_loss(Y01, p), rel=1e-12)
    assert float(ml.binary_cross_entropy_with_logits(Z, Y01)) == pytest.approx(
        metrics.log_loss(Y01, p), rel=1e-12
    )
    sk_ce = metrics.log_loss(LABELS, special.softmax(LOGITS, axis=1), labels=np.arange(K))
    assert float(ml.cross_entropy(LOGITS, LABELS)) == pytest.approx(sk_ce, rel=1e-12)
    assert float(ml.hinge(Z, 2 * Y01 - 1)) == pytest.approx(metrics.hinge_loss(2 * Y01 - 1, Z), rel=1e-13)
    assert float(ml.hinge(Z, Y01)) == pytest.approx(metrics.hinge_loss(Y01, Z), rel=1e-13)


def test_against_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    t = torch.tensor
    for red in ("mean", "sum", "none"):
        cases = [
            (ml.mse(PRED, TARGET, red), F.mse_loss(t(PRED), t(TARGET), reduction=red)),
            (ml.mae(PRED, TARGET, red), F.l1_loss(t(PRED), t(TARGET), reduction=red)),
            (ml.huber(PRED, TARGET, 0.6, red), F.huber_loss(t(PRED), t(TARGET), reduction=red, delta=0.6)),
            (
                ml.binary_cross_entropy(special.expit(Z), Y01, reduction=red),
                F.binary_cross_entropy(t(special.expit(Z)), t(Y01), reduction=red),
            ),
            (
                ml.binary_cross_entropy_with_logits(Z, Y01, red),
                F.binary_cross_entropy_with_logits(t(Z), t(Y01), reduction=red),
            ),
            (ml.cross_entropy(LOGITS, LABELS, red), F.cross_entropy(t(LOGITS), t(LABELS), reduction=red)),
            (ml.cross_entropy(LOGITS, PROBS, red), F.cross_entropy(t(LOGITS), t(PROBS), reduction=red)),
            (ml.nll(np.log(PROBS), LABELS, red), F.nll_loss(t(np.log(PROBS)), t(LABELS), reduction=red)),
        ]
        for ours, theirs in cases:
            np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12)


# ---- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: ml.mse(np.zeros((3, 1)), np.zeros(3)), ValueError, r"shape \(3, 1\).*shape \(3,\)"),
        (lambda: ml.mse(PRED, TARGET, reduction="avg"), ValueError, "reduction must be one of"),
        (lambda: ml.huber(PRED, TARGET, delta=0.0), ValueError, "delta must be positive"),
        (lambda: ml.binary_cross_entropy(np.array([1.2]), np.array([1.0])), ValueError, r"prob must lie in"),
        (lambda: ml.binary_cross_entropy_with_logits(Z, Y01 * 2), ValueError, r"y must lie in \[0, 1\]"),
        (lambda: ml.cross_entropy(LOGITS, np.array([0, 4, 1, 1, 2, 0])), ValueError, r"0\.\.3"),
        (lambda: ml.cross_entropy(LOGITS, LABELS.astype(float)), ValueError, r"astype\(int\)"),
        (lambda: ml.cross_entropy(LOGITS, LABELS[:3]), ValueError, r"need shape \(6,\)"),
        (lambda: ml.cross_entropy(LOGITS, ONEHOT[:, :3]), ValueError, "logits' shape"),
        (lambda: ml.cross_entropy(LOGITS, LABELS > 0), TypeError, "integer class labels"),
        (lambda: ml.cross_entropy(1.0, 0), ValueError, "class axis"),
        (lambda: ml.nll(LOGITS, LABELS.astype(float)), TypeError, "must be integers"),
        (lambda: ml.hinge(Z, np.array([0, 1, 2, 1, 0, 1])), ValueError, r"\{-1, \+1\}"),
        (lambda: ml.hinge(Z, np.array([0, 1, -1, 1, 0, 1])), ValueError, r"\{0, 1\}"),
        (lambda: ml.l2_penalty(PARAMS, -1.0), ValueError, "non-negative"),
        (lambda: ml.elastic_net_penalty(PARAMS, 1.0, 1.5), ValueError, r"l1_ratio must lie in \[0, 1\]"),
        (lambda: ml.l1_penalty({}, 1.0), ValueError, "no arrays"),
    ],
)
def test_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
