"""The Metric base: which way a log key improves."""

from __future__ import annotations

import re

import pytest
import torch

from rnnkit import metrics
from rnnkit.errors import RnnkitValueError


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


def test_metric_dtype_is_read_like_a_layers():
    assert metrics.MeanAbsoluteError(dtype="float64").dtype is torch.float64
    assert metrics.Mean().dtype is None
    with pytest.raises(RnnkitValueError, match=re.escape("Mean(): `dtype` must be a floating")):
        metrics.Mean(dtype="int32")
