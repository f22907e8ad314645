"""The functions added to ``slopes.numpy`` to complete autograd's list, and the
non-differentiable helpers on traced values.

References, all independent of the code under test: NumPy's own functions for every
value; central finite differences (``tests/checks.py``) for first and second
derivatives in forward and reverse mode; finite differences of second order along a
line for Taylor mode; sympy for ``sinc``'s derivatives; autograd and JAX (when
installed) for the conventions at singular points.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from checks import check_derivatives

import slopes as sl
import slopes.numpy as snp
from slopes.core.trace import Tracer

RNG = np.random.default_rng(16)


def _written(np_inplace, a, *rest):
    """NumPy's in-place function applied to a copy: the reference for the functional versions."""
    out = a.copy()
    np_inplace(out, *rest)
    return out


def _flat(parts):
    return snp.concatenate([snp.ravel(p) for p in parts])


# name -> (slopes function, NumPy function, example arguments)
CASES = {
    "deg2rad": (snp.deg2rad, np.deg2rad, (RNG.normal(size=(2, 3)),)),
    "rad2deg": (snp.rad2deg, np.rad2deg, (RNG.normal(size=3),)),
    "logaddexp2": (snp.logaddexp2, np.logaddexp2, (RNG.normal(size=(2, 3)), RNG.normal(size=3))),
    "sinc": (snp.sinc, np.sinc, (np.array([0.0, 0.05, -0.4, 0.9, 2.3, -3.1]),)),
    "fmax": (snp.fmax, np.fmax, (RNG.normal(size=(2, 3)), RNG.normal(size=3))),
    "fmin": (snp.fmin, np.fmin, (RNG.normal(size=4), RNG.normal(size=4))),
    "nan_to_num": (snp.nan_to_num, np.nan_to_num, (RNG.normal(size=4),)),
    "cross": (snp.cross, np.cross, (RNG.normal(size=(4, 3)), RNG.normal(size=3))),
    "cross_2d": (snp.cross, lambda a, b: a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0], (RNG.normal(size=(3, 2)), RNG.normal(size=2))),
    "gradient": (snp.gradient, np.gradient, (RNG.normal(size=6),)),
    "gradient_2d_edge2": (
        lambda f: _flat(snp.gradient(f, 0.5, 2.0, edge_order=2)),
        lambda f: np.concatenate([g.ravel() for g in np.gradient(f, 0.5, 2.0, edge_order=2)]),
        (RNG.normal(size=(4, 5)),),
    ),
    "gradient_coordinates": (
        lambda f, x: snp.gradient(f, x, edge_order=2),
        lambda f, x: np.gradient(f, x, edge_order=2),
        (RNG.normal(size=5), np.cumsum(RNG.uniform(0.5, 1.5, size=5))),
    ),
    "gradient_coordinates_edge1": (
        lambda f, x: snp.gradient(f, x),
        lambda f, x: np.gradient(f, x),
        (RNG.normal(size=5), np.cumsum(RNG.uniform(0.5, 1.5, size=5))),
    ),
    "partition": (lambda a: snp.partition(a, 2), lambda a: np.partition(a, 2), (RNG.normal(size=(3, 5)),)),
    "append": (snp.append, np.append, (RNG.normal(size=(2, 2)), RNG.normal(size=3))),
    "append_axis": (lambda a, b: snp.append(a, b, axis=0), lambda a, b: np.append(a, b, axis=0), (RNG.normal(size=(2, 3)), RNG.normal(size=(1, 3)))),
    "column_stack": (lambda a, b: snp.column_stack([a, b]), lambda a, b: np.column_stack([a, b]), (RNG.normal(size=3), RNG.normal(size=(3, 2)))),
    "row_stack": (lambda a, b: snp.row_stack([a, b]), lambda a, b: np.vstack([a, b]), (RNG.normal(size=3), RNG.normal(size=(2, 3)))),
    "dstack": (lambda a, b: snp.dstack([a, b]), lambda a, b: np.dstack([a, b]), (RNG.normal(size=3), RNG.normal(size=(1, 3)))),
    "atleast_3d": (snp.atleast_3d, np.atleast_3d, (RNG.normal(size=(2, 3)),)),
    "hsplit": (lambda a: _flat(snp.hsplit(a, [1, 3])), lambda a: np.concatenate([p.ravel() for p in np.hsplit(a, [1, 3])]), (RNG.normal(size=(2, 4)),)),
    "vsplit": (lambda a: _flat(snp.vsplit(a, 2)), lambda a: np.concatenate([p.ravel() for p in np.vsplit(a, 2)]), (RNG.normal(size=(4, 2)),)),
    "dsplit": (lambda a: _flat(snp.dsplit(a, 2)), lambda a: np.concatenate([p.ravel() for p in np.dsplit(a, 2)]), (RNG.normal(size=(1, 2, 4)),)),
    "rot90": (lambda a: snp.rot90(a, 3, (2, 0)), lambda a: np.rot90(a, 3, (2, 0)), (RNG.normal(size=(2, 3, 4)),)),
    "rollaxis": (lambda a: snp.rollaxis(a, 2, 1), lambda a: np.rollaxis(a, 2, 1), (RNG.normal(size=(2, 3, 4)),)),
    "permute_dims": (lambda a: snp.permute_dims(a, (1, 2, 0)), lambda a: np.permute_dims(a, (1, 2, 0)), (RNG.normal(size=(2, 3, 4)),)),
    "select": (
        lambda x: snp.select([x < -0.5, x < 0.5], [snp.sin(x), x**2], default=snp.exp(x)),
        lambda x: np.select([x < -0.5, x < 0.5], [np.sin(x), x**2], default=np.exp(x)),
        (np.array([-1.3, -0.2, 0.3, 0.9, 1.7]),),
    ),
    "r_": (lambda a, b: snp.r_[a, 2.0, b, 0:2], lambda a, b: np.r_[a, 2.0, b, 0:2], (RNG.normal(size=2), RNG.normal(size=3))),
    "c_": (lambda a, b: snp.c_[a, b], lambda a, b: np.c_[a, b], (RNG.normal(size=3), RNG.normal(size=(3, 2)))),
    "astype": (lambda a: snp.astype(a, np.float64), lambda a: np.astype(a, np.float64), (RNG.normal(size=3),)),
    "einsum_sublist": (
        lambda a, b: snp.einsum(a, [0, 1], b, [1, 2], [2, 0], optimize="greedy"),
        lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [2, 0], optimize="greedy"),
        (RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4))),
    ),
}

