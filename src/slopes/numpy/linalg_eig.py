"""``snp.linalg.eig`` and ``eigvals``: the general eigendecomposition, differentiable.

See :mod:`slopes.core.ops.eig` for the derivative formulas and conventions.
"""

from __future__ import annotations

from collections import namedtuple

from ..core.ops import eig as ops
from ..core.trace import shape_of
from ._wrap import asarray_args

__all__ = ["eig", "eigvals"]

EigResult = namedtuple("EigResult", ["eigenvalues", "eigenvectors"])


def _square(a, name):
    (a,) = asarray_args((a,))
    s = shape_of(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise ValueError(f"{name}() needs a square matrix or a stack of them (..., n, n), got shape {s}")
    return a


def eig(a):
    """Differentiable ``numpy.linalg.eig``: eigenvalues ``w`` and unit eigenvectors ``V`` (columns).

    Results are always complex (as in JAX; NumPy returns real arrays when every
    eigenvalue is real, with the same values). Derivatives need distinct
    eigenvalues; eigenvectors are defined up to a phase, so differentiate
    phase-free functions of them (``abs(V)``, ``V @ inv(V)``-style projectors).
    The derivatives follow JAX's, including the unit-length normalization.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.array([[0.0, 1.0], [-1.0, 0.0]])       # a rotation: eigenvalues +-i
    >>> np.sort_complex(snp.linalg.eig(A).eigenvalues)
    array([0.-1.j, 0.+1.j])
    >>> A = np.array([[2.0, 1.0], [0.0, 1.0]])
    >>> sl.grad(lambda A: snp.real(snp.linalg.eigvals(A)[0]))(A)   # d w / dA = u v^T (left, right)
    array([[1., 1.],
           [0., 0.]])
    """
    w, v = ops.unpack_eig(ops.eig(_square(a, "eig")))
    return EigResult(w, v)


def eigvals(a):
    """Differentiable ``numpy.linalg.eigvals``: the eigenvalues of a general matrix (complex).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.linalg.eigvals(np.array([[2.0, 0.0], [0.0, 3.0]]))
    array([2.+0.j, 3.+0.j])
    """
    return eig(a).eigenvalues
