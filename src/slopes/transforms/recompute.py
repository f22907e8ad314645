"""``checkpoint``: recompute a block in the backward pass instead of storing its insides.

Reverse mode stores every intermediate value the backward pass will read. A
checkpointed block is one primitive on the tape: the tape keeps its inputs
only, and its reverse rule runs the block again (under reverse mode) to pull
the cotangent back through it. A chain of ``n`` checkpointed blocks of ``k``
steps then holds ``n`` block inputs plus one block's insides at a time,
instead of ``n * k`` intermediates: memory traded for one more forward pass.

The block is run through a single primitive, ``checkpoint_call``, whose
``block`` parameter is the function of the traced leaves (a :class:`_Block`
for one call, a :class:`_Batched` under ``vmap``). Its rules differentiate,
batch and expand that function, so every transform nests through it.
"""

from __future__ import annotations

import functools

import numpy as np

from ..core import pytree
from ..core.batching import vmap_call
from ..core.forward import jvp_call
from ..core.ops.rules import PerArg
from ..core.reverse import vjp_call
from ..core.taylor.series import _order
from ..core.taylor.trace import deftaylor, taylor_call
from ..core.trace import ALL_ARGS, Primitive, Tracer, shape_of
from ._common import check_callable, fun_name

__all__ = ["checkpoint"]

_TAKEN = object()  # a cotangent already handed to the backward sweep


class _Body:
    """A function of the traced leaves returning one array, plus the backward cache.

    The sweep asks the reverse rule for one argument's cotangent at a time;
    one recomputation serves them all (``pending``: the output cotangent and
    the argument cotangents not yet taken).
    """

    __slots__ = ("pending",)

    def __init__(self):
        self.pending = None


class _Block(_Body):
    """One call of a checkpointed function: traced leaves in, one (packed) array out.

    Leaves that are not traced (data, Python flags) stay in ``template``;
    traced positions hold ``None`` there, so the block never keeps the
    values of the call that made it alive.
    """

    __slots__ = ("fun", "in_tree", "template", "traced", "out_tree", "parts")

    def __init__(self, fun, in_tree, template, traced):
        super().__init__()
        self.fun, self.in_tree, self.template, self.traced = fun, in_tree, template, traced
        self.out_tree = None
        self.parts = None  # (shape, dtype) of each output leaf when there are several

    def __call__(self, *xs):
        leaves = list(self.template)
        for k, x in zip(self.traced, xs):
            leaves[k] = x
        args, kwargs = pytree.unflatten(self.in_tree, leaves)
        outs, self.out_tree = pytree.flatten(self.fun(*args, **kwargs))
        if len(outs) == 1:
            (o,) = outs
            return o if isinstance(o, Tracer) else np.asarray(o)
        # A primitive has one output: several are raveled into one vector and split after.
        import slopes.numpy as snp

        self.parts = [(shape_of(o), o.dtype if hasattr(o, "dtype") else np.result_type(o)) for o in outs]
        dtype = np.result_type(*[d for _, d in self.parts])
        return snp.concatenate([snp.ravel(snp.asarray(o).astype(dtype)) for o in outs])

    def unpack(self, packed):
        """The function's output (its pytree) from the primitive's one array."""
        if self.parts is None:
            return pytree.unflatten(self.out_tree, [packed])
        outs, start = [], 0
        for shape, dtype in self.parts:
            size = int(np.prod(shape, dtype=np.int64))
            part = packed[start : start + size].reshape(shape)
            outs.append(part if part.dtype == dtype else part.astype(dtype))
            start += size
        return pytree.unflatten(self.out_tree, outs)


class _Batched(_Body):
    """``body`` mapped over a batch axis: what ``vmap`` of a checkpointed block checkpoints."""

    __slots__ = ("body", "batched", "size")

    def __init__(self, body, batched, size):
        super().__init__()
        self.body, self.batched, self.size = body, batched, size

    def __call__(self, *xs):
        return vmap_call(lambda *a: [self.body(*a)], list(xs), self.batched, self.size)[0]


def _impl(*xs, block):
    out = block(*xs)
    if isinstance(out, Tracer):
        raise TypeError(
            "checkpoint: the function's result depends on a traced value that is not one of "
            "its arguments (it reads a variable being differentiated from an enclosing scope). "
            "Pass that value as an argument: sl.checkpoint(lambda h, W: layer(h, W))(h, W)."
        )
    return out


