"""The three recurrent layers: ``SimpleRNN``, ``LSTM`` and ``GRU``.

Each is a thin :class:`~rnnkit.layers.rnn.RNN` around its cell, with Keras 3's
constructor arguments in Keras' positional order and with Keras' defaults.
"""

from __future__ import annotations

from typing import Any

from rnnkit._validation import check_one_of
from rnnkit.errors import RnnkitError
from rnnkit.layers.cells import GRUCell
from rnnkit.layers.cells import LSTMCell
from rnnkit.layers.cells import SimpleRNNCell
from rnnkit.layers.rnn import RNN

_LAYER_KEYS = (
    "name",
    "trainable",
    "dtype",
    "input_shape",
    "input_dim",
    "batch_size",
    "batch_input_shape",
)


def _split_layer_kwargs(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    layer = {k: kwargs.pop(k) for k in _LAYER_KEYS if k in kwargs}
    cell = {"dtype": layer["dtype"]} if "dtype" in layer else {}
    return layer, cell


class SimpleRNN(RNN):
    """Fully connected RNN: ``h_t = activation(x_t W + b + h_{t-1} U)``.

    Args:
        units: Dimension of the output space, a positive integer.
        activation: Activation name or callable. Defaults to `"tanh"`.
        use_bias: Defaults to `True`.
        kernel_initializer: Defaults to `"glorot_uniform"`.
        recurrent_initializer: Defaults to `"orthogonal"`.
        bias_initializer: Defaults to `"zeros"`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        activity_regularizer: Penalties. Default to `None`.
        kernel_constraint, recurrent_constraint, bias_constraint: Default to `None`.
        dropout: Fraction of the inputs to drop, one mask per sequence. Defaults to `0.0`.
        recurrent_dropout: Fraction of the recurrent state to drop. Defaults to `0.0`.
        return_sequences, return_state, go_backwards, stateful, unroll: See
            :class:`~rnnkit.layers.rnn.RNN`. Default to `False`.
        seed: Seed of the dropout masks. Defaults to `None`.

    Example:
        >>> import torch
        >>> layer = SimpleRNN(4)
        >>> layer(torch.ones(32, 10, 8)).shape
        torch.Size([32, 4])
    """

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
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        seed=None,
        **kwargs,
    ):
        layer_kwargs, cell_kwargs = _split_layer_kwargs(kwargs)
        cell = _make_cell(
            SimpleRNNCell,
            "SimpleRNN",
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            name="simple_rnn_cell",
            **cell_kwargs,
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **layer_kwargs,
            **kwargs,
        )

    omitted_cell_keys = ("seed",)  # Keras' SimpleRNN.get_config omits seed


class LSTM(RNN):
    """Long Short-Term Memory layer (Hochreiter & Schmidhuber, 1997).

    Keras 3 semantics and gate order (i, f, c, o); see
    :class:`~rnnkit.layers.cells.LSTMCell` for the equations.

    Args:
        units: Dimension of the output space, a positive integer.
        activation: Used for the candidate and the output squashing. Defaults to `"tanh"`.
        recurrent_activation: Gate activation. Defaults to `"sigmoid"`.
        use_bias: Defaults to `True`.
        kernel_initializer: Defaults to `"glorot_uniform"`.
        recurrent_initializer: Defaults to `"orthogonal"`.
        bias_initializer: Defaults to `"zeros"`.
        unit_forget_bias: Start the forget-gate bias at 1. Defaults to `True`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        activity_regularizer: Penalties. Default to `None`.
        kernel_constraint, recurrent_constraint, bias_constraint: Default to `None`.
        dropout: Fraction of the inputs to drop, one mask per sequence. Defaults to `0.0`.
        recurrent_dropout: Fraction of the recurrent state to drop. Defaults to `0.0`.
        seed: Seed of the dropout masks. Defaults to `None`.
        return_sequences, return_state, go_backwards, stateful, unroll: See
            :class:`~rnnkit.layers.rnn.RNN`. Default to `False`.
        use_cudnn: ``"auto"`` (fastest kernel that fits), ``True`` (require a fused
            kernel; error if the configuration has none) or ``False`` (always the
            general loop). Defaults to `"auto"`.

    Example:
        >>> import torch
        >>> layer = LSTM(3, return_sequences=True, return_state=True)
        >>> out, h, c = layer(torch.ones(2, 6, 4))
        >>> tuple(out.shape), tuple(h.shape), tuple(c.shape)
        ((2, 6, 3), (2, 3), (2, 3))
    """

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
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        use_cudnn="auto",
        **kwargs,
    ):
        layer_kwargs, cell_kwargs = _split_layer_kwargs(kwargs)
        cell = _make_cell(
            LSTMCell,
            "LSTM",
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            name="lstm_cell",
            **cell_kwargs,
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **layer_kwargs,
            **kwargs,
        )
        self.use_cudnn = _check_use_cudnn(use_cudnn, "LSTM")
        self.kernel_preference = _preference(self.use_cudnn)

    @property
    def unit_forget_bias(self) -> bool:
        """Whether the forget-gate bias starts at 1."""
        # self.cell is an LSTMCell; RNN types it as RecurrentCell
        return self.cell.unit_forget_bias  # type: ignore[return-value]


