"""Replace a file all at once: the old content or the new one, never a mix.

:func:`atomic_write` writes to a temporary file beside the target, flushes and fsyncs
it, renames it over the target (``os.replace``, atomic on POSIX and Windows) and
fsyncs the directory, so that a process killed, or a machine losing power, at any
moment leaves either the previous file or the complete new one.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat

__all__ = ["atomic_write", "remove_stale_temporaries"]

_TOKEN_HEX = 8  # random hex digits in a temporary file's name


def _temporary_pattern(name: str) -> re.Pattern:
    return re.compile(rf"\.{re.escape(name)}\.[0-9a-f]{{{_TOKEN_HEX}}}\.tmp")


def remove_stale_temporaries(path) -> list[str]:
    """Delete the temporary files that writers of ``path`` killed mid-write left behind.

    They are named ``.<name>.<8 hex digits>.tmp`` beside ``path``; nothing else is
    touched. Returns the paths removed. Only one process should write a given file at a
    time (a second writer's temporary file would be taken for a stale one).

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     open(os.path.join(d, ".s.npz.0123abcd.tmp"), "wb").close()
    ...     open(os.path.join(d, "s.npz"), "wb").close()
    ...     gone = remove_stale_temporaries(os.path.join(d, "s.npz"))
    ...     [os.path.basename(p) for p in gone], sorted(os.listdir(d))
    (['.s.npz.0123abcd.tmp'], ['s.npz'])
    """
    folder, name = os.path.split(os.path.abspath(os.fspath(path)))
    pattern = _temporary_pattern(name)
    removed = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.listdir(folder):
            if pattern.fullmatch(entry):
                stale = os.path.join(folder, entry)
                with contextlib.suppress(FileNotFoundError):
                    os.remove(stale)
                    removed.append(stale)
    return removed


def _fsync_directory(folder: str) -> None:
    """Make a rename in ``folder`` durable (POSIX; Windows cannot open a directory)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _create_temporary(folder: str, name: str) -> tuple[int, str]:
    # os.open with mode 0o666 lets the umask decide permissions, as a plain open() would
    # (tempfile.mkstemp would make the saved file private to its owner)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(folder, f".{name}.{secrets.token_hex(_TOKEN_HEX // 2)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


@contextlib.contextmanager
def atomic_write(path, *, previous=None):
    """Open a binary file whose content replaces ``path`` only once the block completes.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write, under exactly this name (nothing is appended).
    previous : str or os.PathLike, optional
        Keep the file ``path`` held until now under this name (replacing what it held):
        the last good version stays on disk beside the new one.

    Yields
    ------
    file
        Write the new content to it. If the block raises, the temporary file is removed
        and ``path`` is untouched. Stale temporary files of ``path`` (from a writer that
        was killed) are removed first.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "state.bin")
    ...     with atomic_write(p) as f:
    ...         _ = f.write(b"one")
    ...     try:
    ...         with atomic_write(p) as f:
    ...             _ = f.write(b"tw")
    ...             raise OSError("disk full")
    ...     except OSError:
    ...         pass
    ...     with atomic_write(p, previous=p + ".prev") as f:
    ...         _ = f.write(b"three")
    ...     open(p, "rb").read(), open(p + ".prev", "rb").read(), sorted(os.listdir(d))
    (b'three', b'one', ['state.bin', 'state.bin.prev'])
    """
    path = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot write {path}: there is no folder {folder} (create it first)")
    remove_stale_temporaries(path)
    fd, tmp = _create_temporary(folder, name)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))  # an overwritten file keeps its permissions
        if previous is not None and os.path.exists(path):
            os.replace(path, os.fspath(previous))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    _fsync_directory(folder)
