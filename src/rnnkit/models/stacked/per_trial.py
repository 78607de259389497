"""The stacked forward pass on a CPU: each trial at its own size, recurrences grouped.

On a CPU with rnnkit's native library, K stacked trials do not need padding at all:
every trial's layers run on the trial's own parameters — the arithmetic ``model.fit``
runs for it alone — and the K recurrences of a layer, which are where the time goes,
run as one :func:`~rnnkit.kernels.group.run_group` call that shares them out over the
threads. Gradients land directly on each model's parameters, so its optimizer steps
them with nothing to hand over. Everything else of a batch (data gather, dropout
draws, one backward pass, the fit loop) stays shared by the K trials
(:mod:`rnnkit.models.stacked.trainer`).

One job: the per-trial forward pass with grouped native recurrences.
"""

from __future__ import annotations

from typing import Any

import torch

from rnnkit.kernels import native
from rnnkit.kernels.group import GroupItem
from rnnkit.kernels.group import run_group
from rnnkit.layers.cells import DropoutMasks
from rnnkit.models.stacked.specs import DenseSpec
from rnnkit.models.stacked.specs import LayerMasks
from rnnkit.models.stacked.specs import MaskingSpec
from rnnkit.models.stacked.specs import RecurrentSpec

Spec = RecurrentSpec | DenseSpec | MaskingSpec


def per_trial_applies(specs: list[Spec], x_shape: tuple[int | None, ...], device, dtype) -> bool:
    """Whether every recurrent layer of the stack runs in the native library.

    Args:
        specs: The network's layer specs.
        x_shape: The models' input shape ``(batch, steps, features)``.
        device: The models' device.
        dtype: The models' parameter dtype.
    """
    recurrent = [s for s in specs if isinstance(s, RecurrentSpec)]
    if torch.device(device).type != "cpu" or not recurrent:
        return False
    steps = x_shape[1] or 0  # None: any length (the library's strides are 32-bit)
    for spec in recurrent:
        if any(k is None for k in spec.kernel_specs):
            return False
        if steps * spec.gates * spec.units >= 2**31:
            return False
    return native.load(dtype) is not None


def forward_per_trial(
    specs: list[Spec], x: torch.Tensor, masks: list[LayerMasks] | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Outputs ``(K, batch, ...)`` for inputs ``(K, batch, steps, features)``.

    Args:
        specs: The network's layer specs (cells and Dense layers of every trial).
        x: Each trial's batch.
        masks: One :class:`~rnnkit.models.stacked.specs.LayerMasks` per recurrent layer
            (each trial's own masks in ``draws``) while training; ``None`` at inference.

    Returns:
        The outputs and the timestep mask that reaches them (``None`` if none does).
    """
    xs = list(x.unbind(0))
    valid: list[torch.Tensor] | None = None
    recurrent = 0
    for spec in specs:
        if isinstance(spec, MaskingSpec):
            if spec.mask_value == 0.0:
                valid = [t.any(dim=-1) for t in xs]
            else:
                valid = [t.ne(spec.mask_value).any(dim=-1) for t in xs]
            pairs = zip(xs, valid, strict=True)
            xs = [torch.where(v.unsqueeze(-1), t, t.new_zeros(())) for t, v in pairs]
        elif isinstance(spec, RecurrentSpec):
            draws = masks[recurrent].draws if masks is not None else None
            recurrent += 1
            xs = _recurrent(spec, xs, draws, valid)
            if not spec.return_sequences:
                valid = None
        else:
            xs = [layer.transform(t) for layer, t in zip(spec.layers, xs, strict=True)]
    return torch.stack(xs), None if valid is None else torch.stack(valid)


def _recurrent(
    spec: RecurrentSpec,
    xs: list[torch.Tensor],
    draws: list[tuple[Any, Any]] | None,
    valid: list[torch.Tensor] | None,
) -> list[torch.Tensor]:
    items = []
    for k, (cell, kernel_spec) in enumerate(zip(spec.cells, spec.kernel_specs, strict=True)):
        assert kernel_spec is not None, "per_trial_applies() checks every cell has a spec"
        inputs_mask, recurrent_mask = draws[k] if draws is not None else (None, None)
        xp = cell.project_inputs(xs[k], DropoutMasks(inputs_mask, None))
        items.append(
            GroupItem(
                spec=kernel_spec,
                xp=xp,
                weight_hh=cell.weight_hh,
                bias_hh=None if kernel_spec.bias_hh is None else cell.bias[1],  # GRU
                rmask=recurrent_mask,
                valid=None if valid is None else valid[k],
            )
        )
    outputs = []
    for k, history in enumerate(run_group(items, torch.get_num_threads())):
        out = history if spec.return_sequences else history[:, -1]
        if valid is not None and spec.zero_output_for_mask:
            # From zero initial states a masked step's carried state already is the
            # previous output (zeros before the first valid step); only this differs.
            seen = valid[k] if spec.return_sequences else valid[k][:, -1]
            out = out * seen[..., None].to(out.dtype)
        outputs.append(out)
    return outputs