WITH_NAN = RNG.normal(size=(3, 4))
WITH_NAN[0, 1] = WITH_NAN[2, 3] = np.nan
for _name in ("nansum", "nanmean", "nanmax", "nanmin", "nanprod", "nanvar", "nanstd"):
    CASES[_name] = (
        (lambda f: lambda a: f(a, axis=1))(getattr(snp, _name)),
        (lambda f: lambda a: f(a, axis=1))(getattr(np, _name)),
        (WITH_NAN,),
    )
CASES["nanvar_all"] = (lambda a: snp.nanvar(a, ddof=1), lambda a: np.nanvar(a, ddof=1), (WITH_NAN,))
CASES["nancumsum"] = (lambda a: snp.nancumsum(a, axis=0), lambda a: np.nancumsum(a, axis=0), (WITH_NAN,))
CASES["nancumprod"] = (snp.nancumprod, np.nancumprod, (WITH_NAN,))
CASES.update(
    {
        "quantile": (
            lambda a, q: snp.quantile(a, q, axis=(0, 2)),
            lambda a, q: np.quantile(a, q, axis=(0, 2)),
            (RNG.normal(size=(2, 3, 4)), np.array([0.13, 0.61, 0.9])),
        ),
        "quantile_keepdims": (
            lambda a: snp.quantile(a, 0.3, axis=1, keepdims=True),
            lambda a: np.quantile(a, 0.3, axis=1, keepdims=True),
            (RNG.normal(size=(2, 5)),),
        ),
        "percentile_midpoint": (
            lambda a: snp.percentile(a, [20.0, 55.0], method="midpoint"),
            lambda a: np.percentile(a, [20.0, 55.0], method="midpoint"),
            (RNG.normal(size=7),),
        ),
        "median_even": (lambda a: snp.median(a, axis=0), lambda a: np.median(a, axis=0), (RNG.normal(size=(4, 3)),)),
        "median_odd": (snp.median, np.median, (RNG.normal(size=5),)),
        "ptp": (lambda a: snp.ptp(a, axis=1), lambda a: np.ptp(a, axis=1), (RNG.normal(size=(3, 4)),)),
        "cov": (snp.cov, np.cov, (RNG.normal(size=(3, 6)),)),
        "cov_y_columns": (
            lambda a, b: snp.cov(a, b, rowvar=False, bias=True),
            lambda a, b: np.cov(a, b, rowvar=False, bias=True),
            (RNG.normal(size=(6, 2)), RNG.normal(size=6)),
        ),
        "corrcoef": (snp.corrcoef, np.corrcoef, (RNG.normal(size=(3, 6)),)),
    }
)
_XP = np.cumsum(RNG.uniform(0.5, 1.5, size=6))
_CHOICE = np.array([[0, 2, 1], [1, 0, 2]])
CASES.update(
    {
        "copysign": (snp.copysign, np.copysign, (RNG.normal(size=(2, 3)), RNG.normal(size=3))),
        "fmod": (snp.fmod, np.fmod, (RNG.normal(size=4) * 5, RNG.uniform(0.7, 2.0, size=4) * RNG.choice([-1, 1], 4))),
        "float_power": (snp.float_power, np.float_power, (RNG.uniform(0.5, 2, size=3), RNG.normal(size=3))),
        "heaviside": (
            lambda h: snp.heaviside(np.array([-1.0, 0.0, 2.0, 0.0]), h),
            lambda h: np.heaviside(np.array([-1.0, 0.0, 2.0, 0.0]), h),
            (RNG.normal(size=4),),
        ),
        "modf": (lambda x: _flat(snp.modf(x)), lambda x: np.concatenate(np.modf(x)), (RNG.normal(size=5) * 3,)),
        "ldexp": (lambda x: snp.ldexp(x, np.array([0, 3, -2])), lambda x: np.ldexp(x, np.array([0, 3, -2])), (RNG.normal(size=3),)),
        "frexp": (lambda x: snp.frexp(x)[0], lambda x: np.frexp(x)[0], (RNG.normal(size=4) * 9,)),
        "interp": (
            snp.interp,
            np.interp,
            (RNG.uniform(-1, 8, size=7), _XP, RNG.normal(size=6)),
        ),
        "polyval": (snp.polyval, np.polyval, (RNG.normal(size=4), RNG.normal(size=(2, 3)))),
        "convolve": (snp.convolve, np.convolve, (RNG.normal(size=5), RNG.normal(size=3))),
        "convolve_same": (lambda a, v: snp.convolve(a, v, "same"), lambda a, v: np.convolve(a, v, "same"), (RNG.normal(size=3), RNG.normal(size=6))),
        "correlate": (snp.correlate, np.correlate, (RNG.normal(size=6), RNG.normal(size=3))),
        "correlate_full_swapped": (
            lambda a, v: snp.correlate(a, v, "full"),
            lambda a, v: np.correlate(a, v, "full"),
            (RNG.normal(size=3), RNG.normal(size=5)),
        ),
        "ediff1d": (lambda a: snp.ediff1d(a, to_end=[9.0]), lambda a: np.ediff1d(a, to_end=[9.0]), (RNG.normal(size=(2, 3)),)),
        "trapezoid": (lambda y, x: snp.trapezoid(y, x, axis=0), lambda y, x: np.trapezoid(y, x, axis=0), (RNG.normal(size=(6, 2)), _XP)),
        "concat": (lambda a, b: snp.concat([a, b], axis=1), lambda a, b: np.concat([a, b], axis=1), (RNG.normal(size=(2, 2)), RNG.normal(size=(2, 3)))),
        "unstack": (lambda a: _flat(snp.unstack(a, axis=1)), lambda a: np.concatenate(np.unstack(a, axis=1)), (RNG.normal(size=(2, 3)),)),
        "vecdot": (snp.vecdot, np.vecdot, (RNG.normal(size=(2, 3)), RNG.normal(size=3))),
        "matvec": (snp.matvec, np.matvec, (RNG.normal(size=(2, 3, 4)), RNG.normal(size=4))),
        "vecmat": (snp.vecmat, np.vecmat, (RNG.normal(size=3), RNG.normal(size=(2, 3, 4)))),
        "matrix_transpose": (snp.matrix_transpose, np.matrix_transpose, (RNG.normal(size=(2, 3, 4)),)),
        "cumulative_sum": (
            lambda a: snp.cumulative_sum(a, axis=1, include_initial=True),
            lambda a: np.cumulative_sum(a, axis=1, include_initial=True),
            (RNG.normal(size=(2, 3)),),
        ),
        "cumulative_prod": (
            lambda a: snp.cumulative_prod(a, include_initial=True),
            lambda a: np.cumulative_prod(a, include_initial=True),
            (RNG.normal(size=4),),
        ),
        "choose": (lambda a, b, c: snp.choose(_CHOICE, [a, b, c]), lambda a, b, c: np.choose(_CHOICE, [a, b, c]), tuple(RNG.normal(size=(3, 3)))),
        "compress": (lambda a: snp.compress([True, False, True], a, axis=1), lambda a: np.compress([True, False, True], a, axis=1), (RNG.normal(size=(2, 3)),)),
        "extract": (lambda a: snp.extract(_CHOICE > 0, a), lambda a: np.extract(_CHOICE > 0, a), (RNG.normal(size=(2, 3)),)),
        "delete": (lambda a: snp.delete(a, [0, 2], axis=1), lambda a: np.delete(a, [0, 2], axis=1), (RNG.normal(size=(2, 4)),)),
        "diagflat": (lambda a: snp.diagflat(a, -1), lambda a: np.diagflat(a, -1), (RNG.normal(size=(2, 2)),)),
        "block": (
            lambda a, b: snp.block([[a, b], [b, a]]),
            lambda a, b: np.block([[a, b], [b, a]]),
            (RNG.normal(size=(2, 2)), RNG.normal(size=(2, 2))),
        ),
    }
)
CASES.update(
    {
        "logspace": (
            lambda a, b, base: snp.logspace(a, b, 4, base=base),
            lambda a, b, base: np.logspace(a, b, 4, base=base),
            (np.array(0.3), np.array([1.0, 2.0]), np.array(2.5)),
        ),
        "geomspace": (
            lambda a, b: snp.geomspace(a, b, 5, axis=1),
            lambda a, b: np.geomspace(a, b, 5, axis=1),
            (np.array([0.5, 2.0]), np.array(30.0)),
        ),
        "nanquantile": (
            lambda a, q: snp.nanquantile(a, q, axis=1),
            lambda a, q: np.nanquantile(a, q, axis=1),
            (WITH_NAN, np.array([0.2, 0.7])),
        ),
        "nanpercentile_nearest": (
            lambda a: snp.nanpercentile(a, 35.0, axis=0, method="nearest"),
            lambda a: np.nanpercentile(a, 35.0, axis=0, method="nearest"),
            (WITH_NAN,),
        ),
        "nanmedian": (snp.nanmedian, np.nanmedian, (WITH_NAN,)),
    }
)
CASES.update(
    {
        "insert": (
            lambda a, v: snp.insert(a, [0, 2, 2], v, axis=1),
            lambda a, v: np.insert(a, [0, 2, 2], v, axis=1),
            (RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))),
        ),
        "put_along_axis": (
            lambda a, v: snp.put_along_axis(a, np.array([[2], [0]]), v, axis=1),
            lambda a, v: _written(np.put_along_axis, a, np.array([[2], [0]]), v, 1),
            (RNG.normal(size=(2, 3)), RNG.normal(size=(2, 1))),
        ),
        "put": (lambda a, v: snp.put(a, [3, 0], v), lambda a, v: _written(np.put, a, [3, 0], v), (RNG.normal(size=(2, 2)), RNG.normal(size=2))),
        "place": (
            lambda a, v: snp.place(a, _CHOICE > 0, v),
            lambda a, v: _written(np.place, a, _CHOICE > 0, v),
            (RNG.normal(size=(2, 3)), RNG.normal(size=3)),
        ),
        "fill_diagonal": (
            lambda a, v: snp.fill_diagonal(a, v, wrap=True),
            lambda a, v: _written(np.fill_diagonal, a, v, True),
            (RNG.normal(size=(5, 2)), RNG.normal(size=())),
        ),
        "resize": (lambda a: snp.resize(a, (3, 3)), lambda a: np.resize(a, (3, 3)), (RNG.normal(size=(2, 2)),)),
        "vander": (lambda x: snp.vander(x, 4), lambda x: np.vander(x, 4), (RNG.normal(size=3),)),
        "polyadd": (snp.polyadd, np.polyadd, (RNG.normal(size=2), RNG.normal(size=4))),
        "polysub": (snp.polysub, np.polysub, (RNG.normal(size=4), RNG.normal(size=2))),
        "polymul": (snp.polymul, np.polymul, (RNG.normal(size=3), RNG.normal(size=2))),
        "polyder": (lambda p: snp.polyder(p, 2), lambda p: np.polyder(p, 2), (RNG.normal(size=5),)),
        "polyint": (lambda p, k: snp.polyint(p, 2, k), lambda p, k: np.polyint(p, 2, k), (RNG.normal(size=3), RNG.normal(size=2))),
        "poly": (snp.poly, np.poly, (RNG.normal(size=3),)),
        "apply_along_axis": (
            lambda a: snp.apply_along_axis(lambda r: snp.outer(r, snp.sin(r)), 1, a),
            lambda a: np.apply_along_axis(lambda r: np.outer(r, np.sin(r)), 1, a),
            (RNG.normal(size=(2, 3, 2)),),
        ),
        "vectorize": (
            lambda a, b: snp.vectorize(lambda u, v: snp.where(u > v, u * v, snp.exp(u)))(a, b),
            lambda a, b: np.vectorize(lambda u, v: u * v if u > v else np.exp(u))(a, b),
            (RNG.normal(size=(2, 1)), RNG.normal(size=3)),
        ),
        "piecewise": (
            lambda x: snp.piecewise(x, [x < -0.5, x > 0.5], [snp.sin, lambda v: v**3, lambda v: 2 * v]),
            lambda x: np.piecewise(x, [x < -0.5, x > 0.5], [np.sin, lambda v: v**3, lambda v: 2 * v]),
            (np.array([-1.3, -0.2, 0.3, 0.9, 1.7]),),
        ),
        "apply_over_axes": (
            lambda a: snp.apply_over_axes(snp.sum, a, [0, 2]),
            lambda a: np.apply_over_axes(np.sum, a, [0, 2]),
            (RNG.normal(size=(2, 3, 2)),),
        ),
        "fromfunction": (
            lambda s: snp.fromfunction(lambda i, j: snp.sin(s * i) + j, (2, 3)),
            lambda s: np.fromfunction(lambda i, j: np.sin(s * i) + j, (2, 3)),
            (np.array(0.7),),
        ),
        "unwrap": (lambda p: snp.unwrap(p, axis=0), lambda p: np.unwrap(p, axis=0), (RNG.normal(size=(5, 2)) * 3,)),
        "trim_zeros": (
            lambda f: snp.trim_zeros(f * np.array([0.0, 1, 0, 1, 0])),
            lambda f: np.trim_zeros(f * np.array([0.0, 1, 0, 1, 0])),
            (RNG.normal(size=5),),
        ),
    }
)
# -- i0, real_if_close, sort_complex, polyfit, roots -----------------------------------------------
def _parts(z):
    """Real and imaginary parts side by side: a real function of a complex result."""
    return snp.concatenate([snp.real(z), snp.imag(z)])


