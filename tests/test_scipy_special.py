"""slopes.scipy.special: values equal SciPy's; derivatives against independent references.

References: central finite differences (``tests/checks.py``, plain NumPy) for first and
second derivatives in forward and reverse mode; sympy's symbolic derivatives for Taylor
mode up to order 4; mpmath at high precision for the tails; the peers' own rules
(``autograd.scipy.special``, ``jax.scipy.special``, when installed) for first and second
derivatives and for the conventions at singular points.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sy
from checks import check_derivatives
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from scipy import special as sc

import slopes as sl
from slopes.scipy import special as S

FAST = settings(max_examples=3, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate))
SHAPES = [(), (3,), (2, 3)]


def uniform(lo, hi):
    return lambda rng, shape: lo + (hi - lo) * rng.random(shape)


# name -> (slopes function of its differentiable arguments, SciPy's, a sampler per argument);
# a constant argument (polygamma's n, gammainc's a, zeta's x, a Bessel order) is fixed here
CASES = {
    "gammaln": (S.gammaln, sc.gammaln, [uniform(0.3, 6)]),
    "digamma": (S.digamma, sc.digamma, [uniform(0.3, 6)]),
    "psi": (S.psi, sc.psi, [uniform(0.3, 6)]),
    "polygamma": (lambda x: S.polygamma(2, x), lambda x: sc.polygamma(2, x), [uniform(0.5, 5)]),
    "gamma": (S.gamma, sc.gamma, [uniform(0.5, 4)]),
    # rgamma across the poles of gamma at 0, -1, -2, -3 (it is entire); gammasgn between them
    "rgamma": (S.rgamma, sc.rgamma, [uniform(-3.8, 3)]),
    "gammasgn": (S.gammasgn, sc.gammasgn, [uniform(-3.8, 3)]),
    "multigammaln": (lambda a: S.multigammaln(a, 3), lambda a: sc.multigammaln(a, 3), [uniform(1.5, 5)]),
    "beta": (S.beta, sc.beta, [uniform(0.5, 4), uniform(0.5, 4)]),
    "betaln": (S.betaln, sc.betaln, [uniform(0.5, 6), uniform(0.5, 6)]),
    "gammainc": (lambda x: S.gammainc(2.5, x), lambda x: sc.gammainc(2.5, x), [uniform(0.3, 6)]),
    "gammaincc": (lambda x: S.gammaincc(0.7, x), lambda x: sc.gammaincc(0.7, x), [uniform(0.3, 6)]),
    "betainc": (lambda x: S.betainc(2.5, 1.5, x), lambda x: sc.betainc(2.5, 1.5, x), [uniform(0.05, 0.95)]),
    "betaincc": (
        lambda x: S.betaincc(0.8, 3.0, x), lambda x: sc.betaincc(0.8, 3.0, x), [uniform(0.05, 0.95)]
    ),
    "zeta": (lambda q: S.zeta(3.0, q), lambda q: sc.zeta(3.0, q), [uniform(0.5, 4)]),
    "erf": (S.erf, sc.erf, [uniform(-2.5, 2.5)]),
    "erfc": (S.erfc, sc.erfc, [uniform(-2.5, 2.5)]),
    "erfinv": (S.erfinv, sc.erfinv, [uniform(-0.9, 0.9)]),
    "erfcinv": (S.erfcinv, sc.erfcinv, [uniform(0.1, 1.9)]),
    "ndtr": (S.ndtr, sc.ndtr, [uniform(-3, 3)]),
    "ndtri": (S.ndtri, sc.ndtri, [uniform(0.05, 0.95)]),
    "log_ndtr": (S.log_ndtr, sc.log_ndtr, [uniform(-12, 4)]),
    "expit": (S.expit, sc.expit, [uniform(-6, 6)]),
    "logit": (S.logit, sc.logit, [uniform(0.1, 0.9)]),
    "log_expit": (S.log_expit, sc.log_expit, [uniform(-8, 8)]),
    "xlogy": (S.xlogy, sc.xlogy, [uniform(-2, 2), uniform(0.3, 4)]),
    "xlog1py": (S.xlog1py, sc.xlog1py, [uniform(-2, 2), uniform(-0.6, 4)]),
    "entr": (S.entr, sc.entr, [uniform(0.1, 3)]),
    "rel_entr": (S.rel_entr, sc.rel_entr, [uniform(0.1, 3), uniform(0.1, 3)]),
    "kl_div": (S.kl_div, sc.kl_div, [uniform(0.1, 3), uniform(0.1, 3)]),
    "i0": (S.i0, sc.i0, [uniform(-3, 3)]),
    "i1": (S.i1, sc.i1, [uniform(-3, 3)]),
    "i0e": (S.i0e, sc.i0e, [uniform(0.2, 4)]),
    "i1e": (S.i1e, sc.i1e, [uniform(-4, -0.2)]),
    "j0": (S.j0, sc.j0, [uniform(-4, 4)]),
    "j1": (S.j1, sc.j1, [uniform(-4, 4)]),
    "y0": (S.y0, sc.y0, [uniform(0.5, 4)]),
    "y1": (S.y1, sc.y1, [uniform(0.5, 4)]),
    "iv": (lambda z: S.iv(1.5, z), lambda z: sc.iv(1.5, z), [uniform(0.2, 3)]),
    "ive": (lambda z: S.ive(2.0, z), lambda z: sc.ive(2.0, z), [uniform(-3, 3)]),
    "jv": (lambda z: S.jv(2.5, z), lambda z: sc.jv(2.5, z), [uniform(0.2, 4)]),
    "yv": (lambda z: S.yv(1.5, z), lambda z: sc.yv(1.5, z), [uniform(0.5, 4)]),
    "jn": (lambda z: S.jn(3, z), lambda z: sc.jn(3, z), [uniform(-4, 4)]),
    "yn": (lambda z: S.yn(2, z), lambda z: sc.yn(2, z), [uniform(0.5, 4)]),
    "logsumexp": (S.logsumexp, sc.logsumexp, [uniform(-3, 3)]),
    "logsumexp_b": (
        lambda a, b: S.logsumexp(a, b=b),
        lambda a, b: sc.logsumexp(a, b=b),
        [uniform(-3, 3), uniform(0.2, 2)],
    ),
    "softmax": (S.softmax, sc.softmax, [uniform(-3, 3)]),
    "log_softmax": (S.log_softmax, sc.log_softmax, [uniform(-3, 3)]),
}


def draw(name, seed, shape):
    rng = np.random.default_rng(seed)
    return [sample(rng, shape) for sample in CASES[name][2]]


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("shape", SHAPES)
def test_values_equal_scipy(name, shape):
    fn, ref, _ = CASES[name]
    args = draw(name, 1, shape)
    np.testing.assert_allclose(fn(*args), ref(*args), rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("name", sorted(CASES))
@FAST
@given(seed=st.integers(0, 2**32 - 1), shape=st.sampled_from(SHAPES[1:]))
def test_derivatives_against_finite_differences(name, seed, shape):
    # forward and reverse, first and second order (fwd-over-rev, rev-over-rev)
    check_derivatives(CASES[name][0], *draw(name, seed, shape), seed=seed, rtol=2e-5, atol=1e-7)


# -- Taylor mode against sympy's symbolic derivatives, up to order 4 ---------------------------
x_ = sy.Symbol("x")
SYMPY = {
    "gammaln": (sy.loggamma(x_), 2.3),
    "digamma": (sy.polygamma(0, x_), 1.7),
    "polygamma": (sy.polygamma(2, x_), 1.3),
    "gamma": (sy.gamma(x_), 2.2),
    "rgamma": (1 / sy.gamma(x_), -1.3),  # the reflection branch
    "gammainc": (sy.lowergamma(sy.Rational(5, 2), x_) / sy.gamma(sy.Rational(5, 2)), 1.4),
    "gammaincc": (sy.uppergamma(sy.Rational(7, 10), x_) / sy.gamma(sy.Rational(7, 10)), 1.4),
    "zeta": (sy.zeta(3, x_), 1.6),
    "betainc": (sy.betainc_regularized(sy.Rational(5, 2), sy.Rational(3, 2), 0, x_), 0.4),
    "log_expit": (-sy.log(1 + sy.exp(-x_)), -1.2),
    "erf": (sy.erf(x_), 0.4),
    "erfc": (sy.erfc(x_), -0.6),
    "erfinv": (sy.erfinv(x_), 0.3),
    "erfcinv": (sy.erfinv(1 - x_), 0.7),  # sympy evaluates erfcinv itself as complex
    "ndtr": ((1 + sy.erf(x_ / sy.sqrt(2))) / 2, -0.8),
    "ndtri": (sy.sqrt(2) * sy.erfinv(2 * x_ - 1), 0.8),
    "log_ndtr": (sy.log((1 + sy.erf(x_ / sy.sqrt(2))) / 2), -1.5),
    "expit": (1 / (1 + sy.exp(-x_)), 0.9),
    "logit": (sy.log(x_ / (1 - x_)), 0.3),
    "entr": (-x_ * sy.log(x_), 0.7),
    "i0": (sy.besseli(0, x_), 1.2),
    "i1": (sy.besseli(1, x_), 0.0),  # at 0, where I_1' = I_0 - I_1/x is 0/0
    "i0e": (sy.exp(-x_) * sy.besseli(0, x_), 1.1),
    "i1e": (sy.exp(x_) * sy.besseli(1, x_), -0.9),
    "j0": (sy.besselj(0, x_), 1.3),
    "j1": (sy.besselj(1, x_), 0.0),
    "y0": (sy.bessely(0, x_), 1.3),
    "y1": (sy.bessely(1, x_), 2.1),
    "iv": (sy.besseli(sy.Rational(3, 2), x_), 0.8),
    "jv": (sy.besselj(sy.Rational(5, 2), x_), 1.9),
    "jn": (sy.besselj(3, x_), -1.1),
    "yn": (sy.bessely(2, x_), 1.7),
}


@pytest.mark.parametrize("name", sorted(SYMPY))
def test_taylor_mode_matches_sympy(name):
    expr, x0 = SYMPY[name]
    fn = CASES[name][0]
    for order in (3, 4):
        expected = float(sy.N(sy.diff(expr, x_, order).subs(x_, x0), 30))
        got = float(sl.derivative(fn, order=order)(x0))
        assert got == pytest.approx(expected, rel=1e-8, abs=1e-10), (name, order)


# two-argument functions along the line (a, b) = (1.3 + t, 0.8 + 2t), and multigammaln
t_ = sy.Symbol("t")
a_, b_ = sy.Rational(13, 10) + t_, sy.Rational(4, 5) + 2 * t_
SYMPY_LINE = {
    "betaln": sy.loggamma(a_) + sy.loggamma(b_) - sy.loggamma(a_ + b_),
    "beta": sy.gamma(a_) * sy.gamma(b_) / sy.gamma(a_ + b_),
    "xlogy": a_ * sy.log(b_),
    "xlog1py": a_ * sy.log(1 + b_),
    "rel_entr": a_ * sy.log(a_ / b_),
    "kl_div": a_ * sy.log(a_ / b_) - a_ + b_,
    "multigammaln": sy.log(sy.pi) * sy.Rational(3, 2)
    + sum(sy.loggamma(2 + a_ - sy.Rational(j, 2)) for j in range(3)),
}


@pytest.mark.parametrize("name", sorted(SYMPY_LINE))
def test_taylor_mode_along_a_line_matches_sympy(name):
    fn = CASES[name][0]
    if name == "multigammaln":
        along = lambda t: fn(3.3 + t)  # noqa: E731  (a = 2 + a_)
    else:
        along = lambda t: fn(1.3 + t, 0.8 + 2 * t)  # noqa: E731
    for order in (3, 4):
        expected = float(sy.N(sy.diff(SYMPY_LINE[name], t_, order).subs(t_, 0), 30))
        got = float(sl.derivative(along, order=order)(0.0))
        assert got == pytest.approx(expected, rel=1e-8), (name, order)


# -- vmap and jit ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CASES))
def test_vmap_and_jit_of_gradients(name):
    fn = CASES[name][0]
    args = draw(name, 2, (3, 4))  # a batch of 3 examples of shape (4,)
    argnums = tuple(range(len(args)))

    def loss(*xs):
        return sl.numpy.sum(fn(*xs) ** 2)

    per_example = [sl.grad(loss, argnums=argnums)(*[a[k] for a in args]) for k in range(3)]
    batched = sl.vmap(sl.grad(loss, argnums=argnums))(*args)
    jitted = sl.jit(sl.grad(loss, argnums=argnums))
    for i in argnums:
        np.testing.assert_allclose(batched[i], np.stack([g[i] for g in per_example]), rtol=1e-12)
        np.testing.assert_allclose(jitted(*[a[0] for a in args])[i], per_example[0][i], rtol=1e-12)
    np.testing.assert_allclose(sl.jit(fn)(*args), CASES[name][1](*args), rtol=1e-13)


# -- peers: jax.scipy.special and autograd.scipy.special, their own derivative rules ------------------
# how a case calls the peer's function of the same name: (leading constants, trailing constants)
PEER_ARGS = {
    "polygamma": ((2,), ()),
    "multigammaln": ((), (3,)),
    "gammainc": ((2.5,), ()),
    "gammaincc": ((0.7,), ()),
    "betainc": ((2.5, 1.5), ()),
    "iv": ((1.5,), ()),
    "ive": ((2.0,), ()),
    "jn": ((3,), ()),
    "yn": ((2,), ()),
}
# JAX (each name costs a compilation): those autograd lacks; autograd: all the names it has
JAX_NAMES = ["entr", "i0e", "i1e", "kl_div", "log_ndtr", "rel_entr", "xlog1py", "xlogy"]
AUTOGRAD_NAMES = ["beta", "betainc", "betaln", "digamma", "erf", "erfc", "erfcinv", "erfinv", "expit",
                  "gamma", "gammainc", "gammaincc", "gammaln", "i0", "i1", "iv", "ive", "j0",
                  "j1", "jn", "logit", "logsumexp", "multigammaln", "polygamma", "rgamma", "y0", "y1",
                  "yn"]


def assert_derivatives_match_peer(name, module, peer_grad, compile=lambda f: f):
    """First and second derivatives in each argument equal the peer's ``peer_grad(f, i)``."""
    lead, trail = PEER_ARGS.get(name, ((), ()))
    theirs = getattr(module, name)
    args = [float(a) for a in draw(name, 3, ())]
    for i in range(len(args)):
        d1 = peer_grad(lambda *xs: theirs(*lead, *xs, *trail), i)
        d2 = peer_grad(d1, i)
        first, second = compile(lambda *xs: (d1(*xs), d2(*xs)))(*args)
        g1 = sl.grad(CASES[name][0], argnums=i)
        assert float(g1(*args)) == pytest.approx(float(first), rel=1e-9, abs=1e-12)
        assert float(sl.grad(g1, argnums=i)(*args)) == pytest.approx(float(second), rel=1e-8, abs=1e-12)


