"""``slopes minimize`` and ``slopes race``: run optimizers on a typed formula."""

from __future__ import annotations

import math

import click
import numpy as np

from .. import optim
from ..expr import parse
from ..optim.driver import _ensure_methods
from ..optim.methods_base import METHODS
from ..transforms import hessian, value_and_grad
from ._common import (
    POINT,
    FiniteFloat,
    SlopesCommand,
    as_vector_function,
    check_point,
    debug_option,
    echo_json,
    fmt,
    fmt_vec,
    json_option,
    parse_assignments,
    parse_numbers,
    plot_option,
    require_finite,
    save_figure,
    table,
)

__all__ = ["minimize", "race", "default_learning_rates"]

_ensure_methods()
_METHODS = tuple(sorted(METHODS))
#: methods that take no step size (line search or unit Newton steps).
_NO_LR = frozenset({"newton", "bfgs", "lbfgs"})
#: the method that uses --bounds (a box projection).
_BOXED = "projected_gradient"
#: the method without an optimality measure: only --f-star lets it report success.
_NONSMOOTH = "subgradient"
#: the documented default step size of the adaptive methods (a step of about lr per coordinate).
ADAPTIVE_LR = 0.1
_SCHEDULES = ("constant", "cosine", "warmup_cosine")
_HISTORY_ROWS = 12
_RACE_HEADER = [
    "method",
    "lr",
    "iterations",
    "f/grad/hess evals",
    "final f",
    "grad_norm",
    "converged",
    "time (s)",
]


