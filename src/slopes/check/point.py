"""The point of a check and ``f`` evaluated there, before any derivative is taken."""

from __future__ import annotations

import numpy as np

from .table import error_text, nonfinite_value
from .tolerance import working_dtype


def as_point(x):
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.inexact):  # complex points stay complex
        x = x.astype(np.float64)
    return x


def evaluate(f, args, shapes, where):
    """``(f(*args) as an array or None, working dtype, problem)``.

    ``problem`` is ``''`` when ``f(*args)`` is usable, else why not: ``f``
    raised (at arguments described by ``shapes``) or returned NaN or inf (at
    the point described by ``where``). The working dtype is that of the
    arguments and, when it is a float, of the value.
    """
    dtype = working_dtype(*args)
    try:
        out = np.asarray(f(*args))
    except Exception as e:  # noqa: BLE001  (any failure of user code is reported)
        return None, dtype, f"f could not be evaluated at {shapes}: {error_text(e)}"
    if np.issubdtype(out.dtype, np.floating):
        dtype = working_dtype(*args, out)
    if not np.all(np.isfinite(out)):
        return out, dtype, nonfinite_value(out, where)
    return out, dtype, ""
