import { COLORS, Plot, ask, bindExports, debounce, fillTable, fmt, mirror, showCode, stamp, status, val } from "./lab.js";

let last = null;
let point = [1.0, 1.0];
const canvas = document.getElementById("plot-map");
const KIND = { minimum: ["●", COLORS[2]], maximum: ["▲", COLORS[1]], saddle: ["◆", COLORS[4]] };

function request() {
  return {
    formula: val("formula"),
    xlim: [Number(val("xmin")), Number(val("xmax"))],
    ylim: [Number(val("ymin")), Number(val("ymax"))],
    n: val("n"),
    point,
    angle: (val("angle") * Math.PI) / 180,
  };
}

async function update() {
  const body = request();
  const page = await ask("api/landscape", body, "computing…");
  if (!page) return;
  last = page;
  draw(body, last);
  status("");
}

function draw(body, page) {
  const p = new Plot(canvas, { xlim: body.xlim, ylim: body.ylim, equal: true, xlabel: "x", ylabel: "y" });
  canvas.plot = p;
  p.contours(page.contours, { width: 1.2 });
  const span = Math.min(body.xlim[1] - body.xlim[0], body.ylim[1] - body.ylim[0]);
  const len = span / 30;
  for (const [x, y, gx, gy] of page.arrows) {
    const g = Math.hypot(gx, gy);
    if (g > 0) p.arrow(x, y, (len * gx) / g, (len * gy) / g, { color: "#7b8794", width: 1, head: 3.5 });
  }
  p.contours(page.model, { width: 1, color: "#1f2933", dash: [3, 3], alpha: 0.7 });
  const n = page.numbers;
  const [x, y] = body.point;
  const g = n.gradient;
  const gn = Math.hypot(g[0], g[1]);
  const big = span / 6;
  page.eigenvectors.forEach((v) => p.line([x - big * v[0], x + big * v[0]], [y - big * v[1], y + big * v[1]], { color: "#52606d", width: 2.5 }));
  if (gn > 0) p.arrow(x, y, (big * g[0]) / gn, (big * g[1]) / gn, { color: "#000", width: 2.5, head: 8 });
  const u = page.direction;
  p.arrow(x, y, big * 0.8 * u[0], big * 0.8 * u[1], { color: COLORS[4], width: 2.5, head: 8 });
  p.marker(x, y, { color: "#000", r: 4 });
  for (const c of page.critical) {
    const [sym, color] = KIND[c.kind] || ["?", "#000"];
    p.clip((ctx) => {
      ctx.fillStyle = color;
      ctx.strokeStyle = "#fff";
      ctx.font = "bold 18px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.lineWidth = 3;
      ctx.strokeText(sym, p.px(c.x[0]), p.py(c.x[1]));
      ctx.fillText(sym, p.px(c.x[0]), p.py(c.x[1]));
    });
  }
  p.axes();
  stamp(canvas, { point: `${x},${y}`, formula: body.formula, critical: page.critical.length, angle: body.angle });

  fillTable("numbers", [
    ["point (x, y)", body.point],
    ["f", n.value],
    ["gradient", g],
    ["|gradient|", gn],
    [`directional derivative along u = (${fmt(u[0], 3)}, ${fmt(u[1], 3)})`, n.directional],
    ["Hessian row 1", n.hessian[0]],
    ["Hessian row 2", n.hessian[1]],
    ["Hessian eigenvalues", n.eigenvalues],
    ["curvature", n.eigenvalues[0] > 0 ? "positive definite" : n.eigenvalues[1] < 0 ? "negative definite" : "indefinite or flat"],
  ]);
  fillTable("critical", page.critical.length
    ? page.critical.map((c) => [`${c.kind} at (${fmt(c.x[0], 4)}, ${fmt(c.x[1], 4)})`, c.value])
    : [["none found in the window", null]]);
  showCode(page.code);
}

const later = debounce(update, 250);
for (const id of ["formula", "angle", "n", "xmin", "xmax", "ymin", "ymax"]) document.getElementById(id).addEventListener("input", later);
mirror("angle");
mirror("n");
canvas.addEventListener("click", (event) => {
  const at = canvas.plot && canvas.plot.toData(event);
  if (!at) return;
  point = at.map((v) => Math.round(v * 1000) / 1000);
  update();
});
bindExports(() => last, "landscape", (page) => [
  ["x", "y", "df/dx", "df/dy"],
  ...page.arrows,
]);
update();
