"""Budgets of the lab: how much work one request may ask for, decided before the work starts.

Every endpoint reads its sizes (grid points, iterations, samples, epochs) from the request,
checks them against :data:`LIMITS` and refuses what is over with a message naming the limit;
iterative work also stops at a wall-time budget (a run stopped there ends with
``success=False`` and says so).

Examples
--------
>>> LIMITS.max_grid, LIMITS.max_iterations
(161, 5000)
>>> deadline = Deadline(0.0)
>>> deadline.passed()
True
"""

from __future__ import annotations

import time
from dataclasses import dataclass

__all__ = ["LIMITS", "Deadline", "Limits"]


@dataclass(frozen=True)
class Limits:
    """The lab's budgets.

    Attributes
    ----------
    max_body : int
        Bytes of one JSON request.
    max_formula : int
        Characters of a formula (a formula that fits on a line of the page).
    max_curve : int
        Points of a sampled curve (derivative page).
    max_grid : int
        Points per side of a contour grid.
    max_taylor_order : int
        Order of a Taylor polynomial.
    max_critical_starts : int
        Newton starts of the critical-point search.
    max_iterations : int
        Iterations of one optimizer run.
    max_race_iterations : int
        Iterations of all the runs of one race together.
    seconds : float
        Wall time of one request's iterative work.
    max_hmc_gradients : int
        Gradient evaluations of one HMC request (samples and warmup times leapfrog steps).
    max_epochs : int
        Epochs of one training run.
    max_trainings : int
        Training runs alive at once (running or stopped).
    train_seconds : float
        Wall time one training run may compute (time spent stopped does not count).
    idle_seconds : float
        A stopped training run that is not resumed within this time is ended.
    max_lr_steps : int
        Steps of a learning-rate range test.
    watch_seconds : float
        A training run is paced to last at least this long (its steps spread evenly), so that
        its curves can be watched as they grow and it can be stopped midway; the waits also
        leave the processor to other requests.
    """

    max_body: int = 20_000
    max_formula: int = 300
    max_curve: int = 801
    max_grid: int = 161
    max_taylor_order: int = 12
    max_critical_starts: int = 64
    max_iterations: int = 5000
    max_race_iterations: int = 20_000
    seconds: float = 3.0
    max_hmc_gradients: int = 60_000
    max_epochs: int = 60
    max_trainings: int = 4
    train_seconds: float = 120.0
    idle_seconds: float = 600.0
    max_lr_steps: int = 400
    watch_seconds: float = 6.0


#: The budgets in force.
LIMITS = Limits()


class Deadline:
    """A wall-time budget started now: ``passed()`` says whether ``seconds`` have gone by.

    Calling the object (with any arguments) is ``passed()``, so it serves directly as a
    ``callback`` of :func:`slopes.minimize` (returning True stops the run).

    Examples
    --------
    >>> Deadline(60.0).passed(), Deadline(60.0)(None)
    (False, False)
    """

    def __init__(self, seconds: float):
        self.seconds = float(seconds)
        self.end = time.monotonic() + self.seconds

    def passed(self) -> bool:
        return time.monotonic() >= self.end

    def __call__(self, *_args) -> bool:
        return self.passed()
