"""Every slopes object a user sends to a worker (or gets back from one) survives pickling.

One table: each row makes an object, and a probe that exercises it; the object is round-
tripped through cloudpickle (what Dask and loky use) and, where the row says so, through
plain pickle (what a ProcessPoolExecutor uses, and what carries results back from workers).
The copy must behave as the original does: same values, bit for bit. Functions are made
inside the factories, so cloudpickle has to send them by value, as it does for a user's
notebook code.
"""

import importlib.util
import pickle
import warnings

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
import slopes.optim as so

cloudpickle = pytest.importorskip("cloudpickle")

X2 = np.array([0.3, -0.7])
DATA_X = np.random.default_rng(0).normal(size=(40, 3))
DATA_Y = (DATA_X @ np.array([1.0, -2.0, 0.5]) > 0).astype(int)


def loss_fn():
    c = np.array([1.0, 2.0])  # a captured constant, as user code has
    return lambda x: snp.sum(c * x**2) + snp.sin(x[0] * x[1])


def run_optimizer(opt):
    """Three steps of ``opt`` on a quadratic: the updates and the final state's numbers."""
    x, state, out = np.array([1.0, -2.0]), opt.init(np.array([1.0, -2.0])), []
    for k in range(3):
        upd, state = opt.update(2 * x, state, x, loss=float(x @ x) + k)
        x = so.apply_updates(x, upd)
        out.append(x)
    return np.array(out), so.learning_rate(state), so.step_count(state)


def jit_called():
    j = sl.jit(loss_fn())
    j(X2)
    return j


def run_schedule(s):
    return s(np.arange(0, 40, 3)), s(7)


def fitted(cls, **kw):
    y = DATA_X @ np.array([1.0, -2.0, 0.5]) if cls is sl.ml.LinearRegression else DATA_Y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ml.ConvergenceWarning)  # a few epochs are enough here
        return cls(**kw).fit(DATA_X, y)


def predict(est):
    return est.predict(DATA_X), est.get_params()


def taylor_probe(p):
    """Values, coefficients, text, and the remainder estimate (the lazily computed next order)."""
    x = p.center + 0.1
    return p(x), p.coefficients, str(p), p.remainder_estimate(x)


def adam_state():
    opt = so.chain(so.clip_by_global_norm(1.0), so.adam(0.1))
    state = opt.init(X2)
    for _ in range(2):
        _, state = opt.update(X2, state, X2)
    return state


def flat(tree):
    """Every number in a (nested) value, for comparing a probe's output exactly."""
    if isinstance(tree, dict):
        return [v for k in sorted(tree) for v in flat(tree[k])]
    if isinstance(tree, list | tuple):
        return [v for t in tree for v in flat(t)]
    if hasattr(tree, "__dict__") and not isinstance(tree, type):
        return flat(vars(tree))
    return [tree]


def same(a, b) -> bool:
    fa, fb = flat(a), flat(b)
    if len(fa) != len(fb):
        return False
    for u, v in zip(fa, fb):
        if isinstance(u, np.ndarray | float | int | np.number) and not isinstance(u, bool):
            if not np.array_equal(np.asarray(u), np.asarray(v), equal_nan=True):
                return False
        elif callable(u):
            continue  # a function inside a result (e.g. an unravel): compared through its uses
        elif u != v:
            return False
    return True


def result_fields(r):
    return r.x, r.fun, r.nit, r.nfev, r.message, r.history.as_dict()


