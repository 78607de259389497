"""Helpers for the kernel tests: small cells, fixed dropout masks, outputs + gradients."""

from __future__ import annotations

import torch

from rnnkit.kernels import CellKind
from rnnkit.kernels.base import SequenceRequest
from rnnkit.layers.cells import GRUCell
from rnnkit.layers.cells import LSTMCell
from rnnkit.layers.cells import SimpleRNNCell

KINDS = tuple(CellKind)
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear", "elu")
MASKS = (None, "right", "left", "gaps")
TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-10}


def make_cell(
    kind: CellKind, activation="tanh", *, dtype=torch.float64, units=4, features=3, **kwargs
):
    """A built cell of ``kind`` with well-conditioned random weights (a fixed seed per call)."""
    kwargs.setdefault("seed", 3)
    if kind is CellKind.SIMPLE_RNN:
        cell = SimpleRNNCell(units, activation=activation, dtype=dtype, **kwargs)
    elif kind is CellKind.LSTM:
        cell = LSTMCell(units, activation=activation, dtype=dtype, **kwargs)
    else:
        reset_after = kind is CellKind.GRU
        cell = GRUCell(units, activation=activation, reset_after=reset_after, dtype=dtype, **kwargs)
    assert cell.kind is kind
    cell.ensure_built((1, 1, features))
    gen = torch.Generator().manual_seed(11)
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(torch.rand(p.shape, generator=gen, dtype=dtype) - 0.5)
    return cell


def make_mask(kind, batch, steps, seed=5):
    """``None`` or a boolean ``(batch, steps)`` mask of the given shape of padding."""
    if kind is None:
        return None
    gen = torch.Generator().manual_seed(seed)
    positions = torch.arange(steps)[None, :]
    if kind == "right":  # valid prefix of 1..steps steps
        lengths = torch.randint(1, steps + 1, (batch, 1), generator=gen)
        return positions < lengths
    if kind == "left":  # padding first; the last row is fully masked
        starts = torch.randint(0, steps, (batch, 1), generator=gen)
        starts[-1] = steps
        return positions >= starts
    return torch.rand(batch, steps, generator=gen) > 0.4  # gaps anywhere


def freeze_dropout_masks(cell, x):
    """Draw the call's dropout masks once and make every later call reuse them."""
    masks = cell.make_dropout_masks(x, True)
    cell.make_dropout_masks = lambda _x, training: masks if training else type(masks)()
    return masks


def make_request(cell, *, batch=5, steps=6, dtype=torch.float64, mask=None, seed=0, **kwargs):
    """Inputs and initial states that require gradients, in a SequenceRequest."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, steps, cell.input_size, generator=gen, dtype=dtype)
    states = [torch.randn(batch, s, generator=gen, dtype=dtype) for s in cell.state_size]
    x.requires_grad_(True)
    for s in states:
        s.requires_grad_(True)
    return SequenceRequest(x, states, mask=make_mask(mask, batch, steps), **kwargs)


def outputs_and_grads(kernel, cell, request):
    """Run ``kernel``; return its outputs and the gradients of a weighted sum of them."""
    result = kernel(cell, request)
    outputs = [result.last_output, *result.states]
    if result.outputs is not None:
        outputs.append(result.outputs)
    gen = torch.Generator().manual_seed(1)
    loss = sum(
        (o * torch.randn(o.shape, generator=gen, dtype=o.dtype).to(o.device)).sum() for o in outputs
    )
    inputs = [request.x, *request.initial_states, *cell.parameters()]
    grads = torch.autograd.grad(loss, inputs, allow_unused=True)
    return [o.detach() for o in outputs], list(grads)


def assert_same_results(expected, got, dtype, label=""):
    """Outputs and gradients match within the dtype's tolerance."""
    tol = TOLERANCE[dtype]
    (out_e, grad_e), (out_g, grad_g) = expected, got
    assert len(out_e) == len(out_g), label
    for i, (a, b) in enumerate(zip(out_e, out_g, strict=True)):
        torch.testing.assert_close(
            b, a, atol=tol, rtol=tol, msg=lambda m, i=i: f"{label} output {i}: {m}"
        )
    for i, (a, b) in enumerate(zip(grad_e, grad_g, strict=True)):
        if a is None:
            assert b is None or not b.any(), f"{label} gradient {i}"
            continue
        torch.testing.assert_close(
            b, a, atol=tol, rtol=tol, msg=lambda m, i=i: f"{label} gradient {i}: {m}"
        )
