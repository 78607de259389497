"""The reference kernel: a plain Python loop over the cell's :meth:`step`.

It works for every cell, activation, dropout setting and mask, and defines the
numbers every faster kernel must reproduce.

Masked steps follow Keras: the states carry over unchanged and the output repeats
the previous output (zeros before the first valid step), or is zero with
``zero_output_for_mask``.
"""

from __future__ import annotations

import torch

from rnnkit.kernels.base import SequenceRequest
from rnnkit.kernels.base import SequenceResult


def run_reference(cell, request: SequenceRequest) -> SequenceResult:
    """Run ``cell`` over the sequence, one :meth:`step` per timestep.

    Example:
        >>> import torch
        >>> from rnnkit.layers.cells import LSTMCell
        >>> cell = LSTMCell(3)
        >>> cell.ensure_built((2, 4, 5))
        >>> req = SequenceRequest(torch.ones(2, 4, 5), cell.get_initial_state(2))
        >>> run_reference(cell, req).last_output.shape
        torch.Size([2, 3])
    """
    x = request.x
    masks = cell.make_dropout_masks(x, request.training)
    xp = cell.project_inputs(x, masks)  # (batch, steps, k * units)
    steps = xp.unbind(1)
    step_mask = None if request.mask is None else request.mask.unbind(1)
    order = range(len(steps) - 1, -1, -1) if request.go_backwards else range(len(steps))
    states = list(request.initial_states)
    previous = None
    outputs = []
    for t in order:
        output, new_states = cell.step(steps[t], states, masks.recurrent)
        if step_mask is not None:
            valid = step_mask[t][:, None]  # (batch, 1)
            new_states = [torch.where(valid, n, s) for n, s in zip(new_states, states, strict=True)]
            if request.zero_output_for_mask:
                output = torch.where(valid, output, torch.zeros_like(output))
            else:
                carried = torch.zeros_like(output) if previous is None else previous
                output = torch.where(valid, output, carried)
        states = new_states
        previous = output
        if request.return_sequences:
            outputs.append(output)
    if previous is None:  # zero timesteps
        previous = torch.zeros(x.shape[0], cell.output_size, dtype=x.dtype, device=x.device)
    stacked = torch.stack(outputs, dim=1) if request.return_sequences and outputs else None
    return SequenceResult(previous, stacked, states)
