"""RNN vs LSTM vs GRU vs baselines on the same data with the same budget.

`compare_models` prepares the data once, fits the three baselines (naive,
seasonal naive, linear on lags) on the training windows, tunes each network
with the same number of trials and epochs (or trains its default
hyperparameters when `max_trials=0`), and scores every model on the same
test windows, in original units:

- accuracy: MAE, RMSE, MAPE, sMAPE; MASE scaled by the in-sample naive
  forecast (`MASE`) and by the in-sample seasonal naive forecast
  (`MASE_seasonal`); each model's test MAE relative to the naive and
  seasonal naive forecasts' test MAE (`rel_naive`, `rel_seasonal`: below 1
  beats them);
- cost: parameter count, seconds per epoch, peak memory, epochs to
  convergence (the best validation epoch).

The verdicts say in plain words whether any network beats the naive and the
seasonal naive forecasts on the test period.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.errors import DataError
from rnnkit.workflow.baselines import LinearLagForecaster
from rnnkit.workflow.baselines import NaiveForecaster
from rnnkit.workflow.baselines import SeasonalNaiveForecaster
from rnnkit.workflow.forecast_metrics import compare_to_naive
from rnnkit.workflow.forecast_metrics import forecast_metrics
from rnnkit.workflow.forecast_metrics import horizon_errors
from rnnkit.workflow.forecast_metrics import mase
from rnnkit.workflow.prepare import PreparedData
from rnnkit.workflow.prepare import prepare_data
from rnnkit.workflow.progress import ProgressListener
from rnnkit.workflow.spec import ForecastConfig
from rnnkit.workflow.train import FitResult
from rnnkit.workflow.train import TuneResult
from rnnkit.workflow.train import fit_forecaster
from rnnkit.workflow.train import tune_forecaster

__all__ = [
    "BASELINE_NAMES",
    "ComparisonResult",
    "compare_models",
    "fit_baselines",
    "score_forecasts",
    "verdict_sentences",
]

logger = logging.getLogger(__name__)

NAIVE = "naive"
SEASONAL = "seasonal naive"
LINEAR = "linear on lags"
#: Names of the baselines in every comparison, in table order.
BASELINE_NAMES = (NAIVE, SEASONAL, LINEAR)


def fit_baselines(data: PreparedData) -> dict[str, np.ndarray]:
    """Fit the three baselines on the training windows; return their test forecasts.

    Example:
        >>> frame = pd.DataFrame({"y": np.arange(100.0)})
        >>> data = prepare_data(ForecastConfig(data=frame, target="y", window=4))
        >>> forecasts = fit_baselines(data)
        >>> list(forecasts), float(forecasts["naive"][0, 0, 0])  # last input of a test window
        (['naive', 'seasonal naive', 'linear on lags'], 85.0)
    """
    x_train, y_train = data.part("train")
    x_test, _ = data.part("test")
    targets = data.target_index
    models = {
        NAIVE: NaiveForecaster(targets=targets),
        SEASONAL: SeasonalNaiveForecaster(data.season, targets=targets),
        LINEAR: LinearLagForecaster(targets=targets),
    }
    return {name: model.fit(x_train, y_train).predict(x_test) for name, model in models.items()}


def score_forecasts(data: PreparedData, forecasts: dict[str, np.ndarray]) -> pd.DataFrame:
    """Score test forecasts in original units (see the module docs for the columns).

    Args:
        data: The prepared data (test targets, training series, season).
        forecasts: Model name -> `(n_test, horizon, n_targets)`; must include
            `"naive"` and `"seasonal naive"` for the relative columns.

    Returns:
        One row per model (index `model`), columns `MAE RMSE MAPE sMAPE MASE
        MASE_seasonal rel_naive rel_seasonal`.
    """
    _, y_test = data.part("test")
    series = data.train_series
    rows = {}
    for name, forecast in forecasts.items():
        scores = forecast_metrics(y_test, forecast, y_train=series, season=1)
        try:
            scores["MASE_seasonal"] = mase(y_test, forecast, y_train=series, season=data.season)
        except DataError:  # training period shorter than one season
            scores["MASE_seasonal"] = float("nan")
        rows[name] = scores
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    for column, reference in (("rel_naive", NAIVE), ("rel_seasonal", SEASONAL)):
        base = table["MAE"].get(reference, np.nan)
        table[column] = table["MAE"] / base if base and np.isfinite(base) else np.nan
    return table


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def verdict_sentences(
    metrics: pd.DataFrame, networks: list[str], *, season: int = 1, season_source: str = ""
) -> tuple[list[str], list[str]]:
    """Plain-words verdicts: do the networks beat the naive and seasonal naive forecasts?

    Args:
        metrics: `score_forecasts` output.
        networks: Names of the network rows.
        season: The season, for the wording. Defaults to `1`.
        season_source: How the season was found, for the wording. Defaults to `""`.

    Returns:
        `(headline, details)`: summary sentences, and one sentence per
        network and reference.

    Example:
        >>> table = pd.DataFrame(
        ...     {"MASE": [1.0, 0.9, 1.2, 0.8], "MASE_seasonal": [1.1, 1.0, 1.3, 0.9],
        ...      "MAE": [1.0, 0.9, 1.2, 0.8]},
        ...     index=["naive", "seasonal naive", "LSTM", "linear on lags"])
        >>> headline, _ = verdict_sentences(table, ["LSTM"], season=24)
        >>> print(headline[0])
        No network beats the naive forecast on the test period (best: LSTM, MASE 1.2 >= 1).
    """
    headline, details = [], []
    for metric, reference in (("MASE", NAIVE), ("MASE_seasonal", SEASONAL)):
        if reference not in metrics.index or metric not in metrics:
            continue
        label = "MASE" if metric == "MASE" else f"seasonal MASE (season {season})"
        scores = {name: float(metrics.loc[name, metric]) for name in [*networks, reference]}
        verdicts = compare_to_naive(scores, metric=label, reference=reference)
        details.extend(f"{v.text}." for v in verdicts)
        who = verdicts[0].reference_name if verdicts else f"the {reference} forecast"
        winners = [v.model for v in verdicts if v.beats]
        if not verdicts:
            continue
        if not winners:
            scored = [v for v in verdicts if np.isfinite(v.score)]
            best = min(scored, key=lambda v: v.score) if scored else None
            tail = (
                f" (best: {best.model}, {label} {best.score:.3g} >= {best.reference:.3g})"
                if best
                else ""
            )
            headline.append(f"No network beats {who} on the test period{tail}.")
        elif len(winners) == len(verdicts):
            headline.append(
                f"{'Every network beats' if len(winners) > 1 else _join(winners) + ' beats'} "
                f"{who} on the test period."
            )
        else:
            losers = [v.model for v in verdicts if not v.beats]
            verb = "beats" if len(winners) == 1 else "beat"
            neg = "does not" if len(losers) == 1 else "do not"
            headline.append(
                f"{_join(winners)} {verb} {who} on the test period; {_join(losers)} {neg}."
            )
    if season == 1 and SEASONAL in metrics.index:
        why = f" (season: {season_source})" if season_source else ""
        headline.append(f"The seasonal naive forecast equals the naive one here{why}.")
    finite = metrics["MAE"].dropna()
    if len(finite):
        best = str(finite.idxmin())
        kind = "a network" if best in networks else "a baseline"
        headline.append(f"Lowest test MAE: {best} ({kind}, MAE {finite[best]:.4g}).")
    return headline, details


@dataclass
class ComparisonResult:
    """Everything a comparison produced: scores, forecasts, fits, tunings, verdicts.

    Attributes:
        data: The prepared data (shared by every model).
        fits: Network name -> `FitResult`.
        tunings: Network name -> `TuneResult` (empty without tuning).
        baselines: Baseline name -> test forecasts in original units.
        metrics: `score_forecasts` plus the cost columns `params`,
            `seconds_per_epoch`, `peak_memory_mb`, `best_epoch`, `epochs_run`,
            `train_seconds` (NaN for baselines), and `kind` (network/baseline).
        horizon_mae: Model name -> test MAE per forecast step, `(horizon,)`.
        headline: Summary verdict sentences.
        verdicts: One sentence per network and reference.
        seconds: Wall-clock seconds of the whole comparison.
    """

    data: PreparedData
    fits: dict[str, FitResult]
    tunings: dict[str, TuneResult]
    baselines: dict[str, np.ndarray]
    metrics: pd.DataFrame
    horizon_mae: dict[str, np.ndarray]
    headline: list[str]
    verdicts: list[str]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def config(self) -> ForecastConfig:
        """The run configuration."""
        return self.data.config

    @property
    def memory_method(self) -> str:
        """How peak memory was measured (the same for every network of a run)."""
        methods = {fit.memory_method for fit in self.fits.values()}
        return "; ".join(sorted(methods)) if methods else ""

    def forecasts(self) -> dict[str, np.ndarray]:
        """Model name -> test forecasts in original units (baselines first)."""
        return {**self.baselines, **{n: f.predictions for n, f in self.fits.items()}}

    def forecast_frame(self) -> pd.DataFrame:
        """Test forecasts in long format: `time, step, target, actual` and one column per model."""
        _, y_test = self.data.part("test")
        times = self.data.target_times("test")
        n, horizon, n_targets = y_test.shape
        base = {
            "time": np.repeat(times.reshape(n, horizon, 1), n_targets, axis=2).ravel(),
            "step": np.tile(np.arange(1, horizon + 1).repeat(n_targets), n),
            "target": np.tile(np.asarray(self.data.targets, dtype=object), n * horizon),
            "actual": y_test.ravel(),
        }
        for name, forecast in self.forecasts().items():
            base[name] = forecast.ravel()
        return pd.DataFrame(base)

    def save_models(self, folder: str | Path) -> dict[str, Path]:
        """Save every trained network as a forecaster folder `<folder>/<kind>`."""
        out = {}
        for name, fit in self.fits.items():
            fit.forecaster.spec["metrics"] = _row(self.metrics, name)
            out[name] = fit.save(Path(folder) / fit.kind)
        return out

    @classmethod
    def from_results(
        cls,
        data: PreparedData,
        fits: list[FitResult],
        tunings: list[TuneResult] | None = None,
        *,
        seconds: float = 0.0,
    ) -> ComparisonResult:
        """Score trained networks beside the baselines on `data`'s test windows."""
        baselines = fit_baselines(data)
        forecasts = {**baselines, **{fit.name: fit.predictions for fit in fits}}
        metrics = score_forecasts(data, forecasts)
        kind = ["baseline"] * len(baselines) + ["network"] * len(fits)
        metrics.insert(0, "kind", kind)
        cost = {
            "params": [fit.params for fit in fits],
            "seconds_per_epoch": [fit.seconds_per_epoch for fit in fits],
            "peak_memory_mb": [fit.peak_memory_mb for fit in fits],
            "best_epoch": [fit.best_epoch for fit in fits],
            "epochs_run": [fit.epochs_run for fit in fits],
            "train_seconds": [fit.train_seconds for fit in fits],
        }
        for column, values in cost.items():
            metrics[column] = pd.Series(values, index=[f.name for f in fits], dtype=float)
        _, y_test = data.part("test")
        series = data.train_series
        horizon_mae = {
            name: horizon_errors(y_test, forecast, y_train=series)["MAE"]
            for name, forecast in forecasts.items()
        }
        names = [fit.name for fit in fits]
        headline, verdicts = verdict_sentences(
            metrics, names, season=data.season, season_source=data.season_source
        )
        return cls(
            data=data,
            fits={fit.name: fit for fit in fits},
            tunings={t.name: t for t in tunings or []},
            baselines=baselines,
            metrics=metrics,
            horizon_mae=horizon_mae,
            headline=headline,
            verdicts=verdicts,
            seconds=seconds,
        )


