"""The functions a rule may call, shared by every stage.

Elementwise functions take one argument. `ELEMENTWISE[name]` is how many derivatives (`tanh'`, `tanh''`) are
defined. Distributions draw random numbers and belong only in initialisers (after `~`).
"""

from __future__ import annotations

ELEMENTWISE = {
    "identity": 2, "tanh": 2, "sigmoid": 2, "relu": 2, "relu_tanh": 2, "softplus": 2, "elu": 2,
    "exp": 2, "log": 2, "sqrt": 2, "square": 2, "abs": 1, "sign": 0,
}

DISTRIBUTIONS = {"normal": 2, "uniform": 2}  # name -> number of arguments: normal(mean, std), uniform(low, high)

INIT_NAMES = ("fan_in", "fan_out")  # sizes of a synapse's source and target layers, for scaled initialisers

NORMALIZE_EPSILON = 1e-5  # added to the variance in `normalize(...)`

# Losses of one output, l(prediction, target), and their derivative in the prediction: `loss'(h, t)`.
LOSSES = ("mse", "logistic")


def loss_table(xp) -> dict[str, tuple]:
    """mse is (h - t)^2 / 2; logistic, for +-1 targets, is log(1 + exp(-t h))."""
    def sigmoid(x):
        return 1 / (1 + xp.exp(-x))

    return {
        "mse": (lambda h, t: (h - t) ** 2 / 2, lambda h, t: h - t),
        "logistic": (lambda h, t: xp.logaddexp(0, -t * h), lambda h, t: -t * sigmoid(-t * h)),
    }


def elementwise_table(xp) -> dict[str, tuple]:
    """Each function and its derivatives, for an array module `xp` (numpy or jax.numpy)."""

    def sigmoid(x):
        return 1 / (1 + xp.exp(-x))

    def dsigmoid(x):
        s = sigmoid(x)
        return s * (1 - s)

    def dtanh(x):
        return 1 - xp.tanh(x) ** 2

    def positive(x):
        return (x > 0).astype(x.dtype) if hasattr(x, "astype") else float(x > 0)

    return {
        "identity": (lambda x: x, lambda x: xp.ones_like(x), lambda x: xp.zeros_like(x)),
        "tanh": (xp.tanh, dtanh, lambda x: -2 * xp.tanh(x) * dtanh(x)),
        "sigmoid": (sigmoid, dsigmoid, lambda x: dsigmoid(x) * (1 - 2 * sigmoid(x))),
        "relu": (lambda x: xp.maximum(x, 0), positive, lambda x: xp.zeros_like(x)),
        "relu_tanh": (lambda x: xp.maximum(xp.tanh(x), 0), lambda x: positive(x) * dtanh(x),
                      lambda x: positive(x) * -2 * xp.tanh(x) * dtanh(x)),
        "softplus": (lambda x: xp.logaddexp(x, 0), sigmoid, dsigmoid),
        "elu": (lambda x: xp.where(x > 0, x, xp.expm1(xp.minimum(x, 0))),
                lambda x: xp.where(x > 0, 1.0, xp.exp(xp.minimum(x, 0))),
                lambda x: xp.where(x > 0, 0.0, xp.exp(xp.minimum(x, 0)))),
        "exp": (xp.exp, xp.exp, xp.exp),
        "log": (xp.log, lambda x: 1 / x, lambda x: -1 / x ** 2),
        "sqrt": (xp.sqrt, lambda x: 0.5 / xp.sqrt(x), lambda x: -0.25 * x ** -1.5),
        "square": (lambda x: x * x, lambda x: 2 * x, lambda x: 2 * xp.ones_like(x)),
        "abs": (xp.abs, xp.sign),
        "sign": (xp.sign,),
    }
