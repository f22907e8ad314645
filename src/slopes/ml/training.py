"""``fit``: the training loop -- mini-batches, history, early stopping, callbacks, checkpoints.

:func:`fit` runs any :mod:`slopes.optim` transformation over the mini-batches of a data
set for some epochs and returns a :class:`TrainResult`. The whole step (value,
gradient, optimizer update, new parameters; see :mod:`slopes.ml.train_step`) is one
``sl.jit`` program, traced once per batch shape, then replayed.

Examples
--------
>>> import slopes.numpy as snp, slopes.optim as so
>>> X = np.linspace(-1, 1, 20)[:, None]; y = 3 * X[:, 0] - 1
>>> loss = lambda p, b: snp.mean((b[0] @ p["w"] + p["b"] - b[1]) ** 2)
>>> res = fit(loss, {"w": np.zeros(1), "b": 0.0}, (X, y), optimizer=so.sgd(0.3), epochs=200)
>>> np.round(res.params["w"], 4), round(float(res.params["b"]), 4)
(array([3.]), -1.0)
>>> res.history.step["loss"].shape, res.history.epoch.fields
((200,), ('epoch', 'loss', 'time'))
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .._display import Card, brief_repr, card_html
from ..core.dtypes import is_floating
from ..core.kernels import numba_available
from ..core.pytree import leaves, tree_map
from ..core.staging import TracingError
from ..optim import adam, chain, clip_by_global_norm, global_norm, learning_rate
from ..optim._validate import check_learning_rate
from ..optim.methods_base import DivergenceWatch
from ..optim.stochastic import MiniBatches
from ..transforms import jit as sl_jit
from ..transforms import value_and_grad
from .callbacks import (
    EarlyStopping,
    TrainHistory,
    TrainInfo,
    as_early_stopping,
    check_callbacks,
    run_callbacks,
)
from .checkpoint import load_checkpoint, prepare_checkpoint_dir, run_fingerprint, save_checkpoint
from .mixed_precision import as_loss_scale, to_dtype
from .streaming import ChunkStream, chunk_mean, has_dask_leaf
from .train_step import StagedStep

__all__ = ["fit", "TrainResult"]


def _progress_bar():
    """tqdm's notebook bar where a notebook can show it (ipywidgets present), else its text bar.

    ``tqdm.auto`` alone warns in every notebook without ipywidgets before falling back.
    """
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm


@dataclass
class TrainResult:
    """Outcome of :func:`fit`.

    Attributes
    ----------
    params : pytree
        The parameters after the last step taken (never a diverged step's).
    best_params : pytree
        The parameters at the end of the epoch with the best monitored value
        (``val_loss`` with validation data, else ``loss``, or early stopping's
        ``monitor``); the initial parameters if no epoch ended with a finite value.
    best_epoch : int
        That epoch (-1: the initial parameters).
    history : TrainHistory
    state : optimizer state after the last step.
    step : int
        Steps taken in total (including before a resume).
    stopped_early, interrupted, diverged : bool
        Early stopping fired; a KeyboardInterrupt ended the run; a non-finite loss or
        gradient ended it.
    message : str
    elapsed : float
        Wall time of this call, in seconds.
    loss_scale : DynamicLossScale or None
        The loss scaler of a mixed-precision run.
    """

    params: object
    best_params: object
    best_epoch: int
    history: TrainHistory = field(repr=False)
    state: object = field(repr=False)
    step: int
    stopped_early: bool
    interrupted: bool
    diverged: bool
    message: str
    elapsed: float
    loss_scale: object = field(default=None, repr=False)

    __repr__ = brief_repr

    def _card(self) -> Card:
        h = self.history
        if self.diverged:
            verdict, status = "diverged", "bad"
        elif self.interrupted:
            verdict, status = "interrupted", "warn"
        else:
            verdict, status = ("stopped early" if self.stopped_early else "finished"), "good"
        rows = [("steps", self.step), ("epochs", len(h.epoch)), ("best epoch", self.best_epoch)]
        rows += [(f"last {k}", h.epoch[k][-1]) for k in ("loss", "val_loss") if k in h.epoch and len(h.epoch)]
        rows.append(("params", self.params))
        curves = [(k, h.step[k]) for k in ("loss", "grad_norm") if k in h.step and len(h.step)]
        curves += [("val_loss (per epoch)", h.epoch["val_loss"])] if "val_loss" in h.epoch and len(h.epoch) else []
        return Card(verdict, status, "fit", rows, self.message, curves=curves)

    _repr_html_ = card_html


class _Staged:
    """``sl.jit(fn)``, falling back to ``fn`` itself (with one warning per run) if it cannot be traced."""

    def __init__(self, fn, use_jit: bool, shared: dict, kernels="numpy"):
        self.eager = fn
        self.fn = sl_jit(fn, kernels=kernels) if use_jit else fn
        self.shared = shared

    def __call__(self, *args):
        if self.shared.get("eager"):
            self.fn = self.eager
        try:
            return self.fn(*args)
        except TracingError as e:
            if self.fn is self.eager:
                raise
            self.shared["eager"], self.fn = True, self.eager
            first = str(e).splitlines()[0]
            warnings.warn(
                f"fit(): sl.jit cannot trace the loss ({first}); running it eagerly. "
                "Pass jit=False to skip the attempt.",
                RuntimeWarning,
                stacklevel=3,
            )
            return self.fn(*args)


def _check_params(params):
    ls = leaves(params)
    if not ls:
        raise ValueError("fit(): params has no arrays to train")
    for x in ls:
        if not is_floating(np.asarray(x).dtype):
            raise TypeError(
                f"fit(): every parameter must be a floating-point array, got dtype {np.asarray(x).dtype}; "
                "initialize with floats (e.g. np.zeros(n) or 0.0, not 0)"
            )
    return tree_map(lambda x: np.array(x, copy=True), params)  # arrays, and never the caller's buffers


def _positive_int(name, v, allow_none=False):
    if v is None and allow_none:
        return
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"fit(): {name} must be a positive integer, got {v!r}")


def _copy(tree):
    return tree_map(np.copy, tree)


def _add_in_place(params, updates) -> None:
    """``params += updates`` leaf by leaf; ``params`` are fit's own arrays (copied at the start)."""
    ps, us = leaves(params), leaves(updates)
    if len(ps) != len(us):
        raise ValueError(f"fit(): the optimizer returned {len(us)} updates for {len(ps)} parameters")
    for p, u in zip(ps, us):
        p += u


def _all_finite(tree) -> bool:
    return all(bool(np.all(np.isfinite(x))) for x in leaves(tree))


def _lr(state) -> float:
    try:
        return learning_rate(state)
    except ValueError:
        return math.nan


def fit(
    loss,
    params,
    data,
    *,
    optimizer=None,
    epochs=1,
    batch_size=None,
    shuffle=True,
    seed=0,
    clip_norm=None,
    val_data=None,
    metrics=None,
    early_stopping=None,
    callbacks=(),
    checkpoint_dir=None,
    checkpoint_every=None,
    resume=False,
    progress=None,
    jit=True,
    kernels="numpy",
    mixed_precision=False,
) -> TrainResult:
    """Train ``params`` to minimize ``loss`` over mini-batches of ``data``.

    Parameters
    ----------
    loss : callable
        ``loss(params, batch) -> scalar``; ``batch`` has the structure of ``data``.
    params : pytree of float arrays
        The starting parameters (not modified).
    data : array or tuple / list / dict of arrays
        Samples along the first axis, all arrays the same length. Dask arrays are
        streamed, one row chunk in memory at a time (see Notes).
    optimizer : GradientTransformation, optional
        Any :mod:`slopes.optim` transformation (default ``adam(1e-3)``); schedules in it
        follow the step count in its state. Its ``update`` gets ``grad_fn=``, the gradient
        on the current mini-batch, which :func:`slopes.optim.sam` calls once more per step,
        and ``loss=``, the batch loss, which :func:`slopes.optim.reduce_on_plateau` reads.
    epochs : int
        Passes over the data.
    batch_size : int or None
        None: full batch; 1: one sample per step; k: mini-batches of k (the last of an
        epoch holds the remainder).
    shuffle, seed :
        Reshuffle the samples each epoch, from ``np.random.default_rng(seed)``; on dask
        data, the chunk order and the rows within each chunk (chunk-local shuffling).
    clip_norm : float, optional
        Clip the gradient's global norm to this first (``clip_by_global_norm``).
    val_data : like ``data``, optional
        Evaluated at each epoch end: ``val_loss`` and the ``val_`` metrics. On dask
        ``val_data``, ``val_loss`` is the chunks' losses weighted by their rows.
    metrics : dict, optional
        ``name -> fn(params, data) -> float``, evaluated each epoch on the train data
        (field ``name``) and on ``val_data`` (field ``val_name``).
    early_stopping : int or EarlyStopping, optional
        Patience in epochs (monitoring ``val_loss`` with ``val_data``, else ``loss``) or
        an :class:`~slopes.ml.callbacks.EarlyStopping`.
    callbacks : callable or sequence
        Called after each step and each epoch with a
        :class:`~slopes.ml.callbacks.TrainInfo`; **returning True stops the run**.
    checkpoint_dir : path, optional
        Where checkpoints go (see :mod:`slopes.ml.checkpoint`): one at the end of every
        epoch unless ``checkpoint_every`` says otherwise, and one when the run ends
        normally. Temporary files a killed run left there are removed.
    checkpoint_every : int, optional
        Write a checkpoint every this many steps instead (default: every epoch).
    resume : bool
        Continue from the checkpoint in ``checkpoint_dir`` (start afresh if there is none).
        A resumed run ends with exactly the parameters an uninterrupted one would have. A
        checkpoint written for other data, batch size, shuffling, seed or model is refused;
        a damaged one is replaced by the previous one, with a warning.
    progress : bool or None
        A tqdm bar over the steps; None: only when stderr is a terminal.
    jit : bool
        Replay each step with ``sl.jit``: value, gradient, optimizer update and new
        parameters as one program per batch shape. An optimizer that cannot be traced
        (one needing ``grad_fn=``, such as :func:`~slopes.optim.sam`) runs eagerly after
        a replayed gradient; a loss that cannot be traced runs eagerly, with a warning.
        Mixed precision replays the gradient only.
    kernels : {"numpy", "numba"}
        How the replays run (:func:`slopes.jit`'s option): NumPy calls, or, with
        ``"numba"`` (the ``slopes[fast]`` extra), each float32 or float64 elementwise chain of
        the step on at least :data:`slopes.core.kernels.MIN_SIZE` entries as one compiled kernel (the
        optimizer's update of all the parameters at once among them, for a model of that
        many parameters; a ReLU's select in each pass) and a softmax over a few classes
        with compiled row loops (:mod:`slopes.core.narrow_rows`), an ulp or so from NumPy's
        results (so a run resumed with the other option may differ in the last bits from an
        uninterrupted one). The kernels compile, under a second each, where the disk cache
        has none.
    mixed_precision : bool, "float16", "bfloat16" or DynamicLossScale
        Compute the loss and gradient in float16 (True) or bfloat16 (needs the ``bf16``
        extra) with dynamic loss scaling, keeping float32 master parameters (see
        :mod:`slopes.ml.mixed_precision`).

    Returns
    -------
    TrainResult

    Notes
    -----
    On dask ``data`` (see :mod:`slopes.ml.streaming`) each epoch visits the row chunks in a
    seeded random order and shuffles rows only *within* a chunk: batches never mix rows of
    two chunks, and a chunk's last batch holds its remainder. Each chunk is computed once
    per epoch, the next one in a background thread while the current one trains, with
    dask's local scheduler or a ``distributed`` client. ``batch_size`` is required there
    (a full batch would gather all rows); ``metrics`` receive ``data`` as given.

    A diverging run ends (``diverged=True``) without applying the step that showed it: a
    non-finite loss, gradient or update (every update is checked before it is applied,
    the last one too), or a blow-up by the test :func:`slopes.minimize` applies
    (the batch loss above ``f0 + 1e6 (1 + |f0|)``, ``f0`` the first step's, or a parameter
    beyond ``1e12 (1 + max|initial parameter|)``, before or after the update). A KeyboardInterrupt (Ctrl-C) ends it
    cleanly with ``interrupted=True``. In both cases the result holds the history so far
    and finite best parameters.

    Examples
    --------
    >>> import slopes.numpy as snp, slopes.optim as so
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 3)); y = X @ np.array([1.0, -2.0, 0.5])
    >>> loss = lambda w, b: snp.mean((b[0] @ w - b[1]) ** 2)
    >>> res = fit(loss, np.zeros(3), (X, y), optimizer=so.adam(0.05), epochs=30, batch_size=16)
    >>> np.round(res.params, 2), len(res.history.step), res.message
    (array([ 1. , -2. ,  0.5]), 120, 'completed 30 epochs')
    """
    t_start = time.perf_counter()
    if not callable(loss):
        raise TypeError(f"fit(): loss must be a function loss(params, batch), got {type(loss).__name__}")
    _positive_int("epochs", epochs)
    if kernels not in ("numpy", "numba"):
        raise ValueError(f"fit(): kernels must be 'numpy' or 'numba' (got {kernels!r})")
    if kernels == "numba" and not jit:
        raise ValueError("fit(): kernels='numba' compiles the replayed step; it needs jit=True")
    if kernels == "numba" and not numba_available():
        raise ImportError("fit(kernels='numba') needs Numba: pip install 'slopes[fast]' (or keep kernels='numpy')")
    _positive_int("checkpoint_every", checkpoint_every, allow_none=True)
    if (checkpoint_every is not None or resume) and checkpoint_dir is None:
        raise ValueError("fit(): checkpoint_every and resume need a checkpoint_dir")
    params = _check_params(params)
    scaler = as_loss_scale(mixed_precision)
    if scaler is not None:
        params = to_dtype(params, np.float32)  # the float32 master weights
    streamed = has_dask_leaf(data)
    if streamed:  # one chunk in memory at a time (the next one on its way)
        if scaler is not None:
            raise ValueError(
                "fit(): mixed_precision needs the data's range checked in full, which dask data are not; "
                "cast the chunks lazily first (X.astype(np.float16)) and train without mixed_precision"
            )
        batches = ChunkStream(data, batch_size, shuffle, seed)
    else:
        rows = _compute_data(data, scaler.dtype) if scaler else data
        batches = MiniBatches(rows, batch_size, shuffle, seed)
    if val_data is not None and not has_dask_leaf(val_data):
        MiniBatches(val_data)  # validates its arrays
    metrics = dict(metrics or {})
    for name, fn in metrics.items():
        if not callable(fn):
            raise TypeError(f"fit(): metric {name!r} must be a function fn(params, data) -> float")
    callbacks = check_callbacks(callbacks)
    if clip_norm is not None and not (isinstance(clip_norm, (int, float)) and clip_norm > 0):
        raise ValueError(f"fit(): clip_norm must be a positive number, got {clip_norm!r}")

    opt = adam(1e-3) if optimizer is None else optimizer
    if not (hasattr(opt, "init") and hasattr(opt, "update")):
        raise TypeError("fit(): optimizer must be a slopes.optim GradientTransformation (e.g. so.adam(1e-3))")
    if clip_norm is not None:
        opt = chain(clip_by_global_norm(float(clip_norm)), opt)

    es = as_early_stopping(early_stopping, val_data is not None)
    tracker = es or EarlyStopping(
        patience=sys.maxsize, monitor="val_loss" if val_data is not None else "loss"
    )
    known = {"loss"} | set(metrics)
    if val_data is not None:
        known |= {"val_loss"} | {f"val_{m}" for m in metrics}
    if tracker.monitor not in known:
        raise ValueError(f"fit(): cannot monitor {tracker.monitor!r}; available: {sorted(known)}")

    state = opt.init(params)
    history = _new_history(scaler, val_data, metrics)
    best_params, best_epoch = _copy(params), -1
    step, epoch0, pos0, rng_state = 0, 0, 0, None
    fingerprint = None
    if checkpoint_dir is not None:
        prepare_checkpoint_dir(checkpoint_dir)
        precision = scaler.dtype.name if scaler is not None else None
        fingerprint = run_fingerprint(
            data, params, batch_size=batches.batch_size, shuffle=batches.shuffle, seed=seed,
            precision=precision,
        )
    if resume and (
        ck := load_checkpoint(
            checkpoint_dir,
            params_like=params,
            state_like=state,
            fingerprint=fingerprint,
            batches_per_epoch=batches.batches_per_epoch,
        )
    ) is not None:
        params, state, best_params = ck["params"], ck["state"], ck["best_params"]
        history = TrainHistory.from_dict(ck["history"])
        meta = ck["meta"]
        step, epoch0, pos0, rng_state = meta["step"], meta["epoch"], meta["pos"], meta["rng"]
        best_epoch, tracker.best, tracker.wait = (
            meta["best_epoch"],
            meta["tracker_best"],
            meta["tracker_wait"],
        )
        if scaler is not None and meta.get("loss_scale"):
            scaler.load_state_dict(meta["loss_scale"])
    saved_step = step  # the step of the newest checkpoint on disk (none yet: 0)

    fields = _STEP_FIELDS + (_PRECISION_FIELDS if scaler is not None else ())
    add_row = history.step.appender(*fields)
    shared: dict = {}
    staged = StagedStep(loss, opt, kernels) if jit and scaler is None else None
    extent = None  # max|params|, or a bound of it after replayed steps (see _bound_extent)
    if scaler is None:
        vg = _Staged(value_and_grad(loss), jit, shared, kernels)
    else:
        vg = _Staged(value_and_grad(scaler.scaled(loss)), jit, shared, kernels)
    eval_loss = _Staged(loss, jit, shared, kernels)
    nb = batches.batches_per_epoch
    # rows per batch: streamed epochs cut each chunk on its own, so they know theirs
    in_memory_sizes = None
    if not streamed:
        in_memory_sizes = np.minimum(batches.batch_size, batches.n - batches.batch_size * np.arange(nb))
    show = sys.stderr.isatty() if progress is None else bool(progress)
    bar = None
    if show:  # tqdm (and the look for a notebook) only for a bar that is shown
        bar = _progress_bar()(
            total=epochs * nb, initial=min(step, epochs * nb), unit="step", dynamic_ncols=True, leave=True
        )

    def checkpoint(epoch, pos, epoch_start_rng):
        nonlocal saved_step
        # a finished epoch is saved as the start of the next one (its permutation not yet drawn)
        if pos == nb:
            epoch, pos, rng = epoch + 1, 0, batches.rng.bit_generator.state
        else:
            rng = epoch_start_rng
        meta = {
            "step": step,
            "epoch": epoch,
            "pos": pos,
            "rng": rng,
            "best_epoch": best_epoch,
            "tracker_best": tracker.best,
            "tracker_wait": tracker.wait,
            "loss_scale": scaler.state_dict() if scaler else None,
        }
        save_checkpoint(
            checkpoint_dir,
            params=params,
            state=state,
            best_params=best_params,
            history=history.as_dict(),
            meta=meta,
            fingerprint=fingerprint,
        )
        saved_step = step

    stopped_early = interrupted = diverged = False
    watch = None  # blow-up test of slopes.minimize, from the first step's loss and params
    message = f"completed {epochs} epochs"
    stop = False
    # a diverging step is reported as such, so NumPy's warnings about its overflow are not
    # wanted: ignored once around the loop (not per step), the caller's settings restored
    # around the caller's own code (callbacks, metrics, the validation loss) and at the end
    user_fp = np.seterr(over="ignore", invalid="ignore")
    try:
        for epoch in range(epoch0, epochs):
            t_epoch = time.perf_counter()
            if epoch == epoch0 and rng_state is not None:
                batches.rng.bit_generator.state = rng_state
            epoch_start_rng = batches.rng.bit_generator.state if checkpoint_dir is not None else None
            epoch_batches = batches.epoch()
            sizes = epoch_batches.sizes if streamed else in_memory_sizes
            first_pos = pos0 if epoch == epoch0 else 0
            first_row = len(history.step) - first_pos  # a resumed epoch's earlier rows came with the checkpoint
            for pos in range(first_pos, nb):
                batch = epoch_batches[pos]
                out = staged(params, state, batch) if staged is not None else None
                skipped = False
                if out is not None:  # the whole step, replayed: taken unless it diverges
                    value, gnorm, pnorm, lr, new_params, new_state = out
                    # every test of _replay_problem passing, in one chain of comparisons (nan fails
                    # each): the loss, gradient and learning rate finite, the loss and the bounds of
                    # max|params| before and after the step within the blow-up limits
                    if not (watch is not None and -math.inf < value < math.inf and value <= watch.fmax
                            and gnorm < math.inf and (0.0 <= lr < math.inf or lr != lr)
                            and extent <= watch.xmax and pnorm <= watch.xmax and pnorm < math.inf):
                        why, watch = _replay_problem(params, extent, watch, out, step)
                        if why is not None:
                            diverged, stop, message = True, True, _divergence(step, epoch, why)
                            break
                    params, state, extent = new_params, new_state, pnorm
                else:
                    lr = _lr(state)
                    value, grads, gnorm, skipped, why = _gradient(vg, scaler, params, batch)
                    extent = None if skipped else _extent(params)
                    if why is None and not skipped:
                        watch = watch or DivergenceWatch(extent, value)
                        why = watch.reason(extent, value, what="loss")
                        if why is None:
                            regrad = _BatchGrad(vg, scaler, batch)  # for optimizers that re-evaluate (sam)
                            updates, new_state = opt.update(grads, state, params, grad_fn=regrad, loss=value)
                            skipped = not regrad.finite
                            if regrad.finite:
                                why = _update_problem(params, extent, updates, watch, lr)
                            elif scaler is None:
                                why = "non-finite gradient where the optimizer re-evaluated it"
                    if why is not None:
                        diverged, stop, message = True, True, _divergence(step, epoch, why)
                        break
                    if not skipped:
                        _add_in_place(params, updates)  # fit's own copies: no new arrays per step
                        state = new_state
                step += 1
                if scaler is None:
                    add_row(value, lr, gnorm, epoch)
                else:
                    add_row(value if not skipped else math.nan, lr, gnorm, epoch, scaler.scale, skipped)
                if show:
                    bar.update(1)
                    bar.set_postfix(epoch=epoch, loss=f"{value:.4g}", refresh=False)
                if callbacks:
                    with np.errstate(**user_fp):
                        who = run_callbacks(
                            callbacks, TrainInfo("step", step, epoch, value, params, state, history, {})
                        )
                    if who is not None:
                        message, stop = f"stopped by callback {who} at step {step}", True
                    if staged is not None:  # a callback may have put other arrays into params
                        staged.forget()
                        extent = math.inf  # the bound was of the old ones: the full test measures them
                if pos == nb - 1 and not stop:
                    with np.errstate(**user_fp):
                        logs = _evaluate(eval_loss, params, data, val_data, metrics, history, epoch, t_epoch,
                                         sizes, first_row)
                    improved, es_stop = tracker.update(logs[tracker.monitor])
                    # a finite bound of max|params| (a replayed step's norm) says they are finite
                    if improved and (type(extent) is float and extent < math.inf or _all_finite(params)):
                        best_params, best_epoch = _copy(params), epoch
                    history.epoch.append(**logs)
                    if es is not None and es_stop:
                        stopped_early, stop = True, True
                        message = (
                            f"early stopping at epoch {epoch}: {es.monitor} did not improve for "
                            f"{es.patience} epochs (best {tracker.best:.6g} at epoch {best_epoch})"
                        )
                    if callbacks:
                        info = TrainInfo("epoch", step, epoch, logs["loss"], params, state, history, logs)
                        with np.errstate(**user_fp):
                            who = run_callbacks(callbacks, info)
                        if who is not None:
                            message, stop = f"stopped by callback {who} at epoch {epoch}", True
                    if staged is not None and (callbacks or metrics):
                        staged.forget()
                        extent = math.inf
                # by default, at the end of each epoch
                if checkpoint_dir is not None and (
                    step % checkpoint_every == 0 if checkpoint_every else pos == nb - 1
                ):
                    checkpoint(epoch, pos + 1, epoch_start_rng)
                if stop:
                    break
            if stop:
                break
        else:
            if checkpoint_dir is not None and saved_step != step:
                checkpoint(epochs - 1, nb, None)
    except KeyboardInterrupt:
        interrupted = True
        message = f"interrupted (KeyboardInterrupt) after step {step}"
    finally:
        np.seterr(**user_fp)
        if bar is not None:
            bar.close()
        if streamed:
            batches.close()
    return TrainResult(
        params=params,
        best_params=best_params,
        best_epoch=best_epoch,
        history=history,
        state=state,
        step=step,
        stopped_early=stopped_early,
        interrupted=interrupted,
        diverged=diverged,
        message=message,
        elapsed=time.perf_counter() - t_start,
        loss_scale=scaler,
    )


def _divergence(step, epoch, why) -> str:
    """The message of a run that diverged at its next step (``step`` taken so far)."""
    return f"diverged at step {step + 1} (epoch {epoch}): {why}; params are the last finite ones"


def _replay_problem(params, extent, watch, out, step):
    """The divergence tests of a replayed step (``out`` of :class:`~slopes.ml.train_step.StagedStep`)
    in full: ``(why it ends the run or None, the watch)``; the first step makes the run's :class:`~slopes.optim.methods_base.DivergenceWatch`."""
    value, gnorm, pnorm, lr, new_params, _ = out
    if not math.isnan(lr):  # a traced schedule's values are checked here
        check_learning_rate(lr, "fit(): the optimizer's learning rate", step=step)
    extent = _bound_extent(params, extent, watch)
    why = _finite_problem(value, gnorm)
    if why is None:
        watch = watch or DivergenceWatch(extent, value)
        why = watch.reason(extent, value, what="loss")
    # max|new params| <= their 2-norm, finite exactly when they are: the exact test only
    # near the bound (NaN fails the comparison; inf there only when the bound is inf)
    if why is None and (not pnorm <= watch.xmax or pnorm == math.inf):
        why = _new_params_problem(new_params, watch, lr)
    return why, watch


def _bound_extent(params, bound, watch):
    """``max|params|`` itself, or ``bound`` (an upper bound of it, a float) while that is within the
    blow-up limit: the divergence test then needs no pass over the parameters."""
    if bound is not None and watch is not None and bound <= watch.xmax:
        return bound
    return float(_MAX(_extent(params)))


def _extent(params) -> np.ndarray:
    """``max|leaf|`` of each parameter array: what DivergenceWatch needs of ``x``, without a copy.

    NaN when a leaf holds one. The ufunc's own reduce: this runs twice per training step.
    """
    return np.array([_MAX(np.abs(x), axis=None, initial=0.0) for x in leaves(params)])


_MAX = np.maximum.reduce


def _compute_data(data, dtype):
    """``data``'s float arrays in mixed precision's compute ``dtype``, refusing values it cannot hold.

    A finite value beyond the dtype's range would be inf in every step: the loss scale cannot
    help with that, so it is an error here rather than a run of skipped steps.
    """
    limit = float(np.finfo(dtype).max)
    for x in leaves(data):
        x = np.asarray(x)
        if is_floating(x.dtype) and x.size:
            big = float(np.max(np.abs(x), where=np.isfinite(x), initial=0.0))
            if big > limit:
                raise ValueError(
                    f"fit(): data holds values up to {big:.3g}, beyond {np.dtype(dtype).name}'s range "
                    f"({limit:.3g}) that mixed precision computes in; scale the inputs (e.g. "
                    "slopes.ml.Standardizer) or train without mixed_precision"
                )
    return to_dtype(data, dtype)


_STEP_FIELDS = ("loss", "lr", "grad_norm", "epoch")
_PRECISION_FIELDS = ("loss_scale", "skipped")


def _new_history(scaler, val_data, metrics) -> TrainHistory:
    """The run's history with every field declared: a run that ends in its first epoch still has
    (empty) ``loss`` and ``val_loss`` columns to read."""
    step = _STEP_FIELDS + (_PRECISION_FIELDS if scaler is not None else ())
    epoch = ["epoch", "loss"] + (["val_loss"] if val_data is not None else [])
    for name in metrics:
        epoch += [name] + ([f"val_{name}"] if val_data is not None else [])
    return TrainHistory(step, epoch + ["time"])


def _update_problem(params, extent, updates, watch, lr) -> str | None:
    """Why adding ``updates`` to ``params`` would end the run (non-finite, or past the blow-up bound), or None.

    ``extent`` is :func:`_extent` of ``params``. ``max|p + u| <= max|p| + max|u|`` leaf by leaf
    settles almost every step without forming ``p + u``; only a step near the bound computes it.
    """
    u = _extent(updates)
    if float(_MAX(extent + u)) <= watch.xmax:  # the common case in one comparison (NaN fails it)
        return None
    if not np.all(np.isfinite(u)):
        return _verdict(math.nan, watch, lr)
    new = np.array([np.max(np.abs(p + v), initial=0.0) for p, v in zip(leaves(params), leaves(updates))])
    return _verdict(float(_MAX(new)), watch, lr)  # finite + finite: never nan


def _new_params_problem(new_params, watch, lr) -> str | None:
    """:func:`_update_problem`'s verdict on a replayed step, from the new parameters alone.

    The parameters were finite, so a nan among the new ones came from a non-finite update,
    and an inf from the update or from adding it (both called an overflow here).
    """
    top = float(_MAX(_extent(new_params)))
    return _verdict(top, watch, lr)


def _verdict(top, watch, lr) -> str | None:
    """Why new parameters of largest magnitude ``top`` end the run, or None (nan: from a
    non-finite update, since the parameters were finite)."""
    if math.isnan(top):
        return f"non-finite update (learning rate {lr:.3g}; check the optimizer's hyperparameters)"
    if not math.isfinite(top):
        return "the update overflows the parameters"
    if top > watch.xmax:
        return f"the update would take a parameter to {top:.3g}"
    return None


def _epoch_loss(history, first_row: int, sizes: np.ndarray) -> float:
    """The epoch's batch losses (the step rows from ``first_row`` on) averaged with their batch
    sizes as weights: the mean loss per sample.

    An unweighted mean would count the rows of a short last batch more than the others.
    Steps skipped by mixed precision (nan) are left out. Only the epoch's rows are read, so
    an epoch's end costs the same in a long run as in a short one.
    """
    losses = history.step.column("loss", first_row)
    weights = sizes if sizes.shape == losses.shape else np.ones(losses.shape)
    kept = np.isfinite(losses)
    if not kept.all():
        if not kept.any():
            return math.nan
        losses, weights = losses[kept], weights[kept]
    # np.average's own arithmetic (the products summed, over the weights summed in float64),
    # without its Python checks: about 10 us an epoch
    return float(np.multiply(losses, weights, dtype=np.float64).sum() / weights.sum(dtype=np.float64))


def _gradient(vg, scaler, params, batch):
    """``(loss, grads, grad_norm, skipped, why_diverged)`` of one step, plain or mixed precision.

    Overflow to inf is reported as divergence (``why_diverged``); fit's loop runs with NumPy's
    warnings about it silenced.
    """
    if scaler is None:
        value, grads = vg(params, batch)
        value, gnorm = float(value), global_norm(grads)
        return value, grads, gnorm, False, _finite_problem(value, gnorm)
    was_exhausted = scaler.exhausted
    value, grads, finite = scaler.step(vg, params, batch)
    if not finite and was_exhausted:
        why = f"non-finite {scaler.dtype.name} loss or gradient even at the minimum loss scale {scaler.min_scale:g}"
        return value, grads, math.nan, True, why
    return value, grads, (global_norm(grads) if finite else math.nan), not finite, None


def _finite_problem(value: float, gnorm: float) -> str | None:
    """Why a step with this loss and gradient norm diverged (not finite), or None."""
    if not math.isfinite(value):
        return "non-finite loss"
    if not math.isfinite(gnorm):
        return "non-finite gradient"
    return None


class _BatchGrad:
    """``grad_fn`` for one batch: the gradient at other params, as optimizers like ``sam`` ask.

    ``finite`` turns False when an evaluation is not finite; in mixed precision that
    also backs off the loss scale (the step is then skipped, like a first-gradient overflow).
    """

    def __init__(self, vg, scaler, batch):
        self.vg, self.scaler, self.batch = vg, scaler, batch
        self.finite = True

    def __call__(self, params):
        if self.scaler is None:
            grads = self.vg(params, self.batch)[1]
            finite = _all_finite(grads)
        else:
            _, grads, finite = self.scaler.step(self.vg, params, self.batch, update=False)
            if not finite:
                self.scaler.update(False)
        self.finite = self.finite and finite
        return grads


def _evaluate(eval_loss, params, data, val_data, metrics, history, epoch, t_epoch, sizes, first_row) -> dict:
    """The epoch row: mean loss over the epoch's samples (its step rows from ``first_row`` on),
    validation loss, metrics, time."""
    logs = {"epoch": epoch, "loss": _epoch_loss(history, first_row, sizes)}
    if val_data is not None:
        logs["val_loss"] = _mean_loss(eval_loss, params, val_data)
    for name, fn in metrics.items():
        logs[name] = float(fn(params, data))
        if val_data is not None:
            logs[f"val_{name}"] = float(fn(params, val_data))
    logs["time"] = time.perf_counter() - t_epoch
    return logs


def _mean_loss(eval_loss, params, data) -> float:
    """``loss(params, data)``; on dask data the chunks' losses weighted by their rows (each chunk
    computed once), which is the loss of all rows when the loss is a mean over rows."""
    if has_dask_leaf(data):
        return chunk_mean(eval_loss, params, data)
    return float(eval_loss(params, data))
