"""`rnnkit predict`: forecast from a CSV with a saved model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnkit.cli import common as c

__all__ = ["predict_command", "register"]


def predict_command(
    model_dir: Annotated[
        Path, typer.Argument(help="Model folder written by fit, tune or compare (…/models/lstm).")
    ],
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file to forecast from.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the forecasts to this CSV. [default: stdout]"),
    ] = None,
    all_origins: Annotated[
        bool,
        typer.Option(
            "--all-origins",
            help="Forecast from every window (with actual values), not only the end.",
        ),
    ] = False,
    intervals: Annotated[
        str | None,
        typer.Option(
            "--interval",
            help="Interval levels to write (lower_80, upper_80, ...), from those saved with "
            "the model; '' for none. [default: all saved]",
            metavar="LEVELS",
        ),
    ] = None,
    quiet: c.Quiet = False,
    debug: c.Debug = False,
) -> None:
    """Forecast the steps after the end of DATA with the model in MODEL_DIR.

    DATA is read with the model's settings (time column, missing values, text
    columns) and needs the columns it was trained on and at least one window
    of rows. The forecasts, in original units, go to --output as CSV (or to
    standard output), with the lower and upper bounds of the prediction
    intervals saved with the model (lower_80, upper_80, ...).

    Example:

    \b
        rnnkit predict rnnkit_report/models/lstm recent.csv --output forecast.csv
    """  # noqa: D301, D412 - click's \b line keeps the example unwrapped in --help
    with c.handle_errors(debug):
        from rnnkit.workflow.forecaster import predict_from_csv

        forecasts = predict_from_csv(model_dir, data, all_origins=all_origins, intervals=intervals)
        if output is None:
            typer.echo(forecasts.to_csv(index=not all_origins), nl=False)
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            forecasts.to_csv(output, index=not all_origins)
            if not quiet:
                typer.echo(f"Wrote {len(forecasts)} forecast rows to {output}")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("predict")(predict_command)
