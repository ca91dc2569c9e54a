"""The registry of meta-learning methods: every entry names a class implementing `Method`, and the variant it
passes exists; the command line takes its defaults from the registry."""

from __future__ import annotations

import evosax.algorithms
import pytest

from rulec.meta.methods import METHODS, Method, defaults_text


@pytest.mark.parametrize("name", METHODS)
def test_every_registered_method_implements_the_interface(name):
    entry = METHODS[name]
    method = entry.load()
    assert issubclass(method, Method) and not method.__abstractmethods__
    if entry.variant is not None:  # an evolution strategy: the evosax class it names
        assert hasattr(evosax.algorithms, entry.variant), entry.variant


def test_a_method_missing_part_of_the_interface_cannot_be_built():
    class Incomplete(Method):
        def step(self, carry, key, step):
            return carry, {}

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()


def test_the_flags_say_each_methods_defaults():
    assert defaults_text("population") == "1 for grad, 16 for pes, 80 for the others"
    assert defaults_text("unroll") == "10 for grad, 100 for pes, 15 for the others"
