"""Folding scalings keeps the dtype a function has when run eagerly (NEP 50's weak Python
numbers), and folds a negated product with a number at any size."""

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
from slopes.core.scalings import MIN_ENTRIES

SIZES = [100, 5000]  # below and above MIN_ENTRIES
assert SIZES[0] < MIN_ENTRIES <= SIZES[1]

# {name: (function, its derivative, NumPy's computation of the folded program or None when that
# is the function's own, bit for bit)}: at n = 5000 the factors are combined first (the
# reassociation scalings.py documents); (x * 2.0) * 3.0 is x * 6.0 bit for bit (doubling is
# exact) and a negation commutes with rounding
CHAINS = {
    "divide": (lambda x: (x * 2.0) / 3.0, lambda x: np.full(x.shape, 2.0 / 3.0),
               lambda x: x * x.dtype.type(2.0 / 3.0)),
    "negate": (lambda x: -((x * x) * 0.1), lambda x: -0.2 * x, None),
    "multiply": (lambda x: x * 2.0 * 3.0, lambda x: np.full(x.shape, 6.0), None),
    "negated_sum": (lambda x: -((x * x) * 0.1 + (x * x) * 0.2), lambda x: -0.6 * x,
                    lambda x: (x * x) * x.dtype.type(-(0.1 + 0.2))),
}


def _values(dtype, n):
    return np.random.default_rng(n).standard_normal(n).astype(dtype)


def _same_bits(got, want):
    assert got.dtype == want.dtype
    bits = f"u{want.itemsize}"
    np.testing.assert_array_equal(got.view(bits), want.view(bits))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", list(CHAINS))
def test_a_jitted_scaling_chain_keeps_the_eager_dtype_and_bits(name, n, dtype):
    f, _, folded = CHAINS[name]
    x = _values(dtype, n)
    got, eager = sl.jit(f)(x), f(x)
    assert eager.dtype == dtype
    if folded is not None and n >= MIN_ENTRIES:
        _same_bits(got, folded(x))  # one rounding of its own, as close to the eager one
        np.testing.assert_allclose(got, eager, rtol=2 * np.finfo(dtype).eps, atol=0)
    else:
        _same_bits(got, eager)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", list(CHAINS))
def test_a_jitted_gradient_through_a_scaling_chain_keeps_the_eager_dtype(name, n, dtype):
    f, slope, folded = CHAINS[name]

    def loss(x):
        return snp.sum(snp.sin(f(x)))

    x = _values(dtype, n)
    got, eager = sl.jit(sl.grad(loss))(x), sl.grad(loss)(x)
    assert eager.dtype == dtype
    if folded is not None:  # y = x * (2/3) moves by an ulp of y, so cos(y) by as much (|y| < 6)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, eager, rtol=4 * np.finfo(dtype).eps, atol=8 * np.finfo(dtype).eps)
    else:
        _same_bits(got, eager)
    # the closed form, in float64: d/dx sum(sin(f(x))) = cos(f(x)) f'(x)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(got, np.cos(f(x64)) * slope(x64), rtol=0, atol=50 * np.finfo(dtype).eps)


@pytest.mark.parametrize("shape", [(), (3,), (MIN_ENTRIES,)])
def test_a_negated_product_with_a_number_is_one_product_at_any_size(shape):
    def f(x):
        return -(x * 2.5)

    x = np.full(shape, 1.5, np.float32)
    prog = sl.jit(f).trace(x)
    assert [e.prim.name for e in prog.equations] == ["multiply"]
    got = sl.jit(f)(x)
    assert got.dtype == np.float32 and np.shape(got) == shape
    np.testing.assert_array_equal(got, np.full(shape, -3.75, np.float32))


def test_a_division_of_factors_by_zero_is_left_as_written():
    def f(x):
        return (x * 2.0) / 0.0

    x = np.array([1.0, -1.0, 0.0] * 2000)
    with np.errstate(all="ignore"):
        got, eager = sl.jit(f)(x), f(x)
    np.testing.assert_array_equal(got, eager)  # inf, -inf, nan where they were
    assert np.isnan(got[2]) and got[0] == np.inf and got[1] == -np.inf
