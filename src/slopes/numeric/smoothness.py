"""Which quotients to trust: the smooth error model, tested on the quotients themselves.

Richardson extrapolation assumes quotients at halving steps behave like
``Q(h) = Q + c h**p + ...``: successive differences shrink by about ``2**p``
per halving. A kink (ReLU, abs, max) inside a stencil breaks this: the
central quotient of ``|x - d|`` at ``h > d`` is ``d / h``, so its successive
differences *grow* by 2 per halving, and the one-sided asymmetry
``(f(x+h) - 2 f(x) + f(x-h)) / h**2`` grows like ``1/h`` even when the kink
sits exactly at ``x`` (where the central quotient itself is constant and
looks converged). A step is trusted only after the last row where either
sequence grows instead of shrinking; rows before it are left out of the
extrapolation and, when too few trusted rows remain, smaller steps are taken.
"""

from __future__ import annotations

import numpy as np

__all__ = ["trusted_from"]

SLACK = 2.0  # a difference may shrink this much slower than 2**-p before the model counts as broken
NOISE_WEIGHT = 16.0  # differences within this many rounding units of the values carry no information


def trusted_from(sequences, ratio, depth):
    """Per entry, the first row from which every sequence follows its smooth error model.

    Parameters
    ----------
    sequences : list of (Q, noise, p)
        ``Q`` and ``noise`` of shape ``(n, ...)`` (row ``j``: step ``h0 / ratio**j``),
        ``p`` the leading error exponent of ``Q``. Non-finite entries count as broken.
    ratio : float
        Step ratio between rows (> 1).
    depth : ndarray of int
        Rows evaluated per entry (shape ``Q.shape[1:]``); later rows are ignored.

    Returns
    -------
    ndarray of int
        The first trusted row per entry (the last row is never suspect by itself, so
        a broken model shows as fewer trusted rows; ``depth`` when the last row is not finite).

    Examples
    --------
    >>> h = 2.0 ** -np.arange(3, 11)
    >>> smooth = (np.exp(h) - np.exp(-h)) / (2 * h)            # exp'(0): differences shrink by 4
    >>> kink = (np.abs(h + 1e-9) - np.abs(-h + 1e-9)) / (2 * h)  # |x| near 0: they grow by 2
    >>> Q = np.stack([smooth, kink], axis=1)
    >>> trusted_from([(Q, 1e-16 / h[:, None] * np.ones(2), 2)], 2.0, np.array([8, 8]))
    array([0, 7])
    """
    first = np.zeros(sequences[0][0].shape[1:], dtype=int)
    for Q, noise, p in sequences:
        first = np.maximum(first, _first_trusted(Q, noise, ratio, p, depth))
    return first


def _first_trusted(Q, noise, ratio, p, depth):
    n = Q.shape[0]
    rows = np.arange(n).reshape((n,) + (1,) * (Q.ndim - 1))
    evaluated = rows < depth
    broken = evaluated & ~np.isfinite(Q)  # a non-finite row: nothing before it is trusted either
    with np.errstate(invalid="ignore", over="ignore"):
        d = np.abs(Q[:-1] - Q[1:])  # d[j]: between rows j and j + 1
        floor = NOISE_WEIGHT * (np.abs(noise[:-1]) + np.abs(noise[1:]))
        grows = (d[1:] > SLACK * ratio**-p * d[:-1]) & (d[1:] > floor[1:])
    # a difference that grows breaks the model at rows j + 1 and j + 2 of d[1:][j]; the later one is
    # the first clean row, so everything up to and including row j + 1 is suspect
    grows &= evaluated[2:]
    suspect = np.zeros(Q.shape, dtype=bool)
    suspect[1:-1] |= grows
    suspect |= broken
    last = np.where(suspect.any(axis=0), n - 1 - np.argmax(suspect[::-1], axis=0), -1)
    return np.minimum(last + 1, depth)
