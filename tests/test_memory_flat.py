"""Memory stays flat over many calls of a gradient, jitted or eager: nothing is kept per call
(traces, tapes, cache entries of a signature already seen)."""

import gc
import tracemalloc

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp


def loss(p):
    return snp.sum(p["w"] ** 2 * snp.exp(-p["b"])) + snp.sum(snp.sin(p["w"]))


CASES = {
    "jit(grad)": (lambda: sl.jit(sl.grad(lambda x: snp.sum(x ** 2 + snp.exp(-x) * snp.sin(x)))), 4000),
    "grad": (lambda: sl.grad(lambda x: snp.sum(x ** 2 + snp.exp(-x) * snp.sin(x))), 1000),
    "jit(value_and_grad) of a dict": (lambda: (lambda f: lambda x: f({"w": x, "b": x[:1]}))(
        sl.jit(sl.value_and_grad(loss))), 2000),
}


def growth_per_call(fn, calls):
    """Bytes still allocated after ``calls`` more calls, per call, once warm."""
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=5) for _ in range(8)]  # new values, one signature
    for x in xs * 10:  # warm-up: traces, caches, NumPy's own first allocations
        fn(x)
    gc.collect()
    tracemalloc.start()
    try:
        for k in range(200):
            fn(xs[k % 8])
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for k in range(calls):
            fn(xs[k % 8])
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / calls


@pytest.mark.parametrize("name", sorted(CASES))
def test_memory_stays_flat_over_many_calls(name):
    make, calls = CASES[name]
    fn = make()
    # one object kept per call would be >= 16 bytes per call
    assert growth_per_call(fn, calls) < 1.0
    if hasattr(fn, "cache_info"):
        assert fn.cache_info()["size"] == 1
