"""``minimize``: one driver for every optimization method.

The driver builds a counted :class:`~slopes.optim.methods_base.Problem`, asks the
method (a class in :data:`~slopes.optim.methods_base.METHODS`) for one step at a
time, and owns everything shared: evaluation counts, history, tolerances,
convergence, divergence detection, the best point seen, callbacks and
interruption.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ._validate import check_learning_rate, check_number
from .methods_base import (METHODS, NO_EXTRA, DivergenceWatch, Method, Problem, StepInfo, _load_idamax,
                           _max_abs, constraint_projection)
from .result import History, Result

__all__ = ["minimize", "default_gtol"]



def default_gtol(dtype) -> float:
    """Default gradient tolerance for ``dtype``: ``eps ** (1/3)``.

    About ``6.1e-6`` for float64 and ``4.9e-3`` for float32.

    >>> round(default_gtol(np.float64), 8), round(default_gtol(np.float32), 5)
    (6.06e-06, 0.00492)
    """
    dtype = np.dtype(dtype)
    gtol = _DEFAULT_GTOL.get(dtype)
    if gtol is None:  # np.finfo is a Python-level lookup: once per dtype, not per minimize call
        gtol = _DEFAULT_GTOL[dtype] = float(np.finfo(dtype).eps) ** (1.0 / 3.0)
    return gtol


_DEFAULT_GTOL: dict = {}


def _chunked_objective(fun, data, batch_size, chunk_size, reduction, jac, hess, epochs, jit):
    """The :class:`~slopes.distributed.ChunkedObjective` ``minimize`` runs on, or None for in-memory data."""
    if data is None and chunk_size is None and reduction == "mean":
        return None  # the common case, without the import below
    from ..distributed import ChunkedObjective, has_dask

    dask_data = data is not None and has_dask(data)
    if not (dask_data or (data is not None and chunk_size is not None)):
        if chunk_size is not None:
            raise ValueError("chunk_size= cuts data= into row chunks; give data=(X, y) too")
        if reduction != "mean":
            raise ValueError("reduction= chooses how chunks of data= add up; give data= with dask arrays or chunk_size=")
        return None
    if batch_size is not None:
        what = "dask arrays" if dask_data else "chunk_size="
        raise ValueError(f"batch_size={batch_size!r} with {what}: minimize runs full-batch passes over chunked "
                         "data (batch_size=None); stream mini-batches of dask data with sl.ml.fit")
    if jac is not None or hess is not None:
        raise ValueError("jac=/hess= with chunked data: give the loss only; the derivatives of every chunk "
                         "come from automatic differentiation where the chunk is")
    if epochs is not None:
        raise ValueError("epochs= counts mini-batch passes; a full-batch run over chunked data stops by "
                         "maxiter and gtol")
    return ChunkedObjective(fun, data, reduction=reduction, chunk_size=chunk_size, jit=jit)


_methods_loaded = False


def _ensure_methods():
    global _methods_loaded
    if _methods_loaded:  # once per process, not at every minimize call (2.8 us of imports)
        return
    from . import methods_smooth  # noqa: F401  (registers the smooth methods)

    for mod in ("methods_constrained", "stochastic", "methods_sam"):
        try:
            __import__(f"{__package__}.{mod}")
        except ImportError:
            pass
    _methods_loaded = True


def minimize(fun, x0, method="lbfgs", *, jac=None, hess=None, learning_rate=None, L=None,
             line_search=None, bounds=None, projection=None, prox=None, data=None, batch_size=None,
             chunk_size=None, reduction="mean", shuffle=True, seed=None, epochs=None, gtol=None,
             ftol=None, maxiter=None, f_star=None, callback=None, record_x=False, jit=True,
             **method_options) -> Result:
    """Minimize ``fun`` from ``x0`` with the named method.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> scalar`` (``fun(x, batch)`` when ``data`` is given), written with
        ``slopes.numpy`` operations when gradients come from automatic differentiation.
    x0 : array_like
        Starting point (a vector; float32 is kept as float32, anything else becomes float64).
    method : str
        One of ``'gd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam', 'adamw',
        'newton', 'bfgs', 'lbfgs'`` and the constrained / stochastic methods registered.
    jac, hess : callable, optional
        User gradient / Hessian; by default they come from AD (:func:`slopes.value_and_grad`,
        :func:`slopes.hessian`). ``jac=True`` (as in scipy) means ``fun`` returns
        ``(value, gradient)`` in one call.
    learning_rate : float or schedule, optional
        The step size of gd and the transformation methods.
    L : float, optional
        A Lipschitz constant of the gradient: gd then uses the step ``1/L``.
    line_search : {'backtracking', 'strong_wolfe'}, optional
        For gd (default: none if a learning_rate or L is given, else backtracking).
    bounds : optional
        A box for the methods that take one (``projected_gradient``, ``subgradient``), with
        scipy's meanings: a list of ``(min, max)`` pairs, one per coordinate (``None`` for no
        bound), or ``scipy.optimize.Bounds(lower, upper)``; ``(lo, hi)`` with two numbers is one
        box ``lo <= x[i] <= hi`` for every coordinate, and ``(lower, upper)`` with arrays is
        read so where it cannot be pairs. A tuple of two pairs for a 2-D problem reads both
        ways and is refused; see :func:`slopes.optim.read_bounds`.
    projection, prox :
        A :mod:`~slopes.optim.projections` set (instead of ``bounds``) for the same methods; a
        :mod:`~slopes.optim.prox` operator for ``proximal_gradient``. A method that would
        ignore ``bounds``, ``projection`` or ``prox`` refuses them.
    data, batch_size, shuffle, seed, epochs :
        Stochastic use (gd with a learning_rate and the transformation methods):
        ``fun(x, batch)`` is evaluated on one mini-batch per iteration for ``epochs``
        passes (default 100) over ``data``; see :mod:`slopes.optim.stochastic`.
    data, chunk_size, reduction :
        Full-batch use over data in row chunks: with dask arrays in ``data`` (and
        ``batch_size=None``), or NumPy arrays and ``chunk_size=`` rows per chunk
        (gradient accumulation), any method minimizes
        ``f(x) = sum_c (n_c / n) fun(x, chunk_c)`` (``reduction="sum"``: the plain sum)
        through a :class:`slopes.distributed.ChunkedObjective`: one pass over the data per
        evaluation, the data never computed whole; ``result.passes`` and
        ``result.pass_times`` record them. Mini-batches of dask data are not drawn here
        (``batch_size=`` is refused): stream them with :func:`slopes.ml.fit`.
    gtol : float, optional
        Stop with success when the optimality measure (``max|grad|`` for unconstrained
        methods) is ``<= gtol``. Default :func:`default_gtol` of the dtype.
    ftol : float, optional
        With ``f_star``: success for methods without an optimality measure when
        ``fun_best - f_star <= ftol``. Default ``gtol * (1 + |f_star|)``.
    maxiter : int, optional
        Default depends on the method.
    f_star : float, optional
        The known optimal value (Polyak steps, subgradient success).
    callback : callable, optional
        ``callback(result)`` after each iteration, with a :class:`Result` for the
        current state (``status`` -1, ``message`` 'running'); returning True stops the
        run (status 3).
    record_x : bool
        Record the iterates in ``history.x``.
    jit : bool
        When the derivatives come from AD (no ``jac=``), trace ``fun`` and its
        derivatives once with :func:`slopes.jit` and replay them (much faster per
        call). A ``fun`` that cannot be traced (Python ``if`` on values, plain
        NumPy) runs eagerly as before; ``jit=False`` never traces. What ``fun``
        reads from globals is frozen when traced (see :func:`slopes.jit`). The programs
        are kept for the next call with the same ``fun`` and ``x0``'s shape and dtype,
        and replayed there if ``fun`` still gives bit for bit its traced values at two
        points (else traced again): see :mod:`slopes.optim.program_cache` for what
        that check cannot see.
    **method_options
        Method-specific options (e.g. ``beta``, ``m``, ``modification``); an option
        the method does not accept raises ValueError listing the ones it does.

    Every argument is checked before the first evaluation: ``learning_rate`` a finite
    number ``> 0`` (a zero step never moves) or a schedule (its values, checked at each
    use, finite and ``>= 0``), ``gtol`` / ``ftol`` finite and ``>= 0``, ``maxiter`` /
    ``epochs`` positive integers, ``L`` finite and ``> 0``, ``f_star`` finite; ``fun`` must
    return one real number (checked at ``x0``). A bad one raises an error naming it.

    Returns
    -------
    Result
        ``success`` is True only when the measure is ``<= gtol`` at ``result.x``.
        ``history`` has ``nit + 1`` rows (row 0 is the start). ``nfev`` counts every
        call of ``fun``, including those AD makes to compute gradients and Hessians.

    Examples
    --------
    >>> import slopes as sl
    >>> import slopes.numpy as snp
    >>> r = sl.minimize(lambda x: snp.sum((x - 1.0) ** 2), np.zeros(3), method="bfgs")
    >>> r.success, np.allclose(r.x, 1.0), r.grad_norm <= 1e-5
    (True, True, True)
    >>> r = sl.minimize(lambda x: x[0] ** 2 + 10 * x[1] ** 2, np.array([1.0, 1.0]),
    ...                 method="gd", learning_rate=0.5, maxiter=50)
    >>> r.success, r.message.split(":")[0]
    (False, 'diverged')
    """
    _ensure_methods()
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(
            f"unknown method {method!r}; valid methods: {', '.join(repr(m) for m in sorted(METHODS))}"
        )
    cls = METHODS[method]
    if not callable(fun):
        raise TypeError(f"fun must be a function fun(x) -> float, got {type(fun).__name__}")
    if learning_rate is not None and not callable(learning_rate):
        learning_rate = check_learning_rate(learning_rate, "learning_rate", positive=True)
    L = check_number(L, "L", low=0, low_open=True, allow_none=True)
    f_star = check_number(f_star, "f_star", allow_none=True)
    maxiter = check_number(maxiter, "maxiter", low=1, integer=True, allow_none=True)
    epochs = check_number(epochs, "epochs", low=1, integer=True, allow_none=True)

    chunked = _chunked_objective(fun, data, batch_size, chunk_size, reduction, jac, hess, epochs, jit)
    if chunked is not None:
        data = None
    x0 = np.asarray(x0)
    dtype = np.float32 if x0.dtype == np.float32 else np.float64
    x = np.array(x0, dtype=dtype, copy=True)
    if data is not None and not getattr(cls, "supports_data", False):
        raise ValueError(f"method {method!r} does not support data= (mini-batches); for the full-batch "
                         "objective over data in row chunks give chunk_size= (or dask arrays)")
    gtol = default_gtol(dtype) if gtol is None else check_number(gtol, "gtol", low=0)
    if ftol is None:
        ftol = gtol * (1.0 + abs(f_star if f_star is not None else 0.0))
    ftol = check_number(ftol, "ftol", low=0)

    needs = getattr(cls, "needs", frozenset({"grad"}))
    if jac is not None and jac is not True and not callable(jac):
        raise ValueError("jac must be a callable returning the gradient, True (fun returns (f, grad)) or None for AD")
    joint = None
    if jac is True:  # fun returns (f, g): one call serves both, as AD's value_and_grad does
        joint, jac = fun, (lambda x, *a: joint(x, *a)[1])
        fun = lambda x, *a: joint(x, *a)[0]  # noqa: E731
    if chunked is not None:  # one pass per evaluation; value alone, or value and gradient together
        fun, jac, joint = chunked.value, chunked.grad, chunked.value_and_grad
        hess = chunked.hessian if "hess" in needs else None
    if hess is not None and not callable(hess):
        raise ValueError("hess must be a callable returning the Hessian (or None for AD)")
    projection = constraint_projection(cls, method, bounds, projection, prox, x.shape)
    problem = Problem(fun, jac, hess, None, dtype=dtype, projection=projection,
                      prox=prox, L=L, f_star=f_star, learning_rate=learning_rate,
                      line_search=line_search, data=data, batch_size=batch_size, shuffle=shuffle,
                      seed=seed, epochs=epochs)
    if joint is not None:

        def counted_joint(x, *a):
            problem.nfev += 1
            return joint(x, *a)

        problem._vg = counted_joint
    if chunked is not None:
        problem.copy_grad = False  # the chunk sums are new arrays
    # AD derivatives are built on the counted fun, so nfev counts every call of fun
    if jac is None:
        from ..transforms import grad as _ad_grad
        from ..transforms import value_and_grad as _ad_vg

        problem._grad = _ad_grad(problem._fun)
        problem._vg = _ad_vg(problem._fun)
    if hess is None and "hess" in needs:
        from ..transforms import hessian as _ad_hess

        problem._hess = _ad_hess(problem._fun)
    if jac is None and jit and data is not None:
        problem.stage()
    problem.gtol = gtol
    if data is not None:
        from .stochastic import BatchedProblem, MiniBatches, run_epochs

        bproblem = BatchedProblem(problem, MiniBatches(data, batch_size, shuffle=shuffle, seed=seed))
        meth = cls(bproblem, dict(method_options))
        return run_epochs(meth, bproblem, x, 100 if epochs is None else int(epochs), gtol=gtol,
                          callback=callback, record_x=record_x, method_name=method,
                          maxiter=maxiter)
    meth = cls(problem, dict(method_options))
    if maxiter is None:
        maxiter = getattr(meth, "default_maxiter", 1000)

    t0 = time.perf_counter()
    hist = History(record_x=record_x)
    args = () if data is None else (data,)
    staged = None
    if jac is None and jit:  # programs kept from an earlier call with this fun, else traced now
        from .program_cache import keep_programs, stage_problem

        staged = stage_problem(problem, fun, x)
    if "grad" in needs or getattr(meth, "measure", "grad") == "grad":
        f, g = problem.value_and_grad(x, *args)
    else:
        f, g = problem.f(x, *args), None
    if staged is not None:
        keep_programs(fun, x, staged, f)
    f = meth.initial_f(x, f)
    f0 = f
    watch = DivergenceWatch(x, f0)
    measure = meth.optimality(x, f, g)
    x_best, f_best = x.copy(), f
    nit = 0
    lr = float("nan")
    append_row = hist.appender()  # row tuples in History's field order

    def make(success, status, message):
        return Result(x=x.copy(), fun=f, grad=None if g is None else np.array(g, copy=True),
                      grad_norm=measure, nit=nit, nfev=problem.nfev, ngev=problem.ngev,
                      nhev=problem.nhev, success=bool(success), status=status, message=message,
                      elapsed=time.perf_counter() - t0, x_best=x_best.copy(), fun_best=f_best,
                      history=hist, method=method, passes=None if chunked is None else chunked.passes,
                      pass_times=None if chunked is None else list(chunked.pass_times))

    def converged():
        if measure <= gtol:
            return True, f"converged: optimality measure {measure:.3g} <= gtol {gtol:.3g}"
        if math.isnan(measure) and f_star is not None and f_best - f_star <= ftol:
            return True, f"converged: f_best - f_star = {f_best - f_star:.3g} <= ftol {ftol:.3g}"
        return False, ""

    append_row((f, measure, math.nan, lr, problem.nfev, problem.ngev, problem.nhev))
    if record_x:
        hist.add_x(x)
    if not math.isfinite(f):
        return make(False, 2, f"diverged: f(x0) = {f}; the starting point must have a finite value")
    ok, msg = converged()
    if ok:
        return make(True, 0, msg)
    # the loop body is the per-iteration cost of every method: plain attribute reads,
    # one row tuple, and the tests on numbers already computed
    optimality = meth.optimality
    max_abs_grad = type(meth).optimality is Method.optimality  # the default measure, max|g|
    # a Wolfe step's gradient is finite (so max|g| needs no nan test: one BLAS idamax for a
    # float64 vector), its x is never written to again (the best point is kept by reference,
    # copied once in make) and max|x_k| <= max|x_0| + sum |s_i|: a float bound the divergence
    # test takes instead of x, grown by a relative 1e-9 per step for the rounding of x + s,
    # which covers float64's (float32's rounding is larger: its x is tested at every step)
    # (x itself is tested once the bound passes the limit, or is not finite)
    wolfe = bool(getattr(meth, "wolfe_steps", False))
    idamax = _load_idamax() if wolfe and x.dtype == np.float64 and x.ndim == 1 and x.size else None
    x_extent = watch.x0max if wolfe and x.dtype == np.float64 else None
    x_limit, f_limit = watch.xmax, watch.fmax
    try:
        state = meth.init(x, f, g)
        for k in range(maxiter):
            info: StepInfo = meth.step(state, k)
            lr = float(info.lr) if info.lr is not None else math.nan
            extra = info.extra
            if extra is not NO_EXTRA and extra.get("failed"):
                ok, msg = converged()
                if ok:
                    return make(True, 0, msg)
                return make(False, 4, f"method failure at iteration {k + 1}: {extra['failed']}")
            xn = info.x
            if type(xn) is not np.ndarray or xn.dtype is not x.dtype:
                xn = np.asarray(xn, dtype=dtype)
            fn = float(info.f)
            if x_extent is not None:
                x_extent = (x_extent + info.step_size) * (1.0 + 1e-9)
                # both within their limits: DivergenceWatch.reason's first test, without the call
                why = None if x_extent <= x_limit and -math.inf < fn <= f_limit else watch.reason(xn, fn)
            else:
                why = watch.reason(xn, fn)
            if why is not None:
                hint = (f"try a smaller learning_rate (was {problem.learning_rate})"
                        if problem.learning_rate is not None else "try a smaller learning_rate")
                msg = (f"diverged: {why} at iteration {k + 1}; {hint}. The best point seen is "
                       f"in x_best (f = {f_best:.6g})")
                return make(False, 2, msg)
            x, f, g, state = xn, fn, info.g, info.state
            nit = k + 1
            m = extra.get("measure") if extra is not NO_EXTRA else None
            if m is not None:
                measure = float(m)
            elif max_abs_grad and g is not None:
                # Method.optimality, one call less (two for a Wolfe step's float64 gradient)
                measure = abs(float(g[idamax(g)])) if idamax is not None else _max_abs(g)
            else:
                measure = optimality(x, f, g)
            if f < f_best:
                x_best, f_best = (x if wolfe else x.copy()), f
            append_row((f, measure, float(info.step_size), lr, problem.nfev, problem.ngev, problem.nhev))
            if record_x:
                hist.add_x(x)
            if callback is not None and callback(make(False, -1, "running")):
                ok, msg = converged()
                if ok:
                    return make(True, 0, msg)
                return make(False, 3, f"stopped by callback at iteration {nit}")
            if measure <= gtol or measure != measure:
                ok, msg = converged()
                if ok:
                    return make(True, 0, msg)
        return make(False, 1, f"maximum number of iterations ({maxiter}) reached; optimality "
                              f"measure {measure:.3g} > gtol {gtol:.3g}")
    except KeyboardInterrupt:
        return make(False, 5, f"interrupted at iteration {nit}; the best point seen is in x_best")
