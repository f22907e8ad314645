"""``slopes.integrate.odeint``: SciPy's ODE solver, differentiable through its solution.

The values come from ``scipy.integrate.odeint`` (LSODA). The derivatives are
solved for, not traced through the solver's steps:

- reverse mode (``grad``, ``vjp``, ``jacrev``) by the adjoint method: with
  ``a(t) = dL/dy(t)``, the augmented system
  ``y' = f(y, t, p)``, ``a' = -a^T df/dy``, ``g' = -a^T df/dp`` is integrated
  backwards from the last time to the first, ``a`` jumping by the cotangent
  of each output row on the way; ``a(t_0)`` is the gradient of ``y0`` and
  ``g(t_0)`` that of the parameters ``args``;
- forward mode (``jvp``, ``jacfwd``, Taylor mode) by forward sensitivities:
  ``s' = df/dy s + df/dp dp`` beside ``y``.

The derivatives of ``func`` these systems need are taken by slopes (so
``func`` is written with :mod:`slopes.numpy`), and each system is solved by
``odeint`` itself, so its solution is differentiable again: Hessians and
higher derivatives work the same way (as in ``jax.experimental.ode``). The
times ``t`` are differentiable too: ``dy(t_i)/dt_i = f(y(t_i), t_i)`` for
``i > 0``, and moving ``t_0`` moves the start.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np
import scipy.integrate

from .core.staging import TracingError
from .core.trace import Primitive, Tracer, concrete, shape_of
from .numpy import concatenate, ravel, reshape, stack
from .numpy import sum as snp_sum
from .transforms import jit, jvp, vjp

__all__ = ["odeint"]


# -- the dynamics on flat vectors ------------------------------------------------------------------------
class _Dynamics:
    """``func(y, t, *args)`` as ``f(y, t, p)`` on a flat state ``y`` and flat parameters ``p``.

    The solver evaluates it through ``slopes.jit`` (traced once, replayed at
    NumPy's cost), or plainly if ``func`` cannot be traced.
    """

    def __init__(self, func, y_shape, arg_shapes, tfirst=False):
        self.func, self.y_shape, self.arg_shapes, self.tfirst = func, y_shape, arg_shapes, tfirst
        self.staged = jit(self.f)

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
        if self.staged is not None:
            try:
                return np.asarray(self.staged(y, t, p), dtype=float)
            except TracingError:  # Python decisions on values in func: run it plainly
                self.staged = None
        return np.asarray(self.f(y, t, p), dtype=float)


def _tangent_system(dynamics, n, m):
    """``[y, s]' = [f, df/dy s + df/dp dp]`` with parameters ``[p, dp]``: forward sensitivities."""

    def system(z, tau, q):
        f, df = jvp(lambda y, p: dynamics.f(y, tau, p), (z[:n], q[:m]), (z[n:], q[m:]))
        return concatenate([f, df])

    return _Dynamics(system, (2 * n,), [(2 * m,)])


def _adjoint_system(dynamics, n, m):
    """``[y, a, g]' = [f, -a^T df/dy, -a^T df/dp]`` with parameters ``p``: the adjoint method."""

    def system(s, tau, p):
        f, back = vjp(lambda y, p: dynamics.f(y, tau, p), s[:n], p)
        ay, ap = back(s[n : 2 * n])
        return concatenate([f, -ay, -ap])

    return _Dynamics(system, (2 * n + m,), [(m,)])


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


# odeint_p(y0, t, p): the solution at the times t, shape (len(t), n), of the flat dynamics. Its
# rules solve ODEs with odeint_p itself, so they are differentiable in turn (any order), and under
# vmap it loops over the batch: one solve per example (per direction in jacfwd/jacrev).
odeint_p = Primitive("odeint", _impl)


def _rates(dynamics, ys, t, p):
    """``f(y(t_i), t_i)`` for every output time, shape (len(t), n)."""
    return stack([dynamics.f(ys[i], t[i], p) for i in range(shape_of(t)[0])])


def _jvp(primals, tangents, params):
    (y0, t, p), dynamics, options = primals, params["dynamics"], params["options"]
    ys = odeint_p(y0, t, p, **params)
    if all(d is None for d in tangents):
        return ys, None
    dy0, dt, dp = (np.zeros(shape_of(x)) if d is None else d for x, d in zip(primals, tangents))
    n, m, count = shape_of(y0)[0], shape_of(p)[0], shape_of(t)[0]
    if count < 2:
        return ys, reshape(dy0, (count, n)) if count else np.zeros((0, n))
    start = concatenate([y0, dy0 - dynamics.f(y0, t[0], p) * dt[0]])  # moving t_0 moves the start
    zs = odeint_p(start, t, concatenate([p, dp]), dynamics=_tangent_system(dynamics, n, m), options=options)
    return ys, zs[:, n:] + _rates(dynamics, ys, t, p) * reshape(dt, (count, 1))


def _cotangents(g, ys, y0, t, p, dynamics, options):
    """The adjoint method: the cotangents of ``y0``, ``t`` and ``p`` from that of the solution."""
    n, m, count = shape_of(y0)[0], shape_of(p)[0], shape_of(t)[0]
    if not count:
        return np.zeros(n), np.zeros(0), np.zeros(m)
    system = _adjoint_system(dynamics, n, m)
    a, gp, gt = g[-1], np.zeros(m), [None] * count
    for i in range(count - 1, 0, -1):
        gt[i] = snp_sum(g[i] * dynamics.f(ys[i], t[i], p))
        end = odeint_p(
            concatenate([ys[i], a, gp]), stack([t[i], t[i - 1]]), p, dynamics=system, options=options
        )[-1]
        a, gp = end[n : 2 * n], end[2 * n :]
        if i > 1:
            a = a + g[i - 1]
    gt[0] = 0.0 if count == 1 else -snp_sum(a * dynamics.f(y0, t[0], p))  # a: before adding g_0
    return a + g[0], stack(gt), gp


class _LastBackward(threading.local):
    """The reverse rules of y0, t and p share one backward solve: the last one, kept per thread."""

    inputs = ()
    result = None


_last = _LastBackward()


def _vjp_rule(which):
    def rule(g, ys, y0, t, p, dynamics, options):
        inputs = (g, ys, y0, t, p)
        if len(_last.inputs) != 5 or any(x is not y for x, y in zip(_last.inputs, inputs)):
            _last.inputs, _last.result = inputs, _cotangents(*inputs, dynamics, options)
        return _last.result[which]

    return rule


odeint_p.jvp = _jvp
odeint_p.vjps = (_vjp_rule(0), _vjp_rule(1), _vjp_rule(2))


# -- the public function ---------------------------------------------------------------------------
_UNSUPPORTED = dict(Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None, ixpr=0, printmessg=0)


def odeint(func, y0, t, args=(), rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0,
           mxstep=0, mxhnil=0, mxordn=12, mxords=5, tfirst=False, **unsupported):
    """Differentiable ``scipy.integrate.odeint``: solve ``dy/dt = func(y, t, *args)`` at the times ``t``.

    Same signature and values as SciPy's (LSODA). Differentiable to any order,
    by every transform, in ``y0``, ``t`` and ``args``: reverse mode by the
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
    ndarray, shape ``(len(t), *y0.shape)``
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
            raise ValueError(
                f"odeint(): {name} is not supported by slopes.integrate.odeint; leave it at its default"
            )
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
