"""Forecast accuracy: MAE, RMSE, MAPE, sMAPE, MASE, per-horizon errors, plain verdicts.

Forecasts and actuals have one of the layouts `make_windows` produces:
`(samples,)`, `(samples, horizon)` (one target, or the flat horizon-major
layout when `y_train` has several columns) or `(samples, horizon, n_targets)`.
Non-finite values and mismatched shapes are errors, never broadcast.

MASE divides the forecast's MAE by the MAE of the in-sample naive forecast
(`season=1`) or seasonal naive forecast on the training series, per target:
below 1 the forecast beats that in-sample baseline. For a fair verdict on the
test period, compare against the naive baseline's own test score with
`compare_to_naive`.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnkit._validation import check_array
from rnnkit._validation import check_one_of
from rnnkit._validation import check_positive_int
from rnnkit.errors import DataError
from rnnkit.errors import RnnkitValueError

__all__ = [
    "METRIC_NAMES",
    "Verdict",
    "compare_to_naive",
    "forecast_metrics",
    "horizon_errors",
    "mae",
    "mape",
    "mase",
    "naive_scale",
    "rmse",
    "smape",
    "summarize_verdicts",
]

METRIC_NAMES = ("MAE", "RMSE", "MAPE", "sMAPE", "MASE")


def _pair(y_true: Any, y_pred: Any, caller: str, n_targets: int = 1) -> tuple[np.ndarray, ...]:
    """Validate a pair of forecasts and return both as float64 `(samples, horizon, n_targets)`."""
    true = check_array("y_true", y_true, caller=caller, ndim=(1, 2, 3)).astype(np.float64)
    pred = check_array("y_pred", y_pred, caller=caller, ndim=(1, 2, 3)).astype(np.float64)
    if true.shape != pred.shape:
        raise RnnkitValueError(
            f"{caller}: y_true and y_pred must have the same shape. Received: y_true "
            f"{true.shape}, y_pred {pred.shape}."
        )
    if true.size == 0:
        raise RnnkitValueError(f"{caller}: y_true is empty. Received shape {true.shape}.")
    if true.ndim == 3:
        return true, pred
    true = true.reshape(len(true), -1)
    pred = pred.reshape(len(pred), -1)
    if true.shape[1] % n_targets:
        raise RnnkitValueError(
            f"{caller}: 2-D forecasts must have horizon * n_targets columns (n_targets="
            f"{n_targets}, from y_train). Received shape {true.shape}."
        )
    shape = (len(true), -1, n_targets)
    return true.reshape(shape), pred.reshape(shape)


def _train_series(y_train: Any, caller: str) -> np.ndarray:
    array = check_array("y_train", y_train, caller=caller, ndim=(1, 2)).astype(np.float64)
    return array[:, None] if array.ndim == 1 else array


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error over all samples, steps and targets.

    Example:
        >>> mae([1.0, 2.0, 3.0], [2.0, 2.0, 5.0])
        1.0
    """
    true, pred = _pair(y_true, y_pred, "mae()")
    return float(np.mean(np.abs(true - pred)))


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error over all samples, steps and targets.

    Example:
        >>> rmse([0.0, 0.0], [3.0, 4.0])
        3.5355339059327378
    """
    true, pred = _pair(y_true, y_pred, "rmse()")
    return float(np.sqrt(np.mean((true - pred) ** 2)))


def mape(y_true: Any, y_pred: Any) -> float:
    """Mean absolute percentage error, in percent: `100 * mean(|y - y_hat| / |y|)`.

    Undefined, and returned as NaN, when any actual value is 0.

    Example:
        >>> mape([100.0, 200.0], [110.0, 180.0])
        10.0
    """
    true, pred = _pair(y_true, y_pred, "mape()")
    if np.any(true == 0):
        return float("nan")
    return float(100.0 * np.mean(np.abs(true - pred) / np.abs(true)))


def smape(y_true: Any, y_pred: Any) -> float:
    """Symmetric MAPE, in percent (0 to 200): `200 * mean(|y - y_hat| / (|y| + |y_hat|))`.

    Terms where both the actual and the forecast are 0 count as 0.

    Example:
        >>> smape([100.0, 0.0], [300.0, 0.0])
        50.0
    """
    true, pred = _pair(y_true, y_pred, "smape()")
    return float(np.mean(_smape_terms(true, pred)))


def _smape_terms(true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    denominator = np.abs(true) + np.abs(pred)
    safe = np.where(denominator == 0, 1.0, denominator)
    return np.where(denominator == 0, 0.0, 200.0 * np.abs(true - pred) / safe)


def naive_scale(y_train: Any, *, season: int = 1) -> np.ndarray:
    """MAE of the in-sample (seasonal) naive forecast on the training series, per target.

    `mean(|y[t] - y[t - season]|)` over `t = season .. len(y_train) - 1`.

    Args:
        y_train: Training series `(timesteps,)` or `(timesteps, n_targets)`.
        season: Season length; 1 for the plain naive forecast. Defaults to `1`.

    Returns:
        Array `(n_targets,)`; 0 for a constant target.

    Raises:
        DataError: the series has no more than `season` steps.

    Example:
        >>> naive_scale([1.0, 3.0, 2.0, 6.0]).tolist()
        [2.3333333333333335]
    """
    caller = "naive_scale()"
    series = _train_series(y_train, caller)
    season = check_positive_int("season", season, caller=caller)
    if len(series) <= season:
        raise DataError(
            f"{caller}: y_train has {len(series)} timesteps, but the naive scale with "
            f"season={season} needs more than {season}. Pass a longer training series."
        )
    return np.mean(np.abs(series[season:] - series[:-season]), axis=0)


def mase(y_true: Any, y_pred: Any, *, y_train: Any, season: int = 1) -> float:
    """Mean absolute scaled error against the in-sample (seasonal) naive forecast.

    Per target, the forecast's MAE divided by `naive_scale(y_train, season)`,
    then averaged over targets. NaN when a training target is constant.

    Args:
        y_true: Actual values.
        y_pred: Forecasts, same shape.
        y_train: Training series of the targets, `(timesteps,)` or `(timesteps, n_targets)`.
        season: Season of the scaling naive forecast. Defaults to `1`.

    Returns:
        The MASE (below 1: better than the in-sample naive forecast).

    Example:
        >>> mase([4.0, 5.0], [5.0, 5.0], y_train=[1.0, 2.0, 4.0])  # MAE 0.5, naive MAE 1.5
        0.3333333333333333
    """
    caller = "mase()"
    series = _train_series(y_train, caller)
    true, pred = _pair(y_true, y_pred, caller, n_targets=series.shape[1])
    _check_targets(true, series, caller)
    scale = naive_scale(series, season=season)
    if np.any(scale == 0):
        return float("nan")
    return float(np.mean(np.mean(np.abs(true - pred), axis=(0, 1)) / scale))


def _check_targets(true: np.ndarray, series: np.ndarray, caller: str) -> None:
    if true.shape[2] != series.shape[1]:
        raise RnnkitValueError(
            f"{caller}: forecasts have {true.shape[2]} targets but y_train has "
            f"{series.shape[1]} columns. Pass the training series of the same targets."
        )


def forecast_metrics(
    y_true: Any, y_pred: Any, *, y_train: Any = None, season: int = 1
) -> dict[str, float]:
    """Compute MAE, RMSE, MAPE, sMAPE and (with `y_train`) MASE.

    Args:
        y_true: Actual values.
        y_pred: Forecasts, same shape.
        y_train: Training series of the targets, for MASE. Defaults to `None`
            (MASE left out).
        season: Season of the MASE scaling forecast. Defaults to `1`.

    Returns:
        `{"MAE": ..., "RMSE": ..., "MAPE": ..., "sMAPE": ..., "MASE": ...}`
        (MAPE NaN when an actual is 0).

    Example:
        >>> scores = forecast_metrics([2.0, 4.0], [3.0, 4.0], y_train=[0.0, 1.0, 2.0])
        >>> {name: round(value, 3) for name, value in scores.items()}
        {'MAE': 0.5, 'RMSE': 0.707, 'MAPE': 25.0, 'sMAPE': 20.0, 'MASE': 0.5}
    """
    scores = {
        "MAE": mae(y_true, y_pred),
        "RMSE": rmse(y_true, y_pred),
        "MAPE": mape(y_true, y_pred),
        "sMAPE": smape(y_true, y_pred),
    }
    if y_train is not None:
        scores["MASE"] = mase(y_true, y_pred, y_train=y_train, season=season)
    return scores


def horizon_errors(
    y_true: Any, y_pred: Any, *, y_train: Any = None, season: int = 1
) -> dict[str, np.ndarray]:
    """Errors per forecast step: how accuracy decays with the horizon.

    Args:
        y_true: Actual values `(samples, horizon[, n_targets])`.
        y_pred: Forecasts, same shape.
        y_train: Training series of the targets, for MASE. Defaults to `None`.
        season: Season of the MASE scaling forecast. Defaults to `1`.

    Returns:
        Metric name -> array `(horizon,)`, step 1 first (MAPE NaN at steps
        with an actual 0).

    Example:
        >>> errors = horizon_errors([[1.0, 2.0], [3.0, 4.0]], [[1.0, 3.0], [3.0, 6.0]])
        >>> errors["MAE"].tolist()
        [0.0, 1.5]
    """
    caller = "horizon_errors()"
    series = None if y_train is None else _train_series(y_train, caller)
    true, pred = _pair(y_true, y_pred, caller, n_targets=1 if series is None else series.shape[1])
    error = true - pred
    with np.errstate(divide="ignore", invalid="ignore"):
        ape = np.abs(error) / np.abs(true)
    has_zero = np.any(true == 0, axis=(0, 2))
    out = {
        "MAE": np.mean(np.abs(error), axis=(0, 2)),
        "RMSE": np.sqrt(np.mean(error**2, axis=(0, 2))),
        "MAPE": np.where(has_zero, np.nan, 100.0 * np.mean(np.where(true == 0, 0, ape), (0, 2))),
        "sMAPE": np.mean(_smape_terms(true, pred), axis=(0, 2)),
    }
    if series is not None:
        _check_targets(true, series, caller)
        scale = naive_scale(series, season=season)
        if np.any(scale == 0):
            out["MASE"] = np.full(true.shape[1], np.nan)
        else:
            out["MASE"] = np.mean(np.mean(np.abs(error), axis=0) / scale, axis=-1)
    return out


@dataclass(frozen=True)
class Verdict:
    """Whether a model beats the naive forecast, in numbers and in words.

    Attributes:
        model: The model's name.
        metric: The metric compared (lower is better).
        score: The model's score.
        reference: The naive forecast's score (or 1 for MASE without one).
        reference_name: Who the reference is, in words.
        beats: `True` when `score < reference`.
        text: The verdict as a sentence.
    """

    model: str
    metric: str
    score: float
    reference: float
    reference_name: str
    beats: bool
    text: str

    def __str__(self) -> str:
        """Return the verdict sentence."""
        return self.text


def compare_to_naive(
    scores: Mapping[str, float], *, metric: str = "MASE", reference: float | str | None = None
) -> list[Verdict]:
    """Say in plain words which models beat the naive forecast.

    Args:
        scores: Model name -> score on `metric` (lower is better). May include
            the naive baseline itself.
        metric: Name of the metric, for the sentences. Defaults to `"MASE"`.
        reference: What to beat: a key of `scores` (the naive baseline's test
            score), or a number. Defaults to `None`: the `"naive"` entry if
            present, else 1 for MASE (the in-sample naive forecast).

    Returns:
        One `Verdict` per model (the reference entry left out), in `scores` order.

    Raises:
        ValueError: no reference can be found.

    Example:
        >>> for verdict in compare_to_naive({"LSTM": 1.12, "GRU": 0.87}):
        ...     print(verdict)
        LSTM does not beat the naive forecast (MASE 1.12 >= 1)
        GRU beats the naive forecast (MASE 0.87 < 1)
        >>> print(compare_to_naive({"naive": 2.3, "LSTM": 33.0})[0])
        LSTM does not beat the naive forecast (MASE 33 >= 2.3)
    """
    caller = "compare_to_naive()"
    key = None
    if reference is None:
        key = next((k for k in scores if k.lower() == "naive"), None)
        if key is None and metric.upper() != "MASE":
            raise RnnkitValueError(
                f"{caller}: no reference for {metric}. Include a 'naive' entry in scores or "
                "pass reference=<the naive forecast's score>."
            )
        value = float(scores[key]) if key is not None else 1.0
    elif isinstance(reference, str):
        check_one_of("reference model", reference, list(scores), caller=caller)
        key = reference
        value = float(scores[key])
    else:
        value = float(reference)
    name = "the naive forecast" if key is None or key.lower() == "naive" else f"the {key} forecast"
    verdicts = []
    for model, raw in scores.items():
        if model == key:
            continue
        score = float(raw)
        if np.isnan(score) or np.isnan(value):
            text = f"{model} could not be compared with {name} ({metric} is NaN)"
            beats = False
        elif score < value:
            text = f"{model} beats {name} ({metric} {score:.3g} < {value:.3g})"
            beats = True
        else:
            text = f"{model} does not beat {name} ({metric} {score:.3g} >= {value:.3g})"
            beats = False
        verdicts.append(Verdict(model, metric, score, value, name, beats, text))
    return verdicts


def summarize_verdicts(verdicts: Sequence[Verdict]) -> str:
    """One sentence on how the models did against the naive forecast.

    Example:
        >>> summarize_verdicts(compare_to_naive({"LSTM": 1.12, "GRU": 1.3}))
        'No model beats the naive forecast (best: LSTM, MASE 1.12 >= 1).'
        >>> summarize_verdicts(compare_to_naive({"LSTM": 0.9, "GRU": 1.3}))
        'LSTM beats the naive forecast; GRU does not.'
    """
    if not verdicts:
        return "No models were compared."
    name = verdicts[0].reference_name
    winners = [v.model for v in verdicts if v.beats]
    losers = [v.model for v in verdicts if not v.beats]
    if not winners:
        scored = [v for v in verdicts if not np.isnan(v.score)]
        if not scored:
            return f"No model beats {name} (none could be scored)."
        best = min(scored, key=lambda v: v.score)
        return (
            f"No model beats {name} (best: {best.model}, {best.metric} "
            f"{best.score:.3g} >= {best.reference:.3g})."
        )
    if not losers:
        return f"All models beat {name}."
    verb = "beats" if len(winners) == 1 else "beat"
    neg = "does not" if len(losers) == 1 else "do not"
    return f"{_join(winners)} {verb} {name}; {_join(losers)} {neg}."


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
