"""``slopes train`` and ``slopes lr-find``: models on the bundled data sets."""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np

from .. import ml, optim
from ._common import (
    FiniteFloat,
    SlopesCommand,
    debug_option,
    echo_json,
    fmt,
    json_option,
    plot_option,
    save_figure,
    table,
)

__all__ = ["Problem", "lr_find", "make_problem", "train"]

_MODELS = ("logistic", "softmax", "mlp")
_OPTIMIZERS = {"adam": optim.adam, "adamw": optim.adamw, "sgd": optim.sgd}
#: default peak learning rates (documented in --help).
DEFAULT_LR = {"adam": 0.01, "adamw": 0.01, "sgd": 0.1}
#: lr-find's blow-up test: the smoothed loss above this many times its lowest value.
DIVERGE_FACTOR = 4.0


@dataclass
class Problem:
    """A model and its loss on a standardized train/test split of a bundled data set."""

    model: ml.MLP
    loss: object
    train: tuple
    test: tuple
    task: str
    n_classes: int | None
    x_scaler: ml.Standardizer
    y_mean: float = 0.0
    y_scale: float = 1.0

    def outputs(self, params, X) -> np.ndarray:
        return np.asarray(self.model(params, X))

    def score(self, params, data) -> float:
        """Accuracy (classification) or R^2 (regression) on ``data = (X, y)``."""
        X, y = data
        out = self.outputs(params, X)
        if self.task == "regression":
            resid = y - out[:, 0]
            return float(1.0 - np.sum(resid**2) / np.sum((y - y.mean()) ** 2))
        pred = (out[:, 0] > 0).astype(np.int64) if out.shape[1] == 1 else np.argmax(out, axis=1)
        return float(np.mean(pred == y))


def make_problem(
    model: str, dataset: str, *, hidden: int = 128, test_size: float = 0.25, seed: int = 0
) -> Problem:
    """Load ``dataset``, split and standardize it, and build ``model`` with its loss.

    ``logistic`` is one linear unit with the binary cross-entropy (two-class data only),
    ``softmax`` a linear layer with the softmax cross-entropy, ``mlp`` one ReLU hidden
    layer of ``hidden`` units (softmax cross-entropy, or the mean squared error on the
    standardized target for a regression data set).

    Examples
    --------
    >>> p = make_problem("softmax", "iris")
    >>> p.model.sizes, p.task, p.train[0].shape
    ((4, 3), 'classification', (112, 4))
    """
    data = ml.datasets.load(dataset)
    classification = data.task == "classification"
    if model in ("logistic", "softmax") and not classification:
        raise click.BadParameter(
            f"{model} is a classifier and {dataset} is a regression data set; use the mlp model",
            param_hint="MODEL",
        )
    X_tr, X_te, y_tr, y_te = ml.train_test_split(
        data.X, data.y, test_size=test_size, seed=seed, stratify=True if classification else None
    )
    scaler = ml.Standardizer().fit(X_tr)
    X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    d = X_tr.shape[1]
    if not classification:
        y_mean, y_scale = float(y_tr.mean()), float(y_tr.std()) or 1.0
        y_tr, y_te = (y_tr - y_mean) / y_scale, (y_te - y_mean) / y_scale  # R^2 is unchanged by this
        net = ml.MLP([d, hidden, 1], activation="relu", seed=seed)
        return Problem(
            net,
            lambda p, b: ml.mse(net(p, b[0])[:, 0], b[1]),
            (X_tr, y_tr),
            (X_te, y_te),
            "regression",
            None,
            scaler,
            y_mean,
            y_scale,
        )
    k = len(data.target_names) if data.target_names else int(data.y.max()) + 1
    if model == "logistic":
        if k != 2:
            raise click.BadParameter(
                f"logistic is a two-class model and {dataset} has {k} classes; use softmax or mlp",
                param_hint="MODEL",
            )
        net = ml.MLP([d, 1], seed=seed)
        targets = (y_tr.astype(np.float64), y_te.astype(np.float64))

        def loss(p, b):
            return ml.binary_cross_entropy_with_logits(net(p, b[0])[:, 0], b[1])

        return Problem(net, loss, (X_tr, targets[0]), (X_te, targets[1]), "classification", 2, scaler)
    net = ml.MLP([d, k] if model == "softmax" else [d, hidden, k], activation="relu", seed=seed)
    return Problem(
        net,
        lambda p, b: ml.cross_entropy(net(p, b[0]), b[1]),
        (X_tr, y_tr),
        (X_te, y_te),
        "classification",
        k,
        scaler,
    )


