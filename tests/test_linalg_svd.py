"""``snp.linalg.svd``, ``svdvals``, ``pinv``, ``cond``, ``matrix_rank`` and the norms
(the SVD-based matrix norms, ``vector_norm``, ``matrix_norm``).

Every case runs every property of ``linalg_props`` (values equal to NumPy's; first
and second derivatives, forward and reverse, against finite differences;
``jacfwd == jacrev``; ``vmap``; Taylor mode; ``jit``). Singular vectors are
determined up to sign, so the cases read them through sign-invariant quantities
(``U diag(f(s)) V^T``, ``U * U``, projectors). Then: closed forms, the degenerate
case at its boundary, agreement with autograd and JAX, and clear errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from linalg_props import PROPERTIES, assert_tangent_matches

import slopes as sl
import slopes.numpy as snp

EXACT = dict(rtol=1e-10, atol=1e-12)


def T(x):
    return x.swapaxes(-1, -2)


def randn(*shape):
    return lambda rng: rng.standard_normal(shape)


def svd_parts(xp, a, full):
    """Sign-invariant functions of every part of ``svd(a)``, flattened and joined."""
    u, s, vh = xp.linalg.svd(a, full_matrices=full)
    k = s.shape[-1]
    u1, vh1 = u[..., :k], vh[..., :k, :]
    parts = [s, (u1 * s[..., None, :] ** 3) @ vh1, u1 * u1 * (1.0 + s[..., None, :]), vh1 * vh1]
    if full:  # the complements, through their projectors
        u2, vh2 = u[..., k:], vh[..., k:, :]
        parts += [u2 @ T(u2), T(vh2) @ vh2]
    return xp.concatenate([xp.reshape(p, (-1,)) for p in parts])


def svd_case(shape, full):
    return (lambda a: svd_parts(snp, a, full)), (lambda a: svd_parts(np, a, full)), randn(*shape)


def api(name, shape, **kw):
    return (
        lambda *a: getattr(snp.linalg, name)(*a, **kw),
        lambda *a: getattr(np.linalg, name)(*a, **kw),
        randn(*shape),
    )


CASES = {
    "svd_square": svd_case((3, 3), False),
    "svd_tall": svd_case((4, 3), False),
    "svd_wide": svd_case((2, 4), False),
    "svd_stack": svd_case((2, 3, 2), False),
    "svd_full_square": svd_case((3, 3), True),
    "svd_full_tall": svd_case((4, 2), True),
    "svd_full_wide": svd_case((2, 3), True),
    "svd_full_stack": svd_case((2, 2, 3), True),
    "svd_values_only": api("svd", (4, 3), compute_uv=False),
    "svdvals_stack": api("svdvals", (2, 3, 4)),
    "pinv_tall": api("pinv", (4, 2)),
    "pinv_wide": api("pinv", (2, 3)),
    "pinv_square_stack": api("pinv", (2, 3, 3)),
    "cond": api("cond", (3, 3)),
    "cond_tall_stack": api("cond", (2, 4, 3)),
    "cond_neg2": api("cond", (3, 4), p=-2),
    "cond_1": api("cond", (3, 3), p=1),
    "cond_inf": api("cond", (3, 3), p=np.inf),
    "cond_fro": api("cond", (2, 3, 3), p="fro"),
    "cond_nuc": api("cond", (3, 3), p="nuc"),
    "norm_2_stack": api("norm", (2, 4, 3), ord=2, axis=(-2, -1)),
    "norm_neg2_stack": api("norm", (2, 3, 4), ord=-2, axis=(1, 2)),
    "norm_nuc_stack": api("norm", (3, 2, 4), ord="nuc", axis=(2, 0)),
    "vector_norm_axes": api("vector_norm", (2, 3, 4), axis=(0, 2)),
    "vector_norm_all_ord3": api("vector_norm", (3, 4), ord=3),
    "vector_norm_inf_keepdims": api("vector_norm", (2, 3), axis=1, ord=np.inf, keepdims=True),
    "matrix_norm_nuc": api("matrix_norm", (2, 3, 4), ord="nuc"),
    "matrix_norm_inf_keepdims": api("matrix_norm", (2, 3, 3), ord=np.inf, keepdims=True),
}


@pytest.mark.parametrize("prop", sorted(PROPERTIES))
@pytest.mark.parametrize("name", sorted(CASES))
def test_case_property(name, prop):
    PROPERTIES[prop](*CASES[name])


# -- closed forms -----------------------------------------------------------------------------------
def test_reconstruction_and_shapes_match_numpy():
    a = np.random.default_rng(0).standard_normal((2, 5, 3))
    for full in (True, False):
        u, s, vh = snp.linalg.svd(a, full_matrices=full)
        ru, rs, rvh = np.linalg.svd(a, full_matrices=full)
        assert (u.shape, s.shape, vh.shape) == (ru.shape, rs.shape, rvh.shape)
        np.testing.assert_allclose((u[..., :3] * s[..., None, :]) @ vh[..., :3, :], a, **EXACT)
    assert snp.linalg.svd(a).Vh.shape == (2, 3, 3)


def test_singular_value_gradient_is_outer_product_of_singular_vectors():
    a = np.random.default_rng(1).standard_normal((4, 3))
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    jac = sl.jacrev(snp.linalg.svdvals)(a)
    for i in range(3):
        np.testing.assert_allclose(jac[i], np.outer(u[:, i], vh[i]), **EXACT)


def test_pinv_gradient_follows_the_closed_form_for_a_column():
    # pinv of a column a is a^T / |a|^2, whose derivative is elementary
    a = np.array([[1.0], [2.0], [-2.0]])
    g = sl.grad(lambda m: snp.linalg.pinv(m)[0, 1])(a)
    # d/da_k (a_1 / |a|^2) = delta_k1 / |a|^2 - 2 a_1 a_k / |a|^4
    expected = (np.eye(3)[:, 1] / 9.0 - 2 * 2.0 * a[:, 0] / 81.0)[:, None]
    np.testing.assert_allclose(g, expected, **EXACT)


def test_pinv_derivative_is_exact_at_constant_rank():
    """A rank-1 curve through a rank-deficient 3x3 matrix: d pinv against finite differences."""
    rng = np.random.default_rng(3)
    u0, u1, v0, v1 = (rng.standard_normal(3) for _ in range(4))
    f = lambda xp, t: xp.linalg.pinv(xp.outer(u0 + t * u1, v0 + t * v1))  # noqa: E731
    assert np.linalg.matrix_rank(np.outer(u0 + 0.2 * u1, v0 + 0.2 * v1)) == 1
    assert_tangent_matches(f, np.float64(0.2), np.float64(1.0))
    np.testing.assert_allclose(f(snp, 0.2), f(np, 0.2), **EXACT)


def test_norm_2_and_nuclear_gradients():
    a = np.random.default_rng(4).standard_normal((3, 5))
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(sl.grad(lambda m: snp.linalg.norm(m, "nuc"))(a), u @ vh, **EXACT)
    g = sl.grad(lambda m: snp.linalg.norm(m, -2))(a)
    np.testing.assert_allclose(g, np.outer(u[:, -1], vh[-1]), **EXACT)


def test_small_singular_values_are_accurate():
    """The 2-norms and cond of an ill-conditioned matrix match NumPy to full precision
    (singular values taken from the Gram matrix would lose half the digits)."""
    q1, _ = np.linalg.qr(np.random.default_rng(5).standard_normal((4, 4)))
    q2, _ = np.linalg.qr(np.random.default_rng(6).standard_normal((3, 3)))
    a = q1[:, :3] * np.array([1.0, 1e-3, 1e-9]) @ q2.T
    for f in (lambda m, xp: xp.linalg.norm(m, -2), lambda m, xp: xp.linalg.cond(m)):
        np.testing.assert_allclose(f(a, snp), f(a, np), rtol=1e-6)
    g = sl.grad(lambda m: snp.linalg.norm(m, -2))(a)
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(g, np.outer(u[:, -1], vh[-1]), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "f",
    [
        lambda xp, x: xp.linalg.norm(x, ord=1),
        lambda xp, x: xp.linalg.norm(x, ord=np.inf, axis=0),
        lambda xp, x: xp.linalg.vector_norm(x, ord=np.inf),
        lambda xp, x: xp.linalg.vector_norm(x, ord=0, axis=1),
        lambda xp, x: xp.linalg.matrix_norm(x, ord=1),
    ],
)
def test_norms_of_integer_arrays_are_floats_like_numpy(f):
    x = np.array([[1, -2, 0], [3, 4, -5]])
    ours, ref = f(snp, x), f(np, x)
    assert np.asarray(ours).dtype == np.asarray(ref).dtype == np.float64
    np.testing.assert_array_equal(ours, ref)


# -- degenerate singular values: the documented convention and its boundary --------------------------
def _with_singular_values(s, seed=7):
    rng = np.random.default_rng(seed)
    q1, _ = np.linalg.qr(rng.standard_normal((len(s) + 1, len(s) + 1)))
    q2, _ = np.linalg.qr(rng.standard_normal((len(s), len(s))))
    return q1[:, : len(s)] * np.asarray(s) @ q2.T


def test_repeated_singular_values_give_finite_exact_derivatives():
    a = _with_singular_values([2.0, 2.0, 0.5])
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    # a symmetric function of the singular values: the nuclear norm, gradient U V^T
    np.testing.assert_allclose(sl.grad(lambda m: snp.sum(snp.linalg.svd(m)[1]))(a), u @ vh, **EXACT)
    # the projector onto the repeated pair's left subspace is differentiable: match finite differences
    proj = lambda xp, m: (lambda u: u[:, :2] @ u[:, :2].T)(xp.linalg.svd(m)[0])  # noqa: E731
    assert_tangent_matches(proj, a, np.random.default_rng(8).standard_normal(a.shape))
    # every derivative of every factor is finite (the coupling of the pair is taken as 0)
    jac = sl.jacfwd(lambda m: snp.concatenate([p.reshape(-1) for p in snp.linalg.svd(m)]))(a)
    assert np.all(np.isfinite(jac))
    h = sl.hessian(lambda m: snp.sum(snp.linalg.svdvals(m) ** 3))(a)
    assert np.all(np.isfinite(h))


@pytest.mark.parametrize("gap", [1e-2, 1e-4])
def test_near_repeated_singular_values_still_match_finite_differences(gap):
    """Just off the degenerate point the vectors' derivatives grow like 1 / gap and stay exact."""
    a = _with_singular_values([2.0, 2.0 - gap, 0.5])
    e = np.random.default_rng(9).standard_normal(a.shape)
    f = lambda xp, m: (lambda u: u * u)(xp.linalg.svd(m, full_matrices=False)[0])  # noqa: E731
    tangent = assert_tangent_matches(f, a, e, rtol=1e-4, atol=1e-6 / gap, eps=gap * 1e-4)
    assert np.max(np.abs(tangent)) > 0.1 / gap  # the large derivative is real, not clipped


