"""sl.jit: trace once, replay; correctness against the eager transforms, caching, errors."""

import math

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
from slopes.core.staging import TracingError

from calls import calls_during
from checks import central_difference

RNG = np.random.default_rng(0)


def f_course(x):
    return x[0] ** 2 + 2 * x[1] ** 2 + snp.exp(-x[0] - x[1])


def rosen(x):
    return snp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def logistic(w, X, y, lam=1e-3):
    z = X @ w
    return snp.mean(snp.logaddexp(0.0, z) - y * z) + 0.5 * lam * snp.sum(w * w)


def mlp(params, X, Y):
    h = snp.maximum(X @ params["W1"] + params["b1"], 0.0)
    z = h @ params["W2"] + params["b2"]
    zmax = snp.max(z, axis=1, keepdims=True)
    logp = z - zmax - snp.log(snp.sum(snp.exp(z - zmax), axis=1, keepdims=True))
    return -snp.mean(snp.sum(Y * logp, axis=1))


FUNCS = {
    "course": (f_course, lambda: RNG.normal(size=2)),
    "rosen": (rosen, lambda: RNG.normal(size=5)),
    "norms": (lambda x: snp.linalg.norm(x) + snp.sum(snp.abs(x) ** 1.5), lambda: RNG.normal(size=4)),
    "matrix": (lambda x: snp.linalg.det(snp.reshape(x, (3, 3)) + 3 * snp.eye(3)), lambda: RNG.normal(size=9)),
    "where": (lambda x: snp.sum(snp.where(x > 0, snp.sqrt(snp.abs(x)), x ** 2)), lambda: RNG.normal(size=6)),
}


@pytest.mark.parametrize("name", sorted(FUNCS))
@pytest.mark.parametrize("transform", ["value", "grad", "value_and_grad", "hessian", "jacfwd", "jacrev"])
def test_jit_equals_eager_on_new_inputs(name, transform):
    f, sample = FUNCS[name]
    t = {"value": lambda g: g, "grad": sl.grad, "value_and_grad": sl.value_and_grad,
         "hessian": sl.hessian, "jacfwd": sl.jacfwd, "jacrev": sl.jacrev}[transform]
    eager, jitted = t(f), sl.jit(t(f))
    for _ in range(3):  # the first call traces, the others replay on new values
        x = sample()
        want, got = eager(x), jitted(x)
        for w, g in zip(np.atleast_1d(want) if transform != "value_and_grad" else want,
                        np.atleast_1d(got) if transform != "value_and_grad" else got):
            np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-13)
    assert jitted.cache_info()["misses"] == 1 and jitted.cache_info()["hits"] == 2


def test_jit_grad_matches_finite_differences_and_closed_form():
    x = np.array([0.3, -0.7])
    e = math.exp(-x[0] - x[1])
    np.testing.assert_allclose(sl.jit(sl.grad(f_course))(x), [2 * x[0] - e, 4 * x[1] - e], rtol=1e-14)
    X = RNG.normal(size=(50, 4))
    y = (RNG.random(50) < 0.5).astype(float)
    w = RNG.normal(size=4)
    g = sl.jit(sl.grad(logistic))(w, X, y)
    p = 1 / (1 + np.exp(-X @ w))
    np.testing.assert_allclose(g, X.T @ (p - y) / 50 + 1e-3 * w, rtol=1e-12)
    H = sl.jit(sl.hessian(logistic))(w, X, y)
    np.testing.assert_allclose(H, X.T @ (X * (p * (1 - p))[:, None]) / 50 + 1e-3 * np.eye(4), rtol=1e-12)


def test_jit_pytree_arguments_and_outputs():
    sizes = [(6, 5), (5,), (5, 3), (3,)]
    params = {k: RNG.normal(size=s) for k, s in zip(["W1", "b1", "W2", "b2"], sizes)}
    X = RNG.normal(size=(8, 6))
    Y = np.eye(3)[RNG.integers(0, 3, size=8)]
    vg = sl.jit(sl.value_and_grad(mlp))
    v1, g1 = vg(params, X, Y)
    v0, g0 = sl.value_and_grad(mlp)(params, X, Y)
    assert set(g1) == set(params) and float(v1) == pytest.approx(float(v0), rel=1e-14)
    for k in params:
        np.testing.assert_allclose(g1[k], g0[k], rtol=1e-12, atol=1e-14)
    params2 = {k: v + 0.1 for k, v in params.items()}
    np.testing.assert_allclose(vg(params2, X, Y)[1]["W1"], sl.grad(mlp)(params2, X, Y)["W1"], rtol=1e-12)
    assert vg.cache_info()["misses"] == 1


