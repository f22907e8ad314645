"""Exact derivatives with sympy: diff, gradient, jacobian, hessian (sympy imported on first use).

Each call is one block of counted symbolic work (:func:`slopes.budget`): past
``max_symbolic_steps`` it stops with :class:`~slopes.BudgetError`; simplifying
a result stops at ``max_simplify_steps`` and keeps the result as computed.
"""

from __future__ import annotations

import numpy as np

from ..expr.budget import BudgetError, symbolic_work
from ..expr.errors import ExpressionError
from ..expr.expression import Expression, natural_key, parse
from ..expr.parser import check_name
from ..expr.sympy_size import check_exact_numbers

__all__ = ["diff", "gradient", "hessian", "jacobian"]


def _sp():
    import sympy

    return sympy


# ----------------------------------------------------------------------------- inputs


def _as_sympy(expr):
    """(sympy expression, variable names or None) for an Expression, a str or a sympy object."""
    sp = _sp()
    if isinstance(expr, Expression):
        return expr.to_sympy(), expr.variables
    if isinstance(expr, str):
        e = parse(expr)
        return e.to_sympy(), e.variables
    if isinstance(expr, sp.Basic):
        return expr, None
    if isinstance(expr, bool) or not isinstance(expr, (int, float)):
        raise TypeError(f"expected an Expression, a formula string or a sympy expression, not {type(expr).__name__}")
    return (sp.Integer(expr) if isinstance(expr, int) else sp.Float(expr)), ()


def _symbols(e, names):
    """sympy Symbols for ``names``: the expression's own symbol of that name, else a new real one.

    Names given as strings are validated before any Symbol is made from them.
    """
    sp = _sp()
    own = {s.name: s for s in e.free_symbols if isinstance(s, sp.Symbol)}
    out = []
    for v in names:
        if isinstance(v, sp.Symbol):  # same name, other assumptions: still the same variable
            out.append(v if v in own.values() else own.get(v.name, v))
        else:
            name = check_name(v)
            out.append(own.get(name) or sp.Symbol(name, real=True))
    return out


def _default_names(e, names):
    if names is not None:
        return list(names)
    return sorted((s for s in e.free_symbols), key=lambda s: natural_key(s.name))


def _variables(e, known, variables):
    if variables is not None:
        if isinstance(variables, str):
            variables = variables.replace(",", " ").split()
        return _symbols(e, variables)
    return _symbols(e, _default_names(e, known))


def _simplify(e, simplify):
    """``sympy.simplify(e)`` within ``max_simplify_steps``; past them, ``e`` as it is (still exact)."""
    if not simplify:
        return e
    try:
        with symbolic_work("simplifying", "max_simplify_steps"):
            return _sp().simplify(e)
    except BudgetError:  # only this block's own limits: the caller's still stop everything
        return e


def _label(expr) -> str:
    """The expression for a message (short; a sympy object is not printed, which may be costly)."""
    if isinstance(expr, (str, Expression)):
        text = str(expr)
        return text if len(text) <= 40 else text[:37] + "..."
    return "the expression"


def _work(expr, what):
    return symbolic_work(
        f"{what} {_label(expr)}",
        ask_for_less="ask for a lower order or fewer variables, or use automatic differentiation "
        "(sl.derivative, sl.grad, sl.hessian) for values at points",
    )


def _derivative(e, s, n=1, work=None):
    """``d^n e / ds^n`` one order at a time, each checked for the size of its exact numbers."""
    for k in range(1, n + 1):
        if work is not None and n > 1:
            work.note = f"it reached order {k} of {n}"
        e = e.diff(s)
        check_exact_numbers(e, f"derivative {k}")
        if e == 0:
            break
    return e


# ----------------------------------------------------------------------------- derivatives


