"""A straightforward hand-written BLUR in JAX: the "before" column of step_bench.py.

This is what a researcher writes from eqs. 5-7 of the paper, in the layout of the authors' code: neurons
[batch, neurons, states], synapses [source + bias, target, channels], the bias unit concatenated to every layer,
one einsum per equation. It computes exactly what stdlib_rules/blur.rule says (additive, asymmetric multi-state
synapses, relu(tanh) on hidden layers, tanh on the output), so the two can be timed side by side.
"""

from __future__ import annotations

import jax.numpy as jnp


def relu_tanh(x):
    return jnp.maximum(jnp.tanh(x), 0)


def with_bias(a):
    return jnp.concatenate([a, jnp.ones(a.shape[:-2] + (1, a.shape[-1]), a.dtype)], axis=-2)


def forward(genome, w, x, k):
    layers = [jnp.zeros(x.shape + (k,), x.dtype).at[..., 0].set(x)]
    for l, weights in enumerate(w):
        z = genome["eta"] * jnp.einsum("bid,dc,ijc->bjc", with_bias(layers[-1]), genome["nu"], weights)
        layers.append(jnp.tanh(z) if l == len(w) - 1 else relu_tanh(z))
    return layers


def step(genome, state, x, y):
    """One BLUR step. state = {"w": [[n_l + 1, n_l+1, k]], "wb": [[n_l+1, n_l, k]]}, reference layout."""
    w, wb = state["w"], state["wb"]
    k = genome["nu"].shape[0]
    layers = forward(genome, w, x, k)
    layers[-1] = layers[-1].at[..., 1].set(y).at[..., 2:].set(0)
    for l in range(len(w) - 1, 0, -1):
        u = jnp.einsum("bjd,dc,jic->bic", layers[l + 1], genome["mu"], wb[l])
        layers[l] = relu_tanh(genome["f"] * layers[l] + genome["eta"] * u)
    new_w, new_wb = [], []
    for l in range(len(w)):
        pre, post = layers[l], layers[l + 1]
        hebb = jnp.einsum("bie,ec,cd,bjd->ijc", with_bias(pre), genome["nu_h"], genome["mu_h"], post)
        new_w.append(genome["f_w"] * w[l] + genome["eta_w"] * hebb)
        hebb_b = jnp.einsum("bje,ec,cd,bid->jic", post, genome["nu_h"], genome["mu_h"], pre)
        new_wb.append(genome["f_w"] * wb[l] + genome["eta_w"] * hebb_b)
    return {"w": new_w, "wb": new_wb}


def predict(genome, state, x):
    return forward(genome, state["w"], x, genome["nu"].shape[0])[-1][..., 0]
