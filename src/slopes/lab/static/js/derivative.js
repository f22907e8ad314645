import { COLORS, Plot, ask, bindExports, debounce, extent, fillTable, fmt, legend, mirror, showCode, stamp, status, val } from "./lab.js";

let last = null;
const canvasF = document.getElementById("plot-f");

function request() {
  return {
    formula: val("formula"),
    x0: val("x0"),
    h: Math.pow(10, val("logh")),
    order: val("order"),
    xlim: [Number(val("xmin")), Number(val("xmax"))],
  };
}

async function update() {
  const body = request();
  const page = await ask("api/derivative", body, "computing…");
  if (!page) return;
  last = page;
  draw(body, last);
  status(last.notes.length ? last.notes.join("; ") : "");
}

function draw(body, page) {
  const c = page.curves, n = page.numbers;
  const [x0, h] = [body.x0, body.h];
  const yl = extent([c.f]);
  const pad = (yl[1] - yl[0]) * 0.25;
  const ylim = [yl[0] - pad, yl[1] + pad];
  const p = new Plot(canvasF, { xlim: body.xlim, ylim, xlabel: "x", ylabel: "f(x)" });
  p.axes();
  const ends = body.xlim;
  p.line(c.x, c.taylor, { color: COLORS[2], width: 1.5, dash: [6, 4] });
  p.line(ends, ends.map((x) => n.value + n.secant * (x - x0)), { color: COLORS[1], width: 1.5 });
  p.line(ends, ends.map((x) => n.value + n.slope * (x - x0)), { color: COLORS[6], width: 1, dash: [2, 3] });
  p.line(c.x, c.f, { color: COLORS[0], width: 2.5 });
  p.marker(x0, n.value, { color: COLORS[6], label: "x0" });
  p.marker(x0 + h, n.value + n.secant * h, { color: COLORS[1], r: 4, label: "x0 + h" });
  stamp(canvasF, { x0, h, order: body.order, formula: body.formula });
  canvasF.plot = p;
  legend("legend-f", [["f", 0], [`secant, slope ${fmt(n.secant, 4)}`, 1], [`tangent, slope ${fmt(n.slope, 4)}`, 6], [`Taylor T${body.order}`, 2]]);

  const canvasD = document.getElementById("plot-d");
  const q = new Plot(canvasD, { xlim: body.xlim, ylim: extent([c.df, c.d2f]), xlabel: "x", ylabel: "derivative" });
  q.axes();
  q.line(body.xlim, [0, 0], { color: "#bbb", width: 1 });
  q.line(c.x, c.df, { color: COLORS[0], width: 2 });
  q.line(c.x, c.d2f, { color: COLORS[1], width: 2 });
  q.marker(x0, n.slope, { color: COLORS[0], r: 4 });
  stamp(canvasD, { x0 });
  legend("legend-d", [["f'", 0], ["f''", 1]]);

  const canvasE = document.getElementById("plot-err");
  const err = c.taylor_error.map((v) => (v !== null && v > 0 ? v : null));
  const r = new Plot(canvasE, { xlim: body.xlim, ylim: extent([err], { log: true }), logY: true, xlabel: "x", ylabel: "|f − Tn|" });
  r.axes();
  r.line(c.x, err, { color: COLORS[2], width: 2 });
  stamp(canvasE, { order: body.order });

  const rows = [
    ["f(x0)", n.value],
    ["f'(x0) by AD", n.slope],
    ["f''(x0) by AD", n.curvature],
    [`secant slope (f(x0 + h) − f(x0)) / h, h = ${fmt(h, 3)}`, n.secant],
    ["|secant − f'(x0)|", Math.abs(n.secant - n.slope)],
    ["f'(x0) by finite differences (Richardson)", n.numeric_slope],
    ["its error estimate", n.numeric_error],
  ];
  if ("symbolic_slope" in n) rows.push([`f'(x) by sympy: ${page.symbolic}`, n.symbolic_slope]);
  rows.push([`Taylor polynomial T${body.order}`, page.taylor]);
  fillTable("numbers", rows);
  showCode(page.code);
}

const later = debounce(update, 200);
for (const id of ["formula", "x0", "logh", "order", "xmin", "xmax"]) document.getElementById(id).addEventListener("input", later);
mirror("x0");
mirror("logh", (v) => Math.pow(10, v));
mirror("order");
canvasF.addEventListener("click", (event) => {
  const at = canvasF.plot && canvasF.plot.toData(event);
  if (!at) return;
  const slider = document.getElementById("x0");
  const lo = Number(val("xmin")), hi = Number(val("xmax"));
  slider.min = String(Math.min(lo, Number(slider.min)));
  slider.max = String(Math.max(hi, Number(slider.max)));
  slider.value = String(Math.round(at[0] * 100) / 100);
  slider.dispatchEvent(new Event("input"));
});
bindExports(() => last, "derivative", (page) => [
  ["x", "f", "df", "d2f", "taylor"],
  ...page.curves.x.map((x, i) => [x, page.curves.f[i], page.curves.df[i], page.curves.d2f[i], page.curves.taylor[i]]),
]);
update();