def test_fifth_derivative_by_taylor_mode_under_jit():
    d5 = sl.jit(sl.derivative(lambda t: snp.sin(t) + snp.cos(t), order=5))
    for t in (0.0, 0.4, -1.3):
        assert float(d5(t)) == pytest.approx(math.cos(t) - math.sin(t), rel=1e-12, abs=1e-14)


def test_composition_outside_jit_runs_the_function_unstaged():
    jf = sl.jit(f_course)
    x = np.array([0.2, 0.1])
    np.testing.assert_allclose(sl.grad(jf)(x), sl.grad(f_course)(x), rtol=1e-14)
    np.testing.assert_allclose(sl.hessian(jf)(x), sl.hessian(f_course)(x), rtol=1e-14)
    xs = RNG.normal(size=(4, 2))
    np.testing.assert_allclose(sl.vmap(jf)(xs), [f_course(r) for r in xs], rtol=1e-14)
    np.testing.assert_allclose(sl.jit(sl.vmap(sl.grad(f_course)))(xs),
                               [sl.grad(f_course)(r) for r in xs], rtol=1e-14)


def test_closure_over_an_enclosing_tracer_is_not_frozen():
    # d/dz of jit(x -> x z)(3) at z = 2 is 3: the closure value must stay traced
    assert float(sl.grad(lambda z: sl.jit(lambda x: x * z)(3.0))(2.0)) == 3.0
    # perturbation confusion through jit: d/dx [x * d/dy (x + y)] = 1
    inner = lambda x: sl.grad(lambda y: sl.jit(lambda u, v: u + v)(x, y))(1.0)
    assert float(sl.grad(lambda x: x * inner(x))(2.0)) == 1.0


def test_no_nan_from_the_branch_not_taken_when_replayed():
    # traced where every sqrt argument is positive (the mask is not needed then),
    # replayed where the other branch is taken for negative entries
    f = lambda x: snp.sum(snp.where(x > 0, snp.sqrt(x), 0.0))
    g = sl.jit(sl.grad(f))
    g(np.array([1.0, 4.0]))
    with np.errstate(invalid="ignore"):  # sqrt(-1) is evaluated, as in eager NumPy
        out = g(np.array([-1.0, 4.0]))
    np.testing.assert_array_equal(out, [0.0, 0.25])
    h = sl.jit(sl.hessian(f))
    h(np.array([1.0, 4.0]))
    with np.errstate(invalid="ignore"):
        assert np.all(np.isfinite(h(np.array([-1.0, 4.0]))))


def test_taylor_kinks_are_handled_at_replay():
    # hypot's series needs a guard at (0, 0); traced away from it, replayed on it
    d = sl.jit(sl.derivative(lambda t: snp.hypot(t, 0.0 * t), order=2))
    assert float(d(1.0)) == 0.0
    assert np.isfinite(float(d(0.0)))
    assert float(d(0.0)) == float(sl.derivative(lambda t: snp.hypot(t, 0.0 * t), order=2)(0.0))


def test_signature_cache_retraces_on_shape_dtype_and_static_values():
    calls = []

    def f(x, n):
        calls.append(1)
        return snp.sum(x ** n)

    jf = sl.jit(f)
    assert float(jf(np.ones(3), 2)) == 3.0
    assert float(jf(2 * np.ones(3), 2)) == 12.0  # replay: f not called
    assert len(calls) == 1
    jf(np.ones(3), 3)  # a Python int is static: new value, new trace
    jf(np.ones(4), 2)  # new shape
    out32 = jf(np.ones(4, dtype=np.float32), 2)  # new dtype
    assert len(calls) == 4 and out32.dtype == np.float32
    info = jf.cache_info()
    assert info["misses"] == 4 and info["hits"] == 1 and info["size"] == 4


