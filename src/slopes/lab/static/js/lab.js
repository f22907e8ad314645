// Shared pieces of the lab pages: requests, messages, the code panel, exports and a small canvas plotter.
// Server data is only ever shown with textContent: nothing from the server is parsed as HTML or code.

export const COLORS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#8c564b", "#7f7f7f"];

export async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (!response.ok) {
    throw new Error((data && data.error) || `the server answered ${response.status}`);
  }
  return data;
}

// Post to the lab with `busy` in the status line: the answer, or null once the refusal is shown there.
export async function ask(path, body, busy = "") {
  if (busy) status(busy);
  try {
    return await post(path, body);
  } catch (e) {
    status(e.message, true);
    return null;
  }
}

export function status(text, isError = false) {
  const el = document.getElementById("status");
  el.textContent = text;
  el.classList.toggle("error", isError);
}

export function showCode(text) {
  document.getElementById("code").textContent = text;
}

export function fmt(v, digits = 6) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v !== "number") return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-4 || Math.abs(v) >= 1e6)) return v.toExponential(digits - 2);
  return String(Number(v.toPrecision(digits)));
}

// A table of [name, value] rows, built with DOM nodes and textContent.
export function fillTable(id, rows) {
  const table = document.getElementById(id);
  table.replaceChildren();
  for (const [name, value] of rows) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.textContent = name;
    const td = document.createElement("td");
    td.className = "num";
    td.textContent = Array.isArray(value) ? "[" + value.map((x) => fmt(x)).join(", ") + "]" : fmt(value);
    tr.append(th, td);
    table.append(tr);
  }
}

// A table with a header row and rows of cells (numbers formatted, text as it is).
export function fillGrid(id, header, rows) {
  const table = document.getElementById(id);
  table.replaceChildren();
  const head = document.createElement("tr");
  for (const h of header) {
    const th = document.createElement("th");
    th.textContent = h;
    head.append(th);
  }
  table.append(head);
  for (const row of rows) {
    const tr = document.createElement("tr");
    for (const v of row) {
      const td = document.createElement("td");
      if (typeof v === "number" || v === null) td.className = "num";
      td.textContent = fmt(v, 5);
      tr.append(td);
    }
    table.append(tr);
  }
}

export function legend(id, names) {
  const el = document.getElementById(id);
  el.replaceChildren();
  names.forEach(([name, colorIndex, failed]) => {
    const span = document.createElement("span");
    span.className = `swatch-${colorIndex % COLORS.length}` + (failed ? " failed" : "");
    span.textContent = name;
    el.append(span);
  });
}

export function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function bindExports(getData, name, toRows) {
  document.getElementById("export-json").addEventListener("click", () => {
    const data = getData();
    if (data) download(`${name}.json`, JSON.stringify(data, null, 1), "application/json");
  });
  document.getElementById("export-csv").addEventListener("click", () => {
    const data = getData();
    if (data) download(`${name}.csv`, toRows(data).map((r) => r.join(",")).join("\n") + "\n", "text/csv");
  });
}

// Value of an <input>, as a number when it is one.
export function val(id) {
  const el = document.getElementById(id);
  return el.type === "range" || el.type === "number" ? Number(el.value) : el.value;
}

// Keep an <output for=...> showing its slider's value (through fn, for log sliders).
export function mirror(id, fn = (v) => v) {
  const input = document.getElementById(id);
  const out = document.querySelector(`output[for="${id}"]`);
  const show = () => { out.textContent = fmt(fn(Number(input.value)), 3); };
  input.addEventListener("input", show);
  show();
}

// Call fn at most once per `ms` while events keep coming, and once after they stop.
export function debounce(fn, ms = 250) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

function niceTicks(lo, hi, count = 6) {
  const span = hi - lo;
  if (!(span > 0) || !isFinite(span)) return [lo];
  const raw = span / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * span; t += step) ticks.push(Math.abs(t) < 1e-12 * span ? 0 : t);
  return ticks;
}

// Ticks of a log axis between 10^lo and 10^hi: [log10 value, label]; 2 and 5 between decades
// when fewer than three decades show.
function logTicks(lo, hi) {
  const decades = niceTicks(Math.floor(lo), Math.ceil(hi)).filter((t) => Number.isInteger(t));
  const ticks = [];
  for (const e of decades) {
    for (const k of decades.length < 4 ? [1, 2, 5] : [1]) {
      const t = e + Math.log10(k);
      if (t >= lo && t <= hi) ticks.push([t, k === 1 ? `1e${e}` : fmt(k * Math.pow(10, e), 2)]);
    }
  }
  return ticks;
}

