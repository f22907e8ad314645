"""Checkpoints of a :func:`slopes.ml.fit` run: everything needed to resume it bit for bit.

Two files in ``checkpoint_dir``: ``checkpoint.npz``, the latest, and ``checkpoint.prev.npz``,
the one before it. A new checkpoint is written to a temporary file, fsynced, and only
then takes the latest's name while the latest becomes the previous one
(:func:`slopes._io.atomic_write`): a run killed at any moment leaves at least one complete
checkpoint, at most one checkpoint interval old. Loading verifies every byte; if the
latest is damaged (empty, truncated, a flipped bit, a missing member) the run resumes from
the previous one with a warning, and the damaged file is kept as ``checkpoint.damaged.npz``.

Inside, the parameters, the optimizer state and the best parameters are each an ``.npz``
written by :func:`slopes.optim.save_state` (stored as a byte blob, so they load back
exactly with the structure and dtypes of a template); the history is one array per field;
the rest (step, epoch, position in the epoch, the shuffling RNG state, early-stopping and
loss-scale counters) is a JSON string, checked for types and ranges on loading, beside
the run's fingerprint (:func:`run_fingerprint`): a checkpoint of other data, batch size,
seed or model is refused, never resumed silently. Nothing is pickled.

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

import hashlib
import io
import json
import math
import os
import warnings

import numpy as np

from .._io import DamagedFileError, atomic_write, read_npz, remove_stale_temporaries
from ..core.pytree import leaves
from ..distributed import is_dask
from ..optim.state_io import load_state, save_state, state_paths

__all__ = [
    "save_checkpoint",
    "load_checkpoint",
    "checkpoint_path",
    "previous_checkpoint_path",
    "prepare_checkpoint_dir",
    "run_fingerprint",
]

_LATEST = "checkpoint.npz"
_PREVIOUS = "checkpoint.prev.npz"
_DAMAGED = "checkpoint.damaged.npz"
_PARTS = ("params", "state", "best_params")
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def checkpoint_path(checkpoint_dir) -> str:
    """The path of the latest checkpoint file in ``checkpoint_dir``.

    Examples
    --------
    >>> os.path.basename(checkpoint_path("runs/a"))
    'checkpoint.npz'
    """
    return os.path.join(os.fspath(checkpoint_dir), _LATEST)


def previous_checkpoint_path(checkpoint_dir) -> str:
    """The path of the checkpoint before the latest, kept until a newer one is complete.

    Examples
    --------
    >>> os.path.basename(previous_checkpoint_path("runs/a"))
    'checkpoint.prev.npz'
    """
    return os.path.join(os.fspath(checkpoint_dir), _PREVIOUS)


def prepare_checkpoint_dir(checkpoint_dir) -> list[str]:
    """Create ``checkpoint_dir`` if needed and remove what a killed run left half-written.

    Returns the temporary files removed.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     open(os.path.join(d, ".checkpoint.npz.0badc0de.tmp"), "wb").close()
    ...     removed = prepare_checkpoint_dir(d)
    ...     len(removed), os.listdir(d)
    (1, [])
    """
    os.makedirs(checkpoint_dir, exist_ok=True)
    return remove_stale_temporaries(checkpoint_path(checkpoint_dir))


def run_fingerprint(
    data, params, *, batch_size: int, shuffle: bool, seed, precision: str | None = None
) -> dict:
    """What a checkpoint must share with the run that resumes it, JSON-ready.

    ``data``: a hash of every array's dtype, shape and bytes (of a dask array: its chunks and
    the token dask names it by, so nothing is computed); ``batch_size``, ``shuffle``,
    ``seed`` (an int seed; None for a Generator or fresh entropy, whose state the
    checkpoint carries); ``model``: each parameter's path, shape and dtype;
    ``precision``: the mixed-precision dtype (None: off).

    Examples
    --------
    >>> X = np.ones((4, 2)); p = {"w": np.zeros(2)}
    >>> a = run_fingerprint((X, X[:, 0]), p, batch_size=2, shuffle=True, seed=0)
    >>> b = run_fingerprint((X + 1e-9, X[:, 0]), p, batch_size=2, shuffle=True, seed=0)
    >>> a["data"] == b["data"], a["model"]
    (False, [['w', [2], 'float64']])
    """
    digest = hashlib.blake2b(digest_size=16)
    for x in leaves(data):
        if is_dask(x):  # its name is dask's token of its graph: the data it computes, unread
            digest.update(f"dask:{x.dtype.str}{x.shape}{x.chunks}:{x.name};".encode())
            continue
        a = np.ascontiguousarray(x)
        digest.update(f"{a.dtype.str}{a.shape};".encode())
        digest.update(repr(a.tolist()).encode() if a.dtype.hasobject else a.reshape(-1).view(np.uint8))
    model = [[path, list(np.shape(v)), np.asarray(v).dtype.name] for path, v in state_paths(params)]
    return {
        "data": digest.hexdigest(),
        "batch_size": int(batch_size),
        "shuffle": bool(shuffle),
        "seed": int(seed) if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) else None,
        "model": model,
        "precision": precision,
    }


def _blob(tree) -> np.ndarray:
    buf = io.BytesIO()
    save_state(buf, tree)
    return np.frombuffer(buf.getvalue(), dtype=np.uint8)


def save_checkpoint(
    checkpoint_dir, *, params, state, best_params, history: dict, meta: dict, fingerprint: dict | None = None
) -> str:
    """Write a checkpoint atomically, keeping the one before as the previous; returns its path.

    ``history`` maps names to 1-d arrays; ``meta`` and ``fingerprint`` (see
    :func:`run_fingerprint`) must be JSON-serializable.

    Examples
    --------
    >>> import tempfile
    >>> p = {"w": np.zeros(2)}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     for step in (1, 2, 3):
    ...         _ = save_checkpoint(d, params=p, state=(), best_params=p, history={}, meta={"step": step})
    ...     sorted(os.listdir(d))
    ['checkpoint.npz', 'checkpoint.prev.npz']
    """
    os.makedirs(checkpoint_dir, exist_ok=True)
    arrays = {f"part/{k}": _blob(v) for k, v in zip(_PARTS, (params, state, best_params))}
    arrays.update({f"history/{k}": np.asarray(v) for k, v in history.items()})
    arrays["meta"] = np.array(json.dumps({**meta, "history_fields": sorted(history)}))
    arrays["fingerprint"] = np.array(json.dumps(fingerprint))
    final = checkpoint_path(checkpoint_dir)
    with atomic_write(final, previous=previous_checkpoint_path(checkpoint_dir)) as f:
        np.savez(f, **arrays)
    return final


def load_checkpoint(
    checkpoint_dir, *, params_like, state_like, fingerprint: dict | None = None, batches_per_epoch=None
) -> dict | None:
    """Read the latest intact checkpoint in ``checkpoint_dir`` (None when there is none).

    ``params_like`` and ``state_like`` give the structures to restore (the initial
    params and ``optimizer.init(params)``). With ``fingerprint`` (see
    :func:`run_fingerprint`), a checkpoint written for another run raises ``ValueError``
    saying what differs; with ``batches_per_epoch``, the position in the run is checked
    against it. A damaged latest checkpoint is set aside as ``checkpoint.damaged.npz``
    and the previous one is used, with a ``RuntimeWarning``; if none is intact, a
    ``ValueError`` names each file and what is wrong with it.

    Returns
    -------
    dict or None
        ``params``, ``state``, ``best_params``, ``history`` (name -> array), ``meta``
        and ``path`` (the file read).

    Examples
    --------
    >>> import tempfile
    >>> p = {"w": np.zeros(2)}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = save_checkpoint(d, params=p, state=(), best_params=p, history={}, meta={"step": 1})
    ...     _ = save_checkpoint(d, params=p, state=(), best_params=p, history={}, meta={"step": 2})
    ...     _ = open(checkpoint_path(d), "wb").close()       # the latest is emptied
    ...     with warnings.catch_warnings(record=True) as w:
    ...         warnings.simplefilter("always")
    ...         ck = load_checkpoint(d, params_like=p, state_like=())
    >>> ck["meta"]["step"], "is damaged" in str(w[0].message)
    (1, True)
    """
    candidates = (checkpoint_path(checkpoint_dir), previous_checkpoint_path(checkpoint_dir))
    candidates = [p for p in candidates if os.path.exists(p)]
    if not candidates:
        return None
    likes = {"params": params_like, "state": state_like, "best_params": params_like}
    damaged = []
    for path in candidates:
        try:
            ck = _read(path, likes, fingerprint, batches_per_epoch)
        except DamagedFileError as e:
            damaged.append((path, e.reason))
            continue
        if damaged:
            _set_aside(checkpoint_dir, damaged[0], path, ck["meta"].get("step"))
        return ck
    raise ValueError(_all_damaged_message(checkpoint_dir, damaged))


def _set_aside(checkpoint_dir, damaged, intact: str, step) -> None:
    bad, reason = damaged
    kept = os.path.join(os.fspath(checkpoint_dir), _DAMAGED)
    os.replace(bad, kept)  # out of the rotation, so the intact one stays the previous checkpoint
    warnings.warn(
        f"checkpoint {bad} is damaged ({reason}); resuming from the previous checkpoint {intact}, "
        f"which is intact (step {step}); the damaged file is kept as {kept}",
        RuntimeWarning,
        stacklevel=3,
    )


def _all_damaged_message(checkpoint_dir, damaged) -> str:
    (path, reason), rest = damaged[0], damaged[1:]
    text = f"resume: checkpoint {path} is damaged ({reason})"
    if rest:
        text += f"; the previous checkpoint {rest[0][0]} is damaged too ({rest[0][1]})"
    elif path == checkpoint_path(checkpoint_dir):
        text += "; there is no previous checkpoint"
    return (
        f"{text}. Nothing intact to resume: delete the checkpoint files in {os.fspath(checkpoint_dir)} "
        "(or use another checkpoint_dir) to start over"
    )


def _read(path, likes, fingerprint, batches_per_epoch) -> dict:
    """One checkpoint file, checked; DamagedFileError for damage, ValueError for another run's."""
    arrays = read_npz(path)
    missing = [m for m in ("meta", "fingerprint", *(f"part/{k}" for k in _PARTS)) if m not in arrays]
    if missing:
        raise DamagedFileError(f"missing member {', '.join(missing)}")
    if fingerprint is not None:
        _check_fingerprint(path, _json(arrays["fingerprint"], "fingerprint"), fingerprint)
    out = {"path": path, "meta": _json(arrays["meta"], "meta")}
    for k in _PARTS:
        out[k] = _part(path, k, arrays[f"part/{k}"], likes[k])
    out["history"] = {k[len("history/") :]: v for k, v in arrays.items() if k.startswith("history/")}
    _check_history(out["meta"], out["history"])
    if batches_per_epoch is not None:
        _check_position(out["meta"], out["history"], batches_per_epoch)
    return out


