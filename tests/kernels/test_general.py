"""The general BPTT kernels (native and torch engines) match the reference loop.

Every cell × activation × dtype runs 16 cases (4 masks × 4 dropout settings); the
flags return_sequences, go_backwards, use_bias and zero_output_for_mask rotate with
the case index so that each value meets each cell, activation, mask and dropout
setting. Outputs, final states and the gradients of inputs, initial states and all
weights are compared within 1e-5 (float32) / 1e-10 (float64).
"""

from __future__ import annotations

import functools
import itertools

import pytest
import torch
from kernel_helpers import ACTIVATIONS
from kernel_helpers import KINDS
from kernel_helpers import MASKS
from kernel_helpers import assert_same_results
from kernel_helpers import freeze_dropout_masks
from kernel_helpers import make_cell
from kernel_helpers import make_request
from kernel_helpers import outputs_and_grads

from rnnkit.kernels import CellKind
from rnnkit.kernels import native
from rnnkit.kernels import threads
from rnnkit.kernels.general import run_general
from rnnkit.kernels.reference import run_reference

DROPOUTS = ((0.0, 0.0), (0.3, 0.0), (0.0, 0.4), (0.3, 0.4))
ENGINES = ("native", "torch")


def _cases():
    for index, (mask, (dropout, recurrent)) in enumerate(itertools.product(MASKS, DROPOUTS)):
        flags = [bool(index >> bit & 1) for bit in range(4)]
        yield mask, dropout, recurrent, *flags


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_general_matches_reference(kind, activation, dtype):
    for mask, dropout, recurrent, return_sequences, go_backwards, use_bias, zero in _cases():
        label = (
            f"{kind} {activation} mask={mask} dropout={dropout} recurrent={recurrent} "
            f"seq={return_sequences} back={go_backwards} bias={use_bias} zero={zero}"
        )
        cell = make_cell(
            kind, activation, dtype=dtype, use_bias=use_bias, dropout=dropout,
            recurrent_dropout=recurrent,
        )  # fmt: skip
        request = make_request(
            cell, dtype=dtype, mask=mask, go_backwards=go_backwards,
            return_sequences=return_sequences, zero_output_for_mask=zero, training=True,
        )  # fmt: skip
        freeze_dropout_masks(cell, request.x)
        expected = outputs_and_grads(run_reference, cell, request)
        for engine in ENGINES:
            kernel = functools.partial(run_general, engine=engine)
            got = outputs_and_grads(kernel, cell, request)
            assert_same_results(expected, got, dtype, f"{engine}: {label}")


@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize("kind", KINDS)
def test_general_native_splits_rows_across_threads(kind, mask, monkeypatch):
    monkeypatch.setattr(threads, "MIN_ROWS_PER_THREAD", 1)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 3)
    for batch, go_backwards in ((7, False), (10, True), (2, False)):
        cell = make_cell(kind, "relu", recurrent_dropout=0.3)
        request = make_request(
            cell, batch=batch, steps=9, mask=mask, return_sequences=True, training=True,
            go_backwards=go_backwards,
        )  # fmt: skip
        freeze_dropout_masks(cell, request.x)
        expected = outputs_and_grads(run_reference, cell, request)
        got = outputs_and_grads(functools.partial(run_general, engine="native"), cell, request)
        assert_same_results(expected, got, torch.float64, f"{kind} {mask} batch={batch}")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("activation", ["selu", "softsign", "hard_sigmoid", "relu6", "leaky_relu",
                                        "exponential", "hard_tanh"])  # fmt: skip
def test_general_other_activations_match_reference(kind, activation):
    cell = make_cell(kind, activation)
    request = make_request(cell, steps=3, return_sequences=True)  # exponential grows fast
    expected = outputs_and_grads(run_reference, cell, request)
    for engine in ENGINES:
        got = outputs_and_grads(functools.partial(run_general, engine=engine), cell, request)
        assert_same_results(expected, got, torch.float64, f"{engine} {kind} {activation}")


@pytest.mark.parametrize("kind", KINDS)
def test_general_recurrent_activation_relu_matches_reference(kind):
    if kind is CellKind.SIMPLE_RNN:
        pytest.skip("SimpleRNN has no recurrent_activation")
    cell = make_cell(kind, "tanh", recurrent_activation="hard_sigmoid")
    request = make_request(cell, return_sequences=True)
    expected = outputs_and_grads(run_reference, cell, request)
    got = outputs_and_grads(functools.partial(run_general, engine="native"), cell, request)
    assert_same_results(expected, got, torch.float64, kind)


@pytest.mark.parametrize("kind", KINDS)
def test_general_inference_without_grad_matches_reference(kind):
    cell = make_cell(kind, "relu", dtype=torch.float32)
    request = make_request(cell, dtype=torch.float32, return_sequences=True, mask="right")
    with torch.no_grad():
        expected = run_reference(cell, request)
        got = run_general(cell, request, engine="native")
    torch.testing.assert_close(got.outputs, expected.outputs, atol=1e-6, rtol=1e-6)
    for a, b in zip(expected.states, got.states, strict=True):
        torch.testing.assert_close(b, a, atol=1e-6, rtol=1e-6)


def test_general_single_step_and_single_row():
    for batch, steps in ((1, 1), (1, 4), (3, 1)):
        cell = make_cell(CellKind.LSTM, "tanh")
        request = make_request(cell, batch=batch, steps=steps, return_sequences=True)
        expected = outputs_and_grads(run_reference, cell, request)
        got = outputs_and_grads(functools.partial(run_general, engine="native"), cell, request)
        assert_same_results(expected, got, torch.float64, f"{batch}x{steps}")


@pytest.mark.parametrize("engine", ENGINES)
def test_general_frozen_weights_get_no_gradient(engine):
    cell = make_cell(CellKind.GRU, "relu")
    cell.requires_grad_(False)
    request = make_request(cell, return_sequences=True)
    result = run_general(cell, request, engine=engine)
    grads = torch.autograd.grad(result.outputs.sum(), [request.x, *request.initial_states])
    expected = torch.autograd.grad(
        run_reference(cell, request).outputs.sum(), [request.x, *request.initial_states]
    )
    for a, b in zip(expected, grads, strict=True):
        torch.testing.assert_close(b, a)


def test_general_rejects_cells_without_fast_kernel():
    cell = make_cell(CellKind.LSTM, "gelu")
    request = make_request(cell)
    with pytest.raises(ValueError, match="activation 'gelu' has no fast kernel"):
        run_general(cell, request)


def test_native_library_builds_for_both_dtypes():
    for dtype in (torch.float32, torch.float64):
        library = native.load(dtype)
        assert library is not None, native.unavailable_reason(dtype)
        assert library.path.exists()
