"""Mini-batches streamed from dask arrays, one row chunk at a time, for :func:`slopes.ml.fit`.

Each epoch visits the row chunks in an order drawn from the seeded generator, shuffles
the rows *within* each chunk, and cuts the chunk into batches of ``batch_size`` (a
chunk's last batch holds its remainder; no batch spans two chunks). So **shuffling is
chunk-local**: rows of different chunks never share a batch. Rechunk (or shuffle the
data once on disk) if a chunk holds rows that are not representative of the whole.

Each chunk is computed once per epoch, all of its arrays in one ``dask.compute``, and
the next chunk is computed in a background thread while the current one trains. This
works with dask's local schedulers and with a ``distributed`` client (``dask.compute``
uses the default client when there is one).

Examples
--------
>>> import numpy as np, dask.array as da
>>> from slopes.ml.streaming import ChunkStream
>>> X = da.from_array(np.arange(10.0)[:, None], chunks=((6, 4), 1))
>>> stream = ChunkStream((X, X[:, 0]), batch_size=4, seed=0)
>>> stream.batches_per_epoch, [len(b[0]) for b in stream.epoch()]
(3, [4, 2, 4])
>>> sorted(float(v) for b in stream.epoch() for v in b[1])
[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
>>> stream.close()
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..core.pytree import flatten, leaves, unflatten
from ..distributed import is_dask
from .chunked import check_row_chunked

__all__ = ["ChunkStream", "has_dask_leaf", "chunk_mean"]


def has_dask_leaf(data) -> bool:
    """True when any array of the pytree ``data`` is a dask array.

    Examples
    --------
    >>> import numpy as np
    >>> from slopes.ml.streaming import has_dask_leaf
    >>> has_dask_leaf((np.zeros(2), [np.ones(3)]))
    False
    """
    return any(is_dask(x) for x in leaves(data))


class ChunkStream:
    """The batches of dask ``data`` (a pytree of arrays with samples along axis 0), chunk by chunk.

    Parameters
    ----------
    data : dask array or tuple / list / dict of arrays
        All of ``n`` rows; NumPy arrays among them are split at the first dask array's row
        chunks, and every array is rechunked (lazily) to one block per row chunk.
    batch_size : int
        Rows per batch (at most a chunk's rows).
    shuffle : bool
        Draw the chunk order and each chunk's row order afresh every epoch.
    seed : int, Generator or None
        For ``np.random.default_rng(seed)``.

    Attributes
    ----------
    n, batch_size, batches_per_epoch : int
    chunk_sizes : tuple of int
    rng : numpy.random.Generator
    computes : int
        Chunks computed so far (each chunk once per epoch).

    Examples
    --------
    >>> import dask.array as da
    >>> from slopes.ml.streaming import ChunkStream
    >>> s = ChunkStream(da.ones((7, 2), chunks=(3, 2)), batch_size=2, shuffle=False)
    >>> s.chunk_sizes, [b.shape[0] for b in s.epoch()], s.computes
    ((3, 3, 1), [2, 1, 2, 1, 1], 3)
    """

    full_batch = False

    def __init__(self, data, batch_size, shuffle: bool = True, seed=None):
        import dask.array as da

        arrays, self.treedef = flatten(data)
        first = next(a for a in arrays if is_dask(a))
        row_chunks = check_row_chunked(first, "data", ndim=getattr(first, "ndim", 0)).chunks[0]
        self.n = int(first.shape[0])
        self.arrays = []
        for a in arrays:
            a = da.asarray(a) if is_dask(a) else da.from_array(np.asarray(a), chunks=-1)
            if a.ndim == 0 or a.shape[0] != self.n:
                raise ValueError(
                    f"fit(): every array of data needs its samples along axis 0, {self.n} of them; "
                    f"got shape {a.shape}"
                )
            self.arrays.append(a.rechunk({0: row_chunks, **{i: -1 for i in range(1, a.ndim)}}))
        if batch_size is None:
            raise ValueError(
                "fit(): batch_size=None (full batch) would gather every row of the dask data in memory; pass "
                "batch_size (mini-batches streamed one chunk at a time), or minimize over the chunks with "
                "sl.minimize(loss, x0, data=(X, y))"
            )
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or int(batch_size) < 1:
            raise ValueError(f"fit(): batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.chunk_sizes = tuple(int(c) for c in row_chunks)
        self.batches_per_epoch = sum(math.ceil(s / self.batch_size) for s in self.chunk_sizes)
        self.shuffle = bool(shuffle)
        self.rng = np.random.default_rng(seed)
        self.computes = 0
        self._pool = None

    def epoch(self) -> _Epoch:
        """The next epoch's batches: a sequence whose chunks are computed as it is read, in order."""
        count = len(self.chunk_sizes)
        order = self.rng.permutation(count) if self.shuffle else np.arange(count)
        rows = [self.rng.permutation(self.chunk_sizes[c]) if self.shuffle else None for c in order]
        return _Epoch(self, [int(c) for c in order], rows)

    def __iter__(self):
        """Endless ``(epoch, index_in_epoch, batch)`` triples."""
        e = 0
        while True:
            for i, b in enumerate(self.epoch()):
                yield e, i, b
            e += 1

    def compute_chunk(self, c: int):
        """Chunk ``c`` of every array, in one ``dask.compute``, in ``data``'s structure."""
        import dask

        self.computes += 1
        return unflatten(self.treedef, dask.compute(*(a.blocks[c] for a in self.arrays)))

    def prefetch(self, c: int):
        """A future of :meth:`compute_chunk` ``(c)``, computed in a background thread."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slopes-prefetch")
        return self._pool.submit(self.compute_chunk, c)

    def close(self) -> None:
        """Stop the background thread (after its current chunk)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class _Epoch:
    """One epoch's batches, in order; reading batch ``i`` computes its chunk and prefetches the next."""

    def __init__(self, stream: ChunkStream, order: list, rows: list):
        self.stream, self.order, self.rows = stream, order, rows
        bs = stream.batch_size
        per_chunk = [math.ceil(stream.chunk_sizes[c] / bs) for c in order]
        self.first_batch = np.concatenate([[0], np.cumsum(per_chunk)])  # batch index where each chunk starts
        self.sizes = np.concatenate(
            [np.minimum(bs, stream.chunk_sizes[c] - bs * np.arange(k)) for c, k in zip(order, per_chunk)]
        )
        self._slot, self._chunk, self._next = -1, None, None

    def __len__(self):
        return int(self.first_batch[-1])

    def __getitem__(self, i: int):
        if not 0 <= i < len(self):
            raise IndexError(i)
        slot = int(np.searchsorted(self.first_batch, i, side="right") - 1)
        if slot != self._slot:
            self._load(slot)
        bs = self.stream.batch_size
        start = (i - int(self.first_batch[slot])) * bs
        pick = slice(start, start + bs) if self.rows[slot] is None else self.rows[slot][start : start + bs]
        return unflatten(self.stream.treedef, [a[pick] for a in leaves(self._chunk)])

    def _load(self, slot: int) -> None:
        pending, self._next = self._next, None
        if pending is not None and pending[0] == slot:
            self._chunk = pending[1].result()
        else:
            if pending is not None:
                pending[1].cancel()
            self._chunk = self.stream.compute_chunk(self.order[slot])
        self._slot = slot
        if slot + 1 < len(self.order):
            self._next = (slot + 1, self.stream.prefetch(self.order[slot + 1]))


def chunk_mean(fn, params, data) -> float:
    """``sum_c (n_c / n) fn(params, chunk_c)`` over the row chunks of dask ``data``, each computed once.

    The mean over all rows when ``fn`` is a mean over its chunk's rows (as a loss usually is).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from slopes.ml.streaming import chunk_mean
    >>> X = da.from_array(np.arange(5.0), chunks=(3, 2))
    >>> chunk_mean(lambda p, x: float(np.mean(x)) + p, 1.0, X)
    3.0
    """
    stream = ChunkStream(data, batch_size=max(1, max(_sizes(data))), shuffle=False)
    try:
        epoch = stream.epoch()
        weighted = (size / stream.n * float(fn(params, batch)) for size, batch in zip(epoch.sizes, epoch))
        return float(sum(weighted))
    finally:
        stream.close()


def _sizes(data):
    first = next(a for a in leaves(data) if is_dask(a))
    return [int(c) for c in first.chunks[0]]
