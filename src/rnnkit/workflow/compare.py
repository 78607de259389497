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

The verdicts say in plain words whether any network beats the naive, the
seasonal naive and the linear-on-lags forecasts on the test period (a
Diebold–Mariano test behind each).

One job, the comparison; scoring, significance tests and the verdict sentences all read
the same results and stay together.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from collections.abc import Sequence
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
from rnnkit.workflow.forecast_metrics import forecast_metrics
from rnnkit.workflow.forecast_metrics import horizon_errors
from rnnkit.workflow.forecast_metrics import mase
from rnnkit.workflow.forecast_metrics import naive_scale
from rnnkit.workflow.intervals import ConformalIntervals
from rnnkit.workflow.intervals import clip_non_negative
from rnnkit.workflow.intervals import coverage_table
from rnnkit.workflow.intervals import fit_conformal
from rnnkit.workflow.intervals import level_label
from rnnkit.workflow.intervals import non_negative_targets
from rnnkit.workflow.prepare import PreparedData
from rnnkit.workflow.prepare import prepare_data
from rnnkit.workflow.prepare import tuning_splits
from rnnkit.workflow.progress import ProgressListener
from rnnkit.workflow.significance import LEVEL
from rnnkit.workflow.significance import DieboldMarianoResult
from rnnkit.workflow.significance import diebold_mariano
from rnnkit.workflow.significance import loss_differential
from rnnkit.workflow.significance import p_phrase
from rnnkit.workflow.spec import ForecastConfig
from rnnkit.workflow.spec import parse_duration
from rnnkit.workflow.train import FitResult
from rnnkit.workflow.train import TuneResult
from rnnkit.workflow.train import fit_forecaster
from rnnkit.workflow.train import tune_forecaster

