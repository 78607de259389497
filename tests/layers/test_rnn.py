"""The RNN layer: which kernel it runs (``kernel_choice``) and the cells it accepts."""

from __future__ import annotations

import pytest
import torch

from rnnkit.kernels import KernelChoice
from rnnkit.layers.cells import LSTMCell
from rnnkit.layers.cells import RecurrentCell
from rnnkit.layers.dense import Dense
from rnnkit.layers.recurrent import GRU
from rnnkit.layers.recurrent import LSTM
from rnnkit.layers.recurrent import SimpleRNN
from rnnkit.layers.rnn import RNN
from rnnkit.layers.wrappers import Bidirectional


class ScaledLSTMCell(LSTMCell):
    """A user subclass that keeps LSTM's equations."""


class HalfTanhCell(RecurrentCell):
    """A new cell class without a kind: ``h_t = 0.5 tanh(x_t W + b + h_{t-1} U)``."""

    def step(self, xp_t, states, recurrent_mask):
        h = 0.5 * torch.tanh(xp_t + self.project_state(states[0], recurrent_mask))
        return h, [h]


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        (LSTM(3), "general-native"),
        (LSTM(3, use_cudnn=True), "fused-lstm"),
        (LSTM(3, use_cudnn=False), "general-native (use_cudnn=False)"),
        (GRU(3, activation="relu"), "general-native (relu activation has no fused kernel)"),
        (SimpleRNN(3, activation="relu"), "general-native"),
    ],
)
def test_layer_records_its_kernel(layer, expected):
    layer(torch.ones(2, 4, 5))
    assert str(layer.kernel_choice) == expected


def test_layer_use_cudnn_true_raises_for_relu():
    layer = LSTM(3, activation="relu", use_cudnn=True)
    with pytest.raises(ValueError, match="relu activation has no fused kernel"):
        layer(torch.ones(2, 4, 5))


def test_kernel_choice_is_none_before_the_first_call_and_read_only():
    layer = GRU(3)
    assert layer.kernel_choice is None
    layer(torch.ones(2, 4, 5))
    assert layer.kernel_choice == KernelChoice("general-native")
    with pytest.raises(AttributeError):
        layer.kernel_choice = KernelChoice("reference")


@pytest.mark.parametrize(
    "layer",
    [RNN(LSTMCell(3)), SimpleRNN(3), LSTM(3), GRU(3), Bidirectional(LSTM(3))],
    ids=["RNN", "SimpleRNN", "LSTM", "GRU", "Bidirectional"],
)
def test_recurrent_layers_have_no_kernel_attribute(layer):
    layer(torch.ones(2, 4, 5))
    assert not hasattr(layer, "kernel")  # Keras' recurrent layers have none either
    assert layer.kernel_choice is not None


def test_dense_kernel_is_still_its_weight_matrix():
    layer = Dense(2)
    layer(torch.ones(3, 4))
    assert isinstance(layer.kernel, torch.nn.Parameter)
    assert tuple(layer.kernel.shape) == (4, 2)


def test_rnn_with_a_subclass_of_lstm_cell_runs_the_fast_kernel():
    layer = RNN(ScaledLSTMCell(3), return_sequences=True)
    x = torch.randn(4, 6, 5, generator=torch.Generator().manual_seed(0))
    fast = layer(x)
    assert layer.kernel_choice == KernelChoice("general-native")
    layer.kernel_preference = "reference"
    torch.testing.assert_close(fast, layer(x), atol=1e-5, rtol=1e-5)
    assert str(layer.kernel_choice) == "reference (requested)"


def test_rnn_with_a_cell_without_a_kind_runs_the_reference_loop_and_says_why():
    layer = RNN(HalfTanhCell(3))
    x = torch.randn(4, 6, 5, generator=torch.Generator().manual_seed(0))
    out = layer(x)
    assert str(layer.kernel_choice) == (
        "reference (cell class HalfTanhCell declares no CellKind `kind`; "
        "only the reference loop runs it)"
    )
    cell = layer.cell
    h = torch.zeros(4, 3)
    for t in range(6):
        h = 0.5 * torch.tanh(x[:, t] @ cell.weight_ih.T + cell.bias + h @ cell.weight_hh.T)
    torch.testing.assert_close(out, h)
