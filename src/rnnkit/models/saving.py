"""Saving and loading models without pickle: JSON architecture + safetensors weights.

A saved model is one zip file::

    config.json         architecture, build shape, compile settings
    model.safetensors   weights (PyTorch names and layouts)
    manifest.json       SHA-256 of each member, checked on load

Files are written to a temporary file in the target folder, fsynced, and moved into
place with ``os.replace``: a crash never leaves a half-written file at the path.

Loading never executes code from the file, and treats every file as hostile: it either
returns the model or raises :class:`~rnnkit.errors.CheckpointError` naming the file and
the problem, within seconds and in memory proportional to the weights the file holds.
In order, before anything is built:

1. the path must be a regular file (a FIFO or device is refused, never read);
2. the zip directory must list exactly the three members, each a plain file, not
   encrypted, within its size limit and :data:`MAX_COMPRESSION_RATIO`;
3. the manifest's SHA-256 digests must match;
4. config.json must be JSON within :data:`MAX_CONFIG_BYTES` and :data:`MAX_JSON_DEPTH`,
   with known keys, allow-listed class names and arguments the classes accept;
5. the model is built on PyTorch's meta device (shapes only) and its weight names and
   shapes are compared with the safetensors header;

then the weights are read and copied into the model, which is never initialised.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any
from typing import BinaryIO

import torch
from safetensors.torch import save as save_safetensors_bytes

from rnnkit._files import atomic_write
from rnnkit._files import open_regular_file
from rnnkit.errors import CheckpointError
from rnnkit.errors import RnnkitError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.layers.registry import get_layer_class
from rnnkit.layers.registry import is_registered
from rnnkit.layers.registry import registered_classes
from rnnkit.layers.registry import registered_name
from rnnkit.models.config_checks import _check_config
from rnnkit.models.model_archive import FORMAT
from rnnkit.models.model_archive import FORMAT_VERSION
from rnnkit.models.model_archive import MAX_SAFETENSORS_HEADER_BYTES
from rnnkit.models.model_archive import _one_line
from rnnkit.models.model_archive import _parse_json
from rnnkit.models.model_archive import _read_members
from rnnkit.models.model_archive import _read_members_from
from rnnkit.models.training import default_device
from rnnkit.models.weights_file import _check_weights_fit
from rnnkit.models.weights_file import _load_tensors
from rnnkit.models.weights_file import _safetensors_header


def serialize_layer(layer: Any) -> dict[str, Any]:
    """``{"class_name", "config"}`` for a layer; raises for unsaveable settings."""
    name = registered_name(layer)
    if name == "Sequential":
        return {"class_name": "Sequential", "config": layer.get_config()}
    if not is_registered(layer) or not hasattr(layer, "get_config"):
        raise RnnkitTypeError(
            f"save(): layer {getattr(layer, 'name', name)!r} of type {name} cannot be saved "
            "as JSON. Only rnnkit layers and layers registered with "
            "@rnnkit.saving.register_keras_serializable() can be saved; or save the weights "
            "with model.save_weights(...)."
        )
    config = layer.get_config()
    _check_json(config, getattr(layer, "name", name))
    return {"class_name": name, "config": config}


def _check_json(config: dict[str, Any], layer_name: str) -> None:
    for key, value in config.items():
        if value is None and key in ("activation", "recurrent_activation"):
            raise RnnkitTypeError(
                f"save(): layer {layer_name!r} uses a custom callable for `{key}`, which "
                "cannot be stored without executing code on load. Use a built-in activation "
                "name, or save only the weights with model.save_weights(...)."
            )
    try:
        json.dumps(config)
    except TypeError as exc:
        raise RnnkitTypeError(
            f"save(): layer {layer_name!r} has a setting that is not JSON-serialisable ({exc})."
        ) from None


def deserialize_layer(item: dict[str, Any]) -> Any:
    """Inverse of :func:`serialize_layer` (only known rnnkit classes; no code runs)."""
    if not isinstance(item, dict):
        raise CheckpointError(f"load_model(): a layer entry must be an object. Received {item!r}.")
    class_name = item.get("class_name")
    config = item.get("config", {})
    if not isinstance(config, dict):
        raise CheckpointError(
            f"load_model(): the config of layer class {class_name!r} must be an object."
        )
    if class_name == "Sequential":
        return _sequential_from_config(config)
    classes: dict[str, Any] = registered_classes()
    if not isinstance(class_name, str) or class_name not in classes:
        raise CheckpointError(f"load_model(): unknown layer class {class_name!r} in the file.")
    config = dict(config)
    if "layer" in config and isinstance(config["layer"], dict):
        config["layer"] = deserialize_layer(config["layer"])
    if isinstance(config.get("backward_layer"), dict):
        config["backward_layer"] = deserialize_layer(config["backward_layer"])
    return classes[class_name].from_config(config)


def _sequential_from_config(config: dict[str, Any], where: str = "model") -> Any:
    """A ``Sequential`` from its config; under ``torch.device("meta")`` it stays there.

    An error from a layer's constructor is re-raised naming the layer (``where``,
    index, class and name), as a :class:`~rnnkit.errors.RnnkitValueError`.
    """
    model = get_layer_class("Sequential", caller="load_model()")(name=config.get("name"))
    if torch.get_default_device().type == "meta":
        model.to("meta")  # so that building it keeps its weights on the meta device
    for index, item in enumerate(config["layers"]):
        label = f"{where}, layer {index} ({_item_label(item)})"
        try:
            if isinstance(item, dict) and item.get("class_name") == "Sequential":
                layer = _sequential_from_config(item.get("config", {}), label)
            else:
                layer = deserialize_layer(item)
        except _FROM_CONFIG_ERRORS as exc:
            if isinstance(exc, RnnkitValueError) and str(exc).startswith(where):
                raise  # a nested model's layer, already named
            raise RnnkitValueError(f"{label}: {_one_line(exc)}") from exc
        model.add(layer)
    return model


def _item_label(item: Any) -> str:
    """``GRU 'gru'`` for a layer entry of a config (whatever the entry holds)."""
    if not isinstance(item, dict):
        return "?"
    config = item.get("config")
    name = config.get("name") if isinstance(config, dict) else None
    return (
        f"{item.get('class_name')} {name!r}"
        if isinstance(name, str)
        else str(item.get("class_name"))
    )


def _state_tensors(model: Any) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}


def _check_overwrite(filepath: str | os.PathLike, overwrite: bool, caller: str) -> None:
    if not overwrite and Path(filepath).exists():
        raise RnnkitValueError(f"{caller}: {filepath} exists. Pass overwrite=True to replace it.")


def save_model(
    model: Any, filepath: str | os.PathLike, *, overwrite: bool = True, format: str | None = None
) -> None:
    """Write ``model`` to ``filepath`` (see the module docstring for the format).

    A name ending in ``.h5``, ``format="keras"`` or ``format="h5"`` writes a Keras file
    instead (see :mod:`rnnkit.models.keras_files`).
    """
    # Keras files: rnnkit.models.keras_files decides from the name and format=.
    from rnnkit.models import keras_files

    keras_format = keras_files.model_format(filepath, format)
    if keras_format != "rnnkit":
        return keras_files.save_keras_model(
            model, filepath, format=keras_format, overwrite=overwrite
        )
    _check_overwrite(filepath, overwrite, "save()")
    if not model.built:
        raise RnnkitValueError(
            "save(): the model is not built. Fit it or call model.build(input_shape) first."
        )
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": {"class_name": type(model).__name__, "config": model.get_config()},
        "build_input_shape": list(model.built_input_shape),
        "compile_config": getattr(model, "_compile_config", None) if model.compiled else None,
    }
    members = {
        "config.json": json.dumps(config, indent=2).encode(),
        "model.safetensors": save_safetensors_bytes(_state_tensors(model)),
    }
    manifest = {"files": {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    atomic_write(filepath, buffer.getvalue())


# ------------------------------------------------------------------ reading limits
_FROM_CONFIG_ERRORS = (
    RnnkitError,
    TypeError,
    ValueError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    RuntimeError,
    RecursionError,
    MemoryError,
    NotImplementedError,
)
"""What building a model from a checked config may still raise on hostile values."""


def load_model(
    filepath: str | os.PathLike,
    custom_objects: Any = None,
    compile: bool = True,
    safe_mode: bool = True,
):
    """Load a model written by ``model.save``. No code from the file is executed.

    The file is checked before anything is built: its zip directory (only the three
    members, within the size and compression limits above), the manifest's digests,
    the config's structure and class names, and the weight shapes the config implies
    (computed on PyTorch's meta device, with no memory) against the safetensors
    header. Weights are then read straight into the model, without initialising it.

    Raises:
        CheckpointError: the file is missing, not a regular file, damaged, foreign, or
            describes a model its weights do not fit; the message names the file and
            the problem.

    Example:
        >>> import tempfile, os, numpy as np
        >>> from rnnkit.models import Sequential
        >>> from rnnkit.layers import GRU, Dense
        >>> model = Sequential([GRU(4, input_shape=(5, 2)), Dense(1)])
        >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
        >>> model.save(path)
        >>> clone = load_model(path)
        >>> x = np.ones((2, 5, 2), dtype="float32")
        >>> bool(np.allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0)))
        True
    """
    # Keras files (.keras from Keras, HDF5) are read by rnnkit.models.keras_files.
    from rnnkit.models import keras_files

    if keras_files.is_keras_file(filepath):
        return keras_files.load_keras_model(filepath, compile=compile)
    caller = "load_model()"
    source = str(filepath)
    members = _read_members(filepath, caller)
    config = _parse_json(members["config.json"], f"config.json in {source!r}", caller)
    _check_config(config, source, caller)
    weights = members.pop("model.safetensors")
    specs = _safetensors_header(weights, len(weights), source, caller)
    model = _build_on_meta(config, source, caller)
    _check_weights_fit(model, specs, source, caller, "the model its config.json describes")
    state = _load_tensors(weights, source, caller)
    del weights
    _materialize(model, state, source, caller)
    compile_config = config.get("compile_config")
    if compile and compile_config:
        _compile_from_config(model, compile_config, source, caller)
    return model


def _build_on_meta(config: dict[str, Any], source: str, caller: str) -> Any:
    """The model the config describes, built on the meta device: shapes, no memory."""
    try:
        with torch.device("meta"):
            model = _sequential_from_config(config["model"]["config"])
            model.build(tuple(config["build_input_shape"]))
    except _FROM_CONFIG_ERRORS as exc:
        raise CheckpointError(
            f"{caller}: config.json in {source!r} does not describe a valid model: {_one_line(exc)}"
        ) from None
    return model


def _materialize(model: Any, state: dict[str, torch.Tensor], source: str, caller: str) -> None:
    """Replace the meta model's weights by the file's tensors.

    No initialiser runs and no second copy is made: the loaded tensors become the
    parameters, in the model's dtypes.
    """
    _check_weights_fit(model, _state_specs(state), source, caller)
    own = model.state_dict()
    state = {name: tensor.to(own[name].dtype) for name, tensor in state.items()}
    model.load_state_dict(state, strict=True, assign=True)
    device = default_device()
    for module in model.modules():  # nested models keep their own device record
        if hasattr(module, "built_input_shape"):
            module.to(device)


def _compile_from_config(model: Any, config: dict[str, Any], source: str, caller: str) -> None:
    from rnnkit import optimizers

    try:
        model.compile(
            optimizer=optimizers.get(config["optimizer"]),
            loss=config.get("loss"),
            metrics=config.get("metrics"),
        )
    except _FROM_CONFIG_ERRORS as exc:
        raise CheckpointError(
            f"{caller}: the compile settings in {source!r} are invalid: {_one_line(exc)} "
            "Pass compile=False to load the model uncompiled."
        ) from None


def _state_specs(state: dict[str, torch.Tensor]) -> dict[str, tuple[str, tuple[int, ...]]]:
    """``{name: (dtype, shape)}`` of loaded tensors, as :func:`_safetensors_header` gives."""
    return {name: (str(t.dtype), tuple(t.shape)) for name, t in state.items()}


def _assign_state(model: Any, state: dict[str, torch.Tensor], source: str, caller: str) -> None:
    _check_weights_fit(model, _state_specs(state), source, caller)
    model.load_state_dict(state, strict=True)


def save_weights(model: Any, filepath: str | os.PathLike, *, overwrite: bool = True) -> None:
    """Write the model's weights to a safetensors file, atomically.

    A name ending in ``.weights.h5`` gets Keras HDF5; another ``.h5`` name is an error.
    """
    # Keras weights files: rnnkit.models.keras_files.
    from rnnkit.models import keras_files

    if keras_files.weights_format(filepath) == "h5":
        return keras_files.save_keras_weights(model, filepath, overwrite=overwrite)
    _check_overwrite(filepath, overwrite, "save_weights()")
    atomic_write(filepath, save_safetensors_bytes(_state_tensors(model)))


def load_weights(model: Any, filepath: str | os.PathLike) -> None:
    """Load weights from a safetensors file or a saved model file.

    The file's tensor names and shapes are compared with the model's from the
    safetensors header, before the weights are read.

    Raises:
        CheckpointError: the file is missing, not a regular file (a FIFO is refused
            at once), damaged, or holds weights that do not fit the model.
    """
    # Keras files (.weights.h5, .h5, .keras from Keras): rnnkit.models.keras_files.
    from rnnkit.models import keras_files

    if keras_files.is_keras_file(filepath):
        return keras_files.load_keras_weights(model, filepath)
    caller = "load_weights()"
    path = Path(filepath)
    source = str(path)
    if not path.exists():
        raise CheckpointError(f"{caller}: no file at {source!r}.")
    with open_regular_file(path, what=f"{caller}: weights file") as handle:
        if zipfile.is_zipfile(handle):
            handle.seek(0)
            data = _read_members_from(handle, source, caller)["model.safetensors"]
            _check_weights_fit(
                model, _safetensors_header(data, len(data), source, caller), source, caller
            )
        else:
            data = _read_safetensors_file(handle, model, source, caller)
    state = _load_tensors(data, source, caller)
    del data
    _assign_state(model, state, source, caller)


def _read_safetensors_file(handle: BinaryIO, model: Any, source: str, caller: str) -> bytes:
    """Read a safetensors file, checking its header against ``model`` before the data."""
    handle.seek(0)
    size = os.fstat(handle.fileno()).st_size
    if size == 0:
        raise CheckpointError(f"{caller}: {source!r} is empty (truncated write?).")
    head = handle.read(8)
    if len(head) == 8:
        length = int.from_bytes(head, "little")
        head += handle.read(min(length, MAX_SAFETENSORS_HEADER_BYTES))
    _check_weights_fit(model, _safetensors_header(head, size, source, caller), source, caller)
    return head + handle.read()
