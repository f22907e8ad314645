"""vmap for machine learning: per-example gradients, the empirical Fisher, Jacobians and Hessians.

Every batched result is checked against an explicit Python loop over the
examples (or a closed form, or finite differences), and the Jacobians run
with ``loop_rule`` -- the batching fallback that loops over the batch --
replaced by a function that raises, so a rule that quietly loops fails here.
"""

from __future__ import annotations

import numpy as np
import pytest

import slopes as sl
import slopes.core.batching as batching
import slopes.numpy as snp

N, D, H = 7, 4, 5


@pytest.fixture
def no_loops(monkeypatch):
    """Make the per-example fallback of ``vmap`` an error for the duration of a test."""

    def refuse(prim, vals, batched, params):
        raise AssertionError(f"'{prim.name}' was batched with a Python loop over the batch")

    monkeypatch.setattr(batching, "loop_rule", refuse)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    y = (rng.random(N) < 0.5).astype(float)
    return rng, X, y


def _rows(fn, n):
    """Stack ``fn(i)`` over the rows, leaf by leaf for pytree results."""
    outs = [fn(i) for i in range(n)]
    if isinstance(outs[0], dict):
        return {k: np.stack([o[k] for o in outs]) for k in outs[0]}
    return np.stack(outs)


def _close(got, want, **kw):
    kw.setdefault("rtol", 1e-10)
    kw.setdefault("atol", 1e-12)
    if isinstance(want, dict):
        assert set(got) == set(want)
        for k in want:
            np.testing.assert_allclose(got[k], want[k], err_msg=k, **kw)
    else:
        np.testing.assert_allclose(got, want, **kw)


# -- the models ------------------------------------------------------------------------------------
def logistic_loss(w, X, y):
    """Mean cross-entropy of logistic regression; ``X`` one row (D,) or a batch (n, D)."""
    z = X @ w
    return snp.mean(y * snp.logaddexp(0.0, -z) + (1.0 - y) * snp.logaddexp(0.0, z))


