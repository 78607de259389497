"""Plain-words verdicts on gradient-health figures, each with the fix that usually helps.

=====================  ==========================================================
problem                when
=====================  ==========================================================
``non_finite``         a gradient or the loss is NaN or infinite
``exploding``          the gradient grows ``≥ EXPLODING_GROWTH``× going back
                       through the window (see :mod:`rnnkit.diagnostics.measure`)
``short_memory``       the effective memory is below ``SHORT_MEMORY_FRACTION`` of
                       the window: the layer cannot learn lags that long
``dead_units``         at least ``DEAD_UNITS_LIMIT`` of a relu layer's units are dead
``saturated_gates``    at least ``SATURATED_LIMIT`` of a gate's values are saturated
=====================  ==========================================================
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from rnnkit.diagnostics.measure import EXPLODING_GROWTH
from rnnkit.diagnostics.measure import MEMORY_FACTOR
from rnnkit.diagnostics.measure import SIGMOID_SATURATION
from rnnkit.diagnostics.measure import TANH_SATURATION
from rnnkit.diagnostics.measure import HealthFigures
from rnnkit.diagnostics.measure import LayerHealth

#: Short memory: the effective memory is below this fraction of the window.
SHORT_MEMORY_FRACTION = 0.5
#: Dead units: at least this fraction of a relu-family layer's units are dead.
DEAD_UNITS_LIMIT = 0.2
#: Saturated gates: at least this fraction of one gate's values are saturated.
SATURATED_LIMIT = 0.5

_GATE_WORDS = {
    "i": "input-gate (i)",
    "f": "forget-gate (f)",
    "o": "output-gate (o)",
    "z": "update-gate (z)",
    "r": "reset-gate (r)",
    "candidate": "tanh candidate",
}


class Problem(str, enum.Enum):
    """What a verdict is about."""

    NON_FINITE = "non_finite"
    EXPLODING = "exploding"
    SHORT_MEMORY = "short_memory"
    DEAD_UNITS = "dead_units"
    SATURATED_GATES = "saturated_gates"


@dataclass(frozen=True)
class Verdict:
    """One finding on one layer.

    Attributes:
        layer: The layer's name.
        problem: What is wrong.
        message: The finding and the usual fix, in one sentence or two.
    """

    layer: str
    problem: Problem
    message: str

    def to_dict(self) -> dict[str, str]:
        """``{"layer", "problem", "message"}`` as plain strings."""
        return {"layer": self.layer, "problem": self.problem.value, "message": self.message}


def judge(figures: HealthFigures) -> list[Verdict]:
    """The verdicts on every layer of ``figures``, most serious first within a layer.

    Example:
        >>> from rnnkit.diagnostics.measure import LayerHealth
        >>> layer = LayerHealth(
        ...     name="simple_rnn", layer_type="SimpleRNN", index=1, units=8, timesteps=96,
        ...     activation="tanh", return_sequences=False, kernel="general-native",
        ...     grad_norms=[], memory_grad_norms=[], effective_memory=9,
        ...     memory_covers_window=False, growth_per_step=0.46, growth_over_window=1.0,
        ...     finite=True, exploding=False)
        >>> print(judge(HealthFigures(loss=0.1, samples=64, layers=[layer]))[0].message)
        SimpleRNN 1 ('simple_rnn'): the gradient falls below 1e-03 of its last-step value after 9 steps, but the windows are 96 steps long; the layer cannot learn longer lags. An LSTM or GRU, or a shorter window, usually helps.
    """  # noqa: E501 - a doctest's expected output is one line
    when = "" if figures.epoch is None else f" after epoch {figures.epoch}"
    found: list[Verdict] = []
    for layer in figures.layers:
        found.extend(_layer_verdicts(layer, when))
    return found


def _layer_verdicts(layer: LayerHealth, when: str) -> list[Verdict]:
    found = []

    def add(problem: Problem, message: str) -> None:
        found.append(Verdict(layer.name, problem, f"{layer.label}: {message}"))

    if not layer.finite:
        add(
            Problem.NON_FINITE,
            f"the gradient is not finite (NaN or inf){when}; training has diverged. "
            "Gradient clipping (clipnorm=1.0), a lower learning rate or scaled inputs "
            "usually help.",
        )
    elif layer.exploding:
        rate = "" if layer.growth_per_step is None else f" ({layer.growth_per_step:.2f}× per step)"
        add(
            Problem.EXPLODING,
            f"the gradient grows {layer.growth_over_window:,.0f}× over {layer.timesteps} "
            f"steps back{rate}{when}: exploding gradients, "
            "which usually end in a NaN loss. Gradient clipping (clipnorm=1.0), a lower "
            "learning rate or a smaller recurrent initialisation usually helps.",
        )
    memory = layer.effective_memory
    if (
        layer.finite
        and memory is not None
        and not layer.memory_covers_window
        and memory < SHORT_MEMORY_FRACTION * layer.timesteps
    ):
        advice = (
            "An LSTM or GRU, or a shorter window, usually helps."
            if layer.layer_type == "SimpleRNN"
            else "A shorter window, or checking for saturated gates, usually helps."
        )
        add(
            Problem.SHORT_MEMORY,
            f"the gradient falls below {MEMORY_FACTOR:.0e} of its last-step value after "
            f"{memory} steps, but the windows are {layer.timesteps} steps long; the layer "
            f"cannot learn longer lags. {advice}",
        )
    if layer.dead_fraction is not None and layer.dead_fraction >= DEAD_UNITS_LIMIT:
        add(
            Problem.DEAD_UNITS,
            f"{layer.dead_fraction:.0%} of {layer.activation} units are dead{when} (output 0 "
            "for every sample and step); a lower learning rate or tanh usually helps.",
        )
    for gate, fraction in layer.saturation.items():
        if fraction < SATURATED_LIMIT:
            continue
        scale = (
            f"|value| > {TANH_SATURATION}"
            if gate == "candidate"
            else f"below {SIGMOID_SATURATION[0]} or above {SIGMOID_SATURATION[1]}"
        )
        add(
            Problem.SATURATED_GATES,
            f"{fraction:.0%} of {_GATE_WORDS.get(gate, gate)} values are saturated ({scale})"
            f"{when}: the gate is stuck and its weights get almost no gradient. Scaled inputs, "
            "smaller gate biases or a lower learning rate usually help.",
        )
    return found


__all__ = [
    "DEAD_UNITS_LIMIT",
    "EXPLODING_GROWTH",
    "SATURATED_LIMIT",
    "SHORT_MEMORY_FRACTION",
    "Problem",
    "Verdict",
    "judge",
]
