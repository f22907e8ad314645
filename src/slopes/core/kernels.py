"""Fused elementwise kernels: a tree of elementwise operations as one compiled loop (Numba).

With ``sl.jit(f, kernels="numba")`` (the ``slopes[fast]`` extra), :func:`fuse_elementwise`
rewrites each tree of elementwise equations whose intermediate values are used once
(``c + a * exp(z - logaddexp(0, z))``: five NumPy calls and four temporary arrays) as one
call of a Numba kernel that computes every element in one loop, without temporaries.
A comparison enters as the condition of a ``where``: recomputed in each ``where`` that
reads it (a ReLU's ``x > 0``, in its forward and its backward pass), so that no boolean
array is made, or read as a boolean array when something else reads it too. A tree whose
result a later tree reads (and nothing else before that one) is computed in the later
tree's kernel, its result written out beside: Adam's two moments and its new parameters
are one loop reading the gradient, the moments and the parameters once. Not the kernels a
NumPy row loop runs on its blocks of rows (:mod:`slopes.core.tiling`), which cannot run a
kernel of several results: those stay kernels of their own (and every kernel does, when
merging the others would take work out of the loop).
The kernel's Python source is written to the cache directory (:func:`cache_dir`) under
the hash of its text, so Numba's ``cache=True`` keeps the machine code on disk and a new
process loads it instead of compiling again.

Results: the kernel evaluates the same operations in the same order per element, in the
arrays' dtype; only the math library differs (Numba calls the C library's ``exp``,
``log1p``, ... where NumPy has its own vectorized ones), so each function result may
differ by about 1 ulp and a chain by a few.

When it pays (measured on the 2-core test machine, one BLAS thread): not for chains of
transcendental functions alone, which NumPy vectorizes (the logistic gradient's chain on
100,000 elements: NumPy 1.8 ms, the kernel 2.5 ms, when this was the kernel the row loop
called per block). It pays for long
chains of arithmetic on large arrays, where NumPy's temporaries cost memory passes (the
gradient of a cubic plus a rational term on 10^6 elements: 28 ms against 53 ms). A kernel
compiles in 0.3-0.8 s; a new process loading it from the disk cache spends 0.2-0.7 s,
mostly Numba's own start-up. So ``"numpy"`` stays the default of :func:`slopes.jit`.

A row loop whose values are one number per row (a GLM's gradient) is compiled whole
instead, by :mod:`slopes.core.row_kernels` with :func:`load` and :func:`expression`: one
pass over the data matrix, 0.77-0.82x the CPU time of the closed form in NumPy on the
logistic gradient at 100,000 x 100 (``benchmarks/speed.py --quick --only b2``).
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import os
import sys
import threading

import numpy as np

from .horizontal import EMPTY, READY
from .ops.rules import DOT_DTYPES, ELEMENTWISE
from .trace import Primitive

__all__ = ["MIN_SIZE", "cache_dir", "expression", "fuse_elementwise", "is_elementwise", "is_scalar_function",
           "leaf_ok", "load", "numba_available", "scalar_helpers"]

#: Arrays smaller than this many elements are left to NumPy.
MIN_SIZE = 4096

_BINARY_OPS = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/"}
#: comparisons, which enter a kernel only inside a ``where``'s condition (a ReLU's ``x > 0``);
#: not scalar functions (:func:`is_scalar_function`): their results are booleans
_COMPARISONS = {"greater": ">", "greater_equal": ">=", "less": "<", "less_equal": "<=", "equal": "==",
                "not_equal": "!="}
_NUMPY_FUNCS = {
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "cbrt", "square", "reciprocal",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
    "arctanh", "absolute", "negative", "logaddexp", "maximum", "minimum", "arctan2", "hypot", "power",
}
_lock = threading.Lock()
_loaded = {}  # source hash -> compiled kernel (one per process)


def numba_available():
    """Whether Numba can be imported (the ``slopes[fast]`` extra).

    Examples
    --------
    >>> numba_available() in (True, False)
    True
    """
    return importlib.util.find_spec("numba") is not None


def cache_dir():
    """Where kernel sources and Numba's compiled code are kept: ``$SLOPES_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/slopes``, else ``~/.cache/slopes``; a ``kernels`` folder inside.

    Examples
    --------
    >>> cache_dir().endswith("kernels")
    True
    """
    root = os.environ.get("SLOPES_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "slopes")
    return os.path.join(root, "kernels")


def is_scalar_function(name):
    """Whether the elementwise primitive ``name`` has a per-element expression in a kernel.

    Examples
    --------
    >>> is_scalar_function("logaddexp"), is_scalar_function("cumsum")
    (True, False)
    """
    return name in _BINARY_OPS or name in _NUMPY_FUNCS or name in ("mask_zero", "expit")


def scalar_helpers(dtype):
    """Source of the scalar functions :func:`expression` may call, for kernels in ``dtype``.

    Examples
    --------
    >>> "def _expit(x)" in scalar_helpers(np.dtype(np.float32))
    True
    """
    one = f"np.{dtype.name}(1)"
    return ("@numba.njit(cache=True, nogil=True, error_model=\"numpy\")\n"
            "def _expit(x):\n"
            "    e = np.exp(-abs(x))  # no overflow; a select, not a branch the signs of x would mispredict\n"
            f"    return ({one} if x >= 0 else e) / ({one} + e)\n")


def leaf_ok(program, r, dtype):
    """Whether operand ``r`` of ``program`` may enter a kernel computing in ``dtype``: an
    array of that dtype, or a constant scalar a NumPy call would use in ``dtype`` (a Python
    int or float, or a scalar of that dtype).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> prog = sl.jit(lambda x: x * 2.0).trace(np.zeros(3, np.float32))
    >>> [leaf_ok(prog, r, np.dtype(np.float32)) for r in prog.equations[0].ins]
    [True, True]
    """
    if type(r) is int or isinstance(r.value, np.ndarray):
        return program._aval_of(r)[1] == dtype
    return type(r.value) in (int, float) or getattr(r.value, "dtype", None) == dtype


def expression(name, args, dtype):
    """The kernel's expression of primitive ``name`` on the scalar expressions ``args``.

    Examples
    --------
    >>> expression("multiply", ["x0", "x1"], np.dtype(np.float64))
    '(x0 * x1)'
    """
    if name in _BINARY_OPS:
        return f"({args[0]} {_BINARY_OPS[name]} {args[1]})"
    if name in _COMPARISONS:
        return f"({args[0]} {_COMPARISONS[name]} {args[1]})"
    if name == "where":  # a select per element, as np.where: the value not selected is not used
        return f"({args[1]} if {args[0]} else {args[2]})"
    if name == "expit":  # a helper of every kernel's source (scalar_helpers)
        return f"_expit({args[0]})"
    if name == "mask_zero":  # 0 where the cotangent g is 0 and the product is not finite
        return f"({args[1]} if ({args[0]} != 0 or np.isfinite({args[1]})) else np.{dtype.name}(0))"
    return f"np.{name}({', '.join(args)})"


class _Fuser:
    """Trees of fusable elementwise equations of one program, and their rewrite."""

    def __init__(self, program):
        self.p = program
        self.readers = {}  # var -> the equations reading it, once per reading
        for k, e in enumerate(program.equations):
            for r in e.ins:
                if type(r) is int:
                    self.readers.setdefault(r, []).append(k)
        self.outputs = {r for r in program.outputs if type(r) is int}

    def fusable(self, e):
        """The kernel dtype of ``e`` if it can be part of a kernel, else None: a comparison
        computes in its operands' dtype, a ``where`` selects by a boolean of its shape."""
        name = e.prim.name
        if not (is_scalar_function(name) or name in _COMPARISONS or name == "where") or e.params:
            return None
        shape, dtype = self.p.avals[e.out]
        ins = e.ins
        if name in _COMPARISONS:
            operands = [self.p._aval_of(r)[1] for r in ins if type(r) is int]
            dtype = operands[0] if operands else None
        elif name == "where":
            cond, ins = ins[0], ins[1:]
            if type(cond) is not int or self.p._aval_of(cond) != (shape, np.dtype(bool)):
                return None
        # float16 and longdouble stay with NumPy: Numba compiles neither
        if dtype not in DOT_DTYPES or int(np.prod(shape)) < MIN_SIZE:
            return None
        for r in ins:  # arrays of the result's shape, or numbers (0-d arrays too: a step's learning rate)
            if not leaf_ok(self.p, r, dtype) or tuple(self.p._aval_of(r)[0]) not in ((), tuple(shape)):
                return None
        return dtype

    def _recomputed_in_wheres(self, j, dtypes):
        """Whether comparison ``j`` can be recomputed in each ``where`` reading it: only wheres of
        its dtype read it, as their condition (then no boolean array is made at all)."""
        r = self.p.equations[j].out
        readers = self.readers.get(r, [])
        return r not in self.outputs and all(
            dtypes[i] == dtypes[j] and self.p.equations[i].prim.name == "where" and self.p.equations[i].ins[0] == r
            and r not in self.p.equations[i].ins[1:] for i in readers)

    def rewrite(self, alone):
        eqs, p = self.p.equations, self.p
        dtypes = [self.fusable(e) for e in eqs]  # each equation's kernel dtype, None if not fusable
        made = {e.out: k for k, e in enumerate(eqs) if dtypes[k] is not None}  # var -> its fusable equation
        inline = set()  # equation indices folded into their consumers
        for k, e in enumerate(eqs):
            if dtypes[k] is None:
                continue
            for r in e.ins:
                if type(r) is not int or r not in made:
                    continue
                j = made[r]
                if eqs[j].prim.name in _COMPARISONS:
                    if self._recomputed_in_wheres(j, dtypes):
                        inline.add(j)
                elif len(self.readers[r]) == 1 and r not in self.outputs and p.avals[r] == p.avals[e.out]:
                    inline.add(j)
        self.made, self.inline = made, inline
        roots = [k for k, e in enumerate(eqs) if k not in inline and made.get(e.out) == k
                 and e.prim.name not in _COMPARISONS  # a boolean is no kernel's result
                 and any(self._inlined(r) for r in e.ins)]
        # each equation in a tree -> the roots of the trees holding it (a comparison: each where's)
        self.trees = {k: self._tree(k) for k in roots}
        self.holders = {}
        for k, tree in self.trees.items():
            for j in tree:
                self.holders.setdefault(j, set()).add(k)
        # trees whose results are in `alone` (all, when None) stay kernels of their own
        single = roots if alone is None else [k for k in roots if eqs[k].out in alone]
        groups = self._groups([k for k in roots if k not in single], dtypes) | {k: [k] for k in single}
        if not groups:
            return p
        out = copy.copy(p)
        out.avals = dict(p.avals)
        new = []
        for k, e in enumerate(eqs):
            if k in inline or groups.get(k, ()) is None:  # folded into a tree, or its tree into a later kernel
                continue
            if k not in groups:
                new.append(e)
                continue
            leaves, exprs, local = [], [], {}
            for i, j in enumerate(groups[k]):
                exprs.append(self._expr(j, leaves, local))
                local[eqs[j].out] = f"y{i}"
            # the earlier trees' results read outside this kernel (or returned) are written out too:
            # by an equation outside the trees, or a tree of another kernel (a comparison included)
            stored = [i for i, j in enumerate(groups[k][:-1]) if eqs[j].out in self.outputs
                      or any(h not in groups[k] for h in self._runs_reading(eqs[j].out))]
            sides = [eqs[groups[k][i]].out for i in stored]
            bufs = []
            for r in sides:
                bufs.append(out._next)
                out.avals[out._next] = p.avals[r]
                new.append(e._replace(prim=EMPTY, ins=(), params={}, out=out._next))
                out._next += 1
            ins = tuple(r for r, _ in leaves)
            impl = _kernel_call(exprs, [p._aval_of(r)[0] != () for r in ins], p.avals[e.out][1], stored)
            new.append(e._replace(prim=Primitive("fused_kernel", impl), ins=ins + tuple(bufs), params={}))
            new += [e._replace(prim=READY, ins=(b, e.out), params={}, out=r) for b, r in zip(bufs, sides)]
        out.equations = new
        return out

    def _runs_reading(self, v):
        """What runs reading variable ``v``: the roots of the trees that read it (a comparison's
        reading runs in each where's tree), and the other equations reading it, by index."""
        return {h for i in self.readers.get(v, ()) for h in self.holders.get(i, (i,))}

    def _tree(self, k):
        """The indices of the equations of the tree rooted at equation ``k``."""
        members, stack = set(), [k]
        while stack:
            j = stack.pop()
            members.add(j)
            stack += [self.made[r] for r in self.p.equations[j].ins if self._inlined(r)]
        return members

    def _groups(self, roots, dtypes):
        """``{root: the roots of the trees its kernel computes, in order, its own last}``, None
        for a root whose tree went into a later kernel. A tree read by a later tree of its dtype
        and shape is computed in that tree's kernel (its result written out too), with the
        trees its own kernel computes, when none of their results is read by anything that
        runs before that tree: an equation outside the trees, or another tree (a comparison
        runs in each where that reads it). So the operands they share are read once: Adam's
        two moments and its new parameters, one kernel instead of three."""
        eqs, p = self.p.equations, self.p
        groups = {k: [k] for k in roots}
        owner = {eqs[k].out: k for k in roots}  # a tree's result -> the root of the kernel computing it
        for k in roots:
            for r in sorted({r for j in self.trees[k] for r in eqs[j].ins if type(r) is int and not self._inlined(r)}):
                g = owner.get(r)
                if g is None or g == k or groups[g] is None or dtypes[g] != dtypes[k] or (
                        p.avals[r][0] != p.avals[eqs[k].out][0]):
                    continue
                inside = {k, *groups[g]}
                made_there = [eqs[j].out for j in groups[g]]
                # each result of the earlier kernel read by nothing else that runs before this tree's
                # root: an equation outside the trees, or a tree (a comparison runs in each of its wheres)
                if any(h <= k and h not in inside for v in made_there for h in self._runs_reading(v)):
                    continue
                groups[k] = sorted(groups[g] + groups[k])  # computed in program order
                groups[g] = None
                for j in groups[k]:
                    owner[eqs[j].out] = k
        return groups

    def _inlined(self, r):
        return type(r) is int and r in self.made and self.made[r] in self.inline

    def _expr(self, k, leaves, local):
        """The tree's expression over ``x0, x1, ...`` and the kernel's earlier results ``local``
        (``{variable: name}``); appends ``(leaf, key)`` to ``leaves``."""
        e = self.p.equations[k]
        args = []
        for r in e.ins:
            if type(r) is int and r in local:
                args.append(local[r])
                continue
            if self._inlined(r):
                args.append(self._expr(self.made[r], leaves, local))
                continue
            key = r if type(r) is int else ("c", id(r))
            keys = [lk for _, lk in leaves]
            if key not in keys:
                leaves.append((r, key))
                keys.append(key)
            args.append(f"x{keys.index(key)}")
        return expression(e.prim.name, args, self.p.avals[e.out][1])


