"""Programs of an AD objective kept across ``sl.minimize`` calls (slopes.optim.program_cache).

A second call with the same function must not trace again, must give the run a fresh
trace would give, and must notice what the function reads from outside changing:
globals, closure cells, a global array changed in place, also where the change does
not show at x0.
"""

import gc
import weakref

import numpy as np

import slopes as sl
import slopes.numpy as snp
from slopes.core.trace import Tracer
from slopes.optim import program_cache


class Calls:
    """Counts the calls of an objective: traced ones (a Tracer argument) and plain ones."""

    def __init__(self, body):
        self.body = body
        self.traced = 0
        self.plain = []

    def __call__(self, x):
        if isinstance(x, Tracer):
            self.traced += 1
        else:
            self.plain.append(np.array(x, copy=True))
        return self.body(x)


def rosen(x):
    return snp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_a_second_call_replays_the_kept_programs_and_runs_as_a_fresh_trace_does():
    fun = Calls(rosen)
    x0 = np.tile([-1.2, 1.0], 5)
    first = sl.minimize(fun, x0, method="lbfgs")
    # the trace at x0 is the first evaluation; the only plain call is the probe point
    assert fun.traced == 1 and len(fun.plain) == 1 and not np.array_equal(fun.plain[0], x0)
    fun.traced, fun.plain = 0, []
    x1 = np.linspace(-1.0, 1.0, 10)
    second = sl.minimize(fun, x1, method="lbfgs")
    assert fun.traced == 0  # before: every minimize call traced again
    assert len(fun.plain) == 2  # the check: f at the trace's x0 and its probe point
    np.testing.assert_array_equal(fun.plain[0], x0)
    # the same run a fresh trace gives (the kept program is the same NumPy work)
    fresh = sl.minimize(Calls(rosen), x1, method="lbfgs")
    np.testing.assert_array_equal(second.x, fresh.x)
    assert (second.nit, second.nfev, second.ngev) == (fresh.nit, fresh.nfev, fresh.ngev)
    assert first.success and second.success
    np.testing.assert_allclose(second.x, np.ones(10), atol=1e-5)  # the known minimizer


TARGET = 1.0
LAM = 0.0


def shifted(x):
    return snp.sum((x - TARGET) ** 2)


def regularized(x):
    return snp.sum((x - 1.0) ** 2) + LAM * snp.sum(x ** 2)


def test_a_changed_global_is_picked_up():
    global TARGET
    x0 = np.zeros(3)
    try:
        assert np.allclose(sl.minimize(shifted, x0).x, 1.0)
        TARGET = 3.0
        np.testing.assert_allclose(sl.minimize(shifted, x0).x, 3.0, atol=1e-6)
    finally:
        TARGET = 1.0


def test_a_global_that_leaves_f_at_x0_unchanged_is_picked_up_at_the_probe_point():
    # LAM multiplies a term that is 0 at x0 = 0: f(x0) is 3 whatever LAM is
    global LAM
    x0 = np.zeros(3)
    try:
        np.testing.assert_allclose(sl.minimize(regularized, x0).x, 1.0, atol=1e-6)
        LAM = 1.0
        # the minimizer of (x - 1)^2 + x^2 is 1/2 (closed form)
        np.testing.assert_allclose(sl.minimize(regularized, x0).x, 0.5, atol=1e-6)
    finally:
        LAM = 0.0


def test_a_changed_closure_cell_is_picked_up():
    def make():
        c = 2.0

        def f(x):
            return snp.sum((x - c) ** 2)

        def set_c(v):
            nonlocal c
            c = v

        return f, set_c

    f, set_c = make()
    x0 = np.zeros(2)
    np.testing.assert_allclose(sl.minimize(f, x0).x, 2.0, atol=1e-6)
    set_c(-1.5)
    np.testing.assert_allclose(sl.minimize(f, x0).x, -1.5, atol=1e-6)


def test_a_global_array_changed_in_place_is_picked_up():
    data = np.array([1.0, 2.0, 3.0])
    f = lambda x: snp.sum((x - data) ** 2)  # noqa: E731
    x0 = np.zeros(3)
    np.testing.assert_allclose(sl.minimize(f, x0).x, data, atol=1e-6)
    data[:] = [-1.0, 0.5, 4.0]
    np.testing.assert_allclose(sl.minimize(f, x0).x, [-1.0, 0.5, 4.0], atol=1e-6)


