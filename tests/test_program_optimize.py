"""Program optimizations that remove work from Hessians: identity products and scaling chains.

Each rule is checked by counting (equations, matmul FLOPs, bytes allocated) and by
value, against the unoptimized program and an independent reference.
"""

import copy
import tracemalloc

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
from slopes.core import scalings
from slopes.core.ops import linalg
from slopes.core.staging import compact_constant, trace_program

RNG = np.random.default_rng(7)
LAM = 1e-3


def logistic(X, y):
    def loss(w):
        z = X @ w
        return snp.mean(snp.logaddexp(0.0, z) - y * z) + LAM / 2 * snp.sum(w * w)

    return loss


def logistic_hessian(X, w):
    """The closed form X^T diag(p (1 - p)) X / n + lam I, p = sigmoid(X w)."""
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return X.T @ (X * (p * (1.0 - p))[:, None]) / len(X) + LAM * np.eye(X.shape[1])


def logistic_problem(n=2000, d=8):
    X = RNG.standard_normal((n, d))
    y = (RNG.random(n) < 0.5).astype(float)
    return X, y, 0.1 * RNG.standard_normal(d)


def staged(fun, *args):
    """(optimized program, unoptimized program) of ``fun`` traced at ``args``."""
    raw, _ = trace_program(lambda *a: list(out) if isinstance(out := fun(*a), tuple) else [out], list(args))
    return copy.deepcopy(raw).optimize(), raw


def big(program, entries):
    """The equations of ``program`` whose result has at least ``entries`` entries."""
    return [e for e in program.equations if np.prod(program.avals[e.out][0]) >= entries]


class MatmulCounter:
    """Counts the multiply-adds of every matmul NumPy runs (traced, folded or replayed)."""

    def __init__(self, monkeypatch):
        self.flops = []
        impl = linalg.matmul.impl

        def counted(a, b):
            out = impl(a, b)
            self.flops.append(np.size(out) * np.shape(a)[-1])
            return out

        monkeypatch.setattr(linalg.matmul, "impl", counted)


def _program_flops(program):
    """Multiply-adds of the matmuls of a program's equations."""
    flops = 0
    for e in program.equations:
        if e.prim is linalg.matmul:
            a = program._aval_of(e.ins[0])[0]
            flops += int(np.prod(program.avals[e.out][0])) * a[-1]
    return flops


# -- an identity matrix times x is x ------------------------------------------------------


def test_hessian_trace_does_not_multiply_by_the_identity_basis(monkeypatch):
    n, d = 3000, 40
    X, y, w = logistic_problem(n, d)
    count = MatmulCounter(monkeypatch)
    H = sl.jit(sl.hessian(logistic(X, y)))
    got = H(w)
    # the first call's products: X @ w and the Hessian's one (d, n) @ (n, d), in the replay;
    # the trace computes none (it used to compute X @ w and the gradient's g @ X, and pushing
    # the basis through X @ w added an (n, d, d) product more)
    assert [f for f in count.flops if f > 1] == []  # (one-element probes of a result's dtype aside)
    assert _program_flops(H.trace(w)) == n * d + d * n * d
    np.testing.assert_allclose(got, logistic_hessian(X, w), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("jac", [sl.jacfwd, sl.jacrev])
def test_jacobian_of_a_matrix_product_is_the_matrix_not_a_view_of_it(jac, monkeypatch):
    A = RNG.standard_normal((30, 5))
    keep = A.copy()
    count = MatmulCounter(monkeypatch)
    J = jac(lambda w: A @ w)(RNG.standard_normal(5))
    np.testing.assert_array_equal(J, keep)
    assert sum(count.flops) == A.size  # the primal A @ w only
    J[:] = 0.0  # the caller owns the Jacobian: the data are not written through it
    np.testing.assert_array_equal(A, keep)


def test_identity_products_that_would_cast_are_kept():
    x32 = RNG.standard_normal((4, 3)).astype(np.float32)
    assert not linalg.is_identity(np.eye(3), np.float32)
    prog, _ = staged(lambda x: np.eye(4) @ x, x32)
    assert [e.prim.name for e in prog.equations] == ["matmul"]  # float64 result: a real product
    assert prog.compile()(x32)[0].dtype == np.float64


def test_program_drops_a_product_with_an_identity_constant():
    prog, raw = staged(lambda x: np.eye(4) @ (x * 2.0) + (x @ np.eye(3)), RNG.standard_normal((4, 3)))
    assert [e.prim.name for e in raw.equations].count("matmul") == 2
    assert [e.prim.name for e in prog.equations] == ["multiply", "add"]
    x = RNG.standard_normal((4, 3))
    np.testing.assert_allclose(prog.compile()(x)[0], 3.0 * x, rtol=1e-15)
    np.testing.assert_array_equal(prog.compile()(x)[0], raw.compile()(x)[0])


# -- chains of scalings of a large array --------------------------------------------------


def test_logistic_hessian_program_makes_one_pass_over_the_batch_of_tangents():
    n, d = 2000, 8
    X, y, w = logistic_problem(n, d)
    prog, raw = staged(sl.hessian(logistic(X, y)), w)
    # raw: four (d, n) elementwise passes (C * p, C - C p, * p, * 1/n) and the product
    assert [e.prim.name for e in big(raw, n * d) if e.prim.name != "matmul"].count("multiply") >= 3
    assert [e.prim.name for e in big(prog, n * d)] == ["multiply"]  # C * (p (1 - p) / n)
    assert sum(e.prim.name == "matmul" for e in prog.equations) == 2  # X @ w and the Hessian's
    for _ in range(3):
        w = 0.3 * RNG.standard_normal(d)
        got, want = prog.compile()(w)[0], raw.compile()(w)[0]
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-16)
        np.testing.assert_allclose(got, logistic_hessian(X, w), rtol=1e-12, atol=1e-16)


