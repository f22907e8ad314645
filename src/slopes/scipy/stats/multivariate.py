"""Multivariate families: ``multivariate_normal`` and ``dirichlet``, with SciPy's signatures.

Unlike the univariate families (NaN for invalid parameters), SciPy refuses an invalid
covariance or concentration with an error, and so do these, naming the fix. The check
reads the values, so it runs on every plain call and when ``slopes.jit`` traces a
function, not on its replays.
"""

from __future__ import annotations

import functools
import importlib
import math

import numpy as np

from ... import numpy as snp
from ...core.ops.decompositions import pd_logdet
from ...core.trace import concrete, shape_of, staged
from ._family import Family

__all__ = ["multivariate_normal", "dirichlet"]

_LOG_2PI = math.log(2 * math.pi)


@functools.cache
def _sibling(name):
    """``slopes.scipy.<name>`` (``special``, ``linalg``), loaded on first use (and looked up once)."""
    return importlib.import_module(f"..{name}", __package__)


def _examples(v):
    """The values of ``v`` for checking, one per example along axis 0 (several under
    ``vmap``, whose batch axes lead), or None while ``slopes.jit`` stages it."""
    if staged(v):
        return None
    return np.asarray(concrete(v)).reshape((-1,) + tuple(shape_of(v)))


def _as_array(v):
    return snp.asarray(v) if isinstance(v, (list, tuple)) else v


# -- multivariate normal --------------------------------------------------------------------------
def _dimension(mean, cov):
    """SciPy's reading: the size of ``mean``; without one, 1 for a scalar or diagonal ``cov``."""
    if mean is not None:
        return int(np.prod(shape_of(mean)))
    s = shape_of(cov)
    return s[0] if len(s) == 2 else 1


def _check_cov(cov, d):
    s = tuple(shape_of(cov))
    if len(s) > 2 or (len(s) == 2 and s != (d, d)) or (len(s) == 1 and s != (d,)):
        raise ValueError(
            f"multivariate_normal: cov of shape {s} does not fit dimension {d}: give a scalar, "
            f"the diagonal (shape ({d},)) or the full matrix (shape ({d}, {d})); as SciPy, the "
            "dimension is the size of mean (without mean: that of a full cov, else 1)"
        )
    c = _examples(cov)
    if c is None:
        return
    if len(s) < 2 and not np.all(c > 0):
        raise ValueError("multivariate_normal: the variances in cov must be > 0 (got "
                         f"{np.min(c)!r}); a degenerate normal is not supported")
    # one comparison, as np.allclose(rtol=1e-10, atol=0) without its overhead; definiteness
    # is read off the Cholesky factor the density needs anyway (see _factor)
    if len(s) == 2 and not np.all(np.abs(c - np.swapaxes(c, -1, -2)) <= 1e-10 * np.abs(c)):
        raise ValueError("multivariate_normal: cov must be symmetric; pass (C + C.T) / 2")


def _points(x, d):
    """``x`` as points of shape (..., d), read as SciPy reads it."""
    s = shape_of(x)
    if len(s) == 0 or (len(s) == 1 and d == 1):
        x = snp.reshape(x, tuple(s) + (1,))
    elif s[-1] != d:
        raise ValueError(f"multivariate_normal: x of shape {tuple(s)} needs a last axis of length {d}")
    return x


def _squeezed(v):
    """SciPy's output shape: size-1 axes dropped, one point gives a scalar."""
    return snp.squeeze(v) if any(n == 1 for n in shape_of(v)) else v


def _parameters(mean, cov, allow_singular):
    """``mean`` and ``cov`` as arrays, checked, with the dimension they give (as SciPy reads them)."""
    if allow_singular:
        raise NotImplementedError(
            "multivariate_normal: allow_singular=True is not supported (a singular covariance "
            "has no density to differentiate); add a small multiple of the identity to cov"
        )
    mean, cov = _as_array(mean), _as_array(cov)
    d = _dimension(mean, cov)
    _check_cov(cov, d)
    return mean, cov, d


def _not_definite():
    return ValueError("multivariate_normal: cov must be positive definite (its Cholesky "
                      "factorization fails); add a small multiple of the identity")


def _factor(cov, d):
    """``(factor, log det cov)``: the ``d`` variances of a scalar or diagonal ``cov`` (no
    factorization needed), else the Cholesky factor of the full matrix."""
    if len(shape_of(cov)) < 2:
        variances = snp.broadcast_to(cov, (d,))
        return variances, snp.sum(snp.log(variances))
    try:
        chol = snp.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise _not_definite() from None
    return chol, 2.0 * snp.sum(snp.log(snp.diagonal(chol)))


