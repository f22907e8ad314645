"""Horizontal fusion: one elementwise chain run once over all the leaves of a pytree.

An optimizer updates every leaf of the parameters with the same chain of elementwise calls
and the same scalar operands (Adam: ``m + c1*(g - m)``, ``v + c2*(g*g - v)``,
``p + (-lr)*(m / (sqrt(v) + eps))``). On small leaves each NumPy call is mostly its fixed
cost (about 0.5 us), so four leaves pay four times the calls of one. :func:`fuse_leaves`
runs such chains once on flat buffers holding all the leaves one after another (what torch
calls a multi-tensor or "foreach" update).

Terms, for a staged :class:`~slopes.core.program.Program`:

* a *cluster* is a maximal set of elementwise equations connected by the values they pass
  each other, all of one shape S (ndim >= 1): each is an exactly rounded ufunc
  (:data:`FUSABLE`) whose array operands have shape S; 0-d operands (a learning rate, a
  constant) are allowed;
* its *ports* are the arrays of shape S it reads from outside (program inputs, results of
  other equations), numbered in the order the cluster first reads them; its *exports* are
  its results that are returned or read outside it;
* clusters are *isomorphic* when their equations, in program order, have the same
  primitives and dtypes, read ports at the same positions and the very same 0-d operands
  (one variable, or equal constants). Their shapes may differ: that is the point.

A group of k >= 2 isomorphic clusters becomes one flat variable per port position (its k
parts in order), the cluster's equations once on the flat variables, and each export as a
view ``flat[o:o + n].reshape(shape)`` of its flat result. A port's flat buffer is filled
by the producers of its parts where they can write their result into their place with
``out=`` (matrix products, ufuncs, sums over leading axes), by a copy otherwise. A port
whose parts are program inputs (parameters, optimizer state) is copied in by one
``np.concatenate``, and a group pays for that copy; but when the caller passes back exactly
the arrays the program returned last (``params, state = step(params, state, batch)``),
those are views of one flat result, and the port reads that result's buffer without a
copy. The test is the identity of every part with the views returned most recently, kept
per compiled program (a slot per flat result): a view never changes its offset and the
call path checks shapes and dtypes, so identity proves the layout; two threads calling at
once at worst miss and copy. Nothing is ever written into an input. The slots hold their
views strongly: a compiled program keeps its last call's flat results alive until its
next call, so a jitted function may hold that much memory for each of the programs in its
cache (up to ``cache_size``) after the caller drops the results (weak references would
free it, at about 10,000 more instructions, 1.5 us, a step for Adam on four leaves).

Results are bit for bit the unfused replay's: only exactly rounded operations are fused,
which give the same bits for an entry whatever the array's length or memory layout, and
each entry sees the same operations in the same order. The one exception is asked for:
a :data:`~slopes.core.ops.reduce.squares_any_order` of all the parts of a flat buffer, in
order, becomes one dot product over the buffer (the same sum in another order). A group
is fused only when it pays (:func:`pays`): NumPy calls saved, ``(k - 1)`` per equation,
against the views and copies it adds (two large leaves under a two-call chain do not pay).
"""

from __future__ import annotations

import copy
import heapq
import itertools
import math
from typing import NamedTuple

import numpy as np

from .ops.reduce import squares_any_order
from .trace import Primitive

__all__ = ["FUSABLE", "Cluster", "clusters", "fuse_leaves", "groups", "pays"]

#: Elementwise primitives fused across leaves: exactly rounded, so an entry's bits do not
#: depend on the array around it (a transcendental ufunc may take a vector path on a
#: contiguous buffer and a scalar one on a strided input, a last-bit difference).
FUSABLE = frozenset({"add", "subtract", "multiply", "divide", "negative", "sqrt"})

# What a group costs and saves, in NumPy calls on small arrays (about 0.5 us each)
_VIEW = 0.5  # an export's view, flat[o:o + n].reshape(shape)
_INTO = 0.3  # a producer writing into its part (the slice it writes through)
_COPY_ENTRY = 1 / 2000  # copying one entry (about 0.25 ns: a pass over cached memory)