def test_zero_singular_value_contributes_zero_not_nan():
    a = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])  # rank 1
    g = sl.grad(lambda m: snp.sum(svd_parts(snp, m, True)))(a)
    assert np.all(np.isfinite(g))
    # the largest singular value's gradient is still u1 v1^T
    np.testing.assert_allclose(sl.grad(lambda m: snp.linalg.norm(m, 2))(a), a, **EXACT)


# -- matrix_rank: on the primal, no derivative ----------------------------------------------------------
def test_matrix_rank_matches_numpy_and_maps():
    rng = np.random.default_rng(10)
    stack = np.stack([np.outer(rng.standard_normal(4), rng.standard_normal(3)), rng.standard_normal((4, 3))])
    np.testing.assert_array_equal(snp.linalg.matrix_rank(stack), np.linalg.matrix_rank(stack))
    assert snp.linalg.matrix_rank(stack[0]) == 1 and snp.linalg.matrix_rank(np.zeros(3)) == 0
    assert snp.linalg.matrix_rank(stack[1], tol=10.0) == np.linalg.matrix_rank(stack[1], tol=10.0)
    assert snp.linalg.matrix_rank(stack[1], rtol=0.5) == np.linalg.matrix_rank(stack[1], rtol=0.5)
    np.testing.assert_array_equal(sl.vmap(snp.linalg.matrix_rank)(stack), [1, 3])
    g = sl.grad(lambda m: snp.linalg.matrix_rank(m) * snp.sum(m))(stack[0])
    np.testing.assert_allclose(g, np.ones((4, 3)), **EXACT)  # the rank is a constant factor
    np.testing.assert_array_equal(sl.jit(snp.linalg.matrix_rank)(stack), [1, 3])


