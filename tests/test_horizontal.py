"""One elementwise chain over all leaves (slopes.core.horizontal): what it fuses, what it
copies, and that every result is bit for bit the leaf-by-leaf replay's and the eager step's
(but a sum of squares in any order over a flat buffer, to rounding)."""

import copy
import math
import threading

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
from slopes.core import program_memo, pytree
from slopes.core.horizontal import FUSABLE, groups
from slopes.core.ops.reduce import squares_any_order as SQUARES
from slopes.core.tiling import lower


def mlp_loss(p, xb, yb):
    h = sl.ml.relu(xb @ p["W1"] + p["b1"])
    return sl.ml.cross_entropy(h @ p["W2"] + p["b2"], yb)


def mlp_problem(dtype=np.float64, seed=3, steps=4):
    rng = np.random.default_rng(seed)
    p = {"W1": rng.normal(size=(6, 8)) / 3, "b1": rng.normal(size=8), "W2": rng.normal(size=(8, 3)) / 3,
         "b2": rng.normal(size=3)}
    p = {k: v.astype(dtype) for k, v in p.items()}
    data = [(rng.normal(size=(10, 6)).astype(dtype), np.eye(3, dtype=dtype)[rng.integers(0, 3, 10)])
            for _ in range(steps)]
    return p, data


def train_step(opt, loss=mlp_loss):
    def step(params, state, xb, yb):
        value, g = sl.value_and_grad(loss)(params, xb, yb)
        updates, state = opt.update(g, state, params)
        return sl.optim.apply_updates(params, updates), state, value

    return step


def eager_run(opt, p, data, loss=mlp_loss):
    step, state, out = train_step(opt, loss), opt.init(p), []
    for xb, yb in data:
        p, state, _ = step(p, state, xb, yb)
        out.append(p)
    return out


def leaf_by_leaf(jitted, *args):
    """The replay of ``jitted``'s program for ``args`` without the fusion across leaves."""
    prog = copy.copy(jitted.trace(*args))
    prog.fuse_leaves_done = True
    return prog.compile()


def assert_same_bits(a, b):
    xs, ys = pytree.leaves(a), pytree.leaves(b)
    assert len(xs) == len(ys)
    for x, y in zip(xs, ys):
        assert np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(x, y)


def names(program):
    return [e.prim.name for e in program.equations]


OPTIMIZERS = {
    "sgd": lambda: sl.optim.sgd(0.1),
    "momentum": lambda: sl.optim.momentum(0.1, 0.9),
    "nesterov": lambda: sl.optim.nesterov(0.1, 0.9),
    "rmsprop": lambda: sl.optim.rmsprop(0.01),
    "adam": lambda: sl.optim.adam(0.01),
    "adamw": lambda: sl.optim.adamw(0.01, weight_decay=0.1),
    "adagrad": lambda: sl.optim.adagrad(0.1),
    "clip + cosine adam": lambda: sl.optim.chain(sl.optim.clip_by_global_norm(0.5),
                                                 sl.optim.adam(sl.optim.cosine_decay(0.05, 10))),
    "centered rmsprop with momentum": lambda: sl.optim.rmsprop(0.01, momentum=0.9, centered=True),
    "clip by value + decaying momentum": lambda: sl.optim.chain(
        sl.optim.clip_by_value(-0.1, 0.1), sl.optim.momentum(sl.optim.exponential_decay(0.1, 0.5, 2))),
}


