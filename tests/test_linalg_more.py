"""``snp.linalg.qr`` and ``lstsq``, with ``matrix_power`` and ``slogdet`` through Taylor mode and jit.

Every case runs every property of ``linalg_props`` (values equal to NumPy's; first
and second derivatives, forward and reverse, against finite differences;
``jacfwd == jacrev``; ``vmap``; Taylor mode; ``jit``). Then closed forms and clear
errors (agreement with JAX: ``test_linalg_svd.test_gradients_agree_with_jax``).
"""

from __future__ import annotations

import numpy as np
import pytest
from linalg_props import PROPERTIES, assert_tangent_matches

import slopes as sl
import slopes.numpy as snp

EXACT = dict(rtol=1e-10, atol=1e-12)
LinAlgError = np.linalg.LinAlgError


def T(x):
    return x.swapaxes(-1, -2)


def flat(xp, *parts):
    return xp.concatenate([xp.reshape(p, (-1,)) for p in parts])


def qr_parts(xp, a, mode):
    if mode == "r":
        return xp.linalg.qr(a, mode="r")
    q, r = xp.linalg.qr(a, mode=mode)
    n = a.shape[-1]
    if mode == "complete" and q.shape[-1] > n:  # the extra columns, through their projector
        q2 = q[..., n:]
        return flat(xp, q[..., :n], r, q2 @ T(q2))
    return flat(xp, q, r)


def lstsq_parts(xp, a, b):
    x, residuals, _, s = xp.linalg.lstsq(a, b)
    return flat(xp, x, residuals, s)


def randn(*shapes):
    return lambda rng: tuple(rng.standard_normal(s) for s in shapes)


def both(f, make_args):
    return (lambda *a: f(snp, *a)), (lambda *a: f(np, *a)), make_args


def qr_case(shape, mode="reduced"):
    return both(lambda xp, a: qr_parts(xp, a, mode), randn(shape))


def general(rng, lead, n):
    return n * np.eye(n) + rng.uniform(-1.0, 1.0, size=tuple(lead) + (n, n))


CASES = {
    "qr_square": qr_case((3, 3)),
    "qr_tall": qr_case((4, 2)),
    "qr_wide": qr_case((2, 4)),
    "qr_stack": qr_case((2, 4, 3)),
    "qr_wide_stack": qr_case((2, 2, 3)),
    "qr_complete_tall": qr_case((4, 2), "complete"),
    "qr_complete_stack": qr_case((2, 3, 2), "complete"),
    "qr_complete_wide": qr_case((2, 3), "complete"),
    "qr_r": qr_case((4, 3), "r"),
    "lstsq_tall": both(lstsq_parts, randn((5, 3), (5,))),
    "lstsq_tall_many": both(lstsq_parts, randn((5, 2), (5, 3))),
    "lstsq_square": both(lstsq_parts, lambda rng: (general(rng, (), 3), rng.standard_normal(3))),
    "lstsq_wide": both(lstsq_parts, randn((2, 4), (2,))),
    "matrix_power_3": both(lambda xp, a: xp.linalg.matrix_power(a, 3), lambda rng: general(rng, (2,), 2) / 2),
    "matrix_power_neg2": both(lambda xp, a: xp.linalg.matrix_power(a, -2), lambda rng: general(rng, (), 3)),
    "slogdet": both(lambda xp, a: flat(xp, *xp.linalg.slogdet(a)), lambda rng: -general(rng, (2,), 3)),
}


@pytest.mark.parametrize("prop", sorted(PROPERTIES))
@pytest.mark.parametrize("name", sorted(CASES))
def test_case_property(name, prop):
    PROPERTIES[prop](*CASES[name])


# -- QR: structure and closed forms ---------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (3, 3), (3, 5), (2, 4, 3)])
@pytest.mark.parametrize("mode", ["reduced", "complete"])
def test_qr_factors_have_numpys_shapes_and_structure(shape, mode):
    a = np.random.default_rng(0).standard_normal(shape)
    q, r = snp.linalg.qr(a, mode=mode)
    rq, rr = np.linalg.qr(a, mode=mode)
    assert (q.shape, r.shape) == (rq.shape, rr.shape)
    np.testing.assert_allclose(q @ r, a, **EXACT)
    identity = np.broadcast_to(np.eye(q.shape[-1]), q.shape[:-2] + (q.shape[-1],) * 2)
    np.testing.assert_allclose(T(q) @ q, identity, **EXACT)
    np.testing.assert_array_equal(r, np.triu(r))
    np.testing.assert_allclose(snp.linalg.qr(a, mode="r"), np.linalg.qr(a, mode="r"), **EXACT)


def test_qr_derivatives_keep_the_structure():
    """Along any direction dR stays upper triangular and Q^T dQ is antisymmetric."""
    rng = np.random.default_rng(1)
    a, e = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    (q, r), (dq, dr) = sl.jvp(lambda m: tuple(snp.linalg.qr(m)), (a,), (e,))
    np.testing.assert_allclose(dr, np.triu(dr), **EXACT)
    np.testing.assert_allclose(T(q) @ dq, -(T(dq) @ q), **EXACT)
    np.testing.assert_allclose(dq @ r + q @ dr, e, **EXACT)  # d(QR) = dA


def test_qr_of_a_column_is_its_normalization():
    a = np.array([[3.0], [4.0]])
    # NumPy's Householder QR gives R = -|a|, Q = -a / |a|; d(-a_0/|a|)/da = -(I/|a| - a a^T/|a|^3)[0]
    g = sl.grad(lambda m: snp.linalg.qr(m)[0][0, 0])(a)
    np.testing.assert_allclose(g[:, 0], -(np.eye(2)[0] / 5.0 - 3.0 * a[:, 0] / 125.0), **EXACT)


