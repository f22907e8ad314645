"""Jitted functions, transforms and optimizers called from many threads at once give what
one thread gives: levels of nested transforms are per thread, and ``sl.jit``'s cache
survives concurrent lookups, insertions and evictions."""

import sys
import threading

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp

THREADS = 8


def in_threads(work, n=THREADS):
    """``[work(0), ..., work(n - 1)]`` run in ``n`` threads released together, with the
    interpreter switching threads as often as it can; the first exception is re-raised."""
    results, errors = [None] * n, []
    start = threading.Barrier(n)

    def run(k):
        try:
            start.wait()
            results[k] = work(k)
        except BaseException as e:  # noqa: BLE001 - handed to the test thread
            errors.append(e)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    if errors:
        raise errors[0]
    return results


def wait(event):
    assert event.wait(timeout=30), "the other thread never got there"


def nested_derivative(x):
    """d/dx [x * d/dy (x + y)] = 1 for every x: the inner derivative must not see x's perturbation."""
    return sl.derivative(lambda x: x * sl.derivative(lambda y: x + y)(1.0))(x)


def test_a_transform_ending_in_another_thread_does_not_shift_this_threads_levels():
    # Forced interleaving: thread B is inside a transform when A starts its outer one,
    # and has left it before A starts the inner one. Shared levels gave the inner
    # transform the outer one's level, and the derivative came out 0.
    b_inside, a_outer_started, b_done = threading.Event(), threading.Event(), threading.Event()

    def thread_b():
        def g(y):
            b_inside.set()
            wait(a_outer_started)
            return y * y

        sl.derivative(g)(1.0)
        b_done.set()

    def outer(x):
        a_outer_started.set()
        wait(b_done)  # B's transform has ended: A's next level must still be its own
        return x * sl.derivative(lambda y: x + y)(1.0)

    b = threading.Thread(target=thread_b)
    b.start()
    wait(b_inside)
    try:
        got = sl.derivative(outer)(0.5)
    finally:
        b.join()
    assert float(got) == 1.0


def test_eager_transforms_in_8_threads_equal_single_threaded_results():
    fs = [lambda x, a=a: snp.sum(snp.sin(a * x) * x ** 2 + snp.exp(-a * x)) for a in (0.5, 1.0, 2.0, 3.0)]
    x = np.linspace(-1.0, 1.0, 4)
    v = np.array([1.0, -2.0, 0.5, 3.0])
    kinds = {
        "grad": lambda f: sl.grad(f)(x),
        "jvp": lambda f: sl.jvp(f, (x,), (v,))[1],
        "hessian": lambda f: sl.hessian(f)(x),
        "jacrev of grad": lambda f: sl.jacrev(sl.grad(f))(x),
        "hvp": lambda f: sl.hvp(f, x, v),
        "derivative(order=3)": lambda f: sl.derivative(lambda t: f(x * t), order=3)(0.7),
        "vmap of grad": lambda f: sl.vmap(sl.grad(f))(np.stack([x, -x, 2 * x])),
        "taylor coefficients": lambda f: sl.taylor(lambda t: f(x * t), 0.3, order=4).coefficients,
        "nested": lambda f: nested_derivative(0.25),
    }
    jobs = [(name, i) for name in kinds for i in range(len(fs))]
    want = [kinds[name](fs[i]) for name, i in jobs]

    def work(k):
        # every thread runs every job, each thread starting at a different one
        order = [(k + j) % len(jobs) for j in range(len(jobs))]
        return {n: kinds[jobs[n][0]](fs[jobs[n][1]]) for n in order}

    for got in in_threads(work):
        for n, g in got.items():
            name, i = jobs[n]
            np.testing.assert_array_equal(g, want[n], err_msg=f"{name} of f{i}")
    # the references themselves, against closed forms
    np.testing.assert_allclose(want[0], 2 * x * np.sin(0.5 * x) + 0.5 * x ** 2 * np.cos(0.5 * x)
                               - 0.5 * np.exp(-0.5 * x), rtol=1e-13)
    assert float(want[-1]) == 1.0


