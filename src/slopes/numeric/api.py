"""Numeric derivative, gradient, Jacobian and Hessian, with automatic steps and error estimates."""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from .._display import Card, brief_repr, card_html
from ._common import METHODS, NonFiniteError, as_point, call, check_finite, fun_name
from .quotients import stencil
from .richardson import EPS, NOISE, extrapolate
from .smoothness import trusted_from
from .complex_points import on_complex
from .trees import on_trees
from .steps import Table, base_steps, complex_builder, coordinate_builder, elementwise_builder, hessian_builder
from .weights import fd_weights

__all__ = ["Estimate", "derivative", "grad", "jacobian", "hessian"]

N_STEPS = 8  # automatic steps: h0 ~ max(|x|, 1) / 8 halved 7 times, then Richardson
MIN_VALID = 6  # trusted steps each entry needs (else more, smaller steps on its coordinate)
MIN_EXTENSION = 4  # steps added in the first round at least, doubling each round (4, 8, 16)
MAX_EXTENSIONS = 3  # rounds of smaller steps near a domain edge or a kink: down to h0 / 2**35
COMPLEX_STEP = 1e-20


class Estimate(NamedTuple):
    """A numeric derivative with ``full_output=True``.

    ``value`` is the derivative, ``error`` an estimate of its absolute error
    entry by entry (same shape), ``step`` the step each entry was computed
    with (same shape; for Hessians ``sqrt(h_i h_k)``). ``kink`` is True where
    the quotients never settled into the smooth error model even at the
    smallest automatic steps (about ``2**-31`` of the first): a point of
    non-differentiability lies within that distance, and ``error`` was
    widened to the spread of the one-sided slopes.
    """

    value: np.ndarray
    error: np.ndarray
    step: np.ndarray
    kink: np.ndarray | None = None

    __repr__ = brief_repr

    def _card(self) -> Card:
        n_kink = 0 if self.kink is None else int(np.count_nonzero(self.kink))
        if n_kink:
            verdict, status = f"kink at {n_kink} entr{'y' if n_kink == 1 else 'ies'}: error widened", "warn"
        else:
            verdict, status = f"max error ~ {float(np.max(self.error, initial=0.0)):.2g}", "info"
        rows = [("value", self.value), ("error estimate", self.error), ("step", self.step)]
        return Card(verdict, status, "numeric derivative (finite differences)", rows)

    _repr_html_ = card_html


def _check_method(name, method, first_only):
    if method not in METHODS:
        raise ValueError(f"numeric.{name}(): method must be one of {METHODS}, got {method!r}")
    if method == "complex" and not first_only:
        raise ValueError(
            f"numeric.{name}(): method='complex' gives first derivatives only; use method='central' here."
        )


def _steps(x, step, name):
    """Explicit step(s) broadcast to one row per coordinate: shape (1, *x.shape)."""
    h = np.asarray(step, dtype=float)
    try:
        h = np.broadcast_to(h, x.shape)
    except ValueError:
        raise ValueError(
            f"numeric.{name}(): step must be a scalar or have the point's shape {x.shape}, got shape {h.shape}"
        ) from None
    if not (np.all(np.isfinite(h)) and np.all(h > 0)):
        raise ValueError(f"numeric.{name}(): step must be positive and finite, got {step!r}")
    return h[None]


def _solve(f, x, build, p, q, step, full_output, name, dtype, complex_=False, order=1):
    """Run ``build`` on automatic (step=None) or explicit steps; extrapolate; check finiteness.

    ``order`` is the derivative order (the power of the step the quotients divide by).
    """
    if step is None:
        if complex_:
            hs = COMPLEX_STEP * np.maximum(np.abs(x), 1.0)[None]
            t = build(hs)
            _raise_bad(f, t.bad, name, 0)
            return _cast(t.D[0], t.N[0], t.H[0], None, full_output, dtype)
        with np.errstate(all="ignore"):  # out-of-domain neighbours and kinks are handled by _automatic
            return _automatic(f, x, build, p, q, full_output, name, dtype, order)
    hs = _steps(x, step, name)
    if full_output:  # a second quotient at half the step estimates the first one's truncation error
        hs = np.concatenate([hs, hs / 2])
    with np.errstate(all="ignore"):  # non-finite values raise NonFiniteError below
        t = build(hs)
    _raise_bad(f, t.bad, name, None)
    if not full_output:
        return np.asarray(t.D[0]).astype(dtype, copy=False)
    r = 2.0**p
    error = np.abs(t.D[0] - t.D[1]) * (r / (r - 1)) + NOISE * t.N[0] + 4 * EPS * np.abs(t.D[0])
    return _cast(t.D[0], error, t.H[0], None, True, dtype)


