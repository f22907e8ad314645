"""Fold chains of scalings of a large array into one product with a small factor.

Forward mode over a batch of directions (``jacfwd``, hence ``hessian``) carries
tangents one batch axis larger than the values, and the chain rule scales them
by local derivatives of the values' size, one elementwise operation at a time::

    t1 = C * p;  t2 = C - t1;  t3 = t2 * p;  t4 = (1/n) * t3     # C: (d, n); p: (n,)

Each line is a pass over the (d, n) tangent. Written once the factors are
combined it is one pass, the rest work on the small side, as one would write by
hand::

    t4 = C * ((1/n) * ((1 - p) * p))

:func:`fold_scalings` does this on a program's equations. It records, for each
large result, a *form* ``base * factor`` (``base`` of the result's shape and
dtype, ``factor`` broadcasting to it with fewer entries) and rewrites

* ``(B * f) * s`` and ``s * (B * f)`` to ``B * (f * s)``, ``(B * f) / s`` to ``B * (f / s)``,
  ``-(B * f)`` to ``B * (-f)`` (``s`` small);
* ``B * f ± B * g`` and ``B ± B * g`` to ``B * (f ± g)`` (the same ``B``);

only where the scaled operand is used once (so its own pass is saved, and the
program never grows), the dtypes agree (no casts move), and the result has at
least :data:`MIN_ENTRIES` entries (below that a replay's time is per-call
overhead, not passes over memory). Smaller results (0-d ones too) fold one rule, which saves
a call and changes no bit: ``-(B * c)`` to ``B * (-c)`` for a constant number ``c`` (rounding
to nearest commutes with negation; only a NaN's sign bit may differ). A backward pass writes
such pairs: the cotangent of ``1 - x`` in ``(1 - x) ** 2`` is ``-(2.0 * (1 - x))``.

Constant factors are combined as Python numbers when they are Python numbers (the double
NumPy would compute, still weakly typed), so a float32 chain stays float32, as it runs
eagerly. The factors' products are reassociated: results differ by rounding, of the same order as the original's (each entry still goes through one
rounded product with the large array), and ``B - B * p`` becomes ``B * (1 - p)``, which
cancels no less accurately. Only where a product of factors alone over- or underflows can a
result differ by more.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from .ops.elementwise import add, div, mul, neg, sub
from .program import Aval, Const, Equation

__all__ = ["MIN_ENTRIES", "fold_scalings"]

#: the smallest result (in entries) whose scaling chain is folded
MIN_ENTRIES = 4096

_PRIMS = {"multiply": mul, "divide": div, "negative": neg, "add": add, "subtract": sub}

# the same operations on Python numbers, whose results stay Python numbers: NumPy's would be
# float64 scalars, which promote a float32 array (NEP 50)
_PY_OPS = {"multiply": operator.mul, "divide": operator.truediv, "negative": operator.neg,
           "add": operator.add, "subtract": operator.sub}


def fold_scalings(program, eqns):
    """``eqns`` (equations of ``program``, in order) with scaling chains folded (see the module).

    New variables for the factors are added to ``program``; equations whose results are no
    longer read are left for dead-code removal.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> from slopes.core.staging import trace_program
    >>> C, n = np.ones((3, 2000)), np.arange(1.0, 2001.0)
    >>> prog, _ = trace_program(lambda p: [(C - C * p) * p / n], [np.full(2000, 0.5)])
    >>> [e.prim.name for e in prog.equations]
    ['multiply', 'subtract', 'multiply', 'divide']
    >>> [e.prim.name for e in prog.optimize().equations]
    ['subtract', 'multiply', 'divide', 'multiply']
    """
    uses = {}
    for r in [r for e in eqns for r in e.ins] + list(program.outputs):
        if type(r) is int:
            uses[r] = uses.get(r, 0) + 1
    folder = _Folder(program, uses)
    out = []
    for e in eqns:
        out += folder.visit(e)
    return out


class _Folder:
    def __init__(self, program, uses):
        self.program = program
        self.uses = uses
        self.form = {}  # var -> (base, factor): var == base * factor; factor None means 1

    def visit(self, e):
        """The equations replacing ``e`` (``[e]`` when nothing folds), recording its form."""
        shape, dtype = self.program.avals[e.out]
        name = e.prim.name
        if (name not in _PRIMS or e.params or getattr(dtype, "kind", None) not in ("f", "c")
                or not all(self._typed_as(r, dtype) for r in e.ins)):
            return [e]
        if math.prod(shape) < MIN_ENTRIES:
            return self._visit_small(e)
        big = [self._aval(r) == (shape, dtype) for r in e.ins]
        small = [not b and self._small(r, shape) for r, b in zip(e.ins, big)]
        new = []
        if name == "negative" and big[0]:
            base, f = self._form(e.ins[0])
            if f is None or not self._absorbs(e.ins[0]):
                self.form[e.out] = (e.ins[0], Const(-1.0))  # -x is x * -1 exactly
                return [e]
            factor = self._combine(neg, [f], new)
        elif name in ("multiply", "divide") and len(e.ins) == 2 and (big[0] and small[1] or
                                                                    name == "multiply" and big[1] and small[0]):
            i = 0 if big[0] and small[1] else 1
            x, s = e.ins[i], e.ins[1 - i]
            base, f = self._form(x)
            if f is None or not self._absorbs(x):
                if name == "multiply":
                    self.form[e.out] = (x, s)
                return [e]
            factor = self._combine(_PRIMS[name], [f, s], new)
        elif name in ("add", "subtract") and len(e.ins) == 2 and all(big):
            (base, f), (base_b, g) = self._form(e.ins[0]), self._form(e.ins[1])
            scaled = [r for r, h in zip(e.ins, (f, g)) if h is not None]
            if not scaled or not _same(base, base_b) or not all(self._absorbs(r) for r in scaled):
                return [e]
            factor = self._combine(_PRIMS[name], [Const(1.0) if f is None else f, Const(1.0) if g is None else g], new)
        else:
            return [e]
        if factor is None or not self._small(factor, shape):
            return [e]
        self.form[e.out] = (base, factor)
        return new + [Equation(mul, (base, factor), {}, e.out)]

    def _visit_small(self, e):
        """``visit`` below :data:`MIN_ENTRIES`: ``-(B * c)`` as ``B * (-c)``, ``c`` a constant number."""
        if e.prim.name == "multiply" and len(e.ins) == 2:
            for i in (0, 1):
                if _number(e.ins[1 - i]):
                    self.form[e.out] = (e.ins[i], e.ins[1 - i])
                    break
        elif e.prim.name == "negative":
            base, c = self._form(e.ins[0])
            if c is not None and _number(c) and self._absorbs(e.ins[0]):
                return [Equation(mul, (base, Const(-c.value)), {}, e.out)]
        return [e]

    # -- helpers ------------------------------------------------------------------------
    def _aval(self, r):
        return self.program._aval_of(r)

    def _typed_as(self, r, dtype):
        """Whether ``r`` leaves the result's dtype alone: a Python number, or of ``dtype``."""
        return _weak(r) or self._aval(r)[1] == dtype

    def _small(self, r, shape):
        s = tuple(self._aval(r)[0])
        try:
            return np.broadcast_shapes(s, shape) == tuple(shape) and math.prod(s) < math.prod(shape)
        except ValueError:
            return False

    def _form(self, r):
        return self.form.get(r, (r, None)) if type(r) is int else (r, None)

    def _absorbs(self, r):
        """Whether folding may read through ``r``: nothing else reads it, so its pass goes."""
        return type(r) is int and self.uses.get(r, 0) == 1

    def _combine(self, prim, args, new):
        """``prim(*args)`` on factors: folded now when all are constants (None when Python
        refuses, as for a division by zero: nothing folds then), else a new equation."""
        if all(_weak(a) for a in args):
            try:
                return Const(_PY_OPS[prim.name](*[a.value for a in args]))
            except (ZeroDivisionError, OverflowError):
                return None
        if all(isinstance(a, Const) for a in args):
            return Const(prim.impl(*[a.value for a in args]))
        avals = [self._aval(a) for a in args]
        try:
            shape = np.broadcast_shapes(*[tuple(a[0]) for a in avals])
        except ValueError:
            return None
        dtype = next(a[1] for a, r in zip(avals, args) if not _weak(r))
        var = self.program._new_var(Aval(shape, dtype))
        new.append(Equation(prim, tuple(args), {}, var))
        return var


def _weak(r):
    """Whether ``r`` is a Python number constant (weakly typed: it takes the array's dtype)."""
    return isinstance(r, Const) and type(r.value) in (int, float)


def _number(r):
    """Whether ``r`` is a constant number whose negation is one of its own type: a Python
    number or a NumPy float (a NumPy int may overflow when negated)."""
    return _weak(r) or isinstance(r, Const) and isinstance(r.value, (np.floating, np.complexfloating))


def _same(a, b):
    if type(a) is int or type(b) is int:
        return a == b
    return a.key() == b.key()
