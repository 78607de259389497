"""``Embedding``: integer token ids to dense vectors, with Keras 3's arguments and mask."""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import nn

from rnnkit import constraints as constraints_mod
from rnnkit import initializers as initializers_mod
from rnnkit import regularizers as regularizers_mod
from rnnkit._validation import check_bool
from rnnkit._validation import check_positive_int
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.layers.base import Layer


def _initializer(identifier: Any) -> Any:
    """Keras' ``"uniform"`` alias is ``RandomUniform(-0.05, 0.05)``; the rest as usual."""
    if identifier == "uniform":
        return initializers_mod.RandomUniform(-0.05, 0.05)
    return initializers_mod.get(identifier, caller="Embedding")


class Embedding(Layer):
    """Turns non-negative integer ids into dense vectors: ``embeddings[ids]``.

    The weight ``embeddings`` has Keras' layout ``(input_dim, output_dim)``. Inputs
    are ids of shape ``(batch, steps)`` (any shape works); integer tensors are used
    as they are, floating-point ones must hold whole numbers (a model fed a numpy
    id matrix sees it as float32) and are cast, as Keras casts them. An id outside
    ``[0, input_dim)`` raises a ``RnnkitValueError`` naming the bad id.

    With ``mask_zero=True``, id 0 is padding: the layer emits the mask
    ``ids != 0`` and the recurrent layers after it in a ``Sequential`` model skip
    the padded steps, exactly as in Keras.

    Args:
        input_dim: Vocabulary size, i.e. the largest id + 1.
        output_dim: Size of each vector.
        embeddings_initializer: Defaults to `"uniform"`, Keras'
            ``RandomUniform(-0.05, 0.05)``.
        embeddings_regularizer: Penalty on the embeddings. Defaults to `None`.
        embeddings_constraint: Constraint on the embeddings. Defaults to `None`.
        mask_zero: Whether id 0 is padding to be masked. Defaults to `False`.
        weights: Optional initial matrix ``(input_dim, output_dim)`` (or a list
            holding it); the layer is built at once with it.
        lora_rank, lora_alpha, quantization_config: Keras' LoRA and quantisation
            options; rnnkit implements neither and refuses any value but `None`.
        **kwargs: The base layer's (``name``, ``input_shape``, ...), and two tf.keras 2
            arguments: ``input_length``, which Keras 3 warns about and ignores (rnnkit
            warns the same way and uses it as the declared sequence length), and
            ``sparse``, of which only `False` is supported.

    Example:
        >>> import torch
        >>> layer = Embedding(10, 3, mask_zero=True)
        >>> ids = torch.tensor([[4, 7, 0, 0]])
        >>> layer(ids).shape
        torch.Size([1, 4, 3])
        >>> layer.compute_mask(ids)
        tensor([[ True,  True, False, False]])
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        weights: Any = None,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        quantization_config: Any = None,
        **kwargs: Any,
    ):
        caller = f"Embedding(input_dim={input_dim!r}, output_dim={output_dim!r})"
        # tf.keras 2 arguments Keras 3 no longer lists: taken from **kwargs, as Keras does
        input_length = kwargs.pop("input_length", None)
        sparse = kwargs.pop("sparse", False)
        for option, value in (
            ("lora_rank", lora_rank),
            ("lora_alpha", lora_alpha),
            ("quantization_config", quantization_config),
        ):
            if value is not None:
                raise RnnkitValueError(
                    f"{caller}: rnnkit does not implement LoRA or quantisation. "
                    f"Received {option}={value!r}; leave it as None."
                )
        if sparse is not False:
            raise RnnkitValueError(
                f"{caller}: rnnkit computes dense embedding gradients only. "
                f"Received sparse={sparse!r}; leave it as False."
            )
        if input_length is not None:
            warnings.warn(
                "Embedding(): argument `input_length` is deprecated in Keras 3. Just remove it "
                "(rnnkit uses it as input_shape=(input_length,)).",
                UserWarning,
                stacklevel=2,
            )
            if kwargs.get("input_shape") is None and kwargs.get("batch_input_shape") is None:
                length = check_positive_int("input_length", input_length, caller=caller)
                kwargs["input_shape"] = (length,)
        super().__init__(**kwargs)
        self.input_dim = check_positive_int("input_dim", input_dim, caller=caller)
        self.output_dim = check_positive_int("output_dim", output_dim, caller=caller)
        self.embeddings_initializer = _initializer(embeddings_initializer)
        self.embeddings_regularizer = regularizers_mod.get(embeddings_regularizer, caller=caller)
        self.embeddings_constraint = constraints_mod.get(embeddings_constraint, caller=caller)
        self.mask_zero = check_bool("mask_zero", mask_zero, caller=caller)
        self.supports_masking = self.mask_zero
        if weights is not None:
            self.ensure_built((None, None))
            single = isinstance(weights, list) and len(weights) == 1
            self.set_weights(weights if single else [weights])

    def build(self, input_shape):
        """Create ``embeddings (input_dim, output_dim)``; the input shape does not matter."""
        shape = (self.input_dim, self.output_dim)
        self.embeddings = nn.Parameter(torch.empty(shape, dtype=self.dtype))
        self.built = True
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the embeddings with the configured initialiser."""
        shape = (self.input_dim, self.output_dim)
        with torch.no_grad():
            values = torch.as_tensor(self.embeddings_initializer(shape, dtype=self.dtype))
            self.embeddings.copy_(values)

    def _ids(self, inputs: Any) -> torch.Tensor:
        """``inputs`` as int64 ids, checked to be whole numbers in ``[0, input_dim)``."""
        x = torch.as_tensor(inputs)
        if x.dtype == torch.bool or x.is_complex():
            raise RnnkitTypeError(
                f"Embedding '{self.name}': inputs must be integer ids. Received dtype {x.dtype}."
            )
        if x.is_floating_point():
            whole = torch.isfinite(x) & (x == torch.trunc(x))
            if not bool(whole.all()):
                bad = x[~whole].flatten()[0].item()
                raise RnnkitValueError(
                    f"Embedding '{self.name}': inputs must be whole-number ids. "
                    f"Received {bad!r}; pass integer token ids."
                )
        ids = x.long()
        if ids.numel():
            low, high = int(ids.min()), int(ids.max())
            if low < 0 or high >= self.input_dim:
                bad = low if low < 0 else high
                raise RnnkitValueError(
                    f"Embedding '{self.name}': ids must lie in [0, {self.input_dim}) "
                    f"(input_dim={self.input_dim}). Received id {bad}; raise input_dim or "
                    "map unknown tokens to an id below it."
                )
        return ids

    def forward(self, inputs, mask=None, training=None):
        """Look up the vector of every id: output shape ``(*inputs.shape, output_dim)``."""
        ids = self._ids(inputs)
        if ids.device != self.embeddings.device:
            ids = ids.to(self.embeddings.device)
        return nn.functional.embedding(ids, self.embeddings)

    def compute_mask(self, inputs, mask=None):
        """``inputs != 0`` with ``mask_zero=True``, else ``None``."""
        if not self.mask_zero:
            return None
        return torch.as_tensor(inputs) != 0

    def compute_output_shape(self, input_shape):
        """Return ``(*input_shape, output_dim)``."""
        return (*tuple(input_shape), self.output_dim)

    def regularization_loss(self):
        """The embeddings penalty, or ``None``."""
        if self.embeddings_regularizer is None or not self.built:
            return None
        return self.embeddings_regularizer(self.embeddings)

    def apply_constraints(self):
        """Project the embeddings onto their constraint."""
        if self.embeddings_constraint is not None and self.built:
            with torch.no_grad():
                self.embeddings.copy_(self.embeddings_constraint(self.embeddings))

    def get_config(self):
        """Return the layer's settings, as Keras names them."""
        config = super().get_config()
        config.update(
            input_dim=self.input_dim,
            output_dim=self.output_dim,
            embeddings_initializer=initializers_mod.serialize(self.embeddings_initializer),
            embeddings_regularizer=regularizers_mod.serialize(self.embeddings_regularizer),
            embeddings_constraint=constraints_mod.serialize(self.embeddings_constraint),
            mask_zero=self.mask_zero,
        )
        return config

    def extra_repr(self) -> str:
        """Summarise the layer in its torch ``repr``."""
        zero = ", mask_zero=True" if self.mask_zero else ""
        return f"{self.input_dim}, {self.output_dim}{zero}"
