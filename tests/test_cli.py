"""The ``slopes`` command line through click's CliRunner, checked against closed forms, sympy and NumPy."""

import json
import math
import shlex
import sys
import types
import warnings

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

import slopes as sl
from slopes.cli import cli

COMMANDS = ["diff", "grad", "taylor", "minimize", "race", "train", "lr-find", "report"]


def run(*args):
    """Invoke the CLI with ``args``; a single string is split like a shell command line."""
    if len(args) == 1 and isinstance(args[0], str):
        args = shlex.split(args[0])
    return CliRunner().invoke(cli, [str(a) for a in args])


def ok_json(*args):
    if len(args) == 1 and isinstance(args[0], str):
        args = shlex.split(args[0])
    res = run(*args, "--json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def assert_one_line_error(res, code=None, contains=()):
    """Non-zero exit, exactly one 'Error: ...' line on stderr, no traceback, nothing on stdout."""
    assert res.exit_code != 0
    if code is not None:
        assert res.exit_code == code
    err = res.stderr.strip()
    assert err.startswith("Error: ") and "\n" not in err, err
    assert "Traceback" not in res.output
    assert res.stdout == ""
    assert isinstance(res.exception, SystemExit)  # handled: no exception escaped
    for word in contains:
        assert word in err, err


def png_written(path):
    return path.exists() and path.read_bytes()[:4] == b"\x89PNG"


# ----------------------------------------------------------------------------- the group


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(command):
    res = run(command, "--help")
    assert res.exit_code == 0
    assert "Examples:" in res.output and f"slopes {command}" in res.output


def test_group_help_and_unknown_command():
    assert run("--help").exit_code == 0
    bare = run()  # no subcommand: the full help, not a one-line error
    assert "Commands:" in bare.output and "Examples:" in bare.output
    assert "0.1.0" in run("--version").output
    assert_one_line_error(run("differentiate", "x"), code=2, contains=("No such command",))


def test_expression_with_leading_minus_gets_a_hint_and_works_after_double_dash():
    assert_one_line_error(run("diff", "-x^2"), code=2, contains=("'--'",))
    res = run("diff", "--at", "3", "--json", "--", "-x^2")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["ad"]["x"] == pytest.approx(-6.0)  # d/dx (-x^2) = -2x


# ----------------------------------------------------------------------------- diff


def test_diff_matches_sympy_and_ad_at_a_point():
    out = ok_json("diff", "x^3 + 2*x - 5", "--at", "2")
    x = sp.Symbol("x", real=True)
    assert sp.simplify(sp.sympify(out["derivatives"]["x"], locals={"x": x}) - (3 * x**2 + 2)) == 0
    assert out["value"] == pytest.approx(7.0)  # 8 + 4 - 5
    assert out["ad"]["x"] == pytest.approx(14.0, rel=1e-14)  # 3*4 + 2
    assert out["symbolic"]["x"] == pytest.approx(14.0, rel=1e-14)


def test_diff_higher_order_partial_with_negative_point():
    out = ok_json("diff", "x^2*y + sin(x)", "--wrt", "x", "--order", "2", "--at", "-3,-1")
    x, y = sp.symbols("x y", real=True)
    exact = sp.diff(x**2 * y + sp.sin(x), x, 2)  # 2y - sin(x)
    got = sp.sympify(out["derivatives"]["x"], locals={"x": x, "y": y})
    assert sp.simplify(got - exact) == 0
    assert list(out["derivatives"]) == ["x"] and out["point"] == [-3.0, -1.0]
    assert out["ad"]["x"] == pytest.approx(2 * -1.0 - math.sin(-3.0), rel=1e-13)


def test_diff_without_wrt_gives_every_partial_in_text():
    res = run("diff", "x*y^2", "--at", "1,2")
    assert res.exit_code == 0
    assert "∂/∂x f = y**2" in res.output and "∂/∂y f = 2*x*y" in res.output
    assert "AD 4 " in res.output and "AD 4   sympy 4" in res.output  # y^2 = 4 and 2xy = 4


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["x^"], 1, ["ExpressionError", "column 3"]),
        (["foo(x)"], 1, ["unknown function 'foo'"]),
        (["x*y", "--at", "1"], 2, ["--at has 1 coordinate", "2 variables (x, y)"]),
        (["x", "--at", "1,a"], 2, ["not a list of numbers"]),
        (["x", "--wrt", "y"], 2, ["no variable 'y'"]),
        (["3"], 2, ["no variables"]),
        (["x", "--order", "0"], 2, ["--order"]),
        (["x", "--frobnicate"], 2, ["No such option"]),
    ],
)
def test_diff_bad_input(args, code, words):
    assert_one_line_error(run("diff", *args), code=code, contains=words)


