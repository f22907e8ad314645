"""The whole training step of :func:`slopes.ml.fit` as one replayed program.

Value, gradient, its global norm, the optimizer's update, its global norm (for the
divergence test) and the new parameters are traced together by
:func:`slopes.jit`, once per batch shape, and replayed at every later step: one
compiled function per step instead of a gradient program followed by the
optimizer's Python code leaf by leaf.

The step returns new arrays and never writes into its arguments, so a step that
:func:`~slopes.ml.fit` rejects (a diverging update) changes nothing, and the
caller's arrays are never touched.
"""

from __future__ import annotations

import numpy as np

from ..core.pytree import leaves, tree_map
from ..optim import apply_updates, global_norm
from ..optim._leafops import fresh
from ..transforms import jit as sl_jit
from ..transforms import value_and_grad

__all__ = ["StagedStep"]


class StagedStep:
    """``step(params, state, batch)`` of ``loss`` and ``optimizer``, one ``sl.jit`` program per batch shape.

    Calling it returns ``(loss, grad_norm, update_norm, new_params, new_state)`` (the
    norms are global 2-norms, 0-d arrays), or None when the step cannot be traced (the loss or the optimizer makes
    a Python decision on a value, or the optimizer needs ``grad_fn=`` as
    :func:`slopes.optim.sam` does); it then stays None for the rest of the run, and the
    caller takes its step by parts.

    Examples
    --------
    >>> import slopes.numpy as snp, slopes.optim as so
    >>> from slopes.ml.train_step import StagedStep
    >>> loss = lambda w, b: snp.sum((w - b) ** 2)
    >>> step = StagedStep(loss, so.sgd(0.25))
    >>> w = np.array([1.0, -2.0])
    >>> value, gnorm, unorm, new_w, state = step(w, so.sgd(0.25).init(w), np.zeros(2))
    >>> float(value), float(gnorm) ** 2, new_w, float(unorm) ** 2
    (5.0, 20.0, array([ 0.5, -1. ]), 1.25)
    """

    def __init__(self, loss, optimizer):
        vg = value_and_grad(loss)

        def step(params, state, batch):
            value, grads = vg(params, batch)
            updates, state = optimizer.update(grads, state, params, loss=value)
            new = apply_updates(params, updates)
            return value, global_norm(grads), global_norm(updates), new, state

        self.program = sl_jit(step)
        self.failed = False
        self._scalars = None  # whether some parameter is 0-d (its replayed value is a NumPy scalar)

    def __call__(self, params, state, batch):
        if self.failed:
            return None
        if self._scalars is None:
            ls = leaves(params)
            self._scalars = any(np.ndim(x) == 0 for x in ls)
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # fit reports a non-finite step itself
                out = self.program(params, state, batch)
        except (TypeError, ValueError):  # TracingError is a TypeError; sam's missing grad_fn a ValueError
            self.failed = True  # a real error in the loss surfaces again from the by-parts step
            return None
        if self._scalars:  # fit's parameters stay arrays it may write into
            out = (*out[:3], tree_map(fresh, out[3]), *out[4:])
        return out

