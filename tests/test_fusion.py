"""Row blocking (slopes.core.tiling): a large matrix read twice by a program is read once.

Passes over memory are counted, not timed: the data matrix is handed to the compiled
program as an array that records which rows each matrix product reads. A read of the
block the previous product read (small enough to stay in cache) is not a new pass.
"""

import math
import sys

import numpy as np
import pytest
from checks import central_difference, lowered_names

import slopes as sl
import slopes.numpy as snp
from slopes.core import tiling
from slopes.core.pytree import leaves


class RowReads(np.ndarray):
    """An array recording, per matrix product, the row range of it that the product reads."""

    log = None  # list of (first row, end row), shared by the views of one matrix

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc is np.matmul:
            for x in inputs:
                if isinstance(x, RowReads):
                    x.log.append(x._rows())
        plain = [np.asarray(x) if isinstance(x, RowReads) else x for x in inputs]
        return getattr(ufunc, method)(*plain, **kwargs)

    def _rows(self):
        base = self.base_matrix
        offset = self.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        first = offset // base.strides[0]
        rows = self.shape[0] if self.strides[0] == base.strides[0] else self.shape[-1]  # A[i:j] or A.T[:, i:j]
        return first, first + rows

    def __array_finalize__(self, obj):
        if obj is not None:
            self.log = getattr(obj, "log", None)
            self.base_matrix = getattr(obj, "base_matrix", None)
            self.cuts = getattr(obj, "cuts", None)  # views made of the matrix (slices, transposes)
            if self.cuts is not None:
                self.cuts.append(self.shape)


def counting(A):
    view = A.view(RowReads)
    view.log, view.base_matrix, view.cuts = [], A, []
    return view


def bytes_read(log, row_bytes):
    """Bytes of the matrix the products read from memory: re-reading the block just read
    (<= 2 x BLOCK_BYTES) is a cache hit."""
    rows, hot = 0, None
    for first, end in log:
        if (first, end) != hot:
            rows += end - first
        hot = (first, end) if (end - first) * row_bytes <= 2 * tiling.BLOCK_BYTES else None
    return rows * row_bytes


def passes(log, n, row_bytes):
    """Rows read from memory / n."""
    return bytes_read(log, row_bytes) / (n * row_bytes)


def swap_matrix(program, A, view):
    """Make the program's constants that are ``A`` (or ``A.T``) the counting ``view``."""
    for e in program.equations:
        for r in e.ins:
            if type(r) is not int and isinstance(r.value, np.ndarray) and np.shares_memory(r.value, A):
                r.value = view if r.value.shape == A.shape else view.T


