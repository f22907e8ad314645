"""Taylor mode: carry a truncated power series beside every value.

``taylor_call(fn, primals, series, order)`` runs ``fn`` with each input replaced
by a :class:`TaylorTracer` holding the value ``x0`` and the coefficients
``[x1, ..., xK]`` of a curve through it,

    x(t) = x0 + x1 t + x2 t**2 + ... + xK t**K,

and returns the same ``K`` coefficients of every output ``f(x(t))``. The
coefficients are *normalized*: ``xk = x^(k)(0) / k!`` (the k-th derivative
divided by ``k!``), so high orders neither overflow nor lose precision to
factorials; the k-th derivative of an output is ``k! * yk``.

Every primitive with a rule in :data:`TAYLOR_RULES` propagates the series in
one step, with the classical recurrences of automatic differentiation
(Griewank & Walther, *Evaluating Derivatives*, ch. 13): products are Cauchy
products, ``exp``, ``log``, ``x**a``, ``sqrt``, ``sin``/``cos`` and friends
follow from the ordinary differential equations they satisfy (``e' = e x'``,
``x y' = a x' y``, ...), and the inverse functions integrate their derivative
series (``arctan(x)' = x' / (1 + x**2)``). Each costs ``O(K**2)`` operations on
coefficient arrays (``O(K)`` where the input series is sparse, as along a
straight line), against ``O(2**K)`` for ``K`` nested first-order derivatives.

A *zero* coefficient is ``None`` and costs nothing; an input without a series
(a constant) is a plain value. Rules compute with Python operators and slopes
primitives, never with raw NumPy on possibly traced values, so when the
coefficients are tracers of an outer transform (``grad``, ``vmap``, another
Taylor pass) the whole computation is seen by that transform: Taylor mode
nests inside and around every other transform.

A primitive without a Taylor rule falls back on its forward-mode (JVP) rule,
exactly (see :mod:`.trace`); the conventions at singular points follow forward
mode (see :mod:`.elementwise`).

The package:

- :mod:`.trace`: the trace and its tracers, :func:`taylor_call`, the registry
  :data:`TAYLOR_RULES` with :func:`deftaylor`, and the fallback on JVP rules;
- :mod:`.series`: arithmetic on coefficient lists (Cauchy products, quotients,
  the ``exp``/``log``/power/``sqrt``/``sin``-``cos``/``tan`` recurrences,
  derivative and integral of a series);
- :mod:`.elementwise`: the rules of elementwise primitives;
- :mod:`.arrays`: the rules of linear, shape and reduction primitives,
  ``matmul``, ``einsum``, gathers and scatters, ``cumprod``/``linrec``, and
  ``inv``/``solve``/``cholesky``.

Importing the package imports every rule module, which fills the registry.
"""

from . import arrays, elementwise  # noqa: F401  (imported for their rules, which fill TAYLOR_RULES)
from .trace import TAYLOR_RULES, TaylorTrace, TaylorTracer, deftaylor, taylor_call

__all__ = ["TaylorTrace", "TaylorTracer", "taylor_call", "deftaylor", "TAYLOR_RULES"]