def _np_parts(z):
    return np.concatenate([np.real(z), np.imag(z)])


_FIT_X = np.sort(RNG.uniform(-2, 3, size=7))
# real roots 1.5 and -0.7, and the complex pair -0.2 +- 1.1j
_P = np.polymul(np.poly([1.5, -0.7]), [1.0, 0.4, 1.25]) * 1.3
CASES.update(
    {
        "i0": (snp.i0, np.i0, (RNG.normal(size=(2, 3)) * 2,)),
        "real_if_close": (
            lambda a: snp.real_if_close(a * (1 + 0j)),
            lambda a: np.real_if_close(a * (1 + 0j)),
            (RNG.normal(size=3),),
        ),
        "sort_complex": (
            lambda re, im: _parts(snp.sort_complex(re + 1j * im)),
            lambda re, im: _np_parts(np.sort_complex(re + 1j * im)),
            (RNG.normal(size=(2, 4)), RNG.normal(size=(2, 4))),
        ),
        "sort_complex_real": (lambda a: _parts(snp.sort_complex(a)), lambda a: _np_parts(np.sort_complex(a)), (RNG.normal(size=5),)),
        "polyfit": (lambda x, y: snp.polyfit(x, y, 2), lambda x, y: np.polyfit(x, y, 2), (_FIT_X, RNG.normal(size=7))),
        "polyfit_weighted_columns": (
            lambda x, y, w: snp.polyfit(x, y, 3, w=w),
            lambda x, y, w: np.polyfit(x, y, 3, w=w),
            (_FIT_X, RNG.normal(size=(7, 2)), RNG.uniform(0.5, 2.0, size=7)),
        ),
        "roots": (lambda p: _parts(snp.roots(p, strip_zeros=False)), lambda p: _np_parts(np.roots(p)), (_P,)),
    }
)
# NumPy 2's array-API names in numpy.linalg
_SQUARE = RNG.normal(size=(2, 3, 3)) + 3 * np.eye(3)
_MAP = 0.5 * RNG.normal(size=(6, 2, 3)) + 4 * np.eye(6).reshape(6, 2, 3)  # well conditioned
CASES.update(
    {
        "linalg.cross": (snp.linalg.cross, np.linalg.cross, (RNG.normal(size=(2, 3)), RNG.normal(size=3))),
        "linalg.diagonal": (lambda a: snp.linalg.diagonal(a, offset=1), lambda a: np.linalg.diagonal(a, offset=1), (_SQUARE,)),
        "linalg.matmul": (snp.linalg.matmul, np.linalg.matmul, (_SQUARE, RNG.normal(size=(3, 2)))),
        "linalg.matrix_transpose": (snp.linalg.matrix_transpose, np.linalg.matrix_transpose, (RNG.normal(size=(2, 3, 4)),)),
        "linalg.outer": (snp.linalg.outer, np.linalg.outer, (RNG.normal(size=3), RNG.normal(size=2))),
        "linalg.tensordot": (
            lambda a, b: snp.linalg.tensordot(a, b, axes=1),
            lambda a, b: np.linalg.tensordot(a, b, axes=1),
            (RNG.normal(size=(2, 3)), RNG.normal(size=(3, 2))),
        ),
        "linalg.trace": (lambda a: snp.linalg.trace(a, offset=-1), lambda a: np.linalg.trace(a, offset=-1), (_SQUARE,)),
        "linalg.vecdot": (snp.linalg.vecdot, np.linalg.vecdot, (RNG.normal(size=(2, 4)), RNG.normal(size=4))),
        "linalg.tensorinv": (lambda a: snp.linalg.tensorinv(a, ind=1), lambda a: np.linalg.tensorinv(a, ind=1), (_MAP,)),
        "linalg.tensorsolve": (snp.linalg.tensorsolve, np.linalg.tensorsolve, (_MAP, RNG.normal(size=6))),
        "linalg.tensorsolve_axes": (
            lambda a, b: snp.linalg.tensorsolve(a, b, axes=(0,)),
            lambda a, b: np.linalg.tensorsolve(a, b, axes=(0,)),
            (_MAP, RNG.normal(size=(2, 3))),  # axis 0 moved last: b's shape (2, 3), x's (6,)
        ),
    }
)
NAMES = sorted(CASES)