# the equations the rewrite adds (compiled by slopes.core.program.Program.source)
JOIN = Primitive("flat_join", None, differentiable=False)  # parts (inputs) -> one flat buffer
EMPTY = Primitive("flat_empty", None, differentiable=False)  # a flat buffer its parts are written into
INTO = Primitive("flat_into", None, differentiable=False)  # a part written into its place
READY = Primitive("flat_ready", None, differentiable=False)  # the buffer, once every part is in
PART = Primitive("flat_part", None, differentiable=False)  # an export: a view of a flat result
RECORD = Primitive("flat_record", None, differentiable=False)  # remember the views returned


class Cluster(NamedTuple):
    """One cluster (see the module docstring): its equations in program order, its shape,
    its ports by position, the positions of its exports, and its signature."""

    eqs: tuple
    shape: tuple
    ports: tuple
    exports: frozenset
    signature: tuple


def _folded(program):
    """The results of the equations a sum of ``scatter_add`` s is written with as one array
    (:func:`slopes.core.program._scatter_sums`): neither fused nor rewritten, or the sum would
    lose that economy (a zero array and a copy per term)."""
    from .program import _scatter_sums  # noqa: PLC0415 - the program module lowers through this one

    sums, fused = _scatter_sums(program)
    return set(sums) | {program.equations[k].out for k in fused}


def _cluster_shape(program, e):
    """The shape S of equation ``e`` when it can be part of a cluster, else None."""
    if e.prim.name not in FUSABLE or e.params:
        return None
    shape, dtype = program.avals[e.out]
    if not shape or getattr(dtype, "kind", None) != "f":
        return None
    for r in e.ins:
        s = tuple(program._aval_of(r)[0])
        if not (s == () or type(r) is int and s == tuple(shape)):  # an array constant is not a port
            return None
    return tuple(shape)


def _scalar_key(r):
    """What makes two 0-d operands the same: the variable, or a constant's type and value."""
    if type(r) is int:
        return ("var", r)
    v = r.value
    return ("const", getattr(v, "dtype", type(v)), v.item() if isinstance(v, (np.ndarray, np.generic)) else v)


def clusters(program):
    """The clusters of ``program`` (a list of :class:`Cluster`), in program order.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> f = lambda a, b: (a * 2.0 + 1.0, b * 2.0 + 1.0)
    >>> prog = sl.jit(f).trace(np.zeros(3), np.zeros((2, 2)))
    >>> [(len(c.eqs), c.shape) for c in clusters(prog)]
    [(2, (3,)), (2, (2, 2))]
    """
    eqs = program.equations
    folded = _folded(program)
    shape_of = {e.out: None if e.out in folded else _cluster_shape(program, e) for e in eqs}
    parent = {e.out: e.out for e in eqs if shape_of[e.out] is not None}

    def root(v):
        while parent[v] != v:
            parent[v] = v = parent[parent[v]]
        return v

    for e in eqs:
        if e.out in parent:
            for r in e.ins:
                if type(r) is int and r in parent and shape_of[r] == shape_of[e.out]:
                    parent[root(r)] = root(e.out)
    members = {}
    for e in eqs:
        if e.out in parent:
            members.setdefault(root(e.out), []).append(e)
    readers = {}
    for e in eqs:
        for r in e.ins:
            if type(r) is int:
                readers.setdefault(r, set()).add(e.out)
    returned = {r for r in program.outputs if type(r) is int}
    found = []
    for group in members.values():
        local = {e.out: j for j, e in enumerate(group)}
        ports, sig = {}, []
        for e in group:
            args = []
            for r in e.ins:
                if type(r) is int and r in local:
                    args.append(("eq", local[r]))
                elif program._aval_of(r)[0] == ():
                    args.append(_scalar_key(r))
                else:
                    args.append(("port", ports.setdefault(r, len(ports)), program.avals[r][1]))
            sig.append((e.prim.name, program.avals[e.out][1], tuple(args)))
        exports = frozenset(j for j, e in enumerate(group)
                            if e.out in returned or readers.get(e.out, set()) - local.keys())
        found.append(Cluster(tuple(group), shape_of[group[0].out], tuple(ports), exports, tuple(sig)))
    return found


