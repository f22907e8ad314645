"""Shapes, joining, indexing and functional updates: values against NumPy, derivatives
against finite differences and the closed forms of these linear maps (their adjoints are
computed here with plain NumPy: transpose back, scatter-add, sum over broadcast axes)."""

from __future__ import annotations

import numpy as np
import pytest
from checks import check_derivatives
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import slopes as sl
import slopes.numpy as snp
from slopes.core.trace import Tracer

# no shrinking: a failure is reported at once, keeping the suite fast even when red
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
FAST = settings(max_examples=15, deadline=None, phases=NO_SHRINK)

X = np.random.default_rng(0).standard_normal((2, 3, 4))


def linear_adjoint_check(f, npf, x, seed=0):
    """For a linear map written with snp (f) and NumPy (npf): values agree, and the gradient
    of <w, f(x)> equals the NumPy adjoint, computed as the gradient of a sum by columns."""
    out = f(x)
    ref = npf(x)
    np.testing.assert_array_equal(out, ref)
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(np.shape(ref))
    g = sl.grad(lambda v: snp.sum(f(v) * w))(x)
    # the adjoint by brute force: g_k = <w, npf(e_k)>
    expected = np.zeros(x.size)
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = 1.0
        expected[k] = np.sum(w * npf(e.reshape(x.shape)))
    np.testing.assert_allclose(g, expected.reshape(x.shape), rtol=1e-13, atol=1e-14)
    check_derivatives(f, x, seed=seed)


# -- shape functions ---------------------------------------------------------------------------
SHAPE_FUNS = {
    "reshape(-1,4)": (lambda v: snp.reshape(v, (-1, 4)), lambda v: np.reshape(v, (-1, 4))),
    "reshape(24)": (lambda v: snp.reshape(v, 24), lambda v: np.reshape(v, 24)),
    "reshape(4,3,2)": (lambda v: snp.reshape(v, (4, 3, 2)), lambda v: np.reshape(v, (4, 3, 2))),
    "ravel": (snp.ravel, np.ravel),
    "transpose": (snp.transpose, np.transpose),
    "transpose(1,2,0)": (lambda v: snp.transpose(v, (1, 2, 0)), lambda v: np.transpose(v, (1, 2, 0))),
    "transpose(-1,0,1)": (lambda v: snp.transpose(v, (-1, 0, 1)), lambda v: np.transpose(v, (-1, 0, 1))),
    "swapaxes(0,2)": (lambda v: snp.swapaxes(v, 0, 2), lambda v: np.swapaxes(v, 0, 2)),
    "swapaxes(-1,1)": (lambda v: snp.swapaxes(v, -1, 1), lambda v: np.swapaxes(v, -1, 1)),
    "moveaxis(0,-1)": (lambda v: snp.moveaxis(v, 0, -1), lambda v: np.moveaxis(v, 0, -1)),
    "moveaxis(2,0)": (lambda v: snp.moveaxis(v, 2, 0), lambda v: np.moveaxis(v, 2, 0)),
    "moveaxis([0,1],[2,0])": (lambda v: snp.moveaxis(v, [0, 1], [2, 0]), lambda v: np.moveaxis(v, [0, 1], [2, 0])),
    "expand_dims(0)": (lambda v: snp.expand_dims(v, 0), lambda v: np.expand_dims(v, 0)),
    "expand_dims(-1)": (lambda v: snp.expand_dims(v, -1), lambda v: np.expand_dims(v, -1)),
    "expand_dims((0,3))": (lambda v: snp.expand_dims(v, (0, 3)), lambda v: np.expand_dims(v, (0, 3))),
    "squeeze": (lambda v: snp.squeeze(snp.expand_dims(v, (0, 2))), lambda v: np.squeeze(np.expand_dims(v, (0, 2)))),
    "squeeze(axis)": (lambda v: snp.squeeze(snp.expand_dims(v, (0, 2)), axis=2), lambda v: np.squeeze(np.expand_dims(v, (0, 2)), axis=2)),
    "squeeze(-4)": (lambda v: snp.squeeze(snp.expand_dims(v, 0), axis=-4), lambda v: np.squeeze(np.expand_dims(v, 0), axis=-4)),
    "broadcast_to": (lambda v: snp.broadcast_to(v, (5, 2, 3, 4)), lambda v: np.broadcast_to(v, (5, 2, 3, 4))),
    "broadcast_to size-1": (lambda v: snp.broadcast_to(v[:, :1, :], (2, 3, 4)), lambda v: np.broadcast_to(v[:, :1, :], (2, 3, 4))),
    "atleast_2d": (lambda v: snp.atleast_2d(v[0, 0]), lambda v: np.atleast_2d(v[0, 0])),
    "atleast_1d": (lambda v: snp.atleast_1d(v[0, 0, 0]), lambda v: np.atleast_1d(v[0, 0, 0])),
}


