"""Metrics: running values against Keras 3 (torch backend), log names, directions, errors."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
import torch

from rnnkit import metrics

N, T, F, C = 6, 4, 3, 5


@pytest.fixture(scope="module")
def keras():
    os.environ["KERAS_BACKEND"] = "torch"  # must precede the first keras import
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("keras was already imported with another backend")
    return keras


def _batch(kind: str, shape: tuple[int, ...], seed: int):
    rng = np.random.default_rng(seed)
    if kind == "regression":
        return rng.normal(size=shape).astype("float32"), rng.normal(size=shape).astype("float32")
    if kind == "positive":
        return rng.uniform(0, 3, shape).astype("float32"), rng.uniform(0, 3, shape).astype(
            "float32"
        )
    if kind == "binary":
        return rng.integers(0, 2, shape).astype("float32"), rng.uniform(0, 1, shape).astype(
            "float32"
        )
    if kind == "exact":
        y_true = rng.integers(0, 3, shape).astype("float32")
        y_pred = np.where(rng.uniform(size=shape) < 0.6, y_true, y_true + 1).astype("float32")
        return y_true, y_pred
    if kind == "categorical":
        labels = rng.integers(0, C, shape[:-1])
        return np.eye(C, dtype="float32")[labels], rng.uniform(0, 1, (*shape[:-1], C)).astype(
            "float32"
        )
    if kind == "sparse":
        return rng.integers(0, C, shape[:-1]), rng.uniform(0.1, 1, (*shape[:-1], C)).astype(
            "float32"
        )
    raise AssertionError(kind)


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
def test_metric_matches_keras_over_batches(keras, ours, theirs, kwargs, kind, shape, weight_shape):
    mine, reference = ours(**kwargs), getattr(keras.metrics, theirs)(**kwargs)
    for seed in range(2):
        y_true, y_pred = _batch(kind, shape, seed)
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


def test_sparse_accuracy_accepts_column_labels(keras):
    y_true, y_pred = _batch("sparse", (N, F), 0)
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
def test_get_names_metrics_like_keras_compile(keras, identifier):
    from keras.src.trainers.compile_utils import get_metric

    y_true, y_pred = _batch("regression", (N, 1), 0)
    reference = get_metric(identifier, y_true, y_pred)
    mine = metrics.get(identifier)
    assert mine.name == reference.name == identifier
    assert _snake(type(mine).__name__) == _snake(type(reference).__name__)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


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


def test_metric_rejects_bad_sample_weight():
    with pytest.raises(ValueError, match=re.escape("sample_weight has shape (5,)")):
        metrics.MeanSquaredError().update_state(torch.zeros(N, F), torch.zeros(N, F), torch.ones(5))


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
