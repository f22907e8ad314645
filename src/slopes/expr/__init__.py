"""Safe user expressions: text -> :class:`Expression`, never ``eval``.

>>> import slopes as sl
>>> f = sl.parse("x^3 + 2*x - 5")
>>> float(sl.derivative(f)(1.0))
5.0
"""

from .budget import Budget, BudgetError, budget, current_budget
from .errors import ExpressionError
from .expression import Expression, parse
from .functions import CONSTANTS, FUNCTIONS

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "Budget",
    "BudgetError",
    "Expression",
    "ExpressionError",
    "budget",
    "current_budget",
    "parse",
]
