"""Linear algebra and products: ``snp.linalg`` and ``snp.dot/einsum/trace/...``.

Every function is checked, on random well-conditioned inputs of several shapes
(stacks and broadcasting included), for:

* values equal to NumPy's;
* first and second derivatives against central finite differences (``checks.py``);
* ``jacfwd == jacrev`` (which runs every batching rule on the way);
* ``vmap`` equal to a Python loop (all arguments mapped, and one of two mapped);

and against closed forms: Jacobi's formula, the derivative of a bilinear form of the
inverse, of ``tr(AX)``, of ``log det`` for SPD matrices, of eigenvalues, and of norms.
"""

from __future__ import annotations

import numpy as np
import pytest
from checks import check_derivatives
from hypothesis import given, settings
from hypothesis import strategies as st

import slopes as sl
import slopes.numpy as snp

EXACT = dict(rtol=1e-10, atol=1e-12)


# -- random inputs ------------------------------------------------------------------------
def general(rng, lead, n):
    """Well-conditioned (diagonally dominant) square matrices of shape lead + (n, n)."""
    return n * np.eye(n) + rng.uniform(-1.0, 1.0, size=tuple(lead) + (n, n))


def spd(rng, lead, n):
    """Symmetric positive definite matrices, eigenvalues in [1, ~3]."""
    m = rng.standard_normal(tuple(lead) + (n, n)) / np.sqrt(n)
    return m @ np.swapaxes(m, -1, -2) + np.eye(n)


def sym_distinct(rng, lead, n):
    """Symmetric matrices with eigenvalues 1, 2.5, 4, ... (well separated) and random vectors."""
    q, _ = np.linalg.qr(rng.standard_normal(tuple(lead) + (n, n)))
    w = 1.0 + 1.5 * np.arange(n) + 0.1 * rng.uniform(size=tuple(lead) + (n,))
    return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)


def arr(rng, *shape):
    return rng.standard_normal(shape)


def neg_det(rng, lead, n):
    """General matrices with negative determinant (one row flipped)."""
    a = general(rng, lead, n)
    a[..., 0, :] *= -1.0
    return a


# -- the functions under test --------------------------------------------------------------
def both(f):
    """``f(xp, *arrays)`` written once, as (slopes function, NumPy reference)."""
    return (lambda *a: f(snp, *a)), (lambda *a: f(np, *a))


def api(name, **kw):
    """The function ``name`` (e.g. ``'linalg.inv'``) of both namespaces, with keywords."""

    def get(xp):
        for part in name.split("."):
            xp = getattr(xp, part)
        return xp

    return both(lambda xp, *a: get(xp)(*a, **kw))


def ein(spec):
    return both(lambda xp, *ops: xp.einsum(spec, *ops))


def eig_matrix_function(xp, a):
    w, v = xp.linalg.eigh(a)
    return (v * w[..., None, :] ** 3) @ xp.swapaxes(v, -1, -2)  # V diag(w^3) V^T = A^3


def chol_logdet(a):
    L = snp.linalg.cholesky(a)
    return 2.0 * snp.sum(snp.log(snp.diagonal(L, axis1=-2, axis2=-1)), axis=-1)


def A(lead, n, kind=general):
    return lambda rng: kind(rng, lead, n)


def arrays(*shapes):
    return lambda rng: tuple(arr(rng, *s) for s in shapes)


def mats(*lead_n_and_shapes):
    """A well-conditioned square matrix (lead, n) followed by plain arrays of given shapes."""
    (lead, n), *shapes = lead_n_and_shapes
    return lambda rng: (general(rng, lead, n),) + tuple(arr(rng, *s) for s in shapes)


LOGABSDET = both(lambda xp, a: xp.linalg.slogdet(a)[1])
EIGVALS = both(lambda xp, a: xp.linalg.eigh(a)[0])

