"""``slopes diff``, ``slopes grad`` and ``slopes taylor``: derivatives of a typed formula."""

from __future__ import annotations

import math

import click
import numpy as np

from .. import analysis, symbolic
from ..expr import parse
from ..expr.budget import BudgetError, symbolic_work
from ..taylor import check_taylor_work
from ..taylor import taylor as taylor_polynomial
from ..transforms import derivative, grad
from ._common import (
    POINT,
    SlopesCommand,
    as_vector_function,
    check_point,
    debug_option,
    echo_json,
    fmt,
    fmt_vec,
    json_option,
    plot_option,
    require_finite,
    save_figure,
)

__all__ = ["diff", "grad_command", "taylor"]


def _sympy_value(sym, variables, point) -> float:
    """A sympy expression evaluated at the point by sympy itself (nan when not a real number)."""
    subs = {v: float(p) for v, p in zip(variables, point)}
    try:
        with symbolic_work("evaluating the exact derivative", ask_for_less="ask for a lower order"):
            value = complex(sym.evalf(subs={s: subs[s.name] for s in sym.free_symbols}, n=17))
    except BudgetError:  # a ValueError too, but not "no real value": say it
        raise
    except (TypeError, ValueError, KeyError, ZeroDivisionError):  # complex, zoo, a pole in mpmath
        return math.nan
    return value.real if value.imag == 0 else math.nan


def _partial(expr, index: int, point: np.ndarray, order: int) -> float:
    """The ``order``-th partial derivative in variable ``index`` at ``point``, by AD on the 1-D slice."""
    f = as_vector_function(expr)

    def slice_(t):
        return f([point[j] if j != index else t for j in range(point.size)])

    return float(derivative(slice_, order=order)(float(point[index])))


@click.command(
    "diff",
    cls=SlopesCommand,
    epilog="""\b
Examples:
  slopes diff "x^3 + 2*x - 5" --at 2
  slopes diff "x1^2*x2 + sin(x1)" --wrt x1 --order 2 --at 1,2
  slopes diff --at -1 -- "-x^4"        (an expression starting with '-' goes after '--')
  slopes diff "exp(-x^2)" --order 3 --json""",
)
@click.argument("expr")
@click.option("--wrt", metavar="VAR", help="Differentiate by this variable only (default: by each variable).")
@click.option("--order", "-n", type=click.IntRange(1, 50), default=1, show_default=True, help="Order n.")
@click.option(
    "--at", "at", type=POINT, help="Also evaluate at this point, e.g. --at 1,-2 (one number per variable)."
)
@json_option
@debug_option
def diff(expr, wrt, order, at, as_json):
    """Exact n-th derivative of EXPR (sympy), and AD against sympy at a point.

    EXPR is a formula such as "x^2*y + exp(-x)" (see slopes.parse for the grammar).
    Without --wrt every partial derivative is shown. With --at, the derivative is
    evaluated twice: by slopes' automatic differentiation and by sympy from the
    exact formula; the two columns should agree to rounding. A point where f or the
    derivative is not finite (outside the domain, a pole) is refused with one line (exit 1),
    and so is symbolic work past the limits of sl.budget (a formula nested too deeply
    for sympy, an exact number of more than 1,000 digits, about 5 s of sympy work), with
    the limit named.
    """
    e = parse(expr)
    variables = e.variables
    if not variables:
        raise click.BadParameter(
            f"{expr!r} has no variables, so there is nothing to differentiate", param_hint="EXPR"
        )
    if wrt is not None and wrt not in variables:
        raise click.BadParameter(
            f"the expression has no variable {wrt!r}; its variables are {', '.join(variables)}",
            param_hint="--wrt",
        )
    wrt_vars = [wrt] if wrt is not None else list(variables)
    exact = {v: symbolic.diff(e, v, order) for v in wrt_vars}
    out = {
        "expression": str(e),
        "variables": list(variables),
        "order": order,
        "derivatives": {v: str(d) for v, d in exact.items()},
        "point": None,
    }
    if at is not None:
        point = check_point(at, variables, "--at")
        out["point"] = point
        out["value"] = float(e(*point))
        out["ad"] = {v: _partial(e, variables.index(v), point, order) for v in wrt_vars}
        labels = {f"{_operator(v, order, len(variables))} f": out["ad"][v] for v in wrt_vars}
        require_finite(expr, variables, point, {"f": out["value"], **labels})
        out["symbolic"] = {v: _sympy_value(exact[v], variables, point) for v in wrt_vars}
    if as_json:
        echo_json(out)
        return
    args = ", ".join(variables)
    click.echo(f"f({args}) = {e}")
    for v, d in exact.items():
        click.echo(f"{_operator(v, order, len(variables))} f = {d}")
    if at is not None:
        click.echo(f"at ({args}) = ({', '.join(fmt(p) for p in point)}):  f = {fmt(out['value'], 17)}")
        for v in wrt_vars:
            a, s = out["ad"][v], out["symbolic"][v]
            click.echo(
                f"  {_operator(v, order, len(variables))} f:  AD {fmt(a, 17)}   sympy {fmt(s, 17)}"
                f"   |AD - sympy| {fmt(abs(a - s), 3)}"
            )