def test_debug_shows_the_original_exception():
    for args in (["diff", "x^", "--debug"], ["--debug", "diff", "x^"]):
        res = run(*args)
        assert res.exit_code == 1
        assert isinstance(res.exception, sl.ExpressionError)  # propagated: Python prints its traceback
        assert res.exc_info[2] is not None


# ----------------------------------------------------------------------------- grad


def test_grad_against_closed_form():
    x, y = -3.0, -1.0
    out = ok_json("grad", "x^2*y + sin(x)", "--at", f"{x},{y}")
    assert set(out) >= {"point", "value", "gradient", "hessian", "eigenvalues", "kind"}
    H = np.array([[2 * y - math.sin(x), 2 * x], [2 * x, 0.0]])
    np.testing.assert_allclose(out["point"], [x, y])
    assert out["value"] == pytest.approx(x**2 * y + math.sin(x), rel=1e-14)
    np.testing.assert_allclose(out["gradient"], [2 * x * y + math.cos(x), x**2], rtol=1e-13)
    np.testing.assert_allclose(out["hessian"], H, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(out["eigenvalues"], np.linalg.eigvalsh(H), rtol=1e-12)
    assert out["kind"] == "not critical"  # the gradient is far from 0


@pytest.mark.parametrize(
    "expr, kind", [("x^2 - y^2", "saddle"), ("x^2 + x*y + y^2", "minimum"), ("1 - x^2 - 3*y^2", "maximum")]
)
def test_grad_classifies_the_origin(expr, kind):
    out = ok_json("grad", expr, "--at", "0,0")
    assert out["kind"] == kind and out["gradient"] == [0.0, 0.0]


def test_grad_text_with_hessian_and_one_variable():
    res = run("grad", "x^3", "--at", "2", "--hessian")
    assert res.exit_code == 0
    assert "gradient  [12]" in res.output and "[12]" in res.output.split("hessian")[1]  # 3x^2, 6x


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["x^2 + y^2", "--at", "1,2,3"], 2, ["3 coordinates", "2 variables"]),
        (["x^2 + y^2", "--at", "1,,2"], 2, ["not a list of numbers"]),
        (["x^2 + y^2"], 2, ["--at"]),
        (["x^^2", "--at", "1"], 1, ["ExpressionError"]),
        (["x^2", "--at", "inf"], 2, ["non-finite"]),
    ],
)
def test_grad_bad_input(args, code, words):
    assert_one_line_error(run("grad", *args), code=code, contains=words)


# ----------------------------------------------------------------------------- taylor


def test_taylor_of_exp_against_the_series():
    out = ok_json("taylor", "exp(x)", "--at", "0", "--order", "3", "--eval", "0.1")
    assert out["polynomial"] == "1 + x + x^2/2 + x^3/6"
    p = 1 + 0.1 + 0.1**2 / 2 + 0.1**3 / 6
    assert out["p"] == pytest.approx(p, rel=1e-15)
    assert out["f"] == pytest.approx(math.exp(0.1), rel=1e-15)
    assert out["error"] == pytest.approx(math.exp(0.1) - p, rel=1e-9)
    assert out["next_term"] == pytest.approx(0.1**4 / 24, rel=1e-12)


def test_taylor_of_a_cubic_polynomial_is_exact():
    out = ok_json("taylor", "x^2*y", "--at", "1,2", "--order", "3", "--eval", "-3,-1")
    assert out["f"] == pytest.approx(-9.0) and abs(out["error"]) < 1e-12  # 9 * (-1)


