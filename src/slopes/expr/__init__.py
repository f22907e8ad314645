"""Safe user expressions: text -> :class:`Expression`, never ``eval``.

>>> import slopes as sl
>>> f = sl.parse("x^3 + 2*x - 5")
>>> float(sl.derivative(f)(1.0))
5.0
"""

from .errors import ExpressionError
from .expression import Expression, parse
from .functions import CONSTANTS, FUNCTIONS

__all__ = ["CONSTANTS", "FUNCTIONS", "Expression", "ExpressionError", "parse"]