def test_dict_keys_that_compare_equal_are_structures_of_their_own():
    # 1, 1.0 and True are equal dict keys: a program traced for {1: x} must not answer {1.0: x}
    from slopes.core.pytree import flatten

    defs = [flatten({k: 0.0})[1] for k in (1, 1.0, True)]
    assert defs[0] != defs[1] and defs[0] != defs[2] and defs[1] != defs[2]
    assert defs[0] == flatten({1: 5.0})[1] and hash(defs[0]) == hash(flatten({1: 5.0})[1])
    f = sl.jit(lambda p: {k: v * 2 for k, v in p.items()})
    x = np.arange(3.0)
    for key in (1, 1.0, True, 1):
        (out_key, out), = f({key: x}).items()
        assert type(out_key) is type(key)
        np.testing.assert_array_equal(out, 2 * x)


def test_static_argnums_and_cache_size():
    jf = sl.jit(lambda x, mode: snp.sum(x) if mode == "sum" else snp.max(x), static_argnums=1, cache_size=2)
    x = np.array([1.0, 5.0])
    assert float(jf(x, "sum")) == 6.0 and float(jf(x, "max")) == 5.0
    jf(np.ones(3), "sum")
    assert jf.cache_info()["size"] == 2  # least recently used dropped
    assert float(sl.jit(lambda x, ks: x[0] * len(ks))(x, [1, 2])) == 2.0  # a list of ints: static leaves
    with pytest.raises(TypeError, match="neither an array"):
        sl.jit(lambda x, s: x)(x, {1, 2})
    with pytest.raises(ValueError, match="cache_size"):
        sl.jit(lambda x: x, cache_size=0)
    with pytest.raises(TypeError, match="needs a function"):
        sl.jit(3)


def test_float32_gradient_stays_float32():
    x = np.array([0.5, 1.5], dtype=np.float32)
    g = sl.jit(sl.grad(lambda x: snp.sum(x * 0.1) + snp.sum(snp.sin(x))))(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 0.1 + np.cos(x), rtol=1e-6)


def test_value_dependent_control_flow_names_the_line():
    def f(x):
        if snp.sum(x) > 0:  # the offending line
            return snp.sum(x)
        return -snp.sum(x)

    with pytest.raises(TracingError, match=r"truth value.*test_jit.py:\d+: if snp.sum\(x\) > 0"):
        sl.jit(f)(np.ones(2))
    with pytest.raises(TracingError, match="float()"):
        sl.jit(lambda x: float(x[0]) * x)(np.ones(2))
    with pytest.raises(TracingError, match="NumPy array"):
        sl.jit(lambda x: np.asarray(x) * 2)(np.ones(2))
    with pytest.raises(TracingError, match="take_along_axis"):
        sl.jit(lambda x, i: snp.sum(x[i]))(np.ones(3), np.array([0, 2]))
    # the same under a transform inside jit
    with pytest.raises(TracingError, match="truth value"):
        sl.jit(sl.grad(f))(np.ones(2))
    # eager calls are unaffected
    assert float(f(np.ones(2))) == 2.0


def test_traced_integer_indices_work_through_take_along_axis():
    def nll(z, y):
        logp = z - snp.log(snp.sum(snp.exp(z), axis=1, keepdims=True))
        return -snp.mean(snp.take_along_axis(logp, y[:, None], axis=1))

    z = RNG.normal(size=(5, 3))
    y = np.array([0, 2, 1, 1, 0])
    g = sl.jit(sl.grad(nll))
    np.testing.assert_allclose(g(z, y), sl.grad(nll)(z, y), rtol=1e-14)
    y2 = np.array([2, 2, 0, 1, 1])
    np.testing.assert_allclose(g(z, y2), sl.grad(nll)(z, y2), rtol=1e-14)