def test_taylor_default_eval_point_and_plot(tmp_path):
    path = tmp_path / "t.png"
    res = run("taylor", "sin(x)", "--at", "0", "--order", "5", "--plot", path)
    assert res.exit_code == 0, res.output
    assert png_written(path)
    assert "x - x^3/6 + x^5/120" in res.output
    assert f"{math.sin(0.1):.15f}"[:12] in res.output  # default: center + 0.1


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["x*y", "--at", "1,2", "--order", "2", "--plot", "a.png"], 2, ["--plot", "one variable"]),
        (["exp(x)", "--at", "0", "--order", "-1"], 2, ["--order"]),
        (["exp(x)", "--at", "0", "--order", "2", "--plot", "a.jpg"], 2, [".png or .svg"]),
        (["exp(x)", "--at", "0", "--order", "2", "--eval", "1,2"], 2, ["--eval has 2 coordinates"]),
        (["exp(x)", "--at", "0"], 2, ["--order"]),
    ],
)
def test_taylor_bad_input(args, code, words):
    assert_one_line_error(run("taylor", *args), code=code, contains=words)


# ----------------------------------------------------------------------------- minimize


def test_minimize_quadratic_reaches_the_closed_form_minimum():
    out = ok_json("minimize", "(x-1)^2 + 2*(y+3)^2", "--x0", "-3,-1", "--method", "lbfgs")
    assert set(out) >= {"x", "fun", "nit", "nfev", "success", "message", "history"}
    np.testing.assert_allclose(out["x"], [1.0, -3.0], atol=1e-6)
    assert out["success"] is True and out["fun"] < 1e-11
    assert len(out["history"]["f"]) == out["nit"] + 1 == len(out["history"]["x"])


def test_minimize_gd_history_is_the_geometric_sequence():
    # gd with step t on x^2: x_{k+1} = (1 - 2t) x_k
    out = ok_json("minimize", "x^2", "--x0", "-3", "--method", "gd", "--lr", "0.1", "--maxiter", "20")
    xs = np.array(out["history"]["x"])[:, 0]
    np.testing.assert_allclose(xs, -3.0 * 0.8 ** np.arange(len(xs)), rtol=1e-12)


def test_minimize_in_a_box_projects_onto_it():
    # min (x-2)^2 + (y+2)^2 over [-1, 1]^2 is the corner (1, -1), f = 1 + 1
    out = ok_json("minimize", "(x-2)^2 + (y+2)^2", "--x0", "0,0", "--bounds", "-1,1")
    np.testing.assert_allclose(out["x"], [1.0, -1.0], atol=1e-9)
    assert out["fun"] == pytest.approx(2.0) and out["history"]["step_size"][0] is None  # nan -> null


def test_minimize_text_schedule_and_plots(tmp_path):
    res = run(
        f"minimize 'x^2 + 10*y^2' --x0 3,2 --method adam --lr 0.3 --schedule cosine --maxiter 50 --plot {tmp_path}/a.png"
    )
    assert res.exit_code == 0, res.output
    assert "with adam" in res.output and "nit" in res.output and png_written(tmp_path / "a.png")
    res = run(f"minimize x^4 --x0 1 --method gd --lr 0.1 --maxiter 30 --plot {tmp_path}/b.png")
    assert res.exit_code == 0 and png_written(tmp_path / "b.png")  # one variable: the loss curve


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["x^2", "--x0", "1", "--method", "foo"], 2, ["'foo' is not one of"]),
        (["x^2", "--x0", "1", "--method", "newton", "--lr", "0.1"], 2, ["newton takes no step size"]),
        (["x^2 + y^2", "--x0", "1"], 2, ["--x0 has 1 coordinate"]),
        (["x^2", "--x0", "1", "--method", "gd", "--schedule", "cosine"], 2, ["needs a peak step size"]),
        (["x^2", "--x0", "1", "--bounds", "1,-1"], 2, ["LO < HI"]),
        (["x^2", "--x0", "1", "--bounds", "-1,1", "--method", "gd"], 2, ["--bounds"]),
        (["x^2", "--x0", "1", "--lr", "-0.1"], 2, ["--lr"]),
    ],
)
def test_minimize_bad_input(args, code, words):
    assert_one_line_error(run("minimize", *args), code=code, contains=words)


