"""Mixed precision: float16 or bfloat16 forward and backward, float32 master weights, loss scaling.

float16 has about 3 significant digits and represents nothing below ``6e-8`` (its
smallest subnormal): small gradient entries of a float16 backward pass round to zero.
Multiplying the loss by a large ``scale`` before differentiating lifts every gradient
entry by the same factor (the chain rule is linear), and dividing by ``scale`` in
float32 afterwards undoes it. Too large a scale overflows to inf instead; a
:class:`DynamicLossScale` finds the largest safe one as it goes: a step whose gradient
has a non-finite entry is skipped and the scale halved; after ``growth_interval``
clean steps in a row the scale doubles. The parameters the optimizer updates (the
"master weights") stay float32 throughout, so small updates are not lost either.

bfloat16 (``dtype="bfloat16"``, with the optional extra ``slopes[bf16]``, which adds
``ml_dtypes``) keeps float32's exponent range with 8 significant bits instead of
float16's 11: overflow is rare, and tiny gradients survive down to ``1e-38``, but
each value carries only 2 to 3 digits. The same scaler runs it, its scale capped at
``2**127`` instead of ``2**15``.

Use it through :func:`slopes.ml.fit` with ``mixed_precision=True`` (default float16
scaler), ``mixed_precision="bfloat16"`` or ``mixed_precision=DynamicLossScale(...)``.
:func:`underflow_fraction` measures how much of a low-precision gradient is lost to
underflow at a given scale.

Examples
--------
>>> import slopes as sl, slopes.numpy as snp
>>> ls = DynamicLossScale(init_scale=2.0**15)
>>> loss = lambda p, x: snp.sum(p * x) * 1e3       # 1e3 * 32768 overflows float16
>>> vg = sl.value_and_grad(ls.scaled(loss))
>>> value, g, ok = ls.step(vg, np.ones(2, np.float32), np.ones(2, np.float16))
>>> ok, ls.scale                                   # skipped, scale halved
(False, 16384.0)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..core.dtypes import bfloat16, is_floating
from ..core.pytree import leaves, tree_map
from ..transforms import grad, value_and_grad

__all__ = [
    "DynamicLossScale",
    "Underflow",
    "underflow_fraction",
    "as_loss_scale",
    "to_dtype",
    "compute_dtype",
    "max_loss_scale",
]

COMPUTE_DTYPES = ("float16", "bfloat16")


def compute_dtype(dtype) -> np.dtype:
    """The low-precision dtype of a mixed-precision run: float16 or bfloat16 (needs ml_dtypes).

    Examples
    --------
    >>> compute_dtype("float16"), compute_dtype(np.float16)
    (dtype('float16'), dtype('float16'))
    """
    try:
        name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    except TypeError:
        name = None
    if name == "float16":
        return np.dtype(np.float16)
    if name == "bfloat16":
        return bfloat16("mixed precision")
    raise ValueError(f"mixed precision computes in one of {COMPUTE_DTYPES}, got {dtype!r}")


def max_loss_scale(dtype) -> float:
    """The largest power of two below the dtype's largest value (``2**15`` for float16).

    The backward pass starts from ``d(scale * loss)/d(loss) = scale`` in ``dtype``, so a
    larger scale is inf from the outset.

    Examples
    --------
    >>> max_loss_scale(np.float16) == 2.0**15
    True
    """
    finfo = np.finfo(compute_dtype(dtype))
    return 2.0 ** math.floor(math.log2(float(finfo.max)))



def to_dtype(tree, dtype):
    """Cast the floating-point leaves of ``tree`` to ``dtype`` (integer leaves, e.g. labels, stay).

    Examples
    --------
    >>> to_dtype((np.ones(2), np.arange(2)), np.float16)
    (array([1., 1.], dtype=float16), array([0, 1]))
    """

    def cast(x):
        x = np.asarray(x)
        return x.astype(dtype) if is_floating(x.dtype) else x

    return tree_map(cast, tree)


def _all_finite(tree) -> bool:
    return all(bool(np.all(np.isfinite(x))) for x in leaves(tree))


class DynamicLossScale:
    """A loss scale that halves on overflow and doubles after a run of clean steps.

    Parameters
    ----------
    init_scale : float
        The first scale (default ``2**15``, the largest float16 can seed a backward pass with).
    growth_interval : int
        Clean steps in a row after which the scale grows (default 2000).
    growth_factor, backoff_factor : float
        Multipliers on growth (2) and on overflow (0.5).
    min_scale : float
        A step that overflows at this scale is a real divergence, not a scale problem.
    max_scale : float, optional
        Upper bound of the scale; at most (and by default) :func:`max_loss_scale` of
        ``dtype``: ``2**15`` for float16, ``2**127`` for bfloat16.
    dtype : "float16" or "bfloat16"
        The dtype of the forward and backward pass (default float16).

    Attributes
    ----------
    scale : float
        The current scale.
    good_steps : int
        Clean steps since the last change of scale.
    skipped : int
        Steps skipped so far.

    Examples
    --------
    >>> ls = DynamicLossScale(init_scale=8.0, growth_interval=2)
    >>> [ls.update(ok) or ls.scale for ok in [True, True, False, True]]
    [8.0, 16.0, 8.0, 8.0]
    """

    def __init__(
        self,
        init_scale: float = 2.0**15,
        growth_interval: int = 2000,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        min_scale: float = 1.0,
        max_scale: float | None = None,
        dtype="float16",
    ):
        self.dtype = compute_dtype(dtype)
        cap = max_loss_scale(self.dtype)
        max_scale = cap if max_scale is None else max_scale
        if isinstance(growth_interval, bool) or not isinstance(growth_interval, int) or growth_interval < 1:
            raise ValueError(
                f"DynamicLossScale: growth_interval must be a positive integer, got {growth_interval!r}"
            )
        if not growth_factor > 1.0 or not 0.0 < backoff_factor < 1.0:
            raise ValueError(
                "DynamicLossScale: need growth_factor > 1 and 0 < backoff_factor < 1, got "
                f"{growth_factor!r} and {backoff_factor!r}"
            )
        if not 0.0 < min_scale <= init_scale <= max_scale <= cap:
            raise ValueError(
                f"DynamicLossScale: need 0 < min_scale <= init_scale <= max_scale <= 2**{int(math.log2(cap))} "
                f"(a larger scale overflows {self.dtype.name} by itself); got min_scale={min_scale!r}, "
                f"init_scale={init_scale!r}, max_scale={max_scale!r}"
            )
        self.init_scale = float(init_scale)
        self.growth_interval = growth_interval
        self.growth_factor = float(growth_factor)
        self.backoff_factor = float(backoff_factor)
        self.min_scale = float(min_scale)
        self.max_scale = float(max_scale)
        self.scale = self.init_scale
        self.good_steps = 0
        self.skipped = 0

    @property
    def exhausted(self) -> bool:
        """Whether the scale is at ``min_scale``: an overflow now means the loss itself diverged."""
        return self.scale <= self.min_scale

    def update(self, finite: bool) -> None:
        """Adjust the scale after a step whose unscaled gradient was finite or not."""
        if finite:
            self.good_steps += 1
            if self.good_steps >= self.growth_interval:
                self.scale = min(self.scale * self.growth_factor, self.max_scale)
                self.good_steps = 0
        else:
            self.skipped += 1
            self.scale = max(self.scale * self.backoff_factor, self.min_scale)
            self.good_steps = 0

    def scaled(self, loss):
        """``(params, batch, scale) -> loss(params, batch) * scale``: differentiate this in ``dtype``."""

        def scaled_loss(params, batch, scale):
            return loss(params, batch) * scale

        return scaled_loss

    def step(self, value_and_grad, params, batch, update=True):
        """One mixed-precision gradient: ``(loss, float32 grads, finite)``; updates the scale.

        ``value_and_grad`` is ``sl.value_and_grad(self.scaled(loss))`` (jitted or not);
        ``params`` are the float32 master weights, ``batch`` the (``dtype``) inputs. When
        ``finite`` is False the caller must skip the update; the scale has been reduced.
        ``update=False`` leaves the scale and counters alone (a second gradient of the
        same step, as ``sam`` takes).
        """
        scale, low = self.scale, self.dtype
        # overflow to inf / nan is the expected signal here, detected just below
        with np.errstate(over="ignore", invalid="ignore"):
            value, g16 = value_and_grad(to_dtype(params, low), to_dtype(batch, low), low.type(scale))
            grads = tree_map(lambda g: np.asarray(g, np.float32) / np.float32(scale), g16)
            loss = float(value) / scale
        finite = bool(np.isfinite(loss)) and _all_finite(grads)
        if update:
            self.update(finite)
        return loss, grads, finite

    def state_dict(self) -> dict:
        """The counters, for checkpoints (JSON-serializable)."""
        return {"scale": self.scale, "good_steps": self.good_steps, "skipped": self.skipped}

    def load_state_dict(self, d: dict) -> None:
        """Restore the counters saved by :meth:`state_dict`."""
        self.scale, self.good_steps, self.skipped = float(d["scale"]), int(d["good_steps"]), int(d["skipped"])

    def __repr__(self) -> str:
        dtype = "" if self.dtype == np.float16 else f", dtype={self.dtype.name!r}"
        return (
            f"DynamicLossScale(scale={self.scale:g}, good_steps={self.good_steps}, "
            f"growth_interval={self.growth_interval}, skipped={self.skipped}{dtype})"
        )


def as_loss_scale(mixed_precision) -> DynamicLossScale | None:
    """``fit``'s ``mixed_precision`` argument: False/None -> None, True -> a default scaler.

    ``"float16"`` is True's scaler; ``"bfloat16"`` a default scaler computing in bfloat16.

    Examples
    --------
    >>> as_loss_scale(True)
    DynamicLossScale(scale=32768, good_steps=0, growth_interval=2000, skipped=0)
    """
    if mixed_precision is None or mixed_precision is False:
        return None
    if mixed_precision is True:
        return DynamicLossScale()
    if isinstance(mixed_precision, str) and mixed_precision in COMPUTE_DTYPES:
        return DynamicLossScale(dtype=mixed_precision)
    if isinstance(mixed_precision, DynamicLossScale):
        return mixed_precision
    raise TypeError(
        f"mixed_precision must be False, True, 'float16', 'bfloat16' or a DynamicLossScale, got "
        f"{mixed_precision!r}"
    )


class Underflow(NamedTuple):
    """Gradient entries that are nonzero in float32 but exactly zero in float16 (or bfloat16)."""

    count: int
    total: int
    fraction: float


def underflow_fraction(loss, params, batch, *, scale: float = 1.0, dtype="float16") -> Underflow:
    """How many gradient entries underflow to zero in a float16 backward pass at ``scale``.

    The float32 gradient of ``loss(params, batch)`` is the reference; an entry counts
    when it is nonzero there but the float16 gradient of ``scale * loss`` (cast to
    float32 and divided by ``scale``) is exactly zero. ``scale=1`` (the default) is
    training without loss scaling. ``dtype="bfloat16"`` measures a bfloat16 pass instead.

    Parameters
    ----------
    loss : callable
        ``loss(params, batch) -> scalar``.
    params : pytree of float arrays
    batch : array or pytree of arrays
    scale : float
        The loss scale to test (at most :func:`max_loss_scale` of ``dtype``).
    dtype : "float16" or "bfloat16"

    Returns
    -------
    Underflow
        ``(count, total, fraction)``; ``fraction = count / total`` over all gradient entries.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> loss = lambda w, x: 1e-6 * snp.sum(w * x)     # gradient = 1e-6 x
    >>> x = np.array([0.01, 1.0, 100.0])
    >>> underflow_fraction(loss, np.zeros(3), x)   # 1e-8 is below float16's smallest 6e-8
    Underflow(count=1, total=3, fraction=0.333...)
    >>> underflow_fraction(loss, np.zeros(3), x, scale=2.0**12).count
    0
    """
    cap = max_loss_scale(dtype)
    if not 0.0 < scale <= cap:
        raise ValueError(f"underflow_fraction: scale must be in (0, 2**{int(math.log2(cap))}], got {scale!r}")
    g32 = grad(loss)(to_dtype(params, np.float32), to_dtype(batch, np.float32))
    ls = DynamicLossScale(init_scale=float(scale), min_scale=min(1.0, float(scale)), dtype=dtype)
    _, g16, _ = ls.step(value_and_grad(ls.scaled(loss)), params, batch)
    count = total = 0
    for a, b in zip(leaves(g32), leaves(g16)):
        count += int(np.count_nonzero((np.asarray(a) != 0) & (np.asarray(b) == 0)))
        total += int(np.size(a))
    return Underflow(count, total, count / total if total else 0.0)
