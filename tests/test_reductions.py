"""Reductions of ``slopes.numpy``: values against NumPy, derivatives against finite differences
and closed forms, over every way of naming axes (int, negative, tuple, None) and keepdims."""

from __future__ import annotations

import warnings

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
FAST = settings(max_examples=10, deadline=None, phases=NO_SHRINK)

AXES = [None, 0, 1, -1, -2, (0, 2), (-1, 0), (0, 1, 2), ()]
KEEPDIMS = [False, True]

# name -> (slopes function, NumPy reference); each takes (x, axis, keepdims)
REDUCTIONS = {
    "sum": (snp.sum, np.sum),
    "mean": (snp.mean, np.mean),
    "max": (snp.max, np.max),
    "min": (snp.min, np.min),
    "amax": (snp.amax, np.amax),
    "amin": (snp.amin, np.amin),
    "var": (snp.var, np.var),
    "std": (snp.std, np.std),
    "var_ddof1": (lambda x, axis, keepdims: snp.var(x, axis=axis, ddof=1, keepdims=keepdims),
                  lambda x, axis, keepdims: np.var(x, axis=axis, ddof=1, keepdims=keepdims)),
    "std_ddof1": (lambda x, axis, keepdims: snp.std(x, axis=axis, ddof=1, keepdims=keepdims),
                  lambda x, axis, keepdims: np.std(x, axis=axis, ddof=1, keepdims=keepdims)),
    "logsumexp": (snp.logsumexp, None),
    "average": (lambda x, axis, keepdims: snp.average(x, axis=axis, keepdims=keepdims),
                lambda x, axis, keepdims: np.average(x, axis=axis, keepdims=keepdims)),
}


def _lse_ref(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis if axis is not None else tuple(range(x.ndim)))


def _needs_two(name, x, axis):
    """var/std with ddof=1 over one entry divide by zero; skip those combinations."""
    if not name.endswith("ddof1"):
        return False
    axes = range(x.ndim) if axis is None else np.atleast_1d(axis)
    return int(np.prod([x.shape[a] for a in axes])) < 2


@pytest.mark.parametrize("keepdims", KEEPDIMS)
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_values_and_derivatives(name, axis, keepdims):
    fn, ref = REDUCTIONS[name]
    ref = ref or _lse_ref
    rng = np.random.default_rng(abs(hash((name, str(axis), keepdims))) % 2**32)
    x = rng.standard_normal((2, 3, 4))  # continuous draws: no ties in max/min
    if _needs_two(name, x, axis):
        # ddof=1 over a single entry divides by N - ddof = 0: as NumPy, no finite answer
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out, expected = fn(x, axis=axis, keepdims=keepdims), ref(x, axis=axis, keepdims=keepdims)
        assert not np.isfinite(out).any() and not np.isfinite(expected).any()
        return
    out = fn(x, axis=axis, keepdims=keepdims)
    with np.errstate(all="ignore"):
        expected = ref(x, axis=axis, keepdims=keepdims)
    if np.all(np.isfinite(expected)):
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)
        assert np.shape(out) == np.shape(expected)
        # std over no axes is |x - x| = 0 (derivative 0 by convention; finite differences agree)
        check_derivatives(lambda v: fn(v, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "var", "std", "logsumexp"])
def test_reductions_of_0d_and_1d(name):
    fn = getattr(snp, name)
    ref = (lambda v: np.log(np.sum(np.exp(v)))) if name == "logsumexp" else getattr(np, name)
    x0 = np.array(0.7)
    np.testing.assert_allclose(fn(x0), ref(x0), rtol=1e-14)
    x1 = np.array([0.3, -1.2, 2.5, 0.9])
    np.testing.assert_allclose(fn(x1), ref(x1), rtol=1e-14)
    check_derivatives(fn, x1)
    check_derivatives(fn, x0)  # var and std of one number are 0 everywhere: derivative 0


