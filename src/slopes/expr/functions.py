"""The allow-list: every function and constant a user expression may use.

One table serves both directions: :func:`slopes.parse` accepts exactly these
names, and :func:`slopes.symbolic.to_function` accepts exactly the sympy
functions listed here. Each entry knows its slopes.numpy implementation (so
expressions are differentiable by every slopes transform) and its sympy
counterpart (so they can be differentiated exactly). sympy is imported lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import numpy as snp

__all__ = ["CONSTANTS", "FUNCTIONS", "Function", "allowed_functions"]


def _sympy():
    import sympy

    return sympy


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, stable for any ``x``.

    Computed as ``exp(-softplus(-x))`` so neither tail overflows.

    Examples
    --------
    >>> from slopes.expr.functions import sigmoid
    >>> float(sigmoid(0.0)), float(sigmoid(1000.0)), float(sigmoid(-1000.0))
    (0.5, 1.0, 0.0)
    """
    return snp.exp(-snp.logaddexp(0.0, -x))


def softplus(x):
    """``log(1 + exp(x))``, computed stably as ``logaddexp(0, x)``.

    Examples
    --------
    >>> from slopes.expr.functions import softplus
    >>> float(softplus(1000.0)), round(float(softplus(0.0)), 6)
    (1000.0, 0.693147)
    """
    return snp.logaddexp(0.0, x)


def relu(x):
    """``max(x, 0)``, with derivative 0 at 0 (``where(x > 0, x, 0)``).

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.expr.functions import relu
    >>> float(relu(-2.0)), float(relu(3.0)), float(sl.grad(relu)(0.0))
    (0.0, 3.0, 0.0)
    """
    return snp.where(x > 0, x, 0.0)


def heaviside(x):
    """Unit step: 1 for ``x > 0``, else 0 (so ``heaviside(0) = 0 = relu'(0)``).

    Examples
    --------
    >>> from slopes.expr.functions import heaviside
    >>> heaviside(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 1.])
    """
    return snp.where(x > 0, 1.0, 0.0)


@dataclass(frozen=True)
class Function:
    """One allowed function.

    Attributes
    ----------
    name : str
        The name users write.
    arity : int
        Number of arguments.
    numeric : callable
        slopes.numpy implementation (differentiable).
    to_sympy : callable
        Builds the sympy counterpart from sympy arguments.
    sympy_name : str or None
        Name of the sympy function class that maps back to this entry, if any.
    """

    name: str
    arity: int
    numeric: Callable[..., Any]
    to_sympy: Callable[..., Any]
    sympy_name: str | None = None


def _f(name, arity, numeric, sympy_name=None, to_sympy=None):
    if to_sympy is None:
        to_sympy = lambda *args: getattr(_sympy(), sympy_name)(*args)
    return Function(name, arity, numeric, to_sympy, sympy_name)


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in [
        _f("exp", 1, snp.exp, "exp"),
        _f("log", 1, snp.log, "log"),
        _f("log1p", 1, snp.log1p, to_sympy=lambda x: _sympy().log(1 + x)),
        _f("sqrt", 1, snp.sqrt, to_sympy=lambda x: _sympy().sqrt(x)),
        _f("sin", 1, snp.sin, "sin"),
        _f("cos", 1, snp.cos, "cos"),
        _f("tan", 1, snp.tan, "tan"),
        _f("arcsin", 1, snp.arcsin, "asin"),
        _f("arccos", 1, snp.arccos, "acos"),
        _f("arctan", 1, snp.arctan, "atan"),
        _f("sinh", 1, snp.sinh, "sinh"),
        _f("cosh", 1, snp.cosh, "cosh"),
        _f("tanh", 1, snp.tanh, "tanh"),
        _f("abs", 1, snp.abs, "Abs"),
        _f("sign", 1, snp.sign, "sign"),
        _f("heaviside", 1, heaviside, "Heaviside", to_sympy=lambda x: _sympy().Heaviside(x, 0)),
        _f("sigmoid", 1, sigmoid, to_sympy=lambda x: 1 / (1 + _sympy().exp(-x))),
        _f("relu", 1, relu, to_sympy=lambda x: _sympy().Max(x, 0)),
        _f("softplus", 1, softplus, to_sympy=lambda x: _sympy().log(1 + _sympy().exp(x))),
        _f("min", 2, snp.minimum, "Min"),
        _f("max", 2, snp.maximum, "Max"),
    ]
}

#: name -> (float value, sympy attribute name)
CONSTANTS: dict[str, tuple[float, str]] = {"pi": (float(np.pi), "pi"), "e": (float(np.e), "E")}


def allowed_functions() -> str:
    """The allowed function names, comma-separated (for error messages).

    Examples
    --------
    >>> from slopes.expr.functions import allowed_functions
    >>> allowed_functions().split(", ")[:4]
    ['exp', 'log', 'log1p', 'sqrt']
    """
    return ", ".join(FUNCTIONS)
