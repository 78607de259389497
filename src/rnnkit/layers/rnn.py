"""The RNN layer: runs a cell over a sequence with Keras' sequence semantics.

``RNN`` owns everything about the time axis — ``return_sequences``,
``return_state``, ``go_backwards``, ``stateful``, masks, initial states — and asks
:func:`rnnkit.kernels.select_kernel` which kernel runs the loop. The kernel it
ran last is ``layer.kernel_choice`` (a :class:`~rnnkit.kernels.KernelChoice`).
Recurrent layers have no ``kernel`` attribute: their weights are the cell's
``weight_ih``/``weight_hh``/``bias`` (``get_weights()`` in Keras' layout).
"""

from __future__ import annotations

from typing import Any

import torch

from rnnkit import regularizers as regularizers_mod
from rnnkit._validation import check_bool
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.kernels import KernelChoice
from rnnkit.kernels import SequenceRequest
from rnnkit.kernels import select_kernel
from rnnkit.layers.base import Layer
from rnnkit.layers.cells import RecurrentCell
from rnnkit.layers.registry import get_layer_class
from rnnkit.layers.registry import registered_name

_CELL_ATTRIBUTES = (
    "units",
    "activation",
    "recurrent_activation",
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "dropout",
    "recurrent_dropout",
    "seed",
    "state_size",
)


