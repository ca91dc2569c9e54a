"""The paper's synthetic tasks (section 4.1): 2-D points in [-1, 1]^2 labelled by a simple rule, and Boolean tasks.

Labels follow the authors' generators (blur/data/func2d.py), converted to class indices: xor is sign(x0 x1),
`circles` is inside a circle, `pieslice` an angle in [-0.78, 0.78], `cross` |x0| < 0.3 or |x1| < 0.3,
`triangle` inside a triangle, `blobs` five Gaussian blobs, `rings` four concentric rings (the authors'
`concentric_circles`). Boolean tasks use the four corners of the square. Two multi-class tasks are rulec's own,
for meta-training on more than binary and ring-shaped tasks: `quadrants` (four classes, the signs of x0 and x1)
and `sectors` (five equal angular sectors around the origin).
"""

from __future__ import annotations

import numpy as np

POINTS = 2000
SEED = 1


def _uniform(rng):
    return rng.uniform(-1, 1, size=(POINTS, 2))


def _xor(rng):
    x = _uniform(rng)
    return x, (x[:, 0] * x[:, 1] > 0).astype(np.int64)


def _and(rng):
    x = _uniform(rng)
    return x, ((x[:, 0] > 0) & (x[:, 1] > 0)).astype(np.int64)


def _or(rng):
    x = _uniform(rng)
    return x, ((x[:, 0] > 0) | (x[:, 1] > 0)).astype(np.int64)


def _moons(rng):
    from sklearn.datasets import make_moons

    x, y = make_moons(POINTS, noise=0.1, random_state=SEED)
    x = (x - x.mean(0)) / np.abs(x - x.mean(0)).max(0)
    return x, y.astype(np.int64)


def _circles(rng):
    x = _uniform(rng)
    return x, (np.linalg.norm(x - np.array([0.1, -0.1]), axis=1) < 0.55).astype(np.int64)


def _pieslice(rng):
    x = _uniform(rng)
    angle = np.arctan2(x[:, 1], x[:, 0])
    return x, ((angle > -0.78) & (angle < 0.78)).astype(np.int64)


def _cross(rng):
    x = _uniform(rng)
    return x, ((np.abs(x[:, 0]) < 0.3) | (np.abs(x[:, 1]) < 0.3)).astype(np.int64)


def _triangle(rng):
    x = _uniform(rng)
    return x, ((x[:, 1] < 0.5 - np.abs(x[:, 0]) * 1.5) & (x[:, 1] > -0.5)).astype(np.int64)


def _blobs(rng):
    from sklearn.datasets import make_blobs

    x, y = make_blobs(POINTS, centers=5, cluster_std=0.1, center_box=(-0.8, 0.8), random_state=SEED)
    return np.clip(x, -1, 1), y.astype(np.int64)


def _rings(rng):
    x = _uniform(rng)
    return x, np.digitize(np.linalg.norm(x, axis=1), [0.4, 0.65, 0.9]).astype(np.int64)


def _quadrants(rng):
    x = _uniform(rng)
    return x, (2 * (x[:, 0] > 0) + (x[:, 1] > 0)).astype(np.int64)


def _sectors(rng):
    x = _uniform(rng)
    turn = (np.arctan2(x[:, 1], x[:, 0]) + np.pi) / (2 * np.pi)  # in [0, 1]
    return x, np.minimum((turn * 5).astype(np.int64), 4)


def _boolean(function):
    def generate(rng):
        corners = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
        x = corners[rng.integers(0, 4, size=POINTS)]
        return x, function(x[:, 0] > 0, x[:, 1] > 0).astype(np.int64)
    return generate


TASKS = {
    "xor": _xor, "and": _and, "or": _or, "moons": _moons, "circles": _circles, "pieslice": _pieslice,
    "cross": _cross, "triangle": _triangle, "blobs": _blobs, "rings": _rings,
    "quadrants": _quadrants, "sectors": _sectors,
    "bool-xor": _boolean(np.logical_xor), "bool-and": _boolean(np.logical_and), "bool-or": _boolean(np.logical_or),
}


def generate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Points and integer labels of a task, the same for every call (seeded)."""
    x, y = TASKS[name](np.random.default_rng(SEED))
    return x.astype(np.float32), y
