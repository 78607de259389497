"""One recurrence as the native library sees it: its tensors, buffers and ``RkArgs``.

:class:`NativeCall` holds what one forward pass of the C++ loops reads (the input
projection, the recurrent weight, masks, initial states) and the buffers it fills
(state history, LSTM cell states, saved gates and activations); it builds the
``RkArgs`` of the forward pass and of the backward pass, and hands the tensors to
``ctx.save_for_backward`` and back. The single-layer kernel
(:mod:`rnnkit.kernels.general`) runs one call; the grouped kernel
(:mod:`rnnkit.kernels.group`) runs several, one per trial of a stacked fit.

One job: the mapping between one recurrence's tensors and the library's arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import fields

import torch

from rnnkit.kernels import native
from rnnkit.kernels.bptt import has_projection_gradient
from rnnkit.kernels.bptt import saves_activations
from rnnkit.kernels.cellspec import CellSpec


def _pointer(tensor: torch.Tensor | None) -> int | None:
    return None if tensor is None else tensor.data_ptr()


@dataclass
class Gradients:
    """What one backward pass of the C++ loops writes (and the weight-gradient inputs)."""

    xp: torch.Tensor  # (batch, steps, k * units)
    hp: torch.Tensor | None  # GRU reset_after: gradient of h U^T + b_hh
    h0: torch.Tensor
    c0: torch.Tensor | None
    weight_parts: torch.Tensor | None = None  # (blocks, k * units, units)

    def weight(self) -> torch.Tensor:
        """The recurrent weight gradient: the row blocks' parts summed."""
        assert self.weight_parts is not None, "backward_args(weights=True)"
        parts = self.weight_parts
        return parts[0] if parts.shape[0] == 1 else parts.sum(0)


