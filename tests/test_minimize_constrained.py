"""projected_gradient, proximal_gradient (ISTA / FISTA with restart) and subgradient."""

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
from slopes.optim import methods_constrained  # noqa: F401  (registers the methods)
from slopes.optim import projections as proj
from slopes.optim import prox as px
from slopes.optim.driver import minimize
from slopes.optim.methods_base import METHODS

scipy_optimize = pytest.importorskip("scipy.optimize")

Q = np.array([[3.0, 1.0], [1.0, 2.0]])
L_Q = float(np.linalg.eigvalsh(Q).max())


def quad(c):
    return lambda x: 0.5 * snp.dot(x, snp.dot(Q, x)) + snp.dot(c, x)


def test_registered():
    for name in ("projected_gradient", "proximal_gradient", "subgradient"):
        assert name in METHODS


# ----------------------------------------------------------------------------- projected gradient


def test_box_quadratic_course_step_one_over_L():
    p = sl.problems.get("box_quadratic")
    L = sl.problems.course.BOX_QUADRATIC_L
    assert L == pytest.approx(L_Q)
    r = minimize(p.fun, p.x0, method="projected_gradient", bounds=scipy_optimize.Bounds(*p.bounds), L=L, gtol=1e-10)
    assert r.success and r.status == 0
    np.testing.assert_allclose(r.x, [1.0, -1.0], atol=1e-9)
    assert r.fun == pytest.approx(-1.5, abs=1e-12)
    # the optimality measure is the fixed-point residual with step 1/L, recorded every iteration
    res = px.fixed_point_residual(r.x, r.grad, 1.0 / L, proj.box(*p.bounds))
    assert r.grad_norm == pytest.approx(res, rel=1e-12, abs=1e-300)
    assert r.history.grad_norm[-1] == r.grad_norm and r.history.grad_norm[-1] <= 1e-10
    assert np.all(r.history.lr[1:] == pytest.approx(1.0 / L))
    assert len(r.history) == r.nit + 1
    # monotone decrease with the step 1/L
    assert np.all(np.diff(r.history.f) <= 1e-12)


def test_box_quadratic_minimizer_on_boundary_kkt_and_scipy():
    c = np.array([-8.0, 1.0])  # unconstrained minimizer -Q^{-1} c = (3, -2) is outside [-2, 2]^2
    lo, hi = -2.0 * np.ones(2), 2.0 * np.ones(2)
    r = minimize(quad(c), np.array([-1.0, 1.5]), method="projected_gradient",
                 bounds=scipy_optimize.Bounds(lo, hi), L=L_Q, gtol=1e-10)
    assert r.success
    ref = scipy_optimize.minimize(lambda x: 0.5 * x @ Q @ x + c @ x, np.zeros(2), jac=lambda x: Q @ x + c,
                                  method="L-BFGS-B", bounds=[(-2, 2)] * 2, options={"gtol": 1e-12})
    np.testing.assert_allclose(r.x, ref.x, atol=1e-7)
    np.testing.assert_allclose(r.x, [2.0, -1.5], atol=1e-9)
    # KKT: x1 at its upper bound with multiplier -g1 >= 0; x2 interior with g2 = 0
    g = Q @ r.x + c
    assert r.x[0] == 2.0 and g[0] < 0
    assert abs(g[1]) <= 1e-9
    # the gradient does not vanish, yet success is declared on the residual
    assert np.max(np.abs(r.grad)) > 1.0 and r.grad_norm <= 1e-10


def test_infeasible_start_is_projected_and_backtracking_without_step():
    c = np.array([-8.0, 1.0])
    r = minimize(quad(c), np.array([10.0, -10.0]), method="projected_gradient", bounds=(-2.0, 2.0), gtol=1e-9)
    assert r.success
    np.testing.assert_allclose(r.x, [2.0, -1.5], atol=1e-8)
    assert np.all(np.isfinite(r.history.lr[1:])) and np.all(r.history.lr[1:] > 0)
    assert np.all(np.diff(r.history.f[1:]) <= 1e-12)  # Armijo along the arc: monotone


