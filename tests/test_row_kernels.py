"""Row loops as one compiled Numba kernel (slopes.core.row_kernels, kernels="numba").

The kernel's answers are checked against the closed forms and against the plain NumPy
replay, to the rounding bound of a reordered sum; which loops compile is checked on the
lowered program (one ``row_kernel`` equation, no product over the data matrix left).
"""

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
from slopes.core import tiling
from slopes.core.tiling import lower

pytest.importorskip("numba")

from checks import lowered_names as kernel_names  # noqa: E402
from test_fusion import (  # noqa: E402
    data,
    logistic,
    logistic_grad,
    logistic_z_once,
    plain_replay,
    reordered_sum_bound,
    three_outputs,
)

# a 4000 x 20 matrix counts as large (the logic is the same); kernels cached in a fresh directory
pytestmark = pytest.mark.usefixtures("small_blocks", "numba_cache")


def lowered(jitted, *args):
    return lower(jitted.trace(*args))


def names(program):
    return [e.prim.name for e in program.equations]


def products_over(program, X):
    """Equations of ``program`` reading ``X`` (or a view of it) as a constant."""
    return [e for e in program.equations for r in e.ins
            if type(r) is not int and isinstance(r.value, np.ndarray) and np.shares_memory(r.value, X)]


def bound(X, scale):
    return reordered_sum_bound(np.abs(X.astype(np.float64)).T @ np.full(X.shape[0], scale), X.dtype)


@pytest.mark.parametrize("loss", [logistic, logistic_z_once])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logistic_gradient_is_one_kernel(loss, dtype, monkeypatch):
    X, y, w = data(4000, 20, dtype)
    g = sl.jit(sl.grad(loss(X, y)), kernels="numba")
    assert len(products_over(g.trace(w), X)) >= 2
    program = lowered(g, w)
    assert names(program).count("row_kernel") == 1
    assert products_over(program, X) == []  # X is read inside the kernel only
    assert "fastmath" in program.equations[names(program).index("row_kernel")].prim.impl.source
    g(w)
    got = g(w)  # the replay
    assert got.dtype == dtype
    plain, = plain_replay(g.trace(w), monkeypatch, w)
    # the chain's exp is the C library's (about an ulp from NumPy's), then the reordered sums
    slack = 4 * np.finfo(dtype).eps * np.abs(plain)
    assert np.all(np.abs(got - plain) <= bound(X, 1 / 4000) + slack)
    X64, y64, w64 = (a.astype(np.float64) for a in (X, y, w))
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(got, logistic_grad(X64, y64, w64), rtol=tol, atol=tol * 1e-3)


@pytest.mark.parametrize("d", [600, 20])
def test_the_rows_dot_products_kept_and_the_gradient(d, monkeypatch):
    monkeypatch.setattr(tiling, "BLOCK_BYTES", 64 << 10)  # blocks of 13 rows at d = 600: 3 quads and one row
    X, y, w = data(1001, d, np.float64)
    loss = logistic(X, y)
    g = sl.jit(lambda w: (X @ w, sl.grad(loss)(w)), kernels="numba")  # the rows' dot products kept too
    assert kernel_names(g, w).count("row_kernel") == 1
    z, got = g(w)
    assert np.all(np.abs(z - X @ w) <= d * np.finfo(float).eps * (np.abs(X) @ np.abs(w)))  # reordered sums
    assert np.all(np.abs(got - logistic_grad(X, y, w)) <= bound(X, 1 / 1001) + 4 * np.finfo(float).eps * np.abs(got))


def test_a_one_feature_matrix():
    X, y, w = data(10_000, 1, np.float64)  # 80 KB: a large matrix here
    g = sl.jit(sl.grad(logistic(X, y)), kernels="numba")
    assert kernel_names(g, w).count("row_kernel") == 1
    np.testing.assert_allclose(g(w), logistic_grad(X, y, w), rtol=1e-12)