@pytest.mark.parametrize("name", sorted(SHAPE_FUNS))
def test_shape_functions(name):
    f, npf = SHAPE_FUNS[name]
    linear_adjoint_check(f, npf, X)


def test_reshape_errors_like_numpy():
    with pytest.raises(ValueError, match="reshape"):
        sl.grad(lambda v: snp.sum(snp.reshape(v, (5, 5))))(X)
    with pytest.raises(ValueError):
        sl.grad(lambda v: snp.sum(snp.squeeze(v, axis=0)))(X)


def test_implicit_broadcasting_sums_gradients_over_broadcast_axes():
    a = np.array([1.0, 2.0, 3.0])
    B = np.arange(6.0).reshape(2, 3)
    ga, gB = sl.grad(lambda u, V: snp.sum(u * V), argnums=(0, 1))(a, B)
    np.testing.assert_array_equal(ga, B.sum(axis=0))
    np.testing.assert_array_equal(gB, np.broadcast_to(a, (2, 3)))
    # size-1 axes and a 0-d operand
    c = np.array([[2.0], [5.0]])
    s = np.array(1.5)
    gc, gs = sl.grad(lambda u, t: snp.sum(u * B * t), argnums=(0, 1))(c, s)
    np.testing.assert_allclose(gc, (B * s).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(gs, np.sum(c * B))
    check_derivatives(lambda u, V: u / (1 + V**2) - V * u**2, a, B)
    check_derivatives(lambda u, V: snp.exp(u - V), c, a)
    check_derivatives(lambda u, V: u * V, s, B)


@settings(max_examples=15, deadline=None, phases=NO_SHRINK)
@given(
    shapes=st.sampled_from([((3,), (2, 3)), ((2, 1), (1, 4)), ((), (2, 2)), ((1, 1, 3), (2, 1)), ((4,), (4,))]),
    seed=st.integers(0, 2**32 - 1),
)
def test_broadcasting_property(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    check_derivatives(lambda u, v: snp.sin(u) * v + u**2 - v, a, b, seed=seed % 100)


# -- joining ---------------------------------------------------------------------------------------
def test_concatenate_stack_hstack_vstack():
    A = np.arange(6.0).reshape(2, 3)
    B = np.arange(6.0, 12.0).reshape(2, 3)
    c = np.array([20.0, 21.0])
    cases = [
        (lambda u, v: snp.concatenate([u, v]), lambda u, v: np.concatenate([u, v])),
        (lambda u, v: snp.concatenate([u, v], axis=1), lambda u, v: np.concatenate([u, v], axis=1)),
        (lambda u, v: snp.concatenate((u, v, u), axis=-1), lambda u, v: np.concatenate((u, v, u), axis=-1)),
        (lambda u, v: snp.concatenate([u, v], axis=None), lambda u, v: np.concatenate([u, v], axis=None)),
        (lambda u, v: snp.stack([u, v]), lambda u, v: np.stack([u, v])),
        (lambda u, v: snp.stack([u, v], axis=1), lambda u, v: np.stack([u, v], axis=1)),
        (lambda u, v: snp.stack([u, v, u], axis=-1), lambda u, v: np.stack([u, v, u], axis=-1)),
        (lambda u, v: snp.hstack([u, v]), lambda u, v: np.hstack([u, v])),
        (lambda u, v: snp.vstack([u, v]), lambda u, v: np.vstack([u, v])),
        (lambda u, v: snp.hstack([u[0], v[1]]), lambda u, v: np.hstack([u[0], v[1]])),
        (lambda u, v: snp.vstack([u[0], v[1], u[1]]), lambda u, v: np.vstack([u[0], v[1], u[1]])),
    ]
    for f, npf in cases:
        np.testing.assert_array_equal(f(A, B), npf(A, B))
        check_derivatives(f, A, B)
        w = np.random.default_rng(1).standard_normal(np.shape(npf(A, B)))
        gA, gB = sl.grad(lambda u, v: snp.sum(f(u, v) * w), argnums=(0, 1))(A, B)
        # adjoint: the gradient of a linear map is <w, f(e_k)>, computed with NumPy
        for g, which in ((gA, 0), (gB, 1)):
            exp = np.zeros(6)
            for k in range(6):
                e = np.zeros(6)
                e[k] = 1.0
                args = [np.zeros((2, 3)), np.zeros((2, 3))]
                args[which] = e.reshape(2, 3)
                exp[k] = np.sum(w * npf(*args))
            np.testing.assert_allclose(g, exp.reshape(2, 3), rtol=1e-14, atol=1e-14)
    # mixing traced and constant parts
    g = sl.grad(lambda u: snp.sum(snp.concatenate([u, c]) ** 2))(A[0])
    np.testing.assert_array_equal(g, 2 * A[0])
    g = sl.grad(lambda u: snp.sum(snp.stack([u, c[0] * u, np.ones(3)]) ** 2))(A[0])
    np.testing.assert_allclose(g, 2 * A[0] * (1 + c[0] ** 2))


# -- indexing ---------------------------------------------------------------------------------------
M = np.arange(1.0, 13.0).reshape(3, 4) / 4.0

INDICES = {
    "int": 1,
    "negative int": -1,
    "two ints": (2, -3),
    "slice": slice(1, None),
    "negative step": (slice(None, None, -1), slice(None, None, -2)),
    "step slice": (slice(None), slice(3, 0, -2)),
    "ellipsis": (Ellipsis, 2),
    "ellipsis front": (0, Ellipsis),
    "newaxis": (None, 1, slice(None), None),
    "newaxis ellipsis": (Ellipsis, None),
    "int array": np.array([2, 0]),
    "int array repeats": np.array([0, 2, 0, 0]),
    "int array negative": np.array([-1, 0, -1]),
    "int list": [1, 1, 2],
    "two int arrays": (np.array([0, 2, 2]), np.array([3, 1, 1])),
    "int array + slice": (slice(None), np.array([3, 3, 0])),
    "2d int array": np.array([[0, 1], [1, 1]]),
    "bool mask row": np.array([True, False, True]),
    "bool mask 2d": M > 1.2,
    "bool mask + slice": (slice(None), np.array([True, False, False, True])),
    "mixed": (np.array([1, 0]), slice(None, 2)),
}


@pytest.mark.parametrize("name", sorted(INDICES))
def test_getitem(name):
    idx = INDICES[name]
    linear_adjoint_check(lambda v: v[idx], lambda v: v[idx], M)


def test_integer_array_indexing_accumulates_gradients():
    x = np.array([1.0, 2.0, 3.0])
    idx = np.array([0, 0, 2, 0])
    g = sl.grad(lambda v: snp.sum(v[idx]))(x)
    np.testing.assert_array_equal(g, [3.0, 0.0, 1.0])
    w = np.array([1.0, 10.0, 100.0, 1000.0])
    g = sl.grad(lambda v: snp.sum(v[idx] ** 2 * w))(x)
    expected = np.zeros(3)
    np.add.at(expected, idx, 2 * x[idx] * w)
    np.testing.assert_array_equal(g, expected)
    J = sl.jacfwd(lambda v: v[idx])(x)
    np.testing.assert_array_equal(J, np.eye(3)[idx])
    np.testing.assert_array_equal(sl.jacrev(lambda v: v[idx])(x), np.eye(3)[idx])


def test_boolean_mask_from_comparison():
    x = np.array([-1.0, 2.0, 0.5, 3.0])
    g = sl.grad(lambda v: snp.sum(v[v > 1] ** 2))(x)
    np.testing.assert_array_equal(g, [0.0, 4.0, 0.0, 6.0])


def test_iterating_and_len_of_traced_arrays():
    x = np.array([1.0, 2.0, 3.0])
    g = sl.grad(lambda v: sum(t**2 for t in v) + len(v))(x)
    np.testing.assert_array_equal(g, 2 * x)


def test_index_out_of_range_raises_indexerror():
    with pytest.raises(IndexError):
        sl.grad(lambda v: v[5])(np.ones(3))


# -- functional updates ----------------------------------------------------------------------------
def test_at_set():
    # x.at[...] exists on traced values; snp.at(x)[...] works on any array (check_derivatives
    # also evaluates the function on plain arrays for its finite differences)
    x = np.array([1.0, 2.0, 3.0, 4.0])
    out = snp.at(x)[1].set(10.0)
    np.testing.assert_array_equal(out, [1.0, 10.0, 3.0, 4.0])
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0, 4.0])  # the input is unchanged
    # the overwritten entry gets no gradient
    g = sl.grad(lambda v: snp.sum(v.at[1].set(10.0) ** 2))(x)
    np.testing.assert_array_equal(g, [2.0, 0.0, 6.0, 8.0])
    # a traced value written in
    gx, gy = sl.grad(lambda v, y: snp.sum(v.at[np.array([0, 3])].set(y * v[1]) * np.arange(1.0, 5.0)), argnums=(0, 1))(x, 3.0)
    # out = [y v1, v1, v2, y v1] . [1,2,3,4]  ->  d/dv1 = y + 2 + 4 y, d/dv2 = 3, d/dy = v1 + 4 v1
    np.testing.assert_allclose(gx, [0.0, 3.0 + 2.0 + 12.0, 3.0, 0.0])
    np.testing.assert_allclose(gy, 5 * x[1])
    check_derivatives(lambda v, y: snp.at(v)[1:3].set(y**2), x, np.array([0.5, -1.5]))
    check_derivatives(lambda v, y: snp.at(v)[..., 0].set(y), M, np.array([1.0, 2.0, 3.0]))
    check_derivatives(lambda v, y: snp.at(v)[M > 1.0].set(snp.sin(y)), M, np.array(0.3))


