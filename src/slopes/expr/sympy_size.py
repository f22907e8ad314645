"""What an expression tree will cost sympy, predicted from the tree before sympy sees it.

Two things break sympy on small text: depth (sympy recurses several Python frames
per level of its tree, so a 160-high tower ``x**x**...`` or 60 nested
``sigmoid`` overflow Python's stack) and exact numbers (``1.0000001**10000`` is
an exact rational of about 140,000 digits, which Python refuses to print). Both
are computed here from the parsed tree and checked against the
:class:`~slopes.expr.budget.Budget` before any conversion.
"""

from __future__ import annotations

import math
from fractions import Fraction

from .budget import BudgetError, current_budget
from .nodes import Call, Neg, Num, Pow, Product, Sum, const_value, to_text

__all__ = ["check_exact_numbers", "check_for_sympy", "sympy_depth"]

# Extra levels a function takes in sympy: sigmoid(u) = Pow(Add(1, exp(Mul(-1, u))), -1), ...
_CALL_LEVELS = {"sigmoid": 3, "softplus": 2, "log1p": 1}
_LOG2_10 = math.log2(10)


def sympy_depth(node) -> int:
    """An upper bound on the depth of the sympy tree that ``node`` becomes.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.expr.sympy_size import sympy_depth
    >>> sympy_depth(sl.parse("x")._tree), sympy_depth(sl.parse("sigmoid(x)")._tree)
    (1, 5)
    """
    return _walk(node, math.inf)[0]


def check_for_sympy(node) -> None:
    """Refuse, before conversion, a tree too deep for sympy or with too large exact numbers.

    Raises
    ------
    BudgetError
        Naming ``max_symbolic_depth`` or ``max_digits``.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.expr.sympy_size import check_for_sympy
    >>> check_for_sympy(sl.parse("x * 1.5**100")._tree)   # an exact number of 59 digits
    >>> check_for_sympy(sl.parse("x * 1.0000001**10000")._tree)
    Traceback (most recent call last):
    ...
    slopes.expr.budget.BudgetError: the exact value of 1.0000001**10000 would have about 140,000 digits (at most 1,000) at column 14; ...
    """
    limits = current_budget()
    depth = _walk(node, limits.max_digits * _LOG2_10)[0]
    if depth > limits.max_symbolic_depth:
        raise BudgetError(
            f"the expression is nested too deeply for sympy (depth about {depth}, at most "
            f"{limits.max_symbolic_depth}; sigmoid counts 4 levels, softplus 3, log1p 2)",
            "max_symbolic_depth",
            "nest less (numeric derivatives, e.g. sl.grad, have no such limit)",
        )


def _walk(node, max_bits):
    """``(sympy depth, bits of the numeric factor sympy pulls out of it)``; checks each constant power."""
    kids = [_walk(c, max_bits) for c in node.children()]
    depth = 1 + max((d for d, _ in kids), default=0)
    if isinstance(node, Num):
        return depth, _bits(node.value)
    if isinstance(node, Call):
        return depth + _CALL_LEVELS.get(node.name, 0), 0.0
    if isinstance(node, Neg):
        return depth + 1, kids[0][1]
    if isinstance(node, Sum):  # a '-' term is Mul(-1, term)
        return depth + any(s == "-" for s, _ in node.terms), 0.0
    if isinstance(node, Product):  # a '/' factor is Pow(factor, -1); sympy multiplies the numbers out
        return depth + any(op == "/" for op, _ in node.factors), sum(b for _, b in kids)
    if isinstance(node, Pow):
        e = const_value(node.exponent)
        bits = kids[0][1] * abs(e) if e is not None else 0.0
        if bits > max_bits:
            shown = to_text(node)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise BudgetError(
                f"the exact value of {shown} would have about {_round(bits / _LOG2_10):,} digits "
                f"(at most {current_budget().max_digits:,})",
                "max_digits",
                "write the value of the power as a decimal number, or use numeric derivatives",
                node.col,
            )
        return depth, bits
    return depth, 0.0


def _bits(value) -> float:
    if isinstance(value, int):
        return float(value.bit_length())
    if isinstance(value, Fraction):
        return float(value.numerator.bit_length() + value.denominator.bit_length())
    return 0.0  # a float stays a float in sympy: it does not grow


def _round(x: float) -> int:
    # two significant digits: "about 144,000 digits"
    if x < 100:
        return int(x)
    scale = 10 ** (int(math.log10(x)) - 1)
    return int(round(x / scale) * scale)


def check_exact_numbers(sympy_expr, what: str) -> None:
    """Refuse a sympy result holding an exact number of more than ``max_digits`` digits.

    Examples
    --------
    >>> import sympy
    >>> from slopes.expr.sympy_size import check_exact_numbers
    >>> check_exact_numbers(sympy.Integer(7) ** 2000, "a power")
    Traceback (most recent call last):
    ...
    slopes.expr.budget.BudgetError: a power holds an exact number of about 1,700 digits (at most 1,000); ...
    """
    import sympy as sp

    max_bits = current_budget().max_digits * _LOG2_10
    items = sympy_expr if isinstance(sympy_expr, sp.MatrixBase) else [sympy_expr]
    bits = max(
        (max(int(r.p).bit_length(), int(r.q).bit_length()) for e in items for r in e.atoms(sp.Rational)),
        default=0,
    )
    if bits > max_bits:
        raise BudgetError(
            f"{what} holds an exact number of about {_round(bits / _LOG2_10):,} digits "
            f"(at most {current_budget().max_digits:,})",
            "max_digits",
            "ask for a lower order, or use numeric derivatives (sl.derivative, sl.grad)",
        )
