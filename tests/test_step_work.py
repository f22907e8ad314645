"""Work in the replay of a training step's smaller pieces, counted (function entries), with
their values checked against plain NumPy."""

import numpy as np
import pytest

from calls import calls_during
from slopes.core.ops.logsumexp import _log_softmax_impl, _logsumexp_impl


def test_log_softmax_of_finite_rows_enters_no_error_state():
    # np.errstate (0.8 us, a Python context manager) only for rows whose maximum is not
    # finite, where inf - inf can happen: 14 -> 10 function entries on a (64, 10) batch
    x = np.random.default_rng(0).standard_normal((64, 10)) * 30
    calls, got = calls_during(_log_softmax_impl, x, 1)
    assert calls <= 9, calls
    d = x - x.max(axis=1, keepdims=True)
    np.testing.assert_array_equal(got, d - np.log(np.exp(d).sum(axis=1, keepdims=True)))
    from scipy.special import log_softmax

    np.testing.assert_allclose(got, log_softmax(x, axis=1), rtol=1e-14, atol=1e-12)


@pytest.mark.parametrize("row", [[-np.inf, -np.inf], [np.inf, 1.0], [np.nan, 1.0], [-np.inf, 2.0], [1e308, -1e308]])
def test_log_softmax_and_logsumexp_of_non_finite_rows_keep_their_values_without_invalid_warnings(row):
    # rows whose maximum is finite skip np.errstate: no inf - inf can happen there
    x = np.array([[0.5, -0.5], row])
    with np.errstate(invalid="raise", divide="ignore", over="ignore"):  # an inf - inf would raise
        got = _log_softmax_impl(x, 1)
        lse = _logsumexp_impl(x, 1, False)
    from scipy.special import log_softmax, logsumexp

    with np.errstate(all="ignore"):
        np.testing.assert_allclose(got, log_softmax(x, axis=1), rtol=1e-14)
        np.testing.assert_allclose(lse, logsumexp(x, axis=1), rtol=1e-14)
