"""Shape and regularisation layers.

Input, Dropout, Activation, Flatten, RepeatVector, Masking and Reshape.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from rnnkit import activations as activations_mod
from rnnkit._validation import check_positive_int
from rnnkit._validation import check_rate
from rnnkit.errors import RnnkitValueError
from rnnkit.kernels.dropout import keep_factors
from rnnkit.layers.base import Layer


class InputLayer(Layer):
    """Declares the shape of one sample; the first layer of a ``Sequential`` model.

    Args:
        shape: Shape of one sample without the batch axis, e.g. ``(timesteps, features)``.
        batch_size: Optional fixed batch size.

    Example:
        >>> InputLayer(shape=(10, 3)).declared_input_shape
        (10, 3)
    """

    def __init__(
        self,
        shape: Any = None,
        batch_size: int | None = None,
        *,
        input_shape: Any = None,
        **kwargs: Any,
    ):
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise RnnkitValueError("InputLayer(): pass the sample shape, e.g. shape=(10, 3).")
        super().__init__(
            input_shape=tuple(shape) if not isinstance(shape, int) else (shape,),
            batch_size=batch_size,
            **kwargs,
        )
        self.built = True

    def forward(self, inputs, mask=None, training=None):
        """Return ``inputs`` unchanged."""
        return inputs

    def get_config(self):
        """Return the layer's settings, the sample shape under ``"shape"`` as in Keras."""
        config = super().get_config()
        config["shape"] = config.pop("input_shape")
        return config


def Input(shape: Any = None, batch_size: int | None = None, name: str | None = None, **kwargs):
    """Keras' ``Input(shape)``: in a ``Sequential`` model, declares the sample shape.

    Example:
        >>> Input((10, 3)).declared_input_shape
        (10, 3)
    """
    return InputLayer(shape=shape, batch_size=batch_size, name=name, **kwargs)


class Dropout(Layer):
    """Drops a fraction ``rate`` of the inputs during training.

    The inputs kept are scaled by ``1 / (1 - rate)``; at inference the layer passes
    its inputs through unchanged.

    Args:
        rate: Fraction to drop, in [0, 1].
        noise_shape: Optional broadcast shape of the mask, ``None`` entries taken from
            the input (e.g. ``(None, 1, features)`` keeps one mask per sequence).
        seed: Seed of the masks. Defaults to `None`.

    Example:
        >>> import torch
        >>> Dropout(0.5)(torch.ones(2, 3))  # inference: unchanged
        tensor([[1., 1., 1.],
                [1., 1., 1.]])
    """

    supports_masking = True

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("rate", rate, caller="Dropout")
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._generator: torch.Generator | None = None
        self.built = True

    def forward(self, inputs, mask=None, training=None):
        """Apply dropout when training."""
        x = torch.as_tensor(inputs)
        if not self.resolve_training(training) or self.rate == 0.0:
            return x
        if self.rate == 1.0:
            return torch.zeros_like(x)
        shape: tuple[int, ...] = tuple(x.shape)
        if self.noise_shape is not None:
            shape = tuple(x.shape[i] if s is None else s for i, s in enumerate(self.noise_shape))
        if self.seed is not None and self._generator is None:
            self._generator = torch.Generator(device=x.device)
            self._generator.manual_seed(int(self.seed))
        factors = keep_factors(
            shape, self.rate, dtype=x.dtype, device=x.device, generator=self._generator
        )
        return x * factors

    def get_config(self):
        """Return the layer's settings with ``rate``, ``noise_shape`` and ``seed``."""
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return config


