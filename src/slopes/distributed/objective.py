"""``ChunkedObjective``: a loss summed over the row chunks of data that need not fit in memory."""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from ..core import pytree
from ..core.ravel import ravel_pytree
from .data import as_arrays, dask_row_chunks, has_dask, numpy_row_chunks
from .runners import InProcess, OnDask
from .worker import ChunkProgram

__all__ = ["ChunkedObjective", "PassTime"]


class PassTime(NamedTuple):
    """Seconds one pass over the data took: on the caller's clock, and inside the chunk tasks."""

    wall: float
    compute: float


class ChunkedObjective:
    """A loss over data in row chunks: ``f(x) = sum_c w_c loss(x, chunk_c)``, one task per chunk.

    With ``reduction="mean"`` the loss is a chunk's mean and ``w_c = n_c / n`` (``n_c``
    rows in chunk ``c``, ``n`` in all), so ``f`` is the mean over every row; with
    ``"sum"``, ``w_c = 1``. Every evaluation is one pass over the data: one task per
    row chunk computes the chunk's jitted value (and gradient, Hessian or
    Hessian-vector product) and only those results come back, summed in chunk order
    (repeated runs are bit-identical).

    Parameters
    ----------
    loss : callable
        ``loss(x, batch)``: one real number for the rows in ``batch``, written with
        :mod:`slopes.numpy`. ``batch`` is the chunk's row slices, of the same kind as
        ``data`` (a tuple ``(X_c, y_c)`` for ``data=(X, y)``, an array for one array).
    data : array or tuple / list of arrays
        Arrays with the same rows along their first axis: dask arrays (their row chunks
        are the chunks; NumPy arrays beside them are cut the same way) or NumPy arrays
        (cut every ``chunk_size`` rows: gradient accumulation). The first array (``X``)
        must be floating point; the others numeric.
    reduction : {'mean', 'sum'}
    client : distributed.Client, optional
        Where dask tasks run; by default the current client (``distributed.get_client()``)
        if there is one, else dask's local scheduler.
    chunk_size : int, optional
        Rows per chunk of NumPy data (default: all of them in one chunk).
    jit : bool
        Trace each per-chunk function once and replay it (:func:`slopes.jit`); a loss
        that cannot be traced runs eagerly.

    Attributes
    ----------
    n_rows, n_chunks : int
    chunk_rows : tuple of int
        Rows in each chunk.
    passes : int
        Passes over the data so far (one per evaluation).
    pass_times : list of PassTime
        Per pass: wall seconds, and seconds spent in the chunk tasks.

    Notes
    -----
    ``x`` is a flat array or any pytree of arrays (raveled with
    :func:`~slopes.ravel_pytree`); gradients come back in its structure, Hessians as
    ``(n, n)`` over the flat vector. On a cluster the per-chunk functions are sent
    once per objective (scattered, then referenced by every task); tasks run on the
    workers holding their chunks when the data are persisted, and stream the chunks
    from the arrays' graph when not. Every array a task receives is made
    C-contiguous and aligned first. The data are never computed as a whole.
    Refused, with the fix named: dask arrays chunked along columns
    (``X.rechunk({1: -1})``), arrays whose row chunks differ
    (``y.rechunk(X.chunks[0])``), non-float ``X``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> from slopes.distributed import ChunkedObjective
    >>> X = np.arange(12.0).reshape(6, 2); y = np.arange(6.0)
    >>> mse = lambda w, batch: snp.mean((batch[0] @ w - batch[1]) ** 2)
    >>> f = ChunkedObjective(mse, (X, y), chunk_size=4)
    >>> f.n_chunks, f.chunk_rows
    (2, (4, 2))
    >>> value, grad = f.value_and_grad(np.array([0.5, 0.0]))
    >>> bool(np.isclose(value, mse(np.array([0.5, 0.0]), (X, y))))
    True
    >>> f.passes
    1
    """

    def __init__(self, loss, data, *, reduction="mean", client=None, chunk_size=None, jit=True):
        if not callable(loss):
            raise TypeError(f"ChunkedObjective: loss must be a function loss(x, batch), got {type(loss).__name__}")
        if reduction not in ("mean", "sum"):
            raise ValueError(f"ChunkedObjective: reduction must be 'mean' or 'sum' (got {reduction!r})")
        arrays, self._pack = as_arrays(data)
        if has_dask(arrays):
            if chunk_size is not None:
                raise ValueError("chunk_size= cuts NumPy arrays; dask arrays bring their own row chunks "
                                 "(rechunk them instead: X.rechunk({0: rows, 1: -1}))")
            arrays, bounds = dask_row_chunks(arrays)
            self._runner = OnDask(arrays, client)
        else:
            if client is not None:
                raise ValueError("client= runs dask arrays; make the NumPy data one first "
                                 "(dask.array.from_array(X, chunks=(rows, -1))) or drop client=")
            arrays, bounds = numpy_row_chunks(arrays, chunk_size)
            self._runner = InProcess(arrays, bounds)
        self.chunk_rows = tuple(int(b - a) for a, b in bounds)
        self.n_rows = int(sum(self.chunk_rows))
        self.n_chunks = len(bounds)
        self.reduction = reduction
        rows = np.asarray(self.chunk_rows, dtype=np.float64)
        self._weights = rows / self.n_rows if reduction == "mean" else np.ones_like(rows)
        self.loss = loss
        self.jit = bool(jit)
        self.passes = 0
        self.pass_times = []
        self._programs = {}  # structure of x -> its ChunkProgram

    # -- the public evaluations -------------------------------------------------------------
    def value(self, x) -> float:
        """``f(x)``: one pass.

        >>> import slopes.numpy as snp
        >>> ChunkedObjective(lambda x, b: snp.sum(b * x), np.arange(4.0), reduction="sum", chunk_size=3).value(2.0)
        12.0
        """
        flat, program, _ = self._prepare(x)
        return self._evaluate(program, "value", flat)

    __call__ = value

    def value_and_grad(self, x):
        """``(f(x), gradient)`` in one pass; the gradient in ``x``'s structure.

        >>> import slopes.numpy as snp
        >>> f = ChunkedObjective(lambda x, b: snp.sum(b * x ** 2), np.arange(4.0), reduction="sum", chunk_size=3)
        >>> f.value_and_grad(np.array([1.0]))
        (6.0, array([12.]))
        """
        flat, program, unravel = self._prepare(x)
        value, g = self._evaluate(program, "value_and_grad", flat)
        return value, (g if unravel is None else unravel(g))

    def grad(self, x):
        """The gradient of ``f`` at ``x`` (one pass; see :meth:`value_and_grad`)."""
        return self.value_and_grad(x)[1]

    def hessian(self, x):
        """The Hessian, ``(n, n)`` over the flat ``x``: the weighted sum of per-chunk Hessians.

        >>> import slopes.numpy as snp
        >>> f = ChunkedObjective(lambda x, b: snp.mean(b @ x) ** 2, np.eye(2), chunk_size=1)
        >>> f.hessian(np.zeros(2))
        array([[1., 0.],
               [0., 1.]])
        """
        flat, program, _ = self._prepare(x)
        return self._evaluate(program, "hessian", flat)

    def hvp(self, x, v):
        """``H(x) @ v`` without forming ``H`` (one pass); in ``v``'s structure.

        >>> import slopes.numpy as snp
        >>> f = ChunkedObjective(lambda x, b: snp.sum(b * x ** 3), np.ones(3), reduction="sum", chunk_size=2)
        >>> f.hvp(np.array([2.0]), np.array([1.0]))
        array([36.])
        """
        flat, program, unravel = self._prepare(x)
        u = np.asarray(v, dtype=flat.dtype).reshape(flat.shape) if unravel is None else ravel_pytree(v)[0]
        if u.shape != flat.shape:
            raise ValueError(f"hvp(): v has {u.size} entries, x has {flat.size}; give v the structure of x")
        out = self._evaluate(program, "hvp", flat, u)
        return out if unravel is None else unravel(out)

    # -- machinery --------------------------------------------------------------------------
    def _prepare(self, x):
        """``(flat x, its ChunkProgram, unravel or None)``."""
        if type(x) is np.ndarray and x.ndim == 1 and x.dtype.kind == "f":
            key, flat, unravel = None, x, None
        else:
            leaves, tree = pytree.flatten(x)
            key = (tree, tuple((np.shape(v), np.result_type(v).str) for v in leaves))
            flat, unravel = ravel_pytree(x)
            if flat.dtype.kind != "f":
                flat = flat.astype(np.float64)
        program = self._programs.get(key)
        if program is None:
            program = self._programs[key] = ChunkProgram(self.loss, unravel, self._pack, self.jit)
        return flat, program, unravel

    def _evaluate(self, program, kind, flat, extra=None):
        start = time.perf_counter()
        results = self._runner.run(program, kind, flat, extra)
        wall = time.perf_counter() - start
        self.passes += 1
        self.pass_times.append(PassTime(wall, float(sum(seconds for _, seconds in results))))
        return _weighted_sum([r for r, _ in results], self._weights)

    def __repr__(self):
        return (f"<ChunkedObjective: {self.n_rows} rows in {self.n_chunks} chunks ({self.reduction}), "
                f"{self.passes} passes>")


def _weighted_sum(results, weights):
    """``sum_c weights[c] * results[c]``, added in chunk order (tuples entry by entry)."""
    total = None
    for w, r in zip(weights, results):
        term = tuple(w * p for p in r) if isinstance(r, tuple) else w * r
        if total is None:
            total = term
        elif isinstance(term, tuple):
            total = tuple(a + b for a, b in zip(total, term))
        else:
            total = total + term
    if isinstance(total, tuple):
        return tuple(float(t) if np.ndim(t) == 0 else t for t in total)
    return float(total) if np.ndim(total) == 0 else total
