"""What every command shares: option types, config merging, error handling, progress, output.

Settings come from three places, the first that has a value wins: a flag on
the command line, the `--config run.toml` file, the defaults of
`rnnkit.workflow.ForecastConfig`.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn
from rich.progress import MofNCompleteColumn
from rich.progress import Progress
from rich.progress import TaskID
from rich.progress import TextColumn
from rich.progress import TimeElapsedColumn
from rich.table import Table

from rnnkit.errors import RnnkitError
from rnnkit.workflow.progress import ProgressListener
from rnnkit.workflow.spec import ForecastConfig
from rnnkit.workflow.spec import config_from_mapping
from rnnkit.workflow.spec import load_config

# ---------------------------------------------------------------- option types
Data = Annotated[
    Path | None,
    typer.Argument(
        help="CSV or Parquet file (or set `data` in --config).", show_default=False, metavar="DATA"
    ),
]
ConfigFile = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML file with settings (flags override it)."),
]
Target = Annotated[
    list[str] | None,
    typer.Option(
        "--target", "-t", help="Column(s) to forecast; repeat or comma-separate.", metavar="COLUMN"
    ),
]
TimeColumn = Annotated[
    str | None,
    typer.Option(
        "--time-column",
        help="Datetime column, or part columns 'year,month,day,hour'. [default: detect]",
    ),
]
Features = Annotated[
    str | None,
    typer.Option("--features", help="Input columns, comma-separated. [default: all numeric]"),
]
Window = Annotated[int | None, typer.Option(help="Past steps each forecast reads. [default: 24]")]
Horizon = Annotated[int | None, typer.Option(help="Future steps to forecast. [default: 1]")]
Stride = Annotated[int | None, typer.Option(help="Steps between windows. [default: 1]")]
ValFraction = Annotated[
    float | None, typer.Option(help="Share of windows for validation. [default: 0.15]")
]
TestFraction = Annotated[
    float | None, typer.Option(help="Share of windows for the test. [default: 0.15]")
]
Gap = Annotated[int | None, typer.Option(help="Extra steps left out between parts. [default: 0]")]
Scaling = Annotated[
    str | None,
    typer.Option(help="window | diff | global (see docs/forecasting.md). [default: window]"),
]
Missing = Annotated[
    str | None,
    typer.Option(help="Missing values: interpolate | ffill | drop | error. [default: interpolate]"),
]
Categorical = Annotated[
    str | None, typer.Option(help="Text columns: onehot | drop | error. [default: onehot]")
]
Season = Annotated[int | None, typer.Option(help="Season length in steps. [default: inferred]")]
MaxRows = Annotated[int | None, typer.Option(help="Use only the last N rows. [default: all]")]
Epochs = Annotated[int | None, typer.Option(help="Most epochs per training. [default: 20]")]
BatchSize = Annotated[int | None, typer.Option(help="Windows per batch. [default: 64]")]
Patience = Annotated[
    int | None, typer.Option(help="Early-stopping patience, 0 = never stop. [default: 5]")
]
Seed = Annotated[int | None, typer.Option(help="Random seed. [default: 42]")]
Threads = Annotated[int | None, typer.Option(help="Torch CPU threads while training. [default: 1]")]
Out = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Output folder. [default: rnnkit_report]"),
]
MaxTrials = Annotated[
    int | None,
    typer.Option(help="Tuning trials per network, 0 = default values. [default: 5]"),
]
TunerKind = Annotated[
    str | None, typer.Option("--tuner", help="random | bayesian | hyperband. [default: random]")
]
Workers = Annotated[int | None, typer.Option(help="Parallel tuning processes. [default: 1]")]
Storage = Annotated[
    str | None,
    typer.Option(
        help="Study database URL shared by workers on several machines (e.g. postgresql://...)."
    ),
]
ProjectName = Annotated[
    str | None, typer.Option(help="Name of the tuning studies. [default: rnnkit]")
]
Resume = Annotated[
    bool | None,
    typer.Option("--resume/--no-resume", help="Continue earlier tuning studies in --out."),
]
Intervals = Annotated[
    str | None,
    typer.Option(
        "--interval",
        help="Prediction interval levels, comma-separated (conformal, from validation errors); "
        "'' for none. [default: 0.8,0.95]",
        metavar="LEVELS",
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or tables.")]
Debug = Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")]

#: Flag names that are not `ForecastConfig` fields.
_NOT_CONFIG = {"config", "quiet", "debug"}


def split_names(value: Any) -> Any:
    """Turn `"a,b"` or `["a", "b,c"]` into a list, one name into a string; `None` stays."""
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    names = [part.strip() for item in items for part in str(item).split(",") if part.strip()]
    if not names:
        return None
    return names[0] if len(names) == 1 else names


def build_config(flags: dict[str, Any], config_file: Path | None, **defaults: Any) -> Any:
    """Merge defaults, the TOML file and flags into a validated `ForecastConfig`.

    Args:
        flags: Parameter name -> value from the command line (`None`: not given).
        config_file: The `--config` file, or `None`.
        **defaults: Command-specific defaults, below the file and the flags.

    Raises:
        typer.Exit: code 2 with a one-line message for a bad setting (a usage error).
    """
    try:
        base = config_from_mapping(defaults, base=ForecastConfig(), source="defaults")
        if config_file is not None:
            base = config_from_mapping(load_config(config_file), base=base, source=str(config_file))
        values = {k: v for k, v in flags.items() if k not in _NOT_CONFIG}
        for key in ("target", "time_column"):
            values[key] = split_names(values.get(key))
        for key in ("features", "models"):
            value = split_names(values.get(key))
            values[key] = [value] if isinstance(value, str) else value
        for key in ("data", "out"):
            if isinstance(values.get(key), Path):
                values[key] = str(values[key])
        config = config_from_mapping(values, base=base, source="command-line options")
    except RnnkitError as exc:
        fail(exc, code=2)
    if config.data is None:
        fail(
            "no data given. Pass a CSV or Parquet file as DATA, or set `data` in --config.", code=2
        )
    return config


def fail(error: BaseException | str, *, code: int = 1) -> None:
    """Print `Error: <one line>` on stderr and exit with `code`."""
    text = " ".join(str(error).split()) or type(error).__name__
    typer.echo(f"Error: {text}", err=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def handle_errors(debug: bool) -> Iterator[None]:
    """Turn errors into one line on stderr and exit code 1 (`--debug`: the traceback).

    `RnnkitError` messages are shown as they are; any other exception is
    reported as an internal error with its type, inviting `--debug`.
    """
    logging.basicConfig(level=logging.INFO if debug else logging.WARNING, format="%(message)s")
    # Optuna's own notices (sampler fallbacks, ...) are noise on a command line
    logging.getLogger("optuna").setLevel(logging.INFO if debug else logging.ERROR)
    try:
        yield
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        raise typer.Exit(130) from None
    except Exception as exc:
        if debug:
            traceback.print_exc(file=sys.stderr)
            raise typer.Exit(1) from None
        if isinstance(exc, RnnkitError):
            fail(exc)
        fail(
            f"internal error ({type(exc).__name__}: {exc}). Run again with --debug for the "
            "traceback and report it."
        )


class RichProgress(ProgressListener):
    """A `ProgressListener` drawing rich progress bars on stderr.

    Bars appear only when stderr is a terminal; `quiet` also silences the
    one-line messages (one per trained network).
    """

    def __init__(self, *, quiet: bool = False, console: Console | None = None):
        self.quiet = quiet
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            disable=quiet or not self.console.is_terminal,  # bars only on a terminal
            transient=True,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def begin(self, task: str, total: int | None = None, description: str = "") -> None:
        """Start (or restart) a bar."""
        if task in self.tasks:
            self.progress.reset(self.tasks[task], total=total, description=description or task)
        else:
            self.tasks[task] = self.progress.add_task(description or task, total=total)

    def advance(self, task: str, steps: int = 1, description: str | None = None) -> None:
        """Move a bar on."""
        if task not in self.tasks:
            self.begin(task)
        kwargs: dict[str, Any] = {"description": description} if description else {}
        self.progress.update(self.tasks[task], advance=steps, **kwargs)

    def end(self, task: str) -> None:
        """Mark a bar complete (early stopping may end it before its total)."""
        if task in self.tasks:
            done = self.progress.tasks[self.tasks[task]].completed
            self.progress.update(self.tasks[task], total=max(done, 1), completed=max(done, 1))

    def message(self, text: str) -> None:
        """Print a line above the bars (not with `quiet`)."""
        if not self.quiet:
            self.progress.console.print(text, highlight=False)


#: Columns of the printed table, with their headers (the report has them all).
_COLUMNS = {
    "MAE": "MAE",
    "MASE": "MASE",
    "MASE_seasonal": "MASE seas.",
    "params": "params",
    "seconds_per_epoch": "s/epoch",
    "best_epoch": "best ep.",
}


def print_comparison(result: Any, report: Path, models: dict[str, Path], *, quiet: bool) -> None:
    """Print the metrics table, the verdicts and where the files are (stdout)."""
    console = Console(highlight=False)
    if not console.is_terminal:  # files and pipes: wide enough for the table
        console = Console(highlight=False, width=132)
    if not quiet:
        table = Table(title="Test scores (original units)")
        table.add_column("model", no_wrap=True)
        metrics = result.metrics
        columns = [c for c in _COLUMNS if c in metrics]
        for column in columns:
            table.add_column(_COLUMNS[column], justify="right", no_wrap=True)
        for name, row in metrics.iterrows():
            table.add_row(str(name), *[_cell(row[c]) for c in columns])
        console.print(table)
    for line in result.headline:
        console.print(line)
    for line in coverage_lines(result):
        console.print(line)
    console.print(f"Report: {report}")
    for name, folder in models.items():
        console.print(f"Model {name}: {folder}")


def coverage_lines(result: Any) -> list[str]:
    """One line per network: its prediction intervals' coverage on the test windows."""
    table = getattr(result, "coverage", None)
    if table is None or table.empty:
        return []
    lines = []
    for name in result.fits:
        rows = table[table["model"] == name]
        if len(rows):
            shown = ", ".join(
                f"{level:.0%} interval covers {coverage:.0%}"
                for level, coverage in zip(rows["level"], rows["coverage"], strict=True)
            )
            lines.append(f"{name} prediction intervals on the test period: {shown}.")
    return lines


def _cell(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number != number:  # NaN
        return "-"
    return f"{number:,.0f}" if number.is_integer() and abs(number) >= 10 else f"{number:.3g}"


def models_folder(run: Any) -> Path:
    """Where a run saves its trained forecasters: `<out>/models`."""
    return Path(run.out) / "models"
