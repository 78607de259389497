"""`rnnkit backtest`: rolling-origin evaluation of the networks and the baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from typing import Any

import typer

from rnnkit.cli import common as c
from rnnkit.cli.compare import Models

__all__ = [
    "BACKTEST_DEFAULTS",
    "backtest_command",
    "check_folds",
    "register",
    "run_backtest_command",
]

#: `ForecastConfig` values this command uses unless a flag or --config says otherwise.
BACKTEST_DEFAULTS = {"out": "rnnkit_backtest", "test_fraction": 0.3, "max_trials": 0}
#: Forecast origins when --folds is not given (`rnnkit.workflow.backtest_run.DEFAULT_FOLDS`).
DEFAULT_FOLDS = 3
#: More folds than this is a typo, not a plan (each fold trains every network again).
MAX_FOLDS = 50

Folds = Annotated[
    int | None,
    typer.Option(
        "--folds",
        "-k",
        help=f"Forecast origins (test blocks), oldest first. [default: {DEFAULT_FOLDS}]",
    ),
]
Refit = Annotated[
    bool,
    typer.Option(
        "--refit/--no-refit",
        help="Train the networks again at every origin, or only at the first (the baselines "
        "are refitted at every origin either way).",
    ),
]
TestFraction = Annotated[
    float | None,
    typer.Option(
        help="Share of windows in all test blocks together, split evenly over the folds. "
        f"[default: {BACKTEST_DEFAULTS['test_fraction']}]"
    ),
]
ValFraction = Annotated[
    float | None,
    typer.Option(
        help="Share of each fold's windows before its origin used for validation "
        "(early stopping). [default: 0.15]"
    ),
]
MaxTrials = Annotated[
    int | None,
    typer.Option(
        help="Tuning trials per network on the first fold (later folds train the values "
        "found), 0 = default hyperparameters. [default: 0]"
    ),
]
Out = Annotated[Path | None, c.with_default(c.Out, BACKTEST_DEFAULTS["out"])]
MaxTime = Annotated[
    str | None,
    typer.Option(
        help="Hard time limit for the whole backtest: seconds, or 90s, 5m, 1h, shared evenly "
        "over the trainings left (each stops at its share and keeps its best epoch); 'none' "
        "for no limit. [default: 4m per fold trained, 12m for 3 folds]",
        metavar="DURATION",
    ),
]


def check_folds(folds: int | None) -> int:
    """The number of folds, or a usage error (exit 2) before anything heavy loads."""
    if folds is None:
        return DEFAULT_FOLDS
    if not 1 <= folds <= MAX_FOLDS:
        c.fail(
            f"--folds must be between 1 and {MAX_FOLDS} (each fold trains every network "
            f"again). Received: --folds {folds}.",
            code=2,
        )
    return folds


def run_backtest_command(run: Any, *, folds: int, refit: bool, quiet: bool, units: Any) -> None:
    """Backtest, save the last fold's networks, write the report and print the summary.

    Args:
        run: The validated `ForecastConfig`.
        folds: Forecast origins.
        refit: Train the networks again at every origin.
        quiet: No progress bars or tables.
        units: Target unit(s) for the report (`write_backtest_report`), or `None`.
    """
    from rnnkit.cli.display import RichProgress
    from rnnkit.workflow.backtest_report import write_backtest_report
    from rnnkit.workflow.backtest_run import run_backtest
    from rnnkit.workflow.progress import WorkPlan
    from rnnkit.workflow.report_facts import epoch_cap
    from rnnkit.workflow.report_facts import target_units

    networks = len(run.models)
    later = folds - 1 if refit else 0  # first fold: tuning trials or one training per network
    trainings = networks * (max(run.max_trials, 1) + later)
    plan = WorkPlan(
        trainings=trainings,
        epochs=epoch_cap(run) or 1,
        models=networks * (1 + later),
        max_seconds=run.max_time,
    )
    with RichProgress(quiet=quiet, plan=plan) as progress:
        result = run_backtest(
            run, folds=folds, refit=refit, max_trials=run.max_trials, progress=progress
        )
    models = result.save_models(c.models_folder(run))
    shown = target_units(result.data, units)
    report = write_backtest_report(result, run.out, units=shown)
    _print_summary(result, report, models, quiet=quiet)


def _print_summary(result: Any, report: Any, models: dict[str, Any], *, quiet: bool) -> None:
    """The pooled table with each fold's MASE, the verdict and where the files are (stdout)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    if not console.is_terminal:  # files and pipes: wide enough for the table
        console = Console(highlight=False, width=132)
    if not quiet:
        pooled = result.pooled_frame()
        folds = result.fold_frame().set_index(["fold", "model"])["MASE"]
        table = Table(title=f"Backtest: {len(result.folds)} fold(s), pooled test scores")
        for header in ("model", "MASE", "MASE seas.", "rel. naive", "best in"):
            table.add_column(header, justify="left" if header == "model" else "right")
        numbers = range(1, len(result.folds) + 1)
        for number in numbers:
            table.add_column(f"fold {number}", justify="right")
        for name, row in pooled.iterrows():
            cells = [row["MASE"], row["MASE_seasonal"], row["rel_naive"]]
            per_fold = [folds[(number, name)] for number in numbers]
            table.add_row(
                str(name),
                *[_cell(v) for v in cells],
                f"{row['best_in_folds']}/{row['folds']}",
                *[_cell(v) for v in per_fold],
            )
        console.print(table)
    for line in result.verdict():
        console.print(line)
    console.print(f"Report: {report}")
    for name, folder in models.items():
        console.print(f"Model {name} (last fold): {folder}")


