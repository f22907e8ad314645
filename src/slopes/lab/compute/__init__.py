"""One computation function per lab page: request dict in, JSON-ready numbers and the code out.

Each ``*_page(body)`` checks the request (:mod:`slopes.lab.inputs`), computes with slopes'
public functions, and returns a dict whose ``numbers`` the ``code`` it also returns
reproduces when run. :class:`TrainingRun` is the live counterpart for training.

>>> sorted(PAGES)
['derivative', 'landscape', 'lr_range', 'race', 'sampling']
"""

from .derivative import derivative_page
from .landscape import landscape_page
from .race import race_page
from .sampling import sampling_page
from .training import TrainingRun, lr_range_page

#: The request/response pages by endpoint name.
PAGES = {
    "derivative": derivative_page,
    "landscape": landscape_page,
    "race": race_page,
    "sampling": sampling_page,
    "lr_range": lr_range_page,
}

__all__ = ["PAGES", "TrainingRun", "derivative_page", "landscape_page", "lr_range_page", "race_page", "sampling_page"]