def test_learning_rate_fixed_step():
    p = sl.problems.get("box_quadratic")
    r = minimize(p.fun, p.x0, method="projected_gradient", bounds=scipy_optimize.Bounds(*p.bounds), learning_rate=0.2,
                 gtol=1e-10)
    assert r.success
    np.testing.assert_allclose(r.x, [1.0, -1.0], atol=1e-9)
    assert np.all(r.history.lr[1:] == 0.2)


def test_a_vanishing_step_does_not_fake_convergence():
    # steps 0.2 * 0.5^k stall the iterates far from (1, -1); the residual uses the fixed eta = 0.2
    p = sl.problems.get("box_quadratic")
    r = minimize(p.fun, p.x0, method="projected_gradient", bounds=scipy_optimize.Bounds(*p.bounds),
                 learning_rate=lambda k: 0.2 * 0.5**k, maxiter=200)
    assert not r.success and r.status == 1
    assert np.max(np.abs(r.x - [1.0, -1.0])) > 0.1
    assert r.grad_norm > 0.1
    assert r.grad_norm == pytest.approx(px.fixed_point_residual(r.x, r.grad, 0.2, proj.box(*p.bounds)))


def test_l2_ball_known_solution():
    a = np.array([3.0, 4.0])
    r = minimize(lambda x: snp.sum((x - a) ** 2), np.zeros(2), method="projected_gradient",
                 projection=proj.l2_ball(1.0), L=2.0, gtol=1e-12)
    assert r.success
    np.testing.assert_allclose(r.x, [0.6, 0.8], atol=1e-12)


def test_simplex_known_solution():
    v = np.array([1.0, 0.5, -1.0])  # projection of v onto the simplex: (0.75, 0.25, 0)
    r = minimize(lambda x: 0.5 * snp.sum((x - v) ** 2), np.ones(3) / 3, method="projected_gradient",
                 projection=proj.simplex(), learning_rate=0.5, gtol=1e-12)
    assert r.success
    np.testing.assert_allclose(r.x, [0.75, 0.25, 0.0], atol=1e-12)
    assert proj.simplex().contains(r.x)


def test_simplex_linear_objective_picks_a_vertex():
    w = np.array([3.0, 1.0, 2.0])
    r = minimize(lambda x: snp.dot(w, x) + 0.0 * snp.sum(x * x), np.ones(3) / 3, method="projected_gradient",
                 projection=proj.simplex(), learning_rate=0.1)
    assert r.success
    np.testing.assert_allclose(r.x, [0.0, 1.0, 0.0], atol=1e-12)


def test_halfspace_known_solution_and_kkt():
    a, b = np.array([1.0, 1.0]), 1.0
    c = np.array([-8.0, 1.0])
    r = minimize(quad(c), np.zeros(2), method="projected_gradient", projection=proj.halfspace(a, b), L=L_Q,
                 gtol=1e-11)
    assert r.success
    # KKT for an active constraint a.x = b: grad = -mu a, mu >= 0. Solve the 3x3 system.
    K = np.block([[Q, a[:, None]], [a[None, :], np.zeros((1, 1))]])
    sol = np.linalg.solve(K, np.concatenate([-c, [b]]))
    x_ref, mu = sol[:2], sol[2]
    assert mu > 0
    np.testing.assert_allclose(r.x, x_ref, atol=1e-9)


def test_nonnegative_least_squares_vs_scipy_nnls():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(12, 5))
    b = rng.normal(size=12)
    L = float(np.linalg.norm(A, 2) ** 2)
    r = minimize(lambda x: 0.5 * snp.sum((snp.dot(A, x) - b) ** 2), np.ones(5), method="projected_gradient",
                 projection=proj.nonnegative(), L=L, gtol=1e-10, maxiter=50000)
    assert r.success
    ref, _ = scipy_optimize.nnls(A, b)
    np.testing.assert_allclose(r.x, ref, atol=1e-8)
    assert np.any(ref == 0)  # some constraint is active


