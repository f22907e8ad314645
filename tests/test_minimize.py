"""Tests of sl.minimize: the driver, Result/History and the smooth methods."""

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
from slopes.optim.methods_base import METHODS, Method, StepInfo, register_method

QUAD = sl.problems.get("quadratic_2x2")
ROSEN = sl.problems.get("rosenbrock")

SMOOTH_QUAD = [
    ("gd", {}),
    ("gd", {"learning_rate": 0.05}),
    ("gd", {"L": 20.1}),
    ("gd", {"line_search": "strong_wolfe"}),
    ("momentum", {}),
    ("nesterov", {}),
    ("adagrad", {"learning_rate": 1.0}),
    ("rmsprop", {}),
    ("adam", {"learning_rate": 0.1}),
    ("adamw", {"learning_rate": 0.1, "weight_decay": 0.0}),
    ("newton", {}),
    ("bfgs", {}),
    ("bfgs", {"initial_scaling": True}),
    ("lbfgs", {}),
]


def _check_converged(r, prob, gtol=None, xtol=1e-4):
    gtol = sl.optim.driver.default_gtol(np.float64) if gtol is None else gtol
    assert r.success, r.message
    assert r.status == 0
    g = sl.grad(prob.fun)(r.x)
    assert np.max(np.abs(g)) <= gtol
    assert r.grad_norm <= gtol
    np.testing.assert_allclose(r.x, prob.x_min, atol=xtol)


@pytest.mark.parametrize("method,kw", SMOOTH_QUAD, ids=lambda v: str(v))
def test_smooth_methods_on_course_quadratic(method, kw):
    r = sl.minimize(QUAD.fun, QUAD.x0, method=method, **kw)
    _check_converged(r, QUAD)
    assert r.method == method
    assert abs(r.fun - QUAD.f_min) < 1e-8


@pytest.mark.parametrize("method", ["newton", "bfgs", "lbfgs"])
def test_second_order_and_quasi_newton_on_rosenbrock(method):
    r = sl.minimize(ROSEN.fun, np.array([-1.2, 1.0]), method=method)
    _check_converged(r, ROSEN)
    assert r.nit < 100


def test_newton_modifies_indefinite_hessian():
    # start where the Rosenbrock Hessian is indefinite; both modifications converge
    x0 = np.array([0.0, 1.0])
    assert np.linalg.eigvalsh(sl.hessian(ROSEN.fun)(x0)).min() < 0
    for mod in ("eigenvalue", "cholesky"):
        r = sl.minimize(ROSEN.fun, x0, method="newton", modification=mod)
        _check_converged(r, ROSEN)


@pytest.mark.parametrize("name", ["beale", "helical_valley", "wood", "powell_singular", "box_3d", "bard"])
@pytest.mark.parametrize("method", ["bfgs", "lbfgs"])
def test_quasi_newton_on_mgh(name, method):
    p = sl.problems.get(name)
    r = sl.minimize(p.fun, p.x0, method=method, gtol=1e-5)
    assert r.success, r.message
    assert r.fun - p.f_min <= 1e-6 * (1 + abs(p.f_min))
    assert np.max(np.abs(sl.grad(p.fun)(r.x))) <= 1e-5


def test_no_success_at_non_stationary_point():
    r = sl.minimize(ROSEN.fun, ROSEN.x0, method="bfgs", maxiter=3)
    assert not r.success
    assert r.status == 1
    assert "maximum number of iterations" in r.message
    assert r.nit == 3
    assert r.grad_norm > sl.optim.driver.default_gtol(np.float64)
    r = sl.minimize(QUAD.fun, QUAD.x0, method="gd", learning_rate=0.01, maxiter=5)
    assert not r.success and r.nit == 5


def test_divergence_reported_and_best_point_kept():
    def f(x):
        return x[0] ** 2 + 10 * x[1] ** 2

    x0 = np.array([1.0, 1.0])
    r = sl.minimize(f, x0, method="gd", learning_rate=0.5, maxiter=1000)
    assert not r.success
    assert r.status == 2
    assert "diverged" in r.message
    assert "smaller learning_rate" in r.message
    assert r.fun_best <= float(f(x0))
    assert np.isfinite(r.x_best).all()
    np.testing.assert_allclose(float(f(r.x_best)), r.fun_best)
    # a stable step converges
    r = sl.minimize(f, x0, method="gd", learning_rate=0.05)
    assert r.success


def test_divergence_on_nan():
    with np.errstate(invalid="ignore", divide="ignore"):
        r = sl.minimize(lambda x: snp.log(x[0]) + x[0] ** 2, np.array([1.0]), method="gd",
                        learning_rate=10.0)
    assert not r.success and "diverged" in r.message


