"""ndarray behaviour for tracers: methods (``x.sum()``, ``x.T``, ``x[i]``, ``x.at``) and
NumPy's own functions called on them (``np.sin(x)``, ``np.sum(x)``), routed here.

Installed onto :class:`slopes.core.Tracer` when :mod:`slopes.numpy` is imported,
so that the engine stays free of NumPy-API details.
"""

from __future__ import annotations

import numpy as np

from ..core.ops import elementwise as ew
from ..core.ops.linalg import matmul
from ..core.trace import Tracer, bind, shape_of


def _unsupported(name):
    return TypeError(
        f"numpy.{name} is not supported on traced values: slopes cannot differentiate "
        f"through it. Use slopes.numpy.{name.split('.')[-1]} if it exists (see "
        "dir(slopes.numpy)), write it with supported functions, or give it a derivative "
        "rule with sl.custom_jvp / sl.custom_vjp."
    )


def install(snp):
    """Attach the ndarray API to tracers and route NumPy calls on tracers to ``snp``."""
    linalg = snp.linalg
    by_func = {}
    for name in snp.__all__:
        np_obj = getattr(np, name, None)
        if callable(np_obj) and getattr(snp, name) is not np_obj:  # NumPy's own would call itself
            by_func[np_obj] = getattr(snp, name)
    for name in linalg.__all__:
        np_obj = getattr(np.linalg, name, None)
        if callable(np_obj):
            by_func[np_obj] = getattr(linalg, name)
    ufuncs = {
        name: getattr(snp, name)
        for name in snp.__all__
        if isinstance(getattr(np, name, None), np.ufunc)
    }
    ufuncs["matmul"] = snp.matmul

    # ndarray (op) tracer lands here: arithmetic goes straight to its primitive
    direct = {
        np.add: ew.add,
        np.subtract: ew.sub,
        np.multiply: ew.mul,
        np.true_divide: ew.div,
        np.power: ew.power,
        np.matmul: matmul,
    }

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if not kwargs and method == "__call__":
            prim = direct.get(ufunc)
            if prim is not None:
                return bind(prim, inputs, {})
        if kwargs.get("out") is not None:
            raise TypeError(
                f"numpy.{ufunc.__name__}(..., out=...) would write a traced value into an "
                "array in place; slopes arrays are immutable while a derivative is taken. "
                "Use the returned value instead (x = x + v, or x.at[i].set(v))."
            )
        fn = ufuncs.get(ufunc.__name__)
        if method != "__call__" or fn is None:
            suffix = "" if method == "__call__" else f".{method}"
            raise _unsupported(ufunc.__name__ + suffix)
        kwargs.pop("out", None)
        if kwargs:
            raise TypeError(f"numpy.{ufunc.__name__}: keyword(s) {sorted(kwargs)} are not supported on traced values")
        return fn(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        if not _holds_tracer(args) and not _holds_tracer(tuple(kwargs.values())):
            return func(*args, **kwargs)  # only like= was traced: a new constant, a plain array
        fn = by_func.get(func)
        if fn is None:
            mod = getattr(func, "__module__", "numpy") or "numpy"
            prefix = "linalg." if mod.endswith("linalg") else ""
            raise _unsupported(prefix + func.__name__)
        return fn(*args, **kwargs)

    methods = {
        "__array_ufunc__": __array_ufunc__,
        "__array_function__": __array_function__,
        "__getitem__": _fast_getitem(snp.getitem),
        "__matmul__": lambda a, b: matmul(a, b),
        "__rmatmul__": lambda a, b: matmul(b, a),
        "T": property(lambda x: snp.transpose(x)),
        "mT": property(lambda x: snp.swapaxes(x, -1, -2)),
        "at": property(snp.at),
        "sum": snp.sum,
        "mean": snp.mean,
        "max": snp.max,
        "min": snp.min,
        "prod": getattr(snp, "prod", None),
        "var": snp.var,
        "std": snp.std,
        "cumsum": snp.cumsum,
        "cumprod": getattr(snp, "cumprod", None),
        "argmax": snp.argmax,
        "argmin": snp.argmin,
        "all": snp.all,
        "any": snp.any,
        "ravel": snp.ravel,
        "flatten": snp.ravel,
        "squeeze": snp.squeeze,
        "swapaxes": snp.swapaxes,
        "dot": getattr(snp, "dot", None),
        "clip": snp.clip,
        "round": snp.round,
        "trace": getattr(snp, "trace", None),
        "diagonal": getattr(snp, "diagonal", None),
        "repeat": getattr(snp, "repeat", None),
        "take": getattr(snp, "take", None),
        "sort": _sorted_copy_refused,
        "reshape": lambda x, *shape: snp.reshape(x, shape[0] if len(shape) == 1 else shape),
        "transpose": lambda x, *axes: snp.transpose(x, None if not axes else (axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes)),
        # a traced value is never written to (see "copy"): a cast to its own dtype is the value itself
        "astype": lambda x, dtype, **_: x if x.dtype == np.dtype(dtype) else ew.astype(x, dtype=np.dtype(dtype)),
        "copy": lambda x: x,
        "conj": lambda x: ew.conj(x),
        "conjugate": lambda x: ew.conj(x),
        "item": _item_refused,
        "tolist": _item_refused,
        "fill": _fill_refused,
    }
    for name, m in methods.items():
        if m is not None:
            setattr(Tracer, name, m)
    Tracer.real = property(lambda x: ew.real(x))
    Tracer.imag = property(lambda x: ew.imag(x))


def _holds_tracer(items):
    return any(
        isinstance(a, Tracer) or (isinstance(a, (list, tuple)) and _holds_tracer(a)) for a in items
    )


def _fast_getitem(general):
    from ..core.ops.shape import getitem
    from ..core.trace import bind

    def __getitem__(self, index):
        if type(index) is int:  # x[0]: the most common index of all
            return bind(getitem, (self,), {"index": (index,)})
        return general(self, index)

    return __getitem__


def _sorted_copy_refused(self, *args, **kwargs):
    raise TypeError("x.sort() sorts in place, which traced arrays cannot do; use x = snp.sort(x)")


def _item_refused(self, *args):
    raise TypeError(
        "x.item()/x.tolist() of a traced value would drop its derivative; keep it an "
        "array, or use sl.stop_gradient(x) for the value"
    )


def _fill_refused(self, value):
    raise TypeError("x.fill(v) writes in place, which traced arrays cannot do; use snp.full_like(x, v)")


__all__ = ["install", "shape_of"]
