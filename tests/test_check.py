"""Gradient checks: sl.check_grad (AD vs numeric vs symbolic) and sl.check_rule (custom rules)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import slopes as sl
import slopes.numpy as snp
from slopes.check import GradCheckReport, RuleCheckReport, default_tolerance

# ----------------------------------------------------------------------------- functions


def quad_exp(x):
    return x[0] ** 2 + 2 * x[1] ** 2 + snp.exp(-x[0] - x[1])


def rosenbrock(x):
    return snp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def logsumexp(x):
    return snp.log(snp.sum(snp.exp(x)))


def matrix_fn(X):
    return snp.sum(snp.tanh(X @ X.T)) + snp.linalg.norm(X) ** 3


SCALAR_CASES = [
    (quad_exp, np.array([1.0, 2.0])),
    (rosenbrock, np.array([-1.2, 1.0, 0.5, 0.3])),
    (logsumexp, np.array([0.1, -2.0, 3.0])),
    (matrix_fn, np.array([[0.3, -0.2], [0.5, 0.1], [-0.4, 0.7]])),
    (lambda x: snp.sin(x) * snp.exp(x), np.array(0.7)),
]


def vector_fn(x):
    return snp.array([x[0] ** 2 * x[1], snp.sin(x[1]) + x[2], snp.exp(x[0] - x[2])])


def matrix_out(x):
    return snp.outer(x, x) + snp.tanh(x)[:, None]


def with_rule(fun, tangent):
    """The elementwise ``fun`` as a :func:`slopes.custom_jvp` whose forward rule is ``tangent(x, t)``."""

    @sl.custom_jvp
    def custom(x):
        return fun(x)

    @custom.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return custom(x), tangent(x, t)

    return custom


def good_cube():
    return with_rule(lambda x: x**3, lambda x, t: 3 * x**2 * t)


def wrong_cube():
    """x**3 elementwise, with a forward rule wrong in entry 2 only (a factor 2)."""
    return with_rule(lambda x: x**3, lambda x, t: 3 * x**2 * t * snp.array([1.0, 1.0, 2.0]))


def frozen_cube():
    """x**3 elementwise, with the right first derivative but constant in x: a wrong second derivative."""
    return with_rule(lambda x: x**3, lambda x, t: 3 * sl.stop_gradient(x) ** 2 * t)


# ----------------------------------------------------------------------------- check_grad: passing


@pytest.mark.parametrize("f, x", SCALAR_CASES)
def test_correct_gradients_pass(f, x):
    report = sl.check_grad(f, x)
    assert report.ok, str(report)
    assert bool(report) is True
    assert report.ad.shape == x.shape == report.numeric.shape == report.numeric_error.shape
    np.testing.assert_allclose(report.ad, sl.grad(f)(x))
    assert report.max_rel_error < 1e-7
    assert report.problems == [] and report.message == ""
    assert report.symbolic is None


@pytest.mark.parametrize("f, x", SCALAR_CASES[:4])
def test_correct_hessians_pass(f, x):
    report = sl.check_grad(f, x, kind="hessian")
    assert report.ok, str(report)
    assert report.ad.shape == x.shape + x.shape
    np.testing.assert_allclose(report.ad, sl.hessian(f)(x))


@pytest.mark.parametrize(
    "F, x",
    [
        (vector_fn, np.array([0.5, -1.0, 2.0])),
        (matrix_out, np.array([1.0, -2.0])),
        (lambda x: snp.linalg.solve(snp.array([[2.0, 1.0], [1.0, 3.0]]), x**2), np.array([1.5, -0.5])),
    ],
)
def test_correct_jacobians_pass(F, x):
    report = sl.check_grad(F, x, kind="jacobian")
    assert report.ok, str(report)
    out = np.asarray(F(x))
    assert report.ad.shape == out.shape + x.shape == report.numeric.shape
    assert "d f[i] / d x[j]" in str(report)


def test_scalar_jacobian_is_the_gradient():
    report = sl.check_grad(quad_exp, np.array([1.0, 2.0]), kind="jacobian")
    assert report.ok
    np.testing.assert_allclose(report.ad, sl.grad(quad_exp)(np.array([1.0, 2.0])))


@pytest.mark.parametrize("kind", ["grad", "hessian"])
def test_float32_uses_the_looser_tolerance(kind):
    x = np.array([0.3, -0.7, 1.1], dtype=np.float32)
    report = sl.check_grad(logsumexp, x, kind=kind)
    assert report.ok, str(report)
    assert report.dtype == np.float32 and report.ad.dtype == np.float32
    assert (report.rtol, report.atol) == default_tolerance(np.float32)
    assert report.rtol > 1e-3 > default_tolerance(np.float64)[0]
    assert "(float32)" in str(report).splitlines()[0]


def test_integer_point_is_checked_in_float64():
    report = sl.check_grad(quad_exp, [1, 2])
    assert report.ok and report.x.dtype == np.float64 and report.dtype == np.float64


def test_default_tolerance_values():
    rtol, atol = default_tolerance(np.float64)
    assert rtol == pytest.approx(10 * np.sqrt(np.finfo(np.float64).eps))
    assert atol == pytest.approx(1000 * np.finfo(np.float64).eps)
    assert default_tolerance(np.float16)[0] > default_tolerance(np.float32)[0] > rtol
    assert default_tolerance(np.int64) == (rtol, atol)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=2, max_size=5))
def test_smooth_function_passes_anywhere(values):
    x = np.array(values)
    report = sl.check_grad(lambda z: snp.sum(snp.sin(z) * z**2) + logsumexp(z), x)
    assert report.ok, str(report)


# ----------------------------------------------------------------------------- check_grad: failing


def test_wrong_custom_rule_fails_naming_the_entry():
    cube = wrong_cube()
    x = np.array([1.0, 2.0, -0.5])
    report = sl.check_grad(lambda z: snp.sum(cube(z)), x)
    assert not report.ok and bool(report) is False
    assert report.problems == []  # a mismatch, not a problem
    assert report.entry_ok.tolist() == [True, True, False]
    worst = report.worst
    assert worst.index == (2,) and not worst.ok
    assert worst.ad == pytest.approx(1.5) and worst.numeric == pytest.approx(0.75)
    assert worst.rel_error == pytest.approx(0.5) and worst.abs_error == pytest.approx(0.75)
    assert [e.index for e in report.failures] == [(2,)]
    assert report.max_abs_error == pytest.approx(0.75)
    assert report.max_rel_error == pytest.approx(0.5)
    text = str(report)
    assert "FAILED: 1 of 3 entries disagree; worst [2]" in text
    assert text.splitlines()[-2].split()[-1] == "FAIL"


def test_wrong_rule_in_a_jacobian_names_the_row_and_column():
    cube = wrong_cube()
    report = sl.check_grad(cube, np.array([1.0, 2.0, -0.5]), kind="jacobian")
    assert not report.ok
    assert report.worst.index == (2, 2)
    assert "worst [2, 2]" in report.summary()


def test_the_correct_rule_passes_where_the_wrong_one_fails():
    x = np.array([1.0, 2.0, -0.5])
    assert sl.check_grad(lambda z: snp.sum(good_cube()(z)), x).ok
    assert sl.check_grad(good_cube(), x, kind="jacobian").ok


def test_wrong_second_derivative_is_caught_by_the_hessian_check():
    cube = frozen_cube()
    x = np.array([1.0, 2.0])
    f = lambda z: snp.sum(cube(z))
    assert sl.check_grad(f, x).ok
    report = sl.check_grad(f, x, kind="hessian")
    assert not report.ok
    assert report.entry_ok.tolist() == [[False, True], [True, False]]  # AD says 0, it is 6 x
    assert report.worst.index in {(0, 0), (1, 1)} and report.worst.ad == 0.0


def test_a_small_relative_error_is_caught_in_float64():
    exp_ = with_rule(snp.exp, lambda x, t: snp.exp(x) * t * (1.0 + 1e-5))
    report = sl.check_grad(lambda z: snp.sum(exp_(z)), np.array([0.5, -1.0]))
    assert not report.ok
    assert report.max_rel_error == pytest.approx(1e-5, rel=1e-3)


def test_cancelling_saturated_terms_do_not_fail_a_correct_hessian():
    # tanh(10 x) saturates: f(x) is ~1e-13 while its terms are ~1, so finite
    # differences of f carry rounding noise far above eps * |f(x)| / h**2.
    x = np.array([0.85, -1.50, 1.77, -1.17])
    report = sl.check_grad(lambda z: snp.sum(snp.tanh(10 * z)), x, kind="hessian")
    assert report.ok, str(report)


def test_tolerance_can_be_overridden():
    x = np.array([1.0, 2.0, -0.5])
    f = lambda z: snp.sum(wrong_cube()(z))
    assert sl.check_grad(f, x, rtol=0.6).ok
    strict = sl.check_grad(quad_exp, np.array([1.0, 2.0]), rtol=0.0, atol=0.0)
    assert strict.rtol == 0.0 and strict.atol == 0.0


# ----------------------------------------------------------------------------- check_grad: problems


def test_nan_at_the_point_is_reported():
    report = sl.check_grad(snp.log, np.array(-1.0))
    assert not report.ok
    assert report.message == "f(x) is nan at x = -1.0"
    assert report.ad is None and report.abs_error is None and report.worst is None
    assert np.isnan(report.max_abs_error)
    assert str(report).splitlines()[-1] == "FAILED: f(x) is nan at x = -1.0"


def test_inf_in_one_output_entry_is_reported():
    report = sl.check_grad(lambda x: 1.0 / x, np.array([1.0, 0.0]), kind="jacobian")
    assert not report.ok
    assert report.message == "f(x) is inf at x = [1., 0.] (output entry [1])"


def test_non_finite_derivative_is_reported_not_compared():
    report = sl.check_grad(lambda x: snp.sum(snp.sqrt(x)), np.array([1.0, 0.0]))
    assert not report.ok
    assert report.problems[0] == "the AD gradient is inf at entry [1] (x = [1., 0.])"
    assert any(p.startswith("finite differences failed:") for p in report.problems)


def test_nan_near_the_point_is_reported():
    report = sl.check_grad(snp.sqrt, np.array(0.0))
    assert not report.ok
    assert "finite differences failed" in report.message


def test_bad_shape_is_reported_not_raised():
    report = sl.check_grad(lambda x: x[0] * x[1] * x[2], np.array([1.0, 2.0]))
    assert not report.ok
    assert report.message.startswith("f could not be evaluated at an array of shape (2,): IndexError")
    assert "Traceback" not in str(report)


def test_vector_output_for_grad_is_reported():
    report = sl.check_grad(vector_fn, np.array([0.5, -1.0, 2.0]))
    assert not report.ok
    assert "kind='grad' needs f to return a scalar" in report.message
    assert "kind='jacobian'" in report.message


def test_unknown_kind_raises():
    with pytest.raises(ValueError, match="kind must be one of"):
        sl.check_grad(quad_exp, np.array([1.0, 2.0]), kind="laplacian")


# ----------------------------------------------------------------------------- printing


def test_printed_table():
    report = sl.check_grad(quad_exp, np.array([1.0, 2.0]))
    lines = str(report).splitlines()
    assert lines[0] == "check_grad: gradient of quad_exp at x = [1., 2.] (float64)"
    assert lines[1].split() == ["index", "AD", "numeric", "+/-", "abs", "err", "rel", "err", "ok"]
    assert lines[2].split()[0] == "[0]" and lines[2].split()[-1] == "ok"
    assert lines[3].split()[0] == "[1]"
    assert lines[-1].startswith("OK: all 2 entries of AD agree with numeric")
    assert float(lines[2].split()[1]) == pytest.approx(report.ad[0])
    assert repr(report).startswith("GradCheckReport(ok=True, kind='grad', f='quad_exp'")


def test_long_tables_are_truncated_keeping_failures():
    square = with_rule(lambda x: x**2, lambda x, t: snp.where(snp.arange(60) == 37, 3.0, 2.0) * x * t)
    x = np.linspace(0.5, 2.0, 60)
    report = sl.check_grad(lambda z: snp.sum(square(z)), x)
    assert not report.ok and report.worst.index == (37,)
    text = str(report)
    lines = text.splitlines()
    assert any(line.split()[:1] == ["[37]"] and line.endswith("FAIL") for line in lines)
    assert any(line.strip().startswith("...") for line in lines)
    assert "entries not shown" in text
    assert len(lines) < 30
    assert "an array of shape (60,)" in lines[0]
    full = report.table(max_rows=None).splitlines()
    assert len(full) == 60 + 3
    assert len(report.entries()) == 60


# ----------------------------------------------------------------------------- symbolic column


def test_expression_gets_the_symbolic_column():
    if not hasattr(sl, "parse"):
        pytest.skip("slopes.parse is not available yet")
    pytest.importorskip("sympy")
    expr = sl.parse("x1**2 + 2*x2**2 + exp(-x1-x2)")
    x = np.array([1.0, 2.0])
    report = sl.check_grad(expr, x)
    assert report.ok, str(report)
    assert report.symbolic is not None and report.symbolic.shape == (2,)
    np.testing.assert_allclose(report.symbolic, sl.grad(quad_exp)(x), rtol=1e-14)
    assert "symbolic" in str(report).splitlines()[1]
    assert "numeric and symbolic" in report.summary()
    hess = sl.check_grad(expr, x, kind="hessian")
    assert hess.ok, str(hess)
    np.testing.assert_allclose(hess.symbolic, sl.hessian(quad_exp)(x), rtol=1e-14)
    text = sl.check_grad("x1**2 + 2*x2**2 + exp(-x1-x2)", x)
    assert text.ok and text.f_name == str(expr)
    np.testing.assert_allclose(text.symbolic, report.symbolic)
    singular = sl.check_grad(sl.parse("sqrt(x)"), np.array(0.0))
    assert not singular.ok
    assert "the symbolic gradient is inf at x = 0.0" in singular.problems


# ----------------------------------------------------------------------------- check_rule


def test_correct_custom_jvp_passes_every_check():
    report = sl.check_rule(good_cube(), np.array([1.0, 2.0, -0.5]))
    assert isinstance(report, RuleCheckReport)
    assert report.ok and report.failure is None, str(report)
    assert [c.name for c in report.checks] == [
        "forward mode",
        "reverse mode",
        "reverse mode (<w, J v> identity)",
        "second order",
    ]
    assert str(report).splitlines()[-1].startswith("OK: 4 checks passed")


def _mul(wrong_bwd=False, wrong_second=False):
    @sl.custom_vjp
    def mul(x, y):
        return x * y

    def fwd(x, y):
        return x * y, (x, y)

    def bwd(res, g):
        x, y = res
        if wrong_second:
            x, y = sl.stop_gradient(x), sl.stop_gradient(y)
        gy = g * x * snp.array([1.0, 1.0, 3.0]) if wrong_bwd else g * x
        return g * y, gy

    mul.defvjp(fwd, bwd)
    return mul


MUL_ARGS = (np.array([1.0, 2.0, -0.5]), np.array([0.3, 0.2, 0.1]))


@pytest.mark.parametrize(
    "f, args", [(_mul(), MUL_ARGS), (snp.tanh, (0.3,))], ids=["custom_vjp_of_two_arguments", "scalar_argument"]
)
def test_correct_rule_passes(f, args):
    report = sl.check_rule(f, *args)
    assert report.ok, str(report)


def test_wrong_jvp_is_caught_in_forward_mode():
    report = sl.check_rule(wrong_cube(), np.array([1.0, 2.0, -0.5]))
    assert not report.ok
    assert report.failure.startswith("forward mode: (J v)[2] along direction 0 off by")
    assert report.checks[0].ok is False
    # reverse mode is derived from the (wrong) jvp rule: it is wrong in the same entry
    assert report.checks[1].message.startswith("reverse mode: d/dx[2]")


def test_wrong_bwd_is_caught_in_reverse_mode_naming_the_argument_and_entry():
    report = sl.check_rule(_mul(wrong_bwd=True), *MUL_ARGS)
    assert not report.ok
    checks = {c.name: c for c in report.checks}
    assert checks["forward mode"].ok  # forward mode runs the function's own code
    assert not checks["reverse mode"].ok
    assert not checks["reverse mode (<w, J v> identity)"].ok
    assert report.failure.startswith("reverse mode: d/dy[2] along direction 0 off by")
    assert "FAILED: reverse mode: d/dy[2]" in str(report)


@pytest.mark.parametrize(
    "f, args, entry",
    [(frozen_cube(), (np.array([1.0, 2.0, -0.5]),), "d/dx["), (_mul(wrong_second=True), MUL_ARGS, "d/d")],
    ids=["custom_jvp", "custom_vjp"],
)
def test_rule_wrong_only_at_second_order_is_caught(f, args, entry):
    report = sl.check_rule(f, *args)
    assert not report.ok
    assert [c.ok for c in report.checks] == [True, True, True, False]
    assert report.failure.startswith("second order: (H v) " + entry)
    # first order alone passes
    assert sl.check_rule(f, *args, order=1).ok


def test_check_rule_reports_a_rule_that_raises():
    @sl.custom_jvp
    def f(x):
        return snp.sin(x)

    @f.defjvp
    def _(primals, tangents):
        raise RuntimeError("rule not written yet")

    report = sl.check_rule(f, np.array([0.1, 0.2]))
    assert not report.ok
    assert report.failure == "forward mode: jvp raised RuntimeError: rule not written yet"


def test_check_rule_reports_nan_and_bad_shapes():
    nan = sl.check_rule(snp.log, np.array([1.0, -1.0]))
    assert not nan.ok and nan.failure == "evaluation: f(x) is nan at the given point (output entry [1])"
    bad = sl.check_rule(lambda x: x[3], np.array([1.0, 2.0]))
    assert not bad.ok
    assert bad.failure.startswith("evaluation: f could not be evaluated at arrays of shapes (2,): IndexError")


def test_check_rule_is_deterministic_given_the_seed():
    x = np.array([1.0, 2.0, -0.5])
    a = sl.check_rule(wrong_cube(), x, seed=3).failure
    b = sl.check_rule(wrong_cube(), x, seed=3).failure
    assert a == b
    assert sl.check_rule(wrong_cube(), x, seed=4).failure != a


def test_check_rule_float32():
    report = sl.check_rule(good_cube(), np.array([1.0, 2.0, -0.5], dtype=np.float32))
    assert report.ok, str(report)
    assert report.dtype == np.float32


def test_check_rule_needs_arguments():
    with pytest.raises(TypeError, match="give the point"):
        sl.check_rule(snp.sin)
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        sl.check_rule(snp.sin, 0.5, order=3)
    with pytest.raises(ValueError, match="directions must be a positive int"):
        sl.check_rule(snp.sin, 0.5, directions=0)


def test_reports_are_the_documented_types():
    assert isinstance(sl.check_grad(quad_exp, np.array([1.0, 2.0])), GradCheckReport)