@FAST
@given(shape=st.sampled_from([(5,), (2, 3), (3, 1, 2)]), seed=st.integers(0, 2**32 - 1))
def test_reductions_property(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    for fn in (snp.sum, snp.mean, snp.max, snp.min, snp.var, snp.std, snp.logsumexp):
        check_derivatives(lambda v: fn(v, axis=-1), x, seed=seed % 100)
        check_derivatives(fn, x, seed=seed % 100)


# -- closed forms --------------------------------------------------------------------------
def test_sum_mean_closed_forms():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(sl.grad(snp.sum)(x), np.ones((2, 3)))
    np.testing.assert_array_equal(sl.grad(snp.mean)(x), np.full((2, 3), 1 / 6))
    w = np.array([1.0, -2.0])
    g = sl.grad(lambda v: snp.sum(snp.mean(v, axis=1) * w))(x)
    np.testing.assert_allclose(g, np.repeat(w[:, None] / 3, 3, axis=1), rtol=1e-15)
    J = sl.jacobian(lambda v: snp.sum(v, axis=0, keepdims=True))(x)
    assert J.shape == (1, 3, 2, 3)
    expected = np.zeros((1, 3, 2, 3))
    for j in range(3):
        expected[0, j, :, j] = 1.0
    np.testing.assert_array_equal(J, expected)


def test_max_min_ties_share_equally():
    np.testing.assert_array_equal(sl.grad(snp.max)(np.array([1.0, 3.0, 3.0])), [0.0, 0.5, 0.5])
    np.testing.assert_array_equal(sl.grad(snp.min)(np.array([1.0, 1.0, 3.0])), [0.5, 0.5, 0.0])
    np.testing.assert_allclose(sl.grad(snp.max)(np.full(3, 2.0)), np.full(3, 1 / 3), rtol=1e-15)
    # along an axis, each row shares its own derivative
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [5.0, 0.0, 1.0]])
    g = sl.grad(lambda v: snp.sum(snp.max(v, axis=1)))(x)
    np.testing.assert_allclose(g, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3], [1, 0, 0]], rtol=1e-15)
    g = sl.grad(lambda v: snp.sum(snp.min(v, axis=0)))(x)
    np.testing.assert_allclose(g, [[1, 0, 0], [0, 0, 0], [0, 1, 1]])
    # forward mode agrees: the tangent of a tied max is the mean of the tied tangents
    t = np.array([10.0, 2.0, 4.0])
    _, tout = sl.jvp(snp.max, (np.array([1.0, 3.0, 3.0]),), (t,))
    assert float(tout) == 3.0
    _, tout = sl.jvp(lambda v: snp.max(v, axis=1, keepdims=True), (x,), (np.arange(9.0).reshape(3, 3),))
    np.testing.assert_allclose(tout, [[1.5], [4.0], [6.0]])
    # max is piecewise linear: its Hessian is 0
    np.testing.assert_array_equal(sl.hessian(snp.max)(np.array([1.0, 3.0, 2.0])), np.zeros((3, 3)))


def test_var_std_closed_forms():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    n = x.size
    for ddof in (0, 1, 2):
        g = sl.grad(lambda v: snp.var(v, ddof=ddof))(x)
        np.testing.assert_allclose(g, 2 * (x - x.mean()) / (n - ddof), rtol=1e-14)
        g = sl.grad(lambda v: snp.std(v, ddof=ddof))(x)
        s = np.std(x, ddof=ddof)
        np.testing.assert_allclose(g, (x - x.mean()) / ((n - ddof) * s), rtol=1e-14)
        np.testing.assert_allclose(snp.var(x, ddof=ddof), np.var(x, ddof=ddof), rtol=1e-15)
    # Hessian of the population variance: 2/n (I - 11^T/n)
    H = sl.hessian(snp.var)(x)
    np.testing.assert_allclose(H, 2 / n * (np.eye(n) - np.ones((n, n)) / n), rtol=1e-14, atol=1e-16)


