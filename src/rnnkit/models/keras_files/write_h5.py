"""Writing Keras HDF5: Keras 3 ``.weights.h5`` and legacy Keras ``.h5`` models.

Both are built in memory with h5py and written with :func:`rnnkit._files.atomic_write`,
so a crash leaves the old file or the new one. The layouts are those of
:mod:`.layout`, the same the readers use.
"""

from __future__ import annotations

import io
import json
from typing import Any

import h5py
import numpy as np

from rnnkit.losses.registry import canonical_name
from rnnkit.models.keras_files.config_out import keras_compile_config
from rnnkit.models.keras_files.config_out import keras_model_config
from rnnkit.models.keras_files.layout import keras3_groups
from rnnkit.models.keras_files.layout import legacy_weight_names
from rnnkit.models.keras_files.layout import model_layers
from rnnkit.models.keras_files.layout import weights_owner

KERAS_VERSION = "3.0.0"
"""The Keras version rnnkit's files declare: the Keras 3 formats, as of 3.0."""


def _arrays(owner: Any) -> list[np.ndarray]:
    return [w.detach().cpu().numpy().astype(np.float32) for w in owner.keras_weights()]


def weights_h5_bytes(model: Any) -> bytes:
    """A Keras 3 ``.weights.h5`` file for ``model``, as bytes."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as file:
        file.create_group("vars").attrs["name"] = model.name
        for group in keras3_groups(model):
            h5group = file.create_group(group.path)
            h5group.attrs["name"] = group.owner.name
            for index, array in enumerate(_arrays(group.owner)):
                h5group.create_dataset(str(index), data=array)
    return buffer.getvalue()


def legacy_h5_bytes(model: Any, caller: str) -> bytes:
    """A legacy Keras ``.h5`` model file (config, compile settings, weights), as bytes."""
    config = keras_model_config(model, caller)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as file:
        file.attrs["keras_version"] = KERAS_VERSION
        file.attrs["model_config"] = json.dumps(
            {"class_name": config["class_name"], "config": config["config"]}
        )
        training = _training_config(model)
        if training is not None:
            file.attrs["training_config"] = json.dumps(training)
        weights = file.create_group("model_weights")
        layers = model_layers(model)
        weights.attrs["layer_names"] = [layer.name.encode("utf-8") for layer in layers]
        weights.attrs["keras_version"] = KERAS_VERSION
        for layer in layers:
            group = weights.create_group(layer.name)
            names = legacy_weight_names(layer, model.name)
            group.attrs["weight_names"] = [name.encode("utf-8") for name in names]
            for name, array in zip(names, _arrays(weights_owner(layer)), strict=True):
                group.create_dataset(name, data=array)
        weights.create_group("top_level_model_weights").attrs["weight_names"] = np.array(
            [], dtype="S1"
        )
    return buffer.getvalue()


def _training_config(model: Any) -> dict[str, Any] | None:
    compile_config = keras_compile_config(model)
    if compile_config is None:
        return None
    optimizer = compile_config.pop("optimizer")
    if isinstance(optimizer, dict):
        optimizer = {"class_name": optimizer["class_name"], "config": optimizer["config"]}
    loss = compile_config["loss"]
    if isinstance(loss, str):  # Keras 3's legacy reader fails on aliases such as "mse"
        compile_config["loss"] = canonical_name(loss) or loss
    return {**compile_config, "optimizer_config": optimizer}
