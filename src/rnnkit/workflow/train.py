"""Train one forecasting network (`fit_forecaster`) or tune it first (`tune_forecaster`).

Both read the data once (`prepare_data`), train on the scaled training
windows with early stopping on the validation windows (keeping the best
epoch's weights), and forecast the test windows in original units. Each
training run is measured: seconds per epoch, peak memory (see
`rnnkit.workflow.measure`), the best epoch, the kernel every recurrent layer ran.

One job, training or tuning one forecaster; fit and tune share data preparation, early
stopping and the run record, so they stay together.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import numpy as np
import pandas as pd

import rnnkit.tuner as kt
from rnnkit._validation import check_one_of
from rnnkit.callbacks.base import Callback
from rnnkit.callbacks.early_stopping import EarlyStopping
from rnnkit.diagnostics.measure import HealthFigures
from rnnkit.errors import CheckpointError
from rnnkit.errors import RnnkitError
from rnnkit.errors import RnnkitValueError
from rnnkit.models.summary import summary_rows
from rnnkit.tuner.folds import trial_folds
from rnnkit.utils.random import set_random_seed
from rnnkit.workflow.forecaster import Forecaster
from rnnkit.workflow.health import health_callback
from rnnkit.workflow.importance import hyperparameter_importance
from rnnkit.workflow.intervals import non_negative_targets
from rnnkit.workflow.measure import CPU_METHOD
from rnnkit.workflow.measure import CUDA_METHOD
from rnnkit.workflow.measure import EpochTimer
from rnnkit.workflow.measure import PeakMemory
from rnnkit.workflow.measure import count_training_memory
from rnnkit.workflow.measure import torch_threads
from rnnkit.workflow.networks import DISPLAY_NAMES
from rnnkit.workflow.networks import ForecastHyperModel
from rnnkit.workflow.networks import build_network
from rnnkit.workflow.networks import check_hyperparameters
from rnnkit.workflow.networks import default_hyperparameters
from rnnkit.workflow.networks import fixed_hyperparameters
from rnnkit.workflow.networks import values_key
from rnnkit.workflow.prepare import PreparedData
from rnnkit.workflow.prepare import prepare_data
from rnnkit.workflow.prepare import tuning_folds
from rnnkit.workflow.progress import EpochProgress
from rnnkit.workflow.progress import ProgressListener
from rnnkit.workflow.spec import EPOCH_EXTENSION
from rnnkit.workflow.spec import NETWORK_KINDS
from rnnkit.workflow.spec import ForecastConfig
from rnnkit.workflow.spec import parse_duration

if TYPE_CHECKING:  # rnnkit.workflow.refit imports this module
    from rnnkit.workflow.refit import RefitComparison

__all__ = ["FitResult", "TuneResult", "fit_forecaster", "tune_forecaster"]

logger = logging.getLogger(__name__)


@dataclass
class FitResult:
    """One trained network, measured and with its test forecasts.

    Attributes:
        kind: `"rnn"`, `"lstm"` or `"gru"`.
        name: Display name (`"LSTM"`).
        forecaster: The trained network with its preprocessing (`.save(folder)`).
        history: Per-epoch `loss` and `val_loss` (scaled units).
        hyperparameters: The values it was built with.
        params: Trainable parameter count.
        seconds_per_epoch: Median wall-clock seconds of an epoch.
        train_seconds: Seconds of the whole `fit`.
        peak_memory_bytes: Peak training memory (see `rnnkit.workflow.measure`).
        memory_method: How `peak_memory_bytes` was measured.
        best_epoch: Epoch (from 1) with the lowest validation loss: epochs to convergence.
        epochs_run: Epochs that ran before early stopping.
        predictions: Test forecasts in original units, `(n_test, horizon, n_targets)`.
        kernels: `(layer, kernel)` for each recurrent layer.
        data: The prepared data it was trained on.
        val_predictions: Validation forecasts in original units, `(n_val,
            horizon, n_targets)`: the held-out errors prediction intervals are
            calibrated on. Defaults to `None`.
        stopped_at_cap: Training ran to its last allowed epoch while the
            validation loss was still improving (the best epoch among the last
            3): more epochs would likely help (`--epochs`). Defaults to `False`.
        extended_epochs: Epochs trained past `config.epoch_cap` because the
            network was still improving and `epochs` was not set (at most
            `EPOCH_EXTENSION` times the cap in all). Defaults to `0`.
        residual_over: Name of the baseline whose forecast the network corrects
            (`"linear on lags"`, `"seasonal naive"`), or `None`: the network
            forecasts on its own. Defaults to `None`.
        reused_trial: Id of the tuning trial whose trained weights this is (no
            retraining; `history`, `seconds_per_epoch` and `train_seconds` are
            that trial's), or `None` (trained here). Defaults to `None`.
        health_records: GradientHealth figures measured while it trained (epoch 0 =
            before training), or `None`. Defaults to `None`.
    """

    kind: str
    name: str
    forecaster: Forecaster
    history: dict[str, list[float]]
    hyperparameters: dict[str, Any]
    params: int
    seconds_per_epoch: float
    train_seconds: float
    peak_memory_bytes: int
    memory_method: str
    best_epoch: int
    epochs_run: int
    predictions: np.ndarray
    kernels: list[tuple[str, str]]
    data: PreparedData
    val_predictions: np.ndarray | None = None
    stopped_at_cap: bool = False
    extended_epochs: int = 0
    residual_over: str | None = None
    reused_trial: str | None = None
    health_records: list[HealthFigures] | None = None

    @property
    def peak_memory_mb(self) -> float:
        """Peak training memory in MiB."""
        return self.peak_memory_bytes / 2**20

    def save(self, folder: str | Path) -> Path:
        """Save the forecaster folder (see `Forecaster.save`)."""
        return self.forecaster.save(folder)


@dataclass
class TuneResult:
    """A hyperparameter search for one network, and its best network (kept or trained again).

    Attributes:
        kind: `"rnn"`, `"lstm"` or `"gru"`.
        name: Display name.
        trials: `tuner.results_dataframe()`: one row per trial.
        best_hyperparameters: The best trial's values.
        importance: Hyperparameter -> share of importance, or `None`.
        importance_method: How importance was computed, or why not.
        fit: The best trial's network (`FitResult.reused_trial`), or its values trained
            again when that trial ran in another process (see `FitResult`).
        search_seconds: Seconds the search took.
        project_dir: Folder of the tuning project (study and checkpoints).
        notes: Extra lines for the report. Defaults to `[]`.
        refit: The best values trained again on the training + validation
            windows for the epochs the search found, scored beside `fit` on the
            test windows (`rnnkit.workflow.refit`), or `None` (no time left).
            Defaults to `None`.
    """

    kind: str
    name: str
    trials: pd.DataFrame
    best_hyperparameters: dict[str, Any]
    importance: dict[str, float] | None
    importance_method: str
    fit: FitResult
    search_seconds: float
    project_dir: Path
    notes: list[str] = field(default_factory=list)
    refit: RefitComparison | None = None


def _check_kind(model: str, caller: str) -> str:
    return check_one_of("model", model, NETWORK_KINDS, caller=caller)


def _early_stopping(config: ForecastConfig) -> EarlyStopping:
    # patience 0 never stops early; the best epoch's weights are restored either way
    patience = config.patience if config.patience > 0 else config.epoch_cap * EPOCH_EXTENSION
    return EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)


def steps_per_epoch(config: ForecastConfig, windows: int) -> int | None:
    """Batches per epoch when `config.windows_per_epoch` caps `windows` training windows.

    `fit` shuffles every epoch, so each epoch trains on a fresh random subset of
    that many windows; `None` (every window) when they are no more than the cap.

    Example:
        >>> steps_per_epoch(ForecastConfig(batch_size=64), 12_000)
        64
        >>> steps_per_epoch(ForecastConfig(batch_size=64), 3_000) is None
        True
    """
    cap = config.windows_per_epoch
    if not cap or windows <= cap:
        return None
    return max(1, -(-int(cap) // config.batch_size))


class StopAtDeadline(Callback):
    """Stops training after the batch in progress once `deadline` (`time.time()`) has passed.

    `fit` still validates the cut epoch, and early stopping keeps the best epoch's weights.

    Args:
        deadline: Seconds since the epoch (as `time.time()`), or `None` for no limit.
        label: Names the training in the log line. Defaults to `""`.
    """

    def __init__(self, deadline: float | None, label: str = "") -> None:
        super().__init__()
        self.deadline, self.label = deadline, label
        self.cut = False

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        """Ask `fit` to stop when the deadline has passed."""
        if self.deadline is not None and not self.cut and time.time() >= self.deadline:
            self.cut = True
            self.model.stop_training = True
            logger.info("max_time reached: %s training stops and keeps its best epoch.", self.label)


def _deadline(config: ForecastConfig) -> float | None:
    """`config.max_time` from now, as `time.time()` (`None`: no limit)."""
    if config.max_time is None:
        return None
    return time.time() + parse_duration(config.max_time, caller="ForecastConfig")


#: A network whose best validation epoch is among this many last epochs is still improving.
IMPROVING_WINDOW = 3


def still_improving(history: dict[str, list[float]], cap: int) -> bool:
    """Whether training reached `cap` epochs with its best validation loss among the last ones.

    "The last ones" are the last 3 epochs, never the first one of a run of several (with
    `cap=3` a best first epoch is not "still improving").

    Example:
        >>> still_improving({"val_loss": [3.0, 2.0, 1.5, 1.2]}, 4)
        True
        >>> still_improving({"val_loss": [3.0, 1.0, 1.5, 1.6, 1.7]}, 5)
        False
        >>> still_improving({"val_loss": [1.0, 1.5, 1.6]}, 3)
        False
    """
    val_loss = history.get("val_loss") or history.get("loss") or []
    if len(val_loss) < cap or not np.any(np.isfinite(val_loss)):
        return False
    window = max(1, min(IMPROVING_WINDOW, len(val_loss) - 1))
    return int(np.nanargmin(val_loss)) >= len(val_loss) - window


@dataclass
class _Run:
    """What one training run (maybe extended) recorded."""

    history: dict[str, list[float]]
    seconds: list[float]
    train_seconds: float
    peak_bytes: int | None = None
    extended_epochs: int = 0
    health_records: list[HealthFigures] | None = None


def _train(
    network: Any,
    data: PreparedData,
    listener: ProgressListener,
    label: str,
    *,
    initial: dict[str, list[float]] | None = None,
    deadline: float | None = None,
    health_records: list[HealthFigures] | None = None,
) -> _Run:
    """Train `network` with early stopping; extend a still-improving run when allowed.

    With `initial` (the history of a run already done, e.g. a reused tuning trial),
    only the extension runs. At `deadline` (`time.time()`) training stops after the
    batch in progress and nothing more starts.
    """
    config = data.config
    cap = config.epoch_cap
    x_train, y_train = data.scaled("train")
    x_val, y_val = data.scaled("val")
    on_cuda = network.device.type == "cuda"
    run = _Run(
        history={k: list(v) for k, v in (initial or {}).items()}, seconds=[], train_seconds=0
    )
    health = health_callback(data)  # under 5 % of the training time (health_every)
    health.records = list(health_records or [])  # a continued run appends to them

    def fit(first: int, last: int, description: str) -> None:
        timer = EpochTimer()
        callbacks = [
            _early_stopping(config),
            timer,
            EpochProgress(listener, label=description, epochs=last - first),
            StopAtDeadline(deadline, label),
            health,
        ]
        started = time.perf_counter()
        with PeakMemory(network.device) if on_cuda else contextlib.nullcontext() as peak:
            history = network.fit(
                x_train,
                y_train,
                validation_data=(x_val, y_val),
                epochs=last,
                initial_epoch=first,
                batch_size=config.batch_size,
                steps_per_epoch=steps_per_epoch(config, len(x_train)),
                callbacks=callbacks,
                verbose=0,
            )
        run.train_seconds += time.perf_counter() - started
        run.seconds.extend(timer.seconds)
        if peak is not None:
            run.peak_bytes = max(run.peak_bytes or 0, peak.peak_bytes)
        for key, values in history.history.items():
            run.history.setdefault(key, []).extend(float(v) for v in values)

    if initial is None:
        fit(0, cap, label)
    done = len(run.history.get("val_loss") or run.history.get("loss") or [])
    in_time = deadline is None or time.time() < deadline
    if config.extends_epochs and in_time and still_improving(run.history, cap) and done == cap:
        best = float(np.nanmin(run.history.get("val_loss") or run.history["loss"]))
        weights = network.get_weights()
        fit(done, cap * EPOCH_EXTENSION, f"{label} (still improving: more epochs)")
        run.extended_epochs = len(run.history.get("val_loss") or run.history["loss"]) - done
        extension = (run.history.get("val_loss") or run.history["loss"])[done:]
        if not extension or not np.nanmin(extension) < best:  # no better epoch: keep the old
            network.set_weights(weights)
    run.health_records = health.records or None
    return run


def _spec(data: PreparedData, kind: str, hyperparameters: dict[str, Any]) -> dict[str, Any]:
    config = data.config
    return {
        "kind": kind,
        "name": DISPLAY_NAMES[kind],
        "hyperparameters": hyperparameters,
        "targets": data.targets,
        "features": data.features,
        "window": config.window,
        "horizon": config.horizon,
        "stride": config.stride,
        "time_column": data.time_column,
        "missing": config.missing,
        "categorical": config.categorical,
        "frequency": data.frequency,
        "encoded": data.report.encoded,
        "scaling": config.scaling,
        "scaling_description": data.scaler.describe(),
        "season": data.season,
        "non_negative": list(non_negative_targets(data.train_series)),
        "calendar": list(data.calendar),
        "residual_over": data.base_name,
        "source": data.source,
        "config": config.to_dict(),
        "metrics": {},
    }


def fit_forecaster(
    config: ForecastConfig,
    model: str = "lstm",
    hyperparameters: dict[str, Any] | None = None,
    *,
    data: PreparedData | None = None,
    progress: ProgressListener | None = None,
) -> FitResult:
    """Train one network on the configured data and forecast the test period.

    Args:
        config: The run configuration (`epochs`, `batch_size`, `patience`,
            `seed`, `threads` are used here).
        model: `"rnn"`, `"lstm"` or `"gru"`. Defaults to `"lstm"`.
        hyperparameters: Values for `units`, `layers`, `activation`,
            `dropout`, `learning_rate`; missing ones take their defaults.
            Defaults to `None`.
        data: Data already prepared from `config` (to share it between
            models). Defaults to `None` (prepared here).
        progress: Receives epoch progress. Defaults to `None`.

    Returns:
        A `FitResult`.

    Raises:
        DataError: unusable data (see `prepare_data`).
        ValueError: an unknown model or hyperparameter.

    Example:
        >>> frame = pd.DataFrame({"y": np.sin(np.arange(120) / 3.0)})
        >>> config = ForecastConfig(data=frame, target="y", window=6, epochs=1)
        >>> result = fit_forecaster(config, "gru", {"units": 4})
        >>> result.predictions.shape, result.params, result.best_epoch
        ((17, 1, 1), 89, 1)
    """
    caller = "fit_forecaster()"
    deadline = _deadline(config)  # the config given: compare passes each network's share
    kind = _check_kind(model, caller)
    values = check_hyperparameters(hyperparameters, caller=caller)
    data = data if data is not None else prepare_data(config, caller=caller)
    config = data.config
    listener = progress or ProgressListener()
    name = DISPLAY_NAMES[kind]
    with torch_threads(config.threads):
        set_random_seed(config.seed)
        network = build_network(
            fixed_hyperparameters(values),
            kind=kind,
            window=config.window,
            features=len(data.features),
            outputs=config.horizon * len(data.targets),
        )
        run = _train(network, data, listener, name, deadline=deadline)
        return _result(kind, values, network, data, run)


def _result(
    kind: str,
    values: dict[str, Any],
    network: Any,
    data: PreparedData,
    run: _Run,
    reused_trial: str | None = None,
) -> FitResult:
    """Measure a trained network and forecast the validation and test windows."""
    config = data.config
    name = DISPLAY_NAMES[kind]
    on_cuda = network.device.type == "cuda"
    x_train, _ = data.scaled("train")
    # after training, so counting does not draw from the random generators fit uses
    memory_bytes = (
        run.peak_bytes
        if run.peak_bytes is not None
        else count_training_memory(network, x_train[: config.batch_size])
    )
    forecaster = Forecaster(network, data.scaler, _spec(data, kind, values), base=data.base)
    x_test, _ = data.part("test")
    predictions = forecaster.predict_windows(x_test)
    val_predictions = forecaster.predict_windows(data.part("val")[0])
    val_loss = run.history.get("val_loss") or run.history.get("loss") or [np.nan]
    kernels = [(row[0], row[3]) for row in summary_rows(network) if row[3]]
    epochs_run = len(val_loss)
    cap = config.epoch_cap * (EPOCH_EXTENSION if run.extended_epochs else 1)
    logger.info("%s trained: %d epochs in %.1f s", name, epochs_run, run.train_seconds)
    return FitResult(
        kind=kind,
        name=name,
        forecaster=forecaster,
        history=run.history,
        hyperparameters=values,
        params=int(network.count_params()),
        seconds_per_epoch=float(np.median(run.seconds)) if run.seconds else float("nan"),
        train_seconds=run.train_seconds,
        peak_memory_bytes=memory_bytes,
        memory_method=CUDA_METHOD if on_cuda else CPU_METHOD,
        best_epoch=int(np.nanargmin(val_loss)) + 1,
        epochs_run=epochs_run,
        predictions=predictions,
        kernels=kernels,
        data=data,
        val_predictions=val_predictions,
        stopped_at_cap=still_improving(run.history, cap),
        extended_epochs=run.extended_epochs,
        residual_over=data.base_name,
        reused_trial=reused_trial,
        health_records=run.health_records,
    )


#: Completed trials before the pruner judges others, and epochs every trial trains first.
PRUNER_STARTUP_TRIALS, PRUNER_WARMUP_EPOCHS = 2, 4


def search_pruner() -> Any:
    """The pruner of the workflow's random and Bayesian searches: Optuna's median rule.

    Once `PRUNER_STARTUP_TRIALS` trials have finished, a trial whose best validation
    loss after epoch `PRUNER_WARMUP_EPOCHS` + 1 or later is worse than the median of
    the earlier trials at the same epoch stops there (state PRUNED): hopeless trials
    leave their time to the others. Every network's search uses the same rule.
    """
    from rnnkit.tuner.oracles import median_pruner

    return median_pruner(startup_trials=PRUNER_STARTUP_TRIALS, warmup_epochs=PRUNER_WARMUP_EPOCHS)


def _make_tuner(
    config: ForecastConfig, hypermodel: Any, project_name: str, tuner_id: str | None = None
) -> Any:
    overwrite = not (config.resume or config.storage)
    earlier = Path(config.out) / "tuning" / project_name
    if overwrite and earlier.is_dir() and any(earlier.iterdir()):
        logger.warning(
            "Starting the %s search afresh: the earlier tuning study in %s is deleted (pass "
            "--resume, resume=True, to continue it; a killed trial continues from its last "
            "epoch).",
            project_name,
            earlier,
        )
    common: dict[str, Any] = {
        "objective": "val_loss",
        "seed": config.seed,
        "directory": str(Path(config.out) / "tuning"),
        "project_name": project_name,
        "overwrite": overwrite,
        "storage": config.storage,
        "tuner_id": tuner_id,
    }
    if config.tuner != "hyperband":  # Hyperband's brackets stop hopeless trials themselves
        common["pruner"] = search_pruner()
    if config.tuner == "hyperband":
        return kt.Hyperband(
            hypermodel,
            max_epochs=config.epoch_cap,
            factor=3,
            max_trials=config.max_trials,
            **common,
        )
    if config.tuner == "bayesian":
        return kt.BayesianOptimization(hypermodel, max_trials=config.max_trials, **common)
    return kt.RandomSearch(hypermodel, max_trials=config.max_trials, **common)


#: A search whose deadline has passed still gets this many seconds: one trial starts.
MIN_SEARCH_SECONDS = 1.0
#: Study user attribute holding what `rnnkit tune-worker` needs to rebuild a search.
RUN_ATTR = "rnnkit_run"
#: Settings that belong to one machine, not to the search (the storage URL holds a password).
_LOCAL_SETTINGS = ("data", "storage", "out", "workers", "resume", "threads", "max_time")


def run_record(config: ForecastConfig, kind: str, data: PreparedData) -> dict[str, Any]:
    """What a worker on another machine needs to run the same search (JSON, no secrets).

    The run settings without the machine-local ones, the network kind, the data
    file's absolute path (`None` for a DataFrame; `bundled` for rnnkit's own
    dataset) and a fingerprint of the prepared data that the worker's copy must match.
    """
    source = config.data
    path = str(Path(source).resolve()) if isinstance(source, (str, Path)) else None
    settings = {k: v for k, v in config.to_dict().items() if k not in _LOCAL_SETTINGS}
    return {
        "format": 1,
        "command": "rnnkit tune",
        "model": kind,
        "data": path,
        "bundled": bool(data.is_bundled),
        "config": settings,
        "fingerprint": data_fingerprint(data),
    }


def data_fingerprint(data: PreparedData) -> dict[str, Any]:
    """Columns and window counts of prepared data (equal data gives equal fingerprints)."""
    return {"features": list(data.features), "targets": list(data.targets), **data.sizes()}


def run_search(
    config: ForecastConfig,
    kind: str,
    data: PreparedData,
    listener: ProgressListener,
    *,
    tuner_id: str | None = None,
    record: bool = False,
    deadline: float | None = None,
) -> tuple[Any, float]:
    """Build the tuner of `kind` on `data` and run its search (or join it).

    With `config.folds` >= 2 each trial is scored on the folds of `tuning_folds`
    (`search(cv=...)`, the mean of the folds' best validation losses); the last fold
    is `data`'s own split.

    Args:
        config: The run configuration (validated, as `data.config`).
        kind: `"rnn"`, `"lstm"` or `"gru"`.
        data: The prepared data.
        listener: Receives trial and epoch progress.
        tuner_id: This process's name in the trial records. Defaults to `None`.
        record: Store `run_record` in the study (`RUN_ATTR`) so that
            `rnnkit tune-worker` can join. Defaults to `False`.
        deadline: When the search must end (`time.time()`; the tuner's hard
            `max_time`). Defaults to `None`: `config.max_time` from now, if set.

    Returns:
        `(tuner, seconds the search took)`.
    """
    name = DISPLAY_NAMES[kind]
    hypermodel = ForecastHyperModel(
        kind,
        window=config.window,
        features=len(data.features),
        outputs=config.horizon * len(data.targets),
        seed=config.seed,
    )
    folds = tuning_folds(data, config.folds) if config.folds > 1 else []  # fails fast
    tuner = _make_tuner(config, hypermodel, f"{config.project_name}_{kind}", tuner_id)
    if record and config.tuner != "hyperband" and not tuner.study.trials:
        # A new search tries the defaults first (the untuned network), so that tuning
        # never ends below them on validation; Hyperband's brackets schedule every trial.
        tuner.study.enqueue_trial(default_hyperparameters())
    if record:
        tuner.study.set_user_attr(RUN_ATTR, run_record(config, kind, data))
    x_train, y_train = data.scaled("train")
    x_val, y_val = data.scaled("val")
    if folds:  # each fold scaled with its own scaler (rnnkit.tuner.folds)
        data_args: dict[str, Any] = {
            "cv": [(*fold.scaled("train"), *fold.scaled("val")) for fold in folds]
        }
    else:
        data_args = {"x": x_train, "y": y_train, "validation_data": (x_val, y_val)}
    callbacks: list[Any] = [_early_stopping(config)]
    if config.workers == 1:  # listeners stay in this process
        callbacks.append(
            EpochProgress(listener, label=name, epochs=config.epoch_cap, count_trials=True)
        )
    if folds:  # the bar advances once per training: one per fold of each trial
        listener.begin(
            "trials",
            total=config.max_trials * len(folds),
            description=f"{name} trials x {len(folds)} folds",
        )
    else:
        listener.begin("trials", total=config.max_trials, description=f"{name} trials")
    started = time.perf_counter()
    deadline = deadline if deadline is not None else _deadline(config)
    max_time = None if deadline is None else max(deadline - time.time(), MIN_SEARCH_SECONDS)
    with torch_threads(config.threads if config.workers == 1 else None):
        tuner.search(
            **data_args,
            epochs=config.epoch_cap,
            batch_size=config.batch_size,
            steps_per_epoch=steps_per_epoch(config, len(x_train)),
            callbacks=callbacks,
            verbose=0,
            workers=config.workers,
            max_time=max_time,
        )
    search_seconds = time.perf_counter() - started
    listener.end("trials")
    return tuner, search_seconds


def _reuse_best_trial(
    tuner: Any,
    kind: str,
    values: dict[str, Any],
    data: PreparedData,
    listener: ProgressListener,
    deadline: float | None = None,
) -> FitResult | None:
    """The best trial's network with its best-epoch weights, instead of training it again.

    Training the best values again with the same seed and budget would redo that
    trial's work; the trial's own network is an equally honest result (the test
    windows played no part in choosing it). Used only when this process recorded
    the trial's run (`ForecastHyperModel.runs`: its history and epoch times, whose
    best validation loss must be the trial's score) and its checkpoint loads;
    otherwise `None`, and the caller trains the values again. A run still improving
    at the epoch cap is extended as `fit_forecaster` would.
    """
    runs = getattr(tuner.hypermodel, "runs", None) or {}
    record = runs.get(values_key(values))
    trials = tuner.get_best_trials(1)
    if record is None or not trials or trials[0].score is None:
        return None
    # with folds the record and the checkpoint are the last fold's: `data`'s own split
    folds = trial_folds(tuner, trials[0].trial_id)
    score = folds[-1]["value"] if folds else trials[0].score
    val_loss = record.history.get("val_loss") or []
    if not val_loss or not np.isclose(np.nanmin(val_loss), score, rtol=1e-5, atol=0):
        return None  # the record is another run of the same values
    config = data.config
    with torch_threads(config.threads):
        try:
            network = tuner.get_best_models(1)[0]
        except CheckpointError as exc:
            logger.info("training the best values again: %s", exc)
            return None
        run = _train(
            network,
            data,
            listener,
            DISPLAY_NAMES[kind],
            initial=record.history,
            deadline=deadline,
            health_records=record.health_records,
        )
        run.seconds = [*record.seconds, *run.seconds]
        run.train_seconds += record.train_seconds
        return _result(kind, values, network, data, run, reused_trial=str(trials[0].trial_id))


def tune_forecaster(
    config: ForecastConfig,
    model: str = "lstm",
    *,
    data: PreparedData | None = None,
    progress: ProgressListener | None = None,
) -> TuneResult:
    """Search the hyperparameters of one network; the best trial's network is the result.

    The search (`config.tuner`, `config.max_trials` trials of at most
    `config.epochs` epochs, `config.workers` processes) minimises the
    validation loss over the space in `rnnkit.workflow.networks` (with
    `config.folds` >= 2, the mean over that many validation blocks:
    `rnnkit.workflow.prepare.tuning_folds`). Its study
    lives in `<out>/tuning/<project_name>_<model>` (or in `config.storage`,
    where workers on other machines can join it by running the same command,
    or `rnnkit tune-worker --storage URL`: the study records what they need,
    see `run_record`).

    Args:
        config: The run configuration; `max_trials` must be at least 1.
        model: `"rnn"`, `"lstm"` or `"gru"`. Defaults to `"lstm"`.
        data: Data already prepared from `config`. Defaults to `None`.
        progress: Receives trial and epoch progress. Defaults to `None`.

    Returns:
        A `TuneResult` whose `fit` is the best trial's network with its
        best-epoch weights and the trial's measured run (`FitResult.reused_trial`),
        or, when that trial's run was not recorded here (other workers), its
        values trained again.

    Raises:
        DataError: unusable data, or a series too short for `config.folds` folds.
        ValueError: `max_trials=0` or an unknown model.
        RnnkitError: no trial finished.
    """
    caller = "tune_forecaster()"
    deadline = _deadline(config)  # the config given: compare passes each network's share
    kind = _check_kind(model, caller)
    data = data if data is not None else prepare_data(config, caller=caller)
    config = data.config
    if config.max_trials < 1:
        raise RnnkitValueError(
            f"{caller}: max_trials must be at least 1 to tune. Received: max_trials=0 "
            "(use fit_forecaster for the default hyperparameters)."
        )
    listener = progress or ProgressListener()
    name = DISPLAY_NAMES[kind]
    tuner, search_seconds = run_search(config, kind, data, listener, record=True, deadline=deadline)
    trials = tuner.results_dataframe()
    best = tuner.get_best_hyperparameters(1)
    if not best:
        raise RnnkitError(
            f"{caller}: no {name} trial finished, so there are no best hyperparameters. "
            f"See the trial messages in {tuner.project_dir}."
        )
    values = dict(best[0].values)
    importance, method = hyperparameter_importance(trials, tuner=tuner)
    fit = _reuse_best_trial(tuner, kind, values, data, listener, deadline)
    if fit is None:
        left = None if deadline is None else max(deadline - time.time(), MIN_SEARCH_SECONDS)
        fit = fit_forecaster(
            config.replace(max_time=left), kind, values, data=data, progress=listener
        )
    fit.forecaster.spec["tuning"] = {
        "trials": len(trials),
        "tuner": config.tuner,
        "reused_trial": fit.reused_trial,
    }
    refit = None
    if deadline is None or time.time() < deadline:
        from rnnkit.workflow.refit import refit_tuned_network  # it imports this module

        refit = refit_tuned_network(
            tuner, fit, progress=listener, callbacks=[StopAtDeadline(deadline, name)]
        )
    return TuneResult(
        kind=kind,
        name=name,
        trials=trials,
        best_hyperparameters=values,
        importance=importance,
        importance_method=method,
        fit=fit,
        search_seconds=search_seconds,
        project_dir=Path(tuner.project_dir),
        refit=refit,
    )
