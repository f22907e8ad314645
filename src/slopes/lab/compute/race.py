"""The Optimizer race page: several methods from one clicked start, their paths over the contours and
their loss curves, with presets from theory (step 1/L, the optimal heavy-ball beta) and the predicted
rate beside the observed one.

Examples
--------
>>> page = race_page({"formula": "x^2 + 10*y^2", "x0": [-3.0, 1.0], "methods": ["gd", "newton"], "lr": 0.05})
>>> page["numbers"]["nit"]["newton"], page["runs"]["gd"]["success"]
(1, True)
"""

from __future__ import annotations

import numpy as np

from ...optim import minimize, presets
from ..inputs import LabInputError, choice, formula, integer, number, point, window
from ..limits import LIMITS, Deadline
from .common import SCHEDULES, array_code, code_lines, contour_field, finite_list, learning_rate, require_defined, thin
from .staged import staged

__all__ = ["METHODS", "race_page"]

#: The methods of the race, in the order the page lists them.
METHODS = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton", "lbfgs", "projected_gradient")
_STEPPED = ("gd", "momentum", "nesterov", "projected_gradient")
_ADAPTIVE = ("adagrad", "rmsprop", "adam")
_WITH_BETA = ("momentum", "nesterov")
#: Points of a path or a loss curve sent to the page (the runs keep every iterate).
MAX_DRAWN = 600


def race_page(body: dict) -> dict:
    """Race the chosen methods from ``x0`` on the formula; everything the race page draws.

    Parameters
    ----------
    body : dict
        ``formula`` (in x, y), ``x0``, ``methods``, ``lr`` (gd, momentum, nesterov, projected
        gradient), ``adaptive_lr`` (adagrad, rmsprop, adam), ``beta``, ``schedule``, ``maxiter``,
        ``box`` (``[[xlo, xhi], [ylo, yhi]]`` for projected gradient), ``preset`` (``"manual"`` or
        ``"theory"``: gd, momentum and nesterov take the steps and betas of
        :func:`slopes.optim.presets.for_problem` at ``x0``), ``xlim``, ``ylim``, ``n``.

    Returns
    -------
    dict
        ``runs`` (per method: the path and loss curve thinned to MAX_DRAWN points, iterations,
        final f, success, message, the step size and beta used, the observed rate), ``numbers``
        (iterations and final f per method), ``theory`` (L, mu and the presets), ``contours``
        and ``code``.

    Examples
    --------
    >>> race_page({"formula": "x^2", "x0": [1.0, 1.0], "methods": ["sgd"]})
    Traceback (most recent call last):
    ...
    slopes.lab.inputs.LabInputError: methods: unknown sgd; choose from gd, momentum, nesterov, adagrad, rmsprop, adam, newton, lbfgs, projected_gradient
    """
    f = formula(body, ("x", "y"))
    x0 = point(body, "x0", [-2.0, 2.0], size=2, bound=1e4)
    methods = _methods(body)
    lr = number(body, "lr", 0.05, lo=1e-6, hi=100.0)
    adaptive_lr = number(body, "adaptive_lr", 0.1, lo=1e-6, hi=100.0)
    beta = number(body, "beta", 0.9, lo=0.0, hi=0.999)
    schedule = choice(body, "schedule", "constant", SCHEDULES)
    maxiter = integer(body, "maxiter", 500, lo=1, hi=LIMITS.max_iterations)
    if maxiter * len(methods) > LIMITS.max_race_iterations:
        raise LabInputError(
            f"{len(methods)} methods x {maxiter} iterations is over the lab's budget of "
            f"{LIMITS.max_race_iterations} iterations per race; lower maxiter or race fewer methods"
        )
    preset = choice(body, "preset", "manual", ("manual", "theory"))
    xlim = window(body, "xlim", [-3.0, 3.0])
    ylim = window(body, "ylim", [-3.0, 3.0])
    n = integer(body, "n", 81, lo=11, hi=LIMITS.max_grid)
    box = _box(body) if "projected_gradient" in methods else None

    require_defined(f, x0)
    if box is not None:
        require_defined(f, np.clip(x0, box[:, 0], box[:, 1]), "the start point projected onto the box")
    theory = _theory(f, x0)
    deadline = Deadline(LIMITS.seconds)
    runs, used, lines = {}, {}, []
    compiled = staged(f)  # traced once per formula, not once per method and request
    for m in methods:
        kw, kw_code, step = _options(m, lr, adaptive_lr, beta, schedule, maxiter, preset, theory, box)
        r = minimize(compiled.value_and_grad, x0, jac=True, hess=compiled.hessian, method=m, maxiter=maxiter,
                     record_x=True, callback=deadline, **kw)
        runs[m] = r
        used[m] = {"lr": step, "beta": kw.get("beta")}
        lines.append(f'    "{m}": sl.minimize(f, x0, method="{m}"{kw_code}, maxiter={maxiter}),')
    best = min((r for r in runs.values() if np.isfinite(r.fun_best)), key=lambda r: r.fun_best, default=None)
    x_star = None if best is None else best.x_best
    out_runs = {
        m: {
            **_run_json(r, x_star, deadline),
            **used[m],
            "predicted_rate": theory["presets"].get(m, {}).get("rate") if preset == "theory" else None,
        }
        for m, r in runs.items()
    }
    code = code_lines(
        [
            f'f = sl.parse("{f}", variables=("x", "y"))',
            f"x0 = {array_code(x0)}",
            "runs = {",
            *lines,
            "}",
            "nit = {m: r.nit for m, r in runs.items()}",
            "fun = {m: r.fun for m, r in runs.items()}",
            "success = {m: r.success for m, r in runs.items()}",
            "for m, r in runs.items():",
            "    print(m, r.nit, r.fun, r.message)",
        ]
    )
    return {
        "runs": out_runs,
        "numbers": {
            "nit": {m: int(r.nit) for m, r in runs.items()},
            "fun": {m: float(r.fun) if np.isfinite(r.fun) else None for m, r in runs.items()},
            "success": {m: bool(r.success) for m, r in runs.items()},
        },
        "theory": theory,
        "box": None if box is None else finite_list(box),
        "contours": contour_field(f, xlim, ylim, n),
        "code": code,
    }


