"""Coverage audit: every NumPy function autograd differentiates exists in slopes.numpy.

The reference list is autograd's own registry: the NumPy functions it wraps with a
derivative rule (``autograd.numpy.numpy_vjps`` / ``numpy_jvps``), the
non-differentiable helpers it lets through (``nograd_functions``) and the list-taking
functions it writes in Python (``concatenate``, ``stack``, ``select``, ``r_``...).
A snapshot of that list is kept here so the audit runs without autograd; when
autograd is installed, the snapshot is checked against it.
"""

from __future__ import annotations

import numpy as np
import pytest

import slopes.numpy as snp

# autograd 1.8's differentiable NumPy names (top-level namespace; linalg and fft below)
DIFFERENTIABLE = """
abs absolute acos acosh add amax amin angle arccos arccosh arcsin arcsinh arctan arctan2
arctanh array_split asin asinh astype atan atan2 atanh atleast_1d atleast_2d atleast_3d
broadcast_to clip conj conjugate cos cosh cross cumsum deg2rad degrees diag diagonal diff
divide dot dsplit einsum exp exp2 expand_dims expm1 fabs fliplr flipud fmax fmin full
gradient hsplit hypot imag inner kron linspace log log10 log1p log2 logaddexp logaddexp2
matmul max maximum mean min minimum mod moveaxis multiply nan_to_num negative outer pad
partition permute_dims pow power prod rad2deg radians ravel real real_if_close reciprocal
remainder repeat reshape roll rollaxis rot90 sin sinc sinh sort split sqrt square squeeze
std subtract sum swapaxes tan tanh tensordot tile trace transpose tril triu true_divide
var vsplit where
""".split()

# the helpers autograd lets through without a derivative
NON_DIFFERENTIABLE = """
all allclose any argmax argmin argpartition argsort argwhere around array_equal array_equiv
ceil count_nonzero empty_like equal fix flatnonzero floor floor_divide full_like greater
greater_equal isclose iscomplex iscomplexobj isfinite isinf isnan isneginf isposinf isreal
isscalar less less_equal logical_and logical_not logical_or logical_xor ndim nonzero
not_equal ones_like result_type rint round searchsorted shape sign size trunc zeros_like
""".split()

# written in Python on top of the primitives
COMPOSITE = "array concatenate stack vstack row_stack hstack column_stack append select r_ c_".split()

# Owned by the complex-number work, to be removed from here when it lands.
COMPLEX_OWNED = {"angle", "conj", "conjugate", "imag", "real", "real_if_close"}

# autograd's linalg and fft functions, owned by the linalg and fft work (not audited here).
AUDITED = sorted(set(DIFFERENTIABLE + NON_DIFFERENTIABLE + COMPOSITE) - COMPLEX_OWNED)

# jax.numpy names an ML user reaches for beyond autograd's list, offered too
BEYOND_AUTOGRAD = """
apply_along_axis apply_over_axes average bincount block choose compress concat convolve copysign corrcoef
correlate cov cumprod cumulative_prod cumulative_sum delete diagflat digitize divmod dstack
ediff1d extract fill_diagonal float_power fmod frexp geomspace heaviside histogram insert
interp isin ldexp logspace matrix_transpose matvec median modf nanargmax nanargmin nancumprod
nancumsum nanmax nanmean nanmedian nanmin nanpercentile nanprod nanquantile nanstd nansum
nanvar percentile piecewise place poly polyadd polyder polyint polymul polysub polyval ptp put
put_along_axis quantile resize take take_along_axis trapezoid trim_zeros union1d unique
unique_all unique_counts unique_inverse unique_values unravel_index unstack unwrap vander
vecdot vecmat vectorize fromfunction einsum_path histogram2d histogramdd packbits unpackbits
""".split()


def _offered(name):
    try:
        getattr(snp, name)
    except AttributeError:
        return False
    return True


@pytest.mark.parametrize("name", AUDITED)
def test_autograd_name_is_offered(name):
    assert _offered(name), f"slopes.numpy lacks numpy.{name}, which autograd differentiates"


@pytest.mark.parametrize("name", BEYOND_AUTOGRAD)
def test_jax_numpy_name_is_offered(name):
    assert _offered(name), f"slopes.numpy lacks numpy.{name}"


def test_beyond_autograd_names_are_jax_numpys():
    jnp = pytest.importorskip("jax.numpy")
    assert [n for n in BEYOND_AUTOGRAD if not hasattr(jnp, n)] == []


def test_every_offered_name_is_numpys():
    # the audited names are NumPy's own, with NumPy's spelling
    assert [n for n in AUDITED + BEYOND_AUTOGRAD if not hasattr(np, n)] == []


def _numpy_names(module, functions):
    """Names in autograd.numpy whose object is one of ``functions`` and that NumPy also has."""
    ids = {id(f) for f in functions}
    return {n for n in dir(module) if not n.startswith("_") and id(getattr(module, n)) in ids and hasattr(np, n)}


def test_snapshot_matches_installed_autograd():
    anp = pytest.importorskip("autograd.numpy")
    from autograd.core import primitive_jvps, primitive_vjps
    from autograd.numpy.numpy_vjps import nograd_functions

    # a primitive wraps NumPy's function as .fun: map back to NumPy's names
    wrapped = {id(getattr(f, "fun", None)) for f in list(primitive_vjps) + list(primitive_jvps)}
    differentiable = {n for n in dir(np) if not n.startswith("_") and id(getattr(np, n)) in wrapped}
    assert differentiable == set(DIFFERENTIABLE)
    assert _numpy_names(anp, nograd_functions) == set(NON_DIFFERENTIABLE)
    assert all(hasattr(anp, n) for n in COMPOSITE)
