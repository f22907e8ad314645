"""The work derivative rules do, counted (never timed): the causes of slow eager gradients.

``benchmarks/vocabulary.py`` times each gradient against autograd's; where a row was slower,
the cause was work a rule did not need. These tests count that work (entries a formula sees,
calls of a costly primitive) and check the values against independent references (closed
forms, SciPy, finite differences).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special as sc

import slopes as sl
import slopes.numpy as snp
import slopes.scipy.special  # noqa: F401  (sl.scipy.special)
from slopes.core.ops import elementwise_extra, special


def _counting(monkeypatch, owner, name, counts, measure=np.size):
    """Replace ``owner.name`` by a wrapper adding ``measure`` of its first argument to ``counts``."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        counts.append(measure(args[0]))
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)


def test_sinc_derivative_evaluates_each_entry_by_one_formula_only(monkeypatch):
    # the series near 0 and the closed form elsewhere used to both run on every entry
    seen = []
    _counting(monkeypatch, elementwise_extra, "_sinc_series", seen)
    _counting(monkeypatch, elementwise_extra, "_sinc_closed_form", seen)
    x = np.linspace(-2.0, 2.0, 101)  # 0 included, and entries on both sides of |pi x| = 1
    g = sl.grad(lambda x: snp.sum(snp.sinc(x)))(x)
    assert sum(seen) == x.size
    u = np.pi * x
    with np.errstate(invalid="ignore", divide="ignore"):
        want = np.where(x == 0, 0.0, (u * np.cos(u) - np.sin(u)) / (u * x))  # d/dx sin(pi x)/(pi x)
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-14)


def test_sinc_series_keeps_only_the_terms_float64_can_see():
    # for |u| <= 1 a term is at most its coefficient: those below 1e-18 of the largest are dropped
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    u = np.array([1e-3, 0.3, -0.9, 1.0])
    for k in range(8):
        assert len(elementwise_extra._sinc_series_coefficients(k)) <= 12
        want = [float(mpmath.diff(lambda t: mpmath.sin(t) / t, mpmath.mpf(v), k)) for v in u]
        np.testing.assert_allclose(elementwise_extra._sinc_series(u, k), want, rtol=1e-14, atol=1e-300)


def test_y1_gradient_calls_no_real_order_bessel(monkeypatch):
    # Y_1' = Y_0 - Y_1 / x; the recurrence (Y_0 - Y_2) / 2 evaluated yv(2, x), 20x dearer
    calls = []
    _counting(monkeypatch, special.yv, "impl", calls)
    x = np.linspace(0.3, 12.0, 50)
    g = sl.grad(lambda x: snp.sum(sl.scipy.special.y1(x)))(x)
    assert calls == []
    np.testing.assert_allclose(g, 0.5 * (sc.y0(x) - sc.yn(2, x)), rtol=1e-12, atol=1e-14)


def test_y1_second_derivative_matches_finite_differences():
    x, h = np.array([0.5, 1.7, 6.0]), 1e-4
    d2 = sl.elementwise_grad(sl.elementwise_grad(sl.scipy.special.y1))(x)
    want = (sc.y1(x + h) - 2 * sc.y1(x) + sc.y1(x - h)) / h**2
    np.testing.assert_allclose(d2, want, rtol=1e-6)
    # and SciPy's derivative of Bessel functions
    np.testing.assert_allclose(d2, sc.yvp(1, x, n=2), rtol=1e-10)



def test_betaincc_sends_only_upper_halves_to_scipys_slower_complement(monkeypatch):
    # where betainc <= 1/2 the complement 1 - betainc keeps every digit
    rng = np.random.default_rng(3)
    a, b, x = rng.uniform(0.2, 5.0, 400), rng.uniform(0.2, 5.0, 400), rng.uniform(0.0, 1.0, 400)
    want = sc.betaincc(a, b, x)
    seen = []
    _counting(monkeypatch, sc, "betaincc", seen)
    got = special.betaincc(a, b, x)
    assert sum(seen) == np.count_nonzero(sc.betainc(a, b, x) > 0.5) < x.size
    np.testing.assert_allclose(got, want, rtol=4e-15, atol=0)  # a few ulps: betainc's own error
    assert np.isnan(special.betaincc(-1.0, 2.0, 0.5))  # invalid shapes stay NaN, as in SciPy