def test_program_optimizations():
    x = np.linspace(0.1, 1.0, 4)
    # identity multiply dropped; common subexpression merged; unused work removed
    prog = sl.jit(lambda x: [snp.sin(x) * 1.0 + snp.sin(x), snp.exp(x) * 0.0 + 2.0 * x][1]).trace(x)
    names = [e.prim.name for e in prog.equations]
    assert "sin" not in names and names.count("exp") == 1
    prog = sl.jit(lambda x: snp.sin(x) * 1.0 + snp.sin(x)).trace(x)
    assert [e.prim.name for e in prog.equations] == ["sin", "add"]
    # constants are folded while tracing: nothing of C's computation is in the program
    C = np.arange(4.0)
    prog = sl.jit(lambda x: x * snp.exp(snp.sin(C))).trace(x)
    assert [e.prim.name for e in prog.equations] == ["multiply"]
    # the gradient of the course function: the backward pass carries no mask_zero (its
    # cotangents are nonzero constants) and no multiplication by 1
    prog = sl.jit(sl.grad(f_course)).trace(np.ones(2))
    names = [e.prim.name for e in prog.equations]
    assert "mask_zero" not in names
    assert not any(e.prim.name == "multiply" and any(getattr(r, "value", None) == 1.0 for r in e.ins)
                   for e in prog.equations)
    assert "program(%0: float64[2])" in str(prog)


def test_globals_are_frozen_until_the_cache_is_cleared():
    box = {"scale": 2.0}
    jf = sl.jit(lambda x: x * box["scale"])
    assert float(jf(np.array(1.0))) == 2.0
    box["scale"] = 3.0
    assert float(jf(np.array(1.0))) == 2.0  # documented: read when traced
    jf.clear_cache()
    assert float(jf(np.array(1.0))) == 3.0


def test_memory_is_released_after_last_use():
    src = sl.jit(sl.grad(rosen)).trace(np.ones(5))
    text = src.compile().source
    assert "del " in text


def test_writing_to_a_result_changes_neither_later_calls_nor_the_input():
    # a gradient that is a constant of the program, and an output that is the input itself
    # after x * 1.0 is optimized away: the caller owns what it gets (g *= lr is common)
    x = np.ones(3)
    for jf, want in ((sl.jit(sl.grad(lambda x: snp.sum(2.0 * x))), 2.0 * x),
                     (sl.jit(sl.hessian(lambda x: snp.sum(x ** 2))), 2.0 * np.eye(3)),
                     (sl.jit(lambda x: x * 1.0), x.copy())):
        for _ in range(3):  # the traced call, then replays
            out = jf(x)
            np.testing.assert_array_equal(out, want)
            out += 100.0
        np.testing.assert_array_equal(x, np.ones(3))


def _constant_bytes(program):
    """Bytes of memory the program's array constants span (a broadcast view spans one element)."""
    from slopes.core.program import Const

    refs = [r for e in program.equations for r in e.ins] + list(program.outputs)
    spans = {}
    for r in refs:
        if isinstance(r, Const) and isinstance(r.value, np.ndarray):
            lo, hi = np.lib.array_utils.byte_bounds(r.value)
            spans[lo] = hi - lo
    return sum(spans.values())


def test_broadcast_constants_are_kept_as_one_element_not_one_per_row():
    # the mean's cotangent 1/n broadcast to n rows used to be folded into an n-row constant
    X = RNG.normal(size=(100_000, 3))
    y = (RNG.random(100_000) < 0.5).astype(float)
    w = np.array([0.3, -0.2, 0.1])
    for transform in (sl.value_and_grad, sl.hessian):
        f = sl.jit(transform(logistic))
        got, want = f(w, X, y), transform(logistic)(w, X, y)
        for a, b in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)  # the optimized program rounds in its own order
        assert _constant_bytes(f.trace(w, X, y)) < 1024
    # a uniform constant output is still a fresh writable array for each caller
    g = sl.jit(sl.grad(lambda x: snp.sum(x)))
    first = g(np.zeros(1000))
    first += 1.0
    np.testing.assert_array_equal(g(np.zeros(1000)), np.ones(1000))


