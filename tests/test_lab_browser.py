"""The lab in a real browser: Playwright drives Chromium against a uvicorn server in a thread.

Each page must load without a console error (a Content-Security-Policy violation is one),
and typing a formula, moving a slider, clicking a start point and starting a training run
must each change what is drawn: checked from the canvas's pixels (``toDataURL``) and the
data attributes the pages set after drawing. Screenshots go to ``tests/artifacts/``.
"""

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

import slopes.lab.compute.training as training_module  # noqa: E402
from slopes.lab.server import LabServer  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
TIMEOUT = 15_000  # ms: generous for a busy two-core machine


@pytest.fixture(scope="module")
def server():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is needed for the browser tests (.ci/run installs it): apt-get install chromium")
    saved = training_module.LIMITS
    training_module.LIMITS = replace(saved, watch_seconds=2.0)  # a training run lasts 2 s, not 6
    with LabServer() as s:
        yield s
    training_module.LIMITS = saved


@pytest.fixture(scope="module")
def browser(server):
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def _closed_stream(request):
    """The page closing a finished event stream (EventSource.close aborts its request): not a failure."""
    return request.url.endswith("/events") and request.failure == "net::ERR_ABORTED"


@pytest.fixture
def page(browser, server):
    """A fresh page; every console error, page error and failed request fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, base_url=server.url)
    p = context.new_page()
    p.set_default_timeout(TIMEOUT)
    problems = []
    p.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    p.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    p.on("requestfailed", lambda r: None if _closed_stream(r) else problems.append(f"request failed: {r.url} {r.failure}"))
    p.problems = problems
    yield p
    context.close()


def pixels(page, canvas):
    return page.eval_on_selector(canvas, "c => c.toDataURL()")


def draws(page, canvas):
    return int(page.get_attribute(canvas, "data-draws") or 0)


def wait_redrawn(page, canvas, before):
    page.wait_for_function(f"n => Number(document.querySelector('{canvas}').dataset.draws || 0) > n", arg=before)


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"lab-{name}.png"), full_page=True)


def click_at(page, canvas, fx, fy):
    box = page.locator(canvas).bounding_box()
    page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])


@pytest.mark.parametrize(
    "name, canvas",
    [("index", None), ("derivative", "#plot-f"), ("landscape", "#plot-map"), ("race", "#plot-map"),
     ("training", None), ("sampling", "#plot-map")],
)
def test_each_page_loads_and_draws_without_console_errors(page, name, canvas):
    page.goto(f"{name}.html")
    if canvas:
        page.wait_for_function(f"() => document.querySelector('{canvas}').dataset.draws >= 1")
        assert page.text_content("#code").startswith("import numpy as np")
    page.wait_for_load_state("networkidle")
    assert page.problems == []
    assert "error" not in (page.get_attribute("#status", "class") or "")


def test_derivative_typing_a_formula_and_moving_sliders_redraw(page):
    page.goto("derivative.html")
    page.wait_for_function("() => document.querySelector('#plot-f').dataset.draws >= 1")
    before, n = pixels(page, "#plot-f"), draws(page, "#plot-f")
    page.fill("#formula", "exp(-x^2) * cos(3*x)")
    page.wait_for_function("() => document.querySelector('#plot-f').dataset.formula === 'exp(-x^2) * cos(3*x)'")
    assert pixels(page, "#plot-f") != before and draws(page, "#plot-f") > n
    # the Taylor order slider, moved with the keyboard as a person would
    err_before = pixels(page, "#plot-err")
    page.focus("#order")
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('#plot-err').dataset.order === '7'")
    assert pixels(page, "#plot-err") != err_before
    assert page.text_content('output[for="order"]') == "7"
    # a click on the plot moves x0
    click_at(page, "#plot-f", 0.75, 0.5)
    page.wait_for_function("() => document.querySelector('#plot-f').dataset.x0 !== '0.5'")
    shot(page, "derivative")
    assert page.problems == []


def test_a_refused_formula_shows_its_message_on_the_page(page):
    page.goto("derivative.html")
    page.wait_for_function("() => document.querySelector('#plot-f').dataset.draws >= 1")
    page.fill("#formula", "__import__('os')")
    page.wait_for_function("() => document.querySelector('#status').classList.contains('error')")
    assert page.text_content("#status").startswith("formula:")
    assert page.problems == [] or all("422" in p for p in page.problems)


def test_landscape_click_chooses_the_point(page):
    page.goto("landscape.html")
    page.wait_for_function("() => document.querySelector('#plot-map').dataset.draws >= 1")
    before, n = pixels(page, "#plot-map"), draws(page, "#plot-map")
    point = page.get_attribute("#plot-map", "data-point")
    click_at(page, "#plot-map", 0.35, 0.7)
    wait_redrawn(page, "#plot-map", n)
    assert page.get_attribute("#plot-map", "data-point") != point and pixels(page, "#plot-map") != before
    assert int(page.get_attribute("#plot-map", "data-critical")) >= 1
    shot(page, "landscape")
    assert page.problems == []


def test_race_click_start_point_and_draw_a_box(page):
    page.goto("race.html")
    page.wait_for_function("() => document.querySelector('#plot-map').dataset.pathPoints > 0")
    start = page.get_attribute("#plot-map", "data-start")
    before, n = pixels(page, "#plot-map"), draws(page, "#plot-map")
    click_at(page, "#plot-map", 0.3, 0.25)
    wait_redrawn(page, "#plot-map", n)
    assert page.get_attribute("#plot-map", "data-start") != start and pixels(page, "#plot-map") != before
    # drag a box: projected gradient joins the race inside it
    n = draws(page, "#plot-map")
    box = page.locator("#plot-map").bounding_box()
    page.mouse.move(box["x"] + 0.45 * box["width"], box["y"] + 0.3 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.8 * box["width"], box["y"] + 0.6 * box["height"], steps=5)
    page.mouse.up()
    wait_redrawn(page, "#plot-map", n)
    assert "projected_gradient" in page.get_attribute("#plot-map", "data-methods")
    assert page.is_checked('#methods input[value="projected_gradient"]')
    # the theory preset states L, mu and the heavy-ball rule
    page.check('input[name="preset"][value="theory"]')
    page.wait_for_function("() => document.querySelector('#plot-map').dataset.preset === 'theory'")
    assert "heavy ball" in page.text_content("#theory")
    assert "0.26987" in page.text_content("#results")  # heavy ball beta ((sqrt 10 - 1)/(sqrt 10 + 1))^2
    shot(page, "race")
    # the export: a CSV of every iterate, made in the browser (the server writes no file)
    with page.expect_download() as download:
        page.click("#export-csv")
    assert download.value.suggested_filename == "race.csv"
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0] == "method,iteration,x,y,f" and len(lines) > 10
    assert page.problems == []


def test_training_streams_stops_resumes_and_runs_a_range_test(page):
    page.goto("training.html")
    page.select_option("#dataset", "iris")
    page.select_option("#model", "softmax")
    page.click("#start")
    page.wait_for_function("() => Number(document.querySelector('#plot-acc').dataset.epochs || 0) >= 2")
    before = pixels(page, "#plot-loss")
    page.click("#pause")
    page.wait_for_function("() => document.querySelector('#status').textContent.startsWith('stopped at step')")
    assert page.is_enabled("#resume")
    page.click("#resume")
    page.wait_for_function("() => document.querySelector('#status').textContent.startsWith('finished')")
    assert pixels(page, "#plot-loss") != before
    assert int(page.get_attribute("#plot-acc", "data-epochs")) == 15
    assert "sl.ml.fit" in page.text_content("#code")
    page.click("#lrtest")
    page.wait_for_function("() => Number(document.querySelector('#plot-lr').dataset.points || 0) > 10")
    assert page.text_content("#status").startswith("suggested learning rate")
    shot(page, "training")
    assert page.problems == []


def test_sampling_click_and_slider_redraw(page):
    page.goto("sampling.html")
    page.wait_for_function("() => document.querySelector('#plot-map').dataset.draws >= 1")
    before, n = pixels(page, "#plot-map"), draws(page, "#plot-map")
    click_at(page, "#plot-map", 0.55, 0.45)
    wait_redrawn(page, "#plot-map", n)
    assert page.get_attribute("#plot-map", "data-start") != "0.5,0.5" and pixels(page, "#plot-map") != before
    n = draws(page, "#plot-map")
    page.focus("#logeps")
    page.keyboard.press("ArrowLeft")
    wait_redrawn(page, "#plot-map", n)
    shot(page, "sampling")
    assert page.problems == []