@pytest.fixture(scope="module")
def jax_special():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.scipy.special as js

    return jax, js


@pytest.mark.parametrize("name", JAX_NAMES)
def test_first_and_second_derivatives_match_jax(name, jax_special):
    jax, js = jax_special
    assert_derivatives_match_peer(name, js, lambda f, i: jax.grad(f, argnums=i), compile=jax.jit)


@pytest.mark.parametrize("name", AUTOGRAD_NAMES)
def test_first_and_second_derivatives_match_autograd(name):
    autograd = pytest.importorskip("autograd")
    import autograd.scipy.special as ag

    assert_derivatives_match_peer(name, ag, autograd.grad)


# -- conventions at singular points and in the tails ---------------------------------------------
def test_xlogy_and_xlog1py_at_x_zero_are_zero_with_finite_derivatives():
    # the functions are identically 0 along x = 0, so the y-derivative there is exactly 0
    for f, y0 in ((S.xlogy, 0.0), (S.xlog1py, -1.0)):
        assert float(f(0.0, y0)) == 0.0
        assert float(sl.grad(f, argnums=1)(0.0, y0)) == 0.0
        assert float(sl.hessian(lambda y: f(0.0, y))(y0)) == 0.0
    # at x = 0 the Hessian is the closed form [[0, 1/y], [1/y, -x/y**2]] = [[0, 1/y], [1/y, 0]]
    for f, y0, shift in ((S.xlogy, 2.0, 0.0), (S.xlog1py, 2.0, 1.0)):
        h = sl.hessian(lambda v: f(v[0], v[1]))(np.array([0.0, y0]))
        np.testing.assert_allclose(h, [[0.0, 1 / (y0 + shift)], [1 / (y0 + shift), 0.0]], rtol=1e-15)
    # d/dx xlogy(x, y) = log y, also at x = 0
    assert float(sl.grad(S.xlogy)(0.0, 2.0)) == pytest.approx(math.log(2.0))
    # a where() around xlogy does not leak the y = 0 singularity of the branch not taken
    with np.errstate(divide="ignore", invalid="ignore"):  # xlogy(2, 0) is still evaluated
        g = sl.grad(lambda y: sl.numpy.sum(sl.numpy.where(y > 0, S.xlogy(2.0, y), 0.0)))(np.array([0.0, 1.0]))
    np.testing.assert_array_equal(g, [0.0, 2.0])


