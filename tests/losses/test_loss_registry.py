"""Looking losses up: Keras' names and aliases, instances, functions, configs, errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from rnnkit import losses

N, C = 6, 5


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
def test_get_resolves_keras_names(keras, make_data, identifier):
    from keras.src.losses.losses import LossFunctionWrapper

    reference = keras.losses.get(identifier)
    if not isinstance(reference, keras.losses.Loss):  # a function: named after it
        reference = LossFunctionWrapper(reference, name=reference.__name__)
    got = losses.get(identifier)
    assert isinstance(got, losses.Loss)
    assert got.name == reference.name
    y_true, y_pred = make_data("binary", (N, C))
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


def test_function_wrapper_config_round_trip_names_its_function():
    wrapper = losses.LossFunctionWrapper(losses.log_cosh, reduction="sum")
    config = json.loads(json.dumps(losses.serialize(wrapper)))
    assert config["config"]["fn"] == "log_cosh"
    restored = losses.deserialize(config)
    assert type(restored) is losses.LossFunctionWrapper
    assert restored.fn is losses.log_cosh
    assert (restored.name, restored.reduction) == ("log_cosh", "sum")
    with pytest.raises(ValueError, match=re.escape("unknown loss function 'log_cosine'")):
        losses.LossFunctionWrapper.from_config({"fn": "log_cosine"})


def test_get_rejects_unknown_names_with_hint():
    with pytest.raises(ValueError, match=re.escape("unknown loss 'mean_sqared_error'")) as info:
        losses.get("mean_sqared_error")
    assert "Did you mean 'mean_squared_error'?" in str(info.value)
    with pytest.raises(TypeError, match="expected a loss name such as 'mse'"):
        losses.get(3)
