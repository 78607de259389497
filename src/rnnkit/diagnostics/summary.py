"""One call for reports and tools: figures, verdicts, a text summary and a plot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit._validation import check_positive_int
from rnnkit.diagnostics.measure import HealthFigures
from rnnkit.diagnostics.measure import LayerHealth
from rnnkit.diagnostics.measure import measure
from rnnkit.diagnostics.plot import plot_gradient_norms
from rnnkit.diagnostics.verdicts import Verdict
from rnnkit.diagnostics.verdicts import judge
from rnnkit.errors import RnnkitValueError


@dataclass
class Diagnosis:
    """The gradient health of a model on a sample.

    Attributes:
        figures: The measured :class:`~rnnkit.diagnostics.measure.HealthFigures`.
        verdicts: The plain-words findings (empty when nothing is wrong).
    """

    figures: HealthFigures
    verdicts: list[Verdict]

    def to_dict(self) -> dict[str, Any]:
        """``{"figures": {...}, "verdicts": [{"layer", "problem", "message"}, ...]}``, JSON-able."""
        return {
            "figures": self.figures.to_dict(),
            "verdicts": [v.to_dict() for v in self.verdicts],
        }

    def summary(self) -> str:
        """A few lines per layer, then the verdicts (or that none was found)."""
        lines = [f"Gradient health on {self.figures.samples} sequences "
                 f"(loss {self.figures.loss:.4g}, inference mode):"]  # fmt: skip
        lines.extend(f"  {layer_line(layer)}" for layer in self.figures.layers)
        if self.verdicts:
            lines.extend(f"- {v.message}" for v in self.verdicts)
        else:
            lines.append("No problems found.")
        return "\n".join(lines)

    def plot(self, path: str | Path) -> Path:
        """Write the ‖∂L/∂h_t‖-against-steps-back PNG to ``path``; return it."""
        return plot_gradient_norms(self.figures, path)


def layer_line(layer: LayerHealth) -> str:
    """One line of a layer's figures: memory, growth, update ratios, dead and saturated.

    Example:
        >>> layer = LayerHealth(
        ...     name="gru", layer_type="GRU", index=1, units=8, timesteps=24,
        ...     activation="tanh", return_sequences=False, kernel="general-native",
        ...     grad_norms=[], memory_grad_norms=[], effective_memory=24,
        ...     memory_covers_window=True, growth_per_step=0.93, growth_over_window=1.0,
        ...     finite=True, exploding=False, update_ratios={"kernel": 0.012},
        ...     saturation={"z": 0.05, "r": 0.01})
        >>> layer_line(layer)
        "GRU 1 ('gru'): memory >= 24 of 24 steps, 0.93x per step; grad/weight kernel 0.012; saturated z 5%, r 1%"
    """  # noqa: E501 - a doctest's expected output is one line
    if layer.effective_memory is None:
        memory = "memory: no gradient at the last step"
    elif layer.memory_covers_window:
        memory = f"memory >= {layer.timesteps} of {layer.timesteps} steps"
    else:
        memory = f"memory {layer.effective_memory} of {layer.timesteps} steps"
    parts = [memory + ("" if layer.growth_per_step is None else
                       f", {layer.growth_per_step:.2f}x per step")]  # fmt: skip
    if not layer.finite:
        parts.append("NON-FINITE gradient")
    if layer.update_ratios:
        ratios = ", ".join(f"{k} {v:.2g}" for k, v in layer.update_ratios.items())
        parts.append(f"grad/weight {ratios}")
    if layer.dead_fraction is not None:
        parts.append(f"dead {layer.dead_fraction:.0%}")
    if layer.saturation:
        parts.append("saturated " + ", ".join(f"{k} {v:.0%}" for k, v in layer.saturation.items()))
    return f"{layer.label}: " + "; ".join(parts)


def sample_indices(count: int, samples: int, *, seed: int = 0) -> np.ndarray:
    """``samples`` sorted row indices out of ``count``, drawn without replacement.

    Example:
        >>> sample_indices(10, 3, seed=0).tolist()
        [5, 6, 9]
        >>> sample_indices(2, 5).tolist()
        [0, 1]
    """
    if samples >= count:
        return np.arange(count)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(count, size=samples, replace=False))


def diagnose(
    model: Any, x: Any, y: Any, *, samples: int = 64, seed: int = 0, epoch: int | None = None
) -> Diagnosis:
    """Measure a trained model's gradient health on a sample of ``(x, y)`` and judge it.

    Args:
        model: A compiled ``Sequential`` with recurrent layers.
        x: Input sequences ``(n, timesteps, features)``, scaled as for training.
        y: Their targets, as ``fit`` takes them.
        samples: Sequences drawn from ``x`` (all when fewer). Defaults to `64`.
        seed: Seed of the draw. Defaults to `0`.
        epoch: Epochs trained, quoted in the verdicts. Defaults to `None`.

    Returns:
        A :class:`Diagnosis`: ``.to_dict()`` for JSON, ``.summary()`` for text,
        ``.plot(path)`` for the PNG.

    Raises:
        RnnkitValueError: a bad ``samples``, ``x`` and ``y`` of different lengths, an
            uncompiled model or one without recurrent layers.

    Example:
        >>> import numpy as np
        >>> from rnnkit.layers import Dense, LSTM
        >>> from rnnkit.models import Sequential
        >>> model = Sequential([LSTM(4, input_shape=(6, 2)), Dense(1)])
        >>> model.compile(optimizer="adam", loss="mse")
        >>> x = np.random.default_rng(0).normal(size=(100, 6, 2)).astype("float32")
        >>> result = diagnose(model, x, x[:, -1, :1], samples=16)
        >>> result.figures.samples, sorted(result.figures.layers[0].saturation)
        (16, ['candidate', 'f', 'i', 'o'])
    """
    samples = check_positive_int("samples", samples, caller="diagnose()")
    x_a, y_a = np.asarray(x), np.asarray(y)
    if len(x_a) != len(y_a):
        raise RnnkitValueError(
            f"diagnose(): x and y must hold the same number of samples. Received "
            f"{len(x_a)} inputs and {len(y_a)} targets."
        )
    rows = sample_indices(len(x_a), samples, seed=seed)
    figures = measure(model, x_a[rows], y_a[rows], epoch=epoch)
    return Diagnosis(figures, judge(figures))
