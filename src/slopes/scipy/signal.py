"""``slopes.scipy.signal``: differentiable convolution and correlation, with SciPy's signatures.

One primitive, the full N-D convolution (:mod:`slopes.core.ops.convolve`),
serves every mode: ``valid`` and ``same`` are slices of it, and a correlation
is a convolution with the second input reversed. Both inputs are
differentiable (their derivatives are correlations), to any order, under
``vmap`` and ``jit`` too. Inputs are real; ``method`` chooses SciPy's
algorithm for the values (``'fft'`` rounds differently from ``'direct'``).
"""

from __future__ import annotations

from ..core.ops.convolve import flip_core
from ..numpy.convolution import _operand, convolve_mode

__all__ = ["convolve", "correlate", "fftconvolve"]


def convolve(in1, in2, mode="full", method="auto"):
    """Differentiable ``scipy.signal.convolve``: N-D convolution of two arrays of equal rank.

    Parameters
    ----------
    in1, in2 : array_like
        Arrays with the same number of dimensions, none of length 0.
    mode : {'full', 'valid', 'same'}
        ``full``: every overlap; ``valid``: only full overlaps (one input must
        be at least as large as the other in every dimension); ``same``: the
        size of ``in1``, centred on the full result.
    method : {'auto', 'direct', 'fft'}
        SciPy's algorithm for the values; derivatives use the same one.

    Returns
    -------
    ndarray, or a traced array inside a transform.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> from slopes.scipy.signal import convolve
    >>> convolve(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0]), mode="same")
    array([1., 3., 5.])
    >>> sl.grad(lambda k: snp.sum(convolve(np.array([1.0, 2.0, 3.0]), k)))(np.array([1.0, 1.0]))
    array([6., 6.])
    """
    return convolve_mode(in1, in2, mode, method, "convolve")


def correlate(in1, in2, mode="full", method="auto"):
    """Differentiable ``scipy.signal.correlate``: N-D cross-correlation of two arrays of equal rank.

    ``correlate(in1, in2) = convolve(in1, in2 reversed on every axis)``, the
    modes as in :func:`convolve`.

    Parameters
    ----------
    in1, in2 : array_like
        Real arrays with the same number of dimensions.
    mode : {'full', 'valid', 'same'}
    method : {'auto', 'direct', 'fft'}

    Returns
    -------
    ndarray, or a traced array inside a transform.

    Examples
    --------
    >>> from slopes.scipy.signal import correlate
    >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0]), mode="valid")
    array([2., 3.])
    """
    return convolve_mode(in1, flip_core(_operand(in2)), mode, method, "correlate")


def fftconvolve(in1, in2, mode="full", axes=None):
    """Differentiable ``scipy.signal.fftconvolve`` over all axes: :func:`convolve` with ``method='fft'``.

    Parameters
    ----------
    in1, in2 : array_like
        Arrays with the same number of dimensions.
    mode : {'full', 'valid', 'same'}
    axes : None
        Only ``None`` (every axis); to convolve along some axes, map the
        others with ``slopes.vmap``.

    Returns
    -------
    ndarray, or a traced array inside a transform.

    Examples
    --------
    >>> from slopes.scipy.signal import fftconvolve
    >>> fftconvolve(np.array([1.0, 2.0]), np.array([1.0, 1.0])).round(12)
    array([1., 3., 2.])
    """
    if axes is not None:
        raise ValueError(
            "fftconvolve(): only axes=None (all axes) is supported; map the other axes with slopes.vmap"
        )
    return convolve_mode(in1, in2, mode, "fft", "fftconvolve")
