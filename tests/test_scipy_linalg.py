"""``slopes.scipy.linalg`` against ``scipy.linalg``, finite differences, closed forms and JAX.

Every case is checked for values equal to SciPy's, first and second derivatives
(forward and reverse) against central finite differences, ``jacfwd == jacrev``,
``vmap`` equal to a loop, ``jit`` equal to the plain call, and Taylor mode
(the exact fallback on forward rules) equal to nested ``jvp`` (``case_checks.py``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
from case_checks import (
    arguments,
    assert_jacobians_and_jit,
    assert_taylor_equals_nested_jvp,
    assert_values,
    assert_vmap_equals_loop,
)
from checks import check_derivatives

import slopes as sl
import slopes.numpy as snp
import slopes.scipy.linalg as sla
from slopes.core.taylor import taylor_call


def general(rng, n, lead=()):
    return n * np.eye(n) + rng.uniform(-1.0, 1.0, size=tuple(lead) + (n, n))


def spd(rng, n, lead=()):
    m = rng.standard_normal(tuple(lead) + (n, n)) / np.sqrt(n)
    return m @ np.swapaxes(m, -1, -2) + np.eye(n)


def small(rng, n, lead=()):
    """Matrices of norm about 1, where expm is well conditioned."""
    return rng.standard_normal(tuple(lead) + (n, n)) / n


def near_identity(rng, n, lead=()):
    """Non-symmetric matrices with eigenvalues near 1 (real logarithm and square root)."""
    return np.eye(n) + small(rng, n, lead) / 2


def pivoting(rng, n, lead=()):
    """Well-conditioned matrices whose LU needs row interchanges (the same ones nearby)."""
    return general(rng, n, lead)[..., np.roll(np.arange(n), 1), :]


def band(rng, lower, upper, n):
    """SciPy's banded storage of a diagonally dominant matrix, its unused corners filled with noise."""
    ab = rng.uniform(-1.0, 1.0, size=(lower + upper + 1, n))
    ab[upper] += lower + upper + 1.0
    return ab


def sym_scipy(f):
    """SciPy's function of the symmetric part (slopes' convention for Cholesky)."""
    return lambda a, *rest: f(0.5 * (a + np.swapaxes(a, -1, -2)), *rest)


def frechet_only(a, e):
    return scipy.linalg.expm_frechet(a, e, compute_expm=False)