def _cell(value: Any) -> str:
    number = float(value)
    return "-" if number != number else f"{number:.3g}"


def backtest_command(
    data: c.Data = None,
    folds: Folds = None,
    refit: Refit = True,
    models: Models = None,
    max_trials: MaxTrials = None,
    tuner: c.TunerKind = None,
    config: c.ConfigFile = None,
    target: c.Target = None,
    time_column: c.TimeColumn = None,
    features: c.Features = None,
    window: c.Window = None,
    horizon: c.Horizon = None,
    stride: c.Stride = None,
    val_fraction: ValFraction = None,
    test_fraction: TestFraction = None,
    gap: c.Gap = None,
    scaling: c.Scaling = None,
    missing: c.Missing = None,
    categorical: c.Categorical = None,
    season: c.Season = None,
    residual: c.Residual = None,
    calendar: c.Calendar = None,
    max_rows: c.MaxRows = None,
    epochs: c.Epochs = None,
    windows_per_epoch: c.WindowsPerEpoch = None,
    max_time: MaxTime = None,
    batch_size: c.BatchSize = None,
    patience: c.Patience = None,
    seed: c.Seed = None,
    threads: c.Threads = None,
    out: Out = None,
    unit: c.Unit = None,
    quiet: c.Quiet = False,
    debug: c.Debug = False,
) -> None:
    """Backtest RNN, LSTM and GRU against the baselines at several forecast origins of DATA.

    The last --test-fraction of the windows is cut into --folds consecutive
    test blocks. At each block's origin, the window scaler, the baselines and
    the networks are fitted on the data before it only (an expanding window;
    its last part stops the networks early) and forecast the block. With
    --no-refit the networks trained at the first origin forecast every later
    block unchanged. Scores per fold and pooled over all folds (MAE, RMSE,
    MASE against the naive and the seasonal naive scale) go to folds.csv and
    pooled.csv in --out, with plots and report.html; the verdict says which
    model is best pooled and whether that holds in every fold. The last
    fold's networks are saved to --out/models (use them with `rnnkit predict`).

    Example:

    \b
        rnnkit backtest sales.csv --target units --folds 4 --horizon 6
        rnnkit backtest sales.csv --models gru --no-refit --epochs 10
    """  # noqa: D301, D412 - click's \b line keeps the example unwrapped in --help
    flags = {k: v for k, v in locals().items() if k not in ("folds", "refit")}
    with c.handle_errors(debug):
        count = check_folds(folds)
        from rnnkit.workflow.spec import COMPARE_MAX_TIME

        limit = COMPARE_MAX_TIME * (count if refit else 1)  # --max-time none overrides it
        run = c.build_config(flags, config, **BACKTEST_DEFAULTS, max_time=limit)
        run_backtest_command(
            run, folds=count, refit=refit, quiet=quiet, units=c.units_for(run, unit)
        )


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("backtest")(backtest_command)
