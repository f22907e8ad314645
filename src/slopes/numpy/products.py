"""Products and matrix structure: matmul, dot, einsum, trace, diag, triu, kron, ...

Most functions are composites of the engine's primitives (``matmul``,
elementwise ``mul``, reshapes, ``getitem``), exact and cheap. ``einsum`` is a
primitive of its own (defined here): its reverse rule for operand ``k`` is an
einsum of the cotangent with the other operands, followed by broadcasting back
the labels that only operand ``k`` has and placing repeated labels (``'ii'``)
back on their diagonal.
"""

from __future__ import annotations

import math
import string
from collections import Counter

import numpy as np

from ..core.dtypes import complex_valued
from ..core.ops import elementwise as ew
from ..core.ops import reduce as rd
from ..core.ops import shape as sh
from ..core.ops.einsum import einsum as _einsum
from ..core.ops.linalg import matmul as _matmul
from ..core.trace import shape_of
from ._axes import normalize_axis
from .convolution import convolve
from ._wrap import asarray_args

__all__ = [
    "matmul",
    "dot",
    "vdot",
    "inner",
    "outer",
    "tensordot",
    "einsum",
    "einsum_path",
    "trace",
    "diag",
    "diagonal",
    "triu",
    "tril",
    "kron",
    "convolve",
]


def matmul(a, b):
    """Differentiable ``numpy.matmul`` (the ``@`` operator), with stacks and 1-D operands.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> sl.grad(lambda x: snp.sum(snp.matmul(A, x)))(np.array([1.0, 1.0]))
    array([4., 6.])
    """
    a, b = asarray_args((a, b))
    return _matmul(a, b)


def _ndim(x):
    return len(shape_of(x))


def _reshape(x, shape):
    shape = tuple(shape)
    return x if tuple(shape_of(x)) == shape else sh.reshape(x, shape=shape)


def _transpose(x, axes):
    axes = tuple(axes)
    return x if axes == tuple(range(len(axes))) else sh.transpose(x, axes=axes)


def _vector_dot(a, b):
    return rd.reduce_sum(ew.mul(a, b), axis=(0,), keepdims=False)


# -- dot, vdot, inner, outer, tensordot ------------------------------------------------------
def tensordot(a, b, axes=2):
    """Differentiable ``numpy.tensordot``: sum products over the given axes.

    Parameters
    ----------
    a, b : array_like
    axes : int or (sequence, sequence)
        An int ``N`` sums the last ``N`` axes of ``a`` against the first ``N``
        of ``b``; a pair lists the axes of ``a`` and of ``b`` to sum, in order.

    Returns
    -------
    ndarray with the remaining axes of ``a`` followed by those of ``b``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A, B = np.ones((2, 3, 4)), np.ones((3, 4, 5))
    >>> snp.tensordot(A, B).shape
    (2, 5)
    >>> sl.grad(lambda A: snp.tensordot(A, B, axes=([1, 2], [0, 1])).sum())(A).shape
    (2, 3, 4)
    """
    a, b = asarray_args((a, b))
    sa, sb = tuple(shape_of(a)), tuple(shape_of(b))
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > min(len(sa), len(sb)):
            raise ValueError(f"tensordot(): axes={n} for shapes {sa} and {sb}")
        ax_a, ax_b = list(range(len(sa) - n, len(sa))), list(range(n))
    else:
        try:
            ax_a, ax_b = axes
        except (TypeError, ValueError):
            raise ValueError(
                f"tensordot(): axes must be an int or a pair of sequences, got {axes!r}"
            ) from None
        ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
        if len(ax_a) != len(ax_b):
            raise ValueError(f"tensordot(): {len(ax_a)} axes of a against {len(ax_b)} axes of b")
        ax_a = [normalize_axis(x, len(sa)) for x in ax_a]
        ax_b = [normalize_axis(x, len(sb)) for x in ax_b]
    for i, j in zip(ax_a, ax_b):
        if sa[i] != sb[j]:
            raise ValueError(
                f"tensordot(): shape mismatch: axis {i} of a {sa} has length {sa[i]}, "
                f"axis {j} of b {sb} has length {sb[j]}"
            )
    free_a = [i for i in range(len(sa)) if i not in ax_a]
    free_b = [j for j in range(len(sb)) if j not in ax_b]
    k = math.prod([sa[i] for i in ax_a])
    m = math.prod([sa[i] for i in free_a])
    n = math.prod([sb[j] for j in free_b])
    a2 = _reshape(_transpose(a, free_a + ax_a), (m, k))
    b2 = _reshape(_transpose(b, ax_b + free_b), (k, n))
    out = _matmul(a2, b2)
    return _reshape(out, tuple(sa[i] for i in free_a) + tuple(sb[j] for j in free_b))