def _automatic(f, x, build, p, q, full_output, name, dtype, order):
    """Quotients at halving steps, extended per coordinate until each entry has enough trusted rows.

    A row is trusted when it lies after the entry's last non-finite quotient (a
    neighbour outside the function's domain) and after the last place where the
    quotients stop following the smooth error model (a kink inside the stencil,
    see :mod:`.smoothness`). Entries left with too few trusted rows get smaller
    steps on their coordinates only; an entry still unresolved after
    ``MAX_EXTENSIONS`` rounds near a kink is returned with a widened error and
    flagged in ``Estimate.kink``.
    """
    hs = base_steps(x, N_STEPS)
    last_steps = hs[-1]  # per coordinate; extensions continue halving from here
    t = build(hs)
    tables = [t]
    depth = np.full(t.D.shape[1:], N_STEPS)
    for rounds in range(MAX_EXTENSIONS + 1):
        D, N, H, C, CN = _stack(tables)
        first = trusted_from(_sequences(D, N, H, C, CN, p, order), 2.0, depth)
        short = MIN_VALID - (depth - first)
        need = short > 0
        if not need.any() or rounds == MAX_EXTENSIONS:
            break
        k = max(int(short.max()), MIN_EXTENSION << rounds)  # a kink far below the steps needs many more
        coords = need.reshape(-1, x.size).any(axis=0).reshape(x.shape)
        hs = last_steps / 2.0 ** np.arange(1, k + 1).reshape((k,) + (1,) * x.ndim)
        last_steps = hs[-1]
        new = build(hs, coords)
        keep = np.broadcast_to(need, new.D.shape)  # other entries keep their rows (and their answer)
        tables.append(new._replace(D=np.where(keep, new.D, np.nan)))
        depth = np.where(need, depth + k, depth)
    bad = _merged_bad(tables)
    nonfinite = _last_nonfinite(D, depth)
    if nonfinite is not None and np.any(nonfinite >= depth - 2):
        row = max(bad) if bad else D.shape[0] - 1
        _raise_bad(f, bad, name, row, reason="even at the smallest automatic steps")
    n = D.shape[0]
    rows = np.arange(n).reshape((n,) + (1,) * (D.ndim - 1))
    after_nonfinite = (-1 if nonfinite is None else nonfinite) + 1
    kink = need & (first > after_nonfinite)  # too few trusted rows after every extension, not for lack of domain
    start = np.where(kink, after_nonfinite, first)
    value, error, row = extrapolate(np.where((rows >= start) & (rows < depth), D, np.nan), N, 2.0, p, q)
    if not np.all(np.isfinite(value)):
        raise NonFiniteError(
            f"numeric.{name}(): the difference quotients of {fun_name(f)} overflowed at every step; "
            f"the derivative at x = {x!r} is not finite in float64."
        )
    if kink.any():
        error = np.where(kink, np.maximum(error, _kink_error(D, C, H, value, start, depth)), error)
    used = np.take_along_axis(H, row[None], axis=0)[0]
    return _cast(value, error, used, kink, full_output, dtype)


def _stack(tables):
    """The tables' rows stacked: ``D, N, H`` and the curvature ``C, CN`` (None when not built)."""
    D, N, H = (np.concatenate([getattr(t, k) for t in tables]) for k in "DNH")
    if tables[0].C is None:
        return D, N, H, None, None
    return D, N, H, np.concatenate([t.C for t in tables]), np.concatenate([t.CN for t in tables])


def _sequences(D, N, H, C, CN, p, order):
    """The sequences the smoothness test watches: the quotients and, when built, the curvature.

    Their noise is at least that of function values of unit size: a value near
    0 by cancellation (``A @ x + b`` next to a kink) is as rounded as its
    terms, which the values themselves do not show.
    """
    quotients = (D, N + EPS / H**order, p)
    return [quotients] if C is None else [quotients, (C, CN + 4 * EPS / H**2, 2)]


def _merged_bad(tables):
    """The tables' first non-finite evaluations, keyed by row of the stacked table."""
    bad, offset = {}, 0
    for t in tables:
        bad.update({offset + r: v for r, v in t.bad.items()})
        offset += t.D.shape[0]
    return bad


