import { COLORS, Plot, ask, bindExports, debounce, extent, fillGrid, fmt, legend, mirror, showCode, stamp, status, val } from "./lab.js";

const PROBLEMS = {
  bowl: { formula: "x^2 + 10*y^2", xlim: [-4, 4], ylim: [-2.5, 2.5], x0: [-3.5, 1.5], box: [[-3, 3], [0.5, 2]] },
  rosenbrock: { formula: "(1 - x)^2 + 100*(y - x^2)^2", xlim: [-2, 2], ylim: [-1, 3], x0: [-1.2, 1], box: [[-1.5, 0.8], [-0.5, 2.5]] },
  himmelblau: { formula: "(x^2 + y - 11)^2 + (x + y^2 - 7)^2", xlim: [-6, 6], ylim: [-6, 6], x0: [0.3, -0.8], box: [[-4, 0], [0, 4]] },
  own: { xlim: [-3, 3], ylim: [-3, 3] },
};
let problem = PROBLEMS.bowl;
let x0 = problem.x0.slice();
let box = problem.box.map((s) => s.slice());
let last = null;
let frame = 0;
const canvas = document.getElementById("plot-map");

const round3 = (v) => Number(v.toPrecision(3));

function methods() {
  return [...document.querySelectorAll("#methods input:checked")].map((el) => el.value);
}

function request() {
  return {
    formula: val("formula"),
    x0,
    methods: methods(),
    lr: round3(Math.pow(10, val("loglr"))),
    adaptive_lr: round3(Math.pow(10, val("logalr"))),
    beta: val("beta"),
    schedule: val("schedule"),
    maxiter: val("maxiter"),
    preset: document.querySelector("input[name=preset]:checked").value,
    box,
    xlim: problem.xlim,
    ylim: problem.ylim,
  };
}

async function update() {
  const body = request();
  if (!body.methods.length) {
    status("choose at least one method", true);
    return;
  }
  const page = await ask("api/race", body, "racing…");
  if (!page) return;
  last = page;
  const failed = Object.entries(last.runs).filter(([, r]) => !r.success).map(([m]) => m);
  status(failed.length ? `did not converge: ${failed.join(", ")} (see the messages below)` : "every method converged");
  show(body, last);
}

function colorOf(method) {
  const all = [...document.querySelectorAll("#methods input")].map((el) => el.value);
  return all.indexOf(method);
}