def test_numpy_functions_on_traced_values_route_to_slopes():
    a = np.random.default_rng(11).standard_normal((3, 3))
    u, s, vh = np.linalg.svd(a)
    g = sl.grad(lambda m: np.sum(np.linalg.svd(m)[1]) + np.linalg.pinv(m)[0, 0] + np.linalg.cond(m))(a)
    expected = (
        u @ vh
        + sl.grad(lambda m: snp.linalg.pinv(m)[0, 0])(a)
        + (np.outer(u[:, 0], vh[0]) / s[-1] - s[0] / s[-1] ** 2 * np.outer(u[:, -1], vh[-1]))
    )
    np.testing.assert_allclose(g, expected, rtol=1e-9, atol=1e-12)


# -- peers: autograd and JAX ---------------------------------------------------------------------------
def _peer_objective(xp, a):
    u, s, vh = xp.linalg.svd(a, full_matrices=False)
    w = np.arange(a.shape[0] * a.shape[1], dtype=float).reshape(a.shape) / 10.0
    return xp.sum(w * ((u * s**2) @ vh)) + xp.sum(s**3) + xp.sum(w.T * xp.linalg.pinv(a))


def test_gradients_agree_with_autograd():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    a = np.random.default_rng(12).standard_normal((4, 3))
    expected = autograd.grad(lambda m: _peer_objective(anp, m))(a)
    np.testing.assert_allclose(sl.grad(lambda m: _peer_objective(snp, m))(a), expected, rtol=1e-9, atol=1e-12)


