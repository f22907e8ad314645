"""Arguments of the ``slopes.scipy`` functions as float arrays (or traced values, unchanged)."""

from __future__ import annotations

import numpy as np

from ..core.trace import Tracer
from ..numpy._wrap import asarray_args

__all__ = ["floating"]


def floating(x):
    """``x`` as an array of a floating (or complex) dtype; traced values pass unchanged.

    Examples
    --------
    >>> floating([1, 2]).dtype
    dtype('float64')
    """
    (x,) = asarray_args((x,))
    if isinstance(x, Tracer):
        return x
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.inexact) else x.astype(np.float64)