def test_projected_gradient_errors():
    f = quad(np.zeros(2))
    with pytest.raises(ValueError, match="bounds=.*projection="):
        minimize(f, np.zeros(2), method="projected_gradient")
    with pytest.raises(ValueError, match="accepts:.*'t0'"):
        minimize(f, np.zeros(2), method="projected_gradient", bounds=(-1, 1), bogus=1)
    with pytest.raises(ValueError, match="learning_rate"):
        minimize(f, np.zeros(2), method="projected_gradient", bounds=(-1, 1), learning_rate=-1.0)


def test_projected_gradient_divergence_is_reported():
    r = minimize(lambda x: -snp.sum(x ** 2), np.ones(2), method="projected_gradient",
                 projection=proj.halfspace(np.array([1.0, 0.0]), 5.0), learning_rate=1.0, maxiter=200)
    assert not r.success and r.status == 2 and "diverged" in r.message


# ----------------------------------------------------------------------------- proximal gradient


def lasso_cd(A, b, lam, iters=5000):
    """Cyclic coordinate descent for 1/2 ||A x - b||^2 + lam ||x||_1 (the reference)."""
    x = np.zeros(A.shape[1])
    col = np.sum(A * A, axis=0)
    r = b - A @ x
    for _ in range(iters):
        x_old = x.copy()
        for j in range(A.shape[1]):
            r += A[:, j] * x[j]
            rho = A[:, j] @ r
            x[j] = np.sign(rho) * max(abs(rho) - lam, 0.0) / col[j]
            r -= A[:, j] * x[j]
        if np.max(np.abs(x - x_old)) < 1e-15:
            break
    return x


@pytest.fixture(scope="module")
def lasso():
    # correlated columns (ill-conditioned), so that acceleration matters
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(40, 15))
    A = Z @ np.linalg.cholesky(0.9 * np.ones((15, 15)) + 0.1 * np.eye(15)).T
    x_true = np.zeros(15)
    x_true[[1, 4, 9]] = [2.0, -3.0, 1.5]
    b = A @ x_true + 0.1 * rng.normal(size=40)
    lam = 1.0
    L = float(np.linalg.norm(A, 2) ** 2)
    return A, b, lam, L, lasso_cd(A, b, lam)


def _lasso_fun(A, b):
    return lambda x: 0.5 * snp.sum((snp.dot(A, x) - b) ** 2)


def test_ista_and_fista_match_coordinate_descent(lasso):
    A, b, lam, L, x_ref = lasso
    F = lambda x: 0.5 * np.sum((A @ x - b) ** 2) + lam * np.sum(np.abs(x))  # noqa: E731
    runs = {}
    for acc in (False, True):
        r = minimize(_lasso_fun(A, b), np.zeros(15), method="proximal_gradient", prox=px.l1(lam), L=L,
                     accelerate=acc, gtol=1e-10, maxiter=20000)
        assert r.success, r.message
        np.testing.assert_allclose(r.x, x_ref, atol=1e-8)
        assert r.fun == pytest.approx(F(r.x), rel=1e-12)  # composite f + h reported
        assert r.fun == pytest.approx(F(x_ref), rel=1e-10)
        assert np.sum(r.x == 0) >= 5  # sparsity: exact zeros from soft thresholding
        runs[acc] = r
    # FISTA needs fewer iterations than ISTA (measured) and fewer gradients, though it
    # evaluates two per iteration (at the extrapolated point and at the new iterate)
    assert runs[True].nit < runs[False].nit / 2, (runs[True].nit, runs[False].nit)
    assert runs[True].ngev < runs[False].ngev / 2


def test_fista_restart_does_not_hurt(lasso):
    A, b, lam, L, x_ref = lasso
    nits = {}
    for restart in (False, True):
        r = minimize(_lasso_fun(A, b), np.zeros(15), method="proximal_gradient", prox=px.l1(lam), L=L,
                     accelerate=True, restart=restart, gtol=1e-10, maxiter=20000)
        assert r.success
        np.testing.assert_allclose(r.x, x_ref, atol=1e-8)
        nits[restart] = r.nit
    assert nits[True] <= nits[False], nits


