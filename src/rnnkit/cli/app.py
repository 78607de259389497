"""The Typer application behind the `rnnkit` command."""

from __future__ import annotations

import typer

from rnnkit.cli import backtest
from rnnkit.cli import classify
from rnnkit.cli import compare
from rnnkit.cli import demo
from rnnkit.cli import diagnose
from rnnkit.cli import export
from rnnkit.cli import fit
from rnnkit.cli import predict
from rnnkit.cli import summary
from rnnkit.cli import tune
from rnnkit.cli import tune_worker

__all__ = ["app", "main"]

app = typer.Typer(
    name="rnnkit",
    help=(
        "Forecast a time series from a CSV with RNN, LSTM and GRU networks, compared "
        "against naive baselines. Run `rnnkit demo` for a tour on bundled data."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
for module in (fit, tune, tune_worker, compare, predict, export, summary, demo, classify, diagnose):
    module.register(app)
backtest.register(app)


def main() -> None:
    """Run the `rnnkit` command line (the console-script entry point)."""
    app(prog_name="rnnkit")
