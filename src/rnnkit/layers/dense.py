"""``Dense``: a fully connected layer acting on the last axis."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from rnnkit import activations as activations_mod
from rnnkit import constraints as constraints_mod
from rnnkit import initializers as initializers_mod
from rnnkit import regularizers as regularizers_mod
from rnnkit._validation import check_bool
from rnnkit._validation import check_positive_int
from rnnkit.errors import RnnkitValueError
from rnnkit.layers.base import Layer


class Dense(Layer):
    """``output = activation(inputs @ kernel + bias)`` on the last axis.

    On 3-D inputs ``(batch, steps, features)`` it acts on every timestep, as in Keras.
    The kernel is stored in Keras layout ``(input_dim, units)``.

    Args:
        units: Output size, a positive integer.
        activation: Activation name or callable. Defaults to `None` (linear).
        use_bias: Defaults to `True`.
        kernel_initializer: Defaults to `"glorot_uniform"`.
        bias_initializer: Defaults to `"zeros"`.
        kernel_regularizer, bias_regularizer, activity_regularizer: Default to `None`.
        kernel_constraint, bias_constraint: Default to `None`.

    Example:
        >>> import torch
        >>> Dense(2)(torch.ones(4, 3)).shape
        torch.Size([4, 2])
    """

    supports_masking = True

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        caller = "Dense"
        self.units = check_positive_int("units", units, caller=f"Dense(units={units!r})")
        self.activation = activations_mod.get(activation, caller=caller)
        self.use_bias = check_bool("use_bias", use_bias, caller=caller)
        self.kernel_initializer = initializers_mod.get(kernel_initializer, caller=caller)
        self.bias_initializer = initializers_mod.get(bias_initializer, caller=caller)
        self.kernel_regularizer = regularizers_mod.get(kernel_regularizer, caller=caller)
        self.bias_regularizer = regularizers_mod.get(bias_regularizer, caller=caller)
        self.activity_regularizer = regularizers_mod.get(activity_regularizer, caller=caller)
        self.kernel_constraint = constraints_mod.get(kernel_constraint, caller=caller)
        self.bias_constraint = constraints_mod.get(bias_constraint, caller=caller)
        self.activity_loss: torch.Tensor | None = None
        self.input_dim: int | None = None

    def build(self, input_shape):
        """Create ``kernel (input_dim, units)`` and ``bias (units,)``."""
        if len(input_shape) < 2:
            raise RnnkitValueError(
                f"Dense '{self.name}': inputs need at least 2 dimensions (batch, features). "
                f"Received shape {tuple(input_shape)}."
            )
        self.input_dim = int(input_shape[-1])
        self.kernel = nn.Parameter(torch.empty(self.input_dim, self.units, dtype=self.dtype))
        if self.use_bias:
            self.bias = nn.Parameter(torch.empty(self.units, dtype=self.dtype))
        else:
            self.register_parameter("bias", None)
        self.built = True
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the weights with the configured initialisers."""
        with torch.no_grad():
            shape = (self.input_dim, self.units)
            self.kernel.copy_(torch.as_tensor(self.kernel_initializer(shape, dtype=self.dtype)))
            if self.bias is not None:
                self.bias.copy_(
                    torch.as_tensor(self.bias_initializer((self.units,), dtype=self.dtype))
                )

    def forward(self, inputs, mask=None, training=None):
        """Apply the layer to ``inputs (..., input_dim)``."""
        x = torch.as_tensor(inputs)
        if x.dtype != self.dtype:
            x = x.to(self.dtype)
        if x.shape[-1] != self.input_dim:
            raise RnnkitValueError(
                f"Dense '{self.name}' was built for {self.input_dim} input features. "
                f"Received shape {tuple(x.shape)}."
            )
        out = self.transform(x)
        if self.activity_regularizer is not None and self.resolve_training(training):
            self.activity_loss = self.activity_regularizer(out) / out.shape[0]
        return out

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """``activation(x @ kernel + bias)``: the arithmetic of :meth:`forward`, unchecked.

        ``x`` must already have the layer's dtype and ``input_dim`` features (``forward``
        checks both); the stacked trainer calls this to compute exactly what ``forward``
        does.
        """
        if x.dim() == 2 and self.bias is not None:
            out = torch.addmm(self.bias, x, self.kernel)
        else:
            out = x @ self.kernel
            if self.bias is not None:
                out = out + self.bias
        return self.activation(out)

    def compute_output_shape(self, input_shape):
        """Return ``input_shape`` with its last axis replaced by ``units``."""
        return (*tuple(input_shape)[:-1], self.units)

    def regularization_loss(self):
        """Kernel and bias penalties."""
        terms = []
        if self.kernel_regularizer is not None:
            terms.append(self.kernel_regularizer(self.kernel))
        if self.bias_regularizer is not None and self.bias is not None:
            terms.append(self.bias_regularizer(self.bias))
        return sum(terms) if terms else None

    def apply_constraints(self):
        """Project the kernel and bias onto their constraints."""
        with torch.no_grad():
            if self.kernel_constraint is not None:
                self.kernel.copy_(self.kernel_constraint(self.kernel))
            if self.bias_constraint is not None and self.bias is not None:
                self.bias.copy_(self.bias_constraint(self.bias))

    def get_config(self):
        """Return the layer's settings with units, activation and every weight option."""
        config = super().get_config()
        config.update(
            units=self.units,
            activation=activations_mod.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers_mod.serialize(self.kernel_initializer),
            bias_initializer=initializers_mod.serialize(self.bias_initializer),
            kernel_regularizer=regularizers_mod.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers_mod.serialize(self.bias_regularizer),
            activity_regularizer=regularizers_mod.serialize(self.activity_regularizer),
            kernel_constraint=constraints_mod.serialize(self.kernel_constraint),
            bias_constraint=constraints_mod.serialize(self.bias_constraint),
        )
        return config

    def extra_repr(self) -> str:
        """Summarise the layer in its torch ``repr``: units and a non-linear activation."""
        act = activations_mod.name_of(self.activation)
        return f"units={self.units}" + ("" if act == "linear" else f", activation={act!r}")
