"""Meta-learning tasks: datasets (or class subsets of them) from which inner-loop batches are drawn.

A task spec is a dataset name with an optional class range and an optional label noise, `mnist5k`, `mnist5k:0-4`,
`xor`, `mnist5k@noise=0.4`. Label noise replaces that fraction of the labels the rule trains on with a class drawn
uniformly from the task's classes (a fixed draw), and leaves the labels it is scored on clean: a task whose error
never vanishes, for genomes that must keep learning on data harder than their own. Meta-training never
sees a dataset's test split: its training split is cut into a pool for the inner loop's batches and a held-out
pool for the meta-loss or fitness. Meta-validation trains on a task's whole training split and measures accuracy
on its test split, or (`--validate-on held-out`) uses the two pools of meta-training. Every task of a run shares
one network, so their inputs must agree; the outputs are the most classes any task has (a 2-class task leaves the
other outputs at the -1 target and is scored on its own two).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from rulec.data import datasets
from rulec.data.errors import DataError, FlagError
from rulec.data.inputs import DEFAULT_INPUTS, standardise

HELD_OUT_FRACTION = 0.2
NOISE_SEED = 0  # the noisy labels are one fixed draw, so that every run and resume sees the same task


@dataclasses.dataclass(frozen=True)
class Task:
    """Two pools of one task: `train` for the inner loop's batches, `held_out` for the meta-objective."""
    name: str
    train: tuple  # (x [n, inputs] float32, labels [n] int32)
    held_out: tuple
    classes: int
    image: tuple[int, int, int] | None = None  # (height, width, channels) of an example, for a convolution


jax.tree_util.register_dataclass(Task, data_fields=["train", "held_out"], meta_fields=["name", "classes", "image"])


def parse_specs(text: str) -> list[str]:
    specs = [s.strip() for s in text.split(",") if s.strip()]
    if not specs:
        raise DataError("no tasks given", "name at least one dataset or task, as in `--data xor,and,moons`")
    return specs


def _parts(spec: str) -> tuple[str, str, str | None]:
    """A task spec's dataset name, class range text ('' for all classes) and option text (None without an `@`)."""
    head, at, option = spec.partition("@")
    name, _, selection = head.partition(":")
    return name, selection, option if at else None


def _label_noise(spec: str) -> float:
    option = _parts(spec)[2]
    if option is None:
        return 0.0
    key, _, value = option.partition("=")
    try:
        noise = float(value) if key == "noise" else None
    except ValueError:
        noise = None
    if noise is None or not 0 <= noise <= 1:
        raise FlagError(f"malformed task `{spec}`",
                        "write label noise as NAME@noise=P with P from 0 to 1, as in `mnist5k@noise=0.4`")
    return noise


def noisy_labels(y, noise: float, classes: range) -> np.ndarray:
    """The labels with a fraction `noise` of them replaced by classes drawn uniformly from `classes` (a fixed draw:
    the same labels give the same result)."""
    rng = np.random.default_rng(NOISE_SEED)
    replaced = rng.random(len(y)) < noise
    y = np.asarray(y)
    return np.where(replaced, rng.integers(classes.start, classes.stop, len(y)), y).astype(y.dtype)


def _whole(text: str) -> bool:
    """Whether `text` is a whole number in ASCII digits: `isdigit` alone accepts `²`, which `int` refuses."""
    return text.isascii() and text.isdigit()


def _class_range(spec: str, classes: int) -> range:
    name, selection, _ = _parts(spec)
    if not selection:
        return range(classes)
    low, sep, high = selection.partition("-")
    if not (_whole(low) and (_whole(high) if sep else True)):
        raise FlagError(f"malformed task `{spec}`", "write a class range as NAME:LOW-HIGH, as in `mnist5k:0-4`")
    chosen = range(int(low), int(high if sep else low) + 1)
    if not chosen:
        raise FlagError(f"task `{spec}` selects no class: {low} is above {high}",
                        "write the lower class first, as in `mnist5k:0-4`")
    if chosen.stop > classes:
        raise FlagError(f"task `{spec}` selects classes {chosen.start}-{chosen.stop - 1}, but `{name}` has "
                        f"classes 0-{classes - 1}")
    return chosen


