"""The Taylor-mode trace, :func:`taylor_call`, the rule registry and the fallback.

:class:`TaylorTrace` runs every differentiable primitive through its rule in
:data:`TAYLOR_RULES` (filled by :func:`deftaylor` in the rule modules
:mod:`.elementwise` and :mod:`.arrays`); a :class:`TaylorTracer` holds a value
and its coefficients ``[x1, ..., xK]`` (a zero coefficient is ``None``).

A primitive without a Taylor rule falls back on its forward-mode (JVP) rule:
the derivative of ``y = f(x(t))`` is ``y'(t) = J(x(t)) x'(t)``, so running the
JVP rule under a Taylor pass of one order less, with the series of ``x(t)``
and of ``x'(t)``, gives the series of ``y'``, and integrating it termwise gives
the series of ``y``. This is exact. It costs a polynomial in ``K`` when the
JVP rule applies the primitive itself at most once to series-carrying values
(``exp``-like rules that reuse the output, linear primitives), but ``m**K``
when it applies it ``m > 1`` times (a product rule: ``einsum``, ``solve``,
which therefore have dedicated rules in :mod:`.arrays`) -- the same growth as
``K`` nested first-order JVPs, never worse. Non-differentiable primitives
(comparisons, ``floor``, ``stop_gradient``) give constants, as in every mode.
"""

from __future__ import annotations

import numpy as np

from ..ops import shape as sh
from ..trace import Trace, Tracer, bind, new_level, shape_of
from .series import _derivative_series, _fit_each, _full, _integrate, _order

#: ``TAYLOR_RULES[prim] = rule(primals, series, params) -> (out, out_series)``.
#:
#: ``primals`` are the values of the arguments; ``series[i]`` is ``None`` for a
#: constant argument, else a list of ``K`` coefficients ``[x1, ..., xK]`` where
#: a zero coefficient may be ``None``. The rule returns the output value and its
#: ``K`` coefficients (``None`` entries for zeros, or ``None`` for a constant),
#: each of the output's shape. Register rules with :func:`deftaylor`.
TAYLOR_RULES = {}


class TaylorTracer(Tracer):
    """A value ``primal`` with the Taylor coefficients ``series = [x1, ..., xK]`` of its curve."""

    __slots__ = ("series",)

    def __init__(self, trace, primal, series):
        self._trace = trace
        self.primal = primal
        self.series = series


class TaylorTrace(Trace):
    """Taylor mode in progress: every primitive applies its Taylor rule (or the fallback)."""

    __slots__ = ()

    def process(self, prim, args, params):
        primals = []
        series = []
        for a in args:
            if type(a) is TaylorTracer and a._trace is self:
                primals.append(a.primal)
                series.append(a.series)
            else:
                primals.append(a)
                series.append(None)
        if not prim.differentiable:
            return bind(prim, primals, params)
        rule = TAYLOR_RULES.get(prim)
        if rule is None:
            out, out_series = _fallback(prim, primals, series, params)
        else:
            out, out_series = rule(primals, series, params)
        return _wrap(self, out, out_series)


def _wrap(trace, out, ser):
    """A tracer for ``out`` with coefficients ``ser``, or ``out`` itself if they are all zero."""
    if ser is None:
        return out
    for c in ser:
        if c is not None:
            return TaylorTracer(trace, out, ser)
    return out


def taylor_call(fn, primals, series, order):
    """Evaluate ``fn`` and the Taylor coefficients of its outputs along a curve.

    Parameters
    ----------
    fn : callable
        A function of flat arrays returning a flat list of outputs.
    primals : list
        The point ``x0`` of each input.
    series : list
        For each input, ``None`` (a constant) or a list of ``order``
        coefficients ``[x1, ..., xK]`` of the curve
        ``x(t) = x0 + x1 t + ... + xK t**K`` (a ``None`` coefficient is zero);
        each coefficient is broadcast to its input's shape.
    order : int
        ``K``, the number of coefficients carried (``>= 1``).

    Returns
    -------
    (outputs, output_series)
        The values of ``fn(*primals)`` and, for each output, ``None`` when it
        does not depend on the inputs, else its ``order`` normalized
        coefficients ``yk = y^(k)(0) / k!`` (``None`` where identically zero).

    Examples
    --------
    The series of ``exp`` along ``x(t) = 0 + t`` is ``1/k!``:

    >>> import numpy as np
    >>> from slopes.core.ops.elementwise import exp
    >>> line = [np.array(1.0), None, None, None]  # x(t) = 0 + 1 t + 0 t^2 + 0 t^3 + 0 t^4
    >>> out, ser = taylor_call(lambda x: [exp(x)], [np.array(0.0)], [line], order=4)
    >>> float(out[0]), [round(float(c), 6) for c in ser[0]]
    (1.0, [1.0, 0.5, 0.166667, 0.041667])
    """
    order = int(order)
    if order < 1:
        raise ValueError(f"taylor_call(): order must be at least 1, got {order}")
    with new_level() as level:
        trace = TaylorTrace(level)
        ins = []
        for p, s in zip(primals, series):
            if s is None:
                ins.append(p)
                continue
            s = list(s)
            if len(s) != order:
                raise ValueError(
                    f"taylor_call(): an input series has {len(s)} coefficient(s), expected order={order}"
                )
            if type(p) in _PY_NUMBERS:  # Python arithmetic would differ from NumPy's (1.0 / 0.0)
                p = np.asarray(p)
            ps = shape_of(p)
            s = [_as_coefficient(c, ps) for c in s]
            ins.append(_wrap(trace, p, s))
        outs = fn(*ins)
        values, sers = [], []
        for o in outs:
            if type(o) is TaylorTracer and o._trace is trace:
                values.append(o.primal)
                sers.append(o.series)
            else:
                values.append(o)
                sers.append(None)
    return values, sers


