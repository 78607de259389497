"""Several independent recurrences in one native call: the trials of a stacked fit.

A stacked fit (:mod:`rnnkit.models.stacked`) trains K models of one structure
together. Their recurrences are independent — each trial has its own weights, its
own unit count, its own batch — so :func:`run_group` runs them as one
``general-native`` computation: one call of the C++ library forward and one
backward, whose row blocks (one or more per trial) are shared out over the threads,
costliest first, with no synchronisation until the last block is done. Each trial
runs at its own size (no padding) and with exactly the arithmetic of
:func:`~rnnkit.kernels.general.run_general`, so a trial ends where training it alone
would.

One job: the grouped native recurrence and its gradients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import replace

import torch
from torch.autograd.function import once_differentiable

from rnnkit.kernels import native
from rnnkit.kernels.bptt import weight_gradients
from rnnkit.kernels.cellspec import CellSpec
from rnnkit.kernels.native_call import NativeCall
from rnnkit.kernels.threads import MIN_ROWS_PER_THREAD


@dataclass
class GroupItem:
    """One trial's recurrence in a group: zero initial states, no ``go_backwards``.

    Attributes:
        spec: The cell's equations (:func:`~rnnkit.kernels.cellspec.describe`); its
            weights are not read, ``weight_hh`` and ``bias_hh`` below are.
        xp: Input projection ``(batch, steps, k * units)``, input bias added.
        weight_hh: ``(k * units, units)``.
        bias_hh: GRU ``reset_after`` recurrent bias ``(3 * units,)`` or ``None``.
        rmask: Recurrent dropout masks ``(batch, units)`` (shared by the gates) or
            ``(k, batch, units)`` (one per gate), or ``None``.
        valid: Boolean timestep mask ``(batch, steps)``, True = valid, or ``None``.
    """

    spec: CellSpec
    xp: torch.Tensor
    weight_hh: torch.Tensor
    bias_hh: torch.Tensor | None = None
    rmask: torch.Tensor | None = None
    valid: torch.Tensor | None = None


def run_group(items: list[GroupItem], threads: int) -> list[torch.Tensor]:
    """Run each item's recurrence; return each state history ``(batch, steps, units)``.

    The history is the state after each step (carried over masked steps); gradients
    flow to every item's ``xp``, ``weight_hh`` and ``bias_hh``. The caller checks that
    the native library loads for the items' dtype (they share one dtype and device).

    Args:
        items: The recurrences.
        threads: Threads to share the row blocks over.

    Returns:
        One history per item, in order.

    Example:
        >>> import torch
        >>> from rnnkit.layers.cells import GRUCell
        >>> from rnnkit.kernels.cellspec import describe
        >>> from rnnkit.kernels.general import run_general
        >>> from rnnkit.kernels.base import SequenceRequest
        >>> cells = [GRUCell(units) for units in (3, 5)]
        >>> x = torch.randn(4, 6, 2)
        >>> items = []
        >>> for cell in cells:
        ...     cell.ensure_built((4, 6, 2))
        ...     spec, _ = describe(cell)
        ...     xp = cell.project_inputs(x, cell.make_dropout_masks(x, False))
        ...     items.append(GroupItem(spec, xp, cell.weight_hh, cell.bias[1]))
        >>> histories = run_group(items, threads=2)
        >>> alone = run_general(cells[1], SequenceRequest(x, cells[1].get_initial_state(4)))
        >>> torch.allclose(histories[1][:, -1], alone.last_output, atol=1e-6)
        True
    """
    tensors = []
    for item in items:
        tensors += [item.xp, item.weight_hh, item.bias_hh]
    needs_grad = torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)
    return list(_GroupRecurrence.apply(items, threads, needs_grad, *tensors))


def _cost(spec: CellSpec) -> int:
    """Relative cost of one row-step: the recurrent product and the gate arithmetic."""
    return spec.gates * spec.units * (spec.units + 8)


def _row_blocks(items: list[GroupItem], threads: int) -> int:
    """Row blocks per item: enough blocks for every thread, none under 8 rows."""
    batch = min(item.xp.shape[0] for item in items)
    wanted = math.ceil(threads / len(items))
    return max(1, min(wanted, batch // MIN_ROWS_PER_THREAD))


class _GroupRecurrence(torch.autograd.Function):
    """The items' recurrences in one library call each way; returns the K histories."""

    @staticmethod
    def forward(ctx, items, threads, needs_grad, *tensors):
        library = native.load(items[0].xp.dtype)
        assert library is not None, "run_group's caller checks availability"
        blocks = _row_blocks(items, threads)
        calls = []
        for item in items:
            xp, weight_hh = item.xp.contiguous(), item.weight_hh.contiguous()
            bias_hh = None if item.bias_hh is None else item.bias_hh.contiguous()
            spec = replace(item.spec, weight_hh=weight_hh, bias_hh=bias_hh)
            batch, units = xp.shape[0], spec.units
            h0 = xp.new_zeros(batch, units)
            c0 = xp.new_zeros(batch, units) if spec.kind.has_cell_state else None
            rmask = item.rmask
            if rmask is not None:
                rmask = (rmask[None] if rmask.dim() == 2 else rmask).contiguous()
            valid = None if item.valid is None else item.valid.contiguous()
            calls.append(
                NativeCall.prepare(
                    spec, blocks, needs_grad, xp, weight_hh, bias_hh, h0, c0, rmask, valid
                )
            )
        order = sorted(range(len(calls)), key=lambda i: -_cost(calls[i].spec))
        kind = calls[0].spec.kind
        library.run_group(kind, [calls[i].forward_args() for i in order], threads)
        ctx.set_materialize_grads(False)  # a trial that adds nothing to the loss is skipped
        ctx.specs = [call.spec for call in calls]
        ctx.order, ctx.threads, ctx.blocks = order, threads, blocks
        if needs_grad:
            ctx.save_for_backward(*[t for call in calls for t in call.tensors()])
        return tuple(call.history for call in calls)

    @staticmethod
    @once_differentiable
    def backward(ctx, *grad_histories):
        saved = list(ctx.saved_tensors)
        width = len(saved) // len(ctx.specs)
        calls = [
            NativeCall.restore(spec, ctx.blocks, saved[i * width : (i + 1) * width])
            for i, spec in enumerate(ctx.specs)
        ]
        library = native.load(calls[0].history.dtype)
        assert library is not None, "forward loaded it"
        live = [i for i in ctx.order if grad_histories[i] is not None]
        grads_in: dict[int, torch.Tensor] = {i: grad_histories[i].contiguous() for i in live}
        # One row block per trial: its weight gradient is computed in C++ right after its
        # loop, in parallel with the other trials, by the very BLAS product torch.mm runs
        # (the same bits). Several blocks would sum per-block parts, whose last bits
        # depend on the thread count: then one torch product over all rows, as alone.
        in_library = ctx.blocks == 1
        args, grads = {}, {}
        for i in live:
            args[i], grads[i] = calls[i].backward_args(grads_in[i], None, weights=in_library)
        if live:
            kind = calls[0].spec.kind
            library.run_group(kind, [args[i] for i in live], ctx.threads, backward=True)
        out: list[torch.Tensor | None] = []
        for i, call in enumerate(calls):
            if i not in grads:
                out += [None, None, None]
                continue
            g = grads[i]
            if in_library:  # the recurrent bias sum as bptt.weight_gradients takes it
                grad_w = g.weight()
                grad_b = None if g.hp is None or call.bias_hh is None else g.hp.sum(dim=(0, 1))
            else:
                grad_w, grad_b = weight_gradients(
                    call.spec, call.h0, call.history, call.gates, g.xp, g.hp, call.rmask
                )
            out += [g.xp, grad_w, grad_b]
        return (None, None, None, *out)
