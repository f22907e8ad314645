"""Reductions over a short last axis as compiled row loops (slopes.core.narrow_rows, kernels="numba").

The references are independent of the loops: NumPy's own reduction (np.add.reduce), the
NumPy computation they replace (logsumexp._shifted) and the plain NumPy replay; the loops
must give their bits exactly, not to a tolerance, and the ``loops`` fixture checks that
they ran (a fall-back to NumPy would give those bits too).
"""

import numpy as np
import pytest
from checks import lowered_names as names

import slopes as sl
import slopes.ml as ml
import slopes.numpy as snp
from slopes.core import narrow_rows
from slopes.core.ops.logsumexp import _shifted

pytestmark = pytest.mark.usefixtures("numba_cache")  # Numba present, a kernel cache of the test's own

DTYPES = [np.float64, np.float32]


@pytest.fixture
def loops(monkeypatch):
    """The dtypes the compiled loops were fetched for, call by call (narrow_rows._kernels hands
    them out at each call that takes them)."""
    fetched, real = [], narrow_rows._kernels

    def spy(dtype):
        fetched.append(dtype)
        return real(dtype)

    monkeypatch.setattr(narrow_rows, "_kernels", spy)
    return fetched


def edge_rows(dtype, k=10, rows=64, seed=0):
    """Random rows on many scales, with rows of -inf entries, +inf, NaN, all -inf, and signed zeros."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((rows, k)) * 10.0 ** rng.integers(-3, 4, (rows, k))).astype(dtype)
    x[1, :2] = -np.inf
    x[2, min(3, k - 1)] = np.inf
    x[3, k // 2] = np.nan
    x[4, :] = -np.inf
    x[5, :] = 0.0
    x[5, ::2] = -0.0
    x[6, :] = -0.0  # NumPy's sum is +0.0: its pairwise sum goes into a starting 0
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [1, 2, 7, 8, 9, 10, 15, 16])
def test_row_sums_are_numpys_sums_bit_for_bit(dtype, k, loops):
    x = np.random.default_rng(k).standard_normal((37, k)).astype(dtype) * np.logspace(-5, 5, k).astype(dtype)
    x[3] = -0.0
    for keepdims in (False, True):
        got = narrow_rows.row_sums(x, (1,), keepdims)
        want = np.add.reduce(x, axis=1, keepdims=keepdims)
        np.testing.assert_array_equal(got, want, strict=True)
        assert np.array_equal(np.signbit(got), np.signbit(want))  # the all -0.0 row: +0.0
    assert loops == [np.dtype(dtype)] * (2 if k >= 2 else 0)  # a row of one: NumPy's


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [1, 3, 8, 10, 16])
def test_shifted_rows_are_the_numpy_shift_bit_for_bit(dtype, k, loops):
    x = edge_rows(dtype, k)
    with np.errstate(invalid="ignore", over="ignore"):  # exp of a row shifted by 0 (it holds +inf)
        got, want = narrow_rows.shifted_rows(x, (1,)), _shifted(x, (1,))
    assert loops == ([np.dtype(dtype)] if k >= 2 else [])
    assert bool(got[3]) is bool(want[3])  # whether every maximum was finite
    for a, b in zip(got[:3], want[:3]):
        assert a.dtype == b.dtype == dtype and a.shape == b.shape
        assert np.array_equal(a, b, equal_nan=True)
        if k <= 8:  # beyond, NumPy's vectorized maximum of +0.0 and -0.0 follows its lanes
            assert np.array_equal(np.signbit(a), np.signbit(b))


def test_a_nan_anywhere_in_a_row_makes_its_maximum_nan_as_np_maximum():
    x = np.array([[np.nan, 1.0, 2.0], [1.0, np.nan, 0.5], [3.0, 1.0, np.nan], [1.0, 5.0, 2.0]])
    m, d, _, finite = narrow_rows.shifted_rows(x, (1,))
    assert not finite
    # a NaN maximum is not finite: its row is shifted by 0 (were the NaN skipped, by 2, 1 and 3)
    np.testing.assert_array_equal(m.ravel(), [0.0, 0.0, 0.0, 5.0])
    np.testing.assert_array_equal(d[:3], x[:3])
    np.testing.assert_array_equal(d[3], [-4.0, 0.0, -3.0])


def test_arrays_the_loops_do_not_take_go_to_numpy(loops):
    x = np.random.default_rng(0).standard_normal((10, 6))
    for args in [(x.T, (1,)), (x, (0,)), (np.ones((4, narrow_rows.MAX_WIDTH + 1)), (1,)), (x.astype(np.float16), (1,)),
                 (np.arange(12).reshape(3, 4), (1,)), (np.ones((0, 3)), (1,)), (np.ones((4, 1)), (1,)),
                 (np.arange(5.0), (0,))]:
        np.testing.assert_array_equal(narrow_rows.row_sums(*args, True), np.sum(args[0], axis=args[1], keepdims=True))
    assert loops == []  # none of them reached the compiled loops


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(64, 10), (5, 3), (3, 2), (2, 3, 7), (10, 16)])
def test_a_classifier_step_under_numba_equals_the_numpy_replay(dtype, shape, loops):
    rng = np.random.default_rng(1)
    z = rng.standard_normal(shape).astype(dtype)
    y = np.eye(shape[-1], dtype=dtype)[rng.integers(0, shape[-1], shape[:-1])]

    def f(z, y):  # log_softmax, logsumexp and a sum over the last axis, and their derivatives
        return (snp.sum(ml.log_softmax(z) * y) + snp.sum(sl.scipy.special.logsumexp(z, axis=-1))
                + snp.sum(snp.sum(z * z, axis=-1) ** 2))

    fast, plain = sl.jit(sl.value_and_grad(f), kernels="numba"), sl.jit(sl.value_and_grad(f))
    rows = [n for n in names(fast, z, y) if n.endswith("_rows")]
    assert {"log_softmax_rows", "logsumexp_rows", "sum_rows"} <= set(rows)
    assert not [n for n in names(plain, z, y) if n.endswith("_rows")]
    (v1, g1), (v0, g0) = fast(z, y), plain(z, y)
    assert loops  # the compiled loops ran
    assert g1.dtype == dtype
    assert v1 == v0
    np.testing.assert_array_equal(g1, g0, strict=True)
    v, g = sl.value_and_grad(f)(z, y)  # eager: the same bits too
    np.testing.assert_array_equal(g1, g)
    # and right: the gradient of the log-softmax term is y - softmax(z) * sum(y)
    e = np.exp(z.astype(np.float64) - z.max(-1, keepdims=True))
    sm = e / e.sum(-1, keepdims=True)
    want = y - sm * y.sum(-1, keepdims=True) + sm + 4 * np.sum(z * z, -1, keepdims=True) * z
    np.testing.assert_allclose(g1, want, rtol=100 * np.finfo(dtype).eps, atol=100 * np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_finite_rows_under_numba_equal_the_numpy_replay(dtype):
    x = edge_rows(dtype)

    def f(x):
        return ml.log_softmax(x), sl.scipy.special.logsumexp(x, axis=1, keepdims=True), snp.sum(x, axis=1)

    fast, plain = sl.jit(f, kernels="numba"), sl.jit(f)
    with np.errstate(all="ignore"):
        for a, b, c in zip(fast(x), plain(x), f(x)):
            assert np.array_equal(a, b, equal_nan=True) and np.array_equal(a, c, equal_nan=True)


def test_wide_rows_and_other_axes_keep_numpy():
    wide = sl.jit(lambda z: ml.log_softmax(z), kernels="numba")
    assert names(wide, np.zeros((4, narrow_rows.MAX_WIDTH + 1))) == ["log_softmax"]
    assert names(wide, np.zeros((4, narrow_rows.MAX_WIDTH))) == ["log_softmax_rows"]
    assert names(wide, np.zeros((4, 1))) == ["log_softmax"]  # a row of one: NumPy's copy is faster
    first_axis = sl.jit(lambda z: snp.sum(z, axis=0), kernels="numba")
    assert "sum_rows" not in names(first_axis, np.zeros((64, 10)))
    vector = np.arange(5.0)  # one row: NumPy's sum, a scalar as the replay and eager give
    assert "sum_rows" not in names(first_axis, vector)
    assert type(first_axis(vector)) is type(sl.jit(lambda z: snp.sum(z, axis=0))(vector)) is np.float64


def test_a_changed_max_width_reaches_programs_compiled_after(monkeypatch):
    """The width is part of a compiled program's key: a program compiled before the change is
    not taken for one compiled after."""
    f = lambda z: snp.sum(z, axis=1)  # noqa: E731
    z = np.zeros((4, 8))
    monkeypatch.setattr(narrow_rows, "MAX_WIDTH", 4)
    assert "sum_rows" not in sl.jit(f, kernels="numba").trace(z).compile().source
    monkeypatch.setattr(narrow_rows, "MAX_WIDTH", 16)
    assert "sum_rows" in sl.jit(f, kernels="numba").trace(z).compile().source


def test_a_transposed_argument_takes_numpys_reduction():
    """The loops check the layout when the program runs: a view whose rows are not contiguous
    goes to NumPy, whose order for it differs from the pairwise one of contiguous rows."""
    f = sl.jit(lambda z: snp.sum(z, axis=1), kernels="numba")
    base = np.random.default_rng(3).standard_normal((10, 40)) * np.logspace(-8, 8, 40)
    got = f(base.T)
    np.testing.assert_array_equal(got, np.add.reduce(base.T, axis=1))
