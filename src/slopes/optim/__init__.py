"""Optimizers as composable gradient transformations over pytrees.

>>> import slopes.optim as so
>>> opt = so.chain(so.clip_by_global_norm(10.0), so.adam(so.cosine_decay(0.1, 100)))
>>> x = {"w": np.array([1.0, -1.0])}
>>> state = opt.init(x)
>>> for _ in range(3):
...     g = {"w": 2 * x["w"]}
...     upd, state = opt.update(g, state, x)
...     x = so.apply_updates(x, upd)
>>> so.step_count(state), round(so.learning_rate(state), 6)
(3, 0.099778)
"""

from . import presets, program_cache, projections, prox
from .base import (
    ChainState,
    GradientTransformation,
    apply_updates,
    chain,
    global_norm,
    learning_rate,
    step_count,
)
from .bounds import read_bounds
from .clipping import ClipNormState, ClipValueState, clip_by_global_norm, clip_by_value
from .driver import minimize
from .multistart import MultistartResult, multistart
from .linesearch import LineSearchResult, backtracking, strong_wolfe
from .more_thuente import more_thuente
from .newton import HessianModification, NewtonStepResult, newton_direction, newton_step
from .prox import fixed_point_residual
from .quasi_newton import BFGSUpdate, LBFGSMemory, bfgs_update, initial_gamma
from .result import History, Result
from .schedules import (
    PlateauState,
    as_schedule,
    constant,
    cosine_decay,
    exponential_decay,
    one_cycle,
    piecewise_constant,
    reduce_on_plateau,
    step_decay,
    warmup_cosine,
)
from .state_io import load_state, save_state, state_paths
from .transforms import (
    AdagradState,
    AdamState,
    MomentumState,
    RMSpropState,
    SamState,
    ScheduleState,
    adagrad,
    adam,
    adamw,
    momentum,
    nesterov,
    rmsprop,
    sam,
    sgd,
)

__all__ = [
    "minimize",
    "multistart",
    "MultistartResult",
    "read_bounds",
    "Result",
    "History",
    "presets",
    "program_cache",
    "projections",
    "prox",
    "fixed_point_residual",
    "LineSearchResult",
    "HessianModification",
    "NewtonStepResult",
    "newton_direction",
    "newton_step",
    "BFGSUpdate",
    "LBFGSMemory",
    "bfgs_update",
    "initial_gamma",
    "backtracking",
    "more_thuente",
    "strong_wolfe",
    "AdagradState",
    "AdamState",
    "ChainState",
    "ClipNormState",
    "ClipValueState",
    "GradientTransformation",
    "MomentumState",
    "PlateauState",
    "RMSpropState",
    "SamState",
    "ScheduleState",
    "adagrad",
    "adam",
    "adamw",
    "apply_updates",
    "as_schedule",
    "chain",
    "clip_by_global_norm",
    "clip_by_value",
    "constant",
    "cosine_decay",
    "exponential_decay",
    "global_norm",
    "learning_rate",
    "load_state",
    "momentum",
    "nesterov",
    "one_cycle",
    "piecewise_constant",
    "reduce_on_plateau",
    "rmsprop",
    "sam",
    "save_state",
    "sgd",
    "state_paths",
    "step_decay",
    "step_count",
    "warmup_cosine",
]
