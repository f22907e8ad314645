"""Row blocking: one pass over a large matrix that a program reads twice.

The gradient of a loss of ``z = A @ w`` (logistic regression, least squares, a GLM) reads
the data matrix ``A`` (n x d) twice: ``A @ w``, a chain of elementwise work on the n-vector
``z``, then ``r @ A`` (or ``A.T @ r``). Each product streams all of ``A`` from memory; the
elementwise work between them is small. :func:`row_blocked` rewrites such a stretch of a
:class:`~slopes.core.program.Program` as one loop over blocks of rows: ``A[i:j] @ w``, the
chain on that block, then ``r[i:j] @ A[i:j]`` while the block is still in cache, so ``A``
comes from memory once instead of twice.

What goes into the loop (the *members*), in program order from a matrix product
``A @ v`` whose ``A`` has n rows:

* *row operations*, whose output has the n rows in front and whose row ``k`` depends
  only on row ``k`` of their inputs: elementwise primitives (:data:`ELEMENTWISE`; an input
  with the n rows in front is sliced, one broadcast along the rows is used whole; fused
  kernels of :mod:`slopes.core.kernels` too), sums,
  maxima and minima over other axes, and matrix products ``B @ v`` of a row operand;
* *row reductions*, sums over the rows that blocks add up: ``sum`` over an axis set holding
  axis 0, ``sum_to`` a shape without the rows, and products ``r @ B`` / ``B.T @ r``
  contracting the rows. Each block's part is added to an accumulator.

An equation that reads a reduction's result, or any other consumer of a row value (a
softmax over the rows, a cumulative sum, an output), runs after the loop; a row value it
reads is written block by block into a full array. Nothing that depends on the loop's
results runs inside it, so a chain that needs a sum over all rows before its second
product (``z - mean(z)``) is not blocked.

When it pays: only when a matrix of at least :data:`MIN_BYTES` is read by two or more
members (the pass it saves) and it makes two blocks or more; otherwise the program is
replayed as it is. Blocks hold about :data:`BLOCK_BYTES` of the large operands' rows, half
of a core's 2 MiB L2 on the test machine (blocks of 256 or 512 KiB lose to the Python
overhead of more blocks; 2 MiB and more fall out of L2). Measured there on the logistic
gradient, d = 100, one BLAS thread, a busy 2-core machine (time / hand-written NumPy's,
unblocked -> blocked, medians of interleaved repeats): n = 5,000 (4 MB) 1.14 -> 1.02-1.10,
n = 20,000 1.07-1.10 -> 1.00, n = 50,000 1.10 -> 1.05, n = 75,000 1.12-1.15 -> 1.20-1.26,
n = 100,000 (80 MB) 1.15-1.31 -> 1.01-1.17 (and 1.03-1.13 -> 1.07-1.18 in other runs),
n = 150,000 1.08-1.11 -> 1.00. The gain is smaller than a saved pass over memory
suggests: a matrix-vector product of a block in L2 runs only about 1.5 times as fast as
one streaming from memory, and the first product of each block streams slower than one
product over the whole matrix (at n = 75,000: 3.9 ms in blocks against 2.9 ms).

Results: row operations give the values the plain replay gives (the same NumPy calls on
slices); the reductions are summed block by block, a reordered sum, so they agree with the
plain replay to the rounding bound of a reordered sum (a few ``eps * sum |terms|``).
"""

from __future__ import annotations

import copy
import math
import operator

import numpy as np

from .kernels import fuse_elementwise, is_elementwise
from .trace import Primitive

__all__ = ["BLOCK_BYTES", "MIN_BYTES", "lower", "row_blocked"]

#: A matrix read twice is blocked from this size on (smaller ones stay in cache between reads).
MIN_BYTES = 2 << 20
#: Bytes of the large operands' rows per block.
BLOCK_BYTES = 1 << 20

# how a member reads each argument
_ROW, _WHOLE, _ROWS, _COLS = "row", "whole", "rows", "cols"  # in-loop value, as is, x[i:j], x[:, i:j]
_REDUCTIONS = {"sum", "max", "min", "logsumexp", "log_softmax"}  # over their `axis`


def lower(program):
    """``program`` as it is compiled: its elementwise trees as Numba kernels when
    ``program.kernels == "numba"`` (:func:`~slopes.core.kernels.fuse_elementwise`), then its
    row loops (:func:`row_blocked`); ``program`` itself when neither applies.

    Examples
    --------
    >>> import numpy as np, slopes as sl, slopes.numpy as snp
    >>> prog = sl.jit(lambda x: snp.sum(snp.sin(x))).trace(np.zeros(3))
    >>> lower(prog) is prog
    True
    """
    out = program
    if program.kernels == "numba":
        out = copy.copy(fuse_elementwise(program))
        out.kernels = "numpy"  # fused once
    return row_blocked(out)