@dataclass
class NativeCall:
    """One recurrence: inputs (contiguous) and the buffers its forward pass fills.

    Attributes:
        spec: The cell's equations (``weight_hh`` and ``bias_hh`` are not read from it).
        threads: Row blocks (one thread each in a single call).
        xp: Input projection ``(batch, steps, k * units)``.
        weight_hh: ``(k * units, units)``.
        bias_hh: GRU ``reset_after`` recurrent bias ``(3 * units,)`` or ``None``.
        h0: Initial state ``(batch, units)``.
        c0: LSTM initial cell state or ``None``.
        rmask: Recurrent dropout masks ``(1 or k, batch, units)`` or ``None``.
        valid: Timestep mask as 0/1 bytes ``(batch, steps)`` or ``None``.
        history: The state after each step ``(batch, steps, units)``.
        cells: LSTM cell state after each step, else ``None``.
        gates: Gate activations, kept for the backward pass (``None`` without one).
        saved: LSTM ``activation(c_t)`` / GRU recurrent candidate part, or ``None``.
    """

    spec: CellSpec
    threads: int
    xp: torch.Tensor
    weight_hh: torch.Tensor
    bias_hh: torch.Tensor | None
    h0: torch.Tensor
    c0: torch.Tensor | None
    rmask: torch.Tensor | None
    valid: torch.Tensor | None
    history: torch.Tensor
    cells: torch.Tensor | None
    gates: torch.Tensor | None
    saved: torch.Tensor | None

    @classmethod
    def prepare(
        cls, spec, threads, needs_grad, xp, weight_hh, bias_hh, h0, c0, rmask, valid
    ) -> NativeCall:
        """Allocate the buffers of one forward pass (gates only when ``needs_grad``)."""
        batch, steps, _ = xp.shape
        units = spec.units
        has_cells = spec.kind.has_cell_state
        return cls(
            spec=spec, threads=threads, xp=xp, weight_hh=weight_hh, bias_hh=bias_hh,
            h0=h0, c0=c0, rmask=rmask,
            valid=None if valid is None else valid.view(torch.uint8),  # bool bytes are 0/1
            history=xp.new_empty(batch, steps, units),
            cells=xp.new_empty(batch, steps, units) if has_cells else None,
            gates=xp.new_empty(batch, steps, spec.gates * units) if needs_grad else None,
            saved=(
                xp.new_empty(batch, steps, units)
                if needs_grad and saves_activations(spec.kind)
                else None
            ),
        )  # fmt: skip

    def forward_args(self) -> native.RkArgs:
        """The ``RkArgs`` of the forward pass."""
        batch, steps, _ = self.xp.shape
        spec = self.spec
        return native.RkArgs(
            batch=batch, steps=steps, units=spec.units, gates=spec.gates, threads=self.threads,
            act=spec.act, rec_act=spec.rec_act,
            rmask_count=0 if self.rmask is None else self.rmask.shape[0],
            xp=self.xp.data_ptr(), w_hh=self.weight_hh.data_ptr(), b_hh=_pointer(self.bias_hh),
            h0=self.h0.data_ptr(), c0=_pointer(self.c0), valid=_pointer(self.valid),
            rmask=_pointer(self.rmask), H=self.history.data_ptr(), C=_pointer(self.cells),
            G=_pointer(self.gates), A=_pointer(self.saved),
        )  # fmt: skip

    def backward_args(
        self,
        grad_history: torch.Tensor,
        grad_c_last: torch.Tensor | None,
        *,
        weights: bool = False,
    ) -> tuple[native.RkArgs, Gradients]:
        """The ``RkArgs`` of the backward pass and the buffers it fills.

        ``grad_history`` and ``grad_c_last`` must be contiguous and stay alive until
        the pass has run. With ``weights`` the pass also computes the recurrent weight
        gradient, one part per row block, each right after its block's loop.
        """
        assert self.gates is not None, "the forward pass ran with needs_grad"
        spec = self.spec
        batch, steps, _ = self.history.shape
        gates = self.gates
        grads = Gradients(
            xp=gates.new_empty(gates.shape),
            hp=gates.new_empty(gates.shape) if has_projection_gradient(spec.kind) else None,
            h0=self.h0.new_empty(self.h0.shape),
            c0=None if self.c0 is None else self.c0.new_empty(self.c0.shape),
        )
        if weights:
            blocks = max(1, min(self.threads, batch))
            width = spec.gates * spec.units
            grads.weight_parts = gates.new_empty(blocks, width, spec.units)
        args = native.RkArgs(
            batch=batch, steps=steps, units=spec.units, gates=spec.gates, threads=self.threads,
            act=spec.act, rec_act=spec.rec_act,
            rmask_count=0 if self.rmask is None else self.rmask.shape[0],
            w_hh=self.weight_hh.data_ptr(), h0=self.h0.data_ptr(), c0=_pointer(self.c0),
            valid=_pointer(self.valid), rmask=_pointer(self.rmask), H=self.history.data_ptr(),
            C=_pointer(self.cells), G=self.gates.data_ptr(), A=_pointer(self.saved),
            dH=grad_history.data_ptr(), dc_last=_pointer(grad_c_last),
            dXP=grads.xp.data_ptr(), dHP=_pointer(grads.hp), dh0=grads.h0.data_ptr(),
            dc0=_pointer(grads.c0), dW=_pointer(grads.weight_parts),
        )  # fmt: skip
        return args, grads

    # The tensors, in field order, for ctx.save_for_backward (which must hold the
    # outputs: keeping them on ctx would make a reference cycle).
    _TENSORS = (
        "xp", "weight_hh", "bias_hh", "h0", "c0", "rmask", "valid", "history", "cells",
        "gates", "saved",
    )  # fmt: skip

    def tensors(self) -> list[torch.Tensor | None]:
        """The call's tensors, for ``ctx.save_for_backward`` (``xp`` left out: unused)."""
        return [None if name == "xp" else getattr(self, name) for name in self._TENSORS]

    @classmethod
    def restore(cls, spec: CellSpec, threads: int, saved: list) -> NativeCall:
        """The call again, from what :meth:`tensors` saved."""
        values = dict(zip(cls._TENSORS, saved, strict=True))
        names = {f.name for f in fields(cls)} - {"spec", "threads"}
        return cls(spec=spec, threads=threads, **{n: values[n] for n in names})
