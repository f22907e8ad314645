"""Finite-difference weights for any stencil (Fornberg's algorithm)."""

from __future__ import annotations

import numpy as np

__all__ = ["fd_weights"]


def fd_weights(stencil, order):
    """Weights of the finite-difference formula for the ``order``-th derivative on ``stencil``.

    With offsets ``s_k`` (in units of the step ``h``) the formula is
    ``f^(order)(x) ~ sum_k w_k f(x + s_k h) / h**order``; it is exact for
    polynomials of degree below ``len(stencil)``. Computed with Fornberg's
    recursion (stable for any distinct offsets, no Vandermonde solve).

    Parameters
    ----------
    stencil : sequence of float
        Distinct offsets, in any order (e.g. ``[-1, 0, 1]``).
    order : int
        Derivative order, ``0 <= order < len(stencil)``.

    Returns
    -------
    np.ndarray
        One weight per offset, in the stencil's order.

    Examples
    --------
    >>> import slopes as sl
    >>> sl.numeric.fd_weights([-1, 0, 1], 1)
    array([-0.5,  0. ,  0.5])
    >>> sl.numeric.fd_weights([-1, 0, 1], 2)
    array([ 1., -2.,  1.])
    >>> sl.numeric.fd_weights([0, 1, 2], 1)    # one-sided, second-order accurate
    array([-1.5,  2. , -0.5])
    """
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 0:
        raise ValueError(f"fd_weights(): order must be a non-negative integer, got {order!r}")
    order = int(order)
    s = np.asarray(stencil, dtype=float)
    if s.ndim != 1:
        raise ValueError(f"fd_weights(): the stencil must be a 1-D sequence of offsets, got shape {s.shape}")
    n = s.size
    if n <= order:
        raise ValueError(
            f"fd_weights(): a derivative of order {order} needs at least {order + 1} stencil points, "
            f"got {n} ({s.tolist()})"
        )
    if not np.all(np.isfinite(s)):
        raise ValueError(f"fd_weights(): stencil offsets must be finite, got {s.tolist()}")
    if np.unique(s).size != n:
        raise ValueError(f"fd_weights(): stencil offsets must be distinct, got {s.tolist()}")
    # Fornberg (1988), expanded about 0: c[i, m] = weight of s[i] for the m-th derivative
    c = np.zeros((n, order + 1))
    c[0, 0] = 1.0
    c1, c4 = 1.0, s[0]
    for i in range(1, n):
        mn = min(i, order)
        c2, c5, c4 = 1.0, c4, s[i]
        for j in range(i):
            c3 = s[i] - s[j]
            c2 *= c3
            if j == i - 1:
                for m in range(mn, 0, -1):
                    c[i, m] = c1 * (m * c[i - 1, m - 1] - c5 * c[i - 1, m]) / c2
                c[i, 0] = -c1 * c5 * c[i - 1, 0] / c2
            for m in range(mn, 0, -1):
                c[j, m] = (c4 * c[j, m] - m * c[j, m - 1]) / c3
            c[j, 0] = c4 * c[j, 0] / c3
        c1 = c2
    w = c[:, order]
    # exact zeros (e.g. the centre of a symmetric first-derivative stencil) stay zero
    w[np.abs(w) < 1e-14 * np.max(np.abs(w))] = 0.0
    return w
