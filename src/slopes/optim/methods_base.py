"""The method protocol shared by every :func:`slopes.minimize` method.

A method is a small class registered in :data:`METHODS` by name::

    class Method:
        name: str
        needs: frozenset                     # subset of {"grad", "hess"}
        options: dict                        # accepted option -> default
        default_maxiter: int
        constraints: frozenset               # of {"projection", "prox"} the method uses
        def __init__(self, problem, options): ...   # validate; unknown -> ValueError
        def init(self, x, f, g) -> state
        def step(self, state, k) -> StepInfo
        def optimality(self, x, f, g) -> float     # default max|g|; nan = none
        wolfe_steps: bool                    # steps as a strong Wolfe search returns them

Methods never count evaluations (the :class:`Problem` does) and never decide
convergence (the driver does).

>>> from slopes.optim.methods_base import METHODS, StepInfo
>>> info = StepInfo(np.zeros(2), 0.0, np.zeros(2), 1.0, 0.1, None)
>>> dict(info.extra)
{}
"""

from __future__ import annotations

import math
from types import MappingProxyType

import numpy as np

from ..core.staging import TracingError
from ..core.trace import Tracer, shape_of
from ..transforms.jit import jit

__all__ = ["METHODS", "Method", "Problem", "StepInfo", "register_method", "check_options",
           "constraint_projection"]

#: name -> Method class; filled by :func:`register_method`.
METHODS: dict[str, type] = {}

NO_EXTRA = MappingProxyType({})  # shared by the steps that report nothing extra


class StepInfo:
    """What one method iteration returns.

    Attributes
    ----------
    x : ndarray
        The new iterate.
    f : float
        ``f(x)`` at the new iterate.
    g : ndarray or None
        The gradient at the new iterate (None if the method does not compute it).
    step_size : float
        The step length taken (e.g. the line-search step, or |x_new - x|).
    lr : float
        The learning rate in effect (nan if the method has none).
    state : Any
        The method's state for the next iteration.
    extra : dict
        Method-specific information (e.g. ``{"measure": residual}`` to give the
        driver a non-gradient optimality measure, ``{"failed": reason}`` to stop);
        an empty read-only mapping when not given.
    """

    __slots__ = ("x", "f", "g", "step_size", "lr", "state", "extra")

    def __init__(self, x, f, g, step_size, lr, state, extra=None):
        # a plain slotted class: made once per iteration of every method
        self.x, self.f, self.g, self.step_size, self.lr, self.state = x, f, g, step_size, lr, state
        self.extra = NO_EXTRA if extra is None else extra

    def __repr__(self) -> str:
        return (f"StepInfo(f={self.f!r}, step_size={self.step_size!r}, lr={self.lr!r}, "
                f"extra={dict(self.extra)!r})")


