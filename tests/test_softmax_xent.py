"""The fused softmax cross-entropy behind ``ml.cross_entropy`` (``core/ops/softmax_xent.py``).

References are independent of slopes: scipy's ``log_softmax`` with a NumPy weighted sum or
pick (the composition the primitive replaces), closed forms (the gradient ``sum(y) p - y``,
the Hessian ``sum(y) (diag(p) - p p^T)``, third derivatives along a line the third cumulant
of the direction under ``p``), central differences, and PyTorch and JAX where installed.
"""

import warnings

import numpy as np
import pytest
from scipy import special

import slopes as sl
import slopes.ml as ml
import slopes.numpy as snp
from test_logsumexp_rule import NONFINITE as LOGSUMEXP_ROWS
from test_logsumexp_rule import same_pattern

RNG = np.random.default_rng(22)


def reference_rows(z, y):
    """Per-row losses of the composition: ``-sum(y * log_softmax(z))`` or ``-log_softmax(z)[y]``."""
    logp = special.log_softmax(z, axis=-1)
    if np.issubdtype(y.dtype, np.integer):
        return -np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]
    return -(y * logp).sum(axis=-1)


def reduce(rows, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda r: r}[reduction](rows)


def targets(shape, labels, dtype=np.float64):
    """Integer labels of ``shape[:-1]``, or random probability rows of ``shape``."""
    if labels:
        return RNG.integers(0, shape[-1], shape[:-1])
    w = RNG.random(shape)
    return (w / w.sum(axis=-1, keepdims=True)).astype(dtype)


def onehot_or(y, k):
    return np.eye(k)[y] if np.issubdtype(y.dtype, np.integer) else y


