"""User-defined derivative rules: ``custom_jvp`` and ``custom_vjp``.

Use them for a function whose derivative is known in a better form than
differentiating its code would give (more stable, cheaper, or defined where
the code is not differentiable).
"""

from __future__ import annotations

import functools

import numpy as np

from .core.batching import vmap_call
from .core.forward import jvp_call
from .core.reverse import vjp_call
from .core.trace import Primitive, shape_of

__all__ = ["custom_jvp", "custom_vjp"]


def _zeros(x):
    return np.zeros(shape_of(x), dtype=getattr(x, "dtype", np.float64))


class _Custom:
    """A function of positional arrays, run as one primitive with user rules."""

    def __init__(self, fun, kind):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.prim = Primitive(f"{kind}:{getattr(fun, '__name__', 'fun')}", fun)
        self.prim.lasting = False  # it holds the user's function (and what that closes over)
        # Under vmap, the function's own code is batched (the rule is for derivatives).
        self.prim.batch = lambda vals, batched: vmap_call(
            lambda *xs: [fun(*xs)], vals, batched, next(v.shape[0] for v, b in zip(vals, batched) if b)
        )[0]

    def __call__(self, *args):
        if not args:
            return self.fun()
        for a in args:
            if isinstance(a, (dict, list, tuple)):
                raise TypeError(
                    f"{self.__name__}: functions with custom derivatives take arrays as "
                    "positional arguments, not pytrees"
                )
        return self.prim(*args)


class custom_jvp(_Custom):
    """Give a function its own forward-mode (JVP) rule; reverse mode follows from it.

    Decorate the function, then its rule with ``@f.defjvp``. The rule takes
    ``(primals, tangents)`` (tuples, one entry per argument, zero tangents as
    zero arrays) and returns ``(f(*primals), J @ tangents)``. It must be
    written with :mod:`slopes.numpy` so higher derivatives work; reverse mode
    transposes it automatically (it is linear in the tangents).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> @sl.custom_jvp
    ... def softplus(x):
    ...     return snp.logaddexp(0.0, x)
    >>> @softplus.defjvp
    ... def _(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return softplus(x), t / (1.0 + snp.exp(-x))
    >>> float(sl.grad(softplus)(0.0))
    0.5
    """

    def __init__(self, fun):
        super().__init__(fun, "custom_jvp")
        self.rule = None

    def defjvp(self, rule):
        """Register ``rule(primals, tangents) -> (out, tangent_out)``; returns ``rule``."""
        self.rule = rule
        prim = self.prim

        def jvp(primals, tangents, params):
            ts = tuple(_zeros(p) if t is None else t for p, t in zip(primals, tangents))
            out, tout = rule(tuple(primals), ts)
            return out, tout

        def vjp(i, g, ans, *args):
            # The tangent map t -> J t is linear; its reverse-mode derivative is J^T.
            zeros = [_zeros(a) for a in args]
            _, pull = vjp_call(lambda *ts: [rule(tuple(args), ts)[1]], zeros)
            ct = pull([g])[i]
            return _zeros(args[i]) if ct is None else ct

        from .core.ops.rules import PerArg

        prim.jvp = jvp
        prim.vjps = PerArg(vjp)
        return rule


class custom_vjp(_Custom):
    """Give a function its own reverse-mode (VJP) rule.

    Register ``fwd(*args) -> (out, residuals)`` and ``bwd(residuals, g) ->
    tuple of cotangents`` (one per argument) with ``f.defvjp(fwd, bwd)``.
    The forward pass is re-run in the backward sweep to recover the
    residuals. Forward mode (``jvp``, ``jacfwd``, ``hessian``)
    differentiates the function's own code instead.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> @sl.custom_vjp
    ... def clip_gradient(x):
    ...     return x
    >>> def fwd(x):
    ...     return x, None
    >>> def bwd(res, g):
    ...     return (snp.clip(g, -1.0, 1.0),)
    >>> clip_gradient.defvjp(fwd, bwd)
    >>> float(sl.grad(lambda x: 5.0 * clip_gradient(x))(2.0))
    1.0
    """

    def __init__(self, fun):
        super().__init__(fun, "custom_vjp")
        fun_ = fun

        def jvp(primals, tangents, params):
            ts = [_zeros(p) if t is None else t for p, t in zip(primals, tangents)]
            (out,), (tout,) = jvp_call(lambda *xs: [fun_(*xs)], list(primals), ts)
            return out, tout

        self.prim.jvp = jvp

    def defvjp(self, fwd, bwd):
        """Register the forward function and the backward rule."""
        from .core.ops.rules import PerArg

        def vjp(i, g, ans, *args):
            _, res = fwd(*args)
            cts = bwd(res, g)
            if not isinstance(cts, (tuple, list)) or len(cts) != len(args):
                raise TypeError(
                    f"{self.__name__}: the backward rule must return a tuple with one "
                    f"cotangent per argument ({len(args)}), got {cts!r}"
                )
            return cts[i]

        self.prim.vjps = PerArg(vjp)