def dot(a, b):
    """Differentiable ``numpy.dot``.

    Scalars multiply; two vectors give their inner product; matrices (and a
    matrix with a vector) multiply like ``matmul``; for N-D arrays the result
    sums over the last axis of ``a`` and the second-to-last of ``b``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.dot(np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    11.0
    >>> sl.grad(lambda x: snp.dot(x, x))(np.array([1.0, 2.0]))
    array([2., 4.])
    """
    a, b = asarray_args((a, b))
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0:
        return ew.mul(a, b)
    if na == 1 and nb == 1:
        _check_lengths("dot", shape_of(a)[0], shape_of(b)[0], a, b)
        return _vector_dot(a, b)
    if nb <= 2 and na <= 2:
        return _matmul(a, b)
    return tensordot(a, b, axes=([na - 1], [max(nb - 2, 0)]))


def _check_lengths(name, n, m, a, b):
    if n != m:
        raise ValueError(
            f"{name}(): shapes {tuple(shape_of(a))} and {tuple(shape_of(b))} not aligned "
            f"({n} != {m})"
        )


def vdot(a, b):
    """Differentiable ``numpy.vdot``: the dot product of the flattened arrays.

    As in NumPy, a complex ``a`` is conjugated first: ``vdot(z, z) = sum |z|**2``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> float(snp.vdot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.ones((2, 2))))
    10.0
    >>> complex(snp.vdot(np.array([1.0 + 1.0j]), np.array([1.0 + 1.0j])))
    (2+0j)
    """
    a, b = asarray_args((a, b))
    if complex_valued(a):
        a = ew.conj(a)
    _check_lengths("vdot", _size(a), _size(b), a, b)
    return _vector_dot(_reshape(a, (_size(a),)), _reshape(b, (_size(b),)))


def _size(x):
    return math.prod(shape_of(x))


def inner(a, b):
    """Differentiable ``numpy.inner``: sum products over the last axes of ``a`` and ``b``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.inner(np.eye(2), np.array([1.0, 2.0]))
    array([1., 2.])
    """
    a, b = asarray_args((a, b))
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0:
        return ew.mul(a, b)
    _check_lengths("inner", shape_of(a)[-1], shape_of(b)[-1], a, b)
    if na == 1 and nb == 1:
        return _vector_dot(a, b)
    return tensordot(a, b, axes=([na - 1], [nb - 1]))


def outer(a, b):
    """Differentiable ``numpy.outer``: ``out[i, j] = a[i] * b[j]`` of the flattened inputs.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.outer(np.array([1.0, 2.0]), np.array([1.0, 10.0]))
    array([[ 1., 10.],
           [ 2., 20.]])
    """
    a, b = asarray_args((a, b))
    return ew.mul(_reshape(a, (_size(a), 1)), _reshape(b, (1, _size(b))))


def _parse_einsum(subscripts, shapes):
    """Explicit subscripts without ellipsis, e.g. ``'ij,jk->ik'``, with NumPy's checks."""
    s = subscripts.replace(" ", "")
    explicit = "->" in s
    ins, out = s.split("->", 1) if explicit else (s, None)
    ins = ins.split(",")
    if len(ins) != len(shapes):
        raise ValueError(
            f"einsum(): {len(ins)} operand subscript(s) in {subscripts!r} "
            f"for {len(shapes)} operand(s)"
        )
    for part in ins + ([out] if explicit else []):
        if part.count("...") > 1 or set(part.replace("...", "")) - set(string.ascii_letters):
            raise ValueError(
                f"einsum(): invalid subscripts {subscripts!r} "
                "(use letters and at most one '...' per operand)"
            )
    free = [c for c in string.ascii_letters if c not in s]
    ell_dims = []
    for i, (sub, shape) in enumerate(zip(ins, shapes)):
        named = len(sub.replace("...", ""))
        if ("..." in sub and named > len(shape)) or ("..." not in sub and named != len(shape)):
            raise ValueError(
                f"einsum(): operand {i} has {len(shape)} axes but subscripts {sub!r} name {named}"
            )
        ell_dims.append(len(shape) - named if "..." in sub else 0)
    n_ell = max(ell_dims, default=0)
    ell = "".join(free[:n_ell])
    full = [sub.replace("...", ell[n_ell - k :]) for sub, k in zip(ins, ell_dims)]
    if not explicit:
        counts = Counter("".join(i.replace("...", "") for i in ins))
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:
        if n_ell and "..." not in out:
            raise ValueError(
                f"einsum(): the operands have '...' axes but the output {out!r} has no '...'"
            )
        out = out.replace("...", ell)
        for c in out:
            if out.count(c) > 1 or c not in "".join(full):
                raise ValueError(
                    f"einsum(): output label {c!r} is repeated or does not appear in the inputs"
                )
    return ",".join(full) + "->" + out