def _last_nonfinite(D, depth):
    """Per entry, the last evaluated row with a non-finite quotient (-1: none); None if all finite."""
    n = D.shape[0]
    rows = np.arange(n).reshape((n,) + (1,) * (D.ndim - 1))
    nonfinite = ~np.isfinite(D) & (rows < depth)
    if not nonfinite.any():
        return None
    return np.where(nonfinite.any(axis=0), n - 1 - np.argmax(nonfinite[::-1], axis=0), -1)


def _kink_error(D, C, H, value, start, depth):
    """An honest error for quotients that never settled: their spread and the one-sided asymmetry.

    Near a kink the central quotient mixes the two one-sided slopes; their
    difference is ``h * C = (f(x+h) - 2 f(x) + f(x-h)) / h`` at the smallest
    step, which bounds how far the mixture can be from either side.
    """
    n = D.shape[0]
    rows = np.arange(n).reshape((n,) + (1,) * (D.ndim - 1))
    used = (rows >= start) & (rows < depth) & np.isfinite(D)
    spread = np.max(np.where(used, np.abs(D - value), 0.0), axis=0)
    if C is None:
        return spread
    last = (depth - 1)[None]
    asymmetry = np.abs(np.take_along_axis(C, last, 0)[0] * np.take_along_axis(H, last, 0)[0])
    return np.maximum(spread, asymmetry)


def _cast(value, error, step, kink, full_output, dtype):
    value = np.asarray(value).astype(dtype, copy=False)
    if not full_output:
        return value
    kink = np.zeros(value.shape, dtype=bool) if kink is None else np.asarray(kink, dtype=bool)
    return Estimate(value, np.asarray(error, dtype=float), np.asarray(step, dtype=float), kink)


def _raise_bad(f, bad, name, row, reason=""):
    if not bad:
        return
    point, val = bad[row] if row in bad else next(iter(bad.values()))
    if reason:
        hint = (
            "The point may lie on (or very near) the edge of the function's domain: try "
            "method='forward' or 'backward', or an explicit small step."
        )
        check_finite(f, name, point, val, where=f"at the neighbour ({reason})", hint=hint)
    check_finite(f, name, point, val, where="at the neighbour")
    raise NonFiniteError(f"numeric.{name}(): non-finite function value near x")  # pragma: no cover


def _start(f, x, name):
    if not callable(f):
        raise TypeError(f"numeric.{name}() needs a function to differentiate, got {type(f).__name__} {f!r}")
    x, dtype = as_point(x, name)
    fx = call(f, x)
    check_finite(f, name, x, fx)
    return x, dtype, fx


def _maybe_curried(impl, f, x, kwargs):
    if x is not None:
        return impl(f, x, **kwargs)

    @functools.wraps(f)
    def at(x):
        return impl(f, x, **kwargs)

    return at


def _first_order(f, x, fx, method, name):
    """Builder and error exponents for first derivatives along every coordinate."""
    if method == "complex":
        return complex_builder(f, x, fx, name), 2, 2
    if method == "central":  # the curvature on the same points lets the smoothness test see a kink at x
        return coordinate_builder(f, x, fx, (-1.0, 0.0, 1.0), (-0.5, 0.0, 0.5), name, (1.0, -2.0, 1.0)), 2, 2
    sign = 1.0 if method == "forward" else -1.0
    return coordinate_builder(f, x, fx, (0.0, sign), (-sign, sign), name), 1, 1


# ----------------------------------------------------------------------------- derivative


