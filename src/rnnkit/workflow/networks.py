"""The forecasting networks and their search space.

Every network is the same stack, with the recurrent layer swapped:

    Input(window, features)
    [SimpleRNN | LSTM | GRU](units, activation)   x layers (all but the last return sequences)
    Dropout(dropout)                              after each recurrent layer, when > 0
    Dense(horizon * n_targets)                    the scaled forecast, horizon-major,
                                                  initialised to zero

compiled with `Adam(learning_rate)` and the mean squared error. The output layer
starts at zero (kernel and bias), so an untrained network forecasts what the
scaled targets are relative to: the naive forecast with the default window
scaling, or the base forecast it corrects (see `rnnkit.workflow.residual`);
training starts from that skill instead of from random outputs. The search
space (`build_network` asks for these, so a dry run gives the defaults):

| name | range | default |
|---|---|---|
| `units` | 8 .. 64, step 8 | 32 |
| `layers` | 1 .. 2 | 1 |
| `activation` | `tanh`, `relu` | `tanh` |
| `dropout` | 0.0 .. 0.3, step 0.1 | 0.0 |
| `learning_rate` | 1e-4 .. 1e-2, log | 1e-3 |
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Mapping
from collections.abc import Sized
from dataclasses import dataclass
from typing import Any

from rnnkit._validation import suggest
from rnnkit.callbacks.gradient_health import GradientHealth
from rnnkit.errors import RnnkitValueError
from rnnkit.layers.core import Dropout
from rnnkit.layers.core import Input
from rnnkit.layers.dense import Dense
from rnnkit.layers.recurrent import GRU
from rnnkit.layers.recurrent import LSTM
from rnnkit.layers.recurrent import SimpleRNN
from rnnkit.models.sequential import Sequential
from rnnkit.optimizers import Adam
from rnnkit.tuner.hypermodel import HyperModel
from rnnkit.tuner.hyperparameters import HyperParameters
from rnnkit.utils.random import set_random_seed
from rnnkit.workflow.health import HEALTH_SAMPLES
from rnnkit.workflow.health import HEALTH_SEED
from rnnkit.workflow.health import MEMORY_METRIC
from rnnkit.workflow.health import health_every
from rnnkit.workflow.health import sample_memory
from rnnkit.workflow.measure import EpochTimer

__all__ = [
    "DISPLAY_NAMES",
    "ForecastHyperModel",
    "TrialRun",
    "build_network",
    "check_hyperparameters",
    "default_hyperparameters",
    "fixed_hyperparameters",
    "values_key",
]

_LAYERS = {"rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}
#: Display name of each network kind.
DISPLAY_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def build_network(hp: Any, *, kind: str, window: int, features: int, outputs: int) -> Sequential:
    """Build and compile one forecasting network from hyperparameters (see module docs).

    Args:
        hp: A `HyperParameters` (a tuner's, or a dry run for the defaults).
        kind: `"rnn"`, `"lstm"` or `"gru"`.
        window: Timesteps per input window.
        features: Input features per timestep.
        outputs: `horizon * n_targets`.

    Returns:
        A compiled `Sequential`.

    Example:
        >>> model = build_network(HyperParameters(), kind="gru", window=12, features=2, outputs=3)
        >>> [type(layer).__name__ for layer in model.layers], model.count_params()
        (['GRU', 'Dense'], 3555)
    """
    layer_class = _LAYERS[kind]
    units = hp.Int("units", 8, 64, step=8, default=32)
    layers = hp.Int("layers", 1, 2, default=1)
    activation = hp.Choice("activation", ["tanh", "relu"], default="tanh")
    dropout = hp.Float("dropout", 0.0, 0.3, step=0.1, default=0.0)
    learning_rate = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log", default=1e-3)
    model = Sequential(name=f"{kind}_forecaster")
    model.add(Input((window, features)))
    for index in range(layers):
        model.add(layer_class(units, activation=activation, return_sequences=index < layers - 1))
        if dropout:
            model.add(Dropout(dropout))
    model.add(Dense(outputs, kernel_initializer="zeros"))
    model.compile(optimizer=Adam(learning_rate=learning_rate), loss="mse")
    return model


def default_hyperparameters() -> dict[str, Any]:
    """The values a dry run of `build_network` uses.

    Example:
        >>> default_hyperparameters()["units"]
        32
    """
    hp = HyperParameters()
    build_network(hp, kind="rnn", window=2, features=1, outputs=1)
    return dict(hp.values)


def check_hyperparameters(values: Mapping[str, Any] | None, *, caller: str) -> dict[str, Any]:
    """Merge user values into the defaults, rejecting unknown names.

    Example:
        >>> check_hyperparameters({"units": 8}, caller="fit")["units"]
        8
    """
    merged = default_hyperparameters()
    for name, value in dict(values or {}).items():
        if name not in merged:
            raise RnnkitValueError(
                f"{caller}: unknown hyperparameter {name!r}. Expected one of "
                f"{', '.join(sorted(merged))}.{suggest(name, merged)}"
            )
        if value is not None:
            merged[name] = value
    return merged


def fixed_hyperparameters(values: Mapping[str, Any]) -> HyperParameters:
    """A `HyperParameters` that answers `build_network` with these values."""
    hp = HyperParameters()
    hp.values = dict(values)
    return hp


def values_key(values: Mapping[str, Any]) -> str:
    """A canonical text key for hyperparameter values (equal values, equal keys).

    Example:
        >>> values_key({"units": 8, "dropout": 0.0}) == values_key({"dropout": 0.0, "units": 8})
        True
    """
    return json.dumps({str(k): values[k] for k in sorted(values)}, sort_keys=True, default=str)


@dataclass
class TrialRun:
    """What training one trial's network recorded, kept by `ForecastHyperModel.fit`.

    Attributes:
        history: Per-epoch `loss` and `val_loss`.
        seconds: Wall-clock seconds of each epoch.
        train_seconds: Seconds of the whole `fit`.
        health_records: The `GradientHealth` figures measured while it trained
            (`rnnkit.workflow.health.health_callback`'s epochs), or `None`.
            Defaults to `None`.
    """

    history: dict[str, list[float]]
    seconds: list[float]
    train_seconds: float
    health_records: list[Any] | None = None


class ForecastHyperModel(HyperModel):
    """Hypermodel for the tuner: builds `build_network` for one kind, seeded.

    Picklable (no closures), so `search(..., workers=N)` can send it to
    worker processes. `fit` records each trial's history and epoch times in
    `runs` (by `values_key` of its values; in this process only), so the
    best trial's network can be used as it is instead of being trained again,
    and reports the trained network's effective memory as the trial metric
    `effective_memory` (see `fit`).

    Args:
        kind: `"rnn"`, `"lstm"` or `"gru"`.
        window: Timesteps per input window.
        features: Input features per timestep.
        outputs: `horizon * n_targets`.
        seed: Seed set before each build (same initial weights for equal values).
        health: Watch each trial's gradient health with a `GradientHealth`
            callback on its `validation_data`, as often as keeps it under 5 % of
            the training (`rnnkit.workflow.health.health_every`), and keep the
            figures in `runs`. Defaults to `True`.
    """

    def __init__(
        self,
        kind: str,
        *,
        window: int,
        features: int,
        outputs: int,
        seed: int,
        health: bool = True,
    ):
        super().__init__(name=f"{kind}_forecaster")
        self.kind = kind
        self.window = window
        self.features = features
        self.outputs = outputs
        self.seed = seed
        self.health = health
        self.runs: dict[str, TrialRun] = {}

    def build(self, hp: Any) -> Sequential:
        """Build the network for the trial's values."""
        set_random_seed(self.seed)
        return build_network(
            hp, kind=self.kind, window=self.window, features=self.features, outputs=self.outputs
        )

    def fit(self, hp: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
        """Train the trial's network, recording its history and epoch times in `runs`.

        After training, the network's effective memory
        (`rnnkit.workflow.health.network_memory`) is measured on `HEALTH_SAMPLES`
        of the `validation_data` windows, one diagnostic pass, and returned beside
        the per-epoch metrics as `effective_memory`: the tuner stores it with the
        trial's metrics (the study's `result` user attribute, `results_dataframe()`'s
        `metric_effective_memory`). Measured whatever `health` says; not without
        `validation_data`, or when the last step gets no finite gradient (a
        diverged trial).

        Returns:
            The `History`, or a copy of it whose `history` also holds the
            `effective_memory` number.
        """
        timer = EpochTimer()
        validation = kwargs.get("validation_data")
        if not isinstance(validation, (tuple, list)) or len(validation) < 2:
            validation = None
        health = None
        if self.health and validation is not None:
            health = GradientHealth(
                validation[0],
                validation[1],
                every=health_every(_batches(args, kwargs)),
                samples=HEALTH_SAMPLES,
                seed=HEALTH_SEED,
            )
        own = [timer] if health is None else [timer, health]
        kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), *own]
        started = time.perf_counter()
        history = model.fit(*args, **kwargs)
        self.runs[values_key(hp.values)] = TrialRun(
            history={k: [float(v) for v in vals] for k, vals in history.history.items()},
            seconds=list(timer.seconds),
            train_seconds=time.perf_counter() - started,
            health_records=None if health is None else list(health.records),
        )
        if validation is None:
            return history
        memory = sample_memory(model, validation[0], validation[1])
        if memory is None:
            return history
        measured = copy.copy(history)  # the model's own History stays per-epoch lists
        measured.history = {**history.history, MEMORY_METRIC: float(memory)}
        return measured


def _batches(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    """Training batches per epoch of a `fit(x, y, batch_size=...)` call (Keras' 32 by default)."""
    if kwargs.get("steps_per_epoch"):
        return int(kwargs["steps_per_epoch"])
    x = args[0] if args else kwargs.get("x")
    if not isinstance(x, Sized):
        return 1
    size = kwargs.get("batch_size") or 32
    return max(1, -(-len(x) // int(size)))
