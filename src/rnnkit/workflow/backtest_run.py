"""Rolling-origin backtest of the networks and the baselines: `run_backtest`.

The data is read and windowed once (`prepare_data`). The last
`test_fraction` of the windows is cut into `folds` consecutive test blocks of
equal size; each block's *origin* is the last observation before it. Fold
`k` (from 1, oldest first) uses only the windows before its origin:

    windows   |------------- training part -------------|g|- val -|g|- test k -|
                scaler, baselines, networks fitted here    early stop

- the expanding training part (everything before the origin, less the
  validation part) fits the window scaler, the season (when inferred from
  the data), the three baselines and the networks;
- the validation part (the last `val_fraction` of the windows before the
  origin) stops the networks early, chooses the ridge penalty of linear on
  lags and the baseline the networks correct;
- `g`: the `ceil((gap + horizon - 1) / stride)` windows left out so no
  target step is shared by two parts, as `prepare_data` does.

With `refit=True` (the default) every network is trained again at every
origin; with `refit=False` the networks trained at the first origin forecast
every later test block unchanged (scaler and base included), while the
baselines are still refitted at each origin (they cost nothing). Each fold is
scored like `rnnkit compare` scores its test part (`ComparisonResult`), in
original units.

Pooled scores cover the test windows of every fold: MAE and RMSE of all
errors; MASE as the mean of every absolute error divided by its own fold's
in-sample naive MAE (the scale known at that origin; Hyndman and Koehler's
scaled errors, pooled), so it is computed from the pooled scaled errors, not
by averaging ratios (with equal test blocks it equals the mean of the fold
MASEs); `rel_naive` and `rel_seasonal` as the pooled MAE over the pooled MAE
of the naive and seasonal naive forecasts (a ratio of pooled errors, which
in general differs from the mean of the fold ratios).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit._validation import check_non_negative_int
from rnnkit._validation import check_positive_int
from rnnkit.data.splits import ChronologicalSplit
from rnnkit.data.splits import chronological_split
from rnnkit.data.splits import expanding_window_splits
from rnnkit.errors import DataError
from rnnkit.workflow.compare import BASELINE_NAMES
from rnnkit.workflow.compare import ComparisonResult
from rnnkit.workflow.compare import network_share
from rnnkit.workflow.forecast_metrics import naive_scale
from rnnkit.workflow.prepare import PreparedData
from rnnkit.workflow.prepare import prepare_data
from rnnkit.workflow.prepare import refit_parts
from rnnkit.workflow.progress import ProgressListener
from rnnkit.workflow.significance import LEVEL
from rnnkit.workflow.significance import DieboldMarianoResult
from rnnkit.workflow.significance import diebold_mariano
from rnnkit.workflow.significance import loss_differential
from rnnkit.workflow.significance import p_phrase
from rnnkit.workflow.spec import ForecastConfig
from rnnkit.workflow.train import FitResult
from rnnkit.workflow.train import TuneResult
from rnnkit.workflow.train import fit_forecaster
from rnnkit.workflow.train import tune_forecaster

__all__ = ["DEFAULT_FOLDS", "BacktestRun", "fold_splits", "run_backtest"]

logger = logging.getLogger(__name__)

#: Folds `run_backtest` (and `rnnkit backtest`) makes when not told otherwise.
DEFAULT_FOLDS = 3
#: Columns of `BacktestRun.pooled_frame`, in order.
_POOLED_COLUMNS = [
    *("kind", "MAE", "RMSE", "MASE", "MASE_seasonal", "rel_naive", "rel_seasonal"),
    *("windows", "folds", "best_in_folds", "MASE_min", "MASE_max"),
]


def fold_splits(
    n_windows: int,
    *,
    folds: int,
    test_fraction: float,
    val_fraction: float,
    gap: int = 0,
    caller: str = "fold_splits()",
) -> list[ChronologicalSplit]:
    """Train, validation and test parts of each fold, as slices of the windows.

    The last `test_fraction` of the windows is cut into `folds` test blocks of
    `floor(n_windows * test_fraction / folds)` windows (at least 1), ending at
    the last window. Fold `k` trains on every window before its test block, less
    `gap` windows before the test block and the validation part (the last
    `val_fraction` of those windows, after another `gap`).

    Args:
        n_windows: Number of windows.
        folds: Number of folds, at least 1.
        test_fraction: Share of the windows in the test blocks together.
        val_fraction: Share of each fold's windows before its origin used for validation.
        gap: Windows left out between consecutive parts. Defaults to `0`.
        caller: Name for error messages. Defaults to `"fold_splits()"`.

    Returns:
        One `ChronologicalSplit` per fold, oldest first.

    Raises:
        DataError: too few windows for the folds (fewer than 2 training and 1
            validation window in the first fold).

    Example:
        >>> for split in fold_splits(20, folds=2, test_fraction=0.4, val_fraction=0.25):
        ...     print(split.sizes(), split.test)
        (9, 3, 4) slice(12, 16, None)
        (12, 4, 4) slice(16, 20, None)
    """
    folds = check_positive_int("folds", folds, caller=caller)
    test_size = max(1, int(n_windows * test_fraction / folds))
    advice = "Use fewer --folds, a smaller --test-fraction, a smaller window or horizon, or a "
    try:
        blocks = expanding_window_splits(n_windows, n_folds=folds, test_size=test_size, gap=gap)
        splits = []
        for train, test in blocks:
            inner = chronological_split(
                len(train), val_fraction=val_fraction, test_fraction=0.0, gap=gap
            )
            block = slice(int(test[0]), int(test[-1]) + 1)
            splits.append(ChronologicalSplit(inner.train, inner.val, block))
    except DataError:
        splits = []
    first = splits[0].sizes() if splits else (0, 0, 0)
    if first[0] < 2 or first[1] < 1:
        before = max(n_windows - folds * test_size - gap, 0)
        raise DataError(
            f"{caller}: {n_windows:,} windows leave {before:,} before the first of {folds} "
            f"test blocks of {test_size:,} window(s) (test_fraction={test_fraction}, "
            f"gap={gap} window(s)): too few for 2 training and 1 validation window "
            f"(after the gaps). {advice}longer series."
        )
    return splits


def _time_text(value: Any, index: pd.Index) -> str:
    """A timestamp or row number of `index` as text; dates only when every time is midnight."""
    if not isinstance(value, (np.datetime64, pd.Timestamp)):
        return str(value)
    stamp = pd.Timestamp(value)
    dates = isinstance(index, pd.DatetimeIndex) and bool((index == index.normalize()).all())
    return str(stamp.date()) if dates else str(stamp)


@dataclass
class BacktestRun:
    """Every fold of a backtest, scored, with the pooled scores and the verdict.

    Attributes:
        data: The prepared data of the whole series.
        folds: One `ComparisonResult` per fold, oldest first (its `data` is the
            fold's: `refit_parts`).
        refit: Whether the networks were trained again at every origin.
        trained: Per fold, the networks trained in that fold (with
            `refit=False`, only in the first).
        seconds: Wall-clock seconds of the whole backtest.
        tunings: Network name -> its search on the first fold (empty without
            tuning; later folds train the values it found).
    """

    data: PreparedData
    folds: list[ComparisonResult]
    refit: bool
    trained: list[tuple[str, ...]]
    seconds: float = 0.0
    tunings: dict[str, TuneResult] = field(default_factory=dict)

    @property
    def config(self) -> ForecastConfig:
        """The run configuration."""
        return self.data.config

    @property
    def networks(self) -> list[str]:
        """Names of the networks, in training order."""
        return list(self.folds[0].fits)

    @property
    def models(self) -> list[str]:
        """Every model: the baselines, then the networks."""
        return [str(name) for name in self.folds[0].metrics.index]

    def origins(self) -> list[str]:
        """Each fold's origin: the time (or row) of the last observation before its test block."""
        index = self.data.frame.index
        return [_time_text(f.data.origin_times("test")[0], index) for f in self.folds]

    def fold_frame(self) -> pd.DataFrame:
        """One row per fold and model (the `folds.csv` table).

        Columns: `fold` (from 1), `origin`, `test_start`, `test_end` (first and
        last target time of the test block), `train_windows`, `val_windows`,
        `test_windows`, `season`, `model`, `kind`, `trained` (whether the network
        was trained in this fold; baselines are refitted in every fold), `MAE`,
        `RMSE`, `MASE` (scaled by the in-sample naive MAE of the fold's training
        series), `MASE_seasonal`, `rel_naive`, `rel_seasonal` (test MAE over the
        naive and seasonal naive forecasts' test MAE), `best_epoch`, `epochs_run`.
        """
        rows = []
        columns = ["MAE", "RMSE", "MASE", "MASE_seasonal", "rel_naive", "rel_seasonal"]
        origins = self.origins()
        index = self.data.frame.index
        for number, (fold, trained) in enumerate(zip(self.folds, self.trained, strict=True), 1):
            sizes = fold.data.sizes()
            times = fold.data.target_times("test")
            for name, row in fold.metrics.iterrows():
                is_network = row["kind"] == "network"
                here = not is_network or name in trained
                rows.append(
                    {
                        "fold": number,
                        "origin": origins[number - 1],
                        "test_start": _time_text(times[0, 0], index),
                        "test_end": _time_text(times[-1, -1], index),
                        "train_windows": sizes["train"],
                        "val_windows": sizes["val"],
                        "test_windows": sizes["test"],
                        "season": fold.data.season,
                        "model": str(name),
                        "kind": row["kind"],
                        "trained": here,
                        **{c: float(row[c]) for c in columns},
                        "best_epoch": row.get("best_epoch") if is_network and here else np.nan,
                        "epochs_run": row.get("epochs_run") if is_network and here else np.nan,
                    }
                )
        return pd.DataFrame(rows)

    def _errors(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pooled absolute errors and the errors scaled by each fold's naive and seasonal scale."""
        absolute, scaled, seasonal = [], [], []
        for fold in self.folds:
            _, y_test = fold.data.part("test")
            error = np.abs(fold.forecasts()[name] - y_test)
            absolute.append(error.ravel())
            scaled.append((error / _scale(fold.data, 1)).ravel())
            seasonal.append((error / _scale(fold.data, fold.data.season)).ravel())
        return np.concatenate(absolute), np.concatenate(scaled), np.concatenate(seasonal)

    def pooled_frame(self) -> pd.DataFrame:
        """Scores over the test windows of every fold (the `pooled.csv` table).

        One row per model (index `model`): `kind`, `MAE`, `RMSE`, `MASE`,
        `MASE_seasonal` (the mean of the pooled scaled errors, each scaled by
        its own fold's scale), `rel_naive`, `rel_seasonal` (pooled MAE over the
        reference's pooled MAE), `windows` (test windows in all), `folds`,
        `best_in_folds` (folds where the model had the lowest MASE),
        `MASE_min`, `MASE_max` (its lowest and highest fold MASE).
        """
        folds = self.fold_frame()
        rows = {}
        for name in self.models:
            absolute, scaled, seasonal = self._errors(name)
            mine = folds[folds["model"] == name]
            rows[name] = {
                "kind": mine["kind"].iloc[0],
                "MAE": float(np.mean(absolute)),
                "RMSE": float(np.sqrt(np.mean(absolute**2))),
                "MASE": float(np.mean(scaled)),
                "MASE_seasonal": float(np.mean(seasonal)),
                "windows": int(mine["test_windows"].sum()),
                "folds": len(mine),
                "best_in_folds": int(sum(w == name for w in self.fold_winners())),
                "MASE_min": float(mine["MASE"].min()),
                "MASE_max": float(mine["MASE"].max()),
            }
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.index.name = "model"
        for column, reference in (("rel_naive", "naive"), ("rel_seasonal", "seasonal naive")):
            base = table["MAE"].get(reference, np.nan)
            table.insert(5, column, table["MAE"] / base if base and np.isfinite(base) else np.nan)
        return table[_POOLED_COLUMNS]

    def fold_winners(self) -> list[str | None]:
        """Per fold, the model with the lowest finite MASE (`None` when none is finite)."""
        winners = []
        for fold in self.folds:
            scores = fold.metrics["MASE"].astype(float)
            scores = scores[np.isfinite(scores)]
            winners.append(str(scores.idxmin()) if len(scores) else None)
        return winners

    def pooled_test(self, model: str, reference: str) -> DieboldMarianoResult | None:
        """Diebold–Mariano test of `model` against `reference` on the pooled test windows.

        The loss is each window's absolute error scaled by its fold's in-sample
        naive MAE (the pooled MASE's terms); the test blocks are consecutive, so
        the pooled windows form one stretch of time. `None` when no test is possible.
        """
        parts = []
        for fold in self.folds:
            _, y_test = fold.data.part("test")
            forecasts = fold.forecasts()
            scale = _scale(fold.data, 1)
            if not np.all(np.isfinite(scale)) or np.any(scale == 0):
                return None
            parts.append(
                loss_differential(y_test, forecasts[model], forecasts[reference], scale=scale)
            )
        d = np.concatenate(parts)
        if len(d) < 2 or not np.all(np.isfinite(d)):
            return None
        return diebold_mariano(d, horizon=self.config.horizon, stride=self.config.stride)

    def verdict(self) -> list[str]:
        """Which model is best pooled, whether that holds in every fold, and networks vs baselines.

        Example sentences: "Lowest pooled MASE: linear on lags (a baseline,
        0.871 over 1,200 test windows in 3 folds)." and "It has the lowest MASE
        in 2 of 3 folds, ...; fold 3 (origin 2014-09-01): GRU, MASE 0.8412 vs 0.8633."
        """
        pooled = self.pooled_frame()
        scores = pooled["MASE"][np.isfinite(pooled["MASE"])]
        if scores.empty:
            mae = pooled["MAE"].dropna()
            lines = [
                "No model has a finite pooled MASE: the in-sample naive MAE it divides by is 0 "
                "or undefined in some fold (a target constant before that origin)."
            ]
            if len(mae):
                low = str(mae.idxmin())
                what = "a network" if low in self.networks else "a baseline"
                rel_naive = float(pooled["rel_naive"][low])
                lines.append(
                    f"Lowest pooled MAE: {low} ({what}, {mae[low]:.4g}; rel_naive {rel_naive:.3g})."
                )
            return lines
        best = str(scores.idxmin())
        kind = "a network" if best in self.networks else "a baseline"
        k = len(self.folds)
        naive_mase = float(pooled["MASE"]["naive"])
        naive = f"; naive {naive_mase:.3g}" if best != "naive" else ""
        windows = int(pooled["windows"][best])
        lines = [
            f"Lowest pooled MASE: {best} ({kind}, {scores[best]:.3g} over "
            f"{windows:,} test windows in {k} fold{'s' * (k > 1)}{naive})."
        ]
        winners = self.fold_winners()
        wins = sum(w == best for w in winners)
        if k > 1 and wins == k:
            lines.append("It has the lowest MASE in every fold: the ranking holds across origins.")
        elif k > 1:
            folds = self.fold_frame().set_index(["fold", "model"])["MASE"]
            others = "; ".join(
                f"fold {i} (origin {origin}): {w}, MASE {folds[(i, w)]:.4g} vs "
                f"{folds[(i, best)]:.4g}"
                for i, (w, origin) in enumerate(zip(winners, self.origins(), strict=True), 1)
                if w != best and w is not None
            )
            lines.append(
                f"It has the lowest MASE in {wins} of {k} folds, so the ranking does not hold at "
                f"every origin; {others}."
            )
        lines.extend(self._network_lines(pooled))
        if not self.refit and k > 1:
            lines.append(
                "The networks were trained at the first origin only (--no-refit) and forecast "
                "later folds unchanged; the baselines were refitted at every origin."
            )
        return lines

    def _network_lines(self, pooled: pd.DataFrame) -> list[str]:
        """The best network against the best baseline: pooled MASE, test, folds won."""
        networks = pooled.loc[self.networks, "MASE"].dropna()
        baselines = pooled.loc[[n for n in BASELINE_NAMES if n in pooled.index], "MASE"].dropna()
        if networks.empty or baselines.empty:
            return []
        network, baseline = str(networks.idxmin()), str(baselines.idxmin())
        folds = self.fold_frame().set_index(["fold", "model"])["MASE"]
        k = len(self.folds)
        won = sum(folds[(i, network)] < folds[(i, baseline)] for i in range(1, k + 1))
        test = self.pooled_test(network, baseline)
        numbers = f"pooled MASE {networks[network]:.3g} vs {baselines[baseline]:.3g}"
        if test is None:
            outcome = "not tested (a zero or undefined MASE scale)"
        else:
            outcome = {
                "better": "the network beats it",
                "worse": "the network is worse",
                "no difference": "no meaningful difference",
            }[test.outcome(LEVEL)]
            numbers += (
                f"; Diebold-Mariano test on the pooled scaled errors, {p_phrase(test.p_value)}"
            )
        return [
            f"Best network {network} against the best baseline {baseline}: {outcome} "
            f"({numbers}); the network has the lower MASE in {won} of {k} fold"
            f"{'s' * (k > 1)}."
        ]

    def forecast_frame(self) -> pd.DataFrame:
        """Test forecasts of every fold in long format: `fold`, then `compare`'s columns."""
        frames = []
        for number, fold in enumerate(self.folds, 1):
            frame = fold.forecast_frame()
            frame.insert(0, "fold", number)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def save_models(self, folder: str | Path) -> dict[str, Path]:
        """Save the networks of the last fold (trained on the most data; see `refit`)."""
        return self.folds[-1].save_models(folder)


def _scale(data: PreparedData, season: int) -> np.ndarray:
    """In-sample (seasonal) naive MAE of a fold's training series, per target; NaN if too short."""
    try:
        scale = naive_scale(data.train_series, season=season)
    except DataError:
        return np.full(len(data.targets), np.nan)
    return np.where(scale == 0, np.nan, scale)


def _reuse(fit: FitResult, data: PreparedData) -> FitResult:
    """`fit`'s trained network forecasting the validation and test windows of another fold."""
    forecaster = fit.forecaster
    return dataclasses.replace(
        fit,
        predictions=forecaster.predict_windows(data.part("test")[0]),
        val_predictions=forecaster.predict_windows(data.part("val")[0]),
        data=data,
    )


def run_backtest(
    config: ForecastConfig,
    *,
    folds: int = DEFAULT_FOLDS,
    refit: bool = True,
    max_trials: int = 0,
    progress: ProgressListener | None = None,
) -> BacktestRun:
    """Backtest the networks and the baselines over several forecast origins.

    See the module docs for the folds and the pooled scores. The networks
    (`config.models`) train with their default hyperparameters; with
    `max_trials > 0` each is tuned on the first fold (`config.tuner`, at most
    `config.epochs` epochs a trial) and the values it found are trained at the
    later origins (`config.max_trials` is not read). With `config.max_time`, the
    backtest's time (counted from this call) is shared evenly over the trainings
    left (`network_share`): each training (or first-fold search) stops at its
    share and keeps its best epoch, and one that finishes early leaves its time
    to the later ones. `config.test_fraction` is the share
    of the windows in all test blocks together; `config.val_fraction` the share
    of each fold's windows before its origin used for validation. Prediction
    intervals are not made (`config.intervals` is ignored).

    Args:
        config: The run configuration.
        folds: Number of forecast origins. Defaults to `DEFAULT_FOLDS` (3).
        refit: Train the networks again at every origin. Defaults to `True`.
        max_trials: Tuning trials per network on the first fold; 0 trains the
            default hyperparameters. Defaults to `0`.
        progress: Receives `"folds"`, `"models"` (one step per training) and
            `"epochs"` progress. Defaults to `None`.

    Returns:
        A `BacktestRun` (write it out with `rnnkit.workflow.backtest_report.write_backtest_report`).

    Raises:
        DataError: unusable data or too few windows for the folds.
        ValueError: an unknown model or option.

    Example:
        >>> frame = pd.DataFrame({"y": np.sin(np.arange(160) / 2.0)})
        >>> config = ForecastConfig(data=frame, target="y", window=8, epochs=1, models=["rnn"])
        >>> run = run_backtest(config, folds=2)
        >>> folds = run.fold_frame()
        >>> folds[["fold", "model", "test_windows"]].drop_duplicates("fold").values.tolist()
        [[1, 'naive', 11], [2, 'naive', 11]]
    """
    started = time.perf_counter()
    caller = "run_backtest()"
    max_trials = check_non_negative_int("max_trials", max_trials, caller=caller)
    data = prepare_data(config.replace(intervals=(), max_trials=max_trials), caller=caller)
    config = data.config
    gap = math.ceil((config.gap + config.horizon - 1) / config.stride)
    splits = fold_splits(
        len(data.x),
        folds=folds,
        test_fraction=config.test_fraction,
        val_fraction=config.val_fraction,
        gap=gap,
        caller=caller,
    )
    listener = progress or ProgressListener()
    listener.begin("folds", total=len(splits), description="folds")
    results: list[ComparisonResult] = []
    trained: list[tuple[str, ...]] = []
    trainings = len(config.models) * (len(splits) if refit else 1)
    first: dict[str, FitResult] = {}
    values: dict[str, dict[str, Any]] = {}
    tunings: dict[str, TuneResult] = {}
    for number, split in enumerate(splits, 1):
        fold = refit_parts(data, split)
        origin = _time_text(fold.origin_times("test")[0], data.frame.index)
        fits = []
        for kind in config.models:
            if number > 1 and not refit:
                fits.append(_reuse(first[kind], fold))
                continue
            left = trainings - sum(len(names) for names in trained) - len(fits)
            share = network_share(config, time.perf_counter() - started, left)
            budget = config.replace(max_time=share)
            if number == 1 and config.max_trials > 0:
                tuning = tune_forecaster(budget, kind, data=fold, progress=listener)
                tunings[tuning.name] = tuning
                values[kind] = dict(tuning.best_hyperparameters)
                fit = tuning.fit
            else:
                fit = fit_forecaster(budget, kind, values.get(kind), data=fold, progress=listener)
            first.setdefault(kind, fit)
            fits.append(fit)
            listener.advance("models")
            listener.message(
                f"Fold {number}/{len(splits)} (origin {origin}): {fit.name} {fit.epochs_run} "
                f"epochs, {fit.train_seconds:.1f} s"
            )
        results.append(ComparisonResult.from_results(fold, fits))
        trained.append(tuple(f.name for f in fits) if number == 1 or refit else ())
        listener.advance("folds")
    listener.end("folds")
    logger.info("backtest of %d folds done", len(results))
    return BacktestRun(
        data=data,
        folds=results,
        refit=refit,
        trained=trained,
        seconds=time.perf_counter() - started,
        tunings=tunings,
    )
