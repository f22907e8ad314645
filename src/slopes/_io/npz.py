"""Read an ``.npz`` file completely and verified, or say how it is damaged.

``np.load`` trusts a file: an array header may declare any size and NumPy allocates it
before reading a byte of data (a 2 MB file can ask for gigabytes), and a damaged file
surfaces as ``BadZipFile``, ``EOFError`` or ``KeyError`` from deep inside ``zipfile``.
:func:`read_npz` reads each member's ``.npy`` header first, refuses a declared size that
the zip directory and the file's own size cannot hold, then reads every byte, so that
the zip CRC-32 of every member is checked; any inconsistency raises
:class:`DamagedFileError` with the reason.
"""

from __future__ import annotations

import io
import math
import os
import struct
import zipfile
import zlib

import numpy as np
from numpy.lib import format as npy

__all__ = ["DamagedFileError", "read_npz"]

# deflate cannot expand data by more than about 1032:1; a member claiming more lies
_DEFLATE_MAX_RATIO = 1032
_CHUNK = 1 << 20  # bytes read at a time into the destination array
_HEADER_READERS = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}

# what zipfile and numpy's header parser raise on bytes that are not a valid archive
_PARSE_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    struct.error,
    NotImplementedError,
    RuntimeError,
    UnicodeDecodeError,
    OverflowError,
    SyntaxError,
)


class DamagedFileError(ValueError):
    """A file is not a complete, consistent ``.npz``; ``reason`` says what is wrong.

    ``message`` (default: the reason) is what users read: callers that know what the
    file is (an optimizer state, a checkpoint) say so and what to do.
    """

    def __init__(self, reason: str, message: str | None = None):
        super().__init__(message or reason)
        self.reason = reason


def read_npz(source) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` (a path or a binary file object), every byte verified.

    Object arrays (which would need pickle) are refused. An array is only allocated
    after its declared size has been checked against the zip directory and the size of
    the file, so a damaged or forged file costs no more memory than it could hold.

    Raises
    ------
    DamagedFileError
        Truncated, empty, not a zip, a CRC mismatch (a flipped bit), a declared size the
        file cannot hold, a malformed ``.npy`` header, or trailing bytes in a member.
    OSError
        The file cannot be opened (missing, no permission): not damage.

    Examples
    --------
    >>> buf = io.BytesIO(); np.savez(buf, a=np.arange(3.0)); data = buf.getvalue()
    >>> read_npz(io.BytesIO(data))["a"]
    array([0., 1., 2.])
    >>> try:
    ...     read_npz(io.BytesIO(data[: len(data) // 2]))
    ... except DamagedFileError as e:
    ...     print(e.reason)
    not a complete zip archive (File is not a zip file)
    """
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:  # open errors (missing file, permissions) propagate as they are
            return read_npz(f)
    size = source.seek(0, io.SEEK_END)
    source.seek(0)
    try:
        archive = zipfile.ZipFile(source)
    except _PARSE_ERRORS as e:
        raise DamagedFileError(f"not a complete zip archive ({e})") from None
    with archive:
        if min((info.header_offset for info in archive.infolist()), default=0) != 0:
            # zipfile found the directory of an archive stored inside this one: the outer one's is gone
            raise DamagedFileError("not a complete zip archive (its directory is missing: truncated?)")
        out = {}
        for info in archive.infolist():
            key = info.filename[: -len(".npy")] if info.filename.endswith(".npy") else info.filename
            try:
                out[key] = _read_member(archive, info, size)
            except DamagedFileError as e:
                raise DamagedFileError(f"member {key!r}: {e.reason}") from None
            except _PARSE_ERRORS as e:
                raise DamagedFileError(f"member {key!r}: {type(e).__name__}: {e}") from None
    return out


def _check_sizes(info: zipfile.ZipInfo, archive_size: int) -> None:
    """The zip directory's sizes of a member must fit in the archive (and deflate's limit)."""
    if info.compress_size > archive_size:
        raise DamagedFileError(f"claims {info.compress_size} bytes in a file of {archive_size}")
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            raise DamagedFileError(f"stored with {info.compress_size} bytes but claims {info.file_size}")
    elif info.file_size > _DEFLATE_MAX_RATIO * info.compress_size + 1024:
        raise DamagedFileError(f"claims {info.file_size} bytes from {info.compress_size} compressed")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, archive_size: int) -> np.ndarray:
    _check_sizes(info, archive_size)
    with archive.open(info) as stream:
        version = npy.read_magic(stream)
        if version not in _HEADER_READERS:
            raise DamagedFileError(f"unsupported .npy format version {version}")
        shape, fortran, dtype = _HEADER_READERS[version](stream)
        if dtype.hasobject:
            raise DamagedFileError("holds Python objects, which are not loaded (that would need pickle)")
        header = stream.tell()
        declared = math.prod(shape) * dtype.itemsize
        if header + declared != info.file_size:
            raise DamagedFileError(
                f"declares a {dtype} array of shape {shape} ({declared} bytes) but holds "
                f"{info.file_size - header} bytes of data"
            )
        array = np.empty(shape, dtype, order="F" if fortran else "C")
        _fill(stream, array.reshape(-1, order="A").view(np.uint8))
        if stream.read(1):  # reading to the end also makes zipfile check the CRC-32
            raise DamagedFileError("has bytes after its array")
    return array


def _fill(stream, dest: np.ndarray) -> None:
    view = memoryview(dest)
    filled = 0
    while filled < dest.size:
        n = stream.readinto(view[filled : filled + _CHUNK])
        if not n:
            raise DamagedFileError(f"ends after {filled} of {dest.size} data bytes")
        filled += n