def data(n, d, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    y = (rng.random(n) < 0.5).astype(dtype)
    w = (0.1 * rng.standard_normal(d)).astype(dtype)
    return X, y, w


def logistic(X, y):
    return lambda w: snp.mean(snp.logaddexp(0.0, X @ w) - y * (X @ w)) + 1e-3 * snp.sum(w * w)


def logistic_z_once(X, y):
    """The same loss with ``z = X @ w`` computed once, as a user would write it."""

    def loss(w):
        z = X @ w
        return snp.mean(snp.logaddexp(0.0, z) - y * z) + 1e-3 * snp.sum(w * w)

    return loss


def logistic_grad(X, y, w):
    """Closed form: X^T (sigmoid(X w) - y) / n + 2e-3 w."""
    return X.T @ (0.5 * (1 + np.tanh(0.5 * (X @ w))) - y) / X.shape[0] + 2e-3 * w


def three_outputs():
    """``(X, Y, W)``: a 4000 x 20 matrix, three binary outputs per row, and (20, 3) weights."""
    X, _, _ = data(4000, 20)
    Y = (np.random.default_rng(2).random((4000, 3)) < 0.5).astype(float)
    return X, Y, 0.1 * np.random.default_rng(1).standard_normal((20, 3))


def plain_replay(program, monkeypatch, *args):
    with monkeypatch.context() as m:
        m.setattr(tiling, "MIN_BYTES", 1 << 62)
        return program.compile()(*args)


def blocked(program):
    return any(e.prim.name == "row_blocks" for e in tiling.row_blocked(program).equations)


def reordered_sum_bound(terms_abs_sum, dtype):
    """A sum reordered into block partial sums: both orders err by a few eps * sum|terms|
    (recursive summation's worst case is (n - 1) eps sum|terms|; 16 eps covers the
    blocked and the BLAS orders of these sizes with room)."""
    return 16 * np.finfo(dtype).eps * terms_abs_sum


@pytest.mark.parametrize("transform", [sl.grad, sl.value_and_grad])
def test_logistic_gradient_reads_the_matrix_once(transform, small_blocks, monkeypatch):
    X, y, w = data(4000, 20)
    program = sl.jit(transform(logistic(X, y))).trace(w)
    assert blocked(program)
    view = counting(X)
    swap_matrix(program, X, view)
    out = program.compile()(w)
    assert passes(view.log, 4000, X.strides[0]) == 1.0
    assert all(end - first < 4000 for first, end in view.log)  # no product reads all of X
    view.log.clear()
    plain = plain_replay(program, monkeypatch, w)
    assert passes(view.log, 4000, X.strides[0]) == 2.0  # without blocking: two passes
    g = out[-1]
    terms = np.abs(X).T @ np.full(4000, 1.0 / 4000)  # |r_i| <= 1/n
    assert np.all(np.abs(g - plain[-1]) <= reordered_sum_bound(terms, np.float64))
    np.testing.assert_allclose(g, logistic_grad(X, y, w), rtol=1e-12, atol=1e-15)
    if transform is sl.value_and_grad:
        z = X @ w
        loss = np.mean(np.logaddexp(0, z) - y * z) + 1e-3 * w @ w
        assert abs(out[0] - plain[0]) <= reordered_sum_bound(np.mean(np.abs(np.logaddexp(0, z) - y * z)), np.float64)
        np.testing.assert_allclose(out[0], loss, rtol=1e-13)


def test_fires_at_the_default_thresholds():
    """A 20000 x 40 float64 matrix (6.4 MB) is above MIN_BYTES; a 2000 x 40 one (0.64 MB) is not."""
    X, y, w = data(20_000, 40)
    assert blocked(sl.jit(sl.grad(logistic(X, y))).trace(w))
    Xs, ys, ws = data(2000, 40)
    assert not blocked(sl.jit(sl.grad(logistic(Xs, ys))).trace(ws))


def test_float32(small_blocks, monkeypatch):
    X, y, w = data(4000, 20, np.float32)
    program = sl.jit(sl.grad(logistic(X, y))).trace(w)
    assert blocked(program)
    g, = program.compile()(w)
    assert g.dtype == np.float32
    plain, = plain_replay(program, monkeypatch, w)
    terms = np.abs(X.astype(np.float64)).T @ np.full(4000, 1.0 / 4000)
    assert np.all(np.abs(g - plain) <= reordered_sum_bound(terms, np.float32))
    X64, y64, w64 = (a.astype(np.float64) for a in (X, y, w))
    np.testing.assert_allclose(g, logistic_grad(X64, y64, w64), rtol=1e-4, atol=1e-6)


def test_row_values_needed_after_the_loop_equal_the_plain_replay(small_blocks, monkeypatch):
    """A row value that is also an output is written block by block: the same NumPy calls on
    slices. The elementwise calls give the same bits; ``X[i:j] @ W`` may round differently
    from ``X @ W`` by about an ulp (BLAS picks its kernel by size), which the sigmoid
    carries on: a few ulp in all."""
    X, y, w = data(4000, 20)
    W = 0.1 * np.random.default_rng(1).standard_normal((20, 3))

    def f(W):
        p = snp.exp(-snp.logaddexp(0.0, -(X @ W)))  # sigmoid, (n, 3)
        return p, X.T @ (p - y[:, None])

    program = sl.jit(f).trace(W)
    assert blocked(program)
    p, g = program.compile()(W)
    p0, g0 = plain_replay(program, monkeypatch, W)
    np.testing.assert_array_max_ulp(p, p0, maxulp=4)
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-(X @ W))), rtol=1e-14)
    assert np.all(np.abs(g - g0) <= reordered_sum_bound(np.abs(X).T @ np.ones((4000, 3)), np.float64))
    np.testing.assert_allclose(g, X.T @ (1 / (1 + np.exp(-(X @ W))) - y[:, None]), rtol=1e-11, atol=1e-12)


def test_a_sum_over_rows_before_the_second_product_is_not_blocked(small_blocks):
    """sum(softplus(z - mean(z))): the gradient's chain needs mean(z) over all rows first."""
    X, y, w = data(4000, 20)
    f = lambda w: snp.sum(snp.logaddexp(0.0, X @ w - snp.mean(X @ w)))  # noqa: E731
    program = sl.jit(sl.grad(f)).trace(w)
    assert not blocked(program)
    view = counting(X)
    swap_matrix(program, X, view)
    g, = program.compile()(w)
    z = X @ w
    s = 1 / (1 + np.exp(-(z - z.mean())))
    np.testing.assert_allclose(g, X.T @ (s - s.mean()), rtol=1e-12, atol=1e-12)
    assert passes(view.log, 4000, X.strides[0]) >= 2.0


def test_a_softmax_over_the_rows_is_not_blocked(small_blocks):
    X, y, w = data(4000, 20)
    f = lambda w: snp.sum(sl.ml.softmax(X @ w, axis=0) * y)  # noqa: E731
    program = sl.jit(sl.grad(f)).trace(w)
    assert not blocked(program)
    g, = program.compile()(w)
    p = np.exp(X @ w - (X @ w).max())
    p /= p.sum()
    np.testing.assert_allclose(g, X.T @ (p * (y - p @ y)), rtol=1e-10, atol=1e-14)


