"""Report sections on optimization: step sizes, GD vs momentum vs Adam, batch sizes, schedules, projections.

Each section function takes ``quick`` (smaller problems) and returns a
:class:`~slopes.report.page.Section`; :data:`SECTIONS` lists them in page order.

>>> [f.__name__ for f in SECTIONS]
['_step_sizes', '_optimizers', '_batches', '_schedules', '_projected']
"""

from __future__ import annotations

import numpy as np

import slopes.numpy as snp

from .. import problems
from ..analysis import box_optimality
from ..ml import fit
from ..optim import cosine_decay, minimize, one_cycle, presets, sgd, step_decay, warmup_cosine
from ..transforms import grad
from .figures import draw
from .page import Section, Table

__all__ = [
    "BOWL_L",
    "BOWL_METHODS",
    "ROSENBROCK_METHODS",
    "STEP_FRACTIONS",
    "SCHEDULE_STEPS",
    "SCHEDULE_PROBES",
    "TIGHT_BOX",
    "SECTIONS",
]

#: The Lipschitz constant of the gradient of the bowl x^2 + 10 y^2 (its Hessian is diag(2, 20)).
BOWL_L = 20.0
#: Step sizes of the step-size section, as multiples of 1/L.
STEP_FRACTIONS = (0.1, 1.0, 2.1)
STEP_MAXITER = 100
#: Horizon and probe steps of the schedules section.
SCHEDULE_STEPS = 1000
SCHEDULE_PROBES = (0, 50, 100, 250, 500, 999)
#: The box of the projected-gradient section where the bound x2 >= -0.5 is active (the course's box is [-2, 2]^2).
TIGHT_BOX = problems.Box(np.array([-2.0, -0.5]), np.array([2.0, 2.0]))


def _label(frac):
    return "lr = 1/L" if frac == 1.0 else f"lr = {frac:g}/L"


def step_size_runs():
    """Gradient descent on the elongated bowl x^2 + 10 y^2 with each step of :data:`STEP_FRACTIONS` / L.

    The computation of the report's step-size section, shared with the tutorials.

    Returns
    -------
    dict of str to slopes.optim.Result
        Keyed by ``"lr = 1/L = 0.05"`` and the like, in the order of :data:`STEP_FRACTIONS`.

    Examples
    --------
    >>> {k: r.status for k, r in step_size_runs().items()}  # 1: iteration limit, 2: diverged
    {'lr = 0.1/L = 0.005': 1, 'lr = 1/L = 0.05': 1, 'lr = 2.1/L = 0.105': 2}
    """
    bowl = problems.get("elongated_bowl")
    runs = {}
    for frac in STEP_FRACTIONS:
        lr = frac / BOWL_L
        r = minimize(bowl.fun, bowl.x0, method="gd", learning_rate=lr, maxiter=STEP_MAXITER, record_x=True)
        runs[f"{_label(frac)} = {lr:g}"] = r
    return runs


