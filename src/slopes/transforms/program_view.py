"""The program :meth:`Jitted.trace` returns, shown in a notebook: one row per operation.

:class:`TracedProgram` is the traced :class:`~slopes.core.program.Program` itself (same
equations, same methods, ``str`` and ``compile`` unchanged) with a ``_repr_html_``: a
table of its operations with the dtype and shape of each result.
"""

from __future__ import annotations

from .._display import Card, card_html
from ..core.program import Program

__all__ = ["MAX_ROWS", "TracedProgram"]

#: Operations a notebook shows at most (``str(program)`` shows them all).
MAX_ROWS = 400


def _aval(program, r):
    """``(dtype name, shape)`` of variable or constant ``r``."""
    shape, dtype = program._aval_of(r)
    return getattr(dtype, "name", getattr(dtype, "__name__", str(dtype))), tuple(shape)


def _ref(r) -> str:
    return f"%{r}" if type(r) is int else repr(r)


def _param(v) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


class TracedProgram(Program):
    """A traced :class:`~slopes.core.program.Program` that displays itself as an HTML table.

    Examples
    --------
    >>> import numpy as np, slopes as sl, slopes.numpy as snp
    >>> prog = sl.jit(lambda x: snp.sum(snp.sin(x) * x)).trace(np.zeros(3))
    >>> html = prog._repr_html_()
    >>> [op in html for op in ("sin", "multiply", "sum", "float64")]
    [True, True, True, True]
    """

    @classmethod
    def of(cls, program: Program) -> TracedProgram:
        """The same program (its lists shared, not copied), as a :class:`TracedProgram`."""
        view = cls.__new__(cls)
        view.__dict__.update(program.__dict__)
        return view

    def _card(self) -> Card:
        rows = []
        for e in self.equations[:MAX_ROWS]:
            dtype, shape = _aval(self, e.out)
            args = ", ".join([_ref(r) for r in e.ins] + [f"{k}={_param(v)}" for k, v in e.params.items()])
            rows.append([f"%{e.out}", dtype, shape, e.prim.name, args])
        if len(self.equations) > MAX_ROWS:
            rows.append(None)
        inputs = ", ".join(f"%{v}: {dtype}{list(shape)}" for v in self.inputs for dtype, shape in [_aval(self, v)])
        outputs = ", ".join(_ref(r) for r in self.outputs)
        n = len(self.equations)
        detail = f"returns {outputs}" + (f"; the first {MAX_ROWS} operations shown, str() shows all" if n > MAX_ROWS else "")
        table = (["result", "dtype", "shape", "operation", "arguments"], rows)
        return Card(f"{n} operation{'s' * (n != 1)}", "info", f"program({inputs})", detail=detail, table=table)

    _repr_html_ = card_html