# -- lstsq ---------------------------------------------------------------------------------------
def test_lstsq_gradient_of_the_fit_is_the_normal_equations():
    """For full column rank, x = (A^T A)^-1 A^T b: its gradient in b is a row of the pseudo-inverse,
    and the gradient of the residual in A follows from the envelope theorem: -2 r x^T."""
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((6, 3)), rng.standard_normal(6)
    x = np.linalg.solve(a.T @ a, a.T @ b)
    jac = sl.jacrev(lambda b: snp.linalg.lstsq(a, b).x)(b)
    np.testing.assert_allclose(jac, np.linalg.inv(a.T @ a) @ a.T, **EXACT)
    g = sl.grad(lambda m: snp.linalg.lstsq(m, b).residuals[0])(a)
    np.testing.assert_allclose(g, -2 * np.outer(b - a @ x, x), rtol=1e-9, atol=1e-11)


def test_lstsq_rank_deficient_gives_numpys_minimum_norm_solution_and_rank():
    rng = np.random.default_rng(3)
    a = np.outer(rng.standard_normal(4), rng.standard_normal(3))  # rank 1
    b = rng.standard_normal(4)
    ours, ref = snp.linalg.lstsq(a, b), np.linalg.lstsq(a, b)
    np.testing.assert_allclose(ours.x, ref[0], **EXACT)
    assert ours.rank == ref[2] == 1 and ours.residuals.shape == ref[1].shape == (0,)
    np.testing.assert_allclose(ours.s, ref[3], **EXACT)
    # along a curve of constant rank the solution is differentiable (Golub-Pereyra): match finite differences
    u, v = rng.standard_normal(4), rng.standard_normal(3)
    f = lambda xp, t: xp.linalg.lstsq(xp.outer(a[:, 0] + t * u, a[0] + t * v), b)[0]  # noqa: E731
    assert_tangent_matches(f, np.float64(0.0), np.float64(1.0))


def test_lstsq_rcond_sets_the_cutoff_like_numpy():
    a = np.diag([1.0, 1e-3, 1e-8])
    b = np.ones(3)
    for rcond in (None, 1e-5, 1e-2):
        ours, ref = snp.linalg.lstsq(a, b, rcond=rcond), np.linalg.lstsq(a, b, rcond=rcond)
        np.testing.assert_allclose(ours.x, ref[0], rtol=1e-10)
        assert ours.rank == ref[2]


# -- clear errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: snp.linalg.qr(np.ones(3)), np.linalg.LinAlgError, r"qr\(\) needs a matrix"),
        (lambda: snp.linalg.qr(np.eye(2), mode="full"), ValueError, "mode must be"),
        (lambda: sl.grad(lambda m: snp.linalg.qr(m, mode="raw")[0].sum())(np.eye(2)), ValueError, "raw"),
        (lambda: snp.linalg.lstsq(np.ones((3, 2)), np.ones(2)), np.linalg.LinAlgError, r"b of shape \(m,\)"),
        (lambda: snp.linalg.lstsq(np.ones((2, 3, 2)), np.ones(3)), LinAlgError, r"a of shape \(m, n\)"),
        (
            lambda: sl.grad(lambda m: snp.linalg.qr(m)[1].sum())(np.array([[1.0, 0], [1.0, 0], [0, 0]])),
            LinAlgError,
            r"qr\(\): the derivative needs .* linearly independent",
        ),
    ],
)
def test_bad_input_gets_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_numpy_functions_on_traced_values_route_to_slopes():
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal(4)

    def f(xp, m):
        return (
            xp.sum(xp.linalg.qr(m)[1] ** 2)
            + xp.sum(xp.linalg.lstsq(m, b)[0])
            + xp.linalg.vector_norm(m, ord=3)
            + xp.linalg.matrix_norm(m, ord="nuc")
            + xp.sum(xp.linalg.svdvals(m))
        )

    np.testing.assert_allclose(sl.grad(lambda m: f(np, m))(a), sl.grad(lambda m: f(snp, m))(a), **EXACT)
    np.testing.assert_allclose(sl.jacrev(lambda m: np.linalg.qr(m).Q)(a), sl.jacrev(lambda m: snp.linalg.qr(m).Q)(a))


def test_raw_mode_values_are_numpys():
    a = np.random.default_rng(5).standard_normal((3, 2))
    for ours, ref in zip(snp.linalg.qr(a, mode="raw"), np.linalg.qr(a, mode="raw")):
        np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize(
    "f",
    [
        lambda m: snp.sum(snp.linalg.svd(m)[1] ** 3) + snp.sum(snp.linalg.svd(m)[0][:, 3:] ** 2 * 0.5),
        lambda m: snp.sum(snp.linalg.qr(m, mode="complete")[1] ** 2) + snp.sum(snp.linalg.qr(m)[0]),
        lambda m: snp.sum(snp.linalg.pinv(m) ** 2) + snp.linalg.cond(m),
        lambda m: snp.sum(snp.linalg.lstsq(m, np.ones(4, np.float32))[0]),
    ],
)
def test_float32_stays_float32_and_accurate(f):
    a = np.random.default_rng(6).standard_normal((4, 3))
    value, grad = sl.value_and_grad(f)(a.astype(np.float32))
    assert value.dtype == grad.dtype == np.float32
    ref = sl.grad(f)(a)
    np.testing.assert_allclose(grad, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