def test_unknown_method_and_option():
    with pytest.raises(ValueError, match="valid methods") as e:
        sl.minimize(QUAD.fun, QUAD.x0, method="nope")
    for name in ("gd", "bfgs", "lbfgs", "newton", "adam"):
        assert repr(name) in str(e.value)
    with pytest.raises(ValueError, match="accepts") as e:
        sl.minimize(QUAD.fun, QUAD.x0, method="lbfgs", beta=0.9)
    assert "'m'" in str(e.value) and "'beta'" in str(e.value)
    with pytest.raises(ValueError, match="line_search"):
        sl.minimize(QUAD.fun, QUAD.x0, method="gd", line_search="exact")


def test_user_jac_and_hess_are_used():
    A = np.array([[2.0, 1.0], [1.0, 20.0]])
    b = np.array([5.0, 3.0])
    calls = {"g": 0, "h": 0}

    def jac(x):
        calls["g"] += 1
        return A @ x - b

    def hess(x):
        calls["h"] += 1
        return A

    r = sl.minimize(QUAD.fun, QUAD.x0, method="newton", jac=jac, hess=hess)
    assert r.success
    assert calls["g"] == r.ngev > 0
    assert calls["h"] == r.nhev > 0
    calls["g"] = 0
    r = sl.minimize(QUAD.fun, QUAD.x0, method="lbfgs", jac=jac)
    assert r.success and calls["g"] == r.ngev and r.nhev == 0


@pytest.mark.parametrize("method", ["gd", "adam", "newton", "bfgs", "lbfgs"])
def test_evaluation_counts(method):
    n = {"f": 0, "g": 0}

    def f(x):
        n["f"] += 1
        return QUAD.fun(x)

    g_ad = sl.grad(QUAD.fun)

    def jac(x):
        n["g"] += 1
        return g_ad(x)

    kw = {"learning_rate": 0.1} if method == "adam" else {}
    r = sl.minimize(f, QUAD.x0, method=method, jac=jac, maxiter=50, **kw)
    assert r.nfev == n["f"]
    assert r.ngev == n["g"]
    assert r.history.nfev[-1] == r.nfev and r.history.ngev[-1] == r.ngev
    assert np.all(np.diff(r.history.nfev) >= 0)


@pytest.mark.parametrize("method", ["gd", "newton", "bfgs", "lbfgs"])
def test_evaluation_counts_with_ad(method):
    # with AD derivatives, nfev counts every call of fun (AD calls it too); replayed
    # (jit) evaluations count the calls they stand for, so the counts agree
    n = [0]

    def f(x):
        n[0] += 1
        return ROSEN.fun(x)

    r = sl.minimize(f, ROSEN.x0, method=method, maxiter=30, jit=False)
    assert r.nfev == n[0] > 0
    assert r.ngev > 0
    assert (r.nhev > 0) == (method == "newton")
    n[0] = 0
    rj = sl.minimize(f, ROSEN.x0, method=method, maxiter=30)
    assert (rj.nfev, rj.ngev, rj.nhev, rj.nit) == (r.nfev, r.ngev, r.nhev, r.nit)
    np.testing.assert_allclose(rj.x, r.x, rtol=1e-12)
    assert n[0] <= 4  # traced once each: fun, value_and_grad, grad, Hessian


def test_untraceable_objective_falls_back_to_eager():
    def f(x):  # Python control flow on a value: cannot be traced, still minimized
        return ROSEN.fun(x) if x[0] > -10 else 0.0 * x[0]

    r = sl.minimize(f, ROSEN.x0, method="bfgs")
    assert r.success and np.allclose(r.x, 1.0, atol=1e-4)


def test_history_fields_and_lengths():
    r = sl.minimize(QUAD.fun, QUAD.x0, method="bfgs", record_x=True)
    h = r.history
    assert len(h) == r.nit + 1  # row 0 is the start
    d = h.as_dict()
    assert set(d) == {"f", "grad_norm", "step_size", "lr", "nfev", "ngev", "nhev", "x"}
    for v in d.values():
        assert len(v) == r.nit + 1
    assert h.x.shape == (r.nit + 1, 2)
    np.testing.assert_allclose(h.x[0], QUAD.x0)
    np.testing.assert_allclose(h.x[-1], r.x)
    assert h.f[0] == pytest.approx(QUAD.f_x0)
    assert h.f[-1] == pytest.approx(r.fun)
    assert np.isnan(h.step_size[0]) and np.all(h.step_size[1:] > 0)
    assert h.grad_norm[-1] == r.grad_norm
    r = sl.minimize(QUAD.fun, QUAD.x0, method="gd", learning_rate=0.05, maxiter=7)
    assert len(r.history) == 8 and "x" not in r.history.as_dict()
    np.testing.assert_allclose(r.history.lr[1:], 0.05)
    assert r.elapsed >= 0


