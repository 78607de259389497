"""The diagnostic pass: a model's forward with every recurrent layer re-run step by step.

Each recurrent layer (``SimpleRNN``, ``LSTM``, ``GRU``, also inside ``Bidirectional``)
is re-run from its own weights with the exact Keras equations, one timestep at a
time, as the reference kernel runs them; the pass keeps the hidden state ``h_t`` of
every step and the gate activations. Everything else — masks, the layers around,
the loss — is the model's own code: the pass hooks into the layers' calls and
replaces each recurrent layer's output with the re-run one, whose autograd graph
reaches every ``h_t``.

The pass runs in inference mode (``training=False``: no dropout, no activity
penalty), so its figures do not depend on a dropout draw, and it does not depend
on the kernel a layer trains with (native, fused, torch or reference): each layer's
own kernel still runs (without gradients) and ``max_abs_difference`` records how
far the re-run output is from it, a check that the pass computes the same network.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

import torch

from rnnkit.kernels import CellKind
from rnnkit.layers.cells import DropoutMasks
from rnnkit.layers.rnn import RNN

#: Gate names recorded per cell kind, in Keras' gate order; ``candidate`` is the
#: ``activation`` output (``h_t`` itself for a SimpleRNN, ``φ(z_c)`` for an LSTM, ``ĥ`` for a GRU).
GATES = {
    CellKind.SIMPLE_RNN: (),
    CellKind.LSTM: ("i", "f", "o"),
    CellKind.GRU: ("z", "r"),
    CellKind.GRU_RESET_BEFORE: ("z", "r"),
}


@dataclass
class LayerTrace:
    """What the pass kept of one recurrent layer call.

    Attributes:
        layer: The recurrent layer (an ``RNN``).
        kind: Its cell's :class:`~rnnkit.kernels.CellKind`.
        kernel: The kernel the layer ran before the pass (its training kernel), in words.
        hidden: ``h_t`` after each step, in processing order (the last is the last step).
        last_output: The layer's output at its last processed step.
        gates: Gate activations per step, ``{"i": [...], "f": [...], ...}``.
        candidate: The ``activation`` output per step.
        max_abs_difference: Largest difference between the re-run output and the
            output of the layer's own kernel.
    """

    layer: Any
    kind: CellKind
    kernel: str
    hidden: list[torch.Tensor] = field(default_factory=list)
    last_output: torch.Tensor | None = None
    gates: dict[str, list[torch.Tensor]] = field(default_factory=dict)
    candidate: list[torch.Tensor] = field(default_factory=list)
    max_abs_difference: float = 0.0


def traceable_layers(model: Any) -> list[Any]:
    """The recurrent layers of ``model`` that the pass re-runs, in call order.

    Layers whose cell declares no :class:`~rnnkit.kernels.CellKind` (custom cells)
    are left out: their equations are their own.

    Example:
        >>> from rnnkit.layers import GRU, Dense, LSTM
        >>> from rnnkit.models import Sequential
        >>> model = Sequential([LSTM(4, return_sequences=True), GRU(3), Dense(1)])
        >>> [type(layer).__name__ for layer in traceable_layers(model)]
        ['LSTM', 'GRU']
    """
    return [m for m in model.modules() if isinstance(m, RNN) and m.cell.kind is not None]


def _step(cell, kind: CellKind, xp_t, states):
    """One timestep of Keras' equations (no dropout): ``(h, new_states, gates, candidate)``."""
    h = states[0]
    if kind is CellKind.SIMPLE_RNN:
        h = cell.activation(xp_t + cell.project_state(h, None))
        return h, [h], {}, h
    u = cell.units
    if kind is CellKind.LSTM:
        z = xp_t + cell.project_state(h, None)
        z_i, z_f, z_c, z_o = z.chunk(4, dim=1)
        i = cell.recurrent_activation(z_i)
        f = cell.recurrent_activation(z_f)
        o = cell.recurrent_activation(z_o)
        candidate = cell.activation(z_c)
        c = f * states[1] + i * candidate
        h = o * cell.activation(c)
        return h, [h, c], {"i": i, "f": f, "o": o}, candidate
    x_z, x_r, x_h = xp_t.split(u, dim=1)
    if kind is CellKind.GRU:
        hp = cell.project_state(h, None)
        if cell.bias is not None:
            hp = hp + cell.bias[1]
        h_z, h_r, h_h = hp.split(u, dim=1)
        z = cell.recurrent_activation(x_z + h_z)
        r = cell.recurrent_activation(x_r + h_r)
        candidate = cell.activation(x_h + r * h_h)
    else:
        h_z, h_r = cell.project_state(h, None, slice(0, 2)).split(u, dim=1)
        z = cell.recurrent_activation(x_z + h_z)
        r = cell.recurrent_activation(x_r + h_r)
        candidate = cell.activation(x_h + (r * h) @ cell.weight_hh[2 * u :].T)
    h = z * h + (1.0 - z) * candidate
    return h, [h], {"z": z, "r": r}, candidate


