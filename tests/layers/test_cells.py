"""Cells declare which equations they compute (``kind``); the fast kernels read only that."""

from __future__ import annotations

import functools

import pytest
import torch

from rnnkit.kernels import CellKind
from rnnkit.kernels import SequenceRequest
from rnnkit.kernels.cellspec import describe
from rnnkit.kernels.general import run_general
from rnnkit.kernels.reference import run_reference
from rnnkit.kernels.select import select_kernel
from rnnkit.layers.cells import GRUCell
from rnnkit.layers.cells import LSTMCell
from rnnkit.layers.cells import RecurrentCell
from rnnkit.layers.cells import SimpleRNNCell


class ScaledLSTMCell(LSTMCell):
    """A user subclass that keeps LSTM's equations (it only adds a constructor option)."""

    def __init__(self, units, scale=1.0, **kwargs):
        super().__init__(units, **kwargs)
        self.scale = scale


class HalfTanhCell(RecurrentCell):
    """A new cell class: ``h_t = 0.5 tanh(x_t W + b + h_{t-1} U)``. It declares no kind."""

    def step(self, xp_t, states, recurrent_mask):
        h = 0.5 * torch.tanh(xp_t + self.project_state(states[0], recurrent_mask))
        return h, [h]


class PeepholeLSTMCell(LSTMCell):
    """Changes LSTM's equations, so it must give up the LSTM kind."""

    kind = None

    def step(self, xp_t, states, recurrent_mask):
        h, states = super().step(xp_t, states, recurrent_mask)
        return h + states[1], [h + states[1], states[1]]


def _built(cell_class, units=3, features=3, **kwargs):
    """A float64 cell with random weights in [-0.5, 0.5)."""
    cell = cell_class(units, dtype=torch.float64, **kwargs)
    cell.ensure_built((1, 1, features))
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(torch.rand(p.shape, generator=gen, dtype=torch.float64) - 0.5)
    return cell


def _request(cell, batch=4, steps=5, features=3):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(batch, steps, features, generator=gen, dtype=torch.float64)
    return SequenceRequest(x, cell.get_initial_state(batch), return_sequences=True)


@pytest.mark.parametrize(
    ("cell", "kind", "gates"),
    [
        (SimpleRNNCell(2), CellKind.SIMPLE_RNN, 1),
        (LSTMCell(2), CellKind.LSTM, 4),
        (GRUCell(2), CellKind.GRU, 3),
        (GRUCell(2, reset_after=False), CellKind.GRU_RESET_BEFORE, 3),
    ],
)
def test_each_cell_declares_its_kind(cell, kind, gates):
    assert cell.kind is kind
    assert kind.gates == cell.gates == gates
    assert kind.has_cell_state == (len(cell.state_size) == 2)


def test_a_new_cell_class_declares_no_kind():
    assert RecurrentCell.kind is None
    assert HalfTanhCell(2).kind is None


def test_describe_reads_the_declared_kind_not_the_class_name():
    cell = _built(ScaledLSTMCell, scale=2.0)
    spec, reason = describe(cell)
    assert reason == ""
    assert spec.kind is CellKind.LSTM
    assert spec.gates == 4
    assert spec.weight_hh is cell.weight_hh


def test_subclass_of_lstm_cell_runs_on_the_fast_kernel():
    cell = _built(ScaledLSTMCell)
    request = _request(cell)
    _, choice = select_kernel(cell, request)
    assert choice.name.startswith("general-")  # native, or torch without a compiler
    expected = run_reference(cell, request)
    for engine in ("native", "torch") if choice.name == "general-native" else ("torch",):
        got = functools.partial(run_general, engine=engine)(cell, request)
        torch.testing.assert_close(got.outputs, expected.outputs, atol=1e-10, rtol=1e-10)
        torch.testing.assert_close(got.states[1], expected.states[1], atol=1e-10, rtol=1e-10)


def test_cell_without_a_kind_falls_back_to_the_reference_loop_with_a_reason():
    cell = _built(HalfTanhCell)
    request = _request(cell)
    kernel, choice = select_kernel(cell, request)
    assert kernel is run_reference
    assert str(choice) == (
        "reference (cell class HalfTanhCell declares no CellKind `kind`; "
        "only the reference loop runs it)"
    )
    # The reference loop runs the cell's own step: h_t = 0.5 tanh(x W + b + h U).
    h = torch.zeros(4, 3, dtype=torch.float64)
    for t in range(request.x.shape[1]):
        xp = request.x[:, t] @ cell.weight_ih.T + cell.bias
        h = 0.5 * torch.tanh(xp + h @ cell.weight_hh.T)
    torch.testing.assert_close(kernel(cell, request).last_output, h)


def test_subclass_that_changes_the_equations_gives_up_its_kind():
    cell = _built(PeepholeLSTMCell)
    kernel, choice = select_kernel(cell, _request(cell))
    assert kernel is run_reference
    assert "cell class PeepholeLSTMCell declares no CellKind" in choice.reason


def test_a_kind_that_does_not_match_the_gates_falls_back_with_a_reason():
    class Mislabelled(HalfTanhCell):
        kind = CellKind.LSTM  # but one gate block

    cell = _built(Mislabelled)
    kernel, choice = select_kernel(cell, _request(cell))
    assert kernel is run_reference
    assert choice.reason == (
        "cell class Mislabelled declares CellKind.LSTM (4 gate blocks) but has gates=1; "
        "only the reference loop runs it"
    )