# id -> (slopes function, NumPy reference, rng -> argument or tuple of arguments)
CASES = {
    # inverse, determinant, log |det|
    "inv": (*api("linalg.inv"), A((), 3)),
    "inv_stack": (*api("linalg.inv"), A((2, 1), 3)),
    "det": (*api("linalg.det"), A((), 3)),
    "det_stack": (*api("linalg.det"), A((2,), 4)),
    "det_1x1": (*api("linalg.det"), A((), 1)),
    "det_negative": (*api("linalg.det"), A((), 3, neg_det)),
    "logabsdet": (*LOGABSDET, A((), 3, neg_det)),
    "logabsdet_stack": (*LOGABSDET, A((3,), 2)),
    "slogdet_sign_times_det": (
        *both(lambda xp, a: xp.linalg.slogdet(a)[0] * xp.exp(xp.linalg.slogdet(a)[1])),
        A((2,), 3, neg_det),
    ),
    # solve: vector and matrix right-hand sides, stacks broadcasting against each other
    "solve_vector": (*api("linalg.solve"), mats(((), 3), (3,))),
    "solve_matrix": (*api("linalg.solve"), mats(((), 3), (3, 2))),
    "solve_stack_vector": (*api("linalg.solve"), mats(((2,), 3), (3,))),
    "solve_broadcast": (*api("linalg.solve"), mats(((2, 1), 3), (4, 3, 2))),
    "solve_matrix_stack_b": (*api("linalg.solve"), mats(((), 3), (2, 3, 1))),
    # Cholesky
    "cholesky": (*api("linalg.cholesky"), A((), 4, spd)),
    "cholesky_stack": (*api("linalg.cholesky"), A((2,), 3, spd)),
    "cholesky_1x1": (*api("linalg.cholesky"), A((), 1, spd)),
    "cholesky_upper": (*api("linalg.cholesky", upper=True), A((), 3, spd)),
    "cholesky_logdet": (chol_logdet, LOGABSDET[1], A((2,), 3, spd)),
    # symmetric eigenproblems (eigenvectors only through sign-invariant quantities)
    "eigh_values": (*EIGVALS, A((), 4, sym_distinct)),
    "eigh_values_stack": (*EIGVALS, A((2,), 3, sym_distinct)),
    "eigh_1x1": (*both(eig_matrix_function), A((), 1, sym_distinct)),
    "eigh_vectors_squared": (*both(lambda xp, a: xp.linalg.eigh(a)[1] ** 2), A((), 3, sym_distinct)),
    "eigh_matrix_function": (*both(eig_matrix_function), A((2,), 3, sym_distinct)),
    "eigh_upper": (*both(lambda xp, a: xp.linalg.eigh(a, UPLO="U")[0]), A((), 3, sym_distinct)),
    "eigvalsh": (*api("linalg.eigvalsh"), A((), 4, sym_distinct)),
    # norms
    "norm_vector": (*api("linalg.norm"), arrays((5,))),
    "norm_flat_3d": (*api("linalg.norm"), arrays((2, 3, 2))),
    "norm_ord1": (*api("linalg.norm", ord=1), arrays((5,))),
    "norm_ord_inf": (*api("linalg.norm", ord=np.inf), arrays((5,))),
    "norm_ord_neg_inf": (*api("linalg.norm", ord=-np.inf), arrays((5,))),
    "norm_ord3": (*api("linalg.norm", ord=3), arrays((5,))),
    "norm_ord1.5": (*api("linalg.norm", ord=1.5), arrays((4,))),
    "norm_axis0": (*api("linalg.norm", axis=0), arrays((3, 4))),
    "norm_axis_neg1_keepdims": (*api("linalg.norm", axis=-1, keepdims=True), arrays((2, 3, 4))),
    "norm_ord1_axis1": (*api("linalg.norm", ord=1, axis=1), arrays((3, 4))),
    "norm_fro": (*api("linalg.norm", ord="fro"), arrays((3, 4))),
    "norm_matrix_default": (*api("linalg.norm"), arrays((3, 4))),
    "norm_matrix_1": (*api("linalg.norm", ord=1), arrays((3, 4))),
    "norm_matrix_neg1": (*api("linalg.norm", ord=-1), arrays((3, 4))),
    "norm_matrix_inf": (*api("linalg.norm", ord=np.inf), arrays((3, 4))),
    "norm_matrix_neg_inf": (*api("linalg.norm", ord=-np.inf), arrays((4, 3))),
    "norm_matrix_2": (*api("linalg.norm", ord=2), arrays((3, 4))),
    "norm_matrix_neg2": (*api("linalg.norm", ord=-2), arrays((4, 3))),
    "norm_matrix_nuc": (*api("linalg.norm", ord="nuc"), arrays((3, 3))),
    "norm_matrix_axes_keepdims": (
        *api("linalg.norm", ord="fro", axis=(0, 2), keepdims=True),
        arrays((3, 2, 4)),
    ),
    "norm_matrix_2_axes": (*api("linalg.norm", ord=2, axis=(2, 0)), arrays((3, 2, 4))),
    # powers and chains
    "matrix_power_0": (*api("linalg.matrix_power", n=0), A((), 3)),
    "matrix_power_1": (*api("linalg.matrix_power", n=1), A((), 3)),
    "matrix_power_5": (*both(lambda xp, a: xp.linalg.matrix_power(a, 5) / 1e3), A((2,), 2)),
    "matrix_power_neg2": (*api("linalg.matrix_power", n=-2), A((), 3)),
    "multi_dot": (*both(lambda xp, *m: xp.linalg.multi_dot(m)), arrays((2, 5), (5, 3), (3, 4))),
    "multi_dot_vectors": (
        *both(lambda xp, *m: xp.linalg.multi_dot(m)),
        arrays((4,), (4, 2), (2, 6), (6, 3), (3,)),
    ),
    "multi_dot_two": (*both(lambda xp, *m: xp.linalg.multi_dot(m)), arrays((3, 2), (2,))),
    # dot, vdot, inner, outer, tensordot
    "dot_scalar": (*api("dot"), arrays((), (3,))),
    "dot_vv": (*api("dot"), arrays((3,), (3,))),
    "dot_mv": (*api("dot"), arrays((2, 3), (3,))),
    "dot_vm": (*api("dot"), arrays((3,), (3, 2))),
    "dot_mm": (*api("dot"), arrays((2, 3), (3, 4))),
    "dot_3d_2d": (*api("dot"), arrays((2, 2, 3), (3, 4))),
    "dot_2d_3d": (*api("dot"), arrays((2, 3), (2, 3, 4))),
    "dot_3d_1d": (*api("dot"), arrays((2, 2, 3), (3,))),
    "dot_1d_3d": (*api("dot"), arrays((3,), (2, 3, 4))),
    "vdot": (*api("vdot"), arrays((2, 3), (3, 2))),
    "inner_vv": (*api("inner"), arrays((3,), (3,))),
    "inner_mv": (*api("inner"), arrays((2, 3), (3,))),
    "inner_3d_2d": (*api("inner"), arrays((2, 2, 3), (4, 3))),
    "outer": (*api("outer"), arrays((3,), (2, 2))),
    "tensordot_2": (*api("tensordot"), arrays((2, 3, 4), (3, 4, 2))),
    "tensordot_0": (*api("tensordot", axes=0), arrays((2,), (3,))),
    "tensordot_pairs": (*api("tensordot", axes=([2, 0], [0, 1])), arrays((2, 3, 4), (4, 2, 5))),
    # einsum
    "einsum_matmul": (*ein("ij,jk->ik"), arrays((2, 3), (3, 4))),
    "einsum_implicit": (*ein("jk,ij"), arrays((3, 4), (2, 3))),
    "einsum_transpose": (*ein("ij->ji"), arrays((2, 3))),
    "einsum_diagonal": (*ein("ii->i"), arrays((3, 3))),
    "einsum_trace": (*ein("ii"), arrays((3, 3))),
    "einsum_repeated_3": (*ein("iji->j"), arrays((3, 2, 3))),
    "einsum_repeated_kept": (*ein("iij->ij"), arrays((3, 3, 2))),
    "einsum_sum_all": (*ein("ij->"), arrays((2, 3))),
    "einsum_summed_only_here": (*ein("ij,k->ik"), arrays((2, 3), (4,))),
    "einsum_outer": (*ein("i,j->ij"), arrays((2,), (3,))),
    "einsum_repeated_other": (*ein("ii,ij->j"), arrays((3, 3), (3, 2))),
    "einsum_three": (*ein("ij,jk,kl->il"), arrays((2, 3), (3, 4), (4, 2))),
    "einsum_hadamard_three": (*ein("ij,ij,ij->i"), arrays((2, 3), (2, 3), (2, 3))),
    "einsum_ellipsis": (*ein("...ij,...jk->...ik"), arrays((2, 1, 3, 4), (5, 4, 2))),
    "einsum_ellipsis_implicit": (*ein("...i,...i"), arrays((4, 3), (5, 1, 3))),
    "einsum_batched_matvec": (*ein("bij,bj->bi"), arrays((2, 3, 4), (2, 4))),
    "einsum_size1_broadcast": (*ein("ij,ij->ij"), arrays((1, 3), (2, 3))),
    # diagonals, triangles, Kronecker
    "trace": (*api("trace"), arrays((3, 3))),
    "trace_offset": (*api("trace", offset=1), arrays((3, 4))),
    "trace_axes": (*api("trace", offset=-1, axis1=1, axis2=2), arrays((2, 3, 4))),
    "diagonal": (*api("diagonal"), arrays((3, 4))),
    "diagonal_axes": (*api("diagonal", offset=1, axis1=0, axis2=2), arrays((3, 2, 4))),
    "diag_vector": (*api("diag"), arrays((3,))),
    "diag_vector_k": (*api("diag", k=2), arrays((3,))),
    "diag_vector_neg_k": (*api("diag", k=-1), arrays((2,))),
    "diag_matrix": (*api("diag", k=1), arrays((3, 4))),
    "triu": (*api("triu"), arrays((3, 4))),
    "triu_k": (*api("triu", k=1), arrays((2, 3, 3))),
    "triu_vector": (*api("triu"), arrays((3,))),
    "tril": (*api("tril"), arrays((4, 3))),
    "tril_k": (*api("tril", k=-1), arrays((2, 3, 3))),
    "kron": (*api("kron"), arrays((2, 3), (2, 2))),
    "kron_1d_2d": (*api("kron"), arrays((2,), (3, 2))),
    "kron_3d": (*api("kron"), arrays((2, 1, 2), (2, 2))),
}

