"""Errors say what went wrong in the user's terms: which operation, which shapes, what to do.

Each test checks the exception type and that the message names the problem and the fix.
None may surface as an internal AssertionError or an obscure NumPy conversion error.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp


def raises(exc, fn, *must_contain):
    """Run ``fn``, expect ``exc`` (never an AssertionError), and check the message."""
    with pytest.raises(Exception) as info:
        fn()
    err = info.value
    assert not isinstance(err, AssertionError), f"internal assertion leaked: {err!r}"
    assert isinstance(err, exc), f"expected {exc.__name__}, got {type(err).__name__}: {err}"
    msg = str(err)
    for part in must_contain:
        if isinstance(part, re.Pattern):
            assert part.search(msg), f"{part.pattern!r} not in message: {msg}"
        else:
            assert part.lower() in msg.lower(), f"{part!r} not in message: {msg}"
    return msg


# -- grad of a non-scalar output ---------------------------------------------------------------------
def test_grad_of_non_scalar_output():
    x = np.ones((2, 3))
    raises(TypeError, lambda: sl.grad(lambda v: v**2)(x), "scalar", "(2, 3)", "jacobian")
    raises(TypeError, lambda: sl.value_and_grad(lambda v: snp.sum(v, axis=0))(x), "scalar", "(3,)", "jacobian")
    # a one-element array is not a scalar either: the shape is named
    raises(TypeError, lambda: sl.grad(lambda v: snp.sum(v, keepdims=True))(x), "scalar", "(1, 1)")


def test_grad_of_a_tuple_output_suggests_has_aux():
    raises(TypeError, lambda: sl.grad(lambda v: (snp.sum(v), 1.0))(np.ones(2)), "has_aux")


# -- shape mismatches --------------------------------------------------------------------------------
def test_shape_mismatch_in_an_op_is_a_valueerror_naming_the_shapes():
    a, b = np.ones(2), np.ones(3)
    for fn in (
        lambda: sl.grad(lambda u, v: snp.sum(u + v), argnums=(0, 1))(a, b),
        lambda: sl.grad(lambda u: snp.sum(u * b))(a),
        lambda: sl.jvp(lambda u: u - b, (a,), (a,)),
        lambda: sl.jacfwd(lambda u: snp.maximum(u, b))(a),
    ):
        raises(ValueError, fn, "(2,)", "(3,)")
    # under vmap NumPy sees the batched operand, (4, 2); it must still be NumPy's ValueError
    raises(ValueError, lambda: sl.vmap(lambda u: u + b)(np.ones((4, 2))), "broadcast", "(3,)")


def test_matmul_shape_mismatch():
    raises(ValueError, lambda: sl.grad(lambda u: snp.sum(u @ np.ones((3, 2))))(np.ones((2, 2))), "matmul")


def test_concatenate_and_stack_shape_mismatch():
    raises(ValueError, lambda: sl.grad(lambda u: snp.sum(snp.stack([u, np.ones(3)])))(np.ones(2)), "shape")
    raises(ValueError, lambda: sl.grad(lambda u: snp.sum(snp.concatenate([u, np.ones((2, 2))])))(np.ones(2)), "dimension")


# -- unsupported NumPy functions -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name,fn",
    [
        ("polydiv", lambda v: snp.sum(np.polydiv(v, np.array([1.0, 1.0]))[0])),
        ("copyto", lambda v: np.copyto(np.zeros(4), v)),
        ("putmask", lambda v: np.putmask(np.zeros(4), v > 0, v)),
    ],
)
def test_unsupported_numpy_function_names_the_function(name, fn):
    # once slopes supports one of these, pick another unsupported function for this test
    assert not hasattr(snp, name), f"slopes.numpy now has {name}"
    msg = raises(TypeError, lambda: sl.grad(fn)(np.array([1.0, 2.0, 3.0, 4.0])), name)
    # and says what to do instead
    assert "slopes.numpy" in msg or "custom_jvp" in msg or "custom_vjp" in msg, msg


def test_unsupported_ufunc_method_and_out_argument():
    raises(TypeError, lambda: sl.grad(lambda v: np.add.reduce(v))(np.ones(3)), "add.reduce")
    out = np.empty(3)
    raises(TypeError, lambda: sl.grad(lambda v: snp.sum(np.sin(v, out=out)))(np.ones(3)), "out=")


def test_converting_a_traced_value_to_numpy_explains_itself():
    raises(TypeError, lambda: sl.grad(lambda v: np.asarray(v).sum())(np.ones(3)), "derivative", "snp")
    a = np.zeros(3)

    def write_into_numpy(v):
        a[:] = v
        return snp.sum(v)

    raises(TypeError, lambda: sl.grad(write_into_numpy)(np.ones(3)), "derivative", ".at[")


def test_writing_a_traced_scalar_into_numpy_is_refused():
    """NumPy decides this case itself (a traced value looks like a sequence to it) and
    raises its own ValueError before asking the value: the write never silently succeeds."""
    a = np.zeros(3)

    def write_into_numpy(v):
        a[0] = v[0]
        return snp.sum(v)

    with pytest.raises(ValueError):
        sl.grad(write_into_numpy)(np.ones(3))
    assert not a.any()


# -- in-place mutation -------------------------------------------------------------------------------------
def test_setitem_on_a_traced_array():
    def f(v):
        v[0] = 1.0
        return snp.sum(v)

    raises(TypeError, lambda: sl.grad(f)(np.ones(3)), "in place", ".at[")


def test_augmented_assignment_on_a_traced_array():
    def f(v):
        v += 1
        return snp.sum(v)

    raises(TypeError, lambda: sl.grad(f)(np.ones(3)), "in-place", ".at[")

    def g(v):
        v *= 2.0
        return snp.sum(v)

    raises(TypeError, lambda: sl.grad(g)(np.ones(3)), "in-place", ".at[")


def test_in_place_methods_on_a_traced_array():
    raises(TypeError, lambda: sl.grad(lambda v: (v.sort(), snp.sum(v))[1])(np.ones(3)), "in place", "sort")
    raises(TypeError, lambda: sl.grad(lambda v: (v.fill(0.0), snp.sum(v))[1])(np.ones(3)), "in place", "full_like")


# -- argnums and callables -------------------------------------------------------------------------------
def test_argnums_out_of_range():
    raises(ValueError, lambda: sl.grad(lambda x: x**2, argnums=1)(1.0), "argnums", "out of range", "1 positional")
    raises(ValueError, lambda: sl.grad(lambda x, y: x * y, argnums=(0, 2))(1.0, 2.0), "argnums", "out of range")
    raises(ValueError, lambda: sl.jacobian(lambda x: x, argnums=-3)(np.ones(2)), "argnums")
    raises(ValueError, lambda: sl.hessian(lambda x: x**2, argnums=5)(1.0), "argnums")
    raises(ValueError, lambda: sl.grad(lambda x: x**2, argnums=())(1.0), "argnums")


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "jacobian", "jacfwd", "jacrev", "hessian", "derivative", "vmap"])
@pytest.mark.parametrize("bad", [3, "f", None, np.ones(2)])
def test_non_callable_is_refused_at_once(transform, bad):
    fn = getattr(sl, transform)
    raises(TypeError, lambda: fn(bad), "function", type(bad).__name__)


def test_non_callable_to_direct_transforms():
    raises(TypeError, lambda: sl.jvp(3.0, (1.0,), (1.0,)), "function")
    raises(TypeError, lambda: sl.vjp(None, 1.0), "function")
    raises(TypeError, lambda: sl.hvp("f", np.ones(2), np.ones(2)), "function")


# -- losing the derivative ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kind,fn",
    [
        ("float", lambda v: float(v) * 2.0),
        # int(v) is allowed: an integer carries no derivative (tests/test_numpy_extra.py)
        ("item", lambda v: v.item() * 2.0),
    ],
)
def test_scalar_conversion_of_a_traced_value(kind, fn):
    raises(TypeError, lambda: sl.grad(fn)(1.5), kind, "derivative", "stop_gradient")


def test_python_control_flow_on_a_traced_value():
    def f(v):
        if v > 0:  # a plain boolean under grad: this works
            return v**2
        return -v

    assert float(sl.grad(f)(3.0)) == 6.0

    def g(v):
        if v:  # truth value of the traced value itself
            return v
        return -v

    raises(TypeError, lambda: sl.grad(g)(3.0), "truth value", "where")


# -- has_aux, jvp, vjp, vmap misuse -------------------------------------------------------------------------
def test_has_aux_with_a_non_pair_output():
    raises(TypeError, lambda: sl.grad(lambda v: v**2, has_aux=True)(1.0), "has_aux", "pair")
    raises(TypeError, lambda: sl.grad(lambda v: (v, 1, 2), has_aux=True)(1.0), "has_aux", "pair", "tuple")
    raises(TypeError, lambda: sl.value_and_grad(lambda v: [v], has_aux=True)(1.0), "has_aux", "pair")


def test_jvp_with_mismatched_tangents():
    raises(ValueError, lambda: sl.jvp(snp.sin, (np.ones(3),), (np.ones(2),)), "tangent", "(2,)", "(3,)")
    raises(ValueError, lambda: sl.jvp(lambda a, b: a * b, (1.0, 2.0), (1.0,)), "2 primal", "1 tangent")
    raises(ValueError, lambda: sl.jvp(lambda p: p["a"], ({"a": 1.0},), ({"b": 1.0},)), "structure")
    raises(TypeError, lambda: sl.jvp(snp.sin, np.ones(3), np.ones(3)), "tuple")


def test_vjp_with_mismatched_cotangent():
    _, vjp_fn = sl.vjp(lambda v: v * 2.0, np.ones(3))
    raises(ValueError, lambda: vjp_fn(np.ones(2)), "cotangent", "(2,)", "(3,)")
    _, vjp_fn = sl.vjp(lambda v: (v, v), np.ones(3))
    raises(ValueError, lambda: vjp_fn(np.ones(3)), "structure")


def test_vmap_with_inconsistent_axis_sizes():
    raises(ValueError, lambda: sl.vmap(lambda a, b: a + b)(np.ones(3), np.ones(4)), "vmap", "3", "4")
    raises(ValueError, lambda: sl.vmap(lambda a, b: a + b, in_axes=(0, 1))(np.ones((3, 2)), np.ones((3, 2))), "vmap", "3", "2")
    raises(ValueError, lambda: sl.vmap(lambda a: a, in_axes=2)(np.ones((3, 2))), "vmap", "in_axes", "(3, 2)")
    raises(ValueError, lambda: sl.vmap(lambda a, b: a, in_axes=(0,))(np.ones(3), np.ones(3)), "in_axes", "1", "2")


def test_derivative_of_a_non_elementwise_function():
    raises(TypeError, lambda: sl.derivative(snp.sum)(np.ones(3)), "derivative", "grad")
    raises(ValueError, lambda: sl.derivative(snp.sin, order=-1), "order")
    raises(ValueError, lambda: sl.derivative(snp.sin, order=1.5), "order")


def test_directional_derivative_errors():
    raises(ValueError, lambda: sl.directional_derivative(lambda v: snp.sum(v), np.ones(2), np.zeros(2), normalize=True), "zero")
    raises(TypeError, lambda: sl.directional_derivative(lambda v: v, np.ones(2), np.ones(2)), "scalar", "jvp")


def test_integer_input_message():
    msg = raises(TypeError, lambda: sl.grad(lambda v: v**2)(3), "float", "int")
    assert "3.0" in msg or "1.0" in msg or "dtype=float" in msg


def test_reshape_and_axis_errors_are_clear():
    raises(ValueError, lambda: sl.grad(lambda v: snp.sum(v.reshape(4, 2)))(np.ones(6)), "reshape", "(6,)")
    raises(ValueError, lambda: sl.grad(lambda v: snp.sum(snp.sum(v, axis=2)))(np.ones((2, 3))), "axis", "out of bounds")
    raises(ValueError, lambda: sl.grad(lambda v: snp.sum(snp.transpose(v, (0, 0))))(np.ones((2, 3))), "permutation")
    raises(IndexError, lambda: sl.grad(lambda v: v[3])(np.ones(3)), "index")
