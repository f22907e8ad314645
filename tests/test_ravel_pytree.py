"""Pytrees on the checking road: sl.ravel_pytree, and numeric/check_grad/check_rule on nested params."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
from slopes.core.ravel import entry_names

# ----------------------------------------------------------------------------- an MLP's parameters


def mlp_params(seed=0, sizes=(3, 4, 2)):
    rng = np.random.default_rng(seed)
    return [
        {"W": rng.standard_normal((m, n)) * 0.5, "b": rng.standard_normal(n) * 0.1}
        for m, n in zip(sizes[:-1], sizes[1:])
    ]


X = np.random.default_rng(1).standard_normal((5, 3))


def mlp_loss(params):
    h = X
    for layer in params[:-1]:
        h = snp.tanh(h @ layer["W"] + layer["b"])
    out = h @ params[-1]["W"] + params[-1]["b"]
    return snp.mean(out**2) + 0.1 * snp.sum(out)


def mlp_out(params):
    return snp.tanh(X[0] @ params[0]["W"] + params[0]["b"]) @ params[1]["W"]


# ----------------------------------------------------------------------------- ravel_pytree


def test_ravel_pytree_concatenates_leaves_in_sorted_key_order_and_unravels():
    params = mlp_params()
    flat, unravel = sl.ravel_pytree(params)
    by_hand = np.concatenate(
        [params[0]["W"].ravel(), params[0]["b"], params[1]["W"].ravel(), params[1]["b"]]  # "W" < "b"
    )
    np.testing.assert_array_equal(flat, by_hand)
    assert flat.shape == (3 * 4 + 4 + 4 * 2 + 2,)
    back = unravel(flat)
    assert isinstance(back, list) and set(back[0]) == {"W", "b"}
    for a, b in zip(sl.core.pytree.leaves(back), sl.core.pytree.leaves(params)):
        np.testing.assert_array_equal(a, b)
        assert a.shape == b.shape
    # leading axes are kept: a Jacobian's rows, leaf by leaf
    rows = unravel(np.stack([flat, 2 * flat]))
    np.testing.assert_array_equal(rows[1]["W"][1], 2 * params[1]["W"])


def test_ravel_pytree_dtypes_containers_and_empty_trees():
    Pair = namedtuple("Pair", "w s")
    tree = (Pair(np.ones(2, dtype=np.float32), 3.0), {"z": None, "k": [np.float32(2.0)]})
    flat, unravel = sl.ravel_pytree(tree)
    assert flat.dtype == np.float64 and flat.tolist() == [1.0, 1.0, 3.0, 2.0]
    back = unravel(flat + 0.5)
    assert isinstance(back[0], Pair) and back[1]["z"] is None
    assert back[0].w.dtype == np.float32 and back[0].w.tolist() == [1.5, 1.5]
    assert float(back[0].s) == 3.5 and back[1]["k"][0].dtype == np.float32
    f32, un32 = sl.ravel_pytree({"a": np.ones(3, dtype=np.float32)})
    assert f32.dtype == np.float32 and un32(f32)["a"].dtype == np.float32
    empty, un0 = sl.ravel_pytree({"nothing": None})
    assert empty.shape == (0,) and un0(empty) == {"nothing": None}
    single, un1 = sl.ravel_pytree(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(un1(single), np.arange(6.0).reshape(2, 3))


def test_ravel_pytree_errors_name_the_problem():
    _, unravel = sl.ravel_pytree([np.ones((2, 2)), np.ones(3)])
    with pytest.raises(ValueError, match=r"needs a vector of 7 entries .* got shape \(6,\).* shapes \[\(2, 2\), \(3,\)\]"):
        unravel(np.ones(6))
    with pytest.raises(TypeError, match=r"leaf 1 is not numeric \(str"):
        sl.ravel_pytree([np.ones(2), "W"])


def test_unravel_of_a_traced_vector_gives_the_gradient_of_the_tree():
    params = mlp_params()
    flat, unravel = sl.ravel_pytree(params)
    g_flat = sl.grad(lambda v: mlp_loss(unravel(v)))(flat)
    g_tree, _ = sl.ravel_pytree(sl.grad(mlp_loss)(params))
    np.testing.assert_allclose(g_flat, g_tree, rtol=1e-14, atol=1e-15)


def test_entry_names_are_python_paths():
    params = mlp_params(sizes=(2, 1, 1))
    names = entry_names(params)
    assert names[:3] == ["[0]['W'][0, 0]", "[0]['W'][1, 0]", "[0]['b'][0]"]
    assert len(names) == sl.ravel_pytree(params)[0].size
    assert entry_names({"s": 1.0, "t": (np.zeros(2),)}) == ["['s']", "['t'][0][0]", "['t'][0][1]"]


# ----------------------------------------------------------------------------- numeric on pytrees


def test_numeric_grad_jacobian_hessian_take_the_inputs_sl_grad_takes():
    params = mlp_params()
    g = sl.numeric.grad(mlp_loss, params)
    g_ad = sl.grad(mlp_loss)(params)
    for a, b in zip(sl.core.pytree.leaves(g), sl.core.pytree.leaves(g_ad)):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
    J, J_ad = sl.numeric.jacobian(mlp_out, params), sl.jacobian(mlp_out)(params)
    assert J[0]["W"].shape == (2, 3, 4) and J[1]["b"].shape == (2, 2)
    for a, b in zip(sl.core.pytree.leaves(J), sl.core.pytree.leaves(J_ad)):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
    small = mlp_params(sizes=(3, 2, 1))
    H, H_ad = sl.numeric.hessian(mlp_loss, small), sl.hessian(mlp_loss)(small)
    assert H[0]["W"][1]["b"].shape == (3, 2, 1)  # d2 f / dW0 db1: leaf shapes concatenated
    for a, b in zip(sl.core.pytree.leaves(H), sl.core.pytree.leaves(H_ad)):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)


def test_numeric_estimate_and_curried_form_on_pytrees():
    params = {"w": np.array([0.3, -1.2]), "s": 0.5}
    f = lambda p: snp.sum(snp.sin(p["w"]) * p["s"])  # noqa: E731
    est = sl.numeric.grad(f, params, full_output=True)
    assert set(est.value) == set(est.error) == set(est.step) == set(est.kink) == {"w", "s"}
    assert est.kink["w"].dtype == bool and not est.kink["w"].any()
    np.testing.assert_allclose(est.value["w"], 0.5 * np.cos(params["w"]), rtol=1e-12)
    assert abs(float(est.value["s"]) - np.sum(np.sin(params["w"]))) <= float(est.error["s"])
    np.testing.assert_allclose(sl.numeric.grad(f)(params)["w"], est.value["w"])


def test_numeric_on_an_integer_leaf_names_the_leaf():
    with pytest.raises(TypeError, match=r"leaf \[0\]\['W'\] of the point has dtype int64"):
        sl.numeric.grad(mlp_loss, [{"W": np.ones((3, 2), dtype=np.int64), "b": np.zeros(2)}, mlp_params()[1]])


# ----------------------------------------------------------------------------- check_grad / check_rule


def _wrong_at(entry):
    """``0.1 * sum(w**2)`` with a hand-written rule that is off by 1 in ``entry`` only."""
    mask = np.zeros((4, 2))
    mask[entry] = 1.0

    @sl.custom_jvp
    def penalty(w):
        return 0.1 * snp.sum(w**2)

    @penalty.defjvp
    def _(primals, tangents):
        (w,), (t,) = primals, tangents
        return penalty(w), snp.sum((0.2 * w + mask) * t)

    return penalty


def test_check_grad_on_mlp_params_names_entries_by_path():
    params = mlp_params()
    report = sl.check_grad(mlp_loss, params)
    assert report.ok, str(report)
    assert report.ad.shape == (26,)
    assert "[1]['W'][2, 0]" in str(report.table(max_rows=None))
    assert "a pytree of 26 entries" in str(report).splitlines()[0]
    penalty = _wrong_at((2, 0))
    bad = sl.check_grad(lambda p: mlp_loss(p) + penalty(p[1]["W"]), params)
    assert bad.verdict == "failed"
    assert [bad.name(e.index) for e in bad.failures] == ["[1]['W'][2, 0]"]
    assert "worst [1]['W'][2, 0]: AD" in bad.summary()
    hess = sl.check_grad(mlp_loss, mlp_params(sizes=(3, 1, 1)), kind="hessian")
    assert hess.ok and hess.name((0, 4)) == "[0]['W'][0, 0], [1]['W'][0, 0]"
    jac = sl.check_grad(mlp_out, params, kind="jacobian")
    assert jac.ok and jac.name((1, 0)) == "d f[1] / d [0]['W'][0, 0]"


def test_check_grad_names_an_expressions_entries_by_variable():
    pytest.importorskip("sympy")
    report = sl.check_grad(sl.parse("x1**2 * x2 + abs(x2)"), np.array([1.0, 0.0]))
    assert report.verdict == "inconclusive"  # |x2| at 0
    assert [report.name(e.index) for e in report.inconclusive] == ["x2"]
    assert "(x2) lie at a non-differentiable point" in report.summary()
    assert str(report).splitlines()[2].split()[0] == "x1"


def test_check_rule_on_pytree_arguments_names_entries_by_path():
    params = mlp_params()[1]  # W (4, 2), b (2,)

    def layer(params, h):
        return snp.tanh(h @ params["W"] + params["b"])

    h = np.array([0.5, -1.0, 0.3, 0.8])
    assert sl.check_rule(layer, params, h).ok
    penalty = _wrong_at((2, 0))
    report = sl.check_rule(lambda params, h: layer(params, h) + penalty(params["W"]), params, h, order=1)
    assert report.verdict == "failed"
    reverse = next(c for c in report.checks if c.name == "reverse mode")
    assert reverse.message.startswith("reverse mode: d/dparams['W'][2, 0] along direction 0 off by")
    assert "a pytree of 10 entries" in str(report).splitlines()[0]


def test_numeric_derivative_on_a_pytree_points_to_grad():
    for point in ({"a": 1.0}, [np.ones(2), np.ones(3)]):
        with pytest.raises(TypeError, match=r"takes one array as the point, got a (dict|list) of arrays \(a pytree\); numeric\.grad"):
            sl.numeric.derivative(np.sin, point)
    np.testing.assert_allclose(sl.numeric.derivative(np.sin, [[0.0, 1.0]]), np.cos([[0.0, 1.0]]), rtol=1e-12)