def _row(metrics: pd.DataFrame, name: str) -> dict[str, Any]:
    row = metrics.loc[name].to_dict()
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}


def compare_models(
    config: ForecastConfig,
    models: tuple[str, ...] | list[str] | None = None,
    *,
    progress: ProgressListener | None = None,
) -> ComparisonResult:
    """Compare networks and baselines on the same data with the same budget.

    Each network gets `config.max_trials` tuning trials of at most
    `config.epochs` epochs (0 trials: its default hyperparameters), then its
    best values are trained once more and measured; the baselines are fitted
    on the same training windows; all are scored on the same test windows.

    Args:
        config: The run configuration.
        models: Networks to train, from `"rnn"`, `"lstm"`, `"gru"`. Defaults
            to `None` (`config.models`).
        progress: Receives `"models"`, `"trials"` and `"epochs"` progress.
            Defaults to `None`.

    Returns:
        A `ComparisonResult` (write it out with `rnnkit.workflow.write_report`).

    Raises:
        DataError: unusable data (see `prepare_data`).
        ValueError: an unknown model or option.

    Example:
        >>> frame = pd.DataFrame({"y": np.sin(np.arange(150) / 2.0)})
        >>> config = ForecastConfig(data=frame, target="y", window=8, epochs=1, max_trials=0)
        >>> result = compare_models(config, models=["gru"])
        >>> result.metrics.index.tolist()
        ['naive', 'seasonal naive', 'linear on lags', 'GRU']
    """
    started = time.perf_counter()
    caller = "compare_models()"
    if models is not None:
        config = config.replace(models=tuple(models))
    data = prepare_data(config, caller=caller)
    config = data.config
    listener = progress or ProgressListener()
    listener.begin("models", total=len(config.models), description="models")
    fits, tunings = [], []
    for kind in config.models:
        if config.max_trials > 0:
            tuning = tune_forecaster(config, kind, data=data, progress=listener)
            tunings.append(tuning)
            fits.append(tuning.fit)
        else:
            fits.append(fit_forecaster(config, kind, data=data, progress=listener))
        listener.advance("models")
        listener.message(
            f"{fits[-1].name}: {fits[-1].epochs_run} epochs, "
            f"{fits[-1].seconds_per_epoch:.2f} s/epoch, {fits[-1].params:,} parameters"
        )
    listener.end("models")
    return ComparisonResult.from_results(data, fits, tunings, seconds=time.perf_counter() - started)
