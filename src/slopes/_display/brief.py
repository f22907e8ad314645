"""Short text for values: long numbers to 6 significant digits, long arrays summarised.

A terminal ``repr`` should fit in a line or a few; an array of ten thousand samples
should not scroll the screen. :func:`summarize` gives every value its short form and
:func:`brief_repr` builds ``Name(field=value, ...)`` from a NamedTuple's or a
dataclass's fields with it.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

__all__ = ["MAX_ITEMS", "brief_repr", "summarize"]

#: Arrays and containers with more entries than this are summarised.
MAX_ITEMS = 6
_MAX_TEXT = 60  # other objects: their repr, cut to this many characters


def _number(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (complex, np.complexfloating)):
        return f"{complex(v):.6g}"
    v = float(v)
    text = repr(v)  # as Python prints it when that is short (2.0, 0.1, 1e-08), else 6 digits
    return text if len(text) <= 8 or not math.isfinite(v) else f"{v:.6g}"


def _array(a: np.ndarray) -> str:
    if a.size <= MAX_ITEMS:
        if a.ndim == 0:
            return _number(a.item())
        body = np.array2string(a, separator=", ", formatter={"all": _number})
        return f"array({' '.join(body.split())})"  # one line even for a small matrix
    if a.ndim == 1:
        half = MAX_ITEMS // 2
        head = ", ".join(_number(v) for v in a[:half])
        tail = ", ".join(_number(v) for v in a[-half:])
        return f"array([{head}, ..., {tail}], shape={a.shape})"
    return f"array(shape={a.shape}, dtype={a.dtype})"


def summarize(value, depth: int = 0) -> str:
    """A short one-line text for ``value``.

    Numbers print as Python prints them when that is short (``2.0``, ``1e-08``), else
    with 6 significant digits; arrays of more than :data:`MAX_ITEMS`
    entries print their ends and shape (1-D) or shape and dtype; dicts, lists and
    tuples print at most :data:`MAX_ITEMS` items, two levels deep; other objects print
    their ``repr``, cut to 60 characters.

    Examples
    --------
    >>> import numpy as np
    >>> summarize(np.arange(100.0))
    'array([0.0, 1.0, 2.0, ..., 97.0, 98.0, 99.0], shape=(100,))'
    >>> summarize({"W": np.zeros((64, 32)), "b": np.zeros(2)})
    "{'W': array(shape=(64, 32), dtype=float64), 'b': array([0.0, 0.0])}"
    >>> summarize(1 / 3), summarize(float("nan"))
    ('0.333333', 'nan')
    """
    if isinstance(value, (bool, int, float, complex, np.number, np.bool_)):
        return _number(value)
    if isinstance(value, np.ndarray):
        return _array(value)
    if isinstance(value, (dict, list, tuple)) and not hasattr(value, "_fields"):
        if depth >= 2:
            return f"<{type(value).__name__} of {len(value)}>"
        items = list(value.items()) if isinstance(value, dict) else list(value)
        shown = items[:MAX_ITEMS]
        if isinstance(value, dict):
            parts = [f"{k!r}: {summarize(v, depth + 1)}" for k, v in shown]
        else:
            parts = [summarize(v, depth + 1) for v in shown]
        if len(items) > MAX_ITEMS:
            parts.append(f"... ({len(items)} in all)")
        open_, close = {dict: "{}", list: "[]"}.get(type(value), "()")
        return open_ + ", ".join(parts) + ("," if type(value) is tuple and len(items) == 1 else "") + close
    text = repr(value)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def _fields(obj) -> list[str]:
    if hasattr(obj, "_fields"):  # a NamedTuple
        return list(obj._fields)
    return [f.name for f in dataclasses.fields(obj) if f.repr]


def brief_repr(self) -> str:
    """``Name(field=value, ...)`` with every value through :func:`summarize`: a ``__repr__``.

    For a NamedTuple or a dataclass: assign it in the class body, ``__repr__ = brief_repr``
    (a dataclass keeps a ``__repr__`` defined in its body).

    Examples
    --------
    >>> from typing import NamedTuple
    >>> import numpy as np
    >>> class Run(NamedTuple):
    ...     losses: np.ndarray
    ...     best: float
    ...     __repr__ = brief_repr
    >>> Run(np.linspace(1, 0, 50), 0.0)
    Run(losses=array([1.0, 0.979592, 0.959184, ..., 0.0408163, 0.0204082, 0.0], shape=(50,)), best=0.0)
    """
    body = ", ".join(f"{name}={summarize(getattr(self, name))}" for name in _fields(self))
    return f"{type(self).__name__}({body})"
