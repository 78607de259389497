"""Recurrent cells: one timestep's equations and weights.

A cell owns its weights in PyTorch layout (``weight_ih`` is the transposed Keras
``kernel``, gate blocks in Keras order) and two pieces of arithmetic that every
kernel builds on:

* :meth:`RecurrentCell.project_inputs` computes the input side for all timesteps in
  one matmul: ``xp = x W + b`` of shape ``(batch, timesteps, k * units)``;
* :meth:`RecurrentCell.step` advances one timestep from ``xp_t`` and the states.

The sequence loop itself lives in :mod:`rnnkit.kernels`; the RNN layer chooses it.
Each cell class declares in ``kind`` which :class:`~rnnkit.kernels.CellKind`
equations it computes, and the fast kernels run exactly those equations.

One job: the three cells and their equations; kept together so the equations read side
by side.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from rnnkit import activations as activations_mod
from rnnkit import constraints as constraints_mod
from rnnkit import initializers as initializers_mod
from rnnkit import regularizers as regularizers_mod
from rnnkit._validation import check_bool
from rnnkit._validation import check_positive_int
from rnnkit._validation import check_rate
from rnnkit.kernels.cellspec import CellKind
from rnnkit.kernels.dropout import keep_factors
from rnnkit.layers.base import Layer


class DropoutMasks:
    """The variational dropout masks of one layer call (one per sequence).

    Attributes:
        inputs: ``None``, a ``(batch, features)`` mask, or ``(gates, batch, features)``
            when each gate has its own mask (Keras' implementation 1).
        recurrent: ``None`` or ``(gates, batch, units)`` / ``(batch, units)``.
    """

    __slots__ = ("inputs", "recurrent")

    def __init__(self, inputs: torch.Tensor | None = None, recurrent: torch.Tensor | None = None):
        self.inputs = inputs
        self.recurrent = recurrent


class RecurrentCell(Layer):
    """Shared machinery of SimpleRNNCell, LSTMCell and GRUCell.

    Subclasses set ``gates`` (1, 4 or 3) and implement :meth:`step`.

    Attributes:
        kind: The :class:`~rnnkit.kernels.CellKind` whose equations :meth:`step`
            computes: the fast kernels run those equations instead of calling
            :meth:`step`. ``None`` (a new cell class) runs only in the reference
            loop, over :meth:`step`. A subclass that changes the equations of
            ``SimpleRNNCell``, ``LSTMCell`` or ``GRUCell`` must set ``kind = None``.
    """

    gates = 1
    kind: CellKind | None = None
    keras_class = "RNNCell"

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        caller = type(self).__name__
        self.units = check_positive_int("units", units, caller=f"{caller}(units={units!r})")
        self.activation = activations_mod.get(activation, caller=caller)
        self.recurrent_activation = activations_mod.get(recurrent_activation, caller=caller)
        self.use_bias = check_bool("use_bias", use_bias, caller=caller)
        self.kernel_initializer = initializers_mod.get(kernel_initializer, caller=caller)
        self.recurrent_initializer = initializers_mod.get(recurrent_initializer, caller=caller)
        self.bias_initializer = initializers_mod.get(bias_initializer, caller=caller)
        self.kernel_regularizer = regularizers_mod.get(kernel_regularizer, caller=caller)
        self.recurrent_regularizer = regularizers_mod.get(recurrent_regularizer, caller=caller)
        self.bias_regularizer = regularizers_mod.get(bias_regularizer, caller=caller)
        self.kernel_constraint = constraints_mod.get(kernel_constraint, caller=caller)
        self.recurrent_constraint = constraints_mod.get(recurrent_constraint, caller=caller)
        self.bias_constraint = constraints_mod.get(bias_constraint, caller=caller)
        self.dropout = check_rate("dropout", dropout, caller=caller)
        self.recurrent_dropout = check_rate("recurrent_dropout", recurrent_dropout, caller=caller)
        self.seed = None if seed is None else int(seed)
        self._generators: dict[str, torch.Generator] = {}
        self.input_size: int | None = None

    # ----------------------------------------------------------------- weights
    @property
    def state_size(self) -> list[int]:
        """Sizes of the states carried between timesteps."""
        return [self.units]

    @property
    def output_size(self) -> int:
        """Size of the per-step output."""
        return self.units

    def bias_shape(self) -> tuple[int, ...]:
        """Shape of the (Keras and torch) bias parameter."""
        return (self.gates * self.units,)

    def build(self, input_shape):
        """Create ``weight_ih (k*u, d)``, ``weight_hh (k*u, u)`` and ``bias``."""
        input_size = int(input_shape[-1])
        self.input_size = input_size
        k_units = self.gates * self.units
        self.weight_ih = nn.Parameter(torch.empty(k_units, input_size, dtype=self.dtype))
        self.weight_hh = nn.Parameter(torch.empty(k_units, self.units, dtype=self.dtype))
        if self.use_bias:
            self.bias = nn.Parameter(torch.empty(self.bias_shape(), dtype=self.dtype))
        else:
            self.register_parameter("bias", None)
        self.built = True
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the weights with the configured (Keras default) initialisers."""
        k_units = self.gates * self.units
        with torch.no_grad():
            kernel = self.kernel_initializer((self.input_size, k_units), dtype=self.dtype)
            self.weight_ih.copy_(torch.as_tensor(kernel).T)
            recurrent = self.recurrent_initializer((self.units, k_units), dtype=self.dtype)
            self.weight_hh.copy_(torch.as_tensor(recurrent).T)
            if self.bias is not None:
                self.bias.copy_(self.initial_bias())

    def initial_bias(self) -> torch.Tensor:
        """The bias drawn by ``bias_initializer`` (LSTM overrides for unit_forget_bias)."""
        return torch.as_tensor(self.bias_initializer(self.bias_shape(), dtype=self.dtype))

    def keras_weights(self) -> list[torch.Tensor]:
        """``[kernel (d, k*u), recurrent_kernel (u, k*u), bias]`` as in Keras."""
        weights = [self.weight_ih.T, self.weight_hh.T]
        if self.bias is not None:
            weights.append(self.bias)
        return weights

    def assign_keras_weights(self, arrays):
        """Load weights given in Keras' order: ``[kernel, recurrent_kernel, bias]``."""
        with torch.no_grad():
            self.weight_ih.copy_(torch.as_tensor(np.asarray(arrays[0]).T, dtype=self.dtype))
            self.weight_hh.copy_(torch.as_tensor(np.asarray(arrays[1]).T, dtype=self.dtype))
            if self.bias is not None:
                self.bias.copy_(torch.as_tensor(np.asarray(arrays[2]), dtype=self.dtype))

    def regularization_loss(self):
        """Sum of kernel, recurrent and bias penalties."""
        terms = []
        if self.kernel_regularizer is not None:
            terms.append(self.kernel_regularizer(self.weight_ih))
        if self.recurrent_regularizer is not None:
            terms.append(self.recurrent_regularizer(self.weight_hh))
        if self.bias_regularizer is not None and self.bias is not None:
            terms.append(self.bias_regularizer(self.bias))
        return sum(terms) if terms else None

    def apply_constraints(self):
        """Project the weights (Keras layout) onto their constraints."""
        with torch.no_grad():
            if self.kernel_constraint is not None:
                self.weight_ih.copy_(self.kernel_constraint(self.weight_ih.T).T)
            if self.recurrent_constraint is not None:
                self.weight_hh.copy_(self.recurrent_constraint(self.weight_hh.T).T)
            if self.bias_constraint is not None and self.bias is not None:
                self.bias.copy_(self.bias_constraint(self.bias))

    # ----------------------------------------------------------------- dropout
    def uses_input_dropout(self) -> bool:
        """Whether training applies an input mask (Keras: ``0 < rate < 1``)."""
        return 0.0 < self.dropout < 1.0

    def uses_recurrent_dropout(self) -> bool:
        """Whether training applies a recurrent mask (Keras: ``0 < rate < 1``)."""
        return 0.0 < self.recurrent_dropout < 1.0

    @property
    def mask_count(self) -> int | None:
        """Masks per call: one shared mask (``None``) or one per gate (Keras impl. 1)."""
        return self.gates if self.recurrent_dropout != 0.0 and self.gates > 1 else None

    def make_dropout_masks(self, x: torch.Tensor, training: bool) -> DropoutMasks:
        """Draw this call's masks: one per sequence, reused at every timestep."""
        if not training:
            return DropoutMasks()
        batch, _, features = x.shape
        count = self.mask_count
        inputs = recurrent = None
        if self.uses_input_dropout():
            inputs = self._draw_mask(count, batch, features, self.dropout, x)
        if self.uses_recurrent_dropout():
            recurrent = self._draw_mask(count, batch, self.units, self.recurrent_dropout, x)
        return DropoutMasks(inputs, recurrent)

    def _draw_mask(self, count, batch, size, rate, like):
        shape = (batch, size) if count is None else (count, batch, size)
        generator = self._generator(like.device)
        return keep_factors(shape, rate, dtype=like.dtype, device=like.device, generator=generator)

    def _generator(self, device: torch.device) -> torch.Generator | None:
        if self.seed is None:
            return None
        key = str(device)
        if key not in self._generators:
            gen = torch.Generator(device=device)
            gen.manual_seed(self.seed)
            self._generators[key] = gen
        return self._generators[key]

    # -------------------------------------------------------------- arithmetic
    def input_bias(self) -> torch.Tensor | None:
        """The bias added on the input side (all of it, except GRU's recurrent row)."""
        return self.bias

    def project_inputs(self, x: torch.Tensor, masks: DropoutMasks) -> torch.Tensor:
        """``x W + b`` for every timestep: ``(batch, steps, k * units)``."""
        bias = self.input_bias()
        if masks.inputs is None:
            return nn.functional.linear(x, self.weight_ih, bias)
        if masks.inputs.dim() == 2:  # one mask shared by all gates
            return nn.functional.linear(x * masks.inputs[:, None, :], self.weight_ih, bias)
        blocks = []
        for g in range(self.gates):  # one mask per gate (Keras implementation 1)
            rows = slice(g * self.units, (g + 1) * self.units)
            gate_bias = None if bias is None else bias[rows]
            x_g = x * masks.inputs[g][:, None, :]
            blocks.append(nn.functional.linear(x_g, self.weight_ih[rows], gate_bias))
        return torch.cat(blocks, dim=-1)

    def project_state(
        self, h: torch.Tensor, recurrent_mask: torch.Tensor | None, gates: slice | None = None
    ) -> torch.Tensor:
        """``h U`` for the gate blocks in ``gates`` (all by default), masks applied."""
        first, last = (0, self.gates) if gates is None else (gates.start, gates.stop)
        if recurrent_mask is None:
            weight = self.weight_hh[first * self.units : last * self.units]
            return h @ weight.T
        if recurrent_mask.dim() == 2:
            weight = self.weight_hh[first * self.units : last * self.units]
            return (h * recurrent_mask) @ weight.T
        blocks = []
        for g in range(first, last):
            rows = slice(g * self.units, (g + 1) * self.units)
            blocks.append((h * recurrent_mask[g]) @ self.weight_hh[rows].T)
        return torch.cat(blocks, dim=-1)

    def step(
        self, xp_t: torch.Tensor, states: list[torch.Tensor], recurrent_mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Advance one timestep: return ``(output, new_states)``."""
        raise NotImplementedError

    def forward(self, inputs, states, training=None):
        """Keras cell call: one step on ``inputs (batch, features)``."""
        training = self.resolve_training(training)
        masks = self.make_dropout_masks(inputs[:, None, :], training)
        xp = self.project_inputs(inputs[:, None, :], masks)[:, 0]
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        return self.step(xp, states, masks.recurrent)

    def get_initial_state(self, batch_size: int, device=None) -> list[torch.Tensor]:
        """Zero states for a batch."""
        return [
            torch.zeros(batch_size, s, dtype=self.dtype, device=device) for s in self.state_size
        ]

    # ------------------------------------------------------------------ config
    def get_config(self):
        """Return the cell's settings as a Keras-compatible config dict."""
        config = super().get_config()
        config.update(
            units=self.units,
            activation=activations_mod.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers_mod.serialize(self.kernel_initializer),
            recurrent_initializer=initializers_mod.serialize(self.recurrent_initializer),
            bias_initializer=initializers_mod.serialize(self.bias_initializer),
            kernel_regularizer=regularizers_mod.serialize(self.kernel_regularizer),
            recurrent_regularizer=regularizers_mod.serialize(self.recurrent_regularizer),
            bias_regularizer=regularizers_mod.serialize(self.bias_regularizer),
            kernel_constraint=constraints_mod.serialize(self.kernel_constraint),
            recurrent_constraint=constraints_mod.serialize(self.recurrent_constraint),
            bias_constraint=constraints_mod.serialize(self.bias_constraint),
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            seed=self.seed,
        )
        if self.gates > 1:
            config["recurrent_activation"] = activations_mod.serialize(self.recurrent_activation)
        return config

    def extra_repr(self) -> str:
        """Summarise `units` and the settings that differ from the defaults, for ``repr``."""
        parts = [f"units={self.units}"]
        act = activations_mod.name_of(self.activation)
        if act != "tanh":
            parts.append(f"activation={act!r}")
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        if self.recurrent_dropout:
            parts.append(f"recurrent_dropout={self.recurrent_dropout}")
        return ", ".join(parts)


class SimpleRNNCell(RecurrentCell):
    """Fully connected recurrent cell.

    ``h_t = activation(x_t W + b + h_{t-1} U)``; the output is ``h_t``.

    Example:
        >>> import torch
        >>> cell = SimpleRNNCell(4)
        >>> out, states = cell(torch.ones(2, 3), [torch.zeros(2, 4)])
        >>> out.shape
        torch.Size([2, 4])
    """

    gates = 1
    kind = CellKind.SIMPLE_RNN

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            units,
            activation,
            "sigmoid",
            use_bias,
            kernel_initializer,
            recurrent_initializer,
            bias_initializer,
            kernel_regularizer,
            recurrent_regularizer,
            bias_regularizer,
            kernel_constraint,
            recurrent_constraint,
            bias_constraint,
            dropout,
            recurrent_dropout,
            seed,
            **kwargs,
        )

    def uses_input_dropout(self) -> bool:
        """SimpleRNN applies its input mask for any ``rate > 0`` (Keras)."""
        return self.dropout > 0.0

    def uses_recurrent_dropout(self) -> bool:
        """SimpleRNN applies its recurrent mask for any ``rate > 0`` (Keras)."""
        return self.recurrent_dropout > 0.0

    def step(self, xp_t, states, recurrent_mask):
        """Advance one timestep: ``h = activation(x W + h U + b)``; return ``(h, [h])``."""
        h = self.activation(xp_t + self.project_state(states[0], recurrent_mask))
        return h, [h]


class LSTMCell(RecurrentCell):
    """Long Short-Term Memory cell (Hochreiter & Schmidhuber, 1997), Keras gate order.

    With ``z = x_t W + h_{t-1} U + b`` split into ``[z_i | z_f | z_c | z_o]``::

        i = σ(z_i)   f = σ(z_f)   o = σ(z_o)
        c_t = f ⊙ c_{t-1} + i ⊙ φ(z_c)
        h_t = o ⊙ φ(c_t)

    ``φ`` is ``activation`` and ``σ`` ``recurrent_activation``. With
    ``unit_forget_bias=True`` the forget block of the bias starts at 1.

    Example:
        >>> import torch
        >>> cell = LSTMCell(3)
        >>> out, (h, c) = cell(torch.ones(2, 5), [torch.zeros(2, 3), torch.zeros(2, 3)])
        >>> tuple(out.shape), tuple(c.shape)
        ((2, 3), (2, 3))
    """

    gates = 4
    kind = CellKind.LSTM

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        self._unit_forget_bias = check_bool("unit_forget_bias", unit_forget_bias, caller="LSTM")
        super().__init__(
            units,
            activation,
            recurrent_activation,
            use_bias,
            kernel_initializer,
            recurrent_initializer,
            bias_initializer,
            kernel_regularizer,
            recurrent_regularizer,
            bias_regularizer,
            kernel_constraint,
            recurrent_constraint,
            bias_constraint,
            dropout,
            recurrent_dropout,
            seed,
            **kwargs,
        )
        self.unit_forget_bias = self._unit_forget_bias

    @property
    def state_size(self):
        """Sizes of the two states, ``[h, c]``."""
        return [self.units, self.units]

    def initial_bias(self):
        """The starting bias; with `unit_forget_bias` the forget gate's part is ones."""
        if not self.unit_forget_bias:
            return super().initial_bias()
        u = self.units
        return torch.cat(
            [
                torch.as_tensor(self.bias_initializer((u,), dtype=self.dtype)),
                torch.ones(u, dtype=self.dtype),
                torch.as_tensor(self.bias_initializer((2 * u,), dtype=self.dtype)),
            ]
        )

    def step(self, xp_t, states, recurrent_mask):
        """Advance one timestep through the four gates; return ``(h, [h, c])``."""
        h, c = states
        z = xp_t + self.project_state(h, recurrent_mask)
        z_i, z_f, z_c, z_o = z.chunk(4, dim=1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        o = self.recurrent_activation(z_o)
        c = f * c + i * self.activation(z_c)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        """Return the cell's settings, `unit_forget_bias` too, as a Keras-compatible config."""
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class GRUCell(RecurrentCell):
    """Gated Recurrent Unit cell (Cho et al., 2014), Keras gate order ``z, r, h``.

    With ``reset_after=True`` (default; bias of shape ``(2, 3 * units)``: input row,
    recurrent row)::

        z = σ(x W_z + b_z + h U_z + b'_z)      r = σ(x W_r + b_r + h U_r + b'_r)
        ĥ = φ(x W_h + b_h + r ⊙ (h U_h + b'_h))
        h_t = z ⊙ h_{t-1} + (1 − z) ⊙ ĥ

    With ``reset_after=False`` (bias ``(3 * units,)``): ``ĥ = φ(x W_h + b_h + (r ⊙ h) U_h)``.

    Example:
        >>> import torch
        >>> cell = GRUCell(3)
        >>> cell(torch.ones(2, 5), [torch.zeros(2, 3)])[0].shape
        torch.Size([2, 3])
    """

    gates = 3

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        reset_after=True,
        seed=None,
        **kwargs,
    ):
        self.reset_after = check_bool("reset_after", reset_after, caller="GRU")
        super().__init__(
            units,
            activation,
            recurrent_activation,
            use_bias,
            kernel_initializer,
            recurrent_initializer,
            bias_initializer,
            kernel_regularizer,
            recurrent_regularizer,
            bias_regularizer,
            kernel_constraint,
            recurrent_constraint,
            bias_constraint,
            dropout,
            recurrent_dropout,
            seed,
            **kwargs,
        )

    # the base declares a plain attribute; a GRU's kind follows `reset_after`
    @property
    def kind(self) -> CellKind:  # type: ignore[override]
        """``CellKind.GRU`` with ``reset_after=True``, else ``CellKind.GRU_RESET_BEFORE``."""
        return CellKind.GRU if self.reset_after else CellKind.GRU_RESET_BEFORE

    def bias_shape(self):
        """``(2, 3 * units)`` with `reset_after` (input, recurrent), else ``(3 * units,)``."""
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def input_bias(self):
        """The bias added to the input projection (the first row with `reset_after`)."""
        if self.bias is None:
            return None
        return self.bias[0] if self.reset_after else self.bias

    def step(self, xp_t, states, recurrent_mask):
        """Advance one timestep through the update and reset gates; return ``(h, [h])``."""
        (h,) = states
        u = self.units
        x_z, x_r, x_h = xp_t.split(u, dim=1)
        if self.reset_after:
            hp = self.project_state(h, recurrent_mask)
            if self.bias is not None:
                hp = hp + self.bias[1]
            h_z, h_r, h_h = hp.split(u, dim=1)
            z = self.recurrent_activation(x_z + h_z)
            r = self.recurrent_activation(x_r + h_r)
            candidate = self.activation(x_h + r * h_h)
        else:
            h_z, h_r = self.project_state(h, recurrent_mask, slice(0, 2)).split(u, dim=1)
            z = self.recurrent_activation(x_z + h_z)
            r = self.recurrent_activation(x_r + h_r)
            mask_h = None
            if recurrent_mask is not None:
                mask_h = recurrent_mask[2] if recurrent_mask.dim() == 3 else recurrent_mask
            h_for_candidate = h if mask_h is None else h * mask_h
            candidate = self.activation(x_h + (r * h_for_candidate) @ self.weight_hh[2 * u :].T)
        h = z * h + (1.0 - z) * candidate
        return h, [h]

    def get_config(self):
        """Return the cell's settings (with `reset_after`) as a Keras-compatible config dict."""
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config
