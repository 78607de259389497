"""`rnnkit fit`: train one network with given hyperparameters."""

from __future__ import annotations

from typing import Annotated

import typer

from rnnkit.cli import common as c

__all__ = ["fit_command", "register"]

Model = Annotated[str, typer.Option("--model", "-m", help="rnn | lstm | gru.")]


def fit_command(
    data: c.Data = None,
    model: Model = "lstm",
    units: Annotated[int | None, typer.Option(help="Units per layer. [default: 32]")] = None,
    layers: Annotated[int | None, typer.Option(help="Recurrent layers. [default: 1]")] = None,
    activation: Annotated[str | None, typer.Option(help="tanh | relu. [default: tanh]")] = None,
    dropout: Annotated[float | None, typer.Option(help="Dropout rate. [default: 0]")] = None,
    learning_rate: Annotated[
        float | None, typer.Option(help="Adam learning rate. [default: 0.001]")
    ] = None,
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
    intervals: c.Intervals = None,
    unit: c.Unit = None,
    quiet: c.Quiet = False,
    debug: c.Debug = False,
) -> None:
    """Train one network on DATA and write its report and model folder.

    The network reads `--window` past steps of every input column and
    forecasts `--horizon` steps of the target(s). It trains on the first part
    of the series with early stopping on the validation part and is scored on
    the test part beside the naive, seasonal naive and linear baselines. The
    report goes to --out; the trained model to --out/models/<model>
    (use it with `rnnkit predict`).

    Example:

    \b
        rnnkit fit sales.csv --target units --model gru --window 24 --horizon 6 --units 16
    """  # noqa: D301, D412 - click's \b line keeps the example unwrapped in --help
    hyperparameters = {
        "units": units,
        "layers": layers,
        "activation": activation,
        "dropout": dropout,
        "learning_rate": learning_rate,
    }
    flags = {
        k: v for k, v in locals().items() if k not in ("model", "hyperparameters", *hyperparameters)
    }
    with c.handle_errors(debug):
        run = c.build_config(flags, config)  # before the heavy imports: bad flags fail fast
        from rnnkit.cli.display import RichProgress
        from rnnkit.cli.display import print_comparison
        from rnnkit.workflow.compare import ComparisonResult
        from rnnkit.workflow.progress import WorkPlan
        from rnnkit.workflow.report import write_report
        from rnnkit.workflow.report_facts import epoch_cap
        from rnnkit.workflow.report_facts import target_units
        from rnnkit.workflow.train import fit_forecaster

        given_units = c.units_for(run, unit)
        plan = WorkPlan(trainings=1, epochs=epoch_cap(run) or 1, max_seconds=run.max_time)
        with RichProgress(quiet=quiet, plan=plan) as progress:
            fitted = fit_forecaster(run, model, hyperparameters, progress=progress)
        result = ComparisonResult.from_results(fitted.data, [fitted], seconds=fitted.train_seconds)
        models = result.save_models(c.models_folder(run))
        shown = target_units(fitted.data, given_units)
        report = write_report(
            result,
            run.out,
            title=f"{fitted.name} forecast: {', '.join(fitted.data.targets)}",
            units=shown,
        )
        print_comparison(result, report, models, quiet=quiet, units=shown)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("fit")(fit_command)
