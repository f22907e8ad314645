"""Floating sums through BLAS (core/ops/blas_sum.py): accuracy against math.fsum, bits that do
not depend on where an array starts, the eager primitive and the replay alike, and the
training step's reductions taking the product."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
from slopes.core import pytree
from slopes.core.ops import blas_sum
from slopes.core.ops.blas_sum import summer

pytestmark = pytest.mark.skipif(not blas_sum.gemv_sums(), reason="NumPy does not call OpenBLAS here")

FLOATS = [np.float64, np.float32]


def by_gemv(fn):
    return not isinstance(fn, functools.partial)  # NumPy's own reduction is a partial of np.add.reduce


def data(shape, dtype, kind, axis=-1, seed=0):
    """Random entries: "normal"; "cancel", over 2**0..2**30 in magnitude with every sum along
    ``axis`` near zero; "pairs", opposite pairs over 2**10..2**30 plus small terms, shuffled
    along ``axis``; "positive" and "wide" (2**0..2**30), of one sign."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if kind in ("cancel", "wide"):
        x = x * np.exp2(rng.integers(0, 30, shape))
    if kind == "cancel":
        x = x - x.mean(axis=axis, keepdims=True)
    if kind == "pairs":
        x = np.moveaxis(x, axis, 0)
        h = len(x) // 2
        big = x[:h] * np.exp2(rng.integers(10, 30, x[:h].shape))
        x = np.concatenate([big, -big, np.zeros_like(x[2 * h:])]) + rng.standard_normal(x.shape)
        x = np.moveaxis(rng.permuted(x, axis=0), 0, axis)
    if kind in ("positive", "wide"):
        x = np.abs(x)
    return np.ascontiguousarray(x, dtype=dtype)


def errors(sums, rows):
    """|sum - exact| / sum(|x|) per row, the exact sum by math.fsum."""
    rows = rows.astype(np.float64)  # exact for float32 entries
    exact = np.array([math.fsum(r) for r in rows])
    scale = np.abs(rows).sum(axis=1)
    return np.abs(np.asarray(sums, np.float64) - exact) / scale


def gamma(d, dtype):
    u = np.finfo(dtype).eps / 2
    return d * u / (1 - d * u)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kind", ["normal", "cancel", "pairs"])
