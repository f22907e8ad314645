r"""Matrix calculus: the two views of the derivative of a matrix with respect to a matrix.

The derivative of ``F(X)`` (shape ``out_shape``, e.g. ``(m, n)``) with
respect to ``X`` (shape ``in_shape``, e.g. ``(p, q)``) can be kept in two
equivalent forms, both taught in the course material:

1. **The full Jacobian tensor** ("approach 1"), shape ``out_shape +
   in_shape``, with ``J[i, j, k, l] = dF[i, j] / dX[k, l]``. This is what
   :func:`slopes.jacobian` returns.
2. **The flattened Jacobian matrix** ("approach 2"): flatten ``F`` into a
   vector of length ``mn`` and ``X`` into one of length ``k = pq``, then
   ``M = d vec(F) / d vec(X)`` has shape ``(mn, k)``, rows indexing the
   outputs (numerator layout).

:func:`flatten_jacobian` and :func:`unflatten_jacobian` convert between the
two; :func:`vec_jacobian` gives the matrix view of a function directly.
Everything takes ``order="C"`` (default) or ``order="F"``:

* ``order="C"``: row-major, NumPy's ``ravel()``; ``vec`` stacks the *rows*.
  ``M`` is just ``J.reshape(mn, k)``.
* ``order="F"``: column-major, the textbooks' ``vec`` that stacks the
  *columns*; ``vec_F(X) = vec_C(X^T)``. ``M`` is ``J`` with the output axes
  and the input axes each reversed, then reshaped.

The two matrices differ by a permutation of rows and of columns:
``M_C = K_out @ M_F @ K_in.T`` with the commutation matrices of
:func:`commutation_matrix` (for matrix-shaped inputs and outputs). The
classic identity shows the difference:

.. math::

    \frac{\partial\, \mathrm{vec}_F(AXB)}{\partial\, \mathrm{vec}_F(X)} = B^\top \otimes A,
    \qquad
    \frac{\partial\, \mathrm{vec}_C(AXB)}{\partial\, \mathrm{vec}_C(X)} = A \otimes B^\top .

>>> import slopes as sl, slopes.numpy as snp
>>> A, B = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.0, 1.0], [1.0, 1.0]])
>>> J = sl.jacobian(lambda X: A @ X @ B)(np.eye(2))        # the tensor, shape (2, 2, 2, 2)
>>> M = sl.calculus.flatten_jacobian(J, (2, 2), (2, 2), order="F")
>>> np.array_equal(M, np.kron(B.T, A))
True
"""

from __future__ import annotations

import math

import numpy as np

from .. import numpy as snp
from ..core.trace import Tracer, shape_of
from ..transforms import jacobian

__all__ = ["vec", "unvec", "flatten_jacobian", "unflatten_jacobian", "vec_jacobian", "commutation_matrix"]


def _order(order, name):
    if order not in ("C", "F"):
        raise ValueError(f'{name}(): order must be "C" (row-major) or "F" (column-major), got {order!r}')
    return order


def _shape(s, what, name):
    try:
        return tuple(int(d) for d in ((s,) if np.isscalar(s) else s))
    except TypeError:
        raise TypeError(f"{name}(): {what} must be a tuple of ints, got {s!r}") from None


def _array(x):
    return x if isinstance(x, Tracer) else np.asarray(x)


def _reverse_axes(x, groups):
    """Reverse the order of the axes inside each consecutive group of ``groups`` axis counts."""
    perm, start = [], 0
    for g in groups:
        perm.extend(range(start + g - 1, start - 1, -1))
        start += g
    return x if perm == sorted(perm) else snp.transpose(x, tuple(perm))


def vec(X, order="C"):
    """Flatten an array into a vector: row-major (``"C"``) or column-major (``"F"``, textbook vec).

    ``vec(X, "F")`` stacks the columns of a matrix (the convention of matrix
    calculus texts); ``vec(X, "C")`` stacks the rows (NumPy's ``ravel``).
    ``vec(X, "F") == vec(X.T, "C")``. Works on traced arrays, so it can be
    used inside differentiated functions.

    Parameters
    ----------
    X : array_like
    order : {"C", "F"}

    Returns
    -------
    ndarray of shape ``(X.size,)``

    Examples
    --------
    >>> import slopes as sl
    >>> X = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> sl.calculus.vec(X), sl.calculus.vec(X, order="F")
    (array([1., 2., 3., 4.]), array([1., 3., 2., 4.]))
    """
    _order(order, "vec")
    X = _array(X)
    shape = tuple(shape_of(X))
    if order == "F":
        X = _reverse_axes(X, [len(shape)])
    return snp.reshape(X, (math.prod(shape),))


