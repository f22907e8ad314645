"""First-order optimizers as gradient transformations.

Each function returns a :class:`~slopes.optim.GradientTransformation`; the update
formulas (``g`` the gradient, ``t = 1, 2, ...`` the step, ``lr_t`` the schedule at
step ``t - 1``) follow PyTorch's ``torch.optim`` defaults, and the tests check
them step by step against plain-NumPy transcriptions of these formulas and, when
it is installed, against PyTorch.

Hyperparameters are checked when the transformation is made, as ``torch.optim``
checks them: a learning rate must be finite and ``>= 0`` (a schedule's values are
checked at each step, see :func:`~slopes.optim.as_schedule`), decay rates ``beta``,
``b1``, ``b2`` and ``decay`` in ``[0, 1)``, ``eps`` and ``weight_decay`` finite and
``>= 0``. A bad value raises ValueError naming the optimizer and the argument.

Every ``update`` traces: a whole training step (gradient, update, parameter write)
can be one :func:`slopes.jit` program. The step ``count`` is a NumPy integer and the
learning rate a number in the state, both traced values of such a program (it is not
traced again at every step), and schedules are evaluated inside it. Eagerly, the
updates are computed in place in arrays of their own, never in the caller's.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..core.pytree import flatten, leaves, tree_map, unflatten
from ._leafops import array, fresh, like, number, plain, sqrt, start
from ._validate import check_number
from .base import GradientTransformation, global_norm
from .schedules import as_schedule

__all__ = [
    "sgd",
    "momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adam",
    "adamw",
    "sam",
    "ScheduleState",
    "MomentumState",
    "AdagradState",
    "RMSpropState",
    "AdamState",
    "SamState",
]


class ScheduleState(NamedTuple):
    """``count`` updates taken (a NumPy integer); ``lr`` the learning rate of the next update."""

    count: int
    lr: float


class MomentumState(NamedTuple):
    """State of :func:`momentum` and :func:`nesterov`: ``velocity`` is ``v``."""

    count: int
    lr: float
    velocity: Any


class AdagradState(NamedTuple):
    """State of :func:`adagrad`: ``sum_sq`` is the running sum of ``g^2``."""

    count: int
    lr: float
    sum_sq: Any


class RMSpropState(NamedTuple):
    """State of :func:`rmsprop`: ``mean_sq`` is the moving average of ``g^2``; ``mean_grad``
    that of ``g`` (``centered=True``) and ``velocity`` the momentum buffer (``momentum > 0``),
    else None."""

    count: int
    lr: float
    mean_sq: Any
    mean_grad: Any = None
    velocity: Any = None


class AdamState(NamedTuple):
    """State of :func:`adam` and :func:`adamw`: first and second moments ``mu``, ``nu``."""

    count: int
    lr: float
    mu: Any
    nu: Any


class SamState(NamedTuple):
    """``inner`` the base optimizer's state; ``grad_norm`` that of the last first gradient."""

    count: int
    grad_norm: float
    inner: Any


def _rate(name, arg, value):
    """A decay rate in ``[0, 1)``, as ``torch.optim`` requires of its betas."""
    return check_number(value, f"{name}: {arg}", low=0, high=1, high_open=True)


def _nonnegative(name, arg, value):
    return check_number(value, f"{name}: {arg}", low=0)


def _scaled(lr, x):
    """``-lr * x`` in ``x``'s dtype."""
    return like(-lr * x, x)


def _zeros(params):
    return tree_map(lambda p: np.zeros_like(np.asarray(p)), params)


def _full(params, value):
    return tree_map(lambda p: np.full_like(np.asarray(p), value), params)


def sgd(learning_rate) -> GradientTransformation:
    """Plain gradient descent: ``x <- x - lr_t g``.

    Parameters
    ----------
    learning_rate : float or callable
        A constant or a schedule ``t -> lr``.

    Examples
    --------
    >>> from slopes.optim import sgd, apply_updates
    >>> opt = sgd(0.1)
    >>> x = np.array([1.0, -2.0]); s = opt.init(x)
    >>> upd, s = opt.update(2 * x, s)
    >>> apply_updates(x, upd)
    array([ 0.8, -1.6])
    """
    sched = as_schedule(learning_rate, "sgd: learning_rate")

    def init(params):
        return ScheduleState(start(), sched(0))

    def update(grads, state, params=None, **extra):
        lr, t = state.lr, state.count + 1
        return tree_map(lambda g: _scaled(lr, g), grads), ScheduleState(t, sched(t))

    return GradientTransformation(init, update)


