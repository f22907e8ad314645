"""Ways to damage an ``.npz`` file for the durability tests, written with zipfile and NumPy only.

The zip layout used (local header: 30 fixed bytes, then the name and the extra field,
then the data) is the ZIP specification's, independent of the code under test.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile

import numpy as np


def member_data_offset(path, member: str) -> tuple[int, int]:
    """``(offset, length)`` in the file of a member's stored bytes."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member if member.endswith(".npy") else member + ".npy")
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        fixed = f.read(30)
    name_len, extra_len = struct.unpack("<HH", fixed[26:30])
    return info.header_offset + 30 + name_len + extra_len, info.compress_size


def flip_bit(path, byte: int, bit: int = 0) -> None:
    with open(path, "r+b") as f:
        f.seek(byte)
        b = f.read(1)[0]
        f.seek(byte)
        f.write(bytes([b ^ (1 << bit)]))


def rewrite_members(path, changes: dict) -> None:
    """Rewrite the archive with members replaced (``name -> bytes``) or dropped (``name -> None``)."""
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    for name, content in changes.items():
        name = name if name.endswith(".npy") else name + ".npy"
        if content is None:
            members.pop(name)
        else:
            members[name] = content
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, content in members.items():
            z.writestr(name, content)


def npy_bytes(array) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def npy_declaring(shape, dtype, data: bytes) -> bytes:
    """An ``.npy`` whose header declares ``shape`` and ``dtype`` but that holds only ``data``."""
    buf = io.BytesIO()
    header = {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": tuple(shape)}
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + data


def truncate(path, keep: float) -> None:
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(int(size * keep))
