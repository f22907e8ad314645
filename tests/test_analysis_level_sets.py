"""slopes.analysis.level_sets: gradient vs level set on circles, spheres and ellipses (closed forms)."""

import numpy as np
import pytest

import slopes.numpy as snp
from slopes.analysis import gradient_orthogonal_to_level_set as check


@pytest.mark.parametrize("angle", [0.0, 0.4, 2.0, 4.5])
@pytest.mark.parametrize("r", [0.5, 5.0])
def test_circle_chord_angle_closed_form(angle, r):
    x = r * np.array([np.cos(angle), np.sin(angle)])
    h = 1e-3
    c = check(lambda p: snp.sum(p**2), x, radius=h)
    # Newton's correction is radial on a circle: y = r (x + h t)/|x + h t|, so the chord
    # makes the angle atan(h / r) / 2 with the tangent
    assert c.max_abs_cos == pytest.approx(np.sin(np.arctan(h / r) / 2), rel=1e-7)
    np.testing.assert_allclose(np.linalg.norm(c.points, axis=1), r, rtol=1e-14)
    np.testing.assert_allclose(c.grad, 2 * x, rtol=1e-15)
    assert c.level == pytest.approx(r**2) and c.max_level_error <= 1e-13 * max(1, r**2)


def test_sphere_in_three_dimensions_random_tangents():
    x = np.array([1.0, 2.0, 2.0])  # radius 3
    h = 1e-3 * 3
    c = check(lambda p: snp.sum(p**2), x, n_directions=6, seed=4)
    assert c.points.shape == (6, 3)
    np.testing.assert_allclose(np.linalg.norm(c.points, axis=1), 3.0, rtol=1e-14)
    assert c.max_abs_cos == pytest.approx(np.sin(np.arctan(h / 3.0) / 2), rel=1e-7)


@pytest.mark.parametrize("s", [0.3, 1.2, 2.5])
def test_ellipse_curvature_and_tangent(s):
    a, b = 2.0, 0.5
    f = lambda p: p[0] ** 2 / a**2 + p[1] ** 2 / b**2
    x = np.array([a * np.cos(s), b * np.sin(s)])
    tangent = np.array([-a * np.sin(s), b * np.cos(s)])
    grad = np.array([2 * np.cos(s) / a, 2 * np.sin(s) / b])
    assert abs(tangent @ grad) < 1e-15  # the closed-form fact being checked numerically
    kappa = a * b / (a**2 * np.sin(s) ** 2 + b**2 * np.cos(s) ** 2) ** 1.5  # curvature of the ellipse
    for h in (1e-4, 1e-5):
        c = check(f, x, radius=h)
        np.testing.assert_allclose(c.points[:, 0] ** 2 / a**2 + c.points[:, 1] ** 2 / b**2, 1.0, atol=1e-14)
        # chord vs tangent: angle ~ kappa * h / 2 for a small step
        assert c.max_abs_cos == pytest.approx(kappa * h / 2, rel=2e-3)
        cos_t = np.abs(c.chords @ tangent) / np.linalg.norm(tangent)
        assert np.all(cos_t > 1 - 1e-6)


def test_errors():
    with pytest.raises(ValueError, match="critical point"):
        check(lambda p: snp.sum(p**2), np.zeros(2))
    with pytest.raises(ValueError, match="at least 2"):
        check(lambda p: p[0] ** 2, np.ones(1))
    with pytest.raises(ValueError, match="radius"):
        check(lambda p: snp.sum(p**2), np.ones(2), radius=-1.0)
