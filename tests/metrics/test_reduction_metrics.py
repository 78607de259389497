"""Mean metrics: sample weights, masks, and errors for bad inputs."""

from __future__ import annotations

import re

import pytest
import torch

from rnnkit import metrics
from rnnkit.errors import RnnkitTypeError

N, F = 6, 3


def test_metric_rejects_bad_sample_weight():
    with pytest.raises(ValueError, match=re.escape("sample_weight has shape (5,)")):
        metrics.MeanSquaredError().update_state(torch.zeros(N, F), torch.zeros(N, F), torch.ones(5))


def test_metric_rejects_non_numeric_and_ragged_inputs_with_named_errors():
    with pytest.raises(RnnkitTypeError, match=re.escape("mean: `values` must be numeric")):
        metrics.Mean().update_state(["a", "b"])
    # A ragged batch once escaped as numpy's own ValueError, naming no metric.
    with pytest.raises(RnnkitTypeError, match=re.escape("binary_accuracy: `y_true` could not")):
        metrics.BinaryAccuracy().update_state([[1.0], [0.0, 1.0]], torch.zeros(2, 1))


def test_mean_metric_leaves_masked_timesteps_out():
    y_true = torch.zeros(2, 3, 1)
    y_pred = torch.tensor([[[1.0], [2.0], [9.0]], [[3.0], [9.0], [9.0]]])
    y_pred._keras_mask = torch.tensor([[True, True, False], [True, False, False]])
    metric = metrics.MeanAbsoluteError()
    metric.update_state(y_true, y_pred, sample_weight=torch.tensor([1.0, 2.0]))
    assert metric.result() == pytest.approx((1.0 + 2.0 + 2 * 3.0) / (1 + 1 + 2))
