"""How the replay writes integer powers and the zero-cotangent mask (``core/program.py``),
counted, never timed; values checked bit for bit against NumPy and the eager code."""

import sys

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp

from calls import calls_during


def chained_rosenbrock(x):
    return snp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def python_functions_entered(fn, *args):
    """The names of the Python functions entered while ``fn(*args)`` runs (builtins aside)."""
    names = []

    def profile(frame, event, arg):
        if event == "call":
            names.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        fn(*args)
    finally:
        sys.setprofile(None)
    return names


def awkward_values(dtype, n=4000, seed=0):
    """Random values over the dtype's whole range, with subnormals, the overflow edge of
    squaring, zeros of both signs, infinities and nan."""
    info = np.finfo(dtype)
    rng = np.random.default_rng(seed)
    with np.errstate(over="ignore"):
        wide = (rng.standard_normal(n) * 2.0 ** rng.uniform(np.log2(float(info.tiny)), np.log2(float(info.max)), n))
    edge = np.sqrt(float(info.max)) * np.array([0.999, 1.0, 1.001, -1.001])
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, float(info.smallest_subnormal),
                        -float(info.smallest_subnormal), float(info.tiny), 1.0, -1.0])
    with np.errstate(over="ignore"):
        return np.concatenate([wide, rng.standard_normal(n), edge, special]).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("exponent", [2, -1, 0.5, 2.0, 3, -2, 1, 0])
def test_a_replayed_power_has_the_bits_of_numpys_own_operator(dtype, exponent):
    # the replay calls the ufunc NumPy's `x ** k` calls (np.square for 2) where NumPy has a
    # fast path; the reference is NumPy's operator on the plain array, and the eager slopes
    # value (through a transform) must agree too
    x = awkward_values(dtype)
    with np.errstate(all="ignore"):
        want = x ** exponent
        got = sl.jit(lambda x: x ** exponent)(x)
        eager = sl.jvp(lambda x: x ** exponent, (x,), (np.ones_like(x),))[0]
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got.view(f"u{want.itemsize}"), want.view(f"u{want.itemsize}"))
    np.testing.assert_array_equal(eager.view(f"u{want.itemsize}"), want.view(f"u{want.itemsize}"))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_derivatives_of_integer_powers_replay_with_the_eager_bits(dtype):
    # d/dx x**3 = 3 x**2 and d/dx x**2 = 2 x, jitted and eager, the same bits; against the closed form
    x = awkward_values(dtype, n=500, seed=1)
    x = x[np.isfinite(x) & (np.abs(x) < 1e15)]
    for k in (2, 3, -1):
        with np.errstate(all="ignore"):
            f = lambda x: snp.sum(x ** k)  # noqa: E731
            jitted, eager = sl.jit(sl.grad(f))(x), sl.grad(f)(x)
            np.testing.assert_array_equal(jitted, eager)
            ref = k * x.astype(np.float64) ** (k - 1)
            normal = (np.abs(ref) >= np.finfo(dtype).tiny) & (np.abs(ref) <= np.finfo(dtype).max)
            np.testing.assert_allclose(eager[normal], ref[normal], rtol=4 * np.finfo(dtype).eps, atol=0)


def test_rosenbrock_replay_enters_no_python_function_for_powers_or_the_finite_test():
    # x ** 2 ran through the primitive's Python implementation (three calls an evaluation),
    # and the mask of a product with the cotangent through np.isfinite(r).all() (two Python
    # functions, numpy's all() wrapper included); now operators and one helper with a dot product
    vg = sl.jit(sl.value_and_grad(chained_rosenbrock))
    x = np.tile([-1.2, 1.0], 50)
    vg(x)
    (entry,) = vg._programs.values()
    # NumPy's own operator (its fast path for the int 2 is np.square), no Python call
    assert " ** c" in entry.replay.source and "power" not in entry.replay.source
    names = python_functions_entered(entry.replay, x)
    assert names == ["replay", "finite_or_masked"], names
    # against the hand-written gradient
    r = x[1:] - x[:-1] ** 2
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * r - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * r
    f, got = vg(x)
    np.testing.assert_allclose(got, g, rtol=1e-13)
    assert f == pytest.approx(np.sum(100.0 * r ** 2 + (1.0 - x[:-1]) ** 2), rel=1e-14)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the branch not taken divides by zero