def momentum(learning_rate, beta: float = 0.9) -> GradientTransformation:
    """Heavy-ball momentum: ``v <- beta v + g``, ``x <- x - lr_t v`` (``v_0 = 0``).

    This is ``torch.optim.SGD(momentum=beta)`` (dampening 0, not Nesterov).

    Examples
    --------
    >>> from slopes.optim import momentum
    >>> opt = momentum(0.1, beta=0.5)
    >>> s = opt.init(np.zeros(1))
    >>> u1, s = opt.update(np.ones(1), s)
    >>> u2, s = opt.update(np.ones(1), s)
    >>> u1, u2
    (array([-0.1]), array([-0.15]))
    """
    return _momentum(learning_rate, beta, nesterov=False)


def nesterov(learning_rate, beta: float = 0.9) -> GradientTransformation:
    """Nesterov momentum: ``v <- beta v + g``, ``x <- x - lr_t (g + beta v)``.

    The reformulation used by ``torch.optim.SGD(momentum=beta, nesterov=True)``
    (Sutskever et al. 2013), in which the gradient is taken at the current point.

    Examples
    --------
    >>> from slopes.optim import nesterov
    >>> opt = nesterov(0.1, beta=0.5)
    >>> s = opt.init(np.zeros(1))
    >>> u1, s = opt.update(np.ones(1), s)
    >>> u1
    array([-0.15])
    """
    return _momentum(learning_rate, beta, nesterov=True)


def _momentum(learning_rate, beta, nesterov):
    name = "nesterov" if nesterov else "momentum"
    sched = as_schedule(learning_rate, f"{name}: learning_rate")
    beta = _rate(name, "beta", beta)

    def init(params):
        return MomentumState(start(), sched(0), _zeros(params))

    def update(grads, state, params=None, **extra):
        lr, t = state.lr, state.count + 1
        v = tree_map(lambda v, g: beta * v + g, state.velocity, grads)
        if nesterov:
            upd = tree_map(lambda g, v: _scaled(lr, g + beta * v), grads, v)
        else:
            upd = tree_map(lambda v: _scaled(lr, v), v)
        return upd, MomentumState(t, sched(t), v)

    return GradientTransformation(init, update)


def adagrad(
    learning_rate, eps: float = 1e-10, initial_accumulator_value: float = 0.0, lr_decay: float = 0.0
) -> GradientTransformation:
    """Adagrad: ``s <- s + g^2``, ``x <- x - lr_t g / (sqrt(s) + eps)``.

    ``s_0 = initial_accumulator_value``; with ``lr_decay`` the step of update ``k`` (from 0)
    is divided by ``1 + k lr_decay``. This is ``torch.optim.Adagrad``.

    Examples
    --------
    >>> from slopes.optim import adagrad
    >>> opt = adagrad(0.5)
    >>> upd, s = opt.update(np.array([3.0, -4.0]), opt.init(np.zeros(2)))
    >>> upd
    array([-0.5,  0.5])
    """
    sched = as_schedule(learning_rate, "adagrad: learning_rate")
    eps = _nonnegative("adagrad", "eps", eps)
    initial_accumulator_value = _nonnegative("adagrad", "initial_accumulator_value", initial_accumulator_value)
    lr_decay = _nonnegative("adagrad", "lr_decay", lr_decay)

    def init(params):
        return AdagradState(start(), sched(0), _full(params, initial_accumulator_value))

    def update(grads, state, params=None, **extra):
        lr, t = state.lr / (1.0 + state.count * lr_decay), state.count + 1
        s = tree_map(lambda s, g: s + g * g, state.sum_sq, grads)
        upd = tree_map(lambda g, s: _scaled(lr, g / (np.sqrt(s) + eps)), grads, s)
        return upd, AdagradState(t, sched(t), s)

    return GradientTransformation(init, update)


