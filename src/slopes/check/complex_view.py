"""Complex points in the checks: a gradient compared as its real partials ``(df/dx, df/dy)``.

``sl.grad`` and ``sl.numeric.grad`` of a real-valued ``f(z)`` both return
``df/dx - i df/dy`` (JAX's convention). The checks compare, and the report
shows, the two real partials of every entry, so an error in either the real or
the imaginary direction is seen and named.
"""

from __future__ import annotations

import numpy as np

from .table import label

__all__ = ["partials", "partial_estimate", "partial_names"]


def partials(g):
    """``df/dx - i df/dy`` -> the flat real vector ``[df/dx_0, df/dy_0, df/dx_1, ...]``.

    Examples
    --------
    >>> from slopes.check.complex_view import partials
    >>> partials(np.array([1.0 - 2.0j, 3.0 + 0.5j]))
    array([ 1. ,  2. ,  3. , -0.5])
    """
    g = np.asarray(g)
    return np.stack([g.real, -g.imag], axis=-1).reshape(-1).astype(np.float64)


def partial_estimate(est):
    """A numeric Estimate at a complex point, laid out like :func:`partials`.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.check.complex_view import partial_estimate
    >>> est = sl.numeric.grad(lambda z: np.real(z ** 2), 1.0 + 1.0j, full_output=True)
    >>> partial_estimate(est).value.round(8)     # d/dx, d/dy of x**2 - y**2
    array([ 2., -2.])
    """
    twice = lambda a: np.repeat(np.ravel(a), 2)  # noqa: E731 - both partials share the entry's figures
    return type(est)(partials(est.value), twice(est.error), twice(est.step), twice(est.kink))


def partial_names(names, shape):
    """Row names ``d/dx[i]``, ``d/dy[i]`` (``names``: the entries' own names, or None for indices).

    Examples
    --------
    >>> from slopes.check.complex_view import partial_names
    >>> partial_names(None, (2,))
    ['d/dx[0]', 'd/dy[0]', 'd/dx[1]', 'd/dy[1]']
    """
    if names is None:
        names = [label(i) if shape else "" for i in np.ndindex(*shape)]
    return [f"d/d{axis}{n}" for n in names for axis in "xy"]
