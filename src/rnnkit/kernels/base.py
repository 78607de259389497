"""What every kernel receives and returns, and how a layer records its choice."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class KernelChoice:
    """The kernel a recurrent layer runs, and why.

    Attributes:
        name: Kernel name, e.g. ``"reference"`` or ``"fused-lstm"``.
        reason: Plain words on what ruled out another kernel for this call — the
            fused op (``"relu activation has no fused kernel"``), the native
            library, or every fast kernel — or how it was requested
            (``"use_cudnn=False"``). Empty when nothing was ruled out.
    """

    name: str
    reason: str = ""

    def __str__(self) -> str:
        return f"{self.name} ({self.reason})" if self.reason else self.name


@dataclass
class SequenceRequest:
    """One recurrent layer call, as a kernel sees it.

    Attributes:
        x: Inputs ``(batch, steps, features)``.
        initial_states: One tensor per state, ``(batch, units)``.
        mask: ``None`` or a boolean ``(batch, steps)`` tensor, True = valid step.
        go_backwards: Process ``t = T-1 ... 0`` (outputs come back in that order).
        return_sequences: Whether the per-step outputs are needed.
        zero_output_for_mask: Masked steps output 0 instead of the previous output.
        training: Training mode (dropout masks are drawn by the cell).
        return_states: Whether the caller uses the final states beyond the hidden
            state ``h`` (``return_state`` or ``stateful``). When False a kernel may
            return the LSTM's final cell state as ``None``.
        zero_initial_state: The initial states are known to be zeros (the layer's
            default). With a mask, a kernel may then skip zeroing the outputs before
            each sequence's first valid step: its carried state is already zero there.
    """

    x: torch.Tensor
    initial_states: list[torch.Tensor]
    mask: torch.Tensor | None = None
    go_backwards: bool = False
    return_sequences: bool = False
    zero_output_for_mask: bool = False
    training: bool = False
    return_states: bool = True
    zero_initial_state: bool = False


@dataclass
class SequenceResult:
    """What a kernel returns: last output, per-step outputs (or None), final states."""

    last_output: torch.Tensor
    outputs: torch.Tensor | None
    states: list[torch.Tensor]
