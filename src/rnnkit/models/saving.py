"""Saving and loading models without pickle: JSON architecture + safetensors weights.

A saved model is one zip file::

    config.json         architecture, build shape, compile settings
    model.safetensors   weights (PyTorch names and layouts)
    manifest.json       SHA-256 of each member, checked on load

Files are written to a temporary file in the target folder, fsynced, and moved into
place with ``os.replace``: a crash never leaves a half-written file at the path.
Loading never executes code from the file.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from rnnkit import layers as layers_mod
from rnnkit._files import atomic_write
from rnnkit.errors import CheckpointError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError

FORMAT = "rnnkit-model"
FORMAT_VERSION = 1


def _layer_classes() -> dict[str, type]:
    return {
        name: getattr(layers_mod, name)
        for name in layers_mod.__all__
        if isinstance(getattr(layers_mod, name), type)
    }


def serialize_layer(layer: Any) -> dict[str, Any]:
    """``{"class_name", "config"}`` for a layer; raises for unsaveable settings."""
    from rnnkit.models.sequential import Sequential

    if isinstance(layer, Sequential):
        return {"class_name": "Sequential", "config": layer.get_config()}
    name = type(layer).__name__
    if name not in _layer_classes() or not hasattr(layer, "get_config"):
        raise RnnkitTypeError(
            f"save(): layer {getattr(layer, 'name', name)!r} of type {name} cannot be saved "
            "as JSON. Only rnnkit layers can be saved; save the weights with "
            "model.save_weights(...) instead."
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
    from rnnkit.models.sequential import Sequential

    class_name = item.get("class_name")
    if class_name == "Sequential":
        return Sequential.from_config(item["config"])
    classes = _layer_classes()
    if class_name not in classes:
        raise CheckpointError(f"load_model(): unknown layer class {class_name!r} in the file.")
    config = dict(item.get("config", {}))
    if "layer" in config and isinstance(config["layer"], dict):
        config["layer"] = deserialize_layer(config["layer"])
    if isinstance(config.get("backward_layer"), dict):
        config["backward_layer"] = deserialize_layer(config["backward_layer"])
    return classes[class_name].from_config(config)


def _state_tensors(model: Any) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}


def _check_overwrite(filepath: str | os.PathLike, overwrite: bool, caller: str) -> None:
    if not overwrite and Path(filepath).exists():
        raise RnnkitValueError(f"{caller}: {filepath} exists. Pass overwrite=True to replace it.")


def save_model(model: Any, filepath: str | os.PathLike, *, overwrite: bool = True) -> None:
    """Write ``model`` to ``filepath`` (see the module docstring for the format)."""
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


def _read_members(filepath: str | os.PathLike, caller: str) -> dict[str, bytes]:
    path = Path(filepath)
    if not path.exists():
        raise CheckpointError(f"{caller}: no file at {str(path)!r}.")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{caller}: {str(path)!r} is empty (truncated write?).")
    try:
        with zipfile.ZipFile(path) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
    except Exception as exc:  # zipfile raises many types for damaged archives
        raise CheckpointError(
            f"{caller}: {str(path)!r} is not a readable rnnkit model file (truncated or "
            f"foreign: {exc})."
        ) from None
    missing = {"config.json", "model.safetensors", "manifest.json"} - set(members)
    if missing:
        raise CheckpointError(
            f"{caller}: {str(path)!r} is not an rnnkit model file (missing {sorted(missing)})."
        )
    digests = _manifest_digests(members["manifest.json"], str(path), caller)
    for name in ("config.json", "model.safetensors"):
        if hashlib.sha256(members[name]).hexdigest() != digests.get(name):
            raise CheckpointError(
                f"{caller}: checksum mismatch for {name} in {str(path)!r}: the file is corrupt."
            )
    return members


def _manifest_digests(data: bytes, source: str, caller: str) -> dict[str, str]:
    try:
        manifest = json.loads(data.decode("utf-8"))
        digests = manifest["files"]
        if not isinstance(digests, dict):
            raise TypeError("'files' is not a mapping")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{caller}: the manifest in {source!r} is corrupt ({exc}).") from None
    return digests


def _parse_config(data: bytes, source: str, caller: str) -> dict[str, Any]:
    try:
        config = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CheckpointError(f"{caller}: config.json in {source!r} is corrupt ({exc}).") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"{caller}: {source!r} is not an rnnkit model file.")
    return config


def _load_tensors(data: bytes, source: str, caller: str) -> dict[str, torch.Tensor]:
    try:
        return load_safetensors_bytes(data)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"{caller}: {source} is not valid safetensors data ({exc})."
        ) from None


def load_model(
    filepath: str | os.PathLike,
    custom_objects: Any = None,
    compile: bool = True,
    safe_mode: bool = True,
):
    """Load a model written by ``model.save``. No code from the file is executed.

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
    from rnnkit.models.sequential import Sequential

    caller = "load_model()"
    members = _read_members(filepath, caller)
    config = _parse_config(members["config.json"], str(filepath), caller)
    model = Sequential.from_config(config["model"]["config"])
    model.build(tuple(config["build_input_shape"]))
    state = _load_tensors(members["model.safetensors"], str(filepath), caller)
    _assign_state(model, state, str(filepath), caller)
    compile_config = config.get("compile_config")
    if compile and compile_config:
        from rnnkit import optimizers

        model.compile(
            optimizer=optimizers.get(compile_config["optimizer"]),
            loss=compile_config["loss"],
            metrics=compile_config.get("metrics"),
        )
    return model


def _assign_state(model: Any, state: dict[str, torch.Tensor], source: str, caller: str) -> None:
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        details = []
        if missing:
            details.append(f"missing {missing[:5]}")
        if unexpected:
            details.append(f"unexpected {unexpected[:5]}")
        if wrong:
            details.append(
                "shape mismatch for "
                + ", ".join(
                    f"{k} (file {tuple(state[k].shape)}, model {tuple(own[k].shape)})"
                    for k in wrong[:5]
                )
            )
        raise CheckpointError(
            f"{caller}: the weights in {source} do not fit this model: {'; '.join(details)}."
        )
    model.load_state_dict(state, strict=True)


def save_weights(model: Any, filepath: str | os.PathLike, *, overwrite: bool = True) -> None:
    """Write the model's weights to a safetensors file, atomically."""
    if str(filepath).endswith(".h5"):
        raise RnnkitValueError(
            f"save_weights(): rnnkit writes weights as safetensors, not HDF5. Use a name "
            f"ending in '.weights.safetensors' instead of {str(filepath)!r}."
        )
    _check_overwrite(filepath, overwrite, "save_weights()")
    atomic_write(filepath, save_safetensors_bytes(_state_tensors(model)))


def load_weights(model: Any, filepath: str | os.PathLike) -> None:
    """Load weights from a safetensors file or a saved model file."""
    caller = "load_weights()"
    path = Path(filepath)
    if not path.exists():
        raise CheckpointError(f"{caller}: no file at {str(path)!r}.")
    if zipfile.is_zipfile(path):
        data = _read_members(path, caller)["model.safetensors"]
    else:
        data = path.read_bytes()
        if not data:
            raise CheckpointError(f"{caller}: {str(path)!r} is empty (truncated write?).")
    state = _load_tensors(data, str(path), caller)
    _assign_state(model, state, str(path), caller)
