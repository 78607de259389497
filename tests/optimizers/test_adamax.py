"""Adamax: Keras parity."""

from optimizer_helpers import assert_matches_keras


def test_adamax_matches_keras_after_steps(keras):
    assert_matches_keras(keras, "Adamax", {"learning_rate": 0.05})
