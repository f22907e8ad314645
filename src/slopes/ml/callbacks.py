"""What :func:`slopes.ml.fit` records and tells its callbacks: history, step/epoch info, early stopping.

A callback is either a plain function ``cb(info)``, called at the end of every step
*and* every epoch (``info.event`` says which), or an object with ``on_step_end(info)``
and / or ``on_epoch_end(info)`` methods. **A callback asks the run to stop by
returning True** (the convention of :func:`slopes.minimize`'s ``callback``); the run
then ends cleanly with ``TrainResult.message`` naming the callback. Any exception a
callback raises propagates, except ``KeyboardInterrupt``, which ends the run with
``interrupted=True`` like Ctrl-C.

Examples
--------
>>> from slopes.ml.callbacks import EarlyStopping
>>> es = EarlyStopping(patience=2, min_delta=0.01)
>>> [es.update(v) for v in [1.0, 0.5, 0.495, 0.6]]   # improved?, stop?
[(True, False), (True, False), (False, False), (False, True)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Table", "TrainHistory", "TrainInfo", "EarlyStopping", "as_early_stopping", "run_callbacks"]


class Table:
    """Rows of named values, each field read as a NumPy array (the style of ``slopes.optim.History``).

    Examples
    --------
    >>> t = Table()
    >>> t.append(loss=1.0, lr=0.1); t.append(loss=0.5, lr=0.1)
    >>> len(t), t.loss.tolist(), t["lr"].tolist(), t.fields
    (2, [1.0, 0.5], [0.1, 0.1], ('loss', 'lr'))
    >>> Table(fields=("loss",))["loss"]  # declared fields read as empty columns before any row
    array([], dtype=float64)
    """

    def __init__(self, fields=()):
        self._rows: dict[str, list] = {k: [] for k in fields}

    def append(self, **values) -> None:
        if not self._rows and values:
            self._rows = {k: [] for k in values}
        if values.keys() != self._rows.keys():
            raise ValueError(f"Table.append: fields {sorted(values)} differ from {sorted(self._rows)}")
        for k, v in values.items():
            self._rows[k].append(v)

    def appender(self, *fields):
        """A function that appends one row given as values in the order of ``fields`` (every
        field of the table, named): the form for a loop that adds a row per step.

        Examples
        --------
        >>> t = Table(("loss", "lr"))
        >>> add = t.appender("lr", "loss")
        >>> add(0.1, 2.0); add(0.1, 1.5)
        >>> t.loss.tolist(), t.lr.tolist()
        ([2.0, 1.5], [0.1, 0.1])
        """
        if sorted(fields) != sorted(self._rows):
            raise ValueError(f"Table.appender: fields {sorted(fields)} differ from {sorted(self._rows)}")
        columns = [self._rows[k].append for k in fields]

        def add(*values):
            for append, v in zip(columns, values):
                append(v)

        return add

    def column(self, name, start: int = 0) -> np.ndarray:
        """Field ``name`` from row ``start`` on, as an array (reading only those rows).

        Examples
        --------
        >>> t = Table(("loss",))
        >>> for v in (3.0, 2.0, 1.0): t.append(loss=v)
        >>> t.column("loss", 1)
        array([2., 1.])
        """
        if name not in self._rows:
            raise KeyError(f"no field {name!r}; fields: {', '.join(self._rows) or '(none yet)'}")
        rows = self._rows[name]
        return np.asarray(rows[start:] if start else rows)

    @property
    def fields(self) -> tuple:
        return tuple(self._rows)

    def __len__(self) -> int:
        return len(next(iter(self._rows.values()))) if self._rows else 0

    def __contains__(self, name) -> bool:
        return name in self._rows

    def __getitem__(self, name) -> np.ndarray:
        return self.column(name)

    def __getattr__(self, name):
        rows = self.__dict__.get("_rows", {})
        if name in rows:
            return np.asarray(rows[name])
        raise AttributeError(f"Table has no field {name!r}; fields: {', '.join(rows) or '(none yet)'}")

    def as_dict(self) -> dict:
        """All fields as a dict of NumPy arrays."""
        return {k: self[k] for k in self._rows}

    @classmethod
    def from_dict(cls, d: dict) -> Table:
        t = cls()
        t._rows = {k: np.asarray(v).tolist() for k, v in d.items()}
        return t

    def __repr__(self) -> str:
        return f"Table(len={len(self)}, fields={list(self._rows)})"


class TrainHistory:
    """The record of a :func:`fit` run: one :class:`Table` per step and one per epoch.

    ``step`` fields: ``loss`` (the batch loss), ``lr`` (the learning rate that step used,
    ``slopes.optim.learning_rate`` of the state before it; nan if the optimizer has none),
    ``grad_norm`` (global 2-norm of the raw gradient, before clipping), ``epoch``; with
    mixed precision also ``loss_scale`` and ``skipped``. ``epoch`` fields: ``epoch``,
    ``loss`` (the mean loss per sample over the epoch: its batch losses weighted by batch
    size, as scikit-learn's ``loss_curve_``), ``val_loss`` (with ``val_data``),
    each metric ``name`` on the train data and ``val_name`` on the validation data, and
    ``time`` (seconds). :func:`fit` declares them all up front (``step_fields``,
    ``epoch_fields``), so a run that stops inside its first epoch reads as empty columns.

    Examples
    --------
    >>> h = TrainHistory()
    >>> h.step.append(loss=2.0, lr=0.1, grad_norm=1.0, epoch=0)
    >>> h.step["loss"], len(h.epoch)
    (array([2.]), 0)
    """

    def __init__(self, step_fields=(), epoch_fields=()):
        self.step = Table(step_fields)
        self.epoch = Table(epoch_fields)

    def as_dict(self) -> dict:
        """``{"step/loss": array, ..., "epoch/val_loss": array, ...}``."""
        out = {f"step/{k}": v for k, v in self.step.as_dict().items()}
        out.update({f"epoch/{k}": v for k, v in self.epoch.as_dict().items()})
        return out

    @classmethod
    def from_dict(cls, d: dict) -> TrainHistory:
        h = cls()
        h.step = Table.from_dict({k[5:]: v for k, v in d.items() if k.startswith("step/")})
        h.epoch = Table.from_dict({k[6:]: v for k, v in d.items() if k.startswith("epoch/")})
        return h

    def __repr__(self) -> str:
        return f"TrainHistory(steps={len(self.step)}, epochs={len(self.epoch)}, epoch_fields={self.epoch.fields})"


@dataclass(frozen=True)
class TrainInfo:
    """The view of a run passed to a callback.

    Attributes
    ----------
    event : str
        ``"step"`` (after an optimizer step) or ``"epoch"`` (after an epoch's evaluation).
    step : int
        Steps taken so far (1 after the first step).
    epoch : int
        The current epoch, counted from 0.
    loss : float
        The batch loss of the last step (``"step"``), or the epoch's mean train loss.
    params : pytree
        The current parameters: fit's own arrays, which later steps may write into
        (copy them, ``sl.tree_map(np.copy, info.params)``, to keep a snapshot). An array
        a callback puts in their place is what the next step starts from.
    state : optimizer state
    history : TrainHistory
        The history so far.
    logs : dict
        At epoch end, the epoch's row (``loss``, ``val_loss``, metrics, ``time``); else empty.

    Examples
    --------
    >>> info = TrainInfo("step", 1, 0, 0.5, {"w": np.zeros(2)}, None, None, {})
    >>> info.event, info.step, info.loss
    ('step', 1, 0.5)
    """

    event: str
    step: int
    epoch: int
    loss: float
    params: Any
    state: Any
    history: Any
    logs: dict


def run_callbacks(callbacks, info: TrainInfo) -> str | None:
    """Call every callback for ``info.event``; the name of the first that asked to stop, else None.

    Examples
    --------
    >>> seen = []
    >>> stop_at_3 = lambda info: seen.append(info.step) or info.step >= 3
    >>> run_callbacks([stop_at_3], TrainInfo("step", 2, 0, 1.0, None, None, None, {})) is None
    True
    >>> run_callbacks([stop_at_3], TrainInfo("step", 3, 0, 1.0, None, None, None, {}))
    '<lambda>'
    """
    method = "on_step_end" if info.event == "step" else "on_epoch_end"
    stopper = None
    for cb in callbacks:
        fn = getattr(cb, method, None)
        if fn is None:
            if not callable(cb) or hasattr(cb, "on_step_end") or hasattr(cb, "on_epoch_end"):
                continue  # an object that only listens to the other event
            fn = cb
        if fn(info) is True and stopper is None:
            stopper = getattr(cb, "__name__", type(cb).__name__)
    return stopper


def check_callbacks(callbacks) -> tuple:
    """``callbacks`` as a tuple, refusing anything that is neither callable nor has hooks."""
    if callable(callbacks) or hasattr(callbacks, "on_step_end") or hasattr(callbacks, "on_epoch_end"):
        callbacks = (callbacks,)
    out = tuple(callbacks)
    for cb in out:
        if not (callable(cb) or hasattr(cb, "on_step_end") or hasattr(cb, "on_epoch_end")):
            raise TypeError(
                f"fit(): callback {cb!r} is neither callable nor has on_step_end / on_epoch_end methods"
            )
    return out


class EarlyStopping:
    """Stop when a monitored epoch value has not improved for ``patience`` epochs.

    Parameters
    ----------
    patience : int
        Epochs without improvement tolerated (see ``rule`` for when the run stops).
    min_delta : float
        An improvement must beat the best value by more than this.
    monitor : str or None
        An epoch field of the history (``"val_loss"``, ``"loss"``, a metric name or
        ``"val_" + name``). None: ``"val_loss"`` when ``val_data`` is given, else ``"loss"``.
    mode : {"min", "max"}
        Whether lower (losses) or higher (accuracies) is better.
    rule : {"keras", "sklearn"}
        ``"keras"``: the best value moves only on an improvement by more than ``min_delta``,
        and the run stops at the ``patience``-th epoch without one. ``"sklearn"`` (the
        stopping of scikit-learn's MLP with ``tol = min_delta`` and ``n_iter_no_change =
        patience``): the best value is the best seen, an epoch that does not beat it by more
        than ``min_delta`` counts, and the run stops when more than ``patience`` epochs in
        a row counted. So a slow steady decrease (each step below ``min_delta``) stops the
        ``"sklearn"`` rule but not the ``"keras"`` one.

    The best parameters (those at the best monitored epoch) are always returned as
    ``TrainResult.best_params``; ``TrainResult.params`` holds the last ones.

    Examples
    --------
    >>> es = EarlyStopping(patience=1, monitor="acc", mode="max")
    >>> es.update(0.8), es.update(0.7)
    ((True, False), (False, True))
    >>> es.best, es.wait
    (0.8, 1)
    >>> slow = EarlyStopping(patience=1, min_delta=0.1, rule="sklearn")
    >>> [slow.update(v) for v in [1.0, 0.95, 0.9]]   # best seen moves, but by less than 0.1
    [(True, False), (True, False), (True, True)]
    """

    def __init__(
        self,
        patience: int = 5,
        min_delta: float = 0.0,
        monitor: str | None = None,
        mode: str = "min",
        rule: str = "keras",
    ):
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"EarlyStopping: patience must be a positive integer, got {patience!r}")
        if not (isinstance(min_delta, (int, float)) and min_delta >= 0):
            raise ValueError(f"EarlyStopping: min_delta must be a number >= 0, got {min_delta!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' or 'max', got {mode!r}")
        if monitor is not None and not isinstance(monitor, str):
            raise TypeError(f"EarlyStopping: monitor must be a field name (str) or None, got {monitor!r}")
        if rule not in ("keras", "sklearn"):
            raise ValueError(f"EarlyStopping: rule must be 'keras' or 'sklearn', got {rule!r}")
        self.patience = patience
        self.min_delta = float(min_delta)
        self.monitor = monitor
        self.mode = mode
        self.rule = rule
        self.best = math.inf if mode == "min" else -math.inf
        self.wait = 0

    def _beats(self, value: float, margin: float, ties: bool = False) -> bool:
        if not math.isfinite(value):  # nan never improves
            return False
        # written as each reference library rounds it: scikit-learn compares the value with
        # best - tol, keras compares value + min_delta with best (they differ in the last bit)
        if self.mode == "min":
            return value <= self.best - margin if ties else value + margin < self.best
        return value >= self.best + margin if ties else value - margin > self.best

    def improves(self, value: float) -> bool:
        """Whether ``value`` improves on the best by ``min_delta`` (nan never does).

        ``"keras"``: by more than ``min_delta``; ``"sklearn"``: by at least ``min_delta``
        (so with ``min_delta=0`` an equal value is not counted against the run).
        """
        return self._beats(value, self.min_delta, ties=self.rule == "sklearn")

    def update(self, value: float) -> tuple[bool, bool]:
        """Record an epoch's value: ``(new best, should_stop)``."""
        value = float(value)
        significant = self.improves(value)
        best = significant if self.rule == "keras" else self._beats(value, 0.0)
        if best:
            self.best = value
        self.wait = 0 if significant else self.wait + 1
        limit = self.patience if self.rule == "keras" else self.patience + 1
        return best, self.wait >= limit

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, "
            f"monitor={self.monitor!r}, mode={self.mode!r}, rule={self.rule!r})"
        )


def as_early_stopping(early_stopping, has_val: bool) -> EarlyStopping | None:
    """``fit``'s ``early_stopping`` argument (None, an int patience, or an EarlyStopping) resolved.

    The monitor defaults to ``"val_loss"`` with validation data, else ``"loss"``; a fresh
    copy is returned so a run never changes the caller's object.

    Examples
    --------
    >>> as_early_stopping(3, has_val=True)
    EarlyStopping(patience=3, min_delta=0.0, monitor='val_loss', mode='min', rule='keras')
    """
    if early_stopping is None:
        return None
    if isinstance(early_stopping, bool):
        raise TypeError("fit(): early_stopping must be an int patience or an EarlyStopping, not a bool")
    if isinstance(early_stopping, int):
        early_stopping = EarlyStopping(patience=early_stopping)
    if not isinstance(early_stopping, EarlyStopping):
        raise TypeError(
            f"fit(): early_stopping must be None, an int patience or an EarlyStopping, got {early_stopping!r}"
        )
    default = "val_loss" if has_val else "loss"
    return EarlyStopping(
        early_stopping.patience,
        early_stopping.min_delta,
        early_stopping.monitor or default,
        early_stopping.mode,
        early_stopping.rule,
    )
