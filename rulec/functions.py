"""The functions a rule may call, shared by every stage.

Elementwise functions take one argument. `primes` is how many derivatives (`tanh'`, `tanh''`) are defined.
Distributions draw random numbers and belong only in initialisers (after `~`).
"""

ELEMENTWISE = {
    "identity": 2, "tanh": 2, "sigmoid": 2, "relu": 2, "relu_tanh": 2, "softplus": 2, "elu": 2,
    "exp": 2, "log": 2, "sqrt": 2, "square": 2, "abs": 1, "sign": 0,
}

DISTRIBUTIONS = {"normal": 2, "uniform": 2}  # name -> number of arguments: normal(mean, std), uniform(low, high)

INIT_NAMES = ("fan_in", "fan_out")  # sizes of a synapse's source and target layers, for scaled initialisers
