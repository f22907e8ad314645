"""Text -> validated expression tree, by a small hand-written parser.

Nothing here evaluates, compiles or imports anything the user wrote: the text
is checked character by character against a short allow-list, cut into
tokens by hand, and parsed by recursive descent into the node types of
:mod:`slopes.expr.nodes`. (Python's own ``ast`` is deliberately not used: a
grammar this small is easier to allow-list exactly than to carve out of
Python's, and the parser never sees deep input.) Limits are checked before
parsing: length, parenthesis depth, and later tree depth and exponent size.

Grammar::

    expr   := term (('+' | '-') term)*
    term   := unary (('*' | '/') unary)*
    unary  := ('+' | '-')* power
    power  := atom (('**' | '^') unary)?           (right-associative)
    atom   := NUMBER | 'pi' | 'e' | NAME | FUNC '(' expr (',' expr)* ')' | '(' expr ')'
"""

from __future__ import annotations

import keyword
import math
import re
from fractions import Fraction

from .budget import Budget, BudgetError, current_budget
from .errors import ExpressionError
from .functions import CONSTANTS, FUNCTIONS, allowed_functions
from .nodes import Call, Const, Neg, Num, Pow, Product, Sum, Var, const_value, pow_magnitude, to_text

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "MAX_PARENS",
    "check_name",
    "checked",
    "checked_pow",
    "parse_tree",
]

# The default limits (the ones in force are read from :func:`~slopes.expr.budget.current_budget`).
MAX_LENGTH = Budget.max_length  #: characters
MAX_PARENS = Budget.max_parens  #: nesting depth of parentheses
MAX_DEPTH = Budget.max_depth  #: depth of the expression tree
MAX_EXPONENT = Budget.max_exponent  #: largest |constant exponent|
MAX_MAGNITUDE = 308  #: largest |log10| of a constant power

_ALLOWED_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ \t+-*/^().,")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_VALID_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?\Z")


def check_name(name, column: int | None = None) -> str:
    """Return ``name`` if it may name a variable, else raise :class:`ExpressionError`.

    A variable name is an ASCII identifier that neither starts nor ends with an
    underscore, and is not a function, a constant or a Python keyword.

    Examples
    --------
    >>> from slopes.expr.parser import check_name
    >>> check_name("x_1")
    'x_1'
    >>> check_name("__class__")
    Traceback (most recent call last):
    ...
    slopes.expr.errors.ExpressionError: '__class__' is not a valid variable name: ...
    """
    if not isinstance(name, str):
        raise ExpressionError(f"variable names must be strings, not {type(name).__name__}", column)
    shown = repr(name[:40] + ("..." if len(name) > 40 else ""))
    if not _VALID_NAME.match(name) or len(name) > 100:
        raise ExpressionError(
            f"{shown} is not a valid variable name: use ASCII letters, digits and inner "
            "underscores, starting with a letter (e.g. x, x1, theta_0)",
            column,
        )
    if name in FUNCTIONS:
        raise ExpressionError(f"'{name}' is a function", column, hint=f"call it as {name}(...)")
    if name in CONSTANTS:
        raise ExpressionError(f"'{name}' is a constant, not a variable", column)
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ExpressionError(f"'{name}' is a reserved word, not a variable name", column)
    return name


def _describe(ch: str) -> str:
    if ch == "\n":
        return "a newline"
    if ch.isprintable() and ch.isascii():
        return repr(ch)
    return f"{ch!r} (U+{ord(ch):04X})"


