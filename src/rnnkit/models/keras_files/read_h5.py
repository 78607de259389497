"""Reading Keras HDF5 files: legacy ``.h5`` models and ``.weights.h5`` weights.

A legacy Keras (or TF 2 ``tf.keras``) ``.h5`` model keeps its config as JSON in the
``model_config`` attribute, its compile settings in ``training_config`` and its
weights in ``model_weights``. A weights file is Keras 3's layout (``layers/...``) or
the legacy one (``layer_names`` at its root). Everything goes through
:class:`.h5_safe.H5Reader`.
"""

from __future__ import annotations

from typing import Any

from rnnkit.models.keras_files.h5_safe import H5Reader
from rnnkit.models.keras_files.weights_in import Plan
from rnnkit.models.keras_files.weights_in import keras3_plan
from rnnkit.models.keras_files.weights_in import legacy_plan


def legacy_model_settings(reader: H5Reader) -> tuple[Any, Any]:
    """``(model_config, training_config)`` of a legacy ``.h5`` model file."""
    model_config = reader.json_attribute(reader.file, "model_config")
    training_config = reader.json_attribute(reader.file, "training_config", required=False)
    return model_config, training_config


def legacy_model_plan(model: Any, reader: H5Reader) -> Plan:
    """Where the weights of a legacy ``.h5`` model file are, for ``model``."""
    return legacy_plan(model, reader, reader.group("model_weights"))


def weights_plan(model: Any, reader: H5Reader) -> Plan:
    """Where the weights of any Keras HDF5 file are, for ``model``."""
    root = reader.file
    if "layer_names" in root.attrs:
        return legacy_plan(model, reader, root)
    if "model_weights" in root:
        return legacy_model_plan(model, reader)
    if "layers" in root or "vars" in root:
        return keras3_plan(model, reader)
    raise reader.error(
        "is an HDF5 file but not Keras weights: it has no 'layers' group (Keras 3) and no "
        "'layer_names' attribute (legacy Keras)."
    )
