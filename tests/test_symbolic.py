"""sl.symbolic: exact derivatives via sympy, checked against slopes' AD; to_function round trips."""

import numpy as np
import pytest
import sympy as sp

import slopes as sl
from slopes import ExpressionError
from slopes import symbolic as sy

rng = np.random.default_rng(1)
x = sp.Symbol("x", real=True)
POINTS = rng.uniform(0.3, 2.0, size=6)


def _same(a, b):
    return sp.simplify(a - b) == 0


def _check_against_ad(expr_text, sym_derivative, order=1):
    """The symbolic derivative, turned back into a function, equals AD at random points."""
    f = sl.parse(expr_text)
    d = sy.to_function(sym_derivative, variables=f.variables)
    for p in POINTS:
        assert float(d(p)) == pytest.approx(float(sl.derivative(f, order=order)(p)), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("7", sp.Integer(0)),
        ("x", sp.Integer(1)),
        ("x^5", 5 * x**4),
        ("x^2.5", sp.Rational(5, 2) * x ** sp.Rational(3, 2)),
        ("e^x", sp.exp(x)),
        ("exp(x)", sp.exp(x)),
        ("log(x)", 1 / x),
        ("sin(x)", sp.cos(x)),
        ("cos(x)", -sp.sin(x)),
        ("sqrt(x)", 1 / (2 * sp.sqrt(x))),
        ("arctan(x)", 1 / (x**2 + 1)),
    ],
)
def test_derivative_table(text, expected):
    d = sy.diff(sl.parse(text), "x")
    assert _same(d, expected)
    if text != "7":
        _check_against_ad(text, d)


def test_power_rule_with_a_symbolic_exponent():
    n = sp.Symbol("n", real=True)
    d = sy.diff(sl.parse("x^n"), "x")
    assert _same(d, n * x ** (n - 1))


def test_cubic_exactly():
    d = sy.diff(sl.parse("x^3 + 2*x - 5"), "x")
    assert d == 3 * x**2 + 2
    assert sy.diff("x^3 + 2*x - 5", "x", n=2) == 6 * x
    assert sy.diff("x^3 + 2*x - 5", n=0) == x**3 + 2 * x - 5


F, G = "sin(x)", "x^3 + 1"
RULES = {
    "sum": (f"{F} + ({G})", lambda f, g, df, dg: df + dg),
    "product": (f"{F} * ({G})", lambda f, g, df, dg: df * g + f * dg),
    "quotient": (f"{F} / ({G})", lambda f, g, df, dg: (df * g - f * dg) / g**2),
    "chain": ("sin(x^3 + 1)", lambda f, g, df, dg: sp.cos(g) * dg),
}


@pytest.mark.parametrize("rule", list(RULES))
def test_differentiation_rules_symbolically_and_against_ad(rule):
    text, formula = RULES[rule]
    f, g = sl.parse(F).to_sympy(), sl.parse(G).to_sympy()
    df, dg = sy.diff(f, "x"), sy.diff(g, "x")
    d = sy.diff(sl.parse(text), "x")
    assert _same(d, formula(f, g, df, dg))
    _check_against_ad(text, d)
    _check_against_ad(text, sy.diff(sl.parse(text), "x", n=2), order=2)


SEED = "x1**2 + 2*x2**2 + exp(-x1-x2)"


def test_gradient_and_hessian_of_the_seed_example():
    f = sl.parse(SEED)
    g, H = sy.gradient(f), sy.hessian(f)
    x1, x2 = sp.symbols("x1 x2", real=True)
    q = sp.exp(-x1 - x2)
    assert isinstance(g, sp.MatrixBase) and g.shape == (2, 1)
    assert _same(g[0], 2 * x1 - q) and _same(g[1], 4 * x2 - q)
    assert H.shape == (2, 2) and H == H.T
    assert _same(H[0, 0], 2 + q) and _same(H[0, 1], q) and _same(H[1, 1], 4 + q)
    gf, Hf = sy.to_function(g), sy.to_function(H)
    for p in rng.normal(size=(5, 2)):
        np.testing.assert_allclose(gf(p), sl.grad(f)(p), rtol=1e-13)
        np.testing.assert_allclose(Hf(p), sl.hessian(f)(p), rtol=1e-13)


def test_jacobian_against_ad():
    exprs = [sl.parse("x*y^2"), sl.parse("sin(x) + z"), "exp(y*z)"]
    J = sy.jacobian(exprs)
    assert J.shape == (3, 3)
    Jf = sy.to_function(J)
    F_ = lambda v: sl.numpy.stack([v[0] * v[1] ** 2, sl.numpy.sin(v[0]) + v[2], sl.numpy.exp(v[1] * v[2])])
    for p in rng.normal(size=(3, 3)):
        np.testing.assert_allclose(Jf(p), sl.jacobian(F_)(p), rtol=1e-13)