def test_the_mlp_step_runs_adams_chain_once_for_its_four_leaves():
    p, data = mlp_problem()
    opt = sl.optim.adam(0.01)
    step = sl.jit(train_step(opt))
    prog = step.trace(p, opt.init(p), *data[0])
    lowered = lower(prog)

    def chain_calls(program):
        return sum(e.prim.name in FUSABLE and program.avals[e.out][0] not in ((), (10, 8), (10, 3))
                   for e in program.equations)

    # Adam and the parameter write: 12 calls a leaf (3 for m, 4 for v, 4 for the step, p + u)
    assert chain_calls(prog) == 48
    assert chain_calls(lowered) == 12
    assert {lowered.avals[e.out][0] for e in lowered.equations if e.prim.name in FUSABLE
            and lowered.avals[e.out][0] not in ((), (10, 8), (10, 3))} == {(48 + 8 + 24 + 3,)}
    # the four gradients are written by their products and sums into one buffer, nothing copied
    into = [e for e in lowered.equations if e.prim.name == "flat_into"]
    assert len(into) == 4 and all(e.params["eq"] is not None for e in into)
    assert names(lowered).count("flat_part") == 12  # new params, m and v: views of three flat results


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_is_bit_identical_to_the_leaf_by_leaf_replay_and_the_eager_step(name):
    p, data = mlp_problem()
    opt = OPTIMIZERS[name]()
    step = sl.jit(train_step(opt))
    state0 = opt.init(p)
    assert "flat_part" in names(lower(step.trace(p, state0, *data[0])))
    plain = leaf_by_leaf(step, p, state0, *data[0])
    expected = eager_run(opt, p, data)
    pj, sj = p, state0
    flat = [np.asarray(x) for x in pytree.leaves((p, state0))]
    n = len(flat)
    for k, (xb, yb) in enumerate(data):
        pj, sj, _ = step(pj, sj, xb, yb)
        flat = [np.asarray(x) for x in plain(*flat, xb, yb)[:n]]
        assert_same_bits(pj, expected[k])
        assert_same_bits(pj, pytree.unflatten(pytree.flatten(p)[1], flat[:len(p)]))
        assert_same_bits(sj, pytree.unflatten(pytree.flatten(state0)[1], flat[len(p):]))


def count_concatenates(monkeypatch):
    calls = []
    real = np.concatenate

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(np, "concatenate", counted)  # read when a program's source is written
    program_memo.clear()  # so sources are written now, not found from an earlier test's programs
    return calls


def test_a_loop_passing_back_the_results_copies_nothing_in_after_the_first_call(monkeypatch):
    calls = count_concatenates(monkeypatch)
    p, data = mlp_problem(steps=6)
    opt = sl.optim.adam(0.01)
    step = sl.jit(train_step(opt))
    expected = eager_run(opt, p, data)
    pj, sj = p, opt.init(p)
    counts = []
    for k, (xb, yb) in enumerate(data):
        before = len(calls)
        pj, sj, _ = step(pj, sj, xb, yb)
        counts.append(len(calls) - before)
        assert_same_bits(pj, expected[k])
    assert counts[0] >= 3  # params, m and v copied in once (and whatever tracing calls)
    assert counts[1:] == [0] * 5


def test_copies_or_other_arrays_are_copied_in_and_give_the_right_results(monkeypatch):
    calls = count_concatenates(monkeypatch)
    p, data = mlp_problem()
    opt = sl.optim.adam(0.01)
    step = sl.jit(train_step(opt))
    pj, sj = step(p, opt.init(p), *data[0])[:2]
    before = len(calls)
    copied = {k: v.copy() for k, v in pj.items()}
    pc, sc, _ = step(copied, sj, *data[1])  # the state passed back as it came, the params copied
    assert len(calls) - before == 1
    pe, se, _ = train_step(opt)(pj, sj, *data[1])
    assert_same_bits(pc, pe)
    assert_same_bits(sc, se)
    # a view from another call's results, in the right place: copied, right
    before = len(calls)
    mixed = dict(pc, b1=pj["b1"])
    pm = step(mixed, sc, *data[2])[0]
    assert len(calls) - before == 1
    assert_same_bits(pm, train_step(opt)(mixed, sc, *data[2])[0])


def test_results_never_share_memory_across_calls_and_a_caller_may_write_into_them():
    p, data = mlp_problem()
    opt = sl.optim.momentum(0.1, 0.9)
    step = sl.jit(train_step(opt))
    p1, s1, _ = step(p, opt.init(p), *data[0])
    p2, s2, _ = step(p1, s1, *data[1])
    for a in pytree.leaves((p1, s1)):
        for b in pytree.leaves((p2, s2)):
            assert not np.shares_memory(a, b)
    p2["W1"] *= 2.0  # the caller writes into a result, then passes it back
    expected = train_step(opt)(p2, s2, *data[2])
    got = step(p2, s2, *data[2])
    assert_same_bits(got[:2], expected[:2])
    for x in pytree.leaves(p):  # the caller's first arrays are untouched
        assert x.flags.owndata


