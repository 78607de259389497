"""The entry points: load and save Keras files as rnnkit models, without Keras.

``load_model``, ``load_weights``, ``model.save`` and ``model.save_weights`` pass Keras
files here (see :func:`~rnnkit.models.keras_files.detect.sniff_model_file`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rnnkit._files import atomic_write
from rnnkit._files import open_regular_file
from rnnkit.errors import CheckpointError
from rnnkit.errors import RnnkitValueError
from rnnkit.models.config_checks import _check_config
from rnnkit.models.keras_files.config import KerasConfigReader
from rnnkit.models.keras_files.detect import HDF5
from rnnkit.models.keras_files.detect import KERAS_ZIP
from rnnkit.models.keras_files.detect import sniff_handle
from rnnkit.models.keras_files.dispatch import model_format
from rnnkit.models.keras_files.dispatch import weights_format
from rnnkit.models.keras_files.h5_safe import H5Reader
from rnnkit.models.keras_files.h5_safe import open_h5
from rnnkit.models.keras_files.read_h5 import legacy_model_plan
from rnnkit.models.keras_files.read_h5 import legacy_model_settings
from rnnkit.models.keras_files.read_h5 import weights_plan
from rnnkit.models.keras_files.read_keras import read_keras_zip
from rnnkit.models.keras_files.weights_in import fill
from rnnkit.models.keras_files.weights_in import fill_existing
from rnnkit.models.keras_files.weights_in import keras3_plan
from rnnkit.models.keras_files.write_h5 import legacy_h5_bytes
from rnnkit.models.keras_files.write_h5 import weights_h5_bytes
from rnnkit.models.keras_files.write_keras import keras_zip_bytes
from rnnkit.models.saving import _build_on_meta
from rnnkit.models.saving import _check_overwrite
from rnnkit.models.saving import _compile_from_config

FORMATS = ("keras", "h5")
"""The Keras formats :func:`save_keras_model` writes."""


def _missing(path: Path, caller: str) -> None:
    if not path.exists():
        raise CheckpointError(f"{caller}: no file at {str(path)!r}.")


def load_keras_model(filepath: str | os.PathLike, *, compile: bool = True) -> Any:
    """Load a Keras 3 ``.keras`` file or a legacy Keras ``.h5`` model, without Keras.

    The file is read as hostile input, like rnnkit's own files: the zip directory is
    checked before any member is read, the config is translated (see
    :mod:`rnnkit.models.keras_files.config`) and checked like an rnnkit config, the
    model is built on the meta device, and every weight's dtype, storage and shape
    is compared with the model before memory is allocated and the weights are read.

    Args:
        filepath: The ``.keras`` or ``.h5`` file.
        compile: Compile the model with the file's optimizer, loss and metrics.
            Defaults to `True`.

    Returns:
        A built ``Sequential`` whose predictions equal Keras' on the same inputs.

    Raises:
        CheckpointError: the file is missing, not a regular file, damaged, not a
            Keras model, or holds a layer or setting rnnkit does not have (the
            message names it).

    Example:
        >>> import tempfile, os, numpy as np
        >>> from rnnkit.models import Sequential
        >>> from rnnkit.layers import GRU, Dense
        >>> model = Sequential([GRU(4, input_shape=(5, 2)), Dense(1)])
        >>> path = os.path.join(tempfile.mkdtemp(), "m.h5")
        >>> save_keras_model(model, path, format="h5")
        >>> clone = load_keras_model(path)
        >>> x = np.ones((2, 5, 2), dtype="float32")
        >>> bool(np.allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0)))
        True
    """
    caller = "load_model()"
    path = Path(filepath)
    source = str(path)
    _missing(path, caller)
    with open_regular_file(path, what=f"{caller}: model file") as handle:
        kind = sniff_handle(handle)
        if kind == KERAS_ZIP:
            keras_config, _metadata, weights = read_keras_zip(handle, source, caller)
            if not isinstance(keras_config, dict):
                raise CheckpointError(f"{caller}: config.json in {source!r} is not an object.")
            compile_config = keras_config.get("compile_config")
            file = open_h5(weights, source, caller)
        elif kind == HDF5:
            file = open_h5(handle, source, caller)
        else:
            raise CheckpointError(
                f"{caller}: {source!r} is not a Keras model file (neither a .keras zip nor HDF5)."
            )
        with file:
            reader = H5Reader(file, source, caller)
            if kind == HDF5:
                keras_config, compile_config = legacy_model_settings(reader)
            if not compile:
                compile_config = None  # not even read: compile=False loads what it can
            config = KerasConfigReader(source, caller).rnnkit_config(keras_config, compile_config)
            _check_config(config, source, caller)
            model = _build_on_meta(config, source, caller)
            plan = (
                keras3_plan(model, reader)
                if kind == KERAS_ZIP
                else legacy_model_plan(model, reader)
            )
            fill(model, plan, reader)
    if compile and config["compile_config"]:
        _compile_from_config(model, config["compile_config"], source, caller)
    return model


def load_keras_weights(model: Any, filepath: str | os.PathLike) -> None:
    """Load weights from a Keras ``.weights.h5``, ``.h5`` model or ``.keras`` file.

    Raises:
        CheckpointError: the file is missing, damaged, or its weights do not fit
            ``model`` (checked before any weight is read).
    """
    caller = "load_weights()"
    path = Path(filepath)
    source = str(path)
    _missing(path, caller)
    if not getattr(model, "built", False):
        raise RnnkitValueError(
            f"{caller}: build the model before loading weights into it "
            "(model.build(input_shape) or one call on data)."
        )
    with open_regular_file(path, what=f"{caller}: weights file") as handle:
        kind = sniff_handle(handle)
        if kind == KERAS_ZIP:
            data = read_keras_zip(handle, source, caller)[2]
            file = open_h5(data, source, caller)
        else:
            file = open_h5(handle, source, caller)
        with file:
            reader = H5Reader(file, source, caller)
            plan = keras3_plan(model, reader) if kind == KERAS_ZIP else weights_plan(model, reader)
            fill_existing(model, plan, reader)


def save_keras_model(
    model: Any, filepath: str | os.PathLike, *, format: str, overwrite: bool = True
) -> None:
    """Write ``model`` as a Keras 3 ``.keras`` file or a legacy Keras ``.h5`` model.

    Keras 3 loads either with ``keras.saving.load_model`` and predicts as rnnkit does.

    Args:
        model: A built ``Sequential`` of layers Keras has (see
            :func:`~rnnkit.models.keras_files.config.supported_layers`).
        filepath: The target; ``format="keras"`` needs a name ending in ``.keras``,
            ``format="h5"`` one ending in ``.h5`` or ``.hdf5``.
        format: ``"keras"`` or ``"h5"``.
        overwrite: Replace an existing file. Defaults to `True`.

    Raises:
        RnnkitValueError: an unknown format, a name that does not match it, an
            unbuilt model, or a layer Keras files cannot hold.
    """
    caller = "save()"
    if format not in FORMATS or model_format(filepath, format) != format:
        raise RnnkitValueError(
            f"{caller}: Keras formats are {list(FORMATS)}. Received: format={format!r}."
        )
    _check_overwrite(filepath, overwrite, caller)
    if not model.built:
        raise RnnkitValueError(
            f"{caller}: the model is not built. Fit it or call model.build(input_shape) first."
        )
    data = keras_zip_bytes(model, caller) if format == "keras" else legacy_h5_bytes(model, caller)
    atomic_write(filepath, data)


def save_keras_weights(model: Any, filepath: str | os.PathLike, *, overwrite: bool = True) -> None:
    """Write the weights as a Keras 3 ``.weights.h5`` file (``model.load_weights`` in Keras).

    Raises:
        RnnkitValueError: the name does not end in ``.weights.h5`` or the model is not built.
    """
    caller = "save_weights()"
    if weights_format(filepath) != "h5":
        raise RnnkitValueError(
            f"{caller}: Keras weights files are named '*.weights.h5'. Received: "
            f"{str(filepath)!r}; use e.g. 'model.weights.h5'."
        )
    _check_overwrite(filepath, overwrite, caller)
    if not model.built:
        raise RnnkitValueError(
            f"{caller}: the model is not built. Fit it or call model.build(input_shape) first."
        )
    atomic_write(filepath, weights_h5_bytes(model))