def _step_sizes(quick: bool = False) -> Section:
    """Gradient descent on x^2 + 10 y^2 with a step too small, right, and too large."""
    bowl = problems.get("elongated_bowl")
    runs, rows = step_size_runs(), []
    for frac, r in zip(STEP_FRACTIONS, runs.values()):
        lr = frac / BOWL_L
        status = "converged" if r.success else ("diverged" if r.status == 2 else "iteration limit")
        rows.append((_label(frac), lr, r.nit, float(r.x[0]), float(r.x[1]), r.fun, status))
    text = [
        "Gradient descent x <- x - lr grad f(x) on the elongated bowl f(x, y) = x^2 + 10 y^2 from "
        f'({bowl.x0[0]:g}, {bowl.x0[1]:g}), with `sl.minimize(method="gd", learning_rate=lr)` and at most '
        f"{STEP_MAXITER} iterations. The Hessian is diag(2, 20), so the gradient is L-Lipschitz with "
        f"L = {BOWL_L:g}.",
        "Along each eigen-direction GD multiplies the error by (1 - lr lambda): with lr = 0.1/L the flat "
        "direction shrinks by only 0.99 per step (it crawls); with lr = 1/L the steep direction is solved in "
        "one step and the flat one shrinks by 0.9; with lr = 2.1/L > 2/L the steep direction is multiplied "
        "by -1.1 each step and the run diverges. The driver detects the blow-up and stops with "
        "`success=False`.",
    ]
    table = Table(
        ("step size", "lr", "iterations", "x", "y", "final f", "outcome"),
        rows,
        caption="GD on x^2 + 10 y^2 with three step sizes",
    )
    # the divergent run leaves any sensible window: show its first iterates only
    paths = {
        (f"{k}, first 12 iterates" if v.status == 2 else k): (v.history.x[:12] if v.status == 2 else v)
        for k, v in runs.items()
    }
    figures = [
        draw("loss_curves", runs, log=True, x="step", caption="f(x_k) for the three step sizes (log scale)"),
        draw(
            "trajectories",
            bowl.fun,
            paths,
            (-9.0, 2.0),
            (-8.0, 8.0),
            caption="The iterates: crawling, converging, and zig-zagging outwards",
        ),
    ]
    return Section("step-sizes", "Step-size effects: too small, right, divergent", text, [table], figures)


def _outcome(method, r):
    how = f"converged in {r.nit}" if r.success else f"stopped at the limit of {r.nit}"
    return f"{method} {how} iterations (f = {r.fun:.3g})"


def _versus(a_name, a, b_name, b):
    """One sentence comparing two runs, its verdict computed from them (iterations, or f at the limit)."""
    if a.success and b.success:
        if a.nit == b.nit:
            return f"{a_name} and {b_name} both converged in {a.nit} iterations"
        ratio = max(a.nit, b.nit) / min(a.nit, b.nit)
        word = "fewer" if a.nit < b.nit else "more"
        return (
            f"{a_name} converged in {a.nit} iterations against {b.nit} for {b_name}: "
            f"{ratio:.2g} times {word}"
        )
    if a.success != b.success:
        (done, d), (other, o) = ((a_name, a), (b_name, b)) if a.success else ((b_name, b), (a_name, a))
        return f"{done} converged in {d.nit} iterations where {other} stopped at the limit of {o.nit}"
    word = "lower" if a.fun < b.fun else "higher"
    return f"at the limit of {a.nit} iterations {a_name} reached f = {a.fun:.3g}, {word} than {b_name}'s f = {b.fun:.3g}"


#: The bowl race: each method with its theory-tuned preset (Adam has none: its step is hand-picked).
BOWL_METHODS = ("gd", "momentum", "nesterov")
BOWL_ADAM_LR = 0.3
#: A common untuned momentum setting, for contrast.
BOWL_UNTUNED = {"learning_rate": 0.01, "beta": 0.9}
#: Rosenbrock's race: hand-picked settings (its Hessian changes along the valley, no single kappa).
ROSENBROCK_METHODS = (("gd", 1e-3, {}), ("momentum", 1e-3, {"beta": 0.9}), ("adam", 0.02, {}))


def _bowl_race(bowl, maxiter):
    """The tuned presets and Adam on the bowl: runs, table rows and the presets."""
    tuned = {m: presets.for_problem(bowl.fun, bowl.x0, m) for m in BOWL_METHODS}
    runs, rows = {}, []
    for method, p in tuned.items():
        r = minimize(bowl.fun, bowl.x0, maxiter=maxiter, record_x=True, **p.options)
        runs[f"{method}, tuned lr={p.learning_rate:.3g}"] = r
        observed = presets.observed_rate(r, bowl.x_min)
        rows.append((method, p.learning_rate, p.beta, r.nit, p.rate, observed, r.fun, r.success))
    untuned = BOWL_UNTUNED
    for name, opts in [("untuned momentum", dict(method="momentum", **untuned)),
                       ("adam", dict(method="adam", learning_rate=BOWL_ADAM_LR))]:
        r = minimize(bowl.fun, bowl.x0, maxiter=maxiter, record_x=True, **opts)
        runs[f"{name}, lr={opts['learning_rate']:g}" + (f", beta={opts['beta']:g}" if "beta" in opts else "")] = r
        observed = presets.observed_rate(r, bowl.x_min)
        rows.append((name, opts["learning_rate"], opts.get("beta"), r.nit, None, observed, r.fun, r.success))
    return tuned, runs, rows


