"""The text of the reports: names, points, indices, error messages and the table of entries."""

from __future__ import annotations

import numpy as np


def is_expression(f):
    """An Expression from :func:`slopes.parse` (named by its text, differentiated by sympy too)."""
    return hasattr(f, "to_sympy") and hasattr(f, "variables")


def name_of(f):
    if is_expression(f):
        return str(f)
    name = getattr(f, "__qualname__", None) or getattr(f, "__name__", None)
    return name if name else type(f).__name__


def fmt_point(x, limit=6):
    x = np.asarray(x)
    if x.size > limit:
        return f"an array of shape {x.shape}"
    with np.printoptions(precision=6, suppress=False):
        return np.array2string(x, separator=", ") if x.ndim else repr(x.item())


def label(index):
    return "[" + ", ".join(str(int(i)) for i in index) + "]" if index else "[]"


def error_text(e):
    msg = str(e).strip()
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__


def nonfinite_text(a):
    """'nan' or 'inf' and the first offending index of an array with a non-finite entry."""
    a = np.asarray(a)
    bad = ~np.isfinite(a)
    idx = tuple(int(i) for i in np.argwhere(bad)[0]) if a.ndim else ()
    what = "nan" if np.isnan(a[idx]) else "inf"
    return what, idx


def nonfinite_value(out, where):
    """'f(x) is nan at <where>', naming the output entry when ``f(x)`` is an array."""
    what, idx = nonfinite_text(out)
    entry = f" (output entry {label(idx)})" if out.ndim else ""
    return f"f(x) is {what} at {where}{entry}"


def nonfinite_derivative(method, what, a, x):
    """'the AD gradient is inf at x = 0.0' or '... at entry [1] (x = [...])'."""
    kind, idx = nonfinite_text(a)
    where = f"entry {label(idx)} (x = {fmt_point(x)})" if idx else f"x = {fmt_point(x)}"
    return f"the {method} {what} is {kind} at {where}"


# ----------------------------------------------------------------------------- the table of entries


def entry_cells(rows, with_symbolic, max_rows, name=label):
    """The column names and the cells of at most ``max_rows`` :class:`~slopes.check.Entry` rows.

    Long tables keep the failing entries (worst first) and the first entries; a ``None``
    row marks rows left out.
    """
    cols = ["index", "AD", "numeric", "+/-"]
    if with_symbolic:
        cols.append("symbolic")
    cols += ["abs err", "rel err", "ok"]
    show = _select_rows(rows, max_rows)
    body, prev = [], None
    for i in show:
        if prev is not None and i != prev + 1:
            body.append(None)
        body.append(_row(rows[i], with_symbolic, name))
        prev = i
    if show and show[-1] != len(rows) - 1:
        body.append(None)
    return cols, body


def entry_table(rows, with_symbolic, max_rows, name=label):
    """The lines of the table of :class:`~slopes.check.Entry` rows: column names, at most ``max_rows`` rows.

    Long tables keep the failing entries (worst first) and the first entries,
    with ``...`` marking the rows left out and a last line counting them.
    """
    cols, body = entry_cells(rows, with_symbolic, max_rows, name)
    widths = [max([len(c)] + [len(r[k]) for r in body if r is not None]) for k, c in enumerate(cols)]
    lines = [_aligned(cols, widths)]
    for r in body:
        lines.append(_aligned(["..."] + [""] * (len(widths) - 1) if r is None else r, widths))
    shown = sum(r is not None for r in body)
    if shown < len(rows):
        lines.append(f"({len(rows) - shown} of {len(rows)} entries not shown; report.table(max_rows=None) shows all)")
    return lines


def _aligned(cells, widths):
    return "  ".join(c.rjust(w) for c, w in zip(cells, widths)).rstrip()


def _num(v):
    return "" if v is None else f"{v:.10g}"


def _row(e, with_symbolic, name):
    r = [name(e.index), _num(e.ad), _num(e.numeric), "" if e.numeric_error is None else f"{e.numeric_error:.1e}"]
    if with_symbolic:
        r.append(_num(e.symbolic))
    r += [f"{e.abs_error:.2e}", f"{e.rel_error:.2e}", "ok" if e.ok else "kink?" if e.inconclusive else "FAIL"]
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
