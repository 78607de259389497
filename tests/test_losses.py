"""Losses: values against Keras 3 (torch backend), sample weights, lookup and errors."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
import torch

from rnnkit import losses

N, T, F, C = 6, 4, 3, 5


@pytest.fixture(scope="module")
def keras():
    os.environ["KERAS_BACKEND"] = "torch"  # must precede the first keras import
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("keras was already imported with another backend")
    return keras


def _data(kind: str, shape: tuple[int, ...], seed: int = 0):
    """(y_true, y_pred) as float32 numpy arrays suited to the loss kind."""
    rng = np.random.default_rng(seed)
    if kind == "regression":
        return rng.normal(size=shape).astype("float32"), rng.normal(size=shape).astype("float32")
    if kind == "positive":
        return rng.uniform(0.1, 3, shape).astype("float32"), rng.uniform(-0.5, 3, shape).astype(
            "float32"
        )
    if kind == "binary":
        y_true = rng.integers(0, 2, shape).astype("float32")
        y_pred = rng.uniform(0, 1, shape).astype("float32")
        y_pred.flat[0] = 0.0  # exercises the clipping at 1e-7
        return y_true, y_pred
    if kind == "logits":
        return rng.integers(0, 2, shape).astype("float32"), rng.normal(0, 3, shape).astype(
            "float32"
        )
    if kind == "categorical":
        labels = rng.integers(0, shape[-1], shape[:-1])
        probs = rng.uniform(0, 1, shape).astype("float32")
        return np.eye(shape[-1], dtype="float32")[labels], probs / probs.sum(-1, keepdims=True)
    raise AssertionError(kind)


def _weights(shape: tuple[int, ...], seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 2, shape).astype("float32")


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
def test_loss_matches_keras(keras, ours, theirs, kwargs, kind, shape, weighting):
    y_true, y_pred = _data(kind, shape if kind != "categorical" else (*shape[:-1], C))
    per_sample_shape = y_true.shape[:-1]
    weights = None
    if weighting == "per_sample":
        weights = _weights((N,))
    elif weighting == "per_step":
        weights = _weights(per_sample_shape)
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
def test_loss_function_is_per_sample_like_keras(keras, fn, kind):
    y_true, y_pred = _data(kind, (N, T, C))
    expected = getattr(keras.losses, fn)(y_true, y_pred)
    got = getattr(losses, fn)(torch.tensor(y_true), torch.tensor(y_pred))
    assert tuple(got.shape) == (N, T)
    np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(expected), rtol=1e-6)


@pytest.mark.parametrize("label_shape", [(N,), (N, 1)])
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("ignore_class", [None, 2])
def test_sparse_categorical_crossentropy_matches_keras(
    keras, label_shape, from_logits, ignore_class
):
    rng = np.random.default_rng(3)
    labels = rng.integers(0, C, label_shape)
    scores = rng.normal(size=(N, C)).astype("float32")
    if not from_logits:
        scores = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    weights = _weights((N,))
    kwargs = {"from_logits": from_logits, "ignore_class": ignore_class}
    expected = keras.losses.SparseCategoricalCrossentropy(**kwargs)(labels, scores, weights)
    got = losses.SparseCategoricalCrossentropy(**kwargs)(
        torch.tensor(labels), torch.tensor(scores), torch.tensor(weights)
    )
    np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(expected), rtol=1e-6)


def test_sparse_categorical_crossentropy_per_timestep(keras):
    rng = np.random.default_rng(4)
    labels = rng.integers(0, C, (N, T))
    logits = rng.normal(size=(N, T, C)).astype("float32")
    weights = _weights((N, T))
    expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits, weights)
    got = losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits, weights)
    np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(expected), rtol=1e-6)


@pytest.mark.parametrize("reduction", ["sum", "none", "mean", "mean_with_sample_weight", None])
def test_loss_reductions_match_keras(keras, reduction):
    y_true, y_pred = _data("regression", (N, T, F))
    weights = _weights((N, T))
    expected = keras.losses.MeanSquaredError(reduction=reduction)(y_true, y_pred, weights)
    got = losses.MeanSquaredError(reduction=reduction)(y_true, y_pred, weights)
    np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(expected), rtol=1e-6)


def test_loss_aligns_rank_one_targets(keras):
    y_true = np.arange(N, dtype="float32")
    y_pred = np.arange(N, dtype="float32")[:, None] * 0.5
    expected = keras.losses.MeanSquaredError()(y_true, y_pred)
    got = losses.MeanSquaredError()(torch.tensor(y_true), torch.tensor(y_pred))
    np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(expected), rtol=1e-6)


def test_loss_per_sample_weights_spread_over_timesteps():
    y_true, y_pred = _data("regression", (N, T, F))
    weights = _weights((N,))
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
    "identifier",
    [
        "mse",
        "MSE",
        "mae",
        "mape",
        "msle",
        "bce",
        "mean_squared_error",
        "huber",
        "Huber",
        "log_cosh",
        "LogCosh",
        "MeanAbsoluteError",
        "binary_crossentropy",
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
        "SparseCategoricalCrossentropy",
        "cosine_similarity",
    ],
)
def test_get_resolves_keras_names(keras, identifier):
    from keras.src.losses.losses import LossFunctionWrapper

    reference = keras.losses.get(identifier)
    if not isinstance(reference, keras.losses.Loss):  # a function: named after it
        reference = LossFunctionWrapper(reference, name=reference.__name__)
    got = losses.get(identifier)
    assert isinstance(got, losses.Loss)
    assert got.name == reference.name
    y_true, y_pred = _data("binary", (N, C))
    if "sparse" in identifier.lower():
        y_true = np.random.default_rng(0).integers(0, C, (N,))
    expected = keras.ops.convert_to_numpy(reference(y_true, y_pred))
    np.testing.assert_allclose(got(y_true, y_pred).numpy(), expected, rtol=1e-6)


def test_get_passes_instances_functions_and_dicts():
    loss = losses.Huber(delta=2.0)
    assert losses.get(loss) is loss
    assert losses.get(None) is None
    assert type(losses.get(losses.mean_absolute_error)) is losses.MeanAbsoluteError
    assert type(losses.get(losses.MeanSquaredError)) is losses.MeanSquaredError

    def quartic(y_true, y_pred):
        return ((y_true - y_pred) ** 4).mean(dim=-1)

    wrapped = losses.get(quartic)
    assert wrapped.name == "quartic"
    assert wrapped(torch.ones(2, 1), torch.zeros(2, 1)).item() == 1.0
    restored = losses.get(json.loads(json.dumps(losses.serialize(loss))))
    assert type(restored) is losses.Huber
    assert restored.delta == 2.0


@pytest.mark.parametrize("cls", list(losses.CLASSES.values()))
def test_loss_config_round_trip(cls):
    loss = cls(reduction="sum", name="custom")
    restored = losses.deserialize(json.loads(json.dumps(losses.serialize(loss))))
    assert type(restored) is cls
    assert restored.get_config() == loss.get_config()


def test_get_rejects_unknown_names_with_hint():
    with pytest.raises(ValueError, match=re.escape("unknown loss 'mean_sqared_error'")) as info:
        losses.get("mean_sqared_error")
    assert "Did you mean 'mean_squared_error'?" in str(info.value)
    with pytest.raises(TypeError, match="expected a loss name such as 'mse'"):
        losses.get(3)


def test_loss_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=re.escape("y_true has shape (6, 2) but y_pred has shape")):
        losses.MeanSquaredError()(torch.zeros(N, 2), torch.zeros(N, 3))


def test_loss_rejects_bad_sample_weight():
    with pytest.raises(ValueError, match=re.escape("sample_weight has shape (5,)")):
        losses.MeanSquaredError()(torch.zeros(N, T, F), torch.zeros(N, T, F), torch.ones(5))


def test_sparse_categorical_crossentropy_rejects_bad_labels():
    with pytest.raises(ValueError, match=re.escape("labels must be integers in [0, 5)")):
        losses.sparse_categorical_crossentropy(torch.tensor([0, 5]), torch.rand(2, C))
    with pytest.raises(ValueError, match=re.escape("needs integer labels of shape (2,)")):
        losses.sparse_categorical_crossentropy(torch.zeros(2, 3), torch.rand(2, C))


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


def test_categorical_crossentropy_warns_on_single_class():
    with pytest.warns(UserWarning, match="use binary_crossentropy|Use binary_crossentropy"):
        losses.categorical_crossentropy(torch.ones(2, 1), torch.ones(2, 1))
