"""The traced programs of an objective, kept from one :func:`slopes.minimize` call to the next.

With derivatives from automatic differentiation, ``minimize`` traces ``fun`` and its
derivatives with :func:`slopes.jit`: about a millisecond for a small objective, more
than a whole L-BFGS solve of a small problem takes. A later call with the same ``fun``
(the same function object) and an ``x0`` of the same shape and dtype replays the
programs traced then, once a check says ``fun`` still computes what it computed then.

**The check.** When the programs are traced, ``fun``'s value at the start point (the
trace's own) and at a probe point (the start plus a fixed offset of up to
``(1 + |x0|) / 8`` per coordinate, of varied signs and sizes; ``fun`` called on plain
NumPy arrays) are kept. A later call evaluates ``fun`` at the same two points, on plain arrays (NumPy's cost, no
tracing), and keeps the programs only if both values are bit for bit the same; on any
difference or exception it traces again. A global or closure variable that ``fun``
reads and that changed since the trace changes ``f`` at these points, so the new value
is picked up (tested for globals, closure cells and a global array changed in place).

**What it cannot see:** a change that leaves ``f`` the same at both points, e.g. a
global used only in a branch of ``snp.where`` that neither point takes, or a term that
vanishes at both; and a ``fun`` whose value does not follow from ``x`` and what it
reads (random numbers, call counters), which a traced program freezes anyway (see
:func:`slopes.jit`). Pass ``jit=False`` to ``minimize`` to trace nothing, or call
:func:`clear_programs` after such a change.

The programs are dropped with the function (weak references), and at most
:data:`MAX_SIGNATURES` (shape, dtype) pairs are kept per function, the least recently
used dropped first.

>>> import slopes as sl, slopes.numpy as snp
>>> f = lambda x: snp.sum((x - 1.0) ** 2)
>>> r1 = sl.minimize(f, np.zeros(3)); r2 = sl.minimize(f, np.full(3, 2.0))
>>> kept_signatures(f), r2.success
([((3,), dtype('float64'))], True)
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from .methods_base import StagedProgram

__all__ = ["MAX_SIGNATURES", "stage_problem", "keep_programs", "kept_signatures", "clear_programs"]

#: Programs kept per function: one set per (shape, dtype) of ``x0``.
MAX_SIGNATURES = 4

_KEPT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # fun -> {(shape, dtype): _Programs}
_LOCK = threading.Lock()
_GOLDEN_ANGLE = np.pi * (3.0 - np.sqrt(5.0))


class _Programs:
    """The staged ``fun``, gradient, value-and-gradient and Hessian of one function at one signature.

    They are traced on ``shim``, which calls the counted ``fun`` of the problem running
    in this thread: the programs hold no reference to ``fun``, to any problem or to this
    object (no cycle: dropped programs are freed at once), so the function stays collectable.
    """

    def __init__(self):
        current = self.current = threading.local()  # .problem: a weak reference to this thread's problem

        def shim(x, *args):
            return current.problem()._fun(x, *args)

        self.shim = shim
        self.by_name = {}  # "_f", "_grad", "_vg", "_hess" -> StagedProgram
        self.points = None  # (x0, probe) of the trace
        self.values = None  # fun's values there when traced

    def program(self, name):
        prog = self.by_name.get(name)
        if prog is None:
            from ..transforms import grad, hessian, value_and_grad

            make = {"_f": lambda f: f, "_grad": grad, "_vg": value_and_grad, "_hess": hessian}[name]
            prog = self.by_name[name] = StagedProgram(make(self.shim))
        return prog

    def attach(self, problem):
        """Stage ``problem``'s functions on these programs (made now where missing)."""
        self.current.problem = weakref.ref(problem)
        names = ["_f"] + [n for n in ("_grad", "_vg", "_hess") if getattr(problem, n) is not None]
        problem.stage({n: self.program(n) for n in names})

    def traced(self) -> bool:
        prog = self.by_name.get("_vg")
        return prog is not None and prog.jitted is not None

    def still_current(self, fun) -> bool:
        """Whether ``fun`` gives, bit for bit, the values it gave at the trace's two points."""
        if self.values is None or not self.traced():
            return False
        try:
            return _values(fun, self.points) == self.values
        except Exception:  # noqa: BLE001 - whatever fun raises now, the programs are not kept
            return False