class Problem:
    """The objective as the driver hands it to a method, with counted evaluations.

    ``nfev`` counts every call of ``fun``, including the ones automatic
    differentiation makes when the gradient / Hessian come from AD (build them
    from :meth:`_fun`); ``ngev`` / ``nhev`` count gradient / Hessian evaluations.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``.
    grad, hess : callable
        Gradient and Hessian functions (user-supplied or from AD).
    value_and_grad : callable, optional
        Returns ``(f, g)`` in one call (counts one f and one g evaluation).
    dtype : numpy dtype
    projection, prox, L, f_star, data, batch_size, shuffle, seed, epochs :
        Passed through from :func:`slopes.minimize` (may be None).

    Attributes
    ----------
    copy_grad : bool
        Whether each gradient is copied as it comes (true when ``grad`` or ``value_and_grad``
        is given here: the user's code, which may fill and return one buffer at every call;
        a method keeps the last gradient past the next evaluation). It is false for AD's
        derivatives, set after construction, and :func:`slopes.minimize` clears it for
        chunked sums: their arrays are new at every call.

    Examples
    --------
    >>> p = Problem(lambda x: float(x @ x), lambda x: 2 * x, lambda x: 2 * np.eye(x.size))
    >>> p.f(np.ones(2)), p.grad(np.ones(2)).tolist(), (p.nfev, p.ngev, p.nhev)
    (2.0, [2.0, 2.0], (1, 1, 0))
    """

    def __init__(self, fun, grad=None, hess=None, value_and_grad=None, *, dtype=np.float64,
                 projection=None, prox=None, L=None, f_star=None, learning_rate=None,
                 line_search=None, data=None, batch_size=None, shuffle=True, seed=None,
                 epochs=None):
        self._user_fun = fun
        self._grad = grad
        self._hess = hess
        self._vg = value_and_grad
        self.copy_grad = grad is not None or value_and_grad is not None
        self.dtype = np.dtype(dtype)
        self.projection = projection
        self.prox = prox
        self.L = L
        self.f_star = f_star
        self.learning_rate = learning_rate
        self.line_search = line_search
        self.data = data
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.epochs = epochs
        self.nfev = 0
        self.ngev = 0
        self.nhev = 0
        self._f = None  # the staged objective, after stage()
        self._output_checked = False
        # (shape, dtype, replay, calls of fun) once the staged value-and-gradient has run on an
        # array x of that shape and dtype: value_and_grad calls the replay itself for such x
        self._direct = None

    def _fun(self, x, *args):
        """The user's ``fun``, counted: every call (also from AD) adds one to ``nfev``."""
        self.nfev += 1
        out = self._user_fun(x, *args)
        if not self._output_checked:  # the first call: a wrong output fails here, naming fun
            if isinstance(out, Tracer):
                if shape_of(out) != ():
                    raise TypeError(scalar_output_message(out))
            else:
                scalar_value(out)
            self._output_checked = True
        return out

    def f(self, x, *args) -> float:
        """Counted objective value."""
        fun = self._fun if self._f is None else self._f
        return scalar_value(fun(x, *args))

    def stage(self, programs=None):
        """Replay ``fun`` and its AD derivatives with :func:`slopes.jit`.

        Each one is traced on its first call and replayed after that; ``nfev``
        still grows by the calls of ``fun`` one evaluation stands for. One that
        cannot be traced (Python control flow on values, plain NumPy code) keeps
        running eagerly. ``programs`` maps ``"_f"``, ``"_grad"``, ``"_vg"``, ``"_hess"``
        to :class:`StagedProgram` s to run instead of new ones (programs kept from an
        earlier call, see :mod:`slopes.optim.program_cache`).
        """
        programs = {} if programs is None else programs
        self._f = _Staged(self._fun, self, programs.get("_f"))
        for name in ("_grad", "_vg", "_hess"):
            if getattr(self, name) is not None:
                setattr(self, name, _Staged(getattr(self, name), self, programs.get(name)))

    def grad(self, x, *args) -> np.ndarray:
        """Counted gradient."""
        if self._grad is None:
            raise ValueError("this problem has no gradient")
        self.ngev += 1
        return self._as_grad(self._grad(x, *args), x)

    def _as_grad(self, g, x):
        """``g`` as an array of ``x``'s shape and the problem's dtype (``g`` itself when it is one),
        a copy of it when :attr:`copy_grad`."""
        if type(g) is np.ndarray and g.dtype is self.dtype and type(x) is np.ndarray and g.shape == x.shape:
            return g.copy() if self.copy_grad else g
        if self.copy_grad:
            return np.array(g, dtype=self.dtype, copy=True).reshape(_shape(x))
        return np.asarray(g, dtype=self.dtype).reshape(_shape(x))

    def value_and_grad(self, x, *args):
        """Counted ``(f, g)``."""
        direct = self._direct
        if direct is not None and type(x) is np.ndarray and x.shape == direct[0] and x.dtype is direct[1] \
                and not args:  # the per-evaluation path of a staged problem: its replay, counted
            self.nfev += direct[3]
            self.ngev += 1
            f, g = direct[2](x)
            return float(f), g
        if self._vg is not None:
            self.ngev += 1
            f, g = self._vg(x, *args)
            if type(self._vg) is _Staged and not args and self._vg.program.jitted is not None:
                # an x of another dtype or an untraceable fun finds no replay: keep the one found
                self._direct = self._vg.direct(x, f, g, self.dtype) or self._direct
        elif self._f is None and self._output_checked and self._grad is not None:
            # the user's fun and jac, once fun's output has been checked: the per-iteration path
            self.nfev += 1
            self.ngev += 1
            f = self._user_fun(x, *args)
            g = self._grad(x, *args)
        else:
            return scalar_value((self._fun if self._f is None else self._f)(x, *args)), self.grad(x, *args)
        return float(f) if isinstance(f, float) else scalar_value(f), self._as_grad(g, x)

    def evaluator(self):
        """:meth:`value_and_grad` for one argument ``x``, specialized to how this problem evaluates
        now: a method's per-iteration path (the same values and counts, fewer checks per call).

        After the first evaluation the path is known: the staged replay (for an ``x`` of the
        shape and dtype it was traced for; any other ``x`` takes the general path) or the
        user's ``fun`` and ``jac``, whose output was checked at the first call.

        >>> p = Problem(lambda x: float(x @ x), lambda x: 2 * x)
        >>> p.value_and_grad(np.ones(2))[0], p.evaluator()(np.full(2, 3.0))[1].tolist(), (p.nfev, p.ngev)
        (2.0, [6.0, 6.0], (2, 2))
        """
        direct = self._direct
        if direct is not None:
            shape, dtype, replay, calls = direct

            def staged(x):
                if type(x) is np.ndarray and x.shape == shape and x.dtype is dtype:
                    self.nfev += calls
                    self.ngev += 1
                    f, g = replay(x)
                    return float(f), g
                return self.value_and_grad(x)

            return staged
        if self._vg is None and self._f is None and self._output_checked and self._grad is not None:
            fun, jac = self._user_fun, self._grad

            def user(x):
                self.nfev += 1
                self.ngev += 1
                f = fun(x)
                return (f if type(f) is float else scalar_value(f)), self._as_grad(jac(x), x)

            return user
        return self.value_and_grad

    @property
    def joint(self) -> bool:
        """Whether value and gradient come from one call (AD): then a trial step costs
        little more with its gradient than without, and line searches take both."""
        return self._vg is not None

    def hess(self, x, *args) -> np.ndarray:
        """Counted Hessian (n x n)."""
        if self._hess is None:
            raise ValueError("this problem has no Hessian")
        self.nhev += 1
        n = np.size(x)
        return np.asarray(self._hess(x, *args), dtype=self.dtype).reshape(n, n)


