"""Reverse mode: record a tape of primitive calls, then sweep cotangents back.

Only calls that touch a watched value are recorded, and each argument gets its
cotangent only if it is watched, so constants (data matrices, labels) cost no
backward work. The backward sweep itself binds primitives, so when the stored
values are tracers of an outer transform the gradient is differentiable again.

Complex values: a real value that entered a complex computation (``1j * x``)
receives the real part of its complex cotangent, the transpose of promoting it
to complex. The sweep checks every cotangent it hands to a real value: a real
cotangent can still yield a complex one (``real(w * abs(z))`` with complex ``w``
hands ``g * w`` to the real ``abs(z)``).
"""

from __future__ import annotations

import numpy as np

from .dtypes import complex_valued
from .trace import Trace, Tracer, bind, new_level

__all__ = ["ReverseTrace", "ReverseTracer", "vjp_call"]

# Arrays at least this large (elements) that a rule does not read are released from
# the tape; smaller ones are not worth the bookkeeping.
RELEASE_MIN_SIZE = 4096


class Released:
    """Stands in on the tape for an array whose values no reverse rule reads: its shape
    and dtype stay, its memory goes. Reading its values is a bug in a ``keeps``."""

    __slots__ = ("shape", "dtype")

    def __init__(self, a):
        self.shape = a.shape
        self.dtype = a.dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape))

    def __array__(self, *args, **kwargs):
        raise RuntimeError(
            "a reverse rule read the values of an array its primitive's `keeps` released; "
            "add it to that primitive's keeps"
        )


class ReverseTracer(Tracer):
    __slots__ = ("index",)

    def __init__(self, trace, primal, index):
        self._trace = trace
        self.primal = primal
        self.index = index


class ReverseTrace(Trace):
    __slots__ = ("tape",)

    def __init__(self, level):
        self.level = level
        # one entry per tracer: None for inputs, else (prim, args, params, out, parents)
        self.tape = []

    def new_input(self, value):
        self.tape.append(None)
        return ReverseTracer(self, value, len(self.tape) - 1)

    def process(self, prim, args, params):
        vals = list(args)
        parents = []
        nested = False  # does any value still hold a tracer of a lower level?
        for i, a in enumerate(args):
            if type(a) is ReverseTracer and a._trace is self:
                v = vals[i] = a.primal
                parents.append((i, a.index))
                if not nested and isinstance(v, Tracer):
                    nested = True
            elif not nested and isinstance(a, Tracer):
                nested = True
        out = bind(prim, vals, params) if nested else prim.impl(*vals, **params)
        if not prim.differentiable or not parents:
            return out
        vjps = prim.vjps
        if vjps is None:
            raise NotImplementedError(f"slopes has no reverse-mode rule for '{prim.name}'")
        for i, _ in parents:
            if vjps[i] is None:
                raise TypeError(
                    f"'{prim.name}' is not differentiable with respect to its argument {i}"
                )
        tape = self.tape
        keeps = prim.keeps
        stored = out
        if keeps is not None and not nested:  # release what the rules will not read
            least = RELEASE_MIN_SIZE
            for i, v in enumerate(vals):
                if type(v) is np.ndarray and i not in keeps and v.size >= least:
                    vals[i] = Released(v)
            if type(out) is np.ndarray and "ans" not in keeps and out.size >= least:
                stored = Released(out)
        tape.append((prim, vals, params, stored, parents))
        return ReverseTracer(self, out, len(tape) - 1)

    def backward(self, seeds, inputs):
        """Cotangents of the tape entries ``inputs`` given ``seeds`` {index: cotangent}."""
        tape = self.tape
        cts = [None] * len(tape)
        for i, c in seeds.items():
            cts[i] = c
        owned = set()  # entries holding an array this sweep made and handed to nobody
        for i in range(max(seeds, default=-1), -1, -1):
            g = cts[i]
            if g is None:
                continue
            node = tape[i]
            if node is None:  # an input: keep its cotangent
                continue
            cts[i] = None  # free it early
            owned.discard(i)
            prim, vals, params, out, parents = node
            vjps = prim.vjps
            accumulate = prim.accumulate
            for argnum, j in parents:
                if accumulate is not None:
                    acc = accumulate(cts[j], j in owned, g, out, *vals, **params)
                    if acc is not None:
                        cts[j] = acc
                        owned.add(j)
                        continue
                c = vjps[argnum](g, out, *vals, **params)
                if c is not None:
                    if complex_valued(c) and not complex_valued(vals[argnum]):
                        c = real(c)
                    prev = cts[j]
                    cts[j] = c if prev is None else add(prev, c)
        return [cts[i] for i in inputs]


def vjp_call(fn, primals):
    """Run ``fn(*primals)`` (flat lists in and out) under reverse mode.

    Returns ``(outputs, pullback)``; ``pullback(cotangents)`` takes one cotangent
    per output (``None`` for zero) and returns one per input (``None`` for zero).
    """
    with new_level() as level:
        trace = ReverseTrace(level)
        ins = [trace.new_input(p) for p in primals]
        outs = fn(*ins)
        values, indices = [], []
        for o in outs:
            if type(o) is ReverseTracer and o._trace is trace:
                values.append(o.primal)
                indices.append(o.index)
            else:
                values.append(o)
                indices.append(None)
    in_indices = [t.index for t in ins]

    def pullback(cotangents):
        seeds = {}
        for idx, ct in zip(indices, cotangents):
            if idx is None or ct is None:
                continue
            seeds[idx] = ct if idx not in seeds else add(seeds[idx], ct)
        return trace.backward(seeds, in_indices)

    return values, pullback


from .ops.elementwise import add, real  # noqa: E402  (ops import this module's siblings)
