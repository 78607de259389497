"""``Sequential``: a linear stack of layers with Keras' model API."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.layers.base import Layer
from rnnkit.layers.base import unique_name
from rnnkit.layers.core import InputLayer
from rnnkit.layers.registry import register_builtin
from rnnkit.models.saving import deserialize_layer
from rnnkit.models.saving import load_weights
from rnnkit.models.saving import save_model
from rnnkit.models.saving import save_weights
from rnnkit.models.saving import serialize_layer
from rnnkit.models.summary import print_summary
from rnnkit.models.training import Trainer
from rnnkit.models.training import default_device


class Sequential(Trainer, nn.Module):
    """A plain stack of layers, each with one input and one output.

    It is a ``torch.nn.Module``: drop it into PyTorch code, ``torch.compile`` it or
    export it. Masks (from ``Masking``) flow from layer to layer as in Keras.

    Args:
        layers: Optional list of layers to add.
        name: Model name. Defaults to `"sequential"`.

    Example:
        >>> import numpy as np
        >>> from rnnkit.layers import LSTM, Dense
        >>> model = Sequential([LSTM(8, input_shape=(10, 1)), Dense(1)])
        >>> model.compile(optimizer="adam", loss="mse")
        >>> history = model.fit(np.ones((16, 10, 1)), np.ones((16, 1)), epochs=2, verbose=0)
        >>> len(history.history["loss"])
        2
        >>> model.predict(np.ones((3, 10, 1)), verbose=0).shape
        (3, 1)
    """

    def __init__(
        self, layers: list[Any] | None = None, trainable: bool = True, name: str | None = None
    ):
        nn.Module.__init__(self)
        self.name = name or unique_name("sequential")
        self.stack = nn.ModuleList()
        self.built = False
        self.built_input_shape: tuple[int | None, ...] | None = None
        self.declared_input_shape: tuple[int | None, ...] | None = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._device: torch.device | None = None
        self.train(False)
        for layer in layers or []:
            self.add(layer)

    # --------------------------------------------------------------- structure
    @property
    def layers(self) -> list[nn.Module]:
        """The layers, without the input layer (as Keras lists them)."""
        return [layer for layer in self.stack if not isinstance(layer, InputLayer)]

    def add(self, layer: Any) -> None:
        """Append a layer (an rnnkit layer or any ``torch.nn.Module``).

        Raises:
            TypeError: if ``layer`` is not a module.
        """
        if not isinstance(layer, nn.Module):
            raise RnnkitTypeError(
                f"Sequential.add(): expected a layer such as LSTM(32) or Dense(1). "
                f"Received: {layer!r} of type {type(layer).__name__}."
            )
        if isinstance(layer, Sequential) and layer is self:
            raise RnnkitValueError("Sequential.add(): a model cannot contain itself.")
        names = {getattr(existing, "name", None) for existing in self.stack}
        if getattr(layer, "name", None) in names:
            raise RnnkitValueError(
                f"Sequential.add(): a layer named {layer.name!r} is already in the model. "
                "Layer names must be unique; pass name=... to rename it."
            )
        if not self.stack and isinstance(layer, Layer) and layer.declared_input_shape is not None:
            self.declared_input_shape = layer.declared_input_shape
        self.stack.append(layer)
        if self.built or (self.declared_input_shape is not None and len(self.stack) == 1):
            self.built = False
            if self.declared_input_shape is not None:
                self.build((None, *self.declared_input_shape))

    def pop(self) -> nn.Module:
        """Remove and return the last layer."""
        if not self.layers:
            raise RnnkitValueError("Sequential.pop(): there are no layers to remove.")
        layer = self.stack[-1]
        del self.stack[-1]
        return layer

    def get_layer(self, name: str | None = None, index: int | None = None) -> nn.Module:
        """Return a layer by name or by index."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if getattr(layer, "name", None) == name:
                return layer
        available = [getattr(layer, "name", "?") for layer in self.layers]
        raise RnnkitValueError(f"get_layer(): no layer named {name!r}. Layers: {available}.")

    # ------------------------------------------------------------------ build
    def build(self, input_shape: Any = None) -> None:
        """Create every layer's weights for inputs of ``input_shape`` (batch axis first).

        Example:
            >>> from rnnkit.layers import GRU
            >>> model = Sequential([GRU(4)])
            >>> model.build((None, 12, 3))
            >>> model.count_params()
            108
        """
        if input_shape is None:
            if self.declared_input_shape is None:
                raise RnnkitValueError(
                    "build(): the input shape is unknown. Pass it, e.g. "
                    "model.build((None, timesteps, features)), or give the first layer "
                    "input_shape=(timesteps, features)."
                )
            input_shape = (None, *self.declared_input_shape)
        shape = tuple(None if s is None else int(s) for s in input_shape)
        self.built_input_shape = shape
        self._output_shapes = []
        current: Any = shape
        for layer in self.stack:
            if isinstance(layer, Layer):
                layer.ensure_built(current)
                current = layer.compute_output_shape(current)
                if isinstance(current, list):  # return_state: Sequential keeps the output
                    current = current[0]
            else:
                current = _probe_shape(layer, current)
            self._output_shapes.append(tuple(current) if current is not None else None)
        self.built = True
        self.to(self.device)

    @property
    def input_features(self) -> int | None:
        """Features per timestep the model was built for."""
        return None if not self.built_input_shape else self.built_input_shape[-1]

    @property
    def input_shape(self):
        """Keras-style input shape with ``None`` for the batch axis."""
        return self.built_input_shape

    @property
    def output_shape(self):
        """Keras-style output shape with ``None`` for the batch axis."""
        return self._output_shapes[-1] if self.built and self._output_shapes else None

    @property
    def device(self) -> torch.device:
        """Where the model runs: CUDA when available, else CPU (``model.to`` overrides)."""
        return self._device or default_device()

    def to(self, *args: Any, **kwargs: Any):
        """Move the model like `torch.nn.Module.to`, and remember the device for new inputs."""
        result = super().to(*args, **kwargs)
        first = next(iter(self.parameters()), None)
        if first is not None:
            self._device = first.device
        elif args and isinstance(args[0], (str, torch.device)):
            self._device = torch.device(args[0])
        return result

    # ---------------------------------------------------------------- forward
    def forward(self, inputs: Any, training: bool | None = None, mask: Any = None) -> torch.Tensor:
        """Run the layers in order, passing masks along."""
        x = torch.as_tensor(inputs) if not isinstance(inputs, torch.Tensor) else inputs
        if not self.built:
            self.build((None, *x.shape[1:]))
        device = self.device
        if x.device != device:  # like Keras: inputs go where the model's weights are
            x = x.to(device)
            mask = None if not isinstance(mask, torch.Tensor) else mask.to(device)
        given = x
        for layer in self.stack:
            if isinstance(layer, Layer):
                out = layer(x, mask=mask, training=training)
                mask = layer.compute_mask(x, mask)
            else:
                out = layer(x)
                mask = None
            if isinstance(out, (list, tuple)):
                out = out[0]
            x = out
        if mask is not None and isinstance(x, torch.Tensor):
            if x is given:  # e.g. Masking alone passed the input through: not the caller's tensor
                x = x.view_as(x)
            # as Keras: the loss and metrics skip masked timesteps (a dynamic tensor attribute)
            x._keras_mask = mask  # type: ignore[attr-defined]
        return x

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any):
        """Run the model; NumPy inputs become float32 tensors on the model's device first."""
        if isinstance(inputs, np.ndarray):
            inputs = torch.as_tensor(inputs, dtype=torch.float32, device=self.device)
        return super().__call__(inputs, *args, **kwargs)

    # ---------------------------------------------------------------- weights
    def get_weights(self) -> list[np.ndarray]:
        """All weights, layer by layer, in Keras layouts."""
        weights: list[np.ndarray] = []
        for layer in self.layers:
            if isinstance(layer, Layer):
                weights.extend(layer.get_weights())
            else:
                weights.extend(p.detach().cpu().numpy().copy() for p in layer.parameters())
        return weights

    def set_weights(self, weights: list[Any]) -> None:
        """Set all weights from :meth:`get_weights`-ordered arrays."""
        if not self.built:
            raise RnnkitValueError(
                "set_weights(): build the model first (model.build(input_shape) or one fit)."
            )
        weights = list(weights)
        needed = sum(
            len(layer.get_weights()) if isinstance(layer, Layer) else len(list(layer.parameters()))
            for layer in self.layers
        )
        if len(weights) != needed:
            raise RnnkitValueError(
                f"set_weights(): the model has {needed} weight arrays. Received {len(weights)}."
            )
        for layer in self.layers:
            if isinstance(layer, Layer):
                count = len(layer.get_weights())
                layer.set_weights(weights[:count])
            else:
                params = list(layer.parameters())
                count = len(params)
                with torch.no_grad():
                    for p, w in zip(params, weights[:count], strict=True):
                        p.copy_(torch.as_tensor(w))
            weights = weights[count:]

    def count_params(self) -> int:
        """Number of scalars in all weights."""
        return sum(p.numel() for p in self.parameters())

    def summary(
        self,
        line_length: int | None = None,
        positions: Any = None,
        print_fn: Any = None,
        expand_nested: bool = False,
        show_trainable: bool = False,
        layer_range: Any = None,
    ) -> None:
        """Print a Keras-style table: layer, output shape, parameters, kernel.

        Args:
            line_length: Total width of the table. Defaults to a width that fits the
                text.
            positions: End position of each column, relative (all <= 1, scaled by
                `line_length`) or absolute. Defaults to Keras' `[0.45, 0.80, 1.0]`
                (plus the kernel and trainable columns when shown).
            print_fn: Called with each line. Defaults to `print`.
            expand_nested: List the layers of nested models under them. Defaults to
                `False`.
            show_trainable: Add a column saying whether each layer is trainable.
                Defaults to `False`.
            layer_range: Two layer names (or regular expressions, matched with
                `re.match`): print from the first match of the first to the last
                match of the second, both inclusive. Defaults to all layers.

        Example:
            >>> from rnnkit.layers import Dense, LSTM
            >>> model = Sequential([LSTM(4, input_shape=(5, 2)), Dense(1, name="out")])
            >>> model.summary(layer_range=["out", "out"], print_fn=lambda line: None)
        """
        print_summary(
            self,
            print_fn=print_fn,
            show_trainable=show_trainable,
            line_length=line_length,
            positions=positions,
            expand_nested=expand_nested,
            layer_range=layer_range,
        )

    # ----------------------------------------------------------------- saving
    def save(self, filepath: str, overwrite: bool = True, format: str | None = None) -> None:
        """Save architecture, weights and compile settings to one file (no pickle).

        The file is a zip with ``config.json``, ``model.safetensors`` and a manifest of
        SHA-256 digests, written atomically. Load it with
        :func:`rnnkit.models.load_model`. Keras files: ``format="keras"`` writes a
        Keras 3 ``.keras`` file, a name ending in ``.h5`` a legacy Keras HDF5 model
        (see :mod:`rnnkit.models.keras_files`).
        """
        save_model(self, filepath, overwrite=overwrite, format=format)

    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        """Write the weights to a safetensors file (``*.weights.h5``: Keras HDF5), atomically."""
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: str, skip_mismatch: bool = False) -> None:
        """Load weights written by :meth:`save_weights` (or a saved model file).

        Every weight must match the model's shapes; ``skip_mismatch=True`` (Keras'
        partial loading) is refused with an error rather than silently ignored.
        """
        if skip_mismatch:
            raise RnnkitValueError(
                "load_weights(): skip_mismatch=True is not supported: rnnkit loads every "
                "weight or none. Build the model with the saved shapes, or copy the "
                "matching arrays with layer.set_weights(...)."
            )
        load_weights(self, filepath)

    def export(
        self,
        filepath: str,
        format: str = "onnx",
        verbose: bool | None = None,
        input_signature: Any = None,
    ) -> None:
        """Export the model for inference; rnnkit writes ``format="onnx"``.

        The ONNX graph has a dynamic batch axis and the model's fixed number of
        timesteps; see :mod:`rnnkit.models.export_onnx`. Keras' other formats
        (``"tf_saved_model"``, ``"openvino"``, ``"litert"``, ``"torch"``) raise an
        error saying what to do instead. Unlike Keras, the default format is
        ``"onnx"``, the one rnnkit can write.

        Args:
            filepath: Where to write the file.
            format: ``"onnx"``. Defaults to `"onnx"`.
            verbose: Print where the file went. Defaults to `None` (silent).
            input_signature: Optional ``(batch, timesteps, features)`` to export
                for, when the model was built without fixed timesteps.

        Raises:
            RnnkitValueError: An unsupported format, an unbuilt model or a stateful layer.
            ImportError: ``onnx`` is missing (``pip install rnnkit[onnx]``).
        """
        from rnnkit.models.export_onnx import check_format
        from rnnkit.models.export_onnx import export_onnx

        check_format(format)
        export_onnx(self, filepath, input_signature=input_signature, verbose=verbose)

    def get_config(self) -> dict[str, Any]:
        """Architecture as JSON-serialisable data."""
        return {"name": self.name, "layers": [serialize_layer(layer) for layer in self.stack]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        """Rebuild a model from :meth:`get_config`."""
        return cls([deserialize_layer(item) for item in config["layers"]], name=config.get("name"))

    def reset_states(self) -> None:
        """Reset the states of every stateful layer."""
        for layer in self.modules():
            if layer is not self and hasattr(layer, "reset_states"):
                # nn.Module.__getattr__ types this lookup as Tensor | Module
                layer.reset_states()  # type: ignore[operator]

    def extra_repr(self) -> str:
        """The model's name, for ``repr``."""
        return f"name={self.name!r}"


def _probe_shape(module: nn.Module, shape: Any) -> Any:
    """Output shape of a plain torch module, found by running it on zeros."""
    concrete = tuple(1 if s is None else s for s in shape)
    with torch.no_grad():
        out = module(torch.zeros(concrete))
    if isinstance(out, (list, tuple)):
        out = out[0]
    return (shape[0], *out.shape[1:])


register_builtin(Sequential)  # so that saved nested models and load_model find it by name
