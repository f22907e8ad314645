"""Row blocking: one pass over a large matrix that a program reads twice.

The gradient of a loss of ``z = A @ w`` (logistic regression, least squares, a GLM) reads
the data matrix ``A`` (n x d) twice: ``A @ w``, a chain of elementwise work on the n-vector
``z``, then ``r @ A`` (or ``A.T @ r``). Each product streams all of ``A`` from memory; the
elementwise work between them is small. :func:`row_blocked` rewrites such a stretch of a
:class:`~slopes.core.program.Program` as one loop over blocks of rows: ``A[i:j] @ w``, the
chain on that block, then ``r[i:j] @ A[i:j]`` while the block is still in cache, so ``A``
comes from memory once instead of twice.

What goes into the loop (the *members*), in program order from a matrix product
``A @ v`` whose ``A`` has n rows (or ``v @ A.T``, a vector times a constant laid out by
columns, which reads the same memory):

* *row operations*, whose output has the n rows in front and whose row ``k`` depends
  only on row ``k`` of their inputs: elementwise primitives (:data:`ELEMENTWISE`; an input
  with the n rows in front is sliced, one broadcast along the rows is used whole; fused
  kernels of :mod:`slopes.core.kernels` too), sums,
  maxima and minima over other axes, and matrix products ``B @ v`` of a row operand;
* *row reductions*, sums over the rows that blocks add up: ``sum`` over an axis set holding
  axis 0, ``sum_to`` a shape without the rows, and products ``r @ B`` / ``B.T @ r``
  contracting the rows. Each block's part is written into a row of partials, which are
  added in block order after the loop.

An equation that reads a reduction's result, or any other consumer of a row value (a
softmax over the rows, a cumulative sum, an output), runs after the loop; a row value it
reads is written block by block into a full array. Nothing that depends on the loop's
results runs inside it, so a chain that needs a sum over all rows before its second
product (``z - mean(z)``) is not blocked.

When it pays: only when a matrix of at least :data:`MIN_BYTES` is read by two or more
members (the pass it saves) and it makes two blocks or more; otherwise the program is
replayed as it is. A product with a matrix the loop already reads joins the loop even
without a row operand (``w @ A.T`` written twice, which the trace does not merge).

Blocks hold about :data:`BLOCK_BYTES` of the streamed operands' rows: half of a core's L2
cache as Linux reports it (2 MiB on the benchmark machine, so 1 MiB: about 1300 rows of
a 100-column float64 matrix and its labels). A constant broadcast along the rows (the ``1/n`` of a mean's backward pass) is
read as one row and costs no block space. What a block costs beyond its NumPy work is
small (see :class:`_LoopWriter`): the logistic gradient's block is five NumPy calls with
``out=`` buffers, no slicing and no allocation.

What it gains is bounded by memory: a single-threaded matrix-vector product of a block in
L2 runs about 3 times as fast per row as one streaming from memory, but the first product
of each block still streams, about as fast as one product over the whole matrix. On the
logistic gradient, (n, d) = (100,000, 100), one BLAS thread, the blocked program runs at the
time of the closed form blocked by hand, 0.85-0.90x the plain closed form on a busy 2-core
machine (``benchmarks/speed.py --only b2`` prints both, and CPU-time ratios).

With ``kernels="numba"``, a loop whose values are one number per row is one compiled
kernel instead (:mod:`slopes.core.row_kernels`), each row read once.

Results: row operations give the values the plain replay gives (the same NumPy calls on
slices); the reductions are summed block by block, a reordered sum, so they agree with the
plain replay to the rounding bound of a reordered sum (a few ``eps * sum |terms|``).
"""

from __future__ import annotations

import copy
import functools
import math
import operator
import os

import numpy as np

from .horizontal import fuse_leaves
from .kernels import fuse_elementwise, is_elementwise
from .narrow_rows import compile_narrow_rows
from .ops.rules import UFUNCS
from .row_kernels import row_kernel
from .trace import Primitive

__all__ = ["BLOCK_BYTES", "MIN_BYTES", "lower", "row_blocked"]

#: A matrix read twice is blocked from this size on (smaller ones stay in cache between reads).
MIN_BYTES = 2 << 20


