"""Rich display in notebooks: HTML cards, inline SVG curves, LaTeX, figures, short reprs."""

from __future__ import annotations

import inspect
import re
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import numpy as np
import pytest
import sympy as sp

import slopes as sl
import slopes.ml as ml
import slopes.numpy as snp
import slopes.viz as sv
from slopes._display import Card, sparkline, summarize
from slopes._display.svg import MAX_POINTS
from slopes.sampling import hmc

EVIL = "<script>alert(1)</script>"
_VOID = {"br", "hr", "img", "input", "meta", "link", "col", "wbr"}


class _Checker(HTMLParser):
    """Every tag closed in order (void elements and ``<x/>`` excepted); the text collected."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.text, self.errors = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        if self.stack[-1:] != ["style"]:
            self.text.append(data)


def valid_html(out) -> str:
    """Check ``out`` is well-formed HTML with well-formed inline SVGs and no script; return its text."""
    assert isinstance(out, str) and out
    assert "<script" not in out.lower()
    p = _Checker()
    p.feed(out)
    p.close()
    assert not p.errors and not p.stack, (p.errors, p.stack)
    for svg in re.findall(r"<svg.*?</svg>", out, flags=re.S):
        ET.fromstring(svg)  # XML: raises when not well-formed
    return " ".join(" ".join(p.text).split())


def verdict_first(out, verdict, title):
    text = valid_html(out)
    assert verdict in text and title in text, text[:300]
    assert text.index(verdict) < text.index(title)
    return text


def balanced(latex: str) -> bool:
    depth = 0
    for c in re.sub(r"\\[{}]", "", latex):
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth < 0:
            return False
    return depth == 0


def valid_latex(out) -> str:
    """Jupyter's form ``$...$``, balanced braces, no markup; returns the formula inside."""
    assert isinstance(out, str) and out.startswith("$") and out.endswith("$") and out.count("$") == 2
    assert balanced(out) and "<" not in out
    return out.strip("$")


# ----------------------------------------------------------------------------- the kit


def test_sparkline_is_well_formed_svg_log_scale_across_decades_and_gaps_at_nan():
    svg = ET.fromstring(sparkline(10.0 ** -np.arange(9.0), label="loss"))
    assert svg.tag.endswith("svg") and svg.get("width") == "160"
    title = svg.find("{http://www.w3.org/2000/svg}title").text
    assert "log scale" in title and "first 1, last 1e-08" in title
    # on a log scale a geometric decay is a straight line: equal steps in y
    d = svg.find("{http://www.w3.org/2000/svg}path").get("d")
    ys = [float(p.split()[1]) for p in re.findall(r"[ML]([\d.]+ [\d.]+)", d)]
    assert np.allclose(np.diff(ys), (ys[-1] - ys[0]) / 8, atol=0.11)
    # a narrow range stays linear; NaN and inf break the line (a new M) and are counted
    broken = sparkline([3.0, 2.0, np.nan, 1.0, np.inf, 0.5])
    ET.fromstring(broken)
    assert "linear scale" in broken and "2 not finite" in broken
    assert re.search(r'd="([^"]*)"', broken).group(1).count("M") == 3
    # nothing finite, or nothing at all: still a valid (empty) picture
    for values in ([], [np.nan, np.nan]):
        ET.fromstring(sparkline(values))


def test_sparkline_of_a_long_curve_is_bounded_by_a_count_of_points():
    svg = sparkline(np.linspace(1.0, 2.0, 100_000))
    points = re.search(r'd="([^"]*)"', svg).group(1).count(" ") // 2 + 1
    assert points <= MAX_POINTS and "100000 points" in svg


def test_card_escapes_every_piece_of_user_text():
    card = Card(EVIL, "bad", EVIL, [(EVIL, EVIL)], EVIL, ([EVIL], [[EVIL]]), [(EVIL, [1.0, 2.0])])
    text = valid_html(card.html())
    assert text.count(EVIL) >= 6  # shown as text
    with pytest.raises(ValueError, match="status must be one of"):
        Card("ok", "green", "x")


def test_summarize_keeps_long_arrays_to_their_ends_and_shape():
    assert summarize(np.arange(1000.0)) == "array([0.0, 1.0, 2.0, ..., 997.0, 998.0, 999.0], shape=(1000,))"
    assert summarize(np.ones((40, 40))) == "array(shape=(40, 40), dtype=float64)"
    assert summarize(np.array([0.5, 1.5])) == "array([0.5, 1.5])"
    assert summarize(list(range(20))).endswith("... (20 in all)]")


# ----------------------------------------------------------------------------- LaTeX