def _operator(var: str, order: int, n_vars: int) -> str:
    d = "∂" if n_vars > 1 else "d"
    return f"{d}/{d}{var}" if order == 1 else f"{d}^{order}/{d}{var}^{order}"


@click.command(
    "grad",
    cls=SlopesCommand,
    epilog="""\b
Examples:
  slopes grad "x^2 + 3*y^2 - x*y" --at 1,2
  slopes grad "x^2 - y^2" --at 0,0 --hessian
  slopes grad "(1-x)^2 + 100*(y-x^2)^2" --at 1,1 --json""",
)
@click.argument("expr")
@click.option(
    "--at", "at", type=POINT, required=True, help="The point, one number per variable, e.g. --at 1,-2."
)
@click.option(
    "--hessian", "show_hessian", is_flag=True, help="Also print the Hessian, its eigenvalues and the kind."
)
@json_option
@debug_option
def grad_command(expr, at, show_hessian, as_json):
    """Gradient of EXPR at a point; with --hessian the Hessian and what kind of point it is.

    The kind comes from the second-derivative test (sl.analysis.classify): 'minimum'
    (all Hessian eigenvalues > 0), 'maximum' (all < 0), 'saddle' (both signs),
    'degenerate' (inconclusive: a zero eigenvalue) or 'not critical' (gradient not 0).
    --json always holds all of them: point, value, gradient, hessian, eigenvalues, kind.
    A point where f, its gradient or its Hessian is not finite (outside the domain, a
    pole, a cusp such as sqrt(x) at 0) is refused with one line (exit 1).
    """
    e = parse(expr)
    point = check_point(at, e.variables, "--at")
    f = as_vector_function(e)
    g = np.asarray(grad(f)(point), dtype=np.float64)
    c = analysis.classify(f, point)
    require_finite(expr, e.variables, point, {"f": c.value, "gradient": g, "Hessian": c.hessian})
    out = {
        "expression": str(e),
        "variables": list(e.variables),
        "point": point,
        "value": float(c.value),
        "gradient": g,
        "gradient_norm": float(np.linalg.norm(g)),
        "hessian": c.hessian,
        "eigenvalues": c.eigenvalues,
        "kind": c.kind,
    }
    if as_json:
        echo_json(out)
        return
    click.echo(f"f({', '.join(e.variables)}) = {e}")
    click.echo(f"at {fmt_vec(point)}:  f = {fmt(c.value, 17)}")
    click.echo(f"  gradient  {fmt_vec(g, 17)}   (norm {fmt(out['gradient_norm'])})")
    if show_hessian:
        click.echo("  hessian")
        for row in c.hessian:
            click.echo(f"    {fmt_vec(row, 17)}")
        click.echo(f"  eigenvalues  {fmt_vec(c.eigenvalues, 12)}")
    click.echo(f"  kind  {c.kind}" + ("" if show_hessian else "   (--hessian shows why)"))


