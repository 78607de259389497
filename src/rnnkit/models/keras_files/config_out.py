"""rnnkit models -> Keras 3 configs (``config.json`` and legacy ``model_config``).

rnnkit's layer configs already use Keras' argument names; writing them for Keras
adds Keras' bookkeeping (``module``, ``registered_name``), drops the arguments only
rnnkit has (``input_shape`` and friends: the shape goes into an ``InputLayer``), and
refuses layers Keras could not rebuild (custom layers, ``RNN(cell)``).
"""

from __future__ import annotations

from typing import Any

from rnnkit.errors import RnnkitValueError
from rnnkit.models.keras_files.config import supported_layers

_RNNKIT_ONLY = ("input_shape", "batch_input_shape", "batch_size", "input_dim")
"""Arguments rnnkit layers accept that Keras 3 layers do not keep in their configs."""

_OBJECT_MODULES = {
    "_initializer": "keras.initializers",
    "_regularizer": "keras.regularizers",
    "_constraint": "keras.constraints",
}


def keras_model_config(model: Any, caller: str) -> dict[str, Any]:
    """Keras 3's ``{"module", "class_name", "config", ...}`` for a built ``Sequential``."""
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": _sequential(model, caller, with_input=True),
        "registered_name": None,
        "build_config": {"input_shape": list(model.built_input_shape)},
    }


def _sequential(model: Any, caller: str, *, with_input: bool) -> dict[str, Any]:
    from rnnkit.models.sequential import Sequential

    layers = []
    items = model.get_config()["layers"]
    for layer, item in zip(model.stack, items, strict=True):
        if isinstance(layer, Sequential):
            layers.append(
                {
                    "module": "keras",
                    "class_name": "Sequential",
                    "config": _sequential(layer, caller, with_input=False),
                    "registered_name": None,
                }
            )
        else:
            layers.append(_layer(item, caller))
    has_input = bool(layers) and layers[0]["class_name"] == "InputLayer"
    if with_input and not has_input:
        shape = list(model.built_input_shape)
        layers.insert(0, _input_layer(shape, f"{model.name}_input"))
    return {"name": model.name, "trainable": True, "layers": layers}


def _input_layer(batch_shape: list[Any], name: str) -> dict[str, Any]:
    return {
        "module": "keras.layers",
        "class_name": "InputLayer",
        "config": {"batch_shape": batch_shape, "dtype": "float32", "sparse": False, "name": name},
        "registered_name": None,
    }


def _layer(item: dict[str, Any], caller: str) -> dict[str, Any]:
    class_name, config = item["class_name"], dict(item["config"])
    if class_name not in supported_layers():
        raise RnnkitValueError(
            f"{caller}: layer {config.get('name')!r} is an rnnkit {class_name}, which Keras "
            f"files cannot hold. Keras files hold these layers: {', '.join(supported_layers())}. "
            "Save it in rnnkit's own format instead: model.save('model.keras')."
        )
    if class_name == "InputLayer":
        shape = [config.get("batch_size"), *config["shape"]]
        return _input_layer(shape, config.get("name") or "input_layer")
    for key in _RNNKIT_ONLY:
        if not (key == "input_dim" and class_name == "Embedding"):  # Embedding's vocabulary
            config.pop(key, None)
    for key, value in list(config.items()):
        if key in ("layer", "backward_layer") and isinstance(value, dict):
            config[key] = _layer(value, caller)
        module = next((m for s, m in _OBJECT_MODULES.items() if key.endswith(s)), None)
        if module and isinstance(value, dict):
            config[key] = {**value, "module": module, "registered_name": None}
    return {
        "module": "keras.layers",
        "class_name": class_name,
        "config": config,
        "registered_name": None,
    }


def keras_compile_config(model: Any) -> dict[str, Any] | None:
    """Keras 3's ``compile_config`` for a compiled model (``None`` if uncompiled)."""
    settings = getattr(model, "_compile_config", None) if model.compiled else None
    if not settings:
        return None
    optimizer = settings.get("optimizer")
    if isinstance(optimizer, dict):
        optimizer = {**optimizer, "module": "keras.optimizers", "registered_name": None}
    return {
        "optimizer": optimizer,
        "loss": settings.get("loss"),
        "loss_weights": None,
        "metrics": settings.get("metrics"),
        "weighted_metrics": None,
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": False,
    }
