"""The layer base class: a ``torch.nn.Module`` with Keras' lazy build and naming.

A layer creates its weights in :meth:`Layer.build` from the shape of the first
input it sees (or from ``input_shape=``), exposes them in Keras layouts through
:meth:`Layer.get_weights`/:meth:`Layer.set_weights`, and round-trips its
constructor arguments through :meth:`Layer.get_config`.

Layers start in inference mode (``layer.training is False``), like a Keras layer
called directly: dropout acts only under ``model.fit`` or after ``layer.train()``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import torch
from torch import nn

from rnnkit._naming import to_snake_case
from rnnkit._tensors import resolve_dtype
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError

_NAME_COUNTERS: defaultdict[str, int] = defaultdict(int)

Shape = tuple[int | None, ...]


def reset_name_counters() -> None:
    """Restart automatic layer names (``lstm``, ``lstm_1``, ...) from zero."""
    _NAME_COUNTERS.clear()


def unique_name(base: str) -> str:
    """Return ``base``, then ``base_1``, ``base_2``, ... on later calls."""
    count = _NAME_COUNTERS[base]
    _NAME_COUNTERS[base] += 1
    return base if count == 0 else f"{base}_{count}"


class Layer(nn.Module):
    """Base class of every rnnkit layer.

    Args:
        name: Layer name; defaults to the snake-cased class name with a counter.
        trainable: Whether the weights are updated by ``fit``. Defaults to `True`.
        dtype: Only ``"float32"``/``torch.float32`` (or float64 for tests).
        input_shape: Shape of one sample (no batch axis), e.g. ``(timesteps, features)``;
            lets a ``Sequential`` model build before it sees data.
        input_dim: Shorthand for ``input_shape=(input_dim,)``.
        batch_size: Fixed batch size (needed by ``stateful=True`` layers).
        batch_input_shape: ``(batch_size, *input_shape)``.
    """

    supports_masking = False

    def __init__(
        self,
        *,
        name: str | None = None,
        trainable: bool = True,
        dtype: Any = None,
        input_shape: Shape | None = None,
        input_dim: int | None = None,
        batch_size: int | None = None,
        batch_input_shape: Shape | None = None,
        **kwargs: Any,
    ):
        super().__init__()
        if kwargs:
            unknown = ", ".join(sorted(kwargs))
            raise RnnkitTypeError(
                f"{type(self).__name__}(): unexpected keyword argument(s): {unknown}."
            )
        if name is not None and not isinstance(name, str):
            raise RnnkitTypeError(f"{type(self).__name__}(): `name` must be a string.")
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.dtype = resolve_dtype(
            dtype, caller=f"{type(self).__name__}()", allowed=(torch.float32, torch.float64)
        )
        if batch_input_shape is not None:
            batch_size, input_shape = batch_input_shape[0], tuple(batch_input_shape[1:])
        elif input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if input_shape is not None:
            if isinstance(input_shape, int):
                input_shape = (input_shape,)
            input_shape = tuple(None if s is None else int(s) for s in input_shape)
        self.declared_input_shape: Shape | None = input_shape
        self.declared_batch_size: int | None = batch_size
        self.built = False
        self._trainable = bool(trainable)
        self.input_shape_seen: Shape | None = None
        self.train(False)

    # ----------------------------------------------------------------- building
    def build(self, input_shape: Shape) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis included)."""
        self.built = True

    def ensure_built(self, input_shape: Shape, device: torch.device | None = None) -> None:
        """Build once, for ``input_shape``; later calls check nothing."""
        if not self.built:
            self.build(tuple(input_shape))
            self.built = True
            self.input_shape_seen = tuple(input_shape)
            if not self._trainable:
                self.trainable = False
            if device is not None:
                self.to(device)

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """Build the layer from the first input's shape and device if needed, then run it."""
        if not self.built:
            shape = _shape_of(inputs)
            self.ensure_built(shape, _device_of(inputs))
        return super().__call__(inputs, *args, **kwargs)

    def compute_output_shape(self, input_shape: Shape) -> Any:
        """Return the output shape for ``input_shape`` (``None`` for unknown axes)."""
        return tuple(input_shape)

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor | None:
        """Return the mask for the next layer (propagated if the layer supports masking)."""
        return mask if self.supports_masking else None

    def resolve_training(self, training: bool | None) -> bool:
        """``training`` if given, else the module's mode (``fit`` sets it)."""
        return self.training if training is None else bool(training)

    # ------------------------------------------------------------------ weights
    @property
    def trainable(self) -> bool:
        """Whether ``fit`` updates this layer's weights."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for p in self.parameters():
            p.requires_grad_(self._trainable)

    def keras_weights(self) -> list[torch.Tensor]:
        """The weights in Keras' order and layout (views where possible)."""
        return [p for p in self.parameters(recurse=False)]

    def assign_keras_weights(self, arrays: list[np.ndarray]) -> None:
        """Copy Keras-layout arrays into the parameters (inverse of keras_weights)."""
        with torch.no_grad():
            for param, array in zip(self.parameters(recurse=False), arrays, strict=True):
                param.copy_(torch.as_tensor(array, dtype=param.dtype))

    def get_weights(self) -> list[np.ndarray]:
        """Return the weights as numpy arrays, in Keras' order and layout."""
        return [w.detach().cpu().numpy().copy() for w in self.keras_weights()]

    def set_weights(self, weights: list[Any]) -> None:
        """Set the weights from arrays in Keras' order and layout.

        Raises:
            ValueError: if the number or the shapes of the arrays do not match.
        """
        if not self.built:
            raise RnnkitValueError(
                f"{self.name}.set_weights(): the layer is not built yet. Call it on data, "
                "pass input_shape=..., or build the model first."
            )
        expected = [tuple(w.shape) for w in self.keras_weights()]
        arrays = [np.asarray(w) for w in weights]
        received = [tuple(a.shape) for a in arrays]
        if expected != received:
            raise RnnkitValueError(
                f"{self.name}.set_weights(): expected {len(expected)} arrays of shapes "
                f"{expected}. Received shapes {received}."
            )
        self.assign_keras_weights(arrays)

    @property
    def weights(self) -> list[torch.Tensor]:
        """Keras-layout weight tensors."""
        return self.keras_weights()

    def count_params(self) -> int:
        """Number of scalars in the layer's weights."""
        return sum(p.numel() for p in self.parameters())

    def regularization_loss(self) -> torch.Tensor | None:
        """Sum of the weight penalties of this layer (``None`` if it has none)."""
        return None

    def apply_constraints(self) -> None:
        """Project weights onto their constraints (called after each optimizer step)."""

    # ------------------------------------------------------------------- config
    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as JSON-serialisable values."""
        config: dict[str, Any] = {"name": self.name, "trainable": self._trainable}
        if self.declared_input_shape is not None:
            config["input_shape"] = list(self.declared_input_shape)
        if self.declared_batch_size is not None:
            config["batch_size"] = self.declared_batch_size
        if self.dtype is not torch.float32:
            config["dtype"] = str(self.dtype).replace("torch.", "")
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Create a layer from :meth:`get_config`'s output."""
        return cls(**config)

    def extra_repr(self) -> str:
        """The layer's name, for ``repr``."""
        return f"name={self.name!r}"


def _shape_of(inputs: Any) -> Shape:
    if isinstance(inputs, (list, tuple)):
        inputs = inputs[0]
    if not hasattr(inputs, "shape"):
        raise RnnkitTypeError(
            f"Layer inputs must be tensors or arrays. Received: {type(inputs).__name__}."
        )
    return tuple(int(s) for s in inputs.shape)


def _device_of(inputs: Any) -> torch.device | None:
    if isinstance(inputs, (list, tuple)):
        inputs = inputs[0]
    return getattr(inputs, "device", None)
