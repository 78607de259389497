"""The stacked recurrences with a hand-written backward pass through time.

Autograd would record some fifteen small operations per timestep and replay them one
by one; for the small networks tuned here that bookkeeping, not the arithmetic, is
the cost. :class:`StackedRecurrence` runs the forward loop without autograd, keeps
what the backward pass needs in one buffer per quantity, and runs the backward loop
itself: per step one batched matmul forward and one backward, the weight gradient
as a single matmul over all steps at the end.

It covers the default cells of the tuned networks (``tanh`` activation, ``sigmoid``
recurrent activation; GRU with ``reset_after=True``), without recurrent dropout or
timestep masks; :mod:`rnnkit.models.stacked.network` runs every other case through
autograd with the same equations.

One job: the fused stacked recurrences and their gradients.
"""

from __future__ import annotations

from typing import Any

import torch


class StackedRecurrence(torch.autograd.Function):
    """``outputs = recurrence(xp, weight_hh, recurrent_bias)`` for K stacked cells.

    Inputs: ``xp (K, batch, steps, gates * units)`` (inputs projected, input bias
    added), ``weight_hh (K, gates * units, units)``, ``recurrent_bias (K, 3 * units)``
    for GRU (else an empty tensor). Output: every step's ``h`` ``(K, batch, steps,
    units)``.
    """

    @staticmethod
    def forward(ctx: Any, xp, weight_hh, recurrent_bias, gates: int):
        """Run the loop without autograd, keeping what the backward pass needs."""
        k, batch, steps, width = xp.shape
        units = width // gates
        w_t = weight_hh.transpose(1, 2)  # (K, units, gates * units)
        h = xp.new_zeros(k, batch, units)
        outputs = xp.new_empty(k, batch, steps, units)
        if gates == 1:
            for t in range(steps):
                h = torch.tanh(torch.baddbmm(xp[:, :, t], h, w_t))
                outputs[:, :, t] = h
            saved: tuple[torch.Tensor, ...] = ()
        elif gates == 4:
            c = xp.new_zeros(k, batch, units)
            acts = xp.new_empty(k, batch, steps, 4 * units)  # i, f, g, o after activation
            cells = xp.new_empty(k, batch, steps, units)
            for t in range(steps):
                z = torch.baddbmm(xp[:, :, t], h, w_t)
                a = acts[:, :, t]
                torch.sigmoid(z, out=a)
                g = a[..., 2 * units : 3 * units]
                torch.tanh(z[..., 2 * units : 3 * units], out=g)
                i, f, o = a[..., :units], a[..., units : 2 * units], a[..., 3 * units :]
                c = f * c + i * g
                cells[:, :, t] = c
                h = o * torch.tanh(c)
                outputs[:, :, t] = h
            saved = (acts, cells)
        else:
            acts = xp.new_empty(k, batch, steps, 3 * units)  # z, r, n
            hidden = xp.new_empty(k, batch, steps, units)  # h U_h + b_h (before r)
            for t in range(steps):
                hp = torch.baddbmm(recurrent_bias[:, None, :], h, w_t)
                x_t = xp[:, :, t]
                a = acts[:, :, t]
                torch.sigmoid(x_t[..., : 2 * units] + hp[..., : 2 * units], out=a[..., : 2 * units])
                z, r = a[..., :units], a[..., units : 2 * units]
                hidden[:, :, t] = hp[..., 2 * units :]
                n = a[..., 2 * units :]
                torch.tanh(x_t[..., 2 * units :] + r * hp[..., 2 * units :], out=n)
                h = z * h + (1.0 - z) * n
                outputs[:, :, t] = h
            saved = (acts, hidden)
        ctx.gates = gates
        ctx.save_for_backward(weight_hh, outputs, *saved)
        return outputs

    @staticmethod
    def backward(ctx: Any, grad_outputs):
        """Backpropagate through time; return the gradients of xp, weight_hh and the bias."""
        weight_hh, outputs, *saved = ctx.saved_tensors
        gates = ctx.gates
        k, batch, steps, units = outputs.shape
        grad_outputs = grad_outputs.contiguous()
        previous = torch.cat([outputs.new_zeros(k, batch, 1, units), outputs[:, :, :-1]], 2)
        d_pre = outputs.new_empty(k, batch, steps, gates * units)  # d(h U + bias) per step
        d_xp = d_pre if gates != 3 else outputs.new_empty(k, batch, steps, 3 * units)
        dh = outputs.new_zeros(k, batch, units)
        dc = outputs.new_zeros(k, batch, units) if gates == 4 else None
        for t in range(steps - 1, -1, -1):
            dh = dh + grad_outputs[:, :, t]
            if gates == 1:
                h = outputs[:, :, t]
                torch.mul(dh, 1.0 - h * h, out=d_pre[:, :, t])
            elif gates == 4:
                acts, cells = saved
                a = acts[:, :, t]
                i, f = a[..., :units], a[..., units : 2 * units]
                g, o = a[..., 2 * units : 3 * units], a[..., 3 * units :]
                c = cells[:, :, t]
                c_prev = cells[:, :, t - 1] if t > 0 else torch.zeros_like(c)
                tc = torch.tanh(c)
                dc = dc + dh * o * (1.0 - tc * tc)
                d = d_pre[:, :, t]
                torch.mul(dc * g, i * (1.0 - i), out=d[..., :units])
                torch.mul(dc * c_prev, f * (1.0 - f), out=d[..., units : 2 * units])
                torch.mul(dc * i, 1.0 - g * g, out=d[..., 2 * units : 3 * units])
                torch.mul(dh * tc, o * (1.0 - o), out=d[..., 3 * units :])
                dc = dc * f
            else:
                acts, hidden = saved
                a = acts[:, :, t]
                z, r, n = a[..., :units], a[..., units : 2 * units], a[..., 2 * units :]
                h_prev = previous[:, :, t]
                d_n = dh * (1.0 - z) * (1.0 - n * n)
                d_z = dh * (h_prev - n) * z * (1.0 - z)
                d_r = d_n * hidden[:, :, t] * r * (1.0 - r)
                d = d_pre[:, :, t]
                d[..., :units] = d_z
                d[..., units : 2 * units] = d_r
                torch.mul(d_n, r, out=d[..., 2 * units :])
                dx = d_xp[:, :, t]
                dx[..., : 2 * units] = d[..., : 2 * units]
                dx[..., 2 * units :] = d_n
                dh = dh * z
            if gates == 3:
                dh = dh + torch.bmm(d_pre[:, :, t], weight_hh)
            else:
                dh = torch.bmm(d_pre[:, :, t], weight_hh)
        flat_d = d_pre.reshape(k, batch * steps, gates * units)
        d_weight = torch.bmm(flat_d.transpose(1, 2), previous.reshape(k, batch * steps, units))
        d_bias = flat_d.sum(1) if gates == 3 else None
        return d_xp, d_weight, d_bias, None


def fused_applies(cell: Any, rec_mask: Any, seq_mask: Any) -> bool:
    """Whether :class:`StackedRecurrence` computes this layer's equations."""
    from rnnkit import activations

    if rec_mask is not None or seq_mask is not None:
        return False
    if cell.activation is not activations.get("tanh"):
        return False
    if cell.gates > 1 and cell.recurrent_activation is not activations.get("sigmoid"):
        return False
    return cell.gates != 3 or (cell.reset_after and cell.use_bias)
