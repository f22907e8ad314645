"""Row-chunked data for the estimators: dask arrays in, one task per row chunk, never all of ``X``.

dask is imported only here, inside functions that receive a dask array, so ``import
slopes.ml`` stays free of it. :class:`RowChunks` pairs ``X`` with arrays aligned to its row
chunks (labels, targets) and evaluates a NumPy function on every chunk, one task each (by
:mod:`slopes.distributed`'s runner), with the results gathered or summed on the client in
chunk order (so repeated fits are bit-identical whatever the scheduler).
:func:`map_rows` applies a row-wise NumPy function (a prediction) lazily.

Examples
--------
>>> import numpy as np, dask.array as da
>>> from slopes.ml.chunked import RowChunks
>>> X = da.from_array(np.arange(12.0).reshape(6, 2), chunks=((4, 2), 2))
>>> rows = RowChunks(X, da.ones(6, chunks=3))
>>> rows.sizes, rows.sum(lambda X, y: X.T @ y).tolist()
((4, 2), [30.0, 36.0])
"""

from __future__ import annotations

import numpy as np

from ..core.pytree import tree_map
from ..distributed.runners import OnDask
from .estimator import check_same_rows

__all__ = ["check_row_chunked", "RowChunks", "map_rows"]


def check_row_chunked(X, name: str = "X", ndim: int = 2):
    """``X`` as a dask array of ``ndim`` axes chunked along rows only, with known chunk sizes.

    Raises
    ------
    ValueError
        Wrong number of axes, several column chunks (naming ``X.rechunk({1: -1})``), or
        unknown chunk sizes (naming ``compute_chunk_sizes()``).

    Examples
    --------
    >>> import dask.array as da
    >>> from slopes.ml.chunked import check_row_chunked
    >>> check_row_chunked(da.ones((4, 4), chunks=2))
    Traceback (most recent call last):
    ...
    ValueError: X is chunked along its columns too ((2, 2)); each task needs whole rows: \
pass X.rechunk({1: -1})
    """
    import dask.array as da

    if not isinstance(X, da.Array):
        raise TypeError(
            f"{name} is a {type(X).__name__}; pass a dask array (e.g. df.to_dask_array(lengths=True))"
        )
    if X.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {X.shape}")
    if any(np.isnan(c) for axis in X.chunks for c in axis):
        raise ValueError(
            f"{name} has chunks of unknown size; call {name}.compute_chunk_sizes() (or "
            f"to_dask_array(lengths=True) on a dataframe) first"
        )
    if ndim == 2 and len(X.chunks[1]) > 1:
        raise ValueError(
            f"{name} is chunked along its columns too ({X.chunks[1]}); each task needs whole rows: "
            f"pass {name}.rechunk({{1: -1}})"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} has 0 rows: found 0 sample(s); pass at least one sample")
    return X


class _ChunkFunction:
    """A NumPy function ``fn(*args, *chunk_arrays)`` in the form of a chunk program of
    :mod:`slopes.distributed`'s runners (sent to the workers once per fit, like theirs)."""

    def __init__(self, fn):
        self.fn = fn
        self.token = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"

    def __call__(self, kind, args, extra, blocks):
        return self.fn(*args, *blocks)


class RowChunks:
    """``X`` (dask, n x d) and arrays split at the same rows, evaluated one task per chunk.

    Parameters
    ----------
    X : dask array of shape (n, d)
        Chunked along rows only (see :func:`check_row_chunked`).
    *others : dask or NumPy arrays of n rows
        Rechunked (lazily) to ``X``'s row chunks.

    Attributes
    ----------
    n, d : int
    sizes : tuple of int
        Rows per chunk.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from slopes.ml.chunked import RowChunks
    >>> rows = RowChunks(da.ones((5, 2), chunks=(3, 2)))
    >>> rows.map(lambda X: X.shape)
    [(3, 2), (2, 2)]
    """

    def __init__(self, X, *others):
        import dask.array as da

        self.X = check_row_chunked(X)
        self.n, self.d = (int(s) for s in X.shape)
        self.sizes = tuple(int(c) for c in X.chunks[0])
        aligned = []
        for a in others:
            a = da.asarray(a)
            check_same_rows(X, a)
            aligned.append(a.rechunk({0: X.chunks[0], **{i: -1 for i in range(1, a.ndim)}}))
        self.others = aligned
        self._runner = OnDask((self.X, *aligned))
        self._programs = {}

    def map(self, fn, *args) -> list:
        """``[fn(*args, X_c, *others_c) for each chunk c]``: one task per chunk, in chunk order.

        The tasks run as :class:`slopes.distributed.ChunkedObjective`'s do (on the current
        ``distributed`` client if any, where persisted chunks live; else dask's local
        scheduler), on C-contiguous, aligned NumPy chunks. ``fn`` travels once per fit;
        ``args`` (the parameters) with every task, so they should be small.
        """
        program = self._programs.setdefault(fn, _ChunkFunction(fn))
        return [result for result, _seconds in self._runner.run(program, "map", args, None)]

    def sum(self, fn, *args):
        """The sum over chunks of :meth:`map`'s results (pytrees of arrays), added in chunk order."""
        parts = self.map(fn, *args)
        total = parts[0]
        for part in parts[1:]:
            total = tree_map(np.add, total, part)
        return total


def map_rows(fn, X):
    """``fn`` applied lazily to every row chunk of the dask array ``X``: a dask array of its outputs.

    ``fn(block)`` returns one output row per input row (shape (m,) or (m, ...)); its output
    dtype and trailing shape are read from one call on a single row of zeros.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from slopes.ml.chunked import map_rows
    >>> out = map_rows(lambda b: b.sum(axis=1), da.ones((5, 3), chunks=(2, 3)))
    >>> type(out).__name__, out.chunks, out.compute().tolist()
    ('Array', ((2, 2, 1),), [3.0, 3.0, 3.0, 3.0, 3.0])
    """
    X = check_row_chunked(X)
    probe = np.asarray(fn(np.zeros((1, X.shape[1]), X.dtype)))
    meta = np.empty((0, *probe.shape[1:]), probe.dtype)
    if probe.ndim == 1:
        return X.map_blocks(fn, drop_axis=1, dtype=probe.dtype, meta=meta)
    chunks = (X.chunks[0], *((s,) for s in probe.shape[1:]))
    return X.map_blocks(fn, chunks=chunks, dtype=probe.dtype, meta=meta)
