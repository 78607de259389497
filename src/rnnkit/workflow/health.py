"""Gradient health in the forecasting workflow: while training, in the report, per tuning trial.

Every measurement here is one diagnostic pass (`rnnkit.diagnostics`) on a fixed
sample of the validation windows, as the network reads them (`PreparedData.scaled`),
in inference mode:

- `health_callback`: the `GradientHealth` callback for a training run, measuring
  before the first epoch and after every `every`-th one, by default as often as
  keeps it under 5 % of the training time (`health_every`); its records give the
  dead and saturated fractions over the epochs;
- `network_health` / `networks_health`: a trained network's figures, verdicts
  and effective memory, timed, for the report's "Gradient health" section;
- `network_memory`: one number per network, the steps back the loss still
  reaches into the input window, which the tuner records for every trial.

The sample is `HEALTH_SAMPLES` windows drawn with seed `HEALTH_SEED`, the same
everywhere, so a tuned network's trial memory and its report figure agree.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from rnnkit._validation import check_positive_int
from rnnkit.callbacks.gradient_health import GradientHealth
from rnnkit.diagnostics.measure import HealthFigures
from rnnkit.diagnostics.measure import LayerHealth
from rnnkit.diagnostics.measure import effective_memory
from rnnkit.diagnostics.summary import Diagnosis
from rnnkit.diagnostics.summary import diagnose

__all__ = [
    "HEALTH_BUDGET",
    "HEALTH_SAMPLES",
    "HEALTH_SEED",
    "MEASURE_BATCHES",
    "MEMORY_METRIC",
    "NetworkHealth",
    "health_callback",
    "health_every",
    "health_table",
    "memory_phrase",
    "network_health",
    "network_memory",
    "networks_health",
    "sample_memory",
]

#: Validation windows in each measurement.
HEALTH_SAMPLES = 64
#: Seed of the draw of those windows.
HEALTH_SEED = 0
#: Name of the tuner metric (and results column `metric_effective_memory`).
MEMORY_METRIC = "effective_memory"
#: Share of the training time the callback may spend by default.
HEALTH_BUDGET = 0.05
#: What one measurement costs, in training batches: measured 2–3 batches of 64 on the
#: demo's data and 4–5 batches of 32 on the tutorial's models (docs/diagnostics.md).
MEASURE_BATCHES = 5


def health_every(batches: int) -> int:
    """Epochs between measurements that keep the callback under `HEALTH_BUDGET` of training.

    One measurement costs about `MEASURE_BATCHES` training batches, so with
    `batches` per epoch measuring every `ceil(MEASURE_BATCHES / (HEALTH_BUDGET *
    batches))`-th epoch spends about `HEALTH_BUDGET` of the training time on it, or less.

    Example:
        >>> health_every(33), health_every(64), health_every(128), health_every(10_000)
        (4, 2, 1, 1)
    """
    return max(1, math.ceil(MEASURE_BATCHES / (HEALTH_BUDGET * max(1, batches))))


def health_callback(
    data: Any,
    *,
    every: int | None = None,
    samples: int = HEALTH_SAMPLES,
    seed: int = HEALTH_SEED,
) -> GradientHealth:
    """The `GradientHealth` callback for a training run on prepared data.

    It samples the validation windows once, scaled as the network reads them,
    and measures before training and after every `every`-th epoch.

    Args:
        data: The `PreparedData` the network trains on.
        every: Measure after every `every`-th epoch. Defaults to `None`:
            `health_every` of the run's batches per epoch (every epoch from 100
            batches up, less often on smaller data; an epoch trains on at most
            `config.windows_per_epoch` windows).
        samples: Validation windows in the sample. Defaults to `HEALTH_SAMPLES`.
        seed: Seed of the draw. Defaults to `HEALTH_SEED`.

    Returns:
        The callback; after `fit` its `records` hold one `HealthFigures` per measurement.

    Raises:
        RnnkitValueError: a bad `every` or `samples`.

    Example:
        >>> import numpy as np
        >>> frame = pd.DataFrame({"y": np.sin(np.arange(120) / 3.0)})
        >>> from rnnkit.workflow import ForecastConfig
        >>> from rnnkit.workflow import prepare_data
        >>> data = prepare_data(ForecastConfig(data=frame, target="y", window=6))
        >>> callback = health_callback(data, samples=8)
        >>> callback.x.shape, callback.every  # 80 training windows: 2 batches of 64
        ((8, 6, 1), 50)
    """
    caller = "health_callback()"
    samples = check_positive_int("samples", samples, caller=caller)
    if every is None:
        windows = data.sizes()["train"]
        cap = getattr(data.config, "windows_per_epoch", None)  # an epoch's windows at most
        windows = min(windows, cap) if cap else windows
        every = health_every(math.ceil(windows / data.config.batch_size))
    every = check_positive_int("every", every, caller=caller)
    x, y = data.scaled("val")
    return GradientHealth(x, y, every=every, samples=samples, seed=seed)


def network_memory(figures: HealthFigures) -> int | None:
    """Steps back the loss still reaches into the input window, through the whole network.

    The effective memory (`rnnkit.diagnostics.measure.effective_memory`) of the
    total gradient that reaches the first recurrent layer's states, every path
    included, so a stack's later layers count: the first step back `k` where
    `‖∂L/∂h_{T-1-k}‖` falls below `MEMORY_FACTOR` of its last-step value, or the
    window length when it never does. For one recurrent layer this is the layer's
    `effective_memory`.

    Returns:
        The steps, or `None` when the last step gets no finite, non-zero gradient.

    Example:
        >>> layer = LayerHealth(
        ...     name="gru", layer_type="GRU", index=1, units=8, timesteps=5,
        ...     activation="tanh", return_sequences=False, kernel="native",
        ...     grad_norms=[1.0, 0.1, 0.01, 0.001, 1e-4], memory_grad_norms=[],
        ...     effective_memory=None, memory_covers_window=False, growth_per_step=None,
        ...     growth_over_window=None, finite=True, exploding=False)
        >>> network_memory(HealthFigures(loss=0.1, samples=4, layers=[layer]))
        4
    """
    if not figures.layers:
        return None
    steps, _ = effective_memory(figures.layers[0].grad_norms)
    return steps


def sample_memory(
    network: Any, x: Any, y: Any, *, samples: int = HEALTH_SAMPLES, seed: int = HEALTH_SEED
) -> int | None:
    """`network_memory` of a trained network on a sample of `(x, y)` (one diagnostic pass).

    Example:
        >>> import numpy as np
        >>> from rnnkit.layers import Dense, SimpleRNN
        >>> from rnnkit.models import Sequential
        >>> network = Sequential([SimpleRNN(4, input_shape=(30, 1)), Dense(1)])
        >>> network.compile(optimizer="adam", loss="mse")
        >>> x = np.random.default_rng(0).normal(0, 3, size=(32, 30, 1)).astype("float32")
        >>> sample_memory(network, x, x[:, -1]) < 30
        True
    """
    return network_memory(diagnose(network, x, y, samples=samples, seed=seed).figures)


def memory_phrase(steps: int | None, window: int) -> str:
    """An effective memory in words: `"9 of 24 steps"`, `"24 of 24 steps (whole window)"`.

    Example:
        >>> memory_phrase(24, 24), memory_phrase(None, 24)
        ('24 of 24 steps (whole window)', 'not measurable (no gradient at the last step)')
    """
    if steps is None:
        return "not measurable (no gradient at the last step)"
    whole = " (whole window)" if steps >= window else ""
    return f"{steps} of {window} steps{whole}"


@dataclass
class NetworkHealth:
    """The gradient health of one trained network on its validation sample.

    Attributes:
        name: The network's display name.
        diagnosis: Figures and verdicts (`rnnkit.diagnostics.Diagnosis`).
        seconds: Wall-clock seconds the measurement took.
        records: Figures per measured epoch from training (`FitResult.health_records`),
            or `None` when the run did not record them.
    """

    name: str
    diagnosis: Diagnosis
    seconds: float
    records: list[Any] | None = None

    @property
    def window(self) -> int:
        """Steps in the windows measured."""
        layers = self.diagnosis.figures.layers
        return layers[0].timesteps if layers else 0

    @property
    def memory(self) -> int | None:
        """`network_memory` of the figures."""
        return network_memory(self.diagnosis.figures)


def network_health(
    network: Any,
    data: Any,
    *,
    name: str = "",
    records: list[Any] | None = None,
    samples: int = HEALTH_SAMPLES,
    seed: int = HEALTH_SEED,
) -> NetworkHealth:
    """Diagnose a trained network on a sample of the validation windows, timed.

    Args:
        network: The trained, compiled network (`Forecaster.model`).
        data: The `PreparedData` it was trained on.
        name: Display name. Defaults to `""`.
        records: The run's per-epoch figures, if it recorded them. Defaults to `None`.
        samples: Validation windows in the sample. Defaults to `HEALTH_SAMPLES`.
        seed: Seed of the draw. Defaults to `HEALTH_SEED`.

    Returns:
        A `NetworkHealth`.
    """
    x, y = data.scaled("val")
    started = time.perf_counter()
    diagnosis = diagnose(network, x, y, samples=samples, seed=seed)
    return NetworkHealth(name, diagnosis, time.perf_counter() - started, records)


def networks_health(fits: Mapping[str, Any]) -> dict[str, NetworkHealth]:
    """`network_health` of every trained network of a comparison (name -> `FitResult`).

    Each `FitResult`'s per-epoch records are read from its `health_records`
    attribute when it has one (`None` otherwise).
    """
    return {
        name: network_health(
            fit.forecaster.model,
            fit.data,
            name=name,
            records=getattr(fit, "health_records", None),
        )
        for name, fit in fits.items()
    }


def health_table(healths: Mapping[str, NetworkHealth]) -> pd.DataFrame:
    """One row per recurrent layer of every network: memory, growth, dead, most saturated.

    Columns: `network`, `layer`, `effective memory` (that layer's own, in words),
    `growth per step`, `dead units`, `most saturated` (gate and fraction), `verdicts`
    (how many concern the layer).
    """
    rows = []
    for name, health in healths.items():
        verdicts = [v.layer for v in health.diagnosis.verdicts]
        for layer in health.diagnosis.figures.layers:
            rows.append(
                {
                    "network": name,
                    "layer": layer.label,
                    "effective memory": _layer_memory(layer),
                    "growth per step": layer.growth_per_step,
                    "dead units": _percent(layer.dead_fraction),
                    "most saturated": _most_saturated(layer),
                    "verdicts": verdicts.count(layer.name),
                }
            )
    return pd.DataFrame(rows)


def _layer_memory(layer: LayerHealth) -> str:
    if layer.effective_memory is None:
        return memory_phrase(None, layer.timesteps)
    steps = layer.timesteps if layer.memory_covers_window else layer.effective_memory
    return memory_phrase(steps, layer.timesteps)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _most_saturated(layer: LayerHealth) -> str:
    if not layer.saturation:
        return "–"
    gate, fraction = max(layer.saturation.items(), key=lambda item: item[1])
    return f"{gate} {fraction:.1%}"