def run_layer(
    trace: LayerTrace, x: torch.Tensor, mask, initial_states
) -> tuple[torch.Tensor, torch.Tensor | None, list[torch.Tensor]]:
    """Re-run ``trace.layer`` over ``x`` step by step, filling ``trace``.

    Follows the reference kernel: masked steps carry the states over and repeat
    the previous output (or zeros with ``zero_output_for_mask``); ``go_backwards``
    processes ``t = T-1 ... 0`` and returns the outputs in that order.

    Returns:
        ``(last_output, outputs or None, final_states)``.
    """
    layer, cell, kind = trace.layer, trace.layer.cell, trace.kind
    xp = cell.project_inputs(x, DropoutMasks())
    steps = xp.unbind(1)
    step_mask = None if mask is None else mask.unbind(1)
    order = range(len(steps) - 1, -1, -1) if layer.go_backwards else range(len(steps))
    states = list(initial_states)
    trace.gates = {name: [] for name in GATES[kind]}
    previous = None
    outputs = []
    for t in order:
        output, new_states, gates, candidate = _step(cell, kind, steps[t], states)
        if step_mask is not None:
            valid = step_mask[t][:, None]
            new_states = [torch.where(valid, n, s) for n, s in zip(new_states, states, strict=True)]
            if layer.zero_output_for_mask:
                output = torch.where(valid, output, torch.zeros_like(output))
            else:
                carried = torch.zeros_like(output) if previous is None else previous
                output = torch.where(valid, output, carried)
        states = new_states
        previous = output
        trace.hidden.append(states[0])
        for name, value in gates.items():
            trace.gates[name].append(value)
        trace.candidate.append(candidate)
        outputs.append(output)
    if previous is None:  # zero timesteps
        previous = torch.zeros(x.shape[0], cell.output_size, dtype=x.dtype, device=x.device)
    trace.last_output = previous
    stacked = torch.stack(outputs, dim=1) if layer.return_sequences and outputs else None
    return previous, stacked, states


class _Hooks:
    """Forward hooks that swap each traced layer's output for the step-by-step re-run."""

    def __init__(self, layers: list[Any]):
        self.layers = layers
        self.traces: list[LayerTrace] = []
        self._handles: list[Any] = []
        self._pending: dict[int, tuple[bool, list | None, str]] = {}

    def __enter__(self) -> _Hooks:
        for layer in self.layers:
            self._handles.append(layer.register_forward_pre_hook(self._before, with_kwargs=True))
            self._handles.append(layer.register_forward_hook(self._after, with_kwargs=True))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _before(self, layer, args, kwargs):
        carried = layer.states if layer.stateful else None
        choice = layer.kernel_choice
        kernel = str(choice) if choice is not None else "not run yet"
        self._pending[id(layer)] = (torch.is_grad_enabled(), carried, kernel)
        torch.set_grad_enabled(False)  # the layer's own kernel runs only as a check

    def _after(self, layer, args, kwargs, result):
        grad_enabled, carried, kernel = self._pending.pop(id(layer))
        torch.set_grad_enabled(grad_enabled)
        x = torch.as_tensor(args[0] if args else kwargs["inputs"])
        x = x.to(layer.dtype)
        mask = kwargs.get("mask")
        mask = None if mask is None else torch.as_tensor(mask, device=x.device).bool()
        initial = kwargs.get("initial_state")
        if initial is not None:
            initial = [initial] if isinstance(initial, torch.Tensor) else list(initial)
            states = [torch.as_tensor(s, dtype=x.dtype, device=x.device) for s in initial]
        elif carried is not None:
            states = [s.to(x.device) for s in carried]
        else:
            states = layer.cell.get_initial_state(x.shape[0], device=x.device)
        trace = LayerTrace(layer, layer.cell.kind, kernel)
        with torch.enable_grad():
            last, sequence, final = run_layer(trace, x, mask, states)
        output = sequence if layer.return_sequences else last
        assert output is not None
        own = result[0] if layer.return_state else result
        if own.numel():
            trace.max_abs_difference = float((output.detach() - own).abs().max())
        self.traces.append(trace)
        if layer.stateful:  # the pass must not move a stateful model's carried states
            layer.reset_states(carried)
        if layer.return_state:
            return [output, *final]
        return output


@dataclass
class Pass:
    """The result of :func:`diagnostic_pass`.

    Attributes:
        loss: The model's loss on the sample (a scalar with its autograd graph).
        y_pred: The model's output.
        traces: One :class:`LayerTrace` per recurrent layer call, in call order.
    """

    loss: torch.Tensor
    y_pred: torch.Tensor
    traces: list[LayerTrace]


def diagnostic_pass(model: Any, x: Any, y: Any) -> Pass:
    """Run ``model`` on ``(x, y)`` in inference mode with its recurrent layers traced.

    Args:
        model: A compiled ``Sequential`` (or any model whose call runs its layers
            and that has a ``loss``).
        x: Inputs, ``(samples, timesteps, features)``.
        y: Targets, as ``fit`` takes them.

    Returns:
        A :class:`Pass`; its ``loss`` backpropagates to every traced ``h_t``.

    Example:
        >>> import numpy as np
        >>> from rnnkit.layers import Dense, SimpleRNN
        >>> from rnnkit.models import Sequential
        >>> model = Sequential([SimpleRNN(3), Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> result = diagnostic_pass(model, np.ones((2, 5, 1), "float32"), np.ones((2, 1)))
        >>> len(result.traces[0].hidden), result.traces[0].max_abs_difference < 1e-6
        (5, True)
    """
    x_t = torch.as_tensor(x)
    y_t = torch.as_tensor(y)
    if not getattr(model, "built", True):
        model.build((None, *x_t.shape[1:]))
    weight = next(iter(model.parameters()), None)
    if weight is not None and x_t.is_floating_point():
        x_t = x_t.to(weight.dtype)  # as fit() converts its inputs (float64 arrays included)
    was_training = model.training
    model.eval()
    try:
        with _Hooks(traceable_layers(model)) as hooks, torch.enable_grad():
            y_pred = model(x_t, training=False)
            y_t = y_t.to(device=y_pred.device)
            if y_t.is_floating_point():
                y_t = y_t.to(y_pred.dtype)
            align = getattr(model, "_align_targets", None)
            if align is not None:
                y_t = align(y_t, y_pred)
            loss = model.loss(y_t, y_pred)
    finally:
        model.train(was_training)
    return Pass(loss, y_pred, hooks.traces)
