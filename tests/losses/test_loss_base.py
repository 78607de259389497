"""The Loss base class: sample weights, gradients, dtypes, shape checks and argument errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from rnnkit import losses
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.losses.base import reduce_weighted_values

N, T, F = 6, 4, 3


def test_loss_per_sample_weights_spread_over_timesteps(make_data, make_weights):
    y_true, y_pred = make_data("regression", (N, T, F))
    weights = make_weights((N,))
    per_step = np.repeat(weights[:, None], T, axis=1)
    loss = losses.MeanSquaredError()
    torch.testing.assert_close(loss(y_true, y_pred, weights), loss(y_true, y_pred, per_step))
    # sum_over_batch_size divides by the number of entries, not by the weights' sum
    per_sample = ((y_true - y_pred) ** 2).mean(-1)
    expected = (per_sample * per_step).sum() / per_sample.size
    np.testing.assert_allclose(loss(y_true, y_pred, weights).numpy(), expected, rtol=1e-6)


def test_loss_backpropagates_and_keeps_float64():
    y_pred = torch.randn(N, F, dtype=torch.float64, requires_grad=True)
    loss = losses.MeanSquaredError()(torch.zeros(N, F), y_pred)
    assert loss.dtype == torch.float64
    loss.backward()
    torch.testing.assert_close(y_pred.grad, 2 * y_pred.detach() / (N * F))


@pytest.mark.parametrize(
    "dtype",
    [torch.float64, "float64", "torch.float64", np.float64, {"config": {"name": "float64"}}],
    ids=["torch", "name", "torch-name", "numpy", "keras-policy"],
)
def test_loss_dtype_is_read_like_keras_and_used(dtype):
    loss = losses.MeanSquaredError(dtype=dtype)
    assert loss.dtype is torch.float64
    value = loss(torch.zeros(2, 1), torch.tensor([[1.0], [3.0]]))  # float32 y_pred
    assert value.dtype == torch.float64
    assert value.item() == 5.0


def test_loss_rejects_non_floating_torch_dtype():
    # The loss module's own dtype reader once let any torch.dtype through.
    with pytest.raises(RnnkitValueError, match=re.escape("Received: dtype=torch.int32")):
        losses.MeanSquaredError(dtype=torch.int32)


def test_loss_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=re.escape("y_true has shape (6, 2) but y_pred has shape")):
        losses.MeanSquaredError()(torch.zeros(N, 2), torch.zeros(N, 3))


def test_loss_rejects_bad_sample_weight():
    with pytest.raises(ValueError, match=re.escape("sample_weight has shape (5,)")):
        losses.MeanSquaredError()(torch.zeros(N, T, F), torch.zeros(N, T, F), torch.ones(5))


def test_loss_rejects_non_numeric_and_ragged_targets():
    with pytest.raises(RnnkitTypeError, match=re.escape("mean_squared_error: `y_true` must be")):
        losses.MeanSquaredError()([["a"], ["b"]], torch.zeros(2, 1))
    with pytest.raises(RnnkitTypeError, match="`y_true` could not be converted to a tensor"):
        losses.MeanSquaredError()([[1.0], [2.0, 3.0]], torch.zeros(2, 1))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: losses.MeanSquaredError(reduction="avg"), "unknown reduction 'avg'"),
        (lambda: losses.Huber(delta=0), "`delta` must be a number > 0"),
        (lambda: losses.BinaryCrossentropy(label_smoothing=1.5), "in [0, 1]"),
        (lambda: losses.MeanSquaredError(dtype="int32"), "must be a floating dtype"),
    ],
)
def test_loss_rejects_bad_arguments(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


VALUES = [[1.0, 2.0], [3.0, 4.0]]  # per-step losses of 2 samples x 2 steps
WEIGHTS = [2.0, 1.0]  # one per sample, spread over its steps: weighted sum 13


@pytest.mark.parametrize(
    ("reduction", "mask", "expected"),
    [
        ("sum", None, 13.0),
        ("sum_over_batch_size", None, 13.0 / 4),
        ("mean_with_sample_weight", None, 13.0 / 6),  # 6 = sum of the spread weights
        ("none", None, [[2.0, 4.0], [3.0, 4.0]]),
        # a mask leaves steps out of the average: (2 * 1 + 1 * 3 + 1 * 4) / 3 valid steps
        ("sum_over_batch_size", [[True, False], [True, True]], 3.0),
        ("sum", [[True, False], [True, True]], 9.0),
    ],
)
def test_reduce_weighted_values(reduction, mask, expected):
    mask = None if mask is None else torch.tensor(mask)
    got = reduce_weighted_values(torch.tensor(VALUES), torch.tensor(WEIGHTS), mask, reduction)
    torch.testing.assert_close(got, torch.tensor(expected))
