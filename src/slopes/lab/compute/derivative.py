"""The Derivative page: f, the secant at x0 turning into the tangent, f' and f'' by AD, the numeric and
symbolic roads, Taylor polynomials and their error.

Examples
--------
>>> page = derivative_page({"formula": "sin(x)", "x0": 0.0, "h": 0.5, "order": 3})
>>> page["numbers"]["slope"], page["numbers"]["curvature"]
(1.0, 0.0)
>>> page["symbolic"]
'cos(x)'
"""

from __future__ import annotations

import numpy as np

from ... import numeric, symbolic
from ...expr import ExpressionError, budget
from ...taylor import taylor
from ...transforms import derivative, elementwise_grad
from ..inputs import LabInputError, formula, integer, number, window
from ..limits import LIMITS
from .common import code_lines, finite_list

__all__ = ["SYMBOLIC_STEPS", "derivative_page"]

#: sympy's budget for f' on this page (about a second; slopes' default allows about five).
SYMBOLIC_STEPS = 1_000_000


def derivative_page(body: dict) -> dict:
    """Compute everything the Derivative page draws, from the request ``body``.

    Parameters
    ----------
    body : dict
        ``formula`` (in x), ``x0``, ``h`` (secant step), ``order`` (Taylor), ``xlim``, ``n`` (points).

    Returns
    -------
    dict
        ``numbers`` (value, slope, curvature, secant slope, numeric slope and its error estimate,
        symbolic slope), ``curves`` (x, f, f', f'', the Taylor polynomial, its error), ``taylor``
        (its text), ``symbolic`` (f' by sympy) and ``code`` (reproducing ``numbers``).

    Examples
    --------
    >>> derivative_page({"formula": "log(x)", "x0": -1.0})
    Traceback (most recent call last):
    ...
    slopes.lab.inputs.LabInputError: f is not defined at x0 = -1: f(x0) = nan; pick x0 inside its domain
    """
    f = formula(body, ("x",))
    x0 = number(body, "x0", 0.5, lo=-1e4, hi=1e4)
    h = number(body, "h", 0.5, lo=1e-8, hi=1e3)
    order = integer(body, "order", 3, lo=0, hi=LIMITS.max_taylor_order)
    xlim = window(body, "xlim", [x0 - 3.0, x0 + 3.0])
    n = integer(body, "n", 241, lo=11, hi=LIMITS.max_curve)

    d1, d2 = derivative(f), derivative(f, order=2)
    with np.errstate(all="ignore"):
        value = float(f(x0))
        if not np.isfinite(value):
            raise LabInputError(f"f is not defined at x0 = {x0:g}: f(x0) = {value:g}; pick x0 inside its domain")
        numbers = {
            "value": value,
            "slope": float(d1(x0)),
            "curvature": float(d2(x0)),
            "secant": float((f(x0 + h) - f(x0)) / h),
        }
        est = numeric.derivative(f, x0, full_output=True)
        numbers["numeric_slope"], numbers["numeric_error"] = float(est.value), float(est.error)
        poly = taylor(f, x0, order)
        xs = np.linspace(*xlim, n)
        fx = np.broadcast_to(np.asarray(f(xs), dtype=np.float64), xs.shape)
        defined = np.isfinite(fx)
        # f' and f'' where f itself is defined: no value drawn from outside the domain
        df = np.where(defined, elementwise_grad(f)(xs), np.nan)
        d2f = np.where(defined, elementwise_grad(elementwise_grad(f))(xs), np.nan)
        tx = np.broadcast_to(np.asarray(poly(xs), dtype=np.float64), xs.shape)
    sym_text, note = _symbolic(f, x0, numbers)
    text = str(f)
    code = code_lines(
        [
            f'f = sl.parse("{text}")',
            f"x0, h = {x0!r}, {h!r}",
            "value = f(x0)",
            "slope = sl.derivative(f)(x0)                 # f'(x0) by AD",
            "curvature = sl.derivative(f, order=2)(x0)    # f''(x0) by AD",
            "secant = (f(x0 + h) - f(x0)) / h",
            "est = sl.numeric.derivative(f, x0, full_output=True)",
            "numeric_slope, numeric_error = est.value, est.error",
            *(
                [
                    'df = sl.symbolic.diff(f)                    # exact, by sympy',
                    "symbolic_slope = sl.symbolic.to_function(df)(x0)",
                ]
                if "symbolic_slope" in numbers
                else []
            ),
            f"T = sl.taylor(f, x0, {order})                   # the Taylor polynomial",
            "print(T)",
        ]
    )
    return {
        "numbers": numbers,
        "curves": {
            "x": finite_list(xs),
            "f": finite_list(fx),
            "df": finite_list(df),
            "d2f": finite_list(d2f),
            "taylor": finite_list(tx),
            "taylor_error": finite_list(np.abs(fx - tx)),
        },
        "taylor": str(poly),
        "symbolic": sym_text,
        "notes": [note] if note else [],
        "code": code,
    }


def _symbolic(f, x0, numbers) -> tuple[str, str]:
    """f' by sympy and its value at x0 (into ``numbers``); a refused symbolic road gives a note."""
    try:
        with budget(max_symbolic_steps=SYMBOLIC_STEPS, max_simplify_steps=SYMBOLIC_STEPS // 10):
            df = symbolic.diff(f)
        value = float(symbolic.to_function(df)(x0))
    except (ExpressionError, TypeError, ValueError) as e:
        return "", f"symbolic road not taken: {e}"
    if np.isfinite(value):
        numbers["symbolic_slope"] = value
    return str(df), ""
