"""Gradient health, measured: vanishing/exploding gradients, dead ReLUs, He vs Xavier, clipping, backprop.

Every claim is an assertion on seeded measurements, checked against a closed form (variance
propagation, spectral-norm bounds, the hand-derived backprop formula) or a hand NumPy computation.
"""

import numpy as np
import pytest

import slopes as sl
import slopes.ml as ml
import slopes.optim as so
from slopes.core.pytree import flatten, unflatten

RNG = np.random.default_rng(0)


def np_forward_hidden(params, x, act):
    """Pre-activations of each hidden layer of a plain MLP, by hand."""
    pres, h = [], x
    for layer in params[:-1]:
        z = h @ layer["W"] + layer["b"]
        pres.append(z)
        h = act(z)
    return pres


# ---------------------------------------------------------------- layer_grad_norms


def test_layer_grad_norms_match_central_differences():
    model = ml.MLP([3, 4, 4, 2], activation="tanh", seed=0)
    params = model.init()
    x, y = RNG.normal(size=(6, 3)), RNG.integers(0, 2, size=6)
    leaves, tree = flatten(params)

    def np_loss(flat):
        p = unflatten(tree, flat)
        h = x
        for layer in p[:-1]:
            h = np.tanh(h @ layer["W"] + layer["b"])
        z = h @ p[-1]["W"] + p[-1]["b"]
        z = z - z.max(axis=1, keepdims=True)
        return -(z - np.log(np.exp(z).sum(axis=1, keepdims=True)))[np.arange(6), y].mean()

    numeric = []
    for k, leaf in enumerate(leaves):
        g = np.zeros_like(leaf)
        for idx in np.ndindex(leaf.shape):
            plus, minus = [v.copy() for v in leaves], [v.copy() for v in leaves]
            plus[k][idx] += 1e-6
            minus[k][idx] -= 1e-6
            g[idx] = (np_loss(plus) - np_loss(minus)) / 2e-6
        numeric.append(g)
    per_layer = unflatten(tree, numeric)
    expected = [np.sqrt(sum(np.sum(v**2) for v in layer.values())) for layer in per_layer]
    np.testing.assert_allclose(
        ml.layer_grad_norms(model, params, ml.cross_entropy, (x, y)), expected, rtol=1e-6
    )


# ---------------------------------------------------------------- vanishing and exploding


def test_deep_sigmoid_gradients_vanish_below_the_chain_rule_bound():
    s = ml.depth_study([2, 5, 10, 20], activation="sigmoid", seed=0)
    # measured first/last: 5.2e-2, 4.9e-4, 3.8e-7, 1.5e-13 -- geometric decay with depth
    assert s.ratio[-1] < 1e-10
    assert np.all(np.diff(np.log10(s.ratio)) < -1)
    # Closed-form bound: sigmoid' <= 1/4, so the backward signal through hidden layer k shrinks by at
    # most ||W_k||_2 / 4; the first layer's gradient is bounded by the product over the layers above.
    model = ml.MLP([16] + [32] * 20 + [10], activation="sigmoid", seed=0)
    params = model.init()
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(128, 16)), rng.integers(0, 10, size=128)
    norms = ml.layer_grad_norms(model, params, ml.cross_entropy, (X, y))
    np.testing.assert_allclose(norms[0], s.first[-1], rtol=1e-12)  # same network as the study's
    hidden = np_forward_hidden(params, X, lambda z: 1 / (1 + np.exp(-z)))
    # dL/dlogits = (softmax - onehot)/n has Frobenius norm <= sqrt(2)/sqrt(n) ... times the input size
    delta_bound = np.sqrt(2.0 / len(X))
    spectral = [np.linalg.norm(layer["W"], 2) for layer in params[1:]]
    chain = delta_bound * np.prod(spectral) * 0.25 ** len(hidden)
    input_size = np.sqrt(np.sum(X**2) + len(X))  # ||[X, 1]||_F for W and b together
    assert norms[0] <= chain * input_size, (norms[0], chain * input_size)
    assert chain * input_size < 1e-5 * norms[-1]  # the bound alone forces vanishing (1.1e-6 vs 0.44)


def test_relu_he_and_residual_blocks_do_not_vanish():
    relu = ml.depth_study([20], activation="relu", seed=0)  # He init by default
    res = ml.depth_study([20], activation="relu", residual=True, seed=0)
    sig_res = ml.depth_study([20], activation="sigmoid", residual=True, seed=0)
    sig = ml.depth_study([20], activation="sigmoid", seed=0)
    # measured first/last: relu 0.45, relu+residual 0.33, sigmoid+residual 0.16 vs plain sigmoid 1.5e-13
    for study in (relu, res, sig_res):
        assert 0.1 < study.ratio[0] < 10, study
    assert sig_res.ratio[0] > 1e10 * sig.ratio[0]
    assert "first/last" in str(relu)


