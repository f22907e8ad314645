"""Gradient checking: derivatives by AD against finite differences (and sympy).

Two checkers:

- :func:`check_grad` compares one derivative of ``f`` at a point (its
  gradient, Jacobian or Hessian) computed three ways: by automatic
  differentiation (:func:`slopes.grad`, :func:`slopes.jacobian`,
  :func:`slopes.hessian`), by finite differences (:mod:`slopes.numeric`, with
  its error estimate) and, when ``f`` is a parsed
  :class:`~slopes.expr.Expression`, exactly by sympy (:mod:`slopes.symbolic`).
- :func:`check_rule` checks a derivative rule written by hand
  (:func:`slopes.custom_jvp` / :func:`slopes.custom_vjp`): forward mode,
  reverse mode and second order, along random directions.

Both return a report instead of raising: ``report.ok`` is the verdict and
``print(report)`` explains it. A function that is NaN or inf at the point, or
that cannot be evaluated there, is reported as such, not as a mismatch.

The tolerance
-------------
An entry ``i`` of the AD derivative agrees with a reference value (numeric or
symbolic) when::

    |ad_i - ref_i| <= atol + rtol * max(|ad_i|, |ref_i|) + 10 * err_i

where ``err_i`` is the finite-difference error estimate (0 for sympy, which
is exact) and, by default, with ``eps = np.finfo(dtype).eps`` of the
working dtype (the less precise of ``x``'s and ``f(x)``'s float dtypes)::

    rtol = 10 * sqrt(eps)                           # 1.5e-7 float64, 3.5e-3 float32
    atol = min(1000 eps, rtol / 10) * max(1, max_j |ad_j|)  # 2.2e-13, 1.2e-4 at unit scale

The ``rtol`` term covers the rounding of the AD result itself (a few ``eps``
per operation) with a wide margin; the ``err_i`` term (times a safety factor
of 10, since it is an estimate) covers the truncation and rounding of finite
differences, and is never taken below the rounding floor of a difference
quotient, ``eps * max(1, |f(x)|) / h**k`` for step ``h`` and order ``k``;
``atol`` is the floor for entries that are zero or tiny next to the others,
whose rounding error is set by the size of the intermediate terms
(``1 - tanh(x)**2`` near saturation), not by their own size. A real
error in a derivative rule (a wrong factor, sign or term) is orders of
magnitude above all three. Pass ``rtol``/``atol`` to override (a given
``atol`` is used as is, unscaled).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from . import numeric
from .transforms import grad as _ad_grad
from .transforms import hessian as _ad_hessian
from .transforms import jacobian as _ad_jacobian
from .transforms import jvp as _ad_jvp
from .transforms import vjp as _ad_vjp

__all__ = ["check_grad", "check_rule", "default_tolerance", "GradCheckReport", "RuleCheckReport", "Entry", "RuleCheck"]

KINDS = ("grad", "jacobian", "hessian")
SAFETY = 10.0
"""The finite-difference error estimate is multiplied by this in the tolerance."""

_AD = {"grad": ("sl.grad", _ad_grad), "jacobian": ("sl.jacobian", _ad_jacobian), "hessian": ("sl.hessian", _ad_hessian)}
_WHAT = {"grad": "gradient", "jacobian": "Jacobian", "hessian": "Hessian"}


# ----------------------------------------------------------------------------- helpers


def default_tolerance(dtype=np.float64):
    """The default ``(rtol, atol)`` of the checks for a float dtype.

    ``rtol = 10 * sqrt(eps)`` and ``atol = min(1000 * eps, rtol / 10)`` with
    ``eps = np.finfo(dtype).eps`` (the cap only matters for float16); the checks multiply this ``atol`` by
    ``max(1, largest |AD entry|)``. See the module docstring for the full rule.

    Examples
    --------
    >>> from slopes.check import default_tolerance
    >>> rtol, atol = default_tolerance(np.float64)
    >>> f"{rtol:.1e} {atol:.1e}"
    '1.5e-07 2.2e-13'
    >>> f"{default_tolerance(np.float32)[0]:.1e}"
    '3.5e-03'
    """
    eps = float(np.finfo(_float_dtype(dtype)).eps)
    rtol = 10.0 * math.sqrt(eps)
    return rtol, min(1000.0 * eps, rtol / 10.0)


def _float_dtype(dtype):
    dtype = np.dtype(dtype)
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def _working_dtype(*arrays):
    """The least precise float dtype among the arrays (non-floats count as float64)."""
    dts = [_float_dtype(np.asarray(a).dtype) for a in arrays if a is not None]
    return max(dts, key=lambda d: np.finfo(d).eps) if dts else np.dtype(np.float64)


def _as_point(x):
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    return x


def _is_expression(f):
    return hasattr(f, "to_sympy") and hasattr(f, "variables")


def _name(f):
    if _is_expression(f):
        return str(f)
    name = getattr(f, "__qualname__", None) or getattr(f, "__name__", None)
    return name if name else type(f).__name__


def _fmt_point(x, limit=6):
    x = np.asarray(x)
    if x.size > limit:
        return f"an array of shape {x.shape}"
    with np.printoptions(precision=6, suppress=False):
        return np.array2string(x, separator=", ") if x.ndim else repr(x.item())


def _label(index):
    return "[" + ", ".join(str(int(i)) for i in index) + "]" if index else "[]"


def _error_text(e):
    msg = str(e).strip()
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__


def _nonfinite_text(a):
    """'nan' or 'inf' and the first offending index of an array with a non-finite entry."""
    a = np.asarray(a)
    bad = ~np.isfinite(a)
    idx = tuple(int(i) for i in np.argwhere(bad)[0]) if a.ndim else ()
    what = "nan" if np.isnan(a[idx]) else "inf"
    return what, idx


def _nonfinite_derivative(method, what, a, x):
    """'the AD gradient is inf at x = 0.0' or '... at entry [1] (x = [...])'."""
    kind, idx = _nonfinite_text(a)
    where = f"entry {_label(idx)} (x = {_fmt_point(x)})" if idx else f"x = {_fmt_point(x)}"
    return f"the {method} {what} is {kind} at {where}"


def _scaled_atol(atol, default, ad):
    """``atol`` as given, or the default floor scaled by the largest finite AD entry."""
    if atol is not None:
        return float(atol)
    ad = np.abs(np.asarray(ad, dtype=np.float64))
    finite = ad[np.isfinite(ad)]
    return default * max(1.0, float(finite.max()) if finite.size else 1.0)


def _estimate(est, f0, order, eps):
    """(value, error) of a numeric Estimate, the error at least the rounding floor.

    A difference quotient of order ``k`` with step ``h`` cannot be more
    accurate than ``eps * s / h**k``, the rounding of the function values it
    subtracts, whatever the error estimate says. The size ``s`` of those
    values is taken as ``max(1, |f(x)|)``: ``|f(x)|`` alone can be far below
    the size of the terms that were rounded (``tanh(a) + tanh(-b)`` near
    saturation is ~1e-13, its terms are ~1), so unit scale is assumed, as for
    ``atol``. ``f0`` is ``|f(x)|``, broadcastable against the value's leading
    (output) axes.
    """
    value = np.asarray(est.value, dtype=np.float64)
    error = np.broadcast_to(np.abs(np.asarray(est.error, dtype=np.float64)), value.shape)
    step = getattr(est, "step", None)
    if step is None:
        return value, error
    h = np.abs(np.asarray(step, dtype=np.float64))
    if h.shape != value.shape and h.size != 1:
        return value, error
    f0 = np.maximum(1.0, np.abs(np.asarray(f0, dtype=np.float64)))
    f0 = f0.reshape(f0.shape + (1,) * (value.ndim - f0.ndim))
    with np.errstate(all="ignore"):
        floor = np.where(h > 0, eps * f0 / np.where(h > 0, h, 1.0) ** order, 0.0)
    return value, np.maximum(error, np.broadcast_to(floor, value.shape))


def _compare(ad, ref, err, rtol, atol):
    """Per-entry absolute error, relative error, tolerance and verdict."""
    ad = np.asarray(ad, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    err = np.zeros_like(ref) if err is None else np.abs(np.asarray(err, dtype=np.float64))
    abs_err = np.abs(ad - ref)
    scale = np.maximum(np.abs(ad), np.abs(ref))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_err = np.where(scale > 0, abs_err / np.where(scale > 0, scale, 1.0), 0.0)
    tol = atol + rtol * scale + SAFETY * err
    return abs_err, rel_err, tol, abs_err <= tol


# ----------------------------------------------------------------------------- check_grad


class Entry(NamedTuple):
    """One entry of a derivative, as computed by each method and compared.

    ``numeric``, ``numeric_error`` and ``symbolic`` are ``None`` when that
    method was not available. ``abs_error``/``rel_error`` are the largest
    over the references (numeric, symbolic) the AD value was compared with.
    """

    index: tuple
    ad: float | None
    numeric: float | None
    numeric_error: float | None
    symbolic: float | None
    abs_error: float
    rel_error: float
    tolerance: float
    ok: bool


@dataclass(repr=False)
class GradCheckReport:
    """The result of :func:`check_grad`.

    Attributes
    ----------
    ok : bool
        Every entry of the AD derivative agrees with every available reference
        within the tolerance, and nothing was NaN, inf or failed to evaluate.
        ``bool(report)`` is ``report.ok``.
    kind : str
        ``"grad"``, ``"jacobian"`` or ``"hessian"``.
    f_name : str
        The function's name (or the Expression's text).
    x : ndarray
        The point.
    dtype : numpy.dtype
        The working dtype the tolerance is derived from.
    ad, numeric, numeric_error, symbolic : ndarray or None
        The derivative by each method (``None`` when not available), all of
        the same shape; ``numeric_error`` is the finite-difference error
        estimate per entry, raised to the rounding floor of a difference
        quotient where it was below it (see the module docstring).
    abs_error, rel_error, tolerance : ndarray or None
        Per entry: ``|AD - reference|`` (largest over the references),
        that divided by ``max(|AD|, |reference|)``, and the allowed error.
    entry_ok : ndarray of bool or None
        The verdict per entry.
    rtol, atol : float
        The tolerance parameters used (``atol`` as applied: the default
        already multiplied by ``max(1, max |AD|)``).
    problems : list of str
        What prevented a comparison (NaN/inf, evaluation errors); empty when
        all went well. ``message`` joins them.
    """

    kind: str
    f_name: str
    x: np.ndarray
    dtype: Any = np.dtype(np.float64)
    rtol: float = 0.0
    atol: float = 0.0
    ad: np.ndarray | None = None
    numeric: np.ndarray | None = None
    numeric_error: np.ndarray | None = None
    symbolic: np.ndarray | None = None
    abs_error: np.ndarray | None = None
    rel_error: np.ndarray | None = None
    tolerance: np.ndarray | None = None
    entry_ok: np.ndarray | None = None
    problems: list = field(default_factory=list)
    max_rows: int | None = 20

    # -- verdict and summaries

    @property
    def ok(self) -> bool:
        """All entries agree and nothing went wrong."""
        return not self.problems and self.entry_ok is not None and bool(np.all(self.entry_ok))

    def __bool__(self):
        return self.ok

    @property
    def message(self) -> str:
        """The problems joined into one sentence ('' when there are none)."""
        return "; ".join(p.rstrip(".") for p in self.problems)

    @property
    def max_abs_error(self) -> float:
        """Largest ``|AD - reference|`` over all entries (nan when nothing was compared)."""
        return float(np.max(self.abs_error)) if self.abs_error is not None and self.abs_error.size else math.nan

    @property
    def max_rel_error(self) -> float:
        """Largest relative error over all entries (nan when nothing was compared)."""
        return float(np.max(self.rel_error)) if self.rel_error is not None and self.rel_error.size else math.nan

    @property
    def failures(self) -> list:
        """The entries that disagree, largest relative error first."""
        if self.entry_ok is None:
            return []
        bad = [self.entry(tuple(int(j) for j in i)) for i in np.argwhere(~self.entry_ok)]
        return sorted(bad, key=lambda e: -e.rel_error)

    @property
    def worst(self) -> Entry | None:
        """The entry with the largest relative error, failing entries first.

        Among failing entries the one with the largest relative error; when all
        pass, the largest relative error overall (near-zero entries can have a
        large relative error from rounding noise alone and still pass, which is
        why failing entries come first). ``None`` when nothing was compared.
        """
        if self.rel_error is None or not self.rel_error.size:
            return None
        fails = self.failures
        if fails:
            return fails[0]
        flat = int(np.argmax(self.rel_error))
        return self.entry(np.unravel_index(flat, self.rel_error.shape))

    def entry(self, index) -> Entry:
        """The :class:`Entry` at ``index`` (a tuple into the derivative's shape)."""
        index = () if isinstance(index, tuple) and not index else tuple(int(i) for i in np.ravel(index))

        def at(a):
            return None if a is None else float(a[index])

        return Entry(
            index,
            at(self.ad),
            at(self.numeric),
            at(self.numeric_error),
            at(self.symbolic),
            at(self.abs_error),
            at(self.rel_error),
            at(self.tolerance),
            None if self.entry_ok is None else bool(self.entry_ok[index]),
        )

    def entries(self) -> list:
        """All entries, in C order (``[]`` when nothing was compared)."""
        shape = next((a.shape for a in (self.ad, self.numeric, self.symbolic) if a is not None), None)
        if shape is None or self.abs_error is None:
            return []
        return [self.entry(i) for i in np.ndindex(shape)]

    # -- printing

    def _header(self):
        what = _WHAT[self.kind]
        head = f"check_grad: {what} of {self.f_name} at x = {_fmt_point(self.x)} ({self.dtype.name})"
        if self.kind == "jacobian" and self.ad is not None and self.ad.ndim > self.x.ndim:
            head += "\n  entry [i, j] = d f[i] / d x[j]"
        if self.kind == "hessian" and self.x.ndim:
            head += "\n  entry [i, j] = d2 f / d x[i] d x[j]"
        return head

    def summary(self) -> str:
        """One line: the verdict, the sizes of the errors and the worst entry."""
        if self.problems:
            return "FAILED: " + self.message
        methods = " and ".join(m for m, a in (("numeric", self.numeric), ("symbolic", self.symbolic)) if a is not None)
        n = int(self.entry_ok.size)
        errs = f"max abs err {self.max_abs_error:.2e}, max rel err {self.max_rel_error:.2e}"
        tol = f"rtol {self.rtol:.1e}, atol {self.atol:.1e} + {SAFETY:g} x numeric error"
        if self.ok:
            which = f"all {n} entries" if n > 1 else "the only entry"
            return f"OK: {which} of AD agree{'s' if n == 1 else ''} with {methods} ({errs}; tolerance {tol})"
        w = self.worst
        refs = ", ".join(
            f"{m} {v:.10g}" for m, v in (("numeric", w.numeric), ("symbolic", w.symbolic)) if v is not None
        )
        nbad = int(np.sum(~self.entry_ok))
        return (
            f"FAILED: {nbad} of {n} entries disagree; worst {_label(w.index)}: AD {w.ad:.10g} vs {refs} "
            f"(abs err {w.abs_error:.2e} > tolerance {w.tolerance:.2e}, rel err {w.rel_error:.2e})"
        )

    def table(self, max_rows=None) -> str:
        """The header, one row per entry (at most ``max_rows``) and the summary line.

        Long tables keep the failing entries (worst first) and the first
        entries, with ``...`` marking the rows left out.
        """
        lines = [self._header()]
        rows = self.entries()
        if rows:
            cols = ["index", "AD", "numeric", "+/-"]
            if self.symbolic is not None:
                cols.append("symbolic")
            cols += ["abs err", "rel err", "ok"]
            show = _select_rows(rows, max_rows)
            body, prev = [], None
            for i in show:
                if prev is not None and i != prev + 1:
                    body.append(None)
                body.append(_row(rows[i], self.symbolic is not None))
                prev = i
            if show and show[-1] != len(rows) - 1:
                body.append(None)
            widths = [max([len(c)] + [len(r[k]) for r in body if r is not None]) for k, c in enumerate(cols)]
            lines.append("  ".join(c.rjust(w) for c, w in zip(cols, widths)).rstrip())
            for r in body:
                cells = ["..."] + [""] * (len(widths) - 1) if r is None else r
                lines.append("  ".join(c.rjust(w) for c, w in zip(cells, widths)).rstrip())
            if len(show) < len(rows):
                lines.append(f"({len(rows) - len(show)} of {len(rows)} entries not shown; report.table(max_rows=None) shows all)")
        lines.append(self.summary())
        return "\n".join(lines)

    def __str__(self):
        return self.table(self.max_rows)

    def __repr__(self):
        extra = f", max_rel_error={self.max_rel_error:.2e}" if self.abs_error is not None else ""
        prob = f", message={self.message!r}" if self.problems else ""
        return f"GradCheckReport(ok={self.ok}, kind={self.kind!r}, f={self.f_name!r}{extra}{prob})"


def _num(v):
    return "" if v is None else f"{v:.10g}"


def _row(e, with_symbolic):
    r = [_label(e.index), _num(e.ad), _num(e.numeric), "" if e.numeric_error is None else f"{e.numeric_error:.1e}"]
    if with_symbolic:
        r.append(_num(e.symbolic))
    r += [f"{e.abs_error:.2e}", f"{e.rel_error:.2e}", "ok" if e.ok else "FAIL"]
    return r


def _select_rows(rows, max_rows):
    n = len(rows)
    if max_rows is None or n <= max_rows:
        return list(range(n))
    max_rows = max(int(max_rows), 2)
    bad = sorted((i for i, e in enumerate(rows) if not e.ok), key=lambda i: -rows[i].rel_error)
    keep = set(bad[: max_rows // 2])
    i = 0
    while len(keep) < max_rows and i < n:
        keep.add(i)
        i += 1
    return sorted(keep)


def _symbolic_at(f, kind, x):
    import sympy

    from . import symbolic

    # simplify=False: simplification changes nothing at a point and can be slow
    how = symbolic.hessian if kind == "hessian" else symbolic.gradient
    matrix = how(f, variables=f.variables, simplify=False)
    names = [str(v) for v in f.variables]
    # Use the Expression's own symbols (with whatever assumptions it gave them).
    symbols = {str(s): s for s in f.to_sympy().free_symbols}
    symbols.update({str(s): s for s in getattr(matrix, "free_symbols", ())})
    values = np.ravel(np.asarray(x, dtype=np.float64))
    if len(values) != len(names):
        raise ValueError(f"the Expression has {len(names)} variables {names}, x has {len(values)} entries")
    subs = {symbols[n]: sympy.Float(float(v), 30) for n, v in zip(names, values) if n in symbols}
    entries = list(sympy.Matrix(matrix))
    out = np.empty(len(entries), dtype=np.float64)
    for k, entry in enumerate(entries):
        try:
            v = entry.subs(subs).evalf(30)
        except ZeroDivisionError:
            v = sympy.zoo
        if v.has(sympy.zoo, sympy.oo, -sympy.oo):
            out[k] = np.inf
            continue
        if v.has(sympy.nan):
            out[k] = np.nan
            continue
        if not v.is_number:
            raise ValueError(f"entry {k} still depends on {sorted(map(str, v.free_symbols))}: {v}")
        c = complex(v)
        if c.imag != 0:
            raise ValueError(f"the symbolic derivative is not real at entry {k}: {v}")
        out[k] = c.real
    return out


def check_grad(f, x, kind="grad", *, rtol=None, atol=None, numeric_options=None, symbolic=True, max_rows=20):
    """Check the derivative of ``f`` at ``x``: AD against finite differences (and sympy).

    Parameters
    ----------
    f : callable, Expression or str
        A function of one array written with :mod:`slopes.numpy`, or an
        Expression from :func:`slopes.parse` (then the exact sympy derivative
        is compared too), or formula text, parsed with :func:`slopes.parse`.
    x : array_like
        The point (integers are converted to float64; float32 stays float32
        and gets the looser float32 tolerance).
    kind : {"grad", "jacobian", "hessian"}
        Which derivative: the gradient or Hessian of a scalar ``f``, or the
        Jacobian (shape ``f(x).shape + x.shape``) of any ``f``.
    rtol, atol : float, optional
        Override the default tolerance (see the module docstring:
        ``|ad - ref| <= atol + rtol * max(|ad|, |ref|) + 10 * numeric_error``,
        by default ``rtol = 10 sqrt(eps)``, ``atol = 1000 eps max(1, max |ad|)``
        for float32 and float64).
    numeric_options : dict, optional
        Extra keyword arguments for the :mod:`slopes.numeric` function.
    symbolic : bool
        Compare with sympy when ``f`` is an Expression (default True).
    max_rows : int or None
        Rows shown when the report is printed (``None``: all).

    Returns
    -------
    GradCheckReport
        ``.ok``, the values of each method, the errors, ``.worst``,
        ``.max_abs_error``, ``.max_rel_error``; ``print(report)`` shows a
        table. Problems (NaN/inf, ``f`` failing at ``x``) are reported in
        ``.problems``/``.message`` with ``ok=False``, never raised.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> f = lambda x: x[0] ** 2 + 2 * x[1] ** 2 + snp.exp(-x[0] - x[1])
    >>> report = sl.check_grad(f, np.array([1.0, 2.0]))
    >>> report.ok, report.max_rel_error < 1e-8
    (True, True)
    >>> print(report)  # doctest: +ELLIPSIS
    check_grad: gradient of <lambda> at x = [1., 2.] (float64)
    index           AD      numeric  ...  ok
      [0]  1.950212932  1.950212932  ...  ok
      [1]  7.950212932  7.950212932  ...  ok
    OK: all 2 entries of AD agree with numeric (...)

    Problems are reported, not raised:

    >>> sl.check_grad(snp.log, np.array(-1.0)).message
    'f(x) is nan at x = -1.0'
    """
    if kind not in KINDS:
        raise ValueError(f"check_grad(): kind must be one of {KINDS}, got {kind!r}")
    # NaN/inf are reported in the result: no RuntimeWarnings on top of that.
    with np.errstate(all="ignore"):
        return _check_grad(f, x, kind, rtol, atol, numeric_options, symbolic, max_rows)


def _check_grad(f, x, kind, rtol, atol, numeric_options, symbolic, max_rows):
    if isinstance(f, str):
        from .expr import parse  # the safe parser: never eval

        f = parse(f)
    x = _as_point(x)
    report = GradCheckReport(kind=kind, f_name=_name(f), x=x, max_rows=max_rows)
    report.dtype = _working_dtype(x)
    problems = report.problems

    # 1. f itself at x
    try:
        fx = np.asarray(f(x))
    except Exception as e:  # noqa: BLE001  (any failure of user code is reported)
        problems.append(f"f could not be evaluated at an array of shape {x.shape}: {_error_text(e)}")
        return _finish(report, rtol, atol)
    if np.issubdtype(fx.dtype, np.floating):
        report.dtype = _working_dtype(x, fx)
    if not np.all(np.isfinite(fx)):
        what, idx = _nonfinite_text(fx)
        where = f" (output entry {_label(idx)})" if fx.ndim else ""
        problems.append(f"f(x) is {what} at x = {_fmt_point(x)}{where}")
        return _finish(report, rtol, atol)
    if kind in ("grad", "hessian") and fx.ndim:
        problems.append(
            f"kind={kind!r} needs f to return a scalar, but f(x) has shape {fx.shape} (use kind='jacobian')"
        )
        return _finish(report, rtol, atol)

    # 2. automatic differentiation
    ad_name, ad_transform = _AD[kind]
    try:
        report.ad = np.asarray(ad_transform(f)(x))
    except Exception as e:  # noqa: BLE001
        problems.append(f"AD ({ad_name}) failed: {_error_text(e)}")
    else:
        if not np.all(np.isfinite(report.ad)):
            problems.append(_nonfinite_derivative("AD", _WHAT[kind], report.ad, x))
    shape = None if report.ad is None else report.ad.shape

    # 3. finite differences
    try:
        fn = {"grad": numeric.grad, "jacobian": numeric.jacobian, "hessian": numeric.hessian}[kind]
        est = fn(f, x, full_output=True, **(numeric_options or {}))
        eps = float(np.finfo(report.dtype).eps)
        value, error = _estimate(est, fx if kind == "jacobian" else abs(float(fx)), 2 if kind == "hessian" else 1, eps)
        if shape is not None and value.shape != shape:
            value, error = value.reshape(shape), np.broadcast_to(error, value.shape).reshape(shape)
        report.numeric, report.numeric_error = value, np.broadcast_to(error, value.shape)
    except Exception as e:  # noqa: BLE001
        problems.append(f"finite differences failed: {_error_text(e)}")
    else:
        if not np.all(np.isfinite(report.numeric)):
            problems.append(_nonfinite_derivative("numeric", _WHAT[kind], report.numeric, x))

    # 4. sympy, for Expressions
    if symbolic and _is_expression(f):
        try:
            values = _symbolic_at(f, kind, x)
            target = shape if shape is not None else (report.numeric.shape if report.numeric is not None else None)
            report.symbolic = values.reshape(target) if target is not None else values
        except ImportError:
            pass  # no symbolic support installed: compare AD with numeric only
        except Exception as e:  # noqa: BLE001
            problems.append(f"the symbolic {_WHAT[kind]} could not be evaluated: {_error_text(e)}")
        else:
            if not np.all(np.isfinite(report.symbolic)):
                problems.append(_nonfinite_derivative("symbolic", _WHAT[kind], report.symbolic, x))

    return _finish(report, rtol, atol)


def _finish(report, rtol, atol):
    d_rtol, d_atol = default_tolerance(report.dtype)
    report.rtol = d_rtol if rtol is None else float(rtol)
    report.atol = _scaled_atol(atol, d_atol, report.ad if report.ad is not None else 0.0)
    if report.ad is None:
        return report
    refs = [(report.numeric, report.numeric_error), (report.symbolic, None)]
    results = [_compare(report.ad, ref, err, report.rtol, report.atol) for ref, err in refs if ref is not None]
    if not results:
        return report
    with np.errstate(invalid="ignore"):
        report.abs_error = np.maximum.reduce([r[0] for r in results])
        report.rel_error = np.maximum.reduce([r[1] for r in results])
        report.tolerance = np.minimum.reduce([r[2] for r in results])
        report.entry_ok = np.logical_and.reduce([r[3] for r in results])
    return report


# ----------------------------------------------------------------------------- check_rule


class RuleCheck(NamedTuple):
    """One check of :func:`check_rule`: its name, verdict, largest errors and a message."""

    name: str
    ok: bool
    max_abs_error: float
    max_rel_error: float
    message: str


@dataclass(repr=False)
class RuleCheckReport:
    """The result of :func:`check_rule`.

    Attributes
    ----------
    ok : bool
        Every check passed (``bool(report)`` is ``report.ok``).
    f_name : str
    checks : list of RuleCheck
        In order: forward mode, reverse mode (against finite differences, then
        the ``<w, J v> = <J^T w, v>`` identity against the jvp), second order.
    failure : str or None
        The first failing check, naming the entry: ``"reverse mode: d/dx[2]
        off by ..."``.
    """

    f_name: str
    shapes: list
    dtype: Any = np.dtype(np.float64)
    rtol: float = 0.0
    atol: float = 0.0
    checks: list = field(default_factory=list)
    atol_scaled: bool = True

    @property
    def _scaled(self):
        return " x max(1, |AD|)" if self.atol_scaled else ""

    @property
    def ok(self) -> bool:
        """Every check ran and passed."""
        return bool(self.checks) and all(c.ok for c in self.checks)

    def __bool__(self):
        return self.ok

    @property
    def failure(self) -> str | None:
        """The message of the first failing check (``None`` when all pass)."""
        return next((c.message for c in self.checks if not c.ok), None)

    @property
    def message(self) -> str:
        """``failure``, or ``''`` when all checks pass."""
        return self.failure or ""

    def __str__(self):
        args = ", ".join(str(s) for s in self.shapes)
        lines = [f"check_rule: {self.f_name} at arguments of shapes {args} ({self.dtype.name})"]
        width = max([len(c.name) for c in self.checks] + [5])
        for c in self.checks:
            verdict = "ok  " if c.ok else "FAIL"
            errs = "" if math.isnan(c.max_abs_error) else f"max abs err {c.max_abs_error:.2e}, rel {c.max_rel_error:.2e}"
            lines.append(f"  {c.name.ljust(width)}  {verdict}  {errs}".rstrip())
        if self.ok:
            lines.append(f"OK: {len(self.checks)} checks passed (rtol {self.rtol:.1e}, atol {self.atol:.1e}{self._scaled})")
        else:
            lines.append("FAILED: " + (self.failure or "no checks were run"))
        return "\n".join(lines)

    def __repr__(self):
        return f"RuleCheckReport(ok={self.ok}, f={self.f_name!r}, failure={self.failure!r})"


def _arg_names(f, n):
    try:
        params = [
            p.name
            for p in inspect.signature(f).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    return params[:n] if len(params) >= n else [f"args[{i}]" for i in range(n)]


def _first_failure(name, labels, ad, ref, err, rtol, atol, what="AD"):
    """Compare flat arrays; return a RuleCheck naming the worst failing label.

    ``atol`` is ``(given atol or None, default atol)``.
    """
    abs_err, rel_err, tol, ok = _compare(ad, ref, err, rtol, _scaled_atol(*atol, ad))
    max_abs = float(np.max(abs_err)) if abs_err.size else 0.0
    max_rel = float(np.max(rel_err)) if rel_err.size else 0.0
    if np.all(ok):
        return RuleCheck(name, True, max_abs, max_rel, "")
    bad = np.flatnonzero(~ok)
    k = int(bad[np.argmax((abs_err / np.maximum(tol, np.finfo(float).tiny))[bad])])
    msg = (
        f"{labels[k]} off by {abs_err[k]:.3g} ({what} {float(ad[k]):.10g}, numeric {float(ref[k]):.10g}, "
        f"tolerance {tol[k]:.2g})"
    )
    return RuleCheck(name, False, max_abs, max_rel, msg)


def _entry_labels(prefix, shape):
    if not shape:
        return [prefix]
    return [f"{prefix}{_label(i)}" for i in np.ndindex(shape)]


def check_rule(f, *args, order=2, directions=2, seed=0, rtol=None, atol=None, numeric_options=None):
    """Check a hand-written derivative rule: forward, reverse and second order vs finite differences.

    Meant for functions given their own rule with :func:`slopes.custom_jvp` or
    :func:`slopes.custom_vjp` (it works for any function of arrays). Along
    ``directions`` random directions ``v`` (and random output weights ``w``):

    - forward mode: ``jvp(f, args, v)`` against the numeric derivative of
      ``t -> f(args + t v)`` at 0, entry by entry;
    - reverse mode: the cotangents ``vjp(f, *args)[1](w)`` against the numeric
      gradient of ``<w, f(args)>``, entry by entry, and the identity
      ``<w, J v>`` (by jvp) ``= <J^T w, v>`` (by vjp);
    - second order (``order >= 2``): the forward-over-reverse Hessian-vector
      product ``jvp(grad <w, f>, args, v)`` against the numeric derivative of
      that gradient along ``v``.

    The tolerance is that of :func:`check_grad` (see the module docstring).

    Parameters
    ----------
    f : callable
        A function of one or more arrays returning one array.
    *args : array_like
        The point.
    order : {1, 2}
        Highest order to check.
    directions : int
        Number of random directions.
    seed : int
        Seed of the random directions.
    rtol, atol : float, optional
        Override the default tolerance.
    numeric_options : dict, optional
        Extra keyword arguments for :mod:`slopes.numeric`.

    Returns
    -------
    RuleCheckReport
        ``.ok``, ``.checks`` and ``.failure``, which names the first failing
        check and entry, e.g. ``"reverse mode: d/dx[2] off by 6 ..."``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> @sl.custom_jvp
    ... def cube(x):
    ...     return x ** 3
    >>> @cube.defjvp
    ... def _(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return cube(x), 2 * x ** 2 * t          # wrong: should be 3 x^2 t
    >>> report = sl.check_rule(cube, np.array([1.0, 2.0]))
    >>> report.ok
    False
    >>> report.failure  # doctest: +ELLIPSIS
    'forward mode: (J v)[...] along direction 0 off by ...'
    """
    if not args:
        raise TypeError("check_rule(f, *args): give the point as one or more arrays")
    if order not in (1, 2):
        raise ValueError(f"check_rule(): order must be 1 or 2, got {order!r}")
    if isinstance(directions, bool) or not isinstance(directions, int) or directions < 1:
        raise ValueError(f"check_rule(): directions must be a positive int, got {directions!r}")
    with np.errstate(all="ignore"):
        return _check_rule(f, args, order, directions, seed, rtol, atol, numeric_options)


def _check_rule(f, args, order, directions, seed, rtol, atol, numeric_options):
    args = [_as_point(a) for a in args]
    n = len(args)
    report = RuleCheckReport(f_name=_name(f), shapes=[a.shape for a in args], atol_scaled=atol is None)
    report.dtype = _working_dtype(*args)
    checks = report.checks

    def fail(name, text):
        checks.append(RuleCheck(name, False, math.nan, math.nan, f"{name}: {text}"))
        return report

    def tolerance():
        d_rtol, d_atol = default_tolerance(report.dtype)
        report.rtol = d_rtol if rtol is None else float(rtol)
        report.atol = d_atol if atol is None else float(atol)

    tolerance()
    try:
        out = np.asarray(f(*args))
    except Exception as e:  # noqa: BLE001
        shapes = ", ".join(str(a.shape) for a in args)
        return fail("evaluation", f"f could not be evaluated at arrays of shapes {shapes}: {_error_text(e)}")
    if np.issubdtype(out.dtype, np.floating):
        report.dtype = _working_dtype(*args, out)
        tolerance()
    if not np.all(np.isfinite(out)):
        what, idx = _nonfinite_text(out)
        where = f" (output entry {_label(idx)})" if out.ndim else ""
        return fail("evaluation", f"f(x) is {what} at the given point{where}")

    opts = numeric_options or {}
    names = _arg_names(f, n)
    rng = np.random.default_rng(seed)
    dt = report.dtype
    t0 = np.zeros(1, dtype=dt)
    eps = float(np.finfo(dt).eps)
    rt, at = report.rtol, (atol, report.atol)

    def along(fun, vs):
        """Numeric derivative of t -> fun(*(a + t v)) at t = 0, flattened, with its error."""

        def g(t):
            return fun(*[a + t[0] * v for a, v in zip(args, vs)])

        est = numeric.jacobian(g, t0, full_output=True, **opts)
        value, error = _estimate(est, g(t0), 1, eps)
        return np.ravel(value), np.ravel(error)

    def concat(parts):
        return np.concatenate([np.ravel(np.asarray(p, dtype=np.float64)) for p in parts]) if parts else np.zeros(0)

    arg_labels = []
    for name, a in zip(names, args):
        arg_labels += _entry_labels(f"d/d{name}", a.shape)

    identity = "reverse mode (<w, J v> identity)"
    order_names = ["forward mode", "reverse mode", identity] + (["second order"] if order >= 2 else [])
    results = {name: [] for name in order_names}
    problems = {}

    def attempt(name, stage, thunk):
        """Run one stage of a check; record the first exception as that check's problem."""
        if name in problems:
            return None
        try:
            return thunk()
        except Exception as e:  # noqa: BLE001  (user rules may fail in any way)
            problems[name] = f"{stage} raised {_error_text(e)}"
            return None

    def scalar_of(w):
        import slopes.numpy as snp

        return lambda *xs: snp.sum(f(*xs) * w)

    for k in range(directions):
        vs = [rng.standard_normal(a.shape).astype(a.dtype) for a in args]
        w = rng.standard_normal(out.shape).astype(dt)
        sfx = f" along direction {k}"

        # forward mode: J v by jvp vs d/dt f(x + t v)
        name = "forward mode"
        jv = attempt(name, "jvp", lambda: np.ravel(np.asarray(_ad_jvp(f, tuple(args), tuple(vs))[1], dtype=np.float64)))
        fd = attempt(name, "finite differences", lambda: along(f, vs)) if jv is not None else None
        if fd is not None:
            labels = [s + sfx for s in _entry_labels("(J v)", out.shape)]
            results[name].append(_first_failure(name, labels, jv, fd[0], fd[1], rt, at))

        # reverse mode: J^T w by vjp vs the numeric gradient of <w, f>
        name = "reverse mode"

        def pullback():
            _, pull = _ad_vjp(f, *args)
            return [np.zeros(a.shape) if c is None else np.asarray(c, dtype=np.float64) for a, c in zip(args, pull(w))]

        def numeric_pullback():
            refs, errs = [], []
            for i in range(n):

                def part(z, i=i):
                    xs = args[:i] + [z] + args[i + 1 :]
                    return np.sum(np.asarray(f(*xs), dtype=np.float64) * w)

                est = numeric.grad(part, args[i], full_output=True, **opts)
                # the rounding floor of a weighted sum: eps * sum |w_j f_j|
                value, error = _estimate(est, np.sum(np.abs(w * out)), 1, eps)
                refs.append(np.ravel(value))
                errs.append(np.ravel(error))
            return concat(refs), concat(errs)

        cts = attempt(name, "vjp", pullback)
        fd = attempt(name, "finite differences", numeric_pullback) if cts is not None else None
        if fd is not None:
            labels = [s + sfx for s in arg_labels]
            results[name].append(_first_failure(name, labels, concat(cts), fd[0], fd[1], rt, at))

        # the transpose identity: <w, J v> (jvp) = <J^T w, v> (vjp)
        if jv is not None and cts is not None:
            wf = np.ravel(np.asarray(w, dtype=np.float64))
            lhs = float(np.sum(wf * jv))
            terms = [c * np.asarray(v, dtype=np.float64) for c, v in zip(cts, vs)]
            rhs = float(sum(np.sum(t) for t in terms))
            scale = float(np.sum(np.abs(wf * jv)) + sum(np.sum(np.abs(t)) for t in terms))
            tol = report.atol + rt * scale
            diff = abs(lhs - rhs)
            msg = (
                ""
                if diff <= tol
                else f"<J^T w, v> = {rhs:.10g} by vjp but <w, J v> = {lhs:.10g} by jvp{sfx}, "
                f"off by {diff:.3g} (tolerance {tol:.2g})"
            )
            results[identity].append(RuleCheck(identity, diff <= tol, diff, diff / scale if scale else 0.0, msg))

        # second order: forward over reverse, H v vs d/dt grad <w, f>(x + t v)
        name = "second order"
        if order >= 2:
            gfn = _ad_grad(scalar_of(w), argnums=tuple(range(n)))
            hv = attempt(name, "forward-over-reverse Hessian-vector product", lambda: concat(_ad_jvp(gfn, tuple(args), tuple(vs))[1]))
            fd = (
                attempt(name, "finite differences of the gradient", lambda: along(lambda *xs: concat(gfn(*xs)), vs))
                if hv is not None
                else None
            )
            if fd is not None:
                labels = [f"(H v) {s}{sfx}" for s in arg_labels]
                results[name].append(_first_failure(name, labels, hv, fd[0], fd[1], rt, at))

    for name, rs in results.items():
        prefix = "reverse mode" if name == identity else name
        if name in problems:
            checks.append(RuleCheck(name, False, math.nan, math.nan, f"{prefix}: {problems[name]}"))
            continue
        if not rs:
            continue
        bad = next((r for r in rs if not r.ok), None)
        max_abs = max(r.max_abs_error for r in rs)
        max_rel = max(r.max_rel_error for r in rs)
        text = "" if bad is None else f"{prefix}: {bad.message}"
        checks.append(RuleCheck(name, bad is None, max_abs, max_rel, text))
    return report