def test_jitted_loss_pickles_small_after_a_call_on_many_rows():
    cloudpickle = pytest.importorskip("cloudpickle")
    X = RNG.normal(size=(100_000, 3))
    y = (RNG.random(100_000) < 0.5).astype(float)
    f = sl.jit(sl.value_and_grad(logistic))
    w = np.array([0.3, -0.2, 0.1])
    want = f(w, X, y)
    blob = cloudpickle.dumps(f)
    assert len(blob) < 20_000
    back = cloudpickle.loads(blob)
    got = back(w, X, y)
    assert got[0] == want[0]
    np.testing.assert_array_equal(got[1], want[1])


def test_tiny_gradient_replay_enters_few_functions():
    # x[0], x[1] in the function: the gradient's scatter_adds are one array written in place,
    # and the call path keys a lone array inline (26 function entries before, 7 now)
    df = sl.jit(sl.grad(f_course))
    x = np.array([1.0, 2.0])
    df(x)
    calls, g = calls_during(df, x)
    assert calls <= 10
    e = math.exp(-3.0)  # closed form: (2 x1 - e^(-x1-x2), 4 x2 - e^(-x1-x2))
    np.testing.assert_allclose(g, [2.0 - e, 8.0 - e], rtol=1e-14)


@pytest.mark.parametrize("fun, shape", [
    (lambda x: x[0] * x[1] + x[-1] ** 2 + x[1] + x[2] * x[0], (6,)),  # negative and repeated indices
    (lambda x: snp.sum(x[0:2] ** 2) + snp.sum(snp.sin(x[1:3])) + x[1], (6,)),  # slices overlap an element
    (lambda x: snp.sum(x[0] ** 2) + x[0, 1] * x[1, 2] + x[-1, -1] * x[0, 0], (2, 3)),  # a row and elements of it
])
def test_fused_scatter_sums_match_finite_differences(fun, shape):
    x = np.array([0.3, -1.2, 0.7, 2.0, 0.5, -0.4]).reshape(shape)
    df = sl.jit(sl.grad(fun))
    df(x)  # trace
    got = df(x)  # replay
    basis = np.eye(x.size).reshape((x.size,) + x.shape)
    plain = np.array([central_difference(fun, [x], [e]) for e in basis]).reshape(shape)
    np.testing.assert_allclose(got, plain, rtol=1e-7, atol=1e-8)
    got += 1.0  # the caller's own array
    np.testing.assert_allclose(df(x), plain, rtol=1e-7, atol=1e-8)


def test_fused_scatter_sum_keeps_float32():
    df = sl.jit(sl.grad(lambda x: x[0] * x[1] + x[1] ** 2))
    x = np.array([2.0, 3.0], dtype=np.float32)
    df(x)
    g = df(x)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, np.array([3.0, 2.0 + 6.0], dtype=np.float32))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_select_against_zero_replays_np_where_bit_for_bit(dtype):
    # relu's where(x > 0, x, 0.0) and its backward's mask replay as a branch-free bit select
    x = np.random.default_rng(1).standard_normal((16, 32)).astype(dtype)
    x[0, :6] = [np.nan, -np.inf, np.inf, -0.0, 0.0, np.finfo(dtype).tiny / 4]
    g = np.random.default_rng(2).standard_normal((16, 32)).astype(dtype)
    g[1, :3] = [np.nan, np.inf, -np.inf]
    f = sl.jit(lambda x, g: (snp.where(x > 0, x, 0.0), snp.where(x < 1, g, 0.0)))
    f(x, g)
    got = f(x, g)
    want = (np.where(x > 0, x, dtype(0.0)), np.where(x < 1, g, dtype(0.0)))
    for a, b in zip(got, want):
        assert a.dtype == dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.view(f"i{a.itemsize}"), b.view(f"i{b.itemsize}"))  # the same bits
    (entry,) = f._programs.values()
    assert entry.program.compile().source.count("select_mask(") == 2  # one per mask


def test_a_select_by_a_strided_mask_argument():
    # the mask is widened through a one-byte integer view, which must read a strided mask right
    rng = np.random.default_rng(3)
    m, x = rng.standard_normal((8, 12)) > 0, rng.standard_normal((8, 6))
    f = sl.jit(lambda m, x: snp.where(m, x, 0.0))
    f(m[:, ::2], x)
    np.testing.assert_array_equal(f(m[:, ::2], x), np.where(m[:, ::2], x, 0.0))
    (entry,) = f._programs.values()
    assert "select_mask(" in entry.program.compile().source


