"""What every command shares: option types, config merging, error handling.

Settings come from three places, the first that has a value wins: a flag on
the command line, the `--config run.toml` file, the defaults of
`rnnkit.workflow.ForecastConfig`.

This module and the command modules import only typer and the standard
library at the top: the workflow (torch, pandas, optuna, matplotlib) is
imported inside the command bodies, after the arguments were parsed, so a
call with a bad flag answers at once. The progress bars and printed tables
live in `rnnkit.cli.display` (`RichProgress`, `print_comparison` are
re-exported here, imported on first use).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import re
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated
from typing import Any
from typing import get_args

import typer

from rnnkit.errors import RnnkitError

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
Residual = Annotated[
    str | None,
    typer.Option(
        help="The baseline the networks learn to correct: auto (the better of linear and "
        "seasonal on validation, none if naive wins) | linear | seasonal | none. [default: auto]"
    ),
]
Calendar = Annotated[
    bool | None,
    typer.Option(
        "--calendar/--no-calendar",
        help="Add time-of-day, day-of-week and day-of-year features from the time column, "
        "for the networks and the linear baseline. [default: calendar]",
    ),
]
MaxRows = Annotated[int | None, typer.Option(help="Use only the last N rows. [default: all]")]
Epochs = Annotated[
    int | None,
    typer.Option(
        help="Most epochs per training. [default: 20, up to 40 while validation still improves]"
    ),
]
BatchSize = Annotated[int | None, typer.Option(help="Windows per batch. [default: 64]")]
WindowsPerEpoch = Annotated[
    int | None,
    typer.Option(
        help="Most training windows per epoch, a fresh random subset each epoch; "
        "0 = all. [default: 4096]"
    ),
]
MaxTime = Annotated[
    str | None,
    typer.Option(
        help="Hard time limit: seconds, or 90s, 5m, 1h; 'none' for no limit. Running trials "
        "stop at it and keep their best epoch. [default: none]",
        metavar="DURATION",
    ),
]
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
TuningFolds = Annotated[
    int | None,
    typer.Option(
        "--folds",
        help="Validation blocks each tuning trial is scored on (1 to 10): K consecutive "
        "blocks ending where the validation part ends, each fold trained on the windows "
        "before its block with its own scaler; the score is their mean, the test part is "
        "never used. K folds cost about K times per trial. [default: 1]",
        metavar="K",
    ),
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
Unit = Annotated[
    str | None,
    typer.Option(
        "--unit",
        help="Unit of the target(s) for the report's axes and tables, e.g. 'kWh'; "
        "comma-separate one per --target. [default: none]",
        metavar="UNIT",
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or tables.")]
Debug = Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")]

#: Flag names that are not `ForecastConfig` fields.
_NOT_CONFIG = {"config", "quiet", "debug", "unit"}
#: Names `rnnkit.cli.display` provides through this module (imported on first use).
_DISPLAY = ("RichProgress", "coverage_lines", "print_comparison")


def __getattr__(name: str) -> Any:
    """`RichProgress`, `print_comparison`, `coverage_lines`: from `rnnkit.cli.display`, lazily."""
    if name in _DISPLAY:
        from rnnkit.cli import display

        return getattr(display, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def with_default(option: Any, shown: Any) -> Any:
    """The option of an option type, its help saying `[default: shown]` (a command's own default).

    Use it as `Annotated[int | None, with_default(Horizon, 6)]`.

    Example:
        >>> with_default(Horizon, 6).help
        'Future steps to forecast. [default: 6]'
    """
    info = get_args(option)[1]
    changed = copy.copy(info)
    text = re.sub(r"\s*\[default: [^\]]*\]", "", info.help or "")
    changed.help = f"{text} [default: {shown}]"
    return changed


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
    from rnnkit.workflow.spec import ForecastConfig
    from rnnkit.workflow.spec import config_from_mapping
    from rnnkit.workflow.spec import load_config

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
    if isinstance(config.data, str):
        from rnnkit.data.paths import check_data_path

        try:  # before the command imports torch: a wrong path answers at once
            check_data_path(config.data, caller="read_table()")
        except RnnkitError as exc:
            fail(exc)
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


def units_for(run: Any, unit: str | None) -> str | dict[str, str] | None:
    """`--unit` for `write_report`: one unit for every target, or target -> unit in order.

    Raises:
        typer.Exit: code 2 when several units do not match the targets one to one.
    """
    names = split_names(unit)
    if names is None or isinstance(names, str):
        return names
    targets = list(run.targets or [])
    if len(names) != len(targets):
        fail(
            f"--unit: give one unit, or one per --target ({len(targets)} target(s)"
            f"{': ' + ', '.join(targets) if targets else ''}). Received: --unit {unit!r}.",
            code=2,
        )
    return dict(zip(targets, names, strict=True))


def models_folder(run: Any) -> Path:
    """Where a run saves its trained forecasters: `<out>/models`."""
    return Path(run.out) / "models"
