"""The machinery every distribution shares: SciPy's signatures, parameter checks, support.

A family is written once, in standard form (``z = (x - loc) / scale`` for a continuous
one, ``k = x - loc`` for a discrete one), for points inside its support and valid
parameters only. :func:`continuous` and :func:`discrete` then give it SciPy's functions
and conventions:

- invalid parameters (``scale <= 0``, a shape outside its range) give NaN, as SciPy's
  do; they are replaced by a valid stand-in before any arithmetic, so neither a warning
  nor a NaN derivative reaches the valid entries of a batch;
- outside the support ``logpdf = -inf``, ``cdf`` is 0 or 1, ``sf`` is 1 or 0, with
  derivative 0: the formulas only ever see points inside the support;
- whatever a family leaves out is derived stably: ``pdf = exp(logpdf)``,
  ``sf(z) = cdf(-z)`` for a symmetric family, and ``log cdf`` as ``log(cdf)`` where
  ``cdf < 1/2`` and ``log1p(-sf)`` elsewhere (so neither tail loses its digits).
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from ... import numpy as snp
from ...core.trace import Tracer
from ...numpy._masks import known as _known
from ...numpy._masks import never as _never

__all__ = ["Family", "Shape", "continuous", "discrete", "log_of_probability"]

_NAN, _INF = math.nan, math.inf

# the value of each function below and above the support
_BEYOND = {
    "logpdf": (-_INF, -_INF),
    "logpmf": (-_INF, -_INF),
    "cdf": (0.0, 1.0),
    "logcdf": (-_INF, 0.0),
    "sf": (1.0, 0.0),
    "logsf": (0.0, -_INF),
}

_SUMMARY = {
    "logpdf": "Log of the probability density function",
    "pdf": "Probability density function",
    "logpmf": "Log of the probability mass function",
    "pmf": "Probability mass function",
    "cdf": "Cumulative distribution function",
    "logcdf": "Log of the cumulative distribution function",
    "sf": "Survival function (``1 - cdf``, accurate in the upper tail)",
    "logsf": "Log of the survival function",
}


class Shape:
    """A shape parameter: its name, the test of a valid value, a valid stand-in, its meaning.

    Examples
    --------
    >>> Shape("df", lambda v: v > 0, 1.0, "degrees of freedom, > 0").name
    'df'
    """

    def __init__(self, name, valid, stand_in, doc):
        self.name, self.valid, self.stand_in, self.doc = name, valid, stand_in, doc


class Family:
    """The functions of one distribution under SciPy's names: ``norm.logpdf``, ``norm.cdf``...

    Examples
    --------
    >>> from slopes.scipy import stats
    >>> stats.norm
    <slopes.scipy.stats.norm: logpdf, pdf, ...>
    """

    def __init__(self, name, doc, functions):
        self.__name__ = name
        self.__doc__ = doc
        self._names = list(functions)
        self.__dict__.update(functions)

    def __repr__(self):
        return f"<slopes.scipy.stats.{self.__name__}: {', '.join(self._names)}>"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._names))


def log_of_probability(p, q):
    """``log(p)`` for a probability ``p`` whose complement ``q = 1 - p`` is known accurately.

    ``log(p)`` where ``p < 1/2``, ``log1p(-q)`` elsewhere: near ``p = 1`` the complement
    carries the digits that ``p`` itself has rounded away.

    Examples
    --------
    >>> float(log_of_probability(1 - 1e-20, 1e-20))   # log(p) would say 0.0
    -1e-20
    """
    small = snp.less(p, 0.5)
    return snp.where(small, snp.log(snp.where(small, p, 0.5)), snp.log1p(-snp.where(small, 0.5, q)))


def _arrays(args):
    return [snp.asarray(a) if isinstance(a, (list, tuple)) else a for a in args]


def _precision(x, params):
    """Python numbers among ``params`` at ``x``'s float precision, as NumPy's weak scalars.

    A parameter ``1.0`` must not turn float32 data into float64 results once it has been
    through ``where`` or a special function (both give float64 for a Python float).
    """
    dtype = np.result_type(getattr(x, "dtype", np.float64))
    if not np.issubdtype(dtype, np.floating):
        dtype = np.dtype(np.float64)
    return [np.asarray(v, dtype) if isinstance(v, (int, float)) else v for v in params]


def _either(a, b):
    """``a | b`` for masks of which None means none."""
    return a if b is None else b if a is None else snp.logical_or(a, b)


def _no_op(x, v, neutral):
    """Whether ``x - v`` (``neutral = 0``) or ``x / v`` (``neutral = 1``) is ``x`` itself.

    So it is for a constant scalar ``v`` equal to ``neutral`` (no derivative to carry)
    that leaves ``x``'s dtype as it is (no promotion, as for an integer ``x``).
    """
    dtype = getattr(x, "dtype", None)
    return (not isinstance(v, Tracer) and np.ndim(v) == 0 and v == neutral and dtype is not None
            and np.issubdtype(dtype, np.inexact) and np.result_type(dtype, v) == dtype)


def _checked(values, shapes):
    """Parameters with invalid entries replaced by stand-ins, and where all were valid
    (``True`` when every entry is known to be valid)."""
    valid, safe = True, []
    for v, s in zip(values, shapes):
        ok = s.valid(v)
        known = _known(ok)
        if known is not None and known.all():
            safe.append(v)
            continue
        safe.append(snp.where(ok, v, s.stand_in))
        valid = ok if valid is True else snp.logical_and(valid, ok)
    return safe, valid


def _fill(value, below, above, kind):
    lo, hi = _BEYOND[kind]
    if below is not None:
        value = snp.where(below, lo, value)
    if above is not None:
        value = snp.where(above, hi, value)
    return value


def _invalid_to_nan(value, valid):
    return value if valid is True else snp.where(valid, value, _NAN)


def _complete(std, symmetric):
    """The family's standard-form functions, with the missing ones derived from the others."""
    std = dict(std)
    if symmetric:
        if "sf" not in std and "cdf" in std:
            std["sf"] = lambda z, *p: std["cdf"](-z, *p)
        if "logsf" not in std and "logcdf" in std:
            std["logsf"] = lambda z, *p: std["logcdf"](-z, *p)
    pairs = (("logcdf", "cdf", "sf"), ("logsf", "sf", "cdf"))
    for log_name, name, _ in pairs:
        if name not in std:
            std[name] = lambda z, *p, _f=std[log_name]: snp.exp(_f(z, *p))
    for log_name, name, other in pairs:
        if log_name not in std:
            std[log_name] = lambda z, *p, _f=std[name], _g=std[other]: log_of_probability(_f(z, *p), _g(z, *p))
    return std


