"""slopes' bfgs / lbfgs against scipy.optimize.minimize's BFGS / L-BFGS-B on the MGH set.

Usage::

    python benchmarks/optim.py           # full run (median of 7 timed repeats per solve)
    python benchmarks/optim.py --quick   # smoke run (median of 1 timed repeat)

Both libraries get literally the same objective and gradient: plain NumPy functions that
wrap ``p.fun`` and ``sl.grad(p.fun)`` (returning ``float`` / ``np.ndarray``) and count their
own calls, so nfev / ngev are measured the same way for both. Every solver starts from the
problem's standard start with gtol = 1e-5 (scipy: ``gtol`` for BFGS (inf-norm) and
``pgtol``-equivalent ``gtol`` for L-BFGS-B, both max|grad|).

L-BFGS-B is run twice: with scipy's defaults, where it also stops on its relative
f-reduction test (``ftol``, i.e. ``factr``) and so often returns before max|grad| <= gtol,
and with ``ftol=0``, the gradient-only stop slopes uses. Each comparison lists the problems
where either solver fails (returns max|grad| > gtol) or the two reach different minima.

Reported per problem: iterations, f and gradient evaluations, final f, max|grad| at the
returned x (recomputed here, not taken from the solver), success flag and wall time per
solve (median of repeats). Then the issue-5 targets as PASS / MISS with the numbers, and
Newton's quadratic convergence on an L2-regularised logistic loss.

A change meant to keep the arithmetic keeps every iterate's bits; to check it::

    PYTHONPATH=/tmp/base/src python benchmarks/optim.py --iterates-save /tmp/iterates.pkl
    python benchmarks/optim.py --iterates-compare /tmp/iterates.pkl

(bfgs and lbfgs, with ``jac=`` and with AD, on the MGH set and speed.py's 100-D chained and
extended Rosenbrocks: every iterate, f, max|g|, step, evaluation count and the result.)

Instructions per solve of speed.py's L-BFGS rows: ``benchmarks/lbfgs_work.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

import slopes as sl
import slopes.numpy as snp

GTOL = 1e-5
MAXITER = 2000
# (slopes method, scipy label, scipy method, extra scipy options)
PAIRS = (("bfgs", "BFGS", "BFGS", {}), ("lbfgs", "L-BFGS-B", "L-BFGS-B", {}),
         ("lbfgs", "L-BFGS-B ftol=0", "L-BFGS-B", {"ftol": 0.0}))


class Counted:
    """Plain NumPy objective and gradient around a slopes problem, counting calls."""

    def __init__(self, p):
        self.p = p
        self._g = sl.grad(p.fun)
        self.nf = 0
        self.ng = 0

    def f(self, x):
        self.nf += 1
        return float(np.asarray(self.p.fun(np.asarray(x, dtype=np.float64))))

    def g(self, x):
        self.ng += 1
        return np.array(self._g(np.asarray(x, dtype=np.float64)), dtype=np.float64).reshape(-1)


def solve(lib, method, p, options=None):
    """One solve; returns (result dict, wall seconds)."""
    c = Counted(p)
    x0 = np.array(p.x0, dtype=np.float64)
    t0 = time.perf_counter()
    if lib == "slopes":
        r = sl.minimize(c.f, x0, method=method, jac=c.g, gtol=GTOL, maxiter=MAXITER)
        wall = time.perf_counter() - t0
        x, f, nit, ok, msg = r.x, r.fun, r.nit, r.success, r.message
    else:
        from scipy.optimize import minimize

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = minimize(c.f, x0, method=method, jac=c.g,
                         options={"gtol": GTOL, "maxiter": MAXITER, **(options or {})})
        wall = time.perf_counter() - t0
        x, f, nit, ok, msg = r.x, float(r.fun), int(r.nit), bool(r.success), str(r.message)
    nf, ng = c.nf, c.ng
    gmax = float(np.max(np.abs(c.g(x))))  # measured here, after the counts were read
    return dict(nit=nit, nfev=nf, ngev=ng, f=float(f), gmax=gmax, success=bool(ok), msg=msg), wall


def run_all(repeats):
    rows = []
    for p in sl.problems.MGH:
        row = {"name": p.name, "n": p.n}
        for ours, label, theirs, options in PAIRS:
            for lib, meth, key, opts in (("slopes", ours, ours, None), ("scipy", theirs, label, options)):
                if key in row:
                    continue
                res, w = solve(lib, meth, p, opts)  # untimed warm-up, also the reported result
                walls = [solve(lib, meth, p, opts)[1] for _ in range(repeats)] or [w]
                res["wall"] = statistics.median(walls)
                row[key] = res
        rows.append(row)
        print(f"  {p.name} done", file=sys.stderr, flush=True)
    return rows


def fmt_row(name, r):
    ok = "yes" if r["success"] else "no"
    return (f"| {name} | {r['nit']} | {r['nfev']} | {r['ngev']} | {r['f']:.10g} | "
            f"{r['gmax']:.2e} | {ok} | {1e3 * r['wall']:.2f} |")


def unlike(a, b):
    """Why two solves of one problem are not like for like ("" when they are): a solver that
    returned max|grad| > gtol (fails), or final values that differ (different minima)."""
    why = [f"{who} fails, max|grad| {r['gmax']:.1e}" for who, r in (("slopes", a), ("scipy", b))
           if not r["gmax"] <= GTOL]
    if not why and abs(a["f"] - b["f"]) > 1e-6 * (1.0 + abs(b["f"])):
        why.append(f"different minima, f {a['f']:.6g} vs {b['f']:.6g}")
    return ", ".join(why)


def f_ok(fs, fo):
    """slopes' f equal to or lower than scipy's (within 1e-8 relative or 1e-12 absolute)."""
    return fs <= fo + max(1e-8 * abs(fo), 1e-12)


def report(rows, repeats):
    print(f"### Per problem (gtol = 1e-5, maxiter = {MAXITER}, wall = median of "
          f"{max(repeats, 1)} repeat(s), ms)\n")
    for ours, theirs, _, _ in PAIRS:
        print(f"#### slopes `{ours}` vs scipy `{theirs}`\n")
        print("| problem (n) | solver | nit | nfev | ngev | final f | max\\|grad\\| | success | ms |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
        for row in rows:
            for lib, meth in (("slopes", ours), ("scipy", theirs)):
                print(fmt_row(f"{row['name']} ({row['n']}) | {lib} {meth}", row[meth]))
        print()

    print("### Targets\n")
    nprob = len(rows)
    verdicts = []
    for ours, theirs, _, _ in PAIRS:
        # (1) counts
        worse = []
        for row in rows:
            a, b = row[ours], row[theirs]
            bad = [k for k in ("nit", "nfev", "ngev") if a[k] > b[k]]
            if bad:
                worse.append(f"{row['name']} ({', '.join(f'{k} {a[k]}>{b[k]}' for k in bad)})")
        good = nprob - len(worse)
        v1 = good >= 0.8 * nprob
        verdicts.append(v1)
        print(f"- (1) {ours} <= {theirs} in nit, nfev and ngev on >= 80% of problems: "
              f"**{'PASS' if v1 else 'MISS'}** ({good}/{nprob} = {100 * good / nprob:.0f}%)"
              + (f"; more on: {'; '.join(worse)}" if worse else ""))
        # informational: only where both answers meet gtol at the same minimum (the counts
        # are then those of two solves that reached the same criterion at the same point)
        odd = [f"{row['name']} ({unlike(row[ours], row[theirs])})" for row in rows
               if unlike(row[ours], row[theirs])]
        fair = [row for row in rows if not unlike(row[ours], row[theirs])]
        fgood = sum(all(row[ours][k] <= row[theirs][k] for k in ("nit", "nfev", "ngev"))
                    for row in fair)
        print(f"  - either fails or they reach different minima on: {'; '.join(odd) or 'none'}")
        print(f"  - (informational) restricted to the {len(fair)} other problems: {fgood}/{len(fair)}"
              + (f" = {100 * fgood / len(fair):.0f}%" if fair else ""))
        # (2) f
        fbad = [f"{row['name']} ({row[ours]['f']:.10g} vs {row[theirs]['f']:.10g})"
                for row in rows if not f_ok(row[ours]["f"], row[theirs]["f"])]
        v2 = not fbad
        verdicts.append(v2)
        print(f"- (2) {ours} final f <= {theirs}'s on all problems: **{'PASS' if v2 else 'MISS'}** "
              f"({nprob - len(fbad)}/{nprob})" + (f"; higher on: {'; '.join(fbad)}" if fbad else ""))
        # (3) false success
        false_ours = [f"{row['name']} (max|g| {row[ours]['gmax']:.2e})" for row in rows
                      if row[ours]["success"] and row[ours]["gmax"] > 10 * GTOL]
        false_theirs = [f"{row['name']} (max|g| {row[theirs]['gmax']:.2e})" for row in rows
                        if row[theirs]["success"] and row[theirs]["gmax"] > 10 * GTOL]
        v3 = not false_ours
        verdicts.append(v3)
        print(f"- (3) {ours} never reports success with max|grad| > 10 gtol: "
              f"**{'PASS' if v3 else 'MISS'}**"
              + (f" (does on: {'; '.join(false_ours)})" if false_ours else "")
              + f". scipy {theirs} does on: {'; '.join(false_theirs) if false_theirs else 'none'}")
        # (4) wall time
        ratios = [(row[ours]["wall"] / row[theirs]["wall"], row["name"]) for row in rows]
        med = statistics.median(r for r, _ in ratios)
        worst = max(ratios)
        v4 = med <= 1.5
        verdicts.append(v4)
        print(f"- (4) {ours} wall time per solve <= 1.5x {theirs}'s (median of per-problem "
              f"ratios): **{'PASS' if v4 else 'MISS'}** (median {med:.2f}x, worst {worst[0]:.2f}x "
              f"on {worst[1]}, best {min(ratios)[0]:.2f}x on {min(ratios)[1]})")
    print()
    return all(verdicts)


def newton_logistic():
    n, d, lam = 1000, 10, 1e-3
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    y = np.where(X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)

    def loss(w):
        return snp.mean(snp.logaddexp(0.0, -y * (X @ w))) + lam / 2 * snp.sum(w * w)

    r = sl.minimize(loss, np.zeros(d), method="newton", gtol=1e-13, maxiter=50)
    g = np.asarray(r.history.grad_norm, dtype=float)
    print("### Newton on the L2-regularised logistic loss (n = 1000, d = 10, lam = 1e-3, "
          "seed 0, w0 = 0, gtol = 1e-13)\n")
    print(f"success={r.success}, nit={r.nit}, nfev={r.nfev}, ngev={r.ngev}, nhev={r.nhev}, "
          f"f={r.fun:.15g}; message: {r.message}\n")
    print("| k | max\\|g_k\\| | \\|g_k\\| / \\|g_{k-1}\\|^2 |")
    print("| ---: | ---: | ---: |")
    for k, gk in enumerate(g):
        ratio = f"{gk / g[k - 1] ** 2:.3g}" if k > 0 and g[k - 1] > 0 else ""
        print(f"| {k} | {gk:.3e} | {ratio} |")
    print()
    # quadratic phase: ratios over steps where both norms are above roundoff level
    ok = [(k, g[k] / g[k - 1] ** 2) for k in range(1, len(g)) if g[k] > 1e-14 and g[k - 1] < 1e-1]
    if ok:
        tail = ok[-3:]
        print("ratios |g_{k+1}|/|g_k|^2 over the last iterations (|g_{k+1}| > 1e-14): "
              + ", ".join(f"k={k - 1}->{k}: {v:.3g}" for k, v in tail)
              + ". Bounded ratios while |g| drops by orders of magnitude = quadratic convergence.")
    print()


def environment():
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, cwd=os.path.dirname(__file__)).stdout.strip()
    except OSError:
        commit = "?"
    import scipy

    la = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(f"date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; python "
          f"{platform.python_version()}; numpy {np.__version__}; scipy {scipy.__version__}; "
          f"slopes {getattr(sl, '__version__', '?')} ({commit}); {os.cpu_count()} cpus; "
          f"load average {', '.join(f'{v:.2f}' for v in la)}\n")


def iterates():
    """``{(problem, method, "jac" or "ad"): bytes of every iterate and of the result}``."""
    from speed import GTOL as SPEED_GTOL, ROSENBROCKS

    runs = {}
    for key, (_, fun_sl, fun_np, grad_np) in ROSENBROCKS.items():
        x0 = np.tile([-1.2, 1.0], 50)
        runs[key] = (fun_sl, fun_np, grad_np, x0, SPEED_GTOL)
    for p in sl.problems.MGH:
        c = Counted(p)
        runs[p.name] = (p.fun, c.f, c.g, np.array(p.x0, dtype=np.float64), GTOL)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (fun_ad, fun, grad, x0, gtol) in runs.items():
            for method in ("lbfgs", "bfgs"):
                for kind, kw in (("jac", dict(jac=grad)), ("ad", {})):
                    r = sl.minimize(fun if kind == "jac" else fun_ad, x0, method=method, gtol=gtol,
                                    maxiter=MAXITER, record_x=True, **kw)
                    h = r.history
                    out[(name, method, kind)] = (
                        r.x.tobytes(), r.fun, r.grad.tobytes(), r.nit, r.nfev, r.ngev, r.success, r.message,
                        r.x_best.tobytes(), r.fun_best, h.x.tobytes(), h.f.tobytes(), h.grad_norm.tobytes(),
                        h.step_size.tobytes(), h.lr.tobytes(), h.nfev.tobytes())
    return out


def compare_iterates(path) -> int:
    import pickle

    with open(path, "rb") as fh:
        ref = pickle.load(fh)
    now = iterates()
    differ = [k for k in ref if now.get(k) != ref[k]]
    print(f"{len(ref)} runs compared bit for bit; differ: {differ or 'none'}")
    return 1 if differ else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one timed repeat instead of seven")
    ap.add_argument("--iterates-save", metavar="PATH", help="save every run's iterates (pickle) and exit")
    ap.add_argument("--iterates-compare", metavar="PATH", help="compare every run's iterates with a saved file")
    args = ap.parse_args(argv)
    if args.iterates_save:
        import pickle

        runs = iterates()
        with open(args.iterates_save, "wb") as fh:
            pickle.dump(runs, fh)
        print(f"{len(runs)} runs saved to {args.iterates_save}")
        return 0
    if args.iterates_compare:
        return compare_iterates(args.iterates_compare)
    repeats = 1 if args.quick else 7
    t0 = time.perf_counter()
    environment()
    rows = run_all(repeats)
    allpass = report(rows, repeats)
    newton_logistic()
    la = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(f"total {time.perf_counter() - t0:.0f} s; load average at end "
          f"{', '.join(f'{v:.2f}' for v in la)}")
    return 0 if allpass else 1


if __name__ == "__main__":
    sys.exit(main())
