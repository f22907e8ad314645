"""The checks every new primitive passes, for test modules built on a table of cases.

A case is ``(slopes function, reference function, rng -> tuple of arguments)``.
Besides :func:`checks.check_derivatives` (first and second derivatives against
finite differences), a case must agree with its reference, give
``jacfwd == jacrev``, ``jit`` equal to the plain call, ``vmap`` equal to a loop,
and Taylor mode equal to nested ``jvp``.
"""

from __future__ import annotations

import math

import numpy as np

import slopes as sl
from slopes.core.taylor import taylor_call


def arguments(case, seed=0):
    return case[2](np.random.default_rng(seed))


def assert_values(case, rtol=1e-12, atol=1e-12):
    fn, ref, _ = case
    args = arguments(case)
    np.testing.assert_allclose(fn(*args), ref(*args), rtol=rtol, atol=atol)


def assert_jacobians_and_jit(case):
    fn, args = case[0], arguments(case)
    argnums = tuple(range(len(args)))
    for f, r in zip(sl.jacfwd(fn, argnums=argnums)(*args), sl.jacrev(fn, argnums=argnums)(*args)):
        np.testing.assert_allclose(f, r, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sl.jit(fn)(*args), fn(*args), rtol=1e-13, atol=1e-14)


def assert_vmap_equals_loop(case, size=3):
    fn = case[0]
    per_example = [arguments(case, seed) for seed in range(size)]
    stacked = tuple(np.stack(parts) for parts in zip(*per_example))
    expected = np.stack([np.asarray(fn(*args)) for args in per_example])
    np.testing.assert_allclose(sl.vmap(fn)(*stacked), expected, rtol=1e-10, atol=1e-12)


def assert_taylor_equals_nested_jvp(case):
    """Coefficients 1 and 2 of ``fn(x + t v)`` equal the first jvp and half the second."""
    fn, args = case[0], arguments(case)
    rng = np.random.default_rng(1)
    vs = tuple(rng.standard_normal(np.shape(a)) for a in args)
    (_,), (ser,) = taylor_call(lambda *xs: [fn(*xs)], list(args), [[v, None] for v in vs], 2)

    def first(*xs):
        return sl.jvp(fn, xs, vs)[1]

    second = sl.jvp(first, tuple(args), vs)[1]
    np.testing.assert_allclose(ser[0], first(*args), rtol=1e-10, atol=1e-12)
    second_coefficient = 0.0 if ser[1] is None else ser[1]  # None: identically zero (bilinear in one arg)
    np.testing.assert_allclose(second_coefficient * math.factorial(2), second, rtol=1e-9, atol=1e-11)
