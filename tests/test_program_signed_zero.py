"""The program optimizer tells constants apart by their bits: 0.0 and -0.0 are two constants
(x * 0.0 and x * -0.0 differ in the sign of every zero), so common-subexpression merging keeps
both products; equal NaNs are one constant."""

import numpy as np

import slopes as sl


def test_products_with_zero_and_negative_zero_are_not_merged():
    x = np.array([1.0, -2.0, 0.0])
    a, b = sl.jit(lambda v: (v * 0.0, v * -0.0))(x)
    assert np.array_equal(np.signbit(a), np.signbit(x * 0.0))
    assert np.array_equal(np.signbit(b), np.signbit(x * -0.0))


def test_equal_constants_are_still_merged():
    prog = sl.jit(lambda v: (v * 0.5 + 1.0, v * 0.5 - 1.0, v * np.float64(np.nan) + v * np.float64(np.nan))).trace(np.ones(2))
    names = [row for row in str(prog).splitlines() if "multiply" in row]
    assert len(names) == 2  # v * 0.5 once, v * nan once