@pytest.mark.parametrize("name", NAMES)
def test_value_equals_numpys(name):
    fn, ref, args = CASES[name]
    got, want = fn(*args), ref(*args)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_first_and_second_derivatives_forward_and_reverse(name):
    fn, _, args = CASES[name]
    check_derivatives(fn, *args)


def _line(fn, args, seed=0):
    """g(t) = <w, fn(args + t v)>: a scalar function of one variable through ``fn``."""
    rng = np.random.default_rng(seed)
    vs = [rng.normal(size=np.shape(a)) for a in args]
    w = rng.normal(size=np.shape(fn(*args)))
    return lambda t: snp.sum(w * fn(*[a + t * v for a, v in zip(args, vs)]))


@pytest.mark.parametrize("name", NAMES)
def test_taylor_mode_against_finite_differences(name):
    fn, _, args = CASES[name]
    g = _line(fn, args)
    h = 1e-3
    g0, gp, gm = (float(g(t)) for t in (0.0, h, -h))
    np.testing.assert_allclose(float(sl.derivative(g, order=2)(0.0)), (gp - 2 * g0 + gm) / h**2, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(float(sl.derivative(g, order=1)(0.0)), (gp - gm) / (2 * h), rtol=1e-5, atol=1e-6)


# whose result's shape (or dtype) depends on the input's values: neither vmap nor jit can give one program
VALUE_SHAPED = {"trim_zeros", "real_if_close"}


@pytest.mark.parametrize("name", sorted(VALUE_SHAPED))
def test_value_shaped_results_refuse_vmap_and_jit_clearly(name):
    fn, _, args = CASES[name]
    with pytest.raises(TypeError, match="vmap"):
        sl.vmap(fn)(*[np.stack([a, a]) for a in args])
    with pytest.raises(Exception, match="static argument"):
        sl.jit(fn)(*args)


@pytest.mark.parametrize("name", sorted(set(NAMES) - VALUE_SHAPED))
def test_vmap_and_jit_through_it(name):
    fn, ref, args = CASES[name]
    batch = [np.stack([a + 0.01 * k for k in range(3)]) for a in args]
    got = sl.vmap(fn)(*batch)
    want = np.stack([ref(*[b[k] for b in batch]) for k in range(3)])
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-14)
    jitted = sl.jit(fn)
    for k in range(2):  # the second call replays the staged program on new values
        xs = [b[k] for b in batch]
        np.testing.assert_allclose(jitted(*xs), ref(*xs), rtol=1e-13, atol=1e-14)


