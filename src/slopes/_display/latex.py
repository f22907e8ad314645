"""LaTeX for Jupyter's ``_repr_latex_``, written by sympy's printer (sympy imported on first use).

Names that are not plain identifiers (a user may call a variable anything) are set as
escaped upright text, so no character of theirs reaches the page as markup.
"""

from __future__ import annotations

import re

__all__ = ["latex_name", "math_display", "taylor_latex"]

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_SPECIAL = {
    "\\": r"\backslash ",
    "{": r"\{",
    "}": r"\}",
    "<": r"\lt ",
    ">": r"\gt ",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "^": r"\hat{}",
    "~": r"\sim ",
    " ": r"\ ",
}


def math_display(body: str) -> str:
    """``body`` as Jupyter's text/latex wants it: one displayed formula, ``$\\displaystyle ...$``.

    Examples
    --------
    >>> math_display(r"\\frac{x}{2}")
    '$\\\\displaystyle \\\\frac{x}{2}$'
    """
    return f"$\\displaystyle {body}$"


def latex_name(name: str) -> str:
    """The LaTeX of a variable name: sympy's for an identifier (``x1`` -> ``x_{1}``,
    ``theta`` -> ``\\theta``), else the characters escaped in ``\\mathrm{...}``.

    Examples
    --------
    >>> latex_name("theta_0")
    '\\\\theta_{0}'
    >>> latex_name("<b>")
    '\\\\mathrm{\\\\lt b\\\\gt }'
    """
    name = str(name)
    if _IDENTIFIER.fullmatch(name):
        import sympy as sp

        return sp.latex(sp.Symbol(name))
    return r"\mathrm{" + "".join(_SPECIAL.get(c, c) for c in name) + "}"


def _number(v: float, rational):
    """``v`` as a sympy number: exact when ``rational(v)`` finds ``p/q``, else 6 digits."""
    import sympy as sp

    r = rational(abs(v)) if rational is not None else None
    if r is not None:
        return sp.Rational(r[0], r[1]) * (-1 if v < 0 else 1)
    return sp.Float(v, 6)


def taylor_latex(terms: dict, names, centers, order: int, rational=None) -> str:
    """``f(x) \\approx \\sum_a c_a (x - x_0)^a + O(|x - x_0|^{n+1})`` in LaTeX.

    Parameters
    ----------
    terms : dict
        ``{(a1, ..., aD): c}``, the coefficients of the monomials in ``x - x0``, in the
        order to print them (zeros are left out).
    names : sequence of str
        The variables.
    centers : sequence of float
        ``x0``, one per variable.
    order : int
        The degree ``n``; the remainder is of order ``n + 1``.
    rational : callable, optional
        ``rational(v) -> (p, q) or None`` for ``v >= 0``: prints ``v`` as ``p/q``.

    Examples
    --------
    >>> taylor_latex({(0,): 1.0, (1,): 1.0, (2,): 0.5}, ["x"], [0.0], 2, lambda v: (round(2 * v), 2))
    'f(x) \\\\approx 1 + x + \\\\frac{x^{2}}{2} + O\\\\left(x^{3}\\\\right)'
    """
    import sympy as sp

    syms = [sp.Symbol(f"v{i}") for i in range(len(names))]  # named at printing: any text is safe
    shown = {s: latex_name(n) for s, n in zip(syms, names)}

    def tex(e):
        return sp.latex(e, symbol_names=shown)

    bases = [s - _number(c, rational) if c else s for s, c in zip(syms, centers)]
    text = ""
    for exps, c in terms.items():  # joined by hand: sympy would reorder the terms
        if not c:
            continue
        monomial = sp.Mul(*[b**e for b, e in zip(bases, exps) if e])
        size = _number(abs(c), rational)
        # a number times a bare (x - c) would be multiplied out: keep the factor whole
        term = monomial if size == 1 else sp.Mul(size, monomial, evaluate=not monomial.is_Add)
        sign = "-" if c < 0 else "+"
        text = f"{text} {sign} {tex(term)}" if text else ("-" if c < 0 else "") + tex(term)
    if len(bases) == 1:
        rest = tex(bases[0] ** (order + 1))
    else:
        rest = r"\left\lVert \left(" + ", ".join(tex(b) for b in bases) + rf"\right) \right\rVert^{{{order + 1}}}"
    args = ", ".join(shown[s] for s in syms)
    return rf"f({args}) \approx {text or '0'} + O\left({rest}\right)"
