"""``slopes.integrate.odeint``: SciPy's values; gradients by the adjoint method checked against
a forward-sensitivity solve (``jacfwd``), central finite differences and closed forms; second
and third derivatives (Hessians, Taylor mode) against finite differences and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
from checks import check_derivatives

import slopes as sl
import slopes.numpy as snp
from slopes.integrate import odeint

TIGHT = dict(rtol=1e-11, atol=1e-12)


def lotka_volterra(y, t, alpha, beta, delta, gamma):
    prey, predator = y[0], y[1]
    return snp.stack([alpha * prey - beta * prey * predator, delta * prey * predator - gamma * predator])


def forced_oscillator(y, t, zeta, omega):
    """Damped oscillator pushed by a force depending on time (a non-autonomous system)."""
    return snp.stack([y[1], -2.0 * zeta * omega * y[1] - omega**2 * y[0] + snp.sin(1.3 * t)])


LV_ARGS = (1.0, 0.4, 0.3, 0.8)


def test_values_equal_scipy():
    y0, t = np.array([10.0, 5.0]), np.linspace(0.0, 5.0, 11)
    plain = lambda y, t, *a: np.array(lotka_volterra(y, t, *a))  # noqa: E731
    expected = scipy.integrate.odeint(plain, y0, t, args=LV_ARGS, **TIGHT)
    np.testing.assert_allclose(odeint(lotka_volterra, y0, t, args=LV_ARGS, **TIGHT), expected, rtol=1e-12)


def test_linear_system_matches_matrix_exponential_and_its_gradients():
    """y' = A y: y(t) = expm(t A) y0; gradients in y0 and A against those through expm."""
    from slopes.scipy.linalg import expm

    rng = np.random.default_rng(0)
    a, y0, w = rng.standard_normal((3, 3)) / 3, rng.standard_normal(3), rng.standard_normal(3)
    t = np.array([0.0, 0.7, 1.5])
    ours = lambda y0, a: w @ odeint(lambda y, t, a: a @ y, y0, t, args=(a,), **TIGHT)[-1]  # noqa: E731
    exact = lambda y0, a: w @ expm(1.5 * a) @ y0  # noqa: E731
    np.testing.assert_allclose(ours(y0, a), exact(y0, a), rtol=1e-9)
    for g, e in zip(sl.grad(ours, argnums=(0, 1))(y0, a), sl.grad(exact, argnums=(0, 1))(y0, a)):
        np.testing.assert_allclose(g, e, rtol=1e-8, atol=1e-10)


def _oscillator(y0, t, zeta, omega):
    return odeint(forced_oscillator, y0, t, args=(zeta, omega), **TIGHT)


def test_adjoint_equals_forward_sensitivities_and_finite_differences():
    y0, t, zeta, omega = np.array([1.0, -0.5]), np.array([0.2, 0.9, 1.7, 2.5]), 0.3, 1.4
    args = (y0, t, zeta, omega)
    argnums = (0, 1, 2, 3)
    adjoint = sl.jacrev(_oscillator, argnums=argnums)(*args)
    sensitivity = sl.jacfwd(_oscillator, argnums=argnums)(*args)
    eps = 1e-6
    for i, (ja, js) in enumerate(zip(adjoint, sensitivity)):
        np.testing.assert_allclose(ja, js, rtol=1e-8, atol=1e-9, err_msg=f"argument {i}")
        x = np.asarray(args[i], dtype=float)
        columns = []
        for e in np.eye(x.size):
            step = e.reshape(x.shape) * eps
            plus = _oscillator(*[x + step if j == i else a for j, a in enumerate(args)])
            minus = _oscillator(*[x - step if j == i else a for j, a in enumerate(args)])
            columns.append((plus - minus) / (2 * eps))
        fd = np.stack(columns, axis=-1).reshape(ja.shape)
        np.testing.assert_allclose(ja, fd, rtol=1e-6, atol=1e-7, err_msg=f"argument {i}")


def test_decay_closed_form_gradient_including_start_time():
    """y = y0 exp(-k (t - t0)): d/dk, d/dt0 and d/dt1 in closed form."""
    f = lambda y0, t, k: odeint(lambda y, t, k: -k * y, y0, t, args=(k,), **TIGHT)[-1, 0]  # noqa: E731
    y0, t, k = np.array([2.0]), np.array([0.5, 2.0]), 0.7
    value = 2.0 * np.exp(-k * 1.5)
    g_y0, g_t, g_k = sl.grad(f, argnums=(0, 1, 2))(y0, t, k)
    np.testing.assert_allclose(g_y0, [value / 2.0], rtol=1e-9)
    np.testing.assert_allclose(g_t, [k * value, -k * value], rtol=1e-8)
    np.testing.assert_allclose(g_k, -1.5 * value, rtol=1e-8)