# ----------------------------------------------------------------------------- race


def test_race_default_step_sizes_and_results():
    # f = x^2 + 5 y^2: Hessian diag(2, 10) so L = 10 and gd's default step is 1/L = 0.1
    out = ok_json("race", "x^2 + 5*y^2", "--x0", "-3,-1", "--methods", "gd,momentum,adam,newton,lbfgs")
    runs = out["runs"]
    assert out["L"] == pytest.approx(10.0)
    assert runs["gd"]["lr"] == pytest.approx(0.1) and runs["momentum"]["lr"] == pytest.approx(0.1)
    assert runs["adam"]["lr"] == pytest.approx(0.1) and runs["newton"]["lr"] is None
    for name, r in runs.items():
        assert r["success"], name
        np.testing.assert_allclose(r["x"], [0.0, 0.0], atol=1e-5)
        assert {"nit", "nfev", "fun", "time"} <= set(r)
    assert runs["newton"]["nit"] == 1  # Newton is exact on a quadratic
    flat = ok_json("race x^4 --x0 0 --methods gd --maxiter 3")  # Hessian 12 x^2 = 0 at x0: the fallback step
    assert flat["L"] == 0.0 and flat["runs"]["gd"]["lr"] == 0.01


def test_race_given_step_size_and_plot(tmp_path):
    out = ok_json(
        f"race 'x^2 + 5*y^2' --x0 -3,-1 --methods gd,lbfgs --lr gd=0.02 --maxiter 5 --plot {tmp_path}/r.png"
    )
    gd = out["runs"]["gd"]
    assert gd["lr"] == 0.02 and gd["lr_source"] == "given" and gd["nit"] == 5
    assert gd["fun"] == pytest.approx(9 * 0.96**10 + 5 * 0.8**10, rel=1e-12)  # x_k = (1 - 2t)^k x_0 per axis
    assert png_written(tmp_path / "r.png")


def test_race_text_table():
    res = run("race", "x^2", "--x0", "2", "--methods", "gd,adam", "--maxiter", "50")
    assert res.exit_code == 0
    assert "iterations" in res.output and "final f" in res.output and "time (s)" in res.output


@pytest.mark.parametrize(
    "args, words",
    [
        (["--methods", "gd,foo"], ["unknown method(s) 'foo'"]),
        (["--methods", "gd", "--lr", "adam=0.1"], ["'adam' is not one of --methods"]),
        (["--lr", "gd:0.1"], ["not NAME=NUMBER"]),
        (["--lr", "lbfgs=1"], ["lbfgs takes no step size"]),
        (["--methods", "gd,gd"], ["twice"]),
    ],
)
def test_race_bad_input(args, words):
    assert_one_line_error(run("race", "x^2", "--x0", "1", *args), code=2, contains=words)


# ----------------------------------------------------------------------------- train


def _split(name, seed=0):
    d = sl.ml.datasets.load(name)
    cls = d.task == "classification"
    return sl.ml.train_test_split(d.X, d.y, test_size=0.25, seed=seed, stratify=True if cls else None)


def test_train_logistic_saves_params_that_reproduce_the_accuracy(tmp_path):
    out = ok_json(
        f"train logistic --dataset breast_cancer --epochs 3 --batch-size 64 --seed 1 --save {tmp_path}"
    )
    assert out["metric"] == "accuracy" and out["steps"] == 3 * math.ceil(426 / 64)
    assert png_written(tmp_path / "loss.png")
    assert json.loads((tmp_path / "metrics.json").read_text())["test_accuracy"] == out["test_accuracy"]
    p = np.load(tmp_path / "params.npz")
    X_tr, X_te, y_tr, y_te = _split("breast_cancer", seed=1)
    for X, y, key in ((X_tr, y_tr, "train_accuracy"), (X_te, y_te, "test_accuracy")):
        logits = ((X - p["x_mean"]) / p["x_scale"]) @ p["layer0_W"][:, 0] + p["layer0_b"][0]
        assert out[key] == pytest.approx(np.mean((logits > 0) == y), abs=1e-12)
    assert out["test_accuracy"] > 0.9