def _kernel_call(exprs, full, dtype, stored=()):
    """A Python function of the leaves computing ``exprs[-1]`` per element with a cached kernel;
    ``full[i]``: whether leaf ``i`` is an array of the result's shape (else a number). The
    earlier ``exprs`` are ``y0, y1, ...`` to the later ones; those at the indices ``stored``
    are results too, written into as many more arguments, arrays of the result's shape. Its
    ``inline`` writes the kernel's call into a replay's source instead (see :func:`_inline`)."""
    arrays = [i for i, f in enumerate(full) if f]
    loads = "".join(f"        x{i} = a{i}[t]\n" for i in arrays)
    sides = len(stored)
    params = ", ".join([f"a{i}" if i in arrays else f"x{i}" for i in range(len(full))]
                       + [f"s{i}" for i in range(sides)])
    body = "".join(f"        y{i} = {x}\n" + (f"        s{stored.index(i)}[t] = y{i}\n" if i in stored else "")
                   for i, x in enumerate(exprs[:-1]))
    source = (
        "import numba\nimport numpy as np\n\n\n"
        + scalar_helpers(dtype) + "\n\n"
        + "@numba.njit(cache=True, nogil=True, error_model='numpy')\n"
        f"def kernel({params}):\n"
        f"    out = np.empty(a{arrays[0]}.shape[0], np.{dtype.name})\n"
        "    for t in range(out.shape[0]):\n"
        f"{loads}{body}"
        f"        out[t] = {exprs[-1]}\n"
        "    return out\n"
    )
    kernel = load(source)
    scalar = dtype.type
    first = arrays[0]
    full = list(full) + [True] * sides

    def run(*xs):
        shape = xs[first].shape
        return kernel(*[x.reshape(-1) if f else scalar(x) for f, x in zip(full, xs)]).reshape(shape)

    # a row loop may call it on blocks of rows (slopes.core.tiling); not one that writes more
    # results, which is why tiling.lower merges trees only where no row loop forms
    run.elementwise = not sides
    run.kernel, run.source = kernel, source
    run.inline = _inline(kernel, full, dtype)
    return run


