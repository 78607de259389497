"""`rnnkit diagnose`: the gradient health of a saved forecaster on a CSV."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated
from typing import Any

import typer

from rnnkit.cli import common as c

__all__ = ["diagnose_command", "network_sample", "register"]

#: Files written into --out.
PLOT_FILE = "gradient_health.png"
JSON_FILE = "gradient_health.json"


def network_sample(forecaster: Any, frame: Any, *, caller: str) -> tuple[Any, Any]:
    """Every window of a cleaned table as the network trains on it: scaled ``(x, y)``.

    As in training (`PreparedData.scaled`): the inputs are the forecaster's
    columns cut into windows and passed through `Forecaster.network_inputs`
    (scaled, calendar columns as they are); the targets are the `horizon` steps after
    each window, scaled the same way, flattened to ``(n, horizon * targets)`` and,
    when the network corrects a baseline, less the baseline's scaled forecast (the
    inverse of `Forecaster.from_network_outputs`, before clipping).

    Raises:
        DataError: a missing column, or too few rows for one window and its horizon.
    """
    from rnnkit.data.windows import make_windows
    from rnnkit.errors import DataError
    from rnnkit.workflow.residual import scaled_base

    values = forecaster.align(frame, caller=caller)
    window, horizon = forecaster.window, forecaster.horizon
    if len(values) < window + horizon:
        raise DataError(
            f"{caller}: the table has {len(values)} rows after cleaning, but diagnosing needs "
            f"a window and its targets: at least window + horizon = {window + horizon} rows."
        )
    targets = [forecaster.features.index(t) for t in forecaster.targets]
    x, y = make_windows(values, window=window, horizon=horizon, targets=targets)
    xs = forecaster.network_inputs(x)
    ys = forecaster.scaler.transform_targets(y, x).reshape(len(y), -1)
    ys = ys - scaled_base(forecaster.scaler, forecaster.base, x)
    return xs, ys.astype("float32")


def diagnose_command(
    model_dir: Annotated[
        Path, typer.Argument(help="Model folder written by fit, tune or compare (…/models/lstm).")
    ],
    data: Annotated[
        Path, typer.Argument(help="CSV or Parquet file with the columns the model was trained on.")
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Folder for the plot and the JSON. [default: diagnose]",
            show_default=False,
        ),
    ] = Path("diagnose"),
    samples: Annotated[
        int,
        typer.Option(
            help="Windows to diagnose, the most recent ones. [default: 64]", show_default=False
        ),
    ] = 64,
    quiet: c.Quiet = False,
    debug: c.Debug = False,
) -> None:
    """Measure how the gradient flows back through time in the network in MODEL_DIR.

    DATA is read with the model's settings and cut into windows as in training;
    the most recent --samples windows go through a diagnostic pass (inference
    mode). For each recurrent layer it prints the effective memory (steps back
    until the gradient falls below 1e-3 of its last-step value), the growth of
    the gradient per step, weight-gradient norms, dead relu units and saturated
    gates, then plain-words verdicts. --out receives gradient_health.png
    (gradient norm against steps back, log scale) and gradient_health.json.

    Example:

    \b
        rnnkit diagnose rnnkit_report/models/lstm data.csv --out lstm_health
    """  # noqa: D301, D412 - click's \b line keeps the example unwrapped in --help
    with c.handle_errors(debug):
        from rnnkit._files import atomic_write
        from rnnkit._validation import check_positive_int
        from rnnkit.data.io import read_table
        from rnnkit.diagnostics import diagnose
        from rnnkit.workflow.forecaster import Forecaster

        caller = "rnnkit diagnose"
        samples = check_positive_int("samples", samples, caller=caller)
        forecaster = Forecaster.load(model_dir)
        spec = forecaster.spec
        frame, _ = read_table(
            data,
            time_column=spec.get("time_column"),
            target=forecaster.targets,
            missing=spec.get("missing", "interpolate"),
            categorical=spec.get("categorical", "onehot"),
        )
        x, y = network_sample(forecaster, frame, caller=caller)
        recent = slice(max(0, len(x) - samples), len(x))
        result = diagnose(forecaster.model, x[recent], y[recent], samples=samples)
        out.mkdir(parents=True, exist_ok=True)
        plot = result.plot(out / PLOT_FILE)
        document = {"model_dir": str(model_dir), "data": str(data), **result.to_dict()}
        atomic_write(out / JSON_FILE, json.dumps(document, indent=2, allow_nan=False) + "\n")
        if not quiet:
            typer.echo(result.summary())
            typer.echo(f"Wrote {plot} and {out / JSON_FILE}")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("diagnose")(diagnose_command)
