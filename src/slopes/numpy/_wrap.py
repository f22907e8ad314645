"""Turning primitives into NumPy-compatible, documented functions."""

from __future__ import annotations

__all__ = ["numpy_function", "asarray_args"]


def asarray_args(args):
    """Lists and tuples among ``args`` become arrays (stacking any traced entries)."""
    if not any(isinstance(a, (list, tuple)) for a in args):
        return args
    from .creation import asarray

    return tuple(asarray(a) if isinstance(a, (list, tuple)) else a for a in args)


def numpy_function(name, prim, nargs, example, note="", module=None):
    """A function ``name(*arrays)`` that applies ``prim`` and documents itself.

    The docstring follows NumPy's layout and carries a runnable example.
    """
    params = ["x", "y", "z"][:nargs] if nargs <= 3 else [f"x{i}" for i in range(nargs)]

    def fn(*args):
        if len(args) != nargs:
            raise TypeError(f"{name}() takes {nargs} array argument(s), got {len(args)}")
        return prim(*asarray_args(args))

    fn.__name__ = fn.__qualname__ = name
    if module:
        fn.__module__ = module  # so doctest finds the example in that module
    plist = "\n".join(f"{p} : array_like or traced array" for p in params)
    fn.__doc__ = (
        f"Differentiable ``numpy.{name}`` (elementwise, broadcasting).\n\n"
        + (f"{note}\n\n" if note else "")
        + f"Parameters\n----------\n{plist}\n\n"
        f"Returns\n-------\nndarray, or a traced array inside a transform.\n\n"
        f"Examples\n--------\n>>> import slopes.numpy as snp\n{example}\n"
    )
    return fn
