"""Shared derivative checks for the test suite: AD against central finite differences.

``check_derivatives(f, *args)`` verifies, for a function of float arrays:
- forward mode: ``jvp`` along random directions equals the central difference quotient;
- reverse mode: ``vjp`` satisfies ``<w, J v> = <J^T w, v>`` against the same quotient;
- second order (``order=2``): forward-over-reverse and reverse-over-reverse
  Hessian-vector products of ``<w, f(x)>`` agree, and match finite differences
  of the gradient.
The finite differences are computed here with plain NumPy, independently of slopes.
"""

from __future__ import annotations

import numpy as np

import slopes as sl


def central_difference(f, args, directions, eps=1e-6):
    """(f(x + eps v) - f(x - eps v)) / (2 eps), all arguments moved together."""
    plus = f(*[a + eps * d for a, d in zip(args, directions)])
    minus = f(*[a - eps * d for a, d in zip(args, directions)])
    return (np.asarray(plus, dtype=float) - np.asarray(minus, dtype=float)) / (2 * eps)


def _vdot(a, b):
    return float(np.sum(np.asarray(a, dtype=float) * np.asarray(b, dtype=float)))


def check_derivatives(f, *args, order=2, rtol=1e-5, atol=1e-7, seed=0, eps=1e-6):
    """Assert that slopes' first (and second) derivatives of ``f`` match finite differences."""
    rng = np.random.default_rng(seed)
    args = [np.asarray(a, dtype=float) for a in args]
    vs = [rng.standard_normal(np.shape(a)) for a in args]
    out = np.asarray(f(*args))
    w = rng.standard_normal(out.shape)

    # forward mode against finite differences
    _, jv = sl.jvp(f, tuple(args), tuple(vs))
    fd = central_difference(f, args, vs, eps)
    np.testing.assert_allclose(jv, fd, rtol=rtol, atol=atol, err_msg="jvp vs finite differences")

    # reverse mode: <w, J v> through vjp equals it through finite differences
    _, vjp_fn = sl.vjp(f, *args)
    cts = vjp_fn(w)
    lhs = sum(_vdot(c, v) for c, v in zip(cts, vs))
    np.testing.assert_allclose(lhs, _vdot(w, fd), rtol=rtol, atol=atol, err_msg="vjp vs finite differences")
    np.testing.assert_allclose(lhs, _vdot(w, jv), rtol=1e-9, atol=1e-12, err_msg="<w, Jv> via jvp vs vjp")

    if order < 2:
        return

    def scalar(*xs):
        return sl.numpy.sum(f(*xs) * w)

    argnums = tuple(range(len(args)))
    grad_fn = sl.grad(scalar, argnums=argnums)
    # forward over reverse
    _, hv_fr = sl.jvp(grad_fn, tuple(args), tuple(vs))
    # reverse over reverse: d/dx <grad(x), v>
    hv_rr = sl.grad(lambda *xs: sum(sl.numpy.sum(g * v) for g, v in zip(grad_fn(*xs), vs)), argnums=argnums)(*args)
    # finite differences of the gradient
    gp = grad_fn(*[a + eps * v for a, v in zip(args, vs)])
    gm = grad_fn(*[a - eps * v for a, v in zip(args, vs)])
    for a, b, p, m in zip(hv_fr, hv_rr, gp, gm):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9, err_msg="fwd-over-rev vs rev-over-rev")
        np.testing.assert_allclose(a, (p - m) / (2 * eps), rtol=rtol * 10, atol=atol * 10, err_msg="Hv vs finite differences")


def lowered_names(jitted, *args):
    """The primitive names of ``jitted``'s program for ``args`` as it is compiled (lowered:
    fused kernels, row loops, compiled row reductions)."""
    from slopes.core.tiling import lower

    return [e.prim.name for e in lower(jitted.trace(*args)).equations]