LOSS_SPELLINGS = {
    "X @ w": lambda X, y: lambda w: snp.mean(snp.logaddexp(0.0, X @ w) - y * (X @ w)) + 1e-3 * snp.sum(w * w),
    "w @ X.T": lambda X, y: lambda w: snp.mean(snp.logaddexp(0.0, w @ X.T) - y * (w @ X.T)) + 1e-3 * snp.sum(w * w),
    "dot(X, w)": lambda X, y: lambda w: (snp.sum(snp.logaddexp(0.0, snp.dot(X, w)) - y * snp.dot(X, w)) / len(y)
                                         + 1e-3 * snp.sum(w * w)),
}


@pytest.mark.parametrize("transform", [sl.grad, sl.value_and_grad])
@pytest.mark.parametrize("spelling", list(LOSS_SPELLINGS))
def test_each_spelling_of_the_loss_reads_the_matrix_once(spelling, transform, small_blocks, monkeypatch):
    """Bytes of X the products read: X.nbytes blocked, at least twice that replayed plainly
    (``w @ X.T`` written twice is not merged by the trace, so three products there)."""
    X, y, w = data(4000, 20)
    program = sl.jit(transform(LOSS_SPELLINGS[spelling](X, y))).trace(w)
    view = counting(X)
    swap_matrix(program, X, view)
    out = program.compile()(w)
    assert bytes_read(view.log, X.strides[0]) == X.nbytes
    view.log.clear()
    plain = plain_replay(program, monkeypatch, w)
    assert bytes_read(view.log, X.strides[0]) >= 2 * X.nbytes
    terms = np.abs(X).T @ np.full(4000, 1.0 / 4000)
    assert np.all(np.abs(out[-1] - plain[-1]) <= reordered_sum_bound(terms, np.float64))
    np.testing.assert_allclose(out[-1], logistic_grad(X, y, w), rtol=1e-12, atol=1e-15)
    if transform is sl.value_and_grad:
        z = X @ w
        parts = np.logaddexp(0, z) - y * z
        assert abs(out[0] - plain[0]) <= reordered_sum_bound(np.mean(np.abs(parts)), np.float64)
        np.testing.assert_allclose(out[0], np.mean(parts) + 1e-3 * w @ w, rtol=1e-13)


@pytest.mark.parametrize("spelling", ["X.T @ r", "r @ X"])
def test_a_written_gradient_reads_the_matrix_once(spelling, small_blocks, monkeypatch):
    X, y, w = data(4000, 20)

    def gradient(w):
        r = snp.exp(-snp.logaddexp(0.0, -(X @ w))) - y  # sigmoid(X w) - y
        return (X.T @ r if spelling == "X.T @ r" else r @ X) / 4000 + 2e-3 * w

    program = sl.jit(gradient).trace(w)
    view = counting(X)
    swap_matrix(program, X, view)
    g, = program.compile()(w)
    assert bytes_read(view.log, X.strides[0]) == X.nbytes
    view.log.clear()
    g0, = plain_replay(program, monkeypatch, w)
    assert bytes_read(view.log, X.strides[0]) == 2 * X.nbytes
    assert np.all(np.abs(g - g0) <= reordered_sum_bound(np.abs(X).T @ np.full(4000, 1.0 / 4000), np.float64))
    np.testing.assert_allclose(g, logistic_grad(X, y, w), rtol=1e-12, atol=1e-15)


def lines_run(fn, *args, filename="<slopes row blocks>"):
    """Statements executed in the generated row loop while ``fn(*args)`` runs (work, not time)."""
    count = [0]

    def local(frame, event, arg):
        count[0] += event == "line"
        return local

    def trace(frame, event, arg):
        return local if frame.f_code.co_filename == filename else None

    sys.settrace(trace)
    try:
        fn(*args)
    finally:
        sys.settrace(None)
    return count[0]


