"""Checkpoints of a :func:`slopes.ml.fit` run: everything needed to resume it bit for bit.

One file, ``<checkpoint_dir>/checkpoint.npz``, always the latest: it is written to a
temporary file in the same directory and moved into place with ``os.replace``, so a run
killed while saving leaves the previous checkpoint intact. Inside, the parameters, the
optimizer state and the best parameters are each an ``.npz`` written by
:func:`slopes.optim.save_state` (stored as a byte blob, so they load back exactly with
the structure and dtypes of a template); the history is one array per field; the rest
(step, epoch, position in the epoch, the shuffling RNG state, early-stopping and
loss-scale counters) is a JSON string. Nothing is pickled.

Examples
--------
>>> import tempfile
>>> from slopes.ml.checkpoint import save_checkpoint, load_checkpoint
>>> p = {"w": np.array([1.0, 2.0])}
>>> with tempfile.TemporaryDirectory() as d:
...     _ = save_checkpoint(d, params=p, state=(), best_params=p, history={"step/loss": np.ones(3)},
...                     meta={"step": 3})
...     ck = load_checkpoint(d, params_like=p, state_like=())
>>> ck["meta"]["step"], ck["params"]["w"].tolist(), ck["history"]["step/loss"].tolist()
(3, [1.0, 2.0], [1.0, 1.0, 1.0])
"""

from __future__ import annotations

import io
import json
import os
import tempfile

import numpy as np

from ..optim.state_io import load_state, save_state

__all__ = ["save_checkpoint", "load_checkpoint", "checkpoint_path"]

_FILE = "checkpoint.npz"
_PARTS = ("params", "state", "best_params")


def checkpoint_path(checkpoint_dir) -> str:
    """The path of the (latest) checkpoint file in ``checkpoint_dir``."""
    return os.path.join(os.fspath(checkpoint_dir), _FILE)


def _blob(tree) -> np.ndarray:
    buf = io.BytesIO()
    save_state(buf, tree)
    return np.frombuffer(buf.getvalue(), dtype=np.uint8)


def save_checkpoint(checkpoint_dir, *, params, state, best_params, history: dict, meta: dict) -> str:
    """Atomically write a checkpoint; returns its path.

    ``history`` maps names to 1-d arrays; ``meta`` must be JSON-serializable.
    """
    os.makedirs(checkpoint_dir, exist_ok=True)
    arrays = {f"part/{k}": _blob(v) for k, v in zip(_PARTS, (params, state, best_params))}
    arrays.update({f"history/{k}": np.asarray(v) for k, v in history.items()})
    arrays["meta"] = np.array(json.dumps(meta))
    final = checkpoint_path(checkpoint_dir)
    fd, tmp = tempfile.mkstemp(dir=os.fspath(checkpoint_dir), prefix=".checkpoint-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return final


def load_checkpoint(checkpoint_dir, *, params_like, state_like) -> dict | None:
    """Read the checkpoint in ``checkpoint_dir`` (None when there is none).

    ``params_like`` and ``state_like`` give the structures to restore (the initial
    params and ``optimizer.init(params)``); a checkpoint of a different model or
    optimizer raises ``ValueError``. Returns a dict with ``params``, ``state``,
    ``best_params``, ``history`` (name -> array) and ``meta``.
    """
    path = checkpoint_path(checkpoint_dir)
    if not os.path.exists(path):
        return None
    likes = {"params": params_like, "state": state_like, "best_params": params_like}
    out = {}
    with np.load(path, allow_pickle=False) as data:
        for k in _PARTS:
            try:
                out[k] = load_state(io.BytesIO(data[f"part/{k}"].tobytes()), like=likes[k])
            except ValueError as e:
                raise ValueError(
                    f"resume: the checkpoint {path} does not match this run's {k} ({e}); "
                    "use a new checkpoint_dir or resume=False"
                ) from None
        out["history"] = {k[len("history/") :]: data[k] for k in data.files if k.startswith("history/")}
        out["meta"] = json.loads(str(data["meta"]))
    return out
