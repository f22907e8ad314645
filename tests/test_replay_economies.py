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


def test_a_buffer_read_through_a_view_is_reused_once_the_view_is_dead():
    def f(x):
        a = x * 2.0
        flat = snp.reshape(a, (-1,))  # a view of a, dead after the norm
        return flat @ flat, a * a  # a dies into its own square

    x = np.arange(12.0).reshape(3, 4) / 7
    jf = sl.jit(f)
    norm, square = jf(x)
    source = jf._programs[next(iter(jf._programs))].program.compile().source
    a = next(line.split(" = ")[0].strip() for line in source.splitlines() if line.endswith(" * c0"))
    assert f"({a}, {a}, out={a})" in source, source
    np.testing.assert_array_equal(square, (x * 2.0) * (x * 2.0))
    np.testing.assert_array_equal(norm, (x * 2.0).ravel() @ (x * 2.0).ravel())


def test_a_view_that_outlives_the_last_elementwise_read_blocks_reuse():
    def f(x):
        a = x * 2.0
        t = a.T  # read after a's last elementwise use: a's buffer must stay as it is
        b = a + 1.0
        return b, t @ np.ones(3)

    x = np.arange(12.0).reshape(3, 4)
    jf = sl.jit(f)
    for _ in range(2):
        b, tv = jf(x)
        np.testing.assert_array_equal(b, x * 2.0 + 1.0)
        np.testing.assert_array_equal(tv, (x * 2.0).T @ np.ones(3))


def mlp_loss(p, xb, yb):
    h = sl.ml.relu(xb @ p["W1"] + p["b1"])
    return sl.ml.cross_entropy(h @ p["W2"] + p["b2"], yb)


def mlp_problem(seed=5):
    rng = np.random.default_rng(seed)
    p = {"W1": rng.normal(size=(6, 8)) / 3, "b1": rng.normal(size=8), "W2": rng.normal(size=(8, 3)) / 3,
         "b2": rng.normal(size=3)}
    batches = [(rng.normal(size=(10, 6)), np.eye(3)[rng.integers(0, 3, 10)]) for _ in range(5)]
    return p, batches


@pytest.mark.parametrize("name, in_place", [("adam", 19), ("clip + adam", 20)])
def test_fit_step_writes_gradients_read_by_its_norms_in_place(name, in_place):
    from slopes.ml.train_step import StagedStep

    opt = {"adam": lambda: sl.optim.adam(0.01),
           "clip + adam": lambda: sl.optim.chain(sl.optim.clip_by_global_norm(0.5), sl.optim.adam(0.01))}[name]()
    p, batches = mlp_problem()
    step = StagedStep(lambda q, b: mlp_loss(q, *b), opt)
    pj, sj = p, opt.init(p)
    pe, se = p, opt.init(p)
    for xb, yb in batches:
        *_, pj, sj = step(pj, sj, (xb, yb))
        _, g = sl.value_and_grad(mlp_loss)(pe, xb, yb)
        u, se = opt.update(g, se, pe)
        pe = sl.optim.apply_updates(pe, u)
    for k in p:
        np.testing.assert_array_equal(pj[k], pe[k])  # bit for bit: the same NumPy operations
    source = step.program._programs[next(iter(step.program._programs))].program.compile().source
    # the gradients (read flat by the norm, then by the optimizer) are written in place
    # (the clipped scaling, Adam's g * g; the biases' too, fresh sums): 40 and 44 results before;
    # 45 and 49 leaf by leaf, 19 and 20 with the update run once over all leaves (core/horizontal)
    assert source.count("out=") >= in_place, source.count("out=")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 3, 17, 128, 1000, 4097])
def test_a_product_of_two_vectors_replays_as_ndarray_dot_with_matmuls_bits(dtype, n):
    def f(x, y):
        u, v = snp.exp(x), y * 3.0  # fresh intermediates: positive strides whatever x's are
        return u @ v, v[1:] @ u[:-1], snp.reshape(snp.outer(u, v), (-1,)) @ snp.reshape(snp.outer(v, u), (-1,))

    rng = np.random.default_rng(n)
    x, y = rng.normal(size=n).astype(dtype), rng.normal(size=n).astype(dtype)
    jf = sl.jit(f)
    for xs in (x, x[::-1].copy()[::-1]):  # a reversed input view too
        got = jf(xs, y)
        u, v = np.exp(xs), y * dtype(3.0)
        want = (u @ v, v[1:] @ u[:-1], np.outer(u, v).ravel() @ np.outer(v, u).ravel())
        for g, w in zip(got, want):
            assert g.dtype == dtype and g.tobytes() == np.asarray(w).tobytes()
    source = jf._programs[next(iter(jf._programs))].program.compile().source
    assert source.count(".dot(") == 3 and " @ " not in source, source


def test_vectors_that_may_step_backwards_keep_matmul():
    # matmul and ndarray.dot differ in the last bits on a negative stride (checked below), so
    # inputs (a caller may pass x[::-1]) and reversed slices keep `@`
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=21), rng.normal(size=21)
    assert any((x[::-1] @ y[::-1]) != x[::-1].dot(y[::-1]) for x, y in
               (rng.normal(size=(2, n)) for n in range(5, 40)))
    jf = sl.jit(lambda x, y: (x @ y, (x * 2.0)[::-1] @ (y * 1.0)))
    got = jf(x[::-1], y)
    assert got[0].tobytes() == (x[::-1] @ y).tobytes()
    assert got[1].tobytes() == ((x[::-1] * 2.0)[::-1] @ y).tobytes()
    assert ".dot(" not in jf._programs[next(iter(jf._programs))].program.compile().source