def test_at_add_accumulates_repeated_indices():
    x = np.zeros(3)
    idx = np.array([0, 0, 2])
    np.testing.assert_array_equal(snp.at(x)[idx].add(np.array([1.0, 2.0, 5.0])), [3.0, 0.0, 5.0])
    gx, gy = sl.grad(lambda v, y: snp.sum(v.at[idx].add(y) ** 2), argnums=(0, 1))(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]))
    out = np.array([1.0 + 3.0, 2.0, 3.0 + 5.0])
    np.testing.assert_array_equal(gx, 2 * out)
    np.testing.assert_array_equal(gy, 2 * out[idx])
    check_derivatives(lambda v, y: snp.at(v)[idx].add(y * v[1]), np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]))
    check_derivatives(lambda v: snp.at(v)[:, 1].add(v[:, 2] ** 2), M)


def test_at_multiply_and_others():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(snp.at(x)[1].multiply(4.0), [1.0, 8.0, 3.0])
    g = sl.grad(lambda v: snp.sum(v.at[1].multiply(v[2])))(x)
    np.testing.assert_array_equal(g, [1.0, 3.0, 1.0 + 2.0])
    check_derivatives(lambda v: snp.at(v)[np.array([0, 2])].multiply(v[1] ** 2), x)
    check_derivatives(lambda v: snp.at(v)[0].divide(v[1]), x)
    check_derivatives(lambda v: snp.at(v)[1:].power(3.0), x)
    np.testing.assert_array_equal(sl.grad(lambda v: v.at[2].get())(x), [0.0, 0.0, 1.0])