def test_expression_latex_is_sympys():
    e = sl.parse("x1**2 + 2*x2**2 + exp(-x1-x2)")
    body = valid_latex(e._repr_latex_())
    x1, x2 = sp.symbols("x1 x2", real=True)
    assert sp.latex(x1**2 + 2 * x2**2 + sp.exp(-x1 - x2)) in body


def test_expression_past_the_symbolic_budget_falls_back_to_its_plain_repr():
    e = sl.parse("exp(exp(exp(exp(x))))")
    with sl.budget(max_symbolic_depth=3):
        assert e._repr_latex_() is None  # Jupyter then shows text/plain
    assert valid_latex(e._repr_latex_()).endswith("e^{e^{e^{e^{x}}}}")


def test_taylor_polynomial_latex_has_the_center_the_terms_and_the_remainder():
    p = sl.taylor(lambda x: snp.sin(x) + snp.cos(x), 0.0, 5)
    body = valid_latex(p._repr_latex_())
    x = sp.Symbol("x")
    series = sp.series(sp.sin(x) + sp.cos(x), x, 0, 6).removeO()  # the independent reference
    for term in series.as_ordered_terms():
        assert sp.latex(abs(term.as_coeff_Mul()[0]) * term.as_coeff_Mul()[1]) in body
    assert body.startswith(r"\displaystyle f(x) \approx 1 + x - \frac{x^{2}}{2}")
    assert body.endswith(r"+ O\left(x^{6}\right)")
    # about a center: powers of (x - 1) with the coefficients e, e, e/2
    q = sl.taylor(snp.exp, 1.0, 2)
    body = valid_latex(q._repr_latex_())
    e6 = f"{np.e:.6g}"
    assert f"{e6} \\left(x - 1\\right)" in body and f"{np.e / 2:.6g} \\left(x - 1\\right)^{{2}}" in body
    assert body.endswith(r"O\left(\left(x - 1\right)^{3}\right)")


def test_multivariate_taylor_latex_and_names_that_are_not_identifiers_stay_text():
    p = sl.taylor(lambda v: v[0] ** 2 + 2 * v[0] * v[1] + v[1] ** 3, np.array([1.0, 2.0]), 3, variables=["x1", EVIL])
    body = valid_latex(p._repr_latex_())
    assert "x_{1} - 1" in body and r"\lt script\gt" in body
    assert body.endswith(r"\right\rVert^{4}\right)")
    # 13 + 6(x-1) + 14(y-2) + ...: the value and gradient at (1, 2) by hand
    assert r"\approx 13 + 6 \left(x_{1} - 1\right) + 14 \left(" in body


def test_symbolic_function_array_latex_is_the_sympy_matrix():
    g = sl.symbolic.gradient("x**2 * y")
    body = valid_latex(sl.symbolic.to_function(g)._repr_latex_())
    x, y = sp.symbols("x y", real=True)
    assert sp.latex(sp.Matrix([2 * x * y, x**2])) in body


# ----------------------------------------------------------------------------- HTML cards


def _wrong_cube():
    @sl.custom_jvp
    def cube(x):
        return x**3

    @cube.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return cube(x), 3 * x**2 * t * snp.array([1.0, 1.0, 2.0])  # entry 2 off by a factor 2

    return cube


def test_check_grad_report_html_verdict_first_and_the_failing_entry():
    f = lambda z: snp.sum(snp.sin(z))  # noqa: E731
    f.__qualname__ = EVIL
    ok = sl.check_grad(f, np.array([0.5, 1.0]))
    text = verdict_first(ok._repr_html_(), "ok", f"check_grad: gradient of {EVIL}")
    assert f"{np.cos(1.0):.10g}" in text  # the AD entry, as cos(1)
    cube = _wrong_cube()
    bad = sl.check_grad(lambda z: snp.sum(cube(z)), np.array([1.0, 2.0, -0.5]))
    text = verdict_first(bad._repr_html_(), "failed", "check_grad")
    assert "FAIL" in text and "1.5" in text and "0.75" in text  # AD 3 x^2 * 2 vs 3 x^2 at -0.5


def test_check_rule_report_html_names_each_check():
    rep = sl.check_rule(lambda x: snp.abs(x), np.array([0.0, 1.0]))
    text = verdict_first(rep._repr_html_(), "inconclusive", "check_rule")
    for c in rep.checks:
        assert c.name in text


def test_result_html_has_the_verdict_the_numbers_and_two_curves():
    r = sl.minimize(lambda x: snp.sum((x - 1.0) ** 2) + x[0] ** 4, np.zeros(3), method="lbfgs")
    out = r._repr_html_()
    verdict_first(out, "converged", "minimize (lbfgs)")
    svgs = re.findall(r"<svg.*?</svg>", out, flags=re.S)
    assert len(svgs) == 2
    span = r.history.grad_norm.max() / r.history.grad_norm.min()
    assert span > 100 and "log scale" in svgs[1]  # the gradient norm fell over decades
    assert valid_html(r.history._repr_html_()).startswith(f"\u2139 {r.nit + 1} rows")


