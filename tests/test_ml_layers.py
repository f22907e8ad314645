"""slopes.ml.layers: forward passes vs hand-written NumPy, gradients vs central differences, torch."""

import warnings

import numpy as np
import pytest

import slopes as sl
import slopes.ml as ml
from slopes.core.pytree import flatten, unflatten
from slopes.ml.layers import default_init, get_activation

RNG = np.random.default_rng(0)


# ---------------------------------------------------------------- hand-written NumPy references

NP_ACT = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "identity": lambda z: z,
}


def np_layer_norm(z, gain, bias, eps=1e-5):
    mu = z.mean(axis=-1, keepdims=True)
    var = ((z - mu) ** 2).mean(axis=-1, keepdims=True)
    return (z - mu) / np.sqrt(var + eps) * gain + bias


def np_mlp(params, x, act, residual=False, layer_norm=False):
    """The MLP forward pass written out directly from the docstring's definition."""
    f = NP_ACT[act]
    h = x
    for i, layer in enumerate(params):
        if i == len(params) - 1:
            return h @ layer["W"] + layer["b"]
        if residual and i > 0:
            u = np_layer_norm(h, layer["norm"]["gain"], layer["norm"]["bias"]) if layer_norm else h
            h = (
                h
                + f(u @ layer["inner"]["W"] + layer["inner"]["b"]) @ layer["outer"]["W"]
                + layer["outer"]["b"]
            )
        else:
            z = h @ layer["W"] + layer["b"]
            if layer_norm:
                z = np_layer_norm(z, layer["norm"]["gain"], layer["norm"]["bias"])
            h = f(z)


def randomize(params, seed=1):
    """Nonzero biases and non-unit norms, so every parameter matters in the comparison."""
    leaves, tree = flatten(params)
    rng = np.random.default_rng(seed)
    return unflatten(tree, [x + 0.3 * rng.normal(size=x.shape) for x in leaves])


def central_diff_grad(f, params, h=1e-6):
    """d f / d params by central differences, one entry at a time (plain NumPy)."""
    leaves, tree = flatten(params)
    out = []
    for k, x in enumerate(leaves):
        g = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            plus = [y.copy() for y in leaves]
            minus = [y.copy() for y in leaves]
            plus[k][idx] += h
            minus[k][idx] -= h
            g[idx] = (f(unflatten(tree, plus)) - f(unflatten(tree, minus))) / (2 * h)
        out.append(g)
    return unflatten(tree, out)


def assert_trees_close(a, b, **kw):
    la, ta = flatten(a)
    lb, tb = flatten(b)
    assert ta == tb
    for x, y in zip(la, lb):
        np.testing.assert_allclose(x, y, **kw)


# ---------------------------------------------------------------- dense, layer_norm, residual


def test_dense_matches_numpy_and_init_is_seeded():
    p = dense = ml.dense_init(5, 3, seed=0)
    assert p["W"].shape == (5, 3) and p["b"].shape == (3,) and not p["b"].any()
    assert np.array_equal(p["W"], ml.dense_init(5, 3, seed=0)["W"])
    assert not np.array_equal(p["W"], ml.dense_init(5, 3, seed=1)["W"])
    p = randomize(dense)
    x = RNG.normal(size=(4, 5))
    np.testing.assert_allclose(ml.dense(p, x), x @ p["W"] + p["b"], rtol=1e-14)


def test_dense_init_scales_follow_he_and_xavier_formulas():
    n_in, n_out = 400, 300
    he = ml.dense_init(n_in, n_out, seed=0)["W"]
    xu = ml.dense_init(n_in, n_out, seed=0, init="xavier_uniform")["W"]
    # closed forms: He std = sqrt(2 / fan_in); Xavier uniform bound sqrt(6 / (fan_in + fan_out))
    assert abs(he.std() / np.sqrt(2 / n_in) - 1) < 0.01
    assert np.abs(xu).max() <= np.sqrt(6 / (n_in + n_out)) and np.abs(xu).max() > 0.99 * np.sqrt(6 / 700)
    custom = ml.dense_init(2, 3, seed=0, init=lambda shape, seed: np.full(shape, 0.5))
    assert np.array_equal(custom["W"], np.full((2, 3), 0.5))


