"""Masks whose values may steer the code: a ``where`` that selects nothing is left out.

A ``where`` guarding a few entries (a zero under a root, a point outside a support, a NaN)
costs a recorded primitive on every call, and most calls have none of those entries. When
the mask's values can be read (always, unless ``slopes.jit`` is staging it: its replays
would take the choice for other values), a mask that is False everywhere is dropped, which
keeps every entry's value and derivative.
"""

from __future__ import annotations

import numpy as np

from ..core.trace import concrete, staged

__all__ = ["known", "never"]


def known(mask):
    """The values of ``mask`` where a path may be chosen from them, else None.

    Examples
    --------
    >>> known(np.array([True, False]))
    array([ True, False])
    """
    return None if staged(mask) else np.asarray(concrete(mask))


def never(mask):
    """None where ``mask`` (or None, meaning none) is known to be False everywhere, else ``mask``.

    Examples
    --------
    >>> never(np.array([False, False])) is None, never(np.array([False, True]))
    (True, array([False,  True]))
    """
    values = None if mask is None else known(mask)
    return None if values is not None and not values.any() else mask