def test_train_logistic_is_close_to_scikit_learn():
    sk = pytest.importorskip("sklearn.linear_model")
    pre = pytest.importorskip("sklearn.preprocessing")
    out = ok_json("train", "logistic", "--dataset", "breast_cancer", "--epochs", "30", "--seed", "0")
    X_tr, X_te, y_tr, y_te = _split("breast_cancer")
    scaler = pre.StandardScaler().fit(X_tr)
    ref = sk.LogisticRegression(max_iter=5000).fit(scaler.transform(X_tr), y_tr)
    assert abs(out["test_accuracy"] - ref.score(scaler.transform(X_te), y_te)) <= 0.04


def test_train_mlp_regression_r2_from_saved_params(tmp_path):
    out = ok_json(
        f"train mlp --dataset diabetes --hidden 8 --epochs 5 --optimizer adamw --schedule warmup_cosine --save {tmp_path}"
    )
    p = np.load(tmp_path / "params.npz")
    _, X_te, _, y_te = _split("diabetes")
    h = np.maximum(((X_te - p["x_mean"]) / p["x_scale"]) @ p["layer0_W"] + p["layer0_b"], 0.0)
    pred = (h @ p["layer1_W"] + p["layer1_b"])[:, 0] * p["y_scale"] + p["y_mean"]
    r2 = 1 - np.sum((y_te - pred) ** 2) / np.sum((y_te - y_te.mean()) ** 2)
    assert out["metric"] == "r2" and out["test_r2"] == pytest.approx(r2, rel=1e-9)


def test_train_softmax_text_output():
    res = run("train softmax --dataset iris --optimizer sgd --schedule cosine --epochs 2 --lr 0.1")
    assert res.exit_code == 0, res.output
    assert "train accuracy" in res.output and "test accuracy" in res.output


@pytest.mark.parametrize(
    "args, words",
    [
        (["logistic", "--dataset", "iris"], ["two-class", "3 classes"]),
        (["softmax", "--dataset", "diabetes"], ["regression"]),
        (["svm", "--dataset", "iris"], ["'svm' is not one of"]),
        (["mlp", "--dataset", "iris", "--optimizer", "lion"], ["--optimizer"]),
        (["mlp", "--dataset", "iris", "--epochs", "0"], ["--epochs"]),
        (["mlp"], ["--dataset"]),
    ],
)
def test_train_bad_input(args, words):
    assert_one_line_error(run("train", *args), code=2, contains=words)


# ----------------------------------------------------------------------------- lr-find


def test_lr_find_sweep_and_suggestion(tmp_path):
    out = ok_json(
        f"lr-find softmax --dataset iris --min-lr 1e-4 --max-lr 100 --steps 40 --plot {tmp_path}/lr.png"
    )
    lrs, losses, smoothed = (np.array(out[k]) for k in ("lrs", "losses", "smoothed"))
    k = np.arange(len(lrs))
    np.testing.assert_allclose(lrs, 1e-4 * (100 / 1e-4) ** (k / 39), rtol=1e-12)  # geometric sweep
    ema = np.cumsum(0.02 * 0.98 ** (k[:, None] - k[None, :]) * np.tril(np.ones((len(k), len(k)))) * losses, 1)
    np.testing.assert_allclose(smoothed, ema[:, -1] / (1 - 0.98 ** (k + 1)), rtol=1e-10)  # bias-corrected EMA
    assert out["suggestion"] == pytest.approx(lrs[np.argmin(smoothed)] / 10)
    assert png_written(tmp_path / "lr.png")
    res = run("lr-find", "softmax", "--dataset", "iris", "--steps", "10")
    assert res.exit_code == 0 and "suggested learning rate" in res.output