@pytest.mark.parametrize("shape", [(9,), (3, 4)])
def test_the_mask_keeps_nan_out_where_the_cotangent_is_zero(shape):
    # sqrt'(x) = inf at 0 and nan below it, in the branch where() does not take: masked
    def f(x):
        return snp.sum(snp.where(x > 0, snp.sqrt(snp.abs(x)) * x, 0.0))

    x = np.linspace(-2.0, 2.0, int(np.prod(shape))).reshape(shape)
    x.flat[x.size // 2] = 0.0
    jitted, eager = sl.jit(sl.grad(f))(x), sl.grad(f)(x)
    np.testing.assert_array_equal(jitted, eager)
    # d/dx x^1.5 = 1.5 sqrt(x) for x > 0, 0 elsewhere
    np.testing.assert_allclose(jitted, np.where(x > 0, 1.5 * np.sqrt(np.abs(x)), 0.0), rtol=1e-14)


@pytest.mark.filterwarnings("error")  # the overflowing test itself warns of nothing
def test_the_mask_passes_finite_entries_whose_squares_overflow():
    # r . r overflows for entries near 1e200: the exact test decides, and nothing is masked
    def f(x):
        return snp.sum(x * (x * 1e200))

    x = np.array([1.0, 0.0, -2.0, 3.0])
    jitted, eager = sl.jit(sl.grad(f))(x), sl.grad(f)(x)
    np.testing.assert_array_equal(jitted, eager)
    np.testing.assert_array_equal(jitted, 2e200 * x)


def test_a_value_and_grad_call_enters_only_the_call_and_the_replay():
    # run() was a lambda over the replay and a builder of the (f, g) tuple the replay returns
    vg = sl.jit(sl.value_and_grad(lambda x: snp.sum(x * x)))
    x = np.arange(3.0)
    vg(x)
    (entry,) = vg._programs.values()
    replay_calls, _ = calls_during(entry.replay, x)
    calls, (f, g) = calls_during(vg, x)
    # __call__, len(args), the lookup and the clock: 6 with the lambda and the builder
    assert calls - replay_calls <= 4, (calls, replay_calls)
    assert f == 5.0 and g.tolist() == [0.0, 2.0, 4.0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_negated_product_with_a_number_is_one_product_with_the_same_bits(dtype):
    # d/dx (1 - x)^2 = -(2.0 * (1 - x)) from the chain rule: one multiply by -2.0 in the replay
    def f(x):
        return snp.sum((1.0 - x) ** 2)

    x = awkward_values(dtype, n=2000, seed=2)
    vg = sl.jit(sl.grad(f))
    with np.errstate(all="ignore"):
        got, eager = vg(x), sl.grad(f)(x)
        want = -(2.0 * (1.0 - x))  # NumPy, the rule's own order of operations
    names = [e.prim.name for e in vg.trace(x).equations]
    assert "negative" not in names and names.count("multiply") == 1, names
    assert got.dtype == dtype
    finite = ~np.isnan(want)  # only a NaN's sign bit may differ
    bits = f"u{want.itemsize}"
    np.testing.assert_array_equal(got[finite].view(bits), want[finite].view(bits))
    np.testing.assert_array_equal(eager[finite].view(bits), want[finite].view(bits))
    assert np.array_equal(np.isnan(got), np.isnan(want))


def test_a_product_read_twice_keeps_its_negation():
    # -(3 x) and 3 x both needed: the product stays, negated once
    def f(x):
        p = 3.0 * x
        return snp.sum(-p * x) + snp.sum(p)

    prog = sl.jit(f).trace(np.ones(4))
    assert [e.prim.name for e in prog.equations].count("negative") == 1
    x = np.array([0.5, -1.0, 2.0, 0.0])
    assert sl.jit(f)(x) == pytest.approx(-3.0 * np.sum(x * x) + 3.0 * np.sum(x))