def test_t_cdf_is_scipys_and_its_gradient_needs_no_incomplete_beta(monkeypatch):
    from scipy import stats as ss

    from slopes.scipy import stats

    calls = []
    for prim in (special.betainc, special.betaincc):
        _counting(monkeypatch, prim, "impl", calls)
    z, df = np.linspace(-30.0, 30.0, 121), 2.5
    np.testing.assert_array_equal(stats.t.cdf(z, df), ss.t.cdf(z, df))
    g = sl.grad(lambda z: snp.sum(stats.t.cdf(z, df)))(z)
    np.testing.assert_allclose(g, ss.t.pdf(z, df), rtol=1e-13)
    assert calls == []


def test_prod_gradient_is_one_running_product_not_a_doubling_scan(monkeypatch):
    # prod's cotangent reaches the recurrence one-hot: a running product replaces log2(n) passes
    from slopes.core.ops import reorder

    x = np.random.default_rng(4).uniform(0.9, 1.1, 1024)
    x[5] = 0.0  # one zero: its entry gets the product of the others, the rest 0
    want = [np.prod(np.delete(x, i)) for i in range(x.size)]  # the other factors' product
    passes = []
    _counting(monkeypatch, reorder.np, "concatenate", passes, measure=len)
    g = sl.grad(snp.prod)(x)
    assert len(passes) < np.log2(x.size)  # the doubling scan concatenates once per pass
    np.testing.assert_allclose(g, want, rtol=1e-13, atol=0)
    assert g[5] != 0 and np.count_nonzero(g) == 1


def test_solve_sylvester_reads_singularity_from_lapack_not_from_two_spectra(monkeypatch):
    # LAPACK's trsyl flags (nearly) common eigenvalues of A and -B; eigvals of both cost more
    import scipy.linalg

    from slopes.scipy import linalg as sla

    rng = np.random.default_rng(5)
    a, b, q = rng.standard_normal((2, 6, 6)), rng.standard_normal((2, 4, 4)), rng.standard_normal((2, 6, 4))
    want = [scipy.linalg.solve_sylvester(a[k], b[k], q[k]) for k in range(2)]
    spectra = []
    _counting(monkeypatch, np.linalg, "eigvals", spectra)
    np.testing.assert_array_equal(sla.solve_sylvester(a[0], b[0], q[0]), want[0])
    np.testing.assert_allclose(sla.solve_sylvester(a, b, q), want, rtol=1e-12)  # a stack
    g = sl.grad(lambda q: snp.sum(sla.solve_sylvester(a[0], b[0], q) ** 2))(q[0])
    np.testing.assert_allclose(g, 2 * scipy.linalg.solve_sylvester(a[0].T, b[0].T, want[0]), rtol=1e-10)
    assert spectra == []
    with pytest.raises(np.linalg.LinAlgError, match="share an eigenvalue"):
        sla.solve_sylvester(np.diag([1.0, 2.0]), np.diag([-2.0, 5.0]), np.ones((2, 2)))


