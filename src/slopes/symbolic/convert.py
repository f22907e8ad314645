"""sympy -> slopes: walk a sympy tree through the allow-list into an Expression."""

from __future__ import annotations

import numpy as np

from .. import numpy as snp
from .._display import math_display
from ..expr.errors import ExpressionError
from ..expr.expression import Expression, natural_key
from ..expr.functions import FUNCTIONS, allowed_functions
from ..expr.nodes import Call, Const, Neg, Num, Product, Sum, Var
from ..expr.budget import BudgetError, current_budget, symbolic_work
from ..expr.parser import check_name, checked, checked_pow

__all__ = ["FunctionArray", "to_function"]


def _sp():
    import sympy

    return sympy


# ----------------------------------------------------------------------------- back to slopes


class FunctionArray:
    """A vector or matrix of Expressions sharing variables, called like one Expression.

    Made by :func:`to_function` from a ``sympy.Matrix`` (a column vector
    gives a 1-D result, so it compares directly with ``sl.grad``).

    Examples
    --------
    >>> import slopes as sl
    >>> g = sl.symbolic.to_function(sl.symbolic.gradient("x**2 * y"))
    >>> g(np.array([1.0, 3.0]))
    array([6., 1.])
    """

    def __init__(self, expressions, shape, variables):
        self.expressions = list(expressions)
        self.shape = tuple(shape)
        self.variables = tuple(variables)

    def __call__(self, *args, **kwargs):
        values = [e(*args, **kwargs) for e in self.expressions]
        batch = np.broadcast_shapes(*[snp.shape(v) for v in values])
        values = [snp.broadcast_to(v, batch) for v in values]
        return snp.reshape(snp.stack(values), self.shape + batch)

    def __repr__(self):
        return f"FunctionArray(shape={self.shape}, variables={list(self.variables)})"

    def _repr_latex_(self):
        """Jupyter's LaTeX display: the entries as a sympy matrix (a column for a vector)."""
        import sympy as sp

        rows, cols = self.shape[0], int(np.prod(self.shape[1:]))
        return math_display(sp.latex(sp.Matrix(rows, cols, [e.to_sympy() for e in self.expressions])))


def to_function(sympy_expr, variables=None):
    """A slopes-differentiable function from a sympy expression (or Matrix), via the allow-list.

    Parameters
    ----------
    sympy_expr : sympy expression or sympy Matrix
        Built from numbers, pi, E, symbols with valid names, ``+ - * / **``
        and the sympy counterparts of the allowed functions (exp, log, sin,
        ..., Abs, sign, Heaviside, Max, Min). Anything else (e.g. DiracDelta,
        Piecewise, I, oo, unevaluated Derivative) raises ``ExpressionError``.
    variables : sequence of str, optional
        Calling order; default the free symbols in natural order.

    Returns
    -------
    Expression, or FunctionArray for a Matrix

    Examples
    --------
    >>> import sympy, slopes as sl
    >>> x, y = sympy.symbols("x y")
    >>> f = sl.symbolic.to_function(sympy.sin(x) * y)
    >>> f.variables
    ('x', 'y')
    >>> print(f)
    y*sin(x)
    >>> sl.grad(f)(np.array([0.0, 2.0]))
    array([2., 0.])
    """
    sp = _sp()
    if isinstance(sympy_expr, Expression):
        return sympy_expr if variables is None else Expression._from_tree(sympy_expr._tree, variables)
    if isinstance(sympy_expr, sp.MatrixBase):
        entries = list(sympy_expr)
        names: set[str] = set()
        trees = _trees(entries)
        for e in entries:
            names |= {check_name(s.name) for s in e.free_symbols}
        order = variables if variables is not None else sorted(names, key=natural_key)
        exprs = [Expression._from_tree(t, order) for t in trees]
        rows, cols = sympy_expr.shape
        shape = (rows,) if cols == 1 else (rows, cols)
        return FunctionArray(exprs, shape, exprs[0].variables if exprs else ())
    if not isinstance(sympy_expr, sp.Basic):
        raise TypeError(f"to_function takes a sympy expression or Matrix, not {type(sympy_expr).__name__}")
    return Expression._from_tree(_trees([sympy_expr])[0], variables)


def _trees(entries):
    """The slopes trees of sympy expressions, converted within the symbolic work budget."""
    with symbolic_work("converting the sympy expression", ask_for_less="convert a smaller expression"):
        return [_from_sympy(e, 0) for e in entries]


def _refuse(e, why=None):
    name = type(e).__name__
    shown = str(e)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    raise ExpressionError(why or f"sympy {name} ({shown}) is not supported; allowed functions: {allowed_functions()}")


