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
import inspect
import io
import json
import math
import os
import stat
import zipfile
import zlib
from pathlib import Path
from typing import Any
from typing import BinaryIO

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from rnnkit import layers as layers_mod
from rnnkit._files import atomic_write
from rnnkit._files import open_regular_file
from rnnkit._validation import suggest
from rnnkit.errors import CheckpointError
from rnnkit.errors import RnnkitError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.layers.base import Layer
from rnnkit.models.training import default_device

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
    classes = _layer_classes()
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
    from rnnkit.models.sequential import Sequential

    model = Sequential(name=config.get("name"))
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
MODEL_MEMBERS = ("config.json", "model.safetensors", "manifest.json")
"""The members of a model file, and the only ones read: any other member is refused."""

MAX_CONFIG_BYTES = 4 * 2**20
"""Largest ``config.json`` read. A saved config takes about 1 KB per layer, so 4 MiB
holds thousands of layers while bounding what a hostile config costs to parse."""

MAX_MANIFEST_BYTES = 64 * 2**10
"""Largest ``manifest.json`` read; it holds three SHA-256 digests (about 300 bytes)."""

MAX_SAFETENSORS_HEADER_BYTES = 16 * 2**20
"""Largest safetensors JSON header: about 100 bytes per tensor, so over 100,000 tensors."""

MAX_JSON_DEPTH = 64
"""Deepest nesting of lists and objects in ``config.json`` or a safetensors header.
Saved configs nest about 10 levels (each wrapper layer adds two); parsing and
``from_config`` recurse, so a 100,000-deep document would exhaust the stack."""

MAX_COMPRESSION_RATIO = 100
"""Largest uncompressed / compressed size of a member. rnnkit stores members
uncompressed and float weights deflate by under 2x, while a zip bomb inflates about
1000x: a member's memory stays within 100x its bytes on disk."""

RATIO_EXEMPT_BYTES = 16 * 2**20
"""Members this small skip the ratio check: a few MiB of well-compressing zeros
(a re-zipped model of zero-initialised weights) are harmless."""

MAX_LAYERS = 256
"""Most layer entries (wrapped and nested ones included) in a model file. Real
recurrent models hold tens; the cap bounds the build, whose cost grows with the square
of the layer count (``Sequential.add`` rebuilds the whole model after each layer): 256
layers load in a few seconds."""

_FLOAT_DTYPES = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8}
"""Safetensors dtypes a weight may have, with their item sizes in bytes."""


# ------------------------------------------------------------------ reading the zip
def _read_members(filepath: str | os.PathLike, caller: str) -> dict[str, bytes]:
    """The three members of a model file, checked against the manifest's digests."""
    path = Path(filepath)
    if not path.exists():
        raise CheckpointError(f"{caller}: no file at {str(path)!r}.")
    with open_regular_file(path, what=f"{caller}: model file") as handle:
        return _read_members_from(handle, str(path), caller)


def _read_members_from(handle: BinaryIO, source: str, caller: str) -> dict[str, bytes]:
    size = os.fstat(handle.fileno()).st_size
    if size == 0:
        raise CheckpointError(f"{caller}: {source!r} is empty (truncated write?).")
    try:
        with zipfile.ZipFile(handle) as archive:
            infos = _checked_entries(archive.infolist(), size, source, caller)
            members = {info.filename: _read_entry(archive, info) for info in infos}
    except CheckpointError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        OSError,
        ValueError,
        NotImplementedError,
        RuntimeError,
        OverflowError,
        zlib.error,
    ) as exc:
        raise CheckpointError(
            f"{caller}: {source!r} is not a readable rnnkit model file (truncated or "
            f"foreign: {_one_line(exc)})."
        ) from None
    digests = _manifest_digests(members["manifest.json"], source, caller)
    for name in ("config.json", "model.safetensors"):
        if hashlib.sha256(members[name]).hexdigest() != digests.get(name):
            raise CheckpointError(
                f"{caller}: checksum mismatch for {name} in {source!r}: the file is corrupt."
            )
    return members