def derivative(f, x=None, order=1, *, method="central", step=None, full_output=False):
    """The ``order``-th derivative of a scalar function by finite differences.

    ``f`` maps a scalar to a scalar; called with an array, the derivative is
    taken entry by entry (right for elementwise functions), like
    :func:`slopes.derivative`. With ``step=None`` the step is chosen
    automatically: quotients at eight halving steps from about
    ``max(|x|, 1) / 8`` are combined by Richardson extrapolation and the
    entry with the smallest estimated error is returned; steps whose
    neighbours leave the function's domain (NaN or inf) are dropped and
    smaller ones added. With an explicit ``step`` one quotient is taken.

    Parameters
    ----------
    f : callable
        Written with NumPy or slopes.numpy (plain NumPy for ``method="complex"``).
    x : float or array of float, optional
        The point. Without it, a function of the point is returned.
    order : int
        Derivative order (``method="complex"``: 1 only).
    method : {"central", "forward", "backward", "complex"}
    step : float or array of float, optional
        Explicit step (per entry if an array).
    full_output : bool
        Return an :class:`Estimate` ``(value, error, step)``.

    Returns
    -------
    np.ndarray or Estimate or callable

    Raises
    ------
    TypeError
        For integer input.
    NonFiniteError
        When ``f`` is NaN or infinite at ``x``, or at a neighbour the quotient needs.

    Examples
    --------
    >>> import slopes as sl
    >>> d = sl.numeric.derivative(np.exp, 1.0)
    >>> bool(abs(d - np.e) < 1e-12)
    True
    >>> est = sl.numeric.derivative(np.sin, 0.5, order=2, full_output=True)
    >>> bool(abs(est.value + np.sin(0.5)) <= est.error < 1e-6)
    True
    >>> sl.numeric.derivative(lambda t: t ** 3, order=2)(np.array([1.0, 2.0]))
    array([ 6., 12.])
    """
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 0:
        raise ValueError(f"numeric.derivative(): order must be a non-negative integer, got {order!r}")
    _check_method("derivative", method, order <= 1)
    return _maybe_curried(
        _derivative, f, x, dict(order=int(order), method=method, step=step, full_output=full_output)
    )


def _derivative(f, x, order, method, step, full_output):
    name = "derivative"
    x, dtype, fx = _start(f, x, name)
    if fx.shape != x.shape:
        raise TypeError(
            f"numeric.derivative() needs a scalar (or elementwise) function; {fun_name(f)} maps shape "
            f"{x.shape} to {fx.shape}. Use slopes.numeric.grad or jacobian."
        )
    if order == 0:
        return _cast(fx, np.zeros(fx.shape), np.zeros(fx.shape), None, full_output, dtype)
    if method == "complex":
        build = _complex_elementwise(f, x, name)
        return _solve(f, x, build, 2, 2, step, full_output, name, dtype, complex_=True)
    s, w, p = _stencil_weights(order, method)
    curvature = tuple(fd_weights(s, 2).tolist()) if (order, method) == (1, "central") else None
    build = elementwise_builder(f, x, fx, s, w, order, name, curvature)
    return _solve(f, x, build, p, p, step, full_output, name, dtype, order=order)


@functools.lru_cache(maxsize=32)
def _stencil_weights(order, method):
    """Offsets, weights and leading error exponent of the automatic method's base quotient."""
    s = stencil(order, 2, "central") if method == "central" else stencil(order, 1, method)
    return tuple(s.tolist()), tuple(fd_weights(s, order).tolist()), 2 if method == "central" else 1


def _complex_elementwise(f, x, name):
    from .complex_step import complex_eval

    def build(hs, active=None):
        bad = {}
        D = np.empty(hs.shape)
        for j in range(hs.shape[0]):
            fs = complex_eval(f, x + 1j * hs[j], name)
            if fs.shape != x.shape:
                raise TypeError(f"numeric.{name}(): {fun_name(f)} changed its output shape on complex input")
            if not np.all(np.isfinite(fs)):
                bad[j] = (x + 1j * hs[j], fs)
            D[j] = fs.imag / hs[j]
        return Table(D, 8 * EPS * np.abs(D), hs, bad)

    return build


# ----------------------------------------------------------------------------- grad / jacobian


