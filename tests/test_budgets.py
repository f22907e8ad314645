"""Every symbolic or exponential computation is bounded: sl.budget, its limits and its refusals.

Refusals are checked by what they say and by the work they did not do (a patched function
not called, a step count), never by the clock.
"""

import math
import sys
import threading
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

import slopes as sl
from slopes.cli import cli
from slopes.expr.budget import Budget, current_budget, symbolic_work

x, y = sp.symbols("x y", real=True)


def nested(function, n, inner="x"):
    return function + "(" + "".join([function + "("] * (n - 1)) + inner + ")" * n


def tower(n):
    return "**".join(["x"] * n)


# ----------------------------------------------------------------------------- the budget itself


def test_budget_changes_limits_inside_the_block_only():
    default = current_budget()
    with sl.budget(max_exponent=1e5, max_digits=20) as b:
        assert (b.max_exponent, b.max_digits) == (1e5, 20)
        assert current_budget() is b
        with sl.budget(max_digits=30):
            assert (current_budget().max_exponent, current_budget().max_digits) == (1e5, 30)
        assert current_budget().max_digits == 20
    assert current_budget() == default == Budget()


def test_budget_is_per_thread():
    seen = []
    with sl.budget(max_taylor_work=7):
        t = threading.Thread(target=lambda: seen.append(current_budget().max_taylor_work))
        t.start()
        t.join()
        assert current_budget().max_taylor_work == 7
    assert seen == [Budget.max_taylor_work]


@pytest.mark.parametrize(
    "limits, error, words",
    [
        ({"max_stuff": 3}, TypeError, "no limit 'max_stuff'; the limits are"),
        ({"max_digits": 0}, ValueError, "max_digits must be a positive number"),
        ({"max_digits": -5}, ValueError, "positive"),
        ({"max_digits": True}, ValueError, "positive"),
        ({"max_digits": "many"}, ValueError, "positive"),
    ],
)
def test_budget_refuses_bad_limits(limits, error, words):
    with pytest.raises(error, match=words):
        with sl.budget(**limits):
            pass


def test_budget_errors_are_expression_errors_naming_the_limit():
    with pytest.raises(sl.ExpressionError) as info:
        sl.parse("x" * 3000)
    err = info.value
    assert isinstance(err, sl.BudgetError) and err.limit == "max_length"
    assert "3000 characters, at most 2000" in str(err)
    assert "sl.budget(max_length=...)" in str(err)


# ----------------------------------------------------------------------------- parsing


def test_parser_limits_follow_the_budget():
    with pytest.raises(sl.BudgetError, match="max_exponent"):
        sl.parse("x**20000")
    with sl.budget(max_exponent=1e5):
        f = sl.parse("x**20000")
    assert float(f(1.0001)) == pytest.approx(1.0001**20000, rel=1e-12)
    with sl.budget(max_depth=10):
        with pytest.raises(sl.BudgetError, match="max_depth"):
            sl.parse(nested("sin", 12))
    with sl.budget(max_parens=3):
        with pytest.raises(sl.BudgetError, match=r"at most 3\) at column 10; nest less"):
            sl.parse("sin(cos(((x))))")


def test_messages_quote_the_users_character_then_the_column():
    with pytest.raises(sl.ExpressionError) as info:
        sl.parse("x;__import__('os')")
    assert str(info.value).startswith("character ';' is not allowed at column 2; only ASCII")
    assert info.value.column == 2
    with pytest.raises(sl.ExpressionError, match=r"^unknown function 'foo' at column 5; allowed: exp, "):
        sl.parse("x + foo(2)")


def test_constant_calls_that_overflow_are_refused_where_they_are_written():
    with pytest.raises(OverflowError):  # the reference: exp(exp(10)) is beyond float64
        math.exp(math.exp(10))
    with pytest.raises(sl.ExpressionError) as info:
        sl.parse("x*exp(exp(exp(exp(10))))")
    assert "constant exp(exp(10)) is infinite or out of range" in str(info.value)
    assert info.value.column == 11
    assert float(sl.parse("x*exp(exp(2))")(1.0)) == pytest.approx(math.exp(math.exp(2)))


# ----------------------------------------------------------------------------- into sympy: predicted


@pytest.mark.parametrize("text", [tower(200), nested("sigmoid", 60), nested("softplus", 50)])
def test_too_deep_for_sympy_is_refused_before_conversion(text, monkeypatch):
    import slopes.expr.expression as expression

    calls = []
    monkeypatch.setattr(expression, "to_sympy", lambda *a: calls.append(a))
    f = sl.parse(text)  # fine for numbers and AD
    assert np.isfinite(float(sl.grad(f)(0.5)))
    for road in (f.to_sympy, f.latex, lambda: sl.symbolic.gradient(f), lambda: sl.symbolic.diff(f)):
        with pytest.raises(sl.BudgetError, match="nested too deeply for sympy.*max_symbolic_depth"):
            road()
    assert calls == []


