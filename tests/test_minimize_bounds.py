"""``bounds=`` read with scipy's meanings (checked against scipy.optimize.minimize's L-BFGS-B on
the same problems and against the closed-form clip of a separable quadratic), the one ambiguous
form refused with both readings shown, and methods that would ignore a constraint refusing it."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import slopes as sl
import slopes.numpy as snp
from slopes.optim import projections as proj
from slopes.optim import prox as px
from slopes.optim.bounds import read_bounds

scipy_optimize = pytest.importorskip("scipy.optimize")

Q = np.array([[3.0, 1.0], [1.0, 2.0]])
C = np.array([-8.0, 1.0])


def _quad(x):
    return 0.5 * snp.dot(x, snp.dot(Q, x)) + snp.dot(C, x)


def _scipy_lbfgsb(bounds):
    return scipy_optimize.minimize(lambda x: 0.5 * x @ Q @ x + C @ x, np.zeros(2), jac=lambda x: Q @ x + C,
                                   method="L-BFGS-B", bounds=bounds, options={"gtol": 1e-12}).x


# -- scipy's meaning, against scipy ------------------------------------------------------------
def test_a_list_of_pairs_means_one_pair_per_coordinate_as_in_scipy():
    # the case: [(0, 1), (2, 3)] is 0 <= x0 <= 1, 2 <= x1 <= 3 (not lower=(0, 1), upper=(2, 3))
    bounds = [(0, 1), (2, 3)]
    r = sl.minimize(lambda x: snp.sum((x - np.array([5.0, -1.0])) ** 2), np.zeros(2),
                    method="projected_gradient", bounds=bounds, gtol=1e-10)
    np.testing.assert_allclose(r.x, [1.0, 2.0], atol=1e-9)  # the closed form: clip((5, -1), lo, hi)
    r = sl.minimize(_quad, np.zeros(2), method="projected_gradient", bounds=bounds, gtol=1e-10)
    np.testing.assert_allclose(r.x, _scipy_lbfgsb(bounds), atol=1e-7)


@pytest.mark.parametrize("spelling", [
    "list of pairs", "pairs with None", "list of array rows", "scipy Bounds", "Bounds with scalars", "one box",
])
def test_every_accepted_spelling_matches_scipy_lbfgsb(spelling):
    lo, hi = np.array([-2.0, -0.5]), np.array([2.0, 2.0])
    forms = {
        "list of pairs": ([(-2, 2), (-0.5, 2)], [(-2, 2), (-0.5, 2)]),
        "pairs with None": ([(None, 2), (-0.5, None)], [(None, 2), (-0.5, None)]),
        "list of array rows": (list(np.column_stack([lo, hi])), list(zip(lo, hi))),
        "scipy Bounds": (scipy_optimize.Bounds(lo, hi), scipy_optimize.Bounds(lo, hi)),
        "Bounds with scalars": (scipy_optimize.Bounds(-0.5, 2.0), scipy_optimize.Bounds(-0.5, 2.0)),
        "one box": ((-0.5, 2.0), [(-0.5, 2.0)] * 2),
    }
    ours, scipys = forms[spelling]
    for method in ("projected_gradient", "subgradient"):
        opts = {"gtol": 1e-10} if method == "projected_gradient" else {"learning_rate": 0.3, "maxiter": 1000}
        r = sl.minimize(_quad, np.zeros(2), method=method, bounds=ours, **opts)
        ref = _scipy_lbfgsb(scipys)
        np.testing.assert_allclose(r.x_best, ref, atol=1e-7 if method == "projected_gradient" else 5e-3)


def test_lower_upper_arrays_are_read_so_where_they_cannot_be_pairs():
    # three coordinates: a 2-tuple of length-3 arrays has only the (lower, upper) reading
    with pytest.raises(ValueError, match="2 entries"):  # a list is read only as (min, max) pairs
        read_bounds([np.zeros(3), np.ones(3)], (3,))
    lo, hi = np.array([0.0, -1.0, 2.0]), np.array([1.0, 0.0, 5.0])
    c = np.array([3.0, 3.0, -3.0])
    r = sl.minimize(lambda x: snp.sum((x - c) ** 2), np.zeros(3), method="projected_gradient",
                    bounds=(lo, hi), gtol=1e-10)
    np.testing.assert_allclose(r.x, np.clip(c, lo, hi), atol=1e-9)
    ref = scipy_optimize.minimize(lambda x: np.sum((x - c) ** 2), np.zeros(3), method="L-BFGS-B",
                                  bounds=scipy_optimize.Bounds(lo, hi)).x
    np.testing.assert_allclose(r.x, ref, atol=1e-7)


NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)


@settings(max_examples=25, deadline=None, phases=NO_SHRINK)
@given(n=st.sampled_from([1, 3, 4]), seed=st.integers(0, 2**32 - 1))
def test_all_spellings_of_one_box_read_alike_and_mean_the_clip(n, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(2, n))
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    lo[rng.random(n) < 0.3] = -np.inf
    pairs = [(None if np.isinf(u) else u, v) for u, v in zip(lo, hi)]
    for spelling in (pairs, np.column_stack([lo, hi]), scipy_optimize.Bounds(lo, hi), (lo, hi)):
        got_lo, got_hi = read_bounds(spelling, (n,))
        np.testing.assert_array_equal(got_lo, lo)
        np.testing.assert_array_equal(got_hi, hi)
    # the meaning: the minimizer of |x - c|^2 in the box is clip(c, lo, hi)
    c = 3 * rng.normal(size=n)
    r = sl.minimize(lambda x: snp.sum((x - c) ** 2), np.zeros(n), method="projected_gradient",
                    bounds=pairs, L=2.0, gtol=1e-12)
    np.testing.assert_allclose(r.x, np.clip(c, lo, hi), atol=1e-10)


def test_bounds_follow_the_flat_order_of_a_matrix_x0():
    pairs = [(0, 1), (2, 3), (4, 5), (6, 7)]
    lo, hi = read_bounds(pairs, (2, 2))
    np.testing.assert_array_equal(lo, [[0, 2], [4, 6]])
    np.testing.assert_array_equal(hi, [[1, 3], [5, 7]])


# -- the ambiguous form is refused, with both readings -----------------------------------------
@pytest.mark.parametrize("bounds", [((0, 1), (2, 3)), np.array([[0, 1], [2, 3]]), (np.array([0, 1]), [2, 3])],
                         ids=["tuple of pairs", "2x2 array", "tuple of arrays"])
def test_two_pairs_for_two_coordinates_are_refused_showing_both_readings(bounds):
    with pytest.raises(ValueError, match="ambiguous") as info:
        sl.minimize(_quad, np.zeros(2), method="projected_gradient", bounds=bounds)
    msg = str(info.value)
    assert "x[0] in [0, 1], x[1] in [2, 3]" in msg  # as (min, max) pairs
    assert "x[0] in [0, 2], x[1] in [1, 3]" in msg  # as (lower, upper)
    # each suggested spelling is unambiguous and means what the message says it does
    as_pairs = eval(re.search(r"list of pairs, bounds=(\[.*?\]),", msg).group(1))  # noqa: S307 - our text
    as_box = eval(re.search(r"bounds=(scipy\.optimize\.Bounds\(.*?\))$", msg).group(1), {"scipy": __import__("scipy")})  # noqa: S307
    np.testing.assert_array_equal(np.stack(read_bounds(as_pairs, (2,))), [[0, 2], [1, 3]])
    np.testing.assert_array_equal(np.stack(read_bounds(as_box, (2,))), [[0, 1], [2, 3]])


def test_the_course_box_goes_to_minimize_as_it_is_and_its_arrays_as_a_tuple_are_refused():
    p = sl.problems.get("box_quadratic")
    lo, hi = p.bounds  # a Box unpacks as (lower, upper) ...
    r = sl.minimize(p.fun, p.x0, method="projected_gradient", bounds=p.bounds)  # ... and reads as Bounds
    ref = scipy_optimize.minimize(p.fun, p.x0, method="L-BFGS-B", bounds=list(zip(lo, hi)))
    np.testing.assert_allclose(r.x, p.x_min, atol=1e-5)
    np.testing.assert_allclose(r.x, ref.x, atol=1e-5)
    with pytest.raises(ValueError, match=r"scipy\.optimize\.Bounds\(\[-2, -2\], \[2, 2\]\)"):
        sl.minimize(p.fun, p.x0, method="projected_gradient", bounds=(lo, hi))


def test_readings_that_agree_are_not_ambiguous():
    # ((0, None), (None, 1)) means x0 >= 0, x1 <= 1 whichever way it is read
    lo, hi = read_bounds(((0, None), (None, 1)), (2,))
    np.testing.assert_array_equal(lo, [0, -np.inf])
    np.testing.assert_array_equal(hi, [np.inf, 1])


@pytest.mark.parametrize("bounds, words", [
    ([(0, 1)] * 3, ["3 entries", "2 coordinates", "list of (min, max) pairs"]),
    ("0,1", ["cannot be read", "scipy.optimize.Bounds"]),
    (5.0, ["cannot be read"]),
    (np.array(5.0), ["cannot be read"]),
    ([(0, 1), (2,)], ["not (min, max) pairs"]),
    ([np.zeros(2), np.ones(2), np.ones(2)], ["3 entries"]),
    ([(1, 0), (0, 1)], ["lower bound 1 of x[0] is above its upper bound 0"]),
    ([(0, np.nan), (0, 1)], ["NaN"]),
    (scipy_optimize.Bounds(np.zeros(3), np.ones(3)), ["do not broadcast to the shape (2,)"]),
])
def test_unreadable_bounds_name_the_problem_and_the_spellings(bounds, words):
    with pytest.raises(ValueError) as info:
        sl.minimize(_quad, np.zeros(2), method="projected_gradient", bounds=bounds)
    for w in words:
        assert w in str(info.value)


# -- no method ignores a constraint silently ---------------------------------------------------
@pytest.mark.parametrize("method", ["lbfgs", "bfgs", "gd", "adam", "newton", "proximal_gradient"])
def test_methods_that_ignore_bounds_refuse_them(method):
    with pytest.raises(ValueError, match=rf"method '{method}' does not use bounds=.*'projected_gradient'"):
        sl.minimize(_quad, np.zeros(2), method=method, bounds=[(0, 1), (2, 3)], learning_rate=0.1)


def test_projection_and_prox_go_only_to_the_methods_that_use_them():
    with pytest.raises(ValueError, match="does not use projection="):
        sl.minimize(_quad, np.zeros(2), method="lbfgs", projection=proj.box(0, 1))
    with pytest.raises(ValueError, match="does not use prox=.*'proximal_gradient'"):
        sl.minimize(_quad, np.zeros(2), method="projected_gradient", bounds=(0, 1), prox=px.l1(1.0))
    with pytest.raises(ValueError, match="not both"):
        sl.minimize(_quad, np.zeros(2), method="projected_gradient", bounds=(0, 1), projection=proj.box(0, 1))
