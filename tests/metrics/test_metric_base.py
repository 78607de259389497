"""The Metric base: which way a log key improves."""

from __future__ import annotations

import pytest

from rnnkit import metrics


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("loss", "min"),
        ("val_loss", "min"),
        ("mae", "min"),
        ("val_mean_absolute_error", "min"),
        ("root_mean_squared_error", "min"),
        ("binary_crossentropy", "min"),
        ("huber_loss", "min"),
        ("logcosh", "min"),
        ("accuracy", "max"),
        ("val_acc", "max"),
        ("sparse_categorical_accuracy", "max"),
        ("val_auc", "max"),
        ("precision", "max"),
        ("recall", "max"),
        ("weighted_binary_accuracy", "max"),
        ("MeanSquaredError", "min"),
        ("r_squared", None),
        ("throughput", None),
    ],
)
def test_direction_of(name, expected):
    assert metrics.direction_of(name) == expected
