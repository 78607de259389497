"""Pieces shared by the hand-written BPTT engines (native and PyTorch).

Both engines keep the same per-kind buffers (:func:`saves_activations`,
:func:`has_projection_gradient`) and compute ``dz``, the gradient of each step's
recurrent pre-activations ``(batch, steps, k * units)``, in their backward loop;
the recurrent weight gradient is then one matmul over all steps, here.
"""

from __future__ import annotations

import torch

from rnnkit.kernels.cellspec import CellKind


def saves_activations(kind: CellKind) -> bool:
    """Whether the forward pass keeps a third ``(batch, steps, units)`` buffer for backward.

    It holds LSTM's ``activation(c_t)`` and GRU's (``reset_after``) recurrent
    candidate part ``h U_h^T + b'_h``.

    Example:
        >>> saves_activations(CellKind.LSTM), saves_activations(CellKind.SIMPLE_RNN)
        (True, False)
    """
    return kind in (CellKind.LSTM, CellKind.GRU)


def has_projection_gradient(kind: CellKind) -> bool:
    """Whether the backward pass returns the gradient of ``h U^T + b_hh`` separately.

    Only GRU with ``reset_after=True``: its reset gate multiplies the recurrent
    projection, so that gradient differs from the input projection's.

    Example:
        >>> has_projection_gradient(CellKind.GRU), has_projection_gradient(CellKind.LSTM)
        (True, False)
    """
    return kind is CellKind.GRU


def weight_gradients(spec, h0, history, gates, grad_xp, grad_hp, rmask):
    """Recurrent weight (and GRU recurrent bias) gradients: one matmul over all steps.

    ``dU = sum_t dz_t^T (h_{t-1} ⊙ m)`` with ``dz`` the gradient of the recurrent
    pre-activations ``(batch, steps, k * u)``.

    Args:
        spec: The cell's :class:`~rnnkit.kernels.cellspec.CellSpec`.
        h0: Initial state ``(batch, units)``.
        history: State after each step ``(batch, steps, units)``.
        gates: Saved gate activations ``(batch, steps, k * units)`` (GRU
            ``reset_after=False`` reads its reset gate).
        grad_xp: Gradient of the input projection ``(batch, steps, k * units)``.
        grad_hp: GRU ``reset_after``: gradient of ``h U^T + b_hh``, else ``None``.
        rmask: ``None`` or the recurrent dropout masks ``(1 or k, batch, units)``.

    Returns:
        ``(grad_weight_hh, grad_bias_hh or None)``.
    """
    units = history.shape[2]
    # The state before each step: (batch, steps, units).
    previous = torch.cat([h0[:, None], history[:, :-1]], dim=1)
    w = spec.weight_hh
    grad_w = torch.empty(w.shape, dtype=w.dtype, device=w.device)  # (k * units, units)
    if spec.kind is CellKind.GRU:
        # Every gate reads h U^T + b_hh, whose gradient the backward loop kept apart.
        _products(grad_hp, previous, rmask, spec.gates, units, grad_w)
        grad_b = None if spec.bias_hh is None else grad_hp.sum(dim=(0, 1))  # (3 * units,)
        return grad_w, grad_b
    if spec.kind is CellKind.GRU_RESET_BEFORE:
        # z, r read h U^T; the candidate reads (r ⊙ h_{t-1} ⊙ m_h) U_h^T.
        _products(grad_xp, previous, rmask, 2, units, grad_w)
        q = gates[..., units : 2 * units] * previous  # (batch, steps, units)
        if rmask is not None:
            q = q * rmask[-1][:, None, :]
        _mm_over_steps(grad_xp[..., 2 * units :], q, out=grad_w[2 * units :])
        return grad_w, None
    # SIMPLE_RNN, LSTM: every gate reads h U^T, added to the input projection.
    _products(grad_xp, previous, rmask, spec.gates, units, grad_w)
    return grad_w, None


def _products(grad, previous, rmask, gates, units, grad_w):
    """``grad_w[rows of gates 0..gates-1] = sum_t dz_t^T (h_{t-1} ⊙ m)``."""
    for first, last, inputs in _gate_inputs(previous, rmask, gates):
        rows = slice(first * units, last * units)
        _mm_over_steps(grad[..., rows], inputs, out=grad_w[rows])


def _mm_over_steps(dz, inputs, *, out):
    """``out = dz^T inputs`` with batch and steps flattened into one axis."""
    batch, steps, units = inputs.shape
    torch.mm(dz.reshape(batch * steps, -1).T, inputs.reshape(batch * steps, units), out=out)


def _gate_inputs(previous, rmask, gates):
    """Yield ``(first_gate, last_gate, h_{t-1} ⊙ m)`` blocks sharing one input."""
    if rmask is None:
        yield 0, gates, previous
    elif rmask.shape[0] == 1:  # one shared mask
        yield 0, gates, previous * rmask[0][:, None, :]
    else:
        for g in range(gates):
            yield g, g + 1, previous * rmask[g][:, None, :]
