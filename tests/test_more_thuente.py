"""The Moré–Thuente line search, checked against the paper's own table, against scipy's
independent implementation (MINPACK-2's dcsrch, which L-BFGS-B and scipy's BFGS use), and
against the Wolfe conditions it promises."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slopes.optim import more_thuente
from slopes.optim.more_thuente import CONTINUE, CONVERGED, MoreThuente, search


def run(phi, dphi, step, c1, c2, xtol=0.1, max_trials=100):
    """Drive MoreThuente on phi; returns (step, evaluations, status)."""
    mt = MoreThuente(phi(0.0), dphi(0.0), step, c1, c2, xtol, 0.0, 1e10)
    for n in range(1, max_trials + 1):
        t = mt.stp
        status = mt.tell(phi(t), dphi(t))
        if status != CONTINUE:
            return t, n, status
    raise AssertionError("no end in max_trials")


def paper_phi(t, beta=2.0):
    return -t / (t * t + beta)


def paper_dphi(t, beta=2.0):
    return (t * t - beta) / (t * t + beta) ** 2


@pytest.mark.parametrize("step, evals, result", [(1e-3, 6, 1.4), (1e-1, 3, 1.4), (1e1, 1, 10.0), (1e3, 4, 37.0)])
def test_reproduces_table_1_of_the_paper(step, evals, result):
    # Moré & Thuente 1994, Table 1: function (5.1) with beta = 2, mu = 0.001, eta = 0.1;
    # the table prints the final step to two significant digits
    t, n, status = run(paper_phi, paper_dphi, step, 1e-3, 0.1)
    assert status == CONVERGED
    assert n == evals
    assert float(f"{t:.2g}") == result
    assert abs(paper_dphi(t)) <= 0.1 * abs(paper_dphi(0.0))


CASES = {
    "quadratic": (lambda t: (t - 3.0) ** 2, lambda t: 2.0 * (t - 3.0)),
    "paper 5.1": (paper_phi, paper_dphi),
    "paper 5.2": (lambda t: (t + 0.004) ** 5 - 2.0 * (t + 0.004) ** 4,
                  lambda t: 5.0 * (t + 0.004) ** 4 - 8.0 * (t + 0.004) ** 3),
    "exponential": (lambda t: math.exp(-3.0 * t) + t, lambda t: 1.0 - 3.0 * math.exp(-3.0 * t)),
    "flat quartic": (lambda t: (t - 0.01) ** 4 - 1e-3 * t, lambda t: 4.0 * (t - 0.01) ** 3 - 1e-3),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("step", [1e-3, 1e-1, 1.0, 10.0, 1e3])
@pytest.mark.parametrize("consts", [(1e-3, 0.9, 0.1), (1e-4, 0.9, 1e-14), (1e-3, 0.1, 0.1)])
def test_same_steps_and_evaluations_as_scipy_dcsrch(name, step, consts):
    dcsrch = pytest.importorskip("scipy.optimize._dcsrch")
    phi, dphi = CASES[name]
    c1, c2, xtol = consts
    calls = [0]

    def counted(t):
        calls[0] += 1
        return phi(t)

    search_ = dcsrch.DCSRCH(counted, dphi, c1, c2, xtol, 0.0, 1e10)
    t_ref, _, _, task = search_(alpha1=step, phi0=phi(0.0), derphi0=dphi(0.0), maxiter=100)
    t, n, status = run(phi, dphi, step, c1, c2, xtol)
    assert n == calls[0]
    if task.startswith(b"CONV"):
        assert status == CONVERGED
        assert t == pytest.approx(t_ref, rel=1e-12)
    else:  # scipy returns no step on its warnings; ours is the step the search ended at
        assert status not in (CONTINUE, CONVERGED)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.5, 50.0), st.floats(-3.0, 3.0), st.floats(1e-3, 1e3), st.sampled_from([0.9, 0.5, 0.1]))
def test_converged_steps_satisfy_the_strong_wolfe_conditions(a, b, step, c2):
    # a smooth function bounded below along the ray, decreasing at 0
    def phi(t):
        return a * (t - 1.0) ** 2 + b * math.sin(t) + 0.1 * t ** 4

    def dphi(t):
        return 2.0 * a * (t - 1.0) + b * math.cos(t) + 0.4 * t ** 3

    if not dphi(0.0) < 0:
        return
    c1 = 1e-3
    t, _, status = run(phi, dphi, step, c1, c2)
    if status == CONVERGED:
        assert phi(t) <= phi(0.0) + c1 * t * dphi(0.0)
        assert abs(dphi(t)) <= c2 * abs(dphi(0.0))
    else:  # an early end still comes with sufficient decrease
        assert phi(t) <= phi(0.0) + c1 * t * dphi(0.0)


def test_a_non_finite_trial_is_backed_off_from():
    # f is nan beyond t = 2; the minimum of (t - 1)^2 is at 1, far below the first trial 100
    def vg(x):
        t = float(x[0])
        if t > 2.0:
            return math.nan, np.array([math.nan])
        return (t - 1.0) ** 2, np.array([2.0 * (t - 1.0)])

    t, x_t, f_t, g_t, trials, why = search(vg, np.zeros(1), np.ones(1), 1.0, -2.0, 100.0, 1e-3, 0.9, 0.1,
                                           1e10, 30)
    assert why == "" and 0.0 < t <= 2.0
    assert f_t <= 1.0 - 1e-3 * t * 2.0 and abs(float(g_t[0])) <= 0.9 * 2.0


def test_public_search_on_a_quadratic_and_its_errors():
    A = np.diag([1.0, 10.0])
    x = np.array([1.0, 1.0])
    g = A @ x
    r = more_thuente(lambda z: 0.5 * float(z @ A @ z), lambda z: A @ z, x, -g, c1=1e-4, c2=0.1)
    assert r.success and r.trials == r.grad_evals
    np.testing.assert_allclose(r.x_new, x - r.step * g)
    # the exact minimizing step along -g is g.g / g.A g: a tight c2 lands close to it
    assert abs(float(r.g_new @ g)) <= 0.1 * float(g @ g)
    assert more_thuente(lambda z: float(z @ z), lambda z: 2 * z, x, x).reason.startswith("not a descent")
    with pytest.raises(ValueError, match="c1 < c2"):
        more_thuente(lambda z: float(z @ z), lambda z: 2 * z, x, -x, c1=0.5, c2=0.1)
    with pytest.raises(ValueError, match="xtol"):
        more_thuente(lambda z: float(z @ z), lambda z: 2 * z, x, -x, xtol=-1.0)


def test_out_of_trials_is_a_failure_with_the_start_point():
    # a function whose slope never flattens enough for c2 = 1e-9 on a few trials
    r = more_thuente(lambda z: float(np.cos(3 * z[0]) + z[0] ** 2), lambda z: np.array([-3 * np.sin(3 * z[0]) + 2 * z[0]]),
                     np.array([0.3]), np.array([1.0]), c1=1e-10, c2=1e-9, xtol=0.0, max_trials=2)
    assert not r.success and r.step == 0.0 and r.trials == 2
    np.testing.assert_array_equal(r.x_new, [0.3])


def test_sufficient_decrease_is_judged_up_to_rounding():
    # near a minimum the decrease c1 t g.d (here 4e-19) is far below one ulp of f (2.3e-13):
    # a step meeting the curvature condition whose f came out one ulp high is still taken
    # (a ridge regression at max|grad| 1.1e-8 stalled on exactly this), one that is really
    # higher is not
    f0, slope0 = 1434.0846975940215, -4e-16
    x, d = np.array([1.0]), np.array([-1.0])
    grad = np.array([0.3 * 4e-16])  # g_t . d = 0.3 g.d: curvature met

    def vg(z):
        return f0 + np.spacing(f0), grad

    t, x_t, f_t, g_t, trials, why = search(vg, x, d, f0, slope0, 1.0, 1e-3, 0.9, 0.1, 1e10, 20)
    assert (t, trials, why) == (1.0, 1, "")

    def higher(z):
        return f0 + 1e-9, grad

    assert search(higher, x, d, f0, slope0, 1.0, 1e-3, 0.9, 0.1, 1e10, 20)[-1] is None
