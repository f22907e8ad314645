"""Gradients from peer libraries for comparison tests (skipped cleanly when a peer is missing).

``make(module)`` builds the function from a NumPy-like module, so the same code
runs under ``slopes.numpy``, ``jax.numpy`` and ``autograd.numpy``. JAX runs
under ``jax.jit`` (one compilation per function, not one per operation) in
float64.
"""

from __future__ import annotations

import numpy as np
import pytest


def jax_numpy():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    return jax, jnp


def jax_grad(make, x, **options):
    jax, jnp = jax_numpy()
    return np.asarray(jax.jit(jax.grad(make(jnp), **options))(jnp.asarray(x)))


def autograd_grad(make, x):
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp

    return autograd.grad(make(anp))(x)
