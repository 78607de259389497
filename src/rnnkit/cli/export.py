"""`rnnkit export`: write a saved forecaster's network as an ONNX file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnkit.cli import common as c

__all__ = ["export_command", "register"]


def export_command(
    model_dir: Annotated[
        Path, typer.Argument(help="Model folder written by fit, tune or compare (…/models/lstm).")
    ],
    format: Annotated[
        str, typer.Option("--format", help="Export format; rnnkit writes onnx.")
    ] = "onnx",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="The file to write. [default: MODEL_DIR/model.onnx]"),
    ] = None,
    quiet: c.Quiet = False,
    debug: c.Debug = False,
) -> None:
    """Write the network of the forecaster in MODEL_DIR as an ONNX file.

    The file holds the network only: it reads windows already scaled by the
    forecaster's scaler and returns scaled forecasts. Scaling the inputs and
    undoing it on the outputs stays in Python (rnnkit predict does both); the
    command prints the columns, window and scaling the inputs need. The batch
    size is free, the window length is fixed.

    Example:

    \b
        rnnkit export rnnkit_report/models/gru --format onnx -o gru.onnx
    """  # noqa: D301, D412 - click's \b line keeps the example unwrapped in --help
    with c.handle_errors(debug):
        from rnnkit.workflow.forecaster import Forecaster

        forecaster = Forecaster.load(model_dir)
        target = output if output is not None else model_dir / "model.onnx"
        model = forecaster.model
        model.export(str(target), format=format)
        if quiet:
            return
        features = len(forecaster.features)
        scaling = forecaster.scaler.method
        typer.echo(f"Wrote the network of {model_dir} to {target} (ONNX).")
        typer.echo(
            f"Input 'inputs': float32 (batch, {forecaster.window}, {features}): windows of "
            f"{forecaster.window} rows of the columns {', '.join(forecaster.features)}, "
            f"scaled with the forecaster's {scaling!r} scaling (forecaster.json)."
        )
        typer.echo(
            f"Output 'outputs': (batch, {_output_size(model.output_shape)}): "
            f"{forecaster.horizon} step(s) of {', '.join(forecaster.targets)} in scaled "
            "units; undo the scaling in Python (Forecaster.predict_windows does both steps)."
        )


def _output_size(shape: tuple | None) -> str:
    """The output shape without its batch axis, as text."""
    if not shape:
        return "?"
    return ", ".join(str(s) for s in shape[1:])


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("export")(export_command)
