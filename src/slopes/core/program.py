"""A staged program: a straight line of primitive calls, optimized and compiled.

A :class:`Program` has inputs, :class:`Equation` s (one primitive call each,
whose arguments are earlier variables or constants) and outputs. It is built
by :func:`slopes.core.staging.trace_program`, then

* :meth:`Program.optimize` removes work that cannot change the outputs:
  identities (``x * 1``, ``x - 0.0``, ``x + (-0.0)`` -- not ``x + 0.0``, which turns
  ``-0.0`` into ``0.0`` --, ``eye @ x``, a reshape or broadcast to the shape it
  already has, a cast to the dtype it already has -- the zero and identity
  cotangents a backward pass is full of), common subexpressions (the same
  primitive on the same arguments with the same parameters), chains of
  scalings of a large array (folded into one product with a small factor: see
  :mod:`slopes.core.scalings`), and dead code
  (equations no output depends on, e.g. forward values the backward pass does
  not need);
* :meth:`Program.compile` writes it as the source of one Python function (one
  line per call; ``+ - * /`` inlined as operators; a gradient's sum of
  ``scatter_add`` s, from reading ``x[0]``, ``x[1]``, ..., written into one
  array) and deletes each intermediate after its last use, so memory is
  released as NumPy would; an elementwise result is written into the buffer of
  an intermediate that dies there (``np.add(v3, v4, out=v3)``), so a chain of
  them allocates no new arrays (an intermediate read through views, such as a
  gradient read flat by a norm, once its views are dead too); a product of two
  vectors is ``ndarray.dot`` where that is matmul's BLAS call; a large matrix
  read by two products with row-wise work between them (``A @ w``, then
  ``r @ A``) is read in one pass over blocks of rows
  (:mod:`slopes.core.tiling`); the same elementwise chain on several leaves (an
  optimizer's update) runs once on flat buffers of all of them
  (:mod:`slopes.core.horizontal`); with ``kernels="numba"``, trees of elementwise
  calls run as compiled kernels (:mod:`slopes.core.kernels`). The code object
  is shared by every program of the same source text; constants are not.

Constant folding is free: calls on constants never reach the program (they
run while tracing).
"""

from __future__ import annotations

import functools
import operator
from typing import NamedTuple

import numpy as np

from . import kernels as kernel_module, narrow_rows, program_memo, tiling
from .ops.blas_sum import summer
from .ops.linalg import is_identity
from .ops.shape import sum_to_axes
from .ops.rules import DOT_DTYPES, UFUNCS, finite_or_masked
from .tiling import lower

__all__ = ["Const", "Equation", "Program"]


