"""slopes.optim schedules: closed forms, PyTorch's lr_scheduler, and reduce_on_plateau."""

import math

import numpy as np
import pytest

import slopes.optim as so

T = np.arange(0, 60)


def closed(fn):
    return np.array([fn(int(t)) for t in T])


def sched_values(s):
    return np.array([s(int(t)) for t in T])


def test_constant_and_as_schedule():
    assert all(so.constant(0.3)(t) == 0.3 for t in T)
    assert so.as_schedule(0.2)(10) == 0.2
    f = lambda t: 1.0 / (1 + t)
    # a callable is used as is, its values checked at each use
    assert [so.as_schedule(f)(t) for t in (0, 3)] == [f(0), f(3)]
    # any callable is a learning rate
    opt = so.rmsprop(f)
    s = opt.init(np.zeros(1))
    _, s = opt.update(np.ones(1), s)
    assert so.learning_rate(s) == 0.5


def test_piecewise_constant_and_step_decay():
    s = so.piecewise_constant([5, 12, 30], [1.0, 0.5, 0.2, 0.01])
    ref = closed(lambda t: 1.0 if t < 5 else 0.5 if t < 12 else 0.2 if t < 30 else 0.01)
    np.testing.assert_array_equal(sched_values(s), ref)
    np.testing.assert_allclose(sched_values(so.step_decay(0.8, 7, 0.3)), closed(lambda t: 0.8 * 0.3 ** (t // 7)))
    with pytest.raises(ValueError):
        so.piecewise_constant([5, 3], [1.0, 0.5, 0.1])
    with pytest.raises(ValueError):
        so.piecewise_constant([5], [1.0])


def test_exponential_decay():
    np.testing.assert_allclose(
        sched_values(so.exponential_decay(0.5, 0.9, transition_steps=4)), closed(lambda t: 0.5 * 0.9 ** (t / 4)), rtol=1e-14
    )
    np.testing.assert_allclose(
        sched_values(so.exponential_decay(0.5, 0.9, 4, staircase=True)), closed(lambda t: 0.5 * 0.9 ** (t // 4)), rtol=1e-14
    )


def test_cosine_decay():
    s = so.cosine_decay(0.2, 40, alpha=0.05)
    ref = closed(lambda t: 0.01 + 0.19 * (1 + math.cos(math.pi * min(t, 40) / 40)) / 2)
    np.testing.assert_allclose(sched_values(s), ref, rtol=0, atol=1e-15)
    assert s(0) == 0.2 and s(40) == pytest.approx(0.01) and s(59) == pytest.approx(0.01)


def test_warmup_cosine():
    s = so.warmup_cosine(1.0, warmup_steps=10, total_steps=50, init_value=0.1, final_fraction=0.2)

    def ref(t):
        if t < 10:
            return 0.1 + 0.9 * t / 10
        p = min(t - 10, 40) / 40
        return 0.2 + 0.8 * (1 + math.cos(math.pi * p)) / 2

    np.testing.assert_allclose(sched_values(s), closed(ref), rtol=0, atol=1e-15)
    assert max(sched_values(s)) == s(10) == 1.0
    np.testing.assert_allclose(s(np.array([0, 10, 50])), [0.1, 1.0, 0.2])  # arrays of steps
    with pytest.raises(ValueError):
        so.warmup_cosine(1.0, 10, 10)


@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_one_cycle_closed_form(anneal):
    s = so.one_cycle(2.0, total_steps=50, pct_start=0.3, div_factor=20, final_div_factor=100, anneal=anneal)
    lo, hi, end = 0.1, 2.0, 0.001
    mid = 0.3 * 50 - 1

    def ann(a, b, p):
        return b + (a - b) * (1 + math.cos(math.pi * p)) / 2 if anneal == "cos" else a + (b - a) * p

    ref = [ann(lo, hi, t / mid) if t <= mid else ann(hi, end, (t - mid) / (49 - mid)) for t in range(50)]
    np.testing.assert_allclose([s(t) for t in range(50)], ref, rtol=0, atol=1e-14)
    assert s(0) == pytest.approx(lo) and s(14) == pytest.approx(hi) and s(49) == pytest.approx(end)


# ---- PyTorch's lr_scheduler, when installed ----


def torch_lrs(make_sched, n, lr=1.0):
    torch = pytest.importorskip("torch")
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr)
    sch = make_sched(torch, opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sch.step()
    return np.array(out)


def test_cosine_matches_torch_cosine_annealing():
    ref = torch_lrs(lambda T, o: T.optim.lr_scheduler.CosineAnnealingLR(o, T_max=30, eta_min=0.05), 31, lr=0.5)
    ours = [so.cosine_decay(0.5, 30, alpha=0.1)(t) for t in range(31)]
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def test_step_and_exponential_match_torch():
    ref = torch_lrs(lambda T, o: T.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.3), 40, lr=0.8)
    np.testing.assert_allclose([so.step_decay(0.8, 7, 0.3)(t) for t in range(40)], ref, rtol=1e-12)
    ref = torch_lrs(lambda T, o: T.optim.lr_scheduler.MultiStepLR(o, milestones=[5, 12], gamma=0.5), 20)
    np.testing.assert_allclose([so.piecewise_constant([5, 12], [1.0, 0.5, 0.25])(t) for t in range(20)], ref, rtol=1e-12)
    ref = torch_lrs(lambda T, o: T.optim.lr_scheduler.ExponentialLR(o, gamma=0.93), 40, lr=0.7)
    np.testing.assert_allclose([so.exponential_decay(0.7, 0.93)(t) for t in range(40)], ref, rtol=1e-12)


@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_one_cycle_matches_torch(anneal):
    def make(T, o):
        return T.optim.lr_scheduler.OneCycleLR(
            o, max_lr=2.0, total_steps=50, pct_start=0.3, div_factor=20, final_div_factor=100,
            anneal_strategy=anneal, cycle_momentum=False,
        )

    ref = torch_lrs(make, 50)
    ours = [so.one_cycle(2.0, 50, 0.3, 20, 100, anneal=anneal)(t) for t in range(50)]
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


# ---- reduce_on_plateau ----

LOSSES = [5.0, 4.0, 4.0, 3.9999, 4.1, 4.0, 3.0, 3.0, 3.0, 3.0, 3.0, 2.0, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5]


def ref_plateau(losses, factor, patience, threshold, cooldown, min_scale):
    scale, best, bad, cool, out = 1.0, math.inf, 0, 0, []
    for f in losses:
        if f < best * (1 - threshold):
            best, bad = f, 0
        else:
            bad += 1
        if cool > 0:
            cool, bad = cool - 1, 0
        if bad > patience:
            scale, cool, bad = max(scale * factor, min_scale), cooldown, 0
        out.append(scale)
    return out


def plateau_scales(opt, losses):
    s = opt.init(np.zeros(1))
    out = []
    for f in losses:
        upd, s = opt.update(np.ones(1), s, loss=f)
        out.append(so.learning_rate(s))
        assert upd[0] == -out[-1]  # this update already uses the new scale
    return out


def test_reduce_on_plateau_formula():
    opt = so.chain(so.sgd(1.0), so.reduce_on_plateau(factor=0.5, patience=2, threshold=1e-3, cooldown=1, min_scale=0.1))
    ours = plateau_scales(opt, LOSSES)
    assert ours == ref_plateau(LOSSES, 0.5, 2, 1e-3, 1, 0.1)
    assert ours[0] == 1.0 and ours[-1] < 0.5  # it did reduce
    assert so.step_count(opt.init(None)) == 0
    with pytest.raises(ValueError, match="loss"):
        opt.update(np.ones(1), opt.init(np.zeros(1)))


def test_reduce_on_plateau_abs_mode():
    opt = so.chain(so.sgd(1.0), so.reduce_on_plateau(factor=0.5, patience=0, threshold=0.5, threshold_mode="abs"))
    # 4.6 is not better than 5 - 0.5; 4.4 is
    assert plateau_scales(opt, [5.0, 4.6, 4.4]) == [1.0, 0.5, 0.5]


def test_reduce_on_plateau_matches_torch():
    torch = pytest.importorskip("torch")
    p = torch.zeros(1, requires_grad=True)
    topt = torch.optim.SGD([p], lr=1.0)
    sch = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, factor=0.5, patience=2, threshold=1e-3, cooldown=1, min_lr=0.1)
    ref = []
    for f in LOSSES:
        sch.step(f)
        ref.append(topt.param_groups[0]["lr"])
    opt = so.chain(so.sgd(1.0), so.reduce_on_plateau(factor=0.5, patience=2, threshold=1e-3, cooldown=1, min_scale=0.1))
    np.testing.assert_allclose(plateau_scales(opt, LOSSES), ref, rtol=1e-15)
