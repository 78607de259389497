"""Keras model configs -> rnnkit's own config, so rnnkit's checked loader builds them.

A Keras config (``config.json`` of a ``.keras`` file, ``model_config`` of a legacy
``.h5`` file) is translated into the config rnnkit writes itself, then checked and
built by the same code as rnnkit's own files (allow-listed classes, accepted
arguments, JSON types, a model built on the meta device first). The translation:

- class names: only :data:`KERAS_LAYERS` (a layer rnnkit lacks is one line naming
  it and that list);
- ``module``, ``registered_name``, ``shared_object_id`` and ``build_config`` are
  bookkeeping and dropped;
- a ``DTypePolicy`` becomes its name (``float32`` is rnnkit's default and dropped;
  other policies are refused by the layers with the policy named);
- initializer, regularizer and constraint objects keep ``class_name`` and
  ``config`` (their null settings, such as Keras 3's ``input_axes``, are dropped);
- ``InputLayer``'s ``batch_shape`` (Keras 3) or ``batch_input_shape`` (Keras 2)
  becomes ``shape`` and ``batch_size``;
- settings rnnkit ignores safely (:data:`IGNORED_SETTINGS`) are dropped when they
  hold the value that changes nothing; with any other value they are an error that
  names the setting, as is any other setting rnnkit's layer does not take;
- ``compile_config`` / ``training_config``: the optimizer (by class and settings),
  a loss and metrics given by name.
"""

from __future__ import annotations

from typing import Any

from rnnkit.errors import CheckpointError
from rnnkit.layers.registry import get_layer_class
from rnnkit.layers.registry import registered_layer_names
from rnnkit.models.config_checks import _accepted_arguments
from rnnkit.models.config_checks import _short
from rnnkit.models.model_archive import FORMAT
from rnnkit.models.model_archive import FORMAT_VERSION

KERAS_LAYERS = (
    "Activation",
    "Bidirectional",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRU",
    "InputLayer",
    "LSTM",
    "Masking",
    "RepeatVector",
    "Reshape",
    "SimpleRNN",
    "TimeDistributed",
)
"""Keras layer classes rnnkit reads and writes (``Embedding`` once rnnkit has it)."""

IGNORED_SETTINGS: dict[str, tuple[Any, ...]] = {
    "sparse": (False,),
    "ragged": (False,),
    "optional": (False,),
    "input_tensor": (None,),
    "quantization_config": (None,),
    "lora_rank": (None,),
    "lora_alpha": (None,),
    "time_major": (False,),
    "implementation": (0, 1, 2),
    "input_length": (),
    "activity_regularizer": (None,),
}
"""Keras settings rnnkit drops, with the values for which dropping changes nothing.

``sparse``/``ragged``/``optional`` (InputLayer), ``quantization_config`` and LoRA
(Dense) are Keras 3 features left off; ``time_major`` (Keras 2 RNNs) must be false;
``implementation`` (Keras 2 RNNs) only chose how the same equations were computed;
``input_length`` (Keras 2 Embedding) only declared the sequence length (any value);
``activity_regularizer`` must be null where rnnkit's layer has none. A setting the
rnnkit layer accepts is always passed on."""

_BOOKKEEPING = ("module", "registered_name", "shared_object_id", "build_config")
_OBJECT_SUFFIXES = ("_initializer", "_regularizer", "_constraint")
_COMPILE_IGNORED: dict[str, tuple[Any, ...]] = {
    "loss_weights": (None,),
    "weighted_metrics": (None, []),
    "run_eagerly": (False,),
    "steps_per_execution": (1,),
    "jit_compile": (False, True, "auto"),
    "auto_scale_loss": (True,),
}


def supported_layers() -> list[str]:
    """The Keras layers this rnnkit reads: :data:`KERAS_LAYERS` that rnnkit has."""
    have = set(registered_layer_names())
    return [name for name in KERAS_LAYERS if name in have]


