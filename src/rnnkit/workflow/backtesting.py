"""Expanding-window backtesting: refit at several forecast origins, score each fold.

The driver knows nothing about models: it hands index arrays to a
`fit_predict(train_idx, test_idx)` callable, which fits whatever it likes on
the training samples and returns forecasts for the test samples. For the
networks and baselines of the forecasting workflow (validation part, refit or
reuse, pooled scores, report), use `rnnkit.workflow.backtest_run.run_backtest`
(`rnnkit backtest`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rnnkit._validation import check_array
from rnnkit.data.splits import expanding_window_splits
from rnnkit.errors import RnnkitValueError
from rnnkit.workflow.forecast_metrics import forecast_metrics

__all__ = ["BacktestFold", "BacktestResult", "backtest"]


@dataclass(frozen=True)
class BacktestFold:
    """One fold of a backtest.

    Attributes:
        fold: Fold number, 0 for the oldest test block.
        train: Indices of the training samples.
        test: Indices of the test samples.
        y_pred: Forecasts for the test samples.
        metrics: Scores of the forecasts (see `forecast_metrics`).
    """

    fold: int
    train: np.ndarray
    test: np.ndarray
    y_pred: np.ndarray
    metrics: dict[str, float]


@dataclass(frozen=True)
class BacktestResult:
    """All folds of a backtest, with averages and a table.

    Attributes:
        folds: The folds, oldest first.
    """

    folds: list[BacktestFold]

    @property
    def metrics(self) -> dict[str, float]:
        """Mean of each metric over the folds."""
        names = self.folds[0].metrics.keys()
        return {name: float(np.mean([f.metrics[name] for f in self.folds])) for name in names}

    @property
    def test_index(self) -> np.ndarray:
        """Indices of every test sample, in time order."""
        return np.concatenate([f.test for f in self.folds])

    @property
    def predictions(self) -> np.ndarray:
        """Forecasts of every test sample, in time order (aligned with `test_index`)."""
        return np.concatenate([f.y_pred for f in self.folds])

    def to_frame(self) -> pd.DataFrame:
        """Return one row per fold: sizes, test range and metrics."""
        rows = [
            {
                "fold": f.fold,
                "train_size": len(f.train),
                "test_start": int(f.test[0]),
                "test_stop": int(f.test[-1]) + 1,
                **f.metrics,
            }
            for f in self.folds
        ]
        return pd.DataFrame(rows).set_index("fold")


def _training_series(y: np.ndarray) -> np.ndarray:
    """First-step targets of the training samples: the series MASE is scaled by."""
    if y.ndim == 1:
        return y
    if y.ndim == 2:
        return y[:, 0]
    return y[:, 0, :]


def backtest(
    fit_predict: Callable[[np.ndarray, np.ndarray], Any],
    y: Any,
    *,
    n_folds: int,
    test_size: int,
    gap: int = 0,
    min_train: int | None = None,
    season: int = 1,
    on_fold: Callable[[BacktestFold], None] | None = None,
) -> BacktestResult:
    """Backtest over several forecast origins with an expanding training window.

    Folds come from `expanding_window_splits(len(y), n_folds=..., test_size=...,
    gap=...)`. For each, `fit_predict(train_idx, test_idx)` must return
    forecasts shaped like `y[test_idx]`; they are scored with
    `forecast_metrics`, MASE scaled by the training samples' first-step
    targets (`y[train_idx, 0]`: the training series itself for windows made
    with `stride=1`). For windows with `horizon > 1`, pass `gap=horizon - 1`
    so no training target reaches into a test window's future.

    Args:
        fit_predict: Callable `(train_idx, test_idx) -> forecasts`.
        y: Targets of every sample, `(samples,)`, `(samples, horizon)` (one
            target) or `(samples, horizon, n_targets)`.
        n_folds: Number of folds.
        test_size: Samples in each test block.
        gap: Samples left out between train and test. Defaults to `0`.
        min_train: Smallest first training part. Defaults to `None` (1).
        season: Season of the MASE scaling forecast. Defaults to `1`.
        on_fold: Called with each finished `BacktestFold` (for progress
            reporting). Defaults to `None`.

    Returns:
        A `BacktestResult`.

    Raises:
        DataError: too few samples for the folds, non-finite forecasts.
        ValueError: forecasts of the wrong shape.

    Example:
        >>> y = np.arange(20.0)
        >>> def last_value(train_idx, test_idx):  # naive: repeat the last training target
        ...     return np.full(len(test_idx), y[train_idx[-1]])
        >>> result = backtest(last_value, y, n_folds=2, test_size=5)
        >>> result.to_frame()[["train_size", "MAE", "MASE"]].to_dict("list")
        {'train_size': [10, 15], 'MAE': [3.0, 3.0], 'MASE': [3.0, 3.0]}
    """
    caller = "backtest()"
    targets = check_array("y", y, caller=caller, ndim=(1, 2, 3))
    if not callable(fit_predict):
        raise RnnkitValueError(
            f"{caller}: `fit_predict` must be a callable (train_idx, test_idx) -> forecasts. "
            f"Received: {type(fit_predict).__name__}."
        )
    splits = expanding_window_splits(
        len(targets), n_folds=n_folds, test_size=test_size, gap=gap, min_train=min_train
    )
    folds = []
    for number, (train, test) in enumerate(splits):
        raw = fit_predict(train, test)
        pred = check_array("forecasts", raw, caller=f"{caller} fold {number}")
        if pred.shape != targets[test].shape:
            raise RnnkitValueError(
                f"{caller}: fold {number}: fit_predict returned shape {pred.shape}, but the "
                f"test targets have shape {targets[test].shape}. Return one forecast per test "
                "sample, shaped like y[test_idx]."
            )
        history = _training_series(targets[train])
        if len(history) > season:
            scores = forecast_metrics(targets[test], pred, y_train=history, season=season)
        else:  # too short a training part to scale MASE
            scores = {**forecast_metrics(targets[test], pred), "MASE": float("nan")}
        fold = BacktestFold(number, train, test, pred, scores)
        folds.append(fold)
        if on_fold is not None:
            on_fold(fold)
    return BacktestResult(folds)
