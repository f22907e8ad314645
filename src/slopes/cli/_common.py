"""Shared plumbing of the ``slopes`` command: one-line errors, point parsing, output helpers."""

from __future__ import annotations

import json
import math
import sys

import click
import numpy as np

__all__ = [
    "SlopesCommand",
    "SlopesGroup",
    "as_vector_function",
    "check_point",
    "echo_json",
    "fmt",
    "FiniteFloat",
    "fmt_vec",
    "json_ready",
    "parse_assignments",
    "parse_numbers",
    "POINT",
    "point_text",
    "require_finite",
]

_DEBUG_KEY = "slopes.debug"
# click >= 8.2 signals "no subcommand given: show the help" with this UsageError subclass
_NoArgsIsHelp = getattr(click.exceptions, "NoArgsIsHelpError", ())


def one_line(message: str) -> str:
    """``message`` with every run of whitespace (newlines too) collapsed to one space.

    Examples
    --------
    >>> one_line("first line\\n   second  line ")
    'first line second line'
    """
    return " ".join(str(message).split())


def _debug_on(ctx: click.Context | None) -> bool:
    return bool(ctx is not None and ctx.find_root().meta.get(_DEBUG_KEY))


def _set_debug(ctx: click.Context, _param, value: bool) -> bool:
    if value:
        ctx.find_root().meta[_DEBUG_KEY] = True
    return value


def debug_option(f):
    """The ``--debug`` flag (shows the full traceback of an error); accepted by the group and every command."""
    return click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_debug,
        help="Show the full Python traceback when something fails.",
    )(f)


class SlopesCommand(click.Command):
    """A command whose errors become one ``click.ClickException`` line (the traceback only with ``--debug``).

    NumPy's floating-point warnings are silenced while it runs: each command checks the
    values it prints (:func:`require_finite`, an optimizer's divergence test) and says in
    one line what is not finite, instead of warnings that point into slopes' own files.
    """

    def invoke(self, ctx: click.Context):
        try:
            with np.errstate(all="ignore"):
                return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as e:  # any library error: the user sees its message, not a traceback
            if _debug_on(ctx):
                raise
            raise click.ClickException(f"{type(e).__name__}: {one_line(e)}") from e


class SlopesGroup(click.Group):
    """The ``slopes`` group: usage errors and failures are printed as one line on stderr.

    click's own standalone mode prints usage errors on three lines; this one prints
    ``Error: <message> (see 'slopes CMD --help')`` and exits with the exception's code
    (2 for usage errors, 1 for failures).
    """

    command_class = SlopesCommand

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _NoArgsIsHelp as e:  # bare "slopes": the help text, as click prints it
            e.show()
            sys.exit(e.exit_code)
        except click.UsageError as e:
            click.echo(f"Error: {_usage_message(e)}", err=True)
            sys.exit(e.exit_code)
        except click.ClickException as e:
            click.echo(f"Error: {one_line(e.format_message())}", err=True)
            sys.exit(e.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


def _usage_message(e: click.UsageError) -> str:
    msg = one_line(e.format_message()).rstrip(".")
    ctx = e.ctx
    path = ctx.command_path if ctx is not None else "slopes"
    if msg.startswith("No such option") and "'--" not in msg and ctx is not None:
        params = ctx.command.get_params(ctx)
        if any(isinstance(p, click.Argument) and p.name == "expr" for p in params):
            # a short "option" such as -x is most often an expression that starts with a minus sign
            msg += f"; an expression starting with '-' goes after '--', e.g. {path} [OPTIONS] -- '-x^2'"
        else:  # a command without an expression: say which options it has
            names = [o for p in params if isinstance(p, click.Option) for o in p.opts if o.startswith("--")]
            msg += f"; {path} takes {', '.join(names)}"
    return f"{msg} (see '{path} --help')"


# ----------------------------------------------------------------------------- parsing


def parse_numbers(text: str, what: str = "value") -> np.ndarray:
    """Comma-separated numbers as a float64 vector (brackets and spaces allowed).

    Examples
    --------
    >>> parse_numbers("-3,-1")
    array([-3., -1.])
    >>> parse_numbers("[1, 2.5e-1]")
    array([1.  , 0.25])
    >>> parse_numbers("1,a", "--at")
    Traceback (most recent call last):
    ...
    ValueError: --at: '1,a' is not a list of numbers; write comma-separated numbers such as 1,-2.5
    """
    body = str(text).strip().strip("[]()")
    try:
        values = [float(v) for v in body.split(",")]
    except ValueError:
        raise ValueError(
            f"{what}: {text!r} is not a list of numbers; write comma-separated numbers such as 1,-2.5"
        ) from None
    arr = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what}: {text!r} holds a non-finite number; use finite values")
    return arr


