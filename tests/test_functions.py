"""Every elementwise function, derivative mark, loss and `loss'` against independent computations.

Both interpreters read the same records (rulec/functions.py, rulec/losses.py), so an equivalence test between
them cannot catch a wrong derivative. Here each derivative is compared in float64 with jax.grad of the
function's value and with SymPy's derivative of the record's SymPy form; each value with the SymPy form.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import sympy

from rulec.functions import ELEMENTWISE, FUNCTIONS, elementwise_table
from rulec.losses import LOSSES, loss_table

# Away from every kink (0 for relu, abs, elu); a function undefined at a point (log, sqrt) skips it.
POINTS = (-1.7, -0.6, 0.3, 0.9, 2.2)
PREDICTIONS = (-1.3, 0.4, 2.0)
TARGETS = (-1.0, 1.0, 0.35)  # +-1 for the logistic loss, and one that is neither for the squared error
TOLERANCE = dict(rtol=1e-9, atol=1e-12)
MODULES = {"numpy": np, "jax": jnp}

X, H, T = sympy.symbols("x h t", real=True)


@pytest.fixture(autouse=True)
def float64():
    previous = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


def defined_points(name: str) -> list[float]:
    with np.errstate(invalid="ignore", divide="ignore"):
        return [p for p in POINTS if np.isfinite(FUNCTIONS[name].value(np, np.float64(p)))]


def nth_grad(function, order: int):
    for _ in range(order):
        function = jax.grad(function)
    return function


MARKS = [(name, order) for name, count in ELEMENTWISE.items() for order in range(count + 1)]


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("name, order", MARKS, ids=[f"{n}{chr(39) * o}" for n, o in MARKS])
def test_every_derivative_mark_is_the_derivative_of_its_function(name, order, module):
    xp = MODULES[module]
    mark = elementwise_table(xp)[name][order]
    by_jax = nth_grad(FUNCTIONS[name].forms(jnp)[0], order)
    by_sympy = sympy.diff(FUNCTIONS[name].symbolic(sympy, X), X, order)
    for point in defined_points(name):
        got = float(mark(xp.asarray(point, dtype=xp.float64)))
        np.testing.assert_allclose(got, float(by_jax(jnp.float64(point))), **TOLERANCE, err_msg=f"{name} at {point}")
        np.testing.assert_allclose(got, float(by_sympy.subs(X, point)), **TOLERANCE, err_msg=f"{name} at {point}")


def test_every_function_is_defined_at_three_points_at_least():
    assert {name: len(defined_points(name)) for name in FUNCTIONS if len(defined_points(name)) < 3} == {}


LOSS_POINTS = list(itertools.product(PREDICTIONS, TARGETS))


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("name", [name for name, record in LOSSES.items() if not record.couples_outputs])
def test_every_loss_and_its_derivative_match_sympy_and_jax_grad(name, module):
    xp = MODULES[module]
    value, derivative = loss_table(xp)[name]
    by_jax = jax.grad(LOSSES[name].forms(jnp)[0])
    symbolic = LOSSES[name].symbolic(sympy, H, T)
    for h, t in LOSS_POINTS:
        at = {H: h, T: t}
        h_array, t_array = xp.asarray(h, dtype=xp.float64), xp.asarray(t, dtype=xp.float64)
        np.testing.assert_allclose(float(value(h_array, t_array)), float(symbolic.subs(at)), **TOLERANCE)
        got = float(derivative(h_array, t_array))
        np.testing.assert_allclose(got, float(by_jax(jnp.float64(h), jnp.float64(t))), **TOLERANCE)
        np.testing.assert_allclose(got, float(sympy.diff(symbolic, H).subs(at)), **TOLERANCE)


def test_the_logistic_loss_and_its_derivative_stay_finite_where_exp_overflows():
    value, derivative = loss_table(np)["logistic"]
    with np.errstate(over="ignore"):
        np.testing.assert_allclose([value(np.float64(h), 1.0) for h in (-800.0, 800.0)], [800.0, 0.0])
        np.testing.assert_allclose([derivative(np.float64(h), 1.0) for h in (-800.0, 800.0)], [-1.0, 0.0])


XENT_POINTS = [  # logits over three outputs, and +-1 targets: one-hot, and ones that are no distribution
    ([0.3, -1.2, 2.0], [-1.0, 1.0, -1.0]), ([5.0, 5.0, -3.0], [1.0, -1.0, -1.0]), ([0.1, 0.2, 0.3], [1.0, 1.0, -1.0]),
    ([-2.0, 0.0, 0.7], [0.35, -1.0, 1.0]),
]


@pytest.mark.parametrize("module", MODULES)
def test_xent_matches_optax_jax_grad_and_sympy_along_any_axis(module):
    xp = MODULES[module]
    value, derivative = loss_table(xp)["xent"]
    by_jax = jax.grad(lambda h, t: LOSSES["xent"].forms(jnp)[0](h, t, 0))
    units = sympy.symbols("h0:3", real=True)
    for h, t in XENT_POINTS:
        p = (np.asarray(t) + 1) / 2
        # optax's softmax cross-entropy on the distribution p, an independent statement of the loss
        np.testing.assert_allclose(float(value(xp.asarray(h), xp.asarray(t), 0)),
                                   float(optax.softmax_cross_entropy(jnp.asarray(h), jnp.asarray(p))), **TOLERANCE)
        symbolic = LOSSES["xent"].symbolic(sympy, units, t)
        at = dict(zip(units, h))
        got = np.asarray(derivative(xp.asarray(h), xp.asarray(t), 0))
        np.testing.assert_allclose(got, np.asarray(by_jax(jnp.asarray(h), jnp.asarray(t))), **TOLERANCE)
        np.testing.assert_allclose(got, [float(sympy.diff(symbolic, u).subs(at)) for u in units], **TOLERANCE)
        # the same outputs along axis 1 of a batch of two
        batch_h, batch_t = xp.asarray([h, h]), xp.asarray([t, t])
        np.testing.assert_allclose(np.asarray(derivative(batch_h, batch_t, 1)), [got, got], **TOLERANCE)


def test_xent_and_its_derivative_stay_finite_where_exp_overflows():
    value, derivative = loss_table(np)["xent"]
    h, t = np.array([1000.0, 990.0, -1000.0]), np.array([1.0, -1.0, -1.0])
    with np.errstate(over="raise"):
        np.testing.assert_allclose(value(h, t, 0), np.log1p(np.exp(-10.0)))
        np.testing.assert_allclose(derivative(h, t, 0), [-np.exp(-10.0) / (1 + np.exp(-10.0)),
                                                         np.exp(-10.0) / (1 + np.exp(-10.0)), 0.0], atol=1e-12)
