"""SAM from sl.minimize(method="sam") and from sl.ml.fit: hand-written SAM loops, gradient counts, flatness."""

import numpy as np
import pytest

import slopes as sl
import slopes.ml as ml
import slopes.numpy as snp
import slopes.optim as so

A = np.diag([1.0, 10.0])
B = np.array([1.0, -2.0])


def quadratic(x):
    return 0.5 * x @ (A @ x) - B @ x


def hand_sam(grad, x, lr, rho, steps):
    """SAM written out: x <- x - lr * grad(x + rho g / |g|), g = grad(x)."""
    xs = [x]
    for _ in range(steps):
        g = grad(x)
        x = x - lr * grad(x + rho * g / np.linalg.norm(g))
        xs.append(x)
    return np.array(xs)


def test_minimize_sam_matches_hand_written_loop_on_a_quadratic():
    x0 = np.array([3.0, 1.0])
    r = sl.minimize(quadratic, x0, method="sam", learning_rate=0.05, rho=0.1, maxiter=40, record_x=True)
    ref = hand_sam(lambda x: A @ x - B, x0, 0.05, 0.1, 40)
    np.testing.assert_allclose(r.history.x, ref, rtol=1e-12, atol=1e-14)
    # two gradient evaluations per iteration (plus the one at x0)
    assert r.nit == 40 and r.ngev == 1 + 2 * 40
    np.testing.assert_allclose(r.history.lr[1:], 0.05)


def test_minimize_sam_with_a_momentum_base_and_a_transformation_base():
    x0 = np.array([3.0, 1.0])
    r = sl.minimize(quadratic, x0, method="sam", learning_rate=0.05, rho=0.1, base="momentum",
                    base_options={"beta": 0.5}, maxiter=30, record_x=True)
    # hand loop: heavy ball on the SAM gradient, v <- beta v + g_sam, x <- x - lr v (torch's SGD momentum)
    x, v, xs = x0, np.zeros(2), [x0]
    for _ in range(30):
        g = A @ x - B
        v = 0.5 * v + (A @ (x + 0.1 * g / np.linalg.norm(g)) - B)
        x = x - 0.05 * v
        xs.append(x)
    np.testing.assert_allclose(r.history.x, np.array(xs), rtol=1e-10, atol=1e-12)
    same = sl.minimize(quadratic, x0, method="sam", rho=0.1, base=so.momentum(0.05, beta=0.5), maxiter=30)
    np.testing.assert_allclose(same.x, r.x, rtol=1e-14)
    # rho = 0 is the base optimizer itself
    plain = sl.minimize(quadratic, x0, method="gd", learning_rate=0.05, maxiter=30)
    sam0 = sl.minimize(quadratic, x0, method="sam", learning_rate=0.05, rho=0.0, maxiter=30)
    np.testing.assert_allclose(sam0.x, plain.x, rtol=1e-14)


def test_minimize_sam_on_mini_batches_uses_the_same_batch_twice():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = X @ np.array([1.0, -2.0])
    loss = lambda w, b: snp.mean((b[0] @ w - b[1]) ** 2)
    r = sl.minimize(loss, np.zeros(2), method="sam", learning_rate=0.05, rho=0.01, data=(X, y),
                    batch_size=10, epochs=30, seed=0, record_x=True)
    np.testing.assert_allclose(r.x, [1.0, -2.0], atol=0.02)
    # hand loop over the same seeded batches: both gradients of a step on that step's batch
    grad = lambda w, Xb, yb: 2 * Xb.T @ (Xb @ w - yb) / len(yb)
    batches = so.stochastic.MiniBatches((X, y), 10, seed=0)
    w = np.zeros(2)
    for _ in range(30):
        for Xb, yb in batches.epoch():
            g = grad(w, Xb, yb)
            w = w - 0.05 * grad(w + 0.01 * g / np.linalg.norm(g), Xb, yb)
    np.testing.assert_allclose(r.x, w, rtol=1e-10, atol=1e-12)


def test_minimize_sam_bad_options():
    with pytest.raises(ValueError, match="base must be one of"):
        sl.minimize(quadratic, np.ones(2), method="sam", base="lbfgs")
    with pytest.raises(ValueError, match="rho must be a non-negative number"):
        sl.minimize(quadratic, np.ones(2), method="sam", rho=-1.0)
    with pytest.raises(ValueError, match="does not accept option"):
        sl.minimize(quadratic, np.ones(2), method="sam", base="adam", base_options={"beta": 0.9})
    with pytest.raises(ValueError, match="its own learning rate"):
        sl.minimize(quadratic, np.ones(2), method="sam", base=so.sgd(0.1), learning_rate=0.1)


# ------------------------------------------------------------------ fit


def product_loss(w, b):
    """mean((x w0 w1 - y)^2): every w0 w1 = 1 is a minimum, the balanced one the flattest."""
    return snp.mean((b[0] * w[0] * w[1] - b[1]) ** 2)


def product_grad(w, x):
    # closed form with y = x: 2 mean(x^2) (w0 w1 - 1) (w1, w0)
    return 2 * np.mean(x**2) * (w[0] * w[1] - 1) * w[::-1]