def test_layer_norm_matches_closed_form_and_is_stable():
    x = RNG.normal(size=(6, 8)) * 3 + 2
    p = randomize(ml.layer_norm_init(8))
    np.testing.assert_allclose(ml.layer_norm(p, x), np_layer_norm(x, p["gain"], p["bias"]), rtol=1e-12)
    # unit gain, zero bias: each row has mean 0 and variance var/(var+eps)
    y = ml.layer_norm(ml.layer_norm_init(8), x, eps=0.0)
    np.testing.assert_allclose(y.mean(axis=1), 0.0, atol=1e-14)
    np.testing.assert_allclose(y.var(axis=1), 1.0, rtol=1e-12)
    # a large common offset: the two-pass variance keeps full accuracy (E[x^2] - E[x]^2 would not)
    small = RNG.normal(size=(3, 8))
    np.testing.assert_allclose(
        ml.layer_norm(ml.layer_norm_init(8), 1e8 + small, eps=0.0),
        ml.layer_norm(ml.layer_norm_init(8), small, eps=0.0),
        atol=1e-7,
    )
    # a constant row stays finite, float32 stays float32, no warnings for |x| up to 1e3
    with np.errstate(all="raise"):
        const = ml.layer_norm(ml.layer_norm_init(8), np.full((1, 8), 1e3))
        assert np.array_equal(const, np.zeros((1, 8)))
        x32 = (1e3 * RNG.uniform(-1, 1, size=(4, 8))).astype(np.float32)
        y32 = ml.layer_norm(ml.layer_norm_init(8, dtype=np.float32), x32)
        g32 = sl.grad(lambda z: (ml.layer_norm(ml.layer_norm_init(8, dtype=np.float32), z) ** 3).sum())(x32)
    assert y32.dtype == np.float32 and g32.dtype == np.float32 and np.isfinite(g32).all()