# -- values and first derivatives -------------------------------------------------------------
@pytest.mark.parametrize("shape", [(7, 5), (2, 3, 4), (6,)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("labels", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_gradients_match_the_composition_in_the_input_dtype(dtype, labels, reduction, shape):
    z = (RNG.normal(size=shape) * 3).astype(dtype)
    y = targets(shape, labels, dtype)
    rows = reference_rows(z.astype(np.float64), y)
    got = ml.cross_entropy(z, y, reduction=reduction)
    assert np.asarray(got).dtype == dtype
    tol = dict(rtol=1e-13, atol=1e-15) if dtype == np.float64 else dict(rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(got, reduce(rows, reduction), **tol)
    # the gradient of sum(c * rows): c (sum(y) p - y) per row
    c = RNG.normal(size=shape[:-1])
    g = sl.grad(lambda v: snp.sum(c * ml.cross_entropy(v, y, reduction="none")))(z)
    assert g.dtype == dtype
    t = onehot_or(y, shape[-1])
    p = special.softmax(z.astype(np.float64), axis=-1)
    want = np.asarray(c)[..., None] * (t.sum(axis=-1, keepdims=True) * p - t)
    np.testing.assert_allclose(g, want, **tol)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("labels", [True, False])
def test_values_and_gradients_match_torch(labels, reduction):
    torch = pytest.importorskip("torch")
    z, y = RNG.normal(size=(9, 6)) * 4, targets((9, 6), labels)
    zt = torch.tensor(z, requires_grad=True)
    want = torch.nn.functional.cross_entropy(zt, torch.tensor(y), reduction=reduction)
    cot = RNG.normal(size=want.shape)
    (want * torch.tensor(cot)).sum().backward()
    value, pullback = sl.vjp(lambda v: ml.cross_entropy(v, y, reduction=reduction), z)
    np.testing.assert_allclose(value, want.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(pullback(cot)[0], zt.grad.numpy(), rtol=1e-13, atol=1e-16)


def test_huge_logits_give_the_exact_loss_and_gradient():
    z = np.array([[1000.0, 0.0], [0.0, 0.0], [-1000.0, 1000.0]])
    for y in (np.array([1, 0, 0]), np.eye(2)[[1, 0, 0]]):
        for dtype in (np.float64, np.float32):
            rows = ml.cross_entropy(z.astype(dtype), y, reduction="none")
            np.testing.assert_allclose(rows, [1000.0, np.log(2.0), 2000.0], rtol=1e-7)
            g = sl.grad(lambda v: ml.cross_entropy(v, y, reduction="sum"))(z.astype(dtype))  # noqa: B023
            np.testing.assert_allclose(g, [[1.0, -1.0], [-0.5, 0.5], [-1.0, 1.0]], rtol=1e-7)


def test_a_confident_row_keeps_the_small_entries_of_its_gradient():
    # p_y - 1 = -2e / (1 + 2e), e = exp(-30): from e / s, correctly rounded, within an ulp of 1
    z = np.array([[30.0, 0.0, 0.0]])
    tiny = 2 * np.exp(-30.0)
    for y in (np.array([0]), np.array([[1.0, 0.0, 0.0]])):
        g = sl.grad(ml.cross_entropy)(z, y)
        assert g[0, 0] == pytest.approx(-tiny / (1 + tiny), rel=0, abs=2.3e-16)
        assert g[0, 1] == pytest.approx(np.exp(-30.0) / (1 + tiny), rel=1e-15)


# -- inf and NaN: as the composition --------------------------------------------------------
NONFINITE = np.vstack([LOGSUMEXP_ROWS, [[0.5, 1.0, -1.0]]])  # and a finite row


def composed(z, t):
    """The former composition in NumPy: rows ``-sum(t * log_softmax)`` and the gradient of their
    sum, ``sum(t) exp(log_softmax) - t`` with the softmax term masked where ``sum(t)`` is 0."""
    logp = special.log_softmax(z, axis=-1)
    s = t.sum(axis=-1, keepdims=True)
    return -(t * logp).sum(axis=-1), np.where(s == 0, 0.0, s * np.exp(logp)) - t


@pytest.mark.parametrize("labels", [True, False])
def test_nonfinite_rows_behave_as_the_composition(labels):
    y = np.array([1, 0, 1, 2, 2, 2, 0, 1])
    t = np.eye(3)[y]
    target = y if labels else t
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want_rows, want_grad = composed(NONFINITE, t)
        rows = ml.cross_entropy(NONFINITE, target, reduction="none")
        grad = sl.grad(lambda v: ml.cross_entropy(v, target, reduction="sum"))(NONFINITE)
        jitted = sl.jit(sl.grad(lambda v: ml.cross_entropy(v, target, reduction="sum")))(NONFINITE)
        want_picked = reference_rows_nonfinite(y)
        keep = np.array([True, False, False, True, False, False, True, True])
        masked = sl.grad(lambda v: snp.sum(snp.where(keep, ml.cross_entropy(v, target, reduction="none"), 0.0)))(
            NONFINITE)
    if not labels:  # the weighted sum gives 0 * -inf = NaN at a -inf logit of weight 0 (as torch)
        assert np.isnan(rows[3]) and np.isnan(want_rows[3])
    same_pattern(rows, want_rows if not labels else want_picked)
    same_pattern(grad, want_grad)
    np.testing.assert_array_equal(jitted, grad)
    # no NaN from the rows `where` did not take; the kept rows' gradients as before
    np.testing.assert_array_equal(masked[~keep], 0.0)
    same_pattern(masked[keep], want_grad[keep])


def reference_rows_nonfinite(y):
    """``logsumexp(z) - z_y`` on NONFINITE, from its log_softmax: the pick of the composition."""
    return -special.log_softmax(NONFINITE, axis=-1)[np.arange(len(y)), y]


# -- higher derivatives ------------------------------------------------------------------------
def test_hessians_in_the_logits_match_the_closed_form_every_way():
    z, t = RNG.normal(size=(3, 4)), RNG.uniform(0.2, 0.9, (3, 4))  # row sums over 1: sum(y) enters
    f = lambda v: ml.cross_entropy(v, t, reduction="sum")  # noqa: E731
    p = special.softmax(z, axis=-1)
    want = np.zeros((3, 4, 3, 4))
    for i in range(3):
        want[i, :, i, :] = t[i].sum() * (np.diag(p[i]) - np.outer(p[i], p[i]))
    for hess in (sl.hessian(f), sl.jacfwd(sl.jacrev(f)), sl.jacrev(sl.jacrev(f)), sl.jacfwd(sl.jacfwd(f))):
        np.testing.assert_allclose(hess(z), want, rtol=1e-12, atol=1e-16)
    v = RNG.normal(size=(3, 4))
    np.testing.assert_allclose(sl.hvp(f, z, v), np.einsum("ijkl,kl->ij", want, v), rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("labels", [True, False])
def test_derivatives_along_a_line_are_the_cumulants_of_the_direction(labels):
    # f(z + s v) = sum(y) logsumexp(z + s v) - <y, z + s v> per row: the k-th derivative at 0 is
    # sum(y) times the k-th cumulant of v under p (k >= 2)
    z, v = RNG.normal(size=5), RNG.normal(size=5)
    y = np.array(3) if labels else RNG.uniform(0.1, 0.6, 5)
    sy = 1.0 if labels else y.sum()
    p = special.softmax(z)
    mu = p @ v
    along = lambda s: ml.cross_entropy(z + s * v, y)  # noqa: E731
    for order, cumulant in ((2, p @ (v - mu) ** 2), (3, p @ (v - mu) ** 3)):
        assert float(sl.derivative(along, order=order)(0.0)) == pytest.approx(sy * cumulant, rel=1e-10)
    d3 = sl.grad(lambda a: sl.grad(lambda b: sl.grad(along)(b))(a))(0.0)
    assert float(d3) == pytest.approx(sy * p @ (v - mu) ** 3, rel=1e-10)


def test_forward_mode_matches_central_differences():
    z, t = RNG.normal(size=(4, 6)), targets((4, 6), False)
    dz, dt = RNG.normal(size=(4, 6)), RNG.normal(size=(4, 6))
    f = lambda a, b: ml.cross_entropy(a, b, reduction="none")  # noqa: E731
    _, tangent = sl.jvp(f, (z, t), (dz, dt))
    h = 1e-6
    fd = (f(z + h * dz, t + h * dt) - f(z - h * dz, t - h * dt)) / (2 * h)
    np.testing.assert_allclose(tangent, fd, rtol=1e-7, atol=1e-9)


def test_derivatives_in_the_targets_match_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    z, t = RNG.normal(size=(4, 5)), targets((4, 5), False)

    def jloss(a, b):
        return -jnp.mean(jnp.sum(b * jax.nn.log_softmax(a, axis=-1), axis=-1))

    f = lambda a, b: ml.cross_entropy(a, b)  # noqa: E731
    grads = jax.jit(jax.grad(jloss, (0, 1)))(z, t)
    hessian = jax.jit(jax.hessian(jloss, (0, 1)))(z, t)  # hessian[i][j]: d/d(arg j) of the gradient in arg i
    for i in (0, 1):
        np.testing.assert_allclose(sl.grad(f, argnums=i)(z, t), grads[i], rtol=1e-13, atol=1e-16)
        # second order: in the targets (linear: 0), mixed, and in the logits; forward and reverse
        for j in (0, 1):
            for outer in (sl.jacfwd, sl.jacrev):
                got = outer(sl.grad(f, argnums=i), argnums=j)(z, t)
                np.testing.assert_allclose(got, hessian[i][j], rtol=1e-12, atol=1e-15)


# -- vmap and jit ------------------------------------------------------------------------------
@pytest.mark.parametrize("labels", [True, False])
def test_vmap_matches_per_example(labels):
    zs = RNG.normal(size=(3, 4, 5))
    ys = np.stack([targets((4, 5), labels) for _ in range(3)])
    grad = sl.grad(ml.cross_entropy)
    per_example = np.stack([grad(z, y) for z, y in zip(zs, ys)])
    np.testing.assert_allclose(sl.vmap(grad)(zs, ys), per_example, rtol=1e-14)
    np.testing.assert_allclose(sl.vmap(grad, in_axes=(0, None))(zs, ys[0]),
                               np.stack([grad(z, ys[0]) for z in zs]), rtol=1e-14)
    np.testing.assert_allclose(sl.vmap(ml.cross_entropy, in_axes=(None, 0))(zs[0], ys),
                               [ml.cross_entropy(zs[0], y) for y in ys], rtol=1e-14)
    hess = sl.vmap(sl.hessian(lambda v, y: ml.cross_entropy(v, y, reduction="sum")))(zs[:, 0], ys[:, 0])
    p, t = special.softmax(zs[:, 0], axis=-1), onehot_or(ys[:, 0], 5)
    want = [s * (np.diag(q) - np.outer(q, q)) for q, s in zip(p, t.sum(axis=-1))]
    np.testing.assert_allclose(hess, want, rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("labels", [True, False])
def test_jit_is_the_eager_computation_bit_for_bit(labels, dtype):
    z, y = RNG.normal(size=(8, 5)).astype(dtype), targets((8, 5), labels, dtype)
    vg = sl.value_and_grad(ml.cross_entropy)
    (value, g), (jvalue, jg) = vg(z, y), sl.jit(vg)(z, y)
    assert float(jvalue) == float(value)
    np.testing.assert_array_equal(jg, g)


# -- work, counted ---------------------------------------------------------------------------
def mlp_step_program(target):
    """The digits MLP step of ``benchmarks/speed.py`` (64-128-10, ReLU, Adam, batch 64), traced."""
    rng = np.random.default_rng(0)
    p0 = {"W1": rng.normal(size=(64, 128)) / 8, "b1": np.zeros(128),
          "W2": rng.normal(size=(128, 10)) / 11, "b2": np.zeros(10)}
    opt = sl.optim.adam(1e-3)

    def loss(p, xb, yb):
        return ml.cross_entropy(ml.relu(xb @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"], yb)

    def step(params, state, xb, yb):
        value, g = sl.value_and_grad(loss)(params, xb, yb)
        updates, state = opt.update(g, state, params)
        return sl.optim.apply_updates(params, updates), state, value

    return sl.jit(step).trace(p0, opt.init(p0), rng.random((64, 64)), target)


@pytest.mark.parametrize("labels", [True, False])
def test_the_mlp_training_step_program_is_shorter(labels):
    y = np.random.default_rng(1).integers(0, 10, 64)
    names = [e.prim.name for e in mlp_step_program(y if labels else np.eye(10)[y]).equations]
    # log_softmax and a weighted sum (one-hot rows) or a pick (labels) made 84 and 86 operations
    assert len(names) == 78
    assert names.count("softmax_xent") == names.count("xent_grad") == 1


def test_the_backward_reads_the_forwards_softmax_and_calls_no_exp():
    z, t = RNG.normal(size=(64, 10)), np.eye(10)[RNG.integers(0, 10, 64)]
    names = [e.prim.name for e in sl.jit(sl.value_and_grad(ml.cross_entropy)).trace(z, t).equations]
    # the value: the fused pass, its loss column, a mean; the gradient: one call reading the softmax
    assert names == ["softmax_xent", "getitem", "sum", "divide", "xent_grad"]
    grad_only = [e.prim.name for e in sl.jit(sl.grad(ml.cross_entropy)).trace(z, t).equations]
    assert grad_only == ["softmax_xent", "xent_grad"]


@pytest.mark.parametrize("shape", [(64, 10), (3, 20, 5), (16, 32), (100, 40), (4, 3), (7,)])
def test_row_maxima_down_the_columns_are_numpys(shape):
    # the maxima of many short rows are taken down the columns of a transposed copy
    from slopes.core.ops.logsumexp import _row_max

    z = RNG.normal(size=shape)
    z.flat[5], z.flat[6] = np.nan, np.inf
    got = _row_max(z)
    assert got.shape == shape[:-1] + (1,)
    np.testing.assert_array_equal(got, np.max(z, axis=-1, keepdims=True))
