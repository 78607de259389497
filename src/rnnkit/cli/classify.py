"""`rnnkit classify`: label variable-length sequences from a long-format CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnkit.cli import common as c

__all__ = ["classify_command", "register"]


def classify_command(
    data: Annotated[Path, typer.Argument(help="Long-format CSV or Parquet: one row per step.")],
    id_column: Annotated[str, typer.Option(help="Column naming the sequence of each row.")],
    time_column: Annotated[str, typer.Option(help="Column ordering the steps of a sequence.")],
    label_column: Annotated[str, typer.Option(help="Column with each sequence's class.")],
    features: Annotated[
        str | None,
        typer.Option(help="Comma-separated feature columns. [default: all other numeric]"),
    ] = None,
    model: Annotated[str, typer.Option(help="Recurrent layer: rnn, lstm or gru.")] = "lstm",
    units: Annotated[int, typer.Option(help="Units of the recurrent layer.")] = 32,
    bidirectional: Annotated[bool, typer.Option(help="Wrap the layer in Bidirectional.")] = False,
    epochs: Annotated[int, typer.Option(help="Training epochs.")] = 30,
    batch_size: Annotated[int, typer.Option(help="Sequences per batch.")] = 32,
    learning_rate: Annotated[float, typer.Option(help="Adam learning rate.")] = 1e-3,
    test_fraction: Annotated[float, typer.Option(help="Share of sequences held out.")] = 0.2,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the trained classifier.")
    ] = Path("rnnkit_classifier"),
    quiet: c.Quiet = False,
    debug: c.Debug = False,
) -> None:
    """Train a Masking + RNN/LSTM/GRU classifier on labelled sequences of any length.

    Each row of DATA is one step of one sequence; sequences are padded and masked
    automatically. Prints test accuracy beside the majority-class baseline and saves
    the classifier (model + JSON, no pickle) to --out.

    Example:

    \b
        rnnkit classify frames.csv --id-column utterance --time-column frame \\
            --label-column speaker --model gru --epochs 20
    """  # noqa: D301, D412 - click's \b line keeps the example unwrapped in --help
    with c.handle_errors(debug):
        from rnnkit.workflow.classification import fit_sequence_classifier
        from rnnkit.workflow.classification import save_classifier

        result = fit_sequence_classifier(
            data=str(data),
            id_column=id_column,
            time_column=time_column,
            label_column=label_column,
            feature_columns=features,
            kind=model,
            units=units,
            bidirectional=bidirectional,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            test_fraction=test_fraction,
            seed=seed,
        )
        folder = save_classifier(result, out)
        if not quiet:
            for line in result.lines():
                typer.echo(line)
            typer.echo(f"Saved the classifier to {folder}")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("classify")(classify_command)