def test_fista_restart_fires_and_keeps_monotone_after_restart():
    # An ill-conditioned quadratic: plain FISTA oscillates, the restart scheme makes F monotone
    D = np.diag([1.0, 1e-3])
    f = lambda x: 0.5 * snp.dot(x, snp.dot(D, x))  # noqa: E731
    seen = []
    r = minimize(f, np.array([1.0, 1.0]), method="proximal_gradient", prox=px.zero(), L=1.0, accelerate=True,
                 gtol=1e-9, maxiter=5000, callback=lambda res: seen.append(res.fun) and False)
    assert r.success
    assert np.all(np.diff(r.history.f) <= 1e-15)  # function-value restart => never goes up
    r2 = minimize(f, np.array([1.0, 1.0]), method="proximal_gradient", prox=px.zero(), L=1.0,
                  accelerate=True, restart=False, gtol=1e-9, maxiter=5000)
    assert np.any(np.diff(r2.history.f) > 0)  # without restart it does go up
    assert r.nit <= r2.nit


def test_proximal_gradient_backtracking_and_elastic_net(lasso):
    A, b, lam, L, _ = lasso
    h = px.elastic_net(lam, 1.0)
    r = minimize(_lasso_fun(A, b), np.zeros(15), method="proximal_gradient", prox=h, accelerate=True,
                 gtol=1e-9, maxiter=20000)  # no L, no learning_rate: backtracking
    assert r.success, r.message
    # elastic net = lasso on the augmented system [A; sqrt(l2) I], [b; 0]
    Aa = np.vstack([A, np.eye(15)])
    ba = np.concatenate([b, np.zeros(15)])
    np.testing.assert_allclose(r.x, lasso_cd(Aa, ba, lam), atol=1e-7)


def test_composite_value_at_start_and_best_point(lasso):
    A, b, lam, L, x_ref = lasso
    x0 = np.ones(15)  # h(x0) = 15 lam > 0
    r = minimize(_lasso_fun(A, b), x0, method="proximal_gradient", prox=px.l1(lam), L=L, accelerate=True,
                 gtol=1e-10, maxiter=20000)
    F = lambda x: 0.5 * np.sum((A @ x - b) ** 2) + lam * np.sum(np.abs(x))  # noqa: E731
    assert r.success
    assert r.fun_best == pytest.approx(F(x_ref), rel=1e-10)
    np.testing.assert_allclose(r.x_best, x_ref, atol=1e-8)


def test_initial_f_hook_either_order():
    from slopes.optim.methods_base import Problem

    A = np.array([[1.0, 0.0], [0.0, 2.0]])
    p = Problem(lambda x: 0.5 * float(x @ A @ x), lambda x: A @ x, prox=px.l1(1.0), L=2.0)
    x0 = np.array([1.0, -1.0])
    f0, g0 = p.value_and_grad(x0)
    m1 = METHODS["proximal_gradient"](p, {})
    s1 = m1.init(x0, f0, g0)  # smooth value, no hook
    m2 = METHODS["proximal_gradient"](p, {})
    F0 = m2.initial_f(x0, f0)
    assert F0 == f0 + 2.0
    s2 = m2.init(x0, F0, g0)  # composite value after the hook
    assert (s1.fs, s1.F) == (s2.fs, s2.F) == (f0, F0)


def test_history_row0_is_composite(lasso):
    A, b, lam, L, _ = lasso
    x0 = np.ones(15)
    r = minimize(_lasso_fun(A, b), x0, method="proximal_gradient", prox=px.l1(lam), L=L, maxiter=3)
    assert r.history.f[0] == pytest.approx(0.5 * np.sum((A @ x0 - b) ** 2) + lam * 15, rel=1e-12)


def test_proximal_box_indicator_equals_projected_gradient():
    c = np.array([-8.0, 1.0])
    r = minimize(quad(c), np.zeros(2), method="proximal_gradient", prox=px.box_indicator(-2.0, 2.0), L=L_Q,
                 gtol=1e-10)
    assert r.success
    np.testing.assert_allclose(r.x, [2.0, -1.5], atol=1e-9)


