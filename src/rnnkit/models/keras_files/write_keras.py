"""Writing Keras 3 ``.keras`` files: a zip of config.json, metadata.json and weights."""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from typing import Any

from rnnkit.models.keras_files.config_out import keras_compile_config
from rnnkit.models.keras_files.config_out import keras_model_config
from rnnkit.models.keras_files.write_h5 import KERAS_VERSION
from rnnkit.models.keras_files.write_h5 import weights_h5_bytes


def keras_zip_bytes(model: Any, caller: str) -> bytes:
    """A Keras 3 ``.keras`` file for a built ``model``, as bytes."""
    config = keras_model_config(model, caller)
    compile_config = keras_compile_config(model)
    if compile_config is not None:
        config["compile_config"] = compile_config
    metadata = {
        "keras_version": KERAS_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("metadata.json", json.dumps(metadata))
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", weights_h5_bytes(model))
    return buffer.getvalue()
