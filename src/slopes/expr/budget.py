"""Budgets: how much work a formula, an order or a size may ask for, decided before the work starts.

Every road from user text into sympy, into Taylor mode or into a dense derivative
tensor reads the limits of one :class:`Budget`. Most limits are checked before
any work (text length, nesting, exponents, orders, tensor sizes, the size of
exact numbers); symbolic work that cannot be predicted (sympy's differentiation
and simplification) is counted as it runs, in steps (Python calls made inside
it), and stopped when the count passes the limit. Either way the refusal is a
:class:`BudgetError` (an :class:`~slopes.ExpressionError`) that names the limit
and how to ask for less.

Raise or lower a limit for a block of code with :func:`budget`::

    with sl.budget(max_symbolic_steps=50_000_000):
        sl.symbolic.diff("exp(sin(x)*cos(x))", n=20)

The setting is per thread (and per asyncio task): it is a context variable.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields, replace

from .errors import ExpressionError

__all__ = ["Budget", "BudgetError", "budget", "current_budget", "symbolic_work"]


@dataclass(frozen=True)
class Budget:
    """The limits in force (read the current ones with :func:`current_budget`).

    Attributes
    ----------
    max_length : int
        Characters of a formula (2,000: a long formula fits on a page).
    max_parens : int
        Nesting depth of parentheses (100).
    max_depth : int
        Depth of an expression tree (200), for numeric use.
    max_exponent : float
        Largest ``|constant exponent|`` (1e4).
    max_symbolic_depth : int
        Depth of the sympy tree an expression becomes (120): sympy recurses
        several Python frames per level, and Python stops at 1,000 frames.
        ``sigmoid`` counts 4 levels, ``softplus`` 3, ``log1p`` 2.
    max_digits : int
        Digits of an exact number in a sympy result (1,000; Python refuses to
        print integers of more than 4,300 digits).
    max_symbolic_steps : int
        Steps (Python calls inside sympy) of one symbolic operation
        (6,000,000: about 5 seconds; the derivative of 100 nested sin takes 3.5 million).
    max_simplify_steps : int
        Steps spent simplifying one result (500,000); a result whose
        simplification needs more is returned as computed (still exact).
    max_taylor_work : int
        Nested forward-mode terms of a multivariate Taylor tensor, ``(2 D)**k``
        for order ``k`` in ``D`` variables (4**10 = 1,048,576: order 10 in 2
        variables, 6 in 5; about a second or two).

    Examples
    --------
    >>> from slopes.expr.budget import Budget
    >>> Budget().max_exponent, Budget(max_digits=50).max_digits
    (10000.0, 50)
    """

    max_length: int = 2000
    max_parens: int = 100
    max_depth: int = 200
    max_exponent: float = 1e4
    max_symbolic_depth: int = 120
    max_digits: int = 1000
    max_symbolic_steps: int = 6_000_000
    max_simplify_steps: int = 500_000
    max_taylor_work: int = 4**10


_CURRENT: ContextVar[Budget] = ContextVar("slopes_budget", default=Budget())


def current_budget() -> Budget:
    """The :class:`Budget` in force in this thread (the defaults unless :func:`budget` changed it).

    Examples
    --------
    >>> from slopes.expr.budget import current_budget
    >>> current_budget().max_length
    2000
    """
    return _CURRENT.get()


@contextmanager
def budget(**limits):
    """Change limits of the :class:`Budget` for the code inside a ``with`` block.

    Parameters
    ----------
    **limits
        New values for fields of :class:`Budget` (positive numbers), e.g.
        ``max_symbolic_steps=20_000_000``. Fields not named keep their value.

    Yields
    ------
    Budget
        The budget in force inside the block.

    Examples
    --------
    >>> import slopes as sl
    >>> with sl.budget(max_taylor_work=10**7) as b:
    ...     b.max_taylor_work
    10000000
    >>> sl.parse("x**20000")
    Traceback (most recent call last):
    ...
    slopes.expr.budget.BudgetError: constant exponent too large (|exponent| at most 10000) at column 2; ...
    >>> with sl.budget(max_exponent=1e5):
    ...     print(sl.parse("x**20000"))
    x**20000
    """
    names = {f.name for f in fields(Budget)}
    for name, value in limits.items():
        if name not in names:
            raise TypeError(f"budget() has no limit {name!r}; the limits are {', '.join(sorted(names))}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"budget(): {name} must be a positive number, got {value!r}")
    token = _CURRENT.set(replace(_CURRENT.get(), **limits))
    try:
        yield _CURRENT.get()
    finally:
        _CURRENT.reset(token)


class BudgetError(ExpressionError):
    """A request over a limit of the :class:`Budget`: what it needs, the limit, and how to ask for less.

    Parameters
    ----------
    reason : str
        What the request needs, against the limit.
    limit : str
        The :class:`Budget` field that refused it.
    ask_for_less : str
        How to ask for less (a smaller order, another method, ...).
    column : int, optional
        Where in the formula, when there is one place.

    Examples
    --------
    >>> from slopes.expr.budget import BudgetError
    >>> err = BudgetError("1,200 digits (at most 1,000)", "max_digits", "ask for a lower order")
    >>> print(err)
    1,200 digits (at most 1,000); ask for a lower order, or raise the limit: with sl.budget(max_digits=...)
    >>> err.limit
    'max_digits'
    """

    def __init__(self, reason: str, limit: str, ask_for_less: str, column: int | None = None):
        self.limit = limit
        super().__init__(reason, column, hint=f"{ask_for_less}, or raise the limit: with sl.budget({limit}=...)")


# ----------------------------------------------------------------------------- counted symbolic work


class _OverBudget(BaseException):
    # A BaseException, so that no ``except Exception`` inside sympy swallows it.
    def __init__(self, owner):
        super().__init__()
        self.owner = owner


class _Work:
    """One counted block: its limit, its count so far, and a note on how far it got."""

    def __init__(self, limit: int):
        self.limit = int(limit)
        self.steps = 0
        self.note = ""


# An exception raised where a generator is closed or an object finalized is printed and
# dropped, not propagated; and the context managers' own frames must let the unwinding run.
_NOT_STOPPABLE = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
_OWN_FILES = frozenset({contextlib.__file__, __file__})


def _can_stop(code) -> bool:
    return not code.co_flags & _NOT_STOPPABLE and code.co_name != "__del__" and code.co_filename not in _OWN_FILES


@contextmanager
def symbolic_work(what: str, limit: str = "max_symbolic_steps", ask_for_less: str = "ask for less"):
    """Count the steps (Python calls) of the block and stop it past the budget's ``limit``.

    The count is taken with :func:`sys.settrace` in this thread only (any tracer
    already installed, e.g. coverage, still runs). Blocks nest: each stops at its
    own limit, and the steps of an inner block count for the outer ones too.
    Going over raises :class:`BudgetError`; so does a ``RecursionError`` inside
    the block (a tree too deep for sympy).

    Parameters
    ----------
    what : str
        What the block does, for the message (``"differentiating exp(x)"``).
    limit : str
        The :class:`Budget` field holding the number of steps allowed.
    ask_for_less : str
        How to ask for less, for the message.

    Yields
    ------
    _Work
        Its ``note`` may be set to say how far the block got (it ends the message).

    Examples
    --------
    >>> import sympy
    >>> from slopes.expr.budget import budget, symbolic_work
    >>> x = sympy.Symbol("x")
    >>> with budget(max_symbolic_steps=100):
    ...     with symbolic_work("expanding", ask_for_less="expand less"):
    ...         sympy.expand((x + 1) ** 200)
    Traceback (most recent call last):
    ...
    slopes.expr.budget.BudgetError: expanding took more than 100 steps of symbolic work (max_symbolic_steps); ...
    """
    work = _Work(getattr(current_budget(), limit))
    previous = sys.gettrace()

    def count(frame, event, arg):
        work.steps += 1
        if work.steps > work.limit and _can_stop(frame.f_code):
            raise _OverBudget(work)  # CPython unsets the tracer; the blocks unwound restore theirs
        return previous(frame, event, arg) if previous is not None else None

    sys.settrace(count)
    try:
        yield work
    except _OverBudget as stop:
        sys.settrace(previous)  # before any more Python runs here: it is past the limit
        if stop.owner is not work:
            raise
        note = f" ({work.note})" if work.note else ""
        raise BudgetError(
            f"{what} took more than {work.limit:,} steps of symbolic work ({limit}){note}", limit, ask_for_less
        ) from None
    except RecursionError:
        sys.settrace(previous)
        raise BudgetError(
            f"{what} went deeper than Python's recursion limit", "max_symbolic_depth",
            "write a less deeply nested formula",
        ) from None
    finally:
        sys.settrace(previous)
