"""logsumexp and log_softmax as primitives: values, derivatives to order 3, non-finite rows,
axes, float32, vmap and jit, and the length of a cross-entropy's gradient program.

References are independent of slopes: scipy.special, closed forms (the gradient of
logsumexp is softmax p, its Hessian diag(p) - p p^T, its derivatives along a line the
cumulants of the direction under p) and, for inf and NaN entries, a NumPy transcription of
the composed form these primitives replace (shift by the finite maximum, exp, sum, log;
its reverse pass masked wherever the cotangent is 0).
"""

import warnings

import numpy as np
import pytest
from scipy import special

import slopes as sl
import slopes.ml as ml
import slopes.numpy as snp

RNG = np.random.default_rng(20)
X = RNG.normal(size=(4, 5)) * 3.0
INF, NAN = np.inf, np.nan


def softmax_rows(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# -- values ------------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_values_match_scipy(axis, keepdims):
    got = snp.logsumexp(X, axis=axis, keepdims=keepdims)
    want = special.logsumexp(X, axis=axis, keepdims=keepdims)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_log_softmax_matches_scipy_and_keeps_the_largest_entry_accurate():
    np.testing.assert_allclose(ml.log_softmax(X, axis=-1), special.log_softmax(X, axis=-1), rtol=1e-14, atol=1e-15)
    z = np.array([30.0, 0.0, -30.0])
    # (x - m) - log(sum exp(x - m)): the largest entry is -log(1 + tiny) to the rounding of
    # 1 + tiny (1e-16), where x - logsumexp(x) rounds 30 + tiny to the ulp of 30 first (4e-15)
    want = -np.log1p(np.exp(-30.0) + np.exp(-60.0))
    assert ml.log_softmax(z)[0] == pytest.approx(want, rel=0, abs=3e-16)


def test_float32_in_float32_out():
    x = X.astype(np.float32)
    assert snp.logsumexp(x, axis=1).dtype == np.float32
    assert ml.log_softmax(x).dtype == np.float32
    g = sl.grad(lambda v: snp.sum(snp.logsumexp(v, axis=1)))(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, softmax_rows(X), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(snp.logsumexp(x, axis=1), special.logsumexp(X, axis=1), rtol=1e-6)


# -- derivatives: closed forms -----------------------------------------------------------------
def test_gradient_is_softmax_and_hessian_is_diag_p_minus_ppT():
    x = X[0]
    p = softmax_rows(x)
    np.testing.assert_allclose(sl.grad(snp.logsumexp)(x), p, rtol=1e-14)
    want = np.diag(p) - np.outer(p, p)
    np.testing.assert_allclose(sl.hessian(snp.logsumexp)(x), want, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(sl.jacfwd(sl.jacfwd(snp.logsumexp))(x), want, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(sl.jacrev(sl.jacrev(snp.logsumexp))(x), want, rtol=1e-12, atol=1e-16)


def test_derivatives_along_a_line_are_the_cumulants_of_the_direction():
    x, v = X[1], RNG.normal(size=5)
    p = softmax_rows(x)
    mu = p @ v
    cumulants = [mu, p @ (v - mu) ** 2, p @ (v - mu) ** 3]  # d^k/dt^k logsumexp(x + t v) at 0

    def along(t):
        return snp.logsumexp(x + t * v)

    for order, want in enumerate(cumulants, start=1):
        assert float(sl.derivative(along, order=order)(0.0)) == pytest.approx(want, rel=1e-11, abs=1e-14)
    # third order by nested reverse/forward passes too
    d3 = sl.grad(lambda t: sl.grad(lambda s: sl.grad(along)(s))(t))(0.0)
    assert float(d3) == pytest.approx(cumulants[2], rel=1e-10)
    assert sl.taylor(along, 0.0, order=3).coefficients[3] == pytest.approx(cumulants[2] / 6, rel=1e-11)


def test_log_softmax_derivatives_match_the_closed_form_and_finite_differences():
    x, w = X[2], RNG.normal(size=5)
    p = softmax_rows(x)
    f = lambda v: snp.sum(w * ml.log_softmax(v))  # noqa: E731
    np.testing.assert_allclose(sl.grad(f)(x), w - p * w.sum(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(sl.hessian(f)(x), -w.sum() * (np.diag(p) - np.outer(p, p)), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sl.jacfwd(ml.log_softmax)(x), np.eye(5) - p[None, :], rtol=1e-13, atol=1e-15)
    # along x + t w: sum(w x) + t |w|^2 - sum(w) logsumexp(x + t w), so the third derivative is
    # -sum(w) times the third central moment of w under p
    along = lambda t: f(x + t * w)  # noqa: E731
    want = -w.sum() * (p @ (w - p @ w) ** 3)
    assert float(sl.derivative(along, order=3)(0.0)) == pytest.approx(want, rel=1e-10, abs=1e-14)
    h = 1e-2  # and a five-point difference of the second derivative, to O(h^4)
    d2 = lambda t: float(sl.derivative(along, order=2)(t))  # noqa: E731
    fd = (d2(-2 * h) - 8 * d2(-h) + 8 * d2(h) - d2(2 * h)) / (12 * h)
    assert float(sl.derivative(along, order=3)(0.0)) == pytest.approx(fd, rel=1e-6)


@pytest.mark.parametrize("labels", [True, False])
def test_cross_entropy_gradient_is_softmax_minus_onehot(labels):
    y = RNG.integers(0, 5, 4)
    target = y if labels else np.eye(5)[y]
    value, g = sl.value_and_grad(ml.cross_entropy)(X, target)
    p = softmax_rows(X)
    assert float(value) == pytest.approx(-np.mean(special.log_softmax(X, axis=1)[np.arange(4), y]), rel=1e-14)
    np.testing.assert_allclose(g, (p - np.eye(5)[y]) / 4, rtol=1e-13, atol=1e-16)


def test_confident_cross_entropy_gradient_keeps_its_small_entries():
    # p_y - 1 for a confident correct class: from exp(log_softmax), whose largest entry carries
    # only the rounding of 1 + tiny, it stays within a few 1e-16 (exp(x - logsumexp(x)) would not)
    z = np.array([[30.0, 0.0, 0.0]])
    g = sl.grad(ml.cross_entropy)(z, np.array([0]))
    tiny = 2 * np.exp(-30.0)
    assert g[0, 0] == pytest.approx(-tiny / (1 + tiny), rel=0, abs=3e-16)


# -- inf and NaN: as the composed form ---------------------------------------------------------
def composed(x):
    """The former composition in NumPy: value and reverse-mode gradient of logsumexp over rows."""
    m = x.max(axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(x - m)
    s = e.sum(axis=-1, keepdims=True)
    value = (np.log(s) + m)[:, 0]
    w = 1.0 / s  # cotangent 1 through log: masked where the product is 0
    grad = np.where(w == 0, 0.0, w * e)
    return value, grad


NONFINITE = np.array([
    [INF, 0.0, 1.0],
    [-INF, -INF, -INF],
    [NAN, 0.0, 1.0],
    [INF, -INF, 0.0],
    [-INF, 0.0, 1.0],
    [INF, INF, 0.0],
    [1e308, 1e308, -1e308],
])


def same_pattern(got, want, finite=None):
    """NaN, inf and zeros where ``want`` has them; the finite entries close to ``finite`` (or ``want``)."""
    finite = want if finite is None else finite
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[np.isinf(want)], want[np.isinf(want)])
    ok = np.isfinite(want)
    np.testing.assert_array_equal(got[ok] == 0, want[ok] == 0)
    np.testing.assert_allclose(got[ok], finite[ok], rtol=1e-15)


def test_nonfinite_rows_behave_as_the_composed_form():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want_value, want_grad = composed(NONFINITE)
        got_value = snp.logsumexp(NONFINITE, axis=1)
        got_grad = sl.grad(lambda x: snp.sum(snp.logsumexp(x, axis=1)))(NONFINITE)
        jit_grad = sl.jit(sl.grad(lambda x: snp.sum(snp.logsumexp(x, axis=1))))(NONFINITE)
        masked = sl.grad(lambda x: snp.sum(snp.where(False, snp.logsumexp(x, axis=1), 0.0)))(NONFINITE)
        hess_rows = [sl.hessian(snp.logsumexp)(r) for r in NONFINITE[:2]]
    same_pattern(got_value, want_value)
    same_pattern(got_grad, want_grad)
    same_pattern(jit_grad, want_grad, finite=got_grad)
    np.testing.assert_array_equal(masked, np.zeros_like(NONFINITE))  # no NaN from the branch not taken
    np.testing.assert_array_equal(hess_rows[0], np.zeros((3, 3)))  # a +inf entry: zero, as its gradient
    assert np.isnan(hess_rows[1]).all()  # all -inf: NaN, as its gradient


def test_nonfinite_log_softmax_values_and_masked_gradients():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want = NONFINITE - composed(NONFINITE)[0][:, None]  # x - logsumexp(x)
        got = ml.log_softmax(NONFINITE)
        masked = sl.grad(lambda x: snp.sum(snp.where(False, ml.log_softmax(x), 0.0)))(NONFINITE)
        g = sl.grad(lambda x: snp.sum(ml.log_softmax(x)[1:3]))(NONFINITE)
        last = special.log_softmax(NONFINITE[-1])
    # the same NaN and -inf entries; the finite ones as scipy, which shifts by the maximum first
    # (the composed form rounded logsumexp to 1e308 on the last row, and gave 0 there, not -log 2)
    reference = want.copy()
    reference[-1] = last
    same_pattern(got, reference)
    np.testing.assert_array_equal(masked, np.zeros_like(NONFINITE))
    assert np.isnan(g[1:3]).all() and not g[[0, 3, 4, 5, 6]].any()  # NaN rows give NaN, others untouched


# -- vmap and jit ------------------------------------------------------------------------------
def test_vmap_and_jit_match_per_example():
    batch = RNG.normal(size=(3, 4, 5))
    w = RNG.normal(size=(4, 5))

    def loss(x):
        return snp.sum(snp.logsumexp(x, axis=0) ** 2) + snp.sum(w * ml.log_softmax(x, axis=1))

    per_example = np.stack([sl.grad(loss)(b) for b in batch])
    np.testing.assert_allclose(sl.vmap(sl.grad(loss))(batch), per_example, rtol=1e-13)
    np.testing.assert_allclose(sl.jit(sl.vmap(sl.grad(loss)))(batch), per_example, rtol=1e-13)
    np.testing.assert_allclose(sl.vmap(snp.logsumexp)(batch), special.logsumexp(batch, axis=(1, 2)), rtol=1e-14)
    hess = sl.vmap(sl.hessian(lambda v: snp.logsumexp(v)))(batch[:, 0])
    p = softmax_rows(batch[:, 0])
    np.testing.assert_allclose(hess, [np.diag(q) - np.outer(q, q) for q in p], rtol=1e-12, atol=1e-16)


# -- program length ----------------------------------------------------------------------------
def mlp_loss(p, xb, yb):
    h = ml.relu(xb @ p["W1"] + p["b1"])
    return ml.cross_entropy(h @ p["W2"] + p["b2"], yb)


@pytest.mark.parametrize("labels, most", [(False, 26), (True, 28)])
def test_mlp_value_and_gradient_program_is_short(labels, most):
    # the composed logsumexp made these 38 and 39 equations
    p = {"W1": RNG.normal(size=(8, 16)), "b1": np.zeros(16), "W2": RNG.normal(size=(16, 10)), "b2": np.zeros(10)}
    xb, y = RNG.normal(size=(6, 8)), RNG.integers(0, 10, 6)
    target = y if labels else np.eye(10)[y]
    prog = sl.jit(sl.value_and_grad(mlp_loss)).trace(p, xb, target)
    assert len(prog.equations) <= most
    assert [e.prim.name for e in prog.equations].count("log_softmax") == 1


@pytest.mark.parametrize("labels", [True, False])
def test_softmax_regression_gradient_is_still_row_blocked(labels, monkeypatch):
    # log_softmax over the classes is a row operation: the data matrix is still read in one pass
    from slopes.core import tiling

    monkeypatch.setattr(tiling, "MIN_BYTES", 64 << 10)
    monkeypatch.setattr(tiling, "BLOCK_BYTES", 16 << 10)
    X, W = RNG.normal(size=(4000, 20)), RNG.normal(size=(20, 3)) * 0.3
    y = RNG.integers(0, 3, 4000)
    target = y if labels else np.eye(3)[y]
    prog = sl.jit(sl.grad(lambda w: ml.cross_entropy(X @ w, target))).trace(W)
    assert [e.prim.name for e in tiling.row_blocked(prog).equations] == ["row_blocks"]
    (g,) = prog.compile()(W)
    np.testing.assert_allclose(g, X.T @ (softmax_rows(X @ W) - np.eye(3)[y]) / 4000, rtol=1e-11, atol=1e-15)


def test_scipy_special_log_softmax_is_the_accurate_primitive():
    """slopes.scipy.special.log_softmax (axis=None by default, as SciPy's) keeps the largest
    entries exact: x - logsumexp(x) would carry logsumexp's rounding at 1e10 (about 1e-6)."""
    from slopes.scipy import special as sl_special

    x = np.array([1e10, 1e10 + 1.0])
    want = np.array([-np.log1p(np.e), -np.log1p(1 / np.e)])
    np.testing.assert_allclose(sl_special.log_softmax(x), want, rtol=1e-15)
    X = np.random.default_rng(3).normal(scale=30.0, size=(3, 4))
    for axis in (None, 0, 1, (0, 1)):
        np.testing.assert_allclose(sl_special.log_softmax(X, axis=axis), special.log_softmax(X, axis=axis),
                                   rtol=1e-13)
    g = sl.grad(lambda v: sl_special.log_softmax(v)[1])(X[0])
    np.testing.assert_allclose(g, np.eye(4)[1] - special.softmax(X[0]), rtol=1e-12, atol=1e-15)
