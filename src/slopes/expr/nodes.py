"""The validated expression tree: a handful of node types, nothing else.

Every tree is built either by the parser (from checked tokens) or by
:func:`slopes.symbolic.to_function` (from an allow-listed sympy tree). A tree
knows how to print itself canonically, to become a differentiable slopes
function (a closure over slopes.numpy calls, never generated code), and to
become a sympy expression.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .. import numpy as snp
from .functions import CONSTANTS, FUNCTIONS

__all__ = [
    "Call",
    "Const",
    "Neg",
    "Node",
    "Num",
    "Pow",
    "Product",
    "Sum",
    "Var",
    "compile_node",
    "const_value",
    "to_sympy",
    "to_text",
    "variables_of",
]

# Precedence, loosest first: sums, products, unary minus, powers, atoms.
SUM, PRODUCT, NEG, POW, ATOM = 1, 2, 3, 4, 5


class Node:
    """Base of the tree. ``col`` is the 1-based column of the node in the text (0 if none)."""

    __slots__ = ("col", "depth", "_c")
    prec = ATOM

    def children(self):
        return ()

    def _init(self, col):
        self.col = col
        self.depth = 1 + max((c.depth for c in self.children()), default=0)

    def __eq__(self, other):
        return type(self) is type(other) and self._key() == other._key()

    def __hash__(self):
        return hash((type(self).__name__, self._key()))


class Num(Node):
    """A non-negative number: ``int``, exact decimal ``Fraction``, or ``float``."""

    __slots__ = ("value",)

    def __init__(self, value, col=0):
        self.value = value
        self._init(col)

    def _key(self):
        return (self.value,)


class _Named(Node):
    """A leaf known by its name."""

    __slots__ = ("name",)

    def __init__(self, name, col=0):
        self.name = name
        self._init(col)

    def _key(self):
        return (self.name,)


class Const(_Named):
    """``pi`` or ``e``."""

    __slots__ = ()


class Var(_Named):
    """A variable (its name was validated before the node was made)."""

    __slots__ = ()


class Call(Node):
    """An allow-listed function applied to arguments."""

    __slots__ = ("name", "args")

    def __init__(self, name, args, col=0):
        self.name = name
        self.args = tuple(args)
        self._init(col)

    def children(self):
        return self.args

    def _key(self):
        return (self.name, self.args)


class Neg(Node):
    """Unary minus."""

    __slots__ = ("operand",)
    prec = NEG

    def __init__(self, operand, col=0):
        self.operand = operand
        self._init(col)

    def children(self):
        return (self.operand,)

    def _key(self):
        return (self.operand,)


class Sum(Node):
    """``t0 +/- t1 +/- ...``: ``terms`` is a tuple of ``(sign, node)``, first sign ``'+'``."""

    __slots__ = ("terms",)
    prec = SUM

    def __init__(self, terms, col=0):
        self.terms = tuple(terms)
        self._init(col)

    def children(self):
        return tuple(t for _, t in self.terms)

    def _key(self):
        return (self.terms,)


class Product(Node):
    """``f0 *|/ f1 *|/ ...``: ``factors`` is a tuple of ``(op, node)``, first op ``'*'``."""

    __slots__ = ("factors",)
    prec = PRODUCT

    def __init__(self, factors, col=0):
        self.factors = tuple(factors)
        self._init(col)

    def children(self):
        return tuple(f for _, f in self.factors)

    def _key(self):
        return (self.factors,)


class Pow(Node):
    """``base ** exponent``."""

    __slots__ = ("base", "exponent")
    prec = POW

    def __init__(self, base, exponent, col=0):
        self.base = base
        self.exponent = exponent
        self._init(col)

    def children(self):
        return (self.base, self.exponent)

    def _key(self):
        return (self.base, self.exponent)


# ----------------------------------------------------------------------------- printing


def _num_text(value) -> str:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Fraction):
        return _decimal_text(value)
    return repr(float(value))


def _decimal_text(value: Fraction) -> str:
    """Exact shortest decimal text of a finite-decimal fraction (``0.001``, ``2.5``, ``1e+308``)."""
    n, d = value.numerator, value.denominator
    k, p = 0, 1
    while p % d:
        p *= 10
        k += 1
    m = n * (p // d)  # value == m * 10**-k
    if m == 0:
        return "0"
    while m % 10 == 0:
        m //= 10
        k -= 1
    digits = str(m)
    exp = len(digits) - 1 - k  # scientific exponent
    if -5 <= exp < 16:
        if k <= 0:
            return digits + "0" * (-k)
        if len(digits) > k:
            return digits[:-k] + "." + digits[-k:]
        return "0." + "0" * (k - len(digits)) + digits
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{mantissa}e{exp:+d}"


def to_text(node: Node) -> str:
    """Canonical text of a tree (re-parses to the same tree).

    Examples
    --------
    >>> from slopes.expr.nodes import Num, Var, Pow, Sum, to_text
    >>> to_text(Sum([("+", Pow(Var("x"), Num(2))), ("-", Num(1))]))
    'x**2 - 1'
    """
    if isinstance(node, Num):
        return _num_text(node.value)
    if isinstance(node, (Const, Var)):
        return node.name
    if isinstance(node, Call):
        return f"{node.name}({', '.join(to_text(a) for a in node.args)})"
    if isinstance(node, Neg):
        return "-" + _wrap(node.operand, POW)
    if isinstance(node, Sum):
        out = _wrap(node.terms[0][1], PRODUCT)
        for sign, term in node.terms[1:]:
            out += f" {sign} {_wrap(term, PRODUCT)}"
        return out
    if isinstance(node, Product):
        out = _wrap(node.factors[0][1], NEG)
        for op, factor in node.factors[1:]:
            out += op + _wrap(factor, NEG)
        return out
    if isinstance(node, Pow):
        return _wrap(node.base, ATOM) + "**" + _wrap(node.exponent, NEG)
    raise TypeError(f"not an expression node: {node!r}")


def _wrap(node, min_prec):
    text = to_text(node)
    return text if node.prec >= min_prec else f"({text})"


# ----------------------------------------------------------------------------- constant folding


def const_value(node: Node):
    """The float value of a subtree without variables, or ``None`` (cached on the node).

    Examples
    --------
    >>> from slopes.expr.nodes import Const, Num, Product, Var, const_value
    >>> const_value(Product([("*", Num(2)), ("*", Const("pi"))])), const_value(Var("x"))
    (6.283185307179586, None)
    """
    try:
        return node._c
    except AttributeError:
        pass
    if isinstance(node, Num):
        value = float(node.value)
    elif isinstance(node, Const):
        value = CONSTANTS[node.name][0]
    elif isinstance(node, Var):
        value = None
    else:
        values = [const_value(c) for c in node.children()]
        if any(v is None for v in values):
            value = None
        else:
            stub = _with_children(node, [Var(f"c{i}") for i in range(len(values))])
            env = {f"c{i}": v for i, v in enumerate(values)}
            with np.errstate(all="ignore"):
                value = float(compile_node(stub)(env))
    node._c = value
    return value


def _with_children(node, kids):
    # The same node over new children (used to evaluate one level of a constant subtree).
    if isinstance(node, Call):
        return Call(node.name, kids)
    if isinstance(node, Neg):
        return Neg(kids[0])
    if isinstance(node, Sum):
        return Sum([(s, k) for (s, _), k in zip(node.terms, kids)])
    if isinstance(node, Product):
        return Product([(o, k) for (o, _), k in zip(node.factors, kids)])
    return Pow(kids[0], kids[1])


def pow_magnitude(base: float, exponent: float) -> float:
    """``log10 |base ** exponent|`` (0 for a zero base), without computing the power.

    Examples
    --------
    >>> from slopes.expr.nodes import pow_magnitude
    >>> pow_magnitude(10.0, 1e100)
    1e+100
    """
    if base == 0 or not math.isfinite(base) or not math.isfinite(exponent):
        return 0.0
    return exponent * math.log10(abs(base))


# ----------------------------------------------------------------------------- numeric


def compile_node(node: Node):
    """A closure ``env -> value`` made of slopes.numpy calls (differentiable, no generated code).

    Examples
    --------
    >>> from slopes.expr.nodes import Call, Var, compile_node
    >>> float(compile_node(Call("exp", [Var("x")]))({"x": 0.0}))
    1.0
    """
    if isinstance(node, Num):
        c = float(node.value)
        return lambda env: c
    if isinstance(node, Const):
        c = CONSTANTS[node.name][0]
        return lambda env: c
    if isinstance(node, Var):
        name = node.name
        return lambda env: env[name]
    if isinstance(node, Call):
        fn = FUNCTIONS[node.name].numeric
        args = [compile_node(a) for a in node.args]
        if len(args) == 1:
            (a,) = args
            return lambda env: fn(a(env))
        return lambda env: fn(*[a(env) for a in args])
    if isinstance(node, Neg):
        a = compile_node(node.operand)
        return lambda env: snp.negative(a(env))
    if isinstance(node, (Sum, Product)):
        ops = {"+": snp.add, "-": snp.subtract, "*": snp.multiply, "/": snp.divide}
        parts = node.terms if isinstance(node, Sum) else node.factors
        first = compile_node(parts[0][1])
        rest = [(ops[op], compile_node(n)) for op, n in parts[1:]]

        def run(env):
            acc = first(env)
            for op, f in rest:
                acc = op(acc, f(env))
            return acc

        return run
    if isinstance(node, Pow):
        b, e = compile_node(node.base), compile_node(node.exponent)
        return lambda env: snp.power(b(env), e(env))
    raise TypeError(f"not an expression node: {node!r}")


# ----------------------------------------------------------------------------- sympy


def to_sympy(node: Node, symbols: dict):
    """The sympy expression of a tree; ``symbols`` maps variable names to sympy Symbols.

    Examples
    --------
    >>> import sympy
    >>> from slopes.expr.nodes import Call, Var, to_sympy
    >>> to_sympy(Call("relu", [Var("x")]), {"x": sympy.Symbol("x")})
    Max(0, x)
    """
    import sympy as sp

    if isinstance(node, Num):
        v = node.value
        if isinstance(v, int):
            return sp.Integer(v)
        if isinstance(v, Fraction):
            return sp.Rational(v.numerator, v.denominator)
        return sp.Float(v)
    if isinstance(node, Const):
        return getattr(sp, CONSTANTS[node.name][1])
    if isinstance(node, Var):
        return symbols[node.name]
    if isinstance(node, Call):
        return FUNCTIONS[node.name].to_sympy(*[to_sympy(a, symbols) for a in node.args])
    if isinstance(node, Neg):
        return -to_sympy(node.operand, symbols)
    if isinstance(node, Sum):
        out = to_sympy(node.terms[0][1], symbols)
        for sign, term in node.terms[1:]:
            t = to_sympy(term, symbols)
            out = out + t if sign == "+" else out - t
        return out
    if isinstance(node, Product):
        out = to_sympy(node.factors[0][1], symbols)
        for op, factor in node.factors[1:]:
            f = to_sympy(factor, symbols)
            out = out * f if op == "*" else out / f
        return out
    if isinstance(node, Pow):
        return to_sympy(node.base, symbols) ** to_sympy(node.exponent, symbols)
    raise TypeError(f"not an expression node: {node!r}")


def variables_of(node: Node) -> set[str]:
    """Names of the variables in a tree.

    Examples
    --------
    >>> from slopes.expr.nodes import Call, Var, variables_of
    >>> sorted(variables_of(Call("max", [Var("b"), Var("a")])))
    ['a', 'b']
    """
    if isinstance(node, Var):
        return {node.name}
    out: set[str] = set()
    for c in node.children():
        out |= variables_of(c)
    return out