def groups(program):
    """Groups of k >= 2 isomorphic clusters of ``program``: lists of :class:`Cluster` in program order.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> f = lambda a, b, c: (a * 2.0 + 1.0, b * 2.0 + 1.0, c * 3.0 + 1.0)  # c's chain differs
    >>> prog = sl.jit(f).trace(np.zeros(3), np.zeros((2, 2)), np.zeros(4))
    >>> [[c.shape for c in g] for g in groups(prog)]
    [[(3,), (2, 2)]]
    """
    by_sig = {}
    for c in clusters(program):
        by_sig.setdefault(c.signature, []).append(c)
    return [g for g in by_sig.values() if len(g) >= 2]


def _size(shape):
    return math.prod(shape)


def _writable(program, e):
    """Whether equation ``e`` can write its result straight into a part of a flat buffer with
    ``out=``, giving the bits it gives into a new array: a product of two floating arrays (one
    BLAS call either way) below the size a row loop takes, an exactly rounded ufunc, or a
    floating sum over leading axes (summed as the primitive sums, :mod:`slopes.core.ops.blas_sum`)."""
    name = e.prim.name
    if name not in FUSABLE and name not in ("matmul", "sum_to"):  # asked of every equation: decided first
        return False
    dtype = program.avals[e.out][1]
    avals = [program._aval_of(r) for r in e.ins]
    if not all(type(r) is int for r in e.ins) or any(d != dtype for _, d in avals):
        return False
    if name == "matmul":  # not a product with a large matrix, which a row loop may take (core/tiling)
        limit = _row_loop_bytes()
        return len(e.ins) == 2 and all(len(s) >= 1 and _size(s) * d.itemsize < limit for s, d in avals)
    if name in FUSABLE:  # an exactly rounded ufunc: no vector path that might see the buffer's alignment
        return not e.params
    if name == "sum_to" and len(e.ins) == 1:
        xs, shape = avals[0][0], tuple(e.params["shape"])
        return len(xs) > len(shape) and tuple(xs[len(xs) - len(shape):]) == shape
    return False


def _row_loop_bytes():
    from .tiling import MIN_BYTES  # noqa: PLC0415 - tiling lowers through this module

    return MIN_BYTES


def _writers(program):
    """The variables whose equation can write its result into a part of a flat buffer
    (:func:`_writable`), but for the additions of a folded sum of ``scatter_add`` s."""
    folded = _folded(program)
    return {e.out for e in program.equations if e.out not in folded and _writable(program, e)}


def pays(program, group, writers=None):
    """Whether fusing ``group`` (a list of isomorphic :class:`Cluster` s) saves work: NumPy calls
    saved, ``(k - 1)`` per equation, against the views out and the filling of each flat port
    (copies per entry, a slice per part written in place). Input ports are charged their copy
    even when a loop may pass back the program's own results (read without one): a map
    called on fresh arrays must not be slowed down. ``writers``: :func:`_writers` of
    ``program``, when the caller has it already.

    Examples
    --------
    >>> import numpy as np, slopes as sl, slopes.numpy as snp
    >>> f = lambda a, b: snp.sum((a * 2.0 + 1.0) * a) + snp.sum((b * 2.0 + 1.0) * b)
    >>> small = sl.jit(f).trace(np.zeros(3), np.zeros(4))
    >>> pays(small, groups(small)[0])
    True
    >>> large = sl.jit(f).trace(np.zeros(10**5), np.zeros(10**5))  # copying them in costs more
    >>> pays(large, groups(large)[0])
    False
    """
    k, c0 = len(group), group[0]
    saved = (k - 1) * len(c0.eqs)
    exports = set().union(*(c.exports for c in group))
    cost = len(exports) * k * _VIEW
    writers = _writers(program) if writers is None else writers
    inputs = set(program.inputs)
    for p in range(len(c0.ports)):
        parts = [c.ports[p] for c in group]
        if all(r in inputs for r in parts):
            cost += 1 + sum(_size(program.avals[r][0]) for r in parts) * _COPY_ENTRY
            continue
        for r in parts:
            cost += _INTO if r in writers else 1 + _size(program.avals[r][0]) * _COPY_ENTRY
    return saved > cost


