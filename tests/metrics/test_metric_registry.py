"""Looking metrics up: Keras' log keys, accuracy resolution, functions, configs, errors."""

from __future__ import annotations

import json
import re

import pytest
import torch

from rnnkit import metrics

N, T, F, C = 6, 4, 3, 5


@pytest.mark.parametrize(
    "identifier",
    [
        "mae",
        "MAE",
        "mse",
        "mape",
        "msle",
        "mean_absolute_error",
        "MeanAbsoluteError",
        "root_mean_squared_error",
        "RootMeanSquaredError",
        "binary_crossentropy",
        "categorical_accuracy",
        "sparse_categorical_accuracy",
    ],
)
def test_get_names_metrics_like_keras_compile(keras, make_batch, identifier):
    from keras.src.trainers.compile_utils import get_metric

    y_true, y_pred = make_batch("regression", (N, 1), 0)
    reference = get_metric(identifier, y_true, y_pred)
    mine = metrics.get(identifier)
    assert mine.name == reference.name == identifier
    assert type(mine).__name__ == type(reference).__name__


@pytest.mark.parametrize(
    ("loss", "expected"),
    [
        ("binary_crossentropy", metrics.BinaryAccuracy),
        ("bce", metrics.BinaryAccuracy),
        ("BinaryCrossentropy", metrics.BinaryAccuracy),
        ("categorical_crossentropy", metrics.CategoricalAccuracy),
        ("sparse_categorical_crossentropy", metrics.SparseCategoricalAccuracy),
    ],
)
def test_accuracy_follows_crossentropy_loss(loss, expected):
    from rnnkit import losses

    for given in (loss, losses.get(loss)):
        metric = metrics.get("accuracy", loss=given)
        assert type(metric) is expected
        assert metric.name == "accuracy"


def test_get_wraps_callables_and_passes_instances():
    def max_error(y_true, y_pred):
        return (y_true - y_pred).abs().amax(dim=-1)

    wrapped = metrics.get(max_error)
    assert (wrapped.name, wrapped.direction) == ("max_error", "min")
    wrapped.update_state(torch.tensor([[0.0, 1.0], [0.0, 0.0]]), torch.tensor([[0.0, 3.0], [1, 0]]))
    assert wrapped.result() == 1.5

    def hit_rate(y_true, y_pred):
        return (y_true == y_pred).float().mean()

    scalar = metrics.get(hit_rate)
    scalar.update_state(torch.ones(4, 1), torch.ones(4, 1))
    assert scalar.result() == 1.0
    assert scalar.direction is None  # the name does not tell; callbacks will ask for mode
    instance = metrics.RootMeanSquaredError(name="rmse")
    assert metrics.get(instance) is instance
    assert metrics.get("rmse").name == "rmse"
    assert type(metrics.get(metrics.MeanAbsoluteError)) is metrics.MeanAbsoluteError


def test_metric_config_round_trip():
    metric = metrics.BinaryAccuracy(name="acc", threshold=0.3)
    restored = metrics.deserialize(json.loads(json.dumps(metrics.serialize(metric))))
    assert type(restored) is metrics.BinaryAccuracy
    assert restored.get_config() == metric.get_config()
    assert restored.threshold == 0.3


def test_get_rejects_unknown_names_with_hint():
    with pytest.raises(ValueError, match=re.escape("unknown metric 'mean_absolut_error'")) as info:
        metrics.get("mean_absolut_error")
    assert "Did you mean 'mean_absolute_error'?" in str(info.value)
    with pytest.raises(TypeError, match="expected a metric name such as 'mae'"):
        metrics.get(3.5)
