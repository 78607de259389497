"""Metric values against Keras 3 (torch backend): running results over batches, weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit import metrics

N, T, F, C = 6, 4, 3, 5


CASES = [
    (metrics.MeanSquaredError, "MeanSquaredError", {}, "regression"),
    (metrics.MeanAbsoluteError, "MeanAbsoluteError", {}, "regression"),
    (metrics.MeanAbsolutePercentageError, "MeanAbsolutePercentageError", {}, "regression"),
    (metrics.MeanSquaredLogarithmicError, "MeanSquaredLogarithmicError", {}, "positive"),
    (metrics.RootMeanSquaredError, "RootMeanSquaredError", {}, "regression"),
    (metrics.LogCoshError, "LogCoshError", {}, "regression"),
    (metrics.Accuracy, "Accuracy", {}, "exact"),
    (metrics.BinaryAccuracy, "BinaryAccuracy", {}, "binary"),
    (metrics.BinaryAccuracy, "BinaryAccuracy", {"threshold": 0.3}, "binary"),
    (metrics.CategoricalAccuracy, "CategoricalAccuracy", {}, "categorical"),
    (metrics.SparseCategoricalAccuracy, "SparseCategoricalAccuracy", {}, "sparse"),
    (metrics.BinaryCrossentropy, "BinaryCrossentropy", {"label_smoothing": 0.1}, "binary"),
    (metrics.CategoricalCrossentropy, "CategoricalCrossentropy", {}, "categorical"),
    (metrics.SparseCategoricalCrossentropy, "SparseCategoricalCrossentropy", {}, "sparse"),
]


@pytest.mark.parametrize(("ours", "theirs", "kwargs", "kind"), CASES, ids=[c[1] for c in CASES])
@pytest.mark.parametrize(
    ("shape", "weight_shape"),
    [((N, F), None), ((N, F), (N,)), ((N, T, F), (N,)), ((N, T, F), (N, T))],
    ids=["2d", "2d-weighted", "3d-weighted", "3d-step-weighted"],
)
def test_metric_matches_keras_over_batches(
    keras, make_batch, ours, theirs, kwargs, kind, shape, weight_shape
):
    mine, reference = ours(**kwargs), getattr(keras.metrics, theirs)(**kwargs)
    for seed in range(2):
        y_true, y_pred = make_batch(kind, shape, seed)
        weights = None
        if weight_shape is not None:
            weights = np.random.default_rng(10 + seed).uniform(0, 2, weight_shape).astype("float32")
        reference.update_state(y_true, y_pred, sample_weight=weights)
        mine.update_state(torch.as_tensor(y_true), torch.as_tensor(y_pred), sample_weight=weights)
    expected = float(keras.ops.convert_to_numpy(reference.result()))
    result = mine.result()
    assert isinstance(result, float)
    assert result == pytest.approx(expected, rel=1e-6, abs=1e-7)
    assert mine.name == reference.name
    assert mine.direction == {"up": "max", "down": "min"}[reference._direction]
    mine.reset_state()
    assert mine.result() == 0.0


def test_sparse_accuracy_accepts_column_labels(keras, make_batch):
    y_true, y_pred = make_batch("sparse", (N, F), 0)
    reference = keras.metrics.SparseCategoricalAccuracy()
    reference.update_state(y_true[:, None], y_pred)
    mine = metrics.SparseCategoricalAccuracy()
    mine.update_state(y_true[:, None], y_pred)
    assert mine.result() == pytest.approx(float(keras.ops.convert_to_numpy(reference.result())))


def test_mean_metric_weights(keras):
    reference, mine = keras.metrics.Mean(), metrics.Mean()
    for values, weights in [([1.0, 2.0, 3.0], [1.0, 0.0, 2.0]), ([[4.0, 6.0]], None)]:
        reference.update_state(values, sample_weight=weights)
        mine.update_state(values, sample_weight=weights)
    assert mine.result() == pytest.approx(float(keras.ops.convert_to_numpy(reference.result())))


@pytest.mark.parametrize("identifier", ["accuracy", "acc", "Accuracy"])
@pytest.mark.parametrize(
    ("y_shape", "pred_shape"),
    [((N, 1), (N, 1)), ((N,), (N, C)), ((N, 1), (N, C)), ((N, C), (N, C)), ((N, T), (N, T, C))],
)
def test_accuracy_without_crossentropy_resolves_by_shapes_like_keras(
    keras, identifier, y_shape, pred_shape
):
    from keras.src.trainers.compile_utils import get_metric

    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, y_shape).astype("float32")
    y_pred = rng.uniform(size=pred_shape).astype("float32")
    reference = get_metric(identifier, y_true, y_pred)
    reference.update_state(y_true, y_pred)
    mine = metrics.get(identifier, loss="mse")
    mine.update_state(y_true, y_pred)
    assert mine.name == reference.name == identifier
    assert mine.direction == "max"
    assert mine.result() == pytest.approx(float(keras.ops.convert_to_numpy(reference.result())))