def test_gammainc_derivative_at_zero_is_the_limit_of_the_density():
    # d/dx P(a, x) = x**(a-1) e**-x / Gamma(a) at x = 0: 1 for a = 1, 0 for a > 1, +inf for a < 1
    with np.errstate(divide="ignore"):
        slopes_at_0 = [float(sl.grad(S.gammainc, argnums=1)(a, 0.0)) for a in (1.0, 2.0, 0.5)]
    assert slopes_at_0 == [1.0, 0.0, math.inf]
    assert float(sl.grad(S.gammaincc, argnums=1)(1.0, 0.0)) == -1.0


def test_relative_entropy_at_p_zero_is_finite():
    # p = 0 entries of a distribution: rel_entr is the constant 0 in p there, kl_div adds -p + q
    p, q = np.array([0.0, 0.25, 0.75]), np.array([0.2, 0.3, 0.5])
    g = sl.grad(lambda p: sl.numpy.sum(S.rel_entr(p, q)))(p)
    np.testing.assert_allclose(g, [0.0, math.log(0.25 / 0.3) + 1, math.log(0.75 / 0.5) + 1], rtol=1e-14)
    g = sl.grad(lambda q: sl.numpy.sum(S.kl_div(p, q)))(q)
    np.testing.assert_allclose(g, [1.0, 1 - 0.25 / 0.3, 1 - 0.75 / 0.5], rtol=1e-14)