def _signature(point, shapes, tail):
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [inspect.Parameter(point, kind)]
    params += [inspect.Parameter(s.name, kind) for s in shapes]
    params += [inspect.Parameter(n, kind, default=d) for n, d in tail]
    return inspect.Signature(params)


def _bind(name, kind, sig, impl, module, doc):
    """``impl(*arguments)`` behind SciPy's signature for ``name.kind``, documented."""
    n = len(sig.parameters)

    def fn(*args, **kwargs):
        if kwargs or len(args) != n:
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as e:
                raise TypeError(f"{name}.{kind}{sig}: {e}") from None
            bound.apply_defaults()
            args = tuple(bound.arguments.values())
        return impl(*_arrays(args))

    fn.__name__ = kind
    fn.__qualname__ = f"{name}.{kind}"
    fn.__module__ = module
    fn.__signature__ = sig
    fn.__doc__ = doc
    return fn


_POINTS = {
    "pdf": "x : array_like\n    The points (broadcast against the parameters).",
    "pmf": "k : array_like\n    The points, integers where the mass is (broadcast against the parameters).",
}
_DIFFERENTIABLE = {
    "pdf": "in the data and in every parameter",
    "pmf": "in every parameter (in ``k``, ``logpmf`` has the derivative of its analytic continuation, "
    "as JAX's; the cdf side is a step function)",
}