def unvec(v, shape, order="C"):
    """Inverse of :func:`vec`: fold a vector back into an array of ``shape``.

    Parameters
    ----------
    v : array_like of shape ``(prod(shape),)``
    shape : tuple of int
    order : {"C", "F"}

    Examples
    --------
    >>> import slopes as sl
    >>> sl.calculus.unvec(np.array([1.0, 3.0, 2.0, 4.0]), (2, 2), order="F")
    array([[1., 2.],
           [3., 4.]])
    """
    _order(order, "unvec")
    shape = _shape(shape, "shape", "unvec")
    v = _array(v)
    if math.prod(shape_of(v)) != math.prod(shape):
        raise ValueError(f"unvec(): cannot fold {math.prod(shape_of(v))} entries into shape {shape}")
    if order == "C":
        return snp.reshape(v, shape)
    return _reverse_axes(snp.reshape(v, shape[::-1]), [len(shape)])


def flatten_jacobian(J, out_shape, in_shape, order="C"):
    r"""The flattened Jacobian matrix ``d vec(F) / d vec(X)`` from the full Jacobian tensor.

    ``J`` has shape ``out_shape + in_shape`` (as :func:`slopes.jacobian`
    gives it); the result ``M`` has shape ``(prod(out_shape),
    prod(in_shape))`` with ``M[a, b] = d vec(F)[a] / d vec(X)[b]`` (numerator
    layout: one row per output entry).

    * ``order="C"`` (row-major): ``vec`` is NumPy's ``ravel``, and ``M`` is
      simply ``J.reshape(prod(out_shape), prod(in_shape))``.
    * ``order="F"`` (column-major, the textbook ``vec`` stacking columns):
      the output axes and the input axes of ``J`` are each reversed first,
      ``M = J.transpose(reversed out axes + reversed in axes).reshape(...)``,
      because ``vec_F(Y) = vec_C(Y^T)`` for an array with all axes reversed.

    With ``order="F"`` the textbook identities hold verbatim, e.g.
    ``d vec(AXB) / d vec(X) = B^T kron A``; in row-major order the same
    derivative reads ``A kron B^T``. For matrix shapes the two views are
    related by commutation matrices (:func:`commutation_matrix`):
    ``M_C = K(m, n) @ M_F @ K(p, q).T`` for ``F`` of shape ``(m, n)`` and
    ``X`` of shape ``(p, q)``.

    Parameters
    ----------
    J : array_like of shape ``out_shape + in_shape``
    out_shape, in_shape : tuple of int
        The shapes of ``F(X)`` and of ``X`` (``()`` for a scalar).
    order : {"C", "F"}

    Returns
    -------
    ndarray of shape ``(prod(out_shape), prod(in_shape))``

    Examples
    --------
    >>> import slopes as sl
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> B = np.array([[1.0, -1.0], [2.0, 0.0]])
    >>> X = np.ones((2, 2))
    >>> J = sl.jacobian(lambda X: A @ X @ B)(X)            # shape (3, 2, 2, 2)
    >>> MF = sl.calculus.flatten_jacobian(J, (3, 2), (2, 2), order="F")
    >>> MC = sl.calculus.flatten_jacobian(J, (3, 2), (2, 2), order="C")
    >>> MF.shape, np.allclose(MF, np.kron(B.T, A)), np.allclose(MC, np.kron(A, B.T))
    ((6, 4), True, True)
    """
    _order(order, "flatten_jacobian")
    out_shape = _shape(out_shape, "out_shape", "flatten_jacobian")
    in_shape = _shape(in_shape, "in_shape", "flatten_jacobian")
    J = _array(J)
    if tuple(shape_of(J)) != out_shape + in_shape:
        raise ValueError(
            f"flatten_jacobian(): J has shape {tuple(shape_of(J))}, expected out_shape + in_shape = "
            f"{out_shape} + {in_shape} = {out_shape + in_shape}"
        )
    if order == "F":
        J = _reverse_axes(J, [len(out_shape), len(in_shape)])
    return snp.reshape(J, (math.prod(out_shape), math.prod(in_shape)))