def _large_init(gain):
    return lambda shape, seed: ml.initializers.normal(shape, gain * np.sqrt(2 / shape[0]), seed=seed)


def test_large_init_explodes_with_depth_at_the_predicted_rate_and_clipping_bounds_the_update():
    # He init times a gain g: each ReLU layer scales forward activations and backward signals by ~g,
    # so the gradient norm grows like g^depth. Closed-form slope for g = 2: log2 |g| grows 1 per layer.
    big = ml.depth_study([2, 4, 8, 16], activation="relu", init=_large_init(2.0), seed=0)
    he = ml.depth_study([2, 4, 8, 16], activation="relu", seed=0)
    slope_big = np.diff(np.log2(big.total)) / np.diff(big.depths)  # measured 1.34, 1.17, 1.06
    slope_he = np.diff(np.log2(he.total)) / np.diff(he.depths)
    assert np.all(np.abs(slope_big - 1.0) < 0.4), slope_big
    assert np.all(np.abs(slope_he) < 0.4), slope_he
    assert big.total[-1] > 1e5 and he.total[-1] < 10

    # clip_by_global_norm(c) then sgd(lr): the update's norm is exactly lr * c (g <- g c / ||g||)
    model = ml.MLP([16] + [32] * 16 + [10], activation="relu", init=_large_init(2.0), seed=0)
    params = model.init()
    X, y = RNG.normal(size=(64, 16)), RNG.integers(0, 10, size=64)
    grads = sl.grad(lambda p: ml.cross_entropy(model(p, X), y))(params)
    raw = so.global_norm(grads)
    lr, c = 0.1, 1.0
    opt = so.chain(so.clip_by_global_norm(c), so.sgd(lr))
    updates, _ = opt.update(grads, opt.init(params), params)
    assert raw > 1e4
    np.testing.assert_allclose(so.global_norm(updates), lr * c, rtol=1e-12)
    unclipped, _ = so.sgd(lr).update(grads, so.sgd(lr).init(params), params)
    np.testing.assert_allclose(so.global_norm(unclipped), lr * raw, rtol=1e-12)


# ---------------------------------------------------------------- dead ReLUs


def test_dead_relu_fraction_rises_with_a_negative_bias():
    model = ml.MLP([10, 64, 10], seed=0)
    X = RNG.normal(size=(200, 10))
    fractions = []
    for bias in [0.0, -2.0, -4.0, -6.0, -10.0]:
        params = model.init()
        params[0]["b"][:] = bias
        frac = ml.dead_relu_fraction(model, params, X)
        # hand NumPy reference: units with pre-activation <= 0 on every row
        (pre,) = np_forward_hidden(params, X, lambda z: np.maximum(z, 0))
        assert frac[0] == np.mean(np.all(pre <= 0, axis=0))
        fractions.append(frac[0])
    # He weights: a unit's pre-activation has std sqrt(2/10 * |x|^2) ~ 1.4; -10 is ~7 std below zero
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert np.all(np.diff(fractions) >= 0) and 0 < fractions[2] < 1, fractions


def test_a_large_learning_rate_kills_relus():
    d = ml.datasets.load("digits")
    X = ml.Standardizer().fit(d.X).transform(d.X)
    out = {}
    for lr in [0.01, 2.0]:
        model = ml.MLP([64, 64, 64, 10], seed=0)
        res = ml.fit(
            lambda p, b, model=model: ml.cross_entropy(model(p, b[0]), b[1]),
            model.init(),
            (X, d.y),
            optimizer=so.sgd(lr),
            epochs=3,
            batch_size=64,
            seed=0,
        )
        out[lr] = ml.dead_relu_fraction(model, res.params, X)
        pres = np_forward_hidden(res.params, X, lambda z: np.maximum(z, 0))
        np.testing.assert_array_equal(out[lr], [np.mean(np.all(z <= 0, axis=0)) for z in pres])
    # measured: lr 0.01 -> [0, 0]; lr 2.0 -> [0, 0.98]
    assert out[0.01].max() == 0.0
    assert out[2.0].max() > 0.5


# ---------------------------------------------------------------- He vs Xavier, forward variance


