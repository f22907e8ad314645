"""The properties every differentiable linear-algebra function is checked for.

A case is ``(slopes function, NumPy reference, rng -> tuple of arguments)``. Each
property is one function ``prop(fn, ref, make_args)`` so that a test module
parametrizes over cases and properties at once:

* ``values``: equal to NumPy's;
* ``derivatives``: first and second order, forward and reverse, against central
  finite differences (``checks.check_derivatives``);
* ``jacobians``: ``jacfwd == jacrev`` (every batching rule of the rules runs);
* ``vmap``: equal to a Python loop over examples;
* ``taylor``: the Taylor-mode derivatives of order 1 to 3 along a random line equal
  nested first-order ``jvp``'s, and order 2 equals finite differences of order 1;
* ``jit``: the staged function and its staged gradient replay correctly on new inputs.
"""

from __future__ import annotations

import numpy as np
from checks import central_difference, check_derivatives

import slopes as sl
import slopes.numpy as snp


def args_for(make_args, seed):
    args = make_args(np.random.default_rng(seed))
    return args if isinstance(args, tuple) else (args,)


def values(fn, ref, make_args):
    args = args_for(make_args, 0)
    np.testing.assert_allclose(fn(*args), ref(*args), rtol=1e-10, atol=1e-12)


def derivatives(fn, ref, make_args):
    check_derivatives(fn, *args_for(make_args, 0), order=2)


def jacobians(fn, ref, make_args):
    args = args_for(make_args, 0)
    argnums = tuple(range(len(args)))
    fwd = sl.jacfwd(fn, argnums=argnums)(*args)
    rev = sl.jacrev(fn, argnums=argnums)(*args)
    for f, r in zip(fwd, rev):
        np.testing.assert_allclose(f, r, rtol=1e-9, atol=1e-11)


def vmap(fn, ref, make_args):
    examples = [args_for(make_args, seed) for seed in range(3)]
    stacked = tuple(np.stack(parts) for parts in zip(*examples))
    expected = np.stack([np.asarray(fn(*args)) for args in examples])
    np.testing.assert_allclose(sl.vmap(fn)(*stacked), expected, rtol=1e-10, atol=1e-12)


def _on_a_line(fn, args, seed=1):
    """``t -> <w, fn(args + t * directions)>``, a scalar function of one variable."""
    rng = np.random.default_rng(seed)
    dirs = [rng.standard_normal(np.shape(a)) for a in args]
    w = rng.standard_normal(np.shape(fn(*args)))
    return lambda t: snp.sum(w * fn(*[a + t * d for a, d in zip(args, dirs)]))


def _nested_jvp(g, n):
    for _ in range(n):
        g = (lambda h: lambda t: sl.jvp(h, (t,), (np.ones_like(t),))[1])(g)
    return g


def taylor(fn, ref, make_args):
    g = _on_a_line(fn, args_for(make_args, 0))
    t0, eps = np.float64(0.0), 1e-5
    for n in (1, 2, 3):
        want = float(_nested_jvp(g, n)(t0))
        np.testing.assert_allclose(float(sl.derivative(g, order=n)(t0)), want, rtol=1e-8, atol=1e-9)
    d1 = sl.derivative(g, order=1)
    fd = (float(d1(t0 + eps)) - float(d1(t0 - eps))) / (2 * eps)
    np.testing.assert_allclose(float(sl.derivative(g, order=2)(t0)), fd, rtol=1e-5, atol=1e-6)


def jit(fn, ref, make_args):
    staged = sl.jit(fn)
    w = np.random.default_rng(2).standard_normal(np.shape(fn(*args_for(make_args, 0))))
    argnums = tuple(range(len(args_for(make_args, 0))))
    grad = sl.grad(lambda *a: snp.sum(w * fn(*a)), argnums=argnums)
    staged_grad = sl.jit(grad)
    for seed in (0, 1):  # the second call replays the recorded program on new values
        args = args_for(make_args, seed)
        np.testing.assert_allclose(staged(*args), fn(*args), rtol=1e-12, atol=1e-12)
        for s, e in zip(staged_grad(*args), grad(*args)):
            np.testing.assert_allclose(s, e, rtol=1e-10, atol=1e-12)


def assert_tangent_matches(f, x, direction, rtol=1e-6, atol=1e-8, eps=1e-6):
    """``f(xp, x)`` written once: slopes' ``jvp`` along ``direction`` equals NumPy's central
    difference. Returns the tangent."""
    _, tangent = sl.jvp(lambda y: f(snp, y), (x,), (direction,))
    fd = central_difference(lambda y: f(np, y), [x], [direction], eps)
    np.testing.assert_allclose(tangent, fd, rtol=rtol, atol=atol)
    return tangent


PROPERTIES = {p.__name__: p for p in (values, derivatives, jacobians, vmap, taylor, jit)}
