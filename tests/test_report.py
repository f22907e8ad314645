"""slopes.report: the quick lab report is valid, complete, self-contained, and its numbers are right.

The page is built once (quick mode, into a temporary directory) and parsed with html.parser.
The numbers are checked against closed forms, hand-written derivatives, and scikit-learn.
"""

import base64
import io
import math
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image
from test_viz_style import outside_the_figure, styles_of

from slopes.report import build
from slopes.report import figures as report_figures
from slopes.report.figures import draw
from slopes.report.page import FigureItem, Section, Table, figure_item, format_number, render_page

# What the issue asks the report to cover: section id -> title (written out here, not read from the code).
SECTIONS = {
    "derivative-rules": "Derivative rules checked three ways",
    "taylor": "Taylor polynomials and their errors",
    "jacobian-hessian": "Jacobian and Hessian examples",
    "critical-points": "Critical points and convexity",
    "step-sizes": "Step-size effects: too small, right, divergent",
    "optimizers": "GD vs momentum vs Adam",
    "batches": "Full batch vs SGD vs mini-batch",
    "schedules": "Learning-rate schedules",
    "projected": "Projected gradient in a box",
    "logistic": "Newton vs GD on logistic regression (breast cancer)",
    "mlp": "An MLP on digits with AdamW and warmup + cosine",
    "gradient-health": "Gradient health through depth",
}
VOID = {"meta", "img", "br", "hr", "link", "input", "col", "area", "base", "source", "wbr"}
RTOL = 2e-5  # the page prints 6 significant digits