# -- sinc: derivatives of every order, exact at 0 -------------------------------------------------
def test_sinc_derivatives_match_sympy_to_order_6():
    x = sp.Symbol("x")
    expr = sp.sin(sp.pi * x) / (sp.pi * x)
    for x0 in (0.0, 1e-6, 0.2, 0.7, -2.4):
        for n in range(7):
            d = sp.diff(expr, x, n)
            want = float(sp.limit(d, x, 0)) if x0 == 0 else float(d.evalf(30, subs={x: sp.Rational(x0)}))  # adaptive precision
            got = float(sl.derivative(snp.sinc, order=n)(x0))
            assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9 * math.pi**n), (x0, n, got, want)


def test_sinc_at_zero_agrees_with_jax():
    jax = pytest.importorskip("jax")
    f, g = jax.numpy.sinc, snp.sinc
    for _ in range(2):  # JAX computes in float32 here (its default)
        f, g = jax.grad(f), sl.grad(g)
        assert math.isclose(float(g(0.0)), float(f(0.0)), rel_tol=1e-6, abs_tol=1e-6)


# -- conventions at singular points, against the peers ---------------------------------------------
def test_fmax_fmin_ties_and_nan_follow_autograd():
    anp = pytest.importorskip("autograd.numpy")
    import autograd

    x = np.array([1.0, 2.0, np.nan, 3.0, np.nan])
    y = np.array([1.0, 0.5, 4.0, np.nan, np.nan])
    for ours, theirs in ((snp.fmax, anp.fmax), (snp.fmin, anp.fmin)):
        for arg in (0, 1):
            got = sl.grad(lambda a, b: snp.sum(ours(a, b)), argnums=arg)(x, y)
            want = autograd.grad(lambda a, b: anp.sum(theirs(a, b)), arg)(x, y)
            np.testing.assert_array_equal(got[:4], want[:4])  # both NaN: autograd's own answer is NaN-driven
        np.testing.assert_array_equal(ours(x, y), theirs(x, y))