def fuse_leaves(program):
    """``program`` with each group of isomorphic elementwise clusters that pays run once on
    flat buffers (see the module docstring); ``program`` itself when there is none, or when its
    ``fuse_leaves_done`` attribute is true (a program this made, or one to replay leaf by leaf).

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> f = lambda a, b, s: ((a * s + 1.0) * s - 1.0, (b * s + 1.0) * s - 1.0)
    >>> prog = sl.jit(f).trace(np.zeros(3), np.zeros((2, 2)), 2.0)
    >>> [e.prim.name for e in fuse_leaves(prog).equations]  # doctest: +NORMALIZE_WHITESPACE
    ['flat_join', 'multiply', 'add', 'multiply', 'subtract', 'flat_part', 'flat_part',
     'flat_record']
    >>> prog.compile()(np.arange(3.0), np.ones((2, 2)), np.asarray(2.0))[1]
    array([[5., 5.],
           [5., 5.]])
    """
    if getattr(program, "fuse_leaves_done", False):  # lowered already (its source is written from it)
        return program
    out, writers = program, None
    for group in groups(program):
        writers = _writers(out) if writers is None else writers  # of `out`: again after a rewrite
        if pays(out, group, writers):
            new = _Rewrite(out, group, writers).program()
            if new is not None:
                out, writers = new, None
    return out