def _sublist_subscripts(args):
    """NumPy's interleaved form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` as ``('ij,jk->ik', a, b)``."""
    import string

    letters = string.ascii_letters

    def spell(sub):
        out = []
        for s in sub:
            if s is Ellipsis:
                out.append("...")
            elif isinstance(s, (int, np.integer)) and 0 <= s < len(letters):
                out.append(letters[s])
            else:
                raise ValueError(
                    f"einsum(): sublist labels are integers 0 to {len(letters) - 1} or ..., got {s!r}"
                )
        return "".join(out)

    pairs, output = (args[:-1], args[-1]) if len(args) % 2 else (args, None)  # odd: output sublist last
    subs = ",".join(spell(s) for s in pairs[1::2])
    return subs + ("" if output is None else "->" + spell(output)), list(pairs[0::2])


def einsum(subscripts, *operands, optimize=False):
    """Differentiable ``numpy.einsum``: Einstein summation over labelled axes.

    Supports explicit (``'ij,jk->ik'``) and implicit (``'ij,jk'``) output,
    repeated labels (``'ii->i'`` takes a diagonal, ``'ii'`` the trace),
    broadcasting with ``'...'``, any number of operands, and NumPy's sublist
    form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``. ``optimize`` is accepted for
    NumPy compatibility; it only chooses a contraction order in NumPy, and
    slopes chooses its own, so the result is the same.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> float(snp.einsum("ii", A))
    5.0
    >>> sl.grad(lambda A: snp.einsum("ij,ij->", A, A))(A)
    array([[2., 4.],
           [6., 8.]])
    >>> snp.einsum(A, [0, 1], A, [1, 2], [0, 2], optimize=True)   # A @ A
    array([[ 7., 10.],
           [15., 22.]])
    """
    if not isinstance(subscripts, str):
        if not operands or not isinstance(operands[0], (list, tuple)):
            raise TypeError(
                "einsum(): give the subscripts as a string first, e.g. einsum('ij,jk->ik', a, b), "
                "or operands each followed by its list of axis labels, einsum(a, [0, 1], b, [1, 2])"
            )
        subscripts, operands = _sublist_subscripts((subscripts,) + operands)
    if not operands:
        raise ValueError("einsum(): needs at least one operand")
    operands = asarray_args(operands)
    operands = tuple(o if hasattr(o, "shape") else np.asarray(o) for o in operands)
    spec = _parse_einsum(subscripts, [tuple(shape_of(o)) for o in operands])
    return _einsum(*operands, subscripts=spec)


def einsum_path(subscripts, *operands, optimize="greedy"):
    """``numpy.einsum_path`` for plain or traced operands: NumPy's contraction order (it reads only shapes).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.einsum_path("ij,jk,kl->il", np.ones((2, 3)), np.ones((3, 4)), np.ones((4, 5)))[0]
    ['einsum_path', (1, 2), (0, 1)]
    """
    if not isinstance(subscripts, str):
        if not operands or not isinstance(operands[0], (list, tuple)):
            raise TypeError("einsum_path(): give the subscripts as a string first, or NumPy's sublist form")
        subscripts, operands = _sublist_subscripts((subscripts,) + operands)
    stand_ins = [np.empty(shape_of(o)) for o in asarray_args(operands)]
    return np.einsum_path(subscripts, *stand_ins, optimize=optimize)


