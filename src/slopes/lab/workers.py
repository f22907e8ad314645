"""Page computations in worker processes, so that races use every core and never wait on training.

Python runs one thread of a process at a time: in the server's own threads a race waits its
turn behind the training runs streaming beside it. A :class:`PagePool` runs the page
computations in ``workers`` processes instead (started fresh, not forked from the threaded
server). What crosses to a worker and back is the request dict, the page's dict, or a refusal
as a :class:`~slopes.lab.inputs.LabInputError` carrying the message the page shows.

Examples
--------
>>> run_page("derivative", {"formula": "x^3", "x0": 2.0})["numbers"]["slope"]
12.0
>>> run_page("derivative", {"formula": "x^3", "x0": "two"})
Traceback (most recent call last):
...
slopes.lab.inputs.LabInputError: x0 must be a finite number between -10000 and 10000, got 'two'
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

from ..expr import ExpressionError
from .inputs import LabInputError

__all__ = ["PagePool", "WORKERS", "refusal", "run_page"]

#: Worker processes of ``slopes lab``: the cores of a small machine.
WORKERS = 2


def refusal(e: Exception) -> str | None:
    """The message a page shows for an exception its computation raised; None for a bug.

    Examples
    --------
    >>> refusal(LabInputError("pick x0 inside the domain")), refusal(ZeroDivisionError("division by zero"))
    ('pick x0 inside the domain', 'ZeroDivisionError: division by zero')
    >>> refusal(KeyError("x")) is None
    True
    """
    if isinstance(e, (LabInputError, ExpressionError)):
        return str(e)
    if isinstance(e, (ValueError, TypeError, ArithmeticError)):  # slopes' own argument checks say what to change
        return f"{type(e).__name__}: {e}"
    return None


def run_page(name: str, body: dict) -> dict:
    """Compute page ``name`` of :data:`slopes.lab.compute.PAGES` for ``body``; a refusal as LabInputError.

    The refusal's message is final (see :func:`refusal`), and the error pickles as it is.
    """
    from .compute import PAGES

    try:
        return PAGES[name](body)
    except Exception as e:
        message = refusal(e)
        if message is None:
            raise
        raise LabInputError(message) from None


def _warm_up() -> None:
    """Import the computations in a new worker, before its first request."""
    from . import compute  # noqa: F401


def _follow(server_pid: int) -> None:
    """In a new worker: end it when the server process ends, however it ends (a kill leaves no time to close the pool)."""

    def watch():
        while os.getppid() == server_pid:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="slopes-lab-follow-server", daemon=True).start()


class PagePool:
    """``workers`` processes computing pages; started on the first request, stopped by :meth:`close`.

    Examples
    --------
    >>> pool = PagePool(1)
    >>> asyncio.run(pool.run("derivative", {"formula": "x^2", "x0": 3.0}))["numbers"]["slope"]
    6.0
    >>> pool.close()
    """

    def __init__(self, workers: int = WORKERS):
        if not (isinstance(workers, int) and workers >= 1):
            raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")
        self.workers = workers
        self._executor = None

    def start(self) -> PagePool:
        """Start the workers (importing slopes in each), so the first requests need not wait for it."""
        if self._executor is None:
            context = multiprocessing.get_context("spawn")  # a fork of a threaded server can deadlock
            self._executor = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_follow, initargs=(os.getpid(),))
            for _ in range(self.workers):
                self._executor.submit(_warm_up)
        return self

    async def run(self, name: str, body: dict) -> dict:
        """Page ``name`` computed for ``body`` in a worker."""
        self.start()
        return await asyncio.get_running_loop().run_in_executor(self._executor, run_page, name, body)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