class _PointType(click.ParamType):
    """click type: ``"1,-2"`` -> ``array([1., -2.])``."""

    name = "POINT"

    def convert(self, value, param, ctx):
        if isinstance(value, np.ndarray):
            return value
        try:
            return parse_numbers(value)
        except ValueError as e:  # click names the option itself: drop parse_numbers' "value: " prefix
            self.fail(str(e).partition(": ")[2], param, ctx)


POINT = _PointType()


class FiniteFloat(click.FloatRange):
    """click type: a finite number in a range (``click.FloatRange`` lets ``nan`` and ``inf`` through).

    Examples
    --------
    >>> import click
    >>> FiniteFloat(min=0, min_open=True).convert("0.5", None, None)
    0.5
    >>> FiniteFloat(min=0, min_open=True).convert("nan", None, None)
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: 'nan' is not a finite number; give a number > 0
    """

    name = "float"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            bounds = [f"{op} {bound:g}" for op, bound in (
                (">" if self.min_open else ">=", self.min), ("<" if self.max_open else "<=", self.max)
            ) if bound is not None]
            self.fail(f"{value!r} is not a finite number; give a number {' and '.join(bounds) or 'such as 1.5'}",
                      param, ctx)
        return number


def parse_assignments(text: str, what: str = "--lr") -> dict[str, float]:
    """``"gd=0.01,adam=0.1"`` as ``{"gd": 0.01, "adam": 0.1}``.

    Examples
    --------
    >>> parse_assignments("gd=0.01, adam=1e-1")
    {'gd': 0.01, 'adam': 0.1}
    >>> parse_assignments("gd:0.1")
    Traceback (most recent call last):
    ...
    ValueError: --lr: 'gd:0.1' is not NAME=NUMBER; write e.g. --lr gd=0.01,adam=0.1
    """
    out: dict[str, float] = {}
    for item in str(text).split(","):
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or not name or not math.isfinite(number):
            raise ValueError(
                f"{what}: {item.strip()!r} is not NAME=NUMBER; write e.g. {what} gd=0.01,adam=0.1"
            )
        if name in out:
            raise ValueError(f"{what}: {name!r} is given twice")
        out[name] = number
    return out


def check_point(point: np.ndarray, variables, option: str) -> np.ndarray:
    """``point`` if it has one coordinate per variable, else a ``click.BadParameter`` saying so.

    Examples
    --------
    >>> check_point(np.array([1.0, 2.0]), ("x", "y"), "--at")
    array([1., 2.])
    >>> check_point(np.array([1.0]), ("x", "y"), "--at")
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: --at has 1 coordinate but the expression has 2 variables (x, y): ...
    """
    n = len(variables)
    if n == 0:
        raise click.BadParameter("the expression has no variables; there is nothing to evaluate at a point")
    if point.shape != (n,):
        k = point.size
        example = ",".join(str(i + 1) for i in range(n))
        raise click.BadParameter(
            f"{option} has {k} coordinate{'s' * (k != 1)} but the expression has {n} "
            f"variable{'s' * (n != 1)} ({', '.join(variables)}): give one number per variable, "
            f"e.g. {option} {example}"
        )
    return point


def point_text(variables, point) -> str:
    """A point in the user's variables, e.g. ``x=-1, y=0.5``.

    Examples
    --------
    >>> point_text(("x", "y"), np.array([-1.0, 0.5]))
    'x=-1, y=0.5'
    """
    return ", ".join(f"{v}={fmt(p)}" for v, p in zip(variables, np.ravel(point)))


def _shown(value: np.ndarray) -> str:
    if value.ndim == 0:
        return fmt(value)
    if value.size <= 6:
        return fmt_vec(value)
    return f"{np.count_nonzero(~np.isfinite(value))} of {value.size} entries not finite"


