"""Creation functions on traced values: ``linspace``, ``meshgrid``, ``full`` differentiable in
their traced inputs (against closed forms and central finite differences), and an audit of every
public ``slopes.numpy`` name for the self-dispatch loop (RecursionError) on traced arguments."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from checks import central_difference, check_derivatives

import slopes as sl
import slopes.numpy as snp


# -- linspace --------------------------------------------------------------------------------
def test_linspace_gradient_in_start_is_the_closed_form():
    # points start * (1 - t) + stop * t with t = k / (num - 1): d sum / d start = sum(1 - t) = num / 2
    assert float(sl.grad(lambda a: snp.sum(snp.linspace(a, 3.4, 5)))(1.2)) == pytest.approx(2.5, rel=1e-15)
    # the same through NumPy's own name (routed to slopes by the traced argument)
    assert float(sl.grad(lambda a: snp.sum(np.linspace(a, 3.4, 5)))(1.2)) == pytest.approx(2.5, rel=1e-15)


@pytest.mark.parametrize("endpoint", [True, False])
@pytest.mark.parametrize("num", [1, 2, 5])
def test_linspace_jacobian_in_both_ends(num, endpoint):
    ends = np.array([1.2, 3.4])
    f = lambda e: snp.linspace(e[0], e[1], num, endpoint=endpoint)  # noqa: E731
    np.testing.assert_allclose(f(ends), np.linspace(1.2, 3.4, num, endpoint=endpoint), rtol=1e-15)
    div = num - 1 if endpoint else num
    t = np.arange(num) / div if div else np.zeros(num)
    J = sl.jacobian(f)(ends)
    np.testing.assert_allclose(J, np.stack([1 - t, t], axis=1), rtol=1e-15)  # d/dstart, d/dstop
    fd = np.stack([central_difference(lambda e: np.linspace(e[0], e[1], num, endpoint=endpoint), [ends], [d])
                   for d in np.eye(2)], axis=1)
    np.testing.assert_allclose(J, fd, rtol=1e-8, atol=1e-10)


def test_linspace_with_array_ends_axis_and_retstep():
    start, stop = np.array([0.0, 1.0]), np.array([2.0, -3.0])
    for axis in (0, 1, -1):
        np.testing.assert_allclose(
            sl.jvp(lambda a: snp.linspace(a, stop, 4, axis=axis), (start,), (np.ones(2),))[0],
            np.linspace(start, stop, 4, axis=axis), rtol=1e-15, atol=1e-15,
        )
        check_derivatives(lambda a, b: snp.linspace(a, b, 4, axis=axis), start, stop)
    (pts, step), (dpts, dstep) = sl.jvp(lambda b: snp.linspace(0.0, b, 5, retstep=True), (2.0,), (1.0,))
    ref_pts, ref_step = np.linspace(0.0, 2.0, 5, retstep=True)
    np.testing.assert_allclose(pts, ref_pts, rtol=1e-15)
    assert float(step) == ref_step and float(dstep) == 0.25  # step = (stop - start) / 4
    np.testing.assert_allclose(dpts, np.linspace(0, 1, 5), rtol=1e-15)


def test_linspace_refuses_an_integer_dtype_for_traced_ends():
    with pytest.raises(TypeError, match="dtype int64 cannot carry a derivative"):
        sl.grad(lambda a: snp.sum(snp.linspace(a, 3.0, 4, dtype=np.int64)))(1.0)


# -- meshgrid --------------------------------------------------------------------------------
@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
def test_meshgrid_values_and_gradients(indexing, sparse):
    x, y, w = np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0]), np.array([0.5, -1.0])
    X, Y = sl.jvp(lambda a, b: snp.meshgrid(a, b, indexing=indexing, sparse=sparse), (x, y), (x, y))[0]
    RX, RY = np.meshgrid(x, y, indexing=indexing, sparse=sparse)
    np.testing.assert_array_equal(X, RX)
    np.testing.assert_array_equal(Y, RY)
    # each x_i is copied once per entry of y (and the other way round): closed-form gradients
    f = lambda a, b: snp.sum(snp.broadcast_arrays(*snp.meshgrid(a, b, indexing=indexing, sparse=sparse))[0] * 2.0)  # noqa: E731
    gx, gy = sl.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, np.full(2, 2.0 * 3))
    np.testing.assert_array_equal(gy, np.zeros(3))
    check_derivatives(lambda a, b: snp.stack(snp.broadcast_arrays(*snp.meshgrid(a * w, b, indexing=indexing, sparse=sparse))), x, y)


def test_meshgrid_of_three_traced_inputs_matches_numpy_and_finite_differences():
    xs = (np.array([0.1, 0.2]), np.array([1.0, 2.0, 3.0]), np.array([-1.0]))
    out = sl.jvp(lambda *v: snp.meshgrid(*v), xs, xs)[0]
    for a, b in zip(out, np.meshgrid(*xs)):
        np.testing.assert_array_equal(a, b)
    check_derivatives(lambda a, b, c: snp.stack(snp.meshgrid(a ** 2, b, c)), *xs)


# -- full --------------------------------------------------------------------------------------
def test_full_is_differentiable_in_the_fill_value():
    # every entry is a copy of a: d sum / da = number of entries
    assert float(sl.grad(lambda a: snp.sum(snp.full((2, 3), a)))(1.5)) == 6.0
    assert float(sl.grad(lambda a: snp.sum(snp.full(4, a ** 2)))(1.5)) == 4 * 2 * 1.5
    assert float(sl.grad(lambda a: snp.sum(snp.full_like(np.zeros((2, 2)), a)))(0.3)) == 4.0
    # an array fill broadcasts along the new axes: each entry of v is copied twice
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_array_equal(sl.grad(lambda a: snp.sum(snp.full((2, 3), a) ** 2))(v), 2 * 2 * v)
    np.testing.assert_array_equal(sl.jvp(lambda a: snp.full((2, 3), a), (v,), (v,))[0], np.full((2, 3), v))
    check_derivatives(lambda a: snp.full((2, 3), a) * np.arange(6.0).reshape(2, 3), v)


def test_full_with_traced_fill_checks_dtype_and_shape():
    assert sl.jvp(lambda a: snp.full(3, a, dtype=np.float32), (1.0,), (1.0,))[0].dtype == np.float32
    with pytest.raises(TypeError, match="float dtype"):
        sl.grad(lambda a: snp.sum(snp.full(3, a, dtype=int)))(1.0)
    with pytest.raises(ValueError, match=r"cannot broadcast an array of shape \(2, 3\) to shape \(3,\)"):
        sl.grad(lambda a: snp.sum(snp.full(3, a)))(np.ones((2, 3)))


def test_arange_with_traced_ends_names_the_differentiable_spellings():
    with pytest.raises(TypeError, match="snp.linspace"):
        sl.grad(lambda a: snp.sum(snp.arange(a, 3.0)))(1.0)
    np.testing.assert_array_equal(snp.arange(1.0, 3.0), np.arange(1.0, 3.0))


def test_numpy_creation_with_like_a_traced_value_gives_a_constant():
    # like= only chooses the array type; slopes' constants are plain arrays
    for make in (lambda a: np.zeros(3, like=a), lambda a: np.full(3, 2.0, like=a), lambda a: np.eye(2, like=a)):
        out, tangent = sl.jvp(lambda a: make(a) + a, (1.0,), (1.0,))
        np.testing.assert_array_equal(tangent, np.ones_like(out))


# -- audit: no public name loops on a traced argument ---------------------------------------------
def _public_functions():
    """Every public callable of slopes.numpy (and .linalg), with NumPy's function of that name."""
    out = []
    for module, np_module in ((snp, np), (snp.linalg, np.linalg)):
        for name in module.__all__:
            fn = getattr(module, name)
            if callable(fn) and not isinstance(fn, type):
                out.append((f"{module.__name__}.{name}", fn, getattr(np_module, name, None)))
    return out