class Activation(Layer):
    """Applies an activation function.

    Example:
        >>> import torch
        >>> Activation("relu")(torch.tensor([[-1.0, 1.0]]))
        tensor([[0., 1.]])
    """

    supports_masking = True

    def __init__(self, activation: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.activation = activations_mod.get(activation, caller="Activation")
        self.built = True

    def forward(self, inputs, mask=None, training=None):
        """Apply the activation."""
        return self.activation(torch.as_tensor(inputs))

    def get_config(self):
        """Return the layer's settings with the activation's serialized name."""
        config = super().get_config()
        config["activation"] = activations_mod.serialize(self.activation)
        return config


class Flatten(Layer):
    """Flattens every axis but the batch axis.

    Example:
        >>> import torch
        >>> Flatten()(torch.ones(2, 3, 4)).shape
        torch.Size([2, 12])
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.built = True

    def forward(self, inputs, mask=None, training=None):
        """Reshape to ``(batch, -1)``."""
        x = torch.as_tensor(inputs)
        return x.reshape(x.shape[0], -1)

    def compute_output_shape(self, input_shape):
        """Return ``(batch, product of the other axes)``, None if any of them is unknown."""
        rest = input_shape[1:]
        size = None if any(s is None for s in rest) else math.prod(rest)
        return (input_shape[0], size)


class RepeatVector(Layer):
    """Repeats a ``(batch, features)`` input ``n`` times: ``(batch, n, features)``.

    The bridge of a one-to-many or encoder-decoder model.

    Example:
        >>> import torch
        >>> RepeatVector(3)(torch.ones(2, 4)).shape
        torch.Size([2, 3, 4])
    """

    def __init__(self, n: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.n = check_positive_int("n", n, caller="RepeatVector")
        self.built = True

    def forward(self, inputs, mask=None, training=None):
        """Repeat along a new time axis."""
        x = torch.as_tensor(inputs)
        if x.dim() != 2:
            raise RnnkitValueError(
                f"RepeatVector '{self.name}': inputs must be 2-D (batch, features). "
                f"Received shape {tuple(x.shape)}."
            )
        return x.unsqueeze(1).expand(-1, self.n, -1)

    def compute_output_shape(self, input_shape):
        """Return ``(batch, n, features)`` for an input of ``(batch, features)``."""
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        """Return the layer's settings with the repeat count ``n``."""
        config = super().get_config()
        config["n"] = self.n
        return config


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (one entry may be -1).

    Example:
        >>> import torch
        >>> Reshape((3, 2))(torch.ones(4, 6)).shape
        torch.Size([4, 3, 2])
    """

    def __init__(self, target_shape: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(s) for s in target_shape)
        self.built = True

    def forward(self, inputs, mask=None, training=None):
        """Reshape every sample."""
        x = torch.as_tensor(inputs)
        return x.reshape(x.shape[0], *self.target_shape)

    def compute_output_shape(self, input_shape):
        """Return ``(batch, *target_shape)``, resolving a -1 entry when the input is known."""
        if -1 in self.target_shape and all(s is not None for s in input_shape[1:]):
            known = math.prod(s for s in self.target_shape if s != -1)
            missing = math.prod(input_shape[1:]) // known
            return (input_shape[0], *(missing if s == -1 else s for s in self.target_shape))
        return (input_shape[0], *self.target_shape)

    def get_config(self):
        """Return the layer's settings with ``target_shape`` as a list."""
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


class Masking(Layer):
    """Masks timesteps whose features all equal ``mask_value``.

    Downstream recurrent layers skip masked steps (states carry over); masked steps
    are set to zero in the output, as in Keras.

    Args:
        mask_value: The padding value. Defaults to `0.0`.

    Example:
        >>> import torch
        >>> x = torch.tensor([[[1.0], [0.0], [2.0]]])
        >>> Masking(0.0).compute_mask(x, None)
        tensor([[ True, False,  True]])
    """

    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)
        self.built = True
        self._last: tuple[Any, torch.Tensor] | None = None  # (inputs, mask) of the last call

    def compute_mask(self, inputs, mask=None):
        """True where any feature differs from ``mask_value``."""
        if self._last is not None and self._last[0] is inputs:
            return self._last[1]  # a model asks for the mask of the call it just made
        x = torch.as_tensor(inputs)
        if self.mask_value == 0.0 and x.is_floating_point():
            return x.any(dim=-1)  # one op: nonzero (NaN included) is True, as ne(0.0)
        return x.ne(self.mask_value).any(dim=-1)

    def forward(self, inputs, mask=None, training=None):
        """Zero the masked steps."""
        x = torch.as_tensor(inputs)
        self._last = None
        keep = self.compute_mask(x)
        self._last = (inputs, keep)
        if self.mask_value == 0.0 and not x.requires_grad:
            return x  # masked steps are all zeros already (Keras' x * mask keeps -0.0 too)
        return torch.where(keep.unsqueeze(-1), x, x.new_zeros(()))

    def get_config(self):
        """Return the layer's settings with ``mask_value``."""
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