def test_fit_with_sam_takes_two_gradients_per_step_on_its_batch():
    x = np.random.default_rng(1).normal(size=32)
    calls = []

    def counted(w, b):
        calls.append(len(b[0]))
        return product_loss(w, b)

    kw = dict(epochs=2, batch_size=8, seed=0, jit=False)  # eager: the loss runs once per evaluation
    sgd_run = ml.fit(counted, np.array([2.0, 0.25]), (x, x), optimizer=so.sgd(0.02), **kw)
    n_sgd, calls[:] = len(calls), []
    sam_run = ml.fit(counted, np.array([2.0, 0.25]), (x, x), optimizer=so.sam(so.sgd(0.02), rho=0.1), **kw)
    assert sgd_run.step == sam_run.step == 8
    assert n_sgd == 8 and len(calls) == 16 and set(calls) == {8}
    assert so.step_count(sam_run.state) == 8


def test_fit_with_sam_full_batch_matches_hand_written_loop():
    x = np.random.default_rng(2).normal(size=20)
    res = ml.fit(product_loss, np.array([2.0, 0.25]), (x, x), optimizer=so.sam(so.sgd(0.05), rho=0.2),
                 epochs=25)
    ref = hand_sam(lambda w: product_grad(w, x), np.array([2.0, 0.25]), 0.05, 0.2, 25)[-1]
    np.testing.assert_allclose(res.params, ref, rtol=1e-10)


def test_fit_with_sam_reaches_a_flatter_minimum():
    x = np.random.default_rng(0).normal(size=64)
    w0 = np.array([2.0, 0.25])
    kw = dict(epochs=50, batch_size=16, seed=0)
    plain = ml.fit(product_loss, w0, (x, x), optimizer=so.sgd(0.02), **kw).params
    flat = ml.fit(product_loss, w0, (x, x), optimizer=so.sam(so.sgd(0.02), rho=0.5), **kw).params
    full = lambda w: product_loss(w, (x, x))
    sharpness = lambda w: np.linalg.eigvalsh(sl.hessian(full)(w)).max()
    # both fit the data; at a minimum the top Hessian eigenvalue is 2 mean(x^2) |w|^2 (closed form),
    # smallest at w = (1, 1)
    assert full(plain) < 1e-10 and full(flat) < 1e-3
    np.testing.assert_allclose(sharpness(plain), 2 * np.mean(x**2) * (plain @ plain), rtol=1e-6)
    flattest = 4 * np.mean(x**2)
    assert sharpness(plain) > 2 * flattest  # measured 7.38 vs the flattest 3.19
    assert sharpness(flat) < 1.1 * flattest  # measured 3.26


def test_fit_with_sam_stops_on_a_non_finite_second_gradient():
    # -sqrt(1 - w) at w = 0.5 has a finite gradient; the SAM point 0.5 + 0.6 lies outside the domain
    loss = lambda w, b: -snp.sum(snp.sqrt(1.0 - w)) + 0.0 * snp.sum(b)
    with np.errstate(invalid="ignore"):
        res = ml.fit(loss, np.array([0.5]), np.zeros(1), optimizer=so.sam(so.sgd(0.1), rho=0.6), epochs=3)
    assert res.diverged and res.step == 0 and "re-evaluated" in res.message
    np.testing.assert_array_equal(res.params, [0.5])


def test_fit_with_sam_in_mixed_precision_skips_an_overflowing_second_gradient():
    # loss 2|w|^2 at w = (1, 1) is 4; at the SAM point w + (1, 1)/sqrt(2) it is 11.66. At scale 2**13
    # 4 * 8192 fits float16 (max 65504) but 11.66 * 8192 does not: skip and halve; at 2**12 both fit.
    loss = lambda w, b: 2.0 * snp.sum(w**2) + 0.0 * snp.sum(b)
    scaler = ml.DynamicLossScale(init_scale=2.0**13)
    res = ml.fit(loss, np.ones(2), np.zeros(1), optimizer=so.sam(so.sgd(0.01), rho=1.0), epochs=2,
                 mixed_precision=scaler)
    np.testing.assert_array_equal(res.history.step["skipped"], [True, False])
    np.testing.assert_array_equal(res.history.step["loss_scale"], [2.0**12, 2.0**12])
    assert scaler.skipped == 1 and scaler.good_steps == 1  # the second gradient does not count as a step
    ref = hand_sam(lambda w: 4 * w, np.ones(2), 0.01, 1.0, 1)[-1]
    np.testing.assert_allclose(res.params, ref, rtol=2e-3)  # float16 gradients


def test_lr_find_runs_sam_with_two_gradients_per_step():
    x = np.random.default_rng(3).normal(size=16)
    calls = []

    def counted(w, b):
        calls.append(1)
        return product_loss(w, b)

    res = ml.lr_find(counted, np.array([2.0, 0.25]), (x, x), optimizer_fn=lambda lr: so.sam(so.sgd(lr), rho=0.05),
                     min_lr=1e-4, max_lr=1e-2, num_steps=5, jit=False)
    assert len(res.losses) == 5 and len(calls) == 2 * 5
    # the first two losses: at w0, then after one SAM step of lr 1e-4 (hand-written)
    w1 = hand_sam(lambda w: product_grad(w, x), np.array([2.0, 0.25]), 1e-4, 0.05, 1)[-1]
    np.testing.assert_allclose(res.losses[1], product_loss(w1, (x, x)), rtol=1e-12)
