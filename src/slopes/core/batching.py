"""Batching (``vmap``): run a per-example function on a whole batch at once.

A :class:`BatchTracer` holds a value whose axis 0 is the batch; its ``shape``
is the per-example shape. Each primitive's ``batch`` rule maps the operation
onto the batched arrays; a primitive without one falls back to a loop over the
batch (correct, slower). Forward-mode Jacobians push all basis tangents through
in one pass this way, and reverse-mode Jacobians pull all cotangents back at once.
"""

from __future__ import annotations

from .trace import Trace, Tracer, bind, new_level

__all__ = ["BatchTrace", "BatchTracer", "vmap_call", "loop_rule"]


class BatchTracer(Tracer):
    __slots__ = ()

    def __init__(self, trace, value):
        self._trace = trace
        self.primal = value

    @property
    def shape(self):
        return self.primal.shape[1:]


class BatchTrace(Trace):
    __slots__ = ("size",)

    def __init__(self, level, size):
        self.level = level
        self.size = size

    def process(self, prim, args, params):
        vals = list(args)
        batched = [False] * len(args)
        for i, a in enumerate(args):
            if type(a) is BatchTracer and a._trace is self:
                vals[i] = a.primal
                batched[i] = True
        rule = prim.batch
        out = loop_rule(prim, vals, batched, params) if rule is None else rule(vals, batched, **params)
        return BatchTracer(self, out)


def loop_rule(prim, vals, batched, params):
    """Batch any primitive by applying it example by example and stacking."""
    from .ops.shape import stack

    size = next(v.shape[0] for v, b in zip(vals, batched) if b)
    outs = []
    for k in range(size):
        args = [v[k] if b else v for v, b in zip(vals, batched)]
        outs.append(bind(prim, args, params))
    return stack(*outs, axis=0)


def vmap_call(fn, args, in_batched, size, out_batched=None):
    """Run ``fn`` on flat ``args``; those with ``in_batched`` carry batch axis 0.

    Returns flat outputs, each with the batch axis in front (unbatched outputs
    are broadcast along it). If ``out_batched`` is a list, it receives one flag
    per output: whether that output depended on a batched input.
    """
    from .ops.shape import broadcast_to

    with new_level() as level:
        trace = BatchTrace(level, size)
        ins = [BatchTracer(trace, a) if b else a for a, b in zip(args, in_batched)]
        outs = fn(*ins)
        res = []
        for o in outs:
            mapped = type(o) is BatchTracer and o._trace is trace
            if out_batched is not None:
                out_batched.append(mapped)
            if mapped:
                res.append(o.primal)
            else:
                s = getattr(o, "shape", ())
                res.append(broadcast_to(o, (size,) + tuple(s)))
    return res
