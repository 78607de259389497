"""`rnnkit summary`: describe a data file, a saved model or a report folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnkit.cli import common as c
from rnnkit.cli.predict import CLASSIFIER_FILE

__all__ = ["register", "summary_command"]


def summary_command(
    path: Annotated[
        Path,
        typer.Argument(help="CSV/Parquet file, model or classifier folder, or report folder."),
    ],
    target: c.Target = None,
    time_column: c.TimeColumn = None,
    missing: Annotated[
        str, typer.Option(help="interpolate | ffill | drop | error.")
    ] = "interpolate",
    categorical: Annotated[str, typer.Option(help="onehot | drop | error.")] = "onehot",
    debug: c.Debug = False,
) -> None:
    """Describe PATH: a data file, a saved model or classifier folder, or a report folder.

    For a data file: how it reads (time index, frequency, gaps, missing values,
    encoded text columns), column statistics and the season of each --target.
    For a model folder: what it forecasts from which columns, its scaling,
    hyperparameters, test scores and layers. For a classifier folder (from
    `rnnkit classify`): its classes, feature columns, scaling, network, how it
    trained, its accuracies and confusion matrix. For a report folder: its scores.

    Example:

    \b
        rnnkit summary sales.csv --target units
        rnnkit summary rnnkit_report/models/gru
        rnnkit summary rnnkit_classifier
    """  # noqa: D301, D412 - click's \b line keeps the example unwrapped in --help
    with c.handle_errors(debug):
        if (path / CLASSIFIER_FILE).is_file():
            from rnnkit.workflow.classifier_summary import describe_classifier

            typer.echo("\n".join(describe_classifier(path)))
            return
        from rnnkit.workflow.summary import summarize_path

        lines = summarize_path(
            path,
            target=c.split_names(target),
            time_column=c.split_names(time_column),
            missing=missing,
            categorical=categorical,
        )
        typer.echo("\n".join(lines))


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("summary")(summary_command)
