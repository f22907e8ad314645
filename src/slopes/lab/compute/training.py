"""The Training page: a softmax regression or an MLP on a bundled data set, trained live.

:class:`TrainingRun` runs :func:`slopes.ml.fit` in a thread and publishes its progress as
events (a batch loss every few steps, loss and accuracy at every epoch end); the run can be
stopped and resumed (its thread waits; nothing is written to disk), is paced to last at least
``LIMITS.watch_seconds`` and ends by itself at its wall-time budget. :func:`lr_range_page` runs :func:`slopes.ml.lr_find` on the same setup.

Examples
--------
>>> run = TrainingRun({"model": "softmax", "dataset": "iris", "epochs": 2, "batch_size": 32}, watch_seconds=0)
>>> run.start(); run.join()
>>> events = run.events_since(0)
>>> events[-1]["event"], events[-1]["status"], sum(e["event"] == "epoch" for e in events)
('end', 'finished', 2)
"""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np

from ... import optim
from ...ml import MLP, cross_entropy, fit, lr_find
from ...report.sections_ml import load_standardized
from ..inputs import LabInputError, choice, integer, number
from ..limits import LIMITS
from .common import SCHEDULES, code_lines, finite_list, learning_rate

__all__ = ["DATASETS", "MODELS", "OPTIMIZERS", "TrainingRun", "lr_range_page", "training_setup"]

DATASETS = ("digits", "iris", "wine", "breast_cancer")
MODELS = ("softmax", "mlp")
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
#: Batch-loss events published per run (the step events are thinned to about this many).
STEP_EVENTS = 300
_ids = itertools.count(1)