class _Rewrite:
    """One group's rewrite of a program (see :func:`fuse_leaves`)."""

    def __init__(self, program, group, writers):
        self.old, self.group = program, group
        self.writers = writers  # _writers(program)
        self.new = new = copy.copy(program)
        new.avals = dict(program.avals)
        self.flat_slots = dict(getattr(program, "flat_slots", {}))  # record slot -> the views it keeps
        new.flat_slots = self.flat_slots
        self.flat_ports = dict(getattr(program, "flat_ports", {}))  # parts -> the flat variable holding them
        new.flat_ports = self.flat_ports
        new.fuse_leaves_done = True
        self.offsets = list(itertools.accumulate((_size(c.shape) for c in group), initial=0))
        self.total = self.offsets[-1]
        self.added = []  # (priority, equation)
        self.replaced = set()  # variables now made by a part written into its place
        self.removed = {e.out for c in group for e in c.eqs}
        index = {e.out: k for k, e in enumerate(program.equations)}
        self.index = index
        self.last = max(index[e.out] for c in group for e in c.eqs)

    def var(self, shape, dtype):
        v = self.new._next
        self.new._next += 1
        self.new.avals[v] = (tuple(shape), dtype)
        return v

    def add(self, priority, prim, ins, params, out):
        e = self.old.equations[0]._replace(prim=prim, ins=tuple(ins), params=params, out=out)
        self.added.append((priority, e))
        return out

    def part(self, i):
        return {"start": self.offsets[i], "stop": self.offsets[i + 1], "shape": self.group[i].shape}

    def program(self):
        """The rewritten program, or None when its equations cannot be ordered (a part of a
        port depends on the group's own results)."""
        group, old = self.group, self.old
        c0, tail = group[0], self.last + 0.5
        returned = {r for r in old.outputs if type(r) is int}
        exports = {}  # position -> (its views, its record slot or None)
        for j in sorted(set().union(*(c.exports for c in group))):
            views = tuple(c.eqs[j].out for c in group)
            slot = None
            if any(v in returned for v in views):  # the next call may be handed these views back
                slot = len(self.flat_slots)
                self.flat_slots[slot] = views
            exports[j] = views, slot
        flat = {}
        for p in range(len(c0.ports)):
            parts = tuple(c.ports[p] for c in group)
            flat[("port", p)] = self.fill(parts, old.avals[parts[0]][1])
        for j, e in enumerate(c0.eqs):
            reads = zip(e.ins, c0.signature[j][2])
            ins = [flat[how[:2]] if how[0] in ("eq", "port") else r for r, how in reads]
            out = self.var((self.total,), old.avals[e.out][1])
            flat[("eq", j)] = self.add(tail, e.prim, ins, {}, out)
        self.squares({**self.flat_ports, **{views: flat[("eq", j)] for j, (views, _) in exports.items()}})
        read = {r for e in old.equations if e.out not in self.removed for r in e.ins if type(r) is int}
        for j, (views, slot) in exports.items():
            for i, v in enumerate(views):  # a view nothing reads is not made (a recorded slot keeps all)
                if slot is not None or v in read:
                    self.add(tail, PART, [flat[("eq", j)]], self.part(i), v)
            if slot is not None:
                ins = list(views) + [flat[("eq", j)]]
                self.add(tail, RECORD, ins, {"slot": slot}, self.var((), np.dtype(object)))
        return self.ordered()

    def squares(self, whole):
        """Each :data:`~slopes.core.ops.reduce.squares_any_order` of all the parts of one flat
        variable, in order, as one over that variable (``whole``: parts -> their flat variable)."""
        for k, e in enumerate(self.old.equations):
            flat = whole.get(e.ins) if e.prim is squares_any_order and all(type(r) is int for r in e.ins) else None
            if flat is not None:
                self.removed.add(e.out)
                self.add(k, squares_any_order, [flat], {}, e.out)

    def fill(self, parts, dtype):
        """The flat variable of one port whose parts are ``parts``."""
        if parts in self.flat_ports:  # another group's port already holds them
            return self.flat_ports[parts]
        self.flat_ports[parts] = made = self._fill(parts, dtype, self.last + 0.25)
        return made

    def _fill(self, parts, dtype, tail):
        old = self.old
        if all(r in old.inputs for r in parts):
            avals = tuple(old.avals[r] for r in parts)
            at = [old.inputs.index(r) for r in parts]
            outputs = list(old.outputs)
            # the results returned where these inputs were passed (a loop's own shape) are tested first
            slots = self.flat_slots
            recall = sorted((s for s, views in slots.items() if tuple(old.avals[v] for v in views) == avals),
                            key=lambda s: [outputs.index(v) if v in outputs else -1 for v in slots[s]] != at)
            return self.add(tail, JOIN, parts, {"recall": tuple(recall)}, self.var((self.total,), dtype))
        producers = [old.equations[self.index[r]] if r in self.index else None for r in parts]
        first = min(self.index[e.out] for e in producers if e is not None) if any(producers) else tail
        buf = self.add(first - 0.5, EMPTY, [], {}, self.var((self.total,), dtype))
        done = []
        for i, (r, e) in enumerate(zip(parts, producers)):
            if r in self.writers and r not in self.replaced:
                where = dict(self.part(i), eq=e)
                self.replaced.add(self.add(self.index[r], INTO, list(e.ins) + [buf], where, r))
                done.append(r)
            else:  # copied in once made
                at = self.index[r] + 0.1 if e is not None else first - 0.4
                copied = self.var(old.avals[r][0], dtype)
                done.append(self.add(at, INTO, [r, buf], dict(self.part(i), eq=None), copied))
        return self.add(tail, READY, [buf] + done, {}, self.var((self.total,), dtype))

    def ordered(self):
        """The new equations in an order that respects their dependencies, as close to the
        old order as they allow (readers of an export wait for the group's flat equations);
        None when there is none (a cycle)."""
        entries = [(k, e) for k, e in enumerate(self.old.equations)
                   if e.out not in self.removed and e.out not in self.replaced]
        entries += [(p, e) for p, e in self.added]
        made = {e.out: n for n, (_, e) in enumerate(entries)}
        waiting = [0] * len(entries)
        readers = [[] for _ in entries]
        for n, (_, e) in enumerate(entries):
            for r in set(e.ins):
                if type(r) is int and r in made:
                    waiting[n] += 1
                    readers[made[r]].append(n)
        ready = [(p, n) for n, (p, _) in enumerate(entries) if not waiting[n]]
        heapq.heapify(ready)
        order = []
        while ready:
            _, n = heapq.heappop(ready)
            order.append(entries[n][1])
            for m in readers[n]:
                waiting[m] -= 1
                if not waiting[m]:
                    heapq.heappush(ready, (entries[m][0], m))
        if len(order) != len(entries):
            return None
        self.new.equations = order
        return self.new