def test_a_block_costs_its_numpy_calls_and_no_slicing(small_blocks):
    """The logistic gradient's block is 4 NumPy calls (X_b @ w, expit, scale, r_b @ X_b):
    slices of the constant X are cut once, when the loop is written, not per call."""
    X, y, w = data(4000, 20)
    program = sl.jit(sl.grad(logistic(X, y))).trace(w)
    view = counting(X)
    swap_matrix(program, X, view)
    replay = program.compile()
    view.cuts.clear()
    view.log.clear()
    lines = lines_run(replay, w)
    blocks = len(view.log) // 2
    # blocks sized by the bytes streamed per row, X's alone: the broadcast 1/n costs nothing
    assert blocks == math.ceil(4000 / (tiling.BLOCK_BYTES // X.strides[0])) == 40
    assert view.cuts == []  # no view of X made per call
    assert lines <= blocks * (4 + 2) + 12  # the 4 calls, the for line and the short-block test per block


def test_the_partials_buffers_are_fresh_per_call(small_blocks):
    """A call's result is not overwritten by the next call (buffers are per call, not shared)."""
    X, y, w = data(4000, 20)
    replay = sl.jit(sl.value_and_grad(logistic(X, y)))
    v1, g1 = replay(w)
    keep = g1.copy()
    v2, g2 = replay(-w)
    assert not np.shares_memory(g1, g2)
    np.testing.assert_array_equal(g1, keep)
    np.testing.assert_allclose(g2, logistic_grad(X, y, -w), rtol=1e-12, atol=1e-15)


def test_a_long_chain_reuses_buffers_safely(small_blocks, monkeypatch):
    """Buffers reused across a chain with an operand read twice by one call (``t * t``),
    calls that are not ufuncs between them, two sums and a short last block (4003 rows):
    the values are the plain replay's to reordering, and the finite differences'."""
    X, y, w = data(4003, 20)

    def f(w):
        z = X @ w
        a = snp.tanh(z) * snp.tanh(z)
        b = snp.exp(-a) * z
        return snp.sum(b * b) + snp.sum(snp.sin(z) * z * a)

    program = sl.jit(sl.value_and_grad(f)).trace(w)
    assert blocked(program)
    (v, g), (v0, g0) = program.compile()(w), plain_replay(program, monkeypatch, w)
    np.testing.assert_allclose(v, v0, rtol=1e-13)
    np.testing.assert_allclose(g, g0, rtol=1e-12, atol=1e-12 * np.max(np.abs(g0)))
    fd = [central_difference(lambda w: f(w), [w], [e])[()] for e in np.eye(20)]
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6 * np.max(np.abs(g)))


@pytest.mark.parametrize("size, expected", [("2048K", 2 << 20), ("1280K", 1280 << 10), ("1M", 1 << 20)])
def test_block_bytes_follow_the_level_2_cache(tmp_path, size, expected):
    for index, (level, kind, sz) in enumerate([("1", "Data", "48K"), ("1", "Instruction", "64K"),
                                               ("2", "Unified", size), ("3", "Unified", "480M")]):
        d = tmp_path / f"index{index}"
        d.mkdir()
        for name, text in (("level", level), ("type", kind), ("size", sz)):
            (d / name).write_text(text + "\n")
    assert tiling._l2_bytes(str(tmp_path)) == expected
    assert tiling._l2_bytes(str(tmp_path / "missing")) == 2 << 20  # not Linux: a common L2 size


# -- fused elementwise kernels (kernels="numba", the slopes[fast] extra) -------------------------

def poly(x):
    return snp.sum((x * x * 3.0 - x * 2.0 + 1.0) * x - 0.5 * x * x * x + x / (1.0 + x * x))


def poly_grad(x):
    """Closed form of d/dx of the terms of ``poly``."""
    return 9 * x**2 - 4 * x + 1 - 1.5 * x**2 + (1 - x**2) / (1 + x**2) ** 2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numba_kernels_equal_the_numpy_replay(dtype, numba_cache):
    x = np.linspace(-2, 2, 10_000).astype(dtype)
    fused = sl.jit(sl.grad(poly), kernels="numba")
    plain = sl.jit(sl.grad(poly))
    assert "fused_kernel" in lowered_names(fused, x)
    assert "fused_kernel" not in lowered_names(plain, x)
    g, g0 = fused(x), plain(x)
    g = fused(x)  # the replay (the first call returns the traced values)
    assert g.dtype == dtype
    # the same operations per element in the same order; the C library's and NumPy's division
    # and arithmetic round alike, so equal to 1 ulp
    np.testing.assert_array_max_ulp(g, g0, maxulp=1)
    np.testing.assert_allclose(g, poly_grad(x.astype(np.float64)), rtol=50 * np.finfo(dtype).eps,
                               atol=50 * np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_0d_operand_enters_the_kernel_as_a_number(dtype, numba_cache):

    def update(p, m, v, lr, eps):  # Adam's last chain: the rate and eps are 0-d values of the step
        return p + (m / (snp.sqrt(v) + eps)) * -lr

    rng = np.random.default_rng(0)
    p, m = (rng.normal(size=6000).astype(dtype) for _ in range(2))
    v = rng.random(6000).astype(dtype)
    lr, eps = np.asarray(0.01, dtype), np.asarray(1e-8, dtype)
    fused = sl.jit(update, kernels="numba")
    names = lowered_names(fused, p, m, v, lr, eps)
    assert names.count("fused_kernel") == 1 and names[-1] == "fused_kernel"  # all five array operations
    assert len(names) == 2  # and -lr, on a number
    fused(p, m, v, lr, eps)
    got = fused(p, m, v, lr, eps)
    assert got.dtype == dtype
    np.testing.assert_array_max_ulp(got, sl.jit(update)(p, m, v, lr, eps), maxulp=1)
    np.testing.assert_array_max_ulp(got, p + (m / (np.sqrt(v) + eps)) * -lr, maxulp=1)


def edge_values(dtype, n=8192):
    """Values on many scales with the edges of ``x > 0``: +-0.0, NaN, +-inf and subnormals."""
    x = np.random.default_rng(4).standard_normal(n) * 10.0 ** np.random.default_rng(5).integers(-3, 4, n)
    x[:8] = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-310, -1e-310, 0.1]
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_relu_forward_and_backward_are_one_kernel_each(dtype, numba_cache):
    """``where(x > 0, x, 0)``: the comparison is recomputed in each where that reads it (forward
    and backward), so no boolean array is made; selects and comparisons are exact, so the
    kernels give the NumPy replay's bits, signed zeros and NaN included."""
    x, w = edge_values(dtype), edge_values(dtype)[::-1].copy()

    def f(x, w):
        return snp.sum(sl.ml.relu(x + 0.5) * w)

    fused, plain = sl.jit(sl.value_and_grad(f), kernels="numba"), sl.jit(sl.value_and_grad(f))
    names = lowered_names(fused, x, w)
    assert "greater" not in names and "where" not in names and names.count("fused_kernel") == 2
    with np.errstate(invalid="ignore"):
        (v1, g1), (v0, g0) = fused(x, w), plain(x, w)
        assert np.array_equal(v1, v0, equal_nan=True)
        np.testing.assert_array_equal(g1, g0, strict=True)
        assert np.array_equal(np.signbit(g1), np.signbit(g0))
        np.testing.assert_array_equal(g1, np.where(x + dtype(0.5) > 0, w, dtype(0)))
        forward = sl.jit(lambda x: sl.ml.relu(x + 0.5), kernels="numba")  # the value is NaN (w has NaN)
        assert lowered_names(forward, x) == ["add", "fused_kernel"]  # x + 0.5 is read twice: an array
        got, z = forward(x), x + dtype(0.5)
        want = np.where(z > 0, z, dtype(0))
        np.testing.assert_array_equal(got, want, strict=True)
        assert np.array_equal(np.signbit(got), np.signbit(want))


def test_a_comparison_read_elsewhere_stays_one_numpy_call(numba_cache):
    """A mask also returned (or read by arithmetic) is computed once by NumPy; the where reads it
    as a boolean array."""
    x = edge_values(np.float64)

    def f(x):
        m = x > 0.25
        return snp.where(m, snp.exp(-x * x), -1.5), m

    fused = sl.jit(f, kernels="numba")
    names = lowered_names(fused, x)
    assert names.count("greater") == 1 and names.count("fused_kernel") == 1
    with np.errstate(invalid="ignore"):
        fused(x)
        (y, m), (y0, m0) = fused(x), sl.jit(f)(x)
    np.testing.assert_array_equal(m, x > 0.25)
    np.testing.assert_array_equal(m0, m)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(y0))
    np.testing.assert_array_max_ulp(y[~np.isnan(y)], y0[~np.isnan(y0)], maxulp=1)  # exp: the C library's


