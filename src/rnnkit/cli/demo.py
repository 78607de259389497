"""`rnnkit demo`: the comparison on the bundled Beijing PM2.5 data, sized for a laptop."""

from __future__ import annotations

from typing import Annotated

import typer

from rnnkit.cli import common as c
from rnnkit.cli.compare import run_comparison

__all__ = ["DEMO_SETTINGS", "demo_command", "register"]

#: What `rnnkit demo` runs (each can be changed with the flag of the same name).
DEMO_SETTINGS = {
    "target": "pm2.5",
    "window": 24,
    "horizon": 6,
    "max_rows": 3000,
    "epochs": 20,
    "patience": 3,
    "batch_size": 64,
    "max_trials": 4,
}


#: The demo's own option types: the same flags, their help showing what the demo uses.
Target = Annotated[list[str] | None, c.with_default(c.Target, DEMO_SETTINGS["target"])]
Window = Annotated[int | None, c.with_default(c.Window, DEMO_SETTINGS["window"])]
Horizon = Annotated[int | None, c.with_default(c.Horizon, DEMO_SETTINGS["horizon"])]
MaxRows = Annotated[int | None, c.with_default(c.MaxRows, DEMO_SETTINGS["max_rows"])]
Epochs = Annotated[int | None, c.with_default(c.Epochs, DEMO_SETTINGS["epochs"])]
MaxTrials = Annotated[int | None, c.with_default(c.MaxTrials, DEMO_SETTINGS["max_trials"])]


def demo_command(
    out: c.Out = None,
    target: Target = None,
    window: Window = None,
    horizon: Horizon = None,
    max_rows: MaxRows = None,
    epochs: Epochs = None,
    max_trials: MaxTrials = None,
    workers: c.Workers = None,
    seed: c.Seed = None,
    threads: c.Threads = None,
    quiet: c.Quiet = False,
    debug: c.Debug = False,
) -> None:
    """Compare RNN, LSTM and GRU with the baselines on the bundled Beijing PM2.5 data.

    Forecasts the PM2.5 concentration 6 hours ahead from the last 24 hours of
    air quality and weather (the last 3,000 hourly rows; missing readings
    interpolated, wind direction one-hot encoded), with 4 tuning trials of at
    most 20 epochs per network: about a minute on a 2-core CPU (longer while
    other programs load it). Writes the report folder (default
    ./rnnkit_report) with report.html.

    Data: "Beijing PM2.5 Data", UCI Machine Learning Repository (CC BY 4.0);
    Liang et al. (2015), Proc. R. Soc. A 471: 20150257.

    Example:

    \b
        rnnkit demo
        rnnkit demo --out my_report --max-trials 5 --epochs 20
    """  # noqa: D301, D412 - click's \b line keeps the example unwrapped in --help
    flags = dict(locals())
    with c.handle_errors(debug):
        from rnnkit.datasets.beijing import beijing_pm25_path

        flags["data"] = beijing_pm25_path()
        run = c.build_config(flags, None, **DEMO_SETTINGS)
        run_comparison(run, quiet=quiet, title=f"rnnkit demo: Beijing {', '.join(run.targets)}")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("demo")(demo_command)
