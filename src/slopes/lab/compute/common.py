"""What the page computations share: JSON-ready arrays, contour fields, start-point checks, code text.

Examples
--------
>>> finite_list(np.array([1.0, np.nan, np.inf]))
[1.0, None, None]
>>> code_lines(["x = 1", "y = x + 1"])
'import numpy as np\\nimport slopes as sl\\n\\nx = 1\\ny = x + 1\\n'
"""

from __future__ import annotations

import functools

import contourpy
import numpy as np

from ... import optim
from ...expr import Expression
from ...transforms import value_and_grad
from ...viz import landscape_grid
from ..inputs import LabInputError

__all__ = ["CONTOUR_FIELDS", "SCHEDULES", "array_code", "code_lines", "contour_field", "finite_list", "learning_rate", "require_defined", "thin"]

#: The learning-rate schedules the pages offer.
SCHEDULES = ("constant", "cosine", "warmup_cosine")
#: Contour fields of formulas kept for the next request with the same formula and window.
CONTOUR_FIELDS = 32


def finite_list(values) -> list:
    """An array as nested lists of floats, with ``None`` where a value is not finite (JSON has no NaN).

    Examples
    --------
    >>> finite_list([[1, 2], [3, float("-inf")]])
    [[1.0, 2.0], [3.0, None]]
    """
    a = np.asarray(values, dtype=np.float64)
    out = np.where(np.isfinite(a), a, 0.0).tolist()
    if a.ndim == 0:
        return out if np.isfinite(a) else None
    bad = np.argwhere(~np.isfinite(a))
    for idx in bad:
        row = out
        for i in idx[:-1]:
            row = row[i]
        row[idx[-1]] = None
    return out


def thin(rows, most: int) -> np.ndarray:
    """At most ``most`` rows of ``rows``, evenly spaced, the first and the last always kept.

    Examples
    --------
    >>> thin(np.arange(10), 4)
    array([0, 3, 6, 9])
    """
    rows = np.asarray(rows)
    if len(rows) <= most:
        return rows
    return rows[np.unique(np.linspace(0, len(rows) - 1, most).round().astype(int))]


def contour_field(f, xlim, ylim, n: int, levels: int = 16) -> dict:
    """The contour lines of ``f(x, y)`` on an ``n x n`` grid: levels at quantiles of the values.

    The grid values and levels are those :func:`slopes.viz.contour_gradients` draws; the lines
    are traced by contourpy (matplotlib's contouring engine). A formula's field is kept for the
    :data:`CONTOUR_FIELDS` latest formula, window and size asked for (a page redrawn from another
    start point asks again), so the dict returned is shared: read it, do not change it.

    Returns
    -------
    dict
        ``levels`` and ``lines`` (one ``[level index, [[x, y], ...]]`` per line).

    Examples
    --------
    >>> import slopes as sl
    >>> field = contour_field(sl.parse("x^2 + y^2"), (-1, 1), (-1, 1), 21, levels=3)
    >>> len(field["levels"]), all(len(pts) > 3 for _, pts in field["lines"])
    (3, True)
    """
    key = (tuple(map(float, xlim)), tuple(map(float, ylim)), int(n), int(levels))
    return _kept_field(f, *key) if isinstance(f, Expression) else _field(f, *key)


def _field(f, xlim, ylim, n, levels) -> dict:
    with np.errstate(all="ignore"):
        try:
            X, Y, Z, lv = landscape_grid(f, xlim, ylim, n, levels)
        except ValueError as err:
            if "not finite anywhere" not in str(err):
                raise
            raise LabInputError("the formula is not finite anywhere in the window; move the window into its domain") from None
    gen = contourpy.contour_generator(X, Y, Z.filled(np.nan))
    lines = [[i, finite_list(seg)] for i, level in enumerate(lv) for seg in gen.lines(level) if len(seg) > 1]
    return {"levels": finite_list(lv), "lines": lines}


_kept_field = functools.lru_cache(maxsize=CONTOUR_FIELDS)(_field)  # Expressions hash by their tree


def require_defined(f, x, what: str = "the start point") -> tuple[float, np.ndarray]:
    """``f(x)`` and its gradient, refusing a point where either is not finite.

    Examples
    --------
    >>> import slopes as sl
    >>> require_defined(sl.parse("log(x) + y", variables=("x", "y")), np.array([-1.0, 0.0]))
    Traceback (most recent call last):
    ...
    slopes.lab.inputs.LabInputError: f is not defined at the start point (-1, 0): f = nan, gradient = [-1, 1]; pick a point inside its domain
    """
    with np.errstate(all="ignore"):
        value, g = value_and_grad(f)(x)
    value, g = float(value), np.asarray(g, dtype=np.float64)
    if not (np.isfinite(value) and np.all(np.isfinite(g))):
        where = ", ".join(f"{v:g}" for v in np.atleast_1d(x))
        grad_text = ", ".join(f"{v:g}" for v in np.atleast_1d(g))
        raise LabInputError(
            f"f is not defined at {what} ({where}): f = {value:g}, gradient = [{grad_text}]; "
            "pick a point inside its domain"
        )
    return value, g


def code_lines(lines) -> str:
    """The code shown on a page: the imports, then ``lines``.

    Examples
    --------
    >>> print(code_lines(["print(sl.grad(f)(x0))"]).splitlines()[-1])
    print(sl.grad(f)(x0))
    """
    return "\n".join(["import numpy as np", "import slopes as sl", "", *lines]) + "\n"


def array_code(values) -> str:
    """A vector as code text that rebuilds it exactly.

    Examples
    --------
    >>> array_code(np.array([1.0, -0.1]))
    'np.array([1.0, -0.1])'
    """
    return "np.array([" + ", ".join(repr(float(v)) for v in np.ravel(values)) + "])"


def learning_rate(schedule: str, lr: float, steps: int):
    """The learning rate of a page's schedule over ``steps`` steps, and the same as code text.

    ``warmup_cosine`` warms up over the first 5% of the steps.

    Examples
    --------
    >>> rate, code = learning_rate("cosine", 0.1, 100)
    >>> float(rate(100)), code
    (0.0, 'sl.optim.cosine_decay(0.1, 100)')
    >>> learning_rate("constant", 0.1, 100)
    (0.1, '0.1')
    """
    if schedule == "cosine":
        return optim.cosine_decay(lr, steps), f"sl.optim.cosine_decay({lr!r}, {steps})"
    if schedule == "warmup_cosine":
        warmup = max(1, steps // 20)
        return optim.warmup_cosine(lr, warmup, steps), f"sl.optim.warmup_cosine({lr!r}, {warmup}, {steps})"
    return lr, repr(lr)