# -- std and var where the samples are equal: derivative 0, as for norm at 0 ---------------
def _no_warnings(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning (0/0, sqrt'(0)) fails the test
        return fn(*args)


def test_std_of_a_scalar_has_derivative_zero():
    # std(x) = 0 for every number x: the exact derivative is 0
    for order in (1, 2, 3):
        d = _no_warnings(sl.derivative(snp.std, order=order), 3.5)
        assert float(d) == 0.0
    assert float(_no_warnings(sl.grad(snp.std), 3.5)) == 0.0
    assert float(_no_warnings(sl.grad(snp.var), 3.5)) == 0.0


@pytest.mark.parametrize("fn", [snp.std, snp.var], ids=["std", "var"])
def test_std_var_along_an_axis_of_length_one_have_jvp_zero(fn):
    # each column of a (1, 3) array is one sample: its spread is 0 whatever the values
    x, v = np.array([[0.3, -1.2, 2.5]]), np.array([[1.0, 2.0, -3.0]])
    out, tangent = _no_warnings(sl.jvp, lambda a: fn(a, axis=0), (x,), (v,))
    np.testing.assert_array_equal(out, np.zeros(3))
    np.testing.assert_array_equal(tangent, np.zeros(3))
    np.testing.assert_array_equal(_no_warnings(sl.jacobian(lambda a: fn(a, axis=0)), x), np.zeros((3, 1, 3)))


@pytest.mark.parametrize("value", [0.1, 2.0, -7.3, 1e8 + 0.1])
def test_std_var_of_a_constant_vector_are_exactly_zero_with_derivative_zero(value):
    # values whose mean is inexact in floating point too (3 * 0.1 / 3 != 0.1): no rounding noise
    x = np.full(3, value)
    assert float(snp.std(x)) == 0.0 and float(snp.var(x)) == 0.0
    np.testing.assert_array_equal(_no_warnings(sl.grad(snp.std), x), np.zeros(3))
    np.testing.assert_array_equal(_no_warnings(sl.grad(snp.var), x), np.zeros(3))
    # var is smooth: its Hessian is the closed form 2/n (I - 11^T/n) at every point
    H = _no_warnings(sl.hessian(snp.var), x)
    np.testing.assert_allclose(H, 2 / 3 * (np.eye(3) - np.ones((3, 3)) / 3), rtol=1e-14, atol=1e-16)
    assert np.isfinite(_no_warnings(sl.hessian(snp.std), x)).all()
    # a row of equal values beside a row of distinct ones: each row keeps its own derivative
    X = np.stack([x, np.array([1.0, 2.0, 4.0])])
    g = _no_warnings(sl.grad(lambda a: snp.sum(snp.std(a, axis=1))), X)
    r = X[1] - X[1].mean()
    np.testing.assert_allclose(g, [np.zeros(3), r / (3 * np.std(X[1]))], rtol=1e-14)


def test_std_higher_derivatives_match_sympy_and_replay_under_jit():
    sp = pytest.importorskip("sympy")
    t = sp.symbols("t")
    v = [t, t**2, sp.sin(t)]
    m = sum(v) / 3
    exact = sp.sqrt(sum((e - m) ** 2 for e in v) / 3)
    g = lambda s: snp.std(snp.stack([s, s**2, snp.sin(s)]))  # noqa: E731
    for k in (1, 2, 3):
        assert float(sl.derivative(g, order=k)(0.7)) == pytest.approx(float(sp.diff(exact, t, k).subs(t, 0.7)), rel=1e-12)
    # the zero-spread rule is a where, not a Python branch: a traced-once gradient serves both cases
    dstd = sl.jit(sl.grad(snp.std))
    np.testing.assert_array_equal(dstd(np.full(3, 2.0)), np.zeros(3))
    x = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(dstd(x), (x - x.mean()) / (3 * np.std(x)), rtol=1e-14)


def test_var_keeps_the_digits_of_a_large_common_offset():
    # the samples 1, 2, 3 shifted by 1e9: var is exactly 2/3 (shift invariance)
    x = 1e9 + np.array([1.0, 2.0, 3.0])
    assert float(snp.var(x)) == pytest.approx(2 / 3, rel=1e-15)
    np.testing.assert_allclose(sl.grad(snp.var)(x), 2 * np.array([-1.0, 0.0, 1.0]) / 3, rtol=1e-15)


def test_std_derivative_at_zero_spread_matches_torch():
    torch = pytest.importorskip("torch")
    cases = [(np.array(3.5), None), (np.ones((1, 3)), 0), (np.full(4, 2.0), None), (np.array([1.0, 2.0, 4.0]), None)]
    for x, axis in cases:
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        torch.std(t, dim=axis, correction=0).sum().backward()
        ours = sl.grad(lambda a: snp.sum(snp.std(a, axis=axis)))(x)
        np.testing.assert_allclose(ours, t.grad.numpy(), rtol=1e-14, atol=0)


def test_std_derivative_at_zero_spread_matches_autograd():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    # (autograd answers NaN for a constant vector of length > 1; the closed-form test covers it)
    cases = [(np.array(3.5), None), (np.ones((1, 3)), 0), (np.array([1.0, 2.0, 4.0]), None)]
    for x, axis in cases:
        ref = autograd.grad(lambda a: anp.sum(anp.std(a, axis=axis)))(x)
        ours = sl.grad(lambda a: snp.sum(snp.std(a, axis=axis)))(x)
        np.testing.assert_allclose(ours, ref, rtol=1e-14, atol=0)


def test_norm_and_std_share_the_zero_convention_and_keep_nan():
    # std(x) = ||x - mean(x)|| / sqrt(n): the same rule at 0, and a NaN input stays NaN
    x = np.full(4, 1.5)
    np.testing.assert_array_equal(sl.grad(lambda a: snp.linalg.norm(a - snp.mean(a)))(x), np.zeros(4))
    assert np.isnan(snp.std(np.array([1.0, np.nan]))) and np.isnan(snp.linalg.norm(np.array([np.nan, 0.0])))


def test_cumsum_axes_and_gradient():
    x = np.arange(24.0).reshape(2, 3, 4) / 10
    for axis in (None, 0, 1, -1, 2, -3):
        np.testing.assert_allclose(snp.cumsum(x, axis=axis), np.cumsum(x, axis=axis), rtol=1e-15)
        check_derivatives(lambda v: snp.cumsum(v, axis=axis), x)
    # d/dx_i sum(cumsum(x)) = n - i
    np.testing.assert_array_equal(sl.grad(lambda v: snp.sum(snp.cumsum(v)))(np.ones(4)), [4, 3, 2, 1])
    np.testing.assert_array_equal(sl.jacobian(snp.cumsum)(np.ones(3)), np.tril(np.ones((3, 3))))
    np.testing.assert_array_equal(sl.grad(lambda v: snp.sum(v.cumsum(axis=0)))(np.ones((2, 2))), [[2, 2], [1, 1]])


def test_logsumexp_is_stable_and_its_gradient_is_softmax():
    x = np.array([1000.0, 1000.0])
    with np.errstate(over="raise", invalid="raise"):
        v = snp.logsumexp(x)
        np.testing.assert_allclose(v, 1000.0 + np.log(2.0), rtol=1e-15)
        x = np.array([1000.0, 999.0, 998.5, -1000.0])
        v, g = sl.value_and_grad(snp.logsumexp)(x)
    shifted = np.exp(x - x.max())
    softmax = shifted / shifted.sum()
    np.testing.assert_allclose(v, x.max() + np.log(shifted.sum()), rtol=1e-15)
    np.testing.assert_allclose(g, softmax, rtol=1e-13, atol=1e-300)
    assert np.isclose(g.sum(), 1.0)
    # the Hessian is diag(p) - p p^T
    with np.errstate(over="raise", invalid="raise"):
        H = sl.hessian(snp.logsumexp)(x)
    np.testing.assert_allclose(H, np.diag(softmax) - np.outer(softmax, softmax), rtol=1e-12, atol=1e-15)
    # large negative values do not underflow to log(0)
    np.testing.assert_allclose(snp.logsumexp(np.array([-1000.0, -1000.0])), -1000.0 + np.log(2.0), rtol=1e-15)
    # -inf entries have weight 0
    np.testing.assert_array_equal(sl.grad(snp.logsumexp)(np.array([0.0, -np.inf])), [1.0, 0.0])
    # along an axis: each row's gradient is its softmax
    X = np.array([[500.0, 501.0, 499.0], [-3.0, 0.0, 2.0]])
    g = sl.grad(lambda v: snp.sum(snp.logsumexp(v, axis=1)))(X)
    e = np.exp(X - X.max(axis=1, keepdims=True))
    np.testing.assert_allclose(g, e / e.sum(axis=1, keepdims=True), rtol=1e-13)


def test_argmax_argmin_are_not_differentiable():
    x = np.array([[1.0, 5.0, 2.0], [7.0, -1.0, 3.0]])
    for axis in (None, 0, 1, -1):
        for keepdims in (False, True):
            np.testing.assert_array_equal(snp.argmax(x, axis=axis, keepdims=keepdims), np.argmax(x, axis=axis, keepdims=keepdims))
            np.testing.assert_array_equal(snp.argmin(x, axis=axis, keepdims=keepdims), np.argmin(x, axis=axis, keepdims=keepdims))
    seen = []

    def f(v):
        i = snp.argmax(v)
        j = snp.argmin(v, axis=1)
        seen.extend([i, j])
        return v.ravel()[i] + snp.sum(v[np.arange(2), j])

    g = sl.grad(f)(x)
    assert all(not isinstance(s, Tracer) for s in seen)
    assert np.issubdtype(np.asarray(seen[0]).dtype, np.integer)
    expected = np.zeros_like(x)
    expected[1, 0] += 1.0  # argmax over all
    expected[0, 0] += 1.0  # argmin of row 0
    expected[1, 1] += 1.0  # argmin of row 1
    np.testing.assert_array_equal(g, expected)
    # methods
    assert int(sl.grad(lambda v: (seen.append(v.argmax()), snp.sum(v))[1])(x).sum()) == 6
    assert int(seen[-1]) == 3


def test_average_weights():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    w_full = np.array([[1.0, 2.0, 1.0], [3.0, 0.5, 1.0]])
    w_axis0 = np.array([1.0, 3.0])
    w_axis1 = np.array([0.5, 2.0, 1.0])
    np.testing.assert_allclose(snp.average(x), np.average(x))
    np.testing.assert_allclose(snp.average(x, weights=w_full), np.average(x, weights=w_full))
    np.testing.assert_allclose(snp.average(x, axis=1, weights=w_full), np.average(x, axis=1, weights=w_full))
    # NumPy: 1-D weights have the length of the averaged axis
    np.testing.assert_allclose(snp.average(x, axis=0, weights=w_axis0), np.average(x, axis=0, weights=w_axis0))
    np.testing.assert_allclose(snp.average(x, axis=1, weights=w_axis1), np.average(x, axis=1, weights=w_axis1))
    np.testing.assert_allclose(snp.average(x, axis=-1, weights=w_axis1), np.average(x, axis=-1, weights=w_axis1))
    np.testing.assert_allclose(
        snp.average(x, axis=0, weights=w_axis0, keepdims=True), np.average(x, axis=0, weights=w_axis0, keepdims=True)
    )
    # derivatives in both the values and the weights
    check_derivatives(lambda v, w: snp.average(v, axis=1, weights=w), x, w_full)
    check_derivatives(lambda v, w: snp.average(v, axis=0, weights=w), x, w_axis0)
    check_derivatives(lambda v, w: snp.average(v, weights=w), x, w_full)
    # closed form: d/dx_i = w_i / sum(w); d/dw_i = (x_i - avg) / sum(w)
    v = np.array([1.0, 2.0, 4.0])
    w = np.array([1.0, 2.0, 3.0])
    gx, gw = sl.grad(lambda a, b: snp.average(a, weights=b), argnums=(0, 1))(v, w)
    avg = np.average(v, weights=w)
    np.testing.assert_allclose(gx, w / w.sum(), rtol=1e-15)
    np.testing.assert_allclose(gw, (v - avg) / w.sum(), rtol=1e-14)


def test_all_any():
    x = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, 6.0]])
    for axis in (None, 0, 1, -1, (0, 1)):
        for keepdims in (False, True):
            np.testing.assert_array_equal(snp.all(x > 0, axis=axis, keepdims=keepdims), np.all(x > 0, axis=axis, keepdims=keepdims))
            np.testing.assert_array_equal(snp.any(x < 0, axis=axis, keepdims=keepdims), np.any(x < 0, axis=axis, keepdims=keepdims))
    seen = []

    def f(v):
        a = snp.all(v > 0, axis=1)
        b = snp.any(v < 0)
        seen.extend([a, b])
        return snp.sum(snp.where(a[:, None], v**2, v)) + snp.where(b, 1.0, 0.0)

    g = sl.grad(f)(x)
    assert all(not isinstance(s, Tracer) for s in seen)
    np.testing.assert_array_equal(seen[0], [False, True])
    assert bool(seen[1]) is True
    np.testing.assert_array_equal(g, [[1.0, 1.0, 1.0], [8.0, 10.0, 12.0]])


def test_methods_and_numpy_functions_on_traced_values():
    x = np.random.default_rng(3).standard_normal((3, 4))
    fns = [
        lambda v: v.sum(axis=0),
        lambda v: v.mean(axis=-1, keepdims=True),
        lambda v: v.max(axis=1),
        lambda v: v.min(),
        lambda v: v.var(axis=0, ddof=1),
        lambda v: v.std(axis=1),
        lambda v: np.sum(v, axis=(0, 1)),
        lambda v: np.mean(v, axis=1),
        lambda v: np.max(v, axis=0),
        lambda v: np.var(v),
        lambda v: np.std(v, axis=0, ddof=1),
        lambda v: np.cumsum(v, axis=1),
        lambda v: np.average(v, axis=0),
    ]
    for fn in fns:
        check_derivatives(fn, x)
