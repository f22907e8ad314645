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

Kinks
-----
Near a ReLU, abs or max kink the finite differences take smaller steps on the
affected coordinates until the kink is outside their stencil (see
:mod:`slopes.numeric`). An entry whose kink lies closer than even the
smallest step (about ``2**-38 max(|x|, 1)``) cannot be decided by finite
differences: it is reported as inconclusive (``report.verdict ==
"inconclusive"``, the entries named in ``report.inconclusive``, ``"kink?"`` in
the table), never as a failure; ``report.ok`` is then False.

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

from .grad import check_grad
from .report import KINDS as KINDS  # the module constants stay reachable as slopes.check.KINDS / .SAFETY
from .report import Entry, GradCheckReport, RuleCheck, RuleCheckReport
from .rule import check_rule
from .tolerance import SAFETY as SAFETY
from .tolerance import default_tolerance

__all__ = ["check_grad", "check_rule", "default_tolerance", "GradCheckReport", "RuleCheckReport", "Entry", "RuleCheck"]