def test_nan_to_num_derivative_is_zero_where_replaced_as_autograd():
    anp = pytest.importorskip("autograd.numpy")
    import autograd

    x = np.array([np.nan, 1.5, np.inf, -np.inf, -2.0])
    w = np.arange(1.0, 6.0)
    with np.errstate(all="ignore"):  # the forward sums overflow; the gradients do not
        got = sl.grad(lambda a: snp.sum(w * snp.nan_to_num(a)))(x)
        want = autograd.grad(lambda a: anp.sum(w * anp.nan_to_num(a)))(x)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(snp.nan_to_num(x, nan=-1.0, neginf=-7.0), np.nan_to_num(x, nan=-1.0, neginf=-7.0))


def test_select_branch_not_taken_leaks_no_nan():
    with np.errstate(invalid="ignore", divide="ignore"):
        g = sl.grad(lambda x: snp.sum(snp.select([x > 0], [snp.sqrt(x)], default=-x)))(np.array([-4.0, 4.0]))
    np.testing.assert_array_equal(g, [-1.0, 0.25])


def test_partition_gradient_matches_autograd():
    anp = pytest.importorskip("autograd.numpy")
    import autograd

    x = RNG.normal(size=7)
    w = RNG.normal(size=7)
    got = sl.grad(lambda a: snp.sum(w * snp.partition(a, 3)))(x)
    want = autograd.grad(lambda a: anp.sum(w * anp.partition(a, 3)))(x)
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_bincount_weights_differentiable_and_counts_plain():
    idx = np.array([0, 3, 3, 1])
    w = RNG.normal(size=4)
    np.testing.assert_allclose(snp.bincount(idx, w, minlength=6), np.bincount(idx, w, minlength=6))
    check_derivatives(lambda v: snp.bincount(idx, v, minlength=6), w)
    counts = sl.grad(lambda v: snp.sum(v) * snp.bincount(idx)[3])(w)
    np.testing.assert_allclose(counts, np.full(4, 2.0))


# -- non-differentiable helpers through the primal ------------------------------------------------
HELPERS = {
    "allclose": (lambda x: snp.allclose(x, x + 1e-9), lambda x: np.allclose(x, x + 1e-9)),
    "isclose": (lambda x: snp.isclose(x, 0.5, atol=0.3), lambda x: np.isclose(x, 0.5, atol=0.3)),
    "array_equal": (lambda x: snp.array_equal(x, x), lambda x: np.array_equal(x, x)),
    "array_equiv": (lambda x: snp.array_equiv(x, x[:1]), lambda x: np.array_equiv(x, x[:1])),
    "searchsorted": (lambda x: snp.searchsorted(np.linspace(-1, 1, 5), x, side="right"), lambda x: np.searchsorted(np.linspace(-1, 1, 5), x, side="right")),
    "argpartition": (lambda x: snp.argpartition(x, 2), lambda x: np.argpartition(x, 2)),
    "unique": (lambda x: snp.unique(snp.round(x)), lambda x: np.unique(np.round(x))),
    "count_nonzero": (lambda x: snp.count_nonzero(x > 0), lambda x: np.count_nonzero(x > 0)),
    "flatnonzero": (lambda x: snp.flatnonzero(x > 0), lambda x: np.flatnonzero(x > 0)),
    "argwhere": (lambda x: snp.argwhere(x > 0), lambda x: np.argwhere(x > 0)),
    "nonzero": (lambda x: snp.nonzero(x > 0)[0], lambda x: np.nonzero(x > 0)[0]),
    "isposinf": (lambda x: snp.isposinf(x / 0.0), lambda x: np.isposinf(x / 0.0)),
    "isneginf": (lambda x: snp.isneginf(x / 0.0), lambda x: np.isneginf(x / 0.0)),
    "isreal": (snp.isreal, np.isreal),
    "iscomplex": (snp.iscomplex, np.iscomplex),
    "iscomplexobj": (snp.iscomplexobj, np.iscomplexobj),
    "isrealobj": (snp.isrealobj, np.isrealobj),
    "result_type": (lambda x: snp.result_type(x, np.float32), lambda x: np.result_type(x, np.float32)),
    "fix": (snp.fix, np.fix),
    "nextafter": (lambda x: snp.nextafter(x, 0.0), lambda x: np.nextafter(x, 0.0)),
    "histogram2d": (lambda x: snp.histogram2d(x, -x, bins=2)[0], lambda x: np.histogram2d(x, -x, bins=2)[0]),
    "unpackbits": (
        lambda x: snp.unpackbits(snp.packbits(x > 0)),
        lambda x: np.unpackbits(np.packbits(x > 0)),
    ),
    "einsum_path": (
        lambda x: str(snp.einsum_path("i,i,i->", x, x, x)[0]),
        lambda x: str(np.einsum_path("i,i,i->", x, x, x)[0]),
    ),
    "spacing": (snp.spacing, np.spacing),
    "digitize": (lambda x: snp.digitize(x, np.array([-1.0, 0.0, 1.0])), lambda x: np.digitize(x, np.array([-1.0, 0.0, 1.0]))),
    "isin": (lambda x: snp.isin(x, [0.4, 0.0]), lambda x: np.isin(x, [0.4, 0.0])),
    "lexsort": (lambda x: snp.lexsort((x, -x)), lambda x: np.lexsort((x, -x))),
    "union1d": (lambda x: snp.union1d(x, x[:2] + 1), lambda x: np.union1d(x, x[:2] + 1)),
    "histogram": (lambda x: snp.histogram(x, bins=3)[0], lambda x: np.histogram(x, bins=3)[0]),
    "unravel_index": (
        lambda x: snp.unravel_index(snp.argsort(x), (5, 1))[0],
        lambda x: np.unravel_index(np.argsort(x), (5, 1))[0],
    ),
    "bitwise_and": (lambda x: snp.bitwise_and(np.int64(x[3] * 10), 7), lambda x: np.bitwise_and(np.int64(x[3] * 10), 7)),
    "tril_indices_from": (lambda x: snp.tril_indices_from(snp.outer(x, x))[1], lambda x: np.tril_indices_from(np.outer(x, x))[1]),
    "int": (lambda x: int(x[0] * 10), lambda x: int(x[0] * 10)),
    "np.int64": (lambda x: np.int64(x[1] * 10), lambda x: np.int64(x[1] * 10)),
}


