"""The derivative transforms: grad, jvp, vjp, Jacobians, Hessians, n-th derivatives, vmap.

Every transform takes a function written with :mod:`slopes.numpy` and returns a
new function (or, for ``jvp``/``vjp``/``hvp``/``directional_derivative``, the
values directly). Inputs are arrays, Python scalars or pytrees of them;
outputs are plain ``np.ndarray`` in the same structure. Transforms nest freely.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .core import pytree
from .core.batching import vmap_call
from .core.forward import jvp_call
from .core.ops.shape import reshape, transpose
from .core.reverse import vjp_call
from .core.trace import Tracer, shape_of

__all__ = [
    "grad",
    "value_and_grad",
    "jvp",
    "vjp",
    "jacfwd",
    "jacrev",
    "jacobian",
    "hessian",
    "hvp",
    "derivative",
    "directional_derivative",
    "vmap",
]


# -- checking and converting what goes in and out --------------------------------------
def _check_callable(fun, name):
    if not callable(fun):
        raise TypeError(f"{name}() needs a function to differentiate, got {type(fun).__name__} {fun!r}")


def _fun_name(fun):
    return getattr(fun, "__name__", type(fun).__name__)


def _as_input(x, name, what):
    """A float array (or an outer transform's traced value) from one input leaf.

    ``what`` names the input in errors: a string, or a callable making one.
    """
    if type(x) is not np.ndarray:
        x = x if isinstance(x, Tracer) else np.asarray(x)
    dtype = x.dtype
    if dtype.kind != "f":
        what = what() if callable(what) else what
        raise TypeError(
            f"{name}() differentiates with respect to floating-point inputs, but {what} has "
            f"dtype {dtype}. Pass floats, e.g. 1.0 instead of 1, or np.asarray(x, dtype=float)."
        )
    return x


def _as_output(x, like=None):
    """A plain array out of a transform; with ``like``, in that input's dtype.

    A float32 input gets a float32 derivative even where float64 values
    (constants, other inputs) entered its computation.
    """
    if isinstance(x, Tracer):
        return x
    x = np.asarray(x)
    if like is not None and x.dtype != like.dtype:
        x = x.astype(like.dtype)
    return x


def _zeros_like(x):
    return np.zeros(shape_of(x), dtype=x.dtype)


def _argnums(argnums, nargs, name):
    if type(argnums) is int and 0 <= argnums < nargs:  # the common case
        return (argnums,), True
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    if not nums:
        raise ValueError(f"{name}(): argnums is empty; name at least one argument")
    for a in nums:
        if not isinstance(a, int) or not -nargs <= a < nargs:
            raise ValueError(
                f"{name}(): argnums={argnums!r} is out of range for a call with {nargs} "
                f"positional argument(s) (valid: 0 to {nargs - 1})"
            )
    return tuple(a % nargs for a in nums), single


_CONTAINERS = (list, tuple, dict)


class _Flat:
    """A function of flat float leaves standing in for ``fun(*args)`` at ``argnums``."""

    def __init__(self, fun, args, kwargs, argnums, name, has_aux=False):
        self.fun, self.args, self.kwargs = fun, args, kwargs
        self.argnums, self.name, self.has_aux = argnums, name, has_aux
        leaves = [args[i] for i in argnums]
        if any(isinstance(x, _CONTAINERS) or x is None for x in leaves):
            leaves, self.in_tree = pytree.flatten(leaves)
        else:  # plain arrays: skip the pytree machinery on this hot path
            self.in_tree = None
        for k, x in enumerate(leaves):
            if type(x) is not np.ndarray or x.dtype.kind != "f":  # else already fine
                leaves[k] = _as_input(x, name, lambda k=k: f"argument {self._where(k)}")
        self.leaves = leaves
        self.out_tree = None
        self.aux = None

    def _where(self, k):
        if self.in_tree is None or self.in_tree.num_leaves == len(self.argnums):
            return self.argnums[k]
        return f"leaf {k} of the differentiated arguments"

    def __call__(self, *xs):
        args = list(self.args)
        trees = xs if self.in_tree is None else pytree.unflatten(self.in_tree, xs)
        for i, tree in zip(self.argnums, trees):
            args[i] = tree
        out = self.fun(*args, **self.kwargs)
        if self.has_aux:
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise TypeError(
                    f"{self.name}(has_aux=True): the function must return a pair "
                    f"(output, aux), got {type(out).__name__}"
                )
            out, self.aux = out
        outs, self.out_tree = pytree.flatten(out)
        return outs

    def in_structure(self, leaves, single):
        trees = leaves if self.in_tree is None else pytree.unflatten(self.in_tree, leaves)
        return trees[0] if single else tuple(trees)

    def lowered_aux(self):
        """Aux outputs with this transform's tracers replaced by their values."""

        def lower(x):
            while isinstance(x, Tracer) and x._trace.level > _current_level():
                x = x.primal
            return _as_output(x) if not isinstance(x, (str, bytes)) else x

        return pytree.tree_map(lower, self.aux) if self.aux is not None else None


def _current_level():
    from .core.trace import _depth

    return _depth[0]


# -- reverse mode ---------------------------------------------------------------------------
def value_and_grad(fun, argnums=0, has_aux=False):
    """Make a function returning ``(fun(*args), gradient)`` in one pass.

    Parameters
    ----------
    fun : callable
        Scalar-valued function of arrays (or pytrees of arrays).
    argnums : int or tuple of ints
        Which positional arguments to differentiate with respect to. With a
        tuple, the gradient is a tuple with one entry per argument.
    has_aux : bool
        ``fun`` returns ``(value, aux)``; then the result is
        ``((value, aux), gradient)`` and ``aux`` is passed through undifferentiated.

    Returns
    -------
    callable
        Same arguments as ``fun``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> value, g = sl.value_and_grad(lambda x: snp.sum(x ** 2))(np.array([1.0, 2.0]))
    >>> float(value), g
    (5.0, array([2., 4.]))
    """
    _check_callable(fun, "value_and_grad")

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        nums, single = _argnums(argnums, len(args), "grad")
        flat = _Flat(fun, args, kwargs, nums, "grad", has_aux)
        outs, pullback = vjp_call(flat, flat.leaves)
        if flat.out_tree.num_leaves != 1 or flat.out_tree.kind != "leaf":
            raise TypeError(
                f"grad() needs a function returning one scalar; {_fun_name(fun)} returned "
                f"{flat.out_tree!r} structure. If it returns (value, extra), pass has_aux=True."
            )
        (out,) = outs
        shape = shape_of(out)
        if shape != ():
            raise TypeError(
                f"grad() needs a scalar-valued function, but {_fun_name(fun)} returned an "
                f"array of shape {shape}. Reduce it to a scalar (e.g. snp.sum or snp.mean), "
                f"or use sl.jacobian / sl.jacrev for the derivative of a vector output."
            )
        dtype = out.dtype if hasattr(out, "dtype") else np.result_type(out)
        if dtype.kind != "f":
            raise TypeError(f"grad(): the output of {_fun_name(fun)} has dtype {dtype}, not a float")
        cts = pullback([dtype.type(1)])  # a NumPy scalar: fast arithmetic
        grads = [
            _zeros_like(x) if c is None else _as_output(c, x) for x, c in zip(flat.leaves, cts)
        ]
        g = flat.in_structure(grads, single)
        value = _as_output(out)
        if has_aux:
            return (value, flat.lowered_aux()), g
        return value, g

    return wrapped


def grad(fun, argnums=0, has_aux=False):
    """Make a function returning the gradient of a scalar-valued ``fun``.

    Parameters
    ----------
    fun : callable
        Written with :mod:`slopes.numpy`; returns a scalar.
    argnums : int or tuple of ints
        The positional argument(s) to differentiate with respect to.
    has_aux : bool
        ``fun`` returns ``(value, aux)``; the result is then ``(gradient, aux)``.

    Returns
    -------
    callable
        Returns arrays of the same shape (and pytree structure) as the
        arguments named by ``argnums``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> f = lambda x: x[0] ** 2 + 2 * x[1] ** 2 + snp.exp(-x[0] - x[1])
    >>> sl.grad(f)(np.array([1.0, 2.0])).round(6)
    array([1.950213, 7.950213])
    """
    _check_callable(fun, "grad")
    vg = value_and_grad(fun, argnums, has_aux)

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        (value, g) = vg(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    return wrapped


def vjp(fun, *primals, has_aux=False):
    """Evaluate ``fun(*primals)`` and return a function pulling cotangents back.

    Returns
    -------
    out : pytree of ndarray
        ``fun(*primals)``.
    vjp_fn : callable
        ``vjp_fn(cotangent)`` with ``cotangent`` shaped like ``out`` returns a
        tuple with one entry per primal: ``cotangent^T J``.
    aux : optional
        Only when ``has_aux=True``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> out, vjp_fn = sl.vjp(lambda x: x ** 2, np.array([1.0, 3.0]))
    >>> vjp_fn(np.array([1.0, 1.0]))
    (array([2., 6.]),)
    """
    _check_callable(fun, "vjp")
    if not primals:
        raise TypeError("vjp() needs at least one primal input: vjp(fun, x)")
    flat = _Flat(fun, primals, {}, tuple(range(len(primals))), "vjp", has_aux)
    outs, pullback = vjp_call(flat, flat.leaves)
    out_tree = flat.out_tree

    def vjp_fn(cotangent):
        cts, tree = pytree.flatten(cotangent)
        if tree != out_tree:
            raise ValueError(f"vjp_fn: the cotangent must have the output's structure {out_tree!r}, got {tree!r}")
        for c, o in zip(cts, outs):
            if shape_of(c) != shape_of(o):
                raise ValueError(
                    f"vjp_fn: cotangent of shape {shape_of(c)} for an output of shape {shape_of(o)}"
                )
        res = pullback([c if isinstance(c, Tracer) else np.asarray(c, dtype=o.dtype) for c, o in zip(cts, outs)])
        leaves = [_zeros_like(x) if r is None else _as_output(r, x) for x, r in zip(flat.leaves, res)]
        return flat.in_structure(leaves, False)

    out = pytree.unflatten(out_tree, [_as_output(o) for o in outs])
    if has_aux:
        return out, vjp_fn, flat.lowered_aux()
    return out, vjp_fn


# -- forward mode ---------------------------------------------------------------------------
def jvp(fun, primals, tangents):
    """Evaluate ``fun(*primals)`` and its directional derivative ``J @ tangents``.

    Parameters
    ----------
    fun : callable
    primals : tuple
        The arguments of ``fun`` (arrays or pytrees).
    tangents : tuple
        One tangent per primal, of the same shapes.

    Returns
    -------
    (out, tangent_out)

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> sl.jvp(snp.sin, (0.0,), (2.0,))
    (array(0.), array(2.))
    """
    _check_callable(fun, "jvp")
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp(fun, primals, tangents): primals and tangents must be tuples, e.g. (x,), (v,)")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp(): {len(primals)} primal(s) but {len(tangents)} tangent(s)")
    flat = _Flat(fun, tuple(primals), {}, tuple(range(len(primals))), "jvp")
    tans, ttree = pytree.flatten(list(tangents))
    ptree = pytree.flatten(list(primals))[1]
    if ttree != ptree:
        raise ValueError(f"jvp(): tangents have structure {ttree!r}, primals {ptree!r}")
    tans = [_tangent_like(t, p) for t, p in zip(tans, flat.leaves)]
    outs, touts = jvp_call(flat, flat.leaves, tans)
    out = pytree.unflatten(flat.out_tree, [_as_output(o) for o in outs])
    tout = pytree.unflatten(
        flat.out_tree,
        [_zeros_like(o) if t is None else _as_output(t) for o, t in zip(outs, touts)],
    )
    return out, tout


def _tangent_like(t, p):
    t = t if isinstance(t, Tracer) else np.asarray(t, dtype=p.dtype)
    if shape_of(t) != shape_of(p):
        raise ValueError(f"jvp(): tangent of shape {shape_of(t)} for a primal of shape {shape_of(p)}")
    return t


# -- Jacobians -------------------------------------------------------------------------------
def _size(x):
    return math.prod(shape_of(x))


def _basis(leaves):
    """Identity rows split over ``leaves``: one batched array per leaf, (N, *shape)."""
    n = sum(_size(x) for x in leaves)
    dtype = np.result_type(*[x.dtype for x in leaves])
    eye = np.eye(n, dtype=dtype)
    out, start = [], 0
    for x in leaves:
        k = _size(x)
        out.append(eye[:, start : start + k].reshape((n,) + tuple(shape_of(x))))
        start += k
    return out, n


def _move_batch_last(b, lead_shape):
    """(N, *out_shape) with N = prod(in_shape) -> (*out_shape, *in_shape)."""
    out_nd = len(shape_of(b)) - 1
    if isinstance(b, Tracer):
        b = transpose(b, tuple(range(1, out_nd + 1)) + (0,))
        return reshape(b, tuple(shape_of(b)[:out_nd]) + tuple(lead_shape))
    b = np.moveaxis(b, 0, -1)
    return b.reshape(b.shape[:out_nd] + tuple(lead_shape))


def _assemble(blocks, out_tree, in_trees_fn):
    """Nest per-(output, input) blocks: output structure outside, input structure inside."""
    return pytree.unflatten(out_tree, [in_trees_fn(row) for row in blocks])


def _split_rows(b, sizes):
    out, start = [], 0
    for k in sizes:
        out.append(b[start : start + k])
        start += k
    return out


def _jacfwd_flat(flat):
    basis, n = _basis(flat.leaves)
    primal_outs = []

    def tangent_map(*ts):
        outs, touts = jvp_call(flat, flat.leaves, list(ts))
        primal_outs[:] = outs  # they do not depend on the tangents: never batched
        return [_zeros_like(o) if t is None else t for o, t in zip(outs, touts)]

    if n == 1:
        touts = [reshape(t, (1,) + tuple(shape_of(t))) for t in tangent_map(basis[0][0])]
    else:
        touts = vmap_call(tangent_map, basis, [True] * len(basis), n)
    sizes = [_size(x) for x in flat.leaves]
    blocks = []
    for t in touts:
        parts = _split_rows(t, sizes)
        blocks.append([_move_batch_last(p, shape_of(x)) for p, x in zip(parts, flat.leaves)])
    return primal_outs, blocks


def _jacrev_flat(flat, traced=None):
    outs, pullback = traced or vjp_call(flat, flat.leaves)
    basis, m = _basis(outs)
    if m == 1:
        cts = pullback([basis[0][0]])
        rows = [None if c is None else reshape(c, (1,) + tuple(shape_of(c))) for c in cts]
    else:
        def pull(*cs):
            return [c if c is not None else _zeros_like(x) for x, c in zip(flat.leaves, pullback(list(cs)))]

        rows = vmap_call(pull, basis, [True] * len(basis), m)
    blocks = []
    out_sizes = [_size(o) for o in outs]
    per_input = []
    for x, r in zip(flat.leaves, rows):
        r = np.zeros((m,) + tuple(shape_of(x)), dtype=x.dtype) if r is None else r
        per_input.append(_split_rows(r, out_sizes))
    for j, o in enumerate(outs):
        blocks.append(
            [_reshape_rows(per_input[i][j], shape_of(o), shape_of(x)) for i, x in enumerate(flat.leaves)]
        )
    return outs, blocks


def _reshape_rows(r, out_shape, in_shape):
    shape = tuple(out_shape) + tuple(in_shape)
    return reshape(r, shape) if isinstance(r, Tracer) else np.asarray(r).reshape(shape)


def _jacobian_transform(name, method):
    def make(fun, argnums=0, has_aux=False):
        _check_callable(fun, name)

        @functools.wraps(fun)
        def wrapped(*args, **kwargs):
            nums, single = _argnums(argnums, len(args), name)
            flat = _Flat(fun, args, kwargs, nums, name, has_aux)
            _, blocks = method(flat)
            jac = _assemble(
                [[_as_output(b) for b in row] for row in blocks],
                flat.out_tree,
                lambda row: flat.in_structure(row, single),
            )
            return (jac, flat.lowered_aux()) if has_aux else jac

        return wrapped

    return make


_jacfwd = _jacobian_transform("jacfwd", _jacfwd_flat)
_jacrev = _jacobian_transform("jacrev", _jacrev_flat)


def jacfwd(fun, argnums=0, has_aux=False):
    """Jacobian by forward mode: one batched pass pushing every input direction.

    The result has shape ``output.shape + input.shape`` (for pytrees: the
    output structure, each leaf holding the input structure). Efficient when
    there are fewer inputs than outputs.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> F = lambda x: snp.array([x[0] ** 2, x[1] * x[2], x[0] + x[1] + x[2]])
    >>> sl.jacfwd(F)(np.array([1.0, 2.0, 3.0]))
    array([[2., 0., 0.],
           [0., 3., 2.],
           [1., 1., 1.]])
    """
    return _jacfwd(fun, argnums, has_aux)


def jacrev(fun, argnums=0, has_aux=False):
    """Jacobian by reverse mode: one forward pass, then all output rows pulled back at once.

    Same result layout as :func:`jacfwd`; efficient when there are fewer
    outputs than inputs.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> sl.jacrev(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    return _jacrev(fun, argnums, has_aux)


def jacobian(fun, argnums=0, has_aux=False):
    """Jacobian, choosing the mode from the shapes: reverse when outputs <= inputs.

    The choice is made on the first call with the output size seen then;
    a function with more outputs than inputs is re-run in forward mode.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> sl.jacobian(lambda x: A @ x)(np.array([1.0, 1.0]))
    array([[1., 2.],
           [3., 4.]])
    """
    return _jacobian_transform("jacobian", _jacobian_flat)(fun, argnums, has_aux)


def _jacobian_flat(flat):
    traced = vjp_call(flat, flat.leaves)
    n_in = sum(_size(x) for x in flat.leaves)
    n_out = sum(_size(o) for o in traced[0])
    return _jacrev_flat(flat, traced) if n_out <= n_in else _jacfwd_flat(flat)


def hessian(fun, argnums=0):
    """Hessian: forward mode over reverse mode, ``jacfwd(jacrev(fun))``.

    For a scalar function the result has shape ``input.shape + input.shape``
    (for pytrees, the input structure nested in itself); for an array-valued
    one, ``output.shape + input.shape + input.shape``.

    Examples
    --------
    >>> import slopes as sl
    >>> f = lambda w: w[0] ** 2 + 2 * w[1] ** 2 + w[0] * w[1] + 3 * w[2] ** 2
    >>> sl.hessian(f)(np.zeros(3))
    array([[2., 1., 0.],
           [1., 4., 0.],
           [0., 0., 6.]])
    """
    _check_callable(fun, "hessian")
    return jacfwd(jacrev(fun, argnums), argnums)


def hvp(fun, x, v):
    """Hessian-vector product ``H(x) @ v`` without forming ``H`` (forward over reverse).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> sl.hvp(lambda x: snp.sum(x ** 3), np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    array([ 6., 12.])
    """
    _check_callable(fun, "hvp")
    return jvp(grad(fun), (x,), (v,))[1]


def derivative(fun, order=1):
    """The ``order``-th derivative of a scalar function of one variable.

    ``fun`` maps a scalar to a scalar; called with an array, the derivative is
    taken entry by entry, which is right for functions that act elementwise.
    Order 0 returns ``fun`` itself. All orders are computed in one Taylor-mode
    pass (``O(order**2)`` work, not the ``O(2**order)`` of nested derivatives).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> g = lambda x: snp.sin(x) + snp.cos(x)
    >>> [float(sl.derivative(g, order=n)(0.0)) for n in range(5)]
    [1.0, 1.0, -1.0, -1.0, 1.0]
    """
    _check_callable(fun, "derivative")
    if not isinstance(order, (int, np.integer)) or order < 0:
        raise ValueError(f"derivative(): order must be a non-negative integer, got {order!r}")
    order = int(order)
    scale = 1.0  # order!, as a float (inf beyond float range rather than an error)
    for k in range(2, order + 1):
        scale *= k

    @functools.wraps(fun)
    def wrapped(x):
        x = _as_input(x, "derivative", "the point")
        if order == 0:
            return _as_output(fun(x))
        from .core.taylor import taylor_call

        # the line x + t: series [1, 0, ..., 0]; the order-th coefficient is f^(n)(x) / n!
        shape = shape_of(x)
        one = x.dtype.type(1) if shape == () else np.ones(shape, dtype=x.dtype)
        line = [one] + [None] * (order - 1)
        outs, series = taylor_call(lambda y: [fun(y)], [x], [line], order)
        out = outs[0]
        if shape_of(out) != shape_of(x):
            raise TypeError(
                f"derivative() needs a scalar (or elementwise) function; {_fun_name(fun)} "
                f"maps shape {shape_of(x)} to {shape_of(out)}. Use sl.grad or sl.jacobian."
            )
        c = None if series[0] is None else series[0][-1]
        if c is None:
            return np.zeros(shape_of(x), dtype=x.dtype)
        return _as_output(c * scale if order > 1 else c)

    return wrapped


def directional_derivative(fun, x, u, normalize=False):
    """The rate of change of ``fun`` at ``x`` along ``u``: ``grad f(x) . u``.

    Parameters
    ----------
    normalize : bool
        Divide ``u`` by its length first, giving the slope per unit distance.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> f = lambda x: x[0] ** 2 + 3 * x[1]
    >>> float(sl.directional_derivative(f, np.array([1.0, 0.0]), np.array([1.0, 1.0])))
    5.0
    """
    _check_callable(fun, "directional_derivative")
    u = np.asarray(u, dtype=np.result_type(np.asarray(x).dtype, np.float64) if not isinstance(x, Tracer) else x.dtype)
    if normalize:
        n = np.linalg.norm(u)
        if n == 0:
            raise ValueError("directional_derivative(): u is the zero vector and cannot be normalized")
        u = u / n
    out, t = jvp(fun, (x,), (u,))
    if np.shape(out) != ():
        raise TypeError(
            f"directional_derivative() needs a scalar function; {_fun_name(fun)} returned shape "
            f"{np.shape(out)}. Use sl.jvp for the directional derivative of a vector function."
        )
    return t


# -- batching --------------------------------------------------------------------------------
def vmap(fun, in_axes=0, out_axes=0):
    """Vectorize ``fun`` over an axis of its inputs, without a Python loop.

    Parameters
    ----------
    in_axes : int, None, or a tuple with one entry per positional argument
        The axis of each argument to map over (``None``: not mapped).
    out_axes : int
        Where the mapped axis goes in every output.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> per_example = sl.vmap(sl.grad(lambda w, x: snp.sum(w * x) ** 2), in_axes=(None, 0))
    >>> per_example(np.array([1.0, 1.0]), np.array([[1.0, 0.0], [1.0, 1.0]]))
    array([[2., 0.],
           [4., 4.]])
    """
    _check_callable(fun, "vmap")

    @functools.wraps(fun)
    def wrapped(*args):
        axes = in_axes if isinstance(in_axes, (tuple, list)) else (in_axes,) * len(args)
        if len(axes) != len(args):
            raise ValueError(f"vmap(): in_axes has {len(axes)} entries for {len(args)} arguments")
        leaves, batched, sizes, trees = [], [], set(), []
        for a, ax in zip(args, axes):
            ls, tree = pytree.flatten(a)
            trees.append(tree)
            for leaf in ls:
                leaf = leaf if isinstance(leaf, Tracer) else np.asarray(leaf)
                if ax is None:
                    leaves.append(leaf)
                    batched.append(False)
                    continue
                nd = len(shape_of(leaf))
                if not -nd <= ax < nd:
                    raise ValueError(f"vmap(): in_axes {ax} is out of range for an input of shape {shape_of(leaf)}")
                from .numpy.shapes import moveaxis

                leaf = moveaxis(leaf, ax, 0)
                sizes.add(shape_of(leaf)[0])
                leaves.append(leaf)
                batched.append(True)
        if len(sizes) != 1:
            raise ValueError(
                "vmap(): the mapped axes must all have one length, got "
                + (", ".join(map(str, sorted(sizes))) if sizes else "no mapped input")
            )
        out_tree = []

        def flat_fun(*xs):
            it = iter(xs)
            rebuilt = [pytree.unflatten(t, [next(it) for _ in range(t.num_leaves)]) for t in trees]
            outs, tree = pytree.flatten(fun(*rebuilt))
            out_tree.append(tree)
            return outs

        outs = vmap_call(flat_fun, leaves, batched, sizes.pop())
        if out_axes != 0:
            from .numpy.shapes import moveaxis

            outs = [moveaxis(o, 0, out_axes) for o in outs]
        return pytree.unflatten(out_tree[0], [_as_output(o) for o in outs])

    return wrapped