def _shape(x) -> tuple:
    # the array attribute directly: np.shape is a Python-level wrapper, called per evaluation
    return x.shape if isinstance(x, np.ndarray) else np.shape(x)


_max_reduce = np.maximum.reduce
_F64 = np.dtype(np.float64)
_idamax = None  # BLAS idamax, imported at the first use (scipy.linalg is slow to import)


def _load_idamax():
    """BLAS ``idamax`` (imported once)."""
    global _idamax
    if _idamax is None:
        from scipy.linalg.blas import idamax

        _idamax = idamax
    return _idamax


def _max_abs(a) -> float:
    """``max|a|`` as a float (0.0 for an empty array, nan when an entry is nan).

    A flat float64 array goes through BLAS ``idamax`` (one pass, no temporary); how BLAS
    treats nan is left open, so ``a . a`` (nan exactly when an entry is) decides then.

    >>> _max_abs(np.array([1.0, -3.0])), _max_abs(np.zeros(0)), _max_abs(np.array([1.0, np.nan]))
    (3.0, 0.0, nan)
    """
    if type(a) is not np.ndarray:
        a = np.asarray(a)
    if a.ndim != 1:
        a = a.ravel()
    if not a.size:
        return 0.0
    if a.dtype is _F64:
        sq = a.dot(a)
        return abs(float(a[(_idamax or _load_idamax())(a)])) if sq == sq else math.nan
    return float(_max_reduce(abs(a)))


def _norm(s) -> float:
    """The Euclidean norm of a real array, computed as ``np.linalg.norm`` does (sqrt of ``s.s``).

    >>> _norm(np.array([3.0, 4.0]))
    5.0
    """
    v = np.asarray(s).ravel()
    return float(np.sqrt(v.dot(v)))


def scalar_output_message(out) -> str:
    """Why ``out``, returned by the objective, is not one real number."""
    shape = shape_of(out)
    if isinstance(out, (str, bytes)) or (not isinstance(out, Tracer) and np.asarray(out).dtype.kind not in "biuf"):
        return (f"fun must return a real number; it returned {type(out).__name__} {str(out)[:40]!r}. "
                "Return the objective's value, e.g. snp.sum(x ** 2)")
    return (f"fun must return a scalar; it returned an array of shape {tuple(shape)}. Reduce it to one "
            "number (e.g. snp.sum or snp.mean of it)")


def scalar_value(out) -> float:
    """The objective's output ``out`` as a float, or a TypeError saying what is wrong with it.

    >>> scalar_value(np.array([2.5])), scalar_value(3)
    (2.5, 3.0)
    >>> scalar_value("2.5")
    Traceback (most recent call last):
    ...
    TypeError: fun must return a real number; it returned str '2.5'. Return the objective's value, e.g. snp.sum(x ** 2)
    """
    if isinstance(out, float):  # Python floats and NumPy float64 scalars: nothing to check
        return float(out)
    if isinstance(out, (str, bytes)):
        raise TypeError(scalar_output_message(out))
    arr = np.asarray(out)
    if arr.size != 1 or arr.dtype.kind not in "biuf":
        raise TypeError(scalar_output_message(out))
    return float(arr.reshape(()))


