"""The :class:`Result` of :func:`slopes.minimize` and its per-iteration :class:`History`.

>>> h = History(record_x=False)
>>> h.append(f=1.0, grad_norm=2.0, step_size=np.nan, lr=0.1, nfev=1, ngev=1, nhev=0)
>>> h.append(f=0.5, grad_norm=1.0, step_size=0.1, lr=0.1, nfev=2, ngev=2, nhev=0)
>>> len(h), h.f.tolist()
(2, [1.0, 0.5])
>>> sorted(h.as_dict())
['f', 'grad_norm', 'lr', 'nfev', 'ngev', 'nhev', 'step_size']
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._display import Card, card_html

__all__ = ["History", "Result", "STATUS"]

#: status codes of :class:`Result`.
STATUS = {
    -1: "running (the view passed to a callback)",
    0: "converged",
    1: "maximum number of iterations reached",
    2: "diverged",
    3: "stopped by callback",
    4: "method failure (e.g. line search)",
    5: "interrupted",
}

_FIELDS = ("f", "grad_norm", "step_size", "lr", "nfev", "ngev", "nhev")


class History:
    """Per-iteration record of a run.

    Row 0 is the starting point (``step_size`` nan there); row ``k`` is after
    iteration ``k``, so ``len(history) == result.nit + 1``. Each field reads as a
    NumPy array: ``f``, ``grad_norm`` (the optimality measure), ``step_size``,
    ``lr``, ``nfev``, ``ngev``, ``nhev`` (cumulative counts) and ``x`` (shape
    ``(nit + 1, n)``, only when ``record_x=True``).
    """

    def __init__(self, record_x: bool = False):
        self.record_x = bool(record_x)
        # one tuple per row (one list append per iteration); the columns are built when read
        self._data: list[tuple] = []
        self._x: list[np.ndarray] = []

    def append(self, x=None, **values) -> None:
        """Add a row given by field name (``x`` is copied when recorded)."""
        self.add(*(values[k] for k in _FIELDS), x=x)

    def add(self, f, grad_norm, step_size, lr, nfev, ngev, nhev, x=None) -> None:
        """Add a row given in field order."""
        self._data.append((f, grad_norm, step_size, lr, nfev, ngev, nhev))
        if self.record_x:
            self.add_x(x)

    def appender(self):
        """``append(row)`` for a row tuple in field order: the driver's per-iteration call (one
        ``list.append``, no Python frame); with ``record_x`` the iterate goes to :meth:`add_x`.

        >>> h = History()
        >>> h.appender()((1.0, 2.0, np.nan, 0.1, 1, 1, 0)); h.f.tolist()
        [1.0]
        """
        return self._data.append

    def add_x(self, x) -> None:
        """Record the iterate of the row just added (a copy)."""
        self._x.append(np.array(x, copy=True))

    def __len__(self) -> int:
        return len(self.__dict__.get("_data", ()))

    @property
    def fields(self) -> tuple:
        """The names of the recorded fields."""
        return _FIELDS + (("x",) if self.record_x else ())

    def __getattr__(self, name):
        # only for names not found as attributes; reads __dict__ directly, since an
        # instance being unpickled has none of its attributes yet
        d = self.__dict__
        if name in _FIELDS and "_data" in d:
            i = _FIELDS.index(name)
            dtype = np.int64 if name in ("nfev", "ngev", "nhev") else np.float64
            return np.array([row[i] for row in d["_data"]], dtype=dtype)
        if name == "x" and d.get("record_x"):
            return np.asarray(d["_x"])
        fields = _FIELDS + (("x",) if d.get("record_x") else ())
        raise AttributeError(f"History has no field {name!r}; fields: {', '.join(fields)}")

    def as_dict(self) -> dict:
        """All fields as a dict of NumPy arrays."""
        return {k: getattr(self, k) for k in self.fields}

    def __repr__(self) -> str:
        return f"History(len={len(self)}, fields={list(self.fields)})"

    def _curves(self) -> list:
        """The sparklines a notebook shows: the objective and the optimality measure."""
        return [("f", self.f), ("grad norm", self.grad_norm)] if len(self) else []

    def _card(self) -> Card:
        last = [(f"last {k}", getattr(self, k)[-1]) for k in ("f", "grad_norm", "nfev", "ngev", "nhev")]
        return Card(f"{len(self)} rows", "info", "History: row 0 is the start, row k after iteration k",
                    last if len(self) else [], curves=self._curves())

    _repr_html_ = card_html


@dataclass
class Result:
    """Outcome of :func:`slopes.minimize`.

    Attributes
    ----------
    x : ndarray
        The final iterate.
    fun : float
        ``f(x)``.
    grad : ndarray or None
        The gradient at ``x`` (None for methods that do not use one).
    grad_norm : float
        The optimality measure at ``x``: ``max|grad|`` for unconstrained methods,
        the fixed-point residual for projected / proximal ones, nan for subgradient.
    nit, nfev, ngev, nhev : int
        Iterations and counted function / gradient / Hessian evaluations.
    success : bool
        True only when the stopping criterion holds at ``x`` (``grad_norm <= gtol``).
    status : int
        See :data:`STATUS`.
    message : str
    elapsed : float
        Wall time in seconds.
    x_best, fun_best :
        The point with the lowest ``f`` seen (kept on divergence or interruption).
    history : History
    method : str
    passes : int or None
        Passes over the data (one per evaluation) when ``data=`` was summed over row chunks
        (dask arrays or ``chunk_size=``); None otherwise.
    pass_times : list of PassTime or None
        Per pass, ``(wall, compute)`` seconds: on the caller's clock, and inside the chunk tasks.
    """

    x: np.ndarray
    fun: float
    grad: np.ndarray | None
    grad_norm: float
    nit: int
    nfev: int
    ngev: int
    nhev: int
    success: bool
    status: int
    message: str
    elapsed: float
    x_best: np.ndarray
    fun_best: float
    history: History = field(repr=False)
    method: str = ""
    passes: int | None = None
    pass_times: list | None = None

    def _card(self) -> Card:
        verdict = "converged" if self.success else STATUS.get(self.status, "stopped")
        good = "good" if self.success else "bad" if self.status in (2, 4) else "warn"
        rows = [
            ("f(x)", self.fun), ("grad norm", self.grad_norm), ("x", self.x),
            ("iterations", self.nit), ("evaluations f / grad / Hessian", f"{self.nfev} / {self.ngev} / {self.nhev}"),
        ]
        if self.fun_best < self.fun:  # the run ended above its best point (a divergence, a noisy method)
            rows += [("best f seen", self.fun_best), ("best x seen", self.x_best)]
        return Card(verdict, good, f"minimize ({self.method or 'method?'})", rows, self.message,
                    curves=self.history._curves())

    _repr_html_ = card_html

    def __repr__(self) -> str:
        return (
            f"Result(method={self.method!r}, success={self.success}, fun={self.fun:.6g}, "
            f"grad_norm={self.grad_norm:.3g}, nit={self.nit}, nfev={self.nfev}, ngev={self.ngev}, "
            f"nhev={self.nhev}, message={self.message!r})"
        )