def rmsprop(
    learning_rate, decay: float = 0.99, eps: float = 1e-8, momentum: float = 0.0, centered: bool = False
) -> GradientTransformation:
    """RMSprop: ``s <- decay s + (1 - decay) g^2``, ``x <- x - lr_t g / (sqrt(s) + eps)``.

    ``s_0 = 0``. ``centered=True`` also averages ``g`` (``m <- decay m + (1 - decay) g``)
    and divides by ``sqrt(s - m^2) + eps``, an estimate of the gradient's standard
    deviation. ``momentum > 0`` accumulates ``v <- momentum v + g / (sqrt(.) + eps)`` and
    steps ``-lr_t v``. This is ``torch.optim.RMSprop(alpha=decay, momentum=, centered=)``.

    Examples
    --------
    >>> from slopes.optim import rmsprop
    >>> opt = rmsprop(0.01, decay=0.75, eps=0.0)
    >>> upd, s = opt.update(np.array([2.0]), opt.init(np.zeros(1)))
    >>> upd
    array([-0.02])
    >>> opt = rmsprop(0.01, decay=0.75, eps=0.0, centered=True)   # s = 1, m = 0.5: 0.01 * 2 / sqrt(0.75)
    >>> round(float(opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0][0]), 6)
    -0.023094
    """
    momentum = _rate("rmsprop", "momentum", momentum)
    decay = _rate("rmsprop", "decay", decay)
    eps = _nonnegative("rmsprop", "eps", eps)
    sched = as_schedule(learning_rate, "rmsprop: learning_rate")

    def init(params):
        return RMSpropState(
            start(),
            sched(0),
            _zeros(params),
            _zeros(params) if centered else None,
            _zeros(params) if momentum else None,
        )

    def update(grads, state, params=None, **extra):
        lr, t = state.lr, state.count + 1
        s = tree_map(lambda s, g: decay * s + (1 - decay) * (g * g), state.mean_sq, grads)
        m = None
        if centered:
            m = tree_map(lambda m, g: decay * m + (1 - decay) * g, state.mean_grad, grads)
            scaled = tree_map(lambda g, s, m: g / (np.sqrt(s - m * m) + eps), grads, s, m)
        else:
            scaled = tree_map(lambda g, s: g / (np.sqrt(s) + eps), grads, s)
        v = None
        if momentum:
            v = tree_map(lambda v, d: momentum * v + d, state.velocity, scaled)
            scaled = v
        upd = tree_map(lambda d: _scaled(lr, d), scaled)
        return upd, RMSpropState(t, sched(t), s, m, v)

    return GradientTransformation(init, update)


def _adam(learning_rate, b1, b2, eps, weight_decay):
    name = "adamw" if weight_decay else "adam"
    sched = as_schedule(learning_rate, f"{name}: learning_rate")
    b1, b2 = _rate(name, "b1", b1), _rate(name, "b2", b2)
    base1, base2 = np.float64(b1), np.float64(b2)
    eps = _nonnegative(name, "eps", eps)

    def init(params):
        return AdamState(start(), sched(0), _zeros(params), _zeros(params))

    def update(grads, state, params=None, **extra):
        if weight_decay and params is None:
            raise ValueError("adamw: update needs params (the weight decay is proportional to them)")
        # t a NumPy integer (traced by slopes.jit). b^t with b a NumPy float is NumPy's scalar
        # power (the C library's pow, 0.16 us), eagerly and replayed alike; a Python float base
        # would go through the np.power ufunc (0.8 us, its own pow, which differs in the last bit)
        t, lr = state.count + 1, number(state.lr)
        # lr_t mhat / (sqrt(vhat) + eps) = (lr_t sqrt(c2) / c1) m / (sqrt(v) + eps sqrt(c2)),
        # with c1 = 1 - b1^t and c2 = 1 - b2^t: one operation fewer per leaf
        root_c2 = sqrt(1 - base2**t)
        step_size = lr * root_c2 / (1 - base1**t)
        eps_t = eps * root_c2
        g_leaves, treedef = flatten(grads)
        p_leaves = leaves(params) if weight_decay else g_leaves
        mus, nus, upds = [], [], []
        # Each leaf in three fresh arrays, worked on in place (out=, see _leafops): the
        # state's arrays are never modified (the caller may keep them), and no other
        # temporaries are made. Traced, out is None: the same operations, recorded.
        for m0, v0, g, p in zip(leaves(state.mu), leaves(state.nu), g_leaves, p_leaves):
            g = array(g)
            own = plain(g, m0, v0, step_size, p)
            m = fresh(g - m0)  # m0 + (1 - b1)(g - m0) = b1 m0 + (1 - b1) g
            out = m if own else None
            m = np.add(np.multiply(m, 1 - b1, out=out), m0, out=out)
            v = fresh(g * g)
            out = v if own else None
            v = np.add(np.multiply(np.subtract(v, v0, out=out), 1 - b2, out=out), v0, out=out)
            u = fresh(np.sqrt(v))
            out = u if own else None
            u = np.multiply(np.divide(m, np.add(u, eps_t, out=out), out=out), -step_size, out=out)
            if weight_decay:
                u = np.subtract(u, (lr * weight_decay) * array(p), out=out)
            mus.append(m)
            nus.append(v)
            upds.append(like(u, g))  # a float64 traced step size must not promote a float32 leaf
        return unflatten(treedef, upds), AdamState(t, sched(t), unflatten(treedef, mus), unflatten(treedef, nus))

    return GradientTransformation(init, update)


