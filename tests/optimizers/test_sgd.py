"""SGD: Keras parity (plain, momentum, Nesterov, schedules) and argument checks."""

import re

import pytest
from optimizer_helpers import assert_matches_keras

from rnnkit import optimizers
from rnnkit.optimizers import schedules

CASES = [
    {},
    {"learning_rate": 0.05, "momentum": 0.9},
    {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
    {"learning_rate": schedules.PiecewiseConstantDecay([1, 3], [0.1, 0.05, 0.01])},
    {"learning_rate": schedules.PolynomialDecay(0.1, 3, power=2.0, cycle=True)},
]


@pytest.mark.parametrize("kwargs", CASES, ids=[str(k) for k in CASES])
def test_sgd_matches_keras_after_steps(keras, kwargs):
    assert_matches_keras(keras, "SGD", kwargs)


def test_sgd_rejects_momentum_above_one():
    with pytest.raises(ValueError, match=re.escape("`momentum` must be a number in [0, 1]")):
        optimizers.SGD(momentum=1.5)
