"""Gradient-health figures of a model on a sample: the measures and their formulas.

For each recurrent layer, with ``g_k = ‖∂L/∂h_{T-1-k}‖`` the gradient norm ``k``
steps back from the layer's last processed step (Frobenius norm over the sample
and the units; ``L`` is the model's loss, a mean over the sample):

* ``grad_norms``: ``g_0 … g_{T-1}``, the total gradient that reaches each step's
  hidden state (backpropagation through time, every path included).
* ``memory_grad_norms``: the same, but only for the gradient that enters at the
  last step and travels back through the recurrence (``∂L/∂y_T · ∂y_T/∂h_t``).
  Without ``return_sequences`` the two are equal; with it, every step also gets
  gradient from its own output, which would hide how far back one step reaches.
* ``effective_memory``: the first ``k`` with ``memory_grad_norms[k] <
  MEMORY_FACTOR · memory_grad_norms[0]``, or ``T`` (``memory_covers_window``)
  when the gradient never falls that far inside the window.
* ``growth_per_step``: ``exp(slope)`` of a least-squares line through
  ``(k, ln g_k)`` (memory norms): below 1 the gradient decays going back in time,
  above 1 it grows. ``growth_over_window`` is ``max_k g_k / g_0``.
* ``exploding``: a non-finite gradient, or ``growth_over_window ≥ EXPLODING_GROWTH``.
* ``weight_grad_norms`` / ``weight_norms`` / ``update_ratios``: ``‖∂L/∂W‖``, ``‖W‖``
  and their ratio for the Keras weights ``kernel``, ``recurrent_kernel``, ``bias``.
* ``dead_fraction`` (``relu``-family activations only): the fraction of units whose
  activation output is exactly 0 for every sample and every step (SimpleRNN: ``h_t``;
  LSTM and GRU: the candidate ``φ(·)``, without which ``c_t``/``h_t`` never move).
* ``saturation``: per gate (LSTM ``i``, ``f``, ``o``; GRU ``z``, ``r``) the fraction of
  gate values (samples × steps × units) below ``SIGMOID_SATURATION[0]`` or above
  ``SIGMOID_SATURATION[1]``; with a tanh activation also ``candidate``, the fraction
  with ``|φ| > TANH_SATURATION``. A saturated gate's derivative is near zero.

The loss is the data loss (weight penalties left out), in inference mode.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import numpy as np
import torch

from rnnkit import activations as activations_mod
from rnnkit.diagnostics.trace import LayerTrace
from rnnkit.diagnostics.trace import diagnostic_pass
from rnnkit.errors import RnnkitValueError

#: The gradient "has gone" once it is below this fraction of its last-step value.
MEMORY_FACTOR = 1e-3
#: A sigmoid gate value below the first or above the second is saturated.
SIGMOID_SATURATION = (0.02, 0.98)
#: A tanh output beyond ± this is saturated.
TANH_SATURATION = 0.98
#: Activations whose units can die (output exactly 0 for every input).
DEAD_ACTIVATIONS = frozenset({"relu", "relu6"})
#: Gate activations read on SIGMOID_SATURATION's scale.
SIGMOID_ACTIVATIONS = frozenset({"sigmoid", "hard_sigmoid"})
#: Exploding: the gradient grows by at least this factor going back through the window.
EXPLODING_GROWTH = 100.0

_WEIGHT_NAMES = (("kernel", "weight_ih"), ("recurrent_kernel", "weight_hh"), ("bias", "bias"))


@dataclass
class LayerHealth:
    """The figures of one recurrent layer (see the module docstring for each formula).

    Attributes:
        name: The layer's name.
        layer_type: ``"SimpleRNN"``, ``"LSTM"``, ``"GRU"`` (or a subclass' name).
        index: Position among the model's recurrent layers, from 1.
        units: Units of the layer.
        timesteps: Steps in the sample's sequences (``T``).
        activation: The activation's name.
        return_sequences: Whether the layer outputs every step.
        kernel: The kernel the layer trains with, in words.
        grad_norms: ``‖∂L/∂h_t‖``, ``k = 0 … T-1`` steps back.
        memory_grad_norms: The gradient from the last step only, ``k`` steps back.
        effective_memory: Steps back until the gradient falls below ``MEMORY_FACTOR``
            of its last-step value (``None`` when that value is 0 or not finite).
        memory_covers_window: The gradient never fell that far inside the window.
        growth_per_step: Fitted factor per step back (``< 1`` decays).
        growth_over_window: ``max_k g_k / g_0``.
        finite: Every gradient and the loss are finite.
        exploding: Non-finite, or growth over the window ``≥ EXPLODING_GROWTH``.
        weight_grad_norms: ``‖∂L/∂W‖`` per Keras weight name.
        weight_norms: ``‖W‖`` per Keras weight name.
        update_ratios: ``‖∂L/∂W‖ / ‖W‖`` per Keras weight name.
        dead_fraction: Fraction of dead units (``None`` unless a relu-family activation).
        saturation: Fraction of saturated values per gate (and ``candidate``).
        max_abs_difference: Largest difference between the pass's output and the
            layer's own kernel output (a self-check; float rounding only).
    """

    name: str
    layer_type: str
    index: int
    units: int
    timesteps: int
    activation: str
    return_sequences: bool
    kernel: str
    grad_norms: list[float]
    memory_grad_norms: list[float]
    effective_memory: int | None
    memory_covers_window: bool
    growth_per_step: float | None
    growth_over_window: float | None
    finite: bool
    exploding: bool
    weight_grad_norms: dict[str, float] = field(default_factory=dict)
    weight_norms: dict[str, float] = field(default_factory=dict)
    update_ratios: dict[str, float] = field(default_factory=dict)
    dead_fraction: float | None = None
    saturation: dict[str, float] = field(default_factory=dict)
    max_abs_difference: float = 0.0

    @property
    def label(self) -> str:
        """How verdicts name the layer: ``"LSTM 2 ('lstm_1')"``."""
        return f"{self.layer_type} {self.index} ({self.name!r})"


@dataclass
class HealthFigures:
    """All figures of one diagnostic pass.

    Attributes:
        loss: The data loss on the sample, inference mode.
        samples: Sequences in the sample.
        layers: One :class:`LayerHealth` per recurrent layer, in call order.
        epoch: Epochs trained when measured (``None`` when not known).
    """

    loss: float
    samples: int
    layers: list[LayerHealth]
    epoch: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The figures as plain JSON-able values (non-finite floats become ``None``)."""
        return _json_safe(asdict(self))


def measure(model: Any, x: Any, y: Any, *, epoch: int | None = None) -> HealthFigures:
    """Measure the gradient health of ``model`` on the sample ``(x, y)``.

    Args:
        model: A compiled ``Sequential`` with at least one recurrent layer.
        x: Input sequences ``(samples, timesteps, features)``.
        y: Their targets, as ``fit`` takes them.
        epoch: Epochs trained so far, recorded with the figures. Defaults to `None`.

    Returns:
        The :class:`HealthFigures`.

    Raises:
        RnnkitValueError: the model is not compiled or has no recurrent layer.

    Example:
        >>> import numpy as np
        >>> from rnnkit.layers import Dense, SimpleRNN
        >>> from rnnkit.models import Sequential
        >>> model = Sequential([SimpleRNN(4, input_shape=(6, 1), name="rnn"), Dense(1)])
        >>> model.compile(optimizer="adam", loss="mse")
        >>> x = np.random.default_rng(0).normal(size=(8, 6, 1)).astype("float32")
        >>> layer = measure(model, x, x[:, -1]).layers[0]
        >>> layer.label, len(layer.grad_norms), layer.grad_norms[0] > layer.grad_norms[-1]
        ("SimpleRNN 1 ('rnn')", 6, True)
    """
    if getattr(model, "loss", None) is None or not getattr(model, "compiled", True):
        raise RnnkitValueError(
            "measure(): the model is not compiled, so it has no loss to differentiate. "
            'Call model.compile(optimizer="adam", loss="mse") first.'
        )
    result = diagnostic_pass(model, x, y)
    if not result.traces:
        raise RnnkitValueError(
            f"measure(): {type(model).__name__} {getattr(model, 'name', '')!r} has no "
            "SimpleRNN, LSTM or GRU layer to diagnose. Pass a model with recurrent layers."
        )
    grads = _gradients(result.loss, result.traces)
    loss = float(result.loss.detach())
    layers = [
        _layer_health(i + 1, trace, grads, math.isfinite(loss))
        for i, trace in enumerate(result.traces)
    ]
    return HealthFigures(loss=loss, samples=int(result.y_pred.shape[0]), layers=layers, epoch=epoch)


def _weights(trace: LayerTrace) -> dict[str, torch.Tensor]:
    cell = trace.layer.cell
    found = {}
    for keras_name, attribute in _WEIGHT_NAMES:
        weight = getattr(cell, attribute, None)
        if isinstance(weight, torch.Tensor) and weight.requires_grad:
            found[keras_name] = weight
    return found


def _gradients(loss: torch.Tensor, traces: list[LayerTrace]) -> dict[Any, Any]:
    """``{id(tensor): gradient}`` for every h_t, sequence last output and weight."""
    wanted: list[torch.Tensor] = []
    for trace in traces:
        wanted.extend(trace.hidden)
        wanted.extend(_weights(trace).values())
        if trace.layer.return_sequences and trace.last_output is not None:
            wanted.append(trace.last_output)
    wanted = [t for t in wanted if t.requires_grad]
    unique = list({id(t): t for t in wanted}.values())
    if not loss.requires_grad or not unique:
        return {}
    sequences = [t for t in traces if t.layer.return_sequences and t.last_output is not None]
    values = torch.autograd.grad(loss, unique, allow_unused=True, retain_graph=bool(sequences))
    grads: dict[Any, Any] = {id(t): g for t, g in zip(unique, values, strict=True)}
    for i, trace in enumerate(sequences):
        last = trace.last_output
        assert last is not None
        entering = grads.get(id(last))
        hidden = [h for h in trace.hidden if h.requires_grad]
        if entering is None or not hidden:
            continue
        back = torch.autograd.grad(
            last, hidden, grad_outputs=entering, allow_unused=True,
            retain_graph=i < len(sequences) - 1,
        )  # fmt: skip
        for h, g in zip(hidden, back, strict=True):
            grads[("memory", id(h))] = g
    return grads


def _norm(tensor: torch.Tensor | None) -> float:
    if tensor is None:
        return 0.0
    return float(torch.linalg.vector_norm(tensor.detach().double()))


def _layer_health(index: int, trace: LayerTrace, grads: dict, loss_finite: bool) -> LayerHealth:
    layer, cell = trace.layer, trace.layer.cell
    steps_back = list(reversed(trace.hidden))
    grad_norms = [_norm(grads.get(id(h))) for h in steps_back]
    if layer.return_sequences:
        memory = [_norm(grads.get(("memory", id(h)))) for h in steps_back]
    else:
        memory = list(grad_norms)
    effective, covers = effective_memory(memory)
    per_step, over_window = growth(memory)
    finite = loss_finite and all(math.isfinite(g) for g in grad_norms + memory)
    weights = _weights(trace)
    weight_grads = {k: _norm(grads.get(id(w))) for k, w in weights.items()}
    weight_norms = {k: _norm(w) for k, w in weights.items()}
    ratios = {
        k: (weight_grads[k] / weight_norms[k] if weight_norms[k] > 0 else math.inf) for k in weights
    }
    finite = finite and all(math.isfinite(v) for v in weight_grads.values())
    exploding = not finite or (over_window is not None and over_window >= EXPLODING_GROWTH)
    return LayerHealth(
        name=layer.name,
        layer_type=type(layer).__name__,
        index=index,
        units=cell.units,
        timesteps=len(trace.hidden),
        activation=activations_mod.name_of(cell.activation),
        return_sequences=layer.return_sequences,
        kernel=trace.kernel,
        grad_norms=grad_norms,
        memory_grad_norms=memory,
        effective_memory=effective,
        memory_covers_window=covers,
        growth_per_step=per_step,
        growth_over_window=over_window,
        finite=finite,
        exploding=exploding,
        weight_grad_norms=weight_grads,
        weight_norms=weight_norms,
        update_ratios=ratios,
        dead_fraction=_dead_fraction(trace),
        saturation=_saturation(trace),
        max_abs_difference=trace.max_abs_difference,
    )


def effective_memory(norms: list[float]) -> tuple[int | None, bool]:
    """Steps back until ``norms[k] < MEMORY_FACTOR * norms[0]``, and whether none is.

    Args:
        norms: Gradient norms ``g_0, g_1, …`` (``k`` steps back from the last step).

    Returns:
        ``(k, False)`` for the first such ``k``; ``(len(norms), True)`` when the
        gradient stays above the threshold over the whole window; ``(None, False)``
        when ``g_0`` is 0 or not finite (there is nothing to follow back).

    Example:
        >>> effective_memory([1.0, 0.1, 0.01, 0.001, 0.0001])
        (4, False)
        >>> effective_memory([1.0, 0.5, 0.25])
        (3, True)
    """
    if not norms or not math.isfinite(norms[0]) or norms[0] <= 0:
        return None, False
    limit = MEMORY_FACTOR * norms[0]
    for k, value in enumerate(norms):
        if value < limit:
            return k, False
    return len(norms), True


def growth(norms: list[float]) -> tuple[float | None, float | None]:
    """``(growth_per_step, growth_over_window)`` of gradient norms ``g_0, g_1, …``.

    ``growth_per_step`` is ``exp`` of the slope of a least-squares line through the
    points ``(k, ln g_k)`` with ``g_k`` positive and finite (``None`` with fewer than
    two); ``growth_over_window`` is ``max_k g_k / g_0`` (``None`` when ``g_0`` is 0
    or not finite; ``inf`` when a later norm is not finite).

    Example:
        >>> rate, total = growth([1.0, 0.5, 0.25, 0.125])
        >>> round(rate, 6), total
        (0.5, 1.0)
    """
    points = [(k, math.log(g)) for k, g in enumerate(norms) if math.isfinite(g) and g > 0]
    per_step = None
    if len(points) >= 2:
        steps, logs = np.array(points).T
        per_step = float(math.exp(np.polyfit(steps, logs, 1)[0]))
    if not norms or not math.isfinite(norms[0]) or norms[0] <= 0:
        return per_step, None
    if not all(math.isfinite(g) for g in norms):
        return per_step, math.inf
    return per_step, max(norms) / norms[0]


def _dead_fraction(trace: LayerTrace) -> float | None:
    if activations_mod.name_of(trace.layer.cell.activation) not in DEAD_ACTIVATIONS:
        return None
    if not trace.candidate:
        return None
    values = torch.stack([c.detach() for c in trace.candidate])  # (steps, batch, units)
    dead = (values == 0).flatten(0, 1).all(dim=0)
    return float(dead.double().mean())


def _saturation(trace: LayerTrace) -> dict[str, float]:
    cell = trace.layer.cell
    found: dict[str, float] = {}
    low, high = SIGMOID_SATURATION
    if activations_mod.name_of(cell.recurrent_activation) in SIGMOID_ACTIVATIONS:
        for name, values in trace.gates.items():
            if values:
                v = torch.stack([g.detach() for g in values])
                found[name] = float(((v < low) | (v > high)).double().mean())
    if activations_mod.name_of(cell.activation) == "tanh" and trace.candidate:
        v = torch.stack([c.detach() for c in trace.candidate])
        found["candidate"] = float((v.abs() > TANH_SATURATION).double().mean())
    return found


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value