def test_a_float32_comparison_rounds_its_constant_as_numpy_does(numba_cache):
    """``x > 0.1`` on float32 compares with float32(0.1), NumPy's rule for a Python float; a kernel
    comparing in float64 would disagree on the float32 values between the two."""
    x = np.float32(0.1) + np.arange(-4096, 4096, dtype=np.float32) * np.float32(2e-9)
    assert np.any((x > 0.1) != (x.astype(np.float64) > 0.1))  # the case exists in these values
    f = sl.jit(lambda x: snp.where(x > 0.1, x * 2.0, x * 3.0), kernels="numba")
    names = lowered_names(f, x)
    assert "fused_kernel" in names and "greater" not in names  # the comparison runs in the kernel
    np.testing.assert_array_equal(f(x), np.where(x > 0.1, x * 2.0, x * 3.0), strict=True)


def test_a_comparison_of_another_dtype_than_its_where_is_not_inlined(numba_cache):
    x32, y = edge_values(np.float32), edge_values(np.float64)
    f = sl.jit(lambda a, b: snp.where(a > 0.1, b * 2.0, b * 3.0), kernels="numba")
    assert lowered_names(f, x32, y).count("greater") == 1
    with np.errstate(invalid="ignore"):
        f(x32, y)
        np.testing.assert_array_equal(f(x32, y), np.where(x32 > 0.1, y * 2.0, y * 3.0), strict=True)


