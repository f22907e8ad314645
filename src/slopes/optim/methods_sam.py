"""``minimize(method="sam")``: sharpness-aware minimization around a base optimizer.

Each iteration takes the gradient ``g`` at ``x``, evaluates the gradient again at
``x + rho g / ||g||`` and hands that second gradient to the base optimizer
(:func:`slopes.optim.sam`), so an iteration costs two gradient evaluations. With
``data=`` both are on the iteration's mini-batch, and the history's batch ``f`` and
gradient are those at the start of the iteration (as in :func:`slopes.ml.fit`).

>>> import slopes as sl, slopes.numpy as snp
>>> r = sl.minimize(lambda x: snp.sum(x**2), np.ones(2), method="sam", learning_rate=0.1,
...                 rho=0.01, maxiter=100)
>>> bool(np.all(np.abs(r.x) < 0.01)), r.ngev == 1 + 2 * r.nit
(True, True)
"""

from __future__ import annotations

import numpy as np

from .base import GradientTransformation, apply_updates
from .base import learning_rate as read_lr
from .methods_base import METHODS, Method, StepInfo, check_options, register_method
from .methods_smooth import TransformMethod
from .stochastic import BatchedProblem
from .transforms import sam, sgd

__all__ = ["SAM"]


def _base_transformation(base, base_options, learning_rate):
    """The base optimizer: a name of a transformation method (or "sgd"), or a transformation."""
    if isinstance(base, GradientTransformation):
        if base_options or learning_rate is not None:
            raise ValueError(
                "method 'sam': base is already a transformation with its own learning rate; "
                "pass learning_rate / base_options only with a base name such as 'adam'"
            )
        return base
    lr = 0.01 if learning_rate is None else learning_rate
    if base == "sgd":
        check_options("sgd", base_options or {}, {})
        return sgd(lr)
    cls = METHODS.get(base) if isinstance(base, str) else None
    if cls is None or not issubclass(cls, TransformMethod):
        names = ["sgd"] + sorted(n for n, c in METHODS.items() if issubclass(c, TransformMethod))
        raise ValueError(
            f"method 'sam': base must be one of {names} or a slopes.optim transformation, got {base!r}"
        )
    return cls.factory(lr, **check_options(base, base_options or {}, cls.options))


@register_method
class SAM(TransformMethod):
    """``sam``: :func:`slopes.optim.sam` around a base optimizer, applied each iteration.

    Options: ``rho`` (0.05, the radius of the perturbation), ``base`` ("sgd", or
    "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", or a
    :class:`~slopes.optim.GradientTransformation`), ``base_options`` (a dict of the
    base's own options, e.g. ``{"beta": 0.9}``), ``eps`` (1e-12, guards ``||g|| = 0``).
    ``learning_rate`` (float or schedule, default 0.01) is the base's.

    With a fixed ``rho`` the iterates settle near, not at, a minimizer (the perturbed
    gradient does not vanish there), so give ``maxiter`` or a loose ``gtol``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> r = sl.minimize(lambda x: snp.sum((x - 1.0) ** 2), np.zeros(2), method="sam",
    ...                 learning_rate=0.05, rho=0.01, base="adam", maxiter=300, gtol=0.05)
    >>> r.success, np.round(r.x, 1)
    (True, array([1., 1.]))
    """

    name = "sam"
    options = {"rho": 0.05, "base": "sgd", "base_options": None, "eps": 1e-12}

    def __init__(self, problem, options):
        Method.__init__(self, problem, options)
        rho, eps = self.opts["rho"], self.opts["eps"]
        if not (isinstance(rho, int | float) and rho >= 0):
            raise ValueError(f"method 'sam': rho must be a non-negative number, got {rho!r}")
        base = _base_transformation(self.opts["base"], self.opts["base_options"], problem.learning_rate)
        # problem.grad is on the current mini-batch when data= is given
        self.tx = sam(base, rho=float(rho), grad_fn=problem.grad, eps=float(eps))
        self.batched = isinstance(problem, BatchedProblem)

    def step(self, state, k):
        if not self.batched:
            return super().step(state, k)
        # on mini-batches both gradients of a step come from this iteration's batch, so the first
        # is taken here (not carried over from the last batch) and f, g describe x on this batch
        x, _, _, s = state
        lr = read_lr(s)
        f, g = self.problem.value_and_grad(x)
        upd, s = self.tx.update(g, s, x, loss=f)
        xn = apply_updates(x, upd)
        return StepInfo(xn, f, g, float(np.linalg.norm(np.asarray(upd))), lr, (xn, None, None, s))
