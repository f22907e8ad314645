"""Running one evaluation: a task per row chunk, results back in chunk order.

:class:`InProcess` loops over the row chunks of NumPy arrays (gradient
accumulation). :class:`OnDask` runs one task per chunk of dask arrays: on a
``distributed`` client (given, or the current one) the :class:`ChunkProgram`
is scattered once and every task refers to it; tasks are submitted on the
chunks' futures when the data are persisted (so they run where their chunk
lives) and streamed from the arrays' own graph when not (each chunk is made,
used and released). Without a client, dask's local scheduler runs the same
tasks. Only the per-chunk results come back; the arrays themselves are never
computed.
"""

from __future__ import annotations

import math
import uuid

from .worker import run_chunk

__all__ = ["InProcess", "OnDask"]


class InProcess:
    """Chunks of NumPy arrays, evaluated one after another in this process.

    >>> import slopes.numpy as snp
    >>> from slopes.distributed.worker import ChunkProgram
    >>> runner = InProcess((np.arange(5.0),), [(0, 2), (2, 5)])
    >>> [r for r, _ in runner.run(ChunkProgram(lambda x, b: snp.sum(b * x), None, lambda t: t[0]),
    ...                            "value", np.ones(1), None)]
    [1.0, 9.0]
    """

    def __init__(self, arrays, bounds):
        self.arrays = arrays
        self.bounds = bounds

    def run(self, program, kind, x, extra):
        return [run_chunk(program, kind, x, extra, *(a[lo:hi] for a in self.arrays))
                for lo, hi in self.bounds]


class OnDask:
    """Chunks of dask arrays: one task per row chunk on a cluster or dask's local scheduler."""

    def __init__(self, arrays, client=None):
        self.arrays = arrays
        self.client_given = client
        self._reset()

    def _reset(self):
        self._client = None
        self._resolved = False
        self._shipped = {}  # program token -> future of the scattered ChunkProgram
        self._on_cluster = None  # per chunk, the futures of its blocks (persisted data)
        self._chunk_homes = None  # per chunk, the workers holding its largest block
        self._blocks = None  # per array, its row chunks as Delayed (streamed data)

    # what travels: the arrays and the client choice; never futures or the client connection
    def __getstate__(self):
        return {"arrays": self.arrays, "client_given": None}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._reset()

    def client(self):
        """The ``distributed`` client to use: the one given, else the current one, else None."""
        if not self._resolved:
            self._client = self.client_given
            if self._client is None:
                try:
                    from distributed import get_client

                    self._client = get_client()
                except (ImportError, ValueError):
                    self._client = None
            self._resolved = True
        return self._client

    def _persisted(self):
        """Per chunk, the futures holding its blocks, or None when some block is not in memory."""
        if self._on_cluster is None:
            from dask.core import flatten
            from distributed import futures_of

            per_array = []
            for a in self.arrays:
                held = {f.key: f for f in futures_of(a)}
                keys = list(flatten(a.__dask_keys__()))
                if not all(k in held for k in keys):
                    self._on_cluster = False
                    return None
                per_array.append([held[k] for k in keys])
            self._on_cluster = list(zip(*per_array))
        return self._on_cluster or None

    def _homes(self, client, chunks):
        """Per chunk, the workers holding its largest block (asked of the scheduler once)."""
        if self._chunk_homes is None:
            row_bytes = [math.prod(a.shape[1:]) * a.dtype.itemsize for a in self.arrays]
            widest = row_bytes.index(max(row_bytes))
            largest = [blocks[widest] for blocks in chunks]
            who = client.who_has(largest)
            self._chunk_homes = [list(who.get(f.key, ())) or None for f in largest]
        return self._chunk_homes

    def _delayed_blocks(self):
        if self._blocks is None:
            self._blocks = [a.to_delayed().ravel().tolist() for a in self.arrays]
        return self._blocks

    def _program_on(self, client, program):
        fut = self._shipped.get(program.token)
        if fut is None:  # sent once; each worker unpickles it once, when a task first needs it
            fut = self._shipped[program.token] = client.scatter(program, hash=False)
        return fut

    def run(self, program, kind, x, extra):
        """``[(result, seconds), ...]`` of every chunk, in chunk order."""
        import dask

        name = f"slopes-chunk-{kind}-{uuid.uuid4().hex[:12]}"
        client = self.client()
        if client is None:
            tasks = [dask.delayed(run_chunk, pure=False)(program, kind, x, extra, *blocks,
                                                         dask_key_name=f"{name}-{i}")
                     for i, blocks in enumerate(zip(*self._delayed_blocks()))]
            return list(dask.compute(*tasks))
        fn = self._program_on(client, program)
        chunks = self._persisted()
        if chunks is not None:
            # pinned (loosely: another worker may take over if this one is gone) to the worker
            # holding the chunk's largest block; the scheduler alone may move a small chunk to an
            # idle worker, and that copy over the network is what persisting was meant to avoid
            futures = [client.submit(run_chunk, fn, kind, x, extra, *blocks, key=f"{name}-{i}", pure=False,
                                     workers=home, allow_other_workers=True)
                       for i, (blocks, home) in enumerate(zip(chunks, self._homes(client, chunks)))]
        else:
            tasks = [dask.delayed(run_chunk, pure=False)(fn, kind, x, extra, *blocks, dask_key_name=f"{name}-{i}")
                     for i, blocks in enumerate(zip(*self._delayed_blocks()))]
            futures = client.compute(tasks)
        return client.gather(futures)
