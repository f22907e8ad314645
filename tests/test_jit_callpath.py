"""The compiled call path of sl.jit: arguments checked against the last program in one
function, outputs built in it; any other structure, shape or dtype takes the general path."""

from collections import namedtuple

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
import slopes.optim as so
from slopes.core import pytree
from slopes.transforms.jit import CHECKED_AFTER

from calls import calls_during
from test_train_step import P0, batches, make_step

RNG = np.random.default_rng(21)
Pair = namedtuple("Pair", "a b")


def warm(jf, *args):
    """Call ``jf`` enough times for its checked call path to be compiled; the last result."""
    for _ in range(CHECKED_AFTER + 1):
        out = jf(*args)
    return out


def warmed_step():
    """A jitted Adam step past the calls that compile its checked call path, with its arguments."""
    opt = so.adam(1e-2)
    jstep = sl.jit(make_step(opt))
    xb, yb = batches(1)[0]
    p, s, _ = warm(jstep, P0, opt.init(P0), xb, yb)
    return jstep, p, s, xb, yb


def test_training_step_call_enters_few_functions_beyond_the_replay():
    # the walk of the arguments to key the cache and of the outputs to rebuild them entered 68
    # functions per call of this step beyond the replay's own; one compiled function now: 19
    # (the function itself, len() of each container, isinstance and np.asarray of each of the
    # 0-d leaves (a bias, the step count and Adam's two moments of the bias), the clock)
    jstep, p, s, xb, yb = warmed_step()
    (entry,) = jstep._programs.values()
    leaves = [np.asarray(x) for x in pytree.leaves((p, s, xb, yb))]
    replay_calls, want = calls_during(entry.program.compile(), *leaves)
    calls, got = calls_during(jstep, p, s, xb, yb)
    assert calls - replay_calls <= 20, (calls, replay_calls)
    # the same numbers in the same structure as the replay's own
    for g, w in zip(pytree.leaves(got), want):
        np.testing.assert_array_equal(g, w)
    assert pytree.flatten(got)[1] == pytree.flatten(jstep(p, s, xb, yb))[1]
    assert type(got[1]) is type(s) and sorted(got[0]) == sorted(p)


def test_a_program_called_a_few_times_compiles_no_checks():
    # compiling the checks costs about 40 us a leaf: a program called a few times (one
    # sl.minimize) does not pay it, nor does a function of one array (keyed inline)
    f = sl.jit(lambda d: d["x"] * 2.0)
    g = sl.jit(lambda x: x * 2.0)
    for _ in range(CHECKED_AFTER):  # the first traces: CHECKED_AFTER - 1 calls of the program
        f({"x": np.ones(2)})
        g(np.ones(2))
    assert f._last is None and all(e.enter is None for e in f._programs.values())
    f({"x": np.ones(2)})
    assert f._last is not None
    for _ in range(CHECKED_AFTER + 1):
        g(np.ones(2))
    assert g._last is None and all(e.enter is None for e in g._programs.values())


def test_other_shapes_dtypes_and_structures_get_their_own_programs():
    f = sl.jit(lambda d, t: snp.sum(d["x"] * t[0]) + t[1])
    x = RNG.normal(size=3)
    warm(f, {"x": x}, (2.0, 1.0))
    cases = [
        (({"x": x}, (2.0, 1.0)), 2 * x.sum() + 1),
        (({"x": np.ones(4)}, (2.0, 1.0)), 9.0),  # another shape
        (({"x": np.ones(3, dtype=np.float32)}, (2.0, 1.0)), 7.0),  # another dtype
        (({"x": x}, [2.0, 1.0]), 2 * x.sum() + 1),  # a list for the tuple
        (({"x": x}, (np.float64(2.0), np.array(1.0))), 2 * x.sum() + 1),  # scalars as NumPy's
        (({"x": x}, Pair(3.0, 0.0)), 3 * x.sum()),  # a namedtuple
        (({"x": x}, (2.0, 1.0)), 2 * x.sum() + 1),  # the first one again
    ]
    for args, want in cases:
        np.testing.assert_allclose(warm(f, *args), want, rtol=1e-6)  # past the compile of its checks
        np.testing.assert_allclose(f(*args), want, rtol=1e-6)
    assert f.cache_info()["misses"] == 5  # NumPy's scalars are the floats' program


def test_a_dict_with_other_keys_is_traced_again_not_replayed():
    f = sl.jit(lambda d: d["a"] * 2.0)
    warm(f, {"a": np.ones(2)})
    with pytest.raises(KeyError):
        f({"b": np.ones(2)})  # same size and leaf shapes, other key: traced, and fails there
    np.testing.assert_array_equal(f({"a": np.arange(2.0)}), [0.0, 2.0])
    with pytest.raises(KeyError):
        f({"b": np.ones(2), "c": np.ones(2)})


def test_an_array_subclass_or_a_tracer_takes_the_general_path():
    f = sl.jit(lambda x: snp.sum(x ** 2))
    x = np.arange(3.0)
    warm(f, x)
    assert float(f(np.ma.masked_array(x))) == 5.0  # not type ndarray: the general path
    np.testing.assert_allclose(sl.grad(f)(x), 2 * x)  # under grad: the function runs unstaged


def test_clear_cache_forgets_the_checked_program():
    scale = {"k": 2.0}
    f = sl.jit(lambda x: x * scale["k"])
    x = np.ones(2)
    np.testing.assert_array_equal(warm(f, x), [2.0, 2.0])
    scale["k"] = 5.0
    np.testing.assert_array_equal(f(x), [2.0, 2.0])  # frozen in the program, as documented
    f.clear_cache()
    np.testing.assert_array_equal(f(x), [5.0, 5.0])


def test_the_checked_program_is_dropped_with_its_cache_entry():
    f = sl.jit(lambda x: x + 1.0, cache_size=1)
    warm(f, np.ones(2))
    f(np.ones(3))  # evicts the (2,) program
    assert f.cache_info()["size"] == 1 and f._last is None
    np.testing.assert_array_equal(f(np.zeros(2)), [1.0, 1.0])
    assert f.cache_info()["misses"] == 3


def test_results_are_fresh_arrays_and_inputs_untouched():
    jstep, p, s, xb, yb = warmed_step()
    p_before = {k: v.copy() for k, v in p.items()}
    p1, s1, _ = jstep(p, s, xb, yb)
    p2, s2, _ = jstep(p, s, xb, yb)
    for k in p:
        np.testing.assert_array_equal(p[k], p_before[k])
        np.testing.assert_array_equal(p1[k], p2[k])
        p1[k] += 1.0  # writing to one result changes no other
        assert not np.array_equal(p1[k], p2[k])


def test_a_tuple_of_outputs_is_the_replays_own_tuple():
    # value_and_grad's (f, g): the checked call path returns the replay's tuple, not a rebuilt one
    vg = sl.jit(sl.value_and_grad(lambda x, y: snp.sum((x - y) ** 2)))
    x, y = np.array([1.0, 2.0]), np.array([0.5, 0.0])
    f, g = warm(vg, x, y)
    assert "v[0]" not in vg._last.enter.source
    assert f == 4.25
    np.testing.assert_array_equal(g, 2 * (x - y))