class GRU(RNN):
    """Gated Recurrent Unit (Cho et al., 2014) with Keras 3 semantics (gates z, r, h).

    ``reset_after=True`` (default) applies the reset gate after the recurrent matmul
    and keeps a separate recurrent bias (bias shape ``(2, 3 * units)``), as cuDNN and
    ``torch.nn.GRU`` do; see :class:`~rnnkit.layers.cells.GRUCell`.

    Args:
        units: Dimension of the output space, a positive integer.
        activation: Candidate activation. Defaults to `"tanh"`.
        recurrent_activation: Gate activation. Defaults to `"sigmoid"`.
        use_bias: Defaults to `True`.
        kernel_initializer: Defaults to `"glorot_uniform"`.
        recurrent_initializer: Defaults to `"orthogonal"`.
        bias_initializer: Defaults to `"zeros"`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        activity_regularizer: Penalties. Default to `None`.
        kernel_constraint, recurrent_constraint, bias_constraint: Default to `None`.
        dropout: Fraction of the inputs to drop, one mask per sequence. Defaults to `0.0`.
        recurrent_dropout: Fraction of the recurrent state to drop. Defaults to `0.0`.
        seed: Seed of the dropout masks. Defaults to `None`.
        return_sequences, return_state, go_backwards, stateful, unroll: See
            :class:`~rnnkit.layers.rnn.RNN`. Default to `False`.
        reset_after: Defaults to `True`.
        use_cudnn: As for :class:`LSTM`. Defaults to `"auto"`.

    Example:
        >>> import torch
        >>> GRU(5)(torch.ones(2, 7, 3)).shape
        torch.Size([2, 5])
    """

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
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        reset_after=True,
        use_cudnn="auto",
        **kwargs,
    ):
        layer_kwargs, cell_kwargs = _split_layer_kwargs(kwargs)
        cell = _make_cell(
            GRUCell,
            "GRU",
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            reset_after=reset_after,
            name="gru_cell",
            **cell_kwargs,
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **layer_kwargs,
            **kwargs,
        )
        self.use_cudnn = _check_use_cudnn(use_cudnn, "GRU")
        self.kernel_preference = _preference(self.use_cudnn)

    @property
    def reset_after(self) -> bool:
        """Whether the reset gate is applied after the recurrent matmul."""
        # self.cell is a GRUCell; RNN types it as RecurrentCell
        return self.cell.reset_after  # type: ignore[return-value]


def _make_cell(cell_class: type, layer_name: str, *args: Any, **kwargs: Any) -> Any:
    """Build the layer's cell; argument errors name the layer the user called."""
    try:
        return cell_class(*args, **kwargs)
    except RnnkitError as exc:
        message = str(exc).replace(f"{cell_class.__name__}(", f"{layer_name}(", 1)
        message = message.replace(f"{cell_class.__name__}:", f"{layer_name}:", 1)
        raise type(exc)(message) from None


def _check_use_cudnn(value: Any, caller: str) -> Any:
    return check_one_of("use_cudnn", value, ("auto", True, False), caller=caller)


def _preference(use_cudnn: Any) -> str:
    return {"auto": "auto", True: "fused", False: "general"}[use_cudnn]