def test_sqrtm_derivatives_solve_sylvester_equations_of_the_input_size(monkeypatch):
    # dS solves S dS + dS S = dA; the Frechet block rule took sqrtm of a 2n x 2n matrix
    from slopes.core.ops import scipy_linalg
    import scipy.linalg

    shapes = []
    _counting(monkeypatch, scipy_linalg.sqrtm, "impl", shapes, measure=np.shape)
    rng = np.random.default_rng(5)
    m = rng.standard_normal((4, 4))
    a = m @ m.T + 4 * np.eye(4)
    w = rng.standard_normal((4, 4))
    f = lambda a: snp.sum(w * sl.scipy.linalg.sqrtm(a) ** 3)  # noqa: E731
    g = sl.grad(f)(a)
    assert shapes and all(s == (4, 4) for s in shapes)
    h = 1e-5
    fd = np.zeros_like(a)
    for i, j in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[i, j] = h
        fd[i, j] = (np.sum(w * scipy.linalg.sqrtm(a + e) ** 3) - np.sum(w * scipy.linalg.sqrtm(a - e) ** 3)) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    # second order along a direction: finite differences of the first derivative
    d = rng.standard_normal((4, 4))
    hv = sl.grad(lambda t: snp.sum(sl.grad(f)(a + t * d) * d))(0.0)
    want = np.sum((sl.grad(f)(a + h * d) - sl.grad(f)(a - h * d)) * d) / (2 * h)
    np.testing.assert_allclose(hv, want, rtol=1e-6)


def test_multivariate_normal_checks_and_solves_through_its_cholesky_factor_only(monkeypatch):
    # definiteness used to cost an eigvalsh per call and the Mahalanobis term a general solve
    import scipy.linalg
    import scipy.stats

    from slopes.scipy import stats

    calls = []
    _counting(monkeypatch, np.linalg, "eigvalsh", calls)
    _counting(monkeypatch, np.linalg, "solve", calls)
    _counting(monkeypatch, scipy.linalg, "solve", calls)
    rng = np.random.default_rng(7)
    m = rng.standard_normal((4, 4))
    cov, mean = m @ m.T + np.eye(4), rng.standard_normal(4)
    x = rng.standard_normal((6, 4))
    val = stats.multivariate_normal.logpdf(x, mean, cov)
    g = sl.grad(lambda x: snp.sum(stats.multivariate_normal.logpdf(x, mean, cov)))(x)
    assert calls == []
    monkeypatch.undo()
    np.testing.assert_allclose(val, scipy.stats.multivariate_normal.logpdf(x, mean, cov), rtol=1e-12)
    np.testing.assert_allclose(g, -np.linalg.solve(cov, (x - mean).T).T, rtol=1e-10)  # -S^-1 (x - mu)


def test_cross_is_one_primitive_whose_rules_are_cross_products(monkeypatch):
    # written with the components, it recorded fourteen primitives where autograd has one
    from slopes.core import trace

    recorded = []
    bind = trace.bind
    monkeypatch.setattr(trace, "bind", lambda prim, args, params: recorded.append(prim.name) or bind(prim, args, params))
    rng = np.random.default_rng(11)
    a, b, w = rng.standard_normal((5, 3)), rng.standard_normal(3), rng.standard_normal((5, 3))
    ga, gb = sl.grad(lambda a, b: snp.sum(w * snp.cross(a, b)), argnums=(0, 1))(a, b)
    assert recorded.count("cross") == 1 and len(recorded) <= 3
    monkeypatch.undo()
    np.testing.assert_allclose(ga, np.cross(b, w), rtol=1e-13)  # <G, a x b> = <b x G, a>
    np.testing.assert_allclose(gb, np.sum(np.cross(w, a), axis=0), rtol=1e-13)  # = <G x a, b>


