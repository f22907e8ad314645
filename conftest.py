import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _doctest_numpy(doctest_namespace):
    doctest_namespace["np"] = np


# Release every array a reverse rule does not read, however small, so that the whole
# suite checks each primitive's `keeps` (the default releases only large arrays).
import slopes.core.reverse as _reverse  # noqa: E402

_reverse.RELEASE_MIN_SIZE = 1
