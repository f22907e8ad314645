"""Save and load optimizer states as ``.npz`` files keyed by pytree path.

Every leaf of the state is stored under its path: NamedTuple fields by name, dict
entries by key, list and tuple entries by index, joined by ``/`` (for example
``states/1/mu/layer/0/w`` for the first moment of ``params["layer"][0]["w"]`` in
the second optimizer of a chain). Scalars (``count``, ``lr``, ...) are stored as
0-d arrays and come back as the Python type of the corresponding leaf of ``like``,
arrays with ``like``'s dtype and shape; values round-trip exactly, so a run
resumed from a saved state continues bit for bit.

Saving replaces the file atomically (:func:`slopes._io.atomic_write`): a save that fails
or is killed half way leaves the previous file intact. Loading reads and verifies every
byte (:func:`slopes._io.read_npz`), so a damaged file is reported as such.
"""

from __future__ import annotations

import os

import numpy as np

from .._io import DamagedFileError, atomic_write, read_npz
from ..core.pytree import _dict_keys, flatten, unflatten

__all__ = ["save_state", "load_state", "state_paths"]


def state_paths(state):
    """``(path, leaf)`` pairs of a state, in the order of ``flatten``.

    Examples
    --------
    >>> from slopes.optim import adam, state_paths
    >>> s = adam(0.1).init({"w": np.zeros(2)})
    >>> [p for p, _ in state_paths(s)]
    ['count', 'lr', 'mu/w', 'nu/w']
    """
    out = []

    def walk(t, prefix):
        def join(k):
            return f"{prefix}/{k}" if prefix else str(k)

        if isinstance(t, dict):
            for k in _dict_keys(t):
                walk(t[k], join(k))
        elif isinstance(t, tuple) and hasattr(t, "_fields"):
            for k, v in zip(t._fields, t):
                walk(v, join(k))
        elif isinstance(t, (list, tuple)):
            for i, v in enumerate(t):
                walk(v, join(i))
        elif t is not None:
            out.append((prefix or "_", t))

    walk(state, "")
    return out


def save_state(path, state) -> None:
    """Write an optimizer state (any pytree of arrays and scalars) in ``.npz`` format.

    ``path`` is used exactly as given (no ``.npz`` is appended), and replaced atomically:
    the new content is written to a temporary file beside it, flushed, fsynced and
    renamed over it, so a failed or killed save leaves the previous file as it was. A
    binary file object is written to directly.

    Examples
    --------
    >>> import os, tempfile
    >>> from slopes.optim import adam, save_state, load_state, step_count
    >>> opt = adam(0.1); x = {"w": np.ones(3)}
    >>> _, s = opt.update({"w": np.ones(3)}, opt.init(x))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_state(os.path.join(d, "opt.npz"), s)
    ...     t = load_state(os.path.join(d, "opt.npz"), like=opt.init(x))
    >>> step_count(t), np.array_equal(t.mu["w"], s.mu["w"])
    (1, True)
    """
    items = state_paths(state)
    keys = [k for k, _ in items]
    if len(set(keys)) != len(keys):
        raise ValueError("save_state: two leaves of the state have the same path")
    arrays = {k: np.asarray(v) for k, v in items}
    if hasattr(path, "write"):
        np.savez(path, **arrays)
        return
    with atomic_write(path) as f:
        np.savez(f, **arrays)


def load_state(path, like):
    """Read a state written by :func:`save_state`, with the structure of ``like``.

    ``like`` is a state of the same optimizer (e.g. ``opt.init(params)``); each of
    its leaves is looked up by path. A missing or extra path, or a shape mismatch,
    raises ``ValueError``; so does a damaged file (truncated, a flipped bit, an array
    larger than the file can hold), naming it.

    Examples
    --------
    >>> import os, tempfile
    >>> from slopes.optim import adam, save_state, load_state
    >>> s = adam(0.1).init({"w": np.ones(2)})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_state(os.path.join(d, "state.bin"), s)      # the name is kept as given
    ...     t = load_state(os.path.join(d, "state.bin"), like=s)
    ...     os.listdir(d)
    ['state.bin']
    """
    items = state_paths(like)
    _, tdef = flatten(like)
    data = _read(path)
    stored = set(data)
    wanted = [k for k, _ in items]
    missing = [k for k in wanted if k not in stored]
    extra = sorted(stored - set(wanted))
    if missing or extra:
        raise ValueError(
            f"load_state: state paths differ; missing {missing}, unexpected {extra} "
            "(a state of another optimizer or other parameters, or a damaged file)"
        )
    leaves = []
    for k, ref in items:
        arr = data[k]
        if not isinstance(ref, np.ndarray) and arr.shape != ():
            raise ValueError(f"load_state: {k!r} has shape {arr.shape}, expected a scalar")
        if isinstance(ref, (bool, np.bool_)):
            leaves.append(bool(arr))
        elif isinstance(ref, (int, np.integer)) and not isinstance(ref, np.ndarray):
            leaves.append(type(ref)(arr) if isinstance(ref, np.integer) else int(arr))
        elif isinstance(ref, (float, np.floating)) and not isinstance(ref, np.ndarray):
            leaves.append(type(ref)(arr) if isinstance(ref, np.floating) else float(arr))
        else:
            ref = np.asarray(ref)
            if arr.shape != ref.shape:
                raise ValueError(f"load_state: {k!r} has shape {arr.shape}, expected {ref.shape}")
            leaves.append(arr.astype(ref.dtype, copy=False))
    return unflatten(tdef, leaves)


def _read(path) -> dict:
    """The arrays of a state file, or a DamagedFileError (a ValueError) naming the file and the fix."""
    if hasattr(path, "read"):
        source = path
    else:
        source = os.fspath(path)
        if not os.path.exists(source):
            hint = f" ({source}.npz exists: pass that name)" if os.path.exists(source + ".npz") else ""
            raise FileNotFoundError(f"load_state: no file {source}{hint}")
    try:
        return read_npz(source)
    except DamagedFileError as e:
        raise DamagedFileError(
            e.reason,
            f"load_state: {source} is damaged ({e.reason}); it cannot be read: "
            "load a copy, or start the optimizer afresh with opt.init(params)",
        ) from None
