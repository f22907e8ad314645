"""Work counts of the optimization driver: Python-level calls per iteration, not times.

The L-BFGS driver's cost on small problems is interpreter overhead per iteration
(issue 20), so these tests bound the number of function calls (Python and C,
outside the user's objective and gradient) that one iteration makes, as seen by
a ``sys.setprofile`` hook. The iterates themselves are checked against scipy's
L-BFGS-B on the same problem (an independent implementation).
"""

import sys

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
from slopes.optim.methods_base import Problem
from slopes.optim.quasi_newton import LBFGSMemory


class CountedRosenbrock:
    """The chained Rosenbrock function and its hand-written gradient; calls made
    inside them are the user's work, so the profile hook skips them."""

    def __init__(self):
        self.depth = 0

    def f(self, x):
        self.depth += 1
        try:
            return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))
        finally:
            self.depth -= 1

    def grad(self, x):
        self.depth += 1
        try:
            r = x[1:] - x[:-1] ** 2
            g = np.zeros_like(x)
            g[:-1] = -400.0 * x[:-1] * r - 2.0 * (1.0 - x[:-1])
            g[1:] += 200.0 * r
            return g
        finally:
            self.depth -= 1


def calls_per_iteration(method, names=None, n=10, maxiter=100):
    """Calls per iteration (Python and C) outside the user's objective and gradient, in a run of
    ``method`` on the chained Rosenbrock; with ``names``, a dict of the calls per iteration of
    the builtins of those names (e.g. ``"dot"`` for ``ndarray.dot``). Returns it and the result."""
    prob = CountedRosenbrock()
    x0 = np.tile([-1.2, 1.0], n // 2)
    sl.minimize(prob.f, x0, jac=prob.grad, method=method, maxiter=2)  # imports and caches warm
    count = {None: 0} if names is None else dict.fromkeys(names, 0)

    def hook(frame, event, arg):
        if prob.depth or event not in ("call", "c_call"):
            return
        if names is None:
            count[None] += 1
        elif event == "c_call" and getattr(arg, "__name__", "") in count:
            count[arg.__name__] += 1

    sys.setprofile(hook)
    try:
        res = sl.minimize(prob.f, x0, jac=prob.grad, method=method, maxiter=maxiter)
    finally:
        sys.setprofile(None)
    assert res.nit > 50  # enough iterations that the start-up calls are amortised
    per_it = {k: v / res.nit for k, v in count.items()}
    return (per_it[None] if names is None else per_it), res


def test_lbfgs_calls_per_iteration_bounded():
    # 150 calls per iteration before the memory kept preallocated buffers and the
    # driver read max|x|, max|g| and |s| without NumPy's Python wrappers; 114 after;
    # 46 with the compact memory, the Moré-Thuente search whose accepted first trial
    # is a few operations, and the driver's row tuples; 41 with the memory's views made
    # once and comparisons for abs() and isfinite() on floats already known to be numbers;
    # 36 with the driver's shortcuts for Wolfe steps (no copy of x, no dot products for
    # max|g| and max|x|, the divergence bound tested inline), the problem's evaluator and
    # history rows appended as tuples
    per_it, res = calls_per_iteration("lbfgs")
    assert per_it <= 37, f"{per_it:.1f} calls per L-BFGS iteration"


@pytest.mark.parametrize("method, dots", [("lbfgs", 10.5), ("bfgs", 2.5)])
def test_wolfe_steps_cost_the_driver_no_copy_and_no_dot_product(method, dots):
    # the driver used to copy every new best point and to take x.x (divergence) and g.g
    # (a nan in max|g|) at every iteration: lbfgs 12.3 dot products and 1.3 copies per
    # iteration, bfgs 4.2 and 1.0. A Wolfe step's x is new, its g finite and its length
    # bounds the growth of max|x|: lbfgs 10.3, bfgs 2.2. The copies left are the user's
    # gradients (one per evaluation), and the start's and the result's
    per_it, res = calls_per_iteration(method, ("dot", "copy"))
    assert res.success
    assert per_it["dot"] <= dots, per_it
    assert per_it["copy"] <= res.ngev / res.nit + 0.1, per_it


class BufferedRosenbrock(CountedRosenbrock):
    """The same gradient, written into one preallocated array that every call returns."""

    def __init__(self, n):
        super().__init__()
        self.out = np.empty(n)

    def grad(self, x):
        self.out[...] = super().grad(x)
        return self.out


@pytest.mark.parametrize("method", ["lbfgs", "bfgs", "gd"])
@pytest.mark.parametrize("joint", [False, True])
def test_a_gradient_written_into_one_buffer_takes_the_same_iterates(method, joint):
    # the methods keep the last gradient past the next evaluation (y = g_new - g): a jac that
    # returns the array it fills at every call made y = 0, and lbfgs / bfgs stalled at maxiter
    x0 = np.tile([-1.2, 1.0], 5)
    fresh, buffered = CountedRosenbrock(), BufferedRosenbrock(x0.size)
    runs = []
    for prob in (fresh, buffered):
        if joint:  # jac=True: fun returns (f, g)
            runs.append(sl.minimize(lambda x, p=prob: (p.f(x), p.grad(x)), x0, jac=True, method=method,
                                    maxiter=300, gtol=1e-6))
        else:
            runs.append(sl.minimize(prob.f, x0, jac=prob.grad, method=method, maxiter=300, gtol=1e-6))
    ref, res = runs
    assert (res.nit, res.nfev, res.success) == (ref.nit, ref.nfev, ref.success)
    np.testing.assert_array_equal(res.x, ref.x)
    np.testing.assert_array_equal(res.grad, ref.grad)
    if method != "gd":  # (from this start both reach the local minimum near x[0] = -1)
        assert res.success and res.grad_norm <= 1e-6


def chained_rosenbrock(x):
    return snp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def calls_per_evaluation(fun, x0, **kw):
    """Function entries (Python and builtin) per call of the problem's value-and-gradient in an
    L-BFGS run, everything below it included (the replayed program's NumPy calls too), and the run."""
    sl.minimize(fun, x0, method="lbfgs", maxiter=2, **kw)  # imports, traces and kept programs warm
    code = Problem.value_and_grad.__code__
    count, depth = [0], [0]

    def hook(frame, event, arg):
        if event == "call" and frame.f_code is code:
            depth[0] += 1
        elif event == "return" and frame.f_code is code:
            depth[0] -= 1
        if depth[0] and event in ("call", "c_call"):
            count[0] += 1

    sys.setprofile(hook)
    try:
        res = sl.minimize(fun, x0, method="lbfgs", gtol=1e-5, **kw)
    finally:
        sys.setprofile(None)
    return count[0] / res.ngev, res


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ad_evaluation_calls_the_replay_directly(dtype):
    # Problem.value_and_grad -> _Staged -> Jitted.__call__ (cache lookup, clock) -> a lambda ->
    # the replay -> a builder of the (f, g) tuple it already returned, and in the replay three
    # calls of power's Python implementation and np.isfinite(r).all(): 18 entries an
    # evaluation. Now the problem calls the replay itself once a first call has shown its
    # signature and output types: value_and_grad, the replay, and in it the mask's helper with
    # its vdot and isfinite, and the gradient's zeros: 6
    x0 = np.tile([-1.2, 1.0], 50).astype(dtype)
    per_eval, res = calls_per_evaluation(chained_rosenbrock, x0)
    assert res.x.dtype == dtype and res.ngev > 500 and (res.success or dtype == np.float32)
    assert per_eval <= 7, f"{per_eval:.1f} calls per AD evaluation"
    # the same iterates as with the same gradient values given as jac= (the program's own)
    vg = sl.jit(sl.value_and_grad(chained_rosenbrock))
    ref = sl.minimize(lambda x: float(vg(x)[0]), x0, jac=lambda x: vg(x)[1], method="lbfgs", gtol=1e-5)
    assert ref.x.dtype == dtype
    assert (res.nit, res.nfev, res.ngev) == (ref.nit, ref.nfev, ref.ngev)
    np.testing.assert_array_equal(res.x, ref.x)


def test_a_staged_problem_counts_and_checks_like_the_general_path():
    # the direct path counts fun's calls and gradients as the general one, and an x of
    # another shape or dtype, or extra arguments, take the general path
    p = Problem(lambda x: snp.sum(x ** 3))
    p._vg = sl.value_and_grad(p._fun)  # as minimize builds it: on the counted fun
    p.stage()
    x = np.array([1.0, 2.0])
    assert p.value_and_grad(x) == (9.0, pytest.approx([3.0, 12.0]))
    assert p._direct is not None and (p.nfev, p.ngev) == (1, 1)
    f, g = p.value_and_grad(np.array([2.0, 3.0]))
    assert (f, g.tolist(), p.nfev, p.ngev) == (35.0, [12.0, 27.0], 2, 2)
    f, g = p.value_and_grad(np.array([1.0, 1.0, 1.0]))  # another shape: traced again, checked
    assert (f, g.tolist(), p.nfev, p.ngev) == (3.0, [3.0, 3.0, 3.0], 3, 3)
    f, g = p.value_and_grad(np.array([2.0, 3.0], dtype=np.float32))  # another dtype: converted
    assert type(f) is float and g.dtype == np.float64 and (f, p.ngev) == (35.0, 4)


def dot_calls(fn):
    """How many ``ndarray.dot`` calls (NumPy's matrix products) ``fn()`` makes."""
    count = [0]

    def hook(frame, event, arg):
        if event == "c_call" and getattr(arg, "__name__", "") == "dot":
            count[0] += 1

    sys.setprofile(hook)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count[0]


@pytest.mark.parametrize("m", [1, 5, 20])
def test_lbfgs_memory_work_does_not_grow_with_m(m):
    # the two-loop recursion makes 2m dot products and 2m vector updates per direction;
    # the compact form makes three products with W (z = W g, c W, and the slope c.z) and
    # three m-sized ones whatever m, and a new pair a fixed number of products
    rng = np.random.default_rng(m)
    n = 30
    A = rng.standard_normal((n, n))
    A = A @ A.T + n * np.eye(n)
    mem = LBFGSMemory(m=m)
    x = rng.standard_normal(n)
    g = A @ x
    for _ in range(m + 3):  # full memory, with drops
        d, slope = mem._direction(g)
        x_new = x + 0.1 * d
        g_new = A @ x_new
        assert mem._commit(x_new, x, g_new, g)[0]
        x, g = x_new, g_new
    assert len(mem) == m
    assert dot_calls(lambda: mem._direction(g)) == 6
    x_new = x + 0.1 * mem._direction(g)[0]
    assert dot_calls(lambda: mem._commit(x_new, x, A @ x_new, g)) == 3


def test_lbfgs_iterates_agree_with_scipy():
    optimize = pytest.importorskip("scipy.optimize")
    prob = CountedRosenbrock()
    x0 = np.tile([-1.2, 1.0], 5)
    ours = sl.minimize(prob.f, x0, jac=prob.grad, method="lbfgs", gtol=1e-8)
    ref = optimize.minimize(prob.f, x0, jac=prob.grad, method="L-BFGS-B",
                            options={"gtol": 1e-10, "ftol": 0.0})
    assert ours.success and ref.success
    np.testing.assert_allclose(ours.x, ref.x, atol=1e-6)


def test_memory_buffers_survive_many_drops():
    # m = 3 with 8 pairs: the buffers shift in place five times. The direction must
    # equal the two-loop recursion (N&W Algorithm 7.4) over the last three pairs,
    # written here independently.
    rng = np.random.default_rng(0)
    n, m = 6, 3
    A = rng.standard_normal((n, n))
    A = A @ A.T + n * np.eye(n)
    mem = LBFGSMemory(m=m)
    pairs = []
    for _ in range(8):
        s = rng.standard_normal(n)
        assert mem.push(s, A @ s)
        pairs = (pairs + [(s, A @ s)])[-m:]
    g = rng.standard_normal(n)
    q, alphas = g.copy(), []
    for s, y in reversed(pairs):
        a = (s @ q) / (y @ s)
        alphas.append(a)
        q -= a * y
    s, y = pairs[-1]
    r = (s @ y) / (y @ y) * q
    for (s, y), a in zip(pairs, reversed(alphas)):
        r += s * (a - (y @ r) / (y @ s))
    np.testing.assert_allclose(mem.direction(g), -r, rtol=1e-12)
    assert len(mem) == m and [p[0].tolist() for p in mem.pairs] == [p[0].tolist() for p in pairs]


def walk_quadratic(mem, seed, n, top, steps, t, into_slot=False):
    """``steps`` L-BFGS steps of length ``t`` on ``x.A x / 2``, ``A = diag(1 .. top)``, from a random
    point; ``into_slot``: each step written into the memory's free slot, as the line search
    writes it (else ``s`` is ``x_new - x``). Returns the last gradient and checks every pair is kept."""
    A = np.diag(np.linspace(1.0, top, n))
    x = np.random.default_rng(seed).standard_normal(n)
    g = A @ x
    for _ in range(steps):
        d, _ = mem._direction(g)
        assert not np.shares_memory(d, mem._W)
        if into_slot:
            x_new = x + np.multiply(d, t, mem._rows[mem._free])
            assert mem._commit(None, None, A @ x_new, g)[0]
        else:
            x_new = x + t * d
            assert mem._commit(x_new, x, A @ x_new, g)[0]
        x, g = x_new, A @ x_new
    return g


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # the refused pair's own products
def test_memory_directions_stay_finite_after_an_overflowed_trial_step():
    # a line search writes its trial steps into the free slot; one that overflowed and a
    # failed search must not reach the next direction through 0 * inf
    n = 8
    mem = LBFGSMemory(m=3)
    g = walk_quadratic(mem, 1, n, 10.0, 5, 0.2)
    mem._rows[mem._free][:] = np.inf  # the free slot after a trial step that overflowed
    mem.clear()  # what the method does after a failed search
    np.testing.assert_array_equal(mem.direction(g), -g)
    # and a pair with non-finite entries is refused without leaving them behind
    assert not mem.push(np.full(n, np.inf), g)
    assert np.all(np.isfinite(mem.direction(g)))


def test_lbfgs_direction_is_not_written_into_the_memory():
    # d = c W written into a row of W overlaps the product's input: NumPy then computes into
    # a temporary and copies it back, at every direction. The direction has its own buffer,
    # and the line search writes its step into the free slot (a copy for a unit step)
    mem = LBFGSMemory(m=4)
    walk_quadratic(mem, 2, 12, 6.0, 6, 0.5, into_slot=True)  # checks d is not in W's buffer
    # the pairs stored are the steps taken: the secant condition H y = s of the newest pair,
    # checked on the direction of y (-H y = -s)
    s, y = mem.pairs[-1]
    np.testing.assert_allclose(mem.direction(y), -s, rtol=1e-12)


class _FakeWolfe:
    """A fake method with Wolfe steps: ``move(x, k)`` gives the next x and the step length it
    reports; the driver's bound of max|x| by the steps' lengths must still see it diverge."""

    def __init__(self, move):
        self.move = move

    def __call__(self, problem, options):
        from slopes.optim.methods_base import Method, StepInfo

        move = self.move

        class Fake(Method):
            name = "_fake_wolfe"
            wolfe_steps = True

            def init(self, x, f, g):
                return x

            def step(self, x, k):
                xn, length = move(x, k)
                fn, gn = self.problem.value_and_grad(xn)
                return StepInfo(xn, fn, gn, length, 1.0, xn)

        return Fake(problem, options)


def _runaway(factor):
    """x multiplied by ``factor`` each iteration (or made nan by a nan factor)."""
    return _FakeWolfe(lambda x, k: (x * factor, float(np.linalg.norm(x * factor - x))))


@pytest.mark.parametrize("factor, why", [(1e3, "|x| grew to"), (np.nan, "x has non-finite entries")])
def test_a_wolfe_method_that_runs_away_is_still_stopped(monkeypatch, factor, why):
    from slopes.optim.methods_base import METHODS

    monkeypatch.setitem(METHODS, "_fake_wolfe", _runaway(factor))
    # f = -sum(x) stays finite and far from its growth limit while x grows 1000x a step
    r = sl.minimize(lambda x: float(np.tanh(-x.sum())), np.ones(3), jac=lambda x: np.ones(3),
                    method="_fake_wolfe", maxiter=50)
    assert r.status == 2 and why in r.message, r.message
    if factor == factor:  # passed 1e12 (1 + max|x0|) = 2e12 at the fifth step (1e15), not before
        assert r.nit == 4 and np.max(np.abs(r.x)) == 1e12


def test_a_float32_step_rounded_past_the_growth_limit_is_stopped(monkeypatch):
    # x + s rounded to float32 can pass max|x0| + |s| by a relative 6e-8, more than the 1e-9
    # the float64 bound allows per step: a float32 x is tested itself at every step.
    # x0 = 0.5 sets the limit to 1e12 (1 + 0.5) = 1.5e12; one step of exact length
    # 1.5e12 - 1e4 - 0.5 lands on 1.5e12 - 1e4, which rounds up to the float32 1500000026624
    from slopes.optim.methods_base import METHODS

    s = 1.5e12 - 1e4 - 0.5

    def move(x, k):
        step = s if k == 0 else 0.0
        return (x.astype(np.float64) + step).astype(np.float32), step

    monkeypatch.setitem(METHODS, "_fake_wolfe", _FakeWolfe(move))
    r = sl.minimize(lambda x: 0.0, np.array([0.5], np.float32), jac=lambda x: np.ones(1, np.float32),
                    method="_fake_wolfe", maxiter=5)
    assert float(np.float32(0.5 + s)) > 1.5e12 and 0.5 + s < 1.5e12  # past the limit by rounding only
    assert r.status == 2 and "|x| grew to" in r.message and r.nit == 0, r.message


def test_problem_evaluator_counts_and_values_like_value_and_grad():
    # the user's fun and jac: the same values, the same counts, and a gradient of another
    # type converted as value_and_grad converts it
    calls = []
    p = Problem(lambda x: np.float64(x @ x), lambda x: calls.append(1) or list(2 * x))
    x = np.array([1.0, 2.0])
    f0, g0 = p.value_and_grad(x)
    ev = p.evaluator()
    f1, g1 = ev(x)
    assert (f1, g1.tolist()) == (f0, g0.tolist()) == (5.0, [2.0, 4.0])
    assert type(f1) is float and g1.dtype == np.float64 and (p.nfev, p.ngev) == (2, 2)
    # the staged replay: the same (f, g) as the general path, counts of fun's calls included,
    # and an x of another shape takes the general path (traced again)
    q = Problem(lambda x: snp.sum(x ** 3))
    q._vg = sl.value_and_grad(q._fun)
    q.stage()
    q.value_and_grad(x)
    ev = q.evaluator()
    f, g = ev(np.array([2.0, 3.0]))
    assert (f, g.tolist(), q.nfev, q.ngev) == (35.0, [12.0, 27.0], 2, 2)
    f, g = ev(np.ones(3))
    assert (f, g.tolist(), q.ngev) == (3.0, [3.0, 3.0, 3.0], 3)