@pytest.mark.parametrize("name", sorted(HELPERS))
def test_helper_answers_from_the_value_inside_grad_and_jvp(name):
    ours, ref = HELPERS[name]
    x = np.array([-1.3, 0.4, 0.0, 2.6, 0.4])
    seen = []

    def f(v):
        seen.append(ours(v))  # a plain answer inside the transform
        return snp.sum(v**2)

    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_allclose(sl.grad(f)(x), 2 * x)
        sl.jvp(f, (x,), (np.ones(5),))
        want = ref(x)
    for got in seen:
        assert not isinstance(got, Tracer)
        np.testing.assert_array_equal(got, want)


def test_elementwise_helpers_under_vmap_and_jit():
    xs = RNG.normal(size=(3, 4))
    np.testing.assert_array_equal(sl.vmap(lambda v: snp.isclose(v, 0.0, atol=0.5))(xs), np.isclose(xs, 0.0, atol=0.5))
    grid = np.linspace(-1, 1, 5)
    np.testing.assert_array_equal(sl.vmap(lambda v: snp.searchsorted(grid, v))(xs), np.searchsorted(grid, xs))
    jitted = sl.jit(lambda v: snp.where(snp.isclose(v, 0.0, atol=0.5), 0.0, v))
    for row in xs:  # replayed on new values
        np.testing.assert_array_equal(jitted(row), np.where(np.isclose(row, 0.0, atol=0.5), 0.0, row))


def test_integer_conversion_refused_where_there_is_no_single_value():
    with pytest.raises(TypeError, match="int"):
        sl.vmap(lambda v: v * int(v))(np.ones(3))
    with pytest.raises(Exception, match="int"):
        sl.jit(lambda v: v * int(v))(np.ones(()))
    with pytest.raises(TypeError, match="derivative"):
        sl.grad(lambda v: float(v) * v)(1.0)  # float() would drop a derivative: still refused


def test_traced_option_is_a_clear_error():
    with pytest.raises(TypeError, match="rtol must be a plain value"):
        sl.grad(lambda v: snp.sum(v) * snp.allclose(v, v, rtol=v[0]))(np.ones(2))


def test_bad_input_messages():
    with pytest.raises(ValueError, match="one choice per condition"):
        snp.select([np.ones(2) > 0], [np.ones(2), np.ones(2)])
    with pytest.raises(ValueError, match="edge_order=2 needs at least 3"):
        snp.gradient(np.ones(2), edge_order=2)
    with pytest.raises(ValueError, match="2 or 3 components"):
        snp.cross(np.ones(4), np.ones(3))
    with pytest.raises(ValueError, match="at least 2 dimension"):
        snp.vsplit(np.ones(4), 2)
    with pytest.raises(TypeError, match="list of axis labels"):
        snp.einsum(np.ones(2), np.ones(2))


def test_nan_reductions_of_an_all_nan_slice_are_nan_as_numpy():
    x = np.array([[np.nan, np.nan], [1.0, np.nan]])
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):
        for name in ("nanmax", "nanmin", "nanmean"):
            np.testing.assert_array_equal(getattr(snp, name)(x, axis=1), getattr(np, name)(x, axis=1))
    np.testing.assert_array_equal(sl.grad(lambda a: snp.nansum(snp.nanmax(a, axis=1)[1:]))(x), [[0, 0], [1, 0]])
    with pytest.raises(ValueError, match="all-NaN"):
        snp.nanargmax(x, axis=1)


def test_quantile_derivative_in_q_and_bad_q():
    a = np.array([4.0, 1.0, 3.0, 9.0])  # sorted: 1 3 4 9; q = 0.5 sits between 3 and 4
    assert float(sl.grad(lambda q: snp.quantile(a, q))(0.5)) == pytest.approx((4.0 - 3.0) * 3)
    with pytest.raises(ValueError, match=r"q must lie in \[0, 1\]"):
        snp.quantile(a, 50.0)
    with pytest.raises(ValueError, match="method must be one of"):
        snp.quantile(a, 0.5, method="hazen")


