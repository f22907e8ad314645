"""The sympy bridge: exact derivatives of expressions, and back to slopes functions.

``sl.symbolic.diff``, ``gradient``, ``jacobian`` and ``hessian`` take an
:class:`~slopes.Expression` (or a sympy expression) and return simplified
sympy results (a ``sympy.Matrix`` for vectors and matrices).
``to_function`` turns a sympy expression back into a slopes-differentiable
:class:`~slopes.Expression` by walking its tree through the same allow-list
the parser uses; anything outside it is refused with ``ExpressionError``.
Nothing is ever passed to ``sympify``, ``lambdify`` or ``eval``, and sympy
Symbols are only made from validated names. sympy is imported on first use.

Examples
--------
>>> import slopes as sl
>>> f = sl.parse("x^3 + 2*x - 5")
>>> sl.symbolic.diff(f, "x")
3*x**2 + 2
>>> df = sl.symbolic.to_function(sl.symbolic.diff(f, "x"))
>>> float(df(2.0)), float(sl.derivative(f)(2.0))
(14.0, 14.0)
"""

from .convert import FunctionArray, to_function
from .derivatives import diff, gradient, hessian, jacobian

__all__ = ["FunctionArray", "diff", "gradient", "hessian", "jacobian", "to_function"]
