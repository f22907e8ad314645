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
