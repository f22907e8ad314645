"""``slopes.scipy``: SciPy's names, differentiable by every slopes transform.

Submodules mirror SciPy's and load on first use: ``special``, ``stats``, ``linalg``,
``signal``. Each is built on :mod:`slopes.numpy` like any other ops.

Examples
--------
>>> import slopes
>>> slopes.scipy.__name__
'slopes.scipy'
"""

from __future__ import annotations

import importlib

_SUBMODULES = ("linalg", "signal", "special", "stats")

__all__ = list(_SUBMODULES)


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'slopes.scipy' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))
