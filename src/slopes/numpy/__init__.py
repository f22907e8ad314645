"""``import slopes.numpy as snp``: NumPy's API, differentiable by every slopes transform.

Write functions with ``snp`` exactly as with NumPy; on plain arrays every
function returns plain NumPy results, and inside ``sl.grad``, ``sl.jacobian``
and the other transforms the same code is traced and differentiated.

Examples
--------
>>> import slopes as sl, slopes.numpy as snp
>>> f = lambda x: x[0] ** 2 + 2 * x[1] ** 2 + snp.exp(-x[0] - x[1])
>>> sl.grad(f)(np.array([0.0, 0.0]))
array([-1., -1.])
"""

from __future__ import annotations

import numpy as _np

from . import fft, linalg  # noqa: F401  (snp.fft, snp.linalg)
from .array_api import *  # noqa: F403
from .array_api import __all__ as _array_api
from .assembly import *  # noqa: F403
from .assembly import __all__ as _assembly
from .complex_order import *  # noqa: F403
from .complex_order import __all__ as _complex_order
from .complex_parts import *  # noqa: F403
from .complex_parts import __all__ as _complex_parts
from .creation import *  # noqa: F403
from .creation import __all__ as _creation
from .differences import *  # noqa: F403
from .differences import __all__ as _differences
from .elementwise_extra import *  # noqa: F403
from .elementwise_extra import __all__ as _elementwise_extra
from .functional import *  # noqa: F403
from .functional import __all__ as _functional
from .grids import *  # noqa: F403
from .grids import __all__ as _grids
from .index_tools import *  # noqa: F403
from .index_tools import __all__ as _index_tools
from .indexing import *  # noqa: F403
from .indexing import __all__ as _indexing
from .layout import *  # noqa: F403
from .layout import __all__ as _layout
from .manipulation import *  # noqa: F403
from .manipulation import __all__ as _manipulation
from .polynomials import *  # noqa: F403
from .polynomials import __all__ as _polynomials
from .products import *  # noqa: F403
from .products import __all__ as _products
from .queries import *  # noqa: F403
from .queries import __all__ as _queries
from .reductions import *  # noqa: F403
from .reductions import __all__ as _reductions
from .shapes import *  # noqa: F403
from .selection import *  # noqa: F403
from .selection import __all__ as _selection
from .sequences import *  # noqa: F403
from .sequences import __all__ as _sequences
from .shapes import __all__ as _shapes
from .spaces import *  # noqa: F403
from .spaces import __all__ as _spaces
from .statistics import *  # noqa: F403
from .statistics import __all__ as _statistics
from .ufuncs import *  # noqa: F403
from .ufuncs import __all__ as _ufuncs

pi = _np.pi
e = _np.e
inf = _np.inf
nan = _np.nan
newaxis = None
float16, float32, float64 = _np.float16, _np.float32, _np.float64
int32, int64, bool_ = _np.int32, _np.int64, _np.bool_
ndarray = _np.ndarray
# NumPy's other scalar types, dtype tools and index helpers, as they are (no derivative involved)
for _name in (
    "bool int8 int16 uint8 uint16 uint32 uint64 intp uint int_ double single half longdouble "
    "complex64 complex128 dtype finfo iinfo number integer signedinteger unsignedinteger "
    "inexact floating complexfloating generic s_ index_exp mgrid ogrid euler_gamma"
).split():
    globals()[_name] = getattr(_np, _name)

__all__ = sorted(
    set(_complex_order + _complex_parts + _creation + _grids + _indexing + _manipulation + _products + _reductions + _shapes + _ufuncs)
    | set(_array_api + _assembly + _differences + _elementwise_extra + _index_tools + _queries)
    | set(_functional + _layout + _polynomials + _selection + _sequences + _spaces + _statistics)
)

import sys as _sys  # noqa: E402

from . import methods as _methods  # noqa: E402

_methods.install(_sys.modules[__name__])


def __getattr__(name):
    # A clear answer for NumPy names slopes does not offer (instead of a bare AttributeError).
    if hasattr(_np, name):
        raise AttributeError(
            f"slopes.numpy has no '{name}': numpy.{name} is not differentiable by slopes yet. "
            "Write it with the functions slopes.numpy offers (dir(slopes.numpy)), or give it "
            "a derivative rule with slopes.custom_jvp / slopes.custom_vjp."
        )
    raise AttributeError(f"module 'slopes.numpy' has no attribute '{name}'")
