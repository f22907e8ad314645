"""Vector calculus (sl.calculus): divergence, curl, Laplacian, gradient and Jacobian fields.

Every value is checked against a closed form; grids against a Python loop over
points; one field of each operator against sympy.vector.
"""

import numpy as np
import pytest
import sympy
import sympy.vector as sv

import slopes as sl
import slopes.numpy as snp
from slopes.calculus import curl, divergence, gradient_field, jacobian_field, laplacian

RNG = np.random.default_rng(0)
PTS3 = RNG.uniform(-2.0, 2.0, size=(7, 3))


# ---------------------------------------------------------------- fields


def identity_field(p):
    return p


def poly_field(p):  # (x^2 y, y z, sin z): div = 2 x y + z + cos z
    return snp.array([p[0] ** 2 * p[1], p[1] * p[2], snp.sin(p[2])])


def poly_div(p):
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    return 2 * x * y + z + np.cos(z)


def rotation(p):
    return snp.array([-p[1], p[0], 0.0 * p[2]])


def smooth_field(p):  # a generic field with all components coupled
    x, y, z = p[0], p[1], p[2]
    return snp.array([snp.sin(y * z) + x**2, snp.exp(0.3 * x) * z, x * y * z + snp.cos(x - y)])


def smooth_curl(p):
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    # F1 = sin(yz) + x^2, F2 = e^{0.3x} z, F3 = xyz + cos(x - y)
    dF3dy = x * z + np.sin(x - y)
    dF2dz = np.exp(0.3 * x)
    dF1dz = y * np.cos(y * z)
    dF3dx = y * z - np.sin(x - y)
    dF2dx = 0.3 * np.exp(0.3 * x) * z
    dF1dy = z * np.cos(y * z)
    return np.stack([dF3dy - dF2dz, dF1dz - dF3dx, dF2dx - dF1dy], axis=-1)


def scalar3(p):
    return p[0] ** 2 * snp.sin(p[1]) + snp.exp(p[2] * p[0]) + p[1] * p[2] ** 3


# ---------------------------------------------------------------- divergence


def test_divergence_of_identity_is_dimension():
    assert divergence(identity_field)(np.array([1.0, -2.0, 0.5])) == pytest.approx(3.0)
    np.testing.assert_allclose(divergence(identity_field)(PTS3), np.full(7, 3.0))
    np.testing.assert_allclose(divergence(identity_field)(np.ones((4, 5))), np.full(4, 5.0))