def _l2_bytes(cache_dir="/sys/devices/system/cpu/cpu0/cache"):
    """A core's level-2 cache size in bytes, as Linux reports it; 2 MiB where it cannot be read."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    try:
        for entry in sorted(os.listdir(cache_dir)):
            read = functools.partial(_read_text, os.path.join(cache_dir, entry))
            if read("level") == "2" and read("type") in ("Unified", "Data"):
                size = read("size")
                return int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)
    except (OSError, ValueError):
        pass
    return 2 << 20


def _read_text(folder, name):
    with open(os.path.join(folder, name)) as f:
        return f.read().strip()


#: Bytes of the streamed operands' rows per block: half of a core's L2 cache (the other half
#: holds the block's temporaries and whatever else the loop touches).
BLOCK_BYTES = _l2_bytes() // 2

# how a member reads each argument
_ROW, _WHOLE, _ROWS, _COLS = "row", "whole", "rows", "cols"  # in-loop value, as is, x[i:j], x[:, i:j]
_REDUCTIONS = {"sum", "max", "min", "logsumexp", "log_softmax"}  # over their `axis`


def lower(program):
    """``program`` as it is compiled: the same elementwise chain on several leaves run once on
    flat buffers (:func:`~slopes.core.horizontal.fuse_leaves`: a flat chain is then long enough
    for a kernel), its elementwise trees as Numba kernels when ``program.kernels == "numba"``
    (:func:`~slopes.core.kernels.fuse_elementwise`), then its row loops (:func:`row_blocked`),
    then, with ``"numba"`` again, its reductions over short rows as compiled loops
    (:func:`~slopes.core.narrow_rows.compile_narrow_rows`); ``program`` itself when none applies.

    Examples
    --------
    >>> import numpy as np, slopes as sl, slopes.numpy as snp
    >>> prog = sl.jit(lambda x: snp.sum(snp.sin(x))).trace(np.zeros(3))
    >>> lower(prog) is prog
    True
    """
    out = fuse_leaves(program)
    if program.kernels == "numba":
        # a loop of one number per row is one compiled kernel; then the elementwise kernels and
        # the NumPy row loop; then the short rows' reductions (the loops read those by name)
        out = copy.copy(_fused_and_blocked(row_blocked(out, kernels="numba")))
        out.kernels = "numpy"  # fused once
        out = compile_narrow_rows(out)
    else:
        out = row_blocked(out)
    if out is not program:  # a copy made here: its source is written from it, the analysis not rerun
        out.fuse_leaves_done = True
    return out


def _fused_and_blocked(program):
    """``program``'s elementwise trees as Numba kernels, merged where they read each other
    (:func:`~slopes.core.kernels.fuse_elementwise`), then its NumPy row loop
    (:func:`row_blocked`). The kernels the loop runs on its blocks stay single (it cannot run a
    kernel of several results), and none merge when merging would take work out of the loop."""
    if not any(_product_rows(program, e) is not None for e in program.equations):  # no loop can form
        return row_blocked(fuse_elementwise(program))
    single = fuse_elementwise(program, alone=None)
    blocked = row_blocked(single)
    if blocked is single:
        return row_blocked(fuse_elementwise(program))
    in_loop = _loop_kernels(single, blocked)
    merged = fuse_elementwise(program, alone=in_loop)
    again = row_blocked(merged)
    return blocked if again is merged or in_loop - _loop_kernels(merged, again) else again


def _loop_kernels(fused, blocked):
    """The results of the fused kernels of ``fused`` that its row loop (``blocked``, what
    :func:`row_blocked` made of it) runs."""
    made = {e.out: e.prim.name for e in blocked.equations}  # a loop's results come out of it again
    return {e.out for e in fused.equations if e.prim.name == "fused_kernel"
            and made.get(e.out, "row_blocks") in ("row_blocks", "row_blocks_result")}


def row_blocked(program, kernels="numpy"):
    """``program`` with each blockable stretch (see the module docstring) as one row loop.

    Returns ``program`` itself when nothing pays; else a shallow copy whose stretches are
    single equations calling the loop. With ``kernels="numba"``, only a stretch whose
    values are one number per row is rewritten, as one compiled kernel
    (:func:`~slopes.core.row_kernels.row_kernel`).

    Examples
    --------
    >>> import numpy as np, slopes as sl, slopes.numpy as snp
    >>> X = np.random.default_rng(0).standard_normal((40_000, 64))
    >>> loss = lambda w: snp.sum(snp.logaddexp(0.0, X @ w))
    >>> prog = sl.jit(sl.grad(loss)).trace(np.zeros(64))
    >>> [e.prim.name for e in row_blocked(prog).equations]
    ['row_blocks']
    >>> g = prog.compile()(np.full(64, 0.01))[0]
    >>> bool(np.allclose(g, X.T @ (0.5 * (1 + np.tanh(0.5 * (X @ np.full(64, 0.01)))))))
    True
    """
    for h, e in enumerate(program.equations):
        n = _product_rows(program, e)
        if n is not None:
            seg = _Segment(program, h, n)
            if not seg.pays():
                continue
            if kernels != "numba":
                return seg.rewrite("row_blocks", lambda ext, results: _LoopWriter(seg, ext, results).function())
            loop = seg.rewrite("row_kernel", lambda ext, results: row_kernel(
                seg, ext, results, lambda: _LoopWriter(seg, ext, results).function()))
            return program if loop is None else loop
    return program


def _product_rows(program, e):
    """The n of a product ``A @ v`` (A large, n x d) or ``v @ A.T`` (v a vector) that may
    start a row loop; None for any other equation."""
    if e.prim.name != "matmul" or len(e.ins) != 2:
        return None
    (ps, _), (qs, _) = (program._aval_of(r) for r in e.ins)
    if len(ps) == 2 and _nbytes(program, e.ins[0]) >= MIN_BYTES:
        return ps[0]
    if len(ps) == 1 and _columns_are_rows(e.ins[1]) and _nbytes(program, e.ins[1]) >= MIN_BYTES:
        return qs[1]
    return None


def _columns_are_rows(r):
    """Whether ``r`` is a constant matrix laid out by columns (``A.T`` of a C-ordered ``A``), so
    that a block of its columns is a block of ``A``'s rows in memory."""
    v = getattr(r, "value", None)
    return isinstance(v, np.ndarray) and v.ndim == 2 and v.strides[1] > v.strides[0] == v.itemsize