_TRACED_CALLS = [
    lambda fn, a: fn(a),
    lambda fn, a: fn(a, a),
    lambda fn, a: fn(a, a, a),
    lambda fn, a: fn((2, 3), a),  # a shape, then a value (full, broadcast_to, reshape, ...)
    lambda fn, a: fn(a, 3),  # a value, then a count or an axis (linspace, repeat, ...)
    lambda fn, a: fn([a, a]),  # a list of traced arrays (stack, meshgrid, ...)
]


@pytest.mark.parametrize("name, fn, np_fn", _public_functions(), ids=lambda v: v if isinstance(v, str) else "")
def test_no_public_name_recurses_on_traced_arguments(name, fn, np_fn):
    # slopes' name and NumPy's (dispatched to slopes through the traced argument) alike: any
    # argument error is fine here, a RecursionError (a function dispatching to itself) is not
    calls = [fn] if np_fn is None or np_fn is fn else [fn, np_fn]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # arguments out of a function's domain are not the point
        _call_all(name, calls)


def _call_all(name, calls):
    for f in calls:
        for x in (np.array(0.7), np.array([0.3, 0.6, 0.9])):
            for call in _TRACED_CALLS:
                try:
                    sl.jvp(lambda a: call(f, a), (x,), (np.ones_like(x),))
                except RecursionError:
                    pytest.fail(f"{name} recursed forever on a traced argument")
                except Exception:  # noqa: BLE001 - wrong arity or meaning for this name: not the point
                    pass


def test_the_audit_covers_the_names_that_were_numpy_functions():
    # the walk is derived from __all__: the grid and creation names are in it, so a future
    # name that is NumPy's own function is walked too
    walked = {name.rsplit(".", 1)[1] for name, _, _ in _public_functions()}
    assert {"linspace", "meshgrid", "full", "full_like", "arange", "zeros", "eye"} <= walked
    # and every name still bound to NumPy's own function takes only shapes (constants)
    bare = {n for n in snp.__all__ if getattr(snp, n) is getattr(np, n, None)}
    shapes_and_dtypes = {"tri", "tril_indices", "triu_indices", "diag_indices", "mask_indices", "indices"}
    shapes_and_dtypes |= {"broadcast_shapes", "promote_types", "issubdtype", "can_cast", "isdtype"}
    shapes_and_dtypes |= {"bartlett", "blackman", "hamming", "hanning", "kaiser"}
    assert bare <= {"zeros", "ones", "empty", "eye", "identity"} | shapes_and_dtypes, bare