def dataset_name(spec: str) -> str:
    """The dataset a task spec draws from: `mnist5k` for `mnist5k:0-4@noise=0.4`."""
    return _parts(spec)[0]


def _load(spec: str, transform: str, data_dir, inputs: str) -> tuple[datasets.Dataset, range]:
    dataset = standardise(datasets.transform(datasets.load(dataset_name(spec), data_dir), transform), inputs)
    return dataset, _class_range(spec, dataset.classes)


def _kept(x, y, chosen: range):
    keep = (y >= chosen.start) & (y < chosen.stop)
    return x[keep], y[keep]


def _select(x, y, chosen: range):
    x, y = _kept(x, y, chosen)
    return jnp.asarray(x), jnp.asarray(y, jnp.int32)


def restricted(dataset: datasets.Dataset, spec: str) -> datasets.Dataset:
    """The dataset as the task `spec` sees it, for training outside meta-training: both splits cut to the spec's
    classes, the spec's label noise on the training labels only. The outputs stay the dataset's classes."""
    chosen, noise = _class_range(spec, dataset.classes), _label_noise(spec)
    if chosen == range(dataset.classes) and not noise:  # the whole dataset: no copy of its arrays
        return dataclasses.replace(dataset, name=spec)
    x_train, y_train = _kept(dataset.x_train, dataset.y_train, chosen)
    x_test, y_test = _kept(dataset.x_test, dataset.y_test, chosen)
    if noise:
        y_train = noisy_labels(y_train, noise, chosen)
    return dataclasses.replace(dataset, name=spec, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def load_tasks(specs: list[str], transform: str = "none", data_dir=None, validation: bool = False,
               inputs: str = DEFAULT_INPUTS) -> list[Task]:
    """Tasks for meta-training (the training split, cut in two) or for meta-validation (training / test split), with
    inputs scaled by `inputs` (rulec/data/inputs.py) on the statistics of the whole training split."""
    tasks = []
    for spec in specs:
        noise = _label_noise(spec)
        dataset, chosen = _load(spec, transform, data_dir, inputs)
        if validation:
            train, held_out = (dataset.x_train, dataset.y_train), (dataset.x_test, dataset.y_test)
        else:
            cut = int(len(dataset.x_train) * (1 - HELD_OUT_FRACTION))
            train = (dataset.x_train[:cut], dataset.y_train[:cut])
            held_out = (dataset.x_train[cut:], dataset.y_train[cut:])
        x, y = _select(*train, chosen)
        if noise:  # after the class selection, so that a noisy label never brings in an example of another class
            y = jnp.asarray(noisy_labels(y, noise, chosen), jnp.int32)
        tasks.append(Task(spec, (x, y), _select(*held_out, chosen), dataset.classes, dataset.image))
    inputs = {task.train[0].shape[1] for task in tasks}
    if len(inputs) > 1:
        shapes = ", ".join(f"{t.name}: {t.train[0].shape[1]}" for t in tasks)
        raise DataError(f"the tasks have different numbers of inputs ({shapes}), but they share one network",
                        "choose tasks of one input size, or a --transform that makes them agree")
    return tasks


def image(tasks: list[Task]) -> tuple[int, int, int] | None:
    """The image shape the tasks share, or None when they are not all images of one shape."""
    images = {task.image for task in tasks}
    return images.pop() if len(images) == 1 else None


def shape(tasks: list[Task]) -> tuple[int, int]:
    """(inputs, outputs) of the network the tasks share."""
    return tasks[0].train[0].shape[1], max(task.classes for task in tasks)


def sample(key, pool: tuple, count: int, batch: int, outputs: int):
    """`count` batches drawn uniformly (with replacement) from a pool: xs [count, batch, inputs], the +-1 targets
    ys [count, batch, outputs], and the labels [count, batch]."""
    x, labels = pool
    index = jax.random.randint(key, (count, batch), 0, x.shape[0])
    chosen = labels[index]
    return x[index], jnp.where(jax.nn.one_hot(chosen, outputs) > 0, 1.0, -1.0), chosen
