"""Pieces shared by the hand-written BPTT engines (native and PyTorch).

Both engines compute ``dz``, the gradient of each step's recurrent
pre-activations ``(batch, steps, k * units)``, in their backward loop; the
recurrent weight gradient is then one matmul over all steps, here.
"""

from __future__ import annotations

import torch


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
    batch, steps, units = history.shape
    # The state before each step: (batch, steps, units).
    previous = torch.cat([h0[:, None], history[:, :-1]], dim=1)
    grad_rec = grad_hp if spec.kind == "gru" else grad_xp  # (batch, steps, k * units)
    w = spec.weight_hh
    grad_w = torch.empty(w.shape, dtype=w.dtype, device=w.device)  # (k * units, units)
    recurrent_gates = 2 if spec.kind == "gru_before" else spec.gates
    for first, last, inputs in _gate_inputs(previous, rmask, recurrent_gates, units):
        rows = slice(first * units, last * units)
        dz = grad_rec[..., rows].reshape(batch * steps, -1)  # (batch * steps, gates * units)
        torch.mm(dz.T, inputs.reshape(batch * steps, units), out=grad_w[rows])
    if spec.kind == "gru_before":
        # Candidate: (r ⊙ h_{t-1} ⊙ m_h) U_h^T.
        q = gates[..., units : 2 * units] * previous  # (batch, steps, units)
        if rmask is not None:
            q = q * rmask[-1][:, None, :]
        dz = grad_xp[..., 2 * units :].reshape(batch * steps, units)
        torch.mm(dz.T, q.reshape(batch * steps, units), out=grad_w[2 * units :])
    grad_b = None
    if spec.kind == "gru" and spec.bias_hh is not None:
        grad_b = grad_hp.sum(dim=(0, 1))  # (3 * units,)
    return grad_w, grad_b


def _gate_inputs(previous, rmask, gates, units):
    """Yield ``(first_gate, last_gate, h_{t-1} ⊙ m)`` blocks sharing one input."""
    if rmask is None:
        yield 0, gates, previous
    elif rmask.shape[0] == 1:  # one shared mask
        yield 0, gates, previous * rmask[0][:, None, :]
    else:
        for g in range(gates):
            yield g, g + 1, previous * rmask[g][:, None, :]