def _learning_rate(schedule: str, lr: float, total_steps: int):
    if schedule == "cosine":
        return optim.cosine_decay(lr, total_steps)
    if schedule == "warmup_cosine" and total_steps > 1:
        return optim.warmup_cosine(lr, min(max(1, total_steps // 20), total_steps - 1), total_steps)
    return lr


def _flat_params(params) -> dict[str, np.ndarray]:
    return {f"layer{i}_{k}": np.asarray(v) for i, layer in enumerate(params) for k, v in layer.items()}


_common_model_options = [
    click.argument("model", type=click.Choice(_MODELS), metavar="MODEL"),
    click.option(
        "--dataset", required=True, type=click.Choice(sorted(ml.datasets.names())), help="Bundled data set."
    ),
    click.option(
        "--hidden", type=click.IntRange(min=1), default=128, show_default=True, help="mlp hidden units."
    ),
    click.option(
        "--batch-size", type=click.IntRange(min=1), default=32, show_default=True, help="Mini-batch size."
    ),
    click.option(
        "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Split, init and shuffling."
    ),
    click.option(
        "--test-size",
        type=FiniteFloat(0, 1, min_open=True, max_open=True),
        default=0.25,
        show_default=True,
    ),
]


def _model_options(f):
    for deco in reversed(_common_model_options):
        f = deco(f)
    return f


@click.command(
    "train",
    cls=SlopesCommand,
    epilog="""\b
Examples:
  slopes train logistic --dataset breast_cancer --epochs 20
  slopes train softmax --dataset iris --optimizer sgd --lr 0.1 --epochs 50
  slopes train mlp --dataset digits --hidden 128 --schedule warmup_cosine --epochs 10 --save runs/digits
  slopes train mlp --dataset diabetes --epochs 100 --json

\b
Default --lr: adam and adamw 0.01, sgd 0.1 (the peak of a schedule).
Models: logistic (two classes), softmax (linear, any classes), mlp (one ReLU hidden layer;
classification or regression). Features are standardized with the training split's statistics.""",
)
@_model_options
@click.option("--optimizer", type=click.Choice(tuple(_OPTIMIZERS)), default="adam", show_default=True)
@click.option(
    "--schedule",
    type=click.Choice(("constant", "cosine", "warmup_cosine")),
    default="constant",
    show_default=True,
)
@click.option("--epochs", type=click.IntRange(min=1), default=20, show_default=True)
@click.option(
    "--lr", type=FiniteFloat(min=0, min_open=True), help="Peak learning rate (default: see below)."
)
@click.option("--save", "save_dir", metavar="DIR", help="Write loss.png, params.npz and metrics.json to DIR.")
@json_option
@debug_option
def train(
    model, dataset, hidden, batch_size, seed, test_size, optimizer, schedule, epochs, lr, save_dir, as_json
):
    """Train MODEL on a bundled data set and report train/test accuracy (or R^2).

    Training is sl.ml.fit (mini-batches, jitted gradient) with a progress bar on a
    terminal. With --save DIR: the loss curve (loss.png), the parameters and the
    standardization (params.npz: layer<i>_W, layer<i>_b, x_mean, x_scale and, for
    regression, y_mean, y_scale) and the metrics (metrics.json).
    """
    prob = make_problem(model, dataset, hidden=hidden, test_size=test_size, seed=seed)
    lr = DEFAULT_LR[optimizer] if lr is None else lr
    n_train = prob.train[0].shape[0]
    batch_size = min(batch_size, n_train)
    total_steps = epochs * math.ceil(n_train / batch_size)
    opt = _OPTIMIZERS[optimizer](_learning_rate(schedule, lr, total_steps))
    res = ml.fit(
        prob.loss,
        prob.model.init(),
        prob.train,
        optimizer=opt,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        progress=sys.stderr.isatty(),
    )
    metric = "accuracy" if prob.task == "classification" else "r2"
    epoch_loss = res.history.epoch["loss"]
    out = {
        "model": model,
        "dataset": dataset,
        "task": prob.task,
        "optimizer": optimizer,
        "schedule": schedule,
        "lr": lr,
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": seed,
        "steps": int(res.step),
        "final_loss": float(epoch_loss[-1]) if len(epoch_loss) else math.nan,
        "metric": metric,
        f"train_{metric}": prob.score(res.params, prob.train),
        f"test_{metric}": prob.score(res.params, prob.test),
        "n_train": n_train,
        "n_test": int(prob.test[0].shape[0]),
        "diverged": bool(res.diverged),
        "message": res.message,
        "time": float(res.elapsed),
    }
    if save_dir is not None:
        out["saved"] = _save(Path(save_dir), prob, res, out)
    if as_json:
        echo_json(out)
        return
    click.echo(
        f"{model} on {dataset} ({out['n_train']} train / {out['n_test']} test), {optimizer} lr={fmt(lr, 4)} "
        f"{schedule}, {epochs} epochs of batch {batch_size}: {res.message} in {res.elapsed:.3g} s"
    )
    rows = [
        ["final train loss", fmt(out["final_loss"], 6)],
        [f"train {metric}", fmt(out[f"train_{metric}"], 4)],
        [f"test {metric}", fmt(out[f"test_{metric}"], 4)],
    ]
    click.echo(table(rows, ["metric", "value"]))
    if save_dir is not None:
        click.echo("wrote " + ", ".join(out["saved"].values()))


def _save(out_dir: Path, prob: Problem, res, summary: dict) -> dict[str, str]:
    import json

    from .. import viz
    from ._common import json_ready

    out_dir.mkdir(parents=True, exist_ok=True)
    arrays = _flat_params(res.params)
    arrays.update(x_mean=prob.x_scaler.mean_, x_scale=prob.x_scaler.scale_)
    if prob.task == "regression":
        arrays.update(y_mean=np.float64(prob.y_mean), y_scale=np.float64(prob.y_scale))
    params_path = out_dir / "params.npz"
    np.savez(params_path, **arrays)
    metrics_path = out_dir / "metrics.json"
    metrics_path.write_text(json.dumps(json_ready(summary), indent=2) + "\n")
    fig = viz.loss_curves({f"{summary['model']} ({summary['optimizer']})": res}, log=True, x="step")
    loss_path = save_figure(fig, str(out_dir / "loss.png"))
    return {"loss_curve": loss_path, "params": str(params_path), "metrics": str(metrics_path)}


@click.command(
    "lr-find",
    cls=SlopesCommand,
    epilog="""\b
Examples:
  slopes lr-find softmax --dataset iris
  slopes lr-find mlp --dataset digits --optimizer adam --plot lr.png
  slopes lr-find logistic --dataset breast_cancer --min-lr 1e-5 --max-lr 10 --steps 200 --json""",
)
@_model_options
@click.option("--optimizer", type=click.Choice(tuple(_OPTIMIZERS)), default="sgd", show_default=True)
@click.option("--min-lr", type=FiniteFloat(min=0, min_open=True), default=1e-6, show_default=True)
@click.option("--max-lr", type=FiniteFloat(min=0, min_open=True), default=10.0, show_default=True)
@click.option(
    "--steps", type=click.IntRange(min=2), default=100, show_default=True, help="Steps of the sweep."
)
@plot_option
@json_option
@debug_option
def lr_find(
    model, dataset, hidden, batch_size, seed, test_size, optimizer, min_lr, max_lr, steps, plot, as_json
):
    """Learning-rate range test of MODEL on a data set: the loss as the learning rate grows.

    One optimizer step per mini-batch with the learning rate growing geometrically from
    --min-lr to --max-lr; the suggestion is the learning rate at the minimum of the
    smoothed loss divided by 10 (sl.ml.lr_find). --plot draws loss against learning rate.
    The rule needs the loss to blow up within the sweep: if it never does, a warning on
    stderr says the suggestion is only a guess (raise --max-lr or --steps).
    """
    if not min_lr < max_lr:
        raise click.BadParameter(
            f"need --min-lr < --max-lr, got {min_lr} and {max_lr}", param_hint="--min-lr"
        )
    prob = make_problem(model, dataset, hidden=hidden, test_size=test_size, seed=seed)
    t0 = time.perf_counter()
    res = ml.lr_find(
        prob.loss,
        prob.model.init(),
        prob.train,
        optimizer_fn=_OPTIMIZERS[optimizer],
        min_lr=min_lr,
        max_lr=max_lr,
        num_steps=steps,
        batch_size=min(batch_size, prob.train[0].shape[0]),
        seed=seed,
        diverge_factor=DIVERGE_FACTOR,
    )
    out = {
        "model": model,
        "dataset": dataset,
        "optimizer": optimizer,
        "suggestion": res.suggestion,
        "lr_min": res.lr_min,
        "stopped_early": res.stopped_early,
        "diverged": res.diverged,
        "lrs": res.lrs,
        "losses": res.losses,
        "smoothed": res.smoothed,
        "time": time.perf_counter() - t0,
    }
    if plot is not None:
        from .. import viz

        out["plot"] = save_figure(viz.lr_range_test(res), plot)
    if as_json:
        echo_json(out)
    else:
        click.echo(
            f"lr range test of {model} on {dataset} with {optimizer}: {len(res.lrs)} steps from "
            f"{fmt(min_lr, 3)} to {fmt(res.lrs[-1] if len(res.lrs) else max_lr, 3)}"
            + (" (stopped: the loss blew up)" if res.stopped_early else "")
        )
        click.echo(f"lowest smoothed loss at lr = {fmt(res.lr_min, 4)}")
        click.echo(f"suggested learning rate: {fmt(res.suggestion, 4)}")
        if plot is not None:
            click.echo(f"figure written to {out['plot']}")
    if not res.diverged:  # the min/10 rule assumes the sweep reached the blow-up
        click.echo(
            f"warning: the loss never blew up between {fmt(min_lr, 3)} and {fmt(max_lr, 3)}, so the "
            "suggestion is only a guess (the best rate may lie beyond); raise --max-lr or --steps",
            err=True,
        )
