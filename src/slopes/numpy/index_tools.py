"""Index arrays, dtype questions and window functions: constants that need no derivative.

Functions of shapes and dtypes only (``tri``, ``tril_indices``, ``indices``,
``broadcast_shapes``, ``promote_types``...) are NumPy's own. Those that read an
array's shape (``diag_indices_from``, ``tril_indices_from``, ``triu_indices_from``)
accept traced arrays too.
"""

from __future__ import annotations

import numpy as np

from ..core.trace import shape_of

__all__ = [
    "tri",
    "tril_indices",
    "triu_indices",
    "diag_indices",
    "mask_indices",
    "indices",
    "broadcast_shapes",
    "promote_types",
    "issubdtype",
    "can_cast",
    "isdtype",
    "bartlett",
    "blackman",
    "hamming",
    "hanning",
    "kaiser",
    "diag_indices_from",
    "tril_indices_from",
    "triu_indices_from",
]

# NumPy's own: they take shapes, sizes and dtypes, never a traced value
tri = np.tri
tril_indices = np.tril_indices
triu_indices = np.triu_indices
diag_indices = np.diag_indices
mask_indices = np.mask_indices
indices = np.indices
broadcast_shapes = np.broadcast_shapes
promote_types = np.promote_types
issubdtype = np.issubdtype
can_cast = np.can_cast
isdtype = np.isdtype
# window functions: constants of a length (and kaiser's beta)
bartlett, blackman, hamming, hanning, kaiser = np.bartlett, np.blackman, np.hamming, np.hanning, np.kaiser


def _square(arr, fn):
    shape = tuple(shape_of(arr)) if hasattr(arr, "shape") else np.shape(arr)
    if len(shape) < 2:
        raise ValueError(f"{fn}(): needs an array of at least 2 dimensions, got shape {shape}")
    return shape


def diag_indices_from(arr):
    """``numpy.diag_indices_from`` for plain or traced arrays: the main diagonal's indices.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.diag_indices_from(np.ones((2, 2)))
    (array([0, 1]), array([0, 1]))
    """
    shape = _square(arr, "diag_indices_from")
    if len(set(shape)) != 1:
        raise ValueError(f"diag_indices_from(): all dimensions must be equal, got shape {shape}")
    return np.diag_indices(shape[0], len(shape))


def tril_indices_from(arr, k=0):
    """``numpy.tril_indices_from`` for plain or traced arrays: the lower triangle's indices.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.tril_indices_from(np.ones((2, 2)))
    (array([0, 1, 1]), array([0, 0, 1]))
    """
    shape = _square(arr, "tril_indices_from")
    return np.tril_indices(shape[-2], k=k, m=shape[-1])


def triu_indices_from(arr, k=0):
    """``numpy.triu_indices_from`` for plain or traced arrays: the upper triangle's indices.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.triu_indices_from(np.ones((2, 2)))
    (array([0, 0, 1]), array([0, 1, 1]))
    """
    shape = _square(arr, "triu_indices_from")
    return np.triu_indices(shape[-2], k=k, m=shape[-1])
