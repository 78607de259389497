"""Adagrad: Keras parity (default and a custom initial accumulator)."""

import pytest
from optimizer_helpers import assert_matches_keras

CASES = [
    {},
    {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "clipnorm": 1.0},
]


@pytest.mark.parametrize("kwargs", CASES, ids=[str(k) for k in CASES])
def test_adagrad_matches_keras_after_steps(keras, kwargs):
    assert_matches_keras(keras, "Adagrad", kwargs)
