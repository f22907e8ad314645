"""The reports of the checks: :class:`GradCheckReport` (its :class:`Entry` rows) and :class:`RuleCheckReport`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .._display import Card, card_html
from .table import entry_cells, entry_table, fmt_point, label
from .tolerance import SAFETY

KINDS = ("grad", "jacobian", "hessian")
WHAT = {"grad": "gradient", "jacobian": "Jacobian", "hessian": "Hessian"}
STATUS = {"ok": "good", "failed": "bad", "inconclusive": "warn"}  # a verdict's colour in a notebook


def _largest(a):
    """The largest entry of ``a`` as a float (nan when ``a`` is None or empty)."""
    return float(np.max(a)) if a is not None and a.size else math.nan


# ----------------------------------------------------------------------------- check_grad


class Entry(NamedTuple):
    """One entry of a derivative, as computed by each method and compared.

    ``numeric``, ``numeric_error`` and ``symbolic`` are ``None`` when that
    method was not available. ``abs_error``/``rel_error`` are the largest
    over the references (numeric, symbolic) the AD value was compared with.
    ``inconclusive``: the entry lies at a non-differentiable point, where
    finite differences cannot decide (``ok`` is then False too).
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
    inconclusive: bool = False


@dataclass(repr=False)
class GradCheckReport:
    """The result of :func:`check_grad`.

    Attributes
    ----------
    ok : bool
        Every entry of the AD derivative agrees with every available reference
        within the tolerance, and nothing was NaN, inf or failed to evaluate.
        ``bool(report)`` is ``report.ok``. :attr:`verdict` tells a failure
        from an inconclusive check (entries at a kink finite differences
        cannot resolve).
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
        The verdict per entry (False for inconclusive entries too).
    numeric_kink, entry_inconclusive : ndarray of bool or None
        Where finite differences found a non-differentiable point within
        their smallest step (:attr:`slopes.numeric.Estimate.kink`), and so
        the entries on which no verdict is possible.
    rtol, atol : float
        The tolerance parameters used (``atol`` as applied: the default
        already multiplied by ``max(1, max |AD|)``).
    problems : list of str
        What prevented a comparison (NaN/inf, evaluation errors); empty when
        all went well. ``message`` joins them.
    names : list of str or None
        The names of ``x``'s entries (pytree paths, or an Expression's
        variables); ``None``: entries are named by index.
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
    numeric_kink: np.ndarray | None = None
    entry_inconclusive: np.ndarray | None = None
    problems: list = field(default_factory=list)
    max_rows: int | None = 20
    names: list | None = None

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
        return _largest(self.abs_error)

    @property
    def max_rel_error(self) -> float:
        """Largest relative error over all entries (nan when nothing was compared)."""
        return _largest(self.rel_error)

    @property
    def verdict(self) -> str:
        """``"ok"``, ``"failed"`` (a problem or a disagreeing entry) or ``"inconclusive"``.

        Inconclusive: every entry agrees except some that lie at (or within
        the smallest finite-difference step of) a non-differentiable point,
        where finite differences cannot decide; :attr:`inconclusive` names them.
        """
        if self.ok:
            return "ok"
        if self.problems or self.entry_ok is None or self.failures:
            return "failed"
        return "inconclusive"

    def name(self, index) -> str:
        """The entry at ``index`` in words: ``[2, 0]``, or with names ``[1]['W'][0, 1]``, ``x1, x2`` (Hessian),
        ``d f[2] / d x1`` (Jacobian)."""
        if self.names is None or not index:
            return label(index)
        if self.kind == "hessian":
            return f"{self.names[index[0]]}, {self.names[index[1]]}"
        if self.kind == "jacobian":
            out = f"d f{label(index[:-1])} / d " if len(index) > 1 else ""
            return out + self.names[index[-1]]
        return self.names[index[0]]

    def _where(self, mask) -> list:
        return [self.entry(tuple(int(j) for j in i)) for i in np.argwhere(mask)]

    @property
    def failures(self) -> list:
        """The entries that disagree, largest relative error first (inconclusive entries are not failures)."""
        if self.entry_ok is None:
            return []
        bad = self._where(~self.entry_ok & ~self._inconclusive_mask())
        return sorted(bad, key=lambda e: -e.rel_error)

    @property
    def inconclusive(self) -> list:
        """The entries at a non-differentiable point, where finite differences cannot decide."""
        return [] if self.entry_ok is None else self._where(self._inconclusive_mask())

    def _inconclusive_mask(self):
        if self.entry_inconclusive is None:
            return np.zeros(self.entry_ok.shape, dtype=bool)
        return self.entry_inconclusive

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
            self.entry_inconclusive is not None and bool(self.entry_inconclusive[index]),
        )

    def entries(self) -> list:
        """All entries, in C order (``[]`` when nothing was compared)."""
        shape = next((a.shape for a in (self.ad, self.numeric, self.symbolic) if a is not None), None)
        if shape is None or self.abs_error is None:
            return []
        return [self.entry(i) for i in np.ndindex(shape)]

    # -- printing

    def _header(self):
        what = WHAT[self.kind]
        point = f"a pytree of {self.x.size} entries" if self.names and self.names[0].startswith("[") else fmt_point(self.x)
        head = f"check_grad: {what} of {self.f_name} at x = {point} ({self.dtype.name})"
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
        n_kink = len(self.inconclusive)
        kinks = ""
        if n_kink:
            names = ", ".join(self.name(e.index) for e in self.inconclusive[:8]) + (", ..." if n_kink > 8 else "")
            kinks = (
                f"{n_kink} of {n} entries ({names}) lie at a non-differentiable point (a kink within the "
                f"smallest finite-difference step), where finite differences cannot decide"
            )
        if not self.failures:
            rest = n - n_kink
            return f"INCONCLUSIVE: {kinks}; the other {rest} agree{'s' if rest == 1 else ''} with {methods} ({errs})"
        w = self.worst
        refs = ", ".join(
            f"{m} {v:.10g}" for m, v in (("numeric", w.numeric), ("symbolic", w.symbolic)) if v is not None
        )
        nbad = len(self.failures)
        return (
            f"FAILED: {nbad} of {n} entries disagree; worst {self.name(w.index)}: AD {w.ad:.10g} vs {refs} "
            f"(abs err {w.abs_error:.2e} > tolerance {w.tolerance:.2e}, rel err {w.rel_error:.2e})"
            + (f"; and {kinks}" if kinks else "")
        )

    def table(self, max_rows=None) -> str:
        """The header, one row per entry (at most ``max_rows``) and the summary line.

        Long tables keep the failing entries (worst first) and the first
        entries, with ``...`` marking the rows left out.
        """
        lines = [self._header()]
        rows = self.entries()
        if rows:
            lines += entry_table(rows, self.symbolic is not None, max_rows, self.name)
        lines.append(self.summary())
        return "\n".join(lines)

    def __str__(self):
        return self.table(self.max_rows)

    def _card(self) -> Card:
        rows = self.entries()
        table = entry_cells(rows, self.symbolic is not None, self.max_rows, self.name) if rows else None
        numbers = [] if self.abs_error is None else [
            ("max abs error", self.max_abs_error), ("max rel error", self.max_rel_error),
            ("rtol, atol", f"{self.rtol:.1e}, {self.atol:.1e}"),
        ]
        return Card(self.verdict, STATUS[self.verdict], self._header(), numbers, self.summary(), table)

    _repr_html_ = card_html

    def __repr__(self):
        extra = f", max_rel_error={self.max_rel_error:.2e}" if self.abs_error is not None else ""
        prob = f", message={self.message!r}" if self.problems else ""
        return f"GradCheckReport(ok={self.ok}, kind={self.kind!r}, f={self.f_name!r}{extra}{prob})"


# ----------------------------------------------------------------------------- check_rule


class RuleCheck(NamedTuple):
    """One check of :func:`check_rule`: its name, verdict, largest errors and a message."""

    name: str
    ok: bool
    max_abs_error: float
    max_rel_error: float
    message: str
    inconclusive: bool = False


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
    def verdict(self) -> str:
        """``"ok"``, ``"failed"``, or ``"inconclusive"`` (no check fails, but some met a kink where
        finite differences cannot decide)."""
        if self.ok:
            return "ok"
        if not self.checks or any(not c.ok and not c.inconclusive for c in self.checks):
            return "failed"
        return "inconclusive"

    @property
    def failure(self) -> str | None:
        """The message of the first failing check, else of the first inconclusive one (``None`` when all pass)."""
        failing = [c for c in self.checks if not c.ok]
        first = next((c for c in failing if not c.inconclusive), failing[0] if failing else None)
        return None if first is None else first.message

    @property
    def message(self) -> str:
        """``failure``, or ``''`` when all checks pass."""
        return self.failure or ""

    def __str__(self):
        args = ", ".join(str(s) for s in self.shapes)
        lines = [f"check_rule: {self.f_name} at arguments of shapes {args} ({self.dtype.name})"]
        width = max([len(c.name) for c in self.checks] + [5])
        for c in self.checks:
            verdict = ("ok" if c.ok else "kink?" if c.inconclusive else "FAIL").ljust(5)
            errs = "" if math.isnan(c.max_abs_error) else f"max abs err {c.max_abs_error:.2e}, rel {c.max_rel_error:.2e}"
            lines.append(f"  {c.name.ljust(width)}  {verdict}  {errs}".rstrip())
        if self.ok:
            lines.append(f"OK: {len(self.checks)} checks passed (rtol {self.rtol:.1e}, atol {self.atol:.1e}{self._scaled})")
        else:
            lines.append(f"{self.verdict.upper()}: " + (self.failure or "no checks were run"))
        return "\n".join(lines)

    def _card(self) -> Card:
        args = ", ".join(str(s) for s in self.shapes)
        checks = [
            (c.name, "ok" if c.ok else "kink?" if c.inconclusive else "FAIL", c.max_abs_error, c.max_rel_error)
            for c in self.checks
        ]
        detail = self.failure or f"rtol {self.rtol:.1e}, atol {self.atol:.1e}{self._scaled}"
        return Card(self.verdict, STATUS[self.verdict],
                    f"check_rule: {self.f_name} at arguments of shapes {args} ({self.dtype.name})",
                    detail=detail, table=(["check", "verdict", "max abs err", "max rel err"], checks))

    _repr_html_ = card_html

    def __repr__(self):
        return f"RuleCheckReport(ok={self.ok}, f={self.f_name!r}, failure={self.failure!r})"