def test_the_depth_limit_is_exact_and_deep_expressions_within_it_reach_sympy():
    with sl.budget(max_symbolic_depth=31):  # sin nested 30 times around x: sympy depth 31
        d = sl.symbolic.diff(nested("sin", 30), simplify=False)
        with pytest.raises(sl.BudgetError, match="depth about 32, at most 31"):
            sl.symbolic.diff(nested("sin", 31))
        assert sl.parse(nested("sigmoid", 7)).to_sympy() is not None  # depth 1 + 7*4 = 29
        with pytest.raises(sl.BudgetError, match="depth about 33, at most 31"):
            sl.parse(nested("sigmoid", 8)).to_sympy()
    expected = sp.Integer(1)
    inner = x
    for _ in range(30):  # the chain rule, by hand
        expected *= sp.cos(inner)
        inner = sp.sin(inner)
    assert d == expected


def test_huge_exact_numbers_are_refused_before_sympy_builds_them(monkeypatch):
    f = sl.parse("x*1.0000001**10000")
    assert float(f(1.0)) == pytest.approx(1.0000001**10000, rel=1e-9)
    monkeypatch.setattr(sp, "Rational", None)  # conversion would need it: it must not be reached
    for road in (f.to_sympy, f.latex, lambda: sl.symbolic.gradient(f)):
        with pytest.raises(sl.BudgetError, match="1.0000001\\*\\*10000 would have about 140,000 digits"):
            road()


def test_exact_number_prediction_matches_the_exact_value():
    # the prediction counts the digits of numerator and denominator; check it with Fraction
    exact = Fraction(10000001, 10**7) ** 10000
    digits = (exact.numerator.bit_length() + exact.denominator.bit_length()) * math.log10(2)
    assert 135_000 < digits < 145_000
    with sl.budget(max_digits=200_000):
        s = sl.parse("x*1.0000001**10000").to_sympy()
    assert s == x * sp.Rational(exact.numerator, exact.denominator)
    small = sl.parse("x * 1.5**100").to_sympy()  # 59 + 31 digits: allowed
    assert small == x * sp.Rational(3**100, 2**100)


def test_exact_numbers_made_by_differentiation_are_measured():
    with sl.budget(max_digits=50):
        assert sl.symbolic.diff("exp(1000*x)", n=10) == sp.Integer(1000) ** 10 * sp.exp(1000 * x)
        with pytest.raises(sl.BudgetError, match="derivative 17 holds an exact number of about 51 digits"):
            sl.symbolic.diff("exp(1000*x)", n=20)


# ----------------------------------------------------------------------------- into sympy: counted


def test_symbolic_work_past_the_step_budget_is_stopped_and_says_how_far_it_got():
    before = sys.gettrace()
    with sl.budget(max_symbolic_steps=100_000):
        with pytest.raises(sl.BudgetError) as info:
            sl.symbolic.diff("exp(sin(x)*cos(x))", n=50)
    message = str(info.value)
    assert "took more than 100,000 steps of symbolic work (max_symbolic_steps)" in message
    assert "it reached order" in message and "of 50" in message
    assert "sl.budget(max_symbolic_steps=...)" in message
    assert sys.gettrace() is before


def test_hessian_and_jacobian_share_the_step_budget():
    f = sl.parse("exp(sin(x)*cos(y))*(x+y+1)**3*sigmoid(x*y)")
    f.to_sympy()  # converted (and kept) outside the small budget below
    with sl.budget(max_symbolic_steps=20_000):
        with pytest.raises(sl.BudgetError, match="the Hessian of"):
            sl.symbolic.hessian(f)
        with pytest.raises(sl.BudgetError, match="the Jacobian of"):
            sl.symbolic.jacobian([f, "x*y"])


def test_simplify_past_its_budget_returns_the_exact_unsimplified_derivative(monkeypatch):
    calls = []
    real = sp.simplify
    monkeypatch.setattr(sp, "simplify", lambda e, **kw: calls.append(e) or real(e, **kw))
    with sl.budget(max_simplify_steps=20_000):
        g = sl.symbolic.gradient("(x+y)**10000")
    assert list(g) == [10000 * (x + y) ** 9999] * 2
    assert len(calls) == 2  # tried, and given up on within its budget
    assert sl.symbolic.diff("sin(x)**2 + cos(x)**2") == 0  # small results are still simplified