def grad(f, x=None, *, method="central", step=None, full_output=False):
    """Gradient of a scalar function by finite differences, shape ``x.shape``.

    Central differences along each coordinate at eight halving steps, then
    Richardson extrapolation (``step=None``), or one quotient per coordinate
    at an explicit ``step``. Automatic steps are trusted only where the
    quotients follow the smooth error model (:mod:`slopes.numeric.smoothness`):
    a kink inside the stencil (ReLU, abs, max) makes that coordinate take
    smaller steps, and ``Estimate.kink`` flags the entries it could not resolve. ``method="complex"`` uses the complex step
    (``f`` must accept complex input).

    Parameters
    ----------
    f : callable
        Scalar function of an array, written with NumPy or slopes.numpy.
    x : array of float or pytree, optional
        The point. Without it, a function of the point is returned (like ``sl.grad(f)``).
        A pytree (nested dicts, lists, tuples of float arrays) gives results in its
        structure (:mod:`slopes.numeric.trees`).
    method : {"central", "forward", "backward", "complex"}
    step : float or array of float, optional
        Explicit step (per coordinate if an array of ``x``'s shape).
    full_output : bool
        Return an :class:`Estimate` ``(value, error, step)``.

    Examples
    --------
    >>> import slopes as sl
    >>> rosen = lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    >>> g = sl.numeric.grad(rosen, np.array([-1.2, 1.0]))
    >>> bool(np.allclose(g, [-215.6, -88.0], rtol=1e-12))
    True
    >>> sl.numeric.grad(rosen, np.array([1.0, 1.0]), step=2.0**-4)   # one quotient: O(h**2) off
    array([1.5625, 0.    ])
    >>> est = sl.numeric.grad(np.sum, np.ones(3), full_output=True)
    >>> est.value, bool(np.all(est.error < 1e-12))
    (array([1., 1., 1.]), True)
    """
    _check_method("grad", method, True)
    return _maybe_curried(on_trees(on_complex(_grad, "grad"), "grad"), f, x, dict(method=method, step=step, full_output=full_output))


def _grad(f, x, method, step, full_output):
    return _first_derivatives(f, x, method, step, full_output, "grad")


def jacobian(f, x=None, *, method="central", step=None, full_output=False):
    """Jacobian by finite differences, shape ``f(x).shape + x.shape``.

    Same steps and methods as :func:`grad`, one column of quotients per
    input coordinate.

    Examples
    --------
    >>> import slopes as sl
    >>> F = lambda x: np.array([x[0] ** 2, x[0] * x[1], np.sin(x[1])])
    >>> J = sl.numeric.jacobian(F, np.array([1.0, 0.0]))
    >>> np.round(J, 12)
    array([[2., 0.],
           [0., 1.],
           [0., 1.]])
    """
    _check_method("jacobian", method, True)
    return _maybe_curried(on_trees(on_complex(_jacobian, "jacobian"), "jacobian"), f, x, dict(method=method, step=step, full_output=full_output))


def _jacobian(f, x, method, step, full_output):
    return _first_derivatives(f, x, method, step, full_output, "jacobian")


def _first_derivatives(f, x, method, step, full_output, name):
    """The gradient (``name="grad"``: f must be scalar) or the Jacobian."""
    x, dtype, fx = _start(f, x, name)
    if name == "grad" and fx.shape != ():
        raise TypeError(
            f"numeric.grad() needs a scalar-valued function, but {fun_name(f)} returned an array of "
            f"shape {fx.shape}. Reduce it to a scalar, or use slopes.numeric.jacobian."
        )
    build, p, q = _first_order(f, x, fx, method, name)
    return _solve(f, x, build, p, q, step, full_output, name, dtype, complex_=method == "complex")


# ----------------------------------------------------------------------------- hessian


def hessian(f, x=None, *, method="central", step=None, full_output=False):
    """Hessian of a scalar function by finite differences, shape ``x.shape + x.shape``.

    Mixed second differences ``(f(++) - f(+-) - f(-+) + f(--)) / (4 h_i h_k)``
    (central; one-sided variants for ``"forward"``/``"backward"``) at eight
    halving steps with Richardson extrapolation, or at one explicit ``step``.
    The result is symmetric by construction. ``method="complex"`` is not
    available (first derivatives only).

    Examples
    --------
    >>> import slopes as sl
    >>> f = lambda x: x[0] ** 2 * x[1] + np.exp(x[1])
    >>> H = sl.numeric.hessian(f, np.array([1.0, 0.0]))
    >>> np.round(H, 10)
    array([[0., 2.],
           [2., 1.]])
    """
    _check_method("hessian", method, False)
    return _maybe_curried(on_trees(_hessian, "hessian"), f, x, dict(method=method, step=step, full_output=full_output))


def _hessian(f, x, method, step, full_output):
    name = "hessian"
    x, dtype, fx = _start(f, x, name)
    if fx.shape != ():
        raise TypeError(
            f"numeric.hessian() needs a scalar-valued function, but {fun_name(f)} returned an array of "
            f"shape {fx.shape}. Reduce it to a scalar, or take slopes.numeric.jacobian of its gradient."
        )
    sign = {"central": 0, "forward": 1, "backward": -1}[method]
    p = 2 if sign == 0 else 1
    build = hessian_builder(f, x, fx, sign, name)
    return _solve(f, x, build, p, p, step, full_output, name, dtype, order=2)