def _rate_sentence(method, predicted, observed):
    gap = observed / predicted - 1
    if abs(gap) < 5e-4:
        return f"{method} {observed:.3g}, as predicted"
    where = "above" if gap > 0 else "below"
    return f"{method} {observed:.3g} against {predicted:.3g} predicted ({abs(gap):.1%} {where})"


def _optimizers(quick: bool = False) -> Section:
    """GD, momentum and Adam on the elongated bowl (theory-tuned) and on Rosenbrock's function."""
    bowl = problems.get("elongated_bowl")
    rosen = problems.get("rosenbrock")
    bowl_limit, rosen_limit = (300, 2000) if quick else (500, 10000)
    tuned, bowl_runs, bowl_rows = _bowl_race(bowl, bowl_limit)

    rosen_runs, rosen_rows = {}, []
    for method, lr, opts in ROSENBROCK_METHODS:
        r = minimize(
            rosen.fun, rosen.x0, method=method, learning_rate=lr, maxiter=rosen_limit, record_x=True, **opts
        )
        rosen_runs[f"{method}, lr={lr:g}"] = r
        dist = float(np.linalg.norm(r.x - np.asarray(rosen.x_min)))
        rosen_rows.append((method, lr, r.nit, r.fun, dist, r.success))

    by_method = dict(zip([row[0] for row in bowl_rows], bowl_runs.values()))
    rosen_by_method = dict(zip([m for m, *_ in ROSENBROCK_METHODS], rosen_runs.values()))
    hb = tuned["momentum"]
    kappa_start, kappa_min = (presets.for_problem(rosen.fun, x, "nesterov").kappa for x in (rosen.x0, rosen.x_min))
    rates = "; ".join(_rate_sentence(row[0], row[4], row[5]) for row in bowl_rows if row[4] is not None)
    text = [
        "Three first-order methods through `sl.minimize` (with `record_x=True` to keep the iterates), each "
        "stopping when max |grad f| <= 6e-6 or at the iteration limit: gradient descent, heavy-ball momentum "
        "(v <- beta v + grad f, x <- x - lr v: the step accumulates a velocity) and its Nesterov variant, "
        "and Adam (each coordinate's step is scaled by the running RMS of its gradient).",
        f"How much momentum helps depends on lr and beta together. On the bowl x^2 + 10 y^2 the Hessian is "
        f"diag(2, 20) everywhere, so `sl.optim.presets.for_problem(f, x0, method)` reads L = {hb.L:g}, "
        f"mu = {hb.mu:g}, kappa = {hb.kappa:g} and returns each method's theory-tuned parameters and predicted rate "
        "(the rate is the factor by which |x_k - x*| shrinks per iteration). "
        + " ".join(f"{p.rule[0].upper()}{p.rule[1:]}." for p in tuned.values())
        + f" Adam keeps a hand-picked lr = {BOWL_ADAM_LR:g}.",
        f"On the bowl (limit {bowl_limit} iterations): "
        f"{_versus('momentum', by_method['momentum'], 'gd', by_method['gd'])}; "
        f"{_versus('nesterov', by_method['nesterov'], 'gd', by_method['gd'])}; "
        f"{_versus('adam', by_method['adam'], 'gd', by_method['gd'])}. For contrast, momentum with "
        f"beta = {BOWL_UNTUNED['beta']:g} and lr = {BOWL_UNTUNED['learning_rate']:g} (a common default, not tuned): "
        f"{_versus('untuned momentum', by_method['untuned momentum'], 'gd', by_method['gd'])}.",
        f"Observed rates (`sl.optim.presets.observed_rate`: the slope of log |x_k - x*| over the second half "
        f"of each run) against the predictions: {rates}. Where the tuned parameters put a double root "
        "of the iteration on the slowest mode the error decays like k r^k, whose ratio (1 + 1/k) r "
        "approaches r from above.",
        "Rosenbrock's banana valley (start (-1.2, 1), minimum (1, 1)) has a Hessian that changes along the "
        f"valley (kappa = {kappa_start:.3g} at the start, {kappa_min:.3g} at the minimum), so no single preset fits; the "
        "step must be small for the steep walls and progress along the curved floor is slow "
        f"(hand-picked settings, limit {rosen_limit} iterations): "
        + "; ".join(_outcome(m, rosen_by_method[m]) for m in rosen_by_method)
        + f". Momentum against GD: {_versus('momentum', rosen_by_method['momentum'], 'gd', rosen_by_method['gd'])}.",
    ]
    tables = [
        Table(
            ("method", "lr", "beta", "iterations", "predicted rate", "observed rate", "final f", "converged"),
            bowl_rows,
            caption=f"x^2 + 10 y^2 with the presets for L = {hb.L:g}, mu = {hb.mu:g} (Adam: hand-picked)",
        ),
        Table(
            ("method", "lr", "iterations", "final f", "|x - x*|", "converged"),
            rosen_rows,
            caption="Rosenbrock: iterations to max |grad| <= 6e-6 (or the limit) and the final value",
        ),
    ]
    figures = [
        draw(
            "trajectories",
            bowl.fun,
            bowl_runs,
            (-9.0, 4.0),
            (-3.0, 3.0),
            caption=f"Tuned GD, heavy ball and Nesterov, and Adam on x^2 + 10 y^2 from ({bowl.x0[0]:g}, {bowl.x0[1]:g})",
        ),
        draw("loss_curves", bowl_runs, log=True, x="step", caption="f(x_k) on the bowl (log scale)"),
        draw(
            "trajectories",
            rosen.fun,
            rosen_runs,
            (-1.6, 1.4),
            (-0.6, 1.6),
            caption=f"GD, momentum and Adam on Rosenbrock from ({rosen.x0[0]:g}, {rosen.x0[1]:g})",
        ),
    ]
    return Section("optimizers", "GD vs momentum vs Adam", text, tables, figures)


