"""How a dataset's inputs are scaled before a rule sees them: `--inputs feature|global|raw`.

This module imports nothing heavy at the top, so that the command line can list the modes in `--help` for free.
"""

from __future__ import annotations

import dataclasses
import typing

from rulec.data.errors import DataError

if typing.TYPE_CHECKING:
    from rulec.data.datasets import Dataset

# The modes, the default first. The default was chosen by measuring every supervised stdlib rule on `digits` in
# each mode (docs/stdlib.md): a Hebbian term multiplies two activities, so an input that
# is off in most examples (a border pixel) must sit near 0, and a rarely lit one must weigh as much as an often
# lit one; one global mean and deviation gives neither.
INPUTS = ("feature", "global", "raw")
DEFAULT_INPUTS = INPUTS[0]
# Genome files written before the modes existed were all learned on global standardisation.
UNRECORDED_INPUTS = "global"
# `feature` divides each input by the larger of its own deviation and this fraction of the global one: a border pixel
# lit in one training image in a thousand has a deviation near zero, and divided by it an unseen image that lights
# it becomes an input in the thousands (5290 on a held-out fifth of mnist5k), which swamps every other input, and
# every normalisation over the batch. With the floor no input is scaled up more than ten times as much as `global`
# scales it (no input beyond 33 deviations on mnist5k, 29 on Fashion-MNIST, 15 on digits).
FEATURE_STD_FLOOR = 0.1
# Inputs whose training values all agree (within float32 noise) carry nothing to learn from: they are centred and
# left unscaled rather than divided by a deviation of zero.
CONSTANT_STD = 1e-6


def check_inputs(inputs: str) -> str:
    if inputs not in INPUTS:
        raise DataError(f"unknown input scaling `{inputs}`", "choose from " + ", ".join(INPUTS))
    return inputs


def standardise(dataset: Dataset, inputs: str) -> Dataset:
    """The inputs scaled by mode `inputs`, with statistics from the training split only (the test split is
    transformed with them): `feature` centres and scales each input on its own, `global` by one mean and one
    standard deviation over all inputs, `raw` leaves them as loaded ([0, 1] images, [-1, 1] 2-D tasks).

    Examples:
        >>> from rulec.data.datasets import load
        >>> digits = standardise(load("digits"), "feature")
        >>> round(float(abs(digits.x_train.mean(axis=0)).max()), 4), round(float(digits.x_train.std(axis=0).max()), 3)
        (0.0, 1.0)
    """
    import numpy as np

    if check_inputs(inputs) == "raw":
        return dataset
    axis = 0 if inputs == "feature" else None
    mean, std = dataset.x_train.mean(axis=axis), dataset.x_train.std(axis=axis)
    if inputs == "feature":
        std = np.maximum(std, np.float32(FEATURE_STD_FLOOR) * dataset.x_train.std())
    std = np.where(std > CONSTANT_STD, std, np.float32(1.0))
    return dataclasses.replace(dataset, x_train=(dataset.x_train - mean) / std, x_test=(dataset.x_test - mean) / std)