@pytest.mark.parametrize("na, nb", [(2, 2), (2, 3), (3, 2)])
def test_cross_gradients_of_two_component_vectors_match_finite_differences(na, nb):
    rng = np.random.default_rng(na * 10 + nb)
    a, b = rng.standard_normal((4, na)), rng.standard_normal((4, nb))
    three = lambda v: np.pad(v, ((0, 0), (0, 3 - v.shape[1])))  # noqa: E731  (z-component 0)
    if na == nb == 2:  # the z-component alone
        w = rng.standard_normal(4)
        ref = lambda a, b: np.sum(w * np.cross(three(a), three(b))[:, 2])  # noqa: E731
    else:
        w = rng.standard_normal((4, 3))
        ref = lambda a, b: np.sum(w * np.cross(three(a), three(b)))  # noqa: E731
    f = lambda a, b: snp.sum(w * snp.cross(a, b))  # noqa: E731
    ga, gb = sl.grad(f, argnums=(0, 1))(a, b)
    h = 1e-6
    for x, g, at in ((a, ga, 0), (b, gb, 1)):
        fd = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[i] = h
            args_p, args_m = [a, b], [a, b]
            args_p[at], args_m[at] = x + e, x - e
            fd[i] = (ref(*args_p) - ref(*args_m)) / (2 * h)
        np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-9)


def test_cross_batches_under_vmap_and_differentiates_twice():
    rng = np.random.default_rng(12)
    a, b = rng.standard_normal((6, 3)), rng.standard_normal(3)
    np.testing.assert_allclose(sl.vmap(lambda v: snp.cross(v, b))(a), np.cross(a, b), rtol=1e-14)
    # d/da <a x b, a x b> = 2 b x (a x b); its derivative along d: 2 b x (d x b)
    d = rng.standard_normal(3)
    hv = sl.hvp(lambda v: snp.sum(snp.cross(v, b) ** 2), a[0], d)
    np.testing.assert_allclose(hv, 2 * np.cross(b, np.cross(d, b)), rtol=1e-12)


def test_digamma_derivative_is_one_zeta_call_not_scipys_general_polygamma(monkeypatch):
    # scipy.special.polygamma evaluates digamma on every entry too, then keeps the zeta form
    general, zetas = [], []
    _counting(monkeypatch, sc, "polygamma", general)
    _counting(monkeypatch, sc, "zeta", zetas, measure=lambda order: order)
    x = np.linspace(0.2, 6.0, 40)
    g = sl.grad(lambda x: snp.sum(sl.scipy.special.digamma(x)))(x)
    assert general == [] and zetas == [2]  # trigamma(x) = zeta(2, x), once
    monkeypatch.undo()
    np.testing.assert_array_equal(g, sc.polygamma(1, x))  # SciPy's bits
    h = 1e-5
    np.testing.assert_allclose(g, (sc.digamma(x + h) - sc.digamma(x - h)) / (2 * h), rtol=1e-8)


@pytest.mark.parametrize("name, scaled", [("ive", True), ("iv", False), ("jv", False), ("yv", False)])
def test_bessel_gradient_evaluates_one_neighbouring_order_not_two(monkeypatch, name, scaled):
    # f_v' = f_{v-1} - (v/x) f_v (the recurrence) reads the value at hand; the symmetric
    # (f_{v-1} +- f_{v+1}) / 2 needs two real-order Bessel functions; x = 0 takes the latter
    prim, v = getattr(special, name), 2.0
    x = np.linspace(-3.0, 3.0, 61) if name != "yv" else np.linspace(0.2, 6.0, 59)
    entries, impl = [], prim.impl
    monkeypatch.setattr(prim, "impl", lambda *a: entries.append(np.broadcast(*a).size) or impl(*a))
    g = sl.grad(lambda x: snp.sum(getattr(sl.scipy.special, name)(v, x)))(x)
    # f_v and f_{v-1} on every entry, f_{v+1} and f_{v-1} again where x = 0
    assert sum(entries) == 2 * x.size + 2 * np.count_nonzero(x == 0)
    monkeypatch.undo()
    deriv = {"ive": sc.ivp, "iv": sc.ivp, "jv": sc.jvp, "yv": sc.yvp}[name](v, x)
    want = np.exp(-np.abs(x)) * deriv - np.sign(x) * sc.ive(v, x) if scaled else deriv
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-15)


