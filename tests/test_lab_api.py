"""slopes.lab's endpoints through Starlette's TestClient: good and bad input, security headers, budgets.

Each page's numbers are checked against closed forms (derivatives, gradients, Hessians, GD
iterates on a quadratic, leapfrog on a Gaussian) and against the slopes code the page shows,
executed here (the server never executes text).
"""

import json
import math
import os
import re
import subprocess
import sys
import time
import warnings
from dataclasses import replace
from html.parser import HTMLParser
from importlib import resources

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from click.testing import CliRunner  # noqa: E402

with warnings.catch_warnings():  # starlette's TestClient prefers httpx2 but works with httpx
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402

import slopes.lab.compute.race as race_module  # noqa: E402
import slopes.lab.compute.training as training_module  # noqa: E402
from slopes.cli import cli  # noqa: E402
from slopes.lab.app import create_app  # noqa: E402
from slopes.lab.limits import LIMITS  # noqa: E402

STATIC = resources.files("slopes.lab") / "static"
PAGES = ["index.html", "derivative.html", "landscape.html", "race.html", "training.html", "sampling.html"]


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(), base_url="http://127.0.0.1")


def ok(client, path, body):
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    return r.json()


def refused(client, path, body, status=422, *words):
    r = client.post(path, json=body)
    assert r.status_code == status, r.text
    message = r.json()["error"]
    for w in words:
        assert w in message, message
    return message


def assert_close(shown, computed, path="numbers"):
    """Every number on the page equals the one the shown code computes (same functions, same inputs)."""
    if isinstance(shown, dict):
        for k, v in shown.items():
            assert_close(v, computed[k], f"{path}.{k}")
    elif isinstance(shown, list):
        np.testing.assert_allclose(np.asarray(shown, float), np.asarray(computed, float), rtol=1e-9, atol=1e-12, err_msg=path)
    elif isinstance(shown, bool):
        assert bool(computed) == shown, path
    elif shown is None:
        assert not np.isfinite(computed), path
    else:
        assert math.isclose(shown, float(computed), rel_tol=1e-9, abs_tol=1e-12), (path, shown, computed)


def run_code(code):
    namespace = {}
    exec(compile(code, "<lab code>", "exec"), namespace)  # the test runs the code the page shows
    return namespace


# ----------------------------------------------------------------------------- derivative