def _docstring(name, kind, density, shapes, tail_docs, notes, example, limits=""):
    params = "\n".join(f"{s.name} : array_like\n    {s.doc[0].upper()}{s.doc[1:]}." for s in shapes)
    call = f"stats.{name}.{kind}({example})"
    ref = f"scipy.stats.{name}.{kind}({example})"
    return (
        f"{_SUMMARY[kind]} of ``{name}``: differentiable ``scipy.stats.{name}.{kind}``.\n\n"
        f"Differentiable to any order {_DIFFERENTIABLE[density]}{limits}. {notes}\n\n"
        "Parameters\n----------\n"
        f"{_POINTS[density]}\n"
        + (params + "\n" if params else "")
        + tail_docs
        + "\n\nReturns\n-------\nndarray, or a traced array inside a transform; NaN where a parameter\n"
        "is invalid, as SciPy.\n\n"
        "Examples\n--------\n>>> import scipy.stats\n>>> from slopes.scipy import stats\n"
        f">>> bool(np.isclose({call}, {ref}))\nTrue\n"
    )


_LOC_SCALE_DOCS = (
    "loc : array_like, optional\n    Location (default 0): the law of ``loc + scale * Z``.\n"
    "scale : array_like, optional\n    Scale, > 0 (default 1)."
)
_LOC_DOCS = "loc : array_like, optional\n    Shift of the support (default 0)."


def continuous(name, module, std, *, shapes=(), support=(-_INF, _INF), inside=0.0, symmetric=False,
               open_below=False, cdf_limits="", notes="", example="0.5"):
    """A continuous location-scale family from its standard-form functions.

    Parameters
    ----------
    name, module : str
        SciPy's name of the family, and the module that defines it (for doctest).
    std : dict
        ``logpdf`` and at least one of ``cdf``/``logcdf`` and of ``sf``/``logsf`` (only
        the ``cdf`` side when ``symmetric``), as functions of ``(z, *shape_params)``,
        evaluated only at ``z`` inside ``support`` and at valid parameters.
    shapes : tuple of Shape
    support : (lo, hi)
        Support of the standard form, closed unless ``open_below`` (then ``lo`` itself is
        outside it, as ``0`` is for ``lognorm``).
    inside : float
        A point of the support, the stand-in for points outside it.
    cdf_limits : str
        Where ``cdf``, ``logcdf``, ``sf`` and ``logsf`` are not differentiable, for their
        docstrings (", except in ``a``").

    Returns
    -------
    Family

    Examples
    --------
    >>> f = continuous("unit", __name__, {"logpdf": lambda z: 0.0 * z, "cdf": lambda z: z,
    ...                                   "sf": lambda z: 1 - z}, support=(0.0, 1.0), inside=0.5)
    >>> float(f.cdf(3.0, loc=2.0, scale=2.0)), float(f.logpdf(5.0))
    (0.5, -inf)
    """
    std = _complete(std, symmetric)
    lo, hi = support

    def standard(kind, x, params, loc, scale):
        loc, scale, *params = _precision(x, (loc, scale, *params))
        (scale, *params), valid = _checked((scale, *params), (_SCALE, *shapes))
        z = x if _no_op(x, loc, 0.0) else x - loc
        z = z if _no_op(z, scale, 1.0) else z / scale
        below = _never((snp.less_equal if open_below else snp.less)(z, lo)) if lo > -_INF else None
        above = _never(snp.greater(z, hi)) if hi < _INF else None
        out = _either(below, above)
        zs = z if out is None else snp.where(out, inside, z)
        value = std[kind](zs, *params)
        if kind == "logpdf" and not _no_op(value, scale, 1.0):
            value = value - snp.log(scale)
        return _invalid_to_nan(_fill(value, below, above, kind), valid)

    return _assemble(name, module, std, standard, "pdf", shapes, (("loc", 0.0), ("scale", 1.0)),
                     _LOC_SCALE_DOCS, notes, example, cdf_limits)