const RAMP = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
export function ramp(t) {
  const x = Math.min(Math.max(t, 0), 1) * (RAMP.length - 1);
  const i = Math.min(Math.floor(x), RAMP.length - 2);
  const f = x - i;
  const c = RAMP[i].map((a, k) => Math.round(a + f * (RAMP[i + 1][k] - a)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

// A plot on a <canvas>: data coordinates, axes with ticks and labels kept inside the canvas,
// optional log y axis and equal scales on both axes (for contour maps).
export class Plot {
  constructor(canvas, { xlim, ylim, logY = false, equal = false, xlabel = "", ylabel = "" }) {
    this.canvas = canvas;
    const ratio = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 480;
    const h = canvas.clientHeight || 340;
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
    this.ctx = canvas.getContext("2d");
    this.ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.w = w;
    this.h = h;
    this.logY = logY;
    this.m = { left: 62, right: 14, top: 12, bottom: 40 };
    this.xlabel = xlabel;
    this.ylabel = ylabel;
    let [x0, x1] = xlim;
    let [y0, y1] = logY ? ylim.map((v) => Math.log10(v)) : ylim;
    if (equal) {
      const pw = w - this.m.left - this.m.right;
      const ph = h - this.m.top - this.m.bottom;
      const scale = Math.max((x1 - x0) / pw, (y1 - y0) / ph);
      const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
      [x0, x1] = [cx - (scale * pw) / 2, cx + (scale * pw) / 2];
      [y0, y1] = [cy - (scale * ph) / 2, cy + (scale * ph) / 2];
    }
    this.xlim = [x0, x1];
    this.ylim = [y0, y1];
    this.ctx.clearRect(0, 0, w, h);
    this.ctx.fillStyle = "#fff";
    this.ctx.fillRect(0, 0, w, h);
  }

  px(x) { return this.m.left + ((x - this.xlim[0]) / (this.xlim[1] - this.xlim[0])) * (this.w - this.m.left - this.m.right); }
  py(y) {
    const v = this.logY ? Math.log10(y) : y;
    return this.h - this.m.bottom - ((v - this.ylim[0]) / (this.ylim[1] - this.ylim[0])) * (this.h - this.m.top - this.m.bottom);
  }
  ok(y) { return y !== null && isFinite(y) && (!this.logY || y > 0); }

  // Data coordinates of a mouse event, or null outside the plotting area.
  toData(event) {
    const r = this.canvas.getBoundingClientRect();
    const cx = event.clientX - r.left, cy = event.clientY - r.top;
    if (cx < this.m.left || cx > this.w - this.m.right || cy < this.m.top || cy > this.h - this.m.bottom) return null;
    const x = this.xlim[0] + ((cx - this.m.left) / (this.w - this.m.left - this.m.right)) * (this.xlim[1] - this.xlim[0]);
    const y = this.ylim[0] + ((this.h - this.m.bottom - cy) / (this.h - this.m.top - this.m.bottom)) * (this.ylim[1] - this.ylim[0]);
    return [x, y];
  }

  clip(draw) {
    const c = this.ctx;
    c.save();
    c.beginPath();
    c.rect(this.m.left, this.m.top, this.w - this.m.left - this.m.right, this.h - this.m.top - this.m.bottom);
    c.clip();
    draw(c);
    c.restore();
  }

  axes() {
    const c = this.ctx;
    c.strokeStyle = "#9aa5b1";
    c.lineWidth = 1;
    c.strokeRect(this.m.left, this.m.top, this.w - this.m.left - this.m.right, this.h - this.m.top - this.m.bottom);
    c.fillStyle = "#3e4c59";
    c.font = "11px system-ui, sans-serif";
    c.textAlign = "center";
    c.textBaseline = "top";
    for (const t of niceTicks(...this.xlim)) {
      const x = this.px(t);
      c.fillText(fmt(t, 3), x, this.h - this.m.bottom + 4);
      c.beginPath(); c.moveTo(x, this.h - this.m.bottom); c.lineTo(x, this.h - this.m.bottom + 3); c.stroke();
    }
    c.textAlign = "right";
    c.textBaseline = "middle";
    for (const [t, label] of this.logY ? logTicks(...this.ylim) : niceTicks(...this.ylim).map((t) => [t, fmt(t, 3)])) {
      const y = this.logY ? this.py(Math.pow(10, t)) : this.py(t);
      c.fillText(label, this.m.left - 5, y);
      c.beginPath(); c.moveTo(this.m.left - 3, y); c.lineTo(this.m.left, y); c.stroke();
    }
    c.textAlign = "center";
    c.textBaseline = "bottom";
    c.fillText(this.xlabel, (this.m.left + this.w - this.m.right) / 2, this.h - 2);
    c.save();
    c.translate(12, (this.m.top + this.h - this.m.bottom) / 2);
    c.rotate(-Math.PI / 2);
    c.textBaseline = "middle";
    c.fillText(this.ylabel, 0, 0);
    c.restore();
  }

  // A curve through (xs[i], ys[i]); null or non-finite values leave gaps.
  line(xs, ys, { color = "#0072b2", width = 2, dash = [] } = {}) {
    this.clip((c) => {
      c.strokeStyle = color;
      c.lineWidth = width;
      c.setLineDash(dash);
      c.beginPath();
      let pen = false;
      for (let i = 0; i < xs.length; i++) {
        if (!this.ok(ys[i]) || xs[i] === null) { pen = false; continue; }
        const X = this.px(xs[i]), Y = this.py(ys[i]);
        if (pen) c.lineTo(X, Y); else c.moveTo(X, Y);
        pen = true;
      }
      c.stroke();
    });
  }

  path(points, opts) { this.line(points.map((p) => p && p[0]), points.map((p) => p && p[1]), opts); }

  dots(points, { color = "#0072b2", r = 2.5, alpha = 1 } = {}) {
    this.clip((c) => {
      c.fillStyle = color;
      c.globalAlpha = alpha;
      for (const p of points) {
        if (!p || p[0] === null || p[1] === null) continue;
        c.beginPath(); c.arc(this.px(p[0]), this.py(p[1]), r, 0, 2 * Math.PI); c.fill();
      }
    });
  }

  marker(x, y, { color = "#000", r = 5, label = "" } = {}) {
    this.clip((c) => {
      c.fillStyle = color;
      c.strokeStyle = "#fff";
      c.lineWidth = 1.5;
      c.beginPath(); c.arc(this.px(x), this.py(y), r, 0, 2 * Math.PI); c.fill(); c.stroke();
      if (label) {
        c.fillStyle = "#1f2933";
        c.font = "11px system-ui, sans-serif";
        c.textAlign = "left";
        c.textBaseline = "bottom";
        c.fillText(label, this.px(x) + r + 2, this.py(y) - 2);
      }
    });
  }

  arrow(x, y, dx, dy, { color = "#444", width = 1.2, head = 5 } = {}) {
    this.clip((c) => {
      const X0 = this.px(x), Y0 = this.py(y), X1 = this.px(x + dx), Y1 = this.py(y + dy);
      const a = Math.atan2(Y1 - Y0, X1 - X0);
      c.strokeStyle = color;
      c.fillStyle = color;
      c.lineWidth = width;
      c.beginPath(); c.moveTo(X0, Y0); c.lineTo(X1, Y1); c.stroke();
      c.beginPath();
      c.moveTo(X1, Y1);
      c.lineTo(X1 - head * Math.cos(a - 0.4), Y1 - head * Math.sin(a - 0.4));
      c.lineTo(X1 - head * Math.cos(a + 0.4), Y1 - head * Math.sin(a + 0.4));
      c.closePath(); c.fill();
    });
  }

  // Contour lines from the server: [[level index, [[x, y], ...]], ...], coloured by level.
  contours(field, { width = 1, alpha = 0.8, color = null, dash = [] } = {}) {
    const n = Math.max(1, field.levels.length - 1);
    for (const [level, pts] of field.lines) {
      this.ctx.save();
      this.ctx.globalAlpha = alpha;
      this.path(pts, { color: color || ramp(level / n), width, dash });
      this.ctx.restore();
    }
  }

  rect(x0, y0, x1, y1, { color = "#d55e00", width = 2, dash = [6, 4] } = {}) {
    this.clip((c) => {
      c.strokeStyle = color;
      c.lineWidth = width;
      c.setLineDash(dash);
      c.strokeRect(this.px(x0), this.py(y1), this.px(x1) - this.px(x0), this.py(y0) - this.py(y1));
    });
  }
}

// Range of the finite values of several arrays (positive ones only for a log axis), padded.
export function extent(arrays, { log = false, pad = 0.05 } = {}) {
  let lo = Infinity, hi = -Infinity;
  for (const a of arrays) for (const v of a) {
    if (v === null || !isFinite(v) || (log && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!isFinite(lo)) return log ? [1e-3, 1] : [-1, 1];
  if (log) return [lo / 1.5, hi * 1.5];
  if (lo === hi) return [lo - 1, hi + 1];
  const d = (hi - lo) * pad;
  return [lo - d, hi + d];
}

// Mark the canvas with what was drawn (read by the browser tests) and a draw counter.
export function stamp(canvas, attrs) {
  for (const [k, v] of Object.entries(attrs)) canvas.dataset[k] = String(v);
  canvas.dataset.draws = String(Number(canvas.dataset.draws || 0) + 1);
}
