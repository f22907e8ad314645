"""``slopes.integrate.odeint``: SciPy's ODE solver, differentiable through its solution.

The values come from ``scipy.integrate.odeint`` (LSODA). The derivatives are
solved for, not traced through the solver's steps:

- reverse mode (``grad``, ``vjp``, ``jacrev``) by the adjoint method: with
  ``a(t) = dL/dy(t)``, the augmented system
  ``y' = f(y, t, p)``, ``a' = -a^T df/dy``, ``g' = -a^T df/dp`` is integrated
  backwards from the last time to the first, ``a`` jumping by the cotangent
  of each output row on the way; ``a(t_0)`` is the gradient of ``y0`` and
  ``g(t_0)`` that of the parameters ``args``;
- forward mode (``jvp``, ``jacfwd``) by forward sensitivities:
  ``s' = df/dy s + df/dp dp`` beside ``y``.

Both need only first derivatives of ``func``, taken by slopes (so ``func``
is written with :mod:`slopes.numpy`) and compiled once per call with
``slopes.jit``. The times ``t`` are differentiable too: ``dy(t_i)/dt_i =
f(y(t_i), t_i)`` for ``i > 0``, and moving ``t_0`` moves the start.

Derivatives of order two and more (the solvers' own steps are not traced)
are refused with a clear error.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np
import scipy.integrate

from .core.ops.shape import getitem
from .core.trace import Primitive, Tracer, concrete, shape_of
from .numpy import concatenate, ravel, reshape
from .transforms import jit, jvp, vjp

__all__ = ["odeint"]


# -- the dynamics on flat vectors, with its compiled derivatives -------------------------------------
class _Dynamics:
    """``func(y, t, *args)`` as ``f(y, t, p)`` on a flat state ``y`` and flat parameters ``p``."""

    def __init__(self, func, y_shape, arg_shapes, tfirst):
        self.func, self.y_shape, self.arg_shapes, self.tfirst = func, y_shape, arg_shapes, tfirst
        self.adjoint = jit(self._adjoint)
        self.tangent = jit(self._tangent)

    def unravel(self, p):
        args, start = [], 0
        for s in self.arg_shapes:
            size = int(np.prod(s, dtype=int))
            args.append(reshape(p[start : start + size], s))
            start += size
        return args

    def f(self, y, t, p):
        y = reshape(y, self.y_shape)
        args = self.unravel(p)
        out = self.func(t, y, *args) if self.tfirst else self.func(y, t, *args)
        return ravel(out)

    def numpy_rhs(self, y, t, p):
        return np.asarray(self.f(y, t, p), dtype=float)

    def _adjoint(self, y, t, p, a):
        """``(f, a^T df/dy, a^T df/dp)`` at ``(y, t, p)``."""
        out, back = vjp(lambda y, p: self.f(y, t, p), y, p)
        ay, ap = back(a)
        return out, ay, ap

    def _tangent(self, y, t, p, dy, dp):
        """``df/dy dy + df/dp dp`` at ``(y, t, p)``."""
        return jvp(lambda y, p: self.f(y, t, p), (y, p), (dy, dp))[1]


# -- the solver ------------------------------------------------------------------------------------
def _solve(rhs, s0, t, options, args=()):
    """``scipy.integrate.odeint`` with failures turned into errors that say what to do."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.integrate.ODEintWarning)
        out, info = scipy.integrate.odeint(rhs, s0, t, args=args, full_output=True, **dict(options))
    if info["message"] != "Integration successful.":
        raise RuntimeError(
            f"odeint: the solver failed ({info['message'].strip()}). Raise mxstep, loosen rtol/atol, "
            "or check that func is finite on the path (a stiff or exploding system?)."
        )
    return out


def _impl(y0, t, p, dynamics, options):
    if len(t) < 2:
        return np.asarray(y0, dtype=float)[None, :].copy() if len(t) else np.zeros((0, len(y0)))
    return _solve(dynamics.numpy_rhs, y0, t, options, args=(p,))