def _recording(monkeypatch):
    """The names of the primitives reverse mode records on its tape from now on."""
    from slopes.core import reverse

    recorded, process = [], reverse.ReverseTrace.process

    def counting(self, prim, args, params):
        n = len(self.tape)
        out = process(self, prim, args, params)
        if len(self.tape) > n:
            recorded.append(prim.name)
        return out

    monkeypatch.setattr(reverse.ReverseTrace, "process", counting)
    return recorded


def test_distributions_record_no_where_that_selects_nothing_and_no_identity_arithmetic(monkeypatch):
    # inside the support, with valid parameters and loc = 0, scale = 1, each family is its formula
    # alone: the support and validity masks, x - 0 and x / 1 used to be recorded on every call
    import scipy.stats as ss

    from slopes.scipy import stats

    rng = np.random.default_rng(13)
    x, a, mu = rng.uniform(0.1, 0.9, 50), rng.uniform(0.5, 3.0, 50), rng.uniform(0.2, 4.0, 50)
    recorded = _recording(monkeypatch)
    g_pdf = sl.grad(lambda x: snp.sum(stats.gamma.pdf(x, a)))(x)
    assert recorded == ["xlogy", "subtract", "subtract", "exp", "sum"]  # x**(a-1) e**-x / Gamma(a)
    del recorded[:]
    g_cdf = sl.grad(lambda x: snp.sum(stats.gamma.cdf(x, a)))(x)
    assert recorded == ["gammainc", "sum"]
    del recorded[:]
    g_pmf = sl.grad(lambda mu: snp.sum(stats.poisson.logpmf(2, mu)))(mu)
    assert recorded == ["xlogy", "subtract", "subtract", "sum"]  # 2 log mu - mu - log 2!
    monkeypatch.undo()
    pdf = ss.gamma.pdf(x, a)
    np.testing.assert_allclose(g_pdf, pdf * ((a - 1) / x - 1), rtol=1e-12)
    np.testing.assert_allclose(g_cdf, pdf, rtol=1e-12)
    np.testing.assert_allclose(g_pmf, 2 / mu - 1, rtol=1e-12)
    np.testing.assert_allclose(stats.gamma.pdf(x, a), pdf, rtol=1e-13)
    np.testing.assert_allclose(stats.poisson.logpmf(2, mu), ss.poisson.logpmf(2, mu), rtol=1e-13)


def test_solve_banded_and_its_gradient_never_form_the_dense_matrix(monkeypatch):
    # the band used to be unpacked into the n x n matrix and solved densely (O(n^3))
    import scipy.linalg

    from slopes.scipy import linalg as sla

    rng = np.random.default_rng(17)
    n = 40
    ab = np.stack([rng.standard_normal(n), 6.0 + rng.random(n), rng.standard_normal(n), rng.standard_normal(n)])
    b, w = rng.standard_normal((n, 2)), rng.standard_normal((n, 2))
    recorded = _recording(monkeypatch)
    gab, gb = sl.grad(lambda ab, b: snp.sum(w * sla.solve_banded((2, 1), ab, b)), argnums=(0, 1))(ab, b)
    assert "solve" not in recorded and recorded.count("solve_banded") == 1
    monkeypatch.undo()
    dense = sum(np.diag(ab[1 - k, max(k, 0):n + min(k, 0)], k) for k in (-2, -1, 0, 1))  # a[i, j] = ab[1 + i - j, j]
    x = scipy.linalg.solve_banded((2, 1), ab, b)
    np.testing.assert_allclose(x, np.linalg.solve(dense, b), rtol=1e-12)
    lam = np.linalg.solve(dense.T, w)  # d <w, A^-1 b> / dA = -lam x^T, read on the band
    full = -lam @ x.T
    want = np.zeros_like(ab)
    for r in range(4):
        k = 1 - r  # row r of ab is the diagonal a[j + r - 1, j]: offset k = 1 - r above the main one
        want[r, max(k, 0):n + min(k, 0)] = np.diag(full, k)
    np.testing.assert_allclose(gb, lam, rtol=1e-12)
    np.testing.assert_allclose(gab, want, rtol=1e-11, atol=1e-14)


