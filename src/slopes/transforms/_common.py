"""What every transform shares: checking inputs, flattening pytrees, plain outputs."""

from __future__ import annotations

import numpy as np

from ..core import pytree
from ..core.dtypes import bfloat16, is_bfloat16
from ..core.trace import Tracer, current_level, shape_of

__all__ = ["check_complex_inputs", "check_callable", "fun_name", "as_input", "as_output", "zeros_like", "normalize_argnums", "Flat"]


def check_callable(fun, name):
    if not callable(fun):
        raise TypeError(f"{name}() needs a function to differentiate, got {type(fun).__name__} {fun!r}")


def fun_name(fun):
    return getattr(fun, "__name__", type(fun).__name__)


def as_input(x, name, what):
    """A float or complex array (or an outer transform's traced value) from one input leaf.

    ``what`` names the input in errors: a string, or a callable making one.
    """
    if type(x) is not np.ndarray:
        x = x if isinstance(x, Tracer) else np.asarray(x)
    dtype = x.dtype
    if dtype.kind != "f" and dtype.kind != "c":
        if is_bfloat16(dtype):
            bfloat16(f"{name}()")  # names the optional extra when ml_dtypes is missing
            return x
        what = what() if callable(what) else what
        raise TypeError(
            f"{name}() differentiates with respect to floating-point (or complex) inputs, but {what} "
            f"has dtype {dtype}. Pass floats, e.g. 1.0 instead of 1, or np.asarray(x, dtype=float)."
        )
    return x


def as_output(x, like=None):
    """A plain array out of a transform; with ``like``, in that input's dtype.

    A float32 input gets a float32 derivative even where float64 values
    (constants, other inputs) entered its computation; a real input gets the
    real part of a complex cotangent (the transpose of promoting it to complex).
    """
    if not isinstance(x, Tracer):
        x = np.asarray(x)
    if like is not None and x.dtype != like.dtype:
        if x.dtype.kind == "c" and like.dtype.kind != "c":
            x = np.real(x) if not isinstance(x, Tracer) else x.real
        x = x.astype(like.dtype)
    return x


def zeros_like(x):
    return np.zeros(shape_of(x), dtype=x.dtype)


def normalize_argnums(argnums, nargs, name):
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


# Jacobians of complex values are complex matrices only for holomorphic functions (as in JAX)
_JACOBIANS = ("jacfwd", "jacrev", "jacobian")
_REVERSE_JACOBIANS = ("jacrev", "jacobian")


def check_complex_inputs(leaves, name, holomorphic):
    """A Jacobian of complex inputs needs ``holomorphic=True``; that in turn needs complex inputs."""
    for x in leaves:
        is_complex = x.dtype.kind == "c"
        if holomorphic and not is_complex:
            raise TypeError(
                f"{name}(holomorphic=True) needs complex inputs, got dtype {x.dtype}. "
                "Pass e.g. np.asarray(x, dtype=complex)."
            )
        if is_complex and not holomorphic and name in _JACOBIANS:
            raise TypeError(
                f"{name}() of complex inputs: pass holomorphic=True for a holomorphic function "
                "(the result is then f'(z)); for a real-valued function use sl.grad, else use "
                "sl.jvp/sl.vjp or split the inputs into real and imaginary parts."
            )


class Flat:
    """A function of flat float leaves standing in for ``fun(*args)`` at ``argnums``."""

    def __init__(self, fun, args, kwargs, argnums, name, has_aux=False, holomorphic=False):
        self.fun, self.args, self.kwargs = fun, args, kwargs
        self.argnums, self.name, self.has_aux = argnums, name, has_aux
        self.holomorphic = holomorphic
        leaves = [args[i] for i in argnums]
        if any(isinstance(x, _CONTAINERS) or x is None for x in leaves):
            leaves, self.in_tree = pytree.flatten(leaves)
        else:  # plain arrays: skip the pytree machinery on this hot path
            self.in_tree = None
        for k, x in enumerate(leaves):
            if type(x) is not np.ndarray or x.dtype.kind != "f":  # else already fine
                leaves[k] = as_input(x, name, lambda k=k: f"argument {self._where(k)}")
                if leaves[k].dtype.kind == "c":
                    check_complex_inputs(leaves[k : k + 1], name, holomorphic)
        if holomorphic:
            check_complex_inputs(leaves, name, holomorphic)
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
        if self.name in _REVERSE_JACOBIANS and not self.holomorphic:
            for o in outs:
                if getattr(o, "dtype", None) is not None and o.dtype.kind == "c":
                    raise TypeError(
                        f"{self.name}(): {fun_name(self.fun)} returns complex values; pass "
                        "holomorphic=True for a holomorphic function, use sl.jacfwd for real "
                        "inputs, or sl.vjp directly."
                    )
        return outs

    def in_structure(self, leaves, single):
        trees = leaves if self.in_tree is None else pytree.unflatten(self.in_tree, leaves)
        return trees[0] if single else tuple(trees)

    def lowered_aux(self):
        """Aux outputs with this transform's tracers replaced by their values."""

        def lower(x):
            while isinstance(x, Tracer) and x._trace.level > current_level():
                x = x.primal
            return as_output(x) if not isinstance(x, (str, bytes)) else x

        return pytree.tree_map(lower, self.aux) if self.aux is not None else None
