import { COLORS, Plot, ask, bindExports, extent, fillTable, fmt, legend, mirror, post, showCode, stamp, status, val } from "./lab.js";

let run = null; // {id, source, steps, epochs, end}
let lrTest = null;
const buttons = Object.fromEntries(["start", "pause", "resume", "lrtest"].map((id) => [id, document.getElementById(id)]));

function config() {
  return {
    dataset: val("dataset"),
    model: val("model"),
    width: val("width"),
    optimizer: val("optimizer"),
    lr: Number(Math.pow(10, val("loglr")).toPrecision(3)),
    schedule: val("schedule"),
    batch_size: val("batch"),
    epochs: val("epochs"),
  };
}

function controls(state) {
  buttons.pause.disabled = state !== "running";
  buttons.resume.disabled = state !== "paused";
}

async function start() {
  if (run && !run.end) {
    run.source.close();
    post(`api/train/${run.id}/stop`, {}).catch(() => {});
  }
  const body = config();
  const answer = await ask("api/train", body, "starting…");
  if (!answer) return;
  run = { id: answer.id, total: answer.steps, body, steps: [], epochs: [], end: null };
  const source = new EventSource(`api/train/${answer.id}/events`);
  run.source = source;
  const mine = run;
  source.addEventListener("message", (message) => {
    if (mine !== run) return;
    const event = JSON.parse(message.data);
    if (event.event === "step") mine.steps.push(event);
    else if (event.event === "epoch") mine.epochs.push(event);
    else if (event.event === "paused") { controls("paused"); status(`stopped at step ${lastStep()}; press Resume to go on`); }
    else if (event.event === "resumed") controls("running");
    else if (event.event === "end") finish(event);
    schedule();
  });
  source.addEventListener("error", () => {
    if (mine === run && !mine.end) status("the connection to the lab was lost", true);
    source.close();
  });
  controls("running");
  status(`training: ${answer.steps} steps`);
}

function lastStep() {
  const e = run.epochs[run.epochs.length - 1], s = run.steps[run.steps.length - 1];
  return Math.max(e ? e.step : 0, s ? s.step : 0);
}

function finish(event) {
  run.end = event;
  run.source.close();
  controls("ended");
  const failed = event.status === "diverged" || event.status === "error";
  const words = { finished: "finished", stopped: "stopped", diverged: "diverged", budget: "ended at the time budget", error: "failed" };
  status(`${words[event.status] || event.status}${event.message ? ": " + event.message : ""}`, failed);
  if (event.code) showCode(event.code);
  const n = event.numbers || {};
  fillTable("numbers", [
    ["status", event.status],
    ["steps", n.steps ?? null],
    ["final train loss", n.loss ?? null],
    ["final test loss", n.val_loss ?? null],
    ["final train accuracy", n.accuracy ?? null],
    ["final test accuracy", n.val_accuracy ?? null],
  ]);
}

let pending = false;
function schedule() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; draw(); });
}

