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


def test_adding_zero_is_an_identity_only_where_it_keeps_every_sign():
    """x + (-0.0) and x - 0.0 are x for every x, and are dropped; x + 0.0 and x - (-0.0) turn
    -0.0 into 0.0 (as NumPy computes them), so they stay."""
    v = np.array([-0.0, 0.0, 1.5, -np.inf, np.nan])
    cases = [(lambda v: v + 0.0, 1), (lambda v: 0.0 + v, 1), (lambda v: v - (-0.0), 1), (lambda v: v + 0, 1),
             (lambda v: v + np.zeros(5), 1), (lambda v: v - 0.0, 0), (lambda v: v + (-0.0), 0),
             (lambda v: -0.0 + v, 0)]
    for f, kept in cases:
        jf = sl.jit(f)
        assert len(jf.trace(v).equations) == kept
        jf(v)
        np.testing.assert_array_equal(np.signbit(jf(v)), np.signbit(f(v)))
        np.testing.assert_array_equal(jf(v), f(v))
