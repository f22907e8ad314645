"""A whole training step as one replayed program: optimizers that trace, and fit using it.

Equality claims: a jitted step replays the NumPy operations of the eager step one for
one, in the same order (the program records them; its optimizations only drop
identities such as ``x + 0`` and merge repeated work), so on float64 the parameters
are bit-identical, not merely close.
"""

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
import slopes.optim as so

from calls import calls_during

RNG = np.random.default_rng(7)
A = RNG.normal(size=(6, 3))
P0 = {"w": RNG.normal(size=3), "b": np.array(0.5), "M": RNG.normal(size=(2, 3))}


def loss_fn(p, xb, yb):
    z = xb @ p["w"] + p["b"] + snp.sum(snp.tanh(p["M"] @ xb.T), axis=0)
    return snp.mean((z - yb) ** 2) + 0.1 * snp.sum(p["M"] ** 2)


def batches(n_steps, rows=6, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(rows, 3)), rng.normal(size=rows)) for _ in range(n_steps)]


def make_step(opt):
    def step(params, state, xb, yb):
        loss, g = sl.value_and_grad(loss_fn)(params, xb, yb)
        updates, state = opt.update(g, state, params, loss=loss)  # loss=: for reduce_on_plateau
        return so.apply_updates(params, updates), state, loss

    return step


