"""Economies of the compiled replay (``core/program.py``), counted, never timed.

Each test counts work the replay does (calls to Python's ``compile``, results written into a
dying buffer, BLAS entry points) and checks that the values stay those of the eager code or
of plain NumPy, bit for bit where the replay claims the same operations.
"""

import numpy as np
import pytest

import slopes as sl
import slopes.core.program as program_module
import slopes.numpy as snp


@pytest.fixture
def compile_calls(monkeypatch):
    """The sources handed to Python's ``compile`` by the program compiler during a test."""
    seen = []

    def counting(src, *args):
        seen.append(src)
        return compile(src, *args)

    monkeypatch.setattr(program_module, "compile", counting, raising=False)
    return seen


def test_a_second_identical_trace_compiles_no_code(compile_calls):
    x = np.linspace(-1.0, 1.0, 7 * 13).reshape(7, 13)

    def f(x):
        return snp.sum(snp.tanh(x) * snp.exp(-x))

    first = sl.jit(sl.grad(f))(x)
    before = len(compile_calls)
    again = sl.jit(sl.grad(f))(x)  # a fresh wrapper: traced again, the same source
    assert len(compile_calls) == before
    np.testing.assert_array_equal(again, first)
    # the closed form: d/dx tanh(x) e^-x = (1 - tanh^2 - tanh) e^-x
    np.testing.assert_allclose(first, (1 - np.tanh(x) ** 2 - np.tanh(x)) * np.exp(-x), rtol=1e-13)


def test_programs_sharing_code_keep_their_own_constants(compile_calls):
    rng = np.random.default_rng(4)
    x, a, b = (rng.normal(size=(5, 31)) for _ in range(3))  # constants too large to be inlined
    fa, fb = sl.jit(lambda x: x * a + 1.0), sl.jit(lambda x: x * b + 1.0)
    ra = fa(x)
    before = len(compile_calls)
    rb = fb(x)
    assert len(compile_calls) == before  # one code object ...
    np.testing.assert_array_equal(ra, x * a + 1.0)  # ... two namespaces
    np.testing.assert_array_equal(rb, x * b + 1.0)
    np.testing.assert_array_equal(fa(2 * x), 2 * x * a + 1.0)