def _json(arr: np.ndarray, what: str):
    if arr.dtype.kind != "U" or arr.shape != ():
        raise DamagedFileError(f"{what} is a {arr.dtype} array of shape {arr.shape}, not a JSON string")
    try:
        return json.loads(str(arr))
    except ValueError as e:
        raise DamagedFileError(f"{what} is not valid JSON ({e})") from None


def _part(path, name, blob: np.ndarray, like):
    if blob.dtype != np.uint8 or blob.ndim != 1:
        raise DamagedFileError(f"part {name!r} is a {blob.dtype} array of shape {blob.shape}, not bytes")
    try:
        return load_state(io.BytesIO(blob.tobytes()), like=like)
    except DamagedFileError as e:
        raise DamagedFileError(f"part {name!r}: {e.reason}") from None
    except ValueError as e:
        raise ValueError(
            f"resume: the checkpoint {path} does not match this run's {name} ({e}); "
            "use a new checkpoint_dir or resume=False"
        ) from None


def _check_fingerprint(path, stored, expected: dict) -> None:
    expected = json.loads(json.dumps(expected))  # compared as stored: lists, not tuples
    if not isinstance(stored, dict):
        raise ValueError(
            f"resume: checkpoint {path} does not record which data, batch size and model it was "
            "written for; start over with another checkpoint_dir (or delete the file)"
        )
    named = {"data": "other data", "model": "another model (parameter shapes or dtypes)"}
    differs = [
        named.get(key) or f"{key} {stored.get(key)!r} there, {value!r} here"
        for key, value in expected.items()
        if stored.get(key) != value
    ]
    if differs:
        raise ValueError(
            f"resume: checkpoint {path} was written for another run ({'; '.join(differs)}); resume with "
            "the same data and settings, or start over with another checkpoint_dir (or delete the file)"
        )


