"""The lab report: one self-contained HTML page that walks through the course with live results.

``slopes.report.build(out_dir, quick=False)`` computes every section (derivative checks,
Taylor polynomials, Jacobians and Hessians, critical points, step sizes, optimizers,
batches, schedules, projections, logistic regression, an MLP, gradient health) and writes
``out_dir/report.html`` with the figures embedded; the ``slopes report`` command calls it.

>>> from slopes.report import SECTIONS
>>> len(SECTIONS)
12
"""

from .build import SECTIONS, build
from .page import FigureItem, Section, Table

__all__ = ["SECTIONS", "FigureItem", "Section", "Table", "build"]