def test_function_array_on_batches():
    Hf = sy.to_function(sy.hessian(SEED))
    batch = rng.normal(size=(2, 4))
    out = Hf(batch)
    assert out.shape == (2, 2, 4)
    np.testing.assert_allclose(out[..., 1], Hf(batch[:, 1]))


ROUND_TRIP = [
    SEED,
    "sigmoid(x1) * softplus(x2) + log1p(x1^2)",
    "arcsin(x1/3) + arccos(x2/4) + arctan(x1*x2)",
    "sinh(x1) - cosh(x2) + tanh(x1 - x2)",
    "sqrt(x1^2 + 1) / (x2^2 + 2) - pi*e",
    "abs(x1 - 0.5) + max(x1, x2) + min(x1, 2*x2) + relu(x1 - x2)",
    "x1^x2 + 2^x1 - 0.25*x2^-3",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_to_function_round_trip_values_and_ad(text):
    f = sl.parse(text)
    back = sy.to_function(f.to_sympy(), variables=f.variables)
    assert back.variables == f.variables
    for p in rng.uniform(0.2, 0.9, size=(4, 2)):
        assert float(back(p)) == pytest.approx(float(f(p)), rel=1e-13)
        np.testing.assert_allclose(sl.grad(back)(p), sl.grad(f)(p), rtol=1e-12)
        np.testing.assert_allclose(sl.hessian(back)(p), sl.hessian(f)(p), rtol=1e-11, atol=1e-12)


def test_to_function_keeps_the_stable_forms():
    back = sy.to_function(sl.parse("sigmoid(x) + softplus(x)").to_sympy())
    assert str(back) in ("sigmoid(x) + softplus(x)", "softplus(x) + sigmoid(x)")
    with np.errstate(over="raise"):
        assert float(back(1000.0)) == 1001.0
    assert str(sy.to_function(sp.log(1 + x))) == "log1p(x)"


def test_heaviside_keeps_its_value_at_zero():
    for h0 in (sp.Rational(1, 2), sp.Integer(0), sp.Integer(1)):
        f = sy.to_function(sp.Heaviside(x, h0))
        np.testing.assert_array_equal(f(np.array([-2.0, 0.0, 3.0])), [0.0, float(h0), 1.0])


@pytest.mark.parametrize(
    "bad",
    [
        sp.DiracDelta(x),
        sp.Piecewise((x, x > 0), (0, True)),
        sp.I * x,
        sp.oo * x,
        sp.zoo,
        sp.nan,
        sp.gamma(x),
        sp.Function("f")(x),
        sp.Derivative(sp.Function("f")(x), x),
        sp.Integral(x, x),
        sp.Symbol("__class__"),
        sp.Symbol("x y"),
        sp.Symbol("import"),
        sp.Dummy("x"),
        sp.EulerGamma * x,
        sp.Integer(10) ** 400 * x,
    ],
    ids=str,
)
def test_to_function_refuses_what_is_not_allow_listed(bad):
    with pytest.raises(ExpressionError):
        sy.to_function(bad)


def test_symbols_only_from_validated_names():
    with pytest.raises(ExpressionError, match="not a valid variable name"):
        sy.diff(sl.parse("x^2"), "__import__")
    with pytest.raises(ExpressionError, match="not a valid variable name"):
        sy.gradient("x^2", variables=["x", "os.system"])
    with pytest.raises(ExpressionError):
        sy.diff("__import__(os)", "x")  # strings go through sl.parse, never sympify
    assert sy.diff("x^2", "y") == 0  # a valid name not in the expression: derivative 0


def test_argument_errors():
    with pytest.raises(ExpressionError, match="which variable"):
        sy.diff(sl.parse("x*y"))
    with pytest.raises(ValueError, match="non-negative"):
        sy.diff("x", "x", n=-1)
    with pytest.raises(TypeError):
        sy.diff(object(), "x")
    with pytest.raises(TypeError):
        sy.to_function("x**2")
    with pytest.raises(TypeError):
        sy.jacobian("x")


def test_sympy_inputs_and_unsimplified_results():
    y = sp.Symbol("y")
    assert sy.diff(sp.sin(y) ** 2, y) == sp.sin(2 * y)
    assert sy.diff(sp.sin(y) ** 2, y, simplify=False) == 2 * sp.sin(y) * sp.cos(y)
    assert sy.gradient(x * y).shape == (2, 1)
    f = sy.to_function(sp.sin(y) * x)
    assert f.variables == ("x", "y")
    # a plain Symbol names the same variable as the parser's real one
    assert sy.diff(sl.parse("x^2"), sp.Symbol("x")) == 2 * x


def test_function_arrays_are_differentiable():
    f = sl.parse(SEED)
    gf = sy.to_function(sy.gradient(f))
    for p in rng.normal(size=(3, 2)):
        np.testing.assert_allclose(sl.jacobian(gf)(p), sl.hessian(f)(p), rtol=1e-12)
