"""Programs traced again to the same equations take the optimized equations and compiled code of
the first (slopes.core.program_memo), and only those: other constants, shapes or captured arrays
get programs of their own, and every result is the one a fresh compile gives."""

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
from slopes.core import program_memo
from slopes.core.program import Program
from slopes.core.staging import trace_program


@pytest.fixture
def sources(monkeypatch):
    """How many program sources are written (Program.source calls, outermost only)."""
    calls = []
    real = Program.source
    depth = [0]

    def counted(self, bare=False):
        depth[0] += 1
        try:
            return real(self, bare)
        finally:
            depth[0] -= 1
            if not depth[0]:
                calls.append(1)

    monkeypatch.setattr(Program, "source", counted)
    program_memo.clear()
    return calls


def adam_step(opt):
    def loss(p, x, y):
        return snp.mean((snp.tanh(x @ p["W"] + p["b"]) - y) ** 2)

    def step(p, s, x, y):
        g = sl.grad(loss)(p, x, y)
        u, s = opt.update(g, s, p)
        return sl.optim.apply_updates(p, u), s

    return step


def test_a_fresh_jit_of_the_same_function_writes_no_source_and_gives_the_same_bits(sources):
    rng = np.random.default_rng(0)
    p = {"W": rng.normal(size=(5, 3)), "b": np.zeros(3)}
    x, y = rng.normal(size=(8, 5)), rng.normal(size=(8, 3))
    opt = sl.optim.adam(0.1)
    runs = []
    for _ in range(2):  # a new wrapper each time, as each sl.ml.fit call makes
        step = sl.jit(adam_step(opt))
        q, s = p, opt.init(p)
        for _ in range(4):
            q, s = step(q, s, x, y)
        runs.append(q)
    assert len(sources) == 1  # before: one source per wrapper
    eager = adam_step(opt)
    q, s = p, opt.init(p)
    for _ in range(4):
        q, s = eager(q, s, x, y)
    for k in p:
        assert np.array_equal(runs[0][k], q[k]) and np.array_equal(runs[1][k], q[k])


def test_each_compiled_function_keeps_its_own_flat_results():
    rng = np.random.default_rng(1)
    p = {"W": rng.normal(size=(5, 3)), "b": rng.normal(size=3)}
    x, y = rng.normal(size=(8, 5)), rng.normal(size=(8, 3))
    opt = sl.optim.adam(0.1)
    one, two = sl.jit(adam_step(opt)), sl.jit(adam_step(opt))
    a = b = p
    sa = sb = opt.init(p)
    for _ in range(3):  # interleaved: neither may read the other's last results as its own
        a, sa = one(a, sa, x, y)
        b, sb = two(b, sb, x * 2.0, y)
    eager = adam_step(opt)
    ea, ea_s, eb, eb_s = p, opt.init(p), p, opt.init(p)
    for _ in range(3):
        ea, ea_s = eager(ea, ea_s, x, y)
        eb, eb_s = eager(eb, eb_s, x * 2.0, y)
    for k in p:
        assert np.array_equal(a[k], ea[k]) and np.array_equal(b[k], eb[k])
    fa, fb = (next(iter(f._programs.values())).replay for f in (one, two))
    assert fa.__code__ is fb.__code__ and fa.__globals__ is not fb.__globals__
    assert fa.__globals__["flat_slots"] is not fb.__globals__["flat_slots"]


@pytest.mark.parametrize("c1, c2", [(2.0, 3.0), (0.0, -0.0), (np.float32(1.5), np.float64(1.5)), (1, 1.0)])
def test_programs_differing_in_a_constant_are_programs_of_their_own(c1, c2, sources):
    x = np.array([1.0, -2.0, 3.0], dtype=np.float32)
    for c in (c1, c2):
        got = sl.jit(lambda v: v * c)(x)
        want = x * c
        assert got.dtype == want.dtype and np.array_equal(np.signbit(got), np.signbit(want))
        assert np.array_equal(got, want)
    assert len(sources) == 2


def test_other_shapes_are_programs_of_their_own(sources):
    f = lambda v: snp.sum(snp.sin(v) * 2.0)  # noqa: E731
    for n in (3, 4, 3):
        x = np.linspace(0.0, 1.0, n)
        assert sl.jit(f)(x) == np.sum(np.sin(x) * 2.0)
    assert len(sources) == 2


def test_a_captured_array_is_the_same_one_or_a_program_of_its_own(sources):
    A = np.arange(6.0).reshape(2, 3)
    x = np.array([1.0, 2.0])
    f = lambda v: v @ A  # noqa: E731
    assert np.array_equal(sl.jit(f)(x), x @ A)
    assert np.array_equal(sl.jit(f)(x), x @ A)
    assert len(sources) == 1  # the very same array, unchanged: the kept program
    A *= -1.0  # written to in place: a program of its own
    assert np.array_equal(sl.jit(f)(x), x @ A)
    assert len(sources) == 2
    B = A.copy()  # equal, but another array (it may change apart from A): a program of its own
    assert np.array_equal(sl.jit(lambda v: v @ B)(x), x @ B)
    assert len(sources) == 3


def test_values_the_optimizer_read_from_a_captured_array_are_read_again_once_it_changes():
    E = np.eye(3)  # x @ E is x: the optimizer drops the product, having read E's values
    x = np.array([1.0, -2.0, 3.0])
    f = lambda v: v @ E  # noqa: E731
    assert np.array_equal(sl.jit(f)(x), x)
    E[0, 1] = 2.0
    assert np.array_equal(sl.jit(f)(x), x @ E)


