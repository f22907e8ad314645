"""The interactive lab: ``slopes lab`` serves pages over the computations of the report.

Five pages (derivative, gradient and landscape, optimizer race, training, sampling) are
files of this package (HTML put together at startup from one layout, :mod:`slopes.lab.layout`;
ES modules, CSS: no network, no build step); the numbers they draw come from a small
Starlette app (:func:`slopes.lab.app.create_app`) whose endpoints call one computation
function per page (:mod:`slopes.lab.compute`), in worker processes
(:mod:`slopes.lab.workers`) or the server's threads. Those
functions use slopes' public API on formulas read by :func:`slopes.parse`, inside budgets
decided before the work (:mod:`slopes.lab.limits`), and return JSON-ready numbers together
with the lines of slopes code that reproduce them.

Importing :mod:`slopes` does not import this package; the web stack (the ``lab`` extra:
starlette, uvicorn) is imported only by :mod:`slopes.lab.app` and :mod:`slopes.lab.server`.

Examples
--------
>>> from slopes.lab.compute import derivative_page
>>> page = derivative_page({"formula": "x^3", "x0": 2.0})
>>> page["numbers"]["slope"]
12.0
"""

__all__: list[str] = []