def _mvn_logpdf(x, mean=None, cov=1, allow_singular=False):
    """Log density of the multivariate normal: differentiable ``scipy.stats.multivariate_normal.logpdf``.

    Differentiable to any order in ``x``, ``mean`` and ``cov``. The gradient in a full
    ``cov`` is the symmetric matrix ``(S^-1 r r^T S^-1 - S^-1) / 2`` (``r = x - mean``): the
    matrix is read as symmetric, as SciPy reads it.

    Parameters
    ----------
    x : array_like, shape (..., d)
        Points; for ``d = 1`` a 1-D ``x`` holds one point per entry, as SciPy.
    mean : array_like, shape (d,), optional
        Mean (default 0). As SciPy, it sets the dimension ``d``; without it ``d`` is that of a
        full ``cov``, else 1.
    cov : array_like, optional
        Covariance: a scalar (times the identity), the diagonal (shape (d,)) or the full
        positive definite matrix (shape (d, d)). Default 1.
    allow_singular : bool
        Only False: a singular covariance has no density to differentiate.

    Returns
    -------
    ndarray of shape ``x.shape[:-1]`` with size-1 axes dropped (SciPy's squeeze), or a
    traced array inside a transform.

    Examples
    --------
    >>> import scipy.stats
    >>> from slopes.scipy import stats
    >>> S = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> x = np.array([[0.3, -1.0], [1.0, 2.0]])
    >>> np.allclose(stats.multivariate_normal.logpdf(x, [0.1, 0.2], S),
    ...             scipy.stats.multivariate_normal.logpdf(x, [0.1, 0.2], S))
    True
    """
    mean, cov, d = _parameters(mean, cov, allow_singular)
    x = _points(_as_array(x), d)
    r = x if mean is None else x - mean
    factor, logdet = _factor(cov, d)
    if len(shape_of(cov)) < 2:
        maha = snp.sum(r * r / factor, axis=-1)
    else:
        chol = factor
        flat = snp.reshape(r, (-1, d))
        white = _sibling("linalg").solve_triangular(chol, snp.transpose(flat), lower=True)  # L^-1 r per column
        maha = snp.reshape(snp.sum(white * white, axis=0), tuple(shape_of(r))[:-1])
    return _squeezed(-0.5 * (d * _LOG_2PI + logdet + maha))


def _mvn_pdf(x, mean=None, cov=1, allow_singular=False):
    """Density of the multivariate normal: differentiable ``scipy.stats.multivariate_normal.pdf``.

    ``exp`` of :func:`logpdf <_mvn_logpdf>`; same parameters and conventions.

    Examples
    --------
    >>> import scipy.stats
    >>> from slopes.scipy import stats
    >>> bool(np.isclose(stats.multivariate_normal.pdf([0.5, 1.0], [0.0, 0.0], [1.0, 2.0]),
    ...                 scipy.stats.multivariate_normal.pdf([0.5, 1.0], [0.0, 0.0], [1.0, 2.0])))
    True
    """
    return snp.exp(_mvn_logpdf(x, mean, cov, allow_singular))


def _mvn_entropy(mean=None, cov=1, allow_singular=False):
    """Differential entropy of the multivariate normal: ``scipy.stats.multivariate_normal.entropy``.

    ``log det(2 pi e cov) / 2``, from the Cholesky factor (the diagonal for a scalar or
    diagonal ``cov``). Independent of ``mean``, which only sets the dimension, as in SciPy.
    Differentiable to any order in ``cov``; the gradient in a full ``cov`` is ``cov^-1 / 2``.

    Parameters
    ----------
    mean : array_like, shape (d,), optional
        Sets the dimension ``d`` (see :func:`logpdf <_mvn_logpdf>`).
    cov : array_like, optional
        A scalar, the diagonal (shape (d,)) or the full positive definite matrix. Default 1.
    allow_singular : bool
        Only False.

    Returns
    -------
    float ndarray (0-d), or a traced array inside a transform.

    Examples
    --------
    >>> import scipy.stats
    >>> import slopes as sl
    >>> from slopes.scipy import stats
    >>> S = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> bool(np.isclose(stats.multivariate_normal.entropy(cov=S),
    ...                 scipy.stats.multivariate_normal.entropy(cov=S)))
    True
    >>> sl.grad(lambda c: stats.multivariate_normal.entropy(cov=c))(np.diag([2.0, 4.0]))   # inv(cov) / 2
    array([[0.25 , 0.   ],
           [0.   , 0.125]])
    """
    _, cov, d = _parameters(mean, cov, allow_singular)
    if len(shape_of(cov)) < 2:
        _, logdet = _factor(cov, d)
    else:  # no factor to keep: log det and its derivative (cov^-1) in one primitive
        try:
            logdet = pd_logdet(cov)
        except np.linalg.LinAlgError:
            raise _not_definite() from None
    return 0.5 * (d * (_LOG_2PI + 1.0) + logdet)


