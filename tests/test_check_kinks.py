"""Gradient checking near kinks (ReLU, leaky ReLU, max-pool, abs): no false FAILED, real errors caught.

The networks are small and built so that one pre-activation (or max-pool tie)
sits at a random distance 1e-8 .. 1e-2 from its kink: closer than the
automatic finite-difference steps reach, the case that used to be reported as
a disagreement although AD was right.
"""

from __future__ import annotations

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
from slopes.ml.activations import leaky_relu, relu
from slopes.ml.losses import cross_entropy

N_NETWORKS = 200
KINDS = ("relu", "leaky_relu", "maxpool", "abs")
N_IN, N_HIDDEN, N_OUT, N_SAMPLES = 2, 2, 2, 2


def _activation(kind, z):
    if kind == "relu":
        return relu(z)
    if kind == "leaky_relu":
        return leaky_relu(z, 0.1)
    if kind == "abs":
        return snp.abs(z)
    return snp.maximum(z[:, 0::2], z[:, 1::2])  # max-pool over pairs of hidden units


def network(seed):
    """``(loss, params, kink_distance)``: a random 2-2-2 network whose point sits near a kink."""
    rng = np.random.default_rng(seed)
    kind = KINDS[seed % len(KINDS)]
    loss_kind = ("cross_entropy", "mse")[(seed // len(KINDS)) % 2]
    n_mid = N_HIDDEN // 2 if kind == "maxpool" else N_HIDDEN
    X = rng.standard_normal((N_SAMPLES, N_IN))
    onehot = np.eye(N_OUT)[rng.integers(0, N_OUT, N_SAMPLES)]
    targets = rng.standard_normal((N_SAMPLES, N_OUT))
    sizes = [N_IN * N_HIDDEN, N_HIDDEN, n_mid * N_OUT, N_OUT]
    cut = np.cumsum(sizes)

    def unpack(p):
        W1, b1, W2, b2 = p[: cut[0]], p[cut[0] : cut[1]], p[cut[1] : cut[2]], p[cut[2] :]
        return W1.reshape(N_IN, N_HIDDEN), b1, W2.reshape(n_mid, N_OUT), b2

    def loss(p):
        W1, b1, W2, b2 = unpack(p)
        out = _activation(kind, X @ W1 + b1) @ W2 + b2
        if loss_kind == "cross_entropy":  # small logits: the plain formula is accurate and quick
            return snp.mean(snp.log(snp.sum(snp.exp(out), axis=1)) - snp.sum(out * onehot, axis=1))
        return snp.mean((out - targets) ** 2)

    p = rng.standard_normal(cut[-1]) * 0.7
    # move one kink close: a pre-activation (or, for max-pool, the gap of a pair) at distance 10**-U(2, 8)
    distance = rng.choice([-1.0, 1.0]) * 10.0 ** rng.uniform(-8, -2)
    W1, b1, _, _ = unpack(p)
    s, u = rng.integers(N_SAMPLES), rng.integers(N_HIDDEN // 2) * 2
    z = X @ W1 + b1
    if kind == "maxpool":
        p[cut[0] + u] += distance - (z[s, u] - z[s, u + 1])
    else:
        p[cut[0] + u] += distance - z[s, u]
    return loss, p, abs(distance)


def wrong_gradient(loss, k, size):
    """``loss`` with a hand-written reverse rule that is off in entry ``k`` by ``size``."""
    true_grad = sl.grad(loss)

    @sl.custom_vjp
    def wrapped(p):
        return loss(p)

    def fwd(p):
        return loss(p), p

    def bwd(p, g):
        return (g * (true_grad(p) + size * np.eye(p.size)[k]),)

    wrapped.defvjp(fwd, bwd)
    return wrapped


def test_the_network_generator_puts_a_kink_within_the_steps():
    # the independent reference for "near a kink": the pre-activations themselves
    loss, p, distance = network(0)
    assert 1e-8 <= distance <= 1e-2
    assert np.isfinite(float(loss(p)))


def test_no_false_failures_on_200_networks_near_kinks():
    verdicts = {"ok": 0, "failed": 0, "inconclusive": 0}
    for seed in range(N_NETWORKS):
        loss, p, _ = network(seed)
        report = sl.check_grad(loss, p)
        verdicts[report.verdict] += 1
        assert report.verdict != "failed", f"seed {seed}: {report.summary()}"
    # such kinks are resolved by smaller steps: a verdict, not a shrug
    assert verdicts["ok"] >= 0.99 * N_NETWORKS, verdicts


def test_one_wrong_gradient_entry_is_caught_on_every_network():
    for seed in range(N_NETWORKS):
        loss, p, _ = network(seed)
        rng = np.random.default_rng(10_000 + seed)
        k = int(rng.integers(p.size))
        g = sl.grad(loss)(p)
        size = 1e-3 * (1 + abs(g[k]))  # a small bug: 0.1% of the entry
        report = sl.check_grad(wrong_gradient(loss, k, size), p)
        assert report.verdict == "failed", f"seed {seed}, entry {k}: {report.summary()}"
        assert [e.index for e in report.failures] == [(k,)], f"seed {seed}: {report.summary()}"


def test_the_issue_example_4_5_3_mlp_with_a_pre_activation_at_2e_4():
    rng = np.random.default_rng(21)
    X, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)

    def loss(p):
        h = relu(X @ p[:20].reshape(4, 5) + p[20:25])
        return cross_entropy(h @ p[25:40].reshape(5, 3) + p[40:43], y)

    p = rng.standard_normal(43) * 0.5
    smallest = np.min(np.abs(X @ p[:20].reshape(4, 5) + p[20:25]))
    assert 1e-4 < smallest < 1e-3  # inside the old automatic step (about 1e-3)
    report = sl.check_grad(loss, p)
    assert report.ok, str(report)
    est = sl.numeric.grad(loss, p, full_output=True)
    true = sl.grad(loss)(p)
    assert np.all(np.abs(est.value - true) <= est.error)
    assert not est.kink.any()


@pytest.mark.parametrize(
    "f, kink_entries",
    [
        (lambda x: snp.sum(relu(x) * np.array([1.0, 2.0, 3.0])), [(0,)]),
        (lambda x: snp.sum(snp.abs(x)), [(0,)]),
        (lambda x: snp.max(snp.stack([x[0], x[1] - 0.7, x[2]])), [(0,), (1,)]),
    ],
    ids=["relu_at_0", "abs_at_0", "max_tie"],
)
def test_exact_kinks_are_inconclusive_and_named_never_failed(f, kink_entries):
    x = np.array([0.0, 0.7, -0.3])
    report = sl.check_grad(f, x)
    assert report.verdict == "inconclusive", str(report)
    assert not report.ok and not report.failures
    assert [e.index for e in report.inconclusive] == kink_entries
    names = ", ".join(f"[{i}]" for (i,) in kink_entries)
    assert report.summary().startswith(f"INCONCLUSIVE: {len(kink_entries)} of 3 entries ({names}) lie at a non-differentiable")
    assert "kink?" in str(report)
    # a wrong entry elsewhere is still a failure, and the kink is still named
    wrong = wrong_gradient(f, 2, 0.5)
    bad = sl.check_grad(wrong, x)
    assert bad.verdict == "failed" and [e.index for e in bad.failures] == [(2,)]
    assert "non-differentiable" in bad.summary()


def test_numeric_flags_only_unresolved_kinks():
    f = lambda x: np.sum(np.abs(x))  # noqa: E731
    x = np.array([0.0, 1e-6, 1e-9, -0.3])
    est = sl.numeric.grad(f, x, full_output=True)
    assert est.kink.tolist() == [True, False, False, False]
    np.testing.assert_array_equal(est.value[1:], np.sign(x[1:]))  # below the kink distance: exact
    assert est.error[0] >= 1.0  # the one-sided slopes are -1 and 1: the error covers either
    d = sl.numeric.derivative(np.abs, np.array([0.0, 1e-7, -2e-5]), full_output=True)
    assert d.kink.tolist() == [True, False, False]
    np.testing.assert_array_equal(d.value[1:], [1.0, -1.0])
    J = sl.numeric.jacobian(lambda x: np.abs(x - 1e-8), np.array([0.0, 1.0]), full_output=True)
    np.testing.assert_allclose(J.value, [[-1.0, 0.0], [0.0, 1.0]], rtol=1e-14, atol=1e-14)
    assert not J.kink.any()


def _coverage_cases(rng):
    """(f, x) pairs: smooth, saturating (cancellation) and kinked, at random points."""
    a = rng.standard_normal(3)
    cases = [
        (lambda x: snp.sum(snp.tanh(10 * x)), rng.choice([-1.0, 1.0], 3) * rng.uniform(0.5, 3.0, 3)),
        (lambda x: snp.sum(snp.sin(a * x) * snp.exp(x[0])), rng.standard_normal(3)),
        (lambda x: snp.log1p(snp.sum(x**2)) + x[0] * x[1] ** 3, 2 * rng.standard_normal(3)),
        (lambda x: snp.sum(snp.exp(5 * a * x)), rng.standard_normal(3)),
        (lambda x: snp.sum(1 / (1 + (3 * x) ** 2)), rng.standard_normal(3)),
        (lambda x: snp.sum(relu(x - a) * x), a + rng.choice([-1.0, 1.0], 3) * 10.0 ** rng.uniform(-9, -1, 3)),
        (lambda x: snp.sum(snp.abs(x - a) ** 1.5), a + 10.0 ** rng.uniform(-6, -1, 3)),
    ]
    return cases


def test_error_estimate_covers_the_true_error_in_99_percent():
    rng = np.random.default_rng(0)
    covered = total = saturated_covered = saturated = 0
    for _ in range(30):
        for i, (f, x) in enumerate(_coverage_cases(rng)):
            est = sl.numeric.grad(f, x, full_output=True)
            ok = np.abs(est.value - sl.grad(f)(x)) <= est.error  # AD is the reference
            covered, total = covered + ok.sum(), total + ok.size
            if i == 0:
                saturated_covered, saturated = saturated_covered + ok.sum(), saturated + ok.size
    assert covered >= 0.99 * total, (covered, total)
    assert saturated_covered >= 0.99 * saturated, (saturated_covered, saturated)


def test_check_rule_near_kinks_catches_a_wrong_rule_and_never_cries_wolf():
    @sl.custom_jvp
    def bad_relu(z):
        return relu(z)

    @bad_relu.defjvp
    def _(primals, tangents):
        (z,), (t,) = primals, tangents
        return bad_relu(z), snp.where(z > 0, 1.0, 0.05) * t  # wrong: the slope below 0 is 0

    for seed in range(0, 40, 4):  # the ReLU networks
        loss, p, _ = network(seed)
        assert sl.check_rule(loss, p, order=1).verdict != "failed", seed
        rng = np.random.default_rng(seed)
        z = rng.standard_normal(6)
        z[0] = 1e-7 * rng.choice([-1.0, 1.0])  # a point next to the kink
        report = sl.check_rule(bad_relu, z, order=1)
        assert report.verdict == "failed", str(report)


def test_hessians_and_jacobians_near_kinks_do_not_cry_wolf():
    c = np.array([0.3, -0.2])
    f = lambda x: snp.sum(relu(x - c) ** 2) + x[0] * x[1]  # noqa: E731  (f' has kinks at c)
    x = c + np.array([1e-7, -3e-6])
    hess = sl.check_grad(f, x, kind="hessian")
    assert hess.ok, str(hess)
    np.testing.assert_allclose(hess.ad, [[2.0, 1.0], [1.0, 0.0]])  # the closed form
    A = np.array([[1.0, -2.0], [0.5, 1.5], [-1.0, 0.3]])
    b = -A @ np.array([0.4, 0.1]) + np.array([2e-6, -1.0, 4e-8])  # two outputs next to their kinks
    jac = sl.check_grad(lambda x: leaky_relu(A @ x + b, 0.1), np.array([0.4, 0.1]), kind="jacobian")
    assert jac.ok, str(jac)
    np.testing.assert_allclose(jac.ad, A * np.array([[1.0], [0.1], [1.0]]))