class StagedProgram:
    """``slopes.jit`` of a function, and how many calls of ``fun`` one evaluation stands for.

    One may serve the problems of many :func:`slopes.minimize` calls
    (:mod:`slopes.optim.program_cache`); ``jitted`` is None once the function proved
    untraceable.
    """

    __slots__ = ("jitted", "calls_of_fun")

    def __init__(self, fn):
        self.jitted = jit(fn)
        self.calls_of_fun = 0  # how many times one evaluation called fun when traced


class _Staged:
    """A :class:`StagedProgram` run for a :class:`Problem`, counting the ``fun`` calls it replays.

    ``eager`` (built on the problem's counted ``fun``) runs instead when the program
    cannot be traced.
    """

    def __init__(self, fn, problem, program=None):
        self.eager = fn
        self.program = StagedProgram(fn) if program is None else program
        self.problem = problem

    def __call__(self, *args):
        prog = self.program
        if prog.jitted is None:
            return self.eager(*args)
        p = self.problem
        before = p.nfev
        try:
            out = prog.jitted(*args)
        except TracingError:
            p.nfev = before
            prog.jitted = None  # not traceable: evaluate eagerly from now on
            return self.eager(*args)
        if p.nfev != before:  # traced now (or ran unstaged): fun was really called
            prog.calls_of_fun = p.nfev - before
        else:
            p.nfev += prog.calls_of_fun
        return out

    def direct(self, x, f, g, dtype):
        """``(shape, dtype, replay, calls of fun)`` for a :attr:`Problem._direct` path, or None.

        ``(f, g)`` is what this value-and-gradient returned for the array ``x``: the program
        traced for ``x``'s shape and dtype returns the same types at every call, so when ``f``
        is a real scalar (``float(f)`` is then what the general path's checks give) and ``g``
        an array of ``x``'s shape and ``dtype``, the replay's outputs need no checks.
        """
        jitted = self.program.jitted
        if jitted is None or type(x) is not np.ndarray or not isinstance(f, (float, np.floating)) \
                or type(g) is not np.ndarray \
                or g.dtype is not dtype or g.shape != x.shape:
            return None
        replay = jitted.replay_for(x)
        return None if replay is None else (x.shape, x.dtype, replay, self.program.calls_of_fun)


def constraint_projection(cls, method, bounds, projection, prox, shape):
    """The projection ``bounds=`` or ``projection=`` give method ``cls``, refusing what it ignores.

    ``bounds`` (any spelling :func:`~slopes.optim.bounds.read_bounds` reads, for points of
    ``shape``) becomes a :func:`~slopes.optim.projections.box`. A constraint the method does
    not list in ``cls.constraints`` raises ValueError naming the methods that use it.

    Examples
    --------
    >>> from slopes.optim.methods_constrained import ProjectedGradient
    >>> constraint_projection(ProjectedGradient, "projected_gradient", [(0, 1), (2, 3)], None, None, (2,))
    Projection(box(lower=[0., 2.], upper=[1., 3.]))
    """
    if bounds is not None and projection is not None:
        raise ValueError("give bounds= or projection=, not both (a box is projections.box(lower, upper))")
    for kind, arg, given in (("projection", "bounds", bounds), ("projection", "projection", projection),
                             ("prox", "prox", prox)):
        if given is not None and kind not in getattr(cls, "constraints", ()):
            takers = ", ".join(repr(m) for m, c in sorted(METHODS.items()) if kind in getattr(c, "constraints", ()))
            raise ValueError(f"method {method!r} does not use {arg}= and would ignore it; the methods "
                             f"that use it are {takers}")
    if bounds is None:
        return projection
    from .bounds import read_bounds
    from .projections import box

    return box(*read_bounds(bounds, shape))