def _jvp(primals, tangents, params):
    block = params["block"]
    (out,), (tangent,) = jvp_call(lambda *xs: [block(*xs)], list(primals), list(tangents))
    return out, tangent


def _vjp(i, g, ans, *xs, block):
    # Recompute the block under reverse mode; its insides live only until this pull-back ends.
    pending = block.pending
    if pending is None or pending[0] is not g or pending[1][i] is _TAKEN:
        _, pull = vjp_call(lambda *a: [block(*a)], list(xs))
        pending = block.pending = (g, pull([g]))
    cts = pending[1]
    ct = cts[i]
    cts[i] = _TAKEN
    if i == len(xs) - 1:  # the sweep asks in argument order: the last one frees the cache
        block.pending = None
    return ct


def _batch(vals, batched, block):
    size = next(v.shape[0] for v, b in zip(vals, batched) if b)
    # Stay one checkpointed primitive, so grad(vmap(...)) still recomputes instead of storing.
    return checkpoint_call(*vals, block=_Batched(block, list(batched), size))


checkpoint_call = Primitive("checkpoint", _impl)
checkpoint_call.jvp = _jvp
checkpoint_call.vjps = PerArg(_vjp)
checkpoint_call.batch = _batch
checkpoint_call.keeps = ALL_ARGS  # the inputs, to run the block again; never the output


@deftaylor(checkpoint_call)
def _taylor(primals, series, params):
    block = params["block"]
    (out,), (ser,) = taylor_call(lambda *xs: [block(*xs)], list(primals), list(series), _order(series))
    return out, ser


def checkpoint(fun, *, prevent_cse=True, policy=None, static_argnums=()):
    """Make ``fun`` a block whose insides reverse mode recomputes instead of storing.

    The same values and derivatives as ``fun``; in a gradient, only the
    block's inputs are kept for the backward pass, and the block runs once
    more (under reverse mode) when the backward pass reaches it. Use it on
    the layers of a deep model to trade one extra forward pass for the
    memory of their intermediate values (JAX's ``jax.checkpoint`` /
    ``jax.remat``, autograd's ``checkpoint``).

    Parameters
    ----------
    fun : callable
        Takes arrays or pytrees of arrays (and any other constants), returns
        an array or a pytree of arrays. Values being differentiated must reach
        it as arguments, not through a closure (that raises ``TypeError``).
    prevent_cse : bool, optional
        Accepted for JAX compatibility: ``sl.jit`` never merges a block with
        its recomputation, so there is nothing to prevent.
    policy : None
        JAX's choice of intermediates to save instead of recomputing; only
        ``None`` (recompute everything) is supported.
    static_argnums : tuple of int, optional
        Accepted for JAX compatibility: every argument that is not a traced
        array (a flag, a size, a data array) is already a constant here.

    Returns
    -------
    callable
        Same signature and results as ``fun``.

    Notes
    -----
    The saving applies to reverse mode on the tape of the outermost
    gradient; forward mode, Taylor mode, ``vmap`` and ``jit`` go through the
    block as through ``fun`` itself. Nested derivatives (``hessian``) are
    exact but keep their values. Several outputs are packed into one vector
    inside the primitive and split afterwards.

    Examples
    --------
    >>> import numpy as np, slopes as sl, slopes.numpy as snp
    >>> layer = sl.checkpoint(lambda h, W: snp.tanh(W @ h))
    >>> W = np.array([[0.5, -0.2], [0.1, 0.3]])
    >>> sl.grad(lambda x: snp.sum(layer(layer(x, W), W) ** 2))(np.array([1.0, 2.0])).round(6)
    array([-0.008158,  0.032951])
    """
    check_callable(fun, "checkpoint")
    if policy is not None:
        raise ValueError(
            f"checkpoint(): saving policies are not supported (got policy={policy!r}); "
            "leave policy=None to recompute every intermediate of the block"
        )
    del prevent_cse, static_argnums  # see the docstring: nothing to do for either

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        leaves, in_tree = pytree.flatten((args, kwargs))
        traced = [k for k, x in enumerate(leaves) if isinstance(x, Tracer)]
        if not traced:  # no transform watches the inputs: nothing to store or recompute
            return fun(*args, **kwargs)
        template = [None if isinstance(x, Tracer) else x for x in leaves]
        block = _Block(fun, in_tree, template, traced)
        packed = checkpoint_call(*[leaves[k] for k in traced], block=block)
        return block.unpack(packed)

    wrapped.__name__ = f"checkpoint({fun_name(fun)})"
    return wrapped
