"""Forward mode: carry a tangent beside every value (dual numbers, generalised).

``jvp_call(fn, primals, tangents)`` runs ``fn`` with each input replaced by a
:class:`JVPTracer` holding (primal, tangent); every primitive on the way applies
its ``jvp`` rule. A ``None`` tangent stands for zero and costs nothing.
"""

from __future__ import annotations

from .trace import Trace, Tracer, bind, new_level

__all__ = ["JVPTrace", "JVPTracer", "jvp_call"]


class JVPTracer(Tracer):
    __slots__ = ("tangent",)

    def __init__(self, trace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent


class JVPTrace(Trace):
    __slots__ = ()

    def process(self, prim, args, params):
        primals = []
        tangents = []
        for a in args:
            if type(a) is JVPTracer and a._trace is self:
                primals.append(a.primal)
                tangents.append(a.tangent)
            else:
                primals.append(a)
                tangents.append(None)
        if not prim.differentiable:
            return bind(prim, primals, params)
        if prim.jvp is None:
            raise NotImplementedError(f"slopes has no forward-mode rule for '{prim.name}'")
        out, tangent = prim.jvp(primals, tangents, params)
        if tangent is None:
            return out
        return JVPTracer(self, out, tangent)


def jvp_call(fn, primals, tangents):
    """Evaluate ``fn(*primals)`` and its directional derivative along ``tangents``.

    ``primals`` and ``tangents`` are flat lists of arrays; ``fn`` returns a flat
    list of outputs. Returns ``(outputs, output_tangents)`` where a zero tangent
    is ``None``.
    """
    with new_level() as level:
        trace = JVPTrace(level)
        ins = [JVPTracer(trace, p, t) for p, t in zip(primals, tangents)]
        outs = fn(*ins)
        values, tans = [], []
        for o in outs:
            if type(o) is JVPTracer and o._trace is trace:
                values.append(o.primal)
                tans.append(o.tangent)
            else:
                values.append(o)
                tans.append(None)
    return values, tans
