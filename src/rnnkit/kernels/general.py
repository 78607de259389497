"""The general fast path: any supported activation, recurrent dropout, masks.

The input side of every step is one matmul before the loop
(:meth:`~rnnkit.layers.cells.RecurrentCell.project_inputs`). The recurrence runs
in a :class:`torch.autograd.Function` with a hand-written backward pass through
time (BPTT): the forward loop saves the gate activations, the backward loop walks
the steps in reverse, and the recurrent weight gradient is one matmul over all
steps. No per-step autograd graph is built.

The loops themselves run in one of two engines with identical arithmetic:

* ``native`` — the C++ library of :mod:`rnnkit.kernels.native` (CPU, float32 and
  float64). The batch is split into row blocks, one thread each, and each thread
  runs its whole time loop on its own (rows of a batch never interact), calling
  BLAS single-threaded: no synchronisation per step.
* ``torch`` — the same loops as PyTorch ops on preallocated buffers
  (:mod:`rnnkit.kernels.torch_loops`): for GPUs, and for CPUs where the native
  library cannot be built.

Masked steps follow the reference loop: the states carry over, and the output
repeats the previous output (zeros before the first valid step) or is zero with
``zero_output_for_mask``. The kernel computes the carried state history ``H``;
outputs are ``H`` times a 0/1 factor per step.

Padding costs no arithmetic in the native engine: at every step the recurrent
products cover only that step's valid rows (gathered into packed scratch when they
are not the first rows of a thread's block), whatever the shape of the mask.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from rnnkit.kernels import native
from rnnkit.kernels import torch_loops
from rnnkit.kernels.base import SequenceRequest
from rnnkit.kernels.base import SequenceResult
from rnnkit.kernels.bptt import weight_gradients
from rnnkit.kernels.cellspec import CellSpec
from rnnkit.kernels.cellspec import describe
from rnnkit.kernels.native_call import NativeCall
from rnnkit.kernels.threads import recurrence_threads


def run_general(cell, request: SequenceRequest, *, engine: str = "native") -> SequenceResult:
    """Run ``cell`` over the sequence with a hand-written BPTT kernel.

    Args:
        cell: An rnnkit cell whose activations have fast kernels (see
            :func:`rnnkit.kernels.cellspec.describe`).
        request: The layer call.
        engine: ``"native"`` (C++ library, CPU) or ``"torch"`` (PyTorch ops).
            Defaults to `"native"`.

    Returns:
        The same :class:`SequenceResult` as :func:`~rnnkit.kernels.run_reference`.

    Example:
        >>> import torch
        >>> from rnnkit.layers.cells import LSTMCell
        >>> from rnnkit.kernels.reference import run_reference
        >>> cell = LSTMCell(3, activation="relu")
        >>> cell.ensure_built((2, 4, 5))
        >>> req = SequenceRequest(torch.randn(2, 4, 5), cell.get_initial_state(2))
        >>> fast = run_general(cell, req, engine="torch").last_output
        >>> torch.allclose(fast, run_reference(cell, req).last_output, atol=1e-6)
        True
    """
    spec, reason = describe(cell)
    if spec is None:
        raise ValueError(f"run_general: {reason}.")
    x = request.x
    masks = cell.make_dropout_masks(x, request.training)
    if request.go_backwards:
        x = x.flip(1)  # (batch, steps, features) in processing order
    xp = cell.project_inputs(x, masks).contiguous()  # (batch, steps, k * units)
    valid = None
    if request.mask is not None:
        valid = request.mask.flip(1) if request.go_backwards else request.mask
        valid = valid.contiguous()  # (batch, steps) bool, processing order
    rmask = _recurrent_masks(masks.recurrent, spec)
    states = [s.contiguous() for s in request.initial_states]
    h0 = states[0]
    c0 = states[1] if spec.kind.has_cell_state else None
    function = _NativeRecurrence if engine == "native" else torch_loops.TorchRecurrence
    threads = recurrence_threads(x.shape[0])
    weight_hh = spec.weight_hh.contiguous()  # (k * units, units), row-major for BLAS
    bias_hh = None if spec.bias_hh is None else spec.bias_hh.contiguous()
    tensors = (xp, weight_hh, bias_hh, h0, c0)
    # Inside Function.forward grad mode is off and needs_input_grad ignores no_grad(),
    # so decide here whether the forward pass must save anything for backward.
    needs_grad = torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)
    results = function.apply(spec, threads, needs_grad, *tensors, rmask, valid)
    history = results[0]  # (batch, steps, units): the state after each step
    final = [history[:, -1]]
    if spec.kind.has_cell_state:
        final.append(results[1])
    outputs = history if request.return_sequences else None
    last_output = history[:, -1]
    if valid is not None and (request.zero_output_for_mask or not request.zero_initial_state):
        # Output factor per step: valid steps only, or every step once one was valid.
        # (Before a sequence's first valid step the carried state is the initial state,
        # so from zeros the factor would change nothing.)
        if request.return_sequences:
            seen = valid if request.zero_output_for_mask else valid.cummax(dim=1).values
            outputs = history * seen.to(history.dtype)[..., None]  # (batch, steps, units)
            last_output = outputs[:, -1]
        else:
            seen_last = valid[:, -1] if request.zero_output_for_mask else valid.any(dim=1)
            last_output = last_output * seen_last.to(history.dtype)[:, None]
    return SequenceResult(last_output, outputs, final)


def _recurrent_masks(mask: torch.Tensor | None, spec: CellSpec) -> torch.Tensor | None:
    """Normalise the recurrent dropout masks to ``(1 or k, batch, units)``."""
    if mask is None:
        return None
    if mask.dim() == 2:  # one mask shared by every gate: (batch, units)
        mask = mask[None]
    return mask.contiguous()


class _NativeRecurrence(torch.autograd.Function):
    """The recurrence in the native library; returns ``(H,)`` or ``(H, c_last)``."""

    @staticmethod
    def forward(ctx, spec, threads, needs_grad, xp, weight_hh, bias_hh, h0, c0, rmask, valid):
        library = native.load(xp.dtype)
        assert library is not None, "select_kernel checks availability first"
        threads = threads if library.parallel else 1
        call = NativeCall.prepare(
            spec, threads, needs_grad, xp, weight_hh, bias_hh, h0, c0, rmask, valid
        )
        library.run(spec.kind, call.forward_args())
        ctx.spec = spec
        ctx.threads = threads
        if needs_grad:
            ctx.save_for_backward(*call.tensors())
        if call.cells is not None:  # allocated exactly when spec.kind.has_cell_state
            return call.history, call.cells[:, -1].clone()
        return (call.history,)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_history, grad_c_last=None):
        spec = ctx.spec
        call = NativeCall.restore(spec, ctx.threads, list(ctx.saved_tensors))
        library = native.load(call.history.dtype)
        assert library is not None, "forward loaded it"
        grad_history = grad_history.contiguous()
        if grad_c_last is not None:
            grad_c_last = grad_c_last.contiguous()
        args, grads = call.backward_args(grad_history, grad_c_last)
        library.run(spec.kind, args, backward=True)
        grad_w = grad_b = None
        if ctx.needs_input_grad[4] or ctx.needs_input_grad[5]:  # frozen weights skip this
            # One product over every row (not one per row block, as the grouped kernel
            # may): the float sums, so the results, do not depend on the thread count.
            grad_w, grad_b = weight_gradients(
                spec, call.h0, call.history, call.gates, grads.xp, grads.hp, call.rmask
            )
        return None, None, None, grads.xp, grad_w, grad_b, grads.h0, grads.c0, None, None
