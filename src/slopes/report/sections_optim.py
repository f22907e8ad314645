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
from ..optim import cosine_decay, minimize, one_cycle, sgd, step_decay, warmup_cosine
from ..transforms import grad
from .figures import draw
from .page import Section, Table

__all__ = ["BOWL_L", "STEP_FRACTIONS", "SCHEDULE_STEPS", "SCHEDULE_PROBES", "TIGHT_BOX", "SECTIONS"]

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


def _optimizers(quick: bool = False) -> Section:
    """GD, momentum and Adam on the elongated bowl and on Rosenbrock's function."""
    bowl = problems.get("elongated_bowl")
    rosen = problems.get("rosenbrock")
    cases = [
        (
            "x^2 + 10 y^2",
            bowl,
            300 if quick else 500,
            [("gd", 0.05, {}), ("momentum", 0.01, {"beta": 0.9}), ("adam", 0.3, {})],
            (-9.0, 4.0),
            (-3.0, 3.0),
        ),
        (
            "Rosenbrock",
            rosen,
            2000 if quick else 10000,
            [("gd", 1e-3, {}), ("momentum", 1e-3, {"beta": 0.9}), ("adam", 0.02, {})],
            (-1.6, 1.4),
            (-0.6, 1.6),
        ),
    ]
    rows, figures = [], []
    for name, prob, maxiter, methods, xlim, ylim in cases:
        runs = {}
        for method, lr, opts in methods:
            r = minimize(
                prob.fun, prob.x0, method=method, learning_rate=lr, maxiter=maxiter, record_x=True, **opts
            )
            runs[f"{method}, lr={lr:g}"] = r
            dist = float(np.linalg.norm(r.x - np.asarray(prob.x_min)))
            rows.append((name, method, lr, r.nit, r.fun, dist, r.success))
        figures.append(
            draw(
                "trajectories",
                prob.fun,
                runs,
                xlim,
                ylim,
                caption=f"GD, momentum and Adam on {name} from ({prob.x0[0]:g}, {prob.x0[1]:g})",
            )
        )

    def outcome(row):
        _, method, _, nit, fun, _, ok = row
        how = f"converged in {nit}" if ok else f"stopped at the limit of {nit}"
        return f"{method} {how} iterations (f = {fun:.3g})"

    summary = {name: "; ".join(outcome(r) for r in rows if r[0] == name) for name, *_ in cases}
    text = [
        "Three first-order methods through `sl.minimize` (with `record_x=True` to keep the iterates), each "
        "stopping when max |grad f| <= 6e-6 or at the iteration limit: GD, heavy-ball momentum "
        "(beta = 0.9: the step accumulates a velocity, which speeds up travel along flat directions and "
        "damps the zig-zag across steep ones) and Adam (each coordinate's step is scaled by the running "
        "RMS of its gradient, so steep and flat directions move at similar speeds).",
        f"On the bowl x^2 + 10 y^2 (condition number 10, limit {cases[0][2]} iterations): "
        f"{summary['x^2 + 10 y^2']}.",
        "Rosenbrock's banana valley (start (-1.2, 1), minimum (1, 1)) is the classic hard case for GD: the "
        "step must be small for the steep walls, so progress along the curved floor is slow "
        f"(limit {cases[1][2]} iterations): {summary['Rosenbrock']}.",
    ]
    table = Table(
        ("problem", "method", "lr", "iterations", "final f", "|x - x*|", "converged"),
        rows,
        caption="Iterations to max |grad| <= 6e-6 (or the limit) and the final value",
    )
    return Section("optimizers", "GD vs momentum vs Adam", text, [table], figures)


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