def test_relative_entropy_off_the_open_domain_follows_jax(jax_special):
    jax, js = jax_special
    # the edge x = 0 <= y, and points where the value is inf (y = 0 < x, x < 0)
    x, y = np.array([0.0, 0.0, 1.0, -1.0]), np.array([0.5, 0.0, 0.0, 2.0])
    for ours, theirs in ((S.rel_entr, js.rel_entr), (S.kl_div, js.kl_div)):
        np.testing.assert_array_equal(ours(x, y), getattr(sc, ours.__name__)(x, y))
        grads = jax.jit(jax.vmap(jax.grad(theirs, argnums=(0, 1))))(x, y)  # one compilation
        for i in (0, 1):
            np.testing.assert_array_equal(sl.vmap(sl.grad(ours, argnums=i))(x, y), grads[i])


def test_entr_at_zero():
    assert float(S.entr(0.0)) == 0.0
    with np.errstate(divide="ignore"):
        assert float(sl.grad(S.entr)(0.0)) == math.inf  # the one-sided slope of -x log x at 0+


def test_log_ndtr_derivatives_far_in_the_left_tail_match_mpmath():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 50
    for x in (-40.0, -200.0):
        reference = mp.npdf(x) / mp.ncdf(x)  # (log ncdf)' at 50 digits
        second = mp.diff(lambda t: mp.log(mp.ncdf(t)), x, 2)
        assert float(sl.grad(S.log_ndtr)(x)) == pytest.approx(float(reference), rel=1e-12)
        assert float(sl.derivative(S.log_ndtr, order=2)(x)) == pytest.approx(float(second), rel=1e-8)