def test_layer_norm_matches_torch():
    torch = pytest.importorskip("torch")
    x = RNG.normal(size=(5, 7)) * 4 - 1
    p = randomize(ml.layer_norm_init(7))
    ref = torch.nn.functional.layer_norm(
        torch.tensor(x), (7,), torch.tensor(p["gain"]), torch.tensor(p["bias"]), eps=1e-5
    )
    np.testing.assert_allclose(ml.layer_norm(p, x), ref.numpy(), rtol=1e-12, atol=1e-12)
    # and the gradient of a weighted sum, against torch.autograd
    w = RNG.normal(size=(5, 7))
    xt = torch.tensor(x, requires_grad=True)
    (
        torch.nn.functional.layer_norm(xt, (7,), torch.tensor(p["gain"]), torch.tensor(p["bias"]))
        * torch.tensor(w)
    ).sum().backward()
    g = sl.grad(lambda z: (ml.layer_norm(p, z) * w).sum())(x)
    np.testing.assert_allclose(g, xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_residual_block_is_identity_plus_branch():
    p = randomize(ml.residual_block_init(4, seed=0, hidden=6))
    x = RNG.normal(size=(3, 4))
    branch = np.tanh(x @ p["inner"]["W"] + p["inner"]["b"]) @ p["outer"]["W"] + p["outer"]["b"]
    np.testing.assert_allclose(ml.residual_block(p, x, "tanh"), x + branch, rtol=1e-13)
    scaled = ml.residual_block_init(4, seed=0, hidden=6, scale=0.25)
    base = ml.residual_block_init(4, seed=0, hidden=6)
    np.testing.assert_allclose(scaled["outer"]["W"], 0.25 * base["outer"]["W"], rtol=1e-15)


# ---------------------------------------------------------------- MLP


CONFIGS = [
    dict(activation="relu"),
    dict(activation="tanh"),
    dict(activation="sigmoid", layer_norm=True),
    dict(activation="relu", residual=True),
    dict(activation="tanh", residual=True, layer_norm=True),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_mlp_forward_matches_hand_numpy(cfg):
    model = ml.MLP([5, 6, 6, 6, 3], seed=0, **cfg)
    params = randomize(model.init())
    x = RNG.normal(size=(7, 5))
    ref = np_mlp(params, x, cfg["activation"], cfg.get("residual", False), cfg.get("layer_norm", False))
    np.testing.assert_allclose(model(params, x), ref, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(sl.jit(model)(params, x), ref, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("cfg", CONFIGS[1:], ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_mlp_gradient_matches_central_differences(cfg):
    # smooth activations (tanh, sigmoid) or relu away from its kink: a small net, every entry checked
    model = ml.MLP([3, 4, 4, 2], seed=0, **cfg)
    params = randomize(model.init())
    x = RNG.normal(size=(5, 3))
    y = np.array([0, 1, 1, 0, 1])

    def np_loss(p):
        z = np_mlp(p, x, cfg["activation"], cfg.get("residual", False), cfg.get("layer_norm", False))
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -logp[np.arange(5), y].mean()

    g = sl.grad(lambda p: ml.cross_entropy(model(p, x), y))(params)
    assert_trees_close(g, central_diff_grad(np_loss, params), rtol=1e-6, atol=1e-8)


def test_mlp_defaults_structure_and_dtype():
    assert ml.MLP([2, 3, 1], "relu").init_name == "he_normal" == default_init("gelu")
    assert ml.MLP([2, 3, 1], "tanh").init_name == "xavier_uniform" == default_init("sigmoid")
    model = ml.MLP([4, 8, 8, 3], residual=True, seed=3)
    params = model.init()
    assert [sorted(p) for p in params] == [["W", "b"], ["inner", "outer"], ["W", "b"]]
    # one residual block: its outer weight is scaled by 1/sqrt(1) = 1; the seed fixes every array
    assert_trees_close(params, model.init(), rtol=0)
    p32 = model.init(dtype=np.float32)
    out = model(p32, RNG.normal(size=(2, 4)).astype(np.float32))
    assert out.dtype == np.float32 and all(x.dtype == np.float32 for x in flatten(p32)[0])
    states = model.hidden_states(params, np.ones((2, 4)))
    assert len(states) == model.n_hidden == 2 and states[0]["post"].shape == (2, 8)
    assert "residual=True" in repr(model)


def test_deep_residual_stack_keeps_its_scale():
    # With He init a ReLU branch W2 relu(W1 h) has second moment 2 s^2 E[h^2] (s: the outer scale), so
    # each block multiplies E[h^2] by 1 + 2 s^2: with s^2 = 1/n over n blocks that is (1 + 2/n)^n < e^2,
    # where unscaled blocks (s = 1) would give 3^n.
    n = 20
    x = RNG.normal(size=(256, 32))
    model = ml.MLP([32] + [32] * (n + 1) + [1], residual=True, seed=0)
    states = model.hidden_states(model.init(), x)
    growth = np.mean(states[-1]["post"] ** 2) / np.mean(states[0]["post"] ** 2)
    closed_form = (1 + 2 / n) ** n  # 6.73
    assert 0.67 < growth / closed_form < 1.5, (growth, closed_form)  # measured 5.63 (finite width 32)


def test_activation_lookup_and_errors():
    np.testing.assert_array_equal(get_activation("logistic")(np.array([0.0])), [0.5])
    f = lambda z: 2 * z
    assert get_activation(f) is f
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        ml.MLP([2, 1], activation="swish")
    with pytest.raises(ValueError, match="unknown init"):
        ml.MLP([2, 1], init="lecun")
    with pytest.raises(ValueError, match="at least an input and an output"):
        ml.MLP([3])
    with pytest.raises(ValueError, match="positive integer"):
        ml.MLP([3, 0, 1])
    with pytest.raises(TypeError, match="sequence of ints"):
        ml.MLP(3)
    with pytest.raises(ValueError, match="equal hidden widths"):
        ml.MLP([2, 4, 5, 1], residual=True)
    with pytest.raises(TypeError, match="seed must be an int"):
        ml.MLP([2, 1], seed=None).init()
    with pytest.raises(TypeError, match="seed must be an int"):
        ml.residual_block_init(3, seed=1.5)
    model = ml.MLP([2, 3, 1])
    with pytest.raises(ValueError, match="list of 2 layer dicts"):
        model(model.init()[:1], np.ones((1, 2)))
    with pytest.raises(ValueError, match="last axis must have 2 features"):
        model(model.init(), np.ones((1, 3)))
    with pytest.raises(ValueError, match="last axis must have 3"):
        ml.layer_norm(ml.layer_norm_init(3), np.ones((2, 4)))
    with pytest.raises(ValueError, match="eps must be"):
        ml.layer_norm(ml.layer_norm_init(3), np.ones((2, 3)), eps=-1.0)
    with pytest.raises(ValueError, match="init returned shape"):
        ml.dense_init(2, 3, seed=0, init=lambda shape, seed: np.zeros(3))


def test_forward_raises_no_warnings_for_large_inputs():
    model = ml.MLP([3, 5, 5, 2], activation="sigmoid", layer_norm=True, seed=0)
    x = np.array([[1e3, -1e3, 0.0], [-1e3, 1e3, 5.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            g = sl.grad(lambda p: ml.cross_entropy(model(p, x), np.array([0, 1])))(model.init())
    assert all(np.isfinite(v).all() for v in flatten(g)[0])
