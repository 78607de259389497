"""What the stacked network knows of each layer, and one batch's dropout masks.

One job: the plain descriptions the stacked forward passes
(:mod:`rnnkit.models.stacked.network`, :mod:`rnnkit.models.stacked.per_trial`) read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from rnnkit.kernels.cellspec import CellSpec


@dataclass
class RecurrentSpec:
    """One recurrent layer of the stack."""

    index: int  # position among the model's layers
    cells: list[Any]  # each trial's cell (dropout rates, seeds, units)
    gates: int
    units: int  # padded
    features: int  # padded input size
    weights: list[int]  # positions in the StackedWeights: weight_ih, weight_hh, [bias]
    return_sequences: bool
    zero_output_for_mask: bool
    reset_after: bool | None
    kernel_specs: list[CellSpec | None]  # each cell as the native kernels see it

    @property
    def per_gate_masks(self) -> bool:
        """Whether some trial draws one dropout mask per gate (Keras' implementation 1)."""
        return any(cell.mask_count is not None for cell in self.cells)


@dataclass
class DenseSpec:
    """One Dense layer of the stack."""

    weights: list[int]  # kernel, [bias]
    activation: Any
    layers: list[Any]  # each trial's Dense layer


@dataclass
class MaskingSpec:
    """A leading Masking layer."""

    mask_value: float


@dataclass
class LayerMasks:
    """The dropout masks of one recurrent layer for one batch, stacked over trials."""

    inputs: torch.Tensor | None = None  # (K, batch, features) or (K, gates, batch, features)
    recurrent: torch.Tensor | None = None  # (K, batch, units) or (K, gates, batch, units)
    draws: list[tuple[Any, Any]] | None = None  # each trial's own (inputs, recurrent) masks