def _tangent_impl(y0, t, p, dy0, dt, dp, dynamics, options):
    """Forward sensitivities: the tangent of the solution along ``(dy0, dt, dp)``."""
    ys = _impl(y0, t, p, dynamics, options)
    if len(t) < 2:
        return np.array(dy0, dtype=float)[None, :] if len(t) else np.zeros_like(ys)
    n = y0.size

    def rhs(s, tau):
        y, dy = s[:n], s[n:]
        return np.concatenate([dynamics.numpy_rhs(y, tau, p), dynamics.tangent(y, tau, p, dy, dp)])

    f0 = dynamics.numpy_rhs(y0, t[0], p)
    start = np.concatenate([y0, dy0 - f0 * dt[0]])  # moving t_0 moves the start along f
    sens = _solve(rhs, start, t, options)[:, n:]
    rates = np.stack([dynamics.numpy_rhs(ys[i], t[i], p) for i in range(len(t))])
    return sens + rates * dt[:, None]


class _Backward(threading.local):
    """The reverse rules of y0, t and args share one backward solve: the last one, kept per thread."""

    inputs = ()
    result = None


_backward = _Backward()


def _cotangent_impl(g, ys, y0, t, p, dynamics, options):
    """The adjoint method: the cotangents of ``y0``, ``t`` and ``p``, concatenated."""
    inputs = (g, ys, y0, t, p)
    if len(_backward.inputs) != 5 or any(a is not b for a, b in zip(_backward.inputs, inputs)):
        _backward.inputs, _backward.result = inputs, np.concatenate(_run_adjoint(*inputs, dynamics, options))
    return _backward.result


def _run_adjoint(g, ys, y0, t, p, dynamics, options):
    n, m = y0.size, p.size
    if not len(t):
        return np.zeros(n), np.zeros(0), np.zeros(m)
    a, gp, gt = g[-1].copy(), np.zeros(m), np.zeros(len(t))

    def rhs(s, tau):
        f, ay, ap = dynamics.adjoint(s[:n], tau, p, s[n : 2 * n])
        return np.concatenate([f, -ay, -ap])

    for i in range(len(t) - 1, 0, -1):
        gt[i] = g[i] @ dynamics.numpy_rhs(ys[i], t[i], p)
        if t[i] != t[i - 1]:
            end = _solve(rhs, np.concatenate([ys[i], a, gp]), [t[i], t[i - 1]], options)[-1]
            a, gp = end[n : 2 * n], end[2 * n :]
        if i > 1:
            a = a + g[i - 1]
    if len(t) > 1:
        gt[0] = -(a @ dynamics.numpy_rhs(y0, t[0], p))  # a: the adjoint before adding g_0
        a = a + g[0]
    return a, gt, gp


def _no_higher_order(*args, **params):
    raise NotImplementedError(
        "odeint: derivatives of order two and more are not available (its derivative rules run "
        "SciPy's solver); take first derivatives only, or finite differences of them"
    )


odeint_p = Primitive("odeint", _impl)
odeint_tangent = Primitive("odeint_tangent", _tangent_impl)
odeint_cotangent = Primitive("odeint_cotangent", _cotangent_impl)
for _rule_of_rule in (odeint_tangent, odeint_cotangent):
    _rule_of_rule.jvp = _no_higher_order
    _rule_of_rule.vjps = (_no_higher_order,) * 6
# under vmap (jacfwd, jacrev) these loop over the batch: one derivative solve per direction


def _jvp(primals, tangents, params):
    ys = odeint_p(*primals, **params)
    if all(d is None for d in tangents):
        return ys, None
    full = [np.zeros(shape_of(x)) if d is None else d for x, d in zip(primals, tangents)]
    return ys, odeint_tangent(*primals, *full, **params)


def _vjp_rule(which):
    def rule(g, ys, y0, t, p, dynamics, options):
        sizes = np.cumsum([0, shape_of(y0)[0], shape_of(t)[0], shape_of(p)[0]])
        packed = odeint_cotangent(g, ys, y0, t, p, dynamics=dynamics, options=options)
        return getitem(packed, index=(slice(sizes[which], sizes[which + 1]),))

    return rule


odeint_p.jvp = _jvp
odeint_p.vjps = (_vjp_rule(0), _vjp_rule(1), _vjp_rule(2))


