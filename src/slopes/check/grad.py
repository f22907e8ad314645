"""check_grad: one derivative of ``f`` at a point by AD, by finite differences and (for Expressions) by sympy."""

from __future__ import annotations

import numpy as np

from .. import numeric
from ..transforms import grad as _ad_grad
from ..transforms import hessian as _ad_hessian
from ..transforms import jacobian as _ad_jacobian
from .complex_view import partial_estimate, partial_names, partials
from .flat import flat_point, is_tree
from .point import as_point, evaluate
from .report import KINDS, WHAT, GradCheckReport
from .table import error_text, fmt_point, is_expression, name_of, nonfinite_derivative
from .tolerance import compare, estimate, resolve_tolerance

_AD = {"grad": ("sl.grad", _ad_grad), "jacobian": ("sl.jacobian", _ad_jacobian), "hessian": ("sl.hessian", _ad_hessian)}


def _symbolic_at(f, kind, x):
    import sympy

    from .. import symbolic

    # simplify=False: simplification changes nothing at a point and can be slow
    how = symbolic.hessian if kind == "hessian" else symbolic.gradient
    matrix = how(f, variables=f.variables, simplify=False)
    names = [str(v) for v in f.variables]
    # Use the Expression's own symbols (with whatever assumptions it gave them).
    symbols = {str(s): s for s in f.to_sympy().free_symbols}
    symbols.update({str(s): s for s in getattr(matrix, "free_symbols", ())})
    values = np.ravel(np.asarray(x, dtype=np.float64))
    if len(values) != len(names):
        raise ValueError(f"the Expression has {len(names)} variables {names}, x has {len(values)} entries")
    subs = {symbols[n]: sympy.Float(float(v), 30) for n, v in zip(names, values) if n in symbols}
    entries = list(sympy.Matrix(matrix))
    out = np.empty(len(entries), dtype=np.float64)
    for k, entry in enumerate(entries):
        try:
            v = entry.subs(subs).evalf(30)
        except ZeroDivisionError:
            v = sympy.zoo
        if v.has(sympy.zoo, sympy.oo, -sympy.oo):
            out[k] = np.inf
            continue
        if v.has(sympy.nan):
            out[k] = np.nan
            continue
        if not v.is_number:
            raise ValueError(f"entry {k} still depends on {sorted(map(str, v.free_symbols))}: {v}")
        c = complex(v)
        if c.imag != 0:
            raise ValueError(f"the symbolic derivative is not real at entry {k}: {v}")
        out[k] = c.real
    return out


def check_grad(f, x, kind="grad", *, rtol=None, atol=None, numeric_options=None, symbolic=True, max_rows=20):
    """Check the derivative of ``f`` at ``x``: AD against finite differences (and sympy).

    Parameters
    ----------
    f : callable, Expression or str
        A function of one array written with :mod:`slopes.numpy`, or an
        Expression from :func:`slopes.parse` (then the exact sympy derivative
        is compared too), or formula text, parsed with :func:`slopes.parse`.
    x : array_like or pytree
        The point (integers are converted to float64; float32 stays float32
        and gets the looser float32 tolerance). A pytree (nested dicts,
        lists, tuples of arrays, as :func:`slopes.grad` accepts) is compared
        on its flat vector (:func:`slopes.ravel_pytree`), entries named by
        path, ``[1]['W'][2, 0]``; an Expression's entries are named by variable.
    kind : {"grad", "jacobian", "hessian"}
        Which derivative: the gradient or Hessian of a scalar ``f``, or the
        Jacobian (shape ``f(x).shape + x.shape``) of any ``f``.
    rtol, atol : float, optional
        Override the default tolerance (see the module docstring:
        ``|ad - ref| <= atol + rtol * max(|ad|, |ref|) + 10 * numeric_error``,
        by default ``rtol = 10 sqrt(eps)``, ``atol = 1000 eps max(1, max |ad|)``
        for float32 and float64).
    numeric_options : dict, optional
        Extra keyword arguments for the :mod:`slopes.numeric` function.
    symbolic : bool
        Compare with sympy when ``f`` is an Expression (default True).
    max_rows : int or None
        Rows shown when the report is printed (``None``: all).

    Returns
    -------
    GradCheckReport
        ``.ok``, the values of each method, the errors, ``.worst``,
        ``.max_abs_error``, ``.max_rel_error``; ``print(report)`` shows a
        table. Problems (NaN/inf, ``f`` failing at ``x``) are reported in
        ``.problems``/``.message`` with ``ok=False``, never raised.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> f = lambda x: x[0] ** 2 + 2 * x[1] ** 2 + snp.exp(-x[0] - x[1])
    >>> report = sl.check_grad(f, np.array([1.0, 2.0]))
    >>> report.ok, report.max_rel_error < 1e-8
    (True, True)
    >>> print(report)  # doctest: +ELLIPSIS
    check_grad: gradient of <lambda> at x = [1., 2.] (float64)
    index           AD      numeric  ...  ok
      [0]  1.950212932  1.950212932  ...  ok
      [1]  7.950212932  7.950212932  ...  ok
    OK: all 2 entries of AD agree with numeric (...)

    Problems are reported, not raised:

    >>> sl.check_grad(snp.log, np.array(-1.0)).message
    'f(x) is nan at x = -1.0'
    """
    if kind not in KINDS:
        raise ValueError(f"check_grad(): kind must be one of {KINDS}, got {kind!r}")
    # NaN/inf are reported in the result: no RuntimeWarnings on top of that.
    with np.errstate(all="ignore"):
        return _check_grad(f, x, kind, rtol, atol, numeric_options, symbolic, max_rows)