def _schedule(name: str, lr: float, steps: int):
    if name == "cosine":
        return optim.cosine_decay(lr, steps)
    if name == "warmup_cosine" and steps > 1:
        return optim.warmup_cosine(lr, min(max(1, steps // 20), steps - 1), steps)  # 5% linear warmup
    return lr


def _bounds(text):
    if text is None:
        return None
    b = parse_numbers(text, "--bounds")
    if b.size != 2 or not b[0] < b[1]:
        raise click.BadParameter(
            f"{text!r} is not LO,HI with LO < HI (a box for every coordinate), e.g. --bounds -1,1",
            param_hint="--bounds",
        )
    return float(b[0]), float(b[1])


def _check_start(expr_text: str, variables, f, x0: np.ndarray, bounds=None) -> None:
    """Refuse a start where f or its gradient is not finite: no method can take a step from it."""
    start = x0 if bounds is None else np.clip(x0, *bounds)  # where a boxed run really starts
    value, g = value_and_grad(f)(start)
    require_finite(
        expr_text, variables, start, {"f": value, "gradient": g}, where="a starting point (--x0)"
    )


def _window(paths, bounds=None):
    """(xlim, ylim) around all 2-D paths (and the box), with a margin."""
    pts = np.vstack([np.asarray(p, dtype=float) for p in paths])
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if bounds is not None:
        pts = np.vstack([pts, [bounds[0], bounds[0]], [bounds[1], bounds[1]]])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = np.maximum(0.15 * (hi - lo), 0.5)
    return (lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])


def _plot_runs(f, runs: dict, plot: str, n_vars: int, bounds=None) -> str:
    """Trajectories over the contours for two variables, else the loss curves."""
    from .. import viz

    if n_vars == 2:
        xlim, ylim = _window([r.history.x for r in runs.values()], bounds)
        fig = viz.trajectories(f, runs, xlim, ylim, bounds=bounds)
    else:
        values = np.concatenate([r.history.f for r in runs.values()])
        fig = viz.loss_curves(runs, log=bool(np.all(values[np.isfinite(values)] > 0)))
    return save_figure(fig, plot)


def _result_dict(r) -> dict:
    return {
        "method": r.method,
        "x": r.x,
        "fun": float(r.fun),
        "grad_norm": float(r.grad_norm),
        "x_best": r.x_best,
        "fun_best": float(r.fun_best),
        "nit": int(r.nit),
        "nfev": int(r.nfev),
        "ngev": int(r.ngev),
        "nhev": int(r.nhev),
        "success": bool(r.success),
        "message": r.message,
        "time": float(r.elapsed),
    }


def _history_rows(r) -> list[list[str]]:
    n = len(r.history)
    keep = np.unique(np.linspace(0, n - 1, min(n, _HISTORY_ROWS)).round().astype(int))
    h = r.history
    rows = [[str(k), fmt(h.f[k], 12), fmt(h.grad_norm[k], 4), fmt(h.step_size[k], 4)] for k in keep]
    return rows


@click.command(
    "minimize",
    cls=SlopesCommand,
    epilog="""\b
Examples:
  slopes minimize "(1-x)^2 + 100*(y-x^2)^2" --x0 -1.2,1 --method lbfgs
  slopes minimize "x^2 + 10*y^2" --x0 -3,-1 --method gd --lr 0.05 --plot gd.png
  slopes minimize "x^2 + 10*y^2" --x0 3,2 --method adam --lr 0.3 --schedule cosine --maxiter 300
  slopes minimize "(x-2)^2 + (y+2)^2" --x0 0,0 --bounds -1,1 --json
  slopes minimize "abs(x) + abs(y)" --x0 1,2 --method subgradient --f-star 0""",
)
@click.argument("expr")
@click.option("--x0", "x0", type=POINT, required=True, help="Starting point, one number per variable.")
@click.option(
    "--method",
    type=click.Choice(_METHODS),
    help="The optimizer (default lbfgs; projected_gradient with --bounds).",
)
@click.option("--lr", type=FiniteFloat(min=0, min_open=True), help="Step size (methods that take one).")
@click.option(
    "--schedule",
    type=click.Choice(_SCHEDULES),
    default="constant",
    show_default=True,
    help="Step-size schedule over --maxiter iterations (needs --lr).",
)
@click.option("--bounds", "bounds_text", metavar="LO,HI", help="Box LO <= x_i <= HI for every coordinate.")
@click.option("--maxiter", type=click.IntRange(min=1), help="Iteration limit (default: the method's).")
@click.option("--gtol", type=FiniteFloat(min=0), help="Gradient tolerance (default: eps^(1/3)).")
@click.option(
    "--f-star",
    "f_star",
    type=FiniteFloat(),
    metavar="FLOAT",
    help="The optimal value, if known (subgradient only): "
    "success when f_best - f_star <= gtol*(1 + |f_star|).",
)
@plot_option
@json_option
@debug_option
def minimize(expr, x0, method, lr, schedule, bounds_text, maxiter, gtol, f_star, plot, as_json):
    """Minimize EXPR from --x0 with one method: the result and the history of the run.

    --plot draws the path over the contours for two variables, else the loss curve.
    --json prints x, fun, nit, nfev, success, message and the history as lists
    (one entry per iteration, row 0 is the start; null stands for nan).

    subgradient (for a nonsmooth f such as abs(x) + abs(y)) steps x - t_k g_k along any
    subgradient g_k with t_k = lr/sqrt(k + 1) (lr defaults to 1; a --schedule gives t_k
    itself) and keeps the best point, as f may go up. A nonsmooth f has no gradient test,
    so it reports success only with --f-star, the optimal value, once the best f is
    within gtol*(1 + |f_star|) of it.
    """
    e = parse(expr)
    x0 = check_point(x0, e.variables, "--x0")
    bounds = _bounds(bounds_text)
    method = method or (_BOXED if bounds is not None else "lbfgs")
    if bounds is not None and method != _BOXED:
        raise click.BadParameter(
            f"only --method {_BOXED} uses a box; {method} would ignore it", param_hint="--bounds"
        )
    if lr is not None and method in _NO_LR:
        raise click.BadParameter(
            f"{method} takes no step size (it has its own step rule); drop --lr", param_hint="--lr"
        )
    if f_star is not None and method != _NONSMOOTH:
        raise click.BadParameter(
            f"only --method {_NONSMOOTH} uses the optimal value; {method} judges success by its "
            "gradient (--gtol)",
            param_hint="--f-star",
        )
    if schedule != "constant" and lr is None:
        raise click.BadParameter(
            f"a {schedule} schedule needs a peak step size: add --lr", param_hint="--schedule"
        )
    steps = maxiter or METHODS[method].default_maxiter
    learning_rate = None if lr is None else _schedule(schedule, lr, steps)
    f = as_vector_function(e)
    _check_start(expr, e.variables, f, x0, bounds)
    r = optim.minimize(
        f,
        x0,
        method=method,
        learning_rate=learning_rate,
        bounds=bounds,
        maxiter=maxiter,
        gtol=gtol,
        f_star=f_star,
        record_x=True,
    )
    out = _result_dict(r)
    out["history"] = r.history.as_dict()
    if plot is not None:
        label = method if lr is None else f"{method}, lr={fmt(lr, 4)}"
        out["plot"] = _plot_runs(f, {label: r}, plot, len(e.variables), bounds)
    if as_json:
        echo_json(out)
        return
    click.echo(f"minimize f = {e} from x0 = {fmt_vec(x0)} with {method}")
    rows = [
        ["x", fmt_vec(r.x, 12)],
        ["fun", fmt(r.fun, 15)],
        ["grad_norm", fmt(r.grad_norm, 4)],
        ["nit", str(r.nit)],
        ["nfev / ngev / nhev", f"{r.nfev} / {r.ngev} / {r.nhev}"],
        ["success", str(r.success)],
        ["message", r.message],
        ["time", f"{r.elapsed:.3g} s"],
    ]
    if method == _NONSMOOTH:  # not a descent method: the last iterate is not the best one
        rows[2:2] = [["x_best", fmt_vec(r.x_best, 12)], ["fun_best", fmt(r.fun_best, 15)]]
    click.echo(table(rows, ["result", ""]))
    if method == _NONSMOOTH and f_star is None:
        click.echo("(subgradient has no optimality test: give --f-star, the optimal value, to judge success)")
    click.echo("")
    click.echo(table(_history_rows(r), ["iter", "f", "grad_norm", "|step|"]))
    if plot is not None:
        click.echo(f"figure written to {out['plot']}")


def default_learning_rates(f, x0: np.ndarray, methods) -> tuple[dict[str, float | None], float]:
    """Fair default step sizes for ``methods`` at ``x0``, and the curvature ``L`` they use.

    ``L`` is the largest absolute eigenvalue of the Hessian at ``x0`` (a local estimate of
    the gradient's Lipschitz constant). gd, momentum, nesterov and projected_gradient get
    ``1/L`` (GD's classical safe step; 1/L if the Hessian is 0 falls back to 0.01); the
    adaptive methods (adam, adamw, rmsprop, adagrad) get :data:`ADAPTIVE_LR` = 0.1, since their
    step is about ``lr`` per coordinate whatever the curvature; newton, bfgs and lbfgs take none.

    Examples
    --------
    >>> import numpy as np
    >>> lrs, L = default_learning_rates(lambda v: v[0] ** 2 + 5 * v[1] ** 2, np.zeros(2), ["gd", "adam", "newton"])
    >>> lrs, L
    ({'gd': 0.1, 'adam': 0.1, 'newton': None}, 10.0)
    """
    H = np.asarray(hessian(f)(x0), dtype=np.float64)
    eig = np.linalg.eigvalsh(0.5 * (H + H.T))
    L = float(np.max(np.abs(eig))) if eig.size else 0.0
    curvature_lr = 1.0 / L if np.isfinite(L) and L > 0 else 0.01
    out: dict[str, float | None] = {}
    for m in methods:
        if m in _NO_LR:
            out[m] = None
        elif m in ("adam", "adamw", "rmsprop", "adagrad"):
            out[m] = ADAPTIVE_LR
        else:
            out[m] = curvature_lr
    return out, L


def _lr_assignments(text: str, stepped: list[str]) -> dict[str, float]:
    """``--lr``: NAME=LR pairs, or one number for every method that takes a step size."""
    try:
        value = float(text)
    except ValueError:
        return parse_assignments(text)
    return dict.fromkeys(stepped, value)


def _race_methods(text: str) -> list[str]:
    names = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in names if m not in METHODS]
    if not names or unknown:
        raise click.BadParameter(
            f"unknown method(s) {', '.join(map(repr, unknown)) or '(none given)'}; choose from {', '.join(_METHODS)}",
            param_hint="--methods",
        )
    if len(set(names)) != len(names):
        raise click.BadParameter("a method is listed twice", param_hint="--methods")
    if _BOXED in names:
        raise click.BadParameter(
            f"{_BOXED} needs a box; use slopes minimize --bounds for it", param_hint="--methods"
        )
    return names


@click.command(
    "race",
    cls=SlopesCommand,
    epilog="""\b
Examples:
  slopes race "x^2 + 10*y^2" --x0 -3,-1
  slopes race "(1-x)^2 + 100*(y-x^2)^2" --x0 -1.2,1 --methods gd,adam,lbfgs --lr gd=0.001,adam=0.05
  slopes race "x^2 + 10*y^2" --x0 3,2 --maxiter 500 --plot race.png --json

\b
Default step sizes (override any with --lr NAME=VALUE):
  gd, momentum, nesterov:          1/L, L = max |eigenvalue| of the Hessian at x0 (0.01 if L = 0)
  adam, adamw, rmsprop, adagrad:   0.1 (their step is about lr per coordinate)
  newton, bfgs, lbfgs:             none (unit Newton steps / line search)""",
)
@click.argument("expr")
@click.option("--x0", "x0", type=POINT, required=True, help="Starting point, one number per variable.")
@click.option(
    "--methods",
    "methods_text",
    default="gd,momentum,adam,newton,lbfgs",
    show_default=True,
    help=f"Comma-separated methods to race, from: {', '.join(m for m in _METHODS if m != _BOXED)}.",
)
@click.option(
    "--lr",
    "lr_text",
    metavar="NAME=LR,...",
    help="Step sizes per method, e.g. gd=0.01,adam=0.1 (one number: for every method that takes one).",
)
@click.option(
    "--maxiter", type=click.IntRange(min=1), default=2000, show_default=True, help="Iteration limit."
)
@plot_option
@json_option
@debug_option
def race(expr, x0, methods_text, lr_text, maxiter, plot, as_json):
    """Race several optimizers on EXPR from the same start: iterations, evaluations, final f, time.

    Every method gets the same start, gradient tolerance and iteration limit. The
    table counts iterations and evaluations of f (nfev), of the gradient (ngev) and
    of the Hessian (nhev); time is wall time. --plot draws every path over the
    contours for two variables, else the loss curves, with each step size in the legend.
    """
    e = parse(expr)
    x0 = check_point(x0, e.variables, "--x0")
    methods = _race_methods(methods_text)
    f = as_vector_function(e)
    _check_start(expr, e.variables, f, x0)
    lrs, L = default_learning_rates(f, x0, methods)
    chosen = {m: "default" for m in methods}
    if lr_text is not None:
        try:
            given = _lr_assignments(lr_text, [m for m in methods if m not in _NO_LR])
        except ValueError as err:
            raise click.BadParameter(str(err).partition(": ")[2], param_hint="--lr") from None
        for m, v in given.items():
            if m not in methods:
                raise click.BadParameter(
                    f"{m!r} is not one of --methods ({', '.join(methods)})", param_hint="--lr"
                )
            if m in _NO_LR:
                raise click.BadParameter(
                    f"{m} takes no step size (it has its own step rule)", param_hint="--lr"
                )
            if not (v > 0 and math.isfinite(v)):
                raise click.BadParameter(
                    f"the step size of {m} must be a finite number > 0, got {v}", param_hint="--lr"
                )
            lrs[m], chosen[m] = v, "given"
    runs = {
        m: optim.minimize(f, x0, method=m, learning_rate=lrs[m], maxiter=maxiter, record_x=True)
        for m in methods
    }
    out = {
        "expression": str(e),
        "x0": x0,
        "L": L,
        "runs": {
            m: {**_result_dict(r), "lr": lrs[m], "lr_source": chosen[m] if lrs[m] else None}
            for m, r in runs.items()
        },
    }
    if plot is not None:
        labelled = {(m if lrs[m] is None else f"{m}, lr={fmt(lrs[m], 3)}"): r for m, r in runs.items()}
        out["plot"] = _plot_runs(f, labelled, plot, len(e.variables))
    if as_json:
        echo_json(out)
        return
    click.echo(f"race on f = {e} from x0 = {fmt_vec(x0)} (L = {fmt(L, 6)} at x0, maxiter {maxiter})")
    rows = [
        [
            m,
            "-" if lrs[m] is None else fmt(lrs[m], 4) + ("" if chosen[m] == "given" else "*"),
            str(r.nit),
            f"{r.nfev}/{r.ngev}/{r.nhev}",
            fmt(r.fun, 10),
            fmt(r.grad_norm, 3),
            "yes" if r.success else "no",
            f"{r.elapsed:.3g}",
        ]
        for m, r in runs.items()
    ]
    click.echo(table(rows, _RACE_HEADER))
    if any(chosen[m] == "default" and lrs[m] is not None for m in methods):
        click.echo("* default step size (see slopes race --help)")
    if plot is not None:
        click.echo(f"figure written to {out['plot']}")
