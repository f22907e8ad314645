"""Seeded space-filling samples in a box (private to :mod:`slopes.analysis`)."""

from __future__ import annotations

import numpy as np


def box_samples(lo: np.ndarray, hi: np.ndarray, n: int, seed) -> np.ndarray:
    """``n`` scrambled-Halton points in the box ``[lo, hi]``, shape ``(n, d)``."""
    from scipy.stats import qmc  # here: scipy.stats costs most of `import slopes` otherwise

    return qmc.scale(qmc.Halton(d=lo.size, scramble=True, seed=seed).random(n), lo, hi)


def box_pairs(lo: np.ndarray, hi: np.ndarray, n: int, seed) -> tuple[np.ndarray, np.ndarray]:
    """``n`` independent uniform pairs ``(x, y)`` in the box, each of shape ``(n, d)``."""
    rng = np.random.default_rng(seed)
    return rng.uniform(lo, hi, size=(n, lo.size)), rng.uniform(lo, hi, size=(n, lo.size))