def row_blocked(program):
    """``program`` with each blockable stretch (see the module docstring) as one row loop.

    Returns ``program`` itself when nothing pays; else a shallow copy whose stretches are
    single equations calling the loop.

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
    eqs = program.equations
    for h, e in enumerate(eqs):
        if e.prim.name != "matmul" or len(e.ins) != 2:
            continue
        shape = program._aval_of(e.ins[0])[0]
        if len(shape) != 2 or _nbytes(program, e.ins[0]) < MIN_BYTES:
            continue
        seg = _Segment(program, h, shape[0])
        if seg.pays():
            return seg.rewrite()
    return program


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
            if any(r in tainted for r in reads):
                tainted.add(e.out)
                continue
            role = self._role(e)
            if role is not None and (k == h or _ROW in role[1]):
                self.how[k] = role
                (self.row if role[0] == "row" else tainted).add(e.out)
                continue
            used = [r for r in reads if r in self.row]
            if used:
                self.kept.update(used)
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
            if ps[-1] == n and qs[0] == n and any(inloop) and not (inloop[0] and len(ps) == 2):
                return "tail", [_ROW if inloop[0] else _ROWS if len(ps) == 1 else _COLS,
                                _ROW if inloop[1] else _ROWS]
        return None

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
        """Row ranges of about :data:`BLOCK_BYTES` of the sliced operands each, near equal sizes."""
        widths = {}
        for (r, _), ident in self._sliced().items():
            shape, dtype = self.program._aval_of(r)
            widths[ident] = math.prod(shape) // self.n * dtype.itemsize
        rows = max(1, BLOCK_BYTES // max(1, sum(widths.values())))
        nb = max(1, math.ceil(self.n / rows))
        return [(self.n * k // nb, self.n * (k + 1) // nb) for k in range(nb)]

    # -- the rewritten program ------------------------------------------------------------
    def rewrite(self):
        p, eqs = self.program, self.program.equations
        members = sorted(self.how)
        last = members[-1]
        results = [eqs[k].out for k in members if self.how[k][0] == "tail" or eqs[k].out in self.kept]
        ext = []
        for k in members:
            for r, h in zip(eqs[k].ins, self.how[k][1]):
                if type(r) is int and h != _ROW and r not in ext:
                    ext.append(r)
        new = copy.copy(p)
        new.avals = dict(p.avals)
        loop = Primitive("row_blocks", self._function(ext, results))
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

    def _function(self, ext, results):
        """The loop as a compiled Python function of the external variables ``ext``."""
        p, eqs = self.program, self.program.equations
        ns = {"zeros": np.zeros, "empty": np.empty, "bounds": self.bounds()}
        names = {r: f"x{i}" for i, r in enumerate(ext)}
        slices = {}
        consts = {}

        def whole(r):
            if type(r) is int:
                return names[r]
            if id(r) not in consts:
                consts[id(r)] = f"k{len(consts)}"
                ns[consts[id(r)]] = r.value
            return consts[id(r)]

        def arg(r, h):
            if h == _ROW:
                return f"v{r}"
            if h == _WHOLE:
                return whole(r)
            key = (whole(r), h)
            if key not in slices:
                slices[key] = f"s{len(slices)}"
            return slices[key]

        head, body = [], []
        for k in sorted(self.how):
            e = eqs[k]
            kind, how = self.how[k]
            expr = p._call(e, [arg(r, h) for r, h in zip(e.ins, how)], ns)
            shape, dtype = p.avals[e.out]
            dt = f"dt{len(ns)}"
            ns[dt] = dtype
            if kind == "tail":
                head.append(f"    v{e.out} = zeros({tuple(shape)!r}, {dt})")
                body.append(f"        v{e.out} += {expr}")
                continue
            body.append(f"        v{e.out} = {expr}")
            if e.out in self.kept:
                head.append(f"    m{e.out} = empty({tuple(shape)!r}, {dt})")
                body.append(f"        m{e.out}[i:j] = v{e.out}")
        cut = {_ROWS: "[i:j]", _COLS: "[:, i:j]"}
        take = [f"        {s} = {src}{cut[h]}" for (src, h), s in slices.items()]

        def result(r):
            if r in self.kept:
                return f"m{r}"
            return f"v{r}[()]" if not p.avals[r][0] else f"v{r}"

        rets = [result(r) for r in results]
        lines = ([f"def row_blocks({', '.join(names[r] for r in ext)}):"] + head
                 + ["    for i, j in bounds:"] + take + body
                 + [f"    return {rets[0]}" if len(rets) == 1 else f"    return ({', '.join(rets)})"])
        src = "\n".join(lines)
        exec(compile(src, "<slopes row blocks>", "exec"), ns)  # noqa: S102 - generated from the program
        fn = ns["row_blocks"]
        fn.source = src
        return fn