def test_schedule_learning_rate():
    sched = sl.optim.exponential_decay(0.05, 0.999)
    r = sl.minimize(QUAD.fun, QUAD.x0, method="gd", learning_rate=sched, maxiter=5)
    np.testing.assert_allclose(r.history.lr[1:], [0.05 * 0.999**k for k in range(5)])


def test_callback_sees_iterations_and_can_stop():
    seen = []

    def cb(res):
        seen.append((res.nit, res.fun))
        return res.nit >= 4

    r = sl.minimize(ROSEN.fun, ROSEN.x0, method="lbfgs", callback=cb)
    assert [k for k, _ in seen] == [1, 2, 3, 4]
    assert r.nit == 4 and not r.success
    assert r.status == 3 and "callback" in r.message


def test_keyboard_interrupt_returns_best_point():
    def cb(res):
        if res.nit == 3:
            raise KeyboardInterrupt

    r = sl.minimize(ROSEN.fun, ROSEN.x0, method="bfgs", callback=cb)
    assert not r.success and r.status == 5 and "interrupted" in r.message
    assert r.fun_best <= ROSEN.f_x0


def test_float32():
    x0 = ROSEN.x0.astype(np.float32)
    for method in ("bfgs", "lbfgs", "newton"):
        r = sl.minimize(ROSEN.fun, x0, method=method)
        assert r.success, r.message
        assert r.x.dtype == np.float32
        assert r.grad_norm <= sl.optim.driver.default_gtol(np.float32)
        np.testing.assert_allclose(r.x, [1.0, 1.0], atol=1e-2)
    assert sl.optim.driver.default_gtol(np.float32) > sl.optim.driver.default_gtol(np.float64)


def test_already_optimal_start():
    r = sl.minimize(QUAD.fun, QUAD.x_min, method="lbfgs")
    assert r.success and r.nit == 0 and len(r.history) == 1


def test_gd_step_one_over_L():
    L = float(np.linalg.eigvalsh([[2.0, 1.0], [1.0, 20.0]]).max())
    r = sl.minimize(QUAD.fun, QUAD.x0, method="gd", L=L, maxiter=3)
    np.testing.assert_allclose(r.history.lr[1:], 1 / L)
    assert np.all(np.diff(r.history.f) < 0)


def test_method_failure_is_not_success():
    @register_method
    class _Failing(Method):
        name = "_test_failing"
        options = {}

        def init(self, x, f, g):
            return None

        def step(self, state, k):
            return StepInfo(None, None, None, 0.0, float("nan"), None, {"failed": "boom"})

    try:
        r = sl.minimize(QUAD.fun, QUAD.x0, method="_test_failing")
        assert not r.success and r.status == 4 and "boom" in r.message
    finally:
        METHODS.pop("_test_failing")


def test_registry_contains_smooth_methods():
    for name in ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw",
                 "newton", "bfgs", "lbfgs"):
        assert name in METHODS


def test_data_goes_through_mini_batches():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    w = np.array([1.0, -2.0, 0.5])
    y = X @ w

    def mse(x, batch):
        Xb, yb = batch
        return snp.mean((Xb @ x - yb) ** 2)

    r = sl.minimize(mse, np.zeros(3), method="gd", learning_rate=0.05, data=(X, y), batch_size=10,
                    seed=0, epochs=30, gtol=1e-4)
    assert r.success, r.message
    np.testing.assert_allclose(r.x, w, atol=1e-4)
    with pytest.raises(ValueError, match="does not support data"):
        sl.minimize(mse, np.zeros(3), method="bfgs", data=(X, y))
    with pytest.raises(ValueError, match="learning_rate"):
        sl.minimize(mse, np.zeros(3), method="gd", data=(X, y))