__all__ = [
    "BASELINE_NAMES",
    "ComparisonResult",
    "compare_models",
    "fit_baselines",
    "network_share",
    "score_forecasts",
    "significance_tests",
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
    x_test, _ = data.part("test")
    return {name: model.predict(x_test) for name, model in _fitted_baselines(data).items()}


def _fitted_baselines(data: PreparedData) -> dict[str, Any]:
    """The three baselines fitted on the training windows (`prepare_data` fits them)."""
    if data.baselines:
        return dict(data.baselines)
    x_train, y_train = data.part("train")
    targets = data.target_index
    models = {
        NAIVE: NaiveForecaster(targets=targets),
        SEASONAL: SeasonalNaiveForecaster(data.season, targets=targets),
        LINEAR: LinearLagForecaster(targets=targets),
    }
    return {name: model.fit(x_train, y_train) for name, model in models.items()}


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


#: The metric each verdict compares and the reference it is compared with: the naive
#: forecasts, and linear on lags (the strongest simple baseline, and the base the networks
#: usually correct: does the network add anything to it?).
_VERDICT_METRICS = (("MASE", NAIVE), ("MASE_seasonal", SEASONAL), ("MASE", LINEAR))


def significance_tests(
    data: PreparedData, forecasts: Mapping[str, np.ndarray], networks: Sequence[str]
) -> dict[tuple[str, str], DieboldMarianoResult]:
    """Diebold–Mariano tests of each network against the naive, seasonal and linear forecasts.

    The loss is the absolute error divided by the target's MASE scale (the
    in-sample naive MAE for `naive` and `linear on lags`, the seasonal one for
    `seasonal naive`),
    averaged per test window over its steps and targets: the quantity whose
    mean is the MASE the verdicts quote. Overlapping windows are allowed for
    with a lag of `ceil(horizon / stride) - 1` (see `rnnkit.workflow.significance`).

    Args:
        data: The prepared data (test targets, training series, season, horizon, stride).
        forecasts: Model name -> test forecasts `(n_test, horizon, n_targets)`.
        networks: Names of the network rows to test.

    Returns:
        `(network, reference)` -> the test; pairs that cannot be tested (a
        reference missing, a scale of 0, fewer than 2 test windows) are left out.
    """
    _, y_test = data.part("test")
    config = data.config
    out = {}
    for _, reference in _VERDICT_METRICS:
        if reference not in forecasts:
            continue
        season = data.season if reference == SEASONAL else 1
        try:
            scale = naive_scale(data.train_series, season=season)
        except DataError:  # training period shorter than one season
            continue
        if np.any(scale == 0):
            continue
        for name in networks:
            if name not in forecasts:
                continue
            d = loss_differential(y_test, forecasts[name], forecasts[reference], scale=scale)
            if len(d) < 2 or not np.all(np.isfinite(d)):
                continue
            out[(name, reference)] = diebold_mariano(
                d, horizon=config.horizon, stride=config.stride
            )
    return out


@dataclass(frozen=True)
class _Tested:
    model: str
    score: float
    reference: float
    test: DieboldMarianoResult | None

    @property
    def outcome(self) -> str:
        if self.test is None or not (np.isfinite(self.score) and np.isfinite(self.reference)):
            return "untested"
        return self.test.outcome(LEVEL)


def _numbers(label: str, item: _Tested) -> str:
    scores = f"{label} {item.score:.3g} vs {item.reference:.3g}"
    return f"{scores}, {p_phrase(item.test.p_value)}" if item.test else scores


def _detail(item: _Tested, label: str, who: str) -> str:
    if item.outcome == "untested":
        why = f"{label} is NaN" if not np.isfinite(item.score) else "no test was possible"
        return f"{item.model} could not be compared with {who} ({why})."
    test = item.test.describe()  # type: ignore[union-attr]
    numbers = f"{label} {item.score:.3g} vs {item.reference:.3g}; {test}"
    if item.outcome == "better":
        return f"{item.model} beats {who} ({numbers})."
    if item.outcome == "worse":
        return f"{item.model} does not beat {who}: it is worse ({numbers})."
    return f"{item.model} does not beat {who}: no meaningful difference ({numbers})."


def _headline(items: list[_Tested], label: str, who: str) -> str:
    winners = [i for i in items if i.outcome == "better"]
    others = [i for i in items if i.outcome != "better"]
    words = {"worse": "worse", "no difference": "no meaningful difference", "untested": "untested"}
    rest = "; ".join(f"{i.model}: {words[i.outcome]} ({_numbers(label, i)})" for i in others)
    level = f"Diebold-Mariano test at the {LEVEL:.0%} level"
    if not winners:
        return f"No network beats {who} on the test period ({level}): {rest}."
    names = _join([i.model for i in winners])
    if not others:
        verb = "beats" if len(winners) == 1 else "beat"
        if len(winners) > 1:
            names, verb = "Every network", "beats"
        shown = "; ".join(
            _numbers(label, i) if len(winners) == 1 else f"{i.model}: {_numbers(label, i)}"
            for i in winners
        )
        return f"{names} {verb} {who} on the test period ({level}; {shown})."
    verb = "beats" if len(winners) == 1 else "beat"
    shown = "; ".join(f"{i.model}: {_numbers(label, i)}" for i in winners)
    return f"{names} {verb} {who} on the test period ({level}; {shown}); {rest}."


def verdict_sentences(
    metrics: pd.DataFrame,
    networks: list[str],
    *,
    season: int = 1,
    season_source: str = "",
    tests: Mapping[tuple[str, str], DieboldMarianoResult] | None = None,
) -> tuple[list[str], list[str]]:
    """Plain-words verdicts: do the networks beat the naive, seasonal naive and linear forecasts?

    A network *beats* a reference only when the Diebold–Mariano test of their
    test-window losses rejects equal accuracy at the 5 % level (`LEVEL`,
    two-sided) in its favour; it *is worse* when the test rejects the other
    way; otherwise the verdict says "no meaningful difference". Every verdict
    names the test and its p-value. Without a test for a pair, no claim is made.

    Args:
        metrics: `score_forecasts` output.
        networks: Names of the network rows.
        season: The season, for the wording. Defaults to `1`.
        season_source: How the season was found, for the wording. Defaults to `""`.
        tests: `(network, reference)` -> its test (`significance_tests`).
            Defaults to `None` (no tests: every comparison is "untested").

    Returns:
        `(headline, details)`: summary sentences, and one sentence per
        network and reference.

    Example:
        >>> table = pd.DataFrame(
        ...     {"MASE": [2.55, 2.6, 2.54, 2.5], "MASE_seasonal": [1.1, 1.0, 1.3, 0.9],
        ...      "MAE": [1.0, 0.9, 1.2, 0.8]},
        ...     index=["naive", "seasonal naive", "GRU", "linear on lags"])
        >>> noise = diebold_mariano([0.1, -0.2, 0.05, 0.1, -0.1, 0.02])
        >>> headline, details = verdict_sentences(
        ...     table, ["GRU"], season=24, tests={("GRU", "naive"): noise})
        >>> print(details[0])
        GRU does not beat the naive forecast: no meaningful difference (MASE 2.54 vs 2.55; \
Diebold-Mariano test on absolute errors, p = 0.923, 6 windows).
    """
    tests = tests or {}
    headline: list[str] = []
    details: list[str] = []
    for metric, reference in _VERDICT_METRICS:
        if reference not in metrics.index or metric not in metrics:
            continue
        label = "MASE" if metric == "MASE" else f"seasonal MASE (season {season})"
        who = "the linear-on-lags forecast" if reference == LINEAR else f"the {reference} forecast"
        scores = metrics[metric].astype(float).to_dict()
        value = scores[reference]
        items = [
            _Tested(name, scores[name], value, tests.get((name, reference)))
            for name in networks
            if name in metrics.index
        ]
        if not items:
            continue
        details.extend(_detail(item, label, who) for item in items)
        headline.append(_headline(items, label, who))
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
        notes: Extra lines for the report (non-negative targets, intervals).
        significance: `(network, reference)` -> Diebold–Mariano test behind
            the verdicts (`significance_tests`).
        intervals: Model name -> its conformal intervals (empty when
            `config.intervals` is empty).
        coverage: `coverage_table` of the test windows: one row per model and
            level, overall and per forecast step.
        non_negative: Per target, whether it is bounded at 0 (forecasts and
            lower bounds clipped).
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
    significance: dict[tuple[str, str], DieboldMarianoResult] = field(default_factory=dict)
    intervals: dict[str, ConformalIntervals] = field(default_factory=dict)
    coverage: pd.DataFrame = field(default_factory=pd.DataFrame)
    non_negative: tuple = ()

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
            model = self.intervals.get(name)
            if model is None:
                continue
            for level in model.levels:
                lower, upper = model.bounds(forecast, level)
                base[f"{name}_lower_{level_label(level)}"] = lower.ravel()
                base[f"{name}_upper_{level_label(level)}"] = upper.ravel()
        return pd.DataFrame(base)

    def significance_frame(self) -> pd.DataFrame:
        """The Diebold–Mariano tests behind the verdicts, one row per network and reference."""
        rows = [
            {
                "model": model,
                "reference": reference,
                "loss": test.loss,
                "mean_difference": test.mean_difference,
                "statistic": test.statistic,
                "p_value": test.p_value,
                "p_better": test.p_better,
                "windows": test.n,
                "lag": test.lag,
                "kernel": test.kernel,
                "outcome": test.outcome(LEVEL),
            }
            for (model, reference), test in self.significance.items()
        ]
        return pd.DataFrame(rows)

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
        """Score trained networks beside the baselines on `data`'s test windows.

        Also tests each network against the naive and seasonal naive forecasts
        (`significance_tests`, behind the verdicts), calibrates conformal
        intervals for every model on the validation windows at
        `data.config.intervals` (saved into each network's forecaster spec) and
        measures their test coverage. Targets found non-negative
        (`non_negative_targets` on the training period) have every forecast
        clipped at 0, the networks' `FitResult.predictions` included.
        """
        fitted = _fitted_baselines(data)
        x_val, y_val = data.part("val")
        x_test, y_test = data.part("test")
        non_negative = non_negative_targets(data.train_series)
        baselines = {
            n: clip_non_negative(m.predict(x_test), non_negative) for n, m in fitted.items()
        }
        val_forecasts = {
            n: clip_non_negative(m.predict(x_val), non_negative) for n, m in fitted.items()
        }
        for fit in fits:  # bounded targets: the networks' forecasts are clipped like the baselines'
            fit.predictions = clip_non_negative(fit.predictions, non_negative)
            if fit.val_predictions is not None:
                val_forecasts[fit.name] = clip_non_negative(fit.val_predictions, non_negative)
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
        series = data.train_series
        horizon_mae = {
            name: horizon_errors(y_test, forecast, y_train=series)["MAE"]
            for name, forecast in forecasts.items()
        }
        names = [fit.name for fit in fits]
        tests = significance_tests(data, forecasts, names)
        headline, verdicts = verdict_sentences(
            metrics, names, season=data.season, season_source=data.season_source, tests=tests
        )
        levels = data.config.intervals
        intervals = {
            name: fit_conformal(y_val, val_forecasts[name], levels, non_negative=non_negative)
            for name in forecasts
            if levels and name in val_forecasts and len(y_val)
        }
        coverage = coverage_table(y_test, forecasts, intervals)
        for fit in fits:  # saved with the forecaster, for `rnnkit predict`
            if fit.name in intervals:
                fit.forecaster.spec["intervals"] = intervals[fit.name].to_dict()
        notes = _interval_notes(data, intervals, non_negative)
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
            notes=notes,
            significance=tests,
            intervals=intervals,
            coverage=coverage,
            non_negative=non_negative,
        )


