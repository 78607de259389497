"""The time-series workflow: baselines, forecast metrics, verdicts and backtesting."""

from rnnkit.workflow.backtest import BacktestFold, BacktestResult, backtest
from rnnkit.workflow.baselines import (
    LinearLagForecaster,
    NaiveForecaster,
    Season,
    SeasonalNaiveForecaster,
    infer_season,
    naive_forecast,
    seasonal_naive_forecast,
)
from rnnkit.workflow.forecast_metrics import (
    METRIC_NAMES,
    Verdict,
    compare_to_naive,
    forecast_metrics,
    horizon_errors,
    mae,
    mape,
    mase,
    naive_scale,
    rmse,
    smape,
    summarize_verdicts,
)

__all__ = [
    "METRIC_NAMES",
    "BacktestFold",
    "BacktestResult",
    "LinearLagForecaster",
    "NaiveForecaster",
    "Season",
    "SeasonalNaiveForecaster",
    "Verdict",
    "backtest",
    "compare_to_naive",
    "forecast_metrics",
    "horizon_errors",
    "infer_season",
    "mae",
    "mape",
    "mase",
    "naive_forecast",
    "naive_scale",
    "rmse",
    "seasonal_naive_forecast",
    "smape",
    "summarize_verdicts",
]
