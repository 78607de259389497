"""Nadam: Keras parity (with weight decay and global clipping, and in float64)."""

import pytest
from optimizer_helpers import assert_matches_keras
from optimizer_helpers import assert_matches_keras_in_float64

CASES = [
    {"learning_rate": 0.05},
    {"learning_rate": 0.05, "weight_decay": 0.05, "global_clipnorm": 1.0},
]


@pytest.mark.parametrize("kwargs", CASES, ids=[str(k) for k in CASES])
def test_nadam_matches_keras_after_steps(keras, kwargs):
    assert_matches_keras(keras, "Nadam", kwargs)


def test_nadam_matches_keras_in_float64(keras):
    assert_matches_keras_in_float64(keras, "Nadam")
