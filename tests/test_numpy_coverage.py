"""Coverage audit: every function autograd differentiates exists in slopes, and so do the
``jax.scipy.special`` / ``jax.scipy.stats`` names issue 16 lists.

The reference lists are autograd's own registry: the NumPy functions it wraps with a
derivative rule (``autograd.numpy.numpy_vjps`` / ``numpy_jvps``), the
non-differentiable helpers it lets through (``nograd_functions``) and the list-taking
functions it writes in Python (``concatenate``, ``stack``, ``select``, ``r_``...); the
same for its ``numpy.linalg``, ``numpy.fft`` and ``scipy`` modules. Snapshots of those
lists are kept here so the audit runs without autograd or JAX; when they are
installed, the snapshots are checked against them.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import numpy as np
import pytest
import scipy

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

AUDITED = sorted(set(DIFFERENTIABLE + NON_DIFFERENTIABLE + COMPOSITE))

# autograd 1.8's differentiable numpy.linalg and numpy.fft names
LINALG = "cholesky det eig eigh inv norm pinv slogdet solve svd".split()
FFT = "fft fft2 fftn fftshift ifft ifft2 ifftn ifftshift irfft irfft2 irfftn rfft rfft2 rfftn".split()

# autograd 1.8's differentiable scipy names, module by module (slopes.integrate is scipy.integrate's)
AUTOGRAD_SCIPY = {
    "special": """
        beta betainc betaln digamma erf erfc erfcinv erfinv expit gamma gammainc gammaincc
        gammaln gammasgn i0 i1 iv ive j0 j1 jn logit logsumexp multigammaln polygamma psi
        rgamma y0 y1 yn""".split(),
    "linalg": "solve_banded solve_sylvester solve_triangular sqrtm".split(),
    "signal": ["convolve"],
    "integrate": ["odeint"],
}
AUTOGRAD_STATS = {
    "beta": "cdf logpdf pdf".split(),
    "chi2": "cdf logpdf pdf".split(),
    "dirichlet": "logpdf pdf".split(),
    "gamma": "cdf logpdf pdf".split(),
    "multivariate_normal": "entropy logpdf pdf".split(),
    "norm": "cdf logcdf logpdf logsf pdf sf".split(),
    "poisson": "cdf logpmf pmf".split(),
    "t": "cdf logcdf logpdf pdf".split(),
}

# issue 16's lists after jax.scipy's: special functions, and distributions with scipy's methods
ISSUE_SPECIAL = """
erf erfc erfinv erfcinv ndtr ndtri log_ndtr gamma gammaln digamma polygamma multigammaln
beta betaln gammainc gammaincc expit logit xlogy xlog1py entr logsumexp softmax log_softmax
i0 i0e i1 i1e j0 j1 y0 y1 zeta
""".split()
_CONTINUOUS = "logpdf pdf logcdf cdf sf logsf".split()
_DISCRETE = "logpmf pmf logcdf cdf sf logsf".split()
ISSUE_STATS = {
    **{d: _CONTINUOUS for d in "norm t cauchy laplace logistic expon gamma beta chi2 lognorm uniform".split()},
    **{d: ["logpdf", "pdf"] for d in ("multivariate_normal", "dirichlet")},
    **{d: _DISCRETE for d in "poisson bernoulli binom geom nbinom".split()},
}
# in the issue's lists but not in jax.scipy (0.10): scipy's names all the same
BEYOND_JAX = {"special": {"erfcinv", "j0", "j1", "y0", "y1"}, "stats": {"lognorm"}}

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
vecdot vecmat vectorize fromfunction einsum_path histogram2d histogramdd packbits unpackbits i0 sort_complex polyfit roots
""".split()


def _offered(name, module=snp):
    try:
        getattr(module, name)
    except AttributeError:
        return False
    return True


def _slopes_scipy(path):
    """slopes' object for a dotted name under scipy ("special.erf", "stats.norm.logpdf")."""
    module, *rest = path.split(".")
    obj = importlib.import_module("slopes.integrate" if module == "integrate" else f"slopes.scipy.{module}")
    for part in rest:
        if not _offered(part, obj):
            return None
        obj = getattr(obj, part)
    return obj


