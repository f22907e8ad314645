"""Calls that change nothing record nothing while tracing: a cast of a traced value to its own
dtype, and the zero a sum of squares would start from. Each recorded call costs a trace about
10 us, and the optimizer only removes it afterwards."""

import numpy as np

import slopes as sl
from slopes.core.staging import trace_program
from slopes.optim.base import sum_of_squares


def recorded(fn, *args):
    return [e.prim.name for e in trace_program(lambda *xs: [fn(*xs)], list(args))[0].equations]


def test_a_cast_to_the_own_dtype_records_nothing_and_keeps_the_derivative():
    x = np.array([0.5, -1.5, 2.0])
    assert recorded(lambda v: v.astype(np.float64, copy=False) * 2.0, x) == ["multiply"]
    assert recorded(lambda v: v.astype("f8") * 2.0, x) == ["multiply"]
    g = sl.grad(lambda v: (v.astype(np.float64) ** 2).sum())(x)
    assert np.array_equal(g, 2 * x)


def test_a_cast_to_another_dtype_is_still_recorded_and_converts():
    x = np.array([0.1, 1.0 / 3.0])
    assert recorded(lambda v: v.astype(np.float32), x) == ["astype"]
    got = sl.jit(lambda v: v.astype(np.float32))(x)
    assert got.dtype == np.float32 and np.array_equal(got, x.astype(np.float32))


def test_a_traced_sum_of_squares_adds_only_its_terms():
    tree = {"a": np.array([3.0, 1.0]), "b": [np.array([[4.0], [2.0]])]}
    names = recorded(lambda a, b: sum_of_squares({"a": a, "b": [b]}), tree["a"], tree["b"][0])
    assert names.count("add") == 1  # a + b, no 0.0 + a first
    assert float(sum_of_squares(tree)) == 9.0 + 1.0 + 16.0 + 4.0
    assert sum_of_squares({}) == 0.0