function draw() {
  if (!run) return;
  const lossCanvas = document.getElementById("plot-loss");
  const steps = run.steps, epochs = run.epochs;
  const ys = [steps.map((s) => s.loss), epochs.map((e) => e.loss), epochs.map((e) => e.val_loss)];
  const p = new Plot(lossCanvas, { xlim: [0, Math.max(run.total, 1)], ylim: extent(ys, { log: true }), logY: true, xlabel: "step", ylabel: "loss" });
  p.axes();
  p.line(steps.map((s) => s.step), steps.map((s) => s.loss), { color: COLORS[8], width: 1 });
  p.line(epochs.map((e) => e.step), epochs.map((e) => e.loss), { color: COLORS[0], width: 2.5 });
  p.line(epochs.map((e) => e.step), epochs.map((e) => e.val_loss), { color: COLORS[1], width: 2.5, dash: [6, 3] });
  p.dots(epochs.map((e) => [e.step, e.loss]), { color: COLORS[0], r: 3 });
  stamp(lossCanvas, { steps: steps.length, epochs: epochs.length });
  legend("legend-loss", [["batch loss", 8], ["train loss (epoch mean)", 0], ["test loss", 1]]);

  const accCanvas = document.getElementById("plot-acc");
  const q = new Plot(accCanvas, { xlim: [0, run.body.epochs], ylim: [0, 1.02], xlabel: "epoch", ylabel: "accuracy" });
  q.axes();
  q.line(epochs.map((e) => e.epoch), epochs.map((e) => e.accuracy), { color: COLORS[0], width: 2.5 });
  q.line(epochs.map((e) => e.epoch), epochs.map((e) => e.val_accuracy), { color: COLORS[1], width: 2.5, dash: [6, 3] });
  q.dots(epochs.map((e) => [e.epoch, e.val_accuracy]), { color: COLORS[1], r: 3 });
  stamp(accCanvas, { epochs: epochs.length });
  legend("legend-acc", [["train", 0], ["test", 1]]);
  const e = epochs[epochs.length - 1];
  if (e && !run.end && !buttons.pause.disabled) {
    status(`epoch ${e.epoch}/${run.body.epochs}: train loss ${fmt(e.loss, 4)}, test accuracy ${fmt(e.val_accuracy, 3)}`);
  }
}

async function control(action) {
  if (!run) return;
  await ask(`api/train/${run.id}/${action}`, {});
}

async function rangeTest() {
  const body = { ...config(), num_steps: 150, min_lr: 1e-5, max_lr: 10 };
  buttons.lrtest.disabled = true;
  const answer = await ask("api/lr_range", body, "learning-rate range test…");
  buttons.lrtest.disabled = false;
  if (!answer) return;
  lrTest = answer;
  const canvas = document.getElementById("plot-lr");
  const x = lrTest.lrs.map((v) => Math.log10(v));
  const p = new Plot(canvas, { xlim: [x[0], x[x.length - 1]], ylim: extent([lrTest.smoothed, lrTest.losses], { log: true }), logY: true, xlabel: "log10 learning rate", ylabel: "batch loss" });
  p.axes();
  p.line(x, lrTest.losses, { color: COLORS[8], width: 1 });
  p.line(x, lrTest.smoothed, { color: COLORS[0], width: 2.5 });
  const s = Math.log10(lrTest.numbers.suggestion);
  p.line([s, s], p.logY ? [Math.pow(10, p.ylim[0]), Math.pow(10, p.ylim[1])] : p.ylim, { color: COLORS[2], width: 2, dash: [5, 3] });
  stamp(canvas, { points: x.length });
  legend("legend-lr", [["batch loss", 8], ["smoothed", 0], [`suggestion ${fmt(lrTest.numbers.suggestion, 3)} (minimum / 10)`, 2]]);
  document.getElementById("loglr").value = String(s);
  document.getElementById("loglr").dispatchEvent(new Event("input"));
  status(`suggested learning rate ${fmt(lrTest.numbers.suggestion, 3)} (set on the slider)` + (lrTest.numbers.diverged ? "" : "; the loss never blew up: sweep further"));
  showCode(lrTest.code);
}

buttons.start.addEventListener("click", start);
buttons.pause.addEventListener("click", () => control("pause"));
buttons.resume.addEventListener("click", () => control("resume"));
buttons.lrtest.addEventListener("click", rangeTest);
mirror("width");
mirror("loglr", (v) => Number(Math.pow(10, v).toPrecision(3)));
mirror("batch");
mirror("epochs");
bindExports(() => (run ? { config: run.body, steps: run.steps, epochs: run.epochs, end: run.end } : null), "training", (data) => [
  ["epoch", "step", "loss", "val_loss", "accuracy", "val_accuracy"],
  ...data.epochs.map((e) => [e.epoch, e.step, e.loss, e.val_loss, e.accuracy, e.val_accuracy]),
]);
showCode("Press Start to train: the code of the run appears here when it ends.");
