"""Taylor polynomials of scalar functions of one or several variables: :func:`taylor`.

``sl.taylor(f, x0, order)`` returns a :class:`TaylorPolynomial`, the truncated
Taylor series of ``f`` about ``x0``,

    p(x0 + s) = sum_{k=0..n} D^k f(x0)[s, ..., s] / k!,

which holds the derivative tensors ``D^k f(x0)``, evaluates at points and at
arrays of points, estimates its own truncation error and prints in powers of
``(x - x0)``.

How the derivatives are computed (exactly, to rounding, never by differences):

- ``f: R -> R`` (a scalar ``x0``): one Taylor-mode pass
  (:func:`slopes.core.taylor.taylor_call`) along the line ``x0 + t`` gives all
  the normalized coefficients ``f^(k)(x0) / k!`` at once, in ``O(n**2)`` work
  per operation of ``f``; orders of 20 and more are cheap.
- ``f: R^D -> R`` (a vector ``x0`` of shape ``(D,)``): the ``k``-th derivative
  tensor is ``k`` nested forward-mode Jacobians, ``jacfwd(...(jacfwd(f)))``,
  each vectorized over its ``D`` basis directions. The order-``k`` tensor costs
  about ``(2 D)**k`` times an evaluation of ``f`` (``D**k`` entries, each carried
  through ``k`` nested forward perturbations), so this is meant for small ``D``
  and moderate orders (say ``D <= 5``, ``order <= 6``). The tensors are
  symmetric up to rounding (mixed partials agree: Clairaut/Schwarz).

Orders 1 and 2 are the linear and quadratic models of optimization,
``f(x + s) ~ f(x) + grad f(x).s (+ s.H s / 2)``.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np

from ._display import math_display, summarize
from ._display.latex import taylor_latex
from .core.taylor import taylor_call
from .expr.budget import BudgetError, current_budget
from .core.trace import Tracer, shape_of
from .transforms import jacfwd
from .transforms._common import check_callable, fun_name

__all__ = ["TaylorPolynomial", "check_taylor_work", "taylor"]

_FACTORIALS = [math.factorial(k) for k in range(21)]
_REPR_TEXT = 100  # characters of the polynomial a repr shows (str() shows it all)
_MAX_FLOAT_FACTORIAL = 170  # 170! ~ 7.3e306 is the largest factorial below float64's 1.8e308


def taylor(f, x0, order, variables=None):
    """The Taylor polynomial of ``f`` of degree ``order`` about ``x0``.

    Parameters
    ----------
    f : callable
        A scalar function: of a scalar (``f: R -> R``, when ``x0`` is a
        scalar) or of a vector of shape ``(D,)`` (``f: R^D -> R``, when ``x0``
        has shape ``(D,)``), written with :mod:`slopes.numpy`. A parsed
        :class:`slopes.Expression` works too (its variables name the axes).
    x0 : float or array_like of shape (D,)
        The center of the expansion.
    order : int
        The degree ``n >= 0`` of the polynomial. Univariate orders are cheap
        (one Taylor-mode pass, ``O(n**2)``), up to 169 (``k!`` of the next
        order must be a float64); a multivariate order-``k`` tensor costs about
        ``(2 D)**k`` evaluations of ``f`` (see the module notes), refused before
        any work past the budget's ``max_taylor_work`` (``4**10`` by default:
        order 10 in 2 variables, 7 in 3, 6 in 5; see :func:`slopes.budget`).
    variables : sequence of str or str, optional
        Names of the variables in ``str()``. Default: the Expression's
        ``.variables`` if ``f`` is one, else ``x`` for one variable, ``x, y, z``
        for ``D <= 3`` and ``x1, ..., xD`` beyond.

    Returns
    -------
    TaylorPolynomial
        ``.derivatives[k] = D^k f(x0)``, ``.coefficients[k] = D^k f(x0) / k!``,
        callable, with :meth:`~TaylorPolynomial.remainder_estimate`.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> p = sl.taylor(lambda x: snp.sin(x) + snp.cos(x), 0.0, 5)
    >>> print(p)
    1 + x - x^2/2 - x^3/6 + x^4/24 + x^5/120
    >>> [float(c) for c in p.coefficients[:4]]
    [1.0, 1.0, -0.5, -0.16666666666666666]
    >>> q = sl.taylor(lambda v: v[0] ** 2 + 2 * v[0] * v[1] + v[1] ** 3, np.array([1.0, 2.0]), 3)
    >>> print(q)
    13 + 6(x-1) + 14(y-2) + (x-1)^2 + 2(x-1)(y-2) + 6(y-2)^2 + (y-2)^3
    >>> q.derivatives[1]
    array([ 6., 14.])
    >>> float(q(np.array([0.5, 1.5])))
    5.125
    """
    check_callable(f, "taylor")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 0:
        raise ValueError(f"taylor(): order must be a non-negative integer, got {order!r}")
    order = int(order)
    if isinstance(x0, Tracer):
        raise TypeError("taylor(): the center x0 must be a concrete value, not a traced one")
    c = np.asarray(x0)
    if c.dtype.kind not in "fiub":
        raise TypeError(f"taylor(): the center x0 must be real numbers, got dtype {c.dtype}")
    c = c.astype(np.float64)
    if c.ndim > 1:
        raise ValueError(
            f"taylor(): x0 must be a scalar (f: R -> R) or a vector of shape (D,) (f: R^D -> R), "
            f"got shape {c.shape}"
        )
    if variables is None and hasattr(f, "variables") and not callable(f.variables):
        names = tuple(f.variables)
        if len(names) == (1 if c.ndim == 0 else c.shape[0]):
            variables = names
    if c.ndim == 0:
        if order + 1 > _MAX_FLOAT_FACTORIAL:
            raise ValueError(
                f"taylor(): order {order} is too high for one variable: the derivatives "
                f"f^(k)(x0) = k! * (k-th coefficient) are float64 numbers, and k! overflows float64 "
                f"beyond k = {_MAX_FLOAT_FACTORIAL} (the remainder estimate needs order + 1); use "
                f"order <= {_MAX_FLOAT_FACTORIAL - 1}, or sl.derivative for one derivative of any order"
            )
        derivs, nxt = _univariate(f, c, order)
        return TaylorPolynomial(float(c), derivs, variables=variables, next_derivative=nxt)
    check_taylor_work(c.shape[0], order)
    derivs = [_tensor(f, c, k) for k in range(order + 1)]
    return TaylorPolynomial(c, derivs, variables=variables, next_derivative=_NextTensor(f, c, order + 1))


class _NextTensor:
    """The derivative tensor of order ``k`` at ``c``, computed when the remainder estimate asks.

    An object, not a lambda, so a polynomial of a picklable ``f`` pickles with plain pickle.
    """

    def __init__(self, f, c, k):
        self.f, self.c, self.k = f, c, k

    def __call__(self):
        return _tensor(self.f, self.c, self.k, remainder=True)


def _scalar_output(f, out, shape_in):
    if shape_of(out) != ():
        raise TypeError(
            f"taylor() needs a scalar function; {fun_name(f)} maps shape {shape_in} to shape "
            f"{shape_of(out)}. Expand each output separately."
        )


def _univariate(f, c, order):
    """Derivatives ``f^(k)(c)``, ``k = 0..order``, and ``f^(order+1)(c)``, in one Taylor pass."""
    K = order + 1
    outs, series = taylor_call(lambda y: [f(y)], [c], [[np.float64(1.0)] + [None] * (K - 1)], K)
    _scalar_output(f, outs[0], ())
    ser = series[0] if series[0] is not None else [None] * K
    coeffs = [float(np.asarray(outs[0]))] + [0.0 if s is None else float(np.asarray(s)) for s in ser]
    derivs = [coeffs[k] * _factorial(k) for k in range(K + 1)]
    return derivs[:K], derivs[K]


def _factorial(k):
    if k < len(_FACTORIALS):
        return float(_FACTORIALS[k])
    return float(math.factorial(k)) if k <= _MAX_FLOAT_FACTORIAL else math.inf


def check_taylor_work(D, k, remainder=False):
    """Refuse, before any work, an order-``k`` tensor in ``D`` variables past ``max_taylor_work``.

    The tensor has ``D**k`` entries, each carried through ``k`` nested forward-mode
    perturbations (``2**k`` terms): ``(2 D)**k`` in all. ``remainder=True`` says the
    tensor is the one a remainder estimate needs (order ``n + 1`` of a polynomial of
    order ``n``), so the advice is about ``n``.

    Examples
    --------
    >>> from slopes.taylor import check_taylor_work
    >>> check_taylor_work(2, 10)
    >>> check_taylor_work(2, 11, remainder=True)
    Traceback (most recent call last):
    ...
    slopes.expr.budget.BudgetError: the remainder estimate (the derivative tensor of order 11) in 2 variables needs ...
    """
    limit = current_budget().max_taylor_work
    work = (2 * D) ** k
    if work > limit:
        ok = int(math.log(limit) / math.log(2 * D) + 1e-9) - remainder
        what = "the remainder estimate (the derivative tensor" if remainder else "a Taylor polynomial"
        raise BudgetError(
            f"{what} of order {k}{')' if remainder else ''} in {D} variables needs (2*{D})**{k} = {work:,} nested forward-mode "
            f"terms ({D}**{k} = {D**k:,} tensor entries), at most {limit:,} (max_taylor_work)",
            "max_taylor_work",
            f"use order <= {ok}, or expand along one direction u: sl.taylor(lambda t: f(x0 + t*u), 0.0, order) "
            "(one variable: any order up to 169, in O(order**2))",
        )


def _tensor(f, c, k, remainder=False):
    """``D^k f(c)``: ``k`` nested forward-mode Jacobians; shape ``(D,) * k`` (a float for ``k = 0``)."""
    check_taylor_work(c.shape[0], k, remainder)
    g = f
    for _ in range(k):
        g = jacfwd(g)
    out = np.asarray(g(c), dtype=np.float64)
    D = c.shape[0]
    if out.shape != (D,) * k:
        _scalar_output(f, np.asarray(f(c)), c.shape)
        out = np.broadcast_to(out, (D,) * k).copy()  # a constant function: zeros
    return float(out) if k == 0 else out


class TaylorPolynomial:
    """A Taylor polynomial ``p(x0 + s) = sum_k D^k f(x0)[s, ..., s] / k!``, as :func:`taylor` makes it.

    Parameters
    ----------
    center : float or array_like of shape (D,)
        ``x0``; a scalar for a polynomial in one variable.
    derivatives : sequence
        ``D^k f(x0)`` for ``k = 0..n``: numbers for a scalar center, else
        symmetric arrays of shape ``(D,) * k`` (a number for ``k = 0``).
    variables : sequence of str or str, optional
        Names used by ``str()`` (see :func:`taylor`).
    next_derivative : number, array or callable, optional
        ``D^(n+1) f(x0)``, or a function of no arguments computing it when
        first needed; used by :meth:`remainder_estimate`.

    Attributes
    ----------
    center : float or np.ndarray
        ``x0``.
    order : int
        The degree ``n``.
    derivatives : list
        ``D^k f(x0)``, ``k = 0..n``.
    coefficients : list
        ``D^k f(x0) / k!``: for one variable, the coefficients of
        ``(x - x0)**k``; for several, the tensors contracted ``k`` times with
        ``s = x - x0``.
    variables : tuple of str
        The variable names.

    Examples
    --------
    >>> from slopes.taylor import TaylorPolynomial
    >>> p = TaylorPolynomial(1.0, [2.0, 3.0, 4.0])   # 2 + 3(x-1) + 4(x-1)^2 / 2!
    >>> print(p)
    2 + 3(x-1) + 2(x-1)^2
    >>> p(np.array([1.0, 2.0, 3.0]))
    array([ 2.,  7., 16.])
    """

    __slots__ = ("center", "order", "derivatives", "coefficients", "variables", "_next", "_terms")

    def __init__(self, center, derivatives, variables=None, next_derivative=None):
        derivatives = list(derivatives)
        if not derivatives:
            raise ValueError("TaylorPolynomial needs at least the value D^0 f(x0)")
        c = np.asarray(center, dtype=np.float64)
        if c.ndim > 1:
            raise ValueError(
                f"TaylorPolynomial: the center must be a scalar or a vector, got shape {c.shape}"
            )
        self.order = len(derivatives) - 1
        if c.ndim == 0:
            self.center = float(c)
            self.derivatives = [float(d) for d in derivatives]
            self.coefficients = [d / _factorial(k) for k, d in enumerate(self.derivatives)]
            D = 1
        else:
            self.center = c
            D = c.shape[0]
            self.derivatives = []
            for k, d in enumerate(derivatives):
                d = np.asarray(d, dtype=np.float64)
                if d.shape != (D,) * k:
                    raise ValueError(
                        f"TaylorPolynomial: derivative {k} must have shape {(D,) * k}, got {d.shape}"
                    )
                self.derivatives.append(float(d) if k == 0 else d)
            self.coefficients = [d / _factorial(k) for k, d in enumerate(self.derivatives)]
        self.variables = _names(variables, D, c.ndim == 0)
        self._next = next_derivative
        self._terms = None

    # -- the monomials ------------------------------------------------------------------------------
    def terms(self):
        """The coefficients of the monomials in ``s = x - x0``, by exponent tuple.

        Returns
        -------
        dict
            ``{(a1, ..., aD): c}`` with ``p(x0 + s) = sum c * s1**a1 * ... * sD**aD``,
            ``c = d^|a| f / (dx1^a1 ... dxD^aD) (x0) / (a1! ... aD!)``, in graded
            order (by degree, then with the first variable's exponent falling);
            ``(k,)`` for one variable. Zero coefficients included.

        Examples
        --------
        >>> import slopes as sl
        >>> p = sl.taylor(lambda v: v[0] * v[1] ** 2, np.array([0.0, 0.0]), 3)
        >>> {a: c for a, c in p.terms().items() if c != 0}
        {(1, 2): 1.0}
        """
        if self._terms is None:
            self._terms = _terms(self.derivatives, self.center)
        return dict(self._terms)

    def _homogeneous(self, k, tensor, x):
        """The degree-``k`` term ``tensor[s, ..., s] / k!`` at the points ``x``."""
        s, univariate = self._offsets(x)
        if univariate:
            return float(tensor) / _factorial(k) * s**k
        out = 0.0
        for a, coef in _terms_of_degree(k, tensor, len(self.variables)):
            if coef != 0.0:
                out = out + coef * _monomial(s, a)
        return out * np.ones(np.shape(s)[:-1]) if not isinstance(out, Tracer) else out

    def _offsets(self, x):
        """``s = x - x0`` as an array (or a traced value), and whether the polynomial is univariate."""
        if not isinstance(x, Tracer):
            x = np.asarray(x, dtype=np.float64)
        if isinstance(self.center, float):
            return x - self.center, True
        D = self.center.shape[0]
        if shape_of(x)[-1:] != (D,):
            raise ValueError(
                f"a Taylor polynomial in {D} variables is evaluated at points of shape (..., {D}), "
                f"got shape {shape_of(x)}"
            )
        return x - self.center, False

    def __call__(self, x):
        """``p(x)``: at a point, or at an array of points (shape ``(...,)`` or ``(..., D)``).

        Examples
        --------
        >>> import slopes as sl
        >>> p = sl.taylor(lambda v: v[0] * v[1], np.array([1.0, 1.0]), 2)
        >>> p(np.array([[2.0, 3.0], [0.0, 0.0]]))
        array([6., 0.])
        """
        s, univariate = self._offsets(x)
        if univariate:
            out = 0.0
            for c in reversed(self.coefficients):  # Horner
                out = out * s + c
            return out if isinstance(out, Tracer) or np.ndim(out) else np.float64(out)
        out = 0.0
        for a, coef in self.terms().items():
            if coef != 0.0:
                out = out + coef * _monomial(s, a)
        if isinstance(out, Tracer):
            return out
        out = np.asarray(out, dtype=np.float64) * np.ones(np.shape(s)[:-1])
        return out if out.ndim else np.float64(out)

    def remainder_estimate(self, x):
        """An estimate of the truncation error ``f(x) - p(x)``: the first neglected term.

        This is ``D^(n+1) f(x0)[s, ..., s] / (n+1)!`` with ``s = x - x0``,
        computed with one more derivative order. For smooth ``f`` and small
        ``s`` the error is this term plus ``O(|s|**(n+2))``, so the estimate is
        good when the series converges fast; it is an estimate, not a bound
        (it is 0 where the next term vanishes, e.g. for a polynomial of degree
        ``<= n``, where the error is 0 too). Vectorized like evaluation.

        Examples
        --------
        >>> import slopes as sl, slopes.numpy as snp
        >>> p = sl.taylor(snp.exp, 0.0, 3)
        >>> x = 0.1
        >>> err = float(np.exp(x) - p(x))
        >>> est = float(p.remainder_estimate(x))   # x^4 / 4!
        >>> round(est, 10), abs(err - est) < 1e-7
        (4.1667e-06, True)
        """
        if self._next is None:
            raise ValueError(
                "this TaylorPolynomial has no derivative of order n+1; pass next_derivative= "
                "(sl.taylor does) to estimate the remainder"
            )
        if callable(self._next):
            self._next = self._next()
        out = self._homogeneous(self.order + 1, self._next, x)
        if isinstance(out, Tracer):
            return out
        out = np.asarray(out, dtype=np.float64)
        return out if out.ndim else np.float64(out)

    # -- text ---------------------------------------------------------------------------------------
    def __str__(self):
        """The polynomial in powers of ``(x - x0)``.

        Coefficients that are small rationals to rounding (a denominator up to
        10**4, or a factorial up to 20!) print exactly, with the denominator
        after the monomial (``x^2/2``, ``x^5/120``: the values of ``1/k!``, not
        the symbol ``k!``); others print with 6 significant digits. Zero terms
        are left out.
        """
        names = self.variables
        centers = [self.center] if isinstance(self.center, float) else list(self.center)
        bases = [_base(n, c) for n, c in zip(names, centers)]
        star = not (all(len(n) == 1 for n in names) or all(b.startswith("(") for b in bases))
        parts = []
        for a, coef in self.terms().items():
            if coef == 0.0:
                continue
            factors = [b if e == 1 else f"{b}^{e}" for b, e in zip(bases, a) if e > 0]
            parts.append(_term(coef, ("*" if star else "").join(factors)))
        if not parts:
            return "0"
        sign, text = parts[0]
        text = "-" + text if sign == "-" else text
        for sign, body in parts[1:]:
            text += f" {sign} {body}"
        return text

    def __repr__(self):
        center = summarize(self.center)
        text = str(self)
        text = text if len(text) <= _REPR_TEXT else text[: _REPR_TEXT - 3] + "..."
        return f"TaylorPolynomial(order={self.order}, center={center}, {text!r})"

    def _repr_latex_(self):
        """Jupyter's LaTeX display: ``f(x) \\approx`` the polynomial ``+ O((x - x_0)^{n+1})``."""
        centers = [self.center] if isinstance(self.center, float) else list(self.center)
        return math_display(taylor_latex(self.terms(), self.variables, centers, self.order, _rational))


def _names(variables, D, univariate):
    if variables is None:
        if univariate or D == 1:
            return ("x",)
        return ("x", "y", "z")[:D] if D <= 3 else tuple(f"x{i + 1}" for i in range(D))
    if isinstance(variables, str):
        variables = variables.replace(",", " ").split()
    variables = tuple(str(v) for v in variables)
    if len(variables) != D:
        raise ValueError(f"variables={list(variables)} names {len(variables)} variable(s), but there are {D}")
    return variables


def _terms_of_degree(k, tensor, D):
    """``(exponents, coefficient)`` of the degree-``k`` monomials of ``tensor[s, ..., s] / k!``."""
    if k == 0:
        yield (0,) * D, float(tensor)
        return
    for idx in itertools.combinations_with_replacement(range(D), k):
        a = [0] * D
        for i in idx:
            a[i] += 1
        denom = 1.0
        for e in a:
            denom *= _factorial(e)
        yield tuple(a), float(tensor[idx]) / denom


def _terms(derivatives, center):
    if isinstance(center, float):
        return {(k,): d / _factorial(k) for k, d in enumerate(derivatives)}
    D = center.shape[0]
    out = {}
    for k, t in enumerate(derivatives):
        out.update(_terms_of_degree(k, t, D))
    return out


def _monomial(s, a):
    """``prod_i s[..., i]**a_i`` (the exponents ``a`` are not all zero, or the product is 1)."""
    out = 1.0
    for i, e in enumerate(a):
        if e:
            si = s[..., i]
            p = si
            for _ in range(e - 1):
                p = p * si
            out = p if type(out) is float and out == 1.0 else out * p
    return out


# -- printing numbers ---------------------------------------------------------------------------------
def _rational(v):
    """``(p, q)`` if ``v`` is ``p/q`` to rounding with a small ``q`` (<= 10**4, or a factorial <= 20!)."""
    if not math.isfinite(v):
        return None
    tol = 16 * math.ulp(v)
    exact = Fraction(v)
    fr = exact.limit_denominator(10**4)
    if abs(exact - fr) <= tol and abs(fr.numerator) <= 10**12:
        return fr.numerator, fr.denominator
    for m in _FACTORIALS[8:]:
        p = round(v * m)
        if p != 0 and abs(p) <= 10**4 and abs(exact - Fraction(p, m)) <= tol:
            fr = Fraction(p, m)
            return fr.numerator, fr.denominator
    return None


def _term(v, monomial):
    """``(sign, text)`` of the term ``v * monomial``."""
    sign = "-" if v < 0 else "+"
    r = _rational(abs(v))
    if r is None:
        num = f"{abs(v):.6g}"
        if not monomial:
            return sign, num
        return sign, f"{num}*{monomial}" if ("e" in num or "n" in num) else f"{num}{monomial}"
    p, q = r
    if not monomial:
        return sign, f"{p}" if q == 1 else f"{p}/{q}"
    body = monomial if p == 1 else f"{p}{monomial}"
    return sign, body if q == 1 else f"{body}/{q}"


def _base(name, c):
    """``x`` for a center 0, else ``(x-c)`` / ``(x+|c|)``."""
    if c == 0:
        return name
    return f"({name}-{c:.6g})" if c > 0 else f"({name}+{-c:.6g})"