SCIPY_AUDITED = sorted(
    {f"{m}.{n}" for m, names in AUTOGRAD_SCIPY.items() for n in names}
    | {f"stats.{d}.{n}" for lists in (AUTOGRAD_STATS, ISSUE_STATS) for d, names in lists.items() for n in names}
    | {f"special.{n}" for n in ISSUE_SPECIAL}
)


@pytest.mark.parametrize("name", AUDITED)
def test_autograd_name_is_offered(name):
    assert _offered(name), f"slopes.numpy lacks numpy.{name}, which autograd differentiates"


@pytest.mark.parametrize("name", [f"linalg.{n}" for n in LINALG] + [f"fft.{n}" for n in FFT])
def test_autograd_linalg_and_fft_name_is_offered(name):
    module, fn = name.split(".")
    assert _offered(fn, getattr(snp, module)), f"slopes.numpy lacks numpy.{name}, which autograd differentiates"


@pytest.mark.parametrize("name", SCIPY_AUDITED)
def test_scipy_name_is_offered(name):
    assert _slopes_scipy(name) is not None, f"slopes lacks scipy.{name}"


def test_every_scipy_name_is_scipys():
    import scipy.integrate  # noqa: F401 (the submodules, loaded for getattr)
    import scipy.linalg  # noqa: F401
    import scipy.signal  # noqa: F401
    import scipy.special  # noqa: F401
    import scipy.stats  # noqa: F401

    missing = []
    for name in SCIPY_AUDITED:
        obj = scipy
        for part in name.split("."):
            if not hasattr(obj, part):
                missing.append(name)
                break
            obj = getattr(obj, part)
    assert missing == []


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

    # a primitive wraps NumPy's function as .fun: map back to NumPy's names, as NumPy itself
    # defines them (numexpr, once imported, adds np.expm1x, an alias of np.expm1)
    own = subprocess.run([sys.executable, "-c", "import numpy; print(' '.join(dir(numpy)))"],
                         capture_output=True, text=True, check=True).stdout.split()
    wrapped = {id(getattr(f, "fun", None)) for f in list(primitive_vjps) + list(primitive_jvps)}
    differentiable = {n for n in own if not n.startswith("_") and id(getattr(np, n, None)) in wrapped}
    assert differentiable == set(DIFFERENTIABLE)
    assert _numpy_names(anp, nograd_functions) == set(NON_DIFFERENTIABLE)
    assert all(hasattr(anp, n) for n in COMPOSITE)


def _registered(module, reference):
    """Names of ``module`` with a derivative rule in autograd (or written in Python there) that ``reference`` has too."""
    from autograd.core import primitive_jvps, primitive_vjps

    rules = set(primitive_vjps) | set(primitive_jvps)
    names = set()
    for n in dir(module):
        obj = getattr(module, n)
        written_there = getattr(obj, "__module__", None) == module.__name__ and callable(obj)
        if not n.startswith("_") and (obj in rules or written_there) and hasattr(reference, n):
            names.add(n)
    return names


def test_linalg_and_fft_snapshots_match_installed_autograd():
    pytest.importorskip("autograd")
    import autograd.numpy.fft as afft
    import autograd.numpy.linalg as alinalg

    assert _registered(alinalg, np.linalg) == set(LINALG)
    assert _registered(afft, np.fft) == set(FFT)


def test_scipy_snapshots_match_installed_autograd():
    pytest.importorskip("autograd")
    import scipy.integrate
    import scipy.linalg
    import scipy.signal
    import scipy.special
    import scipy.stats

    for name, names in AUTOGRAD_SCIPY.items():
        theirs = importlib.import_module(f"autograd.scipy.{name}")
        assert _registered(theirs, getattr(scipy, name)) == set(names), name
    stats = importlib.import_module("autograd.scipy.stats")
    found = {d: sorted(_registered(getattr(stats, d), getattr(scipy.stats, d))) for d in dir(stats) if not d.startswith("_")}
    assert found == {d: sorted(m) for d, m in AUTOGRAD_STATS.items()}


def test_issue_lists_are_jax_scipys():
    special = pytest.importorskip("jax.scipy.special")
    stats = pytest.importorskip("jax.scipy.stats")
    # JAX may gain names, never lose them; it has fewer methods for some families: scipy's are audited
    assert {n for n in ISSUE_SPECIAL if not hasattr(special, n)} <= BEYOND_JAX["special"]
    assert {d for d in ISSUE_STATS if not hasattr(stats, d)} <= BEYOND_JAX["stats"]