def test_derivative_against_closed_forms_and_its_code(client):
    x0, h = 0.7, 0.1
    page = ok(client, "/api/derivative", {"formula": "sin(2*x) + x^2/4", "x0": x0, "h": h, "order": 4, "xlim": [-2, 2], "n": 81})
    n = page["numbers"]
    f = lambda x: np.sin(2 * x) + x**2 / 4  # noqa: E731
    assert math.isclose(n["value"], f(x0), rel_tol=1e-14)
    assert math.isclose(n["slope"], 2 * np.cos(2 * x0) + x0 / 2, rel_tol=1e-13)
    assert math.isclose(n["curvature"], -4 * np.sin(2 * x0) + 0.5, rel_tol=1e-13)
    assert math.isclose(n["secant"], (f(x0 + h) - f(x0)) / h, rel_tol=1e-12)
    assert abs(n["numeric_slope"] - n["slope"]) <= max(10 * n["numeric_error"], 1e-12)
    assert math.isclose(n["symbolic_slope"], n["slope"], rel_tol=1e-13)
    xs = np.asarray(page["curves"]["x"])
    np.testing.assert_allclose(page["curves"]["df"], 2 * np.cos(2 * xs) + xs / 2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(page["curves"]["d2f"], -4 * np.sin(2 * xs) + 0.5, rtol=1e-12, atol=1e-12)
    # T4 about x0 from the closed-form derivatives
    d = [f(x0), 2 * np.cos(2 * x0) + x0 / 2, -4 * np.sin(2 * x0) + 0.5, -8 * np.cos(2 * x0), 16 * np.sin(2 * x0)]
    t4 = sum(d[k] * (xs - x0) ** k / math.factorial(k) for k in range(5))
    np.testing.assert_allclose(page["curves"]["taylor"], t4, rtol=1e-12, atol=1e-12)
    assert_close(n, run_code(page["code"]))


def test_derivative_gaps_outside_the_domain_and_refusals(client):
    page = ok(client, "/api/derivative", {"formula": "log(x)", "x0": 1.0, "xlim": [-1, 2], "n": 31})
    fx, df = page["curves"]["f"], page["curves"]["df"]
    xs = page["curves"]["x"]
    assert all(v is None for v, x in zip(fx, xs) if x < 0) and all(v is None for v, x in zip(df, xs) if x < 0)
    assert refused(client, "/api/derivative", {"formula": "log(x)", "x0": -1.0}, 422, "not defined at x0")
    refused(client, "/api/derivative", {"formula": "x^2 + y"}, 422, "use the variables x only")
    refused(client, "/api/derivative", {"formula": "x^2", "order": 99}, 422, "order", "budget")
    refused(client, "/api/derivative", {"formula": "x^2", "n": 10**7}, 422, "budget")


@pytest.mark.parametrize(
    "hostile",
    ["__import__('os').system('echo hacked')", "x.__class__", "().__class__.__bases__", "open('/etc/passwd')", "lambda: 1", "x; import os"],
)
def test_hostile_formulas_are_refused_without_evaluation(client, hostile, monkeypatch):
    monkeypatch.setattr("builtins.eval", lambda *a, **k: pytest.fail("eval was called"))
    for path in ("/api/derivative", "/api/landscape", "/api/race", "/api/sampling"):
        message = refused(client, path, {"formula": hostile})
        assert message.startswith("formula:"), message


def test_the_symbolic_road_has_a_budget_and_the_page_says_so(client, monkeypatch):
    monkeypatch.setattr("slopes.lab.compute.derivative.SYMBOLIC_STEPS", 1000)
    page = ok(client, "/api/derivative", {"formula": "exp(sin(x)*cos(x))^3 / (1 + x^2)", "x0": 0.3})
    assert "symbolic_slope" not in page["numbers"] and page["symbolic"] == ""
    assert page["notes"] and page["notes"][0].startswith("symbolic road not taken:") and "steps" in page["notes"][0]
    assert "sl.symbolic" not in page["code"]
    assert_close(page["numbers"], run_code(page["code"]))


def test_a_long_formula_is_refused_before_parsing(client):
    refused(client, "/api/derivative", {"formula": "x+" * 400 + "x"}, 422, "over the lab's limit of 300")


# ----------------------------------------------------------------------------- landscape


def test_landscape_gradient_hessian_directional_and_critical_points(client):
    point, angle = [0.4, -0.3], 0.9
    page = ok(client, "/api/landscape", {"formula": "x^2 + 2*y^2 + exp(-x - y)", "point": point, "angle": angle, "n": 41})
    x, y = point
    e = np.exp(-x - y)
    g = np.array([2 * x - e, 4 * y - e])
    H = np.array([[2 + e, e], [e, 4 + e]])
    n = page["numbers"]
    np.testing.assert_allclose(n["gradient"], g, rtol=1e-13)
    np.testing.assert_allclose(n["hessian"], H, rtol=1e-13)
    np.testing.assert_allclose(n["eigenvalues"], np.linalg.eigvalsh(H), rtol=1e-13)
    assert math.isclose(n["directional"], g @ [math.cos(angle), math.sin(angle)], rel_tol=1e-13)
    for ax, ay, gx, gy in page["arrows"]:
        ee = math.exp(-ax - ay)
        assert math.isclose(gx, 2 * ax - ee, rel_tol=1e-12, abs_tol=1e-12) and math.isclose(gy, 4 * ay - ee, rel_tol=1e-12, abs_tol=1e-12)
    assert page["contours"]["lines"] and page["model"]["lines"]
    assert_close(n, run_code(page["code"]))


def test_landscape_classifies_a_minimum_and_a_saddle(client):
    page = ok(client, "/api/landscape", {"formula": "x^3 - 3*x + y^2", "point": [0.5, 0.5], "n": 31, "xlim": [-2, 2], "ylim": [-2, 2]})
    found = sorted((round(c["x"][0], 9), round(c["x"][1], 9), c["kind"]) for c in page["critical"])
    assert found == [(-1.0, 0.0, "saddle"), (1.0, 0.0, "minimum")]


def test_landscape_refuses_huge_grids_and_undefined_points(client):
    refused(client, "/api/landscape", {"formula": "x + y", "n": 100_000}, 422, "n must be", "161")
    refused(client, "/api/landscape", {"formula": "sqrt(x) + y", "point": [-1.0, 0.0]}, 422, "not defined at the clicked point")
    refused(client, "/api/landscape", {"formula": "log(-x^2 - 1) + y"}, 422)
    refused(client, "/api/landscape", {"formula": "x + y", "xlim": [1, -1]}, 422, "lo < hi")


# ----------------------------------------------------------------------------- race


def test_race_gd_follows_the_closed_form_iterates(client):
    lr, x0 = 0.04, [-3.0, 1.0]
    page = ok(client, "/api/race", {"formula": "x^2 + 10*y^2", "x0": x0, "methods": ["gd", "newton"], "lr": lr, "maxiter": 800})
    gd = page["runs"]["gd"]
    k = np.asarray(gd["steps"])
    expected = np.stack([x0[0] * (1 - 2 * lr) ** k, x0[1] * (1 - 20 * lr) ** k], axis=1)
    np.testing.assert_allclose(gd["path"], expected, rtol=1e-10, atol=1e-300)
    # the contraction of |x - x*| is that of the slow direction, |1 - 2 lr|
    assert abs(gd["observed_rate"] - (1 - 2 * lr)) < 5e-3
    assert page["runs"]["newton"]["nit"] == 1 and page["runs"]["newton"]["success"]
    assert_close(page["numbers"], run_code(page["code"]))


def test_race_with_a_cosine_schedule_follows_its_closed_form(client):
    lr, T, x0 = 0.04, 200, [-3.0, 1.0]
    page = ok(client, "/api/race", {"formula": "x^2 + 10*y^2", "x0": x0, "methods": ["gd"], "lr": lr, "schedule": "cosine", "maxiter": T})
    gd = page["runs"]["gd"]
    steps = np.arange(T + 1)
    rates = lr / 2 * (1 + np.cos(np.pi * np.minimum(steps, T) / T))  # the cosine decay, by hand
    x = np.cumprod(np.concatenate([[1.0], 1 - 2 * rates[:-1]])) * x0[0]
    y = np.cumprod(np.concatenate([[1.0], 1 - 20 * rates[:-1]])) * x0[1]
    k = np.asarray(gd["steps"])
    np.testing.assert_allclose(gd["path"], np.stack([x[k], y[k]], axis=1), rtol=1e-9, atol=1e-300)
    assert "sl.optim.cosine_decay(0.04, 200)" in page["code"]
    assert_close(page["numbers"], run_code(page["code"]))


def test_race_every_method_and_the_box(client):
    box = [[-2.0, 2.0], [0.5, 2.0]]
    page = ok(client, "/api/race", {"formula": "x^2 + 10*y^2", "x0": [-1.5, 1.5], "methods": list(race_module.METHODS), "box": box, "maxiter": 1000, "lr": 0.04})
    pg = page["runs"]["projected_gradient"]
    assert pg["success"] and np.allclose(pg["path"][-1], [0.0, 0.5], atol=1e-3)
    assert all(box[0][0] <= p[0] <= box[0][1] and box[1][0] <= p[1] <= box[1][1] for p in pg["path"][1:])
    for m in ("gd", "momentum", "nesterov", "newton", "lbfgs"):
        assert page["runs"][m]["success"] and np.allclose(page["runs"][m]["path"][-1], 0, atol=1e-5), m
    assert_close(page["numbers"], run_code(page["code"]))


def test_races_on_one_formula_trace_it_once_and_reuse_its_contours(client):
    # a second race on the same formula (spelled differently, another start and methods) neither
    # traces its derivatives again nor recomputes the contours; counted by the caches, not timed
    from slopes.lab.compute.common import _kept_field
    from slopes.lab.compute.staged import staged

    staged.cache_clear()
    _kept_field.cache_clear()
    lr = 0.04
    first = ok(client, "/api/race", {"formula": "x^2 + 10*y^2", "x0": [-3.0, 1.0], "methods": ["gd", "adam", "newton"], "lr": lr})
    second = ok(client, "/api/race", {"formula": "x ** 2 + 10 * y ** 2", "x0": [2.0, -1.0], "methods": ["gd", "lbfgs"], "lr": lr})
    assert staged.cache_info().misses == 1 and staged.cache_info().hits == 1
    compiled = staged(race_module.formula({"formula": "x^2 + 10*y^2"}, ("x", "y")))
    assert compiled.value_and_grad.cache_info()["misses"] == 1 and compiled.hessian.cache_info()["misses"] == 1
    assert _kept_field.cache_info().misses == 1 and second["contours"] == first["contours"]
    for page, x0 in ((first, [-3.0, 1.0]), (second, [2.0, -1.0])):  # the iterates of gd on it, by hand
        k = np.asarray(page["runs"]["gd"]["steps"])
        expected = np.stack([x0[0] * (1 - 2 * lr) ** k, x0[1] * (1 - 20 * lr) ** k], axis=1)
        np.testing.assert_allclose(page["runs"]["gd"]["path"], expected, rtol=1e-10, atol=1e-300)
    assert first["runs"]["newton"]["nit"] == 1 and np.allclose(second["runs"]["lbfgs"]["path"][-1], 0, atol=1e-6)
    assert_close(second["numbers"], run_code(second["code"]))


def test_race_divergence_is_a_failed_run_with_its_message(client):
    page = ok(client, "/api/race", {"formula": "x^2 + 10*y^2", "x0": [1.0, 1.0], "methods": ["gd"], "lr": 0.2})
    gd = page["runs"]["gd"]
    assert gd["success"] is False and "diverged" in gd["message"]
    assert page["numbers"]["success"] == {"gd": False}


def test_race_refusals(client):
    refused(client, "/api/race", {"formula": "log(x) + y^2", "x0": [-1.0, 0.0]}, 422, "not defined at the start point")
    refused(client, "/api/race", {"formula": "x^2", "x0": [1.0, 1.0], "methods": ["sgd"]}, 422, "unknown sgd")
    refused(client, "/api/race", {"formula": "x^2", "x0": [1.0, 1.0], "maxiter": 10**6}, 422, "budget")
    refused(client, "/api/race", {"formula": "x^2", "x0": [1.0, 1.0], "methods": list(race_module.METHODS), "maxiter": 5000}, 422, "20000 iterations per race")
    refused(client, "/api/race", {"formula": "x^2", "x0": ["nan", 1.0]}, 422, "finite")
    refused(client, "/api/race", {"formula": "x^2", "x0": [1.0, 1.0], "lr": 0.0}, 422, "lr must be")
    refused(client, "/api/race", {"formula": "x^2", "x0": [1.0]}, 422, "list of 2 numbers")


def test_a_json_nan_is_refused(client):
    r = client.post("/api/race", content=b'{"formula": "x^2", "x0": [NaN, 1]}', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "finite" in r.json()["error"]


def test_race_stops_at_the_time_budget(client, monkeypatch):
    monkeypatch.setattr(race_module, "LIMITS", replace(LIMITS, seconds=0.0))
    page = ok(client, "/api/race", {"formula": "x^2 + 10*y^2", "x0": [1.0, 1.0], "methods": ["gd", "adam"], "lr": 0.01})
    for run in page["runs"].values():
        assert run["success"] is False and run["nit"] <= 1 and "time budget" in run["message"]


def test_theory_presets_follow_the_closed_forms(client):
    page = ok(client, "/api/race", {"formula": "x^2 + 10*y^2", "x0": [-3.0, 1.0], "methods": ["gd", "momentum"], "preset": "theory", "maxiter": 2000})
    L, mu = 20.0, 2.0
    kappa = L / mu
    th = page["theory"]
    assert math.isclose(th["L"], L) and math.isclose(th["mu"], mu)
    hb = th["presets"]["momentum"]
    assert math.isclose(hb["beta"], ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2, rel_tol=1e-12)
    assert math.isclose(hb["learning_rate"], 4 / (math.sqrt(L) + math.sqrt(mu)) ** 2, rel_tol=1e-12)
    run = page["runs"]["momentum"]
    assert run["beta"] == hb["beta"] and run["lr"] == hb["learning_rate"] and run["success"]
    # tuned heavy ball beats tuned GD on the bowl, as its rate predicts
    assert run["nit"] < page["runs"]["gd"]["nit"]
    assert math.isclose(hb["rate"], (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1), rel_tol=1e-12)
    assert abs(run["observed_rate"] - hb["rate"]) < 0.05
    assert run["predicted_rate"] == hb["rate"]


# ----------------------------------------------------------------------------- sampling


def test_sampling_leapfrog_matches_the_harmonic_oscillator(client):
    eps, steps, x0 = 0.3, 7, [0.5, -0.2]
    page = ok(client, "/api/sampling", {"formula": "-(x^2 + y^2)/2", "x0": x0, "step_size": eps, "n_steps": steps, "n_samples": 400, "seed": 3})
    # leapfrog on H = (q^2 + p^2)/2 is the linear map M per step
    M = np.array([[1 - eps**2 / 2, eps], [-eps * (1 - eps**2 / 4), 1 - eps**2 / 2]])
    p0 = np.random.default_rng(3 + 1).standard_normal(2)
    end = [np.linalg.matrix_power(M, steps) @ [x0[i], p0[i]] for i in range(2)]
    np.testing.assert_allclose(page["trajectories"][0][-1], [end[0][0], end[1][0]], rtol=1e-12)
    assert len(page["trajectories"][0]) == steps + 1
    n = page["numbers"]
    assert n["acceptance_rate"] > 0.9 and np.all(np.abs(n["mean"]) < 0.3)
    assert_close(n, run_code(page["code"]))


def test_sampling_budget_and_undefined_start(client):
    refused(client, "/api/sampling", {"formula": "-(x^2 + y^2)/2", "n_samples": 5000, "n_steps": 200}, 422, "budget of 60000")
    refused(client, "/api/sampling", {"formula": "log(x) + y", "x0": [-1.0, 0.0]}, 422, "not defined")


# ----------------------------------------------------------------------------- training


def events(client, run_id):
    out = []
    with client.stream("GET", f"/api/train/{run_id}/events") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
                if out[-1]["event"] == "end":
                    break
    return out


@pytest.fixture
def fast_training(monkeypatch):
    monkeypatch.setattr(training_module, "LIMITS", replace(LIMITS, watch_seconds=0.0))


def test_training_streams_epochs_and_its_code_reproduces_them(client, fast_training):
    body = {"dataset": "iris", "model": "softmax", "optimizer": "adam", "lr": 0.05, "epochs": 3, "batch_size": 32,
            "schedule": "warmup_cosine"}
    run = ok(client, "/api/train", body)
    got = events(client, run["id"])
    epochs = [e for e in got if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    end = got[-1]
    assert end["status"] == "finished"
    assert 0.0 <= epochs[-1]["val_accuracy"] <= 1.0 and epochs[-1]["loss"] < epochs[0]["loss"]
    ns = run_code(end["code"])
    assert_close(end["numbers"], ns)
    assert end["numbers"]["loss"] == epochs[-1]["loss"]
    # accuracy recomputed by hand from the trained parameters
    X, y = ns["X_test"], ns["y_test"]
    W, b = ns["res"].params[0]["W"], ns["res"].params[0]["b"]
    assert math.isclose(end["numbers"]["val_accuracy"], np.mean(np.argmax(X @ W + b, axis=1) == y))


def test_training_stop_resume_and_stop_for_good(client):
    body = {"dataset": "iris", "model": "softmax", "epochs": 20, "batch_size": 8}
    run_id = ok(client, "/api/train", body)["id"]
    assert ok(client, f"/api/train/{run_id}/pause", {})["paused"] is True
    ok(client, f"/api/train/{run_id}/resume", {})
    ok(client, f"/api/train/{run_id}/stop", {})
    got = events(client, run_id)
    kinds = [e["event"] for e in got]
    assert "paused" in kinds and "resumed" in kinds and kinds.index("paused") < kinds.index("resumed")
    assert got[-1]["status"] == "stopped" and got[-1]["numbers"]["steps"] < 20 * 15


def test_training_divergence_ends_the_run_as_failed(client, fast_training):
    body = {"dataset": "iris", "model": "mlp", "optimizer": "sgd", "lr": 100.0, "epochs": 5, "batch_size": 8}
    got = events(client, ok(client, "/api/train", body)["id"])
    assert got[-1]["status"] == "diverged" and "smaller learning rate" in got[-1]["message"]


def test_training_refusals(client, monkeypatch):
    refused(client, "/api/train", {"epochs": 10**6}, 422, "epochs", "budget")
    refused(client, "/api/train", {"dataset": "/etc/passwd"}, 422, "dataset must be one of")
    refused(client, "/api/train/run999/pause", {}, 422, "no training run")
    assert client.get("/api/train/run999/events").status_code == 404
    monkeypatch.setattr("slopes.lab.app.LIMITS", replace(LIMITS, max_trainings=0))
    refused(client, "/api/train", {"dataset": "iris"}, 422, "limit is 0")


def test_lr_range_test_and_its_code(client):
    page = ok(client, "/api/lr_range", {"dataset": "iris", "model": "softmax", "optimizer": "sgd", "num_steps": 60, "batch_size": 16})
    n = page["numbers"]
    smoothed = np.asarray(page["smoothed"], float)
    assert math.isclose(n["lr_min"], page["lrs"][int(np.nanargmin(smoothed))]) and math.isclose(n["suggestion"], n["lr_min"] / 10)
    assert np.all(np.diff(np.log(page["lrs"])) > 0)
    assert_close(n, run_code(page["code"]))
    refused(client, "/api/lr_range", {"num_steps": 10**5}, 422, "budget")


# ----------------------------------------------------------------------------- the app


def test_requests_that_are_not_small_json_objects(client):
    r = client.post("/api/derivative", content=b"x" * (LIMITS.max_body + 1), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["error"]
    r = client.post("/api/derivative", content=b"formula=x", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422 and "JSON" in r.json()["error"]
    r = client.post("/api/derivative", content=b"[1, 2]", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "JSON object" in r.json()["error"]
    assert client.get("/api/derivative").status_code in (404, 405)


@pytest.mark.parametrize("path", ["/", *(f"/{p}" for p in PAGES), "/js/lab.js", "/lab.css"])
def test_security_headers_on_every_response(client, path):
    r = client.get(path)
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    api = client.post("/api/derivative", json={"formula": "x"})
    assert api.headers["cache-control"] == "no-store" and "default-src 'self'" in api.headers["content-security-policy"]


def test_other_host_names_are_refused(client):
    assert client.get("/", headers={"host": "attacker.example"}).status_code == 400


class _Inline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.bad = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and "src" not in names:
            self.bad.append("inline script")
        if tag == "style" or "style" in names or any(k.startswith("on") for k in names):
            self.bad.append(f"inline style or handler on <{tag}>")
        for k in ("src", "href"):
            if names.get(k, "").startswith(("http:", "https:", "//")):
                self.bad.append(f"remote {k} {names[k]}")


@pytest.mark.parametrize("page", PAGES)
def test_pages_have_no_inline_code_and_no_remote_resources(client, page):
    parser = _Inline()
    parser.feed(client.get(f"/{page}").text)
    assert parser.bad == []


class _Outline(HTMLParser):
    """A page's title, its nav links (marking the current one), its script and the code panel's parts."""

    def __init__(self):
        super().__init__()
        self.title, self.links, self.scripts, self.ids, self._in = "", [], [], [], None

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        self._in = tag
        if tag == "a" and names.get("href", "").endswith(".html"):
            self.links.append([names["href"], names.get("aria-current"), ""])
        if tag == "script":
            self.scripts.append(names["src"])
        if "id" in names:
            self.ids.append(names["id"])

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "a" and self.links and not self.links[-1][2]:
            self.links[-1][2] = data

    def handle_endtag(self, tag):
        self._in = None


@pytest.mark.parametrize("page", PAGES)
def test_each_page_is_the_one_layout_around_its_own_body(client, page):
    # every page is served whole, its own nav link marked, its script and (but home) the code panel added
    out = _Outline()
    out.feed(client.get(f"/{page}").text)
    nav = out.links[:6]  # the header comes first; the home page links the pages again below
    assert [href for href, _, _ in nav] == PAGES
    assert [href for href, current, _ in nav if current == "page"] == [page]
    assert out.title == f"{dict((h, text) for h, _, text in nav)[page]} · slopes lab"
    if page == "index.html":
        assert out.scripts == [] and "code" not in out.ids
    else:
        assert out.scripts == [f"js/{page[:-5]}.js"]
        assert {"code", "export-json", "export-csv", "status"} <= set(out.ids)
    assert client.get("/").text == client.get("/index.html").text


def test_page_sources_hold_only_their_own_body():
    # the head, header and code panel live once, in the layout; a page's source holds none of them
    templates = resources.files("slopes.lab") / "templates"
    for page in PAGES:
        source = (templates / page).read_text(encoding="utf-8")
        assert source.lstrip().startswith("<main") and "<header>" not in source and 'id="code"' not in source, page
    assert not any((STATIC / page).is_file() for page in PAGES)


def test_a_missing_page_or_part_is_named(tmp_path):
    from slopes.lab.layout import assemble_pages

    lab = resources.files("slopes.lab")
    (tmp_path / "templates").mkdir()
    for source in (lab / "templates").iterdir():
        if source.name != "schedule-menu.html":
            (tmp_path / "templates" / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(FileNotFoundError, match=r"includes schedule-menu but templates/schedule-menu.html is missing; add it"):
        assemble_pages(tmp_path)
    (tmp_path / "templates" / "race.html").unlink()
    with pytest.raises(FileNotFoundError, match=r"nav links race.html but templates/race.html is missing"):
        assemble_pages(tmp_path)


def test_scripts_never_turn_server_text_into_markup_or_code():
    for js in (STATIC / "js").iterdir():
        text = js.read_text(encoding="utf-8")
        for banned in ("innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "new Function", "document.write", "http://", "https://"):
            assert banned not in text, (js.name, banned)


def test_pages_computed_in_worker_processes_answer_and_refuse_as_in_threads(client):
    # the same answers (a closed form) and the same refusals, from a worker process
    app = create_app(workers=1)
    try:
        pooled = TestClient(app, base_url="http://127.0.0.1")
        page = ok(pooled, "/api/derivative", {"formula": "x^3", "x0": 2.0, "order": 2})
        assert page["numbers"]["slope"] == 12.0 and page["numbers"]["curvature"] == 12.0
        for body in ({"formula": "log(x)", "x0": -1.0}, {"formula": "x +* 2"}, {"formula": "x", "x0": "two"}):
            assert refused(pooled, "/api/derivative", body) == refused(client, "/api/derivative", body)
        assert [p.pid for p in app.state.pool._executor._processes.values()] != []
    finally:
        app.state.pool.close()


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except OSError:
        return False


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads processes from /proc (Linux)")
def test_workers_end_with_the_server_however_it_ends():
    # a server killed without closing its pool (os._exit) leaves no worker behind
    code = (
        "import asyncio, os; from slopes.lab.workers import PagePool; p = PagePool(1)\n"
        "asyncio.run(p.run('derivative', {'formula': 'x', 'x0': 0.0}))\n"
        "print(*[w.pid for w in p._executor._processes.values()], flush=True); os._exit(0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120).stdout
    pids = [int(pid) for pid in out.split()]
    assert len(pids) == 1
    for _ in range(100):  # the worker looks for its server every 0.5 s
        if not any(map(_running, pids)):
            break
        time.sleep(0.1)
    assert not any(map(_running, pids))


def test_import_slopes_does_not_import_the_web_stack():
    code = "import sys, slopes, slopes.cli; print(sorted(m for m in ('starlette', 'uvicorn') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ----------------------------------------------------------------------------- the command


def test_slopes_lab_prints_the_url_and_opens_it(monkeypatch):
    opened, served = [], []

    class Server:
        def run(self, sockets):
            served.append(sockets[0].getsockname())

    monkeypatch.setattr("slopes.lab.server._server", lambda sock, **options: Server())
    monkeypatch.setattr("webbrowser.open", opened.append)
    res = CliRunner().invoke(cli, ["lab"])
    assert res.exit_code == 0, res.output
    url = re.search(r"http://127\.0\.0\.1:(\d+)/", res.output)
    assert url and served == [("127.0.0.1", int(url.group(1)))] and opened == [url.group(0)]
    opened.clear()
    res = CliRunner().invoke(cli, ["lab", "--no-browser"])
    assert res.exit_code == 0 and opened == []


def test_slopes_lab_on_a_taken_port_is_one_line():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        res = CliRunner().invoke(cli, ["lab", "--port", str(port), "--no-browser"])
    assert res.exit_code == 1 and res.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port}")
    res = CliRunner().invoke(cli, ["lab", "--port", "70000"])
    assert res.exit_code == 2
