"""What runs on a worker: one objective's per-chunk functions, and the task that applies them.

A :class:`ChunkProgram` holds the user's loss and builds from it, where it lands,
the jitted per-chunk value, value-and-gradient, Hessian and Hessian-vector
product. It is sent once per objective (scattered, then referenced by every
task); its functions are built and traced once per process where it lands
(pickles of :func:`slopes.jit` functions carry no programs), kept there by the
program's token (the cluster may drop and resend a worker's copy between passes:
it then finds them again), and replayed for every chunk.

:func:`run_chunk` is the task: it makes every array it receives C-contiguous and
aligned (arrays rebuilt from network frames can be unaligned, and BLAS is then
many times slower on them), applies one function and returns the result with the
seconds it took.
"""

from __future__ import annotations

import collections
import threading
import time
import uuid

import numpy as np

from ..core.staging import TracingError
from ..transforms import hessian, hvp, jit, value_and_grad

__all__ = ["ChunkProgram", "KINDS", "run_chunk", "arrivals", "builds"]

#: the evaluations a chunk task can make
KINDS = ("value", "value_and_grad", "hessian", "hvp")

_KEEP = 32  # objectives whose built (traced) functions one process keeps, the most recent
_BUILT = collections.OrderedDict()  # token -> (eager functions, replayed functions)
_ARRIVALS = collections.Counter()  # token -> times a ChunkProgram was unpickled in this process
_BUILDS = collections.Counter()  # token -> times its functions were built (and so traced) here
_LOCK = threading.Lock()


def arrivals():
    """How many times each objective's :class:`ChunkProgram` was unpickled in this process.

    Keyed by the program's token; on a worker each objective should arrive once
    however many tasks use it (``client.run(arrivals)`` reads every worker).

    Examples
    --------
    >>> import pickle, operator
    >>> prog = ChunkProgram(operator.mul, None, tuple)  # any picklable loss(x, batch)
    >>> _ = pickle.loads(pickle.dumps(prog))
    >>> arrivals()[prog.token]
    1
    """
    with _LOCK:
        return dict(_ARRIVALS)


def builds():
    """How many times each objective's per-chunk functions were built (then traced) in this process.

    A program that arrives again (the cluster may drop a worker's copy between passes and
    send it anew) finds its functions, and their traced programs, by its token: on a
    worker each objective is built once.

    Examples
    --------
    >>> import pickle, operator
    >>> prog = ChunkProgram(operator.mul, None, tuple)
    >>> _ = pickle.loads(pickle.dumps(prog)), pickle.loads(pickle.dumps(prog))
    >>> builds()[prog.token], arrivals()[prog.token]
    (1, 2)
    """
    with _LOCK:
        return dict(_BUILDS)


class _FlatLoss:
    """``loss(unravel(v), pack(blocks))``: the loss as a function of a flat vector and arrays."""

    def __init__(self, loss, unravel, pack):
        self.loss, self.unravel, self.pack = loss, unravel, pack

    def __call__(self, v, *blocks):
        return self.loss(v if self.unravel is None else self.unravel(v), self.pack(blocks))


class _HVP:
    def __init__(self, flat):
        self.flat = flat

    def __call__(self, v, u, *blocks):
        return hvp(lambda w: self.flat(w, *blocks), v, u)


class ChunkProgram:
    """The per-chunk functions of one objective, built from ``loss`` where they run.

    Parameters
    ----------
    loss : callable
        ``loss(x, batch)``, one real number per chunk.
    unravel : callable or None
        Rebuilds ``x`` from the flat vector the optimizer works on (None: ``x`` is flat).
    pack : callable
        Turns the tuple of a chunk's arrays into the ``batch`` the loss expects.
    jit : bool
        Replay each function with :func:`slopes.jit` (a loss that cannot be traced runs
        eagerly instead).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> prog = ChunkProgram(lambda x, b: snp.mean((b[0] @ x - b[1]) ** 2), None, tuple)
    >>> X, y = np.eye(2), np.array([1.0, 2.0])
    >>> prog("value_and_grad", np.zeros(2), None, (X, y))
    (2.5, array([-1., -2.]))
    """

    def __init__(self, loss, unravel, pack, jit=True, token=None):
        self.loss, self.unravel, self.pack, self.jit = loss, unravel, pack, bool(jit)
        self.token = uuid.uuid4().hex if token is None else token  # names it across processes
        self._build()

    def _build(self):
        with _LOCK:
            built = _BUILT.get(self.token)
            if built is not None:
                _BUILT.move_to_end(self.token)
        if built is None:
            flat = _FlatLoss(self.loss, self.unravel, self.pack)
            eager = {"value": flat, "value_and_grad": value_and_grad(flat), "hessian": hessian(flat),
                     "hvp": _HVP(flat)}
            fns = {k: jit(f) for k, f in eager.items()} if self.jit else dict(eager)
            with _LOCK:
                if self.token not in _BUILT:
                    _BUILDS[self.token] += 1
                built = _BUILT.setdefault(self.token, (eager, fns))
                while len(_BUILT) > _KEEP:
                    _BUILT.popitem(last=False)
        self._eager, self._fns = built

    def __call__(self, kind, x, extra, blocks):
        args = (x, *blocks) if extra is None else (x, extra, *blocks)
        try:
            out = self._fns[kind](*args)
        except TracingError:  # Python decisions on values: this function runs eagerly from now on
            self._fns[kind] = self._eager[kind]
            out = self._fns[kind](*args)
        if isinstance(out, tuple):
            return tuple(_plain(o) for o in out)
        return _plain(out)

    # the loss and settings travel; the functions are built (and traced) where they land, once per process
    def __getstate__(self):
        return {"loss": self.loss, "unravel": self.unravel, "pack": self.pack, "jit": self.jit,
                "token": self.token}

    def __setstate__(self, state):
        self.__init__(**state)
        with _LOCK:
            _ARRIVALS[self.token] += 1

    def __repr__(self):
        return f"<ChunkProgram {self.token}: {getattr(self.loss, '__name__', 'loss')}>"


def _plain(out):
    a = np.asarray(out)
    return float(a) if a.ndim == 0 else a


def run_chunk(program, kind, x, extra, *blocks):
    """Apply ``program``'s ``kind`` function to one chunk: ``(result, seconds)``.

    Each block is first made C-contiguous and aligned (copied only when it is not).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> prog = ChunkProgram(lambda x, b: snp.sum(b[0] @ x), None, tuple)
    >>> out, seconds = run_chunk(prog, "value", np.ones(2), None, np.ones((3, 2)))
    >>> out, seconds >= 0
    (6.0, True)
    """
    start = time.perf_counter()
    blocks = tuple(np.require(b, requirements="CA") for b in blocks)
    return program(kind, x, extra, blocks), time.perf_counter() - start
