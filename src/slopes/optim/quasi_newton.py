"""Quasi-Newton building blocks: the BFGS inverse-Hessian update and L-BFGS memory.

Both work with pairs ``s_k = x_{k+1} - x_k`` and ``y_k = g_{k+1} - g_k`` and
maintain an approximation ``H`` of the *inverse* Hessian, so that the search
direction is ``d = -H g`` (Nocedal & Wright, *Numerical Optimization*, 2nd ed.,
chapters 6 and 7).

Curvature condition. The BFGS update keeps ``H`` positive definite exactly
when ``y . s > 0``; a line search satisfying the (strong) Wolfe conditions
guarantees it (N&W 6.7), but a backtracking search or rounding may not. A pair
with ``y . s <= eps * |s| |y|`` (``eps = sqrt(machine eps)`` by default, a
scale-free test) is **skipped**: ``H`` is left unchanged and the caller is told.
Skipping (rather than Powell damping, which is designed for the direct Hessian
approximation ``B`` in constrained methods) keeps every stored pair a true
secant pair.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = ["BFGSUpdate", "LBFGSMemory", "bfgs_update", "initial_gamma"]

_SQRT_EPS = math.sqrt(np.finfo(float).eps)


class BFGSUpdate(NamedTuple):
    """The outcome of :func:`bfgs_update`.

    Attributes
    ----------
    Hinv : np.ndarray
        The updated inverse-Hessian approximation (a new, exactly symmetric
        array), or the input
        (scaled to ``gamma I`` if ``initial_scaling`` was asked) when skipped.
    skipped : bool
        Whether the pair failed the curvature test and the update was skipped.
    curvature : float
        ``y . s``.
    reason : str
        ``""`` when updated; otherwise why the pair was skipped.
    """

    Hinv: np.ndarray
    skipped: bool
    curvature: float
    reason: str


def _pair(s, y, n=None):
    s = np.asarray(s)
    y = np.asarray(y)
    for name, a in (("s", s), ("y", y)):
        if a.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array (got shape {a.shape}); flatten it first")
        if a.dtype.kind not in "fiu":
            raise ValueError(f"{name} must be a real float array (got dtype {a.dtype})")
    if s.shape != y.shape:
        raise ValueError(f"s and y must have the same shape (got s {s.shape}, y {y.shape})")
    if n is not None and s.shape[0] != n:
        raise ValueError(f"s and y must have length {n}, like the earlier pairs (got length {s.shape[0]})")
    return s.astype(np.float64, copy=False), y.astype(np.float64, copy=False)


def _curvature_ok(s, y, eps):
    """(y.s, None) if the pair may be used, else (y.s, reason)."""
    ys, ss, yy = float(s @ y), float(s @ s), float(y @ y)
    # |s|^2 and |y|^2 are finite exactly when every entry is (short of overflow)
    if not (math.isfinite(ss) and math.isfinite(yy) and math.isfinite(ys)):
        return ys, "s or y has non-finite entries"
    bound = eps * math.sqrt(ss) * math.sqrt(yy)
    if not ys > bound:
        return ys, f"curvature condition fails: y.s = {ys:.3g} <= eps |s| |y| = {bound:.3g}"
    return ys, None


def initial_gamma(s, y) -> float:
    """The scaling ``gamma = (s @ y) / (y @ y)`` of the initial inverse Hessian ``H0 = gamma I``.

    ``gamma`` is the inverse of a Rayleigh quotient of the (average) Hessian
    along ``s``, so ``gamma I`` has the size of the true inverse Hessian
    (N&W eq. 6.20 for BFGS, 7.20 for L-BFGS).

    Examples
    --------
    >>> A = np.diag([2.0, 8.0])
    >>> s = np.array([1.0, 0.0])
    >>> initial_gamma(s, A @ s)
    0.5
    """
    s, y = _pair(s, y)
    yy = float(y @ y)
    if not yy > 0:
        raise ValueError("y must be nonzero to compute gamma = s.y / y.y")
    return float(s @ y) / yy


def bfgs_update(Hinv, s, y, *, initial_scaling: bool = False, eps: float = _SQRT_EPS) -> BFGSUpdate:
    """BFGS update of an inverse-Hessian approximation (N&W eq. 6.17).

    ``H+ = (I - rho s y^T) H (I - rho y s^T) + rho s s^T`` with
    ``rho = 1 / (y . s)``. It satisfies the secant condition ``H+ y = s`` and
    keeps ``H`` symmetric positive definite when ``y . s > 0``. A pair with
    ``y . s <= eps |s| |y|`` is skipped (``H`` returned unchanged,
    ``skipped=True``).

    Parameters
    ----------
    Hinv : array_like, shape (n, n)
        The current approximation (symmetric positive definite). Not modified.
    s, y : array_like, shape (n,)
        The step ``x_{k+1} - x_k`` and the gradient change ``g_{k+1} - g_k``.
    initial_scaling : bool
        Replace ``Hinv`` by ``gamma I`` with ``gamma = s.y / y.y`` before
        updating (N&W 6.20). Use it for the first update, when ``Hinv`` is
        the arbitrary starting guess ``I`` that produced the first step.
    eps : float
        Relative tolerance of the curvature test.

    Returns
    -------
    BFGSUpdate
        ``(Hinv, skipped, curvature, reason)``.

    Raises
    ------
    ValueError
        For shape mismatches or non-real arrays.

    Examples
    --------
    >>> A = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> s = np.array([1.0, 0.0]); y = A @ s
    >>> r = bfgs_update(np.eye(2), s, y)
    >>> r.skipped, bool(np.allclose(r.Hinv @ y, s))   # the secant condition
    (False, True)
    >>> bfgs_update(np.eye(2), s, -y).reason
    'curvature condition fails: y.s = -2 <= eps |s| |y| = 3.06e-08'
    """
    Hinv = np.asarray(Hinv)
    if Hinv.ndim != 2 or Hinv.shape[0] != Hinv.shape[1]:
        raise ValueError(f"Hinv must be a square (n, n) matrix (got shape {Hinv.shape})")
    s, y = _pair(s, y, Hinv.shape[0])
    if Hinv.dtype == object or np.iscomplexobj(Hinv) or not np.issubdtype(Hinv.dtype, np.number):
        raise ValueError(f"Hinv must be a real float array (got dtype {Hinv.dtype})")
    Hinv = Hinv.astype(np.float64, copy=False)
    ys, why = _curvature_ok(s, y, eps)
    if why is not None:
        return BFGSUpdate(Hinv, True, ys, why)
    if initial_scaling:
        Hinv = (ys / float(y @ y)) * np.eye(s.shape[0])
    rho = 1.0 / ys
    Hy = Hinv @ y
    yHy = float(y @ Hy)
    H_new = Hinv - rho * (np.outer(s, Hy) + np.outer(Hy, s)) + (rho * rho * yHy + rho) * np.outer(s, s)
    H_new = 0.5 * (H_new + H_new.T)  # exactly symmetric, even if Hinv was only so to rounding
    return BFGSUpdate(H_new, False, ys, "")


class LBFGSMemory:
    """The last ``m`` curvature pairs of L-BFGS, and the direction they give.

    ``direction(g)`` returns ``-H g`` where ``H`` is the BFGS matrix obtained by
    applying the stored pairs, oldest first, to ``H0 = gamma I`` with
    ``gamma = s_k . y_k / y_k . y_k`` from the newest pair (N&W eq. 7.20). It
    is the matrix of the two-loop recursion (N&W Algorithm 7.4), applied in its
    compact form (Byrd, Nocedal & Schnabel 1994, eq. 3.1): with ``W`` the rows
    ``s_i``, ``y_i`` (and ``g``), ``z = W g`` gives every ``s_i . g`` and ``y_i . g`` in one
    product, a few ``m``-sized steps with ``R^-1`` (``R`` the upper triangle of
    ``(s_i . y_j)``), ``D = diag(s_i . y_i)`` and ``(y_i . y_j)`` turn them into the
    coefficients ``c`` of the rows, and ``d = c W`` is one more product: whatever ``m``,
    a direction is three products with ``W``, and a new pair two. ``R^-1`` is applied
    as a factor (never multiplied into ``R^-T (D + gamma Y Y^T) R^-1``), which keeps the
    direction within a few units of rounding of the two-loop recursion's.

    The pairs live in a ring of ``m + 1`` slots of one preallocated buffer (the
    spare slot receives the next pair, so a rejected pair never overwrites a stored
    one); the small matrices are kept in slot order, with zero rows and columns for
    empty slots, so dropping the oldest pair zeroes one column of ``R^-T`` and moves
    nothing.

    Parameters
    ----------
    m : int
        Number of pairs kept (3 to 20 is usual); the oldest is dropped first.
    eps : float
        Relative tolerance of the curvature test: :meth:`push` skips pairs with
        ``y . s <= eps |s| |y|``.

    Examples
    --------
    >>> A = np.diag([1.0, 4.0])
    >>> mem = LBFGSMemory(m=5)
    >>> mem.push(np.array([1.0, 0.0]), np.array([1.0, 0.0]))
    True
    >>> mem.push(np.array([0.0, 1.0]), np.array([0.0, 4.0]))
    True
    >>> mem.direction(np.array([1.0, 4.0]))      # two pairs in 2-D: exactly -A^{-1} g
    array([-1., -1.])
    >>> mem.push(np.array([1.0, 0.0]), np.array([-1.0, 0.0])), len(mem)   # y.s < 0: skipped
    (False, 2)
    """

    def __init__(self, m: int = 10, *, eps: float = _SQRT_EPS):
        if int(m) != m or m < 1:
            raise ValueError(f"m must be a positive integer (got {m})")
        if not (math.isfinite(eps) and eps >= 0):
            raise ValueError(f"eps must be a finite non-negative number (got {eps})")
        self.m = int(m)
        self.eps = float(eps)
        self.skipped = 0
        """Number of pairs rejected by :meth:`push` so far."""
        self._n: int | None = None
        self._W = None  # (2 (m+1) + 1, n): s slots, y slots, and the gradient of the last direction
        self.clear()

    def __len__(self) -> int:
        return len(self._order)

    def __repr__(self) -> str:
        return f"LBFGSMemory(m={self.m}, stored={len(self)}, skipped={self.skipped})"

    @property
    def pairs(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The stored ``(s, y)`` pairs, oldest first."""
        m1 = self.m + 1
        return [(self._W[j].copy(), self._W[m1 + j].copy()) for j in self._order]

    @property
    def gamma(self) -> float:
        """``s.y / y.y`` of the newest pair (``1.0`` when empty): ``H0 = gamma I``."""
        return -float(self._c[-1])

    def clear(self) -> None:
        """Forget all pairs (e.g. to restart after a failed line search)."""
        m1 = self.m + 1
        if self._W is not None:  # a failed search may have left an overflowed trial step in a
            self._W[...] = 0.0  # slot; every row reaches z = W g, where 0 * inf would be nan
        self._order: list[int] = []  # occupied slots, oldest first
        self._free = 0  # the slot the next pair is written to
        Rt = np.zeros((m1, m1))  # R^-T in slot order (zero rows/columns: empty slots)
        YY = np.zeros((m1, m1))  # (y_i . y_j), valid on occupied slots
        self._c = np.zeros(2 * m1 + 1)  # the coefficients of the rows of W in the direction
        self._c[-1] = -1.0  # -gamma: H0 = I until a pair is stored
        # what _direction and _commit work on, in one tuple: R^-T, Y Y^T and its column
        # views (writing through a view made once is the cheapest way NumPy offers),
        # diag(D), and the coefficient vector with its S and Y parts
        # (rows and columns of Y Y^T, and rows and columns of R^-T, as views too)
        self._parts = (Rt, YY, list(YY), list(YY.T), np.zeros(m1), self._c,
                       self._c[:m1], self._c[m1:2 * m1], list(Rt), list(Rt.T))
        # H0 = gamma I, the identity until a pair is stored; a 0-d array, which NumPy
        # multiplies by with less conversion work than a Python float (the same product)
        self._gamma = np.ones(())
        # the m-sized intermediates of _direction and _commit (u, w, D u, the new column of
        # R^-1 before scaling) and the scale -1 / y.s: written in place, never allocated
        self._scratch = (np.zeros(m1), np.zeros(m1), np.zeros(m1), np.zeros(m1), np.zeros(()))

    def _buffers(self, n):
        if self._W is None:
            self._n = n
            W = self._W = np.zeros((2 * (self.m + 1) + 1, n))
            m1 = self.m + 1
            # views made once (a list lookup costs less than NumPy's indexing): each row of W,
            # and z = W g and W y with their S and Y parts, filled by W.dot(., out=)
            self._rows = list(W)
            # the direction has its own buffer: written into a row of W, d = c W would overlap
            # its input, which NumPy resolves with a temporary and a copy at every direction
            self._d = np.zeros(n)
            z, wy = np.zeros(2 * m1 + 1), np.zeros(2 * m1 + 1)
            self._products = (z, z[:m1], z[m1:2 * m1], wy, wy[:m1], wy[m1:2 * m1])
        elif n != self._n:
            raise ValueError(f"s, y and g must have length {self._n}, like the earlier pairs (got length {n})")
        return self._W

    def push(self, s, y) -> bool:
        """Store the pair ``(s, y)``; return ``False`` (and store nothing) if ``y.s`` is too small.

        When ``m`` pairs are already stored the oldest is dropped.

        Raises
        ------
        ValueError
            If ``s`` and ``y`` differ in shape or in length from earlier pairs.
        """
        s, y = _pair(s, y, self._n)
        W = self._buffers(s.shape[0])
        W[self._free] = s
        W[self.m + 1 + self._free] = y
        return self._commit()[0]

    def _commit(self, x_new=None, x=None, g_new=None, g=None):
        """Take the pair in the free slot into ``K`` (or reject it); returns ``(stored, |s|)``.

        With ``g_new`` and ``g`` (flat float arrays of the stored length, unchecked: the
        method's own) it first writes ``y = g_new - g``, and with ``x_new`` and ``x`` also
        ``s = x_new - x`` (else ``s`` is already in the free slot's row ``_rows[_free]``, whose
        coefficient in ``c`` is zero, where a line search wrote its step ``t d``).
        """
        W, j, m1, rows = self._W, self._free, self.m + 1, self._rows
        s, y = rows[j], rows[m1 + j]
        if x_new is not None:
            np.subtract(x_new, x, s)
        if g_new is not None:
            np.subtract(g_new, g, y)
        _, _, _, Wy, Wy_s, yy_new = self._products
        W.dot(y, Wy)  # (s_i . y) and (y_i . y) for every slot at once
        ys, yy, ss = float(Wy[j]), float(Wy[m1 + j]), float(s.dot(s))
        snorm = math.sqrt(ss) if ss >= 0 else math.nan
        # |s|^2 and |y|^2 are finite exactly when every entry is (short of overflow); being
        # >= 0 or nan, each is finite exactly when it is below inf (no call needed)
        finite = ss < math.inf and yy < math.inf
        if not (finite and ys > self.eps * snorm * math.sqrt(yy)):
            self.skipped += 1
            if not finite:
                W[j] = 0.0  # a non-finite row would reach every direction through 0 * inf
                W[m1 + j] = 0.0
            return False, snorm
        Rt, _, YYrows, YYcols, dvec, c, _, _, Rt_rows, Rt_cols = self._parts
        YYrows[j][...] = yy_new
        YYcols[j][...] = yy_new
        dvec[j] = ys
        # the new pair is the newest: R grows by the column (s_i . y) over the older pairs,
        # R^-1 by the column -R^-1 (s_i . y) / y.s, which is row j of R^-T
        _, _, _, column, scale = self._scratch
        scale[()] = -1.0 / ys
        np.multiply(Wy_s.dot(Rt, column), scale, Rt_rows[j])
        Rt[j, j] = 1.0 / ys
        order = self._order
        order.append(j)
        if len(order) > self.m:  # drop the oldest: the trailing block of R^-1 is the inverse of
            self._free = order.pop(0)  # R's trailing block, and the oldest column of R^-1 is
            Rt_cols[self._free][...] = 0.0  # zero above its diagonal: zeroing its row (a column of R^-T) is enough
        else:
            self._free = len(order)
        c[-1] = -ys / yy  # -gamma
        self._gamma[()] = ys / yy
        return True, snorm

    def _direction(self, g):
        """``(d, g . d)`` with ``d = -H g``, for a flat float ``g`` of the stored length (unchecked).

        ``d`` is the memory's own buffer, valid until the next direction.
        """
        W = self._W if self._W is not None else self._buffers(g.shape[0])
        rows = self._rows
        rows[-1][...] = g
        z, zS, zY, _, _, _ = self._products
        W.dot(g, z)  # (s_i . g), (y_i . g), g . g
        Rt, YY, _, _, dvec, c, cS, cY, _, _ = self._parts
        gamma = self._gamma
        # -H g = -gamma g + S^T R^-T w + gamma Y^T u   (BNS eq. 3.1 multiplied out), with
        # u = R^-1 S g and w = gamma (Y g - Y Y^T u) - D u
        u, w, du, _, _ = self._scratch
        zS.dot(Rt, u)
        YY.dot(u, w)
        np.subtract(zY, w, w)
        np.multiply(w, gamma, w)
        np.subtract(w, np.multiply(dvec, u, du), w)
        Rt.dot(w, cS)
        np.multiply(u, gamma, cY)
        d = self._d
        c.dot(W, d)
        return d, float(c.dot(z))

    def direction(self, g) -> np.ndarray:
        """The L-BFGS direction ``-H g`` (N&W Algorithm 7.4, in compact form).

        Raises
        ------
        ValueError
            If ``g`` is not 1-D or its length differs from the stored pairs'.
        """
        g = np.asarray(g)
        if g.ndim != 1:
            raise ValueError(f"g must be a 1-D array (got shape {g.shape}); flatten it first")
        if g.dtype.kind not in "fiu":
            raise ValueError(f"g must be a real float array (got dtype {g.dtype})")
        if self._n is not None and g.shape[0] != self._n:
            raise ValueError(f"g must have length {self._n}, like the stored pairs (got length {g.shape[0]})")
        return self._direction(g.astype(np.float64, copy=False))[0].copy()