class Method:
    """Base class for methods (see the module docstring for the protocol)."""

    name: str = ""
    needs: frozenset = frozenset({"grad"})
    options: dict = {}
    default_maxiter: int = 1000
    #: whether the method handles ``data=`` (mini-batches) itself.
    supports_data: bool = False
    #: which of ``projection`` (also ``bounds=``) and ``prox`` the method uses; minimize
    #: refuses the others instead of ignoring them.
    constraints: frozenset = frozenset()
    #: whether every step the method returns is as a strong Wolfe search accepts it: ``x`` a new
    #: array the method never writes to, ``g`` with finite entries only (its slope along the
    #: direction was finite) and ``step_size`` the length ``|x_new - x|``. The driver then keeps
    #: the best point without a copy, reads ``max|g|`` in one BLAS call and bounds ``max|x|``
    #: by the steps' lengths instead of a pass over ``x``.
    wolfe_steps: bool = False

    def __init__(self, problem: Problem, options: dict):
        self.problem = problem
        self.opts = check_options(self.name, options, self.options)

    def optimality(self, x, f, g) -> float:
        """The optimality measure the driver compares with gtol (default ``max|g|``).

        Projected / proximal methods override it with the fixed-point residual;
        a method without one (subgradient) returns nan. A step may also return
        ``extra["measure"]``, which the driver then uses instead.
        """
        if g is None:
            return float("nan")
        return _max_abs(g)

    def initial_f(self, x, f) -> float:
        """The objective the method minimizes, at the start, from the smooth value ``f``.

        ``f`` itself for most methods; composite methods (proximal gradient)
        add their nonsmooth term, so history row 0 and the best point compare
        like with like.
        """
        return f

    def init(self, x, f, g):  # pragma: no cover - interface
        raise NotImplementedError

    def step(self, state, k) -> StepInfo:  # pragma: no cover - interface
        raise NotImplementedError


def check_options(name: str, given: dict, accepted: dict) -> dict:
    """Merge ``given`` into the defaults ``accepted``; unknown keys raise ValueError.

    >>> check_options("gd", {"a": 2}, {"a": 1, "b": 0})
    {'a': 2, 'b': 0}
    >>> check_options("gd", {"z": 2}, {"a": 1})
    Traceback (most recent call last):
    ...
    ValueError: method 'gd' does not accept option(s) 'z'; it accepts: 'a'
    """
    unknown = sorted(set(given) - set(accepted))
    if unknown:
        acc = ", ".join(repr(k) for k in sorted(accepted)) or "(none)"
        raise ValueError(
            f"method {name!r} does not accept option(s) {', '.join(repr(k) for k in unknown)}; "
            f"it accepts: {acc}"
        )
    out = dict(accepted)
    out.update(given)
    return out


def register_method(cls):
    """Class decorator: register ``cls`` in :data:`METHODS` under ``cls.name``."""
    METHODS[cls.name] = cls
    return cls


class DivergenceWatch:
    """The blow-up tests every run loop shares (the driver's and the mini-batch one).

    A run has diverged when x or f stops being finite, when f climbs above
    ``f0 + 1e6 (1 + |f0|)``, or when ``max|x|`` passes ``1e12 (1 + max|x0|)``.

    Examples
    --------
    >>> from slopes.optim.methods_base import DivergenceWatch
    >>> watch = DivergenceWatch(np.zeros(2), 1.0)
    >>> watch.reason(np.ones(2), 0.5) is None, watch.reason(np.ones(2), 1e9)
    (True, 'f grew from 1 to 1e+09')
    """

    F_GROWTH = 1e6
    X_GROWTH = 1e12

    def __init__(self, x0, f0):
        self.f0 = float(f0)
        self.x0max = _max_abs(x0)
        self.xmax = self.X_GROWTH * (1.0 + self.x0max)
        self.fmax = self.f0 + self.F_GROWTH * (1.0 + abs(self.f0))
        self.xmax2 = self.xmax * self.xmax

    def reason(self, x, f, what="f"):
        """Why the run diverged at ``(x, f)`` (``what`` names f in the message), or None."""
        # the common cases without a pass: x a finite bound of max|x| (a float) within the limit,
        # or one dot product: max|x| <= |x|_2, and x.x is finite exactly when every entry is
        # (short of overflow, which is growth anyway)
        if -math.inf < f <= self.fmax and (type(x) is float and x <= self.xmax or type(x) is np.ndarray
                                           and x.ndim == 1 and x.dot(x) <= self.xmax2):
            return None
        # one pass over x: max|x| is nan or inf exactly when some entry is
        xmax = _max_abs(x)
        if not math.isfinite(xmax):
            return "x has non-finite entries"
        if not math.isfinite(f):
            return f"{what} = {f}"
        if f > self.f0 + self.F_GROWTH * (1.0 + abs(self.f0)):
            return f"{what} grew from {self.f0:.3g} to {f:.3g}"
        if xmax > self.xmax:
            return f"|x| grew to {xmax:.3g}"
        return None
