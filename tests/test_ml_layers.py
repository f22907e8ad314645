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


# ---------------------------------------------------------------- batch norm


def np_batch_norm_backward(dy, x, gain, eps):
    """The closed-form batch-norm backward (Ioffe & Szegedy 2015), statistics over all but the last axis."""
    axes = tuple(range(x.ndim - 1))
    n = np.prod(x.shape[:-1])
    sigma = np.sqrt(x.var(axis=axes) + eps)
    xhat = (x - x.mean(axis=axes)) / sigma
    dxhat = dy * gain
    dx = (n * dxhat - dxhat.sum(axis=axes) - xhat * (dxhat * xhat).sum(axis=axes)) / (n * sigma)
    return dx, (dy * xhat).sum(axis=axes), dy.sum(axis=axes)


@pytest.mark.parametrize("shape", [(8, 3), (4, 5, 3)])
def test_batch_norm_training_matches_closed_form(shape):
    x = RNG.normal(size=shape) * 3 + 1
    p = randomize(ml.batch_norm_init(3))
    s = randomize(ml.batch_norm_state(3), seed=2)
    s["var"] = np.abs(s["var"])
    axes = tuple(range(len(shape) - 1))
    n = np.prod(shape[:-1])
    y, new = ml.batch_norm(p, s, x, momentum=0.2, eps=1e-3)
    ref = (x - x.mean(axis=axes)) / np.sqrt(x.var(axis=axes) + 1e-3) * p["gain"] + p["bias"]
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(new["mean"], 0.8 * s["mean"] + 0.2 * x.mean(axis=axes), rtol=1e-13)
    np.testing.assert_allclose(new["var"], 0.8 * s["var"] + 0.2 * x.var(axis=axes) * n / (n - 1), rtol=1e-13)
    # gradient of a weighted sum with respect to x, gain and bias: the textbook backward pass
    w = RNG.normal(size=shape)
    loss = lambda p, x: (ml.batch_norm(p, s, x, momentum=0.2, eps=1e-3)[0] * w).sum()
    gp, gx = sl.grad(loss, argnums=(0, 1))(p, x)
    dx, dgain, dbias = np_batch_norm_backward(w, x, p["gain"], 1e-3)
    np.testing.assert_allclose(gx, dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gp["gain"], dgain, rtol=1e-12)
    np.testing.assert_allclose(gp["bias"], dbias, rtol=1e-12)


def test_batch_norm_matches_torch_over_several_steps():
    torch = pytest.importorskip("torch")
    p = randomize(ml.batch_norm_init(4))
    bn = torch.nn.BatchNorm1d(4, eps=1e-5, momentum=0.1, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(p["gain"]))
        bn.bias.copy_(torch.tensor(p["bias"]))
    state = ml.batch_norm_state(4)
    for step in range(3):
        x = RNG.normal(size=(6, 4)) * (step + 1) - step
        w = RNG.normal(size=(6, 4))
        xt = torch.tensor(x, requires_grad=True)
        bn.zero_grad()
        yt = bn.train()(xt)
        (yt * torch.tensor(w)).sum().backward()

        def loss(p, s, x):
            y, s = ml.batch_norm(p, s, x)
            return (y * w).sum(), (y, s)

        (gp, gx), (y, state) = sl.grad(loss, argnums=(0, 2), has_aux=True)(p, state, x)
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(gp["gain"], bn.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(gp["bias"], bn.bias.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(state["mean"], bn.running_mean.numpy(), rtol=1e-13)
        np.testing.assert_allclose(state["var"], bn.running_var.numpy(), rtol=1e-13)
    x = RNG.normal(size=(5, 4))
    y_eval, same = ml.batch_norm(p, state, x, training=False)
    np.testing.assert_allclose(y_eval, bn.eval()(torch.tensor(x)).detach().numpy(), rtol=1e-12, atol=1e-12)
    assert same is state


def test_batch_norm_eval_mode_and_jit():
    p = randomize(ml.batch_norm_init(3))
    s = {"mean": np.array([0.5, -1.0, 2.0]), "var": np.array([4.0, 0.25, 1.0])}
    x = RNG.normal(size=(5, 3))
    y, same = ml.batch_norm(p, s, x, training=False, eps=0.0)
    np.testing.assert_allclose(y, (x - s["mean"]) / np.sqrt(s["var"]) * p["gain"] + p["bias"], rtol=1e-13)
    assert same is s
    # evaluation mode is affine in x: gradient gain / sqrt(var) per feature
    g = sl.grad(lambda x: ml.batch_norm(p, s, x, training=False, eps=0.0)[0].sum())(x)
    np.testing.assert_allclose(g, np.broadcast_to(p["gain"] / np.sqrt(s["var"]), x.shape), rtol=1e-13)
    # jit: the forward pass and a training step replay with the eager values, statistics as plain arrays
    jitted = sl.jit(lambda p, s, x: ml.batch_norm(p, s, x))
    for _ in range(2):
        (yj, sj), (ye, se) = jitted(p, s, x), ml.batch_norm(p, s, x)
        np.testing.assert_allclose(yj, ye, rtol=1e-13)
        assert_trees_close(sj, se, rtol=1e-13)

    def loss(p, s, x):
        y, s = ml.batch_norm(p, s, x)
        return (y**3).mean(), s

    gj, sj = sl.jit(sl.grad(loss, has_aux=True))(p, s, x)
    ge, se = sl.grad(loss, has_aux=True)(p, s, x)
    assert_trees_close(gj, ge, rtol=1e-12)
    assert_trees_close(sj, se, rtol=1e-13)
    assert all(type(v) is np.ndarray for v in list(sj.values()) + list(se.values()))


def test_batch_norm_dtype_and_errors():
    x32 = RNG.normal(size=(4, 2)).astype(np.float32)
    y, s = ml.batch_norm(ml.batch_norm_init(2, np.float32), ml.batch_norm_state(2, np.float32), x32)
    assert y.dtype == np.float32 and s["mean"].dtype == np.float32 and s["var"].dtype == np.float32
    p, s = ml.batch_norm_init(2), ml.batch_norm_state(2)
    with pytest.raises(ValueError, match="at least 2 samples per feature.*training=False"):
        ml.batch_norm(p, s, np.ones((1, 2)))
    assert ml.batch_norm(p, s, np.ones((1, 2)), training=False)[0].shape == (1, 2)
    with pytest.raises(ValueError, match="momentum must be a number in \\[0, 1\\]"):
        ml.batch_norm(p, s, np.ones((3, 2)), momentum=0.99 + 1)
    with pytest.raises(ValueError, match="last axis must have 2"):
        ml.batch_norm(p, s, np.ones((3, 4)))
    with pytest.raises(ValueError, match="positive integer"):
        ml.batch_norm_state(0)
