"""A constant that is one value broadcast is known by its one value (Program's identity rules).

The backward pass of a sum broadcasts the cotangent 1.0; multiplying by that array of
ones was one more NumPy call in every replay of a loss's gradient.
"""

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
from test_optim_overhead import CountedRosenbrock  # its hand-written, closed-form gradient
from slopes.core.ops.elementwise import add, mul
from slopes.core.program import Const, Equation, Program


def chained_rosen(x):
    return snp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def products_with_ones(program):
    return [e for e in program.equations if e.prim.name == "multiply"
            and any(isinstance(r, Const) and np.ndim(r.value) and np.all(r.value == 1) for r in e.ins)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_chained_rosenbrock_gradient_multiplies_by_no_array_of_ones(dtype):
    x = np.tile([-1.2, 1.0], 50).astype(dtype)
    vg = sl.jit(sl.value_and_grad(chained_rosen))
    program = vg.trace(x)
    # before: 24 equations, one of them a product with a constant array of ones; 22 once
    # -(2.0 * (1 - x)) is written (-2.0) * (1 - x)
    assert products_with_ones(program) == []
    assert len(program.equations) == 22
    f, g = vg(x)
    f_eager, g_eager = sl.value_and_grad(chained_rosen)(x)
    assert f == f_eager and np.array_equal(g, g_eager)  # the same NumPy work, bit for bit
    assert g.dtype == dtype
    tol = 1e-12 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(g, CountedRosenbrock().grad(x.astype(np.float64)), rtol=tol, atol=tol)


F64, F32 = np.dtype(np.float64), np.dtype(np.float32)


def test_only_an_identity_broadcast_with_the_results_dtype_and_shape_is_dropped():
    prog = Program()
    prog.avals = {0: ((3,), F64), 1: ((3,), F64), 2: ((1,), F64), 3: ((3,), F32)}
    ones = np.broadcast_to(np.float64(1.0), (3,))
    assert prog._identity_of(Equation(mul, (0, Const(ones)), {}, 1)) == 0  # x * ones is x
    # a broadcast of another value: kept (it may be the base of a scaling chain)
    twos = Equation(mul, (0, Const(np.broadcast_to(np.float64(2.0), (3,)))), {}, 1)
    assert prog._identity_of(twos) is None
    # a materialized array of other values: kept
    kept = Equation(mul, (0, Const(np.array([1.0, 2.0, 3.0]))), {}, 1)
    assert prog._identity_of(kept) is None
    # the constant would broadcast the other operand: kept
    widening = Equation(add, (2, Const(ones)), {}, 1)
    assert prog._identity_of(widening) is None
    # a float32 operand and a float64 result: kept (the product casts)
    prog32 = Program()
    prog32.avals = {0: ((3,), F32), 1: ((3,), F64)}
    cast = Equation(mul, (0, Const(ones)), {}, 1)
    assert prog32._identity_of(cast) is None
    # a large broadcast is read once, not entry by entry
    big = Program()
    big.avals = {0: ((10_000,), F64), 1: ((10_000,), F64)}
    assert big._identity_of(Equation(mul, (0, Const(np.broadcast_to(1.0, (10_000,)))), {}, 1)) == 0
