"""slopes.viz.animation: GIFs of descent paths, read back with Pillow.

References: the GIF decoded by Pillow (frame count, sizes, per-frame durations), and the
iterates of plain gradient descent written out in NumPy.
"""

import numpy as np
import pytest
from PIL import Image

import slopes as sl
import slopes.numpy as snp
import slopes.viz as sv


def himmelblau(x):
    return (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2


def frames_of(gif):
    """Every frame decoded to RGB, with its duration (ms)."""
    out = []
    with Image.open(gif) as im:
        for k in range(im.n_frames):
            im.seek(k)
            out.append((np.asarray(im.convert("RGB")), im.info["duration"]))
        return im.n_frames, out


def test_2d_path_from_minimize_gives_one_frame_per_iterate(tmp_path):
    r = sl.minimize(
        himmelblau, np.array([0.0, 0.0]), method="gd", learning_rate=0.01, maxiter=9, record_x=True
    )
    out = tmp_path / "sub" / "gd.gif"  # the folder is created
    assert sv.animate_descent(himmelblau, r, out, fps=10, dpi=40) == out
    assert out.is_file()
    n, frames = frames_of(out)
    assert n == len(r.history.x) == 10
    assert all(fr.shape == (4 * 40, 6 * 40, 3) for fr, _ in frames)
    assert [d for _, d in frames] == [100] * 9 + [1000]  # 1/fps, the last frame held a second
    # each frame adds to the picture: consecutive frames differ, and none is a flat colour
    assert all(np.any(a != b) for (a, _), (b, _) in zip(frames, frames[1:]))
    assert all(np.any(fr != fr[0, 0]) for fr, _ in frames)


def test_1d_paths_on_the_graph_of_f(tmp_path):
    # gradient descent on x^2 with step 0.8 overshoots: x_{k+1} = (1 - 2 * 0.8) x_k = -0.6 x_k
    xs = 2.0 * (-0.6) ** np.arange(8)
    r = sl.minimize(
        lambda x: snp.sum(x**2), np.array([2.0]), method="gd", learning_rate=0.8, maxiter=7, record_x=True
    )
    np.testing.assert_allclose(r.history.x[:, 0], xs, rtol=1e-12)
    a = sv.animate_descent(lambda x: snp.sum(x**2), r, tmp_path / "vec.gif", dpi=30)
    b = sv.animate_descent(lambda x: x**2, xs, tmp_path / "scalar.gif", xlim=(-3, 3), dpi=30)
    for gif in (a, b):
        n, frames = frames_of(gif)
        assert n == 8 and all(fr.shape == (120, 180, 3) for fr, _ in frames)
        assert frames[0][1] == 120  # fps=8 by default: 125 ms, in the GIF's 10 ms units


def test_long_paths_are_subsampled_to_max_frames(tmp_path):
    path = np.column_stack([np.linspace(-1, 1, 40), np.linspace(1, -1, 40) ** 2])
    n, _ = frames_of(sv.animate_descent(himmelblau, path, tmp_path / "long.gif", max_frames=7, dpi=20))
    assert n == 7
    n, _ = frames_of(sv.animate_descent(himmelblau, path[:5], tmp_path / "all.gif", max_frames=None, dpi=20))
    assert n == 5


@pytest.mark.parametrize(
    "path, out, kwargs, err, match",
    [
        (np.zeros((3, 2)), "a.png", {}, ValueError, r"\.gif"),
        (np.zeros((3, 3)), "a.gif", {}, ValueError, r"shape \(n,\)"),
        (np.zeros((0, 2)), "a.gif", {}, ValueError, "shape"),
        (np.array([[0.0, 1.0], [np.nan, 1.0]]), "a.gif", {}, ValueError, "non-finite"),
        (np.zeros((3, 2)), "a.gif", {"fps": 0}, ValueError, "fps"),
        (np.zeros((3, 2)), "a.gif", {"max_frames": 1}, ValueError, "max_frames"),
        ("abc", "a.gif", {}, TypeError, "array of iterates"),
    ],
)
def test_bad_input_raises_clear_errors(tmp_path, path, out, kwargs, err, match):
    with pytest.raises(err, match=match):
        sv.animate_descent(himmelblau, path, tmp_path / out, **kwargs)
    assert not (tmp_path / out).exists()


def test_a_result_without_iterates_is_refused(tmp_path):
    r = sl.minimize(himmelblau, np.array([0.0, 0.0]), method="bfgs", maxiter=3)
    with pytest.raises(ValueError, match="record_x=True"):
        sv.animate_descent(himmelblau, r, tmp_path / "a.gif")
