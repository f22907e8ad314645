"""The first call of a jitted function: the trace records large calls without computing them,
and the optimized program computes the first call's results, as it does every later call's.

Counted: calls computed while tracing, matmul products, replays per call; values checked
against closed forms, finite differences and later calls.
"""

import tracemalloc

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import slopes as sl
import slopes.numpy as snp
from slopes.core import abstract, program, staging
from slopes.core.ops import elementwise, linalg, logsumexp, reduce, shape
from slopes.core.ops.rules import mask_zero
from slopes.core.staging import trace_program

from checks import central_difference
from test_jit import FUNCS, mlp
from test_program_optimize import LAM, logistic, logistic_hessian, logistic_problem

RNG = np.random.default_rng(11)


def logistic_gradient(X, y, w):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return X.T @ (p - y) / len(X) + LAM * w


class Computed:
    """The calls of the given primitives that NumPy computes (name, result shape), in order."""

    def __init__(self, monkeypatch, prims):
        self.calls = []
        for p in prims:
            monkeypatch.setattr(p, "impl", self._counted(p.name, p.impl))

    def _counted(self, name, impl):
        def counted(*args, **params):
            out = impl(*args, **params)
            self.calls.append((name, np.shape(out)))
            return out

        return counted

    def large(self, size):
        return [c for c in self.calls if np.prod(c[1]) >= size]


class Replays:
    """Counts the calls of every program compiled from now on."""

    def __init__(self, monkeypatch):
        self.count = 0
        compile_ = program.Program.compile

        def compile(prog, bare=False):
            replay = compile_(prog, bare)

            def counted(*args):
                self.count += 1
                return replay(*args)

            return counted

        monkeypatch.setattr(program.Program, "compile", compile)


def _flat(out):
    return out if isinstance(out, tuple) else (out,)


# -- the trace computes only what it reads ---------------------------------------------------


def test_the_hessian_trace_computes_no_large_staged_call(monkeypatch):
    n, d = 5000, 30
    X, y, w = logistic_problem(n, d)
    fun = lambda v: [sl.hessian(logistic(X, y))(v)]  # noqa: E731
    raw, _ = trace_program(fun, [w], values=False)
    computed = Computed(monkeypatch, {e.prim for e in raw.equations})
    trace_program(fun, [w], values=False)
    # What the trace computes of n entries or more are constants, folded: y times the basis
    # pushed through X @ w (d, n), and the mean's cotangent's three n-vectors. Computing every
    # call, the trace made 23 such calls, 6 of them (d, n): 985,000 entries here.
    large = computed.large(n)
    assert not [c for c in large if c[0] == "matmul"]
    assert sum(np.prod(s) for _, s in large) <= n * d + 3 * n
    computed.calls.clear()
    trace_program(fun, [w])  # asked for the outputs: the calls they need are computed
    assert ("matmul", (d, d)) in computed.large(d * d)