OPTIMIZERS = {
    "sgd": lambda: so.sgd(0.05),
    "momentum": lambda: so.momentum(0.05, beta=0.8),
    "nesterov": lambda: so.nesterov(0.05, beta=0.8),
    "adagrad": lambda: so.adagrad(0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "rmsprop": lambda: so.rmsprop(0.01),
    "rmsprop centered momentum": lambda: so.rmsprop(0.01, centered=True, momentum=0.5),
    "adam": lambda: so.adam(0.01),
    "adamw": lambda: so.adamw(0.01, weight_decay=0.1),
    "adam warmup_cosine": lambda: so.adam(so.warmup_cosine(0.05, 5, 15, final_fraction=0.1)),
    "sgd piecewise": lambda: so.sgd(so.piecewise_constant([4, 9], [0.1, 0.05, 0.01])),
    "momentum step_decay": lambda: so.momentum(so.step_decay(0.05, 3, 0.5)),
    "rmsprop exponential staircase": lambda: so.rmsprop(so.exponential_decay(0.01, 0.5, 4, staircase=True)),
    "adamw one_cycle": lambda: so.adamw(so.one_cycle(0.05, 20)),
    "adam own schedule": lambda: so.adam(lambda t: 0.01 / (1.0 + 0.1 * t)),
    "clip norm + adam": lambda: so.chain(so.clip_by_global_norm(0.5), so.adam(0.01)),
    "clip value + sgd": lambda: so.chain(so.clip_by_value(-0.2, 0.2), so.sgd(0.1)),
    "adam + reduce_on_plateau": lambda: so.chain(so.adam(0.05), so.reduce_on_plateau(factor=0.5, patience=1, cooldown=1)),
    "sam(sgd)": lambda: so.sam(so.sgd(0.05), rho=0.1,
                               grad_fn=lambda p: sl.grad(loss_fn)(p, A, A[:, 0])),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_jitted_step_is_the_eager_step_and_traces_once(name):
    opt = OPTIMIZERS[name]()
    step = make_step(opt)
    jstep = sl.jit(step)
    pe, se = P0, opt.init(P0)
    pj, sj = P0, opt.init(P0)
    for xb, yb in batches(20):
        pe, se, le = step(pe, se, xb, yb)
        pj, sj, lj = jstep(pj, sj, xb, yb)
    assert jstep.cache_info()["misses"] == 1  # the count and lr are traced values: no retrace
    for k in P0:
        np.testing.assert_array_equal(pj[k], pe[k])  # bit-identical (see the module docstring)
    assert float(lj) == float(le)
    assert so.step_count(sj) == so.step_count(se) == 20
    if name != "clip value + sgd" and name != "sam(sgd)":
        assert so.learning_rate(sj) == so.learning_rate(se)
    assert not np.array_equal(pj["w"], P0["w"])


def test_one_program_per_batch_shape():
    opt = so.adam(0.01)
    jstep = sl.jit(make_step(opt))
    p, s = P0, opt.init(P0)
    for xb, yb in batches(10, rows=6) + batches(10, rows=4, seed=1):
        p, s, _ = jstep(p, s, xb, yb)
    assert jstep.cache_info()["misses"] == 2


def numpy_adam(p, g, m, v, t, lr=0.01, b1=0.9, b2=0.999, eps=1e-8):
    """torch.optim.Adam's step, transcribed."""
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    mhat, vhat = m / (1 - b1**t), v / (1 - b2**t)
    return p - lr * mhat / (np.sqrt(vhat) + eps), m, v


def test_jitted_adam_step_matches_hand_written_numpy_adam():
    # least squares: the gradient 2 A^T (A w - y) / n is written by hand for the reference
    y = A @ np.array([1.0, -2.0, 0.5])
    opt = so.adam(0.01)

    def step(w, state):
        g = sl.grad(lambda w: snp.mean((A @ w - y) ** 2))(w)
        u, state = opt.update(g, state, w)
        return so.apply_updates(w, u), state

    jstep = sl.jit(step)
    w, s = np.zeros(3), opt.init(np.zeros(3))
    wr, m, v = np.zeros(3), np.zeros(3), np.zeros(3)
    for t in range(1, 31):
        w, s = jstep(w, s)
        wr, m, v = numpy_adam(wr, 2 * A.T @ (A @ wr - y) / len(y), m, v, t)
    np.testing.assert_allclose(w, wr, rtol=1e-13, atol=1e-15)
    assert jstep.cache_info()["misses"] == 1


def test_adam_step_program_adds_at_most_twelve_operations_per_leaf():
    opt = so.adam(0.01)
    grad_program = sl.jit(sl.value_and_grad(loss_fn)).trace(P0, *batches(1)[0])
    step_program = sl.jit(make_step(opt)).trace(P0, opt.init(P0), *batches(1)[0])
    n_leaves = len(P0)
    names = [e.prim.name for e in step_program.equations]
    # per leaf: m (3 operations), v (4), the step (4), the parameter write (1); plus the
    # bias corrections from the step count (10 scalar operations, shared by all leaves)
    assert len(step_program.equations) - len(grad_program.equations) <= 12 * n_leaves + 10
    assert names.count("sqrt") == n_leaves + 1  # one per leaf and sqrt(1 - b2^t)


def test_float32_state_stays_float32_and_traces_once():
    p32 = {k: v.astype(np.float32) for k, v in P0.items()}
    opt = so.chain(so.clip_by_global_norm(1.0), so.adamw(0.01))
    jstep, step = sl.jit(make_step(opt)), make_step(opt)
    pj, sj, pe, se = p32, opt.init(p32), p32, opt.init(p32)
    for xb, yb in batches(10):
        xb, yb = xb.astype(np.float32), yb.astype(np.float32)
        pj, sj, _ = jstep(pj, sj, xb, yb)
        pe, se, _ = step(pe, se, xb, yb)
    assert jstep.cache_info()["misses"] == 1
    assert {x.dtype for x in sl.core.pytree.leaves((pj, sj.states[1].mu, sj.states[1].nu))} == {np.dtype(np.float32)}
    for k in P0:
        np.testing.assert_allclose(pj[k], pe[k], rtol=1e-6, atol=1e-7)  # float32 rounding of the eager in-place steps


def test_fast_path_serves_optimizer_states():
    # a namedtuple state, NumPy-scalar count and float lr are keyed without the general path
    from slopes.transforms.jit import _fast_key

    opt = so.chain(so.clip_by_global_norm(1.0), so.rmsprop(0.01, centered=True))
    jstep = sl.jit(make_step(opt))
    p, s = P0, opt.init(P0)
    p, s, _ = jstep(p, s, *batches(1)[0])
    assert _fast_key((p, s, *batches(1)[0]), []) is not None
    assert _fast_key((p, s, *batches(1)[0]), []) == _fast_key((P0, opt.init(P0), *batches(1)[0]), [])


class CountingOptimizer:
    """An optimizer whose update calls are counted (only while tracing, once the step is one program)."""

    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def init(self, params):
        return self.inner.init(params)

    def update(self, grads, state, params=None, **extra):
        self.calls += 1
        return self.inner.update(grads, state, params, **extra)


def regression_data(n=50, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.3


def linear_loss(p, b):
    return snp.mean((b[0] @ p["w"] + p["b"] - b[1]) ** 2)


def test_fit_replays_the_whole_step_as_one_program_per_batch_shape():
    X, y = regression_data()
    opt = CountingOptimizer(so.adam(0.05))
    p0 = {"w": np.zeros(3), "b": np.array(0.0)}
    res = sl.ml.fit(linear_loss, p0, (X, y), optimizer=opt, epochs=10, batch_size=16)
    assert res.step == 40
    assert opt.calls == 2  # traced for the 16-row batches and the 2-row last one, never run eagerly
    # the same run by parts (eager gradient and update): the same parameters
    eager = sl.ml.fit(linear_loss, p0, (X, y), optimizer=so.adam(0.05), epochs=10, batch_size=16, jit=False)
    for k in p0:
        np.testing.assert_allclose(res.params[k], eager.params[k], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(res.history.step["loss"], eager.history.step["loss"], rtol=1e-13)
    np.testing.assert_allclose(res.history.step["grad_norm"], eager.history.step["grad_norm"], rtol=1e-13)
    np.testing.assert_array_equal(res.history.step["lr"], eager.history.step["lr"])
    assert np.all(p0["w"] == 0.0) and p0["b"] == 0.0  # the caller's arrays are untouched
    assert isinstance(res.params["b"], np.ndarray) and res.params["b"].ndim == 0


def test_fit_with_sam_takes_the_step_by_parts():
    X, y = regression_data()
    opt = CountingOptimizer(so.sam(so.sgd(0.05), rho=0.05))
    res = sl.ml.fit(linear_loss, {"w": np.zeros(3), "b": np.array(0.0)}, (X, y), optimizer=opt, epochs=2,
                    batch_size=25)
    assert res.step == 4 and not res.diverged
    assert opt.calls == 1 + 4  # the failed trace (no grad_fn inside the program), then every step


def test_fit_checks_a_traced_schedule_value():
    X, y = regression_data()
    opt = so.sgd(lambda t: 0.01 - 0.004 * t)  # negative from step 3
    with pytest.raises(ValueError, match="step 3"):
        sl.ml.fit(linear_loss, {"w": np.zeros(3), "b": np.array(0.0)}, (X, y), optimizer=opt, epochs=5,
                  batch_size=25)


def test_fit_stops_before_a_diverging_replayed_update():
    X, y = regression_data()
    res = sl.ml.fit(linear_loss, {"w": np.zeros(3), "b": np.array(0.0)}, (X, y), optimizer=so.sgd(1e40),
                    epochs=3, batch_size=25)
    assert res.diverged and "diverged at step" in res.message
    assert all(np.all(np.isfinite(v)) for v in res.params.values())


def test_staged_step_refuses_an_untraceable_optimizer():
    from slopes.ml.train_step import StagedStep

    def update(grads, state, params=None, loss=None, **extra):  # a Python decision on the loss
        rate = 0.1 if float(loss) >= 0 else 0.2
        return sl.tree_map(lambda g: -rate * g, grads), state

    def loss(w, b):
        return snp.mean(snp.sum((w - b) ** 2, axis=-1))

    opt = so.GradientTransformation(lambda p: (), update)
    step = StagedStep(loss, opt)
    assert step(np.ones(2), opt.init(None), np.zeros((4, 2))) is None
    assert step.failed
    res = sl.ml.fit(loss, np.ones(2), np.zeros((4, 2)), optimizer=opt, epochs=3)
    np.testing.assert_allclose(res.params, 0.8**3 * np.ones(2), rtol=1e-15)  # by parts: w <- w - 0.1 * 2 w


def test_reduce_on_plateau_cuts_the_rate_inside_a_traced_step():
    # the plateau rule (PyTorch's ReduceLROnPlateau, see tests/test_schedules.py) as selections
    opt = so.chain(so.sgd(1.0), so.reduce_on_plateau(factor=0.5, patience=1))

    def step(state, loss):
        return opt.update(np.ones(1), state, loss=loss)

    jstep = sl.jit(step)
    s, scales = opt.init(np.zeros(1)), []
    for f in [3.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0]:
        upd, s = jstep(s, f)
        scales.append(-float(upd[0]))
    # by hand: the third and fourth 2.0 are two non-improving losses (> patience 1): halve;
    # the fifth and sixth again; 1.0 improves
    assert scales == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25] and so.learning_rate(s) == 0.25
    assert jstep.cache_info()["misses"] == 1


def test_replay_writes_elementwise_chains_into_dying_buffers():
    opt = so.adam(0.01)
    jstep = sl.jit(make_step(opt))
    p, s = P0, opt.init(P0)
    jstep(p, s, *batches(1)[0])
    source = jstep._programs[next(iter(jstep._programs))].program.compile().source
    # Adam's chains (m: 2 of 3 operations, v: 3 of 4, the step: 3 of 4) and the parameter write
    # reuse a buffer: at least 8 per leaf, and no array the caller passed is written
    assert source.count("out=") >= 8 * len(P0)
    assert not any(f"out=a{k}" in source for k in range(len(jstep.trace(p, s, *batches(1)[0]).inputs)))


def test_buffer_reuse_never_writes_into_inputs_or_viewed_arrays():
    def f(x, y):
        a = x * 2.0  # an intermediate with a view (a.T) that outlives its last elementwise use
        t = a.T
        b = a + 1.0
        c = snp.exp(y - 1.0)  # a chain: y - 1 dies into exp, exp into the sum below
        return b, t @ np.ones(2), c * 3.0 + y

    x, y = RNG.normal(size=(2, 2)), RNG.normal(size=(3,))
    x0, y0 = x.copy(), y.copy()
    want = f(x, y)
    jf = sl.jit(f)
    for _ in range(3):
        got = jf(x, y)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


def test_jitted_step_call_rebuilds_its_outputs_without_walking_them():
    # the outputs (a dict, an AdamState of two dicts, the loss) are rebuilt by one compiled
    # function (pytree.unflatten walked them: 115 function entries per call before, 79 now)
    opt = so.adam(0.01)
    jstep = sl.jit(make_step(opt))
    p, s = P0, opt.init(P0)
    xb, yb = batches(1)[0]
    p, s, _ = jstep(p, s, xb, yb)
    program = jstep.trace(p, s, xb, yb)
    n_ops = len(program.equations)
    calls, _ = calls_during(jstep, p, s, xb, yb)
    # the replay itself: one call per equation at most (operators enter none); the key, the
    # cache lookup and the output: a few more
    assert calls <= n_ops + 15, (calls, n_ops)
