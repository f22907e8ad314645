import { COLORS, Plot, ask, bindExports, debounce, fillTable, fmt, mirror, showCode, stamp, status, val } from "./lab.js";

let last = null;
let x0 = [0.5, 0.5];
const canvas = document.getElementById("plot-map");
const XLIM = [-3, 3], YLIM = [-2, 4];

function request() {
  return {
    formula: val("formula"),
    x0,
    step_size: Number(Math.pow(10, val("logeps")).toPrecision(3)),
    n_steps: val("steps"),
    n_samples: val("samples"),
    n_warmup: val("warmup"),
    adapt: document.getElementById("adapt").checked,
    seed: Number(val("seed")),
    xlim: XLIM,
    ylim: YLIM,
  };
}

async function update() {
  const body = request();
  const page = await ask("api/sampling", body, "sampling…");
  if (!page) return;
  last = page;
  draw(body, last);
  status(last.n_divergent ? `${last.n_divergent} divergent trajectories: lower the step size` : "");
}

function draw(body, page) {
  const p = new Plot(canvas, { xlim: body.xlim, ylim: body.ylim, equal: true, xlabel: "x", ylabel: "y" });
  canvas.plot = p;
  p.contours(page.contours, { width: 1, alpha: 0.6 });
  p.dots(page.samples, { color: "#334e68", r: 1.8, alpha: 0.45 });
  page.trajectories.forEach((t, i) => {
    const color = COLORS[(i + 1) % COLORS.length];
    p.path(t, { color, width: 2 });
    p.dots(t, { color, r: 2.6 });
    p.marker(t[0][0], t[0][1], { color, r: 4 });
  });
  p.marker(body.x0[0], body.x0[1], { color: "#000", r: 5, label: "start" });
  p.axes();
  stamp(canvas, { start: body.x0.join(","), samples: page.samples.length, trajectories: page.trajectories.length, formula: body.formula, stepSize: body.step_size });
  const n = page.numbers;
  fillTable("numbers", [
    ["acceptance rate", n.acceptance_rate],
    ["sample mean", n.mean],
    ["effective sample size (x, y)", n.ess],
    ["step size used", n.step_size],
    ["leapfrog steps per sample", body.n_steps],
    ["divergent trajectories", page.n_divergent],
    ["energy error H(end) − H(start) of the trajectories drawn", page.energy_errors],
  ]);
  showCode(page.code);
}

const later = debounce(update, 300);
for (const id of ["formula", "logeps", "steps", "samples", "warmup", "adapt", "seed"]) document.getElementById(id).addEventListener("input", later);
mirror("logeps", (v) => Number(Math.pow(10, v).toPrecision(3)));
mirror("steps");
mirror("samples");
mirror("warmup");
canvas.addEventListener("click", (event) => {
  const at = canvas.plot && canvas.plot.toData(event);
  if (!at) return;
  x0 = at.map((v) => Math.round(v * 1000) / 1000);
  update();
});
bindExports(() => last, "sampling", (page) => [["x", "y"], ...page.samples]);
update();