# name: (make, probe, plain pickle too)
CASES = {
    "function using snp": (loss_fn, lambda f: f(X2), False),
    "grad": (lambda: sl.grad(loss_fn()), lambda f: f(X2), False),
    "value_and_grad": (lambda: sl.value_and_grad(loss_fn()), lambda f: f(X2), False),
    "hessian": (lambda: sl.hessian(loss_fn()), lambda f: f(X2), False),
    "vmap": (lambda: sl.vmap(loss_fn()), lambda f: f(np.stack([X2, 2 * X2])), False),
    "jit before a call": (lambda: sl.jit(loss_fn()), lambda f: f(X2), False),
    "jit after a call": (jit_called, lambda f: (f(X2), f(2 * X2)), False),
    "jit of grad": (lambda: sl.jit(sl.grad(loss_fn())), lambda f: f(X2), False),
    "sgd": (lambda: so.sgd(0.1), run_optimizer, False),
    "adam": (lambda: so.adam(0.1), run_optimizer, False),
    "chain(clip, adamw(warmup_cosine))": (
        lambda: so.chain(so.clip_by_global_norm(1.0), so.adamw(so.warmup_cosine(0.1, 2, 10), weight_decay=0.01)),
        run_optimizer, False),
    "nesterov(step_decay) + reduce_on_plateau": (
        lambda: so.chain(so.nesterov(so.step_decay(0.1, 2)), so.reduce_on_plateau(patience=0)), run_optimizer, False),
    "optimizer state": (adam_state, lambda s: (so.learning_rate(s), so.step_count(s), s), True),
    "constant": (lambda: so.constant(0.1), run_schedule, True),
    "piecewise_constant": (lambda: so.piecewise_constant([10, 20], [0.1, 0.01, 0.001]), run_schedule, True),
    "step_decay": (lambda: so.step_decay(0.1, 10, 0.5), run_schedule, True),
    "exponential_decay": (lambda: so.exponential_decay(0.1, 0.5, 4, staircase=True), run_schedule, True),
    "cosine_decay": (lambda: so.cosine_decay(0.1, 30, alpha=0.1), run_schedule, True),
    "warmup_cosine": (lambda: so.warmup_cosine(0.1, 5, 30, final_fraction=0.1), run_schedule, True),
    "one_cycle": (lambda: so.one_cycle(0.1, 30), run_schedule, True),
    "as_schedule(number)": (lambda: so.as_schedule(0.05), run_schedule, True),
    "as_schedule(schedule)": (lambda: so.as_schedule(so.cosine_decay(0.1, 30)), run_schedule, True),
    "Result with history": (
        lambda: sl.minimize(loss_fn(), np.array([1.0, 1.0]), method="bfgs", record_x=True), result_fields, True),
    "MultistartResult": (
        lambda: so.multistart(loss_fn(), np.array([[1.0, 1.0], [-1.0, 0.5]])),
        lambda r: (r.best_index, r.funs, [result_fields(x) for x in r]), True),
    "TrainResult": (
        lambda: sl.ml.fit(lambda w, b: snp.mean((b[0] @ w - b[1]) ** 2), np.zeros(3),
                          (DATA_X, DATA_Y.astype(float)), epochs=2, batch_size=10),
        lambda r: (r.params, r.step, r.history.as_dict(), r.message), True),
    "HMCResult": (
        lambda: sl.sampling.hmc(lambda x: -0.5 * snp.sum(x**2), np.zeros(2), n_samples=20, seed=0),
        lambda r: (r.samples, r.log_prob, r.ess), True),
    "ChainsResult": (
        lambda: sl.sampling.hmc_chains(lambda x: -0.5 * snp.sum(x**2), np.zeros((2, 2)), n_samples=20, seed=0),
        lambda r: (r.samples, r.rhat, r.ess, [s.generate_state(2) for s in r.seeds]), True),
    "Sweep": (
        lambda: sl.ml.sweep(lambda a, seed: {"v": a + seed % 7}, [{"a": 1.0}, {"a": 2.0}], seed=0),
        lambda s: (s.records, s.best("v")), True),
    "Expression": (
        lambda: sl.parse("x1**2 + 2*x2**2 + exp(-x1-x2)"),
        lambda e: (e(X2), e.variables, str(e.to_sympy()), sl.grad(e)(X2)), True),
    "TaylorPolynomial of a function": (
        lambda: sl.taylor(lambda x: snp.exp(x[0]) * snp.cos(x[1]), X2, order=3), taylor_probe, False),
    "TaylorPolynomial of an Expression": (
        lambda: sl.taylor(sl.parse("exp(x1) * cos(x2)"), X2, order=3), taylor_probe, True),
    "TaylorPolynomial of one variable": (lambda: sl.taylor(snp.sin, 0.5, order=4), taylor_probe, True),
    "LogisticRegression unfitted": (lambda: sl.ml.LogisticRegression(C=0.5), lambda e: e.get_params(), True),
    "LogisticRegression fitted": (lambda: fitted(sl.ml.LogisticRegression), predict, True),
    "SoftmaxRegression fitted": (lambda: fitted(sl.ml.SoftmaxRegression), predict, True),
    "LinearRegression fitted": (lambda: fitted(sl.ml.LinearRegression), predict, True),
    "MLPClassifier fitted": (
        lambda: fitted(sl.ml.MLPClassifier, hidden_layer_sizes=(4,), max_iter=5, random_state=0), predict, True),
    "MLP model": (lambda: sl.ml.MLP([3, 4, 2], activation="tanh", layer_norm=True, seed=1),
                  lambda m: (m.init(), m(m.init(), DATA_X)), True),
    "Standardizer fitted": (lambda: sl.ml.Standardizer().fit(DATA_X), lambda s: s.transform(DATA_X), True),
}


def chunked_objective():
    from slopes.distributed import ChunkedObjective

    return ChunkedObjective(lambda w, b: snp.mean((b[0] @ w - b[1]) ** 2), (DATA_X, DATA_Y.astype(float)))


if importlib.util.find_spec("slopes.distributed") is not None:
    CASES["ChunkedObjective"] = (chunked_objective, lambda o: o.value_and_grad(np.zeros(3)), False)

PLAIN = [name for name, (_, _, plain) in CASES.items() if plain]


@pytest.mark.parametrize("name", list(CASES))
def test_cloudpickle_round_trip_behaves_the_same(name):
    make, probe, _ = CASES[name]
    obj = make()
    copy = cloudpickle.loads(cloudpickle.dumps(obj))
    assert same(probe(obj), probe(copy))
    # the copy pickles again (a worker may send it on)
    assert same(probe(obj), probe(cloudpickle.loads(cloudpickle.dumps(copy))))


@pytest.mark.parametrize("name", PLAIN)
def test_plain_pickle_round_trip_behaves_the_same(name):
    make, probe, _ = CASES[name]
    obj = make()
    assert same(probe(obj), probe(pickle.loads(pickle.dumps(obj))))


def test_the_probes_can_tell_objects_apart():
    """The comparison is not vacuous: different objects give different probe values."""
    assert not same(run_schedule(so.cosine_decay(0.1, 30)), run_schedule(so.cosine_decay(0.2, 30)))
    assert not same(run_optimizer(so.adam(0.1)), run_optimizer(so.adam(0.2)))
    assert not same(sl.grad(loss_fn())(X2), sl.grad(loss_fn())(2 * X2))