def _checked_entries(
    infos: list[zipfile.ZipInfo], archive_size: int, source: str, caller: str
) -> list[zipfile.ZipInfo]:
    """Check the zip directory before reading anything: names, kinds and sizes."""
    names = [info.filename for info in infos]
    missing = sorted(set(MODEL_MEMBERS) - set(names))
    if missing:
        raise CheckpointError(
            f"{caller}: {source!r} is not an rnnkit model file (missing {missing})."
        )
    extra = sorted({name for name in names if name not in MODEL_MEMBERS})
    if extra:
        raise CheckpointError(
            f"{caller}: {source!r} is not an rnnkit model file: unexpected member(s) "
            f"{[name[:60] for name in extra[:5]]}; a model file holds only "
            f"{list(MODEL_MEMBERS)}."
        )
    if len(names) != len(MODEL_MEMBERS):
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise CheckpointError(
            f"{caller}: {source!r} holds member(s) {repeated} more than once; a model "
            "file holds each member once. Save the model again."
        )
    limits = {"config.json": MAX_CONFIG_BYTES, "manifest.json": MAX_MANIFEST_BYTES}
    for info in infos:
        problem = _entry_problem(info, archive_size, limits.get(info.filename))
        if problem:
            raise CheckpointError(
                f"{caller}: member {info.filename} of {source!r} is refused: {problem}."
            )
    return infos