def test_programs_are_kept_per_function_shape_and_dtype_and_bounded():
    f = lambda x: snp.sum((x - 0.5) ** 2)  # noqa: E731
    g = lambda x: snp.sum((x + 0.5) ** 2)  # noqa: E731
    sl.minimize(f, np.zeros(3))
    sl.minimize(f, np.zeros(3, dtype=np.float32))
    sl.minimize(f, np.zeros(3))  # the same signature again: still one entry for it
    assert program_cache.kept_signatures(f) == [((3,), np.dtype(np.float32)), ((3,), np.dtype(np.float64))]
    assert program_cache.kept_signatures(g) == []
    r = sl.minimize(g, np.zeros(3, dtype=np.float32))
    assert r.x.dtype == np.float32 and np.allclose(r.x, -0.5, atol=1e-3)
    assert program_cache.kept_signatures(g) == [((3,), np.dtype(np.float32))]
    n = program_cache.MAX_SIGNATURES
    for size in range(4, 4 + n + 2):
        sl.minimize(f, np.zeros(size))
    kept = program_cache.kept_signatures(f)
    assert len(kept) == n  # the least recently used dropped first
    assert kept == [((size,), np.dtype(np.float64)) for size in range(6, 4 + n + 2)]


def test_kept_programs_do_not_keep_the_function_alive():
    def make():
        return lambda x: snp.sum((x - 0.25) ** 2)

    f = make()
    sl.minimize(f, np.zeros(2))
    assert program_cache.kept_signatures(f)
    ref = weakref.ref(f)
    del f
    gc.collect()
    assert ref() is None


def test_an_untraceable_objective_runs_eagerly_and_keeps_nothing():
    def f(x):  # a Python decision on a value: sl.jit cannot stage it
        s = snp.sum((x - 1.0) ** 2)
        return s if s > -1.0 else -s

    r = sl.minimize(f, np.zeros(2))
    assert r.success and np.allclose(r.x, 1.0, atol=1e-6)
    assert program_cache.kept_signatures(f) == []


def test_an_objective_failing_at_the_probe_point_is_not_kept_and_still_solves():
    x0 = np.full(2, 0.01)

    def f(x):  # plain NumPy calls anywhere but at x0 fail
        if not isinstance(x, Tracer) and not np.array_equal(x, x0):
            raise ValueError("outside the domain this objective was written for")
        return snp.sum(x ** 2)

    r = sl.minimize(f, x0)
    assert r.success and np.allclose(r.x, 0.0, atol=1e-6)
    assert program_cache.kept_signatures(f) == []


def test_clear_programs_forgets():
    f = lambda x: snp.sum(x ** 2)  # noqa: E731
    sl.minimize(f, np.ones(2))
    program_cache.clear_programs(f)
    assert program_cache.kept_signatures(f) == []


def test_jit_false_keeps_nothing():
    f = lambda x: snp.sum(x ** 2)  # noqa: E731
    sl.minimize(f, np.ones(2), jit=False)
    assert program_cache.kept_signatures(f) == []


def test_threads_minimizing_one_function_get_their_own_runs():
    from concurrent.futures import ThreadPoolExecutor

    f = lambda x: snp.sum((x - 0.75) ** 2) + 0.1 * snp.sum(x ** 4)  # noqa: E731
    starts = [np.full(3, float(k)) for k in range(6)]
    alone = [sl.minimize(f, x0, jit=False) for x0 in starts]
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(lambda x0: sl.minimize(f, x0), starts))
    for a, b in zip(alone, together):
        assert b.success and b.nfev == a.nfev and b.nit == a.nit
        np.testing.assert_allclose(b.x, a.x, rtol=0, atol=1e-12)


def test_forgotten_programs_are_freed_without_the_cycle_collector():
    f = lambda x: snp.sum((x - 2.0) ** 2)  # noqa: E731
    sl.minimize(f, np.zeros(2))
    programs = program_cache._KEPT[f][((2,), np.dtype(np.float64))]
    ref = weakref.ref(programs)
    del programs
    gc.disable()
    try:
        program_cache.clear_programs(f)
        assert ref() is None  # freed by reference counting: nothing refers back to it
    finally:
        gc.enable()
