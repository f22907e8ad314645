"""Which dtypes the engine differentiates: NumPy's floats, bfloat16 from ``ml_dtypes``, complex.

bfloat16 (8 exponent bits like float32, 8 significant bits) is not a NumPy dtype:
the ``ml_dtypes`` package adds it, with NumPy kind ``"V"`` rather than ``"f"``, so
``np.issubdtype(bfloat16, np.floating)`` is False. :func:`is_floating` accepts it;
:func:`bfloat16` returns the dtype, or says how to install the optional extra.

Complex dtypes (:func:`is_complex`) are differentiable too; :func:`is_inexact`
accepts both kinds.

Examples
--------
>>> from slopes.core.dtypes import is_floating, is_inexact
>>> is_floating(np.float32), is_floating(np.int64), is_inexact(np.complex64)
(True, False, True)
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BF16_INSTALL",
    "bfloat16",
    "is_bfloat16",
    "complex_valued",
    "is_complex",
    "is_floating",
    "is_inexact",
    "refuse_complex",
]

BF16_INSTALL = "pip install 'slopes[bf16]' (it adds the ml_dtypes package)"


def is_bfloat16(dtype) -> bool:
    """Whether ``dtype`` is bfloat16 (by name: ``ml_dtypes`` defines the type).

    Examples
    --------
    >>> from slopes.core.dtypes import is_bfloat16
    >>> is_bfloat16(np.float16)
    False
    """
    return np.dtype(dtype).name == "bfloat16"


def is_floating(dtype) -> bool:
    """Whether ``dtype`` is a floating-point type the engine differentiates (bfloat16 included).

    Examples
    --------
    >>> from slopes.core.dtypes import is_floating
    >>> is_floating(np.float16), is_floating(np.complex128), is_floating(bool)
    (True, False, False)
    """
    dtype = np.dtype(dtype)
    return dtype.kind == "f" or is_bfloat16(dtype)


def is_complex(dtype) -> bool:
    """Whether ``dtype`` is a complex type (complex64, complex128, ...).

    Examples
    --------
    >>> from slopes.core.dtypes import is_complex
    >>> is_complex(np.complex64), is_complex(np.float64)
    (True, False)
    """
    return np.dtype(dtype).kind == "c"


def complex_valued(x) -> bool:
    """Whether the value ``x`` (array, NumPy or Python scalar, traced value) is complex.

    Reads only the dtype, so it never touches a traced value's entries.

    Examples
    --------
    >>> from slopes.core.dtypes import complex_valued
    >>> complex_valued(1j), complex_valued(np.ones(2)), complex_valued(2.0)
    (True, False, False)
    """
    dtype = getattr(x, "dtype", None)
    return type(x) is complex if dtype is None else dtype.kind == "c"


def refuse_complex(name: str, args, hint: str) -> None:
    """TypeError when any of ``args`` is complex: ``name`` is defined for real numbers only.

    For the functions NumPy itself refuses on complex input (``arctan2``,
    ``floor``, ...); ``hint`` says what to use instead.

    Examples
    --------
    >>> from slopes.core.dtypes import refuse_complex
    >>> refuse_complex("hypot", (3.0, 4.0), "use abs")     # real: nothing to say
    >>> refuse_complex("hypot", (3.0, 4j), "use abs")
    Traceback (most recent call last):
    ...
    TypeError: hypot() is defined for real numbers only (NumPy refuses complex input too); use abs.
    """
    if any(complex_valued(a) for a in args):
        raise TypeError(f"{name}() is defined for real numbers only (NumPy refuses complex input too); {hint}.")


def is_inexact(dtype) -> bool:
    """Whether the engine differentiates with respect to ``dtype``: a float or a complex type.

    Examples
    --------
    >>> from slopes.core.dtypes import is_inexact
    >>> is_inexact(np.complex128), is_inexact(np.float16), is_inexact(np.int32)
    (True, True, False)
    """
    return is_complex(dtype) or is_floating(dtype)


def bfloat16(where: str = ""):
    """The bfloat16 dtype of ``ml_dtypes``; ImportError naming the extra when it is missing.

    ``where`` (e.g. ``"grad()"``) starts the error message.

    Examples
    --------
    >>> from slopes.core.dtypes import bfloat16
    >>> bf16 = bfloat16()                     # with the bf16 extra installed
    >>> bf16.name, bf16.itemsize, np.array([1/3], bf16).astype(float)
    ('bfloat16', 2, array([0.33398438]))
    """
    try:
        import ml_dtypes
    except ImportError:
        prefix = f"{where}: " if where else ""
        raise ImportError(f"{prefix}bfloat16 needs the ml_dtypes package: {BF16_INSTALL}") from None
    return np.dtype(ml_dtypes.bfloat16)