def mlp_loss(params, X, y):
    """Squared error of a one-hidden-layer tanh network."""
    h = snp.tanh(X @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return snp.mean((out - y) ** 2)


def _mlp_params(rng):
    return {
        "W1": rng.standard_normal((D, H)) / np.sqrt(D),
        "b1": 0.1 * rng.standard_normal(H),
        "W2": rng.standard_normal(H) / np.sqrt(H),
        "b2": np.array(0.3),
    }


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# -- per-example gradients -----------------------------------------------------------------------------
def test_per_example_gradients_of_logistic_regression(no_loops):
    rng, X, y = _data()
    w = rng.standard_normal(D)
    G = sl.vmap(sl.grad(logistic_loss), in_axes=(None, 0, 0))(w, X, y)
    loop = _rows(lambda i: sl.grad(logistic_loss)(w, X[i : i + 1], y[i : i + 1]), N)
    _close(G, loop)
    _close(G, (_sigmoid(X @ w) - y)[:, None] * X)  # the closed form (p - y) x
    _close(G.mean(axis=0), sl.grad(logistic_loss)(w, X, y))


def test_per_example_gradients_of_an_mlp_with_dict_parameters(no_loops):
    rng, X, _ = _data(1)
    y = rng.standard_normal(N)
    params = _mlp_params(rng)
    G = sl.vmap(sl.grad(mlp_loss), in_axes=(None, 0, 0))(params, X, y)
    loop = _rows(lambda i: sl.grad(mlp_loss)(params, X[i : i + 1], y[i : i + 1]), N)
    _close(G, loop)
    assert G["W1"].shape == (N, D, H) and G["b2"].shape == (N,)
    full = sl.grad(mlp_loss)(params, X, y)
    _close({k: g.mean(axis=0) for k, g in G.items()}, full)
    # in_axes as a pytree matching the parameters says the same thing, key by key
    axes = ({"W1": None, "b1": None, "W2": None, "b2": None}, 0, 0)
    _close(sl.vmap(sl.grad(mlp_loss), in_axes=axes)(params, X, y), G)


def test_per_example_hessians(no_loops):
    rng, X, y = _data(2)
    w = rng.standard_normal(D)
    Hs = sl.vmap(sl.hessian(logistic_loss), in_axes=(None, 0, 0))(w, X, y)
    loop = _rows(lambda i: sl.hessian(logistic_loss)(w, X[i], y[i]), N)
    _close(Hs, loop)
    p = _sigmoid(X @ w)
    _close(Hs, (p * (1 - p))[:, None, None] * X[:, :, None] * X[:, None, :])


# -- the empirical Fisher ------------------------------------------------------------------------------
def _per_example(w, X, y):
    return sl.vmap(sl.grad(logistic_loss), in_axes=(None, 0, 0))(w, X, y)


def test_empirical_fisher_matches_the_loop(no_loops):
    rng, X, _ = _data(3)
    y = rng.standard_normal(N)
    params = _mlp_params(rng)
    G = sl.vmap(sl.grad(mlp_loss), in_axes=(None, 0, 0))(params, X, y)
    flat = np.concatenate([G[k].reshape(N, -1) for k in sorted(G)], axis=1)
    F = flat.T @ flat / N
    F_loop = np.zeros_like(F)
    for i in range(N):
        g = sl.grad(mlp_loss)(params, X[i : i + 1], y[i : i + 1])
        v = np.concatenate([np.ravel(g[k]) for k in sorted(g)])
        F_loop += np.outer(v, v) / N
    _close(F, F_loop)
    assert np.all(np.linalg.eigvalsh(F) > -1e-12)  # a Gram matrix: positive semidefinite


def test_fisher_is_the_expected_empirical_fisher(no_loops):
    rng, X, y = _data(4)
    w = rng.standard_normal(D)
    p = _sigmoid(X @ w)
    fisher = X.T @ ((p * (1 - p))[:, None] * X) / N
    # for logistic regression the Fisher is also the Hessian of the loss
    _close(sl.hessian(logistic_loss)(w, X, y), fisher)

    G = _per_example(w, X, y)
    empirical = G.T @ G / N
    assert not np.allclose(empirical, fisher, rtol=1e-3)  # labels drawn once: not the Fisher

    # E over y_i ~ Bernoulli(p_i) of the empirical Fisher: both labels, weighted p and 1 - p
    G1, G0 = _per_example(w, X, np.ones(N)), _per_example(w, X, np.zeros(N))
    expected = (G1.T @ (p[:, None] * G1) + G0.T @ ((1 - p)[:, None] * G0)) / N
    _close(expected, fisher)


# -- Jacobians and Hessians, without a loop over the batch -------------------------------------------------
M = np.random.default_rng(5).standard_normal((3, 4))

# (function R^4 -> R^k, its Jacobian in closed form)
VECTOR_FUNCTIONS = {
    "indexing": (
        lambda x: snp.concatenate([x[0] * x[1:], snp.stack([x[-1] ** 2])]),
        lambda x: np.vstack([np.column_stack([x[1:], x[0] * np.eye(3)]), 2 * x[3] * np.eye(4)[3]]),
    ),
    "ellipsis": (
        lambda x: snp.reshape(x, (2, 2))[..., 0] ** 3,
        lambda x: np.array([[3 * x[0] ** 2, 0, 0, 0], [0, 0, 3 * x[2] ** 2, 0]]),
    ),
    "matmul": (
        lambda x: snp.tanh(M @ x),
        lambda x: (1 - np.tanh(M @ x) ** 2)[:, None] * M,
    ),
    "where": (
        lambda x: snp.where(x > 0, x**2, snp.sin(x)),
        lambda x: np.diag(np.where(x > 0, 2 * x, np.cos(x))),
    ),
    "reductions": (
        lambda x: snp.stack([snp.sum(x**2), snp.max(x), snp.mean(x)]),
        lambda x: np.vstack([2 * x, np.eye(4)[np.argmax(x)], np.full(4, 0.25)]),
    ),
    "softmax": (
        lambda x: snp.exp(x - snp.logsumexp(x)),
        lambda x: (lambda s: np.diag(s) - np.outer(s, s))(np.exp(x - np.log(np.sum(np.exp(x))))),
    ),
    "advanced_index": (
        lambda x: snp.reshape(x, (2, 2))[np.array([1, 0, 1]), np.array([0, 1, 1])] * x[0],
        None,
    ),
    "separated_advanced_index": (
        lambda x: snp.reshape(x, (2, 1, 2))[np.array([1, 0]), :, np.array([0, 0])] ** 2,
        None,
    ),
    "take_along_axis": (
        lambda x: snp.take_along_axis(snp.reshape(x, (2, 2)), np.array([[1], [0]]), 1)[:, 0] * x[3],
        None,
    ),
    "einsum_and_update": (
        lambda x: snp.at(snp.einsum("ij,j->i", M, x))[np.array([0, 2])].add(x[1:3] ** 2),
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(VECTOR_FUNCTIONS))
def test_jacobians_without_loops(name, no_loops):
    f, closed = VECTOR_FUNCTIONS[name]
    x = np.array([0.7, -1.2, 0.4, 1.9])
    want = closed(x) if closed else sl.numeric.jacobian(f, x)
    tol = {"rtol": 1e-10} if closed else {"rtol": 1e-7, "atol": 1e-8}
    _close(sl.jacfwd(f)(x), want, **tol)
    _close(sl.jacrev(f)(x), want, **tol)


SCALAR_FUNCTIONS = {
    "indexing": lambda x: x[0] ** 2 * x[1] + snp.sum(x[1:] ** 3) + snp.exp(x[..., 0] * x[-1]),
    "matmul": lambda x: snp.sum(snp.tanh(M @ x) ** 2),
    "where": lambda x: snp.sum(snp.where(x > 0, x**3, snp.sin(x) * x[0])),
    "logsumexp": lambda x: snp.logsumexp(M @ x) - (M @ x)[1],
    "logistic": lambda x: logistic_loss(x, M, np.array([1.0, 0.0, 1.0])),
    "separated_advanced_index": lambda x: snp.sum(snp.reshape(x, (2, 1, 2))[np.array([1, 0]), :, 1] ** 3),
    "outer": lambda x: snp.sum((x[:, None] * x[None, :]) ** 2) + snp.max(x) * snp.prod(x[1:]),
}


@pytest.mark.parametrize("name", sorted(SCALAR_FUNCTIONS))
def test_hessians_without_loops(name, no_loops):
    f = SCALAR_FUNCTIONS[name]
    x = np.array([0.7, -1.2, 0.4, 1.9])
    Hf = sl.hessian(f)(x)
    np.testing.assert_allclose(Hf, Hf.T, rtol=1e-10, atol=1e-12)
    _close(Hf, sl.numeric.hessian(f, x), rtol=1e-6, atol=1e-6)
    _close(sl.jacrev(sl.jacfwd(f))(x), Hf)
    _close(sl.jacrev(sl.grad(f))(x), Hf)


def test_quadratic_hessian_is_exact(no_loops):
    A = np.random.default_rng(6).standard_normal((4, 4))
    f = lambda x: x @ A @ x + snp.sum(x[1:] * x[:-1])
    _close(sl.hessian(f)(np.ones(4)), A + A.T + np.eye(4, k=1) + np.eye(4, k=-1), rtol=1e-13)


# -- indexing under vmap: every layout NumPy has, no loop ---------------------------------------------------
INDICES = [
    (0,),
    (slice(1, None),),
    (Ellipsis, 0),
    (None, 1),
    (np.array([2, 0, 2]),),
    (slice(None), np.array([0, 0])),
    (np.array([0, 2]), slice(None), np.array([1, 1])),  # separated: NumPy puts them in front
    (0, slice(None), np.array([1, 3, 1])),
    (np.array([[0], [2]]), slice(1, 3), np.array([1, 3, 0])),
    (np.array([0, 1]), None, np.array([2, 3])),
    (np.array([0, 1]), Ellipsis, np.array([2, 3])),
    (np.array([True, False, True]), slice(None), 2),
]


@pytest.mark.parametrize("index", INDICES, ids=range(len(INDICES)))
def test_indexing_and_updates_match_a_loop(index, no_loops):
    rng = np.random.default_rng(7)
    B = 3
    x = rng.standard_normal((3, 4, 4))
    X = rng.standard_normal((B,) + x.shape)
    sel = x[index].shape
    V = rng.standard_normal((B,) + sel)
    cases = [
        (lambda a: a[index], (X,), 0),
        (lambda a, v: snp.at(a)[index].set(v), (X, V), 0),
        (lambda a, v: snp.at(a)[index].set(v), (x, V), (None, 0)),
        (lambda a, v: snp.at(a)[index].set(v), (X, V[0]), (0, None)),
        (lambda a, v: snp.at(a)[index].add(v), (X, V), 0),
        (lambda a, v: snp.at(a)[index].add(v), (x, V), (None, 0)),
    ]
    for fn, args, axes in cases:
        got = sl.vmap(fn, in_axes=axes)(*args)
        ax = axes if isinstance(axes, tuple) else (axes,) * len(args)
        want = _rows(lambda i: fn(*[a[i] if c == 0 else a for a, c in zip(args, ax)]), B)
        _close(got, want, rtol=0, atol=0)
    # and the derivatives through them (scatter_add is getitem's adjoint)
    f = lambda a: snp.sum(a[index] ** 3)
    _close(sl.jacrev(sl.grad(f))(x).reshape(x.size, x.size), sl.hessian(f)(x).reshape(x.size, x.size))


def test_arg_reductions_keep_their_dims_under_vmap():
    X = np.random.default_rng(8).standard_normal((3, 2, 4))
    for kw in ({"keepdims": True}, {"axis": 1, "keepdims": True}, {}):
        got = sl.vmap(lambda a: snp.argmax(a, **kw))(X)
        np.testing.assert_array_equal(got, np.stack([np.argmax(a, **kw) for a in X]))


# -- vmap's own interface ---------------------------------------------------------------------------------
def test_in_axes_one_and_negative_with_out_axes():
    rng = np.random.default_rng(9)
    A = rng.standard_normal((3, 5))
    B = rng.standard_normal((5, 2, 3))
    g = lambda a, b: b @ snp.sin(a)  # a: (3,), b: (2, 3) per example
    loop = np.stack([g(A[:, i], B[i]) for i in range(5)])  # (5, 2)
    _close(sl.vmap(g, in_axes=(1, 0))(A, B), loop)
    _close(sl.vmap(g, in_axes=(-1, 0))(A, B), loop)
    _close(sl.vmap(g, in_axes=(1, 0), out_axes=1)(A, B), loop.T)
    _close(sl.vmap(g, in_axes=(1, 0), out_axes=-1)(A, B), loop.T)
    Bt = np.moveaxis(B, 0, -1)  # (2, 3, 5)
    _close(sl.vmap(g, in_axes=(-1, -1))(A, Bt), loop)
    _close(sl.vmap(g, in_axes=(1, 2))(A, Bt), loop)


def test_pytrees_in_and_out():
    rng = np.random.default_rng(10)
    params = {"w": rng.standard_normal(3), "scale": rng.standard_normal(4)}
    X = rng.standard_normal((4, 3))

    def f(p, xs):
        z = xs[0] @ p["w"] * p["scale"]
        return {"z": z, "pair": (z**2, snp.sum(p["w"]))}

    axes = ({"w": None, "scale": 0}, [0])
    got = sl.vmap(f, in_axes=axes, out_axes={"z": 0, "pair": (0, None)})(params, [X])
    for i in range(4):
        one = f({"w": params["w"], "scale": params["scale"][i]}, [X[i]])
        _close(got["z"][i], one["z"])
        _close(got["pair"][0][i], one["pair"][0])
    _close(got["pair"][1], np.sum(params["w"]))  # out_axes None: returned once
    assert np.shape(got["pair"][1]) == ()


def test_nested_vmap_and_jacobian_of_vmap(no_loops):
    rng = np.random.default_rng(11)
    X = rng.standard_normal((2, 3, 4))
    f = lambda x: snp.sum(x[1:] * x[:-1]) + snp.max(x) ** 2
    _close(sl.vmap(sl.vmap(f))(X), np.array([[f(x) for x in row] for row in X]))
    Y = X[0]
    # the Jacobian of a batched function is block diagonal: one gradient per row
    J = sl.jacfwd(sl.vmap(f))(Y)
    _close(np.einsum("iik->ik", J), sl.vmap(sl.grad(f))(Y))
    _close(J, sl.jacrev(sl.vmap(f))(Y))


def test_errors_name_the_argument():
    f = lambda params, x: params["w"] * x
    p = {"w": np.ones(3)}
    with pytest.raises(ValueError, match=r"params\['w'\] has 3 along axis 0, x has 4"):
        sl.vmap(f)(p, np.ones(4))
    with pytest.raises(ValueError, match=r"in_axes for params has keys \['b'\].*keys \['w'\]"):
        sl.vmap(f, in_axes=({"b": None}, 0))(p, np.ones(4))
    with pytest.raises(ValueError, match=r"in_axes 1 is out of range for x, of shape \(4,\)"):
        sl.vmap(f, in_axes=(None, 1))(p, np.ones(4))
    with pytest.raises(ValueError, match="no input is mapped"):
        sl.vmap(f, in_axes=None)(p, np.ones(4))
    with pytest.raises(ValueError, match="depends on the mapped inputs"):
        sl.vmap(f, in_axes=(None, 0), out_axes=None)(p, np.ones((2, 3)))
    with pytest.raises(ValueError, match="in_axes has 1 entries for 2 arguments"):
        sl.vmap(f, in_axes=(0,))(p, np.ones(4))


def test_keyword_arguments_pass_through_unmapped():
    f = lambda x, power=2: x**power
    _close(sl.vmap(f)(np.arange(3.0), power=3), np.arange(3.0) ** 3)
