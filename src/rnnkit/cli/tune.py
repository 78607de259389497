"""`rnnkit tune`: search the hyperparameters of one network."""

from __future__ import annotations

from typing import Annotated

import typer

from rnnkit.cli import common as c

__all__ = ["register", "tune_command"]

Model = Annotated[str, typer.Option("--model", "-m", help="rnn | lstm | gru.")]


def tune_command(
    data: c.Data = None,
    model: Model = "lstm",
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
    max_time: c.MaxTime = None,
    patience: c.Patience = None,
    seed: c.Seed = None,
    threads: c.Threads = None,
    out: c.Out = None,
    unit: c.Unit = None,
    quiet: c.Quiet = False,
    debug: c.Debug = False,
) -> None:
    """Tune one network's hyperparameters on DATA, then train the best and report.

    Searches units, layers, activation, dropout and learning rate with
    --max-trials trials (minimising the validation loss; with --folds K, its
    mean over K validation blocks, at about K times the cost), trains the best
    values once more, scores them on the test part beside the baselines and
    writes the report (with the tuning history and hyperparameter importance)
    and the model folder. The study is kept in --out/tuning; with --storage
    URL, other machines join the same search as extra workers with
    `rnnkit tune-worker --storage URL` (or by running the same command).

    Example:

    \b
        rnnkit tune sales.csv --target units --model lstm --max-trials 20 --workers 2
    """  # noqa: D301, D412 - click's \b line keeps the example unwrapped in --help
    flags = {k: v for k, v in locals().items() if k != "model"}
    with c.handle_errors(debug):
        run = c.build_config(flags, config)  # before the heavy imports: bad flags fail fast
        from rnnkit.cli.display import RichProgress
        from rnnkit.cli.display import print_comparison
        from rnnkit.cli.display import print_refits
        from rnnkit.workflow.compare import ComparisonResult
        from rnnkit.workflow.progress import WorkPlan
        from rnnkit.workflow.report import write_report
        from rnnkit.workflow.report_facts import epoch_cap
        from rnnkit.workflow.report_facts import target_units
        from rnnkit.workflow.train import tune_forecaster

        units = c.units_for(run, unit)
        plan = None
        if run.workers == 1:  # with worker processes, epochs are not reported to this one
            plan = WorkPlan.for_comparison(
                models=1,
                max_trials=run.max_trials * run.folds,  # a trial trains once per fold
                epochs=epoch_cap(run) or 1,
                max_seconds=run.max_time,
            )
        with RichProgress(quiet=quiet, plan=plan) as progress:
            tuned = tune_forecaster(run, model, progress=progress)
        fitted = tuned.fit
        result = ComparisonResult.from_results(
            fitted.data, [fitted], [tuned], seconds=tuned.search_seconds + fitted.train_seconds
        )
        models = result.save_models(c.models_folder(run))
        shown = target_units(fitted.data, units)
        report = write_report(
            result,
            run.out,
            title=f"Tuned {fitted.name}: {', '.join(fitted.data.targets)}",
            units=shown,
        )
        print_comparison(result, report, models, quiet=quiet, units=shown)
        print_refits(result)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("tune")(tune_command)
