"""vmap rules of the core primitives, each checked against a Python loop over examples."""

import itertools

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp

rng = np.random.default_rng(0)
B = 4


def _batched(x, mapped):
    return rng.standard_normal((B,) + np.shape(x)) if mapped else x


def check_vmap(fn, *args, axes=None):
    """vmap(fn) over every combination of mapped/unmapped arguments equals the loop."""
    combos = [axes] if axes else itertools.product([0, None], repeat=len(args))
    for combo in combos:
        if all(c is None for c in combo):
            continue
        ins = [_batched(a, c == 0) for a, c in zip(args, combo)]
        got = sl.vmap(fn, in_axes=tuple(combo))(*ins)
        want = np.stack([fn(*[x[i] if c == 0 else x for x, c in zip(ins, combo)]) for i in range(B)])
        assert got.shape == want.shape, (combo, got.shape, want.shape)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=str(combo))


@pytest.mark.parametrize(
    "sa, sb",
    list(itertools.product([(3,), (2, 3), (4, 2, 3)], [(3,), (3, 2), (4, 3, 2), (1, 3, 2)])),
)
def test_matmul_every_rank(sa, sb):
    check_vmap(lambda a, b: a @ b, rng.standard_normal(sa), rng.standard_normal(sb))


@pytest.mark.parametrize("sa, sb", [((3,), (2, 3)), ((2, 1), (3,)), ((), (2, 2)), ((2, 3), (2, 3))])
def test_elementwise_broadcasting(sa, sb):
    check_vmap(lambda a, b: snp.sin(a) * b + snp.maximum(a, b), rng.standard_normal(sa), rng.standard_normal(sb))


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(axis, keepdims):
    x = rng.standard_normal((3, 4))
    for fn in (snp.sum, snp.max, snp.min, snp.mean):
        check_vmap(lambda a: fn(a, axis=axis, keepdims=keepdims), x)


def test_argmax_and_cumsum():
    x = rng.standard_normal((3, 4))
    check_vmap(lambda a: snp.argmax(a, axis=1).astype(float), x)
    check_vmap(lambda a: snp.argmax(a).astype(float), x)
    check_vmap(lambda a: snp.cumsum(a, axis=0), x)


def test_shapes():
    x = rng.standard_normal((2, 3))
    check_vmap(lambda a: snp.reshape(a, (3, 2)), x)
    check_vmap(lambda a: a.T, x)
    check_vmap(lambda a: snp.broadcast_to(a, (4, 2, 3)), x)
    check_vmap(lambda a, b: snp.stack([a, b], axis=1), x, x)
    check_vmap(lambda a, b: snp.concatenate([a, b], axis=-1), x, x)


@pytest.mark.parametrize(
    "index",
    [0, (1, 2), (slice(None), 1), (Ellipsis, 0), (None, 1), np.array([2, 0, 2]), (slice(None), np.array([0, 0]))],
)
def test_indexing_and_updates(index):
    x = rng.standard_normal((3, 3))
    check_vmap(lambda a: a[index], x)
    check_vmap(lambda a: snp.at(a)[index].set(7.0), x)
    check_vmap(lambda a: snp.at(a)[index].add(1.0), x)


def test_separated_advanced_indices():
    x = rng.standard_normal((3, 2, 3))
    idx = (np.array([0, 2]), slice(None), np.array([1, 1]))
    check_vmap(lambda a: a[idx], x)


def test_per_example_gradients_match_a_loop():
    X = rng.standard_normal((6, 3))
    y = rng.standard_normal(6)
    w = rng.standard_normal(3)
    loss = lambda w, x, t: (snp.dot(x, w) - t) ** 2
    got = sl.vmap(sl.grad(loss), in_axes=(None, 0, 0))(w, X, y)
    want = np.stack([2 * (X[i] @ w - y[i]) * X[i] for i in range(6)])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_jacobians_of_batched_functions():
    x = rng.standard_normal(3)
    f = lambda x: snp.sin(x) * snp.sum(x ** 2)
    expected = np.diag(np.cos(x)) * np.sum(x**2) + np.outer(np.sin(x), 2 * x)
    np.testing.assert_allclose(sl.jacfwd(f)(x), expected, rtol=1e-12)
    np.testing.assert_allclose(sl.jacrev(f)(x), expected, rtol=1e-12)