def _prescan(text) -> None:
    """Checks done on the raw text, before any parsing."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a str, not {type(text).__name__}")
    limits = current_budget()
    if len(text) > limits.max_length:
        raise BudgetError(
            f"expression too long ({len(text)} characters, at most {limits.max_length})",
            "max_length", "write a shorter formula",
        )
    opened: list[int] = []  # columns of the '(' not yet closed
    for i, ch in enumerate(text):
        if ch not in _ALLOWED_CHARS:
            hint = (
                "only ASCII letters and digits, spaces, + - * / ^ ( ) , and . are allowed"
                if ch.isascii()
                else "expressions must be ASCII (look-alike letters from other alphabets are refused)"
            )
            raise ExpressionError(f"character {_describe(ch)} is not allowed", i + 1, hint=hint)
        if ch == "(":
            opened.append(i + 1)
            if len(opened) > limits.max_parens:
                raise BudgetError(
                    f"parentheses nested too deeply (at most {limits.max_parens})",
                    "max_parens", "nest less", i + 1,
                )
        elif ch == ")":
            if not opened:
                raise ExpressionError("unmatched ')'", i + 1)
            opened.pop()
    if opened:
        raise ExpressionError("unclosed '('", opened[-1])
    if not text.strip():
        raise ExpressionError("empty expression")


def _tokenize(text: str) -> list[tuple[str, object, int, str]]:
    """Tokens ``(kind, value, column, spelling)``; kinds: num, name, op, end.

    ``spelling`` is the token as the user wrote it (``^`` and ``**`` are both the power
    operator ``**``), so that messages quote the user's own text.
    """
    tokens = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t":
            i += 1
            continue
        col = i + 1
        if ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit()):
            m = _NUMBER.match(text, i)
            tokens.append(("num", _number(m.group(), col), col, m.group()))
            i = m.end()
            if i < n and (text[i].isalnum() or text[i] in "_."):
                raise ExpressionError(
                    f"unexpected {_describe(text[i])} after the number {m.group()!r}"
                    " (write * for multiplication, e.g. 2*x)",
                    i + 1,
                )
        elif ch.isalpha() or ch == "_":
            m = _NAME.match(text, i)
            tokens.append(("name", m.group(), col, m.group()))
            i = m.end()
        elif text.startswith("**", i):
            tokens.append(("op", "**", col, "**"))
            i += 2
        elif ch == "^":
            tokens.append(("op", "**", col, "^"))
            i += 1
        elif ch in "+-*/(),":
            tokens.append(("op", ch, col, ch))
            i += 1
        else:  # '.' not starting a number
            raise ExpressionError(f"unexpected {_describe(ch)} (attribute access is not allowed)", col)
    tokens.append(("end", None, n + 1, ""))
    return tokens


def _number(token: str, col: int):
    _, _, exp = token.lower().partition("e")
    shown = repr(token if len(token) <= 30 else token[:27] + "...")
    if exp and abs(int(exp)) > 400:
        raise ExpressionError(f"number {shown} is out of range", col)
    value = Fraction(token)
    try:
        as_float = float(value)
    except OverflowError:
        as_float = math.inf
    if not math.isfinite(as_float):
        raise ExpressionError(f"number {shown} is too large (at most about 1.8e308)", col)
    if value and as_float == 0.0:
        raise ExpressionError(f"number {shown} is too small (it would round to 0)", col)
    if "." not in token and not exp:
        return int(token)
    return value


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.pos = 0

    # token helpers
    def peek(self):
        return self.tokens[self.pos]

    def take(self):
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def at(self, *ops):
        kind, value, _, _ = self.tokens[self.pos]
        return kind == "op" and value in ops

    def expect(self, op, what):
        token = self.take()
        kind, value, col, _ = token
        if kind != "op" or value != op:
            raise ExpressionError(f"expected {op!r} {what}, found {_token_text(token)}", col)

    # grammar
    def parse(self):
        node = self.expr()
        token = self.peek()
        if token[0] != "end":
            raise ExpressionError(f"unexpected {_token_text(token)}", token[2])
        return node

    def expr(self):
        col = self.peek()[2]
        terms = [("+", self.term())]
        while self.at("+", "-"):
            terms.append((self.take()[1], self.term()))
        return terms[0][1] if len(terms) == 1 else checked(Sum(terms, col))

    def term(self):
        col = self.peek()[2]
        factors = [("*", self.unary())]
        while self.at("*", "/"):
            factors.append((self.take()[1], self.unary()))
        if len(factors) == 1:
            return factors[0][1]
        node = checked(Product(factors, col))
        value = const_value(node)
        if value is not None and math.isinf(value) and all(math.isfinite(const_value(f)) for _, f in factors):
            raise ExpressionError("constant product is infinite or out of range (magnitude above 1e308)", col)
        return node

    def unary(self):
        col = self.peek()[2]
        negate = False
        while self.at("+", "-"):
            negate ^= self.take()[1] == "-"
        node = self.power()
        return checked(Neg(node, col)) if negate else node

    def power(self):
        # atom ('**' unary)*, folded from the right without recursion on the chain.
        chain = [self.atom()]
        signs = [False]
        cols = []
        while self.at("**"):
            cols.append(self.take()[2])
            negate = False
            while self.at("+", "-"):
                negate ^= self.take()[1] == "-"
            chain.append(self.atom())
            signs.append(negate)
            limit = current_budget().max_depth
            if len(chain) > limit:
                raise BudgetError(f"chain of powers too long (at most {limit})", "max_depth", "write a shorter chain", cols[-1])
        node = checked(Neg(chain[-1], chain[-1].col)) if signs[-1] else chain[-1]
        for i in range(len(chain) - 2, -1, -1):
            node = checked_pow(chain[i], node, cols[i])
            if signs[i]:
                node = checked(Neg(node, node.col))
        return node

    def atom(self):
        token = self.take()
        kind, value, col, _ = token
        if kind == "num":
            return Num(value, col)
        if kind == "name":
            if self.at("("):
                return self.call(value, col)
            if value in CONSTANTS:
                return Const(value, col)
            if value in FUNCTIONS:
                raise ExpressionError(f"function '{value}' needs arguments: {value}(...)", col)
            return Var(check_name(value, col), col)
        if kind == "op" and value == "(":
            node = self.expr()
            self.expect(")", "to close the '(' at column " + str(col))
            return node
        raise ExpressionError(f"expected a number, a name or '(', found {_token_text(token)}", col)

    def call(self, name, col):
        if name in CONSTANTS:
            raise ExpressionError(f"'{name}' is a constant, not a function", col)
        if name not in FUNCTIONS:
            raise ExpressionError(f"unknown function '{name}'", col, hint=f"allowed: {allowed_functions()}")
        self.take()  # '('
        args = [self.expr()]
        while self.at(","):
            self.take()
            args.append(self.expr())
        self.expect(")", f"to close the call of {name}()")
        arity = FUNCTIONS[name].arity
        if len(args) != arity:
            plural = "argument" if arity == 1 else "arguments"
            raise ExpressionError(f"{name}() takes {arity} {plural}, got {len(args)}", col)
        node = checked(Call(name, args, col))
        value = const_value(node)
        if value is not None and math.isinf(value) and all(math.isfinite(const_value(a)) for a in args):
            shown = to_text(node)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise ExpressionError(f"constant {shown} is infinite or out of range (magnitude above 1e308)", col)
        return node


def _token_text(token) -> str:
    """A token for a message, spelled as the user wrote it."""
    kind, _, _, spelling = token
    if kind == "end":
        return "end of the expression"
    if kind == "num":
        return f"number {spelling}"
    if kind == "name":
        return f"name {spelling!r}"
    return repr(spelling)


def checked(node):
    """Return ``node`` if its tree depth is within :data:`MAX_DEPTH`, else raise.

    Examples
    --------
    >>> from slopes.expr.parser import checked
    >>> from slopes.expr.nodes import Var
    >>> checked(Var("x")).depth
    1
    """
    limit = current_budget().max_depth
    if node.depth > limit:
        raise BudgetError(f"expression nested too deeply (tree depth at most {limit})", "max_depth", "nest less", node.col)
    return node


def checked_pow(base, exponent, col):
    """``base ** exponent`` as a node, refusing huge constant exponents and out-of-range constants.

    Examples
    --------
    >>> from slopes.expr.parser import checked_pow
    >>> from slopes.expr.nodes import Num, Var, to_text
    >>> to_text(checked_pow(Var("x"), Num(3), 2))
    'x**3'
    >>> checked_pow(Num(10), Num(10**100), 3)
    Traceback (most recent call last):
    ...
    slopes.expr.budget.BudgetError: constant exponent too large (|exponent| at most 10000) at column 3; ...
    """
    e = const_value(exponent)
    if e is not None and math.isnan(e):
        raise ExpressionError("constant exponent is not a real number (it evaluates to nan)", col)
    limit = current_budget().max_exponent
    if e is not None and not (abs(e) <= limit):
        raise BudgetError(
            f"constant exponent too large (|exponent| at most {limit:g})", "max_exponent", "use a smaller power", col
        )
    b = const_value(base)
    if b is not None and e is not None and abs(pow_magnitude(b, e)) > MAX_MAGNITUDE:
        raise ExpressionError("constant power out of range (its magnitude would exceed 1e308)", col)
    return checked(Pow(base, exponent, col))


def parse_tree(text):
    """Check and parse ``text`` into a tree; raise :class:`ExpressionError` on any problem.

    Examples
    --------
    >>> from slopes.expr.parser import parse_tree
    >>> from slopes.expr.nodes import to_text
    >>> to_text(parse_tree("x^2 + .5*sin(y)"))
    'x**2 + 0.5*sin(y)'
    """
    _prescan(text)
    return _Parser(text).parse()
