"""Quotient tables: every function evaluation a numeric derivative needs, step by step.

A *builder* takes steps ``hs`` of shape ``(n, *x.shape)`` (row j: one step per
coordinate) and returns the quotients ``D`` and their rounding noise ``N``,
both ``(n, *entry_shape)``, the step ``H`` belonging to each entry, and the
first non-finite evaluation seen in each row (``{row: (point, value)}``).
"""

from __future__ import annotations

import math

import numpy as np

from ._common import fun_name
from .complex_step import complex_eval

__all__ = ["base_steps", "coordinate_builder", "complex_builder", "elementwise_builder", "hessian_builder"]

EPS = np.finfo(np.float64).eps


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


def coordinate_builder(f, x, fx, offsets, weights, name):
    """First-derivative quotients along each coordinate: entries ``fx.shape + x.shape``."""
    d, shape, out_shape = x.size, x.shape, fx.shape
    xf = x.reshape(-1)
    terms = [(s, w) for s, w in zip(offsets, weights) if w != 0.0]

    def build(hs):
        if out_shape == ():
            return build_scalar(hs)
        n = hs.shape[0]
        hf = hs.reshape(n, d)
        D = np.empty((n, d) + out_shape)
        N = np.empty((n, d) + out_shape)
        bad = {}
        for j in range(n):
            for i in range(d):
                h = hf[j, i]
                acc = 0.0
                mag = 0.0
                for s, w in terms:
                    if s == 0:
                        fs = fx
                    else:
                        xp = xf.copy()
                        xp[i] += s * h
                        fs = _eval(f, xp, shape, out_shape, name, bad, j)
                    acc = acc + w * fs
                    mag = mag + abs(w) * np.abs(fs)
                D[j, i] = acc / h
                N[j, i] = EPS * mag / h
        H = np.broadcast_to(hf[:, :, None], (n, d, max(1, int(np.prod(out_shape)))))
        return _last(D, out_shape, shape), _last(N, out_shape, shape), _last(H, out_shape, shape), bad

    f0 = float(fx) if out_shape == () else None

    def build_scalar(hs):
        """The gradient's hot path: Python floats, one copy of x per evaluation."""
        n = hs.shape[0]
        hf = hs.reshape(n, d).tolist()
        D = [[0.0] * d for _ in range(n)]
        N = [[0.0] * d for _ in range(n)]
        bad = {}
        for j in range(n):
            Dj, Nj, hj = D[j], N[j], hf[j]
            for i in range(d):
                h = hj[i]
                acc = mag = 0.0
                for s, w in terms:
                    if s == 0:
                        v = f0
                    else:
                        xp = xf.copy()
                        xp[i] += s * h
                        out = f(xp.reshape(shape))
                        try:
                            v = float(out)
                        except TypeError:  # not a scalar: let _eval explain
                            v = float(_eval(f, xp, shape, out_shape, name, bad, j))
                        if not math.isfinite(v) and j not in bad:
                            bad[j] = (xp.reshape(shape).copy(), np.asarray(v))
                    acc += w * v
                    mag += abs(w * v)
                Dj[i] = acc / h
                Nj[i] = EPS * mag / h
        return np.array(D).reshape(hs.shape), np.array(N).reshape(hs.shape), hs, bad

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

    def build(hs):
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
        return D, 8 * EPS * np.abs(D), _last(H, out_shape, shape), bad

    return build


def elementwise_builder(f, x, fx, offsets, weights, order, name):
    """Quotients of a scalar (elementwise) function, all entries perturbed at once."""
    terms = [(s, w) for s, w in zip(offsets, weights) if w != 0.0]

    def build(hs):
        if x.ndim == 0:
            return build_scalar(hs)
        n = hs.shape[0]
        D = np.empty(hs.shape)
        N = np.empty(hs.shape)
        bad = {}
        for j in range(n):
            h = hs[j]
            acc = 0.0
            mag = 0.0
            for s, w in terms:
                fs = fx if s == 0 else _eval(f, x + s * h, x.shape, x.shape, name, bad, j)
                acc = acc + w * fs
                mag = mag + abs(w) * np.abs(fs)
            D[j] = acc / h**order
            N[j] = EPS * mag / h**order
        return D, N, hs, bad

    x0 = x[()] if x.ndim == 0 else None  # a NumPy scalar, as x + s * h would give
    f0 = float(fx) if x.ndim == 0 else None

    def build_scalar(hs):
        D, N, bad = [], [], {}
        for j, h in enumerate(hs.tolist()):
            acc = mag = 0.0
            for s, w in terms:
                if s == 0:
                    v = f0
                else:
                    out = f(x0 + s * h)
                    try:
                        v = float(out)
                    except TypeError:  # not a scalar: let _eval explain
                        v = float(_eval(f, x0 + s * h, (), (), name, bad, j))
                    if not math.isfinite(v) and j not in bad:
                        bad[j] = (x0 + s * h, np.asarray(v))
                acc += w * v
                mag += abs(w * v)
            D.append(acc / h**order)
            N.append(EPS * mag / h**order)
        return np.array(D), np.array(N), hs, bad

    return build


def hessian_builder(f, x, fx, sign, name):
    """Second-derivative quotients for every pair of coordinates: entries ``x.shape + x.shape``.

    ``sign=0``: central, ``(f(++) - f(+-) - f(-+) + f(--)) / (4 h_i h_k)`` (error in even powers);
    ``sign=+1/-1``: forward/backward, ``(f(x + h_i + h_k) - f(x + h_i) - f(x + h_k) + f(x)) / (h_i h_k)``.
    """
    d, shape = x.size, x.shape
    xf = x.reshape(-1)
    f0 = float(fx)

    def at(j, bad, *moves):
        xp = xf.copy()
        for i, dx in moves:
            xp[i] += dx
        out = f(xp.reshape(shape))
        try:
            v = float(out)
        except TypeError:  # not a scalar: let _eval explain
            v = float(_eval(f, xp, shape, (), name, bad, j))
        if not math.isfinite(v) and j not in bad:
            bad[j] = (xp.reshape(shape).copy(), np.asarray(v))
        return v

    def build(hs):
        n = hs.shape[0]
        hf = hs.reshape(n, d)
        D = np.empty((n, d, d))
        N = np.empty((n, d, d))
        H = np.empty((n, d, d))
        bad = {}
        for j in range(n):
            h = hf[j].tolist()
            if sign:
                g = [at(j, bad, (i, sign * h[i])) for i in range(d)]
            for i in range(d):
                for k in range(i, d):
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
        return D.reshape((n,) + s2), N.reshape((n,) + s2), H.reshape((n,) + s2), bad

    return build
