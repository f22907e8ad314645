"""Reading ``data=``: which arrays, how many rows, where the row chunks are, what is refused.

Nothing here imports dask: a dask collection is recognised by its protocol
(``__dask_graph__``), and only its metadata (shape, chunks, dtype) is read.
"""

from __future__ import annotations

import numpy as np

__all__ = ["is_dask", "has_dask", "as_arrays", "check_dtypes", "dask_row_chunks", "numpy_row_chunks"]


def is_dask(a) -> bool:
    """Whether ``a`` is a dask collection (without importing dask).

    >>> is_dask(np.ones(2))
    False
    """
    return callable(getattr(type(a), "__dask_graph__", None))


def has_dask(data) -> bool:
    """Whether ``data`` (an array or a tuple / list of arrays) holds a dask collection.

    >>> has_dask((np.ones(2), np.zeros(2)))
    False
    """
    return any(is_dask(a) for a in (data if isinstance(data, (tuple, list)) else (data,)))


def name_of(i: int) -> str:
    """How messages name ``data[i]``: ``X`` and ``y`` for the usual pair."""
    return ("X", "y")[i] if i < 2 else f"data[{i}]"


def as_arrays(data):
    """``(arrays, pack)``: the arrays of ``data`` and the function that rebuilds a batch.

    A tuple or list gives its arrays and ``batch`` of the same kind; one array gives
    ``(array,)`` and ``batch`` the array itself.

    >>> arrays, pack = as_arrays([np.ones(2), np.zeros(2)])
    >>> len(arrays), type(pack((1, 2))).__name__
    (2, 'list')
    """
    if isinstance(data, dict):
        raise TypeError("data= for a chunked objective is an array or a tuple of arrays (X, y), not a dict; "
                        "pass the arrays as a tuple and unpack them in the loss")
    if isinstance(data, (tuple, list)):
        if not data:
            raise ValueError("data= is empty; pass the arrays, e.g. data=(X, y)")
        return tuple(data), (tuple if isinstance(data, tuple) else list)
    return (data,), _first


def _first(blocks):
    return blocks[0]


def check_dtypes(arrays):
    """Refuse data the loss cannot use: ``X`` must be a float array, the others numeric.

    >>> check_dtypes((np.ones(2, dtype=int),))
    Traceback (most recent call last):
    ...
    TypeError: data: X has dtype int64, not a float; convert it first (X.astype(np.float64))
    """
    for i, a in enumerate(arrays):
        kind = np.dtype(a.dtype).kind
        if kind not in "fc" if i == 0 else kind not in "biufc":
            want = "a float" if i == 0 else "numeric"
            raise TypeError(f"data: {name_of(i)} has dtype {a.dtype}, not {want}; convert it first "
                            f"({name_of(i)}.astype(np.float64))")


def _check_rows(arrays):
    for i, a in enumerate(arrays):
        if len(getattr(a, "shape", ())) == 0:
            raise ValueError(f"data: {name_of(i)} is a scalar; every array needs a first axis of rows")
    rows = [a.shape[0] for a in arrays]
    if any(r != rows[0] for r in rows):
        raise ValueError(f"data: the arrays have different numbers of rows {rows}; they must share the first axis")
    if rows[0] == 0:
        raise ValueError("data has no rows")
    return int(rows[0])


def numpy_row_chunks(arrays, chunk_size):
    """``(arrays, bounds)`` for NumPy data cut every ``chunk_size`` rows.

    >>> _, bounds = numpy_row_chunks((np.ones((5, 2)),), 2)
    >>> bounds
    [(0, 2), (2, 4), (4, 5)]
    """
    arrays = tuple(np.asarray(a) for a in arrays)
    n = _check_rows(arrays)
    check_dtypes(arrays)
    if chunk_size is None:
        chunk_size = n
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive number of rows (got {chunk_size!r})")
    return arrays, [(a, min(a + int(chunk_size), n)) for a in range(0, n, int(chunk_size))]


def dask_row_chunks(arrays):
    """``(arrays, bounds)`` for dask data: its own row chunks, checked to be usable as they are.

    NumPy arrays beside dask ones are cut at the dask arrays' row chunks. Refused with the
    fix named: chunks along columns (one task must see whole rows), arrays whose row chunks
    differ, unknown chunk sizes, non-float ``X``.
    """
    import dask.array as da

    first = next(i for i, a in enumerate(arrays) if is_dask(a))
    if not isinstance(arrays[first], da.Array):
        raise TypeError(f"data: {name_of(first)} is a {type(arrays[first]).__name__}; chunked objectives take "
                        "dask arrays (convert a dask DataFrame with .to_dask_array(lengths=True))")
    rows = arrays[first].chunks[0]
    arrays = tuple(a if is_dask(a) else da.from_array(np.asarray(a), chunks=(rows,) + np.shape(a)[1:])
                   for a in arrays)
    for i, a in enumerate(arrays):
        if not isinstance(a, da.Array):
            raise TypeError(f"data: {name_of(i)} is a {type(a).__name__}, not a dask array")
        if any(np.isnan(c) for c in a.chunks[0]):
            raise ValueError(f"data: {name_of(i)} has unknown chunk sizes; call {name_of(i)}.compute_chunk_sizes() first")
        if a.ndim >= 2 and any(len(c) > 1 for c in a.chunks[1:]):
            whole = ", ".join(f"{k}: -1" for k in range(1, a.ndim))
            raise ValueError(f"data: {name_of(i)} is chunked along its columns {a.chunks[1]}; one task needs whole "
                             f"rows. Rechunk it: {name_of(i)} = {name_of(i)}.rechunk({{{whole}}})")
    _check_rows(arrays)
    for i, a in enumerate(arrays):
        if a.chunks[0] != arrays[0].chunks[0]:
            raise ValueError(f"data: {name_of(i)}'s row chunks {a.chunks[0]} differ from X's {arrays[0].chunks[0]}; "
                             f"give them the same rows: {name_of(i)} = {name_of(i)}.rechunk(X.chunks[0])")
    check_dtypes(arrays)
    ends = np.cumsum(arrays[0].chunks[0]).tolist()
    return arrays, [(int(a), int(b)) for a, b in zip([0] + ends[:-1], ends)]