class _Setup:
    """A checked training request: data, model, loss, accuracy and the code that builds them."""

    def __init__(self, body: dict):
        self.dataset = choice(body, "dataset", "digits", DATASETS)
        self.model_name = choice(body, "model", "mlp", MODELS)
        self.width = integer(body, "width", 32, lo=2, hi=256)
        self.optimizer_name = choice(body, "optimizer", "adam", OPTIMIZERS)
        self.lr = number(body, "lr", 0.01, lo=1e-6, hi=100.0)
        self.schedule = choice(body, "schedule", "constant", SCHEDULES)
        self.batch_size = integer(body, "batch_size", 64, lo=1, hi=4096)
        self.epochs = integer(body, "epochs", 10, lo=1, hi=LIMITS.max_epochs)
        self.seed = integer(body, "seed", 0, lo=0, hi=2**31 - 1)
        self.X, self.X_test, self.y, self.y_test = load_standardized(self.dataset)
        d, k = self.X.shape[1], int(self.y.max()) + 1
        self.sizes = [d, k] if self.model_name == "softmax" else [d, self.width, k]
        self.model = MLP(self.sizes, activation="relu", seed=self.seed)
        self.steps = self.epochs * -(-len(self.y) // self.batch_size)

    def loss(self, params, batch):
        return cross_entropy(self.model(params, batch[0]), batch[1])

    def accuracy(self, params, data):
        return float(np.mean(np.argmax(self.model(params, data[0]), axis=1) == data[1]))

    def optimizer(self):
        return getattr(optim, self.optimizer_name)(learning_rate(self.schedule, self.lr, self.steps)[0])

    def code(self, tail) -> str:
        return code_lines(
            [
                "from slopes.report.sections_ml import load_standardized",
                f'X_train, X_test, y_train, y_test = load_standardized("{self.dataset}")',
                f'model = sl.ml.MLP({self.sizes}, activation="relu", seed={self.seed})',
                "def loss(params, batch):",
                "    return sl.ml.cross_entropy(model(params, batch[0]), batch[1])",
                "def accuracy(params, data):",
                "    return float(np.mean(np.argmax(model(params, data[0]), axis=1) == data[1]))",
                *tail,
            ]
        )


def training_setup(body: dict) -> _Setup:
    """Check a training request: the data set, model, optimizer, schedule, batch size and epochs.

    Examples
    --------
    >>> training_setup({"epochs": 10**6})
    Traceback (most recent call last):
    ...
    slopes.lab.inputs.LabInputError: epochs must be a whole number from 1 to 60 (the lab's budget), got 1000000
    """
    return _Setup(body)


class TrainingRun:
    """One live training run: :func:`slopes.ml.fit` in a thread, publishing events.

    Events (dicts) are appended to a list that readers poll with :meth:`events_since`:
    ``{"event": "step", "step", "loss"}``, ``{"event": "epoch", "epoch", "loss", "val_loss",
    "accuracy", "val_accuracy"}``, ``{"event": "paused"}``, ``{"event": "resumed"}`` and a last
    ``{"event": "end", "status", "message", "numbers", "code"}``. ``status`` is ``finished``,
    ``stopped`` (by :meth:`cancel`), ``diverged`` or ``budget`` (the wall-time budget ran out).
    The steps are spread over at least ``watch_seconds`` (default ``LIMITS.watch_seconds``).

    Examples
    --------
    >>> TrainingRun({"model": "svm"})
    Traceback (most recent call last):
    ...
    slopes.lab.inputs.LabInputError: model must be one of softmax, mlp, got 'svm'
    """

    def __init__(self, body: dict, *, watch_seconds: float | None = None):
        self.setup = training_setup(body)
        self.id = f"run{next(_ids)}"
        self._events: list[dict] = []
        self._changed = threading.Condition()
        self._running = threading.Event()
        self._running.set()
        self._interrupt = threading.Event()
        self._cancelled = False
        self._thread = threading.Thread(target=self._work, name=f"slopes-lab-{self.id}", daemon=True)
        self._every = max(1, self.setup.steps // STEP_EVENTS)
        watch = LIMITS.watch_seconds if watch_seconds is None else watch_seconds
        self._pace = watch / self.setup.steps
        self.done = False

    # --- control -------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def join(self, timeout=None) -> None:
        self._thread.join(timeout)

    def pause(self) -> None:
        if not self.done and self._running.is_set():
            self._running.clear()
            self._interrupt.set()
            self._publish({"event": "paused"})

    def resume(self) -> None:
        if not self.done and not self._running.is_set():
            self._publish({"event": "resumed"})
            self._interrupt.clear()
            self._running.set()

    def cancel(self) -> None:
        self._cancelled = True
        self._interrupt.set()
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    # --- events --------------------------------------------------------------------------------
    def _publish(self, event: dict) -> None:
        with self._changed:
            self._events.append(event)
            self._changed.notify_all()

    def events_since(self, index: int, wait: float = 0.0) -> list[dict]:
        """The events from ``index`` on, waiting up to ``wait`` seconds for one to arrive."""
        with self._changed:
            if len(self._events) <= index and not self.done and wait > 0:
                self._changed.wait(wait)
            return self._events[index:]

    # --- the run -------------------------------------------------------------------------------
    def _on_event(self, info) -> bool:
        if info.event == "step" and (info.step % self._every == 0 or info.step == 1):
            self._publish({"event": "step", "step": int(info.step), "loss": _num(info.loss)})
        elif info.event == "epoch":
            logs = info.logs
            self._publish(
                {
                    "event": "epoch",
                    "epoch": int(info.epoch) + 1,
                    "step": int(info.step),
                    **{k: _num(logs.get(k)) for k in ("loss", "val_loss", "accuracy", "val_accuracy")},
                }
            )
        if info.event == "step":
            ahead = info.step * self._pace - self._active()
            if ahead > 0:
                self._interrupt.wait(ahead)  # pacing; a stop request ends the wait early
        if not self._running.is_set():
            paused_at = time.monotonic()
            while not self._running.wait(1.0):
                if time.monotonic() - paused_at > LIMITS.idle_seconds:
                    self._status = ("stopped", f"stopped for more than {LIMITS.idle_seconds:g} s: ended")
                    return True
            self._paused_seconds += time.monotonic() - paused_at
        if self._cancelled:
            self._status = ("stopped", "stopped before the last epoch")
            return True
        if self._active() > LIMITS.train_seconds:
            self._status = ("budget", f"ended at the lab's budget of {LIMITS.train_seconds:g} s of training")
            return True
        return False

    def _active(self) -> float:
        """Seconds since the start, time spent stopped excluded."""
        return time.monotonic() - self._t0 - self._paused_seconds

    def _work(self) -> None:
        s = self.setup
        self._status = ("finished", "")
        self._t0, self._paused_seconds = time.monotonic(), 0.0
        try:
            res = fit(
                s.loss,
                s.model.init(),
                (s.X, s.y),
                optimizer=s.optimizer(),
                epochs=s.epochs,
                batch_size=s.batch_size,
                seed=s.seed,
                val_data=(s.X_test, s.y_test),
                metrics={"accuracy": s.accuracy},
                callbacks=[self._on_event],
                progress=False,
            )
        except Exception as e:  # a failure is shown on the page, never a silent dead stream
            self._finish("error", f"training failed: {e}", {}, "")
            return
        status, message = self._status
        if res.diverged:
            status, message = "diverged", f"{res.message}; try a smaller learning rate"
        ep = res.history.epoch
        numbers = {
            k: _num(ep[k][-1]) if len(ep[k]) else None for k in ("loss", "val_loss", "accuracy", "val_accuracy")
        }
        numbers["steps"] = int(res.step)
        code = s.code(
            [
                f"optimizer = sl.optim.{s.optimizer_name}({learning_rate(s.schedule, s.lr, s.steps)[1]})",
                "res = sl.ml.fit(loss, model.init(), (X_train, y_train), optimizer=optimizer,",
                f"                epochs={s.epochs}, batch_size={s.batch_size}, seed={s.seed},",
                "                val_data=(X_test, y_test), metrics={'accuracy': accuracy}, progress=False)",
                "loss, val_loss = res.history.epoch['loss'][-1], res.history.epoch['val_loss'][-1]",
                "accuracy, val_accuracy = res.history.epoch['accuracy'][-1], res.history.epoch['val_accuracy'][-1]",
                "steps = res.step",
            ]
        )
        self._finish(status, message or res.message, numbers, code)

    def _finish(self, status, message, numbers, code) -> None:
        self.done = True
        self._publish({"event": "end", "status": status, "message": message, "numbers": numbers, "code": code})


def _num(v):
    return None if v is None or not np.isfinite(v) else float(v)


def lr_range_page(body: dict) -> dict:
    """The learning-rate range test (:func:`slopes.ml.lr_find`) on the training page's setup.

    Returns
    -------
    dict
        ``lrs``, ``losses``, ``smoothed``, ``numbers`` (suggestion, lr_min, diverged) and ``code``.

    Examples
    --------
    >>> page = lr_range_page({"model": "softmax", "dataset": "iris", "num_steps": 50, "batch_size": 16})
    >>> len(page["lrs"]) <= 50, page["numbers"]["suggestion"] > 0
    (True, True)
    """
    s = training_setup(body)
    steps = integer(body, "num_steps", 100, lo=10, hi=LIMITS.max_lr_steps)
    min_lr = number(body, "min_lr", 1e-5, lo=1e-9, hi=1.0)
    max_lr = number(body, "max_lr", 10.0, lo=1e-6, hi=1e3)
    if not min_lr < max_lr:
        raise LabInputError(f"min_lr must be below max_lr, got {min_lr:g} and {max_lr:g}")
    opt_fn = getattr(optim, s.optimizer_name)
    r = lr_find(s.loss, s.model.init(), (s.X, s.y), optimizer_fn=opt_fn, min_lr=min_lr, max_lr=max_lr,
                num_steps=steps, batch_size=s.batch_size, seed=s.seed)
    code = s.code(
        [
            f"r = sl.ml.lr_find(loss, model.init(), (X_train, y_train), optimizer_fn=sl.optim.{s.optimizer_name},",
            f"                  min_lr={min_lr!r}, max_lr={max_lr!r}, num_steps={steps}, batch_size={s.batch_size},",
            f"                  seed={s.seed})",
            "suggestion, lr_min, diverged = r.suggestion, r.lr_min, r.diverged",
        ]
    )
    return {
        "lrs": finite_list(r.lrs),
        "losses": finite_list(r.losses),
        "smoothed": finite_list(r.smoothed),
        "numbers": {"suggestion": float(r.suggestion), "lr_min": float(r.lr_min), "diverged": bool(r.diverged)},
        "code": code,
    }