def _check_grad(f, x, kind, rtol, atol, numeric_options, symbolic, max_rows):
    if isinstance(f, str):
        from ..expr import parse  # the safe parser: never eval

        f = parse(f)
    f_name, names = name_of(f), None
    if is_tree(x):  # compare on the flat vector, name entries by their paths
        f, x, names = flat_point(f, x)
    x = as_point(x)
    if is_expression(f) and x.size == len(f.variables):
        names = [str(v) for v in f.variables]
    complex_point = x.dtype.kind == "c"
    if complex_point:  # compared as real partials (df/dx, df/dy), see check.complex_view
        names = partial_names(names, x.shape)
    report = GradCheckReport(kind=kind, f_name=f_name, x=x, max_rows=max_rows, names=names)
    problems = report.problems
    if complex_point and kind != "grad":
        problems.append(f"kind={kind!r} is checked at real points only; at a complex point use kind='grad'")
        return _finish(report, rtol, atol)

    # 1. f itself at x
    fx, report.dtype, problem = evaluate(f, [x], f"an array of shape {x.shape}", f"x = {fmt_point(x)}")
    if problem:
        problems.append(problem)
        return _finish(report, rtol, atol)
    if kind in ("grad", "hessian") and fx.ndim:
        problems.append(
            f"kind={kind!r} needs f to return a scalar, but f(x) has shape {fx.shape} (use kind='jacobian')"
        )
        return _finish(report, rtol, atol)

    # 2. automatic differentiation
    ad_name, ad_transform = _AD[kind]
    try:
        report.ad = np.asarray(ad_transform(f)(x))
        if complex_point:
            report.ad = partials(report.ad)
    except Exception as e:  # noqa: BLE001
        problems.append(f"AD ({ad_name}) failed: {error_text(e)}")
    else:
        _check_finite(problems, "AD", kind, report.ad, x)
    shape = None if report.ad is None else report.ad.shape

    # 3. finite differences
    try:
        fn = {"grad": numeric.grad, "jacobian": numeric.jacobian, "hessian": numeric.hessian}[kind]
        est = fn(f, x, full_output=True, **(numeric_options or {}))
        if complex_point:
            est = partial_estimate(est)
        eps = float(np.finfo(report.dtype).eps)
        value, error = estimate(est, fx if kind == "jacobian" else abs(float(fx)), 2 if kind == "hessian" else 1, eps)
        if shape is not None and value.shape != shape:
            value, error = value.reshape(shape), np.broadcast_to(error, value.shape).reshape(shape)
        report.numeric, report.numeric_error = value, np.broadcast_to(error, value.shape)
        report.numeric_kink = np.asarray(est.kink, dtype=bool).reshape(value.shape)
    except Exception as e:  # noqa: BLE001
        problems.append(f"finite differences failed: {error_text(e)}")
    else:
        _check_finite(problems, "numeric", kind, report.numeric, x)

    # 4. sympy, for Expressions
    if symbolic and is_expression(f):
        try:
            values = _symbolic_at(f, kind, x)
            target = shape if shape is not None else (report.numeric.shape if report.numeric is not None else None)
            report.symbolic = values.reshape(target) if target is not None else values
        except ImportError:
            pass  # no symbolic support installed: compare AD with numeric only
        except Exception as e:  # noqa: BLE001
            problems.append(f"the symbolic {WHAT[kind]} could not be evaluated: {error_text(e)}")
        else:
            _check_finite(problems, "symbolic", kind, report.symbolic, x)

    return _finish(report, rtol, atol)


def _check_finite(problems, method, kind, a, x):
    """Record a NaN or inf in the derivative ``a`` by ``method`` as a problem."""
    if not np.all(np.isfinite(a)):
        problems.append(nonfinite_derivative(method, WHAT[kind], a, x))


def _finish(report, rtol, atol):
    report.rtol, report.atol = resolve_tolerance(report.dtype, rtol, atol, report.ad if report.ad is not None else 0.0)
    if report.ad is None:
        return report
    refs = [(report.numeric, report.numeric_error), (report.symbolic, None)]
    results = [compare(report.ad, ref, err, report.rtol, report.atol) for ref, err in refs if ref is not None]
    if not results:
        return report
    with np.errstate(invalid="ignore"):
        report.abs_error = np.maximum.reduce([r[0] for r in results])
        report.rel_error = np.maximum.reduce([r[1] for r in results])
        report.tolerance = np.minimum.reduce([r[2] for r in results])
        report.entry_ok = np.logical_and.reduce([r[3] for r in results])
    if report.numeric_kink is not None and report.numeric_kink.shape == report.entry_ok.shape:
        # finite differences could not settle there: no verdict either way on those entries
        report.entry_inconclusive = report.numeric_kink.copy()
        report.entry_ok = report.entry_ok & ~report.numeric_kink
    return report