def test_a_diverged_run_shows_bad_and_its_curve_breaks_off():
    r = sl.minimize(lambda x: snp.sum(x**4), np.array([3.0]), method="gd", learning_rate=1.0, maxiter=50)
    assert not r.success and r.status == 2
    out = r._repr_html_()
    verdict_first(out, "diverged", "minimize (gd)")
    assert "sl-bad" in out


def test_train_and_lr_find_results_html():
    X = np.random.default_rng(0).normal(size=(32, 2))
    y = X @ np.array([1.0, -1.0])
    loss = lambda p, b: snp.mean((b[0] @ p - b[1]) ** 2)  # noqa: E731
    tr = ml.fit(loss, np.zeros(2), (X, y), epochs=2, batch_size=16, progress=False)
    out = tr._repr_html_()
    verdict_first(out, "finished", "fit")
    assert out.count("<svg") == 2  # loss and gradient norm per step
    lr = ml.lr_find(loss, np.zeros(2), (X, y), batch_size=16, num_steps=30, max_lr=100.0)
    verdict_first(lr._repr_html_(), f"suggested lr {lr.suggestion:.3g}", "lr_find")


def test_analysis_reports_html():
    saddle = sl.analysis.classify(lambda x: x[0] ** 2 - x[1] ** 2, np.zeros(2))
    text = verdict_first(saddle._repr_html_(), "saddle", "classify")
    assert "array([-2.0, 2.0])" in text  # eigenvalues of diag(2, -2)
    conv = sl.analysis.convexity(lambda x: x[0] ** 2 - x[1] ** 2, [(-1, 1), (-1, 1)], n_samples=8)
    verdict_first(conv._repr_html_(), "not convex", "convexity")
    sm = sl.analysis.smoothness(lambda x: x[0] ** 2 + 3 * x[1] ** 2, [(-1, 1), (-1, 1)], n_samples=8)
    text = verdict_first(sm._repr_html_(), "L = 6, kappa = 3", "smoothness")  # Hessian diag(2, 6)


def test_numeric_estimate_and_hmc_html():
    est = sl.numeric.grad(lambda x: snp.sum(snp.abs(x)), np.array([0.0, 1.0]), full_output=True)
    verdict_first(est._repr_html_(), "kink at 1 entry", "numeric derivative")
    r = hmc(lambda x: -0.5 * snp.sum(x**2), np.zeros(2), n_samples=50, n_steps=3, seed=0)
    out = r._repr_html_()
    verdict_first(out, "acceptance", "hmc")
    assert out.count("<svg") == 1


def test_jitted_program_html_one_row_per_operation_with_dtype_and_shape():
    x = np.zeros((2, 3), dtype=np.float32)
    prog = sl.jit(lambda x: snp.sum(snp.sin(x) * x, axis=0)).trace(x)
    assert isinstance(prog, sl.core.program.Program) and str(prog).startswith("program(%0: float32[2, 3])")
    text = verdict_first(prog._repr_html_(), f"{len(prog)} operations", "program(%0: float32[2, 3])")
    rows = re.findall(r"%\d+ (\w+) (\([\d, ]*\)) (\w+)", text)
    expected = {"sin": np.sin(x), "multiply": np.sin(x) * x, "sum": np.sum(np.sin(x) * x, axis=0)}  # numpy's
    assert [op for _, _, op in rows] == list(expected)
    for dtype, shape, op in rows:
        assert (dtype, shape) == (expected[op].dtype.name, str(expected[op].shape))


def test_estimator_html_is_scikit_learns_with_the_parameters():
    pytest.importorskip("sklearn")
    out = ml.LogisticRegression(C=2.0)._repr_html_()
    assert "sk-estimator" in out
    params = re.search(r"<table><tr><th>parameter.*?</table>", out, flags=re.S).group(0)
    text = valid_html(params)
    assert "C 2.0 set" in text and "max_iter 100" in text


