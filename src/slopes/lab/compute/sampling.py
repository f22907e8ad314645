"""The Sampling page: HMC on a 2-D density typed as its log, with leapfrog trajectories drawn.

The samples come from :func:`slopes.sampling.hmc`; the trajectories drawn start at the first few
points of the chain with fresh Gaussian momenta and follow :func:`slopes.sampling.leapfrog` one
step at a time, so every intermediate position can be shown, with the energy error at the end.

Examples
--------
>>> page = sampling_page({"formula": "-(x^2 + y^2)/2", "n_samples": 200, "n_steps": 5, "step_size": 0.3})
>>> len(page["samples"]), 0.8 < page["numbers"]["acceptance_rate"] <= 1.0
(200, True)
"""

from __future__ import annotations

import numpy as np

from ...sampling import hmc, leapfrog
from ...transforms import grad
from ..inputs import LabInputError, formula, integer, number, point, window
from ..limits import LIMITS
from .common import array_code, code_lines, contour_field, finite_list, require_defined

__all__ = ["sampling_page", "TRAJECTORIES"]

#: Leapfrog trajectories drawn.
TRAJECTORIES = 5


def sampling_page(body: dict) -> dict:
    """Run HMC on ``exp(formula)`` and integrate a few leapfrog trajectories; everything the page draws.

    Parameters
    ----------
    body : dict
        ``formula`` (the log density in x, y, up to a constant), ``x0``, ``step_size``, ``n_steps``
        (leapfrog steps per sample), ``n_samples``, ``n_warmup``, ``adapt`` (tune the step size
        during warmup), ``seed``, ``xlim``, ``ylim``, ``n``.

    Returns
    -------
    dict
        ``samples``, ``trajectories`` (lists of points), ``energy_errors``, ``numbers`` (acceptance
        rate, sample mean, effective sample sizes, step size used, the first trajectory's end),
        ``contours`` of the log density and ``code``.

    Examples
    --------
    >>> sampling_page({"formula": "-(x^2 + y^2)/2", "n_samples": 2000, "n_steps": 100})
    Traceback (most recent call last):
    ...
    slopes.lab.inputs.LabInputError: 2000 samples x 100 leapfrog steps is 200000 gradients, over the lab's budget of 60000; ask for fewer samples or steps
    """
    logp = formula(body, ("x", "y"))
    x0 = point(body, "x0", [0.5, 0.5], size=2, bound=1e4)
    step_size = number(body, "step_size", 0.2, lo=1e-4, hi=10.0)
    n_steps = integer(body, "n_steps", 10, lo=1, hi=200)
    n_samples = integer(body, "n_samples", 500, lo=4, hi=5000)
    n_warmup = integer(body, "n_warmup", 0, lo=0, hi=2000)
    adapt = bool(body.get("adapt", False))
    seed = integer(body, "seed", 0, lo=0, hi=2**31 - 1)
    xlim = window(body, "xlim", [-3.0, 3.0])
    ylim = window(body, "ylim", [-3.0, 3.0])
    n = integer(body, "n", 81, lo=11, hi=LIMITS.max_grid)
    work = (n_samples + n_warmup + TRAJECTORIES) * n_steps
    if work > LIMITS.max_hmc_gradients:
        raise LabInputError(
            f"{n_samples + n_warmup} samples x {n_steps} leapfrog steps is {work - TRAJECTORIES * n_steps} "
            f"gradients, over the lab's budget of {LIMITS.max_hmc_gradients}; ask for fewer samples or steps"
        )
    require_defined(logp, x0)
    r = hmc(logp, x0, n_samples=n_samples, step_size=step_size, n_steps=n_steps, n_warmup=n_warmup,
            adapt_step_size=adapt, seed=seed)
    trajectories, energy = _trajectories(logp, r.samples, x0, r.step_size, n_steps, seed)
    numbers = {
        "acceptance_rate": float(r.acceptance_rate),
        "mean": finite_list(r.samples.mean(axis=0)),
        "ess": finite_list(r.ess),
        "step_size": float(r.step_size),
        "trajectory_end": finite_list(trajectories[0][-1]),
    }
    code = code_lines(
        [
            f'logp = sl.parse("{logp}", variables=("x", "y"))',
            f"x0 = {array_code(x0)}",
            f"r = sl.sampling.hmc(logp, x0, n_samples={n_samples}, step_size={step_size!r}, n_steps={n_steps},",
            f"                    n_warmup={n_warmup}, adapt_step_size={adapt}, seed={seed})",
            "acceptance_rate, step_size, ess = r.acceptance_rate, r.step_size, r.ess",
            "mean = r.samples.mean(axis=0)",
            "# the first trajectory drawn: from x0 with a fresh momentum",
            f"p0 = np.random.default_rng({seed} + 1).standard_normal(2)",
            f"trajectory_end, _ = sl.sampling.leapfrog(sl.grad(logp), x0, p0, step_size, {n_steps})",
        ]
    )
    return {
        "samples": finite_list(r.samples),
        "trajectories": [finite_list(t) for t in trajectories],
        "energy_errors": finite_list(energy),
        "numbers": numbers,
        "n_divergent": int(r.n_divergent),
        "contours": contour_field(logp, xlim, ylim, n),
        "code": code,
    }


def _trajectories(logp, samples, x0, eps, n_steps, seed):
    """Leapfrog paths from x0 and the first samples, one step at a time, and their energy errors."""
    rng = np.random.default_rng(seed + 1)
    g = grad(logp)
    starts = [x0, *samples[: TRAJECTORIES - 1]]
    paths, errors = [], []
    with np.errstate(all="ignore"):
        for x in starts:
            p = rng.standard_normal(2)
            h0 = -float(logp(x)) + 0.5 * float(p @ p)
            path = [x]
            for _ in range(n_steps):
                x, p = leapfrog(g, x, p, eps, 1)
                path.append(x)
                if not np.all(np.isfinite(x)):
                    break
            h1 = -float(logp(x)) + 0.5 * float(p @ p)
            paths.append(np.array(path))
            errors.append(h1 - h0)
    return paths, errors