def _inline(kernel, full, dtype):
    """``inline(e, args, in_avals, out_aval, ns)``: the expression calling ``kernel`` for
    equation ``e`` in a replay's source, its arguments named ``args``. The shapes are known
    there, so it skips ``run``'s Python layer: a 1-D array goes in as it is, another
    flattened; an immutable number is converted to the kernel's dtype once, a 0-d value (a
    variable, or a captured 0-d array its owner may change in place) at each call."""
    def inline(e, args, in_avals, out_aval, ns):
        name, convert = f"k{len(ns)}", f"k{len(ns)}_dtype"
        ns[name], ns[convert] = kernel, dtype.type
        parts = []
        for r, a, (shape, _), f in zip(e.ins, args, in_avals, full):
            if f:
                parts.append(a if len(shape) == 1 else f"{a}.reshape(-1)")
            elif type(r) is not int and not isinstance(r.value, np.ndarray):  # NumPy computes with it in the dtype
                c = f"c{len(ns)}"
                ns[c] = dtype.type(r.value)
                parts.append(c)
            else:
                parts.append(f"{convert}({a})")
        call = f"{name}({', '.join(parts)})"
        return call if len(out_aval[0]) == 1 else f"{call}.reshape({tuple(out_aval[0])!r})"

    return inline