# -- building arrays from traced scalars ------------------------------------------------------------
def test_array_and_asarray_of_traced_scalars():
    def f(v):
        a, b = v[0], v[1]
        return snp.array([[a * b, a], [b**2, 3.0]])

    x = np.array([2.0, 5.0])
    np.testing.assert_array_equal(f(x), [[10.0, 2.0], [25.0, 3.0]])
    J = sl.jacobian(f)(x)
    assert J.shape == (2, 2, 2)
    np.testing.assert_array_equal(J, [[[5.0, 2.0], [1.0, 0.0]], [[0.0, 10.0], [0.0, 0.0]]])
    check_derivatives(f, x)
    g = sl.grad(lambda s: snp.sum(snp.asarray([s, s**2, 1.0])))(3.0)
    assert float(g) == 7.0
    g = sl.grad(lambda s: snp.sum(snp.array((s, 2 * s))))(3.0)
    assert float(g) == 3.0
    # asarray of a traced array is the traced array itself
    g = sl.grad(lambda v: snp.sum(snp.asarray(v) ** 2))(x)
    np.testing.assert_array_equal(g, 2 * x)


# -- ndarray methods and NumPy functions on traced values ---------------------------------------------
def test_ndarray_methods_on_traced_values():
    x = np.random.default_rng(5).standard_normal(6)
    A = x.reshape(2, 3)
    y = np.random.default_rng(6).standard_normal((3, 2))
    cases = [
        (lambda v: v.reshape(2, 3).T, lambda v: v.reshape(2, 3).T),
        (lambda v: v.reshape((2, 3)).mean(axis=0), lambda v: v.reshape((2, 3)).mean(axis=0)),
        (lambda v: v.reshape(3, -1).sum(), lambda v: v.reshape(3, -1).sum()),
        (lambda v: v.reshape(2, 3)[1], lambda v: v.reshape(2, 3)[1]),
        (lambda v: v.reshape(2, 3) @ y, lambda v: v.reshape(2, 3) @ y),
        (lambda v: y.T @ v.reshape(3, 2), lambda v: y.T @ v.reshape(3, 2)),
        (lambda v: v.reshape(2, 3).transpose(), lambda v: v.reshape(2, 3).transpose()),
        (lambda v: v.reshape(2, 3).transpose(1, 0), lambda v: v.reshape(2, 3).transpose(1, 0)),
        (lambda v: v.reshape(2, 3).transpose((1, 0)), lambda v: v.reshape(2, 3).transpose((1, 0))),
        (lambda v: v.reshape(1, 2, 3).squeeze(), lambda v: v.reshape(1, 2, 3).squeeze()),
        (lambda v: v.reshape(2, 3).ravel(), lambda v: v.reshape(2, 3).ravel()),
        (lambda v: v.reshape(2, 3).flatten(), lambda v: v.reshape(2, 3).flatten()),
        (lambda v: v.reshape(2, 3).swapaxes(0, 1), lambda v: v.reshape(2, 3).swapaxes(0, 1)),
        (lambda v: v.reshape(2, 3).max(axis=1), lambda v: v.reshape(2, 3).max(axis=1)),
        (lambda v: v.reshape(2, 3).min(axis=0), lambda v: v.reshape(2, 3).min(axis=0)),
        (lambda v: v.reshape(2, 3).var(axis=1), lambda v: v.reshape(2, 3).var(axis=1)),
        (lambda v: v.reshape(2, 3).std(), lambda v: v.reshape(2, 3).std()),
        (lambda v: v.cumsum(), lambda v: v.cumsum()),
        (lambda v: v.clip(-0.5, 0.5), lambda v: v.clip(-0.5, 0.5)),
        (lambda v: v.copy() * 2, lambda v: v.copy() * 2),
        (lambda v: v.reshape(2, 3).mT, lambda v: v.reshape(2, 3).mT),
        (lambda v: v.astype(np.float64), lambda v: v.astype(np.float64)),
        (lambda v: v.real, lambda v: v.real),
    ]
    for f, npf in cases:
        np.testing.assert_allclose(f(A.ravel()), npf(A.ravel()), rtol=1e-15)
        check_derivatives(f, x)
    # facts about traced values
    seen = {}

    def probe(v):
        m = v.reshape(2, 3)
        seen.update(shape=m.shape, ndim=m.ndim, size=m.size, dtype=m.dtype, T=m.T.shape, len=len(m))
        return snp.sum(m)

    sl.grad(probe)(x)
    assert seen == dict(shape=(2, 3), ndim=2, size=6, dtype=np.float64, T=(3, 2), len=2)


