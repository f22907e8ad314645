"""Arguments are checked where they enter: optimizers, schedules, minimize (issue 15, section 2).

Each bad value must fail before any work, with an error naming the argument; the
values that stay valid are checked against closed forms (and PyTorch where it agrees).
"""

import math

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
import slopes.optim as so

NAN, INF = math.nan, math.inf


# ----------------------------------------------------------------------------- transformations


@pytest.mark.parametrize("make", [so.sgd, so.momentum, so.nesterov, so.adagrad, so.rmsprop, so.adam, so.adamw])
@pytest.mark.parametrize("lr", [NAN, INF, -INF, -0.1])
def test_transformations_refuse_bad_learning_rates(make, lr):
    # torch.optim also refuses lr < 0 ("Invalid learning rate"); NaN and inf are refused here too
    with pytest.raises(ValueError, match=f"{make.__name__}: learning_rate must be"):
        make(lr)


def test_zero_learning_rate_is_allowed_in_a_transformation_and_does_not_move():
    # as in torch.optim: lr=0 is legal (a frozen phase, a warmup start)
    opt = so.adam(0.0)
    upd, _ = opt.update(np.array([3.0, -1.0]), opt.init(np.zeros(2)))
    np.testing.assert_array_equal(upd, 0.0)


@pytest.mark.parametrize(
    "make, arg",
    [
        (lambda: so.momentum(0.1, beta=1.0), "momentum: beta"),
        (lambda: so.nesterov(0.1, beta=-0.1), "nesterov: beta"),
        (lambda: so.adam(0.1, b1=1.0), "adam: b1"),
        (lambda: so.adam(0.1, b2=NAN), "adam: b2"),
        (lambda: so.adam(0.1, eps=-1e-8), "adam: eps"),
        (lambda: so.adamw(0.1, weight_decay=-0.01), "adamw: weight_decay"),
        (lambda: so.rmsprop(0.1, decay=1.5), "rmsprop: decay"),
        (lambda: so.adagrad(0.1, initial_accumulator_value=-1.0), "adagrad: initial_accumulator_value"),
        (lambda: so.sam(so.sgd(0.1), rho=NAN), "sam: rho"),
        (lambda: so.clip_by_global_norm(0.0), "clip_by_global_norm: max_norm"),
        (lambda: so.clip_by_global_norm(NAN), "clip_by_global_norm: max_norm"),
        (lambda: so.clip_by_value(NAN, 1.0), "clip_by_value: min_value"),
    ],
)
def test_transformation_hyperparameters_are_checked(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


def test_clip_by_value_allows_one_sided_infinite_bounds():
    clip = so.clip_by_value(-INF, 1.0)
    np.testing.assert_array_equal(clip.update(np.array([-5.0, 3.0]), clip.init(None))[0], [-5.0, 1.0])


# ----------------------------------------------------------------------------- schedules


@pytest.mark.parametrize(
    "make, arg",
    [
        (lambda: so.exponential_decay(1.0, 0.5, transition_steps=0), "transition_steps"),
        (lambda: so.exponential_decay(1.0, 0.0), "decay_rate"),
        (lambda: so.exponential_decay(NAN, 0.5), "init_value"),
        (lambda: so.step_decay(1.0, step_size=0), "step_size"),
        (lambda: so.step_decay(1.0, 10, gamma=NAN), "gamma"),
        (lambda: so.cosine_decay(INF, 10), "init_value"),
        (lambda: so.cosine_decay(1.0, 10, alpha=-1.0), "alpha"),
        (lambda: so.warmup_cosine(1.0, warmup_steps=-1, total_steps=10), "warmup_steps"),
        (lambda: so.warmup_cosine(1.0, warmup_steps=10, total_steps=10), "warmup_steps < total_steps"),
        (lambda: so.warmup_cosine(-1.0, 2, 10), "peak_value"),
        (lambda: so.one_cycle(1.0, total_steps=0), "total_steps"),
        (lambda: so.one_cycle(1.0, 10, pct_start=1.0), "pct_start"),
        (lambda: so.one_cycle(1.0, 10, div_factor=0.0), "div_factor"),
        (lambda: so.one_cycle(NAN, 10), "max_value"),
        (lambda: so.constant(-0.1), "constant: value"),
        (lambda: so.piecewise_constant([5], [1.0, NAN]), "piecewise_constant: values"),
        (lambda: so.reduce_on_plateau(factor=1.0), "factor"),
        (lambda: so.reduce_on_plateau(patience=-1), "patience"),
    ],
)
def test_schedule_parameters_are_checked_when_the_schedule_is_made(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


def test_step_counts_must_be_integers():
    with pytest.raises(TypeError, match="step_decay: step_size must be an integer"):
        so.step_decay(1.0, 2.5)
    s = so.step_decay(1.0, np.int64(10), 0.5)  # NumPy integers are integers
    assert (s(9), s(10)) == (1.0, 0.5)


@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_one_cycle_stays_at_its_final_value_after_total_steps(anneal):
    peak, total, div, final_div = 2.0, 50, 20.0, 100.0
    s = so.one_cycle(peak, total, pct_start=0.3, div_factor=div, final_div_factor=final_div, anneal=anneal)
    final = peak / div / final_div  # the closed form of the last value
    after = np.array([s(t) for t in range(total - 1, 3 * total)])
    np.testing.assert_allclose(after, final, rtol=1e-12)
    np.testing.assert_allclose(s(np.arange(total, 200)), final, rtol=1e-12)


def test_one_cycle_whose_rise_ends_at_step_0_starts_at_the_peak_without_nan():
    # pct_start * total_steps = 1: the rise phase has no length (PyTorch divides by zero here)
    s = so.one_cycle(1.0, total_steps=10, pct_start=0.1, div_factor=10, final_div_factor=10)
    values = np.array([s(t) for t in range(10)])
    assert np.all(np.isfinite(values))
    # closed form: a half cosine from the peak at step 0 to peak/100 at step 9
    ref = 0.01 + (1.0 - 0.01) / 2 * (1 + np.cos(np.pi * np.arange(10) / 9))
    np.testing.assert_allclose(values, ref, rtol=1e-12)


@pytest.mark.parametrize("bad", [NAN, INF, -1e-3])
def test_a_schedule_of_ones_own_is_checked_at_each_use_naming_the_step(bad):
    opt = so.sgd(lambda t: 0.1 if t < 2 else bad)
    s = opt.init(np.zeros(1))
    _, s = opt.update(np.ones(1), s)  # steps 0 and 1 are fine
    with pytest.raises(ValueError, match="sgd: learning_rate: the schedule gave .* at step 2"):
        opt.update(np.ones(1), s)


def test_a_schedule_returning_a_string_is_refused():
    with pytest.raises(TypeError, match="the schedule returned 'fast' at step 0"):
        so.as_schedule(lambda t: "fast")(0)


# ----------------------------------------------------------------------------- minimize

QUAD = lambda x: snp.sum(x**2)  # noqa: E731
X0 = np.array([1.0, -2.0])


@pytest.mark.parametrize("method", ["gd", "adam", "projected_gradient", "subgradient"])
@pytest.mark.parametrize("lr", [0, 0.0, -0.5, NAN, INF])
def test_minimize_refuses_a_step_size_that_is_not_positive_and_finite(method, lr):
    with pytest.raises(ValueError, match="learning_rate must be"):
        sl.minimize(QUAD, X0, method=method, learning_rate=lr)


@pytest.mark.parametrize(
    "kwargs, arg",
    [
        (dict(gtol=NAN), "gtol"),
        (dict(gtol=-1e-6), "gtol"),
        (dict(gtol=INF), "gtol"),
        (dict(ftol=NAN, f_star=0.0), "ftol"),
        (dict(maxiter=0), "maxiter"),
        (dict(maxiter=2.5), "maxiter"),
        (dict(maxiter=-3), "maxiter"),
        (dict(maxiter=True), "maxiter"),
        (dict(method="gd", L=0.0), "L"),
        (dict(method="gd", L=NAN), "L"),
        (dict(method="subgradient", f_star=NAN), "f_star"),
        (dict(method="adam", learning_rate=0.1, data=np.ones((4, 1)), epochs=0), "epochs"),
    ],
)
def test_minimize_names_a_bad_argument_before_the_run(kwargs, arg):
    calls = []

    def f(x, *batch):
        calls.append(1)
        return snp.sum(x**2)

    with pytest.raises((ValueError, TypeError), match=f"^{arg} must be"):
        sl.minimize(f, X0, **kwargs)
    assert not calls  # refused before fun was ever evaluated


@pytest.mark.parametrize("jit", [True, False])
@pytest.mark.parametrize(
    "fun, what",
    [
        (lambda x: "abc", "fun must return a real number; it returned str"),
        (lambda x: x**2, r"fun must return a scalar; it returned an array of shape \(2,\)"),
    ],
)
def test_minimize_names_an_objective_that_does_not_return_one_number(fun, what, jit):
    with pytest.raises(TypeError, match=what):
        sl.minimize(fun, X0, method="lbfgs", jit=jit)


def test_minimize_names_a_non_scalar_objective_with_a_user_gradient():
    with pytest.raises(TypeError, match="fun must return a scalar"):
        sl.minimize(lambda x: np.asarray(x) ** 2, X0, jac=lambda x: 2 * np.asarray(x))
    with pytest.raises(TypeError, match="fun must return a scalar"):
        sl.minimize(lambda x: (np.asarray(x) ** 2, 2 * np.asarray(x)), X0, jac=True)


def test_minimize_schedule_giving_nan_midway_stops_with_the_step_named():
    lr = lambda k: 0.1 if k < 5 else NAN  # noqa: E731
    with pytest.raises(ValueError, match="at step 5"):
        sl.minimize(QUAD, X0, method="gd", learning_rate=lr, maxiter=20)


def test_valid_arguments_still_give_the_closed_form_answer():
    # gd on sum(x^2) with step 0.25: x_k = x0 (1 - 2 * 0.25)^k = x0 / 2^k
    r = sl.minimize(QUAD, X0, method="gd", learning_rate=np.float32(0.25), maxiter=np.int64(3), gtol=0)
    np.testing.assert_allclose(r.x, X0 / 8, rtol=1e-15)
    assert r.nit == 3


# ----------------------------------------------------------------------------- fit

TARGET = 3.0
DATA = np.full((4, 1), TARGET)


def half_way(k):
    """sgd(0.25) on mean((w - t)^2) from w = 0: w <- w - 0.5 (w - t), so w_k = t (1 - 2^-k)."""
    return TARGET * (1.0 - 0.5**k)


def sq_loss(p, b):
    return snp.mean((p["w"] - b) ** 2)


def nan_at(step, inner):
    """``inner`` whose update number ``step`` (from 0) is NaN: a broken transformation of one's own."""

    def update(g, s, params=None, **kw):
        upd, s2 = inner.update(g, s, params, **kw)
        return ({k: u * np.nan for k, u in upd.items()} if so.step_count(s) == step else upd), s2

    return so.GradientTransformation(inner.init, update)


def test_fit_checks_every_update_and_keeps_the_last_finite_and_best_params():
    res = sl.ml.fit(sq_loss, {"w": np.zeros(1)}, DATA, optimizer=nan_at(2, so.sgd(0.25)), epochs=5, progress=False)
    assert res.diverged and "non-finite update" in res.message and "step 3" in res.message
    np.testing.assert_allclose(res.params["w"], half_way(2), rtol=1e-15)  # the update was not applied
    assert res.best_epoch == 1
    np.testing.assert_allclose(res.best_params["w"], half_way(2), rtol=1e-15)


def test_fit_checks_the_final_update_too():
    # one step, whose update overflows: before, 'completed 1 epochs' with infinite params, diverged=False
    res = sl.ml.fit(sq_loss, {"w": np.zeros(1)}, DATA, optimizer=so.sgd(1e308), epochs=1, progress=False)
    assert res.diverged and res.message.startswith("diverged at step 1")
    np.testing.assert_array_equal(res.params["w"], 0.0)


def test_fit_refuses_an_update_past_the_blow_up_bound():
    # gradient -6 at w = 0, so the update is 1.25e12 * 6 = 7.5e12 > 1e12 (1 + max|w0|), the bound
    # slopes.minimize applies to x; before, the run completed with w = 7.5e12 and diverged=False
    res = sl.ml.fit(sq_loss, {"w": np.zeros(1)}, DATA, optimizer=so.sgd(1.25e12), epochs=1, progress=False)
    assert res.diverged and "the update would take a parameter to 7.5e+12" in res.message
    np.testing.assert_array_equal(res.params["w"], 0.0)


def test_fit_nan_learning_rate_is_refused_before_training():
    with pytest.raises(ValueError, match="sgd: learning_rate must be finite"):
        sl.ml.fit(sq_loss, {"w": np.zeros(1)}, DATA, optimizer=so.sgd(NAN), epochs=1)


@pytest.mark.parametrize("cls", ["MLPClassifier", "MLPRegressor"])
def test_mlp_on_huge_features_reports_divergence_not_an_internal_error(cls):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)) * 1e200
    y = (rng.normal(size=40) > 0).astype(int) if cls == "MLPClassifier" else rng.normal(size=40)
    model = getattr(sl.ml, cls)(hidden_layer_sizes=(4,), max_iter=3, early_stopping=True, random_state=0)
    with pytest.warns(RuntimeWarning, match="diverged at step 1"):
        model.fit(X, y)
    assert model.validation_scores_ == [] and math.isnan(model.best_validation_score_)
    assert all(np.all(np.isfinite(w)) for w in model.coefs_)  # the initial (best) parameters


def test_mixed_precision_refuses_data_beyond_the_compute_dtype_before_training():
    # 1e5 > 65504, float16's largest value: every step would see inf (before: a run of skipped steps)
    X = np.array([[1e5], [1.0], [2.0], [3.0]])
    loss = lambda w, b: snp.mean((b[0] @ w - b[1]) ** 2)  # noqa: E731
    with pytest.raises(ValueError, match=r"values up to 1e\+05, beyond float16's range \(6.55e\+04\)"):
        sl.ml.fit(loss, np.zeros(1), (X, np.ones(4)), epochs=1, mixed_precision=True)
    res = sl.ml.fit(loss, np.zeros(1), (X / 1e2, np.ones(4)), epochs=1, mixed_precision=True, progress=False)
    assert not res.diverged  # in range: it trains


def test_mlp_mixed_precision_on_huge_features_is_a_clear_error():
    X = np.random.default_rng(0).normal(size=(20, 3)) * 1e200
    with pytest.raises(ValueError, match="mixed precision computes in"):
        sl.ml.MLPRegressor(max_iter=2, mixed_precision=True).fit(X, np.ones(20))
