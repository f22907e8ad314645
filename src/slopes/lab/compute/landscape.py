"""The Gradient and landscape page: contours and the gradient field of f(x, y); at a clicked point the
gradient, the directional derivative, the Hessian's eigenvectors and the local quadratic model; the
critical points, found and classified.

Examples
--------
>>> page = landscape_page({"formula": "x^2 + 10*y^2", "point": [1.0, 1.0], "angle": 0.0, "n": 41})
>>> page["numbers"]["gradient"], page["numbers"]["directional"]
([2.0, 20.0], 2.0)
>>> [c["kind"] for c in page["critical"]]
['minimum']
"""

from __future__ import annotations

import numpy as np

from ...analysis import critical_points
from ...transforms import directional_derivative, elementwise_grad, hessian
from ..inputs import formula, integer, number, point, window
from ..limits import LIMITS
from .common import array_code, code_lines, contour_field, finite_list, require_defined

__all__ = ["landscape_page", "ARROWS"]

#: Arrows per side of the gradient field.
ARROWS = 15


def landscape_page(body: dict) -> dict:
    """Compute everything the landscape page draws, from the request ``body``.

    Parameters
    ----------
    body : dict
        ``formula`` (in x, y), ``xlim``, ``ylim``, ``n`` (grid points per side), ``point`` (the
        clicked point), ``angle`` (direction of the directional derivative, radians), ``starts``
        (Newton starts of the critical-point search).

    Returns
    -------
    dict
        ``contours``, ``arrows`` (``[x, y, gx, gy]`` rows), ``numbers`` (value, gradient, Hessian,
        its eigenvalues and eigenvectors, the directional derivative), ``model`` (contours of the
        quadratic model at the point), ``critical`` (points with their kind) and ``code``.

    Examples
    --------
    >>> landscape_page({"formula": "x + y", "n": 10**4})
    Traceback (most recent call last):
    ...
    slopes.lab.inputs.LabInputError: n must be a whole number from 11 to 161 (the lab's budget), got 10000
    """
    f = formula(body, ("x", "y"))
    xlim = window(body, "xlim", [-3.0, 3.0])
    ylim = window(body, "ylim", [-3.0, 3.0])
    n = integer(body, "n", 81, lo=11, hi=LIMITS.max_grid)
    x = point(body, "point", [1.0, 1.0], size=2)
    angle = number(body, "angle", 0.0, lo=-10.0, hi=10.0)
    starts = integer(body, "starts", 32, lo=1, hi=LIMITS.max_critical_starts)
    u = np.array([np.cos(angle), np.sin(angle)])

    value, g = require_defined(f, x, "the clicked point")
    H = np.asarray(hessian(f)(x), dtype=np.float64)
    eigenvalues, eigenvectors = np.linalg.eigh(H)
    numbers = {
        "value": value,
        "gradient": finite_list(g),
        "hessian": finite_list(H),
        "eigenvalues": finite_list(eigenvalues),
        "directional": float(directional_derivative(f, x, u)),
    }
    field = contour_field(f, xlim, ylim, n)
    model = _quadratic_model(value, g, H, x, xlim, ylim, n)
    found = critical_points(f, [xlim, ylim], n_starts=starts, seed=0)
    critical = [
        {"x": finite_list(c.x), "value": float(c.value), "kind": c.kind, "eigenvalues": finite_list(c.eigenvalues)}
        for c in found
    ]
    numbers["critical_count"] = len(critical)
    code = code_lines(
        [
            f'f = sl.parse("{f}", variables=("x", "y"))',
            f"point = {array_code(x)}",
            f"u = np.array([np.cos({angle!r}), np.sin({angle!r})])  # the direction",
            "value = f(point)",
            "gradient = sl.grad(f)(point)",
            "hessian = sl.hessian(f)(point)",
            "eigenvalues, eigenvectors = np.linalg.eigh(hessian)",
            "directional = sl.directional_derivative(f, point, u)",
            f"found = sl.analysis.critical_points(f, [{xlim!r}, {ylim!r}], n_starts={starts}, seed=0)",
            "critical_count = len(found)",
            "for c in found:",
            "    print(c.kind, c.x, c.value)",
        ]
    )
    return {
        "contours": field,
        "arrows": _arrows(f, xlim, ylim),
        "numbers": numbers,
        "eigenvectors": finite_list(eigenvectors.T),
        "direction": finite_list(u),
        "model": model,
        "critical": critical,
        "code": code,
    }


def _arrows(f, xlim, ylim) -> list:
    """The gradient on an ARROWS x ARROWS grid, in one reverse pass (f is elementwise in the grid)."""
    X, Y = np.meshgrid(np.linspace(*xlim, ARROWS), np.linspace(*ylim, ARROWS))
    with np.errstate(all="ignore"):
        G = np.asarray(elementwise_grad(f)(np.stack([X, Y])), dtype=np.float64)
    rows = np.stack([X.ravel(), Y.ravel(), G[0].ravel(), G[1].ravel()], axis=1)
    return finite_list(rows[np.all(np.isfinite(rows), axis=1)])


def _quadratic_model(value, g, H, x, xlim, ylim, n) -> dict:
    """Contours of q(y) = f(x) + g.(y - x) + (y - x)^T H (y - x) / 2 near the point."""
    span = 0.25 * min(xlim[1] - xlim[0], ylim[1] - ylim[0])
    mx = (x[0] - span, x[0] + span)
    my = (x[1] - span, x[1] + span)
    size = max(11, n // 3)

    def q(p):
        d = p - x
        return value + g @ d + 0.5 * d @ H @ d

    return {**contour_field(q, mx, my, size, levels=8), "xlim": list(mx), "ylim": list(my)}