def test_two_threads_running_one_jitted_step_get_their_own_results():
    p, data = mlp_problem(steps=30)
    opt = sl.optim.adam(0.01)
    step = sl.jit(train_step(opt))
    step(p, opt.init(p), *data[0])
    starts = [p, {k: v * 0.5 for k, v in p.items()}]
    results = [None, None]

    def run(i):
        pj, sj = starts[i], opt.init(starts[i])
        for xb, yb in data:
            pj, sj, _ = step(pj, sj, xb, yb)
        results[i] = pj

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(2):
        assert_same_bits(results[i], eager_run(opt, starts[i], data)[-1])


def test_float32_leaves_stay_float32_and_bit_identical():
    p, data = mlp_problem(np.float32)
    opt = sl.optim.adam(np.float32(0.01))
    step = sl.jit(train_step(opt))
    state0 = opt.init(p)
    assert "flat_part" in names(lower(step.trace(p, state0, *data[0])))
    plain = leaf_by_leaf(step, p, state0, *data[0])
    flat = [np.asarray(x) for x in pytree.leaves((p, state0))]
    pj, sj = p, state0
    for xb, yb in data:
        pj, sj, _ = step(pj, sj, xb, yb)
        flat = [np.asarray(x) for x in plain(*flat, xb, yb)[:len(flat)]]
    assert all(v.dtype == np.float32 for v in pj.values())
    assert_same_bits((pj, sj), pytree.unflatten(pytree.flatten((p, state0))[1], flat))
    # the replay (fused or not) and the eager step already differed in float32 Adam's last bit
    for k, v in eager_run(opt, p, data)[-1].items():
        np.testing.assert_array_max_ulp(pj[k], v, maxulp=2)


def scalar_loss(p, xb, yb):
    # every gradient made outside the update's chain (a product, a sum): the clusters are the update's
    return snp.sum((xb @ p["w"] * p["s"] + p["c"] - yb[:, 0]) ** 2) + snp.sum(xb[:2, :2] @ p["v"])


def test_a_leaf_of_size_one_joins_and_a_0d_leaf_stays_out():
    rng = np.random.default_rng(0)
    p = {"w": rng.normal(size=6), "s": np.array([0.7]), "c": np.array(0.3), "v": rng.normal(size=(2, 2))}
    data = [(rng.normal(size=(5, 6)), rng.normal(size=(5, 1))) for _ in range(4)]
    opt = sl.optim.adam(0.05)
    step = sl.jit(train_step(opt, scalar_loss))
    prog = step.trace(p, opt.init(p), *data[0])
    (group,) = groups(prog)
    assert sorted(c.shape for c in group) == [(1,), (2, 2), (6,)]  # not the 0-d leaf
    pj, sj = p, opt.init(p)
    for xb, yb in data:
        pj, sj, _ = step(pj, sj, xb, yb)
    expected = eager_run(opt, p, data, scalar_loss)[-1]
    assert_same_bits(pj, expected)
    assert np.ndim(pj["c"]) == 0 and pj["s"].shape == (1,)


def sines(q, xb, yb):
    """Gradients (cosines) made outside the update's chain, in each leaf's dtype."""
    return sum(snp.sum(snp.sin(q[k])).astype(np.float64) for k in sorted(q)) * xb


def test_leaves_of_two_dtypes_are_fused_per_dtype():
    rng = np.random.default_rng(1)
    p = {"a": rng.normal(size=3), "b": rng.normal(size=4).astype(np.float32), "c": rng.normal(size=(2, 2)),
         "d": rng.normal(size=5).astype(np.float32)}
    opt = sl.optim.adam(0.1)
    data = [(1.0, 0.0)] * 3
    step = sl.jit(train_step(opt, sines))
    prog = step.trace(p, opt.init(p), *data[0])
    for g in groups(prog):  # isomorphic clusters have one dtype per port and per equation
        assert len({tuple(prog.avals[r][1] for r in c.ports) for c in g}) == 1
    lowered = lower(prog)
    dtypes = {lowered.avals[e.out] for e in lowered.equations if e.prim.name == "flat_join"}
    assert dtypes == {((7,), np.dtype(np.float64)), ((9,), np.dtype(np.float32))}
    pj, sj = p, opt.init(p)
    for xb, yb in data:
        pj, sj, _ = step(pj, sj, xb, yb)
    for k, v in eager_run(opt, p, data, sines)[-1].items():  # float32 Adam: see the float32 test
        np.testing.assert_array_max_ulp(pj[k], v, maxulp=2)
        assert pj[k].dtype == v.dtype


