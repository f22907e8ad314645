"""slopes.ml.initializers: sample statistics vs the Glorot/He formulas, determinism, errors,
and PyTorch's torch.nn.init when installed."""

import math

import numpy as np
import pytest

import slopes.ml as ml
from slopes.ml import initializers as init

SHAPE = (400, 600)  # 240k samples: sample std within ~0.15% of the truth (1 / sqrt(2N))
FAN_IN, FAN_OUT = SHAPE


def check_normal(w, std):
    assert abs(w.mean()) < 5 * std / math.sqrt(w.size)
    assert w.std() == pytest.approx(std, rel=0.01)


def check_uniform(w, limit):
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.999 * limit  # the whole interval is used
    assert abs(w.mean()) < 5 * limit / math.sqrt(3 * w.size)
    assert w.std() == pytest.approx(limit / math.sqrt(3), rel=0.01)


def test_glorot_and_he_match_formulas():
    check_normal(init.xavier_normal(SHAPE, 0), math.sqrt(2 / (FAN_IN + FAN_OUT)))
    check_uniform(init.xavier_uniform(SHAPE, 1), math.sqrt(6 / (FAN_IN + FAN_OUT)))
    check_normal(init.he_normal(SHAPE, 2), math.sqrt(2 / FAN_IN))
    check_uniform(init.he_uniform(SHAPE, 3), math.sqrt(6 / FAN_IN))
    check_normal(init.xavier_normal(SHAPE, 4, gain=3.0), 3.0 * math.sqrt(2 / (FAN_IN + FAN_OUT)))


def test_plain_normal_and_uniform():
    check_normal(init.normal(SHAPE, std=0.02, seed=0), 0.02)
    w = init.normal((1000,), 2.0, seed=0, mean=5.0)
    assert w.mean() == pytest.approx(5.0, abs=5 * 2.0 / math.sqrt(1000))
    u = init.uniform(SHAPE, 1.0, 3.0, 0)
    assert u.min() >= 1.0 and u.max() < 3.0
    assert u.std() == pytest.approx(2.0 / math.sqrt(12), rel=0.01)
    z = init.zeros((2, 3))
    assert z.shape == (2, 3) and z.dtype == np.float64 and not z.any()


def test_fans_and_layout():
    assert init.fan_in_and_out((5, 7)) == (5, 7)
    assert init.fan_in_and_out((3, 3, 16, 32)) == (3 * 3 * 16, 3 * 3 * 32)
    # the weight layout is (fan_in, fan_out): He scales with the first axis
    assert init.he_normal((50, 5000), 0).std() == pytest.approx(math.sqrt(2 / 50), rel=0.02)


def test_determinism_seed_and_generator():
    for f in (init.xavier_uniform, init.xavier_normal, init.he_uniform, init.he_normal):
        a, b = f((30, 20), 7), f((30, 20), 7)
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, f((30, 20), 8))
        g1, g2 = np.random.default_rng(7), np.random.default_rng(7)
        np.testing.assert_array_equal(f((30, 20), g1), f((30, 20), g2))
        assert not np.array_equal(f((30, 20), g1), a)  # a generator advances between calls
    np.testing.assert_array_equal(init.normal(5, seed=3), init.normal(5, seed=3))
    np.testing.assert_array_equal(init.uniform(5, 0, 1, 3), np.random.default_rng(3).uniform(0, 1, 5))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dtype_and_shape(dtype):
    for w in (
        init.zeros((4, 3), dtype=dtype),
        init.normal((4, 3), seed=0, dtype=dtype),
        init.uniform((4, 3), -1, 1, 0, dtype=dtype),
        init.xavier_uniform((4, 3), 0, dtype=dtype),
        init.he_normal((4, 3), 0, dtype=dtype),
    ):
        assert isinstance(w, np.ndarray) and w.shape == (4, 3) and w.dtype == dtype


def test_reachable_from_slopes_ml():
    import slopes as sl

    assert sl.ml.initializers.he_normal is init.he_normal is ml.initializers.he_normal


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: init.xavier_uniform((10,), 0), ValueError, "at least 2 axes"),
        (lambda: init.he_normal((0, 5), 0), ValueError, "positive sizes"),
        (lambda: init.normal((2, -1), seed=0), ValueError, "non-negative ints"),
        (lambda: init.zeros((2.5, 3)), ValueError, "non-negative ints"),
        (lambda: init.zeros("ab"), ValueError, "non-negative ints"),
        (lambda: init.zeros(None), TypeError, "shape must be an int or a tuple"),
        (lambda: init.he_uniform((3, 3), None), TypeError, "seed must be an int or a numpy.random.Generator"),
        (lambda: init.normal((3, 3), seed=1.5), TypeError, "seed must be"),
        (lambda: init.zeros((3,), dtype=int), TypeError, "floating dtype"),
        (lambda: init.uniform((3,), 1.0, 0.0, 0), ValueError, "low <= high"),
        (lambda: init.normal((3,), -1.0, seed=0), ValueError, "std must be non-negative"),
        (lambda: init.xavier_normal((3, 3), 0, gain=0.0), ValueError, "gain must be positive"),
    ],
)
def test_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_against_torch_init():
    torch = pytest.importorskip("torch")
    nn_init = torch.nn.init
    torch.manual_seed(0)
    # torch stores a dense weight as (fan_out, fan_in); ours is (fan_in, fan_out)
    tw = torch.empty(FAN_OUT, FAN_IN, dtype=torch.float64)
    pairs = [
        (nn_init.xavier_uniform_, init.xavier_uniform),
        (nn_init.xavier_normal_, init.xavier_normal),
        (lambda t: nn_init.kaiming_uniform_(t, nonlinearity="relu"), init.he_uniform),
        (lambda t: nn_init.kaiming_normal_(t, nonlinearity="relu"), init.he_normal),
    ]
    for theirs, ours in pairs:
        t = theirs(tw).numpy()
        w = ours(SHAPE, 0)
        assert w.std() == pytest.approx(t.std(), rel=0.02)
        assert np.abs(w).max() == pytest.approx(np.abs(t).max(), rel=0.2)