def test_the_tracers_uniform_constants_are_one_array_per_value():
    from slopes.core.staging import compact_constant

    a, b = compact_constant(np.full((64, 10), 0.25)), compact_constant(np.full((64, 10), 0.25))
    assert a is b and not a.flags.writeable and a.strides == (0, 0)
    assert compact_constant(np.full((64, 10), -0.25)) is not a
    assert compact_constant(np.full((64, 10), 0.25, np.float32)) is not a
    assert compact_constant(np.full((5, 10), 0.25)) is not a


def test_large_captured_arrays_are_not_kept_alive():
    big = np.arange(program_memo.MAX_PINNED_BYTES // 8 + 1.0)  # not one repeated value: held by identity
    small = np.arange(4.0)
    prog_big, _ = trace_program(lambda v: [v + big], [np.zeros(big.size)])
    prog_small, _ = trace_program(lambda v: [v + small], [np.zeros(4)])
    assert program_memo.content_key(prog_big) is None
    assert program_memo.content_key(prog_small) is not None


def test_a_program_changed_after_optimizing_is_compiled_from_its_own_equations():
    f = lambda v: [snp.exp(v) * 3.0]  # noqa: E731
    x = np.array([0.5, 1.5])
    first, _ = trace_program(f, [x])
    first.optimize().compile()
    second, _ = trace_program(f, [x])
    second.optimize()
    e = second.equations[-1]
    second.equations[-1] = e._replace(ins=(e.ins[0], type(e.ins[1])(4.0)) if not isinstance(e.ins[1], int)
                                      else (type(e.ins[0])(4.0), e.ins[1]))
    assert np.array_equal(second.compile()(x)[0], np.exp(x) * 4.0)
    assert np.array_equal(first.compile()(x)[0], np.exp(x) * 3.0)


def test_the_store_is_bounded(monkeypatch):
    monkeypatch.setattr(program_memo, "SIZE", 3)
    program_memo.clear()
    for k in range(5):
        program_memo.store(("test", k), k)
    assert [program_memo.lookup(("test", k)) for k in range(5)] == [None, None, 2, 3, 4]
    program_memo.clear()


def test_a_program_holding_a_function_of_the_users_is_not_kept():
    block = sl.checkpoint(lambda v: snp.sin(v) * 2.0)
    prog, _ = trace_program(lambda v: [block(v) + 1.0], [np.zeros(3)])
    assert any(e.prim.name == "checkpoint" for e in prog.equations)
    assert program_memo.content_key(prog) is None
    x = np.array([0.1, 0.2, 0.3])
    assert np.array_equal(sl.jit(lambda v: block(v) + 1.0)(x), np.sin(x) * 2.0 + 1.0)


def test_nan_constants_of_other_bits_are_programs_of_their_own():
    quiet, other = np.float64(np.nan), np.frombuffer(np.uint64(0x7FF8000000000001).tobytes(), np.float64)[0]
    keys = [program_memo.content_key(trace_program(lambda v: [v * float(c)], [np.ones(2)])[0])
            for c in (quiet, other, -quiet)]
    assert keys[0] != keys[1] and keys[0] != keys[2]


def test_a_second_fit_call_optimizes_and_compiles_nothing_and_trains_the_same(sources, monkeypatch):
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(70, 5)), rng.normal(size=(70, 2))
    p = {"W": rng.normal(size=(5, 2)), "b": np.zeros(2)}
    loss = lambda q, b: snp.mean((snp.tanh(b[0] @ q["W"] + q["b"]) - b[1]) ** 2)  # noqa: E731
    runs, optimized = [], []
    real = Program._optimize
    monkeypatch.setattr(Program, "_optimize", lambda self: optimized.append(1) or real(self))
    for _ in range(2):
        runs.append(sl.ml.fit(loss, p, (X, y), optimizer=sl.optim.adam(0.05), epochs=3, batch_size=32,
                              shuffle=False, progress=False))
        counts = len(sources), len(optimized)
    assert counts == (2, 2)  # the 32-row and the 6-row step programs, once: before, (4, 4)
    for k in p:
        assert np.array_equal(runs[0].params[k], runs[1].params[k])
    assert np.array_equal(runs[0].history.step["grad_norm"], runs[1].history.step["grad_norm"])


def test_code_compiled_under_other_row_loop_thresholds_is_not_reused(sources, monkeypatch):
    """Lowering reads the row loops' thresholds: code compiled under small ones (a row loop)
    is not what a fresh jit compiles under the defaults (no loop for a 4000 x 20 matrix)."""
    from slopes.core import tiling

    rng = np.random.default_rng(0)
    X, w = rng.normal(size=(4000, 20)), rng.normal(size=20) * 0.1
    grad = sl.grad(lambda w, X: snp.sum(snp.logaddexp(0.0, X @ w)))
    with monkeypatch.context() as m:
        m.setattr(tiling, "MIN_BYTES", 64 << 10)
        m.setattr(tiling, "BLOCK_BYTES", 16 << 10)
        small = sl.jit(grad)
        small(w, X)
        g_small = small(w, X)
    fresh = sl.jit(grad)
    fresh(w, X)
    assert len(sources) == 2
    np.testing.assert_allclose(fresh(w, X), g_small, rtol=1e-13, atol=1e-15)


def test_a_program_with_a_users_rule_is_not_kept():
    """sl.custom_jvp's primitive holds the user's function (and what it closes over)."""
    import gc
    import weakref

    program_memo.clear()

    def make():
        big = np.ones(1000)

        @sl.custom_jvp
        def f(x):
            return x * big[0]

        f.defjvp(lambda primals, tangents: (f(*primals), tangents[0] * big[0]))
        return f, weakref.ref(big)

    f, alive = make()
    sl.jit(lambda x: f(x) * 2.0)(np.ones(3))
    del f
    gc.collect()
    assert alive() is None
    assert program_memo._entries == {}
