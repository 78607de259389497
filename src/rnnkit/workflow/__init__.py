"""The time-series workflow: data to windows, networks vs baselines, metrics, verdicts, reports.

The CLI (`rnnkit fit|tune|compare|predict|summary|demo`) is a thin skin over
`fit_forecaster`, `tune_forecaster`, `compare_models`, `write_report`,
`predict_from_csv` and `summarize_path`, all configured by a `ForecastConfig`.
"""

from typing import TYPE_CHECKING

from rnnkit._lazy import lazy_exports

# Eager: the module `forecast_metrics` shares its name with a function exported here, and
# an attribute bound lazily would be replaced by the module once it is imported.
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

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from rnnkit.workflow.backtest_report import write_backtest_report
    from rnnkit.workflow.backtest_run import BacktestRun
    from rnnkit.workflow.backtest_run import run_backtest
    from rnnkit.workflow.backtesting import BacktestFold
    from rnnkit.workflow.backtesting import BacktestResult
    from rnnkit.workflow.backtesting import backtest
    from rnnkit.workflow.baselines import LinearLagForecaster
    from rnnkit.workflow.baselines import NaiveForecaster
    from rnnkit.workflow.baselines import Season
    from rnnkit.workflow.baselines import SeasonalNaiveForecaster
    from rnnkit.workflow.baselines import infer_season
    from rnnkit.workflow.baselines import naive_forecast
    from rnnkit.workflow.baselines import seasonal_naive_forecast
    from rnnkit.workflow.compare import ComparisonResult
    from rnnkit.workflow.compare import compare_models
    from rnnkit.workflow.forecaster import Forecaster
    from rnnkit.workflow.forecaster import predict_from_csv
    from rnnkit.workflow.prepare import PreparedData
    from rnnkit.workflow.prepare import prepare_data
    from rnnkit.workflow.progress import ProgressListener
    from rnnkit.workflow.report import write_report
    from rnnkit.workflow.spec import ForecastConfig
    from rnnkit.workflow.spec import config_from_mapping
    from rnnkit.workflow.spec import load_config
    from rnnkit.workflow.summary import summarize_path
    from rnnkit.workflow.train import FitResult
    from rnnkit.workflow.train import TuneResult
    from rnnkit.workflow.train import fit_forecaster
    from rnnkit.workflow.train import tune_forecaster

__all__ = [
    "METRIC_NAMES",
    "BacktestFold",
    "BacktestResult",
    "BacktestRun",
    "ComparisonResult",
    "FitResult",
    "ForecastConfig",
    "Forecaster",
    "LinearLagForecaster",
    "NaiveForecaster",
    "PreparedData",
    "ProgressListener",
    "Season",
    "SeasonalNaiveForecaster",
    "TuneResult",
    "Verdict",
    "backtest",
    "compare_models",
    "compare_to_naive",
    "config_from_mapping",
    "fit_forecaster",
    "forecast_metrics",
    "horizon_errors",
    "infer_season",
    "load_config",
    "mae",
    "mape",
    "mase",
    "naive_forecast",
    "naive_scale",
    "predict_from_csv",
    "prepare_data",
    "rmse",
    "run_backtest",
    "seasonal_naive_forecast",
    "smape",
    "summarize_path",
    "summarize_verdicts",
    "tune_forecaster",
    "write_backtest_report",
    "write_report",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "BacktestFold": "rnnkit.workflow.backtesting",
        "BacktestResult": "rnnkit.workflow.backtesting",
        "backtest": "rnnkit.workflow.backtesting",
        "BacktestRun": "rnnkit.workflow.backtest_run",
        "run_backtest": "rnnkit.workflow.backtest_run",
        "write_backtest_report": "rnnkit.workflow.backtest_report",
        "LinearLagForecaster": "rnnkit.workflow.baselines",
        "NaiveForecaster": "rnnkit.workflow.baselines",
        "Season": "rnnkit.workflow.baselines",
        "SeasonalNaiveForecaster": "rnnkit.workflow.baselines",
        "infer_season": "rnnkit.workflow.baselines",
        "naive_forecast": "rnnkit.workflow.baselines",
        "seasonal_naive_forecast": "rnnkit.workflow.baselines",
        "ComparisonResult": "rnnkit.workflow.compare",
        "compare_models": "rnnkit.workflow.compare",
        "Forecaster": "rnnkit.workflow.forecaster",
        "predict_from_csv": "rnnkit.workflow.forecaster",
        "PreparedData": "rnnkit.workflow.prepare",
        "prepare_data": "rnnkit.workflow.prepare",
        "ProgressListener": "rnnkit.workflow.progress",
        "write_report": "rnnkit.workflow.report",
        "ForecastConfig": "rnnkit.workflow.spec",
        "config_from_mapping": "rnnkit.workflow.spec",
        "load_config": "rnnkit.workflow.spec",
        "summarize_path": "rnnkit.workflow.summary",
        "FitResult": "rnnkit.workflow.train",
        "TuneResult": "rnnkit.workflow.train",
        "fit_forecaster": "rnnkit.workflow.train",
        "tune_forecaster": "rnnkit.workflow.train",
    },
)