def test_one_jitted_gradient_in_8_threads_with_many_shapes():
    # 160 shapes through the 64 slots of the cache: lookups, traces, insertions and evictions
    # all at once ("dictionary changed size during iteration" in most rounds before)
    calls = 100
    for _ in range(3):
        df = sl.jit(sl.grad(lambda x: snp.sum(x * snp.sin(x))))

        def work(k):
            xs = [np.linspace(-1.0, 1.0, 1 + (k * calls + j) % 160) for j in range(calls)]
            return [(x, df(x)) for x in xs]

        for outs in in_threads(work):
            for x, g in outs:
                np.testing.assert_allclose(g, np.sin(x) + x * np.cos(x), rtol=1e-13, atol=1e-15)
        info = df.cache_info()
        assert info["hits"] + info["misses"] == THREADS * calls
        assert info["size"] == 64


def test_one_jitted_function_in_8_threads_with_shared_shapes_counts_every_call():
    df = sl.jit(sl.value_and_grad(lambda x: snp.sum(snp.tanh(x) ** 2)), cache_size=2)
    xs = [np.full(n, 0.1 * n) for n in (2, 3, 5)]  # three shapes through two slots
    want = [(float(np.sum(np.tanh(x) ** 2)), 2 * np.tanh(x) / np.cosh(x) ** 2) for x in xs]
    calls = 60

    def work(k):
        return [(j, df(xs[(j + k) % 3])) for j in range(calls)]

    for k, outs in enumerate(in_threads(work)):
        for j, (value, grad) in outs:
            w = want[(j + k) % 3]
            assert float(value) == pytest.approx(w[0], rel=1e-14)
            np.testing.assert_allclose(grad, w[1], rtol=1e-13)
    info = df.cache_info()
    assert info["hits"] + info["misses"] == THREADS * calls
    assert info["size"] == 2


def test_the_cache_drops_the_least_recently_used_program_also_when_the_fast_path_used_it():
    traces = []
    df = sl.jit(lambda x: (traces.append(x.shape), snp.sum(x))[1], cache_size=2)
    a, b, c = np.ones(1), np.ones(2), np.ones(3)
    df(a), df(b)
    df(a)  # a replay: a is now more recent than b
    df(c)  # so b is dropped, not a
    df(a)
    assert traces == [(1,), (2,), (3,)]
    df(b)
    assert traces[-1] == (2,) and df.cache_info()["size"] == 2


def test_optimizers_in_8_threads_equal_single_threaded_runs():
    problems = [sl.problems.get("rosenbrock")] * 2 + [sl.problems.get("beale")] * 2
    methods = ["lbfgs", "bfgs", "newton", "adam"]
    opt = sl.optim.adamw(learning_rate=sl.optim.warmup_cosine(0.05, 5, 60), weight_decay=0.01)
    quadratic = np.diag([1.0, 10.0, 100.0])

    def run(k):
        p, method = problems[k % 4], methods[k % 4]
        opts = {"maxiter": 200} if method != "adam" else {"maxiter": 100, "learning_rate": 0.01}
        res = sl.minimize(p.fun, p.x0, method=method, **opts)
        # one shared optimizer object, a state per thread
        x = np.array([1.0, -2.0, 0.5]) * (k + 1)
        state = opt.init(x)
        for _ in range(60):
            updates, state = opt.update(quadratic @ x, state, x)
            x = sl.optim.apply_updates(x, updates)
        return res.x, res.fun, res.nit, res.nfev, x

    want = [run(k) for k in range(THREADS)]
    for got, w in zip(in_threads(run), want):
        for g, e in zip(got, w):
            np.testing.assert_array_equal(g, e)
    assert want[0][1] < 1e-10  # lbfgs reached Rosenbrock's minimum (1, 1): f = 0


def test_a_jitted_function_still_pickles_with_its_lock():
    cloudpickle = pytest.importorskip("cloudpickle")
    df = sl.jit(sl.grad(lambda x: snp.sum(x ** 3)))
    x = np.array([1.0, 2.0])
    df(x)
    again = cloudpickle.loads(cloudpickle.dumps(df))
    np.testing.assert_array_equal(again(x), 3 * x ** 2)
    assert again.cache_info() == {"hits": 0, "misses": 1, "size": 1, "maxsize": 64}