# id -> (slopes function, SciPy reference, rng -> arguments)
CASES = {
    "expm": (sla.expm, scipy.linalg.expm, lambda r: (small(r, 3),)),
    "expm_stack": (sla.expm, scipy.linalg.expm, lambda r: (small(r, 2, (2,)),)),
    "expm_1x1": (sla.expm, scipy.linalg.expm, lambda r: (small(r, 1),)),
    "expm_frechet": (
        lambda a, e: sla.expm_frechet(a, e, compute_expm=False),
        frechet_only,
        lambda r: (small(r, 2), small(r, 2)),
    ),
    "solve_triangular_lower": (
        lambda a, b: sla.solve_triangular(a, b, lower=True),
        lambda a, b: scipy.linalg.solve_triangular(a, b, lower=True),
        lambda r: (general(r, 3), r.standard_normal(3)),
    ),
    "solve_triangular_upper_matrix": (
        sla.solve_triangular,
        scipy.linalg.solve_triangular,
        lambda r: (general(r, 3), r.standard_normal((3, 2))),
    ),
    "solve_triangular_trans_unit": (
        lambda a, b: sla.solve_triangular(a, b, trans="T", lower=True, unit_diagonal=True),
        lambda a, b: scipy.linalg.solve_triangular(a, b, trans="T", lower=True, unit_diagonal=True),
        lambda r: (general(r, 3) / 3, r.standard_normal((3, 2))),
    ),
    "solve_triangular_stack": (
        lambda a, b: sla.solve_triangular(a, b, trans=1),
        lambda a, b: scipy.linalg.solve_triangular(a, b, trans=1),
        lambda r: (general(r, 3, (2,)), r.standard_normal((2, 3, 2))),
    ),
    "cholesky_upper": (sla.cholesky, sym_scipy(scipy.linalg.cholesky), lambda r: (spd(r, 3),)),
    "cho_factor_lower": (
        lambda a: sla.cho_factor(a, lower=True)[0],
        sym_scipy(lambda a: np.tril(scipy.linalg.cho_factor(a, lower=True)[0])),
        lambda r: (spd(r, 3),),
    ),
    "cho_solve": (
        lambda a, b: sla.cho_solve(sla.cho_factor(a), b),
        sym_scipy(lambda a, b: scipy.linalg.cho_solve(scipy.linalg.cho_factor(a), b)),
        lambda r: (spd(r, 3), r.standard_normal(3)),
    ),
    "cho_solve_lower_matrix": (
        lambda a, b: sla.cho_solve(sla.cho_factor(a, lower=True), b),
        sym_scipy(lambda a, b: scipy.linalg.cho_solve(scipy.linalg.cho_factor(a, lower=True), b)),
        lambda r: (spd(r, 4), r.standard_normal((4, 2))),
    ),
    "logm": (sla.logm, scipy.linalg.logm, lambda r: (near_identity(r, 3),)),
    "logm_stack": (sla.logm, scipy.linalg.logm, lambda r: (spd(r, 2, (2,)),)),
    "sqrtm": (sla.sqrtm, scipy.linalg.sqrtm, lambda r: (near_identity(r, 3),)),
    "sqrtm_spd_stack": (sla.sqrtm, scipy.linalg.sqrtm, lambda r: (spd(r, 2, (2,)),)),
    "solve_sylvester": (
        sla.solve_sylvester,
        scipy.linalg.solve_sylvester,
        lambda r: (general(r, 3), general(r, 2), r.standard_normal((3, 2))),
    ),
    "lu_factor": (
        lambda a: sla.lu_factor(a)[0],
        lambda a: scipy.linalg.lu_factor(a)[0],
        lambda r: (pivoting(r, 4),),
    ),
    "lu_factor_stack": (
        lambda a: sla.lu_factor(a)[0],
        lambda a: scipy.linalg.lu_factor(a)[0],
        lambda r: (pivoting(r, 3, (2,)),),
    ),
    "lu_solve": (
        lambda a, b: sla.lu_solve(sla.lu_factor(a), b),
        lambda a, b: scipy.linalg.lu_solve(scipy.linalg.lu_factor(a), b),
        lambda r: (pivoting(r, 3), r.standard_normal(3)),
    ),
    "lu_solve_trans_matrix": (
        lambda a, b: sla.lu_solve(sla.lu_factor(a), b, trans=1),
        lambda a, b: scipy.linalg.lu_solve(scipy.linalg.lu_factor(a), b, trans=1),
        lambda r: (pivoting(r, 3), r.standard_normal((3, 2))),
    ),
    "solve_banded_tridiagonal": (
        lambda ab, b: sla.solve_banded((1, 1), ab, b),
        lambda ab, b: scipy.linalg.solve_banded((1, 1), ab, b),
        lambda r: (band(r, 1, 1, 4), r.standard_normal(4)),
    ),
    "solve_banded_matrix": (
        lambda ab, b: sla.solve_banded((2, 1), ab, b),
        lambda ab, b: scipy.linalg.solve_banded((2, 1), ab, b),
        lambda r: (band(r, 2, 1, 5), r.standard_normal((5, 2))),
    ),
    "solve_banded_upper": (
        lambda ab, b: sla.solve_banded((0, 2), ab, b),
        lambda ab, b: scipy.linalg.solve_banded((0, 2), ab, b),
        lambda r: (band(r, 0, 2, 4), r.standard_normal(4)),
    ),
    "block_diag": (
        sla.block_diag,
        scipy.linalg.block_diag,
        lambda r: (r.standard_normal((2, 2)), r.standard_normal(3), r.standard_normal(())),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_equal_scipy(name):
    assert_values(CASES[name])


@pytest.mark.parametrize("name", sorted(CASES))
def test_derivatives_against_finite_differences(name):
    check_derivatives(CASES[name][0], *arguments(CASES[name]), order=2, rtol=1e-5, atol=1e-6)


# one case per primitive and per way of calling it, for the checks that loop over directions
SHARED = [
    "expm_stack", "expm_frechet", "solve_triangular_trans_unit", "solve_triangular_stack", "cho_solve",
    "logm", "sqrtm_spd_stack", "solve_sylvester", "lu_factor", "lu_solve_trans_matrix", "block_diag",
    "solve_banded_matrix",
]


@pytest.mark.parametrize("name", SHARED)
def test_jacfwd_equals_jacrev_and_jit_equals_call(name):
    assert_jacobians_and_jit(CASES[name])


@pytest.mark.parametrize("name", SHARED)
def test_vmap_equals_loop(name):
    assert_vmap_equals_loop(CASES[name])


@pytest.mark.parametrize("name", SHARED)
def test_taylor_mode_equals_nested_jvp(name):
    assert_taylor_equals_nested_jvp(CASES[name])


# -- closed forms ---------------------------------------------------------------------------
def test_expm_taylor_series_along_its_own_direction():
    """expm((1 + t) A) = expm(A) expm(t A): coefficient k is expm(A) A^k / k!."""
    a = small(np.random.default_rng(2), 3)
    K = 4
    (_,), (ser,) = taylor_call(lambda x: [sla.expm(x)], [a], [[a] + [None] * (K - 1)], K)
    ea = scipy.linalg.expm(a)
    for k in range(1, K + 1):
        expected = ea @ np.linalg.matrix_power(a, k) / math.factorial(k)
        np.testing.assert_allclose(ser[k - 1], expected, rtol=1e-10, atol=1e-12)


def test_expm_gradient_of_trace_is_transposed_exponential():
    """d tr(expm(A)) / dA = expm(A)^T, and the Hessian of it matches finite differences."""
    a = small(np.random.default_rng(3), 3)
    f = lambda m: snp.trace(sla.expm(m))  # noqa: E731
    np.testing.assert_allclose(sl.grad(f)(a), scipy.linalg.expm(a).T, rtol=1e-11, atol=1e-13)


def test_expm_frechet_matches_scipy_with_expm():
    rng = np.random.default_rng(4)
    a, e = small(rng, 3), small(rng, 3)
    ours = sla.expm_frechet(a, e)
    theirs = scipy.linalg.expm_frechet(a, e)
    for x, y in zip(ours, theirs):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-13)


def test_triangle_not_read_gets_zero_gradient():
    rng = np.random.default_rng(5)
    a, b = general(rng, 3), rng.standard_normal(3)
    g = sl.grad(lambda m: snp.sum(sla.solve_triangular(m, b, lower=True)))(a)
    assert np.all(np.triu(g, 1) == 0.0)
    g_unit = sl.grad(lambda m: snp.sum(sla.solve_triangular(m, b, lower=True, unit_diagonal=True)))(a)
    assert np.all(np.triu(g_unit) == 0.0)


def test_pivots_equal_scipy_and_lu_reconstructs():
    a = pivoting(np.random.default_rng(8), 4)
    lu, piv = sla.lu_factor(a)
    np.testing.assert_array_equal(piv, scipy.linalg.lu_factor(a)[1])
    p, lower, upper = scipy.linalg.lu(a)
    np.testing.assert_allclose(np.tril(lu, -1) + np.eye(4), lower, rtol=1e-12)
    np.testing.assert_allclose(np.triu(lu), upper, rtol=1e-12)


def test_inverse_functions_round_trip_with_derivatives():
    """expm(logm(A)) = A and sqrtm(A) @ sqrtm(A) = A: their Jacobians are the identity."""
    a = near_identity(np.random.default_rng(9), 3)
    identity = np.eye(9).reshape(3, 3, 3, 3)
    for f in (lambda m: sla.expm(sla.logm(m)), lambda m: sla.sqrtm(m) @ sla.sqrtm(m)):
        np.testing.assert_allclose(f(a), a, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(sl.jacrev(f)(a), identity, atol=1e-10)
        np.testing.assert_allclose(sl.jacfwd(f)(a), identity, atol=1e-10)


def test_sylvester_derivative_solves_the_differentiated_equation():
    """A dX + dX B = dQ - dA X - X dB, checked on the jvp."""
    rng = np.random.default_rng(10)
    a, b, q = general(rng, 3), general(rng, 2), rng.standard_normal((3, 2))
    da, db, dq = rng.standard_normal((3, 3)), rng.standard_normal((2, 2)), rng.standard_normal((3, 2))
    x, dx = sl.jvp(sla.solve_sylvester, (a, b, q), (da, db, dq))
    np.testing.assert_allclose(a @ dx + dx @ b, dq - da @ x - x @ db, rtol=1e-10, atol=1e-12)


def test_cho_solve_gradient_equals_inverse_formula():
    """For symmetric A: d (u^T A^-1 b) / dA = -sym(A^-1 u x^T), x = A^-1 b."""
    rng = np.random.default_rng(6)
    a, b, u = spd(rng, 4), rng.standard_normal(4), rng.standard_normal(4)
    ainv = np.linalg.inv(a)
    full = -np.outer(ainv @ u, ainv @ b)
    g = sl.grad(lambda m: u @ sla.cho_solve(sla.cho_factor(m), b))(a)
    np.testing.assert_allclose(g, 0.5 * (full + full.T), rtol=1e-10, atol=1e-12)


# -- conventions against JAX ---------------------------------------------------------------------
def test_solve_banded_gradient_is_the_dense_solve_gradient_on_the_band():
    # d/dA <w, A^-1 b> = -A^-T w x^T, read at A[i, j] = ab[u + i - j, j]; the corners of ab outside
    # the matrix (ab[0, 0] and ab[2, -1] for (l, u) = (1, 1)) get 0
    rng = np.random.default_rng(5)
    ab, b, w = band(rng, 1, 1, 4), rng.standard_normal(4), rng.standard_normal(4)
    dense = np.diag(ab[1]) + np.diag(ab[0, 1:], 1) + np.diag(ab[2, :-1], -1)
    x = np.linalg.solve(dense, b)
    grad_dense = -np.outer(np.linalg.solve(dense.T, w), x)
    expected = np.zeros_like(ab)
    expected[1] = np.diag(grad_dense)
    expected[0, 1:] = np.diag(grad_dense, 1)
    expected[2, :-1] = np.diag(grad_dense, -1)
    got = sl.grad(lambda ab: snp.sum(w * sla.solve_banded((1, 1), ab, b)))(ab)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    assert got[0, 0] == 0.0 and got[2, -1] == 0.0


def test_solve_banded_derivatives_match_autograd():
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp
    import autograd.scipy.linalg as ag

    rng = np.random.default_rng(6)
    ab, b, w = band(rng, 2, 1, 5), rng.standard_normal(5), rng.standard_normal(5)
    v = rng.standard_normal(ab.shape)
    v[0, 0] = v[3, -2:] = 0.0  # autograd also differentiates the unused corners; move only the band

    def theirs(ab):
        return anp.sum(w * ag.solve_banded((2, 1), ab, b))

    def ours(ab):
        return snp.sum(w * sla.solve_banded((2, 1), ab, b))

    mask = np.ones_like(ab)
    mask[0, 0] = mask[3, -2:] = 0.0
    np.testing.assert_allclose(sl.grad(ours)(ab), mask * autograd.grad(theirs)(ab), rtol=1e-10, atol=1e-13)
    hv_theirs = autograd.grad(lambda a: anp.sum(autograd.grad(theirs)(a) * v))(ab)
    np.testing.assert_allclose(sl.hvp(ours, ab, v), mask * hv_theirs, rtol=1e-9, atol=1e-12)


def test_conventions_match_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jsl = jax.scipy.linalg
    rng = np.random.default_rng(7)
    a, b, m = spd(rng, 3), rng.standard_normal(3), small(rng, 3)
    np.testing.assert_allclose(sla.cho_factor(a)[0], np.asarray(jsl.cho_factor(a)[0]), rtol=1e-12, atol=1e-14)
    # (function, point, symmetric input): JAX's gradient through a Cholesky factor is not
    # symmetric, but it has the same symmetric part (the derivative along symmetric directions)
    checks = [
        (lambda x, xp: xp.cho_solve(xp.cho_factor(x), b)[0], a, True),
        (lambda x, xp: xp.solve_triangular(x, b, lower=True, unit_diagonal=True)[2], a, False),
        (lambda x, xp: xp.expm(x)[0, 2], m, False),
        (lambda x, xp: xp.lu_solve(xp.lu_factor(x), b, trans=1)[0], pivoting(rng, 3), False),
    ]
    for f, x, symmetric in checks:
        ours = sl.grad(lambda x: f(x, sla))(x)
        theirs = np.asarray(jax.grad(lambda x: f(x, jsl))(x))
        if symmetric:
            theirs = 0.5 * (theirs + theirs.T)
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


# -- clear errors --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: sla.expm(np.ones((2, 3))), np.linalg.LinAlgError, r"expm.*square.*\(2, 3\)"),
        (lambda: sla.expm_frechet(np.eye(2), np.eye(3)), ValueError, "same shape"),
        (lambda: sla.solve_triangular(np.eye(3), np.ones(2)), ValueError, r"b of shape \(3,\)"),
        (lambda: sla.solve_triangular(np.eye(2), np.ones(2), trans="X"), ValueError, "trans must be"),
        (lambda: sla.solve_triangular(np.zeros((2, 2)), np.ones(2)), np.linalg.LinAlgError, "singular"),
        (lambda: sla.cho_solve(np.eye(2), np.ones(2)), TypeError, r"pair \(c, lower\)"),
        (lambda: sla.cho_factor(-np.eye(2)), np.linalg.LinAlgError, "not positive definite"),
        (lambda: sla.block_diag(np.ones((2, 2, 2))), ValueError, "at most 2 dimensions"),
        (lambda: sla.sqrtm(np.diag([-1.0, 4.0])), np.linalg.LinAlgError, "negative real axis"),
        (lambda: sla.logm(np.diag([-1.0, 4.0])), np.linalg.LinAlgError, "negative real axis"),
        (
            lambda: sla.solve_sylvester(np.eye(2), np.eye(3), np.ones((3, 2))),
            ValueError,
            r"q of shape \(\.\.\., 2, 3\)",
        ),
        (
            lambda: sla.solve_sylvester(np.eye(2), -np.eye(2), np.ones((2, 2))),
            np.linalg.LinAlgError,
            "share an eigenvalue",
        ),
        (lambda: sla.lu_solve(np.eye(2), np.ones(2)), TypeError, r"pair \(lu, piv\)"),
        (lambda: sla.solve_banded((1, 1), np.ones((2, 3)), np.ones(3)), ValueError, r"l \+ u \+ 1 = 3 rows"),
        (lambda: sla.solve_banded((1, -1), np.ones((1, 3)), np.ones(3)), ValueError, "non-negative integers"),
        (lambda: sla.solve_banded(1, np.ones((1, 3)), np.ones(3)), ValueError, "non-negative integers"),
        (lambda: sla.solve_banded((0, 0), np.ones((1, 3)), np.ones(4)), ValueError, r"b of shape \(3,\)"),
        (
            lambda: sla.solve_banded((1, 1), np.zeros((3, 3)), np.ones(3)),
            np.linalg.LinAlgError,
            "ab is singular",
        ),
    ],
)
def test_bad_input_gets_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()
