"""`rnnkit predict`: forecast (or classify sequences) from a CSV with a saved model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnkit.cli import common as c

__all__ = ["predict_command", "register"]

#: The file that marks a folder written by `rnnkit classify` (`classifier_files.SPEC_FILE`;
#: named here so that telling the two kinds of folder apart imports nothing heavy).
CLASSIFIER_FILE = "classifier.json"


def predict_command(
    model_dir: Annotated[
        Path,
        typer.Argument(
            help="Model folder written by fit, tune or compare (…/models/lstm), or a "
            "classifier folder written by classify."
        ),
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

    With a classifier folder (from `rnnkit classify`), DATA is a long-format
    table with the id, time and feature columns it was trained on (a label or
    split column is ignored), and the CSV has one row per sequence: the id,
    its length, predicted_label and probability_<class> for every class.

    Example:

    \b
        rnnkit predict rnnkit_report/models/lstm recent.csv --output forecast.csv
        rnnkit predict rnnkit_classifier new_recordings.csv --output labels.csv
    """  # noqa: D301, D412 - click's \b line keeps the example unwrapped in --help
    with c.handle_errors(debug):
        if (model_dir / CLASSIFIER_FILE).is_file():
            _classify(model_dir, data, output, all_origins, intervals, quiet)
            return
        from rnnkit.data.paths import check_data_path
        from rnnkit.workflow.model_folder import check_saved_folder

        check_saved_folder(model_dir, "Forecaster.load()")  # before torch is imported
        check_data_path(data, caller="read_table()")
        from rnnkit.workflow.forecaster import predict_from_csv

        forecasts = predict_from_csv(model_dir, data, all_origins=all_origins, intervals=intervals)
        if output is None:
            typer.echo(forecasts.to_csv(index=not all_origins), nl=False)
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            forecasts.to_csv(output, index=not all_origins)
            if not quiet:
                typer.echo(f"Wrote {len(forecasts)} forecast rows to {output}")


def _classify(
    folder: Path,
    data: Path,
    output: Path | None,
    all_origins: bool,
    intervals: str | None,
    quiet: bool,
) -> None:
    """Label every sequence of DATA with the classifier in FOLDER (CSV: one row per sequence)."""
    flags = (("--all-origins", all_origins), ("--interval", intervals is not None))
    given = [flag for flag, used in flags if used]
    if given:
        c.fail(
            f"predict: {str(folder)!r} is a sequence classifier (it holds {CLASSIFIER_FILE}); "
            "--all-origins and --interval are for forecasters only, leave them out. "
            f"Received: {' '.join(given)}.",
            code=2,
        )
    from rnnkit._files import atomic_write
    from rnnkit.workflow.classification import load_classifier
    from rnnkit.workflow.classification import predict_sequences

    predictions = predict_sequences(load_classifier(folder), data)
    text = predictions.to_csv(index=False)
    if output is None:
        typer.echo(text, nl=False)
        return
    atomic_write(output, text)
    if not quiet:
        typer.echo(f"Wrote {len(predictions)} sequence predictions to {output}")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("predict")(predict_command)