def _nbytes(program, r):
    shape, dtype = program._aval_of(r)
    return math.prod(shape) * getattr(dtype, "itemsize", 0)


class _Segment:
    """The members of one row loop starting at equation ``h`` (a product ``A @ v``, A with n rows)."""

    def __init__(self, program, h, n):
        self.program, self.n = program, n
        self.how = {}  # member equation index -> (kind "row"/"tail", how each argument is read)
        self.row = set()  # variables the loop computes block by block
        self.kept = set()  # row variables needed after the loop (written into full arrays)
        tainted = set()  # variables known only after the loop
        outputs = {r for r in program.outputs if type(r) is int}
        for k in range(h, len(program.equations)):
            e = program.equations[k]
            reads = [r for r in e.ins if type(r) is int]
            after = any(r in tainted for r in reads)  # it runs after the loop
            if not after:
                role = self._role(e)
                if role is not None and (k == h or _ROW in role[1] or self._rereads(e, role[1])):
                    self.how[k] = role
                    (self.row if role[0] == "row" else tainted).add(e.out)
                    continue
            used = [r for r in reads if r in self.row]  # row values read outside the loop are kept
            self.kept.update(used)
            if after or used:
                tainted.add(e.out)
        self.kept |= self.row & outputs

    def _role(self, e):
        """``(kind, how each argument is read)`` if ``e`` can run in the loop, else None."""
        p, n, name = self.program, self.n, e.prim.name
        avals = [p._aval_of(r) for r in e.ins]
        out_shape, out_dtype = p.avals[e.out]
        inloop = [type(r) is int and r in self.row for r in e.ins]
        if is_elementwise(e.prim):
            nd = len(out_shape)
            if nd == 0 or out_shape[0] != n or any(i and len(s) != nd for i, (s, _) in zip(inloop, avals)):
                return None
            return "row", [_ROW if i else _ROWS if len(s) == nd and s[0] == n else _WHOLE
                           for i, (s, _) in zip(inloop, avals)]
        if not isinstance(out_dtype, np.dtype) or not any(inloop) and name != "matmul":
            return None
        if name in _REDUCTIONS and e.ins and inloop[0] and len(e.ins) == 1:
            axis = e.params.get("axis")
            if axis is not None and 0 not in axis:
                return "row", [_ROW]
            return ("tail", [_ROW]) if name == "sum" else None
        if name == "sum_to" and inloop[0]:
            shape, xs = tuple(e.params["shape"]), avals[0][0]
            return ("tail", [_ROW]) if len(shape) < len(xs) or shape[0] == 1 else None
        if name == "matmul" and len(e.ins) == 2:
            (ps, _), (qs, _) = avals
            if not (1 <= len(ps) <= 2 and 1 <= len(qs) <= 2):
                return None
            if len(ps) == 2 and ps[0] == n and not inloop[1]:  # rows of P times a whole v
                return "row", [_ROW if inloop[0] else _ROWS, _WHOLE]
            if len(ps) == 1 and qs[-1] == n and _columns_are_rows(e.ins[1]) and not inloop[0]:  # v @ A.T
                return "row", [_WHOLE, _COLS]
            if ps[-1] == n and qs[0] == n and any(inloop) and not (inloop[0] and len(ps) == 2):
                return "tail", [_ROW if inloop[0] else _ROWS if len(ps) == 1 else _COLS,
                                _ROW if inloop[1] else _ROWS]
        return None

    def _rereads(self, e, how):
        """Whether ``e`` reads its sliced operands from matrices the loop already reads (a
        second ``A @ w`` the trace did not merge with the first, e.g. ``w @ A.T`` written
        twice): in the loop their blocks come from cache."""
        eqs = self.program.equations
        seen = {self._identity(r) for k, (_, hs) in self.how.items() for r, h in zip(eqs[k].ins, hs)
                if h in (_ROWS, _COLS)}
        sliced = [r for r, h in zip(e.ins, how) if h in (_ROWS, _COLS)]
        return bool(sliced) and all(self._identity(r) in seen for r in sliced)

    def _identity(self, r):
        """What memory a sliced operand reads: equal for a matrix and its transpose."""
        if type(r) is int:
            return ("var", r)
        v = r.value
        return ("mem", v.__array_interface__["data"][0], v.nbytes)

    def _sliced(self):
        """``{(operand, how): identity}`` of the operands the members slice."""
        eqs = self.program.equations
        return {(r, h): self._identity(r) for k, (_, how) in self.how.items()
                for r, h in zip(eqs[k].ins, how) if h in (_ROWS, _COLS)}

    def pays(self):
        """Whether a large operand is read by two or more members (and there are two blocks or more)."""
        if len(self.bounds()) < 2:
            return False
        reads = {}
        eqs = self.program.equations
        for k, (_, how) in self.how.items():
            for r, h in zip(eqs[k].ins, how):
                if h in (_ROWS, _COLS) and _nbytes(self.program, r) >= MIN_BYTES:
                    key = self._identity(r)
                    reads[key] = reads.get(key, 0) + 1
        return any(c >= 2 for c in reads.values())

    def bounds(self):
        """Row ranges ``(i, j)`` holding about :data:`BLOCK_BYTES` of the streamed operands'
        rows each: equal blocks, and a last one that may be shorter."""
        widths = {}
        for (r, _), ident in self._sliced().items():
            if not _repeated_rows(r):
                shape, dtype = self.program._aval_of(r)
                widths[ident] = math.prod(shape) // self.n * dtype.itemsize
        rows = max(1, BLOCK_BYTES // max(1, sum(widths.values())))
        rows = math.ceil(self.n / math.ceil(self.n / rows))  # the same block count, the blocks evened out
        return [(i, min(i + rows, self.n)) for i in range(0, self.n, rows)]

    # -- the rewritten program ------------------------------------------------------------
    def rewrite(self, name, write):
        """The program with the loop as one equation ``name`` calling ``write(ext, results)``
        (None, and no rewrite, when that is None)."""
        p, eqs = self.program, self.program.equations
        members = sorted(self.how)
        last = members[-1]
        results = [eqs[k].out for k in members if self.how[k][0] == "tail" or eqs[k].out in self.kept]
        ext = []
        for k in members:
            for r, h in zip(eqs[k].ins, self.how[k][1]):
                if type(r) is int and h != _ROW and r not in ext:
                    ext.append(r)
        fn = write(ext, results)
        if fn is None:
            return None
        new = copy.copy(p)
        new.avals = dict(p.avals)
        loop = Primitive(name, fn)
        if len(results) == 1:
            unpack = []
            out = results[0]
        else:
            out = new._next
            new._next += 1
            new.avals[out] = ((), np.dtype(object))
            unpack = [eqs[0]._replace(prim=Primitive("row_blocks_result", operator.itemgetter(i)), ins=(out,),
                                      params={}, out=r) for i, r in enumerate(results)]
        after = self._after_loop()
        new.equations = ([e for k, e in enumerate(eqs[:last]) if k not in self.how and e.out not in after]
                         + [eqs[0]._replace(prim=loop, ins=tuple(ext), params={}, out=out)] + unpack
                         + [e for k, e in enumerate(eqs) if k not in self.how and (k > last or e.out in after)])
        return new

    def _after_loop(self):
        """Variables of non-members that read the loop's results (directly or not)."""
        after = set(self.row) | {self.program.equations[k].out for k, (kind, _) in self.how.items() if kind == "tail"}
        out = set()
        for k, e in enumerate(self.program.equations):
            if k not in self.how and any(type(r) is int and r in after for r in e.ins):
                after.add(e.out)
                out.add(e.out)
        return out


def _repeated_rows(r):
    """Whether constant ``r`` repeats one row (a broadcast, stride 0 along the rows): then
    its first row, broadcast, gives the same values with no slicing and no memory read."""
    v = getattr(r, "value", None)
    return isinstance(v, np.ndarray) and v.ndim >= 1 and v.strides[0] == 0




class _LoopWriter:
    """Writes the row loop of a :class:`_Segment` as the source of one Python function.

    What a block costs beyond its NumPy work is kept small, since a large matrix makes
    dozens of blocks: the slices of constants are cut once, when the loop is written (a
    *plan* of them per block); the in-loop values live in buffers allocated once per call,
    which ufuncs and products write with ``out=`` (into the buffer of an operand that
    dies there where shapes allow, so a chain of elementwise work reuses one buffer); each
    block's part of a reduction is written into a row of a partials array, summed over
    the blocks after the loop (``np.add.reduce`` over axis 0 adds the rows in order, as
    ``+=`` per block would).
    """

    def __init__(self, segment, ext, results):
        self.seg, self.p, self.eqs = segment, segment.program, segment.program.equations
        self.ext, self.results = ext, results
        self.members = sorted(segment.how)
        self.bounds = segment.bounds()
        self.ns = {"empty": np.empty, "reduce": np.add.reduce}
        self.names = {r: f"x{i}" for i, r in enumerate(ext)}  # variable -> name in the loop
        self.consts = {}  # id(constant array) -> name
        self.plan = {}  # (constant name, how) -> name of its slice in the plan
        self.cut = {}  # (variable name, how) -> name of its slice, cut in the loop
        self.buffers = []  # (name, row shape, dtype): allocated per call, block-sized
        self.free = []  # buffers whose value is dead
        self.pinned = set()  # buffers a non-ufunc call may have taken a view of
        self.tails = set()  # reductions over the rows, summed from their partials after the loop

    def function(self):
        head, body = [], []
        for k in self.members:
            body += self._member(k, head)
        rows = self.bounds[0][1] - self.bounds[0][0]
        head = [f"    {b} = empty({(rows,) + shape!r}, {self._const(dt)})" for b, shape, dt in self.buffers] + head
        plan = [self._plan_entry(k, i, j) for k, (i, j) in enumerate(self.bounds)]
        target = ", ".join(["blk", "i", "j"] + list(self.plan.values()))
        take = [f"        {s} = {src}{'[i:j]' if h == _ROWS else '[:, i:j]'}" for (src, h), s in self.cut.items()]
        lines = [f"def row_blocks({', '.join(self.names[r] for r in self.ext)}):"] + head
        self.ns["plan"] = plan
        lines += [f"    for {target} in plan:"]
        if self.buffers and self.bounds[-1][1] - self.bounds[-1][0] != rows:  # the last block is shorter
            lines += [f"        if j - i != {rows}:"] + [f"            {b} = {b}[:j - i]" for b, _, _ in self.buffers]
        lines += take + body
        lines += [f"    {self.names[r]} = reduce(P{r}, axis=0)" for r in self.results if r in self.tails]
        rets = [self.names[r] if r not in self.seg.kept else f"m{r}" for r in self.results]
        lines.append(f"    return {rets[0]}" if len(rets) == 1 else f"    return ({', '.join(rets)})")
        src = "\n".join(lines)
        exec(compile(src, "<slopes row blocks>", "exec"), self.ns)  # noqa: S102 - generated from the program
        fn = self.ns["row_blocks"]
        fn.source = src
        return fn

    def _const(self, value):
        name = f"k{len(self.ns)}"
        self.ns[name] = value
        return name

    def _plan_entry(self, blk, i, j):
        """Block ``blk``'s number, rows and slices of constants."""
        return (blk, i, j) + tuple(self.ns[src][(slice(i, j),) if h == _ROWS else (slice(None), slice(i, j))]
                                   for src, h in self.plan)

    def _named(self, key, value):
        if key not in self.consts:
            self.consts[key] = self._const(value)
        return self.consts[key]

    def _arg(self, r, h, broadcasts):
        """The name the loop reads argument ``r`` by, read as ``h`` (by a call that broadcasts
        its operands as NumPy does, when ``broadcasts``)."""
        if h == _ROW:
            return self.names[r]
        if type(r) is not int:
            if h == _ROWS and broadcasts and _repeated_rows(r):  # one row, broadcast over the block
                return self._named(("first row", id(r.value)), r.value[:1])
            src = self._named(id(r.value), r.value)
            return src if h == _WHOLE else self.plan.setdefault((src, h), f"s{len(self.plan)}")
        if h == _WHOLE:
            return self.names[r]
        return self.cut.setdefault((self.names[r], h), f"t{len(self.cut)}")

    def _ufunc(self, e):
        """The ufunc equation ``e`` calls, when it can write its result with ``out=``."""
        shape, dtype = self.p.avals[e.out]
        if e.params or not shape or not isinstance(dtype, np.dtype) or dtype.kind not in "fc":
            return None
        fn = UFUNCS.get(e.prim.name, e.prim.impl)
        if not isinstance(fn, np.ufunc) or fn.nout != 1 or fn.nin != len(e.ins):
            return None
        if fn is np.matmul and not all(len(self.p._aval_of(r)[0]) >= 1 for r in e.ins):
            return None
        return fn

    def _buffer(self, shape, dtype, dying):
        """A block buffer for a value of row shape ``shape``: a dying operand's, a freed one, or a new one."""
        for b in dying + self.free:
            if b not in self.pinned and self._spec(b) == (shape, dtype):
                if b in self.free:
                    self.free.remove(b)
                return b
        b = f"b{len(self.buffers)}"
        self.buffers.append((b, shape, dtype))
        return b

    def _spec(self, b):
        return next((s, d) for name, s, d in self.buffers if name == b)

    def _member(self, k, head):
        e, (kind, how) = self.eqs[k], self.seg.how[k]
        # NumPy broadcasts one row of a repeated constant; a fused kernel reads every row it is given
        broadcasts = is_elementwise(e.prim) and not hasattr(e.prim.impl, "kernel")
        args = [self._arg(r, h, broadcasts) for r, h in zip(e.ins, how)]
        shape, dtype = self.p.avals[e.out]
        fn = self._ufunc(e)
        owned = {b for b, _, _ in self.buffers}
        dying = [self.names[r] for r, h in zip(e.ins, how)
                 if h == _ROW and self._last_use(r) == k and self.names[r] in owned and r not in self.seg.kept]
        lines = []
        if kind == "tail":
            head.append(f"    P{e.out} = empty({(len(self.bounds),) + tuple(shape)!r}, {self._const(dtype)})")
            self.tails.add(e.out)
            self.names[e.out] = f"v{e.out}"
            if fn is not None:
                lines.append(f"        {self._const(fn)}({', '.join(args)}, out=P{e.out}[blk])")
            else:
                lines.append(f"        P{e.out}[blk] = {self.p._call(e, args, self.ns, specialize=False)}")
        elif e.out in self.seg.kept:  # written into its rows of a full array
            head.append(f"    m{e.out} = empty({tuple(shape)!r}, {self._const(dtype)})")
            self.names[e.out] = f"v{e.out}"
            lines.append(f"        v{e.out} = m{e.out}[i:j]")
            call = (f"{self._const(fn)}({', '.join(args)}, out=v{e.out})" if fn is not None
                    else f"v{e.out}[...] = {self.p._call(e, args, self.ns, specialize=False)}")
            lines.append(f"        {call}")
        elif fn is not None:
            b = self._buffer(tuple(shape[1:]), dtype, [] if fn is np.matmul else dying)
            self.names[e.out] = b
            lines.append(f"        {self._const(fn)}({', '.join(args)}, out={b})")
        else:  # a call that may return a view of its operands: their buffers stay theirs
            self.pinned.update(self.names[r] for r, h in zip(e.ins, how) if h == _ROW)
            self.names[e.out] = f"v{e.out}"
            lines.append(f"        v{e.out} = {self.p._call(e, args, self.ns, specialize=False)}")
        self.free += [b for b in dict.fromkeys(dying) if b != self.names[e.out] and b not in self.free]
        return lines

    def _last_use(self, r):
        return max(k for k in self.members for x, h in zip(self.eqs[k].ins, self.seg.how[k][1]) if h == _ROW and x == r)