def test_a_transposed_input_leaf():
    p, data = mlp_problem()
    p["W1"] = np.ascontiguousarray(p["W1"].T).T  # the same values, laid out by columns
    assert not p["W1"].flags.c_contiguous
    opt = sl.optim.rmsprop(0.01)
    step = sl.jit(train_step(opt))
    lowered = lower(step.trace(p, opt.init(p), *data[0]))
    assert any(e.prim.name == "flat_join" and 0 in e.ins for e in lowered.equations)  # W1 is copied in
    pj, sj = p, opt.init(p)
    for xb, yb in data:
        pj, sj, _ = step(pj, sj, xb, yb)
    assert_same_bits(pj, eager_run(opt, p, data)[-1])


def test_two_large_leaves_under_a_short_chain_are_left_leaf_by_leaf():
    rng = np.random.default_rng(2)
    p = {"a": rng.normal(size=50_000), "b": rng.normal(size=50_000)}
    opt = sl.optim.sgd(0.1)
    step = sl.jit(train_step(opt, sines))
    prog = step.trace(p, opt.init(p), 1.0, 0.0)
    assert groups(prog)
    assert lower(prog) is prog  # copying 100,000 gradient entries in costs more than 2 calls save


@pytest.mark.parametrize("clip", [False, True])
def test_fits_step_takes_each_norm_in_one_dot_product_over_the_flat_buffer(clip):
    from slopes.ml.train_step import StagedStep

    p, data = mlp_problem()
    opt = sl.optim.adam(0.01)
    if clip:  # the chain then runs on the clipped gradients: the raw ones stay leaf by leaf
        opt = sl.optim.chain(sl.optim.clip_by_global_norm(0.5), opt)
    step = StagedStep(lambda q, b: mlp_loss(q, *b), opt)
    pj, sj = p, opt.init(p)
    pe, se = p, opt.init(p)
    for xb, yb in data:
        value, gnorm, pnorm, _, pj, sj = step(pj, sj, (xb, yb))
        v, g = sl.value_and_grad(mlp_loss)(pe, xb, yb)
        u, se = opt.update(g, se, pe)
        pe = sl.optim.apply_updates(pe, u)
        # the same sums in another order: a few roundings apart at most
        assert gnorm == pytest.approx(sl.optim.global_norm(g), rel=4 * np.finfo(float).eps, abs=0)
        assert pnorm == pytest.approx(sl.optim.global_norm(pe), rel=4 * np.finfo(float).eps, abs=0)
        assert_same_bits(pj, pe)
    prog = lower(next(iter(step.program._programs.values())).program)
    assert "flat_part" in names(prog)
    norms = [len(e.ins) for e in prog.equations if e.prim is SQUARES]
    assert norms == [1, 1]  # a flat buffer is one argument (clipping scales the gradients in the chain)
    dots = [e for e in prog.equations if e.prim.name == "matmul" and prog.avals[e.out][0] == ()]
    assert len(dots) == (4 if clip else 0)  # the clip's own norm, leaf by leaf


def exact_squares(*arrays):
    """The sum of the squares of the entries of ``arrays``, correctly rounded (math.fsum)."""
    return math.fsum(float(x) ** 2 for a in arrays for x in np.ravel(a))