def _interval_notes(
    data: PreparedData, intervals: dict[str, ConformalIntervals], non_negative: tuple
) -> list[str]:
    """Report lines on bounded targets and on how the intervals were made."""
    notes = []
    bounded = [t for t, flag in zip(data.targets, non_negative, strict=True) if flag]
    if bounded:
        notes.append(
            f"{_join([repr(t) for t in bounded])} never went below 0 in the training period and "
            "came close to 0 (its minimum is within 5 % of its range), so it is treated as "
            "non-negative: every forecast and interval lower bound is clipped at 0."
        )
    if intervals:
        first = next(iter(intervals.values()))
        shown = ", ".join(f"{level:.0%}" for level in first.levels)
        notes.append(
            f"Prediction intervals ({shown}): split conformal, from each model's absolute errors "
            f"on the {first.calibration_windows:,} validation windows, one width per forecast "
            "step and target; their coverage is measured on the test windows."
        )
        if not first.exact:
            notes.append(
                f"Only {first.calibration_windows} validation windows: too few for the "
                "highest level's guarantee, so its width is the largest validation error. "
                "Use a larger --val-fraction or a longer series."
            )
    return notes


def _row(metrics: pd.DataFrame, name: str) -> dict[str, Any]:
    row = metrics.loc[name].to_dict()
    return {
        str(k): (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()
    }


#: The least time a network gets when `max_time` is spent before its turn (one trial starts).
MIN_NETWORK_SECONDS = 1.0


def network_share(config: ForecastConfig, elapsed: float, networks_left: int) -> float | None:
    """The seconds of `config.max_time` the next network gets: the time left, shared evenly.

    A network that finishes early leaves its time to the ones after it; `None`
    when there is no `max_time`.

    Example:
        >>> network_share(ForecastConfig(max_time="4m"), elapsed=30.0, networks_left=3)
        70.0
        >>> network_share(ForecastConfig(), elapsed=30.0, networks_left=3) is None
        True
    """
    if config.max_time is None:
        return None
    left = parse_duration(config.max_time) - elapsed
    return max(left / max(networks_left, 1), MIN_NETWORK_SECONDS)


def compare_models(
    config: ForecastConfig,
    models: tuple[str, ...] | list[str] | None = None,
    *,
    progress: ProgressListener | None = None,
) -> ComparisonResult:
    """Compare networks and baselines on the same data with the same budget.

    Each network gets `config.max_trials` tuning trials of at most
    `config.epoch_cap` epochs (0 trials: its default hyperparameters trained
    once); the best trial's network is kept with its measured run; the baselines are fitted
    on the same training windows; all are scored on the same test windows. With
    `config.max_time`, the comparison's time (counted from this call) is shared
    across the networks (`network_share`): each one's tuning and training stop at its
    share, keeping their best epoch. With `config.folds` >= 2 every trial is scored
    on that many validation blocks (`rnnkit.workflow.prepare.tuning_folds`) and
    trains once per fold: about `folds` times the time per trial, so within the same
    `max_time` fewer trials finish.

    Args:
        config: The run configuration.
        models: Networks to train, from `"rnn"`, `"lstm"`, `"gru"`. Defaults
            to `None` (`config.models`).
        progress: Receives `"models"`, `"trials"` and `"epochs"` progress.
            Defaults to `None`.

    Returns:
        A `ComparisonResult` (write it out with `rnnkit.workflow.write_report`).

    Raises:
        DataError: unusable data (see `prepare_data`), or a series too short for
            `config.folds` tuning folds.
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
    if config.max_trials > 0 and config.folds > 1:  # before any network trains
        tuning_splits(data.split, config.folds, caller=caller)
    listener = progress or ProgressListener()
    listener.begin("models", total=len(config.models), description="models")
    fits, tunings = [], []
    for index, kind in enumerate(config.models):
        share = network_share(config, time.perf_counter() - started, len(config.models) - index)
        budget = config.replace(max_time=share)
        if config.max_trials > 0:
            tuning = tune_forecaster(budget, kind, data=data, progress=listener)
            tunings.append(tuning)
            fits.append(tuning.fit)
        else:
            fits.append(fit_forecaster(budget, kind, data=data, progress=listener))
        listener.advance("models")
        listener.message(
            f"{fits[-1].name}: {fits[-1].epochs_run} epochs, "
            f"{fits[-1].seconds_per_epoch:.2f} s/epoch, {fits[-1].params:,} parameters"
        )
    listener.end("models")
    return ComparisonResult.from_results(data, fits, tunings, seconds=time.perf_counter() - started)