function show(body, page) {
  const names = Object.keys(page.runs);
  // the background (contours, box, start) is drawn once; each animation frame adds the paths so far
  const p = new Plot(canvas, { xlim: body.xlim, ylim: body.ylim, equal: true, xlabel: "x", ylabel: "y" });
  canvas.plot = p;
  p.contours(page.contours, { width: 1, alpha: 0.55 });
  if (page.box) p.rect(page.box[0][0], page.box[1][0], page.box[0][1], page.box[1][1]);
  p.axes();
  const background = p.ctx.getImageData(0, 0, canvas.width, canvas.height);
  const frames = 45;
  const mine = ++frame;
  const paint = (k) => {
    if (mine !== frame) return; // a newer race started
    p.ctx.putImageData(background, 0, 0);
    const t = k / frames;
    let drawn = 0;
    // longer paths first, so that a short path (e.g. Newton's) stays visible on top
    const order = names.slice().sort((a, b) => page.runs[b].path.length - page.runs[a].path.length);
    for (const m of order) {
      const path = page.runs[m].path;
      const upto = Math.max(1, Math.ceil(t * path.length));
      const shown = path.slice(0, upto);
      const color = COLORS[colorOf(m) % COLORS.length];
      p.path(shown, { color, width: m === "newton" || m === "lbfgs" ? 3 : 2 });
      p.dots(shown.length < 60 ? shown : [], { color, r: 2.5 });
      p.marker(shown[shown.length - 1][0], shown[shown.length - 1][1], { color, r: 4 });
      drawn += shown.length;
    }
    p.marker(body.x0[0], body.x0[1], { color: "#000", r: 5, label: "start" });
    if (k < frames) requestAnimationFrame(() => paint(k + 1));
    else stamp(canvas, { pathPoints: drawn, start: body.x0.join(","), methods: names.join(","), formula: body.formula, preset: body.preset });
  };
  paint(1);
  legend("legend", names.map((m) => [page.runs[m].success ? m : `${m} (failed)`, colorOf(m), !page.runs[m].success]));

  const lossCanvas = document.getElementById("plot-loss");
  const best = Math.min(...names.flatMap((m) => page.runs[m].f.filter((v) => v !== null)));
  const gaps = Object.fromEntries(names.map((m) => [m, page.runs[m].f.map((v) => (v === null ? null : Math.max(v - best, 1e-16)))]));
  const maxStep = Math.max(1, ...names.map((m) => page.runs[m].steps[page.runs[m].steps.length - 1]));
  const q = new Plot(lossCanvas, { xlim: [0, maxStep], ylim: extent(Object.values(gaps), { log: true }), logY: true, xlabel: "iteration", ylabel: "f − f_best" });
  q.axes();
  for (const m of names) q.line(page.runs[m].steps, gaps[m], { color: COLORS[colorOf(m) % COLORS.length], width: 2 });
  stamp(lossCanvas, { methods: names.join(",") });

  const th = page.theory;
  const theory = document.getElementById("theory");
  theory.replaceChildren();
  const head = document.createElement("p");
  head.textContent = th.L === null ? th.note : `Hessian at the start: L = ${fmt(th.L, 4)}, mu = ${fmt(th.mu, 4)}. ${th.note}`;
  const list = document.createElement("ul");
  for (const p of Object.values(th.presets)) {
    const li = document.createElement("li");
    li.textContent = p.rule;
    list.append(li);
  }
  theory.append(head, list);
  fillGrid("results", ["method", "lr", "beta", "iterations", "final f", "converged", "observed rate", "predicted rate", "message"],
    names.map((m) => {
      const r = page.runs[m];
      return [m, r.lr ?? null, r.beta ?? null, r.nit, r.fun, r.success, r.observed_rate, r.predicted_rate, r.message];
    }));
  showCode(page.code);
}

// Click: a new start point. Drag: a new box for projected gradient.
let down = null;
canvas.addEventListener("mousedown", (event) => { down = canvas.plot && canvas.plot.toData(event); });
canvas.addEventListener("mouseup", (event) => {
  const up = canvas.plot && canvas.plot.toData(event);
  if (!down || !up) return;
  const p = canvas.plot;
  const dragged = Math.hypot(p.px(up[0]) - p.px(down[0]), p.py(up[1]) - p.py(down[1])) > 8;
  if (dragged) {
    const r3 = (v) => Math.round(v * 1000) / 1000;
    box = [[r3(Math.min(down[0], up[0])), r3(Math.max(down[0], up[0]))], [r3(Math.min(down[1], up[1])), r3(Math.max(down[1], up[1]))]];
    document.querySelector('#methods input[value="projected_gradient"]').checked = true;
  } else {
    x0 = up.map((v) => Math.round(v * 1000) / 1000);
  }
  down = null;
  update();
});

document.getElementById("problem").addEventListener("change", () => {
  const name = val("problem");
  problem = PROBLEMS[name];
  if (problem.formula) {
    document.getElementById("formula").value = problem.formula;
    x0 = problem.x0.slice();
    box = problem.box.map((s) => s.slice());
  }
  update();
});
document.getElementById("formula").addEventListener("input", () => {
  document.getElementById("problem").value = "own";
  problem = { ...PROBLEMS.own };
});
const later = debounce(update, 300);
for (const id of ["formula", "loglr", "logalr", "beta", "schedule", "maxiter"]) document.getElementById(id).addEventListener("input", later);
for (const el of document.querySelectorAll("#methods input, input[name=preset]")) el.addEventListener("change", later);
mirror("loglr", (v) => round3(Math.pow(10, v)));
mirror("logalr", (v) => round3(Math.pow(10, v)));
mirror("beta");
mirror("maxiter");
bindExports(() => last, "race", (page) => [
  ["method", "iteration", "x", "y", "f"],
  ...Object.entries(page.runs).flatMap(([m, r]) => r.path.map((pt, i) => [m, r.steps[i], pt[0], pt[1], r.f[i]])),
]);
update();