def _entry_problem(info: zipfile.ZipInfo, archive_size: int, max_bytes: int | None) -> str:
    """Why a zip member may not be read (empty string when it may)."""
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the zip records no file type
    if info.is_dir() or kind not in (0, stat.S_IFREG):
        return "it is a folder, link or device entry, not a regular file"
    if info.flag_bits & 0x1:
        return "it is encrypted"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return f"compression method {info.compress_type} (only stored or deflated)"
    if info.compress_size > archive_size:
        return f"its directory entry claims {info.compress_size:,} bytes in a smaller file"
    if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
        return "its directory entry gives two sizes for an uncompressed member"
    if max_bytes is not None and info.file_size > max_bytes:
        return f"it declares {info.file_size:,} bytes, over the {max_bytes:,}-byte limit"
    ratio_limit = max(RATIO_EXEMPT_BYTES, MAX_COMPRESSION_RATIO * info.compress_size)
    if info.file_size > ratio_limit:
        return (
            f"it inflates {info.compress_size:,} bytes to {info.file_size:,}, over the "
            f"{MAX_COMPRESSION_RATIO}x limit (a zip bomb?)"
        )
    return ""


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Read one member, never more than its directory entry declares."""
    with archive.open(info) as member:
        data = member.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise zipfile.BadZipFile(
            f"member {info.filename} holds {len(data):,} bytes, its directory entry says "
            f"{info.file_size:,}"
        )
    return data


def _manifest_digests(data: bytes, source: str, caller: str) -> dict[str, str]:
    manifest = _parse_json(data, f"the manifest in {source!r}", caller)
    digests = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(digests, dict):
        raise CheckpointError(
            f"{caller}: the manifest in {source!r} is corrupt (no 'files' mapping)."
        )
    return digests


def _parse_json(data: bytes, what: str, caller: str) -> Any:
    """Parse JSON from a file, refusing what :data:`MAX_JSON_DEPTH` forbids."""
    try:
        value = json.loads(data.decode("utf-8"))
    except RecursionError:
        reason = f"nested deeper than {MAX_JSON_DEPTH} levels"
    except (UnicodeDecodeError, ValueError, MemoryError) as exc:
        reason = str(exc)
    else:
        if _json_depth(value) <= MAX_JSON_DEPTH:
            return value
        reason = f"nested deeper than {MAX_JSON_DEPTH} levels"
    raise CheckpointError(f"{caller}: {what} is corrupt ({reason}).")


def _json_depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion (stops past the limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= MAX_JSON_DEPTH:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


# ------------------------------------------------------------ the safetensors header
def _safetensors_header(
    head: bytes, total_size: int, source: str, caller: str
) -> dict[str, tuple[str, tuple[int, ...]]]:
    """``{name: (dtype, shape)}`` from the start of safetensors data, checked.

    ``head`` holds at least the 8-byte length and the JSON header when they fit in
    ``total_size``; nothing is allocated for the tensors themselves.
    """

    def corrupt(reason: str) -> CheckpointError:
        return CheckpointError(f"{caller}: {source} is not valid safetensors data ({reason}).")

    if total_size < 8 or len(head) < 8:
        raise corrupt("shorter than its 8-byte header length; truncated?")
    length = int.from_bytes(head[:8], "little")
    if length > MAX_SAFETENSORS_HEADER_BYTES:
        raise corrupt(
            f"a {length:,}-byte header, over the {MAX_SAFETENSORS_HEADER_BYTES:,}-byte limit"
        )
    if 8 + length > total_size or len(head) < 8 + length:
        raise corrupt(f"a {length:,}-byte header in {total_size:,} bytes; truncated?")
    header = _parse_json(head[8 : 8 + length], f"the safetensors header of {source}", caller)
    if not isinstance(header, dict):
        raise corrupt("the header is not a JSON object")
    data_size = total_size - 8 - length
    specs = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        specs[name] = _tensor_spec(name, entry, data_size, corrupt)
    return specs


def _tensor_spec(name: str, entry: Any, data_size: int, corrupt) -> tuple[str, tuple[int, ...]]:
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise corrupt(f"tensor {name!r} needs exactly dtype, shape and data_offsets")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in _FLOAT_DTYPES:
        raise corrupt(
            f"tensor {name!r} has dtype {dtype!r}; weights must be one of {sorted(_FLOAT_DTYPES)}"
        )
    if not _int_list(shape) or len(shape) > 8:
        raise corrupt(f"tensor {name!r} has shape {shape!r}, not a list of sizes >= 0")
    if not _int_list(offsets) or len(offsets) != 2 or not offsets[0] <= offsets[1] <= data_size:
        raise corrupt(f"tensor {name!r} has data_offsets {offsets!r} outside the data")
    if offsets[1] - offsets[0] != math.prod(shape) * _FLOAT_DTYPES[dtype]:
        raise corrupt(
            f"tensor {name!r} of shape {tuple(shape)} and dtype {dtype} takes "
            f"{offsets[1] - offsets[0]:,} bytes"
        )
    return dtype, tuple(shape)


def _int_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
    )


def _load_tensors(data: bytes, source: str, caller: str) -> dict[str, torch.Tensor]:
    try:
        return load_safetensors_bytes(data)
    except (SafetensorError, ValueError, RuntimeError, MemoryError) as exc:
        raise CheckpointError(
            f"{caller}: {source} is not valid safetensors data ({exc})."
        ) from None


def _check_weights_fit(
    model: Any,
    specs: dict[str, tuple[str, tuple[int, ...]]],
    source: str,
    caller: str,
    target: str = "this model",
) -> None:
    """Compare the model's parameter names and shapes with the file's, before loading.

    ``model`` may live on the meta device: only shapes are read.
    """
    own = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    missing = sorted(set(own) - set(specs))
    unexpected = sorted(set(specs) - set(own))
    wrong = sorted(k for k in set(own) & set(specs) if own[k] != specs[k][1])
    if not (missing or unexpected or wrong):
        return
    details = []
    if wrong:
        details.append(
            "shape mismatch for "
            + ", ".join(
                f"{_weight_label(model, k)} (file {specs[k][1]}, model {own[k]})" for k in wrong[:5]
            )
        )
    if missing:
        details.append(f"missing {[_weight_label(model, k) for k in missing[:5]]}")
    if unexpected:
        details.append(f"unexpected {unexpected[:5]}")
    raise CheckpointError(
        f"{caller}: the weights in {source} do not fit {target}: {'; '.join(details)}."
    )


def _weight_label(model: Any, key: str) -> str:
    """``stack.0.cell.weight_hh`` -> ``stack.0.cell.weight_hh of layer 'gru'``."""
    parts = key.split(".")
    stack = getattr(model, "stack", None)
    if len(parts) > 2 and parts[0] == "stack" and parts[1].isdigit() and stack is not None:
        index = int(parts[1])
        if index < len(stack):
            return f"{key} of layer {getattr(stack[index], 'name', index)!r}"
    return key


# ------------------------------------------------------------- checking the config
_CONFIG_KEYS = ("format", "format_version", "model", "build_input_shape", "compile_config")
_COMPILE_KEYS = ("optimizer", "loss", "metrics")
_ITEM_KEYS = ("class_name", "config", "module", "registered_name")
_WRAPPED_LAYER_KEYS = ("layer", "backward_layer")
_MAX_RANK = 8

_INT, _NUMBER, _BOOL = (int,), (int, float), (bool,)
_OPTIONAL_INT, _OPTIONAL_STR = (int, type(None)), (str, type(None))
_OBJECT_SPEC = (str, dict, type(None))  # a name, {"class_name", "config"} or null
_SHAPE = (list, type(None))
_VALUE_TYPES: dict[str, tuple[type, ...]] = {
    "name": _OPTIONAL_STR,
    "units": _INT,
    "n": _INT,
    "seed": _OPTIONAL_INT,
    "batch_size": _OPTIONAL_INT,
    "input_dim": _OPTIONAL_INT,
    "dropout": _NUMBER,
    "recurrent_dropout": _NUMBER,
    "rate": _NUMBER,
    "mask_value": _NUMBER,
    "activation": _OPTIONAL_STR,
    "recurrent_activation": _OPTIONAL_STR,
    "merge_mode": _OPTIONAL_STR,
    "dtype": (str, dict, type(None)),
    "input_shape": _SHAPE,
    "shape": _SHAPE,
    "batch_input_shape": _SHAPE,
    "target_shape": (list,),
    **{
        key: _BOOL
        for key in (
            "trainable",
            "use_bias",
            "return_sequences",
            "return_state",
            "go_backwards",
            "stateful",
            "unroll",
            "reset_after",
            "unit_forget_bias",
            "zero_output_for_mask",
        )
    },
}
"""JSON types of the layer settings rnnkit writes; suffixes ``_initializer``,
``_regularizer`` and ``_constraint`` take a name, a class config or null. Settings
not listed are checked by the layer's constructor."""