def test_a_replay_calls_the_kernel_itself(numba_cache):
    """The replay's source calls the compiled kernel with the shapes it knows (no Python layer
    between): a 2-D operand flattened, a constant converted once, a 0-d value at each call; the
    results are those of the kernel's Python wrapper (the primitive's own implementation)."""

    def f(x, s):  # s: a 0-d array read by exp, so it stays an array in the replay
        return snp.sqrt(x * x + 0.25) * snp.exp(s) - x

    x = np.random.default_rng(0).standard_normal((64, 96)).astype(np.float32)
    s = np.asarray(0.5, np.float32)
    jitted = sl.jit(f, kernels="numba")
    program = jitted.trace(x, s)
    source = program.compile().source
    assert "fused_kernel" not in source and ".reshape(-1)" in source
    jitted(x, s)
    got = jitted(x, s)
    assert got.dtype == np.float32 and got.shape == x.shape
    from slopes.core.tiling import lower

    (kernel_eq,) = [e for e in lower(program).equations if e.prim.name == "fused_kernel"]
    np.testing.assert_array_equal(got, kernel_eq.prim.impl(x, np.float32(0.25), np.exp(s)))
    np.testing.assert_array_max_ulp(got, np.sqrt(x * x + np.float32(0.25)) * np.exp(s) - x, maxulp=2)


def test_a_tree_read_by_a_later_one_is_computed_in_its_kernel(numba_cache):
    """``a`` is returned and read by ``b``'s tree: one kernel computes both, writing ``a`` out
    beside ``b``, so x and y are read once; a sum of ``a`` needed before ``b`` keeps them apart."""
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((2, 80, 64))

    def both(x, y):
        a = x * x - y * 0.5
        return a, snp.sqrt(a * a + 1.0) * y

    def apart(x, y):
        a = x * x - y * 0.5
        return snp.sqrt(a * a + 1.0) * snp.sum(a)

    results = {}
    for f, kernels in ((both, 1), (apart, 2)):
        fused = sl.jit(f, kernels="numba")
        names = lowered_names(fused, x, y)
        assert names.count("fused_kernel") == kernels
        assert names.count("flat_empty") == (1 if kernels == 1 else 0)
        results[f] = fused(x, y)
        # arithmetic and sqrt are correctly rounded in Numba and NumPy alike: the same bits
        for a, b in zip(leaves(results[f]), leaves(sl.jit(f)(x, y)), strict=True):
            np.testing.assert_array_equal(a, b, strict=True)
    a, b = results[both]
    np.testing.assert_array_equal(a, x * x - y * 0.5)
    assert not np.shares_memory(a, b)


def test_a_captured_0d_array_is_read_at_each_call(numba_cache):
    """A 0-d array the function closes over (a rate a schedule changes in place) enters the kernel
    as its value at the call, as the NumPy replay reads it; a Python number is converted once."""
    lr = np.asarray(0.1)
    fused = sl.jit(lambda w, g: w - lr * g + 0.25 * g, kernels="numba")
    w = g = np.ones(10_000)
    assert "fused_kernel" in lowered_names(fused, w, g)
    fused(w, g)
    lr[...] = 0.5
    np.testing.assert_array_equal(fused(w, g), w - 0.5 * g + 0.25 * g)


def test_trees_sharing_a_comparison_merge_only_in_program_order(numba_cache):
    """A comparison runs in each where that reads it, so the tree it reads is read by both
    wheres' trees: it may go into the later kernel only with the earlier one (compiling read
    a result not made yet before this, KeyError); ReLU's second derivative too."""
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((2, 100, 64))

    def shared(x, y):
        a = x * x - y
        b = a * 2.0  # read in q's tree, before t's
        c = a > 0
        t = snp.where(c, x, y) + 1.0
        q = snp.where(c, y, x) * 3.0 + b
        return t, q

    names = lowered_names(sl.jit(shared, kernels="numba"), x, y)
    # one kernel: a and b stay inside it, t (returned) is written out beside q
    assert names.count("fused_kernel") == 1 and names.count("flat_empty") == 1 and "greater" not in names

    def relu_twice(w):
        inner = sl.grad(lambda w: snp.sum(sl.ml.relu(x * w - y) * sl.ml.relu(w)))
        return snp.sum(inner(w) * y)

    for f, args in ((shared, (x, y)), (sl.grad(relu_twice), (x[0].copy(),))):
        for a, b in zip(leaves(sl.jit(f, kernels="numba")(*args)), leaves(sl.jit(f)(*args)), strict=True):
            np.testing.assert_array_equal(a, b, strict=True)


def test_a_row_loop_keeps_its_kernels_unmerged(numba_cache):
    """A merged kernel (several results) cannot run on blocks of rows: where the NumPy row loop
    forms, trees stay one kernel each, so X is still read once."""
    rng = np.random.default_rng(9)
    X, Y = rng.standard_normal((50_000, 20)), rng.standard_normal((50_000, 20))
    W = 0.1 * rng.standard_normal((20, 20))
    g = sl.grad(lambda W: snp.sum(((X @ W) * (X @ W) - Y) ** 2))
    fused = sl.jit(g, kernels="numba")
    names = lowered_names(fused, W)
    assert "row_blocks" in names and "flat_empty" not in names
    # the loop sums the blocks' parts in its own order: a reordered sum, not the same bits
    np.testing.assert_allclose(fused(W), sl.jit(g)(W), rtol=1e-12, atol=1e-9)