def diff(expr, var=None, n=1, *, simplify=True):
    """Exact ``n``-th derivative of ``expr`` with respect to ``var``.

    Parameters
    ----------
    expr : Expression, str or sympy expression
    var : str or sympy.Symbol, optional
        The variable; may be omitted when the expression has exactly one.
    n : int
        Order of the derivative (>= 0).
    simplify : bool
        Return ``sympy.simplify`` of the result (default), within the budget's
        ``max_simplify_steps``; a result that needs more is returned as computed
        (still exact).

    Returns
    -------
    sympy expression

    Examples
    --------
    >>> import slopes as sl
    >>> sl.symbolic.diff(sl.parse("x1**2 * x2"), "x1")
    2*x1*x2
    >>> sl.symbolic.diff("sin(t)", n=2)
    -sin(t)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    e, known = _as_sympy(expr)
    if var is None:
        names = _default_names(e, known)
        if len(names) != 1:
            raise ExpressionError(
                f"say which variable to differentiate by: the expression has {len(names)} "
                f"({', '.join(map(str, names)) or 'none'})"
            )
        var = names[0]
    (s,) = _symbols(e, [var])
    with _work(expr, f"differentiating {int(n)} time(s)") as work:
        return _simplify(_derivative(e, s, int(n), work), simplify)


def gradient(expr, variables=None, *, simplify=True):
    """Exact gradient as a column ``sympy.Matrix``, one row per variable.

    Parameters
    ----------
    expr : Expression, str or sympy expression
    variables : sequence of str or sympy.Symbol, optional
        Order of differentiation; default the expression's variables
        (natural order).
    simplify : bool
        As in :func:`diff`.

    Examples
    --------
    >>> import slopes as sl
    >>> sl.symbolic.gradient(sl.parse("x1**2 + 2*x2**2 + exp(-x1-x2)"))
    Matrix([
    [2*x1 - exp(-x1 - x2)],
    [4*x2 - exp(-x1 - x2)]])
    """
    e, known = _as_sympy(expr)
    syms = _variables(e, known, variables)
    with _work(expr, "the gradient of"):
        return _sp().Matrix([_simplify(_derivative(e, s), simplify) for s in syms])


def jacobian(exprs, variables=None, *, simplify=True):
    """Exact Jacobian of a list of expressions: a ``sympy.Matrix`` with one row per expression.

    Parameters
    ----------
    exprs : sequence of Expression, str or sympy expression (or a sympy Matrix)
    variables : sequence of str or sympy.Symbol, optional
        Columns; default all variables of all expressions, in natural order.
    simplify : bool
        As in :func:`diff`.

    Examples
    --------
    >>> import slopes as sl
    >>> sl.symbolic.jacobian(["x*y", "x + y^2"])
    Matrix([
    [y,   x],
    [1, 2*y]])
    """
    sp = _sp()
    if isinstance(exprs, sp.MatrixBase):
        exprs = list(exprs)
    if isinstance(exprs, (str, Expression)) or not hasattr(exprs, "__iter__"):
        raise TypeError("jacobian takes a list of expressions")
    pairs = [_as_sympy(x) for x in exprs]
    if variables is None:
        names: dict[str, object] = {}
        for e, known in pairs:
            for s in _default_names(e, known):
                names.setdefault(getattr(s, "name", s), s)
        variables = [names[k] for k in sorted(names, key=natural_key)]
    rows = []
    with _work("the expressions", "the Jacobian of"):
        for e, _ in pairs:
            syms = _symbols(e, variables)
            rows.append([_simplify(_derivative(e, s), simplify) for s in syms])
    return sp.Matrix(rows) if rows else sp.zeros(0, len(variables))


def hessian(expr, variables=None, *, simplify=True):
    """Exact Hessian as a symmetric ``sympy.Matrix``.

    Parameters
    ----------
    expr : Expression, str or sympy expression
    variables : sequence of str or sympy.Symbol, optional
    simplify : bool
        As in :func:`diff`.

    Examples
    --------
    >>> import slopes as sl
    >>> sl.symbolic.hessian(sl.parse("x1**2 * x2 + x2**3"))
    Matrix([
    [2*x2,    2*x1],
    [2*x1, 6*x2]])
    """
    e, known = _as_sympy(expr)
    syms = _variables(e, known, variables)
    n = len(syms)
    H = _sp().zeros(n, n)
    with _work(expr, "the Hessian of"):
        for i in range(n):
            di = _derivative(e, syms[i])
            for j in range(i, n):
                H[i, j] = H[j, i] = _simplify(_derivative(di, syms[j]), simplify)
    return H