def test_divergence_closed_form_one_point_and_batch():
    for p in PTS3:
        assert float(divergence(poly_field)(p)) == pytest.approx(poly_div(p), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(divergence(poly_field)(PTS3), poly_div(PTS3), rtol=1e-12, atol=1e-12)


def test_divergence_one_point_is_ndarray_and_differentiable():
    d = divergence(poly_field)(np.array([1.0, 2.0, 3.0]))
    assert isinstance(d, np.ndarray) and d.shape == ()
    # grad of div F = (2y, 2x, 1 - sin z)
    p = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(sl.grad(divergence(poly_field))(p), [4.0, 2.0, 1.0 - np.sin(3.0)], rtol=1e-12)


def test_divergence_of_curl_is_zero():
    np.testing.assert_allclose(divergence(curl(smooth_field))(PTS3), 0.0, atol=1e-12)


# ---------------------------------------------------------------- curl


def test_curl_of_rotation():
    np.testing.assert_array_equal(curl(rotation)(np.array([1.0, 2.0, 3.0])), [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(curl(rotation)(PTS3), np.tile([0.0, 0.0, 2.0], (7, 1)))


def test_curl_closed_form():
    np.testing.assert_allclose(curl(smooth_field)(PTS3), smooth_curl(PTS3), rtol=1e-12, atol=1e-12)
    for p in PTS3:
        np.testing.assert_allclose(curl(smooth_field)(p), smooth_curl(p), rtol=1e-12, atol=1e-12)


def test_curl_of_gradient_is_zero():
    np.testing.assert_allclose(curl(gradient_field(scalar3))(PTS3), 0.0, atol=1e-11)


def test_curl_rejects_other_dimensions():
    with pytest.raises(ValueError, match="3-D"):
        curl(lambda p: p)(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="3-D"):
        curl(lambda p: p)(np.ones((5, 4)))


def test_curl_rejects_non_square_field():
    with pytest.raises(ValueError, match="vector field"):
        curl(lambda p: p[:2])(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="vector field"):
        divergence(lambda p: snp.sum(p))(np.array([1.0, 2.0, 3.0]))


# ---------------------------------------------------------------- laplacian


@pytest.mark.parametrize(
    "f",
    [
        lambda p: p[0] ** 2 - p[1] ** 2,
        lambda p: snp.exp(p[0]) * snp.sin(p[1]),
    ],
    ids=["x2-y2", "exp-sin"],
)
def test_laplacian_of_harmonic_2d(f):
    pts = RNG.uniform(-2.0, 2.0, size=(6, 2))
    np.testing.assert_allclose(laplacian(f)(pts), 0.0, atol=1e-12)
    assert float(laplacian(f)(pts[0])) == pytest.approx(0.0, abs=1e-12)


def test_laplacian_of_inverse_distance_3d():
    f = lambda p: 1.0 / snp.sqrt(snp.sum(p**2))  # noqa: E731
    pts = RNG.uniform(0.5, 2.0, size=(6, 3)) * RNG.choice([-1.0, 1.0], size=(6, 3))
    np.testing.assert_allclose(laplacian(f)(pts), 0.0, atol=1e-11)


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_laplacian_of_squared_norm(d):
    f = lambda p: snp.sum(p**2)  # noqa: E731
    pts = RNG.normal(size=(4, d))
    np.testing.assert_allclose(laplacian(f)(pts), np.full(4, 2.0 * d))
    assert float(laplacian(f)(pts[0])) == pytest.approx(2.0 * d)


def test_laplacian_is_divergence_of_gradient():
    np.testing.assert_allclose(
        laplacian(scalar3)(PTS3), divergence(gradient_field(scalar3))(PTS3), rtol=1e-12
    )


def test_laplacian_rejects_vector_output():
    with pytest.raises(ValueError, match="scalar field"):
        laplacian(lambda p: p**2)(np.array([1.0, 2.0]))


# ---------------------------------------------------------------- gradient and Jacobian fields


def test_gradient_and_jacobian_fields():
    g = gradient_field(lambda p: p[0] ** 2 * p[1] + snp.sin(p[1]))
    pts = RNG.normal(size=(5, 2))
    expected = np.stack([2 * pts[:, 0] * pts[:, 1], pts[:, 0] ** 2 + np.cos(pts[:, 1])], axis=-1)
    np.testing.assert_allclose(g(pts), expected, rtol=1e-12)
    J = jacobian_field(poly_field)(PTS3)
    assert J.shape == (7, 3, 3)
    for p, Jp in zip(PTS3, J):
        x, y, z = p
        closed = np.array([[2 * x * y, x**2, 0.0], [0.0, z, y], [0.0, 0.0, np.cos(z)]])
        np.testing.assert_allclose(Jp, closed, rtol=1e-12)
    # a non-square Jacobian field: R^3 -> R^2
    J2 = jacobian_field(lambda p: p[:2] * p[2])(PTS3[0])
    assert J2.shape == (2, 3)


# ---------------------------------------------------------------- grids


def _grid2(n=20):
    xs, ys = np.meshgrid(np.linspace(-1.5, 1.5, n), np.linspace(-1.0, 2.0, n))
    return np.stack([xs, ys], axis=-1)  # (n, n, 2)


def test_grid_2d_shapes_loop_and_closed_form():
    grid = _grid2()
    f = lambda p: p[0] ** 2 * p[1] + snp.exp(p[1])  # noqa: E731
    F = lambda p: snp.array([p[0] * p[1], snp.sin(p[0]) + p[1] ** 2])  # noqa: E731
    x, y = grid[..., 0], grid[..., 1]

    lap = laplacian(f)(grid)
    div = divergence(F)(grid)
    grd = gradient_field(f)(grid)
    jac = jacobian_field(F)(grid)
    assert lap.shape == (20, 20) and div.shape == (20, 20)
    assert grd.shape == (20, 20, 2) and jac.shape == (20, 20, 2, 2)

    np.testing.assert_allclose(lap, 2 * y + np.exp(y), rtol=1e-12)
    np.testing.assert_allclose(div, y + 2 * y, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grd, np.stack([2 * x * y, x**2 + np.exp(y)], axis=-1), rtol=1e-12)

    loop_lap = np.array([[laplacian(f)(grid[i, j]) for j in range(20)] for i in range(20)])
    loop_div = np.array([[divergence(F)(grid[i, j]) for j in range(20)] for i in range(20)])
    loop_grd = np.array([[gradient_field(f)(grid[i, j]) for j in range(20)] for i in range(20)])
    loop_jac = np.array([[jacobian_field(F)(grid[i, j]) for j in range(20)] for i in range(20)])
    np.testing.assert_allclose(lap, loop_lap, rtol=1e-13)
    np.testing.assert_allclose(div, loop_div, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(grd, loop_grd, rtol=1e-13)
    np.testing.assert_allclose(jac, loop_jac, rtol=1e-13)


def test_grid_3d_curl_shape_and_loop():
    g = np.linspace(-1.0, 1.0, 5)
    grid = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1)  # (5, 5, 5, 3)
    c = curl(smooth_field)(grid)
    assert c.shape == (5, 5, 5, 3)
    np.testing.assert_allclose(c, smooth_curl(grid), rtol=1e-12, atol=1e-12)
    loop = np.array([curl(smooth_field)(p) for p in grid.reshape(-1, 3)]).reshape(5, 5, 5, 3)
    np.testing.assert_allclose(c, loop, rtol=1e-13, atol=1e-15)


def test_grid_is_not_a_python_loop_over_points(monkeypatch):
    """F is traced a fixed number of times, however many points there are."""
    calls = []

    def F(p):
        calls.append(1)
        return poly_field(p)

    divergence(F)(PTS3[:2])
    few = len(calls)
    calls.clear()
    divergence(F)(RNG.normal(size=(40, 3)))
    assert len(calls) == few


def test_empty_batch_and_bad_input():
    assert divergence(poly_field)(np.zeros((0, 3))).shape == (0,)
    assert curl(rotation)(np.zeros((2, 0, 3))).shape == (2, 0, 3)
    assert jacobian_field(poly_field)(np.zeros((0, 3))).shape == (0, 3, 3)
    with pytest.raises(ValueError, match="scalar"):
        divergence(poly_field)(1.0)
    with pytest.raises(TypeError):
        divergence(3.0)
    # integer points are promoted to float
    np.testing.assert_allclose(divergence(identity_field)(np.array([1, 2, 3])), 3.0)


# ---------------------------------------------------------------- sympy


def _sympy_setup():
    N = sv.CoordSys3D("N")
    x, y, z = N.x, N.y, N.z
    return N, (x, y, z)


def _evalf(expr, syms, p):
    return float(expr.subs(dict(zip(syms, map(float, p)))).evalf())


def test_against_sympy_vector():
    N, (x, y, z) = _sympy_setup()
    V = (sympy.sin(y * z) + x**2) * N.i + sympy.exp(sympy.Rational(3, 10) * x) * z * N.j
    V = V + (x * y * z + sympy.cos(x - y)) * N.k
    s = x**2 * sympy.sin(y) + sympy.exp(z * x) + y * z**3
    P = (x**2 * y) * N.i + (y * z) * N.j + sympy.sin(z) * N.k

    div_expr = sv.divergence(P)
    curl_expr = sv.curl(V)
    grad_expr = sv.gradient(s)
    lap_expr = sv.divergence(sv.gradient(s))
    syms = (x, y, z)

    pts = PTS3[:4]
    np.testing.assert_allclose(
        divergence(poly_field)(pts), [_evalf(div_expr, syms, p) for p in pts], rtol=1e-12
    )
    sym_curl = [[_evalf(curl_expr.dot(e), syms, p) for e in (N.i, N.j, N.k)] for p in pts]
    np.testing.assert_allclose(curl(smooth_field)(pts), sym_curl, rtol=1e-12, atol=1e-12)
    sym_grad = [[_evalf(grad_expr.dot(e), syms, p) for e in (N.i, N.j, N.k)] for p in pts]
    np.testing.assert_allclose(gradient_field(scalar3)(pts), sym_grad, rtol=1e-12)
    np.testing.assert_allclose(laplacian(scalar3)(pts), [_evalf(lap_expr, syms, p) for p in pts], rtol=1e-12)

    # the Jacobian field against sympy's Matrix.jacobian
    comps = sympy.Matrix([P.dot(e) for e in (N.i, N.j, N.k)])
    Jexpr = comps.jacobian(sympy.Matrix(syms))
    for p in pts:
        sym_J = np.array(Jexpr.subs(dict(zip(syms, map(float, p)))).evalf(), dtype=float)
        np.testing.assert_allclose(jacobian_field(poly_field)(p), sym_J, rtol=1e-12)


def test_constant_fields_on_a_batch():
    const = lambda p: snp.array([1.0, 2.0, 3.0])  # noqa: E731
    np.testing.assert_array_equal(divergence(const)(PTS3), np.zeros(7))
    np.testing.assert_array_equal(curl(const)(PTS3), np.zeros((7, 3)))
    np.testing.assert_array_equal(laplacian(lambda p: 1.0 + 0.0 * p[0])(PTS3), np.zeros(7))
    assert jacobian_field(lambda p: snp.array([1.0, 2.0]))(PTS3).shape == (7, 2, 3)


def test_differentiating_through_a_grid_evaluation():
    # sum over the grid of div(p^3) = sum 3 (x^2 + y^2 + z^2); its gradient is 6 p at every point
    grid = RNG.normal(size=(2, 4, 3))
    g = sl.grad(lambda P: snp.sum(divergence(lambda p: p**3)(P)))(grid)
    np.testing.assert_allclose(g, 6 * grid, rtol=1e-12)
    np.testing.assert_allclose(
        sl.vmap(divergence(lambda p: p**3))(PTS3), 3 * np.sum(PTS3**2, axis=-1), rtol=1e-12
    )