def test_expit_derivative_keeps_relative_accuracy_in_both_tails():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 50
    for x in (-700.0, 40.0, 700.0):
        s = 1 / (1 + mp.exp(-x))
        assert float(sl.grad(S.expit)(x)) == pytest.approx(float(s * (1 - s)), rel=1e-12)


def test_rgamma_at_the_poles_of_gamma_is_zero_with_factorial_derivatives():
    # near x = -n, gamma(x) ~ (-1)**n / (n! (x + n)): rgamma is 0 there with slope (-1)**n n!,
    # where -digamma * rgamma would be inf * 0 (autograd's rule gives NaN)
    n = np.arange(6)
    x = -n.astype(float)
    assert np.all(S.rgamma(x) == 0.0)
    slope = sl.vmap(sl.grad(S.rgamma))(x)
    np.testing.assert_allclose(slope, (-1.0) ** n * sc.factorial(n), rtol=1e-12)
    # the second derivative there: 1/gamma(-n + e) = (-1)**n n! (e - psi(n + 1) e**2 + O(e**3))
    # (the reflection formula expanded), psi(n + 1) = H_n - Euler's gamma
    for k in (0, 2, 3):
        expected = float(-2 * (-1) ** k * sy.factorial(k) * (sy.harmonic(k) - sy.EulerGamma))
        assert float(sl.derivative(S.rgamma, order=2)(-float(k))) == pytest.approx(expected, rel=1e-10)


