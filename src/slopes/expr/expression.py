"""The Expression class and :func:`parse`."""

from __future__ import annotations

import re

import numpy as np

from .._display import math_display
from .budget import BudgetError, symbolic_work
from .errors import ExpressionError
from .nodes import compile_node, to_sympy, to_text, variables_of
from .parser import check_name, parse_tree
from .sympy_size import check_exact_numbers, check_for_sympy

__all__ = ["Expression", "natural_key", "parse"]


def natural_key(name: str):
    """Sort key putting ``x2`` before ``x10`` (digits compare as numbers).

    Examples
    --------
    >>> from slopes.expr.expression import natural_key
    >>> sorted(["x10", "y", "x2", "x1"], key=natural_key)
    ['x1', 'x2', 'x10', 'y']
    """
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def _order_variables(tree, variables) -> tuple[str, ...]:
    used = variables_of(tree)
    if variables is None:
        return tuple(sorted(used, key=natural_key))
    if isinstance(variables, str):
        variables = variables.replace(",", " ").split()
    order = tuple(check_name(v) for v in variables)
    if len(set(order)) != len(order):
        dup = next(v for v in order if order.count(v) > 1)
        raise ExpressionError(f"variable '{dup}' is listed twice in variables=")
    missing = sorted(used - set(order), key=natural_key)
    if missing:
        raise ExpressionError(
            f"the expression uses {', '.join(missing)}, which variables={list(order)} does not list"
        )
    return order


class Expression:
    """A checked mathematical expression: callable, differentiable, convertible to sympy.

    Make one with :func:`slopes.parse`. Call it with one value per variable
    (positionally, in the order of :attr:`variables`, or by keyword), or with a
    single vector holding all of them (stacked along axis 0) -- the form
    :func:`slopes.grad` and :func:`slopes.hessian` use. With a single variable,
    the one argument is that variable's value (arrays are evaluated elementwise).

    Examples
    --------
    >>> import slopes as sl
    >>> f = sl.parse("x1**2 + 2*x2**2 + exp(-x1-x2)")
    >>> f.variables
    ('x1', 'x2')
    >>> float(f(0.0, 0.0)), float(f(np.zeros(2))), float(f(x1=0.0, x2=0.0))
    (1.0, 1.0, 1.0)
    >>> sl.grad(f)(np.array([0.0, 0.0]))
    array([-1., -1.])
    >>> print(f)
    x1**2 + 2*x2**2 + exp(-x1 - x2)
    """

    __slots__ = ("_tree", "_variables", "_fn", "_sympy")

    def __init__(self, text, variables=None):
        self._init(parse_tree(text), variables)

    def _init(self, tree, variables):
        self._tree = tree
        self._variables = _order_variables(tree, variables)
        self._fn = compile_node(tree)
        self._sympy = None

    @classmethod
    def _from_tree(cls, tree, variables=None) -> Expression:
        self = cls.__new__(cls)
        self._init(tree, variables)
        return self

    @property
    def variables(self) -> tuple[str, ...]:
        """Variable names, in calling order (natural order unless given to :func:`parse`)."""
        return self._variables

    def __call__(self, *args, **kwargs):
        names = self._variables
        n = len(names)
        if kwargs:
            if args:
                raise TypeError("pass the variables either positionally or by keyword, not both")
            unknown = sorted(set(kwargs) - set(names))
            missing = [v for v in names if v not in kwargs]
            if unknown or missing:
                raise TypeError(
                    f"{self!s} takes the variables {', '.join(names) or '(none)'}"
                    + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                    + (f"; missing: {', '.join(missing)}" if missing else "")
                )
            values = [kwargs[v] for v in names]
        elif len(args) == n:
            values = list(args)
        elif len(args) == 1 and n > 1:
            values = _split(args[0], n)
        else:
            raise TypeError(
                f"{self!s} takes {n} variable(s) ({', '.join(names)}): pass {n} values, "
                "one vector of them, or keywords; got "
                f"{len(args)} positional argument(s)"
            )
        out = self._fn(dict(zip(names, values)))
        return np.float64(out) if isinstance(out, (int, float)) else out

    def to_sympy(self):
        """The expression as a sympy expression (variables become real sympy Symbols).

        Refused with :class:`~slopes.BudgetError` when sympy's tree would be deeper
        than ``max_symbolic_depth`` or hold an exact number of more than ``max_digits``
        digits (see :func:`slopes.budget`); both are predicted before conversion.

        Examples
        --------
        >>> import slopes as sl
        >>> sl.parse("x^2 + sigmoid(y)").to_sympy()
        x**2 + 1/(1 + exp(-y))
        """
        if self._sympy is None:
            import sympy as sp

            check_for_sympy(self._tree)
            symbols = {v: sp.Symbol(v, real=True) for v in self._variables}
            with symbolic_work(f"converting {_short(self)} to sympy", ask_for_less="write a smaller formula"):
                e = to_sympy(self._tree, symbols)
                check_exact_numbers(e, f"{_short(self)} in sympy")
            self._sympy = e
        return self._sympy

    def latex(self) -> str:
        """LaTeX of the expression (via sympy).

        Examples
        --------
        >>> import slopes as sl
        >>> sl.parse("sqrt(x)/2").latex()
        '\\\\frac{\\\\sqrt{x}}{2}'
        """
        import sympy as sp

        e = self.to_sympy()
        with symbolic_work(f"printing {_short(self)} as LaTeX", ask_for_less="write a smaller formula"):
            return sp.latex(e)

    def _repr_latex_(self) -> str | None:
        """Jupyter's LaTeX display (None past the symbolic budget: the plain repr shows then)."""
        try:
            return math_display(self.latex())
        except BudgetError:
            return None

    def __str__(self) -> str:
        return to_text(self._tree)

    def __repr__(self) -> str:
        return f"Expression({str(self)!r}, variables={list(self._variables)!r})"

    def __reduce__(self):  # pickle / copy by canonical text (the compiled closure is rebuilt)
        return (Expression, (str(self), self._variables))

    def __eq__(self, other):
        if not isinstance(other, Expression):
            return NotImplemented
        return self._tree == other._tree and self._variables == other._variables

    def __hash__(self):
        return hash((self._tree, self._variables))