def _bits(value) -> str:
    """A float's exact identity: its hex form (every NaN is ``'nan'``; ``-0.0`` is not ``0.0``)."""
    return float(np.asarray(value).reshape(())).hex()


def _values(fun, points):
    with np.errstate(all="ignore"):  # the probe point may lie where fun overflows or is undefined
        return tuple(_bits(fun(p)) for p in points)


def _probe(x0):
    """``x0`` plus a fixed offset of up to ``(1 + |x0|) / 8`` per coordinate, of varied signs and sizes.

    The offsets are ``sin(k phi)`` for ``k = 1, 2, ...`` with ``phi`` the golden angle (spread
    over [-1, 1] like random numbers, without a generator to seed: a few microseconds).
    """
    u = np.sin(np.arange(1.0, x0.size + 1.0) * _GOLDEN_ANGLE).reshape(x0.shape)
    return (x0 + (1.0 + np.abs(x0)) * u / 8.0).astype(x0.dtype)


def _table(fun):
    """``fun``'s programs by signature (made now), or None when ``fun`` cannot be weakly referenced."""
    try:
        table = _KEPT.get(fun)
        if table is None:
            table = _KEPT[fun] = {}
    except TypeError:  # not hashable, or no weak references (a builtin)
        return None
    return table


def stage_problem(problem, fun, x0):
    """Stage ``problem`` (AD derivatives of ``fun``) on kept programs, or on new ones.

    Programs kept from an earlier call with this ``fun`` and ``x0``'s shape and dtype are
    used when the check of the module docstring passes; else new ones are made, traced at
    the run's first evaluation. Call :func:`keep_programs` with that evaluation's value.
    Returns what :func:`keep_programs` takes.
    """
    key = (x0.shape, x0.dtype)
    with _LOCK:
        table = _table(fun)
        kept = None if table is None else table.pop(key, None)
    if kept is not None and not kept.still_current(fun):
        kept = None
    programs = _Programs() if kept is None else kept
    programs.attach(problem)
    return programs, kept is None


def keep_programs(fun, x0, staged, f0) -> None:
    """Keep the programs :func:`stage_problem` gave for the next call with ``fun``.

    ``f0`` is ``fun``'s value at ``x0`` from the run's first evaluation: for new programs,
    the trace's own, which with ``fun``'s value at the probe point makes the check.
    """
    programs, fresh = staged
    if not programs.traced():
        return
    table = _table(fun)
    if table is None:
        return
    if fresh:
        points = (x0.copy(), _probe(x0))
        try:
            programs.values = (_bits(f0), _values(fun, points[1:])[0])
        except Exception:  # noqa: BLE001 - fun fails on plain arrays or at the probe: keep nothing
            return
        programs.points = points
    with _LOCK:
        table[(x0.shape, x0.dtype)] = programs  # the newest last: dicts keep insertion order
        while len(table) > MAX_SIGNATURES:
            del table[next(iter(table))]


def kept_signatures(fun) -> list:
    """The ``(shape, dtype)`` pairs of ``x0`` for which programs of ``fun`` are kept, oldest first.

    >>> import slopes as sl, slopes.numpy as snp
    >>> g = lambda x: snp.sum(x ** 2)
    >>> kept_signatures(g)
    []
    >>> _ = sl.minimize(g, np.ones(2, dtype=np.float32))
    >>> kept_signatures(g)
    [((2,), dtype('float32'))]
    """
    try:
        return list(_KEPT.get(fun, {}))
    except TypeError:
        return []


def clear_programs(fun=None) -> None:
    """Forget the kept programs of ``fun`` (of every function when ``fun`` is None).

    >>> import slopes as sl, slopes.numpy as snp
    >>> g = lambda x: snp.sum(x ** 2)
    >>> _ = sl.minimize(g, np.ones(2)); clear_programs(g); kept_signatures(g)
    []
    """
    with _LOCK:
        if fun is None:
            _KEPT.clear()
        else:
            try:
                _KEPT.pop(fun, None)
            except TypeError:
                pass