def test_proximal_gradient_errors():
    with pytest.raises(ValueError, match="prox="):
        minimize(quad(np.zeros(2)), np.zeros(2), method="proximal_gradient")
    with pytest.raises(TypeError, match="Prox"):
        minimize(quad(np.zeros(2)), np.zeros(2), method="proximal_gradient", prox=lambda v, t: v)


# ----------------------------------------------------------------------------- subgradient


def _l1_regression():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(15, 4))
    b = rng.normal(size=15)
    # f* by linear programming: min sum(t) s.t. -t <= A x - b <= t
    m, n = A.shape
    cost = np.concatenate([np.zeros(n), np.ones(m)])
    A_ub = np.block([[A, -np.eye(m)], [-A, -np.eye(m)]])
    b_ub = np.concatenate([b, -b])
    lp = scipy_optimize.linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=[(None, None)] * n + [(0, None)] * m,
                                method="highs")
    assert lp.status == 0
    return A, b, float(lp.fun), lp.x[:n]


def test_subgradient_abs_sum_polyak():
    f = lambda x: snp.abs(x[0] - 1.0) + 2.0 * snp.abs(x[1] + 0.5)  # noqa: E731
    r = minimize(f, np.array([4.0, 3.0]), method="subgradient", step="polyak", f_star=0.0, ftol=1e-8)
    assert r.success and np.isnan(r.grad_norm)
    assert r.fun_best <= 1e-8
    np.testing.assert_allclose(r.x_best, [1.0, -0.5], atol=1e-8)


def test_subgradient_polyak_l1_regression_vs_lp():
    A, b, f_star, x_star = _l1_regression()
    f = lambda x: snp.sum(snp.abs(snp.dot(A, x) - b))  # noqa: E731
    r = minimize(f, np.zeros(4), method="subgradient", step="polyak", f_star=f_star, ftol=1e-6 * (1 + f_star),
                 maxiter=20000)
    assert r.success, r.message
    assert r.fun_best - f_star <= 1e-6 * (1 + f_star)
    # the best iterate is kept: not worse than any iterate of the history
    assert np.all(r.fun_best <= r.history.f)
    assert float(np.sum(np.abs(A @ r.x_best - b))) == pytest.approx(r.fun_best, rel=1e-12)


def test_subgradient_diminishing_best_iterate_and_no_false_success():
    A, b, f_star, _ = _l1_regression()
    f = lambda x: snp.sum(snp.abs(snp.dot(A, x) - b))  # noqa: E731
    # without f_star there is no success criterion: never success
    r = minimize(f, np.zeros(4), method="subgradient", learning_rate=0.05, maxiter=3000)
    assert not r.success and r.status == 1
    assert np.isnan(r.grad_norm)
    assert np.all(r.fun_best <= r.history.f)
    assert r.fun_best < r.history.f[0]
    assert r.fun_best - f_star < 0.05 * f_star  # close, but the method is slow
    assert np.any(np.diff(r.history.f) > 0)  # not a descent method, hence the best iterate
    lr = r.history.lr[1:]
    assert np.all(lr == 0.05)  # the base rate; steps are lr / sqrt(k + 1)
    # with f_star and a tight ftol that is not reached: no success either
    r2 = minimize(f, np.zeros(4), method="subgradient", learning_rate=0.05, maxiter=300, f_star=f_star,
                  ftol=1e-9)
    assert not r2.success and r2.fun_best - f_star > 1e-9