def test_estimator_html_without_scikit_learn_is_a_plain_escaped_table(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now raises ImportError
    monkeypatch.setitem(sys.modules, "sklearn.utils", None)
    est = ml.MLPRegressor(activation=EVIL)
    out = est._repr_html_()
    assert "sk-" not in out
    text = verdict_first(out, "not fitted", "MLPRegressor(")
    assert f"activation {EVIL} set" in text


# ----------------------------------------------------------------------------- figures


def _figures():
    f = lambda x: x[0] ** 2 + 2 * x[1] ** 2  # noqa: E731
    r = sl.minimize(f, np.array([1.0, 1.0]), method="gd", learning_rate=0.1, maxiter=5, record_x=True)
    lr = ml.lr_find(lambda w, b: snp.mean((b[0] @ w - b[1]) ** 2), np.zeros(1), (np.ones((8, 1)), np.ones(8)),
                    num_steps=10)
    return {
        "secant_tangent": lambda: sv.secant_tangent(snp.sin, 0.5),
        "taylor_approximations": lambda: sv.taylor_approximations(snp.sin, 0.0, orders=(1, 3)),
        "contour_gradients": lambda: sv.contour_gradients(f, (-1, 1), (-1, 1), n_arrows=3),
        "surface": lambda: sv.surface(f, (-1, 1), (-1, 1), n=8),
        "critical_points_plot": lambda: sv.critical_points_plot(f, (-1, 1), (-1, 1), points=[]),
        "trajectories": lambda: sv.trajectories(f, {"gd": r}, (-1, 1), (-1, 1), n=20),
        "line_search_iterates": lambda: sv.line_search_iterates(f, np.ones(2), -np.ones(2), n=20),
        "loss_curves": lambda: sv.loss_curves({"gd": r}),
        "schedules": lambda: sv.schedules({"cos": sl.optim.cosine_decay(0.1, 10)}, 10),
        "lr_range_test": lambda: sv.lr_range_test(lr),
        "gradient_norms_by_depth": lambda: sv.gradient_norms_by_depth({"s": 0.25 ** np.arange(3.0)}),
        "batch_spread": lambda: sv.batch_spread({"sgd": [np.ones(4), np.arange(1.0, 5.0)]}),
    }


def test_every_viz_figure_shows_as_png_and_leaves_nothing_open_in_pyplot():
    plt = pytest.importorskip("matplotlib.pyplot")
    public = {n for n in dir(sv) if not n.startswith("_") and inspect.isfunction(getattr(sv, n))}
    cases = _figures()
    assert public - {"save", "to_png_bytes", "animate_descent", "landscape_grid"} == set(cases)  # every figure function
    plt.close("all")
    for name, make in cases.items():
        fig = make()
        assert isinstance(fig, sv.io.Figure), name  # a matplotlib Figure with _repr_png_
        assert plt.get_fignums() == [], name
    assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == []


# ----------------------------------------------------------------------------- short reprs


def test_plain_reprs_stay_short_with_long_arrays_summarised():
    r = hmc(lambda x: -0.5 * snp.sum(x**2), np.zeros(50), n_samples=200, n_steps=2, seed=0)
    X = np.random.default_rng(0).normal(size=(16, 40))
    tr = ml.fit(lambda p, b: snp.mean((b @ p["W"]) ** 2), {"W": np.ones((40, 40))}, X, epochs=1, progress=False)
    lr = ml.lr_find(lambda w, b: snp.mean((b[0] @ w - b[1]) ** 2), np.zeros(1), (np.ones((8, 1)), np.ones(8)),
                    num_steps=50)
    cp = sl.analysis.classify(lambda x: snp.sum(x**2), np.ones(30))
    est = sl.numeric.grad(lambda x: snp.sum(x**2), np.ones(30), full_output=True)
    p = sl.taylor(snp.exp, 0.0, 60)
    for obj in (r, tr, lr, cp, est, p):
        text = repr(obj)
        assert len(text) <= 500 and text.count("\n") <= 3, text
    assert "shape=(200, 50)" in repr(r) and "shape=(30, 30)" in repr(cp)
    assert repr(p).endswith("...')")


# ----------------------------------------------------------------------------- a notebook


def test_a_notebook_shows_latex_html_and_png():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    cells = [
        "import numpy as np, slopes as sl, slopes.numpy as snp, slopes.viz as sv\n"
        "sl.parse('x**2 + sin(y)')",
        "r = sl.minimize(lambda x: snp.sum(x ** 2), np.ones(2), method='lbfgs', record_x=True)\nr",
        "sv.trajectories(lambda x: snp.sum(x ** 2), {'lbfgs': r}, (-1, 1.5), (-1, 1.5), n=20)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    results = [out["data"] for cell in nb.cells for out in cell.outputs if out.output_type == "execute_result"]
    assert "text/latex" in results[0] and "text/html" in results[1] and "image/png" in results[2]
    assert "x^{2} + \\sin{\\left(y \\right)}" in results[0]["text/latex"]
    # nothing on stderr: no tqdm warning about missing notebook widgets at import
    streams = [out for cell in nb.cells for out in cell.outputs if out.output_type == "stream"]
    assert not [out["text"] for out in streams if out["name"] == "stderr"]