def unflatten_jacobian(M, out_shape, in_shape, order="C"):
    """The full Jacobian tensor from the flattened matrix: the inverse of :func:`flatten_jacobian`.

    Parameters
    ----------
    M : array_like of shape ``(prod(out_shape), prod(in_shape))``
    out_shape, in_shape : tuple of int
    order : {"C", "F"}
        The ``vec`` convention ``M`` was written in (see
        :func:`flatten_jacobian`).

    Returns
    -------
    ndarray of shape ``out_shape + in_shape``

    Examples
    --------
    >>> import slopes as sl
    >>> A, B = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[2.0, 0.0], [1.0, 1.0]])
    >>> J = sl.calculus.unflatten_jacobian(np.kron(B.T, A), (2, 2), (2, 2), order="F")
    >>> np.allclose(J, sl.jacobian(lambda X: A @ X @ B)(np.zeros((2, 2))))
    True
    """
    _order(order, "unflatten_jacobian")
    out_shape = _shape(out_shape, "out_shape", "unflatten_jacobian")
    in_shape = _shape(in_shape, "in_shape", "unflatten_jacobian")
    M = _array(M)
    expected = (math.prod(out_shape), math.prod(in_shape))
    if tuple(shape_of(M)) != expected:
        raise ValueError(f"unflatten_jacobian(): M has shape {tuple(shape_of(M))}, expected {expected}")
    if order == "C":
        return snp.reshape(M, out_shape + in_shape)
    T = snp.reshape(M, out_shape[::-1] + in_shape[::-1])
    return _reverse_axes(T, [len(out_shape), len(in_shape)])


def vec_jacobian(fun, order="C"):
    """The Jacobian of ``fun`` in the flattened (matrix) view: ``X -> d vec(fun(X)) / d vec(X)``.

    Computes the full tensor with :func:`slopes.jacobian` and flattens it
    with :func:`flatten_jacobian`.

    Parameters
    ----------
    fun : callable
        A function of one array ``X`` returning an array.
    order : {"C", "F"}

    Returns
    -------
    callable
        ``X -> M`` with ``M`` of shape ``(fun(X).size, X.size)``.

    Examples
    --------
    >>> import slopes as sl
    >>> R = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> sl.calculus.vec_jacobian(lambda R: R.T @ R)(R).shape   # K = R^T R: (2*2) x (3*2)
    (4, 6)
    """
    _order(order, "vec_jacobian")
    if not callable(fun):
        raise TypeError(f"vec_jacobian() expects a function, got {type(fun).__name__}")
    jac = jacobian(fun)

    def wrapped(X):
        X = _array(X)
        J = jac(X)
        in_shape = tuple(shape_of(X))
        out_shape = tuple(shape_of(J))[: len(shape_of(J)) - len(in_shape)]
        return flatten_jacobian(J, out_shape, in_shape, order)

    return wrapped


def commutation_matrix(m, n):
    """The commutation matrix ``K`` with ``K @ vec_F(A) = vec_F(A.T)`` for ``A`` of shape ``(m, n)``.

    Equivalently ``K @ vec_F(A) = vec_C(A)``: it converts the column-major
    ``vec`` of an ``m x n`` matrix into the row-major one, so that
    ``flatten_jacobian(J, (m, n), (p, q), "C") == K(m, n) @
    flatten_jacobian(J, (m, n), (p, q), "F") @ K(p, q).T``.

    Parameters
    ----------
    m, n : int

    Returns
    -------
    ndarray of shape ``(m n, m n)``, a permutation matrix.

    Examples
    --------
    >>> import slopes as sl
    >>> A = np.arange(6.0).reshape(2, 3)
    >>> K = sl.calculus.commutation_matrix(2, 3)
    >>> np.array_equal(K @ sl.calculus.vec(A, "F"), sl.calculus.vec(A.T, "F"))
    True
    """
    m, n = int(m), int(n)
    i, j = np.meshgrid(np.arange(m), np.arange(n), indexing="ij")
    K = np.zeros((m * n, m * n))
    K[(i * n + j).ravel(), (i + j * m).ravel()] = 1.0
    return K