def _short(e: Expression) -> str:
    text = str(e)
    return text if len(text) <= 40 else text[:37] + "..."


def _split(x, n):
    if isinstance(x, (list, tuple)):
        items = list(x)
    else:
        if not hasattr(x, "shape"):
            x = np.asarray(x, dtype=float)
        if len(x.shape) == 0 or x.shape[0] != n:
            raise TypeError(
                f"expected a vector of {n} values (one per variable, stacked along axis 0), "
                f"got shape {tuple(x.shape)}"
            )
        return [x[i] for i in range(n)]
    if len(items) != n:
        raise TypeError(f"expected {n} values (one per variable), got {len(items)}")
    return items


def parse(text: str, variables=None) -> Expression:
    """Parse a formula safely into an :class:`Expression` (nothing the user wrote is executed).

    Parameters
    ----------
    text : str
        The formula: numbers (``2``, ``1e-3``, ``.5``), ``+ - * /``, ``**`` or
        ``^`` for powers, unary ``-``/``+``, parentheses, the constants ``pi``
        and ``e``, variables (ASCII names such as ``x``, ``x1``, ``theta_0``)
        and the functions exp, log, log1p, sqrt, sin, cos, tan, arcsin, arccos,
        arctan, sinh, cosh, tanh, abs, sign, heaviside, sigmoid, relu,
        softplus, min and max (the last two of two arguments). At most 2,000
        characters and 100 nested parentheses; constant exponents at most 1e4
        (the defaults of :func:`slopes.budget`, which can raise them).
    variables : sequence of str or str, optional
        Calling order of the variables; must list every variable used (may
        list more). Default: the variables found, in natural order
        (``x1, x2, ..., x10``).

    Returns
    -------
    Expression

    Raises
    ------
    ExpressionError
        With ``.column`` and ``.reason``, for anything outside the grammar.

    Examples
    --------
    >>> import slopes as sl
    >>> f = sl.parse("x10 + x2^2 + x1")
    >>> f.variables
    ('x1', 'x2', 'x10')
    >>> float(f(1.0, 2.0, 3.0))
    8.0
    >>> sl.parse("sin(t) * a", variables=["t", "a"]).variables
    ('t', 'a')
    >>> sl.parse("__import__(os)")
    Traceback (most recent call last):
    ...
    slopes.expr.errors.ExpressionError: unknown function '__import__' at column 1; allowed: exp, log, ...
    """
    return Expression(text, variables)