def _methods(body) -> list[str]:
    raw = body.get("methods", ["gd", "momentum", "adam"])
    if not isinstance(raw, list) or not raw or not all(isinstance(m, str) for m in raw):
        raise LabInputError(f"methods must be a non-empty list of names from {', '.join(METHODS)}")
    unknown = [m for m in raw if m not in METHODS]
    if unknown:
        raise LabInputError(f"methods: unknown {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    return list(dict.fromkeys(raw))


def _box(body) -> np.ndarray:
    raw = body.get("box", [[-1.0, 1.0], [-1.0, 1.0]])
    if not isinstance(raw, list) or len(raw) != 2:
        raise LabInputError(f"box must be [[xlo, xhi], [ylo, yhi]] for projected_gradient, got {raw!r}")
    return np.array([window({"box": side}, "box", None) for side in raw])


def _theory(f, x0) -> dict:
    """L and mu from the Hessian at x0 (exact for a quadratic) and the presets of :mod:`slopes.optim.presets`."""
    try:
        with np.errstate(all="ignore"):
            gd = presets.for_problem(f, x0, "gd")
    except ValueError as e:  # no curvature at x0: the page says why
        return {"L": None, "mu": None, "presets": {}, "note": f"no theory preset: {e}"}
    tuned = {"gd": gd}
    if gd.mu > 0:
        tuned.update({m: presets.PRESETS[m](gd.L, gd.mu) for m in ("momentum", "nesterov")})
    note = "" if gd.mu > 0 else "mu = 0 at the start: no condition number, so only gd's step 1/L has a preset"
    return {
        "L": gd.L,
        "mu": gd.mu,
        "presets": {
            m: {"learning_rate": p.learning_rate, "beta": p.beta, "rate": p.rate, "rule": p.rule}
            for m, p in tuned.items()
        },
        "note": note,
    }


def _options(m, lr, adaptive_lr, beta, schedule, maxiter, preset, theory, box) -> tuple[dict, str, float | None]:
    """The keyword arguments of method ``m``, the same as code text, and its (peak) step size."""
    kw, code, step = {}, "", None
    if preset == "theory" and m in theory["presets"]:
        p = theory["presets"][m]
        lr, beta = p["learning_rate"], p["beta"] if p["beta"] is not None else beta
    if m in _STEPPED or m in _ADAPTIVE:
        step = adaptive_lr if m in _ADAPTIVE else lr
        kw["learning_rate"], step_code = learning_rate(schedule, step, maxiter)
        code += f", learning_rate={step_code}"
    if m in _WITH_BETA:
        kw["beta"] = beta
        code += f", beta={beta!r}"
    if m == "projected_gradient":
        kw["bounds"] = [tuple(side) for side in box.tolist()]
        code += f", bounds={kw['bounds']!r}"
    return kw, code, step


def _rate(path, x_star):
    if x_star is None:
        return None
    rate = presets.observed_rate(path, x_star)
    return rate if np.isfinite(rate) else None


def _run_json(r, x_star, deadline) -> dict:
    h = r.history.as_dict()
    steps = np.arange(len(h["f"]))
    keep = thin(steps, MAX_DRAWN)
    message = r.message
    if r.status == 3 and deadline.passed():
        message = f"stopped at the lab's time budget of {deadline.seconds:g} s after {r.nit} iterations"
    return {
        "path": finite_list(np.asarray(h["x"])[keep]),
        "steps": keep.tolist(),
        "f": finite_list(np.asarray(h["f"])[keep]),
        "nit": int(r.nit),
        "fun": float(r.fun) if np.isfinite(r.fun) else None,
        "success": bool(r.success),
        "message": message,
        "observed_rate": _rate(h["x"], x_star),
    }
