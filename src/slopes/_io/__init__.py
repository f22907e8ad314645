"""Durable files: written atomically, read back verified.

The lowest layer of slopes beside ``core``: it imports nothing of slopes, so that
:mod:`slopes.optim` (optimizer states) and :mod:`slopes.ml` (training checkpoints) share
one way of writing a file that a crash cannot half-write, and one way of reading an
``.npz`` that a damaged file cannot turn into a bare traceback or a huge allocation.
"""

from .atomic import atomic_write, remove_stale_temporaries
from .npz import DamagedFileError, read_npz

__all__ = ["atomic_write", "remove_stale_temporaries", "read_npz", "DamagedFileError"]
