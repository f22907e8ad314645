"""The one error type of the expression parser and the sympy bridge."""

from __future__ import annotations

__all__ = ["ExpressionError"]


class ExpressionError(ValueError):
    """A user expression was refused: what is wrong and where.

    Parameters
    ----------
    reason : str
        What is wrong, in the user's terms.
    column : int or None
        1-based column in the expression text where the problem starts, or
        ``None`` when it has no single place (e.g. a sympy expression).

    Examples
    --------
    >>> import slopes as sl
    >>> try:
    ...     sl.parse("x + foo(2)")
    ... except sl.ExpressionError as err:
    ...     print(err.column, err.reason.split(";")[0])
    5 unknown function 'foo'
    """

    def __init__(self, reason: str, column: int | None = None):
        self.reason = reason
        self.column = column
        super().__init__(reason if column is None else _with_column(reason, column))


def _with_column(reason: str, column: int) -> str:
    # "unknown function 'foo'; allowed: ..." -> "unknown function 'foo' at column 5; allowed: ..."
    head, sep, tail = reason.partition(";")
    return f"{head} at column {column}{sep}{tail}"