class RNN(Layer):
    """Base class for recurrent layers: a cell run over time.

    Args:
        cell: A :class:`~rnnkit.layers.cells.RecurrentCell`.
        return_sequences: Return the output at every timestep ``(batch, steps, units)``
            instead of the last one ``(batch, units)``. Defaults to `False`.
        return_state: Also return the final states. Defaults to `False`.
        go_backwards: Process the sequence from its end; the returned sequence is in
            processing order (reversed). Defaults to `False`.
        stateful: Carry the final states of one batch over as the initial states of
            the next (fixed batch size; see :meth:`reset_states`). Defaults to `False`.
        unroll: Accepted for Keras compatibility; the result is identical.
            Defaults to `False`.
        zero_output_for_mask: Masked steps output zeros instead of the previous
            output. Defaults to `False`.
        activity_regularizer: Penalty on the layer output. Defaults to `None`.

    Call arguments:
        inputs: ``(batch, timesteps, features)``.
        mask: Optional boolean ``(batch, timesteps)``; True marks valid steps.
        training: Dropout on/off; defaults to the module's mode.
        initial_state: Optional list of initial state tensors.
    """

    supports_masking = True

    def __init__(
        self,
        cell: RecurrentCell,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        caller = type(self).__name__
        if not isinstance(cell, RecurrentCell):
            raise RnnkitTypeError(
                f"{caller}(): `cell` must be an rnnkit cell such as LSTMCell(units). "
                f"Received: {cell!r}."
            )
        self.cell = cell
        self.return_sequences = check_bool("return_sequences", return_sequences, caller=caller)
        self.return_state = check_bool("return_state", return_state, caller=caller)
        self.go_backwards = check_bool("go_backwards", go_backwards, caller=caller)
        self.stateful = check_bool("stateful", stateful, caller=caller)
        self.unroll = check_bool("unroll", unroll, caller=caller)
        self.zero_output_for_mask = check_bool(
            "zero_output_for_mask", zero_output_for_mask, caller=caller
        )
        self.activity_regularizer = regularizers_mod.get(activity_regularizer, caller=caller)
        self.activity_loss: torch.Tensor | None = None
        self.kernel_preference = "auto"
        self._kernel_choice: KernelChoice | None = None
        self._states: list[torch.Tensor] | None = None
        self._stateful_batch_size: int | None = None
        self.input_spec_features: int | None = None

    # ------------------------------------------------------------------ build
    def build(self, input_shape):
        """Build the cell for ``(batch, timesteps, features)`` inputs."""
        if len(input_shape) != 3:
            raise RnnkitValueError(
                f"{type(self).__name__} '{self.name}': inputs must be 3-D "
                f"(batch, timesteps, features). Received shape {tuple(input_shape)}."
            )
        self.cell.ensure_built(input_shape)
        self.input_spec_features = int(input_shape[-1])
        self.built = True

    def compute_output_shape(self, input_shape):
        """Return the output shape (and state shapes with `return_state`) for `input_shape`."""
        batch, steps = input_shape[0], input_shape[1]
        units = self.cell.output_size
        output = (batch, steps, units) if self.return_sequences else (batch, units)
        if self.return_state:
            return [output] + [(batch, s) for s in self.cell.state_size]
        return output

    def compute_mask(self, inputs, mask):
        """Return the input mask with `return_sequences`, else ``None``."""
        return mask if self.return_sequences else None

    # ---------------------------------------------------------------- weights
    def keras_weights(self):
        """The cell's weights in Keras' order."""
        return self.cell.keras_weights()

    def assign_keras_weights(self, arrays):
        """Load the cell's weights, given in Keras' order."""
        self.cell.assign_keras_weights(arrays)

    def regularization_loss(self):
        """The cell's kernel, recurrent and bias penalties, summed."""
        return self.cell.regularization_loss()

    def apply_constraints(self):
        """Apply the cell's weight constraints in place (after an optimizer step)."""
        self.cell.apply_constraints()

    def reset_parameters(self) -> None:
        """Re-initialise the cell's weights."""
        self.cell.reset_parameters()

    # --------------------------------------------------------------- stateful
    def reset_states(self, states: list[Any] | None = None) -> None:
        """Zero the carried states of a ``stateful`` layer (or set them to ``states``)."""
        if states is None:
            self._states = None
        else:
            self._states = [torch.as_tensor(s, dtype=self.dtype) for s in states]

    reset_state = reset_states

    @property
    def states(self) -> list[torch.Tensor] | None:
        """The states carried by a stateful layer (``None`` before the first batch)."""
        return self._states

    @property
    def kernel_choice(self) -> KernelChoice | None:
        """The kernel the last call ran, and why (``None`` before the first call).

        Example:
            >>> import torch
            >>> from rnnkit.layers.recurrent import LSTM
            >>> layer = LSTM(3, use_cudnn=False)
            >>> _ = layer(torch.ones(2, 4, 5))
            >>> layer.kernel_choice.reason
            'use_cudnn=False'
        """
        return self._kernel_choice

    def predicted_kernel(self) -> KernelChoice | None:
        """The kernel an unmasked call in the current mode would run."""
        if not self.built:
            return None
        probe = torch.zeros(1, 1, self.input_spec_features or 1, dtype=self.dtype)
        request = SequenceRequest(probe, self.cell.get_initial_state(1), training=self.training)
        return select_kernel(self.cell, request, preference=self.kernel_preference)[1]

    # ---------------------------------------------------------------- forward
    def _initial_states(self, x: torch.Tensor, initial_state: Any) -> list[torch.Tensor]:
        batch = x.shape[0]
        if initial_state is not None:
            if isinstance(initial_state, torch.Tensor):
                initial_state = [initial_state]
            states = [torch.as_tensor(s, dtype=x.dtype, device=x.device) for s in initial_state]
            expected = [(batch, size) for size in self.cell.state_size]
            received = [tuple(s.shape) for s in states]
            if expected != received:
                raise RnnkitValueError(
                    f"{type(self).__name__} '{self.name}': initial_state must be "
                    f"{len(expected)} tensor(s) of shapes {expected}. Received {received}."
                )
            return states
        if self.stateful:
            expected_batch = self.declared_batch_size or self._stateful_batch_size
            if expected_batch is not None and expected_batch != batch:
                raise RnnkitValueError(
                    f"{type(self).__name__} '{self.name}' is stateful with batch size "
                    f"{expected_batch}, but received a batch of {batch}. Use the same batch size "
                    "for every call (and in fit/predict), with a sample count divisible by it."
                )
            self._stateful_batch_size = batch
            if self._states is not None:
                return [s.to(x.device) for s in self._states]
        return self.cell.get_initial_state(batch, device=x.device)

    def _zero_initial_state(self, initial_state: Any) -> bool:
        """Whether this call starts from the cell's default zero states."""
        if initial_state is not None or (self.stateful and self._states is not None):
            return False
        return type(self.cell).get_initial_state is RecurrentCell.get_initial_state

    def _check_inputs(self, x: torch.Tensor) -> None:
        if x.dim() != 3:
            raise RnnkitValueError(
                f"{type(self).__name__} '{self.name}': inputs must be 3-D (batch, timesteps, "
                f"features). Received shape {tuple(x.shape)}."
            )
        if self.input_spec_features is not None and x.shape[-1] != self.input_spec_features:
            raise RnnkitValueError(
                f"{type(self).__name__} '{self.name}' was built for {self.input_spec_features} "
                f"input features. Received shape {tuple(x.shape)} "
                f"({x.shape[-1]} features)."
            )

    def forward(self, inputs, mask=None, training=None, initial_state=None):
        """Run the layer; see the class docstring for the call arguments."""
        x = torch.as_tensor(inputs)
        if x.dtype != self.dtype:
            x = x.to(self.dtype)
        self._check_inputs(x)
        training = self.resolve_training(training)
        if mask is not None:
            mask = torch.as_tensor(mask, device=x.device).bool()
            if tuple(mask.shape) != tuple(x.shape[:2]):
                raise RnnkitValueError(
                    f"{type(self).__name__} '{self.name}': mask must have shape (batch, "
                    f"timesteps) = {tuple(x.shape[:2])}, one flag per step of the input. "
                    f"Received a mask of shape {tuple(mask.shape)}."
                )
        states = self._initial_states(x, initial_state)
        request = SequenceRequest(
            x=x,
            initial_states=states,
            mask=mask,
            go_backwards=self.go_backwards,
            return_sequences=self.return_sequences,
            zero_output_for_mask=self.zero_output_for_mask,
            training=training,
            return_states=self.return_state or self.stateful,
            zero_initial_state=self._zero_initial_state(initial_state),
        )
        kernel, self._kernel_choice = select_kernel(
            self.cell, request, preference=self.kernel_preference
        )
        result = kernel(self.cell, request)
        if self.stateful:
            self._states = [s.detach() for s in result.states]
        output = result.outputs if self.return_sequences else result.last_output
        assert output is not None  # kernels return per-step outputs when return_sequences asks
        if self.activity_regularizer is not None and training:
            self.activity_loss = self.activity_regularizer(output) / output.shape[0]
        if self.return_state:
            return [output, *result.states]
        return output

    # ----------------------------------------------------------------- config
    #: Cell settings a named layer leaves out of its config (as Keras does).
    omitted_cell_keys: tuple[str, ...] = ()

    def get_config(self):
        """Constructor arguments: the sequence options, and the cell's settings.

        ``SimpleRNN``/``LSTM``/``GRU`` flatten their cell's settings into their own
        config, as Keras does; a plain ``RNN(cell)`` nests the cell as
        ``{"class_name", "config"}``, also as Keras does.
        """
        config = {}
        if type(self) is not RNN:  # named layers flatten their cell's settings, as Keras
            config = self.cell.get_config()
            for key in ("name", "trainable", *self.omitted_cell_keys):
                config.pop(key, None)
        else:
            config["cell"] = {
                "class_name": registered_name(self.cell),
                "config": self.cell.get_config(),
            }
        config.update(self._sequence_config())
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RNN:
        """Create the layer from :meth:`get_config`'s output (the cell found by name)."""
        config = dict(config)
        cell = config.get("cell")
        if cls is RNN and isinstance(cell, dict):
            if not isinstance(cell.get("config", {}), dict):
                raise RnnkitTypeError(
                    "RNN.from_config(): the cell's config must be a dict. "
                    f"Received: {type(cell.get('config')).__name__}."
                )
            cell_class = get_layer_class(cell.get("class_name"), caller="RNN.from_config()")
            if not issubclass(cell_class, RecurrentCell):
                raise RnnkitTypeError(
                    f"RNN.from_config(): {cell.get('class_name')!r} is not a recurrent cell. "
                    "Expected SimpleRNNCell, LSTMCell, GRUCell or a registered cell class."
                )
            config["cell"] = cell_class.from_config(dict(cell.get("config", {})))
        return super().from_config(config)  # type: ignore[return-value]  # builds `cls`

    def _sequence_config(self):
        config = super().get_config()
        config.update(
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            go_backwards=self.go_backwards,
            stateful=self.stateful,
            unroll=self.unroll,
            activity_regularizer=regularizers_mod.serialize(self.activity_regularizer),
        )
        if self.zero_output_for_mask:
            config["zero_output_for_mask"] = True
        return config

    def extra_repr(self) -> str:
        """Summarise the cell and the flags that are set, for ``repr``."""
        flags = [
            n
            for n in ("return_sequences", "return_state", "go_backwards", "stateful")
            if getattr(self, n)
        ]
        return ", ".join([f"name={self.name!r}", *flags])


def _cell_property(attribute: str):
    def getter(self):
        return getattr(self.cell, attribute)

    getter.__doc__ = f"The cell's ``{attribute}``."
    return property(getter)


for _attribute in _CELL_ATTRIBUTES:
    setattr(RNN, _attribute, _cell_property(_attribute))