def test_astype_float32_is_differentiable():
    x = np.array([1.0, 2.0, 3.0])
    seen = []
    g = sl.grad(lambda v: (seen.append(v.astype(np.float32).dtype), snp.sum(v.astype(np.float32) ** 2))[1])(x)
    assert seen[0] == np.float32
    np.testing.assert_allclose(g, 2 * x, rtol=1e-6)
    assert g.dtype == np.float64  # the gradient has the input's dtype
    g32 = sl.grad(lambda v: snp.sum(v.astype(np.float64) ** 2))(x.astype(np.float32))
    assert g32.dtype == np.float32


def test_numpy_functions_on_traced_values_route_to_slopes():
    x = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(sl.grad(lambda v: np.sum(np.sin(v)))(x), np.cos(x), rtol=1e-15)
    np.testing.assert_allclose(sl.grad(lambda v: np.sum(np.exp(v)))(x), np.exp(x), rtol=1e-15)
    np.testing.assert_allclose(sl.grad(lambda v: np.mean(v**2))(x), 2 * x / 3, rtol=1e-15)
    A = np.arange(6.0).reshape(2, 3)
    routed = [
        lambda v: np.reshape(v, (3, 2)),
        lambda v: np.transpose(v),
        lambda v: np.swapaxes(v, 0, 1),
        lambda v: np.moveaxis(v, 0, 1),
        lambda v: np.expand_dims(v, 1),
        lambda v: np.squeeze(np.expand_dims(v, 0)),
        lambda v: np.ravel(v),
        lambda v: np.broadcast_to(v, (4, 2, 3)),
        lambda v: np.concatenate([v, v ** 2], axis=1),
        lambda v: np.stack([v, v], axis=-1),
        lambda v: np.hstack([v, v]),
        lambda v: np.vstack([v, v]),
        lambda v: np.where(v > 1, v, -v),
        lambda v: np.clip(v, 1.0, 4.0),
        lambda v: np.maximum(v, 2.5),
        lambda v: np.abs(v - 2.5),
        lambda v: np.sqrt(v + 1.0),
        lambda v: np.power(v, 3),
        lambda v: np.matmul(v, A.T),
        lambda v: v.T @ np.ones(2),
        lambda v: np.ones(3) @ v.T,
        lambda v: np.sum(v, axis=0),
        lambda v: np.max(v, axis=1),
        lambda v: np.cumsum(v, axis=0),
    ]
    for f in routed:
        check_derivatives(f, A + 0.25)


def test_argmax_result_indexes_traced_arrays():
    x = np.array([1.0, 2.0, 3.0])
    # a plain integer from a non-differentiable computation works as an index
    g = sl.grad(lambda v: v[snp.argmax(v)] * 2.0)(x)
    np.testing.assert_array_equal(g, [0.0, 0.0, 2.0])
    assert not isinstance(snp.argmax(x), Tracer)