_PY_NUMBERS = (int, float, bool)


def _as_coefficient(c, shape):
    """An input coefficient as an array (or tracer) of its input's shape; ``None`` stays."""
    if c is None:
        return None
    if type(c) in _PY_NUMBERS:
        c = np.asarray(c, dtype=float)
    if shape_of(c) != shape:
        c = sh.broadcast_to(c, shape)
    return c


def deftaylor(prim, rule=None):
    """Register the Taylor rule of ``prim``: ``rule(primals, series, params) -> (out, out_series)``.

    Usable as a decorator. See :data:`TAYLOR_RULES` for the conventions.

    Examples
    --------
    >>> from slopes.core.trace import Primitive
    >>> double = Primitive("double", lambda x: 2.0 * x)
    >>> @deftaylor(double)
    ... def _(primals, series, params):
    ...     return double(primals[0]), [None if c is None else 2.0 * c for c in series[0]]
    >>> out, ser = taylor_call(lambda x: [double(x)], [1.0], [[1.0, 3.0]], order=2)
    >>> float(out[0]), [float(c) for c in ser[0]]
    (2.0, [2.0, 6.0])
    """
    if rule is None:
        return lambda r: deftaylor(prim, r)
    TAYLOR_RULES[prim] = rule
    return rule


# -- the fallback: integrate the primitive's forward rule under Taylor mode --------------------------
def _zeros(p):
    return np.zeros(shape_of(p), dtype=getattr(p, "dtype", np.float64))


def _fallback(prim, primals, series, params):
    """Series of ``y = prim(x(t))`` from its JVP rule: ``y' = J(x(t)) x'(t)``, integrated.

    The JVP rule runs under an inner Taylor pass of order ``K - 1`` whose
    inputs are the series of ``x(t)`` and of ``x'(t)``; the series of the
    output tangent is that of ``y'(t)``, and ``y_k = y'_{k-1} / k``. Primitives
    the JVP rule uses are themselves expanded by their Taylor rules (or by this
    fallback, one order lower): polynomial in ``K`` when the JVP rule applies
    ``prim`` itself at most once to series-carrying values (see the module notes).
    """
    out = bind(prim, primals, params)
    if prim.jvp is None:
        raise NotImplementedError(
            f"slopes has no Taylor-mode rule for '{prim.name}', and no forward-mode rule to derive one from"
        )
    K = _order(series)
    if K == 1:
        tangents = [None if s is None else s[0] for s in series]
        if all(t is None for t in tangents):
            return out, None
        _, t = prim.jvp(list(primals), tangents, params)
        return out, None if t is None else _fit_each(out, [t])
    with new_level() as level:
        inner = TaylorTrace(level)
        xs, ts = [], []
        for p, s in zip(primals, series):
            if s is None:
                xs.append(p)
                ts.append(None)
                continue
            xs.append(_wrap(inner, p, s[: K - 1]))
            d = _derivative_series(_full(p, s), K)  # d_0..d_{K-1}
            if all(c is None for c in d):
                ts.append(None)
                continue
            ts.append(_wrap(inner, _zeros(p) if d[0] is None else d[0], d[1:]))
        if all(t is None for t in ts):
            return out, None
        _, tout = prim.jvp(xs, ts, params)
        if tout is None:
            return out, None
        if type(tout) is TaylorTracer and tout._trace is inner:
            q = [tout.primal] + list(tout.series)
        else:
            q = [tout] + [None] * (K - 1)
    return out, _fit_each(out, _integrate(q, K))
