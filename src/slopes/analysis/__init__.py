"""What the derivatives tell us about a landscape: critical points, convexity, smoothness.

* :mod:`~slopes.analysis.critical` -- :func:`classify` (the Hessian test at a point) and
  :func:`critical_points` (all of them in a box: multi-start Newton on ``grad f = 0``).
* :mod:`~slopes.analysis.convexity` -- :func:`convexity` (sampled evidence and
  counterexamples), :func:`first_order_gap`.
* :mod:`~slopes.analysis.smoothness` -- :func:`smoothness` (``L``, ``mu``, ``kappa``,
  the GD step and rate) and :func:`gd_rate` (that rate against a real run).
* :mod:`~slopes.analysis.level_sets` -- :func:`gradient_orthogonal_to_level_set`.
* :mod:`~slopes.analysis.subgradients` -- :func:`subdifferential`, :func:`is_optimal`,
  :func:`normal_cone`, :func:`box_optimality`.

Every function of a box takes ``bounds`` as one ``(low, high)`` pair per coordinate, and
its sampling is seeded (``seed=0``): same seed, same answer. Sampling finds evidence, not
proofs: "no counterexample found" is not convexity, a sampled ``L`` is a lower bound.

>>> import slopes as sl
>>> himmelblau = lambda x: (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2
>>> [p.kind for p in sl.analysis.critical_points(himmelblau, [(-5, 5), (-5, 5)])].count("minimum")
4
"""

from .convexity import ConvexityReport, convexity, first_order_gap
from .critical import CriticalPoint, classify, critical_points
from .level_sets import LevelSetCheck, gradient_orthogonal_to_level_set
from .smoothness import GDRate, SmoothnessReport, gd_rate, smoothness
from .subgradients import NAMES, Subdifferential, box_optimality, is_optimal, normal_cone, subdifferential

__all__ = [
    "NAMES",
    "ConvexityReport",
    "CriticalPoint",
    "GDRate",
    "LevelSetCheck",
    "SmoothnessReport",
    "Subdifferential",
    "box_optimality",
    "classify",
    "convexity",
    "critical_points",
    "first_order_gap",
    "gd_rate",
    "gradient_orthogonal_to_level_set",
    "is_optimal",
    "normal_cone",
    "smoothness",
    "subdifferential",
]