def test_squares_is_global_norms_sum_eagerly_and_over_a_part_of_the_leaves():
    rng = np.random.default_rng(0)
    leaves = [rng.normal(size=(30, 7)), rng.normal(size=5).astype(np.float32), rng.normal(size=())]
    value = SQUARES(*leaves)
    assert value.dtype == np.float64 and value == sl.optim.base.sum_of_squares(leaves)
    assert value == pytest.approx(exact_squares(*leaves), rel=1e-14)
    assert SQUARES() == 0.0
    # replayed leaf by leaf (contiguous arrays): the eager bits
    assert sl.jit(lambda a, b: SQUARES(a, b))(leaves[0], leaves[2]) == SQUARES(leaves[0], leaves[2])

    def f(a, b, s):  # one fused chain over a and b; the sums of squares read a part of them, or swap them
        a2, b2 = (a * s + 1.0) * s - 1.0, (b * s + 1.0) * s - 1.0
        return a2, b2, SQUARES(a2), SQUARES(b2, a2), SQUARES(a2, b2)

    for dtype in (np.float64, np.float32):  # a float32 flat buffer is summed in float64 too
        args = (rng.normal(size=(3, 4)).astype(dtype), rng.normal(size=6).astype(dtype), 0.5)
        prog = lower(sl.jit(f).trace(*args))
        assert "flat_part" in names(prog)
        assert [len(e.ins) for e in prog.equations if e.prim is SQUARES] == [1, 2, 1]
        a2, b2, *out = prog.compile()(*(np.asarray(x) for x in args))
        assert all(v.dtype == np.float64 for v in out)
        sq = [exact_squares(v) for v in (a2, b2)]
        np.testing.assert_allclose(out, [sq[0], sq[1] + sq[0], sq[0] + sq[1]], rtol=1e-14)


def test_views_read_only_by_a_sum_of_squares_are_not_made():
    def f(a, b, s):  # a2 and b2 leave the chain only for their sum of squares
        a2, b2 = (a * s + 1.0) * s - 1.0, (b * s + 1.0) * s - 1.0
        q = SQUARES(a2, b2)
        return (a2 * q - a) * s, (b2 * q - b) * s

    rng = np.random.default_rng(2)
    args = (rng.normal(size=(3, 4)), rng.normal(size=6), 0.5)
    jitted = sl.jit(f)
    assert names(lower(jitted.trace(*args))).count("flat_part") == 2  # the two results' views only
    jitted(*args)
    a2, b2 = ((x * 0.5 + 1.0) * 0.5 - 1.0 for x in args[:2])
    q = exact_squares(a2, b2)
    for got, v, x in zip(jitted(*args), (a2, b2), args[:2]):
        np.testing.assert_allclose(got, (v * q - x) * 0.5, rtol=1e-14)


def test_squares_of_the_inputs_read_the_flat_buffer_a_loop_passes_back():
    def step(a, b):  # the inputs are the chain's ports: joined, or the last call's flat result recalled
        return (a * 0.5 + 1.0) * 0.5 - 1.0, (b * 0.5 + 1.0) * 0.5 - 1.0, SQUARES(a, b)

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=6)
    jitted = sl.jit(step)
    assert [len(e.ins) for e in lower(jitted.trace(a, b)).equations if e.prim is SQUARES] == [1]
    for _ in range(4):  # after the first call, a and b are views of the last flat result
        want = exact_squares(a, b)
        a, b, got = jitted(a, b)
        assert got == pytest.approx(want, rel=1e-14)