def test_yn_and_its_derivatives_keep_the_integer_order(monkeypatch):
    # yn went through the real-order yv, some 40 times dearer than SciPy's own yn
    calls = []
    _counting(monkeypatch, special.yv, "impl", calls)
    x = np.linspace(0.3, 9.0, 30)
    value = sl.scipy.special.yn(3, x)
    d1 = sl.elementwise_grad(lambda x: sl.scipy.special.yn(3, x))(x)
    d2 = sl.elementwise_grad(sl.elementwise_grad(lambda x: sl.scipy.special.yn(3, x)))(x)
    assert calls == []
    monkeypatch.undo()
    np.testing.assert_array_equal(value, sc.yn(3, x))
    np.testing.assert_allclose(d1, sc.yvp(3, x), rtol=1e-12)
    np.testing.assert_allclose(d2, sc.yvp(3, x, n=2), rtol=1e-10)


def test_triangular_solves_of_one_matrix_skip_scipys_argument_checks(monkeypatch):
    # scipy.linalg.solve_triangular spends ~25 us a call checking its arguments before LAPACK's
    # trtrs: more than the solve itself at the sizes of a Mahalanobis term
    import scipy.linalg
    import scipy.stats

    from slopes.scipy import linalg as sla
    from slopes.scipy import stats

    rng = np.random.default_rng(19)
    m = rng.standard_normal((4, 4))
    cov, lower = m @ m.T + np.eye(4), np.tril(m) + 4 * np.eye(4)
    x, b = rng.standard_normal((6, 4)), rng.standard_normal((4, 3))
    want = [scipy.linalg.solve_triangular(a, b, lower=lo) for a in (lower, lower.T) for lo in (True, False)]
    calls = []
    _counting(monkeypatch, scipy.linalg, "solve_triangular", calls)
    got = [sla.solve_triangular(a, b, lower=lo) for a in (lower, lower.T) for lo in (True, False)]
    g = sl.grad(lambda x: snp.sum(stats.multivariate_normal.logpdf(x, cov=cov, mean=np.zeros(4))))(x)
    assert calls == []
    monkeypatch.undo()
    for ours, theirs in zip(got, want):
        np.testing.assert_array_equal(ours, theirs)  # the same LAPACK call, the same bits
    np.testing.assert_allclose(g, -np.linalg.solve(cov, x.T).T, rtol=1e-12)
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        sla.solve_triangular(np.diag([1.0, 0.0]), np.ones(2), lower=True)


def test_rgamma_gradient_is_one_digamma_on_the_value_at_hand(monkeypatch):
    # -digamma(x) rgamma(x) with rgamma(x) already computed; the reflection formula (gamma and
    # digamma of 1 - x, both branches on every entry) only at the poles of gamma, its limit there
    x = np.concatenate([np.linspace(-3.7, 3.0, 40), [0.0, -2.0]])
    seen = {"digamma": [], "gamma": [], "rgamma": []}
    _counting(monkeypatch, sc, "digamma", seen["digamma"])
    _counting(monkeypatch, sc, "gamma", seen["gamma"])
    _counting(monkeypatch, special.rgamma, "impl", seen["rgamma"])
    g = sl.grad(lambda x: snp.sum(sl.scipy.special.rgamma(x)))(x)
    assert {k: sum(v) for k, v in seen.items()} == {"digamma": x.size, "gamma": 2, "rgamma": x.size}
    monkeypatch.undo()
    with np.errstate(invalid="ignore"):
        want = -sc.digamma(x) * sc.rgamma(x)
    want[-2:] = [1.0, 2.0]  # (-1)**n n! at x = -n
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-15)
    h = 1e-6
    np.testing.assert_allclose(g, (sc.rgamma(x + h) - sc.rgamma(x - h)) / (2 * h), rtol=1e-7, atol=1e-8)