def discrete(name, module, std, *, shapes=(), support, cdf_limits="", notes="", example="1"):
    """A discrete family on the integers from its standard-form functions.

    ``std`` holds ``logpmf`` and the ``cdf``/``sf`` sides as for :func:`continuous`
    (``cdf_limits`` likewise),
    evaluated only at integers ``k`` inside the support; ``support(*params)`` gives its
    bounds ``(lo, hi)`` (``hi`` may be ``inf``). Off the integers ``logpmf = -inf``, and
    ``cdf(k) = cdf(floor(k))``, as SciPy.

    Returns
    -------
    Family

    Examples
    --------
    >>> coin = discrete("coin", __name__, {"logpmf": lambda k: 0 * k - math.log(2),
    ...                 "cdf": lambda k: 0.5 + 0 * k, "sf": lambda k: 0.5 + 0 * k},
    ...                 support=lambda: (0.0, 1.0))
    >>> float(coin.pmf(1)), float(coin.pmf(0.5)), float(coin.cdf(0.5))
    (0.5, 0.0, 0.5)
    """
    std = _complete(std, symmetric=False)

    def standard(kind, x, params, loc):
        loc, *params = _precision(x, (loc, *params))
        params, valid = _checked(params, shapes)
        lo, hi = support(*params)
        k = x if _no_op(x, loc, 0.0) else x - loc
        if kind == "logpmf":
            below = above = None
            off = _never(snp.logical_or(snp.logical_or(snp.less(k, lo), snp.greater(k, hi)),
                                        snp.not_equal(snp.floor(k), k)))
            if off is None:
                value = std[kind](k, *params)
            else:
                value = snp.where(off, -_INF, std[kind](snp.where(off, lo, k), *params))
        else:
            k = snp.floor(k)
            below, above = _never(snp.less(k, lo)), _never(snp.greater_equal(k, hi))
            out = _either(below, above)
            value = std[kind](k if out is None else snp.where(out, lo, k), *params)
        return _invalid_to_nan(_fill(value, below, above, kind), valid)

    return _assemble(name, module, std, standard, "pmf", shapes, (("loc", 0.0),), _LOC_DOCS, notes, example,
                     cdf_limits)


def _assemble(name, module, std, standard, density, shapes, tail, tail_docs, notes, example, cdf_limits):
    """The Family: SciPy's six functions, each ``standard(kind, x, shape_params, *tail)`` behind
    SciPy's signature (the density itself as ``exp`` of its log)."""
    point = "x" if density == "pdf" else "k"  # SciPy's names
    sig, n_tail, log_density = _signature(point, shapes, tail), len(tail), "log" + density
    functions = {}
    for kind in (log_density, density, "cdf", "logcdf", "sf", "logsf"):
        base = log_density if kind == density else kind

        def impl(x, *args, _kind=base, _exp=kind == density):
            value = standard(_kind, x, args[:-n_tail], *args[-n_tail:])
            return snp.exp(value) if _exp else value

        limits = "" if base == log_density else cdf_limits
        doc = _docstring(name, kind, density, shapes, tail_docs, notes, example, limits)
        functions[kind] = _bind(name, kind, sig, impl, module, doc)
    return Family(name, notes, functions)


_SCALE = Shape("scale", lambda v: snp.greater(v, 0), 1.0, "scale, > 0")


def doctests(*families):
    """The generated functions of ``families``, for the defining module's ``__test__``."""
    return {f"{f.__name__}.{k}": getattr(f, k) for f in families for k in f._names}
