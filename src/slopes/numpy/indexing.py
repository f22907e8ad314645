"""Indexing traced arrays, and the functional update ``x.at[i].set(v)``."""

from __future__ import annotations

import numpy as np

from ..core.ops import elementwise as ew
from ..core.ops import shape as sh
from ..core.trace import Tracer, concrete, shape_of, staged
from ._wrap import asarray_args

__all__ = ["getitem", "at"]


def _index_item(item):
    if isinstance(item, Tracer):
        if staged(item):
            from ..core.staging import TracingError, user_line

            raise TracingError(
                f"sl.jit: an index array computed from the jitted function's inputs, at "
                f"{user_line()}; x[i] needs its indices when the function is traced. Use "
                "snp.take or snp.take_along_axis (they accept traced indices), a one-hot "
                "product, or pass the indices as a static argument."
            )
        value = concrete(item)
        kind = np.result_type(value).kind
        if type(item).__name__ == "BatchTracer" or kind not in "iub":
            raise TypeError(
                "an index must be an integer or boolean array known before tracing; "
                "traced float or batched indices are not supported (use snp.take_along_axis "
                "or a one-hot product instead)"
            )
        return value
    if isinstance(item, list):
        return np.asarray(item)
    return item


def normalize_index(index):
    """A tuple of ints, slices, None, Ellipsis and integer/boolean arrays."""
    if not isinstance(index, tuple):
        index = (index,)
    return tuple(_index_item(i) for i in index)


def getitem(x, index):
    """``x[index]`` for traced arrays: ints, slices, ``...``, ``None``, integer and boolean arrays.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> sl.grad(lambda x: x[0] * x[2])(np.array([2.0, 5.0, 3.0]))
    array([3., 0., 2.])
    """
    if type(index) is int or type(index) is slice:  # the common case, kept fast
        return sh.getitem(x, index=(index,))
    (x,) = asarray_args((x,))
    return sh.getitem(x, index=normalize_index(index))


class _Ref:
    """``x.at[index]``: functional updates returning a new array."""

    __slots__ = ("x", "index")

    def __init__(self, x, index):
        self.x = x
        self.index = normalize_index(index)

    def get(self):
        """The selected entries, ``x[index]``."""
        return sh.getitem(self.x, index=self.index)

    def set(self, values):
        """A copy of ``x`` with ``x[index] = values``."""
        return sh.index_update(self.x, values, index=self.index)

    def add(self, values):
        """A copy of ``x`` with ``values`` added at ``index`` (repeated indices accumulate)."""
        sel = np.broadcast_to(np.empty((), dtype=np.int8), shape_of(self.x))[self.index].shape
        (values,) = asarray_args((values,))
        if shape_of(values) != sel:
            values = sh.broadcast_to(values, shape=sel)
        return ew.add(self.x, sh.scatter_add(values, index=self.index, shape=shape_of(self.x)))

    def multiply(self, values):
        """A copy of ``x`` with ``x[index] *= values``."""
        return self.set(ew.mul(self.get(), values))

    def divide(self, values):
        """A copy of ``x`` with ``x[index] /= values``."""
        return self.set(ew.div(self.get(), values))

    def power(self, values):
        """A copy of ``x`` with ``x[index] **= values``."""
        return self.set(ew.power(self.get(), values))

    def min(self, values):
        """A copy of ``x`` with ``x[index] = minimum(x[index], values)``."""
        return self.set(ew.minimum(self.get(), values))

    def max(self, values):
        """A copy of ``x`` with ``x[index] = maximum(x[index], values)``."""
        return self.set(ew.maximum(self.get(), values))


class _At:
    __slots__ = ("x",)

    def __init__(self, x):
        self.x = x

    def __getitem__(self, index):
        return _Ref(self.x, index)


def at(x):
    """Functional in-place updates for any array: ``snp.at(x)[i].set(v)``.

    Traced arrays cannot be written to; ``x.at[i].set(v)`` (on a traced
    value) and ``snp.at(x)[i].set(v)`` (on anything) return a new array
    instead. Also ``.add``, ``.multiply``, ``.divide``, ``.power``,
    ``.min``, ``.max`` and ``.get``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.at(np.zeros(3))[1].set(5.0)
    array([0., 5., 0.])
    >>> sl.grad(lambda x: snp.sum(snp.at(x)[0].set(x[1] ** 2)))(np.array([1.0, 3.0]))
    array([0., 7.])
    """
    (x,) = asarray_args((x,))
    return _At(x)