def test_kernels_outside_a_row_loop_still_merge(numba_cache, small_blocks):
    """A NumPy row loop runs its kernels on blocks of rows, so those stay single; the optimizer's
    chain after it still merges into one kernel."""
    rng = np.random.default_rng(10)
    X, Y = rng.standard_normal((4000, 20)), rng.standard_normal((4000, 300))

    def step(W, m, v):
        g = sl.grad(lambda W: snp.sum(snp.tanh(X @ W) ** 2 * Y))(W)
        m, v = m + (g - m) * 0.1, v + (g * g - v) * 0.001
        return W - 0.01 * m / (snp.sqrt(v) + 1e-8), m, v

    W = 0.1 * rng.standard_normal((20, 300))  # the update's kernels: 6000 entries
    m, v = np.zeros_like(W), np.ones_like(W)
    fused = sl.jit(step, kernels="numba")
    names = lowered_names(fused, W, m, v)
    assert "row_blocks" in names and names.count("flat_empty") == 2  # m and v written beside W's kernel
    got, want = fused(W, m, v), sl.jit(step)(W, m, v)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)  # the loop's sums: reordered


def test_a_result_read_only_inside_the_kernel_is_not_written_out(numba_cache):
    """``y`` is read twice by one later tree and by nothing else: the kernel keeps it as a local,
    with no buffer and no store."""
    x = np.linspace(-2.0, 2.0, 10_000)

    def f(x):
        y = snp.sqrt(x * x + 1.0) * 0.5 + 1.0
        return y * y + y

    fused = sl.jit(f, kernels="numba")
    names = lowered_names(fused, x)
    assert names == ["fused_kernel"]  # one kernel, no flat_empty / flat_ready
    np.testing.assert_array_equal(fused(x), sl.jit(f)(x), strict=True)  # correctly rounded operations


def test_a_comparison_read_in_another_kernel_keeps_its_tree_written_out(numba_cache):
    """``y`` merges into ``a``'s kernel, but ``b``'s kernel (kept apart by the sum) recomputes
    ``y > 1.5`` too: ``y`` is written out (it was dropped, and compiling failed)."""
    x = np.linspace(-2.0, 2.0, 10_000)

    def f(x):
        y = snp.sqrt(x * x + 1.0)
        c = y > 1.5
        a = snp.where(c, x, 0.0) * 2.0
        b = snp.where(c, x * 3.0, x) + snp.sum(a)
        return a, b

    for got, want in zip(sl.jit(f, kernels="numba")(x), sl.jit(f)(x), strict=True):
        np.testing.assert_array_equal(got, want, strict=True)


def test_merging_keeps_the_row_loop_whole(numba_cache):
    """Trees read by a row loop's kernels do not merge into trees after the loop: a comparison
    the loop recomputes keeps its tree before it, and a merge that would take a loop member out
    of the loop is not made (X is read once either way)."""
    rng = np.random.default_rng(11)
    X = rng.standard_normal((50_000, 20))
    r, W = rng.standard_normal((50_000, 8)), 0.1 * rng.standard_normal((20, 8))

    def through_a_comparison(W, r):
        c = snp.sqrt(r * r + 1.0) > 1.2
        g = X.T @ (snp.where(c, X @ W, 0.0) * 2.0)
        return g, snp.where(c, r, 1.0) * snp.sum(g) + 3.0

    def through_a_member(W, r):
        u = r * r + 1.0
        z = X @ W
        after = u * snp.sum(z) + 1.0  # would take u past the loop member below
        return X.T @ (z * u), after

    for f in (through_a_comparison, through_a_member):
        fused = sl.jit(f, kernels="numba")
        assert "row_blocks" in lowered_names(fused, W, r)
        for got, want in zip(fused(W, r), sl.jit(f)(W, r), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)  # the loop's reordered sums


@pytest.mark.parametrize("with_value", [True, False], ids=["value_and_grad", "grad"])
def test_numba_kernel_in_the_row_loop(with_value, monkeypatch, small_blocks, numba_cache):
    """An elementwise chain becomes one kernel called on each block of rows (the loss value's
    logaddexp(0, Z) - Y Z; the gradient's expit(Z) - Y scaled by the mean's broadcast 1/n,
    which a kernel reads at full block length, not as the one row a ufunc broadcasts); exp and
    log1p are the C library's there (NumPy's own differ by about an ulp), so a dtype-aware
    tolerance. Three outputs per row (Z = X W, W with 3 columns): a loop of one number per
    row would be one compiled kernel instead (tests/test_row_kernels.py)."""
    monkeypatch.setattr("slopes.core.kernels.MIN_SIZE", 1000)
    X, Y, W = three_outputs()

    def loss(W):
        Z = X @ W
        return snp.mean(snp.logaddexp(0.0, Z) - Y * Z) + 1e-3 * snp.sum(W * W)

    g = sl.jit((sl.value_and_grad if with_value else sl.grad)(loss), kernels="numba")
    program = g.trace(W)
    from slopes.core.tiling import lower

    loop = [e for e in lower(program).equations if e.prim.name == "row_blocks"]
    assert len(loop) == 1 and loop[0].prim.impl.source.count("fused_kernel") >= 1
    Z = X @ W
    first = g(W)
    for got in (first, g(W)):
        grad = got[1] if with_value else got
        np.testing.assert_allclose(grad, X.T @ (1 / (1 + np.exp(-Z)) - Y) / Y.size + 2e-3 * W, rtol=1e-12,
                                   atol=1e-15)
    if with_value:
        np.testing.assert_allclose(got[0], np.mean(np.logaddexp(0, Z) - Y * Z) + 1e-3 * np.sum(W * W), rtol=1e-12)


