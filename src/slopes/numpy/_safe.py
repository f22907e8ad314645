"""Roots that stay finite at zero: the shared convention of ``norm`` and ``std`` at 0."""

from __future__ import annotations

from ..core.ops import elementwise as ew
from ._masks import never

__all__ = ["root_or_zero"]


def root_or_zero(root, s):
    """``root(s)``, except 0 with derivative 0 where ``s == 0``.

    ``sqrt`` and ``s ** (1/p)`` have an infinite derivative at 0, and the chain rule then
    multiplies it by the zero derivative of ``s`` (0 * inf = NaN). The root never sees
    a zero here, so every derivative at ``s == 0`` is exactly 0: a valid subgradient of
    ``norm`` and ``std`` there, and PyTorch's and autograd's answer. A NaN ``s`` stays NaN.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.core.ops import elementwise as ew
    >>> sl.grad(lambda s: root_or_zero(ew.sqrt, s))(0.0), sl.grad(lambda s: root_or_zero(ew.sqrt, s))(4.0)
    (array(0.), array(0.25))
    """
    zero = never(ew.equal(s, 0.0))
    if zero is None:  # no zero to guard: the root alone (two recorded wheres fewer)
        return root(s)
    return ew.where(zero, 0.0, root(ew.where(zero, 1.0, s)))