def test_folding_rewrites_each_rule_and_keeps_the_values():
    n = 3000
    C = RNG.standard_normal((3, n))
    s = RNG.uniform(0.5, 2.0, n)

    def chain(p):
        a = C * p  # (C, p)
        b = C - a  # (C, 1 - p)
        c = -(b * p) / s  # (C, -((1 - p) p) / s)
        return 2.0 * c + C * (p + 1.0)  # (C, 2 f + (p + 1))

    p = RNG.uniform(0.1, 0.9, n)
    prog, raw = staged(chain, p)
    assert len(big(raw, 3 * n)) == 8
    assert [e.prim.name for e in big(prog, 3 * n)] == ["multiply"]
    assert len(prog.equations) <= len(raw.equations)
    for _ in range(3):
        p = RNG.uniform(0.1, 0.9, n)
        want = 2.0 * (-((C - C * p) * p) / s) + C * (p + 1.0)
        np.testing.assert_allclose(prog.compile()(p)[0], want, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(raw.compile()(p)[0], want, rtol=1e-15, atol=1e-15)


def test_folding_keeps_intermediates_something_else_reads():
    n = 3000
    C = RNG.standard_normal((2, n))
    prog, raw = staged(lambda p: (C * p, (C * p) * p), RNG.random(n))
    # C * p is an output: folding it into the second would add a pass, not remove one
    first, second = prog.equations
    assert first.prim.name == second.prim.name == "multiply" and first.out in second.ins


def test_folding_leaves_small_arrays_and_casts_alone():
    small = RNG.standard_normal((2, 10))
    prog, raw = staged(lambda p: (small - small * p) * p, RNG.random(10))
    assert len(prog.equations) == len(raw.equations) == 3
    n = scalings.MIN_ENTRIES
    C32 = RNG.standard_normal((2, n)).astype(np.float32)
    prog, raw = staged(lambda p: (C32 * p) * np.float64(2.0), RNG.random(n).astype(np.float32))
    # float32 * float64 scalar is float64: the cast stays where it was
    assert [e.prim.name for e in prog.equations] == ["multiply", "multiply"]


OTHER_HESSIANS = {
    # the function, a point, and the size of the batch of tangents: above MIN_ENTRIES so the
    # folding runs wherever it finds a chain
    "mlp": (
        lambda v: snp.mean((snp.tanh(XM @ snp.reshape(v[:24], (6, 4))) @ v[24:28] - YM) ** 2),
        lambda: 0.5 * RNG.standard_normal(28),
    ),
    "softmax regression": (
        lambda v: -snp.mean(snp.sum(YS * sl.ml.log_softmax(XS @ snp.reshape(v, (5, 3))), axis=1)),
        lambda: 0.3 * RNG.standard_normal(15),
    ),
    "rosenbrock 3-D": (
        lambda x: snp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2),
        lambda: RNG.standard_normal(3),
    ),
    "function of a matrix": (
        lambda a: snp.linalg.slogdet(snp.reshape(a, (3, 3)) + 4.0 * snp.eye(3))[1]
        + snp.sum(snp.exp(AM * snp.reshape(a, (3, 3))[0])),
        lambda: 0.3 * RNG.standard_normal(9),
    ),
}
XM, YM = RNG.standard_normal((400, 6)), RNG.standard_normal(400)
XS, YS = RNG.standard_normal((600, 5)), np.eye(3)[RNG.integers(0, 3, 600)]
AM = RNG.standard_normal((2000, 3))


@pytest.mark.parametrize("name", sorted(OTHER_HESSIANS))
def test_other_hessians_keep_their_values(name):
    f, sample = OTHER_HESSIANS[name]
    x = sample()
    prog, raw = staged(sl.hessian(f), x)
    assert len(prog.equations) <= len(raw.equations)
    for _ in range(2):
        x = sample()
        got, want = prog.compile()(x)[0], raw.compile()(x)[0]
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
        # an independent reference: central differences of the gradient
        fd = sl.numeric.jacobian(sl.grad(f), x)
        np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(fd).max()))


# -- constants: the uniformity check reads in place --------------------------------------


def test_compact_constant_reads_a_transposed_array_in_place():
    X = RNG.standard_normal((20000, 50))
    X[0, 0] = X[-1, -1] = 0.0  # equal ends: the cheap refusal alone cannot decide
    tracemalloc.start()
    try:
        out = compact_constant(X.T)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out is not None and out.base is X  # not uniform: the array itself
    assert peak < X.nbytes / 50  # no copy of it, and no per-byte table of it
    uniform = compact_constant(np.full((50, 20000), -0.0).T)
    assert uniform.strides == (0, 0) and np.signbit(uniform[3, 7])