def test_value_and_gradient_sum_over_the_rows_in_the_kernel():
    """The loss value's mean over the rows is a scalar sum the kernel adds up with the gradient."""
    X, y, w = data(4003, 20)  # a short last block
    f = sl.jit(sl.value_and_grad(logistic(X, y)), kernels="numba")
    assert kernel_names(f, w).count("row_kernel") == 1
    f(w)
    v, g = f(w)
    z = X @ w
    np.testing.assert_allclose(v, np.mean(np.logaddexp(0, z) - y * z) + 1e-3 * w @ w, rtol=1e-13)
    np.testing.assert_allclose(g, logistic_grad(X, y, w), rtol=1e-12, atol=1e-15)


def test_row_values_needed_after_the_loop_are_written_per_row():
    """A row value that is also an output (the probabilities) is written row by row."""
    X, y, w = data(4000, 20)

    def f(w):
        p = sl.ml.sigmoid(X @ w)
        return p, (p - y) @ X

    jf = sl.jit(f, kernels="numba")
    assert kernel_names(jf, w).count("row_kernel") == 1
    jf(w)
    p, g = jf(w)
    p_ref = 1 / (1 + np.exp(-(X @ w)))
    np.testing.assert_allclose(p, p_ref, rtol=4e-16 * 8)
    np.testing.assert_allclose(g, (p_ref - y) @ X, rtol=1e-11, atol=1e-12)


def test_the_matrix_as_an_argument():
    """The data matrix passed in (a traced argument, not a constant) is read by the kernel too."""
    X, y, w = data(4000, 20)
    grad = sl.jit(sl.grad(lambda w, X: snp.sum(snp.logaddexp(0.0, X @ w) - y * (X @ w)) / 4000))
    fast = sl.jit(sl.grad(lambda w, X: snp.sum(snp.logaddexp(0.0, X @ w) - y * (X @ w)) / 4000),
                  kernels="numba")
    assert kernel_names(fast, w, X).count("row_kernel") == 1
    fast(w, X)
    np.testing.assert_allclose(fast(w, X), grad(w, X), rtol=1e-12, atol=1e-15)
    X2 = X[::-1].copy()
    np.testing.assert_allclose(fast(w, X2), logistic_grad(X2, y, w) - 2e-3 * w, rtol=1e-12, atol=1e-15)


def test_saturated_rows_give_no_nan():
    """Rows with |X w| in the hundreds: expit is 0 or 1 there, with no overflow into NaN."""
    X, y, w = data(4000, 20)
    X[::7] *= 1e4
    f = sl.jit(sl.grad(logistic(X, y)), kernels="numba")
    f(w)
    with np.errstate(all="raise"):
        got = f(w)
    assert np.all(np.isfinite(got))
    z = X @ w
    p = np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))
    np.testing.assert_allclose(got, X.T @ (p - y) / 4000 + 2e-3 * w, rtol=1e-10, atol=1e-10)


def test_values_with_columns_stay_with_the_numpy_loop():
    """A chain over (n, 3) values (three logistic outputs) is not one number per row: the
    NumPy row loop runs (test_fusion.py checks its fused elementwise kernels)."""
    X, Y, W = three_outputs()
    loss = lambda W: snp.sum(snp.logaddexp(0.0, X @ W) - Y * (X @ W)) / 4000  # noqa: E731
    g = sl.jit(sl.grad(loss), kernels="numba")
    program = lowered(g, W)
    assert "row_kernel" not in names(program)
    assert names(program).count("row_blocks") == 1
    g(W)
    np.testing.assert_allclose(g(W), X.T @ (1 / (1 + np.exp(-(X @ W))) - Y) / 4000, rtol=1e-12, atol=1e-15)