class Const:
    """A constant argument or output of a program."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def key(self):
        v = self.value
        if type(v) in (int, bool, float, complex) or isinstance(v, np.generic):  # every bit: 0.0 and -0.0 differ
            bits = program_memo.scalar_key(v)
            if bits is not None:
                return ("c", *bits)
        return ("c", id(v))

    def __repr__(self):
        v = self.value
        if getattr(v, "ndim", 0):
            return f"const{tuple(v.shape)}"
        return repr(v.item() if isinstance(v, np.generic) else v)


class Aval(NamedTuple):
    """A value's shape and dtype, all :meth:`Program.record` reads of it: a result recorded
    before (or without) being computed."""

    shape: tuple
    dtype: object


class Equation(NamedTuple):
    """``out = prim(*ins, **params)``; each of ``ins`` is a variable number or a :class:`Const`."""

    prim: object
    ins: tuple
    params: dict
    out: int


_EQUATION = tuple.__new__  # an Equation from its four fields, without NamedTuple's keyword parsing


def _freeze(v):
    """A hashable stand-in for a parameter value (for common-subexpression keys)."""
    if isinstance(v, (tuple, list)):
        return (type(v).__name__,) + tuple(_freeze(e) for e in v)
    if isinstance(v, slice):
        return ("slice", _freeze(v.start), _freeze(v.stop), _freeze(v.step))
    if isinstance(v, np.ndarray):
        return ("nd", v.dtype.str, v.shape, v.tobytes()) if v.size <= 64 else ("id", id(v))
    if isinstance(v, dict):
        return ("dict",) + tuple((k, _freeze(v[k])) for k in sorted(v))
    if type(v) in (float, complex) or isinstance(v, np.generic):
        return program_memo.scalar_key(v) or ("id", id(v))
    try:
        hash(v)
    except TypeError:
        return ("id", id(v))
    return (type(v).__name__, v)


def _is_const(ref, value):
    if not isinstance(ref, Const):
        return False
    v = ref.value
    if type(v) in (int, float) or isinstance(v, np.generic):
        return v == value
    if not isinstance(v, np.ndarray):
        return False
    v = _probe(v)
    return v.size <= 64 and bool(np.all(v == value))


def _probe(v):
    """A constant array's values to test: one element of a value broadcast (a sum's cotangent
    of ones), read once whatever the size; else the array."""
    return v.flat[:1] if v.size and not any(v.strides) else v


def _is_signed_zero(ref, negative):
    """Whether ``ref`` is a constant zero of the sign given: ``x + (-0.0)`` and ``x - 0.0`` are
    ``x`` for every x, but ``x + 0.0`` turns ``-0.0`` into ``0.0``, so it is no identity."""
    if not _is_const(ref, 0):
        return False
    v = ref.value
    return bool(np.all(np.signbit(_probe(v) if isinstance(v, np.ndarray) else v) == negative))


def _nonzero(v):
    return (type(v) in (int, float) or isinstance(v, (np.generic, np.ndarray))) and bool(np.all(v != 0))


# Equations that return one of their arguments unchanged when output and argument
# have the same shape and dtype: {name: (argument index, test on the equation)}.
_IDENTITY = {
    "multiply": [(0, lambda e: _is_const(e.ins[1], 1)), (1, lambda e: _is_const(e.ins[0], 1))],
    "divide": [(0, lambda e: _is_const(e.ins[1], 1))],
    "add": [(0, lambda e: _is_signed_zero(e.ins[1], True)), (1, lambda e: _is_signed_zero(e.ins[0], True))],
    "subtract": [(0, lambda e: _is_signed_zero(e.ins[1], False))],
    "reshape": [(0, lambda e: True)],
    "broadcast_to": [(0, lambda e: True)],
    "sum_to": [(0, lambda e: True)],
    "astype": [(0, lambda e: True)],
    "stop_gradient": [(0, lambda e: True)],  # only transforms tell it from its argument
    # an identity matrix (the basis jacfwd and jacrev push through) times x is x
    "matmul": [(1, lambda e: isinstance(e.ins[0], Const) and is_identity(e.ins[0].value)),
               (0, lambda e: isinstance(e.ins[1], Const) and is_identity(e.ins[1].value))],
    # masking where a constant, nonzero cotangent is 0 masks nothing
    "mask_zero": [(1, lambda e: isinstance(e.ins[0], Const) and _nonzero(e.ins[0].value))],
}

_OPERATORS = {operator.add: "+", operator.sub: "-", operator.mul: "*"}

# binary elementwise primitives that broadcast their operands like NumPy
_BROADCASTING = {"add", "subtract", "multiply", "divide", "mask_zero"}


# -- code specialized to the traced shapes ----------------------------------------------
# {name: rule(e, in_avals, out_aval) -> a format string over the arguments ("{0} @ {1}"),
# a callable taking the arguments positionally, or None for the generic call}. Shapes
# and dtypes are fixed per trace, so work the generic implementation redoes on every
# call (axes to sum over, Python wrappers, keyword parsing) is done once here.
def _floating(aval):
    return getattr(aval[1], "kind", None) == "f"


def _spec_sum_to(e, ins, out):
    (xs, dtype), shape = ins[0], tuple(e.params["shape"])
    if not _floating(ins[0]):
        return None
    axes = sum_to_axes(xs, shape)
    if len(axes) == len(xs) - len(shape):  # only leading axes: summing them leaves exactly `shape`
        return summer(xs, dtype, axes, False)
    total = summer(xs, dtype, axes, True)
    return lambda x: total(x).reshape(shape)


def _spec_sum(e, ins, out):
    # the primitive's own choice of np.add.reduce or a product with ones (blas_sum), made once
    return summer(*ins[0], e.params["axis"], e.params["keepdims"]) if _floating(ins[0]) else None


def _spec_extremum(ufunc):
    def spec(e, ins, out):  # np.max's Python wrapper costs more than a small array's reduction
        if not _floating(ins[0]) or 0 in ins[0][0]:  # an empty array raises in np.max: keep its message
            return None
        return functools.partial(ufunc.reduce, axis=e.params["axis"], keepdims=e.params["keepdims"])

    return spec


def _spec_matmul(e, ins, out):
    return "{0} @ {1}" if all(len(a[0]) >= 1 and _floating(a) for a in ins) else None


def _spec_transpose(e, ins, out):
    return "{0}.T" if len(ins[0][0]) == 2 and tuple(e.params["axes"]) == (1, 0) else None


def _spec_reshape(e, ins, out):
    return f"{{0}}.reshape({tuple(out[0])!r})" if len(ins[0][0]) >= 1 else None


def _spec_squares_any_order(e, ins, out):
    """Float64 arrays: each one's dot with itself, added in order (a flat buffer of
    :mod:`slopes.core.horizontal` is one such array)."""
    if not all(dtype == np.float64 for _, dtype in ins):
        return None
    # an n-D array flattened once (a walrus name per argument): a copy when not contiguous
    return " + ".join(f"{{{k}}}.dot({{{k}}})" if len(shape) == 1 else f"(_sq{k} := {{{k}}}.reshape(-1)).dot(_sq{k})"
                      for k, (shape, _) in enumerate(ins))


def _basic_index(index):
    return type(index) is tuple and all(
        type(i) is int or (type(i) is slice and all(v is None or type(v) is int for v in (i.start, i.stop, i.step)))
        for i in index
    )


def _spec_getitem(e, ins, out):
    index = e.params["index"]
    # ints and slices print as Python that rebuilds them: index inline, no call
    return f"{{0}}[{index!r}]" if _basic_index(index) and len(ins[0][0]) >= 1 else None


def _spec_divide(e, ins, out):
    # `/` unless both are Python numbers (1.0 / 0.0 raises where NumPy gives inf)
    return "{0} / {1}" if any(_floating(a) for a in ins) else None


def _spec_negative(e, ins, out):
    return "-{0}" if _floating(ins[0]) else None


def _spec_power(e, ins, out):
    # `**` unless both are Python numbers (what the primitive's own implementation does): an
    # array's `**` takes NumPy's own fast paths (np.square for the int 2), the same bits, without
    # a Python call; a 0-d variable may be a NumPy scalar, whose `**` is not an array's
    return "{0} ** {1}" if any(_floating(a) for a in ins) else None


def _spec_flat_part(e, ins, out):
    shape, start, stop = e.params["shape"], e.params["start"], e.params["stop"]
    return f"{{0}}[{start}:{stop}]" + ("" if len(shape) == 1 else f".reshape({tuple(shape)!r})")


def _spec_mask_zero(e, ins, out):
    r = ins[1]
    return finite_or_masked if len(r[0]) >= 1 and r[1] in DOT_DTYPES and r == out else None


_SELECT_BITS = {np.dtype(np.float64): np.dtype(np.int64), np.dtype(np.float32): np.dtype(np.int32)}


def _select_mask(m, bits):
    """A boolean mask as integers of ``bits``' width: all ones where it holds, zeros elsewhere.

    ``where(m, x, 0.0)`` is then ``x``'s bits ANDed with it (see :func:`_bit_select`): np.where
    bit for bit, without a branch per element. np.where's branch mispredicts on masks that
    change from call to call (a ReLU's, on each new batch): about 30 us against 5 us on a
    (64, 128) array in a training epoch (``benchmarks/step_profile.py``). A mask read by
    several selects (a ReLU's forward and backward) is widened once.

    >>> _select_mask(np.array([True, False]), np.dtype(np.int64))
    array([-1,  0])
    """
    # negated as one-byte integers, then widened (sign-extended): 2.7 us on a (64, 128) mask,
    # against 3.5 us widening first and negating in place, 4.4 us for np.negative(m, dtype=bits)
    return np.negative(m.view(np.int8)).astype(bits)


def _bit_select(e, ins, out):
    """The integer dtype of the bit select replaying ``where(m, x, +0.0)``, else None (a -0.0
    or other fill, a broadcast mask or a dtype without one keep np.where)."""
    if not (e.prim.name == "where" and len(ins) == 3 and type(e.ins[2]) is Const and _is_const(e.ins[2], 0)
            and not np.signbit(e.ins[2].value).any()):
        return None
    cond, x, _ = ins
    same = cond[0] == x[0] == out[0] and len(out[0]) >= 1 and x[1] == out[1]
    return _SELECT_BITS.get(out[1]) if same and cond[1] == np.bool_ else None


_SPECIALIZE = {
    "getitem": _spec_getitem,
    "negative": _spec_negative,
    "divide": _spec_divide,
    "sum_to": _spec_sum_to,
    "sum": _spec_sum,
    "max": _spec_extremum(np.maximum),
    "min": _spec_extremum(np.minimum),
    "matmul": _spec_matmul,
    "transpose": _spec_transpose,
    "reshape": _spec_reshape,
    "power": _spec_power,
    "mask_zero": _spec_mask_zero,
    "flat_part": _spec_flat_part,
    "squares_any_order": _spec_squares_any_order,
}


# exactly rounded arithmetic: a NumPy scalar operand gives the bits a 0-d array gives
_EXACT = {"add", "subtract", "multiply", "divide", "negative", "sqrt"}

# primitives whose result may be a view of their (first and only array) argument
_VIEWS = {"reshape", "transpose", "getitem", "flat_part"}

# the horizontal fusion's buffers and the parts written into them (slopes.core.horizontal)
_FLAT_BUFFERS = {"flat_empty", "flat_into", "flat_ready", "flat_join"}


def _fresh_result(program, e):
    """Whether equation ``e``'s result is a new array, never its arguments' memory: a call of
    :data:`~slopes.core.ops.rules.UFUNCS`, a matmul, a sum of squares, or a floating sum that
    removes entries (``np.add.reduce``)."""
    name = e.prim.name
    if name in ("sum", "sum_to", "sum_rows"):  # sum_rows: slopes.core.narrow_rows's compiled row sums
        x = program._aval_of(e.ins[0])
        return _floating(x) and x[0] != program.avals[e.out][0]
    if name == "flat_join":  # a new buffer unless it may hand back the caller's own (see horizontal)
        return not e.params["recall"]
    return name in UFUNCS and not e.params or name in ("matmul", "flat_ready", "squares_any_order")


def _reusable(program, skip, last_use):
    """Intermediates whose buffer an elementwise equation may write its result into:
    ``{variable: the last equation reading a view of it, -1 if none}``.

    Each is made by an equation whose result is fresh (:func:`_fresh_result`: a floating array
    of ndim >= 1, never a view), read only by such equations or through views (reshapes,
    transposes, basic indexing; a gradient read flat by a norm), and neither it nor a view of
    it is an output. A view keeps its base's memory: the buffer is free once the variable
    and every view of it are read for the last time. Equations in ``skip`` (fused scatter
    sums) take no part.
    """
    eqs = [e for k, e in enumerate(program.equations) if k not in skip]
    made = {e.out for e in eqs if _fresh_result(program, e)
            and len(program.avals[e.out][0]) >= 1 and _floating(program.avals[e.out])}
    base = {}  # view -> the variable whose memory it is
    for e in eqs:
        name = e.prim.name
        if name == "flat_into":  # a part written into its place of a flat buffer: a view of it
            base[e.out] = e.ins[-1]
            continue
        if name == "flat_ready":  # the flat buffer once every part is in: the parts are its views
            for view, b in list(base.items()):
                if b == e.ins[0]:
                    base[view] = e.out
            base[e.ins[0]] = e.out
            continue
        if _fresh_result(program, e):
            continue
        first = base.get(e.ins[0], e.ins[0]) if e.ins else None
        if name in _VIEWS and len(e.ins) == 1 and (name != "getitem" or _basic_index(e.params["index"])):
            base[e.out] = first  # a view (or a copy: reusing then waits for nothing it needs)
        else:
            made.difference_update(base.get(r, r) for r in e.ins)
    made.difference_update(base.get(r, r) for r in program.outputs if type(r) is int)
    views_end = dict.fromkeys(made, -1)
    for view, b in base.items():
        if b in views_end:
            views_end[b] = max(views_end[b], last_use.get(view, -1))
    return views_end


def _view_of(e):
    """Whether equation ``e`` makes a view of (or a copy laid out like) its one argument, its
    strides the argument's in some order: a reshape, a transpose, a basic index whose slices step forward."""
    name = e.prim.name
    if name not in _VIEWS or len(e.ins) != 1:
        return False
    index = e.params.get("index", ())
    return name != "getitem" or _basic_index(index) and all(type(i) is int or (i.step or 1) > 0 for i in index)


def _positive_strides(program):
    """Intermediates whose strides are all positive whatever the inputs: fresh results and
    forward views of them (an input may be a reversed view)."""
    positive = set()
    for e in program.equations:
        if _fresh_result(program, e) or e.prim.name in _FLAT_BUFFERS or _view_of(e) and e.ins[0] in positive:
            positive.add(e.out)
    return positive


def _vector_dot(program, e, positive):
    """Whether matmul equation ``e`` of two vectors may replay as ``ndarray.dot``.

    For float32 and float64 vectors with positive strides both reach BLAS's ``?dot`` with
    the same arguments, so the bits agree (with a negative stride they do not: matmul and
    dot then differ in the last bits); ``dot`` skips the ufunc machinery, 0.29 us against
    0.55 us at n = 128.
    """
    if e.prim.name != "matmul" or not all(type(r) is int and r in positive for r in e.ins):
        return False
    (sa, da), (sb, db) = (program.avals[r] for r in e.ins)
    return len(sa) == len(sb) == 1 and da == db and da in DOT_DTYPES


class Program:
    """Inputs, equations and outputs of a staged function (see the module docstring)."""

    #: How elementwise work runs: ``"numpy"`` (a NumPy call each) or ``"numba"`` (trees of it
    #: fused into compiled kernels, :mod:`slopes.core.kernels`); set by :func:`slopes.jit`.
    kernels = "numpy"

    def __init__(self):
        self.inputs = []  # variable numbers
        self.equations = []
        self.outputs = []  # variable numbers or Const
        self.avals = {}  # variable -> (shape, dtype) at trace time
        self._next = 0

    def _new_var(self, value):
        var = self._next
        self._next += 1
        self.avals[var] = (getattr(value, "shape", ()), getattr(value, "dtype", type(value)))
        return var

    def new_input(self, value):
        var = self._new_var(value)
        self.inputs.append(var)
        return var

    @staticmethod
    def constant(value):
        return Const(value)

    def record(self, prim, ins, params, value):
        """Append ``prim(*ins, **params)``, whose result is (or has the shape and dtype of)
        ``value``; returns its variable. What tracing calls per primitive: one tuple built."""
        var = self._new_var(value)
        self.equations.append(_EQUATION(Equation, (prim, ins, params, var)))
        return var

    def __len__(self):
        return len(self.equations)

    # -- optimization -------------------------------------------------------------------
    def optimize(self):
        """Remove identities, common subexpressions, scaling chains and dead code (in place); returns self.

        A program with the equations of one optimized before takes that one's result
        (:mod:`slopes.core.program_memo`), and so later its compiled code.
        """
        key = program_memo.content_key(self)
        done = program_memo.lookup(key and ("optimized", key))
        if done is None:
            self._optimize()
            done = (tuple(self.equations), tuple(self.outputs), dict(self.avals), self._next)
            program_memo.store(key and ("optimized", key), done)
        else:
            self.equations, self.outputs, self.avals, self._next = list(done[0]), list(done[1]), dict(done[2]), done[3]
        # what compile() may find its code under, while the equations stay these
        self._memo = None if key is None else (key, done[0], done[1])
        return self

    def _optimize(self):
        alias = {}  # var -> the var (or Const) it equals
        seen = {}
        kept = []

        def resolve(r):
            return alias.get(r, r) if type(r) is int else r

        for e in self.equations:
            e = e._replace(ins=tuple(resolve(r) for r in e.ins))
            same = self._identity_of(e)
            if same is not None:
                alias[e.out] = same
                continue
            key = (e.prim, tuple(r if type(r) is int else r.key() for r in e.ins), _freeze(e.params))
            if key in seen:
                alias[e.out] = seen[key]
                continue
            seen[key] = e.out
            kept.append(e)
        self.outputs = [resolve(r) for r in self.outputs]
        from .scalings import fold_scalings  # it builds on this module

        # folding counts the readers of each result: dead ones must be gone first
        self.equations = self._live(fold_scalings(self, self._live(self._skip_broadcasts(kept))))

    def _live(self, eqns):
        """The equations (in order) that some output depends on."""
        live = {r for r in self.outputs if type(r) is int}
        needed = []
        for e in reversed(eqns):
            if e.out in live:
                needed.append(e)
                live.update(r for r in e.ins if type(r) is int)
        return needed[::-1]

    def _skip_broadcasts(self, eqns):
        """Feed ``broadcast_to``'s input straight to consumers that broadcast it themselves.

        An elementwise operation whose other operand already has the broadcast shape gives
        the same result from the smaller input; the broadcast is then dead code (unless an
        output or another consumer needs it).
        """
        made = {e.out: e for e in eqns if e.prim.name == "broadcast_to"}
        if not made:
            return eqns
        out = []
        for e in eqns:
            if e.prim.name in _BROADCASTING and len(e.ins) == 2:
                ins = list(e.ins)
                for i, r in enumerate(ins):
                    other = ins[1 - i]
                    if (type(r) is int and r in made and type(other) is int
                            and self.avals[other] == self.avals[r] == self.avals[e.out]):
                        ins[i] = made[r].ins[0]
                e = e._replace(ins=tuple(ins))
            out.append(e)
        return out

    def _identity_of(self, e):
        rules = _IDENTITY.get(e.prim.name)
        if not rules:
            return None
        for i, test in rules:
            arg = e.ins[i]
            if type(arg) is int and self.avals[arg] == self.avals[e.out] and test(e):
                return arg
        return None

    # -- compilation --------------------------------------------------------------------
    def _aval_of(self, r):
        if type(r) is int:
            return self.avals[r]
        v = r.value
        return (getattr(v, "shape", ()), getattr(v, "dtype", type(v)))

    def source(self, bare=False):
        """The Python source of the compiled function and its namespace (see :meth:`compile`)."""
        lowered = lower(self)  # Numba kernels if asked, one pass over a large matrix read twice
        if lowered is not self:
            return lowered.source(bare)
        names = {v: f"a{k}" for k, v in enumerate(self.inputs)}
        ns = {}
        if getattr(self, "flat_slots", None):  # the views each flat result gave last (see _flat_join)
            ns["flat_slots"] = [None] * len(self.flat_slots)
        sums, fused = _scatter_sums(self)
        # what each equation reads: a fused sum reads its terms, the equations it replaces nothing
        uses = [() if k in fused else [g for _, g in sums[e.out]] if e.out in sums else e.ins
                for k, e in enumerate(self.equations)]
        last_use = {}
        for k, ins in enumerate(uses):
            for r in ins:
                if type(r) is int:
                    last_use[r] = k
        keep = {r for r in self.outputs if type(r) is int} | set(self.inputs)
        reusable = _reusable(self, fused | {k for k, e in enumerate(self.equations) if e.out in sums}, last_use)
        positive = _positive_strides(self)

        def ref(r):
            if type(r) is int:
                return names[r]
            name = f"c{len(ns)}"
            ns[name] = r.value
            return name

        # bit selects (where(m, x, +0.0)): {equation: (m, integer dtype)}, and the last to read each mask
        selects = {k: (e.ins[0], bits) for k, e in enumerate(self.equations) if k not in fused
                   and (bits := _bit_select(e, [self._aval_of(r) for r in e.ins], self.avals[e.out])) is not None}
        last_select = {m: k for k, m in selects.items()}
        masks = {}  # (m, integer dtype) -> the name of the widened mask

        lines = [f"def replay({', '.join(names[v] for v in self.inputs)}):"]
        lines += [f"    {names[v]} = {names[v]}[()]" for v in self._scalar_inputs()]
        for k, e in enumerate(self.equations):
            if k in fused:
                continue
            names[e.out] = f"v{e.out}"
            dead_masks = []
            if e.out in sums:
                lines += self._scatter_sum_lines(e.out, names[e.out], sums[e.out], ref, ns)
            elif e.prim.name in _FLAT_LINES:
                lines += _FLAT_LINES[e.prim.name](self, e, names, ref, ns)
            elif k in selects:
                key = selects[k]
                ns["select_mask"], ns["bitwise_and"] = _select_mask, np.bitwise_and
                if key not in masks:
                    masks[key] = f"m{e.out}"
                    lines.append(f"    {masks[key]} = select_mask({ref(key[0])}, {ref(Const(key[1]))})")
                mask, into = masks[key], ""
                if last_select[key] == k:  # the mask's last select writes into it
                    into = f", out={mask}"
                    dead_masks.append(mask)
                ints, floats = ref(Const(key[1])), ref(Const(self.avals[e.out][1]))
                lines.append(f"    {names[e.out]} = bitwise_and({mask}, {ref(e.ins[1])}.view({ints}){into}).view({floats})")
            else:
                into = next((r for r in e.ins if r in reusable and last_use[r] == k and reusable[r] < k
                             and self.avals[r] == self.avals[e.out]), None) if e.prim.name in UFUNCS and not e.params else None
                if into is None:
                    call = self._call(e, [ref(r) for r in e.ins], ns, dot=_vector_dot(self, e, positive))
                else:
                    fname = f"f{len(ns)}_{_ident(e.prim.name)}"
                    ns[fname] = UFUNCS[e.prim.name]
                    call = f"{fname}({', '.join(ref(r) for r in e.ins)}, out={names[into]})"
                lines.append(f"    {names[e.out]} = {call}")
            dead = sorted(r for r in set(uses[k]) if type(r) is int and last_use.get(r) == k and r not in keep)
            dead = [names[r] for r in dead] + dead_masks
            if dead:
                lines.append(f"    del {', '.join(dead)}")
        outs = [ref(r) + (".copy()" if self._shared(r) else "") for r in self.outputs]
        if bare and len(outs) == 1:
            lines.append(f"    return {outs[0]}")
        else:
            lines.append(f"    return ({', '.join(outs)}{',' if len(outs) == 1 else ''})")
        return "\n".join(lines), ns

    def _scalar_inputs(self):
        """0-d inputs to read as NumPy scalars: real numbers read only by exactly rounded
        arithmetic (the same bits either way), not returned. An optimizer's step count and
        learning rate: NumPy's scalar arithmetic costs 70 ns, a ufunc call on a 0-d array
        1.4 us."""
        readers = {}
        for e in self.equations:
            for r in e.ins:
                if type(r) is int:
                    readers.setdefault(r, []).append(e)
        returned = {r for r in self.outputs if type(r) is int}
        return [v for v in self.inputs
                if self.avals[v][0] == () and getattr(self.avals[v][1], "kind", None) in ("f", "i", "u")
                and v not in returned and v in readers
                and all(e.prim.name in _EXACT and not e.params for e in readers[v])]

    def _call(self, e, args, ns, dot=False, specialize=True):
        """The expression computing equation ``e`` from the argument names ``args`` (with
        ``dot``, a matmul of two vectors as ``ndarray.dot``: see :func:`_vector_dot`).
        ``specialize=False`` skips the specs built for the whole array's shape (a row loop
        feeds blocks of rows, the last one shorter): the primitive's own implementation."""
        if dot:
            return f"{args[0]}.dot({args[1]})"
        inline = getattr(e.prim.impl, "inline", None) if specialize else None
        if inline is not None:  # a fused kernel, called straight from the replay (kernels._inline)
            return inline(e, args, [self._aval_of(r) for r in e.ins], self.avals[e.out], ns)
        op = _OPERATORS.get(e.prim.impl) if not e.params else None
        spec = _SPECIALIZE.get(e.prim.name) if specialize else None
        if spec is not None:
            spec = spec(e, [self._aval_of(r) for r in e.ins], self.avals[e.out])
        if op is not None and len(args) == 2:
            return f"{args[0]} {op} {args[1]}"
        if isinstance(spec, str):
            return spec.format(*args)
        fn = spec or (e.prim.impl if not e.params else functools.partial(e.prim.impl, **e.params))
        fname = f"f{len(ns)}_{_ident(e.prim.name)}"
        ns[fname] = fn
        return f"{fname}({', '.join(args)})"

    def _scatter_sum_lines(self, var, name, terms, ref, ns):
        """Lines building a sum of ``scatter_add`` s (see :func:`_scatter_sums`) in one array.

        Each position receives its terms in the order the additions had, so the result is
        the unfused one. Integer indices of one length (``x[0]``, ``x[-1]``; ``x[1, 2]``)
        address disjoint parts once normalized, so each part's terms are added first and
        stored once; other indices (slices, mixed lengths) add into the array term by term.
        """
        shape, dtype = self.avals[var]
        zeros, dt = f"f{len(ns)}_zeros", f"c{len(ns) + 1}"
        ns[zeros], ns[dt] = np.zeros, dtype
        lines = [f"    {name} = {zeros}({tuple(shape)!r}, {dt})"]
        points = [_point(index, shape) for index, _ in terms]
        if None in points or len({len(p) for p in points}) > 1:  # x[0] (a row) overlaps x[0, 1]
            return lines + [f"    {name}[{index!r}] += {ref(g)}" for index, g in terms]
        groups = {}
        for p, (_, g) in zip(points, terms):
            groups.setdefault(p, []).append(ref(g))
        return lines + [f"    {name}[{p!r}] = {' + '.join(gs)}" for p, gs in groups.items()]

    def _shared(self, r):
        """Whether output ``r`` would hand the caller an array that outlives the call: a
        constant of the program or an input. Callers write to their results (``g *= lr``),
        which must change neither later replays nor other threads' results."""
        if type(r) is int:
            return r in self.inputs
        return isinstance(r.value, np.ndarray)

    def compile(self, bare=False):
        """A Python function ``replay(*inputs) -> tuple of outputs`` running the program.

        With ``bare``, a program of one output returns that output itself, not a 1-tuple
        (what a caller such as :func:`slopes.jit` hands on as is, one indexing less per call).
        """
        key = self._memo_key(bare)
        done = program_memo.lookup(key)
        if done is None:
            src, ns = self.source(bare)
            code = _code(src)
            program_memo.store(key, (src, code, dict(ns)))
        else:  # the constants and functions are the same objects or the same bits (program_memo)
            src, code, ns = done
            ns = dict(ns)
            if "flat_slots" in ns:  # each compiled function keeps its own last flat results
                ns["flat_slots"] = [None] * len(ns["flat_slots"])
        exec(code, ns)  # noqa: S102 - source generated from the traced program above
        fn = ns["replay"]
        fn.source = src
        return fn

    def _memo_key(self, bare):
        """The key of this program's compiled code in :mod:`~slopes.core.program_memo`: set by
        :meth:`optimize`, valid while the equations and outputs are the ones it left."""
        memo = getattr(self, "_memo", None)
        if memo is None:
            return None
        key, eqs, outs = memo
        if len(eqs) != len(self.equations) or len(outs) != len(self.outputs) or not (
                all(map(operator.is_, eqs, self.equations)) and all(map(operator.is_, outs, self.outputs))):
            return None
        # what lowering reads besides the program: Numba or not, the kernels' and row loops'
        # thresholds, and whether the leaves' fusion is done already
        return ("compiled", key, bool(bare), self.kernels, tiling.MIN_BYTES, tiling.BLOCK_BYTES,
                kernel_module.MIN_SIZE, narrow_rows.MAX_WIDTH, bool(getattr(self, "fuse_leaves_done", False)))

    def __str__(self):
        def show(r):
            return f"%{r}" if type(r) is int else repr(r)

        def param(v):
            s = repr(v)
            return s if len(s) <= 40 else s[:37] + "..."

        head = f"program({', '.join(f'%{v}: {_aval(self.avals[v])}' for v in self.inputs)})"
        body = []
        for e in self.equations:
            ps = "".join(f", {k}={param(v)}" for k, v in e.params.items())
            body.append(f"  %{e.out}: {_aval(self.avals[e.out])} = {e.prim.name}"
                        f"({', '.join(show(r) for r in e.ins)}{ps})")
        body.append(f"  return {', '.join(show(r) for r in self.outputs)}")
        return "\n".join([head] + body)


# -- the horizontal fusion's equations (slopes.core.horizontal) ---------------------------
def _flat_empty(program, e, names, ref, ns):
    shape, dtype = program.avals[e.out]
    return [f"    {names[e.out]} = {ref(Const(np.empty))}({shape!r}, {ref(Const(dtype))})"]


def _flat_into(program, e, names, ref, ns):
    """A part of a flat buffer: its producer's result written into its place (``out=``), or a copy."""
    p, out = e.params, names[e.out]
    place = _spec_flat_part(e, None, None).format(names[e.ins[-1]])
    made, args = p["eq"], [ref(r) for r in e.ins[:-1]]
    if made is None:
        return [f"    {out} = {place}", f"    {out}[...] = {args[0]}"]
    name = made.prim.name
    if name == "sum_to":  # over the leading axes (horizontal._writable): its replay's own sum (blas_sum)
        fn = _spec_sum_to(made, [program._aval_of(made.ins[0])], program.avals[made.out])
    else:
        fn = np.matmul if name == "matmul" else UFUNCS[name]
    return [f"    {out} = {ref(Const(fn))}({', '.join(args)}, out={place})"]


def _flat_ready(program, e, names, ref, ns):
    return [f"    {names[e.out]} = {names[e.ins[0]]}"]


def _flat_join(program, e, names, ref, ns):
    """The parts (program inputs) in one flat buffer: the buffer of a flat result the program
    returned last when the parts are exactly its views, else their concatenation."""
    out, parts = names[e.out], [ref(r) for r in e.ins]
    join = f"{ref(Const(np.concatenate))}(({''.join(a + ', ' for a in parts)}), None)"
    if not e.params["recall"]:
        return [f"    {out} = {join}"]
    lines, indent = [], "    "
    for s in e.params["recall"]:
        same = " and ".join(f"t[{i}] is {a}" for i, a in enumerate(parts))
        lines += [f"{indent}t = flat_slots[{s}]", f"{indent}if t is not None and {same}:",
                  f"{indent}    {out} = t[{len(parts)}]", f"{indent}else:"]
        indent += "    "
    return lines + [f"{indent}{out} = {join}"]


def _flat_record(program, e, names, ref, ns):
    return [f"    flat_slots[{e.params['slot']}] = ({''.join(ref(r) + ', ' for r in e.ins)})"]


_FLAT_LINES = {"flat_empty": _flat_empty, "flat_into": _flat_into, "flat_ready": _flat_ready,
               "flat_join": _flat_join, "flat_record": _flat_record}


@functools.lru_cache(maxsize=128)
def _code(src):
    """The code object of a program's source, shared by every program with that exact text.

    The same function traced again (a fresh ``sl.jit`` wrapper, each ``sl.ml.fit`` call's step
    programs, repeated ``sl.minimize`` calls) writes the same source, and Python's ``compile``
    costs 0.2-0.7 ms a program. Only the code is shared: the source names its constants and
    functions, whose values live in each program's own namespace.

    >>> _code("x = 1") is _code("x = 1")
    True
    """
    return compile(src, "<slopes.jit program>", "exec")


def _scatter_sums(program):
    """Sums of ``scatter_add`` s to fuse: ``({root var: [(index, term), ...]}, {fused equation numbers})``.

    A gradient through ``x[0]``, ``x[1]``, ... is ``scatter_add(g0, 0) + scatter_add(g1, 1) +
    ...``: one zero array per term, then an array addition per term. A left-to-right chain of
    such additions (each intermediate used once, one shape and NumPy dtype throughout) is
    written as one array that receives every term (see :meth:`Program._scatter_sum_lines`);
    a lone ``scatter_add`` is the chain of one term.
    """
    eqs = program.equations
    uses = {}
    for r in [r for e in eqs for r in e.ins] + list(program.outputs):
        if type(r) is int:
            uses[r] = uses.get(r, 0) + 1
    terms, made_at, fused = {}, {}, set()
    for k, e in enumerate(eqs):
        aval = program.avals[e.out]
        if e.prim.name == "scatter_add" and _basic_index(e.params["index"]):
            g_dtype = program._aval_of(e.ins[0])[1]
            if isinstance(g_dtype, np.dtype) and g_dtype == aval[1]:
                terms[e.out], made_at[e.out] = [(e.params["index"], e.ins[0])], k
        elif e.prim.name == "add" and not e.params and len(e.ins) == 2:
            a, b = e.ins
            if (a in terms and b in terms and a != b and len(terms[b]) == 1 and uses[a] == uses[b] == 1
                    and program.avals[a] == program.avals[b] == aval):
                terms[e.out] = terms.pop(a) + terms.pop(b)
                fused.update((made_at.pop(a), made_at.pop(b)))
                made_at[e.out] = k
    return terms, fused


def _point(index, shape):
    """``index`` as nonnegative ints when it picks whole elements (``(0,)``, ``(-1, 2)``), else None."""
    if not all(type(i) is int for i in index) or len(index) > len(shape):
        return None
    return tuple(i % n for i, n in zip(index, shape))


def _aval(a):
    shape, dtype = a
    name = getattr(dtype, "name", getattr(dtype, "__name__", str(dtype)))
    return f"{name}{list(shape)}"


def _ident(name):
    return "".join(c if c.isalnum() else "_" for c in name)[:30]