def test_other_selects_keep_np_where():
    x = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    cases = [lambda x: snp.where(x > 0, x, -0.0),  # -0.0 is not all-zero bits
             lambda x: snp.where(x > 0, x, 1.0),
             lambda x: snp.where(x[0] > 0, x, 0.0)]  # a broadcast mask
    for fun in cases:
        f = sl.jit(fun)
        f(x)
        got = f(x)
        want = fun(x)
        np.testing.assert_array_equal(got.view(np.int64), np.asarray(want).view(np.int64))
        (entry,) = f._programs.values()
        assert "select_mask" not in entry.program.compile().source


def test_a_select_against_an_array_of_zeros():
    """A fill given as an array of zeros is a select against zero too (bit select); one with a
    -0.0 entry keeps np.where, and the gradient through either is the mask."""
    x = np.array([1.0, -2.0, 3.0])
    for fill, bit_select in ((np.zeros(3), True), (np.array([0.0, -0.0, 0.0]), False)):
        fun = lambda x, fill=fill: snp.where(x > 0, x, fill)  # noqa: E731
        f = sl.jit(fun)
        f(x)
        np.testing.assert_array_equal(f(x).view(np.int64), np.where(x > 0, x, fill).view(np.int64))
        (entry,) = f._programs.values()
        assert ("select_mask" in entry.program.compile().source) is bit_select
        np.testing.assert_array_equal(sl.jit(sl.grad(lambda x: snp.sum(fun(x))))(x), [1.0, 0.0, 1.0])


def test_a_mask_read_by_two_selects_is_widened_once():
    # a ReLU's forward where(a > 0, a, 0) and backward where(a > 0, g, 0) read one mask: it is
    # widened to integers once (two NumPy calls on the whole array, not two per select)
    x = np.random.default_rng(3).standard_normal((8, 5))
    g = np.random.default_rng(4).standard_normal((8, 5))
    f = sl.jit(lambda x, g: (snp.where(x > 0, x, 0.0), snp.where(x > 0, g, 0.0)))
    f(x, g)
    got = f(x, g)
    for a, b in zip(got, (np.where(x > 0, x, 0.0), np.where(x > 0, g, 0.0))):
        np.testing.assert_array_equal(a.view(np.int64), b.view(np.int64))
    (entry,) = f._programs.values()
    source = entry.program.compile().source
    assert source.count("select_mask(") == 1 and source.count("bitwise_and(") == 2
    assert ".astype(" not in source
    got[1][:] = 7.0  # the second select wrote into the mask's buffer: the first result is its own
    np.testing.assert_array_equal(got[0], np.where(x > 0, x, 0.0))


def test_zero_d_inputs_read_by_exact_arithmetic_replay_as_numpy_scalars():
    # a step count and a learning rate: NumPy's scalar arithmetic (70 ns) where a ufunc call on
    # a 0-d array costs 1.4 us; the same bits, since + - * / sqrt are exactly rounded
    def f(x, lr, t, c, k):
        return x - lr * snp.sqrt(t + 1.0) / (1.0 - 0.9 ** (t + 1.0)), c * 2.0, snp.exp(k), c

    args = (np.linspace(-1.0, 1.0, 5), np.array(0.3), np.array(4, dtype=np.int64),
            np.array(1.5, dtype=np.float32), np.array(0.7))
    jf = sl.jit(f)
    jf(*args)
    got = jf(*args)
    want = f(*args)
    for g, w in zip(got, want):
        g, w = np.atleast_1d(g), np.atleast_1d(w)
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g.view(np.uint8), w.view(np.uint8))  # the same bits
    assert type(got[3]) is np.ndarray  # an input returned stays an array of its own
    got[3][()] = 9.0
    assert args[3] == 1.5
    (entry,) = jf._programs.values()
    first = entry.program.compile().source.splitlines()[1:3]
    assert first == ["    a1 = a1[()]", "    a2 = a2[()]"]  # lr and t; not c (returned), not k (exp)
