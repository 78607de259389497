"""RMSprop: Keras parity (momentum, centered, schedules, float64)."""

import pytest
from optimizer_helpers import assert_matches_keras
from optimizer_helpers import assert_matches_keras_in_float64

from rnnkit.optimizers import schedules

CASES = [
    {},
    {"learning_rate": 0.01, "momentum": 0.5},
    {"learning_rate": 0.01, "centered": True},
    {"learning_rate": 0.01, "centered": True, "momentum": 0.3, "rho": 0.8},
    {"learning_rate": schedules.InverseTimeDecay(0.01, 1, 0.5, staircase=True)},
]


@pytest.mark.parametrize("kwargs", CASES, ids=[str(k) for k in CASES])
def test_rmsprop_matches_keras_after_steps(keras, kwargs):
    assert_matches_keras(keras, "RMSprop", kwargs)


def test_rmsprop_matches_keras_in_float64(keras):
    assert_matches_keras_in_float64(keras, "RMSprop")
