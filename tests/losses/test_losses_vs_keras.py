"""Loss values against Keras 3 (torch backend): every class, function, weighting and reduction."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit import losses

N, T, F, C = 6, 4, 3, 5

# (our class, keras class name, kwargs, data kind)
CLASS_CASES = [
    (losses.MeanSquaredError, "MeanSquaredError", {}, "regression"),
    (losses.MeanAbsoluteError, "MeanAbsoluteError", {}, "regression"),
    (losses.MeanAbsolutePercentageError, "MeanAbsolutePercentageError", {}, "regression"),
    (losses.MeanSquaredLogarithmicError, "MeanSquaredLogarithmicError", {}, "positive"),
    (losses.Huber, "Huber", {}, "regression"),
    (losses.Huber, "Huber", {"delta": 0.4}, "regression"),
    (losses.LogCosh, "LogCosh", {}, "regression"),
    (losses.CosineSimilarity, "CosineSimilarity", {}, "regression"),
    (losses.BinaryCrossentropy, "BinaryCrossentropy", {}, "binary"),
    (losses.BinaryCrossentropy, "BinaryCrossentropy", {"label_smoothing": 0.2}, "binary"),
    (losses.BinaryCrossentropy, "BinaryCrossentropy", {"from_logits": True}, "logits"),
    (losses.CategoricalCrossentropy, "CategoricalCrossentropy", {}, "categorical"),
    (
        losses.CategoricalCrossentropy,
        "CategoricalCrossentropy",
        {"from_logits": True, "label_smoothing": 0.1},
        "regression",
    ),
]
CLASS_IDS = [f"{k}-{kw}" for _, k, kw, _ in CLASS_CASES]


@pytest.mark.parametrize(("ours", "theirs", "kwargs", "kind"), CLASS_CASES, ids=CLASS_IDS)
@pytest.mark.parametrize(
    ("shape", "weighting"),
    [((N, F), "none"), ((N, F), "per_sample"), ((N, T, F), "per_sample"), ((N, T, F), "per_step")],
    ids=["2d", "2d-weighted", "3d-weighted", "3d-step-weighted"],
)
def test_loss_matches_keras(
    keras, make_data, make_weights, ours, theirs, kwargs, kind, shape, weighting
):
    y_true, y_pred = make_data(kind, shape if kind != "categorical" else (*shape[:-1], C))
    per_sample_shape = y_true.shape[:-1]
    weights = None
    if weighting == "per_sample":
        weights = make_weights((N,))
    elif weighting == "per_step":
        weights = make_weights(per_sample_shape)
    # Keras broadcasts (N,) weights against (N, T) losses from the right, so give it (N, T).
    keras_weights = None
    if weights is not None:
        keras_weights = np.broadcast_to(
            weights.reshape(weights.shape + (1,) * (len(per_sample_shape) - weights.ndim)),
            per_sample_shape,
        )
    expected = getattr(keras.losses, theirs)(**kwargs)(y_true, y_pred, sample_weight=keras_weights)
    got = ours(**kwargs)(torch.tensor(y_true), torch.tensor(y_pred), sample_weight=weights)
    assert got.shape == ()
    np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(expected), rtol=1e-6)


@pytest.mark.parametrize(
    ("fn", "kind"),
    [
        ("mean_squared_error", "regression"),
        ("mean_absolute_error", "regression"),
        ("mean_absolute_percentage_error", "regression"),
        ("mean_squared_logarithmic_error", "positive"),
        ("huber", "regression"),
        ("log_cosh", "regression"),
        ("cosine_similarity", "regression"),
        ("binary_crossentropy", "binary"),
        ("categorical_crossentropy", "categorical"),
    ],
)
def test_loss_function_is_per_sample_like_keras(keras, make_data, fn, kind):
    y_true, y_pred = make_data(kind, (N, T, C))
    expected = getattr(keras.losses, fn)(y_true, y_pred)
    got = getattr(losses, fn)(torch.tensor(y_true), torch.tensor(y_pred))
    assert tuple(got.shape) == (N, T)
    np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(expected), rtol=1e-6)


@pytest.mark.parametrize("label_shape", [(N,), (N, 1)])
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("ignore_class", [None, 2])
def test_sparse_categorical_crossentropy_matches_keras(
    keras, make_weights, label_shape, from_logits, ignore_class
):
    rng = np.random.default_rng(3)
    labels = rng.integers(0, C, label_shape)
    scores = rng.normal(size=(N, C)).astype("float32")
    if not from_logits:
        scores = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    weights = make_weights((N,))
    kwargs = {"from_logits": from_logits, "ignore_class": ignore_class}
    expected = keras.losses.SparseCategoricalCrossentropy(**kwargs)(labels, scores, weights)
    got = losses.SparseCategoricalCrossentropy(**kwargs)(
        torch.tensor(labels), torch.tensor(scores), torch.tensor(weights)
    )
    np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(expected), rtol=1e-6)


def test_sparse_categorical_crossentropy_per_timestep(keras, make_weights):
    rng = np.random.default_rng(4)
    labels = rng.integers(0, C, (N, T))
    logits = rng.normal(size=(N, T, C)).astype("float32")
    weights = make_weights((N, T))
    expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits, weights)
    got = losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits, weights)
    np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(expected), rtol=1e-6)


@pytest.mark.parametrize("reduction", ["sum", "none", "mean", "mean_with_sample_weight", None])
def test_loss_reductions_match_keras(keras, make_data, make_weights, reduction):
    y_true, y_pred = make_data("regression", (N, T, F))
    weights = make_weights((N, T))
    expected = keras.losses.MeanSquaredError(reduction=reduction)(y_true, y_pred, weights)
    got = losses.MeanSquaredError(reduction=reduction)(y_true, y_pred, weights)
    np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(expected), rtol=1e-6)


def test_loss_aligns_rank_one_targets(keras):
    y_true = np.arange(N, dtype="float32")
    y_pred = np.arange(N, dtype="float32")[:, None] * 0.5
    expected = keras.losses.MeanSquaredError()(y_true, y_pred)
    got = losses.MeanSquaredError()(torch.tensor(y_true), torch.tensor(y_pred))
    np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(expected), rtol=1e-6)