def test_gradients_agree_with_jax():
    """One staged JAX gradient (staging keeps the comparison fast) through svd, pinv, cond,
    the nuclear norm, qr and lstsq."""
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    rng = np.random.default_rng(13)
    a, b, w = rng.standard_normal((5, 3)), rng.standard_normal((5, 2)), rng.standard_normal((5, 3))

    def objective(xp, m, b):
        q, r = xp.linalg.qr(m)
        return (
            _peer_objective(xp, m)
            + xp.linalg.cond(m)
            + xp.linalg.norm(m, "nuc")
            + xp.sum(w * q)
            + xp.sum(r**2 * w[:3])
            + xp.sum(xp.linalg.lstsq(m, b)[0] ** 3)
        )

    with jax.enable_x64(True):
        expected = jax.jit(jax.grad(lambda m, b: objective(jnp, m, b), argnums=(0, 1)))(a, b)
    got = sl.grad(lambda m, b: objective(snp, m, b), argnums=(0, 1))(a, b)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, np.asarray(e), rtol=1e-9, atol=1e-12)


# -- clear errors ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: snp.linalg.svd(np.ones(3)), r"svd\(\) needs a matrix.*\(3,\)"),
        (lambda: snp.linalg.pinv(np.ones(3)), r"pinv\(\) needs a matrix"),
        (lambda: snp.linalg.cond(np.ones((2, 3)), p=1), r"square.*\(2, 3\)"),
        (lambda: snp.linalg.matrix_norm(np.ones(3)), r"matrix_norm\(\) needs a matrix"),
    ],
)
def test_bad_shapes_are_refused(call, match):
    with pytest.raises(np.linalg.LinAlgError, match=match):
        call()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: snp.linalg.pinv(np.eye(2), rcond=0.1, rtol=0.1), "not both"),
        (lambda: snp.linalg.pinv(np.eye(2), rcond=[0.1, 0.2]), "one number"),
        (lambda: snp.linalg.matrix_rank(np.eye(2), tol=[1.0]), "one number"),
        (lambda: snp.linalg.vector_norm(np.eye(2), ord="fro"), "use matrix_norm"),
        (lambda: snp.linalg.vector_norm(np.eye(2), axis=(1, -1)), "repeated axis"),
    ],
)
def test_bad_thresholds_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_cond_of_singular_matrix_is_like_numpy():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    for p in (None, 2, -2, 1, np.inf, "fro"):
        np.testing.assert_allclose(snp.linalg.cond(a, p), np.linalg.cond(a, p), rtol=1e-12)
    with pytest.raises(np.linalg.LinAlgError):  # as NumPy's (the SVD of inf entries)
        snp.linalg.cond(a, "nuc")
    assert snp.linalg.cond(a, 1) == np.inf
    assert snp.linalg.cond(np.zeros((2, 2))) == np.linalg.cond(np.zeros((2, 2))) == np.inf


def test_hermitian_path_gives_numpys_values_and_exact_derivatives():
    rng = np.random.default_rng(14)
    m = rng.standard_normal((3, 3))
    a, e = m + m.T, rng.standard_normal((3, 3))
    e = e + e.T  # stay symmetric, where hermitian=True describes the input
    for f in (
        lambda xp, x: (lambda u, s, vh: xp.concatenate([((u * s**3) @ vh).ravel(), (u * u).ravel()]))(
            *xp.linalg.svd(x, hermitian=True)
        ),
        lambda xp, x: xp.linalg.pinv(x, hermitian=True),
        lambda xp, x: xp.linalg.svd(x, compute_uv=False, hermitian=True),
    ):
        np.testing.assert_allclose(f(snp, a), f(np, a), **EXACT)
        assert_tangent_matches(f, a, e)
    u, s, vh = snp.linalg.svd(a, hermitian=True)
    ru, rs, rvh = np.linalg.svd(a, hermitian=True)
    for ours, ref in ((u, ru), (s, rs), (vh, rvh)):
        np.testing.assert_allclose(ours, ref, **EXACT)