@pytest.mark.parametrize(
    "args, words",
    [
        (["softmax", "--dataset", "iris", "--min-lr", "1", "--max-lr", "0.1"], ["--min-lr < --max-lr"]),
        (["softmax", "--dataset", "iris", "--steps", "1"], ["--steps"]),
        (["logistic", "--dataset", "wine"], ["two-class"]),
    ],
)
def test_lr_find_bad_input(args, words):
    assert_one_line_error(run("lr-find", *args), code=2, contains=words)


# ----------------------------------------------------------------------------- report


def _fake_report(monkeypatch, build):
    monkeypatch.setitem(sys.modules, "slopes.report", types.SimpleNamespace(build=build))


def test_report_calls_build_and_prints_the_page(monkeypatch, tmp_path):
    calls = []

    def build(out, *, quick=False):
        calls.append((out, quick))
        return tmp_path / "index.html"

    _fake_report(monkeypatch, build)
    res = run("report", "--out", tmp_path, "--quick")
    assert res.exit_code == 0 and str(tmp_path / "index.html") in res.output
    assert calls == [(str(tmp_path), True)]
    assert ok_json("report", "--out", tmp_path)["page"] == str(tmp_path / "index.html")
    assert calls[-1][1] is False


def test_report_failures_are_one_line(monkeypatch):
    def build(out, *, quick=False):
        raise ValueError("cannot write\nthere")

    _fake_report(monkeypatch, build)
    assert_one_line_error(run("report"), code=1, contains=("ValueError: cannot write there",))
    monkeypatch.setitem(sys.modules, "slopes.report", types.SimpleNamespace())
    assert_one_line_error(run("report"), code=1, contains=("not available",))
    assert_one_line_error(run("report", "--quick=yes"), code=2)


# ----------------------------------------------------------------------------- a newcomer's first mistakes


def run_quietly(*args):
    """``run(*args)`` and the RuntimeWarnings it raised (none may reach the user)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = run(*args)
    return res, [w for w in caught if issubclass(w.category, RuntimeWarning)]


def sympy_at(text, point, wrt=(), symbols="x"):
    """The exact value of EXPR's derivative along ``wrt`` (f itself for ()) at ``point``, by sympy."""
    names = sp.symbols(symbols, seq=True)
    e = sp.sympify(text.replace("^", "**"), locals=dict(zip(symbols.split(), names)))
    d = sp.diff(e, *[names[i] for i in wrt]) if wrt else e
    return d.subs(dict(zip(names, point)))


NOT_FINITE = [
    # command line, the message's words, sympy's view: (expression, point, derivative, symbols)
    ("grad log(x) --at -1", ["log(x) is not finite at x=-1 (f = nan)", "its domain"], ("log(x)", [-1], ())),
    ("grad 1/x --at 0", ["1/x is not finite at x=0 (f = inf)"], ("1/x", [0], ())),
    (
        "grad sqrt(x) --at 0",
        ["sqrt(x) has no finite gradient at x=0", "differentiable"],
        ("sqrt(x)", [0], (0,)),
    ),
    ("grad x^1.5 --at 0", ["no finite Hessian at x=0"], ("x^(3/2)", [0], (0, 0))),
    ("grad log(x*y) --at 1,0", ["not finite at x=1, y=0 (f = -inf)"], ("log(x*y)", [1, 0], (), "x y")),
    ("diff log(x) --at -1", ["log(x) is not finite at x=-1"], ("log(x)", [-1], ())),
    ("diff sqrt(x) --at 0", ["no finite d/dx f at x=0"], ("sqrt(x)", [0], (0,))),
    ("taylor sqrt(x) --at 0 --order 2", ["no finite derivatives up to order 2"], ("sqrt(x)", [0], (0,))),
    ("taylor sqrt(x) --at 1 --order 2 --eval -1", ["x=-1", "an --eval point"], ("sqrt(x)", [-1], ())),
    ("minimize log(x) --x0 -1", ["not finite at x=-1", "--x0"], ("log(x)", [-1], ())),
    (
        "race sqrt(x)+y^2 --x0 0,1",
        ["no finite gradient at x=0, y=1", "--x0"],
        ("sqrt(x)+y^2", [0, 1], (0,), "x y"),
    ),
]