# -- diagonals and triangles ------------------------------------------------------------------
def diagonal(a, offset=0, axis1=0, axis2=1):
    """Differentiable ``numpy.diagonal``: the diagonal over two axes, as a new last axis.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.arange(9.0).reshape(3, 3)
    >>> snp.diagonal(A, offset=1)
    array([1., 5.])
    >>> sl.grad(lambda A: snp.diagonal(A).sum())(np.zeros((2, 2)))
    array([[1., 0.],
           [0., 1.]])
    """
    (a,) = asarray_args((a,))
    s = tuple(shape_of(a))
    if len(s) < 2:
        raise ValueError(f"diagonal(): needs an array with at least 2 axes, got shape {s}")
    i, j = normalize_axis(axis1, len(s), "axis1"), normalize_axis(axis2, len(s), "axis2")
    if i == j:
        raise ValueError("diagonal(): axis1 and axis2 cannot be the same")
    a = _transpose(a, [k for k in range(len(s)) if k not in (i, j)] + [i, j])
    offset = int(offset)
    rows0, cols0 = max(-offset, 0), max(offset, 0)
    n = max(min(s[i] - rows0, s[j] - cols0), 0)
    rows, cols = np.arange(rows0, rows0 + n), np.arange(cols0, cols0 + n)
    return sh.getitem(a, index=(Ellipsis, rows, cols))


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """Differentiable ``numpy.trace``: the sum along a diagonal.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> float(snp.trace(A))
    5.0
    >>> sl.grad(lambda X: snp.trace(A @ X))(np.zeros((2, 2)))  # A^T
    array([[1., 3.],
           [2., 4.]])
    """
    if out is not None:
        raise TypeError("trace(..., out=...) writes in place, which slopes does not support")
    d = diagonal(a, offset, axis1, axis2)
    res = rd.reduce_sum(d, axis=(_ndim(d) - 1,), keepdims=False)
    return res if dtype is None else ew.astype(res, dtype=np.dtype(dtype))


def diag(v, k=0):
    """Differentiable ``numpy.diag``: put a 1-D array on a diagonal, or take a 2-D array's diagonal.

    ``k`` selects the diagonal (``k > 0`` above the main one, ``k < 0`` below).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.diag(np.array([1.0, 2.0]), k=1)
    array([[0., 1., 0.],
           [0., 0., 2.],
           [0., 0., 0.]])
    >>> snp.diag(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([1., 4.])
    """
    (v,) = asarray_args((v,))
    nd = _ndim(v)
    if nd == 2:
        return diagonal(v, k)
    if nd != 1:
        raise ValueError(f"diag(): input must be 1-D or 2-D, got shape {tuple(shape_of(v))}")
    n, k = shape_of(v)[0], int(k)
    m = n + abs(k)
    rows = np.arange(n) + max(-k, 0)
    return sh.scatter_add(v, index=(rows, rows + k), shape=(m, m))


def _triangle(m, k, lower, name):
    (m,) = asarray_args((m,))
    s = tuple(shape_of(m))
    if len(s) == 0:
        raise ValueError(f"{name}(): needs an array with at least 1 axis")
    if len(s) == 1:  # NumPy repeats a vector as the rows of a square matrix
        s = (s[0], s[0])
        m = sh.broadcast_to(m, shape=s)
    if lower:
        keep = np.tri(s[-2], s[-1], int(k), dtype=bool)
    else:
        keep = ~np.tri(s[-2], s[-1], int(k) - 1, dtype=bool)
    return ew.where(keep, m, np.zeros((), dtype=m.dtype))


def tril(m, k=0):
    """Differentiable ``numpy.tril``: zero the entries above the ``k``-th diagonal.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.tril(np.ones((2, 3)))
    array([[1., 0., 0.],
           [1., 1., 0.]])
    """
    return _triangle(m, k, True, "tril")


def triu(m, k=0):
    """Differentiable ``numpy.triu``: zero the entries below the ``k``-th diagonal.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.triu(np.ones((2, 3)), k=1)
    array([[0., 1., 1.],
           [0., 0., 1.]])
    """
    return _triangle(m, k, False, "triu")


def kron(a, b):
    """Differentiable ``numpy.kron``: the Kronecker product (blocks ``a[i, j] * b``).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.kron(np.eye(2), np.array([[1.0, 2.0]]))
    array([[1., 2., 0., 0.],
           [0., 0., 1., 2.]])
    """
    a, b = asarray_args((a, b))
    sa, sb = tuple(shape_of(a)), tuple(shape_of(b))
    nd = max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    a2 = _reshape(a, tuple(x for n in sa for x in (n, 1)))
    b2 = _reshape(b, tuple(x for n in sb for x in (1, n)))
    return _reshape(ew.mul(a2, b2), tuple(p * q for p, q in zip(sa, sb)))