def test_numba_kernels_run_the_fused_chain_in_one_kernel(tmp_path, monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.setenv("SLOPES_CACHE_DIR", str(tmp_path))
    rng = np.random.default_rng(4)
    p = {"a": rng.normal(size=(64, 80)), "b": rng.normal(size=1000), "c": rng.normal(size=7)}
    loss = sines
    opt = sl.optim.adam(0.01)
    step = sl.jit(train_step(opt, loss), kernels="numba")
    prog = step.trace(p, opt.init(p), 1.0, 0.0)
    program = lower(prog)
    lowered = names(program)
    assert "fused_kernel" in lowered and "flat_part" in lowered
    # Adam's chains on the flat buffers are one kernel: the two moments written out beside the new
    # parameters, which read them and the step's 0-d rate and eps
    size = sum(v.size for v in p.values())
    flat = [e for e in program.equations if program.avals[e.out][0] == (size,)]
    flat_names = [e.prim.name for e in flat]
    assert flat_names.count("fused_kernel") == 1
    assert set(flat_names) == {"flat_empty", "flat_ready", "flat_join", "fused_kernel"}
    (kernel,) = [e for e in flat if e.prim.name == "fused_kernel"]
    empties = {e.out for e in program.equations if e.prim.name == "flat_empty"}
    assert len(empties.intersection(kernel.ins)) == 2  # the buffers it writes the moments into
    pj, sj = p, opt.init(p)
    data = [(1.0, 0.0)] * 3
    for xb, yb in data:
        pj, sj, _ = step(pj, sj, xb, yb)
    expected = eager_run(opt, p, data, loss)[-1]
    for k in p:  # exactly rounded operations in one loop: the same bits but for a compiler's license
        np.testing.assert_array_max_ulp(pj[k], expected[k], maxulp=1)


def test_a_gradient_made_in_a_row_loop_is_copied_in_and_the_loop_stays():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((40_000, 64))  # an argument: its products could write into a flat buffer

    def loss(q, xb, yb):
        return snp.sum(snp.logaddexp(0.0, xb @ q["w"])) * yb + snp.sum(snp.sin(q["u"]))

    p = {"w": np.full(64, 0.01), "u": rng.normal(size=5)}
    opt = sl.optim.adam(0.01)
    step = sl.jit(train_step(opt, loss))
    state0 = opt.init(p)
    lowered = names(lower(step.trace(p, state0, X, 1.0)))
    assert "row_blocks" in lowered and "flat_part" in lowered
    plain = leaf_by_leaf(step, p, state0, X, 1.0)
    assert "row_blocks" in plain.source
    flat = [np.asarray(x) for x in pytree.leaves((p, state0))]
    pj, sj = p, state0
    for _ in range(3):
        pj, sj, _ = step(pj, sj, X, 1.0)
        flat = [np.asarray(x) for x in plain(*flat, X, np.asarray(1.0))[:len(flat)]]
    assert_same_bits((pj, sj), pytree.unflatten(pytree.flatten((p, state0))[1], flat))
    for k, v in eager_run(opt, p, [(X, 1.0)] * 3, loss)[-1].items():  # a row loop's reordered sum
        np.testing.assert_allclose(pj[k], v, rtol=1e-12, atol=1e-12)


def test_gradients_returned_beside_the_update_keep_their_values():
    p, data = mlp_problem()
    opt = sl.optim.adam(0.01)

    def step(params, state, xb, yb):
        g = sl.grad(mlp_loss)(params, xb, yb)
        updates, state = opt.update(g, state, params)
        return sl.optim.apply_updates(params, updates), state, g

    jitted = sl.jit(step)
    assert "flat_part" in names(lower(jitted.trace(p, opt.init(p), *data[0])))
    pj, sj, pe, se = p, opt.init(p), p, opt.init(p)
    for xb, yb in data:
        pj, sj, gj = jitted(pj, sj, xb, yb)
        pe, se, ge = step(pe, se, xb, yb)
        assert_same_bits((pj, sj, gj), (pe, se, ge))


def test_a_flat_tuple_loop_reads_its_results_back_on_every_call_path(monkeypatch):
    calls = count_concatenates(monkeypatch)
    f = sl.jit(lambda a, b, m, n: (a - 0.1 * (m * 0.9 + a), b - 0.1 * (n * 0.9 + b)))
    rng = np.random.default_rng(7)
    a, b, m, n = rng.normal(size=3), rng.normal(size=(2, 2)), rng.normal(size=3), rng.normal(size=(2, 2))
    a, b = f(a, b, m, n)
    counts = []
    for _ in range(200):  # past the calls after which the checked call path takes over
        before = len(calls)
        expected = (a - 0.1 * (m * 0.9 + a), b - 0.1 * (n * 0.9 + b))
        a, b = f(a, b, m, n)
        counts.append(len(calls) - before)
        assert_same_bits((a, b), expected)
    assert counts == [1] * 200  # m and n are copied in; a and b, the last results, are not


def test_a_cluster_reading_another_clusters_result_is_not_fused_with_it():
    chain = lambda x: (((x * 2.0 + 1.0) * 3.0 - 0.5) / 7.0)  # noqa: E731
    f = lambda a: (chain(a), chain(snp.exp(chain(a))))  # noqa: E731
    a = np.linspace(-1.0, 1.0, 5)
    prog = sl.jit(f).trace(a)
    assert len(groups(prog)) == 1  # isomorphic, but the second one's operand needs the first's result
    assert lower(prog) is prog
    c = ((a * 2.0 + 1.0) * 3.0 - 0.5) / 7.0
    assert_same_bits(sl.jit(f)(a), (c, ((np.exp(c) * 2.0 + 1.0) * 3.0 - 0.5) / 7.0))


def test_a_map_over_fresh_arrays_of_a_hundred_thousand_entries_a_leaf_is_left_unfused():
    # its inputs may be the arrays it returned last, but a call on fresh ones pays the copy in
    f = lambda a, b: (((a * 2.0 + 1.0) * 3.0 - 0.5) / 7.0, ((b * 2.0 + 1.0) * 3.0 - 0.5) / 7.0)  # noqa: E731
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=10**5), rng.normal(size=10**5)
    jitted = sl.jit(f)
    prog = jitted.trace(a, b)
    assert groups(prog) and lower(prog) is prog
    assert_same_bits(jitted(a, b), (((a * 2.0 + 1.0) * 3.0 - 0.5) / 7.0, ((b * 2.0 + 1.0) * 3.0 - 0.5) / 7.0))


