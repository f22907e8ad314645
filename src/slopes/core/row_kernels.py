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
:mod:`slopes.core.kernels` (and ``expit``), and reductions over the rows: ``r @ A``,
``A.T @ r``, ``sum`` and ``sum_to``. A chain over ``(n, k)`` values (a softmax
regression) stays with NumPy.

Results: the elementwise chain is evaluated per row in program order, in the dtype of
the arrays, with the C library's functions (an ulp or so from NumPy's own, as in
:mod:`slopes.core.kernels`). Dot products and the rows' sums are reordered sums: each
dot product is summed in vector lanes (Numba is allowed to reassociate only there), and
the reductions over the rows are summed row by row within blocks of rows, the blocks'
partial sums then added in order as the NumPy loop does, so they agree with the plain
replay to the rounding bound of a reordered sum.
"""

from __future__ import annotations

import numpy as np

from .kernels import expression, is_scalar_function, load

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


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _expit(x):
    e = np.exp(-abs(x))  # no overflow; a select, not a branch the signs of x would mispredict
    return (np.{dt}(1) if x >= 0 else e) / (np.{dt}(1) + e)

"""


def row_kernel(segment, ext, results):
    """The row loop of ``segment`` (a :class:`slopes.core.tiling._Segment`) as a function of
    the ``ext`` values returning the ``results``, running one compiled kernel; None when a
    value of the loop is not one number per row (or another case the kernel does not cover).

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
    return writer.function() if writer.covered() else None


class _KernelWriter:
    """Writes one Numba kernel for a row loop whose values are one number per row."""

    def __init__(self, segment, ext, results):
        self.seg, self.p, self.n = segment, segment.program, segment.n
        self.ext, self.results = ext, results
        self.members = sorted(segment.how)
        self.dtype = self.p.avals[self.p.equations[self.members[0]].out][1]
        self.inputs = []  # (how to make the argument from ext values, its name in the kernel)
        self.keys = {}  # identity of an input -> its name

    def covered(self):
        dt = self.dtype
        if not isinstance(dt, np.dtype) or dt not in (np.float64, np.float32):
            return False
        for k in self.members:
            e, (kind, how) = self.p.equations[k], self.seg.how[k]
            shape, dtype = self.p.avals[e.out]
            if dtype != dt or (kind == "row" and tuple(shape) != (self.n,)):
                return False
            if any(not self._input_ok(r, h) for r, h in zip(e.ins, how)):
                return False
            if self._statement(k, e, kind, how) is None:
                return False
        return True

    def _input_ok(self, r, h):
        shape, dtype = self.p._aval_of(r)
        if type(r) is not int and not isinstance(r.value, np.ndarray):
            return type(r.value) in (int, float) or getattr(r.value, "dtype", None) == self.dtype
        if dtype != self.dtype:
            return False
        return h != "whole" or len(shape) <= 1

    # -- the kernel's text -------------------------------------------------------------------
    def _name(self, r, h):
        """The kernel's name for argument ``r`` read as ``h`` (an in-loop value, an array or a scalar)."""
        if h == "row":
            return f"v{r}"
        key = (r if type(r) is int else id(r.value), h)
        if key not in self.keys:
            self.keys[key] = f"a{len(self.keys)}"
            self.inputs.append((self._maker(r, h), self.keys[key]))
        return self.keys[key]

    def _maker(self, r, h):
        """How the kernel's argument is made from the ext values: ``x -> argument``."""
        cols = h == "cols"  # A.T read by columns: the kernel reads A by rows
        scalar = self.p._aval_of(r)[0] in ((), (1,)) and h == "whole"
        dt = self.dtype.type
        if type(r) is int:
            k = self.ext.index(r)
            if scalar:
                return lambda xs: dt(np.reshape(xs[k], -1)[0])
            return (lambda xs: xs[k].T) if cols else (lambda xs: xs[k])
        value = r.value
        if scalar or not isinstance(value, np.ndarray):
            fixed = dt(np.reshape(value, -1)[0])
        else:
            fixed = value.T if cols else value
        return lambda xs: fixed

    def _is_scalar(self, r, h):
        return h == "whole" and self.p._aval_of(r)[0] in ((), (1,))

    def _statement(self, k, e, kind, how):
        """Member ``e`` as a kernel operation: ``("dot", out, a, v)``, ``("axpy", out, r, a)``
        or ``("line", template)`` (a line per row, ``{i}`` the row, ``{s}`` its names' suffix);
        None if the kernel does not cover it."""
        name, out = e.prim.name, e.out
        shapes = [self.p._aval_of(r)[0] for r in e.ins]
        if kind == "row" and name == "matmul":
            (ps, qs), (hp, hq) = shapes, how
            if hp == "rows" and hq == "whole" and len(ps) == 2 and len(qs) == 1:
                return "dot", out, self._name(e.ins[0], hp), self._name(e.ins[1], hq)
            if hp == "whole" and hq == "cols" and len(ps) == 1:
                return "dot", out, self._name(e.ins[1], hq), self._name(e.ins[0], hp)
            return None
        if kind == "row":
            if not (is_scalar_function(name) or name == "expit") or e.params:
                return None
            args = [self._per_row(r, h) for r, h in zip(e.ins, how)]
            if None in args:
                return None
            value = f"_expit({args[0]})" if name == "expit" else expression(name, args, self.dtype)
            return "line", f"v{out}{{s}} = {value}"
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
        if h == "whole" and self.p._aval_of(r)[0] in ((), (1,)):
            return self._name(r, h)
        return None

    def _lines(self, rows):
        """The loop body for the rows ``[(row expression, suffix), ...]`` (one row, or four)."""
        lines, quad = [], len(rows) == 4
        for k in self.members:
            e, (kind, how) = self.p.equations[k], self.seg.how[k]
            op = self._statement(k, e, kind, how)
            if op[0] == "dot":
                _, out, a, v = op
                targets = ", ".join(f"v{out}{s}" for _, s in rows)
                lines.append(f"{targets} = _dot{'4' if quad else ''}({a}, i, {v})")
            elif op[0] == "axpy":
                _, out, r, a = op
                lines.append(f"_axpy{'4' if quad else ''}(acc{out}, {', '.join(r + s for _, s in rows)}, {a}, i)")
            else:
                lines += [op[1].format(i=i, s=s) for i, s in rows]
            if e.out in self.seg.kept:
                lines += [f"m{e.out}[{i}] = v{e.out}{s}" for i, s in rows]
        return lines

    def _tails(self):
        """``{out: vector?}`` of the reductions over the rows."""
        eqs = self.p.equations
        return {eqs[k].out: len(self.p.avals[eqs[k].out][0]) == 1 and eqs[k].prim.name == "matmul"
                for k in self.members if self.seg.how[k][0] == "tail"}

    def function(self):
        dt = self.dtype.name
        tails, kept = self._tails(), [r for r in self.results if r in self.seg.kept]
        quad = self._lines([("i", "_0"), ("i + 1", "_1"), ("i + 2", "_2"), ("i + 3", "_3")])
        single = self._lines([("i", "")])
        inits = [f"        acc{t} = P{t}[blk]\n        acc{t}[:] = 0" if vec else f"        s{t} = np.{dt}(0)"
                 for t, vec in tails.items()]
        stores = [f"        P{t}[blk] = s{t}" for t, vec in tails.items() if not vec]
        outs = [f"P{t}" for t in tails] + [f"m{r}" for r in kept]
        params = ", ".join(["bounds"] + outs + [name for _, name in self.inputs])
        source = (_HELPERS.format(dt=dt)
                  + "\n@numba.njit(cache=True, nogil=True, error_model=\"numpy\")\n"
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
        kernel = load(source)
        return _runner(kernel, source, self, tails, kept)


def _runner(kernel, source, writer, tails, kept):
    """The Python function calling ``kernel``: allocates its outputs, adds the blocks' partials."""
    bounds = np.array(writer.seg.bounds(), dtype=np.int64)
    dtype, n, avals, results = writer.dtype, writer.n, writer.p.avals, writer.results
    makers = [make for make, _ in writer.inputs]
    partial_shapes = {t: (len(bounds),) + (tuple(avals[t][0]) if vec else ()) for t, vec in tails.items()}
    reshape = {t: tuple(avals[t][0]) for t in tails if len(avals[t][0]) == 1 and not tails[t]}  # a sum_to (1,)

    def total(t, partials):
        """The blocks' partial sums added in order (as the NumPy loop adds them)."""
        v = np.add.reduce(partials, axis=0)
        return v.reshape(reshape[t]) if t in reshape else v

    def row_kernel(*xs):
        out = {t: np.empty(s, dtype) for t, s in partial_shapes.items()}
        full = {r: np.empty(n, dtype) for r in kept}
        kernel(bounds, *out.values(), *full.values(), *[make(xs) for make in makers])
        values = [total(r, out[r]) if r in out else full[r] for r in results]
        return values[0] if len(values) == 1 else tuple(values)

    row_kernel.source = source
    return row_kernel