def test_second_derivatives_forward_and_reverse_against_finite_differences():
    """The rules solve ODEs with odeint itself, so they differentiate again."""
    y0, t = np.array([1.0, -0.5]), np.array([0.0, 0.8, 1.6])
    check_derivatives(lambda y0, z, w: _oscillator(y0, t, z, w), y0, 0.3, 1.4, order=2, rtol=1e-5, atol=1e-6)
    check_derivatives(lambda t: _oscillator(y0, t, 0.3, 1.4), t, order=2, rtol=1e-5, atol=1e-6)


def test_higher_derivatives_and_taylor_mode_in_closed_form():
    """y = 2 exp(-k t) at t = 1.5: d^j/dk^j = (-1.5)^j y, by Hessians and Taylor-mode derivatives."""
    def f(k):
        return odeint(lambda y, t, k: -k * y, np.array([2.0]), np.array([0.0, 1.5]), args=(k,), **TIGHT)[1, 0]

    k = 0.7
    y = 2.0 * np.exp(-1.5 * k)
    np.testing.assert_allclose(sl.hessian(f)(k), 1.5**2 * y, rtol=1e-8)
    for order in (2, 3):
        np.testing.assert_allclose(sl.derivative(f, order=order)(k), (-1.5) ** order * y, rtol=1e-7)


def test_state_of_any_shape_tfirst_vmap_and_jit():
    rotate = lambda t, y, w: snp.stack([-w * y[1], w * y[0]])  # noqa: E731  (y of shape (2, 2))
    y0, t = np.eye(2), np.linspace(0.0, 1.0, 4)
    ys = odeint(rotate, y0, t, args=(2.0,), tfirst=True, **TIGHT)
    c, s = np.cos(2.0), np.sin(2.0)
    np.testing.assert_allclose(ys[-1], [[c, -s], [s, c]], rtol=1e-9, atol=1e-10)
    loss = lambda w: snp.sum(odeint(rotate, y0, t, args=(w,), tfirst=True, **TIGHT)[-1, 1])  # noqa: E731
    # at t = 1 row 1 is [sin w, cos w]: the derivative of its sum is cos w - sin w
    np.testing.assert_allclose(sl.grad(loss)(2.0), np.cos(2.0) - np.sin(2.0), rtol=1e-8)
    np.testing.assert_allclose(sl.jit(sl.grad(loss))(2.0), sl.grad(loss)(2.0), rtol=1e-13)
    ws = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(sl.vmap(sl.grad(loss))(ws), [sl.grad(loss)(w) for w in ws], rtol=1e-12)


def test_func_with_python_decisions_on_time_still_differentiates():
    """A func slopes.jit cannot stage (an `if` on t) runs unstaged: same values and gradients."""

    def switched(y, t, k):
        if t > 1.0:
            return -2.0 * k * y
        return -k * y

    def g(k):
        return odeint(switched, np.array([1.0]), np.array([0.0, 2.0]), args=(k,), **TIGHT)[1, 0]

    np.testing.assert_allclose(g(0.5), np.exp(-1.5), rtol=1e-9)  # exp(-k) exp(-2k)
    np.testing.assert_allclose(sl.grad(g)(0.5), -3.0 * np.exp(-1.5), rtol=1e-8)


def test_ode_fit_example_recovers_the_parameters():
    import runpy
    from pathlib import Path

    example = runpy.run_path(str(Path(__file__).parents[1] / "examples" / "ode_fit.py"))
    fit = example["fit"]()
    np.testing.assert_allclose(fit.x, example["TRUE_PARAMS"], rtol=0.05)
    assert fit.success
    # the fitted gradient is (near) zero by the adjoint method and by finite differences
    assert np.linalg.norm(fit.grad) < 1e-4
    fd = sl.numeric.grad(example["loss"], fit.x)
    np.testing.assert_allclose(fit.grad, fd, atol=1e-4)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: odeint(lambda y, t: -y, np.ones(2), np.array([0.0, 2.0, 1.0])), ValueError, "monotonic"),
        (lambda: odeint(lambda y, t: -y, np.ones(2), np.ones((2, 2))), ValueError, "t must be 1-D"),
        (lambda: odeint(lambda y, t: -y, np.ones(2), [0.0, 1.0], Dfun=np.eye), ValueError, "Dfun"),
        (lambda: odeint(lambda y, t: -y, np.ones(2), [0.0, 1.0], bogus=1), TypeError, "bogus"),
        (lambda: odeint("f", np.ones(2), [0.0, 1.0]), TypeError, "callable"),
        (lambda: odeint(lambda y, t: -y, ["a"], [0.0, 1.0]), TypeError, "real numbers"),
        (lambda: odeint(lambda y, t: y**2, np.ones(1), [0.0, 2.0], mxstep=5), RuntimeError, "mxstep"),
    ],
)
def test_bad_input_gets_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()