@pytest.mark.parametrize("line, words, exact", NOT_FINITE, ids=[c[0] for c in NOT_FINITE])
def test_a_point_where_f_or_a_derivative_is_not_finite_is_one_clear_line(line, words, exact):
    value = sympy_at(*exact)
    assert not (value.is_real and value.is_finite)  # sympy agrees: outside the domain or a singularity
    res, runtime_warnings = run_quietly(line)
    assert_one_line_error(res, code=1, contains=words)
    assert runtime_warnings == [] and "Warning" not in res.output
    assert "degenerate" not in res.output and "kind" not in res.output


def test_a_finite_point_next_to_the_singularity_still_works():
    res, runtime_warnings = run_quietly("grad sqrt(x) --at 1e-6 --json")
    assert res.exit_code == 0 and runtime_warnings == []
    assert json.loads(res.stdout)["gradient"] == pytest.approx([0.5 / math.sqrt(1e-6)], rel=1e-12)


def test_an_expression_error_quotes_the_users_own_symbols():
    res = run("grad", "x^^2", "--at", "1")
    assert_one_line_error(res, code=1, contains=["found '^' at column 3"])
    assert "**" not in res.stderr


def test_an_unknown_option_of_report_names_reports_options_not_expressions():
    res = run("report", "-o", "x")
    assert_one_line_error(res, code=2, contains=["No such option '-o'", "report takes --out, --quick"])
    assert "expression" not in res.stderr
    assert_one_line_error(run("grad", "-x^2", "--at", "1"), code=2, contains=["expression starting with '-'"])


def test_subgradient_documents_its_step_rule_and_succeeds_with_f_star():
    help_text = " ".join(run("minimize", "--help").output.split())
    assert "t_k = lr/sqrt(k + 1)" in help_text and "--f-star" in help_text
    # two steps of the documented rule on |x| + |y| from (1, 2): g = sign(x) (0 at 0), t_k = 1/sqrt(k+1)
    two = ok_json("minimize abs(x)+abs(y) --x0 1,2 --method subgradient --maxiter 2")
    np.testing.assert_allclose(two["history"]["x"], [[1, 2], [0, 1], [0, 1 - 1 / math.sqrt(2)]], atol=1e-15)
    out = ok_json("minimize abs(x)+abs(y) --x0 1,2 --method subgradient --f-star 0")
    ftol = np.finfo(np.float64).eps ** (1 / 3)  # the default gtol, times 1 + |f_star|
    assert out["success"] and 0 <= out["fun_best"] <= ftol and "f_star" in out["message"]
    assert np.abs(out["x_best"]).sum() == pytest.approx(out["fun_best"], abs=1e-15)  # the minimum is 0 at 0
    without = run("minimize", "abs(x)+abs(y)", "--x0", "1,2", "--method", "subgradient", "--maxiter", "50")
    assert without.exit_code == 0 and "give --f-star" in without.output and "x_best" in without.output
    assert_one_line_error(
        run("minimize", "x^2", "--x0", "1", "--f-star", "0"), code=2, contains=["only --method subgradient"]
    )
    assert_one_line_error(
        run("minimize", "abs(x)", "--x0", "1", "--method", "subgradient", "--f-star", "nan"), code=2
    )