def test_bfgs_first_trial_steps_follow_the_last_decrease(monkeypatch):
    # first search from min(1, 1.01/|g|_2) (scipy's BFGS: its N&W 3.60 step with the
    # fictitious previous value f + |g|/2), later ones from min(1, 2.02 (f_k - f_{k-1}) / g.d)
    from slopes.optim import methods_smooth

    seen = []
    orig = methods_smooth.BFGS._search

    def spy(self, x, d, f, g, slope, step):
        seen.append((step, f, float(g @ d)))
        return orig(self, x, d, f, g, slope, step)

    monkeypatch.setattr(methods_smooth.BFGS, "_search", spy)
    sl.minimize(ROSEN.fun, ROSEN.x0, method="bfgs", maxiter=5)
    assert len(seen) == 5
    g0 = sl.grad(ROSEN.fun)(ROSEN.x0)
    assert seen[0][0] == pytest.approx(min(1.0, 1.01 / np.linalg.norm(g0)), rel=1e-12)
    for (_, f_prev, _), (step, f, gd) in zip(seen, seen[1:]):
        assert step == pytest.approx(min(1.0, 2.02 * (f - f_prev) / gd), rel=1e-12)


def test_jac_true_means_fun_returns_value_and_gradient():
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    b = np.array([1.0, -1.0])
    calls = []

    def fg(x):
        calls.append(1)
        return 0.5 * x @ A @ x - b @ x, A @ x - b

    r = sl.minimize(fg, np.zeros(2), method="lbfgs", jac=True, gtol=1e-10)
    np.testing.assert_allclose(r.x, np.linalg.solve(A, b), atol=1e-9)
    # one call per evaluation of both: the counts are the calls made
    assert r.nfev == r.ngev == len(calls)
    with pytest.raises(ValueError, match="jac must be"):
        sl.minimize(fg, np.zeros(2), jac="yes")


def test_history_rows_read_as_columns_and_survive_pickling():
    import pickle

    r = sl.minimize(ROSEN.fun, ROSEN.x0, method="lbfgs", record_x=True, maxiter=5)
    h = pickle.loads(pickle.dumps(r.history))
    assert len(h) == r.nit + 1 == 6
    for name in ("f", "grad_norm", "step_size", "lr", "nfev", "ngev", "nhev", "x"):
        np.testing.assert_array_equal(getattr(h, name), getattr(r.history, name))
    assert h.nfev.dtype == np.int64 and h.x.shape == (6, 2)
    # the columns are the run's own numbers: row 0 is the start, the last row the result
    assert h.f[0] == pytest.approx(float(ROSEN.fun(ROSEN.x0))) and h.f[-1] == r.fun
    np.testing.assert_array_equal(h.x[-1], r.x)
    with pytest.raises(AttributeError, match="no field 'fx'"):
        h.fx


@pytest.mark.parametrize("method", ["bfgs", "lbfgs"])
@pytest.mark.parametrize("bad, why", [(np.inf, "the gradient at x has non-finite entries"),
                                      (1e200, "overflows")])
def test_a_gradient_without_a_finite_slope_stops_the_run_cleanly(method, bad, why):
    # an infinite entry (or one whose square overflows) makes g.g = inf: the first trial step
    # 1 / |g| was 0, which the line search refused with a ValueError. Now the run stops as a
    # method failure at the starting point, its value that of scipy's Rosenbrock
    optimize = pytest.importorskip("scipy.optimize")

    def jac(x):
        g = optimize.rosen_der(x)
        if abs(x[0]) > 1.1:
            g[3] = bad
        return g

    x0 = np.tile([-1.2, 1.0], 5)
    with np.errstate(all="ignore"):
        r = sl.minimize(optimize.rosen, x0, jac=jac, method=method)
    assert r.status == 4 and not r.success and why in r.message, r.message
    assert r.nit == 0 and np.array_equal(r.x_best, x0) and r.fun_best == optimize.rosen(x0)


@pytest.mark.parametrize("which", ["gradient", "Hessian"])
def test_newton_with_a_non_finite_derivative_stops_the_run_cleanly(which):
    # newton_direction refuses a non-finite g or H with a ValueError, which used to end the
    # run with a traceback: it is a method failure at that point, the best point kept
    optimize = pytest.importorskip("scipy.optimize")

    def spoil(a):
        a = np.array(a, dtype=float)
        a.flat[3] = np.inf
        return a

    jac = (lambda x: spoil(optimize.rosen_der(x))) if which == "gradient" else optimize.rosen_der
    hess = (lambda x: spoil(optimize.rosen_hess(x))) if which == "Hessian" else optimize.rosen_hess
    x0 = np.tile([-1.2, 1.0], 5)
    r = sl.minimize(optimize.rosen, x0, jac=jac, hess=hess, method="newton")
    assert r.status == 4 and f"the {which} at x has non-finite entries" in r.message, r.message
    assert r.nit == 0 and np.array_equal(r.x_best, x0) and r.fun_best == optimize.rosen(x0)
