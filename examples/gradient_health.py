"""Gradient health of deep MLPs: vanishing, exploding, and what fixes them.

For each setup, freshly initialized MLPs of growing depth are evaluated on one random batch,
and the gradient norms of the first (input) and last (output) layer are printed. A
first/last ratio far below 1 is a vanishing gradient (the early layers barely learn); a
total norm that grows geometrically with depth is an exploding one. Then the forward
activation variance per layer (He vs Xavier init for ReLU) and the fraction of dead ReLUs
after training with a small and a very large learning rate.

Run: python examples/gradient_health.py
"""

from __future__ import annotations

import numpy as np

import slopes.ml as ml
import slopes.optim as so

DEPTHS = [2, 5, 10, 20]


def large_init(shape, seed):
    """He normal times 2: each ReLU layer then doubles the signal's scale."""
    return ml.initializers.normal(shape, 2.0 * np.sqrt(2.0 / shape[0]), seed=seed)


def main() -> None:
    setups = [
        ("sigmoid, Xavier (vanishes)", dict(activation="sigmoid")),
        ("tanh, Xavier", dict(activation="tanh")),
        ("relu, He", dict(activation="relu")),
        ("relu, He, residual", dict(activation="relu", residual=True)),
        ("sigmoid, residual", dict(activation="sigmoid", residual=True)),
        ("relu, 2 x He (explodes)", dict(activation="relu", init=large_init)),
    ]
    for title, kw in setups:
        print(f"== {title}")
        print(ml.depth_study(DEPTHS, seed=0, **kw))
        print()

    X = np.random.default_rng(1).normal(size=(256, 128))
    print("== forward variance per hidden layer, ReLU, width 128 (He keeps it, Xavier halves it)")
    for init in ("he_normal", "xavier_normal"):
        model = ml.MLP([128] + [128] * 8 + [10], "relu", init, seed=0)
        print(f"{init:>14}: " + " ".join(f"{v:.3g}" for v in ml.activation_variances(model, model.init(), X)))
    print()

    d = ml.datasets.load("digits")
    Xd = ml.Standardizer().fit(d.X).transform(d.X)
    print("== dead ReLU fraction per hidden layer after 3 epochs of SGD on digits")
    for lr in (0.01, 2.0):
        model = ml.MLP([64, 64, 64, 10], seed=0)
        res = ml.fit(
            lambda p, b, model=model: ml.cross_entropy(model(p, b[0]), b[1]),
            model.init(),
            (Xd, d.y),
            optimizer=so.sgd(lr),
            epochs=3,
            batch_size=64,
            seed=0,
        )
        print(f"lr={lr:<5}: {ml.dead_relu_fraction(model, res.params, Xd)}  ({res.message})")


if __name__ == "__main__":
    main()
