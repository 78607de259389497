"""Checks of a saved model's config.json before anything is built.

Known keys, allow-listed class names, arguments the classes accept, and the JSON
types of common settings. Each problem is a one-line CheckpointError.
"""

from __future__ import annotations

import inspect
from typing import Any

from rnnkit._validation import suggest
from rnnkit.errors import CheckpointError
from rnnkit.layers.base import Layer
from rnnkit.layers.registry import registered_classes
from rnnkit.models.model_archive import FORMAT
from rnnkit.models.model_archive import FORMAT_VERSION
from rnnkit.models.model_archive import MAX_LAYERS

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
    """Check the structure and every class name of a parsed config.json.

    This runs before any object is built; value ranges are checked by the
    constructors themselves.
    """
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
    classes = registered_classes()
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