BAD_NUMBERS = [
    # click's FloatRange lets nan and inf through its bounds: every numeric option refuses them at parse time
    ("minimize x^2 --x0 1 --method gd --lr nan", "'--lr'", "'nan' is not a finite number; give a number > 0"),
    ("minimize x^2 --x0 1 --method gd --lr inf", "'--lr'", "'inf' is not a finite number"),
    ("minimize x^2 --x0 1 --method gd --lr -0.1", "'--lr'", "x>0"),
    ("minimize x^2 --x0 1 --gtol nan", "'--gtol'", "'nan' is not a finite number; give a number >= 0"),
    ("minimize x^2 --x0 1 --gtol inf", "'--gtol'", "'inf' is not a finite number"),
    ("minimize x^2 --x0 1 --gtol -1", "'--gtol'", "x>=0"),
    ("minimize abs(x) --x0 1 --method subgradient --f-star inf", "'--f-star'", "'inf' is not a finite number"),
    ("race x^2 --x0 1 --methods gd --lr inf", "--lr", "the step size of gd must be a finite number > 0"),
    ("race x^2 --x0 1 --methods gd --lr nan", "--lr", "the step size of gd must be a finite number > 0"),
    ("race x^2 --x0 1 --methods gd,adam --lr adam=inf", "--lr", "is not NAME=NUMBER"),
    ("train softmax --dataset iris --lr nan", "'--lr'", "'nan' is not a finite number"),
    ("train softmax --dataset iris --lr inf", "'--lr'", "'inf' is not a finite number"),
    ("train softmax --dataset iris --test-size nan", "'--test-size'", "give a number > 0 and < 1"),
    ("lr-find softmax --dataset iris --max-lr inf", "'--max-lr'", "'inf' is not a finite number"),
    ("lr-find softmax --dataset iris --min-lr nan", "'--min-lr'", "'nan' is not a finite number"),
]


@pytest.mark.parametrize("line, option, words", BAD_NUMBERS, ids=[c[0] for c in BAD_NUMBERS])
def test_non_finite_or_negative_numeric_options_are_refused_at_parse_time(line, option, words):
    res, runtime_warnings = run_quietly(line)
    assert_one_line_error(res, code=2, contains=[option, words])
    assert runtime_warnings == []


def test_train_diverging_in_its_first_epoch_reports_it_in_one_run():
    # it ended in "KeyError: no field 'loss'": the run's epoch table was empty and had no fields
    res, runtime_warnings = run_quietly("train mlp --dataset iris --optimizer sgd --lr 1e6 --epochs 2 --json")
    assert res.exit_code == 0 and runtime_warnings == []
    out = json.loads(res.stdout)
    assert out["diverged"] and out["message"].startswith("diverged at step") and out["final_loss"] is None


def test_lr_find_warns_when_the_sweep_never_diverged():
    res = run("lr-find softmax --dataset iris --max-lr 0.01 --steps 10 --json")
    assert res.exit_code == 0
    out = json.loads(res.stdout)
    smoothed = np.array(out["smoothed"])
    assert not out["stopped_early"] and smoothed.max() < 4 * smoothed.min()  # never the 4x blow-up
    assert "never blew up" in res.stderr and "only a guess" in res.stderr
    res = run("lr-find softmax --dataset iris --max-lr 1e4 --steps 30 --json")
    out = json.loads(res.stdout)
    assert res.exit_code == 0 and out["stopped_early"] and res.stderr == ""
    assert len(out["lrs"]) < 30
    res = run("lr-find softmax --dataset iris --max-lr 500 --steps 12 --json")  # blows up at the last step
    out = json.loads(res.stdout)
    smoothed = np.array(out["smoothed"])
    assert len(smoothed) == 12 and smoothed[-1] > 4 * smoothed.min() and res.stderr == ""


def test_report_to_an_unwritable_place_fails_before_any_work(monkeypatch, tmp_path):
    import slopes.report

    report_build = sys.modules["slopes.report.build"]  # the module (its name is also the function's)
    sections_run = []
    monkeypatch.setattr(report_build, "SECTIONS", [lambda quick: sections_run.append(quick)])
    (tmp_path / "a_file").write_text("")
    res = run("report", "--out", tmp_path / "a_file" / "lab", "--quick")
    assert_one_line_error(res, code=1, contains=["cannot write the report to", "choose a folder"])
    assert sections_run == []


@pytest.mark.parametrize("command", COMMANDS)
def test_every_example_in_the_help_parses(command):
    examples = [
        line.strip().split("  (")[0]  # drop a trailing '(comment)'
        for line in run(command, "--help").output.splitlines()
        if line.strip().startswith(f"slopes {command} ")
    ]
    assert examples
    for line in examples:
        args = shlex.split(line)[2:]
        cli.commands[command].make_context(f"slopes {command}", args)