def indexed_loss(p, x, y):
    a, b = p["a"], p["b"]
    return (a[0] * x - y) ** 2 + (a[1] * b[0] - 1.0) ** 2 + (b[1] + a[2] * b[2]) ** 2


def test_a_gradient_of_indexed_leaves_keeps_its_scatter_sums_folded():
    from slopes.core.program import _scatter_sums

    p = {"a": np.array([0.5, -0.3, 0.2]), "b": np.array([1.0, 2.0, 3.0])}
    opt = sl.optim.adam(0.05)
    step = sl.jit(train_step(opt, indexed_loss))
    prog = step.trace(p, opt.init(p), 1.0, 2.0)
    lowered = lower(prog)
    assert names(lowered).count("flat_part") == 6  # Adam runs once for both leaves
    # each gradient is still one zero array receiving its three terms, written as its flat part
    assert sorted(len(t) for t in _scatter_sums(lowered)[0].values()) == [3, 3]
    source = lowered.compile().source
    assert source.count("zeros(") == 2
    into = [e for e in lowered.equations if e.prim.name == "flat_into"]
    assert len(into) == 2 and all(e.params["eq"] is None for e in into)  # copied in once summed
    data = [(1.0, 2.0), (0.5, -1.0), (2.0, 0.0)]
    pj, sj = p, opt.init(p)
    for x, y in data:
        pj, sj, _ = step(pj, sj, x, y)
    assert_same_bits(pj, eager_run(opt, p, data, indexed_loss)[-1])


def test_a_row_blocked_program_is_analysed_for_fusion_once_per_compile(monkeypatch):
    import slopes.core.horizontal as horizontal

    calls = []
    real = horizontal.groups
    monkeypatch.setattr(horizontal, "groups", lambda program: calls.append(1) or real(program))
    X = np.random.default_rng(0).standard_normal((40_000, 64))
    loss = lambda w, X: snp.sum(snp.logaddexp(0.0, X @ w)) + snp.sum((X @ w) ** 2)  # noqa: E731
    prog = sl.jit(sl.grad(loss)).trace(np.ones(64), X)  # compiled once as it is traced
    calls.clear()
    source = prog.compile().source
    assert "row_blocks" in source
    assert len(calls) == 1  # not again on the row-blocked copy


def test_a_program_keeps_only_the_flat_results_of_its_last_call():
    import gc
    import weakref

    f = sl.jit(lambda a, b, s: ((a * s + 1.0) * s - 1.0, (b * s + 1.0) * s - 1.0))
    a, b, s = np.ones(3), np.ones((2, 2)), np.asarray(2.0)
    assert "flat_part" in names(lower(f.trace(a, b, s)))
    first, second = f(a, b, s), f(a, b, s)
    buffers = [weakref.ref(r[0].base) for r in (first, second)]
    assert buffers[0]() is not buffers[1]()  # each call its own flat result
    del first, second
    gc.collect()
    # the first call's buffer is freed; the last one's views stay recorded (a loop passes them back)
    assert buffers[0]() is None and buffers[1]() is not None
    f(np.zeros(3), np.zeros((2, 2)), s)
    gc.collect()
    assert buffers[1]() is None  # released by the next call