class PageParser(HTMLParser):
    """Collects tags, attributes, section titles and tables; records every nesting error."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.tags, self.attrs = [], [], set(), []
        self.sections, self.tables = {}, {}
        self._section = self._table = self._cell = None
        self._h2 = None
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        self.attrs.append((tag, a))
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "section":
            self._section = a.get("id")
        elif tag == "h2" and self._section:
            self._h2 = ""
        elif tag == "table":
            self._table = a.get("id")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = ""
        elif tag == "title":
            self._in_title = True

    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()
        if tag == "h2" and self._h2 is not None:
            self.sections[self._section] = self._h2.strip()
            self._h2 = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append(self._cell.strip())
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "section":
            self._section = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._h2 is not None:
            self._h2 += data
        if self._cell is not None:
            self._cell += data
        if self._in_title:
            self.title += data


#: (caption, matplotlib Figure) of every figure the report drew, filled by the ``report`` fixture.
FIGURES = []


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")

    def keep(fig, caption, **kwargs):  # the figures as matplotlib objects, besides their PNGs on the page
        FIGURES.append((caption, fig))
        return figure_item(fig, caption, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report_figures, "figure_item", keep)
        path = build(out, quick=True)
    text = path.read_text(encoding="utf-8")
    parser = PageParser()
    parser.feed(text)
    parser.close()
    return path, text, parser, out


def rows_of(parser, table_id):
    rows = parser.tables[table_id]
    return rows[0], rows[1:]  # header, body


def num(cell):
    return float(cell)


def close(a, b, atol=1e-12):
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=atol)


# ----------------------------------------------------------------------------- structure


def test_quick_report_is_written(report, tmp_path):
    path, _, _, out = report
    assert path.name == "report.html" and path.parent == out


def test_valid_html_with_head_title_body(report):
    _, text, parser, _ = report
    assert text.startswith("<!DOCTYPE html>")
    assert parser.errors == [] and parser.stack == []
    assert {"html", "head", "title", "body", "style"} <= parser.tags
    assert parser.title.startswith("slopes lab report")


def test_every_section_present_by_id_and_title(report):
    _, _, parser, _ = report
    assert parser.sections == SECTIONS
    # the table of contents links to each, and the footer has one timing row per section
    links = {a["href"] for tag, a in parser.attrs if tag == "a"}
    assert links == {f"#{k}" for k in SECTIONS}
    header, body = rows_of(parser, "timings-table")
    assert [r[0] for r in body[:-1]] == list(SECTIONS.values()) and body[-1][0] == "total"
    assert all(r[1].endswith(" s") and float(r[1][:-2]) >= 0 for r in body)


def test_every_image_is_an_embedded_png(report):
    _, text, parser, _ = report
    images = [a for tag, a in parser.attrs if tag == "img"]
    assert len(images) >= len(SECTIONS)
    for a in images:
        prefix = "data:image/png;base64,"
        assert a["src"].startswith(prefix)
        im = Image.open(io.BytesIO(base64.b64decode(a["src"][len(prefix) :], validate=True)))
        assert im.format == "PNG" and im.size[0] > 100 and im.size[1] > 100
        im.verify()
        assert a["alt"]
    assert "Figure omitted" not in text  # every figure function exists in this installation


def test_no_external_resources(report):
    _, text, parser, _ = report
    for tag, a in parser.attrs:
        for key in ("src", "href"):
            value = a.get(key, "")
            assert not value.lower().startswith(("http://", "https://", "//")), (tag, value)
    assert "script" not in parser.tags and "link" not in parser.tags
    assert "http://" not in text and "https://" not in text


# ----------------------------------------------------------------------------- numbers


def test_step_sizes_match_closed_form_gd(report):
    # GD on x^2 + 10 y^2 from (-8, 2): x_k = (1 - 2 lr)^k x_0, y_k = (1 - 20 lr)^k y_0
    _, _, parser, _ = report
    header, body = rows_of(parser, "step-sizes-table-0")
    assert header[:3] == ["step size", "lr", "iterations"]
    assert [r[0] for r in body] == ["lr = 0.1/L", "lr = 1/L", "lr = 2.1/L"]
    for row, frac in zip(body, (0.1, 1.0, 2.1)):
        lr, k = num(row[1]), int(row[2])
        assert close(lr, frac / 20.0)
        x, y = (1 - 2 * lr) ** k * -8.0, (1 - 20 * lr) ** k * 2.0
        assert close(num(row[3]), x) and close(num(row[4]), y)
        assert close(num(row[5]), x**2 + 10 * y**2)
    assert body[2][6] == "diverged" and int(body[2][2]) < 100
    assert body[0][6] == "iteration limit" and int(body[0][2]) == 100


def test_taylor_errors_match_closed_form(report):
    # sin + cos: derivatives at 0 cycle 1, 1, -1, -1
    _, _, parser, _ = report
    header, body = rows_of(parser, "taylor-table-0")
    points = [float(h.rsplit("=", 1)[1]) for h in header[2:]]
    assert points == [0.5, 1.0, 2.0]
    orders = [int(r[0]) for r in body]
    assert orders == [1, 2, 3, 5, 8]
    for row, n in zip(body, orders):
        coef = [(1, 1, -1, -1)[k % 4] / math.factorial(k) for k in range(n + 1)]
        for cell, x in zip(row[2:], points):
            err = abs(math.sin(x) + math.cos(x) - sum(c * x**k for k, c in enumerate(coef)))
            assert close(num(cell), err)
    assert body[3][1] == "1 + x - x^2/2 - x^3/6 + x^4/24 + x^5/120"


def test_derivative_rules_match_hand_derivatives(report):
    x1, x2 = 0.7, -1.3
    e = math.exp(-(x1**2 + x2**2) / 2)
    s = 1 / (1 + math.exp(-x1 * x2))
    by_hand = {
        "power and sum": (3 * x1**2, 4 * x2),
        "product": (math.sin(x2), x1 * math.cos(x2)),
        "quotient": (1 / (1 + x2**2), -2 * x1 * x2 / (1 + x2**2) ** 2),
        "chain": (-x1 * e, -x2 * e),
        "chain (softplus)": (x2 * s, x1 * s),
    }
    _, _, parser, _ = report
    header, body = rows_of(parser, "derivative-rules-table-0")
    assert {r[0] for r in body} == set(by_hand)
    for row in body:
        g1, g2 = by_hand[row[0]]
        assert close(num(row[2]), g1) and close(num(row[3]), g2)
        assert num(row[4]) < 1e-8 and num(row[6]) < 1e-12 and row[7] == "ok"


def test_projected_gradient_solution_on_the_edge(report):
    # min of x.Qx/2 + c.x, Q = [[3, 1], [1, 2]], c = (-2, 1), on x2 = -0.5: 3 x1 - 0.5 - 2 = 0
    _, _, parser, _ = report
    _, body = rows_of(parser, "projected-table-0")
    rows = {r[0]: r for r in body}
    active = rows["[-2, 2] x [-0.5, 2] (active)"]
    assert close(num(active[2]), 5 / 6) and num(active[3]) == -0.5
    assert close(num(active[4]), -31 / 24)
    inactive = rows["[-2, 2]^2 (inactive)"]
    assert close(num(inactive[2]), 1.0, atol=1e-4) and close(num(inactive[4]), -1.5)


def test_schedules_match_formulas(report):
    _, _, parser, _ = report
    header, body = rows_of(parser, "schedules-table-0")
    ts = [int(h.split("=")[1]) for h in header[1:]]
    rows = {r[0]: [num(c) for c in r[1:]] for r in body}
    for t, v in zip(ts, rows["cosine_decay(0.1, 1000)"]):
        assert close(v, 0.05 * (1 + math.cos(math.pi * t / 1000)), atol=1e-10)
    for t, v in zip(ts, rows["step_decay(0.1, 250, 0.5)"]):
        assert close(v, 0.1 * 0.5 ** (t // 250))
    for t, v in zip(ts, rows["warmup_cosine(0.1, 100, 1000)"]):
        ref = 0.1 * t / 100 if t < 100 else 0.05 * (1 + math.cos(math.pi * (t - 100) / 900))
        assert close(v, ref, atol=1e-10)


def test_himmelblau_critical_points(report):
    # the four minima of Himmelblau's function (all f = 0); (3, 2) is exact
    known = [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]
    _, _, parser, _ = report
    _, body = rows_of(parser, "critical-points-table-0")
    minima = [(num(r[2]), num(r[3]), num(r[4])) for r in body if r[:2] == ["Himmelblau", "minimum"]]
    assert len(minima) == 4
    for x, y in known:
        assert any(abs(x - a) < 1e-5 and abs(y - b) < 1e-5 and abs(f) < 1e-12 for a, b, f in minima)
    kinds = [r[1] for r in body if r[0] == "Himmelblau"]
    assert kinds.count("saddle") == 4 and kinds.count("maximum") == 1


def test_logistic_regression_matches_scikit_learn(report):
    sklearn_lm = pytest.importorskip("sklearn.linear_model")
    from slopes.report.sections_ml import load_standardized

    Xtr, Xte, ytr, yte = load_standardized("breast_cancer")
    ref = sklearn_lm.LogisticRegression(C=1.0, tol=1e-12, max_iter=10000).fit(Xtr, ytr)
    z = Xtr @ ref.coef_[0] + ref.intercept_[0]
    objective = np.mean(np.logaddexp(0, z) - ytr * z) + ref.coef_[0] @ ref.coef_[0] / (2 * len(ytr))
    _, _, parser, _ = report
    header, body = rows_of(parser, "logistic-table-0")
    rows = {r[0]: r for r in body}
    assert int(rows["newton"][1]) <= 15 and num(rows["newton"][3]) < 1e-8
    for solver in ("newton", "lbfgs"):
        assert close(num(rows[solver][2]), objective)
        assert close(num(rows[solver][5]), ref.score(Xte, yte))
        assert close(num(rows[solver][4]), ref.score(Xtr, ytr))
    assert int(rows["gd"][1]) > int(rows["lbfgs"][1]) > int(rows["newton"][1])


def test_batches_optimum_is_least_squares(report):
    _, text, parser, _ = report
    from slopes.report.sections_optim import _least_squares_data

    X, y = _least_squares_data(128, 5)  # the quick size
    w = np.linalg.solve(X.T @ X, X.T @ y)  # normal equations, not lstsq as in the report
    f_star = 0.5 * np.mean((X @ w - y) ** 2)
    assert f"f* = {f_star:.6g}" in text
    _, body = rows_of(parser, "batches-table-0")
    for r in body:
        assert num(r[3]) >= f_star * (1 - 1e-9) and close(num(r[6]), num(r[3]) - f_star, atol=1e-6)


def test_gradient_health_sigmoid_vanishes(report):
    _, _, parser, _ = report
    _, body = rows_of(parser, "gradient-health-table-0")
    sig = [num(r[4]) for r in body if r[0].startswith("sigmoid")]
    relu = [num(r[4]) for r in body if r[0] == "ReLU + He init"]
    assert all(a > b for a, b in zip(sig, sig[1:])) and sig[-1] < 1e-6
    assert all(0.1 < r < 10 for r in relu)
    for r in body:  # the ratio column is first / last
        assert close(num(r[4]), num(r[2]) / num(r[3]), atol=0)


def test_tuned_momentum_beats_gd_on_the_bowl_as_the_page_says(report):
    # x^2 + 10 y^2 from (-8, 2): L = 20, mu = 2, kappa = 10; the presets' closed forms written out here
    _, text, parser, _ = report
    header, body = rows_of(parser, "optimizers-table-0")
    assert header == [
        "method", "lr", "beta", "iterations", "predicted rate", "observed rate", "final f", "converged"
    ]
    rows = {r[0]: r for r in body}
    s = math.sqrt(10.0)
    gd, hb, nv = rows["gd"], rows["momentum"], rows["nesterov"]
    assert close(num(gd[1]), 1 / 20) and gd[2] == "" and close(num(gd[4]), 1 - 1 / 10)
    assert close(num(hb[1]), 4 / (math.sqrt(20) + math.sqrt(2)) ** 2)
    assert close(num(hb[2]), ((s - 1) / (s + 1)) ** 2) and close(num(hb[4]), (s - 1) / (s + 1))
    assert close(num(nv[1]), 1 / 20) and close(num(nv[2]), (s - 1) / (s + 1)) and close(num(nv[4]), 1 - 1 / s)
    # GD's count in closed form: x_k = 0.9^k (-8) (y is solved in one step), stop at |2 x_k| <= 6e-6
    assert int(gd[3]) == math.ceil(math.log(6e-6 / 16) / math.log(0.9))
    # heavy ball's count by its recurrence in plain NumPy
    lr, beta = 4 / (math.sqrt(20) + math.sqrt(2)) ** 2, ((s - 1) / (s + 1)) ** 2
    x = x_prev = np.array([-8.0, 2.0])
    grad = lambda z: np.array([2 * z[0], 20 * z[1]])  # noqa: E731
    k = 0
    while np.max(np.abs(grad(x))) > 6e-6:
        x, x_prev, k = x - lr * grad(x) + beta * (x - x_prev), x, k + 1
    assert int(hb[3]) == k
    assert int(hb[3]) < int(nv[3]) < int(gd[3]) and all(r[7] == "yes" for r in (gd, hb, nv))
    for r in (gd, hb, nv):  # observed rate near the prediction (from above: the k r^k transient)
        assert 0.995 * num(r[4]) <= num(r[5]) <= 1.06 * num(r[4])
    # the page states the formulas with their numbers, and its comparison is the table's
    assert "beta = ((sqrt kappa - 1)/(sqrt kappa + 1))^2 = 0.2699" in text
    assert "learning rate 4/(sqrt L + sqrt mu)^2 = 0.1154" in text
    ratio = int(gd[3]) / int(hb[3])
    assert f"momentum converged in {hb[3]} iterations against {gd[3]} for gd: {ratio:.2g} times fewer" in text
    assert "speeds up" not in text


def test_report_figures_keep_their_text_inside(report):
    assert len(FIGURES) >= len(SECTIONS)
    for caption, fig in FIGURES:
        assert outside_the_figure(fig) == [], caption


def test_report_paths_are_told_apart_layered_and_drawn_to_scale(report):
    contour_figures = [(c, f) for c, f in FIGURES if f.axes[0].get_title().startswith("optimizer iterates")]
    assert len(contour_figures) == 4  # step sizes, bowl, Rosenbrock, projected
    for caption, fig in contour_figures:
        ax = fig.axes[0]
        lines = sorted((ln for ln in ax.lines if (ln.get_gid() or "").count(":") == 1), key=lambda ln: ln.get_zorder())
        assert len(set(styles_of(lines))) == len(lines), caption
        for below, above in zip(lines, lines[1:]):
            assert above.get_linewidth() < below.get_linewidth() and above.get_alpha() < 1, caption
        (x0, y0), (x1, y1) = ax.transData.transform([(0.0, 0.0), (1.0, 1.0)])
        assert x1 - x0 == pytest.approx(y1 - y0, rel=1e-9), caption  # equal axes: the bowl looks 1 : sqrt(10)
    (_, projected) = [(c, f) for c, f in contour_figures if "Projected" in c][0]
    gids = [ln.get_gid() for ln in sorted(projected.axes[0].lines, key=lambda ln: ln.get_zorder()) if (ln.get_gid() or "").count(":") == 1]
    assert gids == ["run:unconstrained GD, lr=1/L", "run:projected gradient, lr=1/L"]  # projected on top


# ----------------------------------------------------------------------------- page pieces and errors


def test_format_number():
    assert format_number(1 / 3) == "0.333333"
    assert format_number(np.int64(12)) == "12"
    assert format_number(np.float32(2.5)) == "2.5"
    assert format_number(float("inf")) == "inf"
    assert format_number(np.bool_(False)) == "no"
    assert format_number("`x`") == "`x`"


def test_page_escapes_text_and_shows_missing_figures():
    s = Section(
        "a-1",
        "<b>",
        "x < y & `z`",
        tables=[Table(("a", "b"), [(1, "<i>")])],
        figures=[FigureItem(None, "cap", note="Figure omitted: no function")],
    )
    page = render_page("T", [s])
    p = PageParser()
    p.feed(page)
    assert p.errors == [] and "b" not in p.tags and "i" not in p.tags
    assert "x &lt; y &amp; <code>z</code>" in page
    assert '<p class="note">Figure omitted: no function (cap)</p>' in page
    assert p.tables["a-1-table-0"] == [["a", "b"], ["1", "<i>"]]


def test_draw_notes_a_missing_figure_function():
    item = draw("not_a_figure", caption="c")
    assert item.png is None and "slopes.viz.not_a_figure" in item.note


def test_bad_input_raises(tmp_path):
    with pytest.raises(ValueError, match="one cell per column"):
        Table(("a", "b"), [(1, 2, 3)])
    with pytest.raises(ValueError, match="lowercase letters"):
        Section("Bad Id", "t")
    with pytest.raises(ValueError, match="unique"):
        render_page("T", [Section("a", "A"), Section("a", "B")])
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        build(afile)
    with pytest.raises(TypeError, match="quick must be True or False"):
        build(tmp_path, quick="yes")


def test_an_unwritable_out_dir_fails_before_any_section_is_computed(tmp_path, monkeypatch):
    import sys

    sections_run = []
    monkeypatch.setattr(sys.modules["slopes.report.build"], "SECTIONS", [sections_run.append])
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="cannot write the report to .*file.txt/lab.*choose a folder"):
        build(tmp_path / "file.txt" / "lab", quick=True)
    assert sections_run == []
