"""The hand-written BPTT loops as PyTorch ops (the ``torch`` engine).

Same arithmetic as the native C++ library, one batched op after another: used on
GPUs and wherever the native library cannot be built. Forward saves the gate
activations into preallocated ``(batch, steps, ...)`` buffers; backward walks the
steps in reverse without an autograd graph.

Each cell kind has one forward step and one backward step function, side by side
below (``_lstm_forward`` / ``_lstm_backward`` …), found through :data:`_STEPS`; the
loops around them (buffers, masked steps) are shared.

On a GPU each loop is some 20 small kernels per step, so launching them costs more
than running them. The loops are therefore recorded once per shape as CUDA graphs
(:mod:`rnnkit.kernels.cuda_graphs`) and replayed: one launch per loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
from torch.autograd.function import once_differentiable

from rnnkit import activations as activations_mod
from rnnkit.kernels.bptt import has_projection_gradient
from rnnkit.kernels.bptt import saves_activations
from rnnkit.kernels.bptt import weight_gradients
from rnnkit.kernels.cellspec import CellKind
from rnnkit.kernels.cuda_graphs import run_graphed

_SELU_SCALE = 1.0507009873554804934193349852946
_SELU_ALPHA = 1.6732632423543772848170429916717


def activation_grad(name: str, y: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """``grad * f'(x)`` for the activation ``name``, written with its output ``y = f(x)``.

    Example:
        >>> import torch
        >>> y = torch.tanh(torch.tensor([0.5]))
        >>> activation_grad("tanh", y, torch.ones(1))
        tensor([0.7864])
    """
    if name == "linear":
        return grad
    if name == "tanh":
        return grad * (1 - y * y)
    if name == "sigmoid":
        return grad * y * (1 - y)
    if name == "exponential":
        return grad * y
    if name == "softsign":
        return grad * (1 - y.abs()).square()
    zero = torch.zeros((), dtype=grad.dtype, device=grad.device)
    if name == "relu":
        return torch.where(y > 0, grad, zero)
    if name == "elu":
        return grad * torch.where(y > 0, torch.ones_like(y), y + 1)
    if name == "selu":
        scale = torch.full_like(y, _SELU_SCALE)
        return grad * torch.where(y > 0, scale, y + _SELU_SCALE * _SELU_ALPHA)
    if name == "leaky_relu":
        return torch.where(y > 0, grad, grad * 0.2)
    if name == "hard_sigmoid":
        return torch.where((y > 0) & (y < 1), grad / 6, zero)
    if name == "relu6":
        return torch.where((y > 0) & (y < 6), grad, zero)
    if name == "hard_tanh":
        return torch.where((y > -1) & (y < 1), grad, zero)
    raise ValueError(f"activation_grad: no derivative for activation {name!r}.")


class _Recurrent:
    """``h U^T`` and its transpose for a block of gates, with dropout masks."""

    def __init__(self, weight_hh: torch.Tensor, rmask: torch.Tensor | None, units: int):
        self.weight = weight_hh  # (k * units, units)
        self.rmask = rmask  # None or (1 or k, batch, units)
        self.units = units

    def mask(self, gate: int) -> torch.Tensor:
        assert self.rmask is not None
        return self.rmask[0 if self.rmask.shape[0] == 1 else gate]

    def project(self, h: torch.Tensor, first: int, last: int) -> torch.Tensor:
        u = self.units
        if self.rmask is None:
            return h @ self.weight[first * u : last * u].T  # (batch, gates * units)
        if self.rmask.shape[0] == 1:
            return (h * self.rmask[0]) @ self.weight[first * u : last * u].T
        blocks = [
            (h * self.mask(g)) @ self.weight[g * u : (g + 1) * u].T for g in range(first, last)
        ]
        return torch.cat(blocks, dim=1)  # (batch, gates * units)

    def project_back(self, dz: torch.Tensor, first: int, last: int) -> torch.Tensor:
        u = self.units
        if self.rmask is None:
            return dz @ self.weight[first * u : last * u]  # (batch, units)
        if self.rmask.shape[0] == 1:
            return (dz @ self.weight[first * u : last * u]) * self.rmask[0]
        total = torch.zeros_like(dz[:, :u])
        for g in range(first, last):
            block = dz[:, (g - first) * u : (g - first + 1) * u]
            total += (block @ self.weight[g * u : (g + 1) * u]) * self.mask(g)
        return total


def _carry(valid: torch.Tensor | None, t: int, new: torch.Tensor, old: torch.Tensor):
    """Keep ``old`` on masked rows of step ``t``."""
    return new if valid is None else torch.where(valid[:, t, None], new, old)


def _spec_key(spec) -> tuple:
    """What identifies a loop's code apart from its tensors' shapes."""
    return (spec.kind, spec.units, spec.gates, spec.act_name, spec.rec_act_name)


class TorchRecurrence(torch.autograd.Function):
    """The recurrence as PyTorch ops; returns ``(H,)`` or ``(H, c_last)``."""

    @staticmethod
    def forward(ctx, spec, threads, needs_grad, xp, weight_hh, bias_hh, h0, c0, rmask, valid):
        """Run the recurrence over all timesteps; save what `backward` needs when `needs_grad`."""
        inputs = [xp, weight_hh, bias_hh, h0, c0, rmask, valid]
        key = ("forward", *_spec_key(spec))
        history, cells, gates, saved = run_graphed(key, partial(_forward_loop, spec), inputs)
        ctx.spec = spec
        if needs_grad:
            ctx.save_for_backward(weight_hh, h0, c0, rmask, valid, history, cells, gates, saved)
        if spec.kind.has_cell_state:
            return history, cells[:, -1].clone()
        return (history,)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_history, grad_c_last=None):
        """Backpropagate through time; return one gradient per `forward` input."""
        spec = ctx.spec
        weight_hh, h0, c0, rmask, valid, history, cells, gates, saved = ctx.saved_tensors
        inputs = [weight_hh, h0, c0, rmask, valid, history, cells, gates, saved]
        inputs += [grad_history.contiguous(), grad_c_last]
        key = ("backward", *_spec_key(spec))
        grad_xp, grad_hp, dh, dc = run_graphed(key, partial(_backward_loop, spec), inputs)
        grad_w = grad_b = None
        if ctx.needs_input_grad[4] or ctx.needs_input_grad[5]:  # frozen weights skip this
            grad_w, grad_b = weight_gradients(spec, h0, history, gates, grad_xp, grad_hp, rmask)
        return None, None, None, grad_xp, grad_w, grad_b, dh, dc, None, None


class _Loop:
    """What every step of one loop reads: sizes, activations, recurrent weight, masks."""

    def __init__(self, spec, weight_hh, bias_hh, rmask):
        self.spec = spec
        self.u = spec.units
        self.act = activations_mod.ACTIVATIONS[spec.act_name]
        self.rec_act = activations_mod.ACTIVATIONS[spec.rec_act_name]
        self.rec = _Recurrent(weight_hh, rmask, spec.units)
        self.weight_hh = weight_hh  # (k * units, units)
        self.bias_hh = bias_hh  # GRU reset_after: (3 * units,) or None
        self.rmask = rmask  # None or (1 or k, batch, units)

    def act_grad(self, y: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        """``grad * activation'`` at the output ``y``."""
        return activation_grad(self.spec.act_name, y, grad)

    def rec_act_grad(self, y: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        """``grad * recurrent_activation'`` at the output ``y``."""
        return activation_grad(self.spec.rec_act_name, y, grad)

    def h_prev(self, b: _Buffers, t: int) -> torch.Tensor:
        """The state before step ``t``."""
        return b.h0 if t == 0 else b.history[:, t - 1]


@dataclass
class _Buffers:
    """What the backward loop reads (saved by forward) and writes, ``(batch, steps, ...)``."""

    h0: torch.Tensor
    c0: torch.Tensor | None
    history: torch.Tensor  # state after each step
    cells: torch.Tensor | None  # LSTM cell state after each step
    gates: torch.Tensor  # gate activations, k * units
    saved: torch.Tensor | None  # LSTM activation(c_t) / GRU h U_h^T + b'_h
    grad_xp: torch.Tensor  # gradient of the input projection, k * units
    grad_hp: torch.Tensor | None  # GRU: gradient of h U^T + b_hh, 3 * units


# Per cell kind, one forward step and one backward step:
#   forward(loop, x_t, h, c, g_t, s_t) -> (h_new, c_new or None): x_t is the input
#       projection of step t; it writes the gate activations into g_t (and the
#       saved activations into s_t), and returns the new states before masking.
#   backward(loop, b, t, dhn, v, dc) -> (dh, dc): dhn is the gradient of the state
#       after step t on valid rows, v the valid rows (None: all); it writes
#       b.grad_xp[:, t] (and b.grad_hp[:, t]) and returns the gradients of the states
#       before step t, through the cell (the loop adds the carried part).


# ---------------------------------------------------------------- SIMPLE_RNN
def _simple_rnn_forward(loop: _Loop, x_t, h, c, g_t, s_t):
    return loop.act(x_t + loop.rec.project(h, 0, 1)), None


def _simple_rnn_backward(loop: _Loop, b: _Buffers, t: int, dhn, v, dc):
    dz = b.grad_xp[:, t]
    dz.copy_(loop.act_grad(b.history[:, t], dhn))
    return loop.rec.project_back(dz, 0, 1), None


# ---------------------------------------------------------------------- LSTM
def _lstm_forward(loop: _Loop, x_t, h, c, g_t, s_t):
    u = loop.u
    z = x_t + loop.rec.project(h, 0, 4)
    g_t[:, : 2 * u] = loop.rec_act(z[:, : 2 * u])  # i, f
    g_t[:, 2 * u : 3 * u] = loop.act(z[:, 2 * u : 3 * u])  # candidate
    g_t[:, 3 * u :] = loop.rec_act(z[:, 3 * u :])  # o
    i, f, g, o = g_t.split(u, dim=1)
    c_new = f * c + i * g
    s_t.copy_(loop.act(c_new))
    return o * s_t, c_new


def _lstm_backward(loop: _Loop, b: _Buffers, t: int, dhn, v, dc):
    assert b.cells is not None and b.saved is not None  # an LSTM's forward always saves them
    u = loop.u
    dz = b.grad_xp[:, t]
    i, f, g, o = b.gates[:, t].split(u, dim=1)
    c_prev = b.c0 if t == 0 else b.cells[:, t - 1]
    dcn = dc if v is None else dc * v
    dcn = dcn + loop.act_grad(b.saved[:, t], dhn * o)
    dz[:, 3 * u :] = loop.rec_act_grad(o, dhn * b.saved[:, t])
    dz[:, : 2 * u] = loop.rec_act_grad(
        b.gates[:, t, : 2 * u], torch.cat([dcn * g, dcn * c_prev], 1)
    )
    dz[:, 2 * u : 3 * u] = loop.act_grad(g, dcn * i)
    carried = dcn * f
    dc = carried if v is None else carried + dc * (1 - v)
    return loop.rec.project_back(dz, 0, 4), dc


# ----------------------------------------------------------------------- GRU
# reset_after=True: hp = h U^T + b_hh; candidate = act(x_h + r ⊙ hp_h).
def _gru_forward(loop: _Loop, x_t, h, c, g_t, s_t):
    u = loop.u
    hp = loop.rec.project(h, 0, 3)
    if loop.bias_hh is not None:
        hp = hp + loop.bias_hh
    g_t[:, : 2 * u] = loop.rec_act(x_t[:, : 2 * u] + hp[:, : 2 * u])  # z, r
    s_t.copy_(hp[:, 2 * u :])
    g_t[:, 2 * u :] = loop.act(x_t[:, 2 * u :] + g_t[:, u : 2 * u] * hp[:, 2 * u :])
    z, _, cand = g_t.split(u, dim=1)
    return z * h + (1 - z) * cand, None


def _gru_backward(loop: _Loop, b: _Buffers, t: int, dhn, v, dc):
    assert b.saved is not None and b.grad_hp is not None  # a GRU's forward always saves them
    u = loop.u
    dz = b.grad_xp[:, t]
    h_prev = loop.h_prev(b, t)
    z, r, cand = b.gates[:, t].split(u, dim=1)
    dcand = loop.act_grad(cand, dhn * (1 - z))
    dz[:, 2 * u :] = dcand
    dz[:, u : 2 * u] = dcand * b.saved[:, t]
    dz[:, : 2 * u] = loop.rec_act_grad(
        b.gates[:, t, : 2 * u], torch.cat([dhn * (h_prev - cand), dz[:, u : 2 * u]], 1)
    )
    grad_hp = b.grad_hp[:, t]
    grad_hp[:, : 2 * u] = dz[:, : 2 * u]
    grad_hp[:, 2 * u :] = dcand * r
    return dhn * z + loop.rec.project_back(grad_hp, 0, 3), None


# ---------------------------------------------------------- GRU_RESET_BEFORE
# reset_after=False: candidate = act(x_h + (r ⊙ h ⊙ m_h) U_h^T).
def _gru_reset_before_forward(loop: _Loop, x_t, h, c, g_t, s_t):
    u = loop.u
    g_t[:, : 2 * u] = loop.rec_act(x_t[:, : 2 * u] + loop.rec.project(h, 0, 2))  # z, r
    h_masked = h if loop.rmask is None else h * loop.rec.mask(2)
    q = g_t[:, u : 2 * u] * h_masked
    g_t[:, 2 * u :] = loop.act(x_t[:, 2 * u :] + q @ loop.weight_hh[2 * u :].T)
    z, _, cand = g_t.split(u, dim=1)
    return z * h + (1 - z) * cand, None


def _gru_reset_before_backward(loop: _Loop, b: _Buffers, t: int, dhn, v, dc):
    u = loop.u
    dz = b.grad_xp[:, t]
    h_prev = loop.h_prev(b, t)
    z, r, cand = b.gates[:, t].split(u, dim=1)
    dcand = loop.act_grad(cand, dhn * (1 - z))
    dz[:, 2 * u :] = dcand
    dq = dcand @ loop.weight_hh[2 * u :]  # (batch, units)
    h_masked = h_prev if loop.rmask is None else h_prev * loop.rec.mask(2)
    dh = dhn * z + dq * r * (1 if loop.rmask is None else loop.rec.mask(2))
    dz[:, : 2 * u] = loop.rec_act_grad(
        b.gates[:, t, : 2 * u], torch.cat([dhn * (h_prev - cand), dq * h_masked], 1)
    )
    return dh + loop.rec.project_back(dz[:, : 2 * u], 0, 2), None


#: ``(forward step, backward step)`` per cell kind.
_STEPS: dict[CellKind, tuple[Callable, Callable]] = {
    CellKind.SIMPLE_RNN: (_simple_rnn_forward, _simple_rnn_backward),
    CellKind.LSTM: (_lstm_forward, _lstm_backward),
    CellKind.GRU: (_gru_forward, _gru_backward),
    CellKind.GRU_RESET_BEFORE: (_gru_reset_before_forward, _gru_reset_before_backward),
}


def _forward_loop(spec, xp, weight_hh, bias_hh, h0, c0, rmask, valid):
    """The forward loop; returns ``[history, cells, gates, saved]`` (some ``None``)."""
    batch, steps, _ = xp.shape
    u = spec.units
    loop = _Loop(spec, weight_hh, bias_hh, rmask)
    forward_step = _STEPS[spec.kind][0]
    history = xp.new_empty(batch, steps, u)  # state after each step
    cells = xp.new_empty(batch, steps, u) if spec.kind.has_cell_state else None
    gates = xp.new_empty(xp.shape)  # activations, (batch, steps, k * units)
    saved = xp.new_empty(batch, steps, u) if saves_activations(spec.kind) else None
    h, c = h0, c0
    for t in range(steps):
        s_t = None if saved is None else saved[:, t]
        h_new, c_new = forward_step(loop, xp[:, t], h, c, gates[:, t], s_t)
        if cells is not None:
            cells[:, t] = c = _carry(valid, t, c_new, c)
        history[:, t] = h = _carry(valid, t, h_new, h)
    return [history, cells, gates, saved]


def _backward_loop(
    spec, weight_hh, h0, c0, rmask, valid, history, cells, gates, saved, grad_history, grad_c_last
):
    """The backward loop; returns ``[grad_xp, grad_hp, dh0, dc0]`` (some ``None``)."""
    steps = history.shape[1]
    loop = _Loop(spec, weight_hh, None, rmask)
    backward_step = _STEPS[spec.kind][1]
    grad_hp = torch.empty_like(gates) if has_projection_gradient(spec.kind) else None
    b = _Buffers(h0, c0, history, cells, gates, saved, torch.empty_like(gates), grad_hp)
    dh = torch.zeros_like(h0)
    dc = None
    if spec.kind.has_cell_state:
        dc = torch.zeros_like(c0) if grad_c_last is None else grad_c_last.clone()
    for t in range(steps - 1, -1, -1):
        gh = dh + grad_history[:, t]  # gradient of the state after step t
        v = None if valid is None else valid[:, t, None].to(gh.dtype)  # (batch, 1)
        dhn = gh if v is None else gh * v
        dh, dc = backward_step(loop, b, t, dhn, v, dc)
        if v is not None:
            dh = dh + gh * (1 - v)  # masked rows: the state was carried over
    return [b.grad_xp, grad_hp, dh, dc]