def test_numba_kernels_are_compiled_once_and_loaded_from_disk(tmp_path):
    """A second process finds the kernel's machine code in the cache directory: 0 compilations."""
    pytest.importorskip("numba")
    import os
    import subprocess
    import sys

    script = (
        "import numpy as np, slopes as sl, slopes.numpy as snp\n"
        "from slopes.core import kernels\n"
        "f = sl.jit(lambda x: snp.exp(-x * x) * 2.0 + x, kernels='numba')\n"
        "x = np.linspace(-1, 1, 5000)\n"
        "f(x); f(x)\n"
        "(k,) = kernels._loaded.values()\n"
        "print(sum(k.stats.cache_misses.values()), sum(k.stats.cache_hits.values()))\n"
    )
    env = dict(os.environ, SLOPES_CACHE_DIR=str(tmp_path))
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(sl.__file__))]
                                        + [p for p in [env.get("PYTHONPATH")] if p])
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
            for _ in range(2)]
    assert [r.stdout.split() for r in runs] == [["1", "0"], ["0", "1"]], [r.stderr[-500:] for r in runs]
    assert len(list((tmp_path / "kernels").glob("slopes_kernel_*.py"))) == 1


def test_kernels_option_errors(monkeypatch):
    with pytest.raises(ValueError, match="kernels must be 'numpy' or 'numba'"):
        sl.jit(poly, kernels="fast")
    import importlib

    monkeypatch.setattr(importlib.import_module("slopes.transforms.jit"), "numba_available", lambda: False)
    with pytest.raises(ImportError, match=r"pip install 'slopes\[fast\]'"):
        sl.jit(poly, kernels="numba")


def test_an_unwritable_cache_directory_is_named(tmp_path, monkeypatch):
    pytest.importorskip("numba")
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("SLOPES_CACHE_DIR", str(blocker))  # a file: no directory can be made in it
    monkeypatch.setattr("slopes.core.kernels._loaded", {})
    f = sl.jit(lambda x: snp.exp(-x * x) * 2.0 + x, kernels="numba")
    with pytest.raises(OSError, match="set SLOPES_CACHE_DIR to a writable directory"):
        f(np.linspace(-1, 1, 5000))


def test_a_division_in_the_row_loop_writes_into_a_block_buffer(small_blocks, monkeypatch):
    """Each elementwise primitive of the loop is called as its ufunc with ``out=`` (a division
    too, whose primitive wraps np.true_divide), so a block allocates nothing."""
    X, y, w = data(4000, 20)

    def loss(w):
        z = X @ w
        return snp.sum(snp.log(1.0 + z**2) / (2.0 + z * z))

    g = sl.jit(sl.grad(loss))
    program = g.trace(w)
    from slopes.core.tiling import lower

    (loop,) = [e for e in lower(program).equations if e.prim.name == "row_blocks"]
    body = loop.prim.impl.source.split("in plan:")[1]
    assert " / " not in body  # each division writes into a block buffer, none allocates
    z = X @ w
    dz = 2 * z / ((1 + z * z) * (2 + z * z)) - 2 * z * np.log1p(z * z) / (2 + z * z) ** 2  # closed form
    np.testing.assert_allclose(g(w), X.T @ dz, rtol=1e-10)


@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_a_row_value_read_with_a_reduction_after_the_loop_is_kept(kernels, small_blocks, tmp_path, monkeypatch):
    """``z - mean(z)`` after the loop reads the row value z and the loop's sum over the rows:
    z is written into a full array (it was not, and writing the program failed)."""
    if kernels == "numba":
        pytest.importorskip("numba")
        monkeypatch.setenv("SLOPES_CACHE_DIR", str(tmp_path))
    X, y, w = data(4000, 20)
    f = sl.jit(lambda w: (X.T @ snp.tanh(X @ w), X @ w - snp.mean(X @ w)), kernels=kernels)
    f(w)
    g, centred = f(w)
    z = X @ w
    np.testing.assert_allclose(g, X.T @ np.tanh(z), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(centred, z - z.mean(), rtol=1e-12, atol=1e-12)