class KerasConfigReader:
    """Translates one file's Keras config; ``source`` and ``caller`` name it in errors."""

    def __init__(self, source: str, caller: str):
        self.source = source
        self.caller = caller
        self.supported = supported_layers()

    def error(self, what: str) -> CheckpointError:
        """Return a `CheckpointError` that names the caller and the file, then says `what`."""
        return CheckpointError(f"{self.caller}: {self.source!r}: {what}")

    # ------------------------------------------------------------------ models
    def rnnkit_config(self, model: Any, compile_config: Any = None) -> dict[str, Any]:
        """Return rnnkit's whole-file config for a Keras ``Sequential`` (and compile) config."""
        if not isinstance(model, dict) or model.get("class_name") != "Sequential":
            kind = model.get("class_name") if isinstance(model, dict) else _short(model)
            raise self.error(
                f"rnnkit reads Keras Sequential models; this file holds a {kind} model. "
                "Rebuild it as keras.Sequential([...]) and save it again."
            )
        config = model.get("config")
        if not isinstance(config, dict):
            raise self.error(f"the model config must be an object. Received: {_short(config)}")
        sequential = self.sequential(config, "model")
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "model": {"class_name": "Sequential", "config": sequential},
            "build_input_shape": self.input_shape(model, sequential),
            "compile_config": self.compile_settings(compile_config),
        }

    def sequential(self, config: dict[str, Any], where: str) -> dict[str, Any]:
        """Translate a Keras `Sequential` config (at `where` in the file) into rnnkit's."""
        self._drop_known(config, ("trainable",), where, {"trainable": (True,)})
        layers = config.get("layers")
        if not isinstance(layers, list):
            raise self.error(f"{where}: 'layers' must be a list. Received: {_short(layers)}")
        return {
            "name": config.get("name"),
            "layers": [self.layer(item, f"{where}, layer {i}") for i, item in enumerate(layers)],
        }

    def input_shape(self, model: dict[str, Any], sequential: dict[str, Any]) -> list[Any]:
        """The batch input shape the model was built for, wherever the file records it."""
        config = model["config"]
        candidates = [
            (model.get("build_config") or {}).get("input_shape")
            if isinstance(model.get("build_config"), dict)
            else None,
            config.get("build_input_shape"),
        ]
        first = sequential["layers"][0] if sequential["layers"] else None
        if first is not None:
            settings = first["config"]
            if "batch_input_shape" in settings:
                candidates.append(settings["batch_input_shape"])
            elif first["class_name"] == "InputLayer":
                candidates.append([settings.get("batch_size"), *settings["shape"]])
        for shape in candidates:
            if isinstance(shape, list) and len(shape) >= 2:
                return shape
        raise self.error(
            "the model records no input shape (it was saved unbuilt). Build it in Keras "
            "(model.build(...) or keras.Input(...)) and save it again."
        )

    # ------------------------------------------------------------------ layers
    def layer(self, item: Any, where: str) -> dict[str, Any]:
        """Return rnnkit's ``{"class_name", "config"}`` for one Keras layer entry."""
        if not isinstance(item, dict) or not isinstance(item.get("config"), dict):
            raise self.error(
                f"{where}: a layer is {{'class_name': ..., 'config': {{...}}}}. "
                f"Received: {_short(item)}"
            )
        class_name, config = item.get("class_name"), dict(item["config"])
        if class_name == "Sequential":
            return {"class_name": "Sequential", "config": self.sequential(config, where)}
        if class_name not in self.supported:
            name = config.get("name")
            raise self.error(
                f"layer {name!r} is a Keras {class_name} layer, which rnnkit does not have. "
                f"rnnkit reads these Keras layers: {', '.join(self.supported)}."
            )
        where = f"{where} ({class_name} {config.get('name')!r})"
        if class_name == "InputLayer":
            config = self._input_layer(config, where)
        for key in [k for k in config if k in _BOOKKEEPING]:
            del config[key]
        if "dtype" in config:
            config["dtype"] = _dtype_name(config["dtype"])
            if config["dtype"] in (None, "float32"):
                del config["dtype"]
        for key, value in list(config.items()):
            if key.endswith(_OBJECT_SUFFIXES) and isinstance(value, dict):
                config[key] = _plain_object(value)
            elif key in ("layer", "backward_layer") and isinstance(value, dict):
                config[key] = self.layer(value, f"{where}.{key}")
        accepted = _accepted_arguments(get_layer_class(class_name, caller=self.caller))
        ignored = [key for key in IGNORED_SETTINGS if key not in accepted]
        self._drop_known(config, ignored, where, IGNORED_SETTINGS)
        return {"class_name": class_name, "config": config}

    def _input_layer(self, config: dict[str, Any], where: str) -> dict[str, Any]:
        shape = config.pop("batch_shape", None)
        if shape is None:
            shape = config.pop("batch_input_shape", None)
        if shape is not None:
            if not isinstance(shape, list) or len(shape) < 2:
                raise self.error(
                    f"{where}: batch_shape must list the batch and sample sizes. "
                    f"Received: {_short(shape)}"
                )
            config["shape"], config["batch_size"] = shape[1:], shape[0]
        return config

    def _drop_known(
        self,
        config: dict[str, Any],
        keys: Any,
        where: str,
        harmless: dict[str, tuple[Any, ...]],
    ) -> None:
        """Drop settings rnnkit ignores, refusing values that would change behaviour."""
        for key in [k for k in keys if k in config]:
            value = config.pop(key)
            allowed = harmless.get(key, ())
            if allowed and not any(value == a and type(value) is type(a) for a in allowed):
                raise self.error(
                    f"{where}: Keras setting {key}={_short(value)} changes behaviour rnnkit "
                    f"does not have (rnnkit supports only {key}={allowed[0]!r}). Change it in "
                    "Keras and save the model again."
                )

    # ----------------------------------------------------------------- compile
    def compile_settings(self, config: Any) -> dict[str, Any] | None:
        """Return rnnkit's compile settings from Keras' ``compile_config``/``training_config``."""
        if config is None:
            return None
        if not isinstance(config, dict):
            raise self.error(f"the compile settings must be an object. Received: {_short(config)}")
        config = dict(config)
        optimizer = config.pop("optimizer", config.pop("optimizer_config", None))
        loss, metrics = config.pop("loss", None), config.pop("metrics", None)
        fix = " Pass compile=False to load the model uncompiled."
        self._drop_known(config, list(config), "compile settings", _COMPILE_IGNORED)
        if optimizer is None:
            return None  # saved uncompiled
        if isinstance(optimizer, dict):
            optimizer = _plain_object(optimizer, drop_nulls=False)
        if not isinstance(loss, (str, type(None))):
            what = f"a {loss.get('class_name')} object" if isinstance(loss, dict) else _short(loss)
            raise self.error(f"rnnkit reads a loss given by name; this file has {what}.{fix}")
        if metrics is not None and not (
            isinstance(metrics, list) and all(isinstance(m, str) for m in metrics)
        ):
            raise self.error(
                f"rnnkit reads metrics given by name; this file has {_short(metrics)}.{fix}"
            )
        return {"optimizer": optimizer, "loss": loss, "metrics": metrics}


def _dtype_name(dtype: Any) -> Any:
    """``"float32"`` for a Keras 3 ``DTypePolicy`` object or a plain dtype name."""
    if isinstance(dtype, dict) and isinstance(dtype.get("config"), dict):
        return dtype["config"].get("name", dtype)
    return dtype


def _plain_object(spec: dict[str, Any], *, drop_nulls: bool = True) -> dict[str, Any]:
    """``{"class_name", "config"}`` of a Keras object, without Keras' bookkeeping."""
    config = spec.get("config", {})
    if isinstance(config, dict) and drop_nulls:
        config = {k: v for k, v in config.items() if v is not None}
    return {"class_name": spec.get("class_name"), "config": config}