def test_gammasgn_is_the_sign_of_gamma_with_zero_derivative():
    x = np.array([-3.5, -2.5, -1.5, -0.5, 0.5, 7.0])
    np.testing.assert_array_equal(S.gammasgn(x), np.sign(sc.gamma(x)))
    np.testing.assert_array_equal(sl.vmap(sl.grad(S.gammasgn))(x), 0.0)
    # gamma = gammasgn * exp(gammaln), derivatives included
    def rebuilt(t):
        return S.gammasgn(t) * sl.numpy.exp(S.gammaln(t))

    np.testing.assert_allclose(sl.vmap(sl.grad(rebuilt))(x), sl.vmap(sl.grad(S.gamma))(x), rtol=1e-12)


def test_integer_order_bessel_refuses_a_fractional_order():
    for fn in (S.jn, S.yn):
        with pytest.raises(ValueError, match=r"integer order n.*\(\) for a real order"):
            fn(2.5, 1.0)
    assert float(S.jn(2.0, 1.0)) == sc.jv(2, 1.0)  # a whole float is an integer order


def test_bessel_first_derivatives_at_zero():
    # I_1'(0) = J_1'(0) = 1/2 (the limit of I_0 - I_1/x); i0e's kink at 0 gets 0, as in JAX
    for f in (S.i1, S.j1, S.i1e):
        assert float(sl.grad(f)(0.0)) == 0.5
    assert float(sl.grad(S.i0e)(0.0)) == 0.0