def test_the_hessian_trace_allocates_no_copy_of_the_data():
    n, d = 20_000, 20
    X, y, w = logistic_problem(n, d)
    fun = lambda v: [sl.hessian(logistic(X, y))(v)]  # noqa: E731
    trace_program(fun, [w], values=False)  # warm the caches
    tracemalloc.start()
    try:
        trace_program(fun, [w], values=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # y times the basis pushed through X @ w (n * d entries) is the one large array; the basis
    # itself is a read-only view of X while tracing (it was a copy of X: 2 n d entries in all)
    assert peak < 1.5 * X.nbytes


def test_a_jitted_jacobian_of_a_constant_product_is_the_callers_own():
    A = RNG.standard_normal((300, 40))
    keep = A.copy()
    J = sl.jit(sl.jacfwd(lambda w: A @ w))
    for _ in range(2):
        got = J(RNG.standard_normal(40))
        np.testing.assert_array_equal(got, keep)
        assert got.flags.writeable
        got[:] = 0.0  # neither the data nor the next call's result change
        np.testing.assert_array_equal(A, keep)


def test_the_first_call_replays_once_and_trace_replays_never(monkeypatch):
    X, y, w = logistic_problem(3000, 20)
    replays = Replays(monkeypatch)
    H = sl.jit(sl.hessian(logistic(X, y)))
    H.trace(w)
    assert replays.count == 0
    first = H(w)
    assert replays.count == 1  # a cached program: this call is its first replay
    G = sl.jit(sl.grad(logistic(X, y)))
    G(w)
    assert replays.count == 2  # traced and replayed once, not computed twice
    np.testing.assert_allclose(first, logistic_hessian(X, w), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("transform", [sl.value_and_grad, sl.hessian])
def test_first_call_gives_the_bits_of_every_later_call(transform):
    # the trace used to return the unoptimized program's values, which round differently from
    # the optimized replay (here by 1e-16): the first call and the second disagreed
    X, y, w = logistic_problem(100_000, 3)
    f = sl.jit(transform(logistic(X, y)))
    first, second = _flat(f(w)), _flat(f(w))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    if transform is sl.hessian:
        np.testing.assert_allclose(first[0], logistic_hessian(X, w), rtol=1e-12, atol=1e-15)
    else:
        np.testing.assert_allclose(first[1], logistic_gradient(X, y, w), rtol=1e-12, atol=1e-15)


def test_values_read_while_tracing_are_computed_from_deferred_calls():
    # cumsum has no shape rule: it reads its argument, a deferred chain of 2000 products
    x0 = RNG.standard_normal(5000)

    def f(x):
        for _ in range(2000):
            x = x * 1.0001
        return snp.sum(snp.cumsum(snp.sin(x)) ** 2)

    got = sl.jit(sl.value_and_grad(f))(x0)
    x = x0 * 1.0001**2000
    c = np.cumsum(np.sin(x))
    np.testing.assert_allclose(got[0], np.sum(c**2), rtol=1e-9)
    want = np.cos(x) * np.cumsum((2 * c)[::-1])[::-1] * 1.0001**2000
    np.testing.assert_allclose(got[1], want, rtol=1e-9)
    small = RNG.standard_normal(3)
    fd = [central_difference(f, [small], [e]) for e in np.eye(3)]
    np.testing.assert_allclose(sl.jit(sl.grad(f))(small), fd, rtol=1e-6)


def test_a_value_computed_with_a_wrong_shape_rule_stops_the_trace(monkeypatch):
    monkeypatch.setitem(abstract._MOVES, shape.transpose, (lambda shapes, params: shapes[0], "f"))
    with pytest.raises(RuntimeError, match="'transpose' was expected to give float64"):
        trace_program(lambda x: [snp.cumsum(x.T, axis=0)], [np.ones((100, 50))])


def test_shape_errors_still_come_from_numpy_at_the_users_line():
    with pytest.raises(ValueError, match="could not be broadcast"):
        sl.jit(lambda x: snp.sum(x + np.ones(3)))(np.ones(10_000))
    with pytest.raises(ValueError, match="matmul"):
        sl.jit(lambda x: snp.sum(np.ones((5, 7)) @ x))(np.ones(10_000))


def test_small_calls_are_computed_while_tracing(monkeypatch):
    calls = []
    compute = staging._compute
    monkeypatch.setattr(staging, "_compute", lambda t: calls.append(t) or compute(t))
    f = sl.jit(sl.grad(lambda x: snp.sum(snp.cumsum(snp.sin(x) * 2.0))))
    np.testing.assert_allclose(f(np.arange(3.0)), 2 * np.cos(np.arange(3.0)) * [3, 2, 1], rtol=1e-14)
    assert calls == []  # nothing was deferred, so nothing was computed late
    f(np.arange(5000.0))
    assert len(calls) == 1  # cumsum read sin(x) * 2.0: one deferred value, computed with its argument


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_with_every_call_deferred_jit_gives_the_eager_derivatives(name, monkeypatch):
    # small arrays are computed while tracing; deferring every call exercises the other road
    monkeypatch.setattr(staging, "EAGER_MAX_SIZE", -1)
    fun, make = FUNCS[name]
    x = make()
    for transform in (sl.grad, sl.hessian, lambda f: sl.vmap(sl.grad(f))):
        point = np.stack([x, x + 0.1]) if transform not in (sl.grad, sl.hessian) else x
        got, want = sl.jit(transform(fun))(point), transform(fun)(point)
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13)


def test_with_every_call_deferred_an_mlp_step_matches_eager(monkeypatch):
    monkeypatch.setattr(staging, "EAGER_MAX_SIZE", -1)
    sizes = [(6, 5), (5,), (5, 3), (3,)]
    params = {k: RNG.standard_normal(s) for k, s in zip(["W1", "b1", "W2", "b2"], sizes)}
    X, Y = RNG.standard_normal((8, 6)), np.eye(3)[RNG.integers(0, 3, size=8)]
    (v1, g1), (v0, g0) = sl.jit(sl.value_and_grad(mlp))(params, X, Y), sl.value_and_grad(mlp)(params, X, Y)
    np.testing.assert_allclose(v1, v0, rtol=1e-14)
    for k in params:
        np.testing.assert_allclose(g1[k], g0[k], rtol=1e-12, atol=1e-14)


# -- result_aval: NumPy's shapes and dtypes ----------------------------------------------------

F32, F64, I64 = np.float32, np.float64, np.int64


def _arr(shape, dtype=F64):
    return np.ones(shape, dtype)


AVAL_CASES = [
    (elementwise.mul, [_arr((3, 1), F32), 0.5], {}),
    (elementwise.mul, [_arr((3, 1), F32), _arr(4, F64)], {}),
    (elementwise.add, [_arr((2, 3), I64), 1.5], {}),
    (elementwise.div, [_arr(4, I64), _arr(4, I64)], {}),
    (elementwise.greater, [_arr((2, 1)), _arr((1, 5))], {}),
    (elementwise.logaddexp, [0.0, _arr(7, F32)], {}),
    (mask_zero, [_arr(5), _arr((4, 5))], {}),
    (linalg.matmul, [_arr((3, 4)), _arr((4, 2))], {}),
    (linalg.matmul, [_arr(4, F32), _arr((4, 2), F32)], {}),
    (linalg.matmul, [_arr(4), _arr(4)], {}),
    (reduce.reduce_sum, [_arr((2, 3, 4))], {"axis": (0, -1), "keepdims": False}),
    (reduce.reduce_sum, [_arr((2, 3, 4), np.bool_)], {"axis": None, "keepdims": True}),
    (reduce.reduce_max, [_arr((2, 3), F32)], {"axis": 1, "keepdims": True}),
    (logsumexp.logsumexp, [_arr((2, 3))], {"axis": (1,), "keepdims": False}),
    (logsumexp.log_softmax, [_arr((2, 3), F32)], {"axis": (1,)}),
    (shape.transpose, [_arr((2, 3, 4))], {"axes": (2, 0, 1)}),
    (shape.reshape, [_arr((2, 3, 4))], {"shape": (4, -1)}),
    (shape.broadcast_to, [_arr((3, 1), F32)], {"shape": (2, 3, 5)}),
    (shape.sum_to, [_arr((2, 3, 5))], {"shape": (3, 1)}),
    (shape.getitem, [_arr((4, 5, 6), F32)], {"index": (slice(1, None, 2), None, Ellipsis, -2)}),
    (shape.getitem, [_arr((4, 5))], {"index": (3,)}),
]


@pytest.mark.parametrize("prim, args, params", AVAL_CASES, ids=lambda v: getattr(v, "name", None))
def test_result_aval_is_numpys_shape_and_dtype(prim, args, params):
    out = prim.impl(*args, **params)
    assert abstract.result_aval(prim, args, params) == (np.shape(out), np.result_type(out))


@pytest.mark.parametrize("prim, args, params", [
    (elementwise.add, [_arr(3), _arr(4)], {}),  # does not broadcast
    (linalg.matmul, [_arr((3, 4)), _arr((3, 2))], {}),  # inner sizes differ
    (linalg.matmul, [_arr((2, 3, 4)), _arr((4, 2))], {}),  # a stack: left to NumPy
    (reduce.reduce_sum, [_arr((2, 3))], {"axis": 2, "keepdims": False}),
    (reduce.reduce_max, [_arr((0, 3))], {"axis": 0, "keepdims": False}),  # empty: NumPy raises
    (shape.reshape, [_arr((2, 3))], {"shape": (4, -1)}),
    (shape.transpose, [_arr((2, 3))], {"axes": (0, 0)}),
    (shape.broadcast_to, [_arr(3)], {"shape": (3, 2)}),
    (shape.sum_to, [_arr((2, 3), np.bool_)], {"shape": (3,)}),  # NumPy counts booleans as int64
    (elementwise.add, [_arr(3, np.int8), 1000], {}),  # NumPy raises: 1000 is out of int8's range
    (mask_zero, [_arr((4, 5)), _arr(5)], {}),  # r's shape or the broadcast one: decided by r's values
    (reduce.cumsum, [_arr(3)], {"axis": 0}),  # no shape rule
    (shape.getitem, [_arr((4, 5))], {"index": (np.array([0, 2]),)}),  # an index array: NumPy's
    (shape.getitem, [_arr((4, 5))], {"index": (7,)}),  # out of range: NumPy's IndexError
    (elementwise.add, [_arr(3), [1.0, 2.0, 3.0]], {}),  # a list: NumPy decides
], ids=lambda v: getattr(v, "name", None))
def test_result_aval_is_none_where_numpy_would_refuse_or_decide(prim, args, params):
    assert abstract.result_aval(prim, args, params) is None


def test_the_dtype_cache_keys_python_floats_by_type_and_ints_by_value():
    x = np.ones((3, 2), np.float32)
    abstract._dtypes.clear()
    for c in [0.5, 2.0, float("nan"), 1e300, -0.0]:
        assert abstract.result_aval(elementwise.mul, [x, c], {}) == ((3, 2), np.dtype(np.float32))
    assert len(abstract._dtypes) == 1
    small = np.ones(3, np.int8)
    assert abstract.result_aval(elementwise.add, [small, 100], {}) == ((3,), np.dtype(np.int8))
    assert abstract.result_aval(elementwise.add, [small, 1000], {}) is None


@settings(max_examples=60, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       dtypes=st.tuples(*[st.sampled_from([np.float32, np.float64, np.int64, np.bool_])] * 2),
       prim=st.sampled_from([elementwise.add, elementwise.mul, elementwise.maximum, elementwise.greater]),
       axis=st.sampled_from([None, 0, -1, (0, -1)]), keepdims=st.booleans())
def test_result_aval_of_broadcasts_and_sums_is_numpys(shapes, dtypes, prim, axis, keepdims):
    x, y = (np.ones(s, d) for s, d in zip(shapes.input_shapes, dtypes))
    if prim is elementwise.add and x.dtype == y.dtype == np.bool_:
        prim = elementwise.mul  # NumPy's + of booleans is logical or: left to the other test
    out = prim.impl(x, y)
    assert abstract.result_aval(prim, [x, y], {}) == (out.shape, out.dtype)
    params = {"axis": axis, "keepdims": keepdims}
    try:
        total = reduce.reduce_sum.impl(out, **params)
    except ValueError:  # an axis out of range: NumPy raises it, the rule does not guess
        assert abstract.result_aval(reduce.reduce_sum, [out], params) is None
    else:  # None (left to NumPy) only for empty arrays and NumPy's leniencies (axis 0 of a 0-d value)
        got = abstract.result_aval(reduce.reduce_sum, [out], params)
        lenient = not out.size or (axis is not None and not out.ndim)
        assert got == (np.shape(total), np.result_type(total)) or (got is None and lenient)