def _check_config(config: Any, source: str, caller: str) -> None:
    """Check the structure and every class name of a parsed config.json, before any
    object is built; value ranges are checked by the constructors themselves."""
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"{caller}: {source!r} is not an rnnkit model file.")

    def bad(what: str, fix: str = "") -> CheckpointError:
        return CheckpointError(f"{caller}: config.json in {source!r}: {what}.{fix}")

    unknown = sorted(set(config) - set(_CONFIG_KEYS))
    if unknown:
        raise bad(f"unknown key(s) {unknown}; expected some of {list(_CONFIG_KEYS)}")
    version = config.get("format_version", FORMAT_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise bad(f"format_version must be a positive integer. Received: {version!r}")
    if version > FORMAT_VERSION:
        raise bad(
            f"format_version {version} is newer than this rnnkit reads ({FORMAT_VERSION})",
            " Upgrade rnnkit to load it.",
        )
    model = config.get("model")
    if not isinstance(model, dict) or model.get("class_name") != "Sequential":
        raise bad("'model' must be {'class_name': 'Sequential', 'config': {...}}")
    _check_sequential(model.get("config"), "model", bad)
    shape = config.get("build_input_shape")
    if (
        not isinstance(shape, list)
        or not 2 <= len(shape) <= _MAX_RANK
        or not all(s is None or (_is_int(s) and s > 0) for s in shape)
    ):
        raise bad(
            "build_input_shape must be a list of 2 to 8 sizes (positive integers or null). "
            f"Received: {shape!r}"
        )
    compile_config = config.get("compile_config")
    if compile_config is not None:
        _check_compile_config(compile_config, bad)


def _check_sequential(config: Any, where: str, bad) -> int:
    """Check a Sequential config; return how many layer entries it holds (nested too)."""
    if not isinstance(config, dict) or set(config) - {"name", "layers"}:
        raise bad(
            f"{where}: a Sequential config holds 'name' and 'layers'. Received: {_short(config)}"
        )
    if not isinstance(config.get("name"), (str, type(None))):
        raise bad(f"{where}: 'name' must be a string. Received: {_short(config['name'])}")
    layers = config.get("layers")
    if not isinstance(layers, list):
        raise bad(f"{where}: 'layers' must be a list of layers. Received: {_short(layers)}")
    count = 0
    for index, item in enumerate(layers):
        count += _check_layer_item(item, f"{where}, layer {index}", bad)
        if count > MAX_LAYERS:
            raise bad(
                f"{where}: more than {MAX_LAYERS} layers (wrapped and nested ones included)",
                " rnnkit loads Sequential models of at most that many layers.",
            )
    return count


def _check_layer_item(item: Any, where: str, bad) -> int:
    """Check one layer entry; return how many layer entries it holds (itself included)."""
    if not isinstance(item, dict) or set(item) - set(_ITEM_KEYS):
        raise bad(
            f"{where}: a layer is {{'class_name': ..., 'config': {{...}}}}. "
            f"Received: {_short(item)}"
        )
    class_name, config = item.get("class_name"), item.get("config", {})
    if class_name == "Sequential":
        return 1 + _check_sequential(config, f"{where} (Sequential)", bad)
    classes = _layer_classes()
    if not isinstance(class_name, str) or class_name not in classes:
        raise bad(
            f"{where}: unknown layer class {class_name!r}. Expected one of "
            f"{sorted(classes)}.{suggest(class_name, classes)}"
        )
    if not isinstance(config, dict):
        raise bad(f"{where} ({class_name}): 'config' must be an object. Received: {_short(config)}")
    accepted = _accepted_arguments(classes[class_name])
    unknown = sorted(set(config) - set(accepted))
    if unknown:
        raise bad(
            f"{where} ({class_name}): unknown argument(s) {unknown}. {class_name} accepts "
            f"{sorted(accepted)}.{suggest(unknown[0], accepted)}"
        )
    for key, value in config.items():
        expected = _expected_types(key)
        # bool is an int in Python: a count given as true/false is refused too.
        is_bool_for_number = isinstance(value, bool) and bool not in expected
        if expected and (not isinstance(value, expected) or is_bool_for_number):
            names = " or ".join(sorted({_JSON_NAMES[t] for t in expected}))
            raise bad(
                f"{where} ({class_name}): `{key}` must be {names}. Received: {key}={_short(value)}"
            )
    count = 1
    for key in _WRAPPED_LAYER_KEYS:
        if config.get(key) is not None:
            count += _check_layer_item(config[key], f"{where} ({class_name}).{key}", bad)
    return count


_JSON_NAMES = {
    int: "an integer",
    float: "a number",
    bool: "true or false",
    str: "a string",
    dict: "an object",
    list: "a list",
    type(None): "null",
}


def _expected_types(key: str) -> tuple[type, ...]:
    if key.endswith(("_initializer", "_regularizer", "_constraint")):
        return _OBJECT_SPEC
    return _VALUE_TYPES.get(key, ())


def _check_compile_config(config: Any, bad) -> None:
    if not isinstance(config, dict) or set(config) - set(_COMPILE_KEYS):
        raise bad(f"compile_config holds {list(_COMPILE_KEYS)}. Received: {_short(config)}")
    optimizer = config.get("optimizer")
    if not isinstance(optimizer, (str, dict)):
        raise bad(
            f"compile_config: 'optimizer' must be a name or a config object. "
            f"Received: {_short(optimizer)}"
        )
    if not isinstance(config.get("loss"), (str, type(None))):
        raise bad(f"compile_config: 'loss' must be a name. Received: {_short(config['loss'])}")
    metrics = config.get("metrics")
    if metrics is not None and not (
        isinstance(metrics, list) and all(isinstance(m, str) for m in metrics)
    ):
        raise bad(f"compile_config: 'metrics' must be a list of names. Received: {_short(metrics)}")


def _accepted_arguments(cls: type) -> set[str]:
    """Keyword arguments ``cls(...)`` accepts, following ``**kwargs`` up to :class:`Layer`."""
    accepted: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        parameters = inspect.signature(init).parameters.values()
        accepted |= {
            p.name
            for p in parameters
            if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }
        if klass is Layer or not any(p.kind is p.VAR_KEYWORD for p in parameters):
            break
    return accepted


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value: Any, limit: int = 80) -> str:
    """``repr`` cut to ``limit`` characters, for messages about hostile values."""
    text = repr(value) if not isinstance(value, (dict, list)) else _shallow_repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shallow_repr(value: dict | list) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: ..." for k in list(value)[:6]) + "}"
    return f"[{len(value)} item(s)]"


# ----------------------------------------------------------------------- loading
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
    """Replace the meta model's weights by the file's tensors (no initialiser runs, no
    second copy: the loaded tensors become the parameters, in the model's dtypes)."""
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


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, RecursionError):
        text = "nested too deeply"
    return text[:500]


def _state_specs(state: dict[str, torch.Tensor]) -> dict[str, tuple[str, tuple[int, ...]]]:
    """``{name: (dtype, shape)}`` of loaded tensors, as :func:`_safetensors_header` gives."""
    return {name: (str(t.dtype), tuple(t.shape)) for name, t in state.items()}


def _assign_state(model: Any, state: dict[str, torch.Tensor], source: str, caller: str) -> None:
    _check_weights_fit(model, _state_specs(state), source, caller)
    model.load_state_dict(state, strict=True)


def save_weights(model: Any, filepath: str | os.PathLike, *, overwrite: bool = True) -> None:
    """Write the model's weights to a safetensors file, atomically (Keras HDF5 for
    a name ending in ``.weights.h5``; another ``.h5`` name is an error)."""
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