def test_mixed_dtypes_stay_with_the_numpy_loop():
    """A float32 matrix with a float64 vector: NumPy's promotion rules decide, so no kernel."""
    X, y, w = data(4000, 20)
    X32 = X.astype(np.float32)
    g = sl.jit(sl.grad(lambda w: snp.sum(snp.logaddexp(0.0, X32 @ w) - y * (X32 @ w))), kernels="numba")
    assert kernel_names(g, w).count("row_kernel") == 0
    g(w)
    X64 = X32.astype(np.float64)
    np.testing.assert_allclose(g(w), X64.T @ (1 / (1 + np.exp(-(X64 @ w))) - y), rtol=1e-12, atol=1e-12)


def test_the_default_replay_keeps_numpy_loops():
    X, y, w = data(4000, 20)
    assert kernel_names(sl.jit(sl.grad(logistic(X, y))), w).count("row_blocks") == 1


GLM_LOSSES = {  # loss of (w, X, y), and r(z, y) of its gradient's closed form X.T @ r, z = X w
    "least squares": (lambda w, X, y: snp.sum((X @ w - y) ** 2) / 2, lambda z, y: z - y),
    "poisson": (lambda w, X, y: snp.mean(snp.exp(X @ w) - y * (X @ w)), lambda z, y: (np.exp(z) - y) / len(y)),
    "pseudo-huber": (lambda w, X, y: snp.sum(snp.sqrt(1.0 + (X @ w - y) ** 2)),
                     lambda z, y: (z - y) / np.sqrt(1.0 + (z - y) ** 2)),
    "rows of X.T": (lambda w, X, y: snp.sum(snp.sin(w @ X.T)), lambda z, y: np.cos(z)),
    "square of z": (lambda w, X, y: (X @ w) @ (X @ w), lambda z, y: 2 * z),
}


@pytest.mark.parametrize("name", list(GLM_LOSSES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_glm_losses_are_one_kernel(name, dtype):
    """Each loss's value and gradient: one kernel, the closed form's values (in float64;
    a tolerance of the dtype's eps times the size of the summed terms)."""
    X, y, w = data(4003, 20, dtype)
    loss, residual = GLM_LOSSES[name]
    f = sl.jit(sl.value_and_grad(lambda w: loss(w, X, y)), kernels="numba")
    assert kernel_names(f, w).count("row_kernel") == 1
    f(w)
    v, g = f(w)
    assert v.dtype == g.dtype == dtype
    X64, y64, w64 = (a.astype(np.float64) for a in (X, y, w))
    r = residual(X64 @ w64, y64)
    terms = np.abs(X64).T @ np.abs(r)  # sum_i |x_ij r_i|
    assert np.all(np.abs(g - X64.T @ r) <= 64 * np.finfo(dtype).eps * terms)
    np.testing.assert_allclose(v, float(loss(w64, X64, y64)), rtol=64 * np.finfo(dtype).eps)


def test_a_matrix_not_laid_out_by_rows_stays_with_the_numpy_loop():
    """A Fortran-ordered constant (as pandas' to_numpy gives) would be a strided read by rows."""
    X, y, w = data(4000, 20)
    XF = np.asfortranarray(X)
    g = sl.jit(sl.grad(logistic(XF, y)), kernels="numba")
    assert kernel_names(g, w).count("row_blocks") == 1
    g(w)
    np.testing.assert_allclose(g(w), logistic_grad(X, y, w), rtol=1e-12, atol=1e-15)


def test_a_matrix_argument_is_checked_at_each_call():
    """The kernel reads a C-ordered argument; a Fortran-ordered one runs the NumPy loop, same values."""
    X, y, w = data(4000, 20)
    f = sl.jit(sl.grad(lambda w, X: snp.sum(snp.logaddexp(0.0, X @ w) - y * (X @ w))), kernels="numba")
    assert kernel_names(f, w, X).count("row_kernel") == 1
    f(w, X)
    expected = X.T @ (1 / (1 + np.exp(-(X @ w))) - y)
    for layout in (X, np.asfortranarray(X), X, X[:, ::-1][:, ::-1]):
        np.testing.assert_allclose(f(w, layout), expected, rtol=1e-12, atol=1e-12)
