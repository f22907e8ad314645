"""Reordering and repeating entries: flip, roll, tile, repeat, split, pad, sort, take, prod."""

from __future__ import annotations

__all__: list[str] = []