def adam(learning_rate, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    """Adam with bias correction.

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
    ``x <- x - lr_t mhat / (sqrt(vhat) + eps)`` with ``mhat = m / (1 - b1^t)``,
    ``vhat = v / (1 - b2^t)``: ``torch.optim.Adam``.

    Examples
    --------
    >>> from slopes.optim import adam
    >>> opt = adam(0.1)
    >>> upd, s = opt.update(np.array([5.0, -0.01]), opt.init(np.zeros(2)))
    >>> np.round(upd, 6)  # the first step has size lr in every coordinate
    array([-0.1,  0.1])
    """
    return _adam(learning_rate, b1, b2, eps, 0.0)


def adamw(
    learning_rate, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, weight_decay: float = 1e-2
) -> GradientTransformation:
    """AdamW, Adam with decoupled weight decay: ``x <- x - lr_t (adam_step + weight_decay x)``.

    ``adam_step = mhat / (sqrt(vhat) + eps)`` as in :func:`adam`; ``update`` needs
    ``params``. This is ``torch.optim.AdamW``.

    Examples
    --------
    >>> from slopes.optim import adamw
    >>> opt = adamw(0.1, weight_decay=0.5)
    >>> x = np.array([2.0])
    >>> upd, s = opt.update(np.zeros(1), opt.init(x), x)
    >>> upd  # zero gradient: only the decay, -lr * wd * x
    array([-0.1])
    """
    return _adam(learning_rate, b1, b2, eps, _nonnegative("adamw", "weight_decay", weight_decay))


def sam(base: GradientTransformation, rho: float = 0.05, grad_fn=None, eps: float = 1e-12) -> GradientTransformation:
    """Sharpness-aware minimization (Foret et al. 2021) around a base optimizer.

    Given the gradient ``g`` at ``x``, SAM evaluates the gradient *once more*, at
    the perturbed point ``x + e`` with ``e = rho g / (||g|| + eps)`` (``||.||`` the
    global 2-norm over the pytree), and hands that second gradient to ``base``.
    So every update costs two gradient evaluations: the one you pass in, and one
    call ``grad_fn(params + e)`` made inside ``update``.

    ``grad_fn`` (params -> grads pytree) is given here or, for a new mini-batch
    each step, as ``update(grads, state, params, grad_fn=...)`` (which wins).
    ``update`` needs ``params``. The state records the norm of ``g``.
    :func:`slopes.ml.fit` and :func:`slopes.ml.lr_find` pass the current mini-batch's
    ``grad_fn`` themselves; ``sl.minimize(f, x0, method="sam")`` wraps this too.

    Examples
    --------
    >>> from slopes.optim import sam, sgd, apply_updates
    >>> grad_fn = lambda x: 2 * x  # f(x) = |x|^2
    >>> opt = sam(sgd(0.1), rho=0.5, grad_fn=grad_fn)
    >>> x = np.array([3.0, 4.0])
    >>> upd, s = opt.update(grad_fn(x), opt.init(x), x)
    >>> upd  # gradient at x + 0.5 * x / |x| = (3.3, 4.4)
    array([-0.66, -0.88])
    """
    default_fn = grad_fn
    rho = _nonnegative("sam", "rho", rho)
    eps = _nonnegative("sam", "eps", eps)

    def init(params):
        return SamState(start(), 0.0, base.init(params))

    def update(grads, state, params=None, grad_fn=None, **extra):
        fn = grad_fn if grad_fn is not None else default_fn
        if fn is None:
            raise ValueError("sam: needs a gradient function, sam(base, rho, grad_fn) or update(..., grad_fn=)")
        if params is None:
            raise ValueError("sam: update needs params (the gradient is re-evaluated near them)")
        norm = global_norm(grads)
        scale = rho / (norm + eps)
        perturbed = tree_map(lambda p, g: array(p) + like(scale * g, array(p)), params, grads)
        g_sam = fn(perturbed)
        upd, inner = base.update(g_sam, state.inner, params, **extra)
        return upd, SamState(state.count + 1, norm, inner)

    return GradientTransformation(init, update)