def load(source):
    r"""The compiled function ``kernel`` of the Python ``source``, written once to :func:`cache_dir`
    (Numba caches the machine code beside it) and loaded once per process.

    Examples
    --------
    >>> source = "import numba\n@numba.njit(cache=True)\ndef kernel(x):\n    return x + 1\n"
    >>> not numba_available() or load(source)(1)
    2
    """
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    with _lock:
        if digest in _loaded:
            return _loaded[digest]
        folder = cache_dir()
        path = os.path.join(folder, f"slopes_kernel_{digest}.py")
        try:
            os.makedirs(folder, exist_ok=True)
            if not os.path.exists(path):  # an existing file keeps its time stamp, which Numba's cache checks
                tmp = f"{path}.{os.getpid()}.tmp"
                with open(tmp, "w") as f:
                    f.write(source)
                os.replace(tmp, path)
        except OSError as err:
            raise OSError(f"jit(kernels='numba'): cannot write the kernel cache in {folder} ({err.strerror}); "
                          "set SLOPES_CACHE_DIR to a writable directory") from None
        name = f"slopes_kernel_{digest}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # Numba's disk cache finds the module again by its name
        spec.loader.exec_module(module)
        _loaded[digest] = module.kernel
        return module.kernel


def fuse_elementwise(program, alone=()):
    """``program`` with each tree of elementwise equations (intermediates used once, one shape,
    float32 or float64, at least :data:`MIN_SIZE` elements; 0-d operands enter as numbers; a
    comparison read only as ``where`` conditions of its dtype recomputed in each) as one Numba
    kernel call, with the trees a later tree reads computed in its kernel (see
    :meth:`_Fuser._groups`) but for those whose results are in ``alone`` (all, when it is
    None); the program itself when there is none.

    Examples
    --------
    >>> import numpy as np, slopes as sl, slopes.numpy as snp
    >>> prog = sl.jit(lambda x: snp.exp(x) * 2.0 + x).trace(np.zeros(10))
    >>> not numba_available() or fuse_elementwise(prog) is prog  # 10 elements: left to NumPy
    True
    """
    if not numba_available():
        raise ImportError(
            "kernels='numba' needs Numba: pip install 'slopes[fast]' (or use the default kernels='numpy')")
    return _Fuser(program).rewrite(None if alone is None else set(alone))


def is_elementwise(prim):
    """Whether ``prim`` acts element by element: a primitive of :data:`ELEMENTWISE` or a fused kernel."""
    return prim in ELEMENTWISE or getattr(prim.impl, "elementwise", False)
