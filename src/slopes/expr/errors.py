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
    hint : str, optional
        What to do about it; the message reads ``reason at column N; hint``.

    Examples
    --------
    >>> import slopes as sl
    >>> try:
    ...     sl.parse("x + foo(2)")
    ... except sl.ExpressionError as err:
    ...     print(err.column, err.reason.split(";")[0])
    5 unknown function 'foo'
    """

    def __init__(self, reason: str, column: int | None = None, hint: str | None = None):
        # The column goes after the reason and before the hint, which are kept apart (never
        # found by searching the text: a quoted ';' of the user's belongs to the reason).
        self.column = column
        self.hint = hint
        self.reason = reason if hint is None else f"{reason}; {hint}"
        where = "" if column is None else f" at column {column}"
        super().__init__(f"{reason}{where}" + ("" if hint is None else f"; {hint}"))
