"""Fixtures shared by several test modules."""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest


@pytest.fixture(scope="session")
def process_pool():
    """Two worker processes for the whole session, started with "spawn" (fresh interpreters,
    as on macOS and Windows; forking after a peer library started threads can deadlock)."""
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


@pytest.fixture
def small_blocks(monkeypatch):
    """Row-loop thresholds scaled down so that a 4000 x 20 matrix is 'large' (the logic is the same)."""
    from slopes.core import tiling

    monkeypatch.setattr(tiling, "MIN_BYTES", 64 << 10)
    monkeypatch.setattr(tiling, "BLOCK_BYTES", 16 << 10)


@pytest.fixture
def numba_cache(tmp_path, monkeypatch):
    """Numba present (else the test is skipped), and the test's kernels compiled into a cache
    directory of its own."""
    pytest.importorskip("numba")
    monkeypatch.setenv("SLOPES_CACHE_DIR", str(tmp_path))