@pytest.mark.parametrize("shape", [(64, 10), (64, 128), (200, 7), (8, 4, 5)])
def test_leading_sums_no_less_accurate_than_numpy(shape, kind, dtype):
    lead = (0, 1) if len(shape) == 3 else (0,)
    fn = summer(shape, np.dtype(dtype), lead, False)
    assert by_gemv(fn)
    trials = -(-4000 // shape[-1])  # about 4000 sums, each over the leading axes of one array
    xs = data((trials, math.prod(shape[:-1]), shape[-1]), dtype, kind, axis=1)
    cols = np.concatenate([x.T for x in xs])  # one row per sum, in NumPy's order: it adds the rows one by one
    mine = errors(np.concatenate([fn(x.reshape(shape)).ravel() for x in xs]), cols)
    theirs = errors(np.concatenate([np.add.reduce(x.reshape(shape), axis=lead).ravel() for x in xs]), cols)
    assert mine.max() <= gamma(cols.shape[1] - 1, dtype)  # the bound of any order, NumPy's included
    assert mine.mean() <= theirs.mean()
    assert fn(xs[0].reshape(shape)).dtype == dtype


def test_fewer_leading_rows_keep_numpy():
    """Below 32 rows gemv's order is no better than NumPy's on average on cancelling columns."""
    for shape in [(16, 10), (31, 128), (2, 3, 5)]:
        assert not by_gemv(summer(shape, np.dtype(np.float64), (0,), False))


@pytest.mark.parametrize("shape", [(64, 5), (64, 12), (1, 12), (1, 15), (4001, 10), (64, 128)])
def test_last_axis_keeps_numpy(shape):
    """Row sums keep NumPy's pairwise order, a single row of 10-15 entries included (gemv's
    dot would add it one entry after another)."""
    assert not by_gemv(summer(shape, np.dtype(np.float64), (1,), False))
    for seed in range(300 if shape[0] == 1 else 1):  # a single row: many of them, for bits to differ
        x = data(shape, np.float64, "normal", seed=seed) * 4
        assert np.array_equal(snp.sum(x, axis=-1), np.add.reduce(x, axis=1))
        assert sl.ml.log_softmax(x, axis=-1).tobytes() == reference_log_softmax(x).tobytes()


def test_eager_fallback_pays_no_chooser(monkeypatch):
    """Sums that cannot take the product (all axes, an int axis, fewer than 64 entries) call
    np.add.reduce directly; a tuple of leading axes over 64 entries or more asks summer."""
    asked = []
    chooser = blas_sum._summer
    monkeypatch.setattr(blas_sum, "_summer", lambda *a: asked.append(a) or chooser(*a))
    small, large = np.ones((8, 3)), np.ones((64, 10))
    for x, axis in [(small, (0,)), (small, None), (large, None), (small, (0, 1))]:
        assert np.array_equal(blas_sum.add_reduce(x, axis, False), np.add.reduce(x, axis=axis))
        assert np.array_equal(snp.sum(x, axis=axis), np.add.reduce(x, axis=axis))
    assert np.array_equal(blas_sum.add_reduce(large, 0, False), np.add.reduce(large, axis=0))
    assert asked == []
    assert np.array_equal(snp.sum(large, axis=0), np.full(10, 64.0))
    assert asked == [((64, 10), np.dtype(np.float64), (0,), False)]


def test_ones_vectors_are_evicted_with_their_chooser():
    """The vectors of ones live in the bounded chooser cache: summing over 3000 different row
    counts holds at most the cache's worth of them, not all 3000 (36 MB)."""
    import tracemalloc

    blas_sum._summer.cache_clear()
    tracemalloc.start()
    try:
        for m in range(32, 3032):
            blas_sum.add_reduce(np.ones((m, 2)), (0,), False)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        blas_sum._summer.cache_clear()
    assert held < blas_sum._summer.cache_info().maxsize * 3032 * 8 + 2**20


@pytest.mark.parametrize("dtype", FLOATS)
def test_bits_do_not_depend_on_the_address(dtype):
    x = data((64, 7), dtype, "wide")
    fn = summer(x.shape, x.dtype, (0,), False)
    assert by_gemv(fn)
    buf = bytearray(x.nbytes + 64)
    results = []
    for offset in [0, 8, 16, 24, 40, 56, 1, 3, 4, 7]:  # aligned, and misaligned (NumPy's product copies those)
        view = np.frombuffer(buf, dtype=dtype, count=x.size, offset=offset).reshape(x.shape)
        view[...] = x
        results.append(fn(view))
    fresh = fn(x.copy())
    assert all(r.tobytes() == fresh.tobytes() for r in results)


def test_layouts_blas_would_copy_keep_numpy_bits():
    x = data((64, 64), np.float64, "wide")
    for view, axis in [(x.T, (1,)), (x[::-1], (0,)), (x[:, ::2], (0,)), (np.asfortranarray(x), (0,)), (x[:, :10], (1,))]:
        got = summer(view.shape, view.dtype, axis, False)(view)
        assert np.array_equal(got, np.add.reduce(view, axis=axis))


def test_other_dtypes_and_shapes_unchanged():
    rng = np.random.default_rng(3)
    cases = [
        (rng.standard_normal((64, 10)) + 1j * rng.standard_normal((64, 10)), (0,)),
        (rng.integers(-5, 5, (64, 10)), (0,)),
        (rng.standard_normal((64, 10)) > 0, (1,)),
        (rng.standard_normal((64, 10)).astype(np.float16), (0,)),
        (np.zeros((0, 10)), (0,)),
        (np.zeros((5, 0)), (1,)),
        (rng.standard_normal((8, 10)), None),
        (rng.standard_normal((4, 5, 6)), (1,)),
    ]
    for x, axis in cases:
        for keepdims in (False, True):
            got = snp.sum(x, axis=axis, keepdims=keepdims)
            want = np.sum(x, axis=axis, keepdims=keepdims)
            assert got.dtype == want.dtype and got.shape == want.shape
            assert np.array_equal(got, want)


def test_eager_sums_are_the_product_with_ones():
    """Fails where sums went through np.add.reduce: the bits are gemv's."""
    x = data((64, 10), np.float64, "cancel", axis=0)
    assert np.array_equal(snp.sum(x, axis=0), np.ones(64).dot(x))
    assert np.array_equal(snp.sum(x, axis=0, keepdims=True), np.ones(64).dot(x)[None])
    assert np.array_equal(snp.mean(x, axis=0), np.ones(64).dot(x) / 64)
    assert not np.array_equal(np.ones(64).dot(x), np.add.reduce(x, axis=0))  # the data tells them apart
    assert np.array_equal(snp.sum(x, axis=-1), np.add.reduce(x, axis=1))  # rows: NumPy's


def same_bits(a, b):
    pairs = [(np.asarray(p), np.asarray(q)) for p, q in zip(pytree.leaves(a), pytree.leaves(b), strict=True)]
    return all(p.dtype == q.dtype and p.shape == q.shape and p.tobytes() == q.tobytes() for p, q in pairs)


@pytest.mark.parametrize("dtype", FLOATS)
def test_jit_gives_the_eager_bits(dtype):
    x = data((64, 10), dtype, "cancel", axis=0)
    b = data((10,), dtype, "normal", seed=1)
    fns = [
        lambda x, b: snp.sum(x, axis=0),
        lambda x, b: snp.sum(x, axis=1, keepdims=True),
        lambda x, b: snp.mean(x * x, axis=0),
        lambda x, b: sl.ml.log_softmax(x + b, axis=-1),
        lambda x, b: sl.grad(lambda b: snp.sum(snp.tanh(x + b) ** 2))(b),  # sum_to (64, 10) -> (10,)
        lambda x, b: sl.value_and_grad(lambda b: sl.ml.cross_entropy(x + b, np.eye(10, dtype=dtype)[np.arange(64) % 10]))(b),
    ]
    for f in fns:
        eager, jitted = f(x, b), sl.jit(f)(x, b)
        assert same_bits(jitted, eager)
        assert same_bits(sl.jit(f)(x, b), eager)  # the replay, from the cache


def test_training_step_program_sums_by_gemv():
    """The digits MLP step's bias gradients: column sums of the batch's 64 rows."""
    rng = np.random.default_rng(0)
    p = {"W1": rng.standard_normal((64, 128)) * 0.1, "b1": np.zeros(128),
         "W2": rng.standard_normal((128, 10)) * 0.1, "b2": np.zeros(10)}
    xb, yb = rng.random((64, 64)), np.eye(10)[rng.integers(0, 10, 64)]
    opt = sl.optim.adam(1e-3)

    def loss(p, xb, yb):
        h = sl.ml.relu(xb @ p["W1"] + p["b1"])
        return sl.ml.cross_entropy(h @ p["W2"] + p["b2"], yb)

    def step(p, s, xb, yb):
        value, g = sl.value_and_grad(loss)(p, xb, yb)
        u, s = opt.update(g, s, p)
        return sl.optim.apply_updates(p, u), s, value

    jitted = sl.jit(step)
    s0 = opt.init(p)
    out = jitted(p, s0, xb, yb)
    (entry,) = jitted._programs.values()
    src, ns = entry.program.source()
    # the bias gradients are written into the update's flat buffer (core/horizontal): named as
    # constants there, so every function of the namespace is looked at
    gemv = [name for name, v in ns.items() if getattr(v, "__qualname__", "").startswith("_leading_sum")]
    assert len(gemv) == 2  # sum_to (64, 128) -> (128,) and (64, 10) -> (10,), called in the replay
    assert all(f"{name}(" in src for name in gemv)
    # and NumPy's for the cotangent's row sums (either sign) and the loss's full sum over 640
    sums = [name for name in ns if name.split("_", 1)[-1] in ("sum", "sum_to")]
    assert len(sums) == 2 and not any(by_gemv(ns[name]) for name in sums)
    assert same_bits(out, step(p, s0, xb, yb))  # the eager step's bits: both sum the same way


def reference_log_softmax(x):
    """log_softmax in NumPy's own order: row max, shift (by 0 where a maximum is not finite), row sums."""
    m = np.maximum.reduce(x, axis=-1, keepdims=True)
    d = x - np.where(np.isfinite(m), m, 0.0)
    return d - np.log(np.add.reduce(np.exp(d), axis=-1, keepdims=True))


@pytest.mark.parametrize("dtype", FLOATS)
def test_log_softmax_keeps_numpy_row_sums(dtype):
    """NaN, inf and -inf rows (the shift by 0 where a maximum is not finite) and a signed-zero
    maximum included."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((64, 10)).astype(dtype)
    special = x.copy()
    special[0] = -1.0
    special[0, [2, 7]] = [0.0, -0.0]
    special[1, 3] = np.nan
    special[2, 4] = np.inf
    special[3] = -np.inf
    with np.errstate(invalid="ignore", divide="ignore"):  # the -inf row: log(0), inf - inf
        for data_ in (x, special, x[:31]):
            assert sl.ml.log_softmax(data_, axis=-1).tobytes() == reference_log_softmax(data_).tobytes()


@pytest.mark.parametrize("loss", ["cross_entropy", "squares"])
def test_row_blocked_sums_take_each_block_shape(loss):
    """Fails where a row loop replayed a sum built for the whole array's shape (gemv's ones
    sized for 20000 rows, fed blocks of rows): the loop's sums follow each block's own shape."""
    rng = np.random.default_rng(7)
    a, w, b = rng.standard_normal((20000, 100)), rng.standard_normal((100, 3)) * 0.1, rng.standard_normal(3)
    y = np.eye(3)[rng.integers(0, 3, 20000)]
    if loss == "cross_entropy":
        f = sl.grad(lambda w, b: sl.ml.cross_entropy(a @ w + b, y), argnums=(0, 1))
    else:
        f = sl.grad(lambda w, b: snp.sum((a @ w + b) ** 2), argnums=(0, 1))
    jitted = sl.jit(f)
    got, want = jitted(w, b), f(w, b)
    (entry,) = jitted._programs.values()
    assert "row_blocks" in entry.program.source()[0]  # the row loop this test is about
    for g, e in zip(got, want, strict=True):  # blocks add in another order: close, not the same bits
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12 * np.abs(e).max())
