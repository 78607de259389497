"""PyTorch's fused ops with Keras-layout weights match the reference loop."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
import torch
from kernel_helpers import assert_same_results
from kernel_helpers import freeze_dropout_masks
from kernel_helpers import make_cell
from kernel_helpers import make_request
from kernel_helpers import outputs_and_grads

from rnnkit.kernels import CellKind
from rnnkit.kernels.reference import run_reference
from rnnkit.kernels.select import select_kernel

FUSABLE = [
    (CellKind.LSTM, "tanh"),
    (CellKind.GRU, "tanh"),
    (CellKind.SIMPLE_RNN, "tanh"),
    (CellKind.SIMPLE_RNN, "relu"),
]
FUSED_NAMES = {CellKind.LSTM: "fused-lstm", CellKind.GRU: "fused-gru"}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(("kind", "activation"), FUSABLE)
def test_fused_matches_reference(kind, activation, dtype):
    flags = itertools.product([None, "right", "left"], [False, True], [False, True], [0.0, 0.3])
    for mask, go_backwards, use_bias, dropout in flags:
        for return_sequences, zero in ((True, False), (False, True), (True, True)):
            label = f"{kind} mask={mask} back={go_backwards} bias={use_bias} drop={dropout}"
            cell = make_cell(kind, activation, dtype=dtype, use_bias=use_bias, dropout=dropout)
            request = make_request(
                cell, dtype=dtype, mask=mask, go_backwards=go_backwards, training=True,
                return_sequences=return_sequences, zero_output_for_mask=zero,
            )  # fmt: skip
            if mask == "left":
                request.mask[-1, -1] = True  # make_mask leaves the last row fully masked
            freeze_dropout_masks(cell, request.x)
            kernel, choice = select_kernel(cell, request, preference="fused")
            name = FUSED_NAMES.get(kind, f"fused-rnn-{activation}")
            assert choice.name == name + ("-packed" if mask else "")
            assert choice.reason == ""
            expected = outputs_and_grads(run_reference, cell, request)
            got = outputs_and_grads(kernel, cell, request)
            assert_same_results(expected, got, dtype, label)


@pytest.mark.parametrize(("kind", "activation"), FUSABLE)
def test_fused_inference_matches_reference(kind, activation):
    cell = make_cell(kind, activation, dtype=torch.float32, dropout=0.5)
    request = make_request(cell, dtype=torch.float32, mask="right", return_sequences=True)
    kernel, _ = select_kernel(cell, request, preference="fused")
    with torch.no_grad():
        expected = run_reference(cell, request)
        got = kernel(cell, request)
    torch.testing.assert_close(got.outputs, expected.outputs, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("mask", ["right", "left"])
@pytest.mark.parametrize(("kind", "activation"), FUSABLE)
def test_fused_masked_without_final_cell_state_runs_unpacked_and_matches(kind, activation, mask):
    """Callers that use no final states beyond h get the unpacked op over the padding."""
    for go_backwards, zero, return_sequences in itertools.product([False, True], repeat=3):
        cell = make_cell(kind, activation, dropout=0.3)
        request = make_request(
            cell, mask=mask, go_backwards=go_backwards, training=True,
            return_sequences=return_sequences, zero_output_for_mask=zero, return_states=False,
        )  # fmt: skip
        if mask == "left":
            request.mask[-1, -1] = True  # make_mask leaves the last row fully masked
        freeze_dropout_masks(cell, request.x)
        kernel, _ = select_kernel(cell, request, preference="fused")
        expected = outputs_and_grads(_hidden_state_only(run_reference), cell, request)
        got = outputs_and_grads(_hidden_state_only(kernel), cell, request)
        assert_same_results(expected, got, torch.float64, f"{kind} {mask} {go_backwards} {zero}")


def _hidden_state_only(kernel):
    """``kernel`` returning only the final hidden state (no LSTM cell state)."""

    def run(cell, request):
        result = kernel(cell, request)
        return dataclasses.replace(result, states=result.states[:1])

    return run