def _num(value):
    """A (possibly negated) Num node for an int, Fraction or float."""
    if isinstance(value, float) and not np.isfinite(value):
        _refuse(value, f"the number {value} is not finite")
    if abs(value) > 1e308:
        _refuse(value, "a number in the expression exceeds 1e308")
    return Neg(Num(-value)) if value < 0 else Num(value)


def _sympy_function_table():
    sp = _sp()
    return {getattr(sp, f.sympy_name): f for f in FUNCTIONS.values() if f.sympy_name}


def _from_sympy(e, depth):
    sp = _sp()
    limit = current_budget().max_depth
    if depth > limit:
        raise BudgetError(f"sympy expression nested too deeply (depth at most {limit})", "max_depth", "nest less")
    go = lambda x: _from_sympy(x, depth + 1)
    if isinstance(e, (sp.Dummy, sp.Wild)):
        _refuse(e, f"dummy symbol {e} is not supported")
    if isinstance(e, sp.Symbol):
        return Var(check_name(e.name))
    if e is sp.pi:
        return Const("pi")
    if e is sp.E:
        return Const("e")
    if isinstance(e, sp.Integer):
        return _num(int(e))
    if isinstance(e, sp.Rational):
        p, q = int(e.p), int(e.q)
        node = checked(Product([("*", Num(abs(p))), ("/", _num(q))]))
        return Neg(node) if p < 0 else node
    if isinstance(e, sp.Float):
        return _num(float(e))
    if isinstance(e, sp.Add):
        terms = []
        for t in e.as_ordered_terms():
            if t.could_extract_minus_sign():
                terms.append(("-", go(-t)))
            else:
                terms.append(("+", go(t)))
        if terms[0][0] == "-":
            terms[0] = ("+", checked(Neg(terms[0][1])))
        return checked(Sum(terms))
    if isinstance(e, sp.Mul):
        if e.could_extract_minus_sign():
            return checked(Neg(go(-e)))
        num, den = [], []
        for f in e.as_ordered_factors():
            if isinstance(f, sp.Pow) and f.exp.is_Rational and f.exp < 0:
                den.append(f.base ** (-f.exp))
            elif isinstance(f, sp.Rational) and not f.is_Integer:
                if f.p != 1:
                    num.append(sp.Integer(f.p))
                den.append(sp.Integer(f.q))
            else:
                num.append(f)
        factors = [("*", go(f)) for f in num] or [("*", Num(1))]
        factors += [("/", go(f)) for f in den]
        return factors[0][1] if len(factors) == 1 else checked(Product(factors))
    if isinstance(e, sp.Pow):
        base, ex = e.base, e.exp
        if base is sp.E:
            return checked(Call("exp", [go(ex)]))
        if ex == sp.Rational(1, 2):
            return checked(Call("sqrt", [go(base)]))
        if ex == -1 and isinstance(base, sp.Add) and len(base.args) == 2 and sp.S.One in base.args:
            other = base.args[0] if base.args[1] == 1 else base.args[1]
            if isinstance(other, sp.exp):  # 1/(1 + exp(-u)) -> sigmoid(u), the stable form
                return checked(Call("sigmoid", [go(-other.args[0])]))
        if ex.is_Rational and ex < 0:
            return checked(Product([("*", Num(1)), ("/", go(base ** (-ex)))]))
        return checked_pow(go(base), go(ex), 0)
    if isinstance(e, sp.log) and len(e.args) == 1:
        (arg,) = e.args
        if isinstance(arg, sp.Add) and sp.S.One in arg.args:
            rest = arg - 1
            if isinstance(rest, sp.exp):  # log(1 + exp(u)) -> softplus(u), the stable form
                return checked(Call("softplus", [go(rest.args[0])]))
            return checked(Call("log1p", [go(rest)]))
        return checked(Call("log", [go(arg)]))
    if isinstance(e, sp.Heaviside):
        x = go(e.args[0])
        h0 = e.args[1] if len(e.args) > 1 else sp.Rational(1, 2)
        step = checked(Call("heaviside", [x]))
        if h0 == 0:
            return step
        # heaviside(x) + H0 * (1 - heaviside(x) - heaviside(-x)): exact, H(0) = H0
        at_zero = checked(Sum([("+", Num(1)), ("-", step), ("-", checked(Call("heaviside", [Neg(x)])))]))
        return checked(Sum([("+", step), ("+", checked(Product([("*", go(h0)), ("*", at_zero)])))]))
    if isinstance(e, (sp.Max, sp.Min)):
        name = "max" if isinstance(e, sp.Max) else "min"
        args = [go(a) for a in e.args]
        node = args[0]
        for a in args[1:]:
            node = checked(Call(name, [node, a]))
        return node
    table = _sympy_function_table()
    entry = table.get(e.func) if isinstance(e, sp.Function) else None
    if entry is not None and len(e.args) == entry.arity:
        return checked(Call(entry.name, [go(a) for a in e.args]))
    _refuse(e)