multivariate_normal = Family(
    "multivariate_normal",
    "The multivariate normal law, differentiable in x, mean and cov.",
    {"logpdf": _mvn_logpdf, "pdf": _mvn_pdf, "entropy": _mvn_entropy},
)


# -- Dirichlet ------------------------------------------------------------------------------------
def _simplex_points(x, alpha):
    """``x`` with components on axis 0, the last one completed when left out (as SciPy)."""
    k, s = shape_of(alpha)[0], tuple(shape_of(x))
    if len(s) == 0 or s[0] not in (k, k - 1):
        raise ValueError(f"dirichlet: x of shape {s} needs {k} (or {k - 1}) components along its "
                         f"first axis, one per entry of alpha")
    if s[0] == k - 1:
        x = snp.concatenate([x, 1.0 - snp.sum(x, axis=0, keepdims=True)], axis=0)
    v = _examples(x)
    # three reductions (np.allclose alone costs more than the density's gradient)
    if v is not None and not (v.min() >= 0 and v.max() <= 1 and np.abs(np.sum(v, axis=1) - 1.0).max() <= 1e-9):
        raise ValueError("dirichlet: each point x must lie on the simplex (entries in [0, 1] "
                         "summing to 1 along the first axis)")
    return x


def _dirichlet_logpdf(x, alpha):
    """Log density of the Dirichlet law: differentiable ``scipy.stats.dirichlet.logpdf``.

    Differentiable to any order in ``x`` and ``alpha``. As SciPy, ``x`` holds the components
    along its first axis (one point of shape (k,), or k-by-n for n points) and may leave out
    the last component, implied by the others.

    Parameters
    ----------
    x : array_like, shape (k,) or (k, n); or (k - 1,) or (k - 1, n)
    alpha : array_like, shape (k,)
        Concentrations, > 0.

    Returns
    -------
    ndarray of shape (n,) (a scalar for one point), or a traced array inside a transform.

    Examples
    --------
    >>> import scipy.stats
    >>> from slopes.scipy import stats
    >>> bool(np.isclose(stats.dirichlet.logpdf([0.2, 0.3, 0.5], [1.5, 2.0, 3.0]),
    ...                 scipy.stats.dirichlet.logpdf([0.2, 0.3, 0.5], [1.5, 2.0, 3.0])))
    True
    """
    x, alpha = _as_array(x), _as_array(alpha)
    if len(shape_of(alpha)) != 1 or shape_of(alpha)[0] < 2:
        raise ValueError(f"dirichlet: alpha must be a vector of k >= 2 concentrations, got shape "
                         f"{tuple(shape_of(alpha))}")
    a = _examples(alpha)
    if a is not None and not np.all(a > 0):
        raise ValueError("dirichlet: every concentration in alpha must be > 0")
    x = _simplex_points(x, alpha)
    sp = _sibling("special")
    nd = len(shape_of(x))
    a = alpha if nd == 1 else snp.reshape(alpha, (-1,) + (1,) * (nd - 1))  # one point: as it is
    return (sp.gammaln(snp.sum(alpha)) - snp.sum(sp.gammaln(alpha))
            + snp.sum(sp.xlogy(a - 1.0, x), axis=0))


def _dirichlet_pdf(x, alpha):
    """Density of the Dirichlet law: differentiable ``scipy.stats.dirichlet.pdf``.

    ``exp`` of :func:`logpdf <_dirichlet_logpdf>`; same parameters and conventions.

    Examples
    --------
    >>> import scipy.stats
    >>> from slopes.scipy import stats
    >>> bool(np.isclose(stats.dirichlet.pdf([0.2, 0.3], [1.5, 2.0, 3.0]),
    ...                 scipy.stats.dirichlet.pdf([0.2, 0.3, 0.5], [1.5, 2.0, 3.0])))
    True
    """
    return snp.exp(_dirichlet_logpdf(x, alpha))


dirichlet = Family(
    "dirichlet",
    "The Dirichlet law on the simplex, differentiable in x and alpha.",
    {"logpdf": _dirichlet_logpdf, "pdf": _dirichlet_pdf},
)