def test_projected_subgradient_stays_feasible_and_reaches_the_constrained_minimum():
    # l1 regression with the weights in a box that cuts off the unconstrained solution;
    # the constrained optimum is an LP too (scipy's linprog with bounds)
    A, b, _, x_free = _l1_regression()
    lo, hi = -0.5, 0.5
    assert np.any(np.abs(x_free) > hi)  # the box is active
    m, n = A.shape
    cost = np.concatenate([np.zeros(n), np.ones(m)])
    A_ub = np.block([[A, -np.eye(m)], [-A, -np.eye(m)]])
    lp = scipy_optimize.linprog(cost, A_ub=A_ub, b_ub=np.concatenate([b, -b]),
                                bounds=[(lo, hi)] * n + [(0, None)] * m, method="highs")
    f_star = float(lp.fun)
    f = lambda x: snp.sum(snp.abs(snp.dot(A, x) - b))  # noqa: E731
    r = minimize(f, np.full(n, 3.0), method="subgradient", step="polyak", f_star=f_star, bounds=(lo, hi),
                 ftol=1e-6 * (1 + f_star), maxiter=20000, record_x=True)
    assert r.success, r.message
    xs = r.history.x[1:]  # row 0 is x0 as given; the method starts from P(x0)
    assert np.all((xs >= lo) & (xs <= hi))  # every iterate feasible
    assert r.fun_best - f_star <= 1e-6 * (1 + f_star)
    assert float(np.sum(np.abs(A @ r.x_best - b))) == pytest.approx(r.fun_best, rel=1e-12)


def test_subgradient_errors():
    f = lambda x: snp.sum(snp.abs(x))  # noqa: E731
    with pytest.raises(ValueError, match="f_star"):
        minimize(f, np.ones(2), method="subgradient", step="polyak")
    with pytest.raises(ValueError, match="diminishing"):
        minimize(f, np.ones(2), method="subgradient", step="armijo")


def test_projected_sgd_on_mini_batches_reaches_the_box_constrained_least_squares():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([2.0, -1.0, 0.3]) + 0.01 * rng.normal(size=200)
    lo, hi = -0.5, 0.5
    # the box-constrained least-squares solution, by scipy
    ref = scipy_optimize.lsq_linear(X, y, bounds=(lo, hi)).x
    loss = lambda w, b: snp.mean((b[0] @ w - b[1]) ** 2)  # noqa: E731
    sched = sl.optim.exponential_decay(0.05, 0.995)  # decaying steps: SGD noise is large at a constrained optimum
    r = minimize(loss, np.zeros(3), method="projected_gradient", data=(X, y), batch_size=20, epochs=80,
                 learning_rate=sched, bounds=(lo, hi), seed=0, record_x=True, gtol=1e-3)
    assert np.all((r.history.x >= lo) & (r.history.x <= hi))
    np.testing.assert_allclose(r.x, ref, atol=2e-3)
    assert r.success, r.message  # full-data fixed-point residual, not max|grad| (nonzero at the box)
    assert np.max(np.abs(r.grad)) > 0.1
    with pytest.raises(ValueError, match="learning_rate or L"):
        minimize(loss, np.zeros(3), method="projected_gradient", data=(X, y), batch_size=20, bounds=(lo, hi))


def test_stochastic_proximal_gradient_solves_the_lasso():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 5))
    y = X @ np.array([1.5, 0.0, -0.8, 0.0, 0.05]) + 0.05 * rng.normal(size=300)
    alpha = 0.1
    loss = lambda w, b: 0.5 * snp.mean((b[0] @ w - b[1]) ** 2)  # noqa: E731
    r = minimize(loss, np.zeros(5), method="proximal_gradient", prox=sl.optim.prox.l1(alpha), data=(X, y),
                 batch_size=30, epochs=100, learning_rate=sl.optim.exponential_decay(0.1, 0.997), seed=0,
                 gtol=1e-3)
    w = r.x
    # the lasso's optimality conditions, by hand: grad_j = -alpha sign(w_j) where w_j != 0, |grad_j| <= alpha else
    g = X.T @ (X @ w - y) / len(y)
    on = np.abs(w) > 1e-8
    np.testing.assert_allclose(g[on], -alpha * np.sign(w[on]), atol=5e-3)
    assert np.all(np.abs(g[~on]) <= alpha + 5e-3)
    assert on.tolist() == [True, False, True, False, False]  # the small true weight is shrunk to 0
    with pytest.raises(ValueError, match="accelerate=False"):
        minimize(loss, np.zeros(5), method="proximal_gradient", prox=sl.optim.prox.l1(alpha), data=(X, y),
                 batch_size=30, learning_rate=0.1, accelerate=True)
