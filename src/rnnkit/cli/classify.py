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
        typer.Option(help="Comma-separated feature columns. [default: all other columns, numeric]"),
    ] = None,
    split_column: Annotated[
        str | None,
        typer.Option(
            help="Column with each sequence's part: train, val (or validation), test. "
            "[default: none, split at random]"
        ),
    ] = None,
    model: Annotated[str, typer.Option(help="Recurrent layer: rnn, lstm or gru.")] = "lstm",
    units: Annotated[int, typer.Option(help="Units of the recurrent layer.")] = 32,
    bidirectional: Annotated[bool, typer.Option(help="Wrap the layer in Bidirectional.")] = False,
    epochs: Annotated[
        int | None,
        typer.Option(
            help="Most training epochs. [default: adaptive, while the validation loss improves, "
            "up to 200]"
        ),
    ] = None,
    patience: Annotated[
        int, typer.Option(help="Stop after this many epochs without a better validation loss.")
    ] = 10,
    batch_size: Annotated[int, typer.Option(help="Sequences per batch.")] = 32,
    learning_rate: Annotated[float, typer.Option(help="Adam learning rate.")] = 1e-3,
    test_fraction: Annotated[
        float | None,
        typer.Option(
            help="Share of sequences held out for the test (no --split-column). [default: 0.2]"
        ),
    ] = None,
    val_fraction: Annotated[
        float, typer.Option(help="Share of training sequences held out for validation.")
    ] = 0.15,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the trained classifier.")
    ] = Path("rnnkit_classifier"),
    quiet: c.Quiet = False,
    debug: c.Debug = False,
) -> None:
    """Train a Masking + RNN/LSTM/GRU classifier on labelled sequences of any length.

    Each row of DATA is one step of one sequence; sequences are padded and masked
    automatically. The split column (--split-column) names the train, validation and
    test sequences; without it they are drawn at random. Training stops when the
    validation loss stops improving and keeps its best epoch; a run cut off at the
    epoch cap while still improving says so. Prints train, validation and test
    accuracy beside the majority-class baseline and saves the classifier (model +
    JSON, no pickle) to --out, for `rnnkit predict` and `rnnkit summary`.

    Example:

    \b
        rnnkit classify frames.csv --id-column utterance --time-column frame \\
            --label-column speaker --split-column split --model gru
    """  # noqa: D301, D412 - click's \b line keeps the example unwrapped in --help
    with c.handle_errors(debug):
        if split_column is not None and test_fraction is not None:
            c.fail(
                "classify: --test-fraction and --split-column both choose the test sequences; "
                "pass one of them. Received: "
                f"--test-fraction {test_fraction:g} --split-column {split_column}.",
                code=2,
            )
        from rnnkit.data.paths import check_data_path

        check_data_path(data, caller="read_labelled_sequences()")  # before torch is imported
        from rnnkit.workflow.classification import fit_sequence_classifier
        from rnnkit.workflow.classification import save_classifier

        with c.RichProgress(quiet=quiet) as progress:
            result = fit_sequence_classifier(
                data=str(data),
                id_column=id_column,
                time_column=time_column,
                label_column=label_column,
                feature_columns=features,
                split_column=split_column,
                kind=model,
                units=units,
                bidirectional=bidirectional,
                epochs=epochs,
                patience=patience,
                batch_size=batch_size,
                learning_rate=learning_rate,
                test_fraction=test_fraction,
                val_fraction=val_fraction,
                seed=seed,
                progress=progress,
            )
        folder = save_classifier(result, out)
        if not quiet:
            for line in result.lines():
                typer.echo(line)
            typer.echo(f"Saved the classifier to {folder}")
        elif result.training is not None and result.training.still_improving:
            typer.echo(result.training.note(), err=True)  # worth saying even when quiet


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("classify")(classify_command)
