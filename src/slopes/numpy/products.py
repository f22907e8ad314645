"""Products and matrix structure: matmul, dot, einsum, trace, diag, triu, kron, ..."""

from __future__ import annotations

from ..core.ops.linalg import matmul as _matmul
from ._wrap import asarray_args

__all__ = ["matmul"]


def matmul(a, b):
    """Differentiable ``numpy.matmul`` (the ``@`` operator), with stacks and 1-D operands.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> sl.grad(lambda x: snp.sum(snp.matmul(A, x)))(np.array([1.0, 1.0]))
    array([4., 6.])
    """
    a, b = asarray_args((a, b))
    return _matmul(a, b)
