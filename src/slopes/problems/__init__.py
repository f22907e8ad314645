"""Standard test problems with known minima, written with ``slopes.numpy``.

Twenty Moré-Garbow-Hillstrom problems (:mod:`slopes.problems.mgh`) and the source
material's own examples (:mod:`slopes.problems.course`), each a :class:`Problem` with a
standard start ``x0``, the known minimum ``f_min`` and (where unique) minimizer ``x_min``.

>>> import numpy as np, slopes as sl
>>> p = sl.problems.get("beale")
>>> p.n, float(p(p.x_min)), p.f_min
(2, 0.0, 0.0)
>>> len(sl.problems.MGH), "rosenbrock" in sl.problems.names()
(20, True)
>>> sl.problems.get("watson", n=9).f_min
1.39976e-06
"""

from __future__ import annotations

from . import course, mgh
from .base import Box, Problem, StochasticProblem
from .course import COURSE_NAMES
from .mgh import MGH_NAMES

__all__ = [
    "COURSE",
    "Box",
    "MGH",
    "Problem",
    "StochasticProblem",
    "all_problems",
    "course",
    "get",
    "mgh",
    "names",
]


def names() -> tuple[str, ...]:
    """All registered problem names (MGH first, then the course's).

    Examples
    --------
    >>> import slopes as sl
    >>> sl.problems.names()[:3]
    ('rosenbrock', 'freudenstein_roth', 'powell_badly_scaled')
    """
    return MGH_NAMES + COURSE_NAMES


def get(name: str, **kwargs) -> Problem:
    """Build the problem called ``name``; size keywords (``n=``, ``m=``) where it has them.

    Examples
    --------
    >>> import slopes as sl
    >>> sl.problems.get("extended_rosenbrock", n=4).n
    4
    """
    key = name.lower().replace("-", "_").replace(" ", "_")
    if key in MGH_NAMES:
        return getattr(mgh, key)(**kwargs)
    if key in COURSE_NAMES:
        return getattr(course, key)(**kwargs)
    raise KeyError(f"unknown problem {name!r}; known: {', '.join(names())}")


def all_problems() -> list[Problem]:
    """Every problem at its default size.

    Examples
    --------
    >>> import slopes as sl
    >>> len(sl.problems.all_problems())
    25
    """
    return [get(n) for n in names()]


MGH: tuple[Problem, ...] = tuple(get(n) for n in MGH_NAMES)
"""The MGH problems at their default sizes."""

COURSE: tuple[Problem, ...] = tuple(get(n) for n in COURSE_NAMES)
"""The source material's problems."""
