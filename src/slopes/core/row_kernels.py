"""A row loop as one compiled Numba loop: one pass over the data matrix of a GLM's gradient.

With ``sl.jit(f, kernels="numba")`` (the ``slopes[fast]`` extra), a row loop of
:mod:`slopes.core.tiling` whose values are one number per row is compiled as a single
Numba kernel instead of a loop of NumPy calls over blocks of rows. The logistic
gradient ``X.T @ (expit(X @ w) - y) / n`` becomes, for each row ``i``::

    z = X[i] . w                  # a dot product
    r = (expit(z) - y[i]) / n     # the elementwise chain, on one number
    g += r * X[i]                 # the row's part of the second product

so each row of ``X`` is read from memory once and used twice while it is in the level-1
cache, with no temporary arrays. (Blocks of rows in the level-2 cache, what the NumPy row
loop does, give back little on the benchmark machine: its second product over a block
runs at 0.6-0.8x the time of one streaming from memory, not the 0.3x of a block read
again and again.)

What compiles (else the NumPy row loop runs): every value the loop computes is one
number per row (an ``(n,)`` vector) of one float dtype; the members are dot products of
rows with a vector (``A @ v``, ``v @ A.T``), elementwise primitives of
:mod:`slopes.core.kernels`, and reductions over the rows: ``r @ A``, ``A.T @ r``, ``sum``
and ``sum_to``. A chain over ``(n, k)`` values (a softmax regression) stays with NumPy,
and so does a matrix whose rows do not run along memory (a Fortran-ordered one, as
pandas' ``to_numpy()`` gives): read by rows, it would be a strided read, slower than the
NumPy loop. For a matrix passed as an argument, that is decided at each call.

Results: the elementwise chain is evaluated per row in program order, in the dtype of
the arrays, with the C library's functions (an ulp or so from NumPy's own, as in
:mod:`slopes.core.kernels`; ``expit`` in float32 keeps the subnormal values below
``z = -87`` that SciPy's rounds to 0). Dot products and the rows' sums are reordered sums: each
dot product is summed in vector lanes (Numba is allowed to reassociate only there), and
the reductions over the rows are summed row by row within blocks of rows, the blocks'
partial sums then added in order as the NumPy loop does, so they agree with the plain
replay to the rounding bound of a reordered sum.
"""

from __future__ import annotations

import numpy as np

from .kernels import expression, is_scalar_function, leaf_ok, load, scalar_helpers
from .ops.rules import DOT_DTYPES

__all__ = ["row_kernel"]

# helpers shared by every kernel: only these loops may be reassociated (vectorized sums)
_HELPERS = """import numba
import numpy as np

_FAST = {{"reassoc", "contract"}}


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _dot(a, i, v):
    s = np.{dt}(0)
    for j in range(v.shape[0]):
        s += a[i, j] * v[j]
    return s


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _dot4(a, i, v):
    s0 = s1 = s2 = s3 = np.{dt}(0)
    for j in range(v.shape[0]):
        vj = v[j]
        s0 += a[i, j] * vj
        s1 += a[i + 1, j] * vj
        s2 += a[i + 2, j] * vj
        s3 += a[i + 3, j] * vj
    return s0, s1, s2, s3


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _axpy(acc, r, a, i):
    for j in range(acc.shape[0]):
        acc[j] += r * a[i, j]


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _axpy4(acc, r0, r1, r2, r3, a, i):
    for j in range(acc.shape[0]):
        acc[j] += r0 * a[i, j] + r1 * a[i + 1, j] + r2 * a[i + 2, j] + r3 * a[i + 3, j]


"""


def row_kernel(segment, ext, results, fallback):
    """The row loop of ``segment`` (a :class:`slopes.core.tiling._Segment`) as a function of
    the ``ext`` values returning the ``results``, running one compiled kernel; None when a
    value of the loop is not one number per row (or another case the kernel does not cover).
    ``fallback()`` makes the NumPy loop, called instead when a matrix argument's rows do not
    run along memory.

    Examples
    --------
    >>> import numpy as np, slopes as sl, slopes.numpy as snp
    >>> from slopes.core import tiling, kernels
    >>> X = np.random.default_rng(0).standard_normal((40_000, 64))
    >>> loss = lambda w: snp.sum(snp.logaddexp(0.0, X @ w))
    >>> prog = sl.jit(sl.grad(loss), kernels="numba").trace(np.zeros(64))
    >>> not kernels.numba_available() or [e.prim.name for e in tiling.lower(prog).equations]
    ['row_kernel']
    """
    writer = _KernelWriter(segment, ext, results)
    return writer.function(fallback) if writer.covered() else None