def test_he_keeps_relu_variance_and_xavier_halves_it():
    # Equal fans n: pre-activation variance = n Var(W) E[h^2]; relu keeps half of the second moment, and
    # Var(relu(z)) = Var(z) (1/2 - 1/(2 pi)). He (Var W = 2/n): constant. Xavier (1/n): halves each layer.
    n, depth = 128, 10
    X = np.random.default_rng(1).normal(size=(256, n))
    c = 0.5 - 0.5 / np.pi
    for init, first, factor in [("he_normal", 2 * c, 1.0), ("xavier_normal", c, 0.5)]:
        vs = []
        for seed in range(4):
            model = ml.MLP([n] + [n] * depth + [10], "relu", init, seed=seed)
            vs.append(ml.activation_variances(model, model.init(), X))
        v = np.mean(vs, axis=0)
        np.testing.assert_allclose(v[0], first, rtol=0.05)
        per_layer = (v[-1] / v[0]) ** (1 / (depth - 1))  # geometric mean: measured 0.976 and 0.488
        assert abs(per_layer / factor - 1) < 0.15, (init, per_layer)


def _tanh_mean_field(gain, depth, q0=1.0):
    """E[tanh(z)^2] layer by layer for z ~ N(0, gain q): Gauss-Hermite quadrature (infinite width)."""
    z, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / w.sum()
    q, out = q0, []
    for _ in range(depth):
        q = np.sum(w * np.tanh(np.sqrt(gain * q) * z) ** 2)
        out.append(q)
    return np.array(out)


def test_tanh_variance_follows_mean_field_xavier_decays_slowly_he_saturates():
    n, depth = 256, 10
    X = np.random.default_rng(1).normal(size=(512, n))
    measured = {}
    for init, gain in [("xavier_normal", 1.0), ("he_normal", 2.0)]:
        model = ml.MLP([n] + [n] * depth + [10], "tanh", init, seed=0)
        v = ml.activation_variances(model, model.init(), X)
        np.testing.assert_allclose(v, _tanh_mean_field(gain, depth), rtol=0.05)
        measured[init] = v
    # Xavier keeps tanh in its linear range: no geometric collapse (0.135 of the first layer after
    # 10 layers, a ~1/l decay) where relu with Xavier keeps 2^-9 = 0.002; He drives tanh to a fixed point
    # ~0.31 (saturated units, derivative far below 1).
    assert measured["xavier_normal"][-1] / measured["xavier_normal"][0] > 0.1
    assert abs(measured["he_normal"][-1] - measured["he_normal"][-2]) < 0.01


# ---------------------------------------------------------------- backprop exercise


def test_backprop_exercise_hand_formula_matches_autodiff():
    # y = w2 sigma(w1 x + b1) + b2, L = (y - t)^2; with a = sigma(w1 x + b1), r = y - t:
    # dL/dw2 = 2 r a, dL/db2 = 2 r, dL/dw1 = 2 r w2 a (1 - a) x, dL/db1 = 2 r w2 a (1 - a)
    def loss(p, x, t):
        a = ml.sigmoid(p[0] * x + p[1])
        return (p[2] * a + p[3] - t) ** 2

    for w1, b1, w2, b2, x, t in [(0.5, -0.1, 1.5, 0.2, 2.0, 1.0), (-1.2, 0.7, -0.3, 1.0, 0.4, -2.0)]:
        a = 1 / (1 + np.exp(-(w1 * x + b1)))
        r = w2 * a + b2 - t
        hand = np.array([2 * r * w2 * a * (1 - a) * x, 2 * r * w2 * a * (1 - a), 2 * r * a, 2 * r])
        np.testing.assert_allclose(sl.grad(loss)(np.array([w1, b1, w2, b2]), x, t), hand, rtol=1e-13)


# ---------------------------------------------------------------- errors


def test_health_errors_are_clear():
    model = ml.MLP([2, 3, 1])
    with pytest.raises(TypeError, match="must be a slopes.ml.MLP"):
        ml.dead_relu_fraction(lambda p, x: x, [], np.ones((1, 2)))
    with pytest.raises(ValueError, match="list of 2 layer dicts"):
        ml.activation_variances(model, model.init()[:1], np.ones((1, 2)))
    with pytest.raises(ValueError, match="no hidden layer"):
        ml.dead_relu_fraction(ml.MLP([2, 1]), ml.MLP([2, 1]).init(), np.ones((1, 2)))
    with pytest.raises(ValueError, match="pair"):
        ml.layer_grad_norms(model, model.init(), ml.mse, np.ones((1, 2)))
    with pytest.raises(ValueError, match="positive ints"):
        ml.depth_study([0, 3])
