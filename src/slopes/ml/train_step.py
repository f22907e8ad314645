"""The whole training step of :func:`slopes.ml.fit` as one replayed program.

Value, gradient, the optimizer's update, the new parameters, and the sums of
squares behind the gradient's and the new parameters' global norms (for the
history and the divergence test; their square roots are taken on the floats, as
:func:`slopes.optim.global_norm` does) are traced together by :func:`slopes.jit`.
Each sum of squares is one :data:`~slopes.core.ops.reduce.squares_any_order`:
where the leaves are the parts of one flat buffer (the optimizer's chain run on all
of them at once), a single dot product over it, so the gradient's norm in the
history may differ from ``global_norm``'s leaf-by-leaf sum in its last bits; else a
dot product a leaf (a 0-d leaf, leaves of two dtypes, or large leaves keep them
apart). The program is traced once per batch shape and replayed at every later step: one compiled function per
step instead of a gradient program followed by the optimizer's Python code leaf by
leaf.

The program takes the leaves of the parameters and of the optimizer state as
separate arguments and returns the new ones in a flat tuple. A loop that hands
each step's results straight back (as :func:`~slopes.ml.fit` does) then pays
for neither walking the trees to key the call nor flattening them again: the
step keeps the leaves of its last results and recognizes those trees by
identity. Once it has seen that a program returns leaves of the shapes and dtypes
it takes, it calls that program's replay itself, chosen by the batch's shapes
alone: :func:`slopes.jit`'s call, which checks every argument, is entered once
per batch shape, not once per step.

The step returns new arrays and never writes into its arguments, so a step that
:func:`~slopes.ml.fit` rejects (a diverging update) changes nothing, and the
caller's arrays are never touched.

The learning rate the step used is read from the state's leaves at positions found once
per state structure, not by searching the state tree at every step.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.ops.reduce import squares_any_order
from ..core.pytree import TreeDef, flatten, unflatten
from ..core.staging import TracingError
from ..optim import apply_updates
from ..optim.base import _find_all
from ..transforms import jit as sl_jit
from ..transforms import value_and_grad
from ..transforms._callpath import tree_builder

__all__ = ["StagedStep"]


class StagedStep:
    """``step(params, state, batch)`` of ``loss`` and ``optimizer``, one ``sl.jit`` program per batch shape.

    Calling it returns ``(loss, grad_norm, params_norm, lr, new_params, new_state)``, the
    first four as Python floats: the batch loss, the global 2-norms of the gradient and
    of the new parameters, and the learning rate the step used
    (:func:`slopes.optim.learning_rate` of ``state``; nan if the state holds none). It
    returns None when the step cannot be traced (the loss or the optimizer makes a Python
    decision on a value, or the optimizer needs ``grad_fn=`` as :func:`slopes.optim.sam`
    does); it then stays None for the rest of the run, and the caller takes its step by
    parts.

    ``kernels`` is :func:`slopes.jit`'s option for the programs (``"numba"``: the step's
    elementwise chains as compiled kernels).

    The step runs under the caller's floating-point error state: :func:`~slopes.ml.fit`
    ignores overflow and invalid operations once around its loop (a diverging step is its
    to report), rather than the step setting an ``np.errstate`` per call.

    Passing back the ``new_params`` and ``new_state`` of the previous call reuses their
    leaves as they came out of the program, unchecked. A caller that changes those
    trees themselves in between (puts another array into a dict of them, or gives an
    array another shape; writing into the arrays is fine) calls :meth:`forget` first.

    Examples
    --------
    >>> import slopes.numpy as snp, slopes.optim as so
    >>> from slopes.ml.train_step import StagedStep
    >>> loss = lambda w, b: snp.sum((w - b) ** 2)
    >>> step = StagedStep(loss, so.sgd(0.25))
    >>> w = np.array([1.0, -2.0])
    >>> value, gnorm, pnorm, lr, new_w, state = step(w, so.sgd(0.25).init(w), np.zeros(2))
    >>> value, gnorm ** 2, new_w, pnorm ** 2, lr
    (5.0, 20.0, array([ 0.5, -1. ]), 1.25, 0.25)
    """

    def __init__(self, loss, optimizer, kernels="numpy"):
        self._vg = value_and_grad(loss)
        self._optimizer = optimizer
        self._kernels = kernels  # sl.jit's option
        self.program = None  # sl.jit of the flat step, made for the first trees' structure
        self.failed = False
        self._defs = None  # (params treedef, state treedef)
        self._build = None  # new leaves -> (params, state), compiled from their structure
        self._lr_at = None  # positions in the flat arguments of the state's lr and lr_scale leaves
        # positions in the flat arguments of the traced 0-d leaves of params and of state: a replay
        # returns those as NumPy scalars (or constants), takes them as arrays
        self._zero_p = self._zero_d = ()
        self._avals = None  # the shapes and dtypes of the first call's leaves of params and state
        # _batch_key -> the replay taking the last results and such a batch (at most the
        # program's cache_size of them)
        self._replays = {}
        self.forget()

    def forget(self) -> None:
        """Drop the leaves kept from the last call: the next call flattens its trees again.

        Examples
        --------
        >>> import slopes.numpy as snp, slopes.optim as so
        >>> from slopes.ml.train_step import StagedStep
        >>> StagedStep(lambda w, b: snp.sum(w * b), so.sgd(0.1)).forget()
        """
        # (params tree, state tree, their leaves, whether those have the first call's shapes and
        # dtypes) of the last result
        self._last = (None, None, None, False)

    def _flat_step(self, *args):
        """The traced function: leaves of params and state, then the batch, in; a flat tuple out."""
        *flat, batch = args
        p_def, s_def = self._defs
        n = p_def.num_leaves
        params, state = unflatten(p_def, flat[:n]), unflatten(s_def, flat[n:])
        value, grads = self._vg(params, batch)
        # summed in any order: one dot product over the flat buffer where the optimizer's chain
        # runs on all the leaves at once (slopes.core.horizontal); read before the chain reuses it
        grad_squares = squares_any_order(*flatten(grads)[0])
        updates, state = self._optimizer.update(grads, state, params, loss=value)
        # the norm of the new parameters, not of the updates: the replay writes each parameter
        # into its dying update's buffer, which a reading of the update (a view) would forbid
        new = apply_updates(params, updates)
        new_leaves, new_p_def = flatten(new)
        state_leaves, new_s_def = flatten(state)
        if (new_p_def, new_s_def) != self._defs:
            raise TracingError(
                "the optimizer's update changes the structure of the parameters or of its state"
            )
        return (value, grad_squares, squares_any_order(*new_leaves), *new_leaves, *state_leaves)

    def __call__(self, params, state, batch):
        if self.failed:
            return None
        last_params, last_state, flat, closed = self._last
        key, replay = _batch_key(batch), None
        if params is last_params and state is last_state:
            # the leaves the last call returned: once known to have the shapes and dtypes of the
            # first call's leaves, which the replays kept in self._replays take and return, the
            # batch alone picks the replay, with no look at the other arguments
            replay = self._replays.get(key)
            if replay is not None and not (closed or _avals(flat) == self._avals):
                replay = None
        else:
            p_leaves, p_def = flatten(params)
            s_leaves, s_def = flatten(state)
            flat, closed = p_leaves + s_leaves, False
            if (p_def, s_def) != self._defs:  # the first call, or trees of another structure
                self._defs = (p_def, s_def)
                self._build = tree_builder(TreeDef("tuple", None, self._defs))
                self.program = sl_jit(self._flat_step, kernels=self._kernels)
                self._replays, self._avals, closed = {}, _avals(flat), True
                self._zero_p = _zero_d_at(p_leaves, 0)
                self._zero_d = _zero_d_at(s_leaves, len(p_leaves))
                self._lr_at = _lr_positions(s_def, p_def.num_leaves)
        try:  # under the caller's floating-point error state (fit's loop ignores overflow)
            if replay is not None:
                out = replay(*flat, batch) if type(batch) is np.ndarray else replay(*flat, *batch)
            else:
                out = self.program(*flat, batch)
        except (TypeError, ValueError):  # TracingError is a TypeError; sam's missing grad_fn a ValueError
            self.failed = True  # a real error in the loss surfaces again from the by-parts step
            self.forget()
            return None
        if replay is not None:
            return self._results(flat, out, True)
        replays = self._replays
        # once per batch shape, for as many shapes as sl.jit keeps programs (a stream's many last
        # batches take its checked call once that many are kept)
        if closed and key is not None and key not in replays and len(replays) < self.program.cache_size:
            # a program that returns leaves of the shapes and dtypes it takes: its replay takes its results
            closed = _avals(out[3:]) == self._avals
            replays[key] = self.program.replay_for(*flat, batch) if closed else None
        else:
            closed = False
        return self._results(flat, out, closed)

    def _results(self, flat, out, closed):
        """The caller's results of a replay (``out``) that took the leaves ``flat``. Keeps the new
        trees, and their leaves as a replay takes them (``closed``: of the first call's shapes
        and dtypes)."""
        lr_at, scale_at = self._lr_at
        lr = math.nan if lr_at is None else float(flat[lr_at])
        if scale_at:  # learning_rate's own arithmetic: the lr times the product of the scales
            lr *= math.prod(float(flat[k]) for k in scale_at)
        new = list(out[3:]) if self._zero_p or self._zero_d else out[3:]
        for k in self._zero_p:  # fit's parameters stay arrays it may write into
            new[k] = np.asarray(new[k])
        new_params, new_state = self._build(new)
        for k in self._zero_d:  # the state as the optimizer made it, its leaves as a replay takes them
            new[k] = np.asarray(new[k])
        self._last = (new_params, new_state, new, closed)
        # the norms' roots on Python floats: global_norm's own math.sqrt, without two ufunc calls
        return float(out[0]), math.sqrt(out[1]), math.sqrt(out[2]), lr, new_params, new_state


def _zero_d_at(leaves, offset):
    """The positions (from ``offset``) of the 0-d leaves that :func:`slopes.jit` traces: arrays,
    NumPy scalars and floats. A Python int stays itself, a static value the step may decide on."""
    return tuple(k for k, x in enumerate(leaves, offset)
                 if isinstance(x, (np.ndarray, np.generic, float)) and np.ndim(x) == 0)


def _avals(leaves):
    """The shapes and dtypes of ``leaves`` as a replay takes them (0-d ones as arrays)."""
    return [(a.shape, a.dtype) for a in map(np.asarray, leaves)]


def _batch_key(batch):
    """The shapes and dtypes of a batch that is an array or a tuple or list of arrays, with its
    kind: which replay takes it. None for other batches (the jitted call keys those)."""
    t = type(batch)
    if t is np.ndarray:
        return batch.shape, batch.dtype
    if t is not tuple and t is not list:
        return None
    key = [t]
    for x in batch:
        if type(x) is not np.ndarray:
            return None
        key += (x.shape, x.dtype)
    return tuple(key)


def _lr_positions(state_def, offset):
    """Where the step's flat arguments (``offset`` parameter leaves, then the state's) hold the
    state's first ``lr`` and its ``lr_scale`` leaves, as :func:`slopes.optim.learning_rate` finds
    them; ``(None, ())`` when the state has no ``lr`` leaf."""
    slots = unflatten(state_def, list(range(offset, offset + state_def.num_leaves)))
    lrs, scales = _find_all(slots, "lr", []), _find_all(slots, "lr_scale", [])
    if not lrs or not all(type(k) is int for k in (lrs[0], *scales)):
        return None, ()
    return lrs[0], tuple(scales)

