"""Reordering and repeating entries (slopes.numpy.manipulation, slopes.core.ops.reorder).

Every function is checked for: values equal to NumPy's, first and second derivatives
against finite differences (``check_derivatives``), ``jacfwd == jacrev``, and ``vmap``
equal to a Python loop. ``prod``/``cumprod`` are also checked at inputs with zeros
against closed forms (products of the other factors), at orders 1 to 3.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from checks import check_derivatives
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import slopes as sl
import slopes.numpy as snp


def _pieces(m, parts):
    """Join split pieces, weighted so that mixing them up would show."""
    return m.concatenate([m.ravel(p) * (k + 1.0) for k, p in enumerate(parts)])


# Each case is written once against a module ``m``: run with ``snp`` and compared with ``np``.
CASES = {
    "prod_all": ((3, 4), lambda m, x: m.prod(x)),
    "prod_axis": ((2, 3, 4), lambda m, x: m.prod(x, axis=1)),
    "prod_neg_keep": ((2, 3, 4), lambda m, x: m.prod(x, axis=-1, keepdims=True)),
    "prod_axes": ((2, 3, 4), lambda m, x: m.prod(x, axis=(0, 2))),
    "prod_axes_keep": ((2, 3, 2), lambda m, x: m.prod(x, axis=(-1, 0), keepdims=True)),
    "cumprod_flat": ((2, 3), lambda m, x: m.cumprod(x)),
    "cumprod_axis": ((3, 4), lambda m, x: m.cumprod(x, axis=0)),
    "cumprod_neg": ((2, 2, 3), lambda m, x: m.cumprod(x, axis=-1)),
    "split_int": ((2, 6), lambda m, x: _pieces(m, m.split(x, 3, axis=1))),
    "split_points": ((5, 2), lambda m, x: _pieces(m, m.split(x, [1, 3]))),
    "split_neg": ((3, 4), lambda m, x: _pieces(m, m.split(x, [-3, 3], axis=-1))),
    "array_split": ((7,), lambda m, x: _pieces(m, m.array_split(x, 3))),
    "array_split_ax": ((2, 5), lambda m, x: _pieces(m, m.array_split(x, 4, axis=-1))),
    "tile_int": ((3,), lambda m, x: m.tile(x, 2)),
    "tile_more": ((2, 3), lambda m, x: m.tile(x, (2, 1, 2))),
    "tile_fewer": ((2, 1, 3), lambda m, x: m.tile(x, (3, 2))),
    "repeat_flat": ((2, 2), lambda m, x: m.repeat(x, 2)),
    "repeat_axis": ((2, 3), lambda m, x: m.repeat(x, 3, axis=0)),
    "repeat_each": ((2, 3), lambda m, x: m.repeat(x, [2, 0, 1], axis=-1)),
    "flip_all": ((2, 3), lambda m, x: m.flip(x)),
    "flip_axis": ((2, 3, 2), lambda m, x: m.flip(x, axis=-2)),
    "flip_axes": ((2, 3, 2), lambda m, x: m.flip(x, axis=(0, 2))),
    "fliplr": ((2, 3), lambda m, x: m.fliplr(x)),
    "flipud": ((3, 2), lambda m, x: m.flipud(x)),
    "roll_flat": ((2, 3), lambda m, x: m.roll(x, 4)),
    "roll_axis": ((3, 4), lambda m, x: m.roll(x, -1, axis=-1)),
    "roll_axes": ((3, 4), lambda m, x: m.roll(x, (1, 5), axis=(0, 1))),
    "roll_same_axis": ((5,), lambda m, x: m.roll(x, (1, 2), axis=(0, 0))),
    "pad_int": ((2, 3), lambda m, x: m.pad(x, 1)),
    "pad_pair": ((2, 3), lambda m, x: m.pad(x, (0, 2), constant_values=1.5)),
    "pad_per_axis": ((2, 3), lambda m, x: m.pad(x, ((1, 0), (2, 1)), constant_values=((1, 2), (3, 4)))),
    "pad_edge": ((2, 3), lambda m, x: m.pad(x, ((1, 2), (0, 1)), mode="edge")),
    "pad_reflect": ((4,), lambda m, x: m.pad(x, (2, 3), mode="reflect")),
    "pad_symmetric": ((2, 3), lambda m, x: m.pad(x, 2, mode="symmetric")),
    "pad_wrap": ((3, 2), lambda m, x: m.pad(x, ((4, 1), (0, 0)), mode="wrap")),
    "sort_last": ((3, 4), lambda m, x: m.sort(x)),
    "sort_axis0": ((4, 3), lambda m, x: m.sort(x, axis=0)),
    "sort_flat": ((2, 3), lambda m, x: m.sort(x, axis=None)),
    "take_flat": ((2, 3), lambda m, x: m.take(x, [5, 0, 0, -1])),
    "take_axis": ((2, 3, 2), lambda m, x: m.take(x, [[2, 0], [1, 1]], axis=1)),
    "take_scalar": ((3, 4), lambda m, x: m.take(x, 2, axis=-1)),
    "take_wrap": ((4,), lambda m, x: m.take(x, [5, -6, 1], mode="wrap")),
    "take_clip": ((4,), lambda m, x: m.take(x, [5, -6, 1], mode="clip")),
    "take_along": ((3, 4), lambda m, x: m.take_along_axis(x, np.array([[0, 3], [1, 1], [2, 0]]), axis=1)),
    "take_along_bcast": ((3, 4), lambda m, x: m.take_along_axis(x, np.array([[2], [0]]), axis=0)),
    "take_along_flat": ((2, 3), lambda m, x: m.take_along_axis(x, np.array([5, 1, 1]), axis=None)),
    "take_along_sorted": ((3, 4), lambda m, x: m.take_along_axis(x, m.argsort(x, axis=0), axis=0)),
    "diff": ((5,), lambda m, x: m.diff(x)),
    "diff_n2_axis": ((4, 3), lambda m, x: m.diff(x, n=2, axis=0)),
    "diff_pre_app": ((2, 3), lambda m, x: m.diff(x, prepend=0.5, append=np.ones((2, 1)))),
}
NAMES = sorted(CASES)


def _case(name, seed=0):
    shape, fn = CASES[name]
    x = np.random.default_rng(seed).standard_normal(shape)
    return x, (lambda y: fn(snp, y)), (lambda y: fn(np, y))


@pytest.mark.parametrize("name", NAMES)
def test_values_equal_numpy(name):
    x, f, ref = _case(name)
    out = f(x)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, ref(x))


@pytest.mark.parametrize("name", NAMES)
def test_derivatives(name):
    x, f, _ = _case(name, seed=1)
    check_derivatives(f, x, order=2)


@pytest.mark.parametrize("name", NAMES)
def test_jacfwd_equals_jacrev(name):
    x, f, _ = _case(name, seed=2)
    np.testing.assert_allclose(sl.jacfwd(f)(x), sl.jacrev(f)(x), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_vmap_equals_loop(name):
    shape, _ = CASES[name]
    _, f, _ = _case(name)
    xs = np.random.default_rng(3).standard_normal((3,) + shape)
    np.testing.assert_allclose(sl.vmap(f)(xs), np.stack([f(x) for x in xs]), rtol=1e-13)
    # and the per-example gradient of a scalar function of it
    w = np.random.default_rng(4).standard_normal(np.shape(f(xs[0])))
    g = sl.grad(lambda x: snp.sum(f(x) * w))
    np.testing.assert_allclose(sl.vmap(g)(xs), np.stack([g(x) for x in xs]), rtol=1e-12)


# -- functions returning lists, and argsort ---------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: m.split(x, 2, axis=1),
        lambda m, x: m.split(x, [1, 10], axis=0),
        lambda m, x: m.array_split(x, 3, axis=-1),
        lambda m, x: m.array_split(x, [2]),
    ],
)
def test_split_pieces(call):
    x = np.arange(12.0).reshape(3, 4)
    got, want = call(snp, x), call(np, x)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    batched = sl.vmap(lambda y: call(snp, y))(np.stack([x, 2 * x]))
    for a, b in zip(batched, want):
        np.testing.assert_array_equal(a, np.stack([b, 2 * b]))


@pytest.mark.parametrize("axis", [-1, 0, None])
def test_argsort(axis):
    x = np.random.default_rng(5).standard_normal((3, 4))
    np.testing.assert_array_equal(snp.argsort(x, axis=axis), np.argsort(x, axis=axis))
    xs = np.stack([x, -x, x[::-1]])
    np.testing.assert_array_equal(
        sl.vmap(lambda y: snp.argsort(y, axis=axis))(xs), np.stack([np.argsort(y, axis=axis) for y in xs])
    )
    # no derivative flows through indices: the Jacobian of a function of them is zero
    assert np.all(sl.jacobian(lambda y: snp.argsort(y, axis=axis) * 1.0)(x) == 0)


def test_sort_ties_and_kind():
    x = np.array([2.0, 1.0, 2.0, 1.0])
    np.testing.assert_array_equal(snp.sort(x), np.sort(x))
    np.testing.assert_array_equal(snp.argsort(x, kind="stable"), np.argsort(x, kind="stable"))
    np.testing.assert_array_equal(snp.argsort(x, stable=True), np.argsort(x, stable=True))
    # stable: ties keep their order, so the derivative of each output is one input's
    np.testing.assert_array_equal(sl.jacobian(snp.sort)(x), np.eye(4)[[1, 3, 0, 2]])


def test_sort_gradient_is_the_permutation():
    x = np.random.default_rng(6).standard_normal((3, 5))
    perm = np.argsort(x, axis=1)
    jac = sl.jacrev(lambda y: snp.sort(y, axis=1))(x)
    expected = np.zeros((3, 5, 3, 5))
    for i, j in itertools.product(range(3), range(5)):
        expected[i, j, i, perm[i, j]] = 1.0
    np.testing.assert_array_equal(jac, expected)


def test_batched_indices_under_vmap():
    rng = np.random.default_rng(7)
    xs = rng.standard_normal((4, 5))
    idx = rng.integers(-5, 5, size=(4, 3))
    got = sl.vmap(snp.take)(xs, idx)
    np.testing.assert_array_equal(got, np.stack([np.take(x, i) for x, i in zip(xs, idx)]))
    got = sl.vmap(lambda i: snp.take(xs[0], i, mode="wrap"))(idx + 7)
    np.testing.assert_array_equal(got, np.stack([np.take(xs[0], i + 7, mode="wrap") for i in idx]))
    # indices batched, array not; then both batched with broadcasting indices
    ia = rng.integers(0, 5, size=(4, 2, 1))
    x2 = rng.standard_normal((2, 5))
    got = sl.vmap(lambda i: snp.take_along_axis(x2, i, axis=1))(ia)
    np.testing.assert_array_equal(got, np.stack([np.take_along_axis(x2, i, axis=1) for i in ia]))
    # gradients through per-example orders: vmap of grad, grad of vmap
    w = np.arange(5.0)
    g = sl.grad(lambda x: snp.sum(w * snp.take_along_axis(x, snp.argsort(x), axis=-1)))
    np.testing.assert_allclose(sl.vmap(g)(xs), np.stack([g(x) for x in xs]))
    gv = sl.grad(lambda x: snp.sum(sl.vmap(lambda y: snp.take(y, snp.argsort(y)))(x) * w))(xs)
    np.testing.assert_allclose(gv, np.stack([g(x) for x in xs]))
    # the Jacobian of a batched gather (index batched, cotangents batched by jacrev)
    jac = sl.jacrev(lambda x: sl.vmap(lambda i: snp.take(x, i))(idx))(xs[0])
    np.testing.assert_allclose(jac, sl.jacfwd(lambda x: sl.vmap(lambda i: snp.take(x, i))(idx))(xs[0]))


def test_second_order_through_gather_with_traced_weights():
    rng = np.random.default_rng(8)
    x = rng.standard_normal(6)
    f = lambda y: snp.sum(snp.sort(y) ** 3 * snp.arange(6.0))  # noqa: E731
    order = np.argsort(x)
    rank = np.empty(6)
    rank[order] = np.arange(6.0)
    np.testing.assert_allclose(sl.hessian(f)(x), np.diag(6 * x * rank), rtol=1e-12)


# -- prod and cumprod with zeros ------------------------------------------------------------------
def _others(x, skip):
    """Product of the entries of a 1-D array except the positions in ``skip``."""
    return math.prod(v for k, v in enumerate(x) if k not in skip)


@pytest.mark.parametrize(
    "x",
    [
        [2.0, 0.0, 3.0, -1.5, 0.5],
        [0.0, 2.0, 0.0, 3.0, 1.0],
        [0.0, 0.0, 0.0, 2.0, 1.0],
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [1.5, -2.0, 0.5, 3.0, 1.0],
    ],
)
def test_prod_derivatives_with_zeros_closed_form(x):
    x = np.array(x)
    n = len(x)
    grad = np.array([_others(x, {k}) for k in range(n)])
    hess = np.array([[0.0 if k == l else _others(x, {k, l}) for l in range(n)] for k in range(n)])
    third = np.zeros((n, n, n))
    for k, l, m in itertools.product(range(n), repeat=3):
        if len({k, l, m}) == 3:
            third[k, l, m] = _others(x, {k, l, m})
    np.testing.assert_array_equal(sl.grad(snp.prod)(x), grad)
    np.testing.assert_allclose(sl.hessian(snp.prod)(x), hess, rtol=1e-14, atol=0)
    np.testing.assert_allclose(sl.jacrev(sl.jacrev(sl.grad(snp.prod)))(x), third, rtol=1e-14, atol=0)
    np.testing.assert_allclose(sl.jacfwd(sl.jacfwd(sl.grad(snp.prod)))(x), third, rtol=1e-14, atol=0)
    check_derivatives(snp.prod, x, order=2)


def _cumprod_jacobian(x):
    n = len(x)
    return np.array([[_others(x[: i + 1], {k}) if k <= i else 0.0 for k in range(n)] for i in range(n)])


@pytest.mark.parametrize(
    "x", [[2.0, 0.0, 3.0, 0.5], [0.0, 2.0, 0.0, 3.0], [1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [3.0, 1.0, 2.0, 0.0]]
)
def test_cumprod_derivatives_with_zeros_closed_form(x):
    x = np.array(x)
    jac = _cumprod_jacobian(x)
    np.testing.assert_array_equal(sl.jacfwd(snp.cumprod)(x), jac)
    np.testing.assert_array_equal(sl.jacrev(snp.cumprod)(x), jac)
    # second derivatives: d2 y_i / dx_k dx_l = product of the others, k != l, both <= i
    n = len(x)
    hess = np.zeros((n, n, n))
    for i, k, l in itertools.product(range(n), repeat=3):
        if k != l and max(k, l) <= i:
            hess[i, k, l] = _others(x[: i + 1], {k, l})
    np.testing.assert_allclose(sl.jacfwd(sl.jacrev(snp.cumprod))(x), hess, rtol=1e-14, atol=0)
    np.testing.assert_allclose(sl.jacrev(sl.jacrev(snp.cumprod))(x), hess, rtol=1e-14, atol=0)
    check_derivatives(snp.cumprod, x, order=2)


def test_prod_cumprod_zeros_along_axes_and_vmap():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 4, 2))
    x[0, 1, :] = 0.0
    x[2, :2, 1] = 0.0
    x[1, 3, 0] = 0.0
    cases = [
        lambda y: snp.prod(y, axis=1),
        lambda y: snp.prod(y, axis=(0, 2)),
        lambda y: snp.prod(y),
        lambda y: snp.cumprod(y, axis=1),
        lambda y: snp.cumprod(y, axis=-1),
    ]
    for f in cases:
        assert np.all(np.isfinite(sl.jacobian(f)(x)))
        np.testing.assert_allclose(sl.jacfwd(f)(x), sl.jacrev(f)(x), rtol=1e-13, atol=1e-15)
        check_derivatives(f, x, order=2)
        # vmap over examples where some have zeros and others none
        g = sl.grad(lambda y: snp.sum(f(y) ** 2))
        xs = np.stack([x, rng.standard_normal(x.shape), np.zeros(x.shape)])
        np.testing.assert_allclose(sl.vmap(g)(xs), np.stack([g(y) for y in xs]), rtol=1e-12)
        assert np.all(np.isfinite(sl.hessian(lambda y: snp.sum(f(y)))(x)))


def test_prod_edge_cases():
    assert snp.prod(np.ones((2, 0)), axis=1).shape == (2,)
    np.testing.assert_array_equal(snp.prod(np.ones((2, 0)), axis=1), np.ones(2))
    np.testing.assert_array_equal(snp.prod(np.ones((0, 3)), axis=0, keepdims=True), np.ones((1, 3)))
    np.testing.assert_array_equal(snp.prod(3.0), 3.0)
    np.testing.assert_array_equal(sl.grad(snp.prod)(3.0), 1.0)
    np.testing.assert_array_equal(sl.grad(lambda x: snp.prod(x, axis=0))(np.array([2.0])), [1.0])
    assert snp.prod(np.arange(1, 5)) == 24
    x = np.array([1.0, 2.0], dtype=np.float32)
    assert snp.prod(x).dtype == np.float32 and snp.cumprod(x).dtype == np.float32
    assert sl.grad(snp.prod)(x).dtype == np.float32


# -- routing from NumPy and ndarray methods, constants that are traced -------------------------------
def test_methods_and_numpy_functions_on_traced_values():
    x = np.array([3.0, 1.0, 2.0])
    g = sl.grad(lambda y: y.prod() + y.cumprod()[1] + y.repeat(2).sum() + y.take([0, 0]).sum())(x)
    np.testing.assert_allclose(g, [2.0 + 1 + 2 + 2, 6.0 + 3 + 2, 3.0 + 2])
    g = sl.grad(lambda y: np.sum(np.sort(y) * np.array([1.0, 2.0, 3.0])) + np.prod(np.flip(y)))(x)
    np.testing.assert_allclose(g, [3.0 + 2, 1.0 + 6, 2.0 + 3])


def test_pad_with_traced_constant():
    x = np.arange(3.0)
    f = lambda c: snp.sum(snp.pad(x, ((1, 2),), constant_values=c) ** 2)  # noqa: E731
    np.testing.assert_allclose(f(2.0), np.sum(np.pad(x, (1, 2), constant_values=2.0) ** 2))
    np.testing.assert_allclose(sl.grad(f)(2.0), 3 * 2 * 2.0)
    np.testing.assert_allclose(sl.vmap(f)(np.array([1.0, 2.0])), [f(1.0), f(2.0)])
    both = sl.grad(lambda y, c: snp.sum(snp.pad(y, 1, constant_values=c) * snp.arange(5.0)), argnums=(0, 1))
    gy, gc = both(x, 1.0)
    np.testing.assert_allclose(gy, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(gc, 0.0 + 4.0)


def test_zero_size_and_trivial_arguments():
    x = np.arange(6.0).reshape(2, 3)
    for got, want in [
        (snp.tile(x, 0), np.tile(x, 0)),
        (snp.tile(x, (1, 1)), x),
        (snp.repeat(x, 0, axis=1), np.repeat(x, 0, axis=1)),
        (snp.roll(x, 0), x),
        (snp.roll(np.ones((0, 2)), 1, axis=0), np.ones((0, 2))),
        (snp.pad(x, 0), x),
        (snp.take(x, [], axis=0), np.take(x, [], axis=0)),
        (snp.diff(x, n=0, prepend=1.0), x),
        (snp.diff(x, n=5), np.diff(x, n=5)),
        (snp.flip(np.float64(2.0)), np.flip(np.float64(2.0))),
        (snp.sort(x, axis=0), np.sort(x, axis=0)),
    ]:
        assert np.shape(got) == np.shape(want)
        np.testing.assert_array_equal(got, want)


# -- errors in the user's terms ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: snp.split(np.ones(5), 2), ValueError, "array_split"),
        (lambda: snp.split(np.ones(5), 0), ValueError, "must be positive"),
        (lambda: snp.split(np.ones(5), 1.5), TypeError, "integer"),
        (lambda: snp.tile(np.ones(2), -1), ValueError, "non-negative"),
        (lambda: snp.repeat(np.ones(3), [1, 2]), ValueError, "3 counts"),
        (lambda: snp.repeat(np.ones(3), -1), ValueError, "non-negative"),
        (lambda: snp.repeat(np.ones(3), 1.5), TypeError, "integers"),
        (lambda: snp.flip(np.ones(3), axis=1), ValueError, "out of bounds"),
        (lambda: snp.fliplr(np.ones(3)), ValueError, "at least 2 axes"),
        (lambda: snp.flipud(np.float64(1.0)), ValueError, "at least 1 axis"),
        (lambda: snp.roll(np.ones(3), (1, 2), axis=(0, 0, 0)), ValueError, "pair up"),
        (lambda: snp.pad(np.ones(3), ((1, 2), (3, 4))), ValueError, "does not fit"),
        (lambda: snp.pad(np.ones(3), -1), ValueError, "non-negative"),
        (lambda: snp.pad(np.ones(3), 1, mode="linear_ramp"), ValueError, "not supported"),
        (lambda: snp.sort(np.float64(1.0)), ValueError, "0-d"),
        (lambda: snp.take(np.ones(3), [3]), IndexError, "out of bounds for axis 0 with size 3"),
        (lambda: snp.take(np.ones(3), [0.5]), TypeError, "must be integers"),
        (lambda: snp.take(np.ones(3), [0], mode="nearest"), ValueError, "mode"),
        (lambda: snp.take(np.ones(0), [0], mode="wrap"), IndexError, "length 0"),
        (lambda: snp.take_along_axis(np.ones((2, 3)), np.zeros(2, int), 1), ValueError, "as many axes"),
        (lambda: snp.take_along_axis(np.ones((2, 3)), np.zeros((3, 1), int), 1), ValueError, "broadcast"),
        (lambda: snp.take_along_axis(np.ones((2, 3)), -np.ones((2, 1), int) * 4, 1), IndexError, "size 3"),
        (lambda: snp.diff(np.ones(3), n=-1), ValueError, "non-negative"),
        (lambda: snp.diff(np.float64(1.0)), ValueError, "at least 1 axis"),
        (lambda: sl.grad(lambda x: snp.sum(snp.tile(np.ones(2), x)))(1.0), TypeError, "before tracing"),
        (lambda: sl.grad(lambda x: snp.sum(snp.take(np.ones(3), x)))(1.0), TypeError, "must be integers"),
    ],
)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- properties over shapes and axes -------------------------------------------------------------------
@st.composite
def array_and_axis(draw, min_dims=1, max_side=4):
    shape = draw(array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=max_side))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    seed = draw(st.integers(0, 2**16))
    x = np.random.default_rng(seed).standard_normal(shape)
    return x, axis


def _first_order_and_jacobians(f, x):
    check_derivatives(f, x, order=1)
    np.testing.assert_allclose(sl.jacfwd(f)(x), sl.jacrev(f)(x), rtol=1e-12, atol=1e-14)


PROPERTY_CASES = {
    "prod": lambda m, x, a: m.prod(x, axis=a),
    "prod_keep_pair": lambda m, x, a: m.prod(x, axis=tuple({a % x.ndim, 0}), keepdims=True),
    "cumprod": lambda m, x, a: m.cumprod(x, axis=a),
    "flip": lambda m, x, a: m.flip(x, axis=a),
    "roll": lambda m, x, a: m.roll(x, a * 3 - 1, axis=a),
    "sort": lambda m, x, a: m.sort(x, axis=a),
    "repeat": lambda m, x, a: m.repeat(x, 2, axis=a),
    "repeat_each": lambda m, x, a: m.repeat(x, np.arange(x.shape[a]) % 3, axis=a),
    "tile": lambda m, x, a: m.tile(x, (2,) * (abs(a) + 1)),
    "diff": lambda m, x, a: m.diff(x, n=abs(a), axis=a),
    "pad": lambda m, x, a: m.pad(x, (abs(a), 1), constant_values=a),
    "pad_reflect": lambda m, x, a: m.pad(x, (0, abs(a) + 1), mode="symmetric"),
    "take": lambda m, x, a: m.take(x, [0, -1, 0], axis=a),
    "take_along": lambda m, x, a: m.take_along_axis(x, m.argsort(-x, axis=a), axis=a),
    "array_split": lambda m, x, a: _pieces(m, m.array_split(x, 2, axis=a)),
}


@pytest.mark.parametrize("name", sorted(PROPERTY_CASES))
@settings(max_examples=12, deadline=None)
@given(data=array_and_axis())
def test_properties_over_shapes_and_axes(name, data):
    x, axis = data
    fn = PROPERTY_CASES[name]
    f = lambda y: fn(snp, y, axis)  # noqa: E731
    np.testing.assert_array_equal(f(x), fn(np, x, axis))
    _first_order_and_jacobians(f, x)
    xs = np.stack([x, -x])
    np.testing.assert_allclose(sl.vmap(f)(xs), np.stack([f(x), f(-x)]))