def test_steps_are_counted_in_nested_blocks_and_the_outer_limit_wins():
    with sl.budget(max_symbolic_steps=5_000, max_simplify_steps=10**9):
        with pytest.raises(sl.BudgetError, match="max_symbolic_steps"):
            with symbolic_work("outer"):
                with symbolic_work("inner", "max_simplify_steps"):
                    sp.expand((x + y + 1) ** 30)


def test_recursion_inside_symbolic_work_becomes_a_budget_error():
    def deep(n):
        return deep(n + 1)

    with pytest.raises(sl.BudgetError, match="recursion limit.*max_symbolic_depth"):
        with symbolic_work("recursing"):
            deep(0)


def test_cheap_symbolic_requests_are_untouched():
    assert sl.symbolic.diff("(x+1)**10000") == 10000 * (x + 1) ** 9999
    assert sl.symbolic.diff("sin(x)", n=50) == sp.sin(x).diff(x, 50)


# ----------------------------------------------------------------------------- Taylor tensors


def test_multivariate_taylor_is_refused_before_any_derivative_tensor(monkeypatch):
    taylor_module = sys.modules["slopes.taylor"]  # (sl.taylor is the function)
    calls = []
    monkeypatch.setattr(taylor_module, "jacfwd", lambda g: calls.append(g) or g)
    f = sl.parse("x*y")
    with pytest.raises(sl.BudgetError) as info:
        sl.taylor(f, np.ones(2), 30)
    message = str(info.value)
    assert "order 30 in 2 variables needs (2*2)**30" in message
    assert "2**30 = 1,073,741,824 tensor entries" in message
    assert "use order <= 10" in message and "max_taylor_work" in message
    assert calls == []


def test_multivariate_taylor_orders_follow_the_budget():
    f = sl.parse("x*y")
    with pytest.raises(sl.BudgetError, match="order 11 in 2 variables"):
        sl.taylor(f, np.array([1.0, 2.0]), 11)
    with pytest.raises(sl.BudgetError, match="order 3 in 5 variables"), sl.budget(max_taylor_work=999):
        sl.taylor(sl.parse("x1*x2*x3*x4*x5"), np.ones(5), 3)
    with sl.budget(max_taylor_work=4**11):
        p = sl.taylor(f, np.array([1.0, 2.0]), 11)
    # x*y about (1, 2) is 2 + 2(x-1) + (y-2) + (x-1)(y-2), exactly
    assert {a: c for a, c in p.terms().items() if c} == {(0, 0): 2.0, (1, 0): 2.0, (0, 1): 1.0, (1, 1): 1.0}


def test_remainder_estimate_names_the_tensor_it_needs():
    p = sl.taylor(sl.parse("x*y"), np.ones(2), 10)
    with pytest.raises(sl.BudgetError, match=r"remainder estimate \(the derivative tensor of order 11\).*order <= 9"):
        p.remainder_estimate(np.full(2, 1.1))


def test_univariate_taylor_orders_past_float_factorials_are_refused_clearly():
    p = sl.taylor(sl.numpy.exp, 0.0, 169)  # every derivative of exp at 0 is 1
    assert p.derivatives[169] == pytest.approx(1.0, rel=1e-12)
    assert float(p(0.5)) == pytest.approx(math.exp(0.5), rel=1e-15)
    with pytest.raises(ValueError, match="order 500 is too high for one variable.*order <= 169"):
        sl.taylor(sl.numpy.exp, 0.0, 500)


# ----------------------------------------------------------------------------- the command line


@pytest.mark.parametrize(
    "args, words",
    [
        (["taylor", "x*y", "--at", "1,1", "--order", "30"], "max_taylor_work"),
        (["taylor", "x*y*z", "--at", "1,1,1", "--order", "25"], "use order <= 6"),
        (["taylor", "x*y", "--at", "1,1", "--order", "10"], "remainder estimate"),
        (["diff", "x*1.0000001**10000"], "max_digits"),
        (["diff", tower(200)], "max_symbolic_depth"),
        (["diff", "x*exp(exp(exp(exp(10))))", "--at", "1"], "constant exp(exp(10)) is infinite"),
    ],
)
def test_cli_refusals_are_one_line_and_exit_1(args, words):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in result.output


def test_cli_evaluation_of_the_exact_derivative_is_budgeted_not_turned_into_nan():
    from slopes.cli.calculus import _sympy_value

    d = sp.exp(sp.sin(x) * sp.cos(x)).diff(x, 3)
    assert _sympy_value(d, ["x"], [0.5]) == pytest.approx(float(d.subs(x, 0.5).evalf(20)), rel=1e-15)
    with sl.budget(max_symbolic_steps=10), pytest.raises(sl.BudgetError, match="evaluating the exact derivative"):
        _sympy_value(d, ["x"], [0.5])