def require_finite(expr_text: str, variables, point, values: dict, where: str = "a point") -> None:
    """Refuse, in one line, a point where ``f`` or a derivative of it is not finite.

    ``values`` maps labels to the numbers computed at ``point`` in order (``"f"`` for the
    value itself, then e.g. ``"gradient"``, ``"Hessian"``); the first one holding nan or
    inf raises a ``click.ClickException`` (exit code 1) that names it, the point and what
    to do. ``where`` names the point in that advice (e.g. ``"an --eval point"``).

    Examples
    --------
    >>> require_finite("x^2", ("x",), np.array([1.0]), {"f": 1.0, "gradient": np.array([2.0])})
    >>> require_finite("log(x)", ("x",), np.array([-1.0]), {"f": np.nan})
    Traceback (most recent call last):
    ...
    click.exceptions.ClickException: log(x) is not finite at x=-1 (f = nan): choose a point in its domain
    >>> require_finite("sqrt(x)", ("x",), np.array([0.0]), {"f": 0.0, "gradient": np.array([np.inf])})
    Traceback (most recent call last):
    ...
    click.exceptions.ClickException: sqrt(x) has no finite gradient at x=0 (gradient = [inf]): ...
    """
    at = point_text(variables, point)
    for label, value in values.items():
        value = np.asarray(value, dtype=np.float64)
        if np.all(np.isfinite(value)):
            continue
        if label == "f":
            raise click.ClickException(
                f"{expr_text} is not finite at {at} (f = {_shown(value)}): choose {where} in its domain"
            )
        raise click.ClickException(
            f"{expr_text} has no finite {label} at {at} ({label} = {_shown(value)}): "
            f"choose {where} where it is differentiable"
        )


def as_vector_function(expr):
    """``f(v)`` of one vector ``v`` (one entry per variable) for an Expression of any arity.

    An Expression of one variable evaluates its single argument elementwise, so it is
    wrapped to read ``v[0]``; with several variables the Expression already splits ``v``.

    Examples
    --------
    >>> import slopes as sl
    >>> float(as_vector_function(sl.parse("x^2"))(np.array([3.0])))
    9.0
    """
    if len(expr.variables) == 1:
        return lambda v: expr(v[0])
    return expr


# ----------------------------------------------------------------------------- output


def fmt(x, digits: int = 10) -> str:
    """A number in ``digits`` significant digits.

    Examples
    --------
    >>> fmt(0.1 + 0.2), fmt(3.0), fmt(float("nan"))
    ('0.3', '3', 'nan')
    """
    return format(float(x) + 0.0, f".{digits}g")  # + 0.0 turns -0.0 into 0.0


def fmt_vec(v, digits: int = 10) -> str:
    """A vector as ``[a, b, ...]`` (numbers via :func:`fmt`).

    Examples
    --------
    >>> fmt_vec(np.array([1.0, -0.5]))
    '[1, -0.5]'
    """
    return "[" + ", ".join(fmt(x, digits) for x in np.ravel(v)) + "]"


def json_ready(obj):
    """``obj`` with NumPy values as Python ones and non-finite floats as ``None`` (strict JSON).

    Examples
    --------
    >>> json_ready({"a": np.array([1.0, np.nan]), "b": np.int64(3), "c": (np.inf,)})
    {'a': [1.0, None], 'b': 3, 'c': [None]}
    """
    if isinstance(obj, dict):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_ready(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def echo_json(obj) -> None:
    """Print ``obj`` as ONE strict JSON object on stdout.

    Examples
    --------
    >>> echo_json({"x": np.array([1.0, 2.0]), "ok": np.bool_(True)})
    {"x": [1.0, 2.0], "ok": true}
    """
    click.echo(json.dumps(json_ready(obj), allow_nan=False))


def table(rows: list[list[str]], header: list[str]) -> str:
    """Rows of strings as a left-aligned text table with a header rule.

    Examples
    --------
    >>> print(table([["gd", "12"]], ["method", "nit"]))
    method  nit
    ------  ---
    gd      12
    """
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [header, ["-" * w for w in widths], *rows]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in lines)


def _check_plot_path(_ctx, param, value):
    if value is not None and not str(value).lower().endswith((".png", ".svg")):
        raise click.BadParameter(
            f"{value!r}: a figure is written as PNG or SVG; end the file name in .png or .svg"
        )
    return value


def plot_option(f):
    """The ``--plot FILE`` option (PNG or SVG, checked before any work is done)."""
    return click.option(
        "--plot",
        "plot",
        metavar="FILE",
        callback=_check_plot_path,
        help="Also draw the figure to FILE (.png or .svg; parent folders are created).",
    )(f)


def json_option(f):
    """The ``--json`` flag: print one JSON object instead of text."""
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")(f)


def save_figure(fig, path: str) -> str:
    """Save ``fig`` with :func:`slopes.viz.save` and return the path written."""
    from ..viz import save

    return str(save(fig, path))