def test_multivariate_normal_entropy_differentiates_log_det_directly_not_through_the_factor(monkeypatch):
    # d log det S / dS = S^-1: one inverse, where the Cholesky factor's own rule took two
    # solves and a projection, after the diagonal, log and sum of the factor were recorded
    import scipy.stats

    from slopes.scipy import stats

    rng = np.random.default_rng(23)
    m = rng.standard_normal((5, 5))
    cov = m @ m.T + np.eye(5)
    recorded = _recording(monkeypatch)
    g = sl.grad(lambda c: stats.multivariate_normal.entropy(cov=c))(cov)
    assert "cholesky" not in recorded and len(recorded) <= 3
    monkeypatch.undo()
    np.testing.assert_allclose(g, np.linalg.inv(cov) / 2, rtol=1e-12)
    np.testing.assert_allclose(stats.multivariate_normal.entropy(cov=cov),
                               scipy.stats.multivariate_normal.entropy(cov=cov), rtol=1e-14)


def test_norm_std_and_nan_to_num_record_no_guard_that_guards_nothing(monkeypatch):
    # the guards of sqrt at 0 (norm, std) and of NaN and infinities (nan_to_num) are wheres that
    # were recorded on every call; they stay where an entry needs them, and in what sl.jit stages
    rng = np.random.default_rng(29)
    x = rng.uniform(0.1, 0.9, 50)
    recorded = _recording(monkeypatch)
    g_norm = sl.grad(snp.linalg.norm)(x)
    g_std = sl.grad(snp.std)(x)
    g_nan = sl.grad(lambda x: snp.sum(snp.nan_to_num(x) ** 2))(x)
    assert "where" not in recorded
    monkeypatch.undo()
    np.testing.assert_allclose(g_norm, x / np.linalg.norm(x), rtol=1e-13)
    np.testing.assert_allclose(g_std, (x - x.mean()) / (x.size * x.std()), rtol=1e-12)
    np.testing.assert_allclose(g_nan, 2 * x, rtol=1e-15)
    # where a guard is needed, it is there: 0 at the root, 0 for replaced entries, also in replays
    jitted = sl.jit(sl.grad(snp.linalg.norm))
    np.testing.assert_allclose(jitted(x), g_norm, rtol=1e-13)
    np.testing.assert_array_equal(jitted(np.zeros(3)), np.zeros(3))
    np.testing.assert_array_equal(sl.grad(snp.std)(np.ones(4)), np.zeros(4))
    bad = np.array([np.nan, 2.0, np.inf])
    np.testing.assert_array_equal(sl.grad(lambda x: snp.sum(3.0 * snp.nan_to_num(x, posinf=1.0)))(bad), [0.0, 3.0, 0.0])
    assert snp.nan_to_num(x) is not x  # a plain array comes back as a copy, as NumPy's


def test_dirichlet_checks_its_points_without_allclose(monkeypatch):
    # np.allclose (a dozen NumPy calls) cost more than the density's gradient on a 1000-simplex
    import scipy.stats

    from slopes.scipy import stats

    rng = np.random.default_rng(31)
    x, alpha = rng.dirichlet(np.ones(6), size=3).T, rng.uniform(0.5, 3.0, 6)
    calls = []
    _counting(monkeypatch, np, "allclose", calls)
    value = stats.dirichlet.logpdf(x, alpha)
    g = sl.grad(lambda x: snp.sum(stats.dirichlet.logpdf(x, alpha)))(x)
    with pytest.raises(ValueError, match="simplex"):
        stats.dirichlet.logpdf(x * 1.01, alpha)
    assert calls == []
    monkeypatch.undo()
    np.testing.assert_allclose(value, scipy.stats.dirichlet.logpdf(x, alpha), rtol=1e-12)
    np.testing.assert_allclose(g, (alpha[:, None] - 1) / x, rtol=1e-13)
