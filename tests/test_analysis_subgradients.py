"""slopes.analysis.subgradients: hand-derived subdifferentials, one-sided derivatives, box optimality."""

import numpy as np
import pytest

from slopes.analysis import box_optimality, is_optimal, normal_cone, subdifferential

FUNCS = {  # plain-NumPy definitions, independent of the module
    "abs": lambda x: np.sum(np.abs(x)),
    "l1": lambda x: np.sum(np.abs(x)),
    "relu": lambda x: np.sum(np.maximum(0.0, x)),
    "hinge": lambda x: np.sum(np.maximum(0.0, 1.0 - x)),
    "max": lambda x: np.max(x),
}


def one_sided(f, x, d, h=1e-7):
    """f'(x; d) by a forward difference: exact up to rounding for piecewise-linear f and small h."""
    return (f(x + h * d) - f(x)) / h


def test_hand_derived_sets():
    sd = subdifferential("abs", 0.0)
    assert sd.lo.tolist() == [-1.0] and sd.hi.tolist() == [1.0]
    sd = subdifferential("abs", [-2.0, 3.0])
    assert sd.lo.tolist() == [-1.0, 1.0] and sd.hi.tolist() == [-1.0, 1.0]
    sd = subdifferential("relu", [0.0, -1.0, 1.0])
    assert sd.lo.tolist() == [0.0, 0.0, 1.0] and sd.hi.tolist() == [1.0, 0.0, 1.0]
    sd = subdifferential("hinge", 1.0)
    assert sd.lo.tolist() == [-1.0] and sd.hi.tolist() == [0.0]
    sd = subdifferential("max", [1.0, 4.0, 4.0, 0.0])
    assert sd.kind == "simplex" and sd.active == (1, 2)
    assert sd.contains([0.0, 0.3, 0.7, 0.0]) and not sd.contains([0.0, 0.5, 0.6, 0.0])
    assert not sd.contains([0.2, 0.4, 0.4, 0.0])  # weight on a non-active index
    assert subdifferential("max", [1.0, 2.0]).contains([0.0, 1.0])


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_support_function_is_the_directional_derivative(name):
    rng = np.random.default_rng(0)
    f = FUNCS[name]
    for x in (
        np.array([0.0, 1.0, -1.0, 2.0]),
        np.array([1.0, 1.0, 0.0, 0.5]),
        np.array([3.0, 3.0, 3.0, -1.0]),
    ):
        sd = subdifferential(name, x)
        for d in rng.standard_normal((6, 4)):
            assert sd.support(d) == pytest.approx(one_sided(f, x, d), abs=1e-6)


@pytest.mark.parametrize("name", ["abs", "relu", "hinge"])
def test_numeric_bounding_box_matches_the_named_set(name):
    x = np.array([0.0, 1.0, -0.5, 2.0])
    exact = subdifferential(name, x)
    approx = subdifferential(FUNCS[name], x)
    np.testing.assert_allclose(approx.lo, exact.lo, atol=1e-7)
    np.testing.assert_allclose(approx.hi, exact.hi, atol=1e-7)


def test_numeric_on_max_gives_the_simplex_bounding_box():
    approx = subdifferential(FUNCS["max"], np.array([2.0, 2.0, 0.0]))
    np.testing.assert_allclose(approx.lo, [0, 0, 0], atol=1e-7)
    np.testing.assert_allclose(approx.hi, [1, 1, 0], atol=1e-7)


def test_subgradient_inequality_holds_for_members():
    rng = np.random.default_rng(1)
    x = np.array([0.0, 1.0, -1.0])
    for name in ("abs", "relu", "hinge"):
        sd = subdifferential(name, x)
        g = rng.uniform(sd.lo, sd.hi)
        for y in rng.uniform(-3, 3, (20, 3)):
            assert FUNCS[name](y) >= FUNCS[name](x) + g @ (y - x) - 1e-12


def test_is_optimal():
    assert is_optimal(subdifferential("abs", [0.0, 0.0]))
    assert not is_optimal(subdifferential("abs", [0.0, 1e-3]))
    assert is_optimal(subdifferential("abs", [0.0, 1e-3], tol=1e-2))
    assert not is_optimal(subdifferential("max", [1.0, 1.0]))  # 0 is never in the simplex
    with pytest.raises(TypeError, match="Subdifferential"):
        is_optimal([0.0, 1.0])


def test_normal_cone_and_box_optimality_against_the_projection_residual():
    lo, hi = 0.0, 1.0
    nc = normal_cone([0.0, 0.3, 1.0], lo, hi)
    assert nc.lo.tolist() == [-np.inf, 0.0, 0.0] and nc.hi.tolist() == [0.0, 0.0, np.inf]
    assert nc.support([-1.0, 0.0, 2.0]) == np.inf and nc.support([1.0, 0.0, -2.0]) == 0.0
    rng = np.random.default_rng(2)
    eta = 1e-8  # small enough that the projection of an interior coordinate is inactive
    for _ in range(20):
        x = rng.choice([0.0, 0.25, 0.5, 1.0], size=4)
        g = rng.standard_normal(4)
        fixed_point = np.abs(x - np.clip(x - eta * g, lo, hi)) / eta  # x = proj(x - eta g) form
        assert box_optimality(g, x, lo, hi) == pytest.approx(np.max(fixed_point), rel=1e-6)
    # f = |x - c|^2 on [0, 1]^3 is minimized at clip(c): residual 0 there, positive elsewhere
    c = np.array([-0.5, 0.4, 2.0])
    grad = lambda x: 2 * (x - c)
    assert box_optimality(grad, np.clip(c, 0, 1), lo, hi) == 0.0
    assert box_optimality(grad, np.array([0.0, 0.4, 0.9]), lo, hi) == pytest.approx(2 * 1.1)


def test_errors():
    with pytest.raises(ValueError, match="unknown function"):
        subdifferential("softplus", 0.0)
    with pytest.raises(ValueError, match="outside the box"):
        normal_cone([2.0], 0.0, 1.0)
    with pytest.raises(ValueError, match="lo <= hi"):
        normal_cone([0.5], 1.0, 0.0)
    with pytest.raises(ValueError, match="entries"):
        box_optimality([1.0, 2.0], [0.5], 0.0, 1.0)
    with pytest.raises(TypeError, match="numeric"):
        subdifferential("abs", "0")