def _int_at_least(meta: dict, key: str, low: int = 0) -> int:
    v = meta.get(key)
    if type(v) is not int or v < low:
        raise DamagedFileError(f"meta {key!r} must be an integer >= {low}, got {v!r}")
    return v


def _check_history(meta, history: dict) -> None:
    if not isinstance(meta, dict):
        raise DamagedFileError(f"meta must be a JSON object, got {type(meta).__name__}")
    if meta.get("history_fields") != sorted(history):
        recorded = meta.get("history_fields")
        raise DamagedFileError(f"history fields {sorted(history)} differ from those recorded {recorded}")
    for name, column in history.items():
        if column.ndim != 1 or column.dtype.kind not in "biuf":
            raise DamagedFileError(f"history {name!r} is a {column.dtype} array of shape {column.shape}")


def _check_position(meta: dict, history: dict, batches_per_epoch: int) -> None:
    """Types and ranges of fit's own fields, and how they must agree."""
    step, epoch, pos = (_int_at_least(meta, k) for k in ("step", "epoch", "pos"))
    wait = _int_at_least(meta, "tracker_wait")
    best_epoch = _int_at_least(meta, "best_epoch", low=-1)
    if pos >= batches_per_epoch or step != epoch * batches_per_epoch + pos:
        raise DamagedFileError(
            f"meta step {step}, epoch {epoch}, position {pos} disagree with "
            f"{batches_per_epoch} batches per epoch"
        )
    if best_epoch > epoch or wait > epoch:
        raise DamagedFileError(f"meta best_epoch {best_epoch} / tracker_wait {wait} beyond epoch {epoch}")
    best = meta.get("tracker_best")
    if isinstance(best, bool) or not isinstance(best, (int, float)) or math.isnan(best):
        raise DamagedFileError(f"meta 'tracker_best' must be a number, got {best!r}")
    _check_rng(meta.get("rng"))
    scale = meta.get("loss_scale")
    if scale is not None:
        ok = isinstance(scale, dict) and isinstance(scale.get("scale"), (int, float)) and scale["scale"] > 0
        if not ok or not math.isfinite(scale["scale"]):
            raise DamagedFileError(f"meta 'loss_scale' must hold a positive finite scale, got {scale!r}")
        _int_at_least(scale, "good_steps")
        _int_at_least(scale, "skipped")
    steps = {len(v) for k, v in history.items() if k.startswith("step/")}
    epochs = {len(v) for k, v in history.items() if k.startswith("epoch/")}
    if steps - {step} or len(epochs) > 1 or max(epochs, default=0) > epoch + 1:
        raise DamagedFileError(
            f"history has {sorted(steps)} step rows and {sorted(epochs)} epoch rows "
            f"at step {step}, epoch {epoch}"
        )


def _check_rng(state) -> None:
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in _BIT_GENERATORS:
        raise DamagedFileError(f"meta 'rng' is not the state of a NumPy bit generator: {state!r}"[:200])
    try:
        getattr(np.random, name)().state = state
    except (TypeError, ValueError, KeyError) as e:
        raise DamagedFileError(f"meta 'rng' is not a valid {name} state ({e})") from None

