"""Saving and loading models (``rnnkit.saving`` ≈ ``keras.saving``).

A saved model is a zip of JSON and safetensors: loading never executes code from
the file. Layers are found by name in the layer registry; register your own layers
with :func:`register_keras_serializable` so that models using them can be saved and
loaded.

Example:
    >>> import os, tempfile
    >>> import numpy as np
    >>> import rnnkit
    >>> from rnnkit.layers import Dense, Layer
    >>> @register_keras_serializable(package="docs")
    ... class Double(Layer):
    ...     def forward(self, inputs, mask=None, training=None):
    ...         return 2 * inputs
    >>> model = rnnkit.Sequential([Dense(2, input_shape=(3,)), Double()])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
    >>> model.save(path)
    >>> restored = load_model(path)
    >>> x = np.ones((1, 3), dtype="float32")
    >>> bool(np.allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0)))
    True
"""

from __future__ import annotations

from typing import Any

from rnnkit.layers.registry import get_layer_class
from rnnkit.layers.registry import register_keras_serializable
from rnnkit.layers.registry import registered_name
from rnnkit.models.saving import load_model
from rnnkit.models.saving import save_model


def get_registered_name(obj: Any) -> str:
    """The name a layer class (or layer) is saved under, as Keras' function."""
    return registered_name(obj)


def get_registered_object(name: str) -> type | None:
    """The layer class registered under ``name``, or ``None``, as Keras' function."""
    try:
        return get_layer_class(name, caller="get_registered_object()")
    except ValueError:
        return None


__all__ = [
    "get_registered_name",
    "get_registered_object",
    "load_model",
    "register_keras_serializable",
    "save_model",
]