# -- the public function ---------------------------------------------------------------------------
_UNSUPPORTED = dict(Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None, ixpr=0, printmessg=0)


def odeint(func, y0, t, args=(), rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0,
           mxstep=0, mxhnil=0, mxordn=12, mxords=5, tfirst=False, **unsupported):
    """Differentiable ``scipy.integrate.odeint``: solve ``dy/dt = func(y, t, *args)`` at the times ``t``.

    Same signature and values as SciPy's (LSODA). Differentiable, by every
    first-order transform, in ``y0``, ``t`` and ``args``: reverse mode by the
    adjoint method, forward mode by forward sensitivities (see the module).

    Parameters
    ----------
    func : callable
        ``func(y, t, *args)`` (``func(t, y, *args)`` with ``tfirst=True``),
        returning ``dy/dt`` of ``y``'s shape. Write it with
        :mod:`slopes.numpy` so its derivatives can be taken.
    y0 : array_like
        The state at ``t[0]``; any shape (SciPy: 1-D).
    t : array_like, 1-D
        Monotonic times; the first is the time of ``y0``.
    args : tuple of array_like
        Extra arguments of ``func`` (numbers or arrays), differentiable.
    rtol, atol, tcrit, h0, hmax, hmin, mxstep, mxhnil, mxordn, mxords, tfirst
        As in SciPy; the same tolerances are used for the derivative solves.
        SciPy's ``Dfun``, ``col_deriv``, ``full_output``, ``ml``, ``mu``,
        ``ixpr`` and ``printmessg`` are not supported.

    Returns
    -------
    ndarray, shape (len(t), *y0.shape)
        ``y`` at each time, or a traced array inside a transform.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> from slopes.integrate import odeint
    >>> decay = lambda y, t, k: -k * y
    >>> t = np.array([0.0, 1.0])
    >>> round(float(odeint(decay, np.array([2.0]), t, args=(0.5,))[1, 0]), 6)  # 2 exp(-0.5)
    1.213061
    >>> grad_k = sl.grad(lambda k: odeint(decay, np.array([2.0]), t, args=(k,))[1, 0])(0.5)
    >>> round(float(grad_k), 5)  # -t * 2 exp(-k t)
    -1.21306
    """
    for name, value in unsupported.items():
        if name not in _UNSUPPORTED:
            raise TypeError(f"odeint() got an unexpected keyword argument {name!r}")
        if value is not _UNSUPPORTED[name] and value != _UNSUPPORTED[name]:
            raise ValueError(f"odeint(): {name} is not supported by slopes.integrate.odeint; leave it at its default")
    if not callable(func):
        raise TypeError(f"odeint(): func must be callable, func(y, t, *args); got {type(func).__name__}")
    if not isinstance(args, tuple):
        args = (args,)
    y0, t = _float_array(y0, "y0"), _float_array(t, "t")
    if len(shape_of(t)) != 1:
        raise ValueError(f"odeint(): t must be 1-D (the output times); got shape {tuple(shape_of(t))}")
    tc = np.asarray(concrete(t))
    steps = np.diff(tc)
    if not (np.all(steps >= 0) or np.all(steps <= 0)):
        raise ValueError("odeint(): t must be monotonic (increasing or decreasing)")
    args = [_float_array(a, f"args[{i}]") for i, a in enumerate(args)]
    dynamics = _Dynamics(func, tuple(shape_of(y0)), [tuple(shape_of(a)) for a in args], bool(tfirst))
    p = concatenate([ravel(a) for a in args]) if args else np.zeros(0)
    options = dict(rtol=rtol, atol=atol, tcrit=tcrit, h0=h0, hmax=hmax, hmin=hmin, mxstep=mxstep,
                   mxhnil=mxhnil, mxordn=mxordn, mxords=mxords)
    options = tuple(sorted((k, v) for k, v in options.items() if v is not None))
    ys = odeint_p(ravel(y0), t, p, dynamics=dynamics, options=options)
    return reshape(ys, (shape_of(t)[0],) + tuple(shape_of(y0)))


def _float_array(x, name):
    if isinstance(x, Tracer):
        return x
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise TypeError(f"odeint(): {name} must be real numbers; got dtype {x.dtype}")
    return x.astype(float)