def _by_rows(a, h):
    """Whether matrix ``a``, read as ``h`` (its rows, or the columns of ``A.T``), has the rows
    the kernel reads along memory."""
    step_along, step_across = (a.strides[1], a.strides[0]) if h == "rows" else a.strides
    return abs(step_along) <= abs(step_across)


class _KernelWriter:
    """Writes one Numba kernel for a row loop whose values are one number per row."""

    def __init__(self, segment, ext, results):
        self.seg, self.p, self.n = segment, segment.program, segment.n
        self.ext, self.results = ext, results
        self.members = sorted(segment.how)
        self.dtype = self.p.avals[self.p.equations[self.members[0]].out][1]
        self.inputs = []  # (how to make the argument from ext values, its name in the kernel)
        self.keys = {}  # identity of an input -> its name
        self.checked = []  # (ext index, how) of matrix arguments whose layout is known at call time
        self.ops = []  # (member's output, its kernel operation): see _operation

    def covered(self):
        """Whether the kernel covers the loop (its operations are then in ``self.ops``)."""
        if self.dtype not in DOT_DTYPES:
            return False
        for k in self.members:
            e, (kind, how) = self.p.equations[k], self.seg.how[k]
            shape, dtype = self.p.avals[e.out]
            if dtype != self.dtype or (kind == "row" and tuple(shape) != (self.n,)):
                return False
            if not all(self._input_ok(r, h) for r, h in zip(e.ins, how)):
                return False
            op = self._operation(e, kind, how)
            if op is None:
                return False
            self.ops.append((e.out, op))
        return True

    def _input_ok(self, r, h):
        if not leaf_ok(self.p, r, self.dtype):
            return False
        ndim = len(self.p._aval_of(r)[0])
        if h == "whole":
            return ndim <= 1
        if ndim == 2 and type(r) is not int:
            return _by_rows(r.value, h)
        return True

    # -- the kernel's text -------------------------------------------------------------------
    def _name(self, r, h):
        """The kernel's name for argument ``r`` read as ``h`` (an array or a scalar)."""
        key = (r if type(r) is int else id(r.value), h)
        if key not in self.keys:
            self.keys[key] = f"a{len(self.keys)}"
            self.inputs.append((self._maker(r, h), self.keys[key]))
        return self.keys[key]

    def _maker(self, r, h):
        """How the kernel's argument is made from the ext values: ``xs -> argument``."""
        cols = h == "cols"  # A.T read by columns: the kernel reads A by rows
        dt = self.dtype.type
        if type(r) is int:
            k = self.ext.index(r)
            if self._is_scalar(r, h):
                return lambda xs: dt(np.reshape(xs[k], -1)[0])
            if len(self.p._aval_of(r)[0]) == 2:
                self.checked.append((k, h))
            return (lambda xs: xs[k].T) if cols else (lambda xs: xs[k])
        value = r.value
        fixed = dt(np.reshape(value, -1)[0]) if self._is_scalar(r, h) else value.T if cols else value
        return lambda xs: fixed

    def _is_scalar(self, r, h):
        return h == "whole" and self.p._aval_of(r)[0] in ((), (1,))

    def _operation(self, e, kind, how):
        """Member ``e`` as a kernel operation: ``("dot", out, a, v)``, ``("axpy", out, r, a)``
        or ``("line", template)`` (a line per row, ``{i}`` the row, ``{s}`` its names' suffix);
        None if the kernel does not cover it."""
        name, out = e.prim.name, e.out
        shapes = [self.p._aval_of(r)[0] for r in e.ins]
        if kind == "row" and name == "matmul":
            (ps, qs), (hp, hq) = shapes, how
            # the vector as an array even of one entry (a one-feature X): _dot loops over it
            if hp == "rows" and hq == "whole" and len(ps) == 2 and len(qs) == 1:
                return "dot", out, self._name(e.ins[0], hp), self._name(e.ins[1], "vector")
            if hp == "whole" and hq == "cols" and len(ps) == 1:
                return "dot", out, self._name(e.ins[1], hq), self._name(e.ins[0], "vector")
            return None
        if kind == "row":
            if not is_scalar_function(name) or e.params:
                return None
            args = [self._per_row(r, h) for r, h in zip(e.ins, how)]
            return None if None in args else ("line", f"v{out}{{s}} = {expression(name, args, self.dtype)}")
        out_shape = tuple(self.p.avals[out][0])
        if name == "matmul":
            mine = how.index("row")  # the in-loop operand; the other one is in-loop too or read by rows
            r, other, oh = e.ins[mine], e.ins[1 - mine], how[1 - mine]
            if oh == "row" or len(self.p._aval_of(other)[0]) == 1:
                return "line", f"s{out} += v{r}{{s}} * {self._per_row(other, oh)}"
            return ("axpy", out, f"v{r}", self._name(other, oh)) if len(out_shape) == 1 else None
        if name in ("sum", "sum_to") and out_shape in ((), (1,)):
            return "line", f"s{out} += v{e.ins[0]}{{s}}"
        return None

    def _per_row(self, r, h):
        """Argument ``r`` (read as ``h``) as one row's number; None if it is not one."""
        if h == "row":
            return f"v{r}{{s}}"
        if h == "rows" and len(self.p._aval_of(r)[0]) == 1:
            return f"{self._name(r, h)}[{{i}}]"
        return self._name(r, h) if self._is_scalar(r, h) else None

    def _lines(self, rows):
        """The loop body for the rows ``[(row expression, suffix), ...]`` (one row, or four)."""
        lines, quad = [], len(rows) == 4
        for out, op in self.ops:
            if op[0] == "dot":
                _, _, a, v = op
                lines.append(f"{', '.join(f'v{out}{s}' for _, s in rows)} = _dot{'4' if quad else ''}({a}, i, {v})")
            elif op[0] == "axpy":
                _, _, r, a = op
                lines.append(f"_axpy{'4' if quad else ''}(acc{out}, {', '.join(r + s for _, s in rows)}, {a}, i)")
            else:
                lines += [op[1].format(i=i, s=s) for i, s in rows]
            if out in self.seg.kept:
                lines += [f"m{out}[{i}] = v{out}{s}" for i, s in rows]
        return lines

    def function(self, fallback):
        dt = self.dtype.name
        eqs = self.p.equations
        tails = {eqs[k].out: eqs[k].prim.name == "matmul" and len(self.p.avals[eqs[k].out][0]) == 1
                 for k in self.members if self.seg.how[k][0] == "tail"}  # out -> a vector (else a number)?
        kept = [r for r in self.results if r in self.seg.kept]
        quad = self._lines([("i", "_0"), ("i + 1", "_1"), ("i + 2", "_2"), ("i + 3", "_3")])
        single = self._lines([("i", "")])
        inits = [f"        acc{t} = P{t}[blk]\n        acc{t}[:] = 0" if vec else f"        s{t} = np.{dt}(0)"
                 for t, vec in tails.items()]
        stores = [f"        P{t}[blk{'' if self.p.avals[t][0] == () else ', 0'}] = s{t}"
                  for t, vec in tails.items() if not vec]
        outs = [f"P{t}" for t in tails] + [f"m{r}" for r in kept]
        params = ", ".join(["bounds"] + outs + [name for _, name in self.inputs])
        source = (_HELPERS.format(dt=dt) + scalar_helpers(self.dtype)
                  + "\n\n@numba.njit(cache=True, nogil=True, error_model=\"numpy\")\n"
                  + f"def kernel({params}):\n"
                  + "    for blk in range(bounds.shape[0]):\n"
                  + "\n".join(inits) + "\n"
                  + "        first, end = bounds[blk, 0], bounds[blk, 1]\n"
                  + "        quads = first + (end - first) // 4 * 4\n"
                  + "        for i in range(first, quads, 4):  # four rows at a time: one pass over v and acc\n"
                  + "".join(f"            {line}\n" for line in quad)
                  + "        for i in range(quads, end):\n"
                  + "".join(f"            {line}\n" for line in single)
                  + "".join(f"{line}\n" for line in stores))
        return _runner(load(source), source, self, list(tails), kept, fallback)


def _runner(kernel, source, writer, tails, kept, fallback):
    """The Python function calling ``kernel``: allocates its outputs, adds the blocks' partials
    in order (as the NumPy loop adds them); the NumPy loop for a matrix argument not laid out by rows."""
    bounds = np.array(writer.seg.bounds(), dtype=np.int64)
    dtype, n, avals, results = writer.dtype, writer.n, writer.p.avals, writer.results
    makers = [make for make, _ in writer.inputs]
    partials = [(len(bounds),) + tuple(avals[t][0]) for t in tails]
    checked, numpy_loop = writer.checked, []

    def row_kernel(*xs):
        if checked and not all(_by_rows(xs[k], h) for k, h in checked):
            if not numpy_loop:
                numpy_loop.append(fallback())
            return numpy_loop[0](*xs)
        out = [np.empty(shape, dtype) for shape in partials]
        full = [np.empty(n, dtype) for _ in kept]
        kernel(bounds, *out, *full, *[make(xs) for make in makers])
        values = dict(zip(tails, (np.add.reduce(p, axis=0) for p in out)))
        values.update(zip(kept, full))
        return values[results[0]] if len(results) == 1 else tuple(values[r] for r in results)

    row_kernel.source = source
    return row_kernel
