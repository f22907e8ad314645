"""checkpoint, elementwise_grad, ggnvp / make_ggnvp: values against closed forms, finite
differences and peer libraries; checkpoint's memory saving measured with tracemalloc."""

import numpy as np
import pytest

import slopes as sl
import slopes.core.reverse as reverse
import slopes.numpy as snp
from checks import check_derivatives
from memory import peak_bytes


# -- checkpoint ---------------------------------------------------------------------------------
def _layers(h, W, count):
    for _ in range(count):
        h = snp.tanh(h @ W)
    return h


def _deep_loss(block, x, blocks):
    return lambda W: snp.sum(_chain(block, x, W, blocks) ** 2)


def _chain(block, h, W, blocks):
    for _ in range(blocks):
        h = block(h, W)
    return h


def test_checkpoint_gradient_of_a_deep_chain_keeps_a_fraction_of_the_memory(monkeypatch):
    # the library's default release threshold (the suite's conftest releases everything)
    monkeypatch.setattr(reverse, "RELEASE_MIN_SIZE", 4096)
    rng = np.random.default_rng(0)
    batch, width, blocks, per_block = 64, 64, 12, 12  # 144 layers of tanh(h W)
    W = rng.standard_normal((width, width)) / np.sqrt(width)
    x = rng.standard_normal((batch, width))
    runs = []

    def block(h, W):
        runs.append(1)
        return _layers(h, W, per_block)

    plain, g_plain = peak_bytes(lambda: sl.grad(_deep_loss(block, x, blocks))(W))
    assert len(runs) == blocks
    runs.clear()
    saved, g_saved = peak_bytes(lambda: sl.grad(_deep_loss(sl.checkpoint(block), x, blocks))(W))
    assert len(runs) == 2 * blocks  # each block once forward, once more in the backward pass
    np.testing.assert_allclose(g_saved, g_plain, rtol=1e-12, atol=1e-12)
    # 144 stored activations against 12 block inputs plus one block's 12 recomputed ones
    # (measured: about 157 and 37 activations' worth of bytes)
    assert plain > 3 * saved, (plain / x.nbytes, saved / x.nbytes)


