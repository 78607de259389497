"""`rnnkit compare`: RNN vs LSTM vs GRU vs baselines on the same data and budget."""

from __future__ import annotations

from typing import Annotated
from typing import Any

import typer

from rnnkit.cli import common as c

__all__ = ["compare_command", "register", "run_comparison"]

Models = Annotated[
    str | None,
    typer.Option("--models", help="Networks, comma-separated. [default: rnn,lstm,gru]"),
]


#: `rnnkit compare`'s time budget when neither --max-time nor the config file sets one.
DEFAULT_MAX_TIME = "4m"
MaxTime = Annotated[
    str | None,
    c.with_default(c.MaxTime, f"{DEFAULT_MAX_TIME}, shared by the networks"),
]


def run_comparison(run: Any, *, quiet: bool, title: str | None = None, units: Any = None) -> None:
    """Compare, save the models, write the report and print the summary.

    Args:
        run: The validated `ForecastConfig`.
        quiet: No progress bars or tables.
        title: Report title. Defaults to `None`.
        units: Target unit(s) for the report (`write_report`). Defaults to `None`.
    """
    from rnnkit.cli.display import RichProgress
    from rnnkit.cli.display import print_comparison
    from rnnkit.cli.display import print_refits
    from rnnkit.workflow.compare import compare_models
    from rnnkit.workflow.progress import WorkPlan
    from rnnkit.workflow.report import write_report
    from rnnkit.workflow.report_facts import epoch_cap
    from rnnkit.workflow.report_facts import target_units

    plan = None
    if run.workers == 1:  # with worker processes, epochs are not reported to this one
        plan = WorkPlan.for_comparison(
            models=len(run.models),
            max_trials=run.max_trials * run.folds,  # a trial trains once per fold
            epochs=epoch_cap(run) or 1,
            max_seconds=run.max_time,
        )
    with RichProgress(quiet=quiet, plan=plan) as progress:
        result = compare_models(run, progress=progress)
    models = result.save_models(c.models_folder(run))
    shown = target_units(result.data, units)
    report = write_report(result, run.out, title=title, units=shown)
    print_comparison(result, report, models, quiet=quiet, units=shown)
    print_refits(result)


def compare_command(
    data: c.Data = None,
    models: Models = None,
    max_trials: c.MaxTrials = None,
    tuner: c.TunerKind = None,
    workers: c.Workers = None,
    folds: c.TuningFolds = None,
    storage: c.Storage = None,
    project_name: c.ProjectName = None,
    resume: c.Resume = None,
    config: c.ConfigFile = None,
    target: c.Target = None,
    time_column: c.TimeColumn = None,
    features: c.Features = None,
    window: c.Window = None,
    horizon: c.Horizon = None,
    stride: c.Stride = None,
    val_fraction: c.ValFraction = None,
    test_fraction: c.TestFraction = None,
    gap: c.Gap = None,
    scaling: c.Scaling = None,
    missing: c.Missing = None,
    categorical: c.Categorical = None,
    season: c.Season = None,
    residual: c.Residual = None,
    calendar: c.Calendar = None,
    max_rows: c.MaxRows = None,
    epochs: c.Epochs = None,
    batch_size: c.BatchSize = None,
    windows_per_epoch: c.WindowsPerEpoch = None,
    max_time: MaxTime = None,
    patience: c.Patience = None,
    seed: c.Seed = None,
    threads: c.Threads = None,
    out: c.Out = None,
    intervals: c.Intervals = None,
    unit: c.Unit = None,
    quiet: c.Quiet = False,
    debug: c.Debug = False,
) -> None:
    """Compare RNN, LSTM and GRU against naive baselines on DATA, with the same budget.

    Every network gets --max-trials tuning trials of at most --epochs epochs
    (0 trials: its default hyperparameters) within its share of --max-time
    (4 minutes in all by default: trials running at a network's limit stop and
    keep their best epoch; with --folds K each trial trains K times, so fewer
    trials fit in it), then its best trial's network is measured: test
    accuracy (MAE, RMSE, MAPE, sMAPE, MASE against the naive and the seasonal
    naive forecasts), parameter count, seconds per epoch, peak training memory
    and the best epoch (flagged when a network stopped at the epoch cap while
    still improving). The naive, seasonal naive
    and linear-on-lags baselines are scored on the same test windows, and the
    report says in plain words whether any network beats them: a Diebold-Mariano
    test at the 5% level, "no meaningful difference" otherwise. Every model's
    forecasts carry conformal prediction intervals (--interval) with their
    coverage on the test windows.

    Example:

    \b
        rnnkit compare sales.csv --target units --window 24 --horizon 6 --max-trials 5
    """  # noqa: D301, D412 - click's \b line keeps the example unwrapped in --help
    flags = dict(locals())
    with c.handle_errors(debug):  # --max-time none overrides the default budget
        run = c.build_config(flags, config, max_time=DEFAULT_MAX_TIME)
        run_comparison(run, quiet=quiet, units=c.units_for(run, unit))


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("compare")(compare_command)
