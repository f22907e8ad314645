"""Quotient tables: every function evaluation a numeric derivative needs, step by step.

A *builder* takes steps ``hs`` of shape ``(n, *x.shape)`` (row j: one step per
coordinate) and, optionally, ``active`` (a boolean per coordinate: the others
are not evaluated and get NaN). It returns a :class:`Table`: the quotients
``D`` and their rounding noise ``N``, both ``(n, *entry_shape)``, the step
``H`` belonging to each entry, the first non-finite evaluation seen in each
row (``{row: (point, value)}``) and, for central first derivatives, the
curvature quotient ``C = (f(x+h) - 2 f(x) + f(x-h)) / h**2`` on the same
evaluations with its noise ``CN`` (the smoothness test watches it).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._common import fun_name
from .complex_step import complex_eval

__all__ = ["Table", "base_steps", "coordinate_builder", "complex_builder", "elementwise_builder", "hessian_builder"]

EPS = np.finfo(np.float64).eps


class Table(NamedTuple):
    """The quotients of one batch of steps (see the module docstring)."""

    D: np.ndarray
    N: np.ndarray
    H: np.ndarray
    bad: dict
    C: np.ndarray | None = None
    CN: np.ndarray | None = None


def base_steps(x, n, ratio=2.0, first=2.0**-3):
    """``n`` decreasing steps per coordinate: powers of two from about ``first * max(|x|, 1)``.

    Powers of two keep ``x + h`` exact in most cases, so the step taken is the step divided by.
    """
    scale = np.maximum(np.abs(x), 1.0)
    h0 = 2.0 ** np.floor(np.log2(scale * first))
    return h0[None] / ratio ** np.arange(n, dtype=float).reshape((n,) + (1,) * x.ndim)


def _eval(f, xp, shape, out_shape, name, bad, j):
    fs = np.asarray(f(xp.reshape(shape)), dtype=np.float64)  # callers hold np.errstate
    if fs.shape != out_shape:
        raise ValueError(
            f"numeric.{name}(): {fun_name(f)} returned shape {fs.shape} at a perturbed point but "
            f"{out_shape} at x; the output shape must not depend on the input's values."
        )
    if j not in bad and not np.all(np.isfinite(fs)):
        bad[j] = (xp.reshape(shape).copy(), fs)
    return fs


def _scalar_at(f, xp, shape, name, bad, j):
    """``f(xp)`` as a Python float (the hot path), the first non-finite value recorded in ``bad``."""
    out = f(xp.reshape(shape))
    try:
        v = float(out)
    except TypeError:  # not a scalar: let _eval explain
        v = float(_eval(f, xp, shape, (), name, bad, j))
    if not math.isfinite(v) and j not in bad:
        bad[j] = (xp.reshape(shape).copy(), np.asarray(v))
    return v


def _is_active(active, d):
    return [True] * d if active is None else np.asarray(active, dtype=bool).reshape(-1).tolist()


def coordinate_builder(f, x, fx, offsets, weights, name, curvature=None):
    """First-derivative quotients along each coordinate: entries ``fx.shape + x.shape``.

    ``curvature``: weights on the same ``offsets`` of a second-derivative quotient, returned as ``C``.
    """
    d, shape, out_shape = x.size, x.shape, fx.shape
    xf = x.reshape(-1)
    curv = curvature or (0.0,) * len(offsets)
    terms = [(s, w, c) for s, w, c in zip(offsets, weights, curv) if w != 0.0 or c != 0.0]
    f0 = float(fx) if out_shape == () else fx

    def build(hs, active=None):
        n = hs.shape[0]
        hf = hs.reshape(n, d).tolist()
        on = _is_active(active, d)
        m = max(1, int(np.prod(out_shape)))
        skipped = (math.nan,) * 4 if out_shape == () else tuple(np.full(out_shape, np.nan) for _ in range(4))
        rows, bad = [], {}
        for j in range(n):
            for i in range(d):
                if not on[i]:
                    rows.append(skipped)
                    continue
                h = hf[j][i]
                acc = mag = cacc = cmag = 0.0
                for s, w, c in terms:  # Python floats for a scalar f: the gradient's hot path
                    if s == 0:
                        fs = f0
                    else:
                        xp = xf.copy()
                        xp[i] += s * h
                        if out_shape == ():
                            fs = _scalar_at(f, xp, shape, name, bad, j)
                        else:
                            fs = _eval(f, xp, shape, out_shape, name, bad, j)
                    a = abs(fs)
                    acc, mag = acc + w * fs, mag + abs(w) * a
                    cacc, cmag = cacc + c * fs, cmag + abs(c) * a
                rows.append((acc / h, EPS * mag / h, cacc / h**2, EPS * cmag / h**2))
        A = np.moveaxis(np.array(rows, dtype=float).reshape((n, d, 4, m)), 2, 0)
        D, N, C, CN = A
        hf = np.asarray(hf)
        H = np.broadcast_to(hf[:, :, None], (n, d, m))
        D, N, C, CN, H = (_last(A, out_shape, shape) for A in (D, N, C, CN, H))
        if curvature is None:
            return Table(D, N, H, bad)
        return Table(D, N, H, bad, C, CN)

    return build


def _last(A, out_shape, shape):
    """(n, d, *out) -> (n, *out, *shape)."""
    n, d = A.shape[:2]
    A = A.reshape(n, d, -1)
    return np.moveaxis(A, 1, -1).reshape((n,) + tuple(out_shape) + tuple(shape))


def complex_builder(f, x, fx, name):
    """Complex-step quotients along each coordinate: entries ``fx.shape + x.shape``."""
    d, shape, out_shape = x.size, x.shape, fx.shape
    xf = x.reshape(-1).astype(complex)

    def build(hs, active=None):
        n = hs.shape[0]
        hf = hs.reshape(n, d)
        D = np.empty((n, d) + out_shape)
        bad = {}
        for j in range(n):
            for i in range(d):
                xp = xf.copy()
                xp[i] += 1j * hf[j, i]
                fs = complex_eval(f, xp.reshape(shape), name)
                if fs.shape != out_shape:
                    raise ValueError(
                        f"numeric.{name}(): {fun_name(f)} changed its output shape on complex input"
                    )
                if j not in bad and not np.all(np.isfinite(fs)):
                    bad[j] = (xp.reshape(shape).copy(), fs)
                D[j, i] = fs.imag / hf[j, i]
        H = np.broadcast_to(hf[:, :, None], (n, d, max(1, int(np.prod(out_shape)))))
        D = _last(D, out_shape, shape)
        return Table(D, 8 * EPS * np.abs(D), _last(H, out_shape, shape), bad)

    return build


def elementwise_builder(f, x, fx, offsets, weights, order, name, curvature=None):
    """Quotients of a scalar (elementwise) function, all entries perturbed at once.

    ``active`` is ignored: one evaluation serves every entry anyway.
    """
    curv = curvature or (0.0,) * len(offsets)
    terms = [(s, w, c) for s, w, c in zip(offsets, weights, curv) if w != 0.0 or c != 0.0]
    x0 = x[()] if x.ndim == 0 else x  # a NumPy scalar, as x + s * h would give

    def build(hs, active=None):
        n = hs.shape[0]
        D, N, C, CN = (np.empty(hs.shape) for _ in range(4))
        bad = {}
        for j in range(n):
            h = hs[j] if x.ndim else hs[j][()]
            acc = mag = cacc = cmag = 0.0
            for s, w, c in terms:
                fs = fx if s == 0 else _eval(f, x0 + s * h, x.shape, x.shape, name, bad, j)
                a = np.abs(fs)
                acc, mag = acc + w * fs, mag + abs(w) * a
                cacc, cmag = cacc + c * fs, cmag + abs(c) * a
            D[j], N[j] = acc / h**order, EPS * mag / h**order
            C[j], CN[j] = cacc / h**2, EPS * cmag / h**2
        if curvature is None:
            return Table(D, N, hs, bad)
        return Table(D, N, hs, bad, C, CN)

    return build


def hessian_builder(f, x, fx, sign, name):
    """Second-derivative quotients for every pair of coordinates: entries ``x.shape + x.shape``.

    ``sign=0``: central, ``(f(++) - f(+-) - f(-+) + f(--)) / (4 h_i h_k)`` (error in even powers);
    ``sign=+1/-1``: forward/backward, ``(f(x + h_i + h_k) - f(x + h_i) - f(x + h_k) + f(x)) / (h_i h_k)``.
    A pair is evaluated when both its coordinates are active.
    """
    d, shape = x.size, x.shape
    xf = x.reshape(-1)
    f0 = float(fx)

    def at(j, bad, *moves):
        xp = xf.copy()
        for i, dx in moves:
            xp[i] += dx
        return _scalar_at(f, xp, shape, name, bad, j)

    def build(hs, active=None):
        n = hs.shape[0]
        hf = hs.reshape(n, d)
        on = _is_active(active, d)
        D, N, H = (np.full((n, d, d), np.nan) for _ in range(3))
        bad = {}
        for j in range(n):
            h = hf[j].tolist()
            if sign:
                g = [at(j, bad, (i, sign * h[i])) if on[i] else math.nan for i in range(d)]
            for i in range(d):
                for k in range(i, d):
                    if not (on[i] and on[k]):
                        continue
                    if sign == 0:
                        if i == k:
                            vals = (at(j, bad, (i, 2 * h[i])), -2 * f0, at(j, bad, (i, -2 * h[i])))
                        else:
                            vals = (
                                at(j, bad, (i, h[i]), (k, h[k])),
                                -at(j, bad, (i, h[i]), (k, -h[k])),
                                -at(j, bad, (i, -h[i]), (k, h[k])),
                                at(j, bad, (i, -h[i]), (k, -h[k])),
                            )
                        denom = 4 * h[i] * h[k]
                    else:
                        if i == k:
                            vals = (at(j, bad, (i, 2 * sign * h[i])), -2 * g[i], f0)
                        else:
                            vals = (at(j, bad, (i, sign * h[i]), (k, sign * h[k])), -g[i], -g[k], f0)
                        denom = h[i] * h[k]
                    D[j, i, k] = D[j, k, i] = sum(vals) / denom
                    N[j, i, k] = N[j, k, i] = EPS * sum(abs(v) for v in vals) / denom
                    H[j, i, k] = H[j, k, i] = math.sqrt(h[i] * h[k])
        s2 = shape + shape
        return Table(D.reshape((n,) + s2), N.reshape((n,) + s2), H.reshape((n,) + s2), bad)

    return build
