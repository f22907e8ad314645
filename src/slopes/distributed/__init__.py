"""Optimization over data in row chunks, in memory or on Dask.

:class:`ChunkedObjective` sums a loss over the row chunks of NumPy arrays
(gradient accumulation) or of dask arrays (one task per chunk on a
``distributed`` cluster or dask's local scheduler, the data never computed as a
whole); :func:`slopes.minimize` uses it for ``data=`` given as dask arrays (or
with ``chunk_size=``). Nothing of dask is imported until a dask array arrives.
"""

from .data import has_dask, is_dask
from .objective import ChunkedObjective, PassTime

__all__ = ["ChunkedObjective", "PassTime", "has_dask", "is_dask"]
