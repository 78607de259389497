"""The time-series workflow: baselines, forecast metrics, verdicts and backtesting."""

from rnnkit.workflow.backtest import BacktestFold
from rnnkit.workflow.backtest import BacktestResult
from rnnkit.workflow.backtest import backtest
from rnnkit.workflow.baselines import LinearLagForecaster
from rnnkit.workflow.baselines import NaiveForecaster
from rnnkit.workflow.baselines import Season
from rnnkit.workflow.baselines import SeasonalNaiveForecaster
from rnnkit.workflow.baselines import infer_season
from rnnkit.workflow.baselines import naive_forecast
from rnnkit.workflow.baselines import seasonal_naive_forecast
from rnnkit.workflow.forecast_metrics import METRIC_NAMES
from rnnkit.workflow.forecast_metrics import Verdict
from rnnkit.workflow.forecast_metrics import compare_to_naive
from rnnkit.workflow.forecast_metrics import forecast_metrics
from rnnkit.workflow.forecast_metrics import horizon_errors
from rnnkit.workflow.forecast_metrics import mae
from rnnkit.workflow.forecast_metrics import mape
from rnnkit.workflow.forecast_metrics import mase
from rnnkit.workflow.forecast_metrics import naive_scale
from rnnkit.workflow.forecast_metrics import rmse
from rnnkit.workflow.forecast_metrics import smape
from rnnkit.workflow.forecast_metrics import summarize_verdicts

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
