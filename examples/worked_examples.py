"""The worked examples of the source material, computed exactly with slopes.

Run: python examples/worked_examples.py
"""

import numpy as np

import slopes as sl
import slopes.numpy as snp

np.set_printoptions(precision=6, suppress=True)


def show(title, value):
    print(f"{title}\n{np.asarray(value)}\n")


# A smooth two-variable loss and its first and second derivatives
def f(x):
    return x[0] ** 2 + 2 * x[1] ** 2 + snp.exp(-x[0] - x[1])


x = np.array([1.0, 2.0])
show("f(x) = x1^2 + 2 x2^2 + exp(-x1 - x2) at (1, 2): gradient", sl.grad(f)(x))
show("... Hessian", sl.hessian(f)(x))


# A vector function and its Jacobian
def F(x):
    return snp.array([x[0] ** 2, x[1] * x[2], x[0] + x[1] + x[2]])


show("Jacobian of [x0^2, x1 x2, x0 + x1 + x2] at (1, 2, 3)", sl.jacobian(F)(np.array([1.0, 2.0, 3.0])))


# A quadratic: its Hessian, eigenvalues and condition number
def q(w):
    return w[0] ** 2 + 2 * w[1] ** 2 + w[0] * w[1] + 3 * w[2] ** 2


H = sl.hessian(q)(np.zeros(3))
eig = np.linalg.eigvalsh(H)
show("Hessian of w0^2 + 2 w1^2 + w0 w1 + 3 w2^2", H)
show("... its eigenvalues (all positive: convex)", eig)
show("... condition number", eig.max() / eig.min())


# Higher derivatives: sin + cos at 0 cycles through 1, 1, -1, -1
def g(t):
    return snp.sin(t) + snp.cos(t)


show("n-th derivatives of sin + cos at 0, n = 0..7", [sl.derivative(g, order=n)(0.0) for n in range(8)])


# The chain rule: f = x1^2 + 2 x2 with x1 = sin t, x2 = cos t
def along_curve(t):
    return snp.sin(t) ** 2 + 2 * snp.cos(t)


t = 0.7
show("d/dt of f(sin t, cos t) at t = 0.7 (slopes)", sl.grad(along_curve)(t))
show("... closed form 2 sin t (cos t - 1)", 2 * np.sin(t) * (np.cos(t) - 1))


# Logistic regression: the gradient of the loss is X^T (sigmoid(Xw) - y) / n
rng = np.random.default_rng(0)
X = rng.standard_normal((5, 3))
y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
w = np.array([0.5, -0.2, 0.1])


def logistic_loss(w):
    z = X @ w
    return snp.mean(snp.logaddexp(0.0, z) - y * z)


show("logistic loss gradient (slopes)", sl.grad(logistic_loss)(w))
show("... closed form X^T (sigmoid(Xw) - y) / n", X.T @ (1 / (1 + np.exp(-X @ w)) - y) / len(y))


# Three roads to the same gradient: automatic, numeric and symbolic, side by side
expr = sl.parse("x1**2 + 2*x2**2 + exp(-x1-x2)")
show("symbolic gradient of " + str(expr), sl.symbolic.gradient(expr))
print(sl.check_grad(expr, np.array([1.0, 2.0])))