@pytest.mark.parametrize(
    "b, axis, keepdims",
    [(None, None, False), (np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 3.0]]), 1, False),
     (np.array([2.0, 0.0, 1.0]), 0, True), (np.array([1.0, -1.0, 0.5]), None, False)],
)
def test_logsumexp_with_weights_and_sign_equals_scipy(b, axis, keepdims):
    a = np.array([[0.5, 1.0, -2.0], [1000.0, 3.0, -1.0]])
    out, sign = S.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)
    ref_out, ref_sign = sc.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)
    np.testing.assert_allclose(out, ref_out, rtol=1e-13)
    np.testing.assert_array_equal(sign, ref_sign)


def test_logsumexp_degenerate_cases_follow_scipy():
    assert float(S.logsumexp(np.array([-np.inf, -np.inf]))) == -np.inf
    assert float(S.logsumexp(np.array([1.0, 5.0]), b=np.array([1.0, 0.0]))) == pytest.approx(1.0)
    with np.errstate(invalid="ignore"):
        assert np.isnan(S.logsumexp(np.array([1.0, 2.0]), b=np.array([1.0, -1.0])))
    # the gradient in a zero weight is exp(a) / sum: finite, the cancelled term's share
    g = sl.grad(lambda b: S.logsumexp(np.array([0.0, 0.0]), b=b))(np.array([1.0, 0.0]))
    np.testing.assert_allclose(g, [1.0, 1.0])


def test_softmax_uses_scipys_default_axis():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(S.softmax(x), sc.softmax(x), rtol=1e-14)
    assert float(np.sum(S.softmax(x))) == pytest.approx(1.0)
    np.testing.assert_allclose(S.log_softmax(x, axis=-1), sc.log_softmax(x, axis=-1), rtol=1e-14)


# -- arguments without a derivative, and bad input ------------------------------------------------
@pytest.mark.parametrize(
    "fn, args",
    [(S.polygamma, (1.0, 2.0)), (S.gammainc, (2.0, 1.0)), (S.gammaincc, (2.0, 1.0)), (S.zeta, (3.0, 1.0)),
     (S.jv, (1.0, 2.0)), (S.jn, (1.0, 2.0)), (S.betainc, (2.0, 1.0, 0.5)), (S.betaincc, (2.0, 1.0, 0.5))],
)
def test_constant_arguments_refuse_derivatives_by_name(fn, args):
    with pytest.raises(TypeError, match=r"not differentiable in the (order|shape|exponent) .*stop_gradient"):
        sl.grad(fn, argnums=0)(*args)
    with pytest.raises(TypeError, match=r"not differentiable in the (order|shape|exponent) .*stop_gradient"):
        sl.jvp(lambda a: fn(a, *args[1:]), (args[0],), (1.0,))


def test_bad_input_gets_a_clear_error():
    with pytest.raises(TypeError, match="real numbers.*dtype=float"):
        S.gammaln(np.array(["a"]))
    with pytest.raises(ValueError, match="non-negative integer"):
        S.polygamma(1.5, 2.0)
    with pytest.raises(ValueError, match="positive integer"):
        S.multigammaln(3.0, 0)
    with pytest.raises(ValueError, match=r"greater than \(d - 1\) / 2"):
        S.multigammaln(0.5, 3)


@pytest.mark.parametrize(
    "name", ["gammaln", "digamma", "polygamma", "erfinv", "log_ndtr", "expit", "i1e", "j1"]
)
def test_float32_in_float32_out_to_second_order(name):
    fn = CASES[name][0]
    x64 = draw(name, 4, (3,))[0]
    x32 = x64.astype(np.float32)

    def total(x):
        return sl.numpy.sum(fn(x))

    # float64 is checked against independent references above; float32 must follow it
    for op in (fn, sl.grad(total), sl.hessian(total)):
        got = op(x32)
        assert got.dtype == np.float32, name
        np.testing.assert_allclose(got, op(x64), rtol=2e-5, atol=1e-6)