def _plot_orders(order: int) -> tuple[int, ...]:
    # at most four curves keep the figure readable; the requested order is always one of them
    return tuple(range(min(order, 1), order + 1)) if order <= 4 else (1, 2, 3, order)


@click.command(
    "taylor",
    cls=SlopesCommand,
    epilog="""\b
Examples:
  slopes taylor "exp(x)" --at 0 --order 3 --eval 0.1
  slopes taylor "sin(x)" --at 0 --order 5 --plot sin_taylor.png
  slopes taylor "x^2*y + sin(x)" --at 1,2 --order 2 --eval 1.1,2.1 --json""",
)
@click.argument("expr")
@click.option("--at", "at", type=POINT, required=True, help="The center x0, one number per variable.")
@click.option("--order", "-n", type=click.IntRange(0, 30), required=True, help="Degree of the polynomial.")
@click.option(
    "--eval",
    "eval_at",
    type=POINT,
    help="Where to compare the polynomial with EXPR (default: the center plus 0.1 in every coordinate).",
)
@plot_option
@json_option
@debug_option
def taylor(expr, at, order, eval_at, plot, as_json):
    """Taylor polynomial of EXPR about a point, its value and its error at another point.

    The error is f(x) - p(x); 'next term' is the first neglected term of the series,
    an estimate of that error for x close to the center. --plot draws the polynomials
    of several orders against f (one variable only). A center where f or a derivative
    up to the order is not finite, or an --eval point outside f's domain, is refused
    with one line (exit 1). In several variables the order-k derivative tensor costs
    (2D)^k nested forward-mode terms, at most 4^10 (sl.budget): order 9 in 2 variables,
    6 in 3 (the error estimate needs order + 1); larger orders are refused in one line.
    """
    e = parse(expr)
    variables = e.variables
    center = check_point(at, variables, "--at")
    x = center + 0.1 if eval_at is None else check_point(eval_at, variables, "--eval")
    if plot is not None and len(variables) != 1:
        raise click.BadParameter(
            f"draws functions of one variable; this expression has {len(variables)} ({', '.join(variables)})",
            param_hint="--plot",
        )
    univariate = len(variables) == 1
    if not univariate:  # the error estimate needs order + 1: refuse before any work
        check_taylor_work(len(variables), order + 1, remainder=True)
    p = taylor_polynomial(e, float(center[0]) if univariate else center, order)
    derivatives = np.concatenate([np.ravel(d) for d in p.derivatives])
    require_finite(
        expr, variables, center, {"f": e(*center), f"derivatives up to order {order}": derivatives}
    )
    xv = float(x[0]) if univariate else x
    fx, px = float(e(*x)), float(p(xv))
    require_finite(expr, variables, x, {"f": fx}, where="an --eval point")
    out = {
        "expression": str(e),
        "variables": list(variables),
        "center": center,
        "order": order,
        "polynomial": str(p),
        "x": x,
        "f": fx,
        "p": px,
        "error": fx - px,
        "next_term": float(p.remainder_estimate(xv)),
    }
    if plot is not None:
        from ..viz import taylor_approximations

        out["plot"] = save_figure(taylor_approximations(e, float(center[0]), _plot_orders(order)), plot)
    if as_json:
        echo_json(out)
        return
    click.echo(f"Taylor polynomial of order {order} of f = {e} about {fmt_vec(center)}:")
    click.echo(f"  p = {p}")
    click.echo(f"at x = {fmt_vec(x)}:")
    click.echo(f"  f(x) = {fmt(fx, 17)}")
    click.echo(f"  p(x) = {fmt(px, 17)}")
    click.echo(f"  error f(x) - p(x) = {fmt(out['error'], 6)}   (next term {fmt(out['next_term'], 6)})")
    if plot is not None:
        click.echo(f"figure written to {out['plot']}")