def _least_squares_data(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w_true = rng.normal(size=d)
    y = X @ w_true + 0.3 * rng.normal(size=n)
    return X, y


def _ls_loss(w, batch):
    X, y = batch
    return 0.5 * snp.mean((X @ w - y) ** 2)


def _batches(quick: bool = False) -> Section:
    """Full batch vs SGD vs mini-batch on least squares, over several seeds."""
    n, d = (128, 5) if quick else (256, 5)
    epochs = 15 if quick else 30
    seeds = range(3) if quick else range(5)
    lr = 0.05
    X, y = _least_squares_data(n, d)
    w_ls = np.linalg.lstsq(X, y, rcond=None)[0]
    f_star = float(0.5 * np.mean((X @ w_ls - y) ** 2))
    f0 = float(0.5 * np.mean(y**2))
    objective = {"objective": lambda w, data: float(_ls_loss(w, data))}
    spread, rows = {}, []
    for label, bs in [("full batch", None), ("SGD (batch 1)", 1), ("mini-batch 16", 16)]:
        curves = []
        for seed in seeds:
            res = fit(
                _ls_loss,
                np.zeros(d),
                (X, y),
                optimizer=sgd(lr),
                epochs=epochs,
                batch_size=bs,
                seed=seed,
                metrics=objective,
                progress=False,
            )
            curves.append(np.concatenate([[f0], res.history.epoch["objective"]]))
        finals = np.array([c[-1] for c in curves])
        spread[f"{label}, lr={lr:g}"] = curves
        steps = 1 if bs is None else -(-n // bs)
        rows.append(
            (
                label,
                n if bs is None else bs,
                steps,
                float(finals.mean()),
                float(finals.min()),
                float(finals.max()),
                float(finals.mean() - f_star),
            )
        )
    text = [
        f"Least squares f(w) = (1/2n) |X w - y|^2 on synthetic data (n = {n}, d = {d}, noise 0.3), trained "
        f"with `sl.ml.fit` and plain SGD steps (lr = {lr:g}) for {epochs} epochs from w = 0, each "
        f"configuration over {len(seeds)} shuffling seeds. After each epoch the full objective is "
        "recorded (a `metrics=` entry of fit).",
        f"The closed-form optimum (`np.linalg.lstsq`) is f* = {f_star:.6g}. Full batch takes one exact step "
        "per epoch and is still far from it; SGD takes n noisy steps per epoch, falls fastest but stalls "
        "on a noise floor where the seeds disagree; mini-batches average the noise away at a fraction of "
        "the steps.",
    ]
    table = Table(
        ("method", "batch size", "steps per epoch", "final f (mean over seeds)", "min", "max", "mean - f*"),
        rows,
        caption=f"After {epochs} epochs; f* = {f_star:.6g}",
    )
    fig = draw(
        "batch_spread",
        spread,
        log=True,
        x="epoch",
        caption="Full objective per epoch: mean over seeds and the min-max band",
    )
    return Section("batches", "Full batch vs SGD vs mini-batch", text, [table], [fig])


def schedule_examples():
    """Four learning-rate schedules that peak at 0.1 over :data:`SCHEDULE_STEPS` steps.

    The schedules of the report's schedules section, shared with the tutorials.

    Returns
    -------
    dict of str to callable
        Keyed by the call that made each one, e.g. ``"cosine_decay(0.1, 1000)"``.

    Examples
    --------
    >>> s = schedule_examples()
    >>> float(s["cosine_decay(0.1, 1000)"](500)), float(s["warmup_cosine(0.1, 100, 1000)"](50))
    (0.05, 0.05)
    """
    T, peak = SCHEDULE_STEPS, 0.1
    return {
        "step_decay(0.1, 250, 0.5)": step_decay(peak, 250, 0.5),
        "cosine_decay(0.1, 1000)": cosine_decay(peak, T),
        "warmup_cosine(0.1, 100, 1000)": warmup_cosine(peak, 100, T),
        "one_cycle(0.1, 1000)": one_cycle(peak, T),
    }


def _schedules(quick: bool = False) -> Section:
    """Four learning-rate schedules of the same peak, probed at a few steps."""
    T = SCHEDULE_STEPS
    scheds = schedule_examples()
    rows = [(name, *(float(s(t)) for t in SCHEDULE_PROBES)) for name, s in scheds.items()]
    text = [
        "Schedules from `slopes.optim` are plain functions of the step t, read by the optimizers from their "
        f"state. All four here peak at 0.1 over {T} steps: step decay halves the rate every 250 steps; "
        "cosine decay follows 0.05 (1 + cos(pi t / T)); warmup + cosine rises linearly for 100 steps (large "
        "early steps on a random initialization are what warmup avoids), then decays by a cosine; the "
        "one-cycle policy rises from peak/25 to the peak at 30% of the run and anneals to peak/25e4.",
    ]
    table = Table(
        ("schedule", *(f"t = {t}" for t in SCHEDULE_PROBES)), rows, caption="Learning rate at a few steps"
    )
    fig = draw("schedules", scheds, T, caption="The four schedules over 1000 steps")
    return Section("schedules", "Learning-rate schedules", text, [table], [fig])


def projected_runs():
    """Projected gradient (step 1/L) on the course's box quadratic, in two boxes, and unconstrained GD.

    The computation of the report's projected-gradient section, shared with the tutorials.

    Returns
    -------
    dict of str to (slopes.problems.Box or None, slopes.optim.Result)
        The box and the run for ``"[-2, 2]^2 (inactive)"``, ``"[-2, 2] x [-0.5, 2] (active)"``
        and ``"none (unconstrained GD)"`` (box ``None``), all from (1.5, 1.5).

    Examples
    --------
    >>> box, r = projected_runs()["[-2, 2] x [-0.5, 2] (active)"]
    >>> bool(np.allclose(r.x, [5 / 6, -0.5]))
    True
    """
    bq = problems.get("box_quadratic")
    L = problems.course.BOX_QUADRATIC_L
    x0 = np.array([1.5, 1.5])
    runs = {
        name: (box, minimize(bq.fun, x0, method="projected_gradient", bounds=box, L=L, maxiter=500, record_x=True))
        for name, box in [("[-2, 2]^2 (inactive)", bq.bounds), ("[-2, 2] x [-0.5, 2] (active)", TIGHT_BOX)]
    }
    runs["none (unconstrained GD)"] = (None, minimize(bq.fun, x0, method="gd", L=L, maxiter=500, record_x=True))
    return runs


def _projected(quick: bool = False) -> Section:
    """Projected gradient on a convex quadratic in a box, with the box inactive and active."""
    bq = problems.get("box_quadratic")
    g = grad(bq.fun)
    rows, runs = [], {}
    computed = projected_runs()
    for name in ("[-2, 2]^2 (inactive)", "[-2, 2] x [-0.5, 2] (active)"):
        box, r = computed[name]
        rows.append(
            (name, r.nit, float(r.x[0]), float(r.x[1]), r.fun, box_optimality(g, r.x, *box), r.success)
        )
        if name.endswith("(active)"):
            runs["projected gradient, lr=1/L"] = r
    free = computed["none (unconstrained GD)"][1]
    runs["unconstrained GD, lr=1/L"] = free
    rows.append(
        (
            "none (unconstrained GD)",
            free.nit,
            float(free.x[0]),
            float(free.x[1]),
            free.fun,
            float(np.max(np.abs(g(free.x)))),
            free.success,
        )
    )
    text = [
        "The convex quadratic f(x) = x^T Q x / 2 + c^T x with Q = [[3, 1], [1, 2]], c = (-2, 1) of the "
        "course, minimized from (1.5, 1.5) by projected gradient x <- clip(x - grad f(x) / L, lo, hi) with "
        'L = lambda_max(Q) = (5 + sqrt 5)/2 (`sl.minimize(method="projected_gradient", bounds=..., L=...)`).',
        "In the course's box [-2, 2]^2 the unconstrained minimizer (1, -1) is inside, so the constraint is "
        "inactive and the answer is the same as without it. With the lower bound x2 >= -0.5 the solution "
        "lies on that edge, at x1 = 5/6 where the partial derivative along the edge vanishes; there the "
        "gradient is not zero but points into the box (df/dx2 = 5/6 > 0), so -grad f is in the normal "
        "cone: the KKT residual (`sl.analysis.box_optimality`, the distance of -grad f from the normal "
        "cone) is what goes to 0.",
    ]
    table = Table(
        ("box", "iterations", "x1", "x2", "f", "KKT residual", "converged"),
        rows,
        caption="Projected gradient with step 1/L from (1.5, 1.5)",
    )
    fig = draw(
        "trajectories",
        bq.fun,
        runs,
        (-2.0, 2.0),
        (-2.0, 2.0),
        bounds=TIGHT_BOX,
        caption="Projected gradient slides along the edge x2 = -0.5; unconstrained GD goes to (1, -1)",
    )
    return Section("projected", "Projected gradient in a box", text, [table], [fig])


SECTIONS = (_step_sizes, _optimizers, _batches, _schedules, _projected)

# The computations the tutorials share with the report's sections.
__all__ += ["projected_runs", "schedule_examples", "step_size_runs"]