def test_checkpoint_derivatives_match_finite_differences_and_the_plain_function():
    rng = np.random.default_rng(1)
    W = rng.standard_normal((4, 4)) / 2
    x = rng.standard_normal((3, 4))
    block = sl.checkpoint(lambda h, W: snp.tanh(h @ W) + 0.1 * snp.sin(h))
    plain = lambda h, W: snp.tanh(h @ W) + 0.1 * snp.sin(h)  # noqa: E731
    f = lambda x, W: _chain(block, x, W, 3)  # noqa: E731
    f_plain = lambda x, W: _chain(plain, x, W, 3)  # noqa: E731
    check_derivatives(f, x, W)  # jvp, vjp, fwd-over-rev and rev-over-rev Hessian products
    loss = lambda x, W: snp.sum(f(x, W) ** 2)  # noqa: E731
    loss_plain = lambda x, W: snp.sum(f_plain(x, W) ** 2)  # noqa: E731
    for transform in (
        lambda fn: sl.grad(fn, argnums=(0, 1)),
        lambda fn: sl.hessian(fn, argnums=1),
        lambda fn: sl.vmap(sl.grad(fn), in_axes=(0, None)),  # per-row gradients
        lambda fn: sl.grad(lambda x, W: snp.sum(sl.vmap(fn, in_axes=(0, None))(x, W)), argnums=1),
    ):
        got, want = transform(loss)(x, W), transform(loss_plain)(x, W)
        for a, b in zip(sl.tree_map(np.ravel, got), sl.tree_map(np.ravel, want)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    # a jitted gradient replays the block on new values
    jitted = sl.jit(sl.grad(loss, argnums=1))
    for V in (W, -0.5 * W):
        np.testing.assert_allclose(jitted(x, V), sl.grad(loss_plain, argnums=1)(x, V), rtol=1e-12)
    assert jitted.cache_info()["hits"] == 1
    assert "checkpoint(" in str(jitted.trace(x, W))  # staged as one step, recomputed in the backward part
    # Taylor mode: the 4th derivative along a line
    fourth = lambda fn: sl.derivative(lambda t: fn(x * t, W), order=4)(0.7)  # noqa: E731
    np.testing.assert_allclose(fourth(loss), fourth(loss_plain), rtol=1e-10)


def test_checkpoint_takes_pytrees_and_constants_and_returns_pytrees():
    rng = np.random.default_rng(2)
    params = {"W": rng.standard_normal((3, 3)), "b": rng.standard_normal(3)}
    x = rng.standard_normal(3)

    def layer(p, h, activation):
        z = p["W"] @ h + p["b"]
        return (snp.tanh(z) if activation == "tanh" else snp.sin(z)), {"norm": snp.sum(h**2)}

    def loss(p, layer):
        out, extra = layer(p, x, "tanh")
        return snp.sum(out**3) + extra["norm"]

    g = sl.grad(lambda p: loss(p, sl.checkpoint(layer)))(params)
    # closed form: d/dW sum(tanh(z)^3) = (3 tanh^2 (1 - tanh^2)) outer x; the norm term has no W
    t = np.tanh(params["W"] @ x + params["b"])
    dz = 3 * t**2 * (1 - t**2)
    np.testing.assert_allclose(g["W"], np.outer(dz, x), rtol=1e-12)
    np.testing.assert_allclose(g["b"], dz, rtol=1e-12)
    gx = sl.grad(lambda x: sl.checkpoint(layer)(params, x, "tanh")[1]["norm"])(x)
    np.testing.assert_allclose(gx, 2 * x)


def test_checkpoint_pullback_serves_every_cotangent_and_keyword_arguments():
    W = np.array([[0.5, -0.2], [0.1, 0.3]])
    x = np.array([1.0, 2.0])
    block = sl.checkpoint(lambda h, W, scale=1.0: scale * snp.tanh(W @ h))
    _, pull = sl.vjp(lambda x, W: block(block(x, W), W, scale=2.0), x, W)
    t1 = np.tanh(W @ x)
    t2 = np.tanh(W @ t1)
    for ct in (np.ones(2), np.array([1.0, -3.0])):  # one recomputation per pull, never a stale cache
        dz2 = 2.0 * ct * (1 - t2**2)
        dz1 = (W.T @ dz2) * (1 - t1**2)
        gx, gW = pull(ct)
        np.testing.assert_allclose(gx, W.T @ dz1, rtol=1e-12)
        np.testing.assert_allclose(gW, np.outer(dz2, t1) + np.outer(dz1, x), rtol=1e-12)
    # a traced keyword argument is differentiated like a positional one
    np.testing.assert_allclose(sl.grad(lambda s: snp.sum(block(x, W, scale=s)))(2.0), np.sum(t1), rtol=1e-12)


def test_checkpoint_refuses_closures_over_traced_values_and_saving_policies():
    W = np.eye(2)

    def loss(W):
        h = sl.checkpoint(lambda h: snp.tanh(h @ W))(snp.ones(2) * snp.sum(W))
        return snp.sum(h)

    with pytest.raises(TypeError, match="as an argument"):
        sl.grad(loss)(W)
    with pytest.raises(ValueError, match="policy=None"):
        sl.checkpoint(snp.sin, policy="dots_saveable")


def test_checkpoint_gradient_equals_autograds():
    ag = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    rng = np.random.default_rng(3)
    W, x = rng.standard_normal((4, 4)) / 2, rng.standard_normal(4)

    def loss(np_, ckpt):
        layer = ckpt(lambda h, W: np_.tanh(W @ h) * np_.exp(-0.1 * h))
        return lambda W: np_.sum(layer(layer(x, W), W) ** 2)

    np.testing.assert_allclose(
        sl.grad(loss(snp, sl.checkpoint))(W), ag.grad(loss(anp, ag.checkpoint))(W), rtol=1e-12
    )


# -- elementwise_grad ---------------------------------------------------------------------------
def test_elementwise_grad_is_the_derivative_at_every_entry():
    x = np.linspace(-2.0, 2.0, 9).reshape(3, 3)
    np.testing.assert_allclose(sl.elementwise_grad(snp.tanh)(x), 1 - np.tanh(x) ** 2, rtol=1e-14)
    np.testing.assert_allclose(sl.elementwise_grad(lambda x: x**3 - x)(x), 3 * x**2 - 1)
    # argnums and has_aux, as grad's
    d0, d1 = sl.elementwise_grad(lambda a, b: a * snp.sin(b), argnums=(0, 1))(x, x + 1)
    np.testing.assert_allclose(d0, np.sin(x + 1))
    np.testing.assert_allclose(d1, x * np.cos(x + 1))
    d, aux = sl.elementwise_grad(lambda x: (snp.exp(x), "aux"), has_aux=True)(x)
    np.testing.assert_allclose(d, np.exp(x))
    assert aux == "aux"


def test_elementwise_grad_of_a_non_elementwise_function_is_the_jacobians_column_sums():
    A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_allclose(sl.elementwise_grad(lambda x: A @ x)(np.ones(2)), A.sum(axis=0))


def test_elementwise_grad_equals_autograds():
    ag = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    x = np.random.default_rng(4).standard_normal(50)
    f = lambda np_: lambda x: np_.log1p(np_.exp(x)) * np_.cos(x)  # noqa: E731
    np.testing.assert_allclose(sl.elementwise_grad(f(snp))(x), ag.elementwise_grad(f(anp))(x), rtol=1e-13)


# -- ggnvp ----------------------------------------------------------------------------------------
def _model_and_cross_entropy(rng):
    A = rng.standard_normal((3, 4))
    c = np.array([0.2, 0.5, 0.3])  # target probabilities
    model = lambda x: snp.tanh(A @ x)  # noqa: E731
    loss = lambda z: snp.log(snp.sum(snp.exp(z))) - snp.sum(c * z)  # noqa: E731
    return A, model, loss


def test_ggnvp_equals_explicit_jacobian_transpose_loss_hessian_jacobian():
    rng = np.random.default_rng(5)
    A, model, loss = _model_and_cross_entropy(rng)
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    t = np.tanh(A @ x)
    J = (1 - t**2)[:, None] * A  # closed form of the model's Jacobian
    p = np.exp(t) / np.exp(t).sum()
    H = np.diag(p) - np.outer(p, p)  # softmax cross-entropy's Hessian in the logits
    np.testing.assert_allclose(sl.ggnvp(model, x, v, loss=loss), J.T @ H @ J @ v, rtol=1e-12)
    # default loss 0.5 * |y|^2: the Gauss-Newton product J^T J v
    np.testing.assert_allclose(sl.ggnvp(model, x, v), J.T @ J @ v, rtol=1e-12)


def test_ggnvp_on_pytrees_and_make_ggnvp_argument_choice():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((5, 2))
    params = {"w": rng.standard_normal(2), "b": np.array(0.3)}
    v = {"w": rng.standard_normal(2), "b": np.array(-1.0)}
    predict = lambda p, X: X @ p["w"] + p["b"]  # noqa: E731 (linear: J = [X, 1])
    J = np.hstack([np.ones((5, 1)), X])  # columns in leaf order: b, then w
    jv = J @ np.concatenate([[v["b"]], v["w"]])
    got = sl.ggnvp(lambda p: predict(p, X), params, v)
    np.testing.assert_allclose(np.concatenate([[got["b"]], got["w"]]), J.T @ jv, rtol=1e-12)
    got2 = sl.make_ggnvp(lambda X, p: X @ p["w"] + p["b"], f_argnum=1)(X, params)(v)
    np.testing.assert_allclose(got2["w"], got["w"], rtol=1e-14)
    with pytest.raises(ValueError, match="f_argnum"):
        sl.make_ggnvp(predict, f_argnum=2)(params, X)


def test_make_ggnvp_equals_autograds():
    ag = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    rng = np.random.default_rng(7)
    A = rng.standard_normal((3, 4))
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    model = lambda np_: lambda x: np_.sin(A @ x) * x[:3]  # noqa: E731
    loss = lambda np_: lambda y: np_.sum(np_.exp(y)) + y[0] * y[1]  # noqa: E731
    for g in ((None, None), (loss(snp), loss(anp))):
        want = ag.make_ggnvp(model(anp), *([g[1]] if g[1] else []))(x)(v)
        np.testing.assert_allclose(sl.make_ggnvp(model(snp), g[0])(x)(v), want, rtol=1e-12)


def test_ggnvp_names_a_mismatched_vector_or_a_non_scalar_loss():
    f = lambda x: 2.0 * x  # noqa: E731
    with pytest.raises(ValueError, match=r"v must have x's structure and shapes.*\(3,\).*\(2,\)"):
        sl.ggnvp(f, np.ones(3), np.ones(2))
    with pytest.raises(TypeError, match=r"loss must return a scalar.*\(3,\)"):
        sl.ggnvp(f, np.ones(3), np.ones(3), loss=lambda y: y**2)