# functions of two arrays, for vmap with only one of them mapped
TWO_ARGS = [
    k for k in CASES if k.split("_")[0] in ("solve", "dot", "inner", "tensordot", "kron", "outer", "vdot")
] + ["einsum_matmul", "einsum_ellipsis", "einsum_summed_only_here", "einsum_repeated_other"]


def make(name, seed=0):
    fn, ref, gen = CASES[name]
    args = gen(np.random.default_rng(seed))
    return fn, ref, args if isinstance(args, tuple) else (args,)


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_equal_numpy(name):
    fn, ref, args = make(name)
    np.testing.assert_allclose(fn(*args), ref(*args), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_derivatives_against_finite_differences(name):
    fn, _, args = make(name)
    check_derivatives(fn, *args, order=2)


@pytest.mark.parametrize("name", sorted(CASES))
def test_jacfwd_equals_jacrev(name):
    fn, _, args = make(name)
    argnums = tuple(range(len(args)))
    fwd = sl.jacfwd(fn, argnums=argnums)(*args)
    rev = sl.jacrev(fn, argnums=argnums)(*args)
    for f, r in zip(fwd, rev):
        np.testing.assert_allclose(f, r, rtol=1e-10, atol=1e-12)


def _batch(name, size=3):
    per_example = [make(name, seed)[2] for seed in range(size)]
    return per_example, tuple(np.stack(parts) for parts in zip(*per_example))


@pytest.mark.parametrize("name", sorted(CASES))
def test_vmap_equals_loop(name):
    fn = CASES[name][0]
    per_example, stacked = _batch(name)
    expected = np.stack([np.asarray(fn(*args)) for args in per_example])
    np.testing.assert_allclose(sl.vmap(fn)(*stacked), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mapped", [0, 1])
@pytest.mark.parametrize("name", sorted(TWO_ARGS))
def test_vmap_one_argument_mapped(name, mapped):
    fn = CASES[name][0]
    per_example, stacked = _batch(name)
    fixed = per_example[0]
    in_axes = tuple(0 if i == mapped else None for i in range(2))
    args = tuple(stacked[i] if i == mapped else fixed[i] for i in range(2))
    expected = np.stack(
        [np.asarray(fn(*[ex[i] if i == mapped else fixed[i] for i in range(2)])) for ex in per_example]
    )
    np.testing.assert_allclose(sl.vmap(fn, in_axes=in_axes)(*args), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "name", ["inv", "det", "solve_matrix", "cholesky", "eigh_matrix_function", "einsum_three", "norm_matrix_2"]
)
def test_vmap_of_gradients(name):
    """Per-example gradients (batch rules applied to the reverse-mode rules)."""
    fn = CASES[name][0]
    per_example, stacked = _batch(name)
    g = sl.grad(lambda *a: snp.sum(fn(*a) ** 2))
    expected = np.stack([g(*args) for args in per_example])
    np.testing.assert_allclose(sl.vmap(g)(*stacked), expected, rtol=1e-10, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_random_einsum_specs(data):
    """Random two-operand einsums (repeats, outer products, contractions, reductions)."""
    label = st.sampled_from("abcd")
    first = data.draw(st.lists(label, max_size=3), label="first")
    second = data.draw(st.lists(label, max_size=3), label="second")
    union = list(dict.fromkeys(first + second))
    order = data.draw(st.permutations(union), label="order")
    out = order[: data.draw(st.integers(0, len(order)), label="kept")]
    spec = "".join(first) + "," + "".join(second) + "->" + "".join(out)
    size = dict(a=2, b=3, c=1, d=2)
    rng = np.random.default_rng(len(spec))
    x, y = (rng.standard_normal([size[c] for c in sub]) for sub in (first, second))
    f = lambda x, y: snp.einsum(spec, x, y)  # noqa: E731
    np.testing.assert_allclose(f(x, y), np.einsum(spec, x, y), rtol=1e-12, atol=1e-12)
    check_derivatives(f, x, y, order=2)


# -- closed forms ------------------------------------------------------------------------------
def test_jacobi_formula():
    a = general(np.random.default_rng(1), (), 4)
    expected = np.linalg.det(a) * np.linalg.inv(a).T
    np.testing.assert_allclose(sl.grad(snp.linalg.det)(a), expected, **EXACT)
    np.testing.assert_allclose(sl.jacfwd(snp.linalg.det)(a), expected, **EXACT)


def test_bilinear_form_of_inverse():
    rng = np.random.default_rng(2)
    a, u, v = general(rng, (), 4), arr(rng, 4), arr(rng, 4)
    ait = np.linalg.inv(a).T
    expected = -ait @ np.outer(u, v) @ ait
    np.testing.assert_allclose(sl.grad(lambda m: u @ snp.linalg.inv(m) @ v)(a), expected, **EXACT)
    by_solve = sl.grad(lambda m: snp.dot(u, snp.linalg.solve(m, v)))(a)
    np.testing.assert_allclose(by_solve, expected, **EXACT)


def test_gradient_of_trace_of_product():
    rng = np.random.default_rng(3)
    a, x = arr(rng, 3, 3), arr(rng, 3, 3)
    for f in (
        lambda x: snp.trace(a @ x),
        lambda x: snp.einsum("ij,ji", a, x),
        lambda x: snp.trace(snp.dot(a, x)),
    ):
        np.testing.assert_allclose(sl.grad(f)(x), a.T, **EXACT)


def test_gradient_and_hessian_of_logdet():
    a = spd(np.random.default_rng(4), (), 4)
    ainv = np.linalg.inv(a)
    for f in (
        lambda m: snp.linalg.slogdet(m)[1],
        chol_logdet,
        lambda m: snp.sum(snp.log(snp.linalg.eigvalsh(m))),
    ):
        np.testing.assert_allclose(sl.grad(f)(a), ainv.T, rtol=1e-9, atol=1e-12)
    # d^2 log|det| / dA_ij dA_kl = -inv(A)_jk inv(A)_li
    b = general(np.random.default_rng(5), (), 3)
    binv = np.linalg.inv(b)
    hess = sl.hessian(lambda m: snp.linalg.slogdet(m)[1])(b)
    np.testing.assert_allclose(hess, -np.einsum("jk,li->ijkl", binv, binv), rtol=1e-9, atol=1e-12)


def test_eigenvalue_gradient_is_outer_product_of_eigenvector():
    a = sym_distinct(np.random.default_rng(6), (), 4)
    _, v = np.linalg.eigh(a)
    jac = sl.jacrev(snp.linalg.eigvalsh)(a)
    for i in range(4):
        np.testing.assert_allclose(jac[i], np.outer(v[:, i], v[:, i]), rtol=1e-9, atol=1e-12)
    # along a symmetric direction, the derivative of w_i is v_i^T E v_i
    e = arr(np.random.default_rng(7), 4, 4)
    e = e + e.T
    _, dw = sl.jvp(snp.linalg.eigvalsh, (a,), (e,))
    np.testing.assert_allclose(dw, np.einsum("ji,jk,ki->i", v, e, v), rtol=1e-9, atol=1e-12)


def test_eigh_and_cholesky_treat_input_as_symmetric():
    rng = np.random.default_rng(8)
    s, n = spd(rng, (), 3), arr(rng, 3, 3)
    skew = n - n.T
    for f in (snp.linalg.eigvalsh, snp.linalg.cholesky, lambda m: snp.linalg.eigh(m)[1] ** 2):
        np.testing.assert_allclose(f(s + 0.01 * skew), f(s), **EXACT)
        g = sl.jacrev(lambda m: snp.sum(f(m) * np.arange(f(s).size).reshape(np.shape(f(s)))))(s)
        np.testing.assert_allclose(g, g.T, **EXACT)


def test_degenerate_eigenvalues_give_finite_derivatives():
    a = np.diag([1.0, 1.0, 2.0])
    g = sl.grad(lambda m: snp.sum(snp.linalg.eigvalsh(m)))(a)
    np.testing.assert_allclose(g, np.eye(3), **EXACT)  # d trace = I
    h = sl.hessian(lambda m: snp.sum(snp.linalg.eigvalsh(m) ** 2))(a)  # sum w^2 = |A|_F^2
    assert np.all(np.isfinite(h))


def test_norm_gradient_is_unit_vector_and_zero_at_zero():
    x = np.array([3.0, -4.0, 12.0])
    np.testing.assert_allclose(sl.grad(snp.linalg.norm)(x), x / 13.0, **EXACT)
    zero = np.zeros(3)
    for kw in ({}, {"ord": 2}, {"ord": 1}, {"ord": 3}, {"ord": np.inf}):
        f = lambda x: snp.linalg.norm(x, **kw)  # noqa: E731
        assert float(f(zero)) == 0.0
        np.testing.assert_array_equal(sl.grad(f)(zero), np.zeros(3))
    np.testing.assert_array_equal(sl.hessian(snp.linalg.norm)(zero), np.zeros((3, 3)))
    fro = sl.grad(lambda m: snp.linalg.norm(m, "fro"))(np.zeros((2, 2)))
    np.testing.assert_array_equal(fro, np.zeros((2, 2)))
    # a zero row among non-zero ones: no NaN in the per-row gradient
    m = np.array([[0.0, 0.0], [3.0, 4.0]])
    rows = sl.grad(lambda m: snp.sum(snp.linalg.norm(m, axis=1)))(m)
    np.testing.assert_allclose(rows, [[0, 0], [0.6, 0.8]], **EXACT)


def test_matrix_2_norm_gradient_is_top_singular_pair():
    a = arr(np.random.default_rng(9), 4, 3)
    u, s, vt = np.linalg.svd(a)
    g = sl.grad(lambda m: snp.linalg.norm(m, 2))(a)
    np.testing.assert_allclose(g, np.outer(u[:, 0], vt[0]), rtol=1e-8, atol=1e-10)


def test_cholesky_reconstructs_and_solves():
    a = spd(np.random.default_rng(10), (2,), 4)
    L = snp.linalg.cholesky(a)
    np.testing.assert_allclose(L @ np.swapaxes(L, -1, -2), a, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(L, np.tril(L))


def test_slogdet_returns_named_pair_and_eigh_named_pair():
    a = neg_det(np.random.default_rng(11), (), 3)
    sign, logdet = snp.linalg.slogdet(a)
    ref = np.linalg.slogdet(a)
    assert (float(sign), float(logdet)) == pytest.approx((float(ref.sign), float(ref.logabsdet)))
    assert snp.linalg.slogdet(a).logabsdet == logdet
    res = snp.linalg.eigh(sym_distinct(np.random.default_rng(12), (), 3))
    assert res.eigenvalues.shape == (3,) and res.eigenvectors.shape == (3, 3)


def test_numpy_functions_on_traced_values_route_to_slopes():
    a = general(np.random.default_rng(13), (), 3)
    g = sl.grad(lambda m: np.linalg.det(m) + np.trace(m) + np.linalg.norm(m) + np.einsum("ij,ij", m, m))(a)
    expected = np.linalg.det(a) * np.linalg.inv(a).T + np.eye(3) + a / np.linalg.norm(a) + 2 * a
    np.testing.assert_allclose(g, expected, rtol=1e-10, atol=1e-12)
    by_methods = sl.grad(lambda m: m.trace() + m.dot(m).sum())(a)
    np.testing.assert_allclose(by_methods, np.eye(3) + sl.grad(lambda m: snp.sum(m @ m))(a), **EXACT)


def test_second_order_through_solve_and_inverse_mixes_correctly():
    """Hessian of b^T A^-1 b in b is A^-1 + A^-T (perturbation bookkeeping across rules)."""
    a = general(np.random.default_rng(14), (), 3)
    b = arr(np.random.default_rng(15), 3)
    ainv = np.linalg.inv(a)
    for f in (lambda b: b @ snp.linalg.solve(a, b), lambda b: b @ snp.linalg.inv(a) @ b):
        np.testing.assert_allclose(sl.hessian(f)(b), ainv + ainv.T, rtol=1e-10, atol=1e-12)


# -- clear errors -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [
        snp.linalg.inv,
        snp.linalg.det,
        snp.linalg.slogdet,
        snp.linalg.cholesky,
        snp.linalg.eigh,
        snp.linalg.eigvalsh,
        lambda a: snp.linalg.matrix_power(a, 2),
        lambda a: snp.linalg.solve(a, np.ones(2)),
    ],
)
def test_non_square_input_is_refused(fn):
    with pytest.raises(np.linalg.LinAlgError, match=r"square.*\(2, 3\)"):
        fn(np.ones((2, 3)))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: snp.linalg.solve(np.eye(3), np.ones(2)), r"b of shape \(2,\)"),
        (lambda: snp.linalg.solve(np.ones((2, 3, 3)), np.ones((4, 3, 1))), "do not broadcast"),
        (lambda: snp.linalg.norm(np.ones((2, 2, 2)), ord=1), "needs a vector or a matrix"),
        (lambda: snp.linalg.norm(np.ones(3), ord="fro", axis=0), "invalid ord 'fro'"),
        (lambda: snp.linalg.norm(np.ones((2, 2)), ord=3), "invalid ord 3"),
        (lambda: snp.linalg.norm(np.ones((2, 2)), axis=(0, 0)), "distinct"),
        (lambda: snp.linalg.multi_dot([np.ones((2, 3)), np.ones((2, 3))]), "not aligned"),
        (lambda: snp.linalg.multi_dot([np.ones(2)]), "at least two"),
        (lambda: snp.einsum("ij,jk->ik", np.ones((2, 3))), "2 operand subscript"),
        (lambda: snp.einsum("ij->i", np.ones(3)), "operand 0 has 1 axes"),
        (lambda: snp.einsum("ij->k", np.ones((2, 2))), "output label 'k'"),
        (lambda: snp.einsum("i1->i", np.ones((2, 2))), "invalid subscripts"),
        (lambda: snp.tensordot(np.ones((2, 3)), np.ones((2, 3)), axes=1), "shape mismatch"),
        (lambda: snp.dot(np.ones(2), np.ones(3)), "not aligned"),
        (lambda: snp.diag(np.ones((2, 2, 2))), "1-D or 2-D"),
        (lambda: snp.diagonal(np.ones(3)), "at least 2 axes"),
        (lambda: snp.linalg.eigh(np.eye(2), UPLO="X"), "UPLO"),
    ],
)
def test_bad_input_gets_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: snp.linalg.inv(np.ones((2, 2))), "inv.*singular"),
        (lambda: snp.linalg.solve(np.ones((2, 2)), np.ones(2)), "solve.*singular"),
        (lambda: sl.grad(snp.linalg.det)(np.ones((2, 2))), "invertible"),
        (lambda: snp.linalg.cholesky(-np.eye(2)), "not positive definite"),
    ],
)
def test_singular_or_indefinite_matrix_is_explained(call, match):
    with pytest.raises(np.linalg.LinAlgError, match=match):
        call()


def test_matrix_power_needs_an_integer():
    with pytest.raises(TypeError, match="integer"):
        snp.linalg.matrix_power(np.eye(2), 1.5)