def test_positions_read_from_traced_values_refuse_jit():
    x = np.array([0, 2, 2])
    with pytest.raises(Exception, match="static argument"):
        sl.jit(lambda i, w: snp.bincount(i, w))(x, np.ones(3))
    with pytest.raises(Exception, match="static argument"):
        sl.jit(lambda v: snp.insert(v, snp.argsort(v)[:1], 0.0))(np.array([2.0, 1.0]))
    # the positions as a static argument: replayed correctly
    f = sl.jit(lambda i, w: snp.bincount(i, w), static_argnums=0)
    np.testing.assert_allclose(f((0, 2, 2), np.ones(3)), [1.0, 0.0, 2.0])


def test_nonzero_and_one_argument_where_are_replayed_by_jit():
    for fn in (lambda v: snp.nonzero(v > 0)[0], lambda v: snp.where(v > 0)[0]):
        jitted = sl.jit(lambda v: fn(v) * 1.0 + 0.0 * snp.sum(v))
        for x in (np.array([1.0, -1.0, 2.0]), np.array([-1.0, 3.0, -2.0])):  # the second call replays
            np.testing.assert_array_equal(jitted(x), np.nonzero(x > 0)[0])


def test_roots_strip_zeros_as_numpy_and_move_as_the_closed_form():
    p = np.array([0.0, 0.0, 2.0, -1.0, 3.0, 0.0, 0.0])
    np.testing.assert_allclose(snp.roots(p), np.roots(p), rtol=1e-14, atol=1e-15)
    assert snp.roots(np.zeros(3)).shape == np.roots(np.zeros(3)).shape == (0,)
    # a simple root r of p moves by dr/dp_k = -r**(n-k) / p'(r) (implicit function theorem)
    r = np.roots(_P)
    k = int(np.argmin(np.abs(r - 1.5)))
    want = -(1.5 ** np.arange(4, -1, -1)) / np.polyval(np.polyder(_P), 1.5)
    np.testing.assert_allclose(sl.grad(lambda p: snp.real(snp.roots(p)[k]))(_P), want, rtol=1e-10)
    with pytest.raises(Exception, match="static argument"):
        sl.jit(snp.roots)(_P)
    with pytest.raises(ValueError, match="1-d array"):
        snp.roots(np.ones((2, 2)))


def test_roots_gradient_matches_jax():
    jax = pytest.importorskip("jax")
    w = np.array([0.3, -1.2, 0.7, 2.0])

    def loss(xp, p):
        r = xp.roots(p, strip_zeros=False)
        return xp.sum(w * xp.real(r) + xp.imag(r))

    got = sl.grad(lambda p: loss(snp, p))(_P)
    with jax.enable_x64(True):
        want = jax.grad(lambda p: loss(jax.numpy, p))(_P)
    np.testing.assert_allclose(got, np.asarray(want), rtol=1e-9)


def test_real_if_close_values_dtype_and_gradient_as_numpy_and_autograd():
    for z, tol in ((np.array([1.0 + 1e-14j, -2.0]), 100), (np.array([1.0 + 1e-3j]), 100), (np.array([1.0 + 1e-3j]), 0.01)):
        got, want = snp.real_if_close(z, tol=tol), np.real_if_close(z, tol=tol)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    anp = pytest.importorskip("autograd.numpy")
    import autograd

    x, w = np.array([0.4, -1.3]), np.array([2.0, 5.0])
    got = sl.grad(lambda a: snp.sum(w * snp.real_if_close(a + 0j)))(x)
    want = autograd.grad(lambda a: anp.sum(w * anp.real_if_close(a + 0j)))(x)
    np.testing.assert_allclose(got, want, rtol=1e-15)


def test_sort_complex_breaks_ties_by_imaginary_part_and_gradient_follows():
    re, im = np.array([1.0, 0.2, 1.0, 1.0]), np.array([0.5, 9.0, -3.0, 0.1])
    z = re + 1j * im
    np.testing.assert_array_equal(snp.sort_complex(z), np.sort_complex(z))
    # the output's last entry is input 0 (1 + 0.5j): its derivative only
    g = sl.grad(lambda a: snp.imag(snp.sort_complex(re + 1j * a)[-1]))(im)
    np.testing.assert_array_equal(g, [1.0, 0.0, 0.0, 0.0])
    for dtype in (np.float32, np.int8, np.uint16, np.int64, np.complex64, np.longdouble):
        assert snp.sort_complex(np.array([3, 1], dtype=dtype)).dtype == np.sort_complex(np.array([3, 1], dtype=dtype)).dtype


def test_i0_derivative_is_scipys_i1_and_complex_is_refused():
    special = pytest.importorskip("scipy.special")
    x = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(sl.vmap(sl.grad(snp.i0))(x), special.i1(x), rtol=1e-13, atol=1e-15)
    with pytest.raises(TypeError, match="complex arguments"):
        snp.i0(np.array([1j]))


def test_polyfit_full_output_rank_warning_and_bad_input():
    y = RNG.normal(size=7)
    got, want = snp.polyfit(_FIT_X, y, 2, full=True), np.polyfit(_FIT_X, y, 2, full=True)
    for g, v in zip(got, want):
        np.testing.assert_allclose(g, v, rtol=1e-12)
    for fit in (np.polyfit, snp.polyfit):  # fewer points than coefficients: rank 3 < 5
        with pytest.warns(np.exceptions.RankWarning):
            fit(np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 0.0]), 4)
    with pytest.raises(TypeError, match=r"y must have shape \(3,\)"):
        snp.polyfit(np.ones(3), np.ones(4), 1)
    with pytest.raises(TypeError, match="non-empty 1-d array"):
        snp.polyfit(np.ones((3, 1)), np.ones(3), 1)
    with pytest.raises(ValueError, match="deg >= 0"):
        snp.polyfit(np.ones(3), np.ones(3), -1)
    with pytest.raises(NotImplementedError, match="cov=True"):
        snp.polyfit(np.ones(3), np.ones(3), 1, cov=True)
