"""``slopes.scipy.stats``: values against scipy.stats, derivatives against finite differences,
closed forms and JAX, and maximum-likelihood fits against scipy.stats' own ``fit``.

Values are compared on random points, tails included; where SciPy itself rounds a tail away
the reference is mpmath at 50 digits. Derivatives (first and second, forward and reverse)
go through ``tests/checks.py`` (plain-NumPy central differences).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import scipy.stats as ss
from checks import check_derivatives

import slopes as sl
import slopes.numpy as snp
from slopes.scipy import stats

CONTINUOUS_KINDS = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")
DISCRETE_KINDS = ("logpmf", "pmf", "cdf", "logcdf", "sf", "logsf")
DENSITY = ("logpdf", "pdf")

# name -> (shape parameters, the functions offered, the support of the standard form)
CONTINUOUS = {
    "norm": ((), CONTINUOUS_KINDS, "line"),
    "t": ((4.5,), CONTINUOUS_KINDS, "line"),
    "cauchy": ((), CONTINUOUS_KINDS, "line"),
    "laplace": ((), CONTINUOUS_KINDS, "line"),
    "logistic": ((), CONTINUOUS_KINDS, "line"),
    "expon": ((), CONTINUOUS_KINDS, "half-line"),
    "gamma": ((2.5,), CONTINUOUS_KINDS, "half-line"),
    "chi2": ((3.5,), CONTINUOUS_KINDS, "half-line"),
    "lognorm": ((0.8,), CONTINUOUS_KINDS, "half-line"),
    "uniform": ((), CONTINUOUS_KINDS, "interval"),
    "beta": ((2.0, 3.5), CONTINUOUS_KINDS, "interval"),
}
CASES = [(name, kind) for name, (_, kinds, _) in CONTINUOUS.items() for kind in kinds]
# the shapes of the incomplete gamma and beta functions are constants in slopes.scipy.special
CONSTANT_SHAPE = {(n, k) for n in ("gamma", "chi2", "t", "beta") for k in ("cdf", "logcdf", "sf", "logsf")}


def _standard_points(rng, support, n=40):
    """Random points of the standard form, far tails and points outside the support included."""
    if support == "line":
        return np.concatenate([rng.normal(0, 2, n), rng.uniform(-60, 60, 8), [-1e3, -30.0, 0.3, 30.0, 1e3]])
    if support == "half-line":
        return np.concatenate([rng.gamma(2.0, 1.5, n), [-1.0, 0.0, 1e-8, 30.0, 200.0]])
    return np.concatenate([rng.random(n), [-0.5, 0.0, 1e-10, 1 - 1e-10, 1.0, 1.5]])


def _inside(rng, support, n=5):
    """Points well inside the support of the standard form."""
    if support == "line":
        return rng.normal(0, 2, n) + 0.05  # away from laplace's kink at 0
    return 0.2 + 0.6 * rng.random(n)


@pytest.mark.parametrize("name, kind", CASES)
def test_values_equal_scipy(name, kind):
    shapes, _, support = CONTINUOUS[name]
    rng = np.random.default_rng(len(name) + len(kind))
    loc, scale = 0.7, 2.3
    x = loc + scale * _standard_points(rng, support)
    with np.errstate(divide="ignore"):
        ours = getattr(getattr(stats, name), kind)(x, *shapes, loc=loc, scale=scale)
        ref = getattr(getattr(ss, name), kind)(x, *shapes, loc=loc, scale=scale)
    # SciPy's own logcdf/logsf are log(cdf)/log(sf) for most of these: where that loses
    # digits in a tail (|log p| tiny) the reference is mpmath instead (below)
    keep = np.abs(ref) > 1e-9 if kind in ("logcdf", "logsf") else np.ones(x.shape, bool)
    finite = np.isfinite(ref)
    np.testing.assert_allclose(ours[keep & finite], ref[keep & finite], rtol=1e-11, atol=0)
    # an infinite answer is SciPy's too; SciPy's log of an underflowed 0 is -inf where ours
    # stays finite (laplace at |z| = 1000): those are checked against mpmath below
    assert np.all(~np.isinf(ours) | np.isinf(ref))
    np.testing.assert_array_equal(ours[np.isinf(ours)], ref[np.isinf(ours)])


@pytest.mark.parametrize(
    "name, kind, z, args, exact",
    [
        # P(Z <= -1e10) = arctan(1e-10) / pi; 1/2 + arctan(z) / pi keeps 5 digits of it
        ("cauchy", "logcdf", -1e10, (), lambda z: mpmath.log(mpmath.atan(-1 / z) / mpmath.pi)),
        ("cauchy", "logsf", -1e10, (), lambda z: mpmath.log1p(-mpmath.atan(-1 / z) / mpmath.pi)),
        ("laplace", "logcdf", -800.0, (), lambda z: z - mpmath.log(2)),  # exp(-800) underflows
        ("laplace", "logpdf", 1000.0, (), lambda z: -z - mpmath.log(2)),
        ("laplace", "logsf", -40.0, (), lambda z: mpmath.log1p(-mpmath.exp(z) / 2)),
        ("logistic", "logcdf", 40.0, (), lambda z: -mpmath.log1p(mpmath.exp(-z))),
        ("logistic", "logcdf", -800.0, (), lambda z: -mpmath.log1p(mpmath.exp(-z))),
        ("expon", "logcdf", 40.0, (), lambda z: mpmath.log1p(-mpmath.exp(-z))),
        ("expon", "logcdf", 1e-12, (), lambda z: mpmath.log(-mpmath.expm1(-z))),
        ("norm", "logcdf", -40.0, (), lambda z: mpmath.log(mpmath.ncdf(z))),
        ("norm", "logsf", -12.0, (), lambda z: mpmath.log(mpmath.ncdf(-z))),
        ("gamma", "logcdf", 60.0, (2.5,), lambda z: mpmath.log(mpmath.gammainc(2.5, 0, z, regularized=True))),
        ("lognorm", "logcdf", 1e-30, (0.8,), lambda z: mpmath.log(mpmath.ncdf(mpmath.log(z) / 0.8))),
    ],
)
def test_tails_keep_their_digits(name, kind, z, args, exact):
    ours = float(getattr(getattr(stats, name), kind)(z, *args))
    with mpmath.workdps(50):
        assert ours == pytest.approx(float(exact(mpmath.mpf(z))), rel=1e-12)


@pytest.mark.parametrize("name", sorted(CONTINUOUS))
def test_invalid_parameters_give_nan_as_scipy_and_leave_valid_entries_alone(name):
    shapes, kinds, _ = CONTINUOUS[name]
    fam, ref = getattr(stats, name), getattr(ss, name)
    scale = np.array([1.5, -1.0, 0.0, np.nan])
    with np.errstate(divide="ignore", invalid="ignore"):
        for kind in kinds:
            np.testing.assert_array_equal(np.isnan(getattr(fam, kind)(0.4, *shapes, scale=scale)),
                                          np.isnan(getattr(ref, kind)(0.4, *shapes, scale=scale)))
            for i in range(len(shapes)):  # each shape parameter out of its range
                bad = list(shapes)
                bad[i] = np.array([shapes[i], -1.0, np.nan])
                np.testing.assert_array_equal(np.isnan(getattr(fam, kind)(0.4, *bad)),
                                              np.isnan(getattr(ref, kind)(0.4, *bad)))

    def total(s):
        v = fam.logpdf(0.4, *shapes, scale=s)
        return snp.sum(snp.where(snp.isnan(v), 0.0, v))

    g = sl.grad(total)(scale)
    assert np.isfinite(g[0]) and g[0] != 0 and np.all(g[1:3] == 0)


@pytest.mark.parametrize("name, x", [("expon", -1.0), ("uniform", -0.5), ("uniform", 1.5), ("gamma", -0.5),
                                     ("lognorm", 0.0), ("lognorm", -2.0), ("chi2", -3.0)])
def test_outside_the_support_no_nan_reaches_the_gradient(name, x):
    shapes, kinds, _ = CONTINUOUS[name]
    fam = getattr(stats, name)
    for kind in kinds:
        assert getattr(fam, kind)(x, *shapes) == getattr(getattr(ss, name), kind)(x, *shapes)
        g = sl.grad(lambda x, loc, scale, k=kind: getattr(fam, k)(x, *shapes, loc, scale), argnums=(0, 1, 2))(
            x, 0.0, 1.0)
        assert all(float(v) == 0.0 for v in g), (kind, g)


@pytest.mark.parametrize("name, kind", CASES)
def test_derivatives_in_data_and_parameters(name, kind):
    shapes, _, support = CONTINUOUS[name]
    rng = np.random.default_rng(7)
    fn = getattr(getattr(stats, name), kind)
    loc, scale = np.full(5, 0.1) + 0.01 * rng.random(5), np.full(5, 1.2) + 0.01 * rng.random(5)
    x = loc + scale * _inside(rng, support)
    params = [np.full(5, v) + 0.05 * rng.random(5) for v in shapes]
    if (name, kind) in CONSTANT_SHAPE:
        check_derivatives(lambda x, loc, scale: fn(x, *params, loc, scale), x, loc, scale)
    else:
        check_derivatives(lambda x, loc, scale, *p: fn(x, *p, loc, scale), x, loc, scale, *params)


def test_norm_logpdf_gradient_equals_the_closed_form():
    x, mu, s = np.array([0.3, -1.2, 2.5]), np.array([0.1, 0.2, -0.3]), np.array([0.8, 1.3, 2.0])
    gx, gm, gs = sl.grad(lambda *a: snp.sum(stats.norm.logpdf(*a)), argnums=(0, 1, 2))(x, mu, s)
    z = (x - mu) / s
    np.testing.assert_allclose(gx, -z / s, rtol=1e-13)
    np.testing.assert_allclose(gm, z / s, rtol=1e-13)
    np.testing.assert_allclose(gs, (z * z - 1) / s, rtol=1e-13)


# the log density and the cdf of every family jax.scipy.stats has (the other functions are
# checked against finite differences above; each JAX function costs a compilation)
JAX_CASES = [(n, k) for n in CONTINUOUS if n != "lognorm" for k in ("logpdf", "cdf") if (n, k) != ("t", "cdf")]


def _jax_case(name, kind):
    """The arguments of a comparison with JAX, and which of them to differentiate."""
    shapes, _, support = CONTINUOUS[name]
    x = 0.2 + 1.3 * _inside(np.random.default_rng(5), support, 3)
    n = len(shapes)  # arguments: x, the shapes, loc, scale
    argnums = (0, n + 1, n + 2) if (name, kind) in CONSTANT_SHAPE else tuple(range(n + 3))
    return (x, *shapes, 0.2, 1.3), argnums


def _gradients(grad, module, cases, total):
    """Gradients of ``total(fn(*args))`` for each case, with ``grad`` (sl.grad or jax.grad)."""
    out = {}
    for (name, kind), (args, argnums) in cases.items():
        fn = getattr(getattr(module, name), kind)
        out[name, kind] = grad(lambda *a, fn=fn: total(fn(*a)), argnums=argnums)(*args)
    return out


def test_gradients_equal_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.scipy.stats as jst

    cases = {c: _jax_case(*c) for c in JAX_CASES}
    k = np.array([1.0, 2.0, 3.0, 7.0])
    # the discrete log-pmfs in k too (the analytic continuation, as JAX) and in every parameter
    for name, params in [("bernoulli", (0.3,)), ("geom", (0.3,)), ("poisson", (2.5,)), ("binom", (10.0, 0.4)),
                         ("nbinom", (4.0, 0.4))]:
        kk = np.array([0.0, 1.0, 1.0, 0.0]) if name == "bernoulli" else k
        cases[name, "logpmf"] = ((kk, *params), tuple(range(1 + len(params))))
    ours = _gradients(sl.grad, stats, cases, snp.sum)
    # one compiled program for all of JAX's gradients: compiling each alone costs seconds
    theirs = jax.jit(lambda: _gradients(jax.grad, jst, cases, lambda v: v.sum()))()
    for case, got in ours.items():
        for a, b in zip(got, theirs[case]):
            np.testing.assert_allclose(a, np.asarray(b), rtol=1e-9, atol=1e-14, err_msg=str(case))


def test_laplace_gradient_at_its_center_is_the_zero_subgradient():
    # logpdf = -|x - loc| - log 2 is concave with superdifferential [-1, 1] at its mode:
    # 0 (slopes' abs'(0)) is in it and makes the mode stationary; JAX gives the -1 end
    assert float(sl.grad(stats.laplace.logpdf)(0.5, 0.5)) == 0.0
    assert float(sl.grad(stats.laplace.logpdf, argnums=1)(0.5, 0.5)) == 0.0
    assert float(sl.grad(stats.laplace.logpdf)(0.5 + 1e-9, 0.5)) == -1.0
    # the cdf keeps its true derivative, the density 1/2, on both sides of the center
    assert float(sl.grad(stats.laplace.cdf)(0.0)) == 0.5


def test_taylor_coefficients_through_a_log_density():
    sympy = pytest.importorskip("sympy")
    z = sympy.Symbol("z")
    exact = {
        "logistic": -z - 2 * sympy.log(1 + sympy.exp(-z)),
        "cauchy": -sympy.log(sympy.pi) - sympy.log(1 + z**2),
        "norm": -(z**2) / 2 - sympy.log(2 * sympy.pi) / 2,
        # through slopes.scipy.special (gammaln, xlogy, betaln): shape parameters fixed
        "t": -sympy.Rational(11, 4) * sympy.log(1 + z**2 / sympy.Rational(9, 2)),
        "gamma": sympy.Rational(3, 2) * sympy.log(z) - z,
        "beta": sympy.log(z) + sympy.Rational(5, 2) * sympy.log(1 - z),
    }
    shapes = {"t": (4.5,), "gamma": (2.5,), "beta": (2.0, 3.5)}
    for name, expr in exact.items():
        fn = lambda x, f=getattr(stats, name).logpdf, p=shapes.get(name, ()): f(x, *p)
        for order in (2, 3, 4):
            want = float(sympy.diff(expr, z, order).subs(z, 0.7))
            assert float(sl.derivative(fn, order=order)(0.7)) == pytest.approx(want, rel=1e-10, abs=1e-12), name


@pytest.mark.parametrize("name, kind", [c for c in CASES if c[1] in ("logpdf", "logcdf", "sf")])
def test_float32_data_keeps_float32(name, kind):
    shapes, _, support = CONTINUOUS[name]
    x = (0.1 + 1.2 * _inside(np.random.default_rng(8), support, 4)).astype(np.float32)
    fn = lambda x: getattr(getattr(stats, name), kind)(x, *shapes, 0.1, 1.2)
    value, grad = fn(x), sl.grad(lambda x: snp.sum(fn(x)))(x)
    assert value.dtype == grad.dtype == np.float32
    wide = x.astype(np.float64)
    np.testing.assert_allclose(value, fn(wide), rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(grad, sl.grad(lambda x: snp.sum(fn(x)))(wide), rtol=2e-5, atol=1e-6)


def test_vmap_and_jit_through_the_families():
    rng = np.random.default_rng(3)
    xs, scales = rng.normal(size=(6, 4)), 1.0 + rng.random(6)

    def nll(x, s):
        return -snp.sum(stats.logistic.logpdf(x, 0.1, s) + stats.cauchy.logcdf(x, scale=s)
                        + stats.gamma.logsf(snp.abs(x), 2.5, scale=s) + stats.poisson.logpmf(3.0, s)
                        + stats.norm.logcdf(x, scale=s))

    g = sl.grad(nll, argnums=1)
    loop = np.array([g(x, s) for x, s in zip(xs, scales)])
    np.testing.assert_allclose(sl.vmap(g)(xs, scales), loop, rtol=1e-12)
    jitted = sl.jit(g)
    for x, s, want in zip(xs, scales, loop):
        np.testing.assert_allclose(jitted(x, s), want, rtol=1e-12)


def test_signature_errors_name_the_signature():
    with pytest.raises(TypeError, match=r"t.logpdf\(x, df, loc=0.0, scale=1.0\)"):
        stats.t.logpdf(0.5)
    with pytest.raises(TypeError, match="norm.logpdf"):
        stats.norm.logpdf(0.5, sigma=2.0)
    # positional loc and scale, and SciPy's keyword names
    assert float(stats.cauchy.logpdf(1.0, 0.5, 2.0)) == pytest.approx(ss.cauchy.logpdf(1.0, 0.5, 2.0), rel=1e-14)
    for name, kwargs in [("gamma", {"x": 1.0, "a": 2.0, "scale": 2.0}), ("poisson", {"k": 3, "mu": 2.5}),
                         ("binom", {"k": 3, "n": 10, "p": 0.4, "loc": 1}), ("t", {"x": 0.5, "df": 3.0, "loc": 1.0}),
                         ("beta", {"x": 0.3, "a": 2.0, "b": 3.0}), ("nbinom", {"k": 3, "n": 2.5, "p": 0.4})]:
        kind = "logpmf" if "k" in kwargs else "logpdf"
        ours = getattr(getattr(stats, name), kind)(**kwargs)
        assert float(ours) == pytest.approx(getattr(getattr(ss, name), kind)(**kwargs), rel=1e-13), name


# -- discrete --------------------------------------------------------------------------------------
K = np.array([-2.0, -0.5, 0.0, 0.5, 1.0, 1.7, 2.0, 3.0, 7.0, 12.0, 40.0])
PMF = ("logpmf", "pmf")

# name -> (parameter sets to compare with SciPy, the functions offered, which parameters
# are differentiable (their indices), a valid random draw of parameters for 5 points)
DISCRETE = {
    "bernoulli": ([(0.3,), (1.0,), (0.0,)], DISCRETE_KINDS, (0,), lambda r: (0.2 + 0.6 * r.random(5),)),
    "geom": ([(0.3,), (1.0,), (1e-3,)], DISCRETE_KINDS, (0,), lambda r: (0.2 + 0.6 * r.random(5),)),
    "poisson": ([(2.5,), (0.0,), (30.0,)], DISCRETE_KINDS, (0,), lambda r: (0.5 + 4 * r.random(5),)),
    "binom": ([(10, 0.4), (12, 1.0), (3, 0.0), (60, 0.02)], DISCRETE_KINDS, (1,),
              lambda r: (np.array([3.0, 5, 8, 12, 20]), 0.2 + 0.6 * r.random(5))),
    "nbinom": ([(4.0, 0.4), (2.5, 1.0), (0.7, 0.05)], DISCRETE_KINDS, (0, 1),
               lambda r: (0.5 + 4 * r.random(5), 0.2 + 0.6 * r.random(5))),
}
DISCRETE_CASES = [(n, p, k) for n, (ps, kinds, _, _) in DISCRETE.items() for p in ps for k in kinds]


@pytest.mark.parametrize("name, params, kind", DISCRETE_CASES)
def test_discrete_values_equal_scipy(name, params, kind):
    with np.errstate(divide="ignore", invalid="ignore"):
        ours = getattr(getattr(stats, name), kind)(K, *params, loc=0.0)
        ref = getattr(getattr(ss, name), kind)(K, *params)
    if name in EXACT_PMF and kind in ("logcdf", "logsf"):  # SciPy's log(1 - tiny) rounds: mpmath
        ref = [_exact_log_tail(name, params, k, upper=kind == "logsf") for k in K]
    np.testing.assert_allclose(ours, ref, rtol=1e-11, atol=1e-300)


EXACT_PMF = {
    "geom": (1, lambda j, p: (1 - p) ** (j - 1) * p),
    "binom": (0, lambda j, n, p: mpmath.binomial(n, j) * p**j * (1 - p) ** (n - j)),
    "nbinom": (0, lambda j, n, p: mpmath.binomial(n + j - 1, j) * p**n * (1 - p) ** j),
    "poisson": (0, lambda j, mu: mpmath.exp(-mu) * mu**j / mpmath.factorial(j)),
}


def _exact_log_tail(name, params, k, upper):
    """log P(K <= k) or log P(K > k), summed at 100 digits."""
    first, pmf = EXACT_PMF[name]
    last = math.floor(min(k, params[0])) if name == "binom" else math.floor(k)
    with mpmath.workdps(100):
        params = [mpmath.mpf(v) for v in params]
        cdf = mpmath.fsum(pmf(j, *params) for j in range(first, last + 1))
        tail = 1 - cdf if upper else cdf
        return -np.inf if tail == 0 else float(mpmath.log(tail))


@pytest.mark.parametrize("name, bad", [("bernoulli", [(1.5,), (-0.1,), (np.nan,)]),
                                       ("geom", [(0.0,), (1.5,), (np.nan,)]),
                                       ("poisson", [(-1.0,), (np.nan,)]),
                                       ("binom", [(-1, 0.5), (2.5, 0.5), (5, 1.5)]),
                                       ("nbinom", [(0.0, 0.5), (2.0, 0.0), (2.0, 1.5)])])
def test_discrete_invalid_parameters_give_nan_as_scipy(name, bad):
    for params in bad:
        for kind in DISCRETE[name][1]:
            # NaN throughout here; SciPy's pmf too, though its cdf side says 1 at or past the
            # top of a support that invalid parameters do not have (binom with n = -1)
            assert np.all(np.isnan(getattr(getattr(stats, name), kind)(K, *params)))
            if kind in PMF:
                assert np.isnan(getattr(getattr(ss, name), kind)(0.0 + (name == "geom"), *params))


@pytest.mark.parametrize("name, kind", [(n, k) for n, (_, kinds, _, _) in DISCRETE.items() for k in kinds])
def test_discrete_derivatives_in_the_parameters(name, kind):
    _, _, diff, draw = DISCRETE[name]
    if name == "nbinom" and kind not in PMF:
        diff = (1,)  # n is a shape of the incomplete beta function: constant
    params = draw(np.random.default_rng(9))
    if name == "geom":
        k = np.array([1.0, 2.0, 3.0, 5.0, 9.0])
    elif name == "bernoulli":  # below the top of the support, where cdf and sf depend on p
        k = np.array([0.0, 1.0, 0.0, 1.0, 0.0]) if kind in PMF else np.zeros(5)
    else:
        k = np.array([0.0, 1.0, 3.0, 2.0, 7.0])
    fn = getattr(getattr(stats, name), kind)

    def f(*varied):
        p = list(params)
        for i, v in zip(diff, varied):
            p[i] = v
        return fn(k, *p)

    check_derivatives(f, *[params[i] for i in diff])


def test_t_cdf_derivatives_at_and_near_its_center_equal_sympy():
    sympy = pytest.importorskip("sympy")
    z, nu = sympy.Symbol("z"), sympy.Rational(9, 2)
    pdf = sympy.gamma((nu + 1) / 2) / (sympy.sqrt(nu * sympy.pi) * sympy.gamma(nu / 2)) * (1 + z**2 / nu) ** (-(nu + 1) / 2)
    # the incomplete beta function sees z through z^2 (infinite derivatives at 0): a series there
    for at in (0.0, 1e-9, 1e-3, -0.05, 2.0):
        for order in (1, 2, 3):
            want = float(sympy.diff(pdf, z, order - 1).subs(z, at))
            got = float(sl.derivative(lambda x: stats.t.cdf(x, 4.5), order=order)(at))
            assert got == pytest.approx(want, rel=1e-9, abs=1e-13), (at, order)


def test_discrete_cdf_is_a_step_function_of_k():
    assert float(sl.grad(stats.poisson.cdf)(3.0, 2.5)) == 0.0
    assert float(sl.grad(stats.geom.sf)(3.5, 0.3)) == 0.0


def test_poisson_score_equals_closed_form():
    k, mu = np.array([0.0, 2.0, 5.0]), 2.5
    assert float(sl.grad(lambda m: snp.sum(stats.poisson.logpmf(k, m)))(mu)) == pytest.approx(
        np.sum(k / mu - 1), rel=1e-13)
    # P(K <= k) = Q(k + 1, mu): d/dmu = -pmf(k)
    assert float(sl.grad(lambda m: stats.poisson.cdf(3.0, m))(mu)) == pytest.approx(-ss.poisson.pmf(3, mu),
                                                                                     rel=1e-12)


def test_geom_score_equals_closed_form():
    k, p = np.array([1.0, 2.0, 6.0]), 0.3
    g = sl.grad(lambda p: snp.sum(stats.geom.logpmf(k, p)))(p)
    assert float(g) == pytest.approx(np.sum(1 / p - (k - 1) / (1 - p)), rel=1e-13)


# -- multivariate normal ---------------------------------------------------------------------------
S = np.array([[2.0, 0.6, 0.1], [0.6, 1.5, -0.3], [0.1, -0.3, 0.9]])
MU = np.array([0.2, -0.1, 0.4])


@pytest.mark.parametrize("x_shape", [(3,), (5, 3), (2, 4, 3), (1, 3)])
@pytest.mark.parametrize("cov", [S, np.diag(S), 1.7], ids=["full", "diagonal", "scalar"])
def test_multivariate_normal_values_equal_scipy(x_shape, cov):
    x = np.random.default_rng(1).normal(size=x_shape)
    for kind in ("logpdf", "pdf"):
        ours = getattr(stats.multivariate_normal, kind)(x, MU, cov)
        ref = getattr(ss.multivariate_normal, kind)(x, MU, cov)
        assert np.shape(ours) == np.shape(ref)
        np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_multivariate_normal_one_dimension_and_default_mean_read_as_scipy():
    x = np.array([0.3, -1.0, 2.0])
    np.testing.assert_allclose(stats.multivariate_normal.logpdf(x, cov=2.0),
                               ss.multivariate_normal.logpdf(x, cov=2.0), rtol=1e-13)
    np.testing.assert_allclose(stats.multivariate_normal.logpdf(x), ss.multivariate_normal.logpdf(x), rtol=1e-13)
    np.testing.assert_allclose(stats.multivariate_normal.logpdf(x, mean=np.zeros(3)),
                               ss.multivariate_normal.logpdf(x, mean=np.zeros(3)), rtol=1e-13)
    np.testing.assert_allclose(stats.multivariate_normal.logpdf(x, 0.5, np.diag([2.0])),
                               ss.multivariate_normal.logpdf(x, 0.5, np.diag([2.0])), rtol=1e-13)


def test_multivariate_normal_gradients_equal_the_closed_form():
    x = np.array([[0.5, -0.2, 1.0], [1.3, 0.4, -0.7]])
    f = lambda x, m, c: snp.sum(stats.multivariate_normal.logpdf(x, m, c))
    gx, gm, gc = sl.grad(f, argnums=(0, 1, 2))(x, MU, S)
    P = np.linalg.inv(S)
    r = x - MU
    np.testing.assert_allclose(gx, -r @ P, rtol=1e-12)
    np.testing.assert_allclose(gm, np.sum(r @ P, axis=0), rtol=1e-12)
    want = sum(0.5 * (P @ np.outer(ri, ri) @ P - P) for ri in r)
    np.testing.assert_allclose(gc, want, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("cov", [S, np.diag(S)], ids=["full", "diagonal"])
def test_multivariate_normal_derivatives_in_x_mean_and_cov(cov):
    x = np.random.default_rng(2).normal(size=(2, 3))
    # a symmetric direction for the full covariance: the density reads cov as symmetric
    sym = (lambda c: (c + c.T) / 2) if cov.ndim == 2 else (lambda c: c)
    check_derivatives(lambda x, m, c: stats.multivariate_normal.logpdf(x, m, sym(c)), x, MU, cov)


def test_multivariate_normal_refuses_bad_covariances_with_the_fix():
    with pytest.raises(ValueError, match="positive definite"):
        stats.multivariate_normal.logpdf(np.zeros(2), cov=np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="symmetric"):
        stats.multivariate_normal.logpdf(np.zeros(2), cov=np.array([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="variances"):
        stats.multivariate_normal.logpdf(np.zeros(2), np.zeros(2), np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="size of mean"):
        stats.multivariate_normal.logpdf(np.zeros(2), cov=np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="dimension 3"):
        stats.multivariate_normal.logpdf(np.zeros(3), MU, cov=np.eye(2))
    with pytest.raises(ValueError, match="last axis of length 3"):
        stats.multivariate_normal.logpdf(np.zeros((4, 2)), MU)
    with pytest.raises(NotImplementedError, match="identity"):
        stats.multivariate_normal.logpdf(np.zeros(3), MU, S, allow_singular=True)


def test_multivariate_normal_under_vmap_and_jit():
    xs = np.random.default_rng(4).normal(size=(5, 3))
    g = sl.grad(lambda m, x: stats.multivariate_normal.logpdf(x, m, S))
    loop = np.array([g(MU, x) for x in xs])
    np.testing.assert_allclose(sl.vmap(g, in_axes=(None, 0))(MU, xs), loop, rtol=1e-12)
    jitted = sl.jit(g)
    for x, want in zip(xs, loop):
        np.testing.assert_allclose(jitted(MU, x), want, rtol=1e-12)


# -- maximum likelihood: the motivating case -------------------------------------------------------
# name -> (true parameters, what scipy's fit holds fixed, theta -> parameters, starting theta);
# logs keep the positive parameters positive without bounds
FITS = {
    "gamma": ((2.5, 0.0, 1.7), {"floc": 0.0}, lambda th: (snp.exp(th[0]), 0.0, snp.exp(th[1])),
              lambda d: np.zeros(2)),
    "beta": ((2.0, 5.0, 0.0, 1.0), {"floc": 0.0, "fscale": 1.0},
             lambda th: (snp.exp(th[0]), snp.exp(th[1]), 0.0, 1.0), lambda d: np.zeros(2)),
    "t": ((4.0, 0.5, 1.3), {}, lambda th: (snp.exp(th[0]), th[1], snp.exp(th[2])),
          lambda d: np.array([np.log(5.0), np.median(d), 0.0])),
    "cauchy": ((1.5, 0.7), {}, lambda th: (th[0], snp.exp(th[1])), lambda d: np.array([np.median(d), 0.0])),
    "logistic": ((1.5, 0.7), {}, lambda th: (th[0], snp.exp(th[1])), lambda d: np.array([np.median(d), 0.0])),
}


@pytest.mark.parametrize("name", sorted(FITS))
def test_maximum_likelihood_fit_recovers_scipy_fit(name):
    truth, fixed, unpack, start = FITS[name]
    fam, ref = getattr(stats, name), getattr(ss, name)
    data = ref.rvs(*truth, size=400, random_state=5)

    def nll(theta):
        return -snp.sum(fam.logpdf(data, *unpack(theta)))

    res = sl.minimize(nll, start(data), method="lbfgs", gtol=1e-6)
    assert res.success, res.message
    ours = np.array([float(v) for v in unpack(res.x)])
    theirs = np.array(ref.fit(data, **fixed))
    # the same maximum, to the precision of SciPy's own optimizer
    np.testing.assert_allclose(ours, theirs, rtol=2e-3, atol=1e-6)
    assert float(res.fun) <= -np.sum(ref.logpdf(data, *theirs)) + 1e-7


# -- Dirichlet -------------------------------------------------------------------------------------
ALPHA = np.array([1.5, 2.0, 3.5])


@pytest.mark.parametrize("points", ["one", "many", "implied last"])
def test_dirichlet_values_equal_scipy(points):
    x = np.random.default_rng(6).dirichlet(ALPHA, size=4).T  # components on axis 0, as SciPy
    x = {"one": x[:, 0], "many": x, "implied last": x[:-1]}[points]
    for kind in ("logpdf", "pdf"):
        np.testing.assert_allclose(getattr(stats.dirichlet, kind)(x, ALPHA), getattr(ss.dirichlet, kind)(x, ALPHA),
                                   rtol=1e-12)


def test_dirichlet_gradients_equal_the_closed_form():
    x = np.random.default_rng(6).dirichlet(ALPHA, size=4).T
    gx, ga = sl.grad(lambda x, a: snp.sum(stats.dirichlet.logpdf(x, a)), argnums=(0, 1))(x, ALPHA)
    np.testing.assert_allclose(gx, (ALPHA[:, None] - 1) / x, rtol=1e-12)
    from scipy.special import digamma

    want = x.shape[1] * (digamma(ALPHA.sum()) - digamma(ALPHA)) + np.log(x).sum(axis=1)
    np.testing.assert_allclose(ga, want, rtol=1e-12)
    check_derivatives(lambda a: stats.dirichlet.logpdf(x, a), ALPHA)


def test_dirichlet_refuses_bad_input_with_the_fix():
    with pytest.raises(ValueError, match="concentration"):
        stats.dirichlet.logpdf([0.2, 0.8], [1.0, -1.0])
    with pytest.raises(ValueError, match="simplex"):
        stats.dirichlet.logpdf([0.2, 0.7, 0.3], ALPHA)
    with pytest.raises(ValueError, match="first axis"):
        stats.dirichlet.logpdf(np.full((4, 2), 0.25), ALPHA)
    with pytest.raises(ValueError, match="vector of k >= 2"):
        stats.dirichlet.logpdf([1.0], [2.0])


def test_multivariate_checks_read_each_example_under_vmap():
    covs = np.stack([S, 2 * S, 0.5 * S])
    x = np.array([0.3, -0.2, 0.1])
    want = [ss.multivariate_normal.logpdf(x, MU, c) for c in covs]
    np.testing.assert_allclose(sl.vmap(lambda c: stats.multivariate_normal.logpdf(x, MU, c))(covs), want,
                               rtol=1e-12)
    with pytest.raises(ValueError, match="positive definite"):
        sl.vmap(lambda c: stats.multivariate_normal.logpdf(x, MU, c))(np.stack([S, -S]))
    xs = np.random.default_rng(0).dirichlet(ALPHA, size=4)  # one point per row, mapped
    np.testing.assert_allclose(sl.vmap(lambda p: stats.dirichlet.logpdf(p, ALPHA))(xs),
                               [ss.dirichlet.logpdf(p, ALPHA) for p in xs], rtol=1e-12)


# -- multivariate normal entropy -----------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [{"cov": S}, {"mean": MU, "cov": S}, {"mean": MU, "cov": np.diag(S)}, {"mean": MU, "cov": 1.7},
     {"mean": MU}, {"cov": 2.5}, {}],
    ids=["full", "full_with_mean", "diagonal", "scalar", "mean_only", "scalar_only", "default"],
)
def test_multivariate_normal_entropy_equals_scipy(kwargs):
    np.testing.assert_allclose(stats.multivariate_normal.entropy(**kwargs),
                               ss.multivariate_normal.entropy(**kwargs), rtol=1e-14)


def test_multivariate_normal_entropy_gradient_is_half_the_precision():
    # d/dC log det(C) / 2 = C^-1 / 2 for a symmetric C; for variances v, 1 / (2 v)
    entropy = stats.multivariate_normal.entropy
    np.testing.assert_allclose(sl.grad(lambda c: entropy(cov=c))(S), 0.5 * np.linalg.inv(S), rtol=1e-12)
    v = np.diag(S)
    np.testing.assert_allclose(sl.grad(lambda c: entropy(MU, c))(v), 0.5 / v, rtol=1e-13)
    assert float(sl.grad(lambda c: entropy(MU, c))(1.7)) == pytest.approx(3 / (2 * 1.7), rel=1e-13)


@pytest.mark.parametrize("cov", [S, np.diag(S)], ids=["full", "diagonal"])
def test_multivariate_normal_entropy_derivatives_against_finite_differences(cov):
    sym = (lambda c: (c + c.T) / 2) if cov.ndim == 2 else (lambda c: c)
    check_derivatives(lambda c: stats.multivariate_normal.entropy(MU, sym(c)), cov)


def test_multivariate_normal_entropy_taylor_mode_along_a_direction():
    # log det(S + tE) / 2 has k-th derivative (-1)**(k-1) (k-1)! tr((S^-1 E)**k) / 2 at t = 0
    E = np.array([[0.3, -0.2, 0.1], [-0.2, 0.5, 0.0], [0.1, 0.0, -0.4]])
    M = np.linalg.solve(S, E)
    along = lambda t: stats.multivariate_normal.entropy(MU, S + t * E)  # noqa: E731
    for k in (1, 2, 3, 4):
        expected = (-1) ** (k - 1) * math.factorial(k - 1) * np.trace(np.linalg.matrix_power(M, k)) / 2
        assert float(sl.derivative(along, order=k)(0.0)) == pytest.approx(expected, rel=1e-10)


def test_multivariate_normal_entropy_under_vmap_and_jit():
    covs = np.stack([S, S + 0.5 * np.eye(3), 2.0 * S])
    g = sl.grad(lambda c: stats.multivariate_normal.entropy(cov=c))
    loop = np.array([g(c) for c in covs])
    np.testing.assert_allclose(sl.vmap(g)(covs), loop, rtol=1e-12)
    jitted = sl.jit(g)
    for c, want in zip(covs, loop):
        np.testing.assert_allclose(jitted(c), want, rtol=1e-12)


def test_multivariate_normal_entropy_derivatives_match_autograd():
    autograd = pytest.importorskip("autograd")
    from autograd.scipy.stats import multivariate_normal as ag

    V = np.array([[0.2, 0.1, 0.0], [0.1, -0.3, 0.2], [0.0, 0.2, 0.1]])  # a symmetric direction
    theirs = autograd.grad(lambda c: ag.entropy(MU, c))
    ours = sl.grad(lambda c: stats.multivariate_normal.entropy(MU, c))
    np.testing.assert_allclose(ours(S), theirs(S), rtol=1e-12)
    hv_theirs = autograd.grad(lambda c: np.sum(theirs(c) * V))(S)
    np.testing.assert_allclose(sl.hvp(lambda c: stats.multivariate_normal.entropy(MU, c), S, V), hv_theirs,
                               rtol=1e-10, atol=1e-13)


def test_multivariate_normal_entropy_refuses_bad_covariances_with_the_fix():
    with pytest.raises(ValueError, match="positive definite"):
        stats.multivariate_normal.entropy(cov=np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="dimension 3"):
        stats.multivariate_normal.entropy(MU, np.eye(2))
    with pytest.raises(NotImplementedError, match="identity"):
        stats.multivariate_normal.entropy(MU, S, allow_singular=True)


def test_jit_replays_keep_the_support_and_validity_masks_its_trace_did_not_need():
    # traced where every point is inside the support and every parameter valid; replayed
    # where neither holds: SciPy's -inf, 0 and NaN come back, with zero gradients there
    lpdf = sl.jit(lambda x, a: stats.gamma.logpdf(x, a))
    cdf = sl.jit(lambda x, mu: stats.poisson.cdf(x, mu))
    grad = sl.jit(sl.grad(lambda x, a: snp.sum(stats.gamma.logpdf(x, a))))
    lpmf = sl.jit(lambda k: stats.poisson.logpmf(k, 2.0))
    inside, a = np.array([1.0, 2.0, 0.5]), np.array([2.0, 3.0, 1.5])
    np.testing.assert_allclose(lpdf(inside, a), ss.gamma.logpdf(inside, a), rtol=1e-13)
    np.testing.assert_allclose(cdf(inside, a), ss.poisson.cdf(inside, a), rtol=1e-13)
    np.testing.assert_allclose(grad(inside, a), (a - 1) / inside - 1, rtol=1e-13)
    np.testing.assert_allclose(lpmf(inside), ss.poisson.logpmf(inside, 2.0), rtol=1e-13)
    outside, bad = np.array([-1.0, 2.0, 0.5]), np.array([2.0, -3.0, 1.5])
    np.testing.assert_array_equal(lpdf(outside, bad), ss.gamma.logpdf(outside, bad))
    np.testing.assert_array_equal(cdf(outside, bad), ss.poisson.cdf(outside, bad))
    np.testing.assert_array_equal(grad(outside, bad)[:2], [0.0, 0.0])
    np.testing.assert_array_equal(lpmf(np.array([-1.0, 2.5, 1.0]))[:2], [-np.inf, -np.inf])
