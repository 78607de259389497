"""Bad input at the command line: one line on stderr naming the problem and the fix.

Exit code 1 for bad data, 2 for usage errors (bad flags); `--debug` shows the traceback.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import NO_TUNING
from cli_helpers import TINY

from rnnkit.cli.app import app

SRC = Path(__file__).parents[2] / "src"


def _write(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    """Case -> (arguments, text the one-line error must contain)."""
    n = 120
    numbers = np.arange(n, dtype=float)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    text = _write(tmp_path / "text.csv", pd.DataFrame({"temp": numbers, "city": ["Oslo"] * n}))
    short = _write(tmp_path / "short.csv", pd.DataFrame({"temp": numbers[:10]}))
    nan = _write(tmp_path / "nan.csv", pd.DataFrame({"temp": numbers, "broken": [np.nan] * n}))
    good = _write(tmp_path / "good.csv", pd.DataFrame({"temperature": numbers, "wind": numbers}))
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(["1"] * 80_000) + "\n")
    stamps = pd.date_range("2024-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M").tolist()
    huge = _write(tmp_path / "huge.csv", pd.DataFrame({"time": stamps, "temp": numbers * 1e299}))
    dates = _write(
        tmp_path / "dates.csv",
        pd.DataFrame(
            {"date": [*stamps[:50], "unknown", *stamps[51:99], "later", *stamps[100:]]}
        ).assign(temp=numbers),
    )
    duplicate = tmp_path / "duplicate.csv"
    duplicate.write_text("stamp,temp,temp\n" + "".join(f"{s},1,2\n" for s in stamps))
    return {
        "missing file": (["compare", str(tmp_path / "nope.csv"), "-t", "temp"], "does not exist"),
        "empty csv": (["compare", str(empty), "-t", "temp"], "is empty"),
        "unknown target": (
            ["compare", str(good), "-t", "temperatur"],
            "Did you mean 'temperature'?",
        ),
        "non-numeric target": (["compare", str(text), "-t", "city"], "is not numeric"),
        "too short": (["compare", str(short), "-t", "temp"], "fewer than window + horizon = 13"),
        "all-NaN column": (["compare", str(nan), "-t", "temp"], "'broken' has no values"),
        "no target": (["compare", str(good)], "Pass target=... (--target)"),
        "not a model folder": (["predict", str(tmp_path), str(good)], "not a saved forecaster"),
        "one-line wide csv": (["compare", str(wide), "-t", "temp"], "over the limit of 10,000"),
        "huge values": (
            ["compare", str(huge), "-t", "temp"],
            "holds 1e+299 at row 1 (2024-01-01 01:00:00), beyond ±1e+30",
        ),
        "bad dates": (
            ["compare", str(dates), "-t", "temp"],
            "'unknown' (line 52), 'later' (line 101). Fix or remove those rows",
        ),
        "numeric time column": (
            ["compare", str(good), "-t", "temperature", "--time-column", "wind"],
            "time column 'wind' is numeric (float64, values 0 to 119), not dates or epoch times",
        ),
        "duplicate columns": (
            ["compare", str(duplicate), "-t", "temp"],
            "has duplicate column names: 'temp' (2 times).",
        ),
    }


CASES = [
    "missing file",
    "empty csv",
    "unknown target",
    "non-numeric target",
    "too short",
    "all-NaN column",
    "no target",
    "not a model folder",
    "one-line wide csv",
    "huge values",
    "bad dates",
    "numeric time column",
    "duplicate columns",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_on_stderr_with_exit_code_1(runner, tmp_path, case):
    args, expected = _bad_inputs(tmp_path)[case]
    result = runner.invoke(app, [*args, *([*TINY, *NO_TUNING] if args[0] == "compare" else [])])
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_debug_shows_the_traceback(runner, tmp_path):
    args, expected = _bad_inputs(tmp_path)["all-NaN column"]
    result = runner.invoke(app, [*args, "--debug"])
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "rnnkit.errors.DataError" in result.stderr and expected in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["compare", "x.csv", "-t", "y", "--scaling", "glbal"], "Did you mean 'global'?"),
        (["compare", "x.csv", "-t", "y", "--models", "lstn"], "Did you mean 'lstm'?"),
        (["compare", "x.csv", "-t", "y", "--window", "0"], "`window` must be a positive integer"),
        (["compare", "-t", "y"], "no data given"),
        (["fit", "x.csv", "-t", "y", "--config", "missing.toml"], "does not exist"),
    ],
)
def test_bad_settings_are_usage_errors_with_exit_code_2(runner, args, expected):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert expected in result.stderr


def test_unknown_setting_in_config_file_is_a_usage_error(runner, tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('data = "x.csv"\nwindw = 12\n')
    result = runner.invoke(app, ["compare", "--config", str(config)])
    assert result.exit_code == 2
    assert "unknown setting 'windw'. Did you mean 'window'?" in result.stderr


def test_unknown_hyperparameter_value_is_one_line(runner, plain_csv):
    result = runner.invoke(
        app, ["fit", str(plain_csv), "-t", "demand", "--activation", "rleu", *TINY]
    )
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1
    assert "rleu" in result.stderr


def test_flag_parse_errors_exit_2(runner):
    result = runner.invoke(app, ["compare", "x.csv", "--window", "abc"])
    assert result.exit_code == 2
    assert "Invalid value for '--window'" in result.stderr


def test_real_process_prints_one_line_and_exits_1(tmp_path):
    """The installed entry point behaves the same outside the test runner."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    missing = tmp_path / "nope.csv"
    done = subprocess.run(
        [sys.executable, "-m", "rnnkit.cli", "compare", str(missing), "--target", "y"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"Error: read_table(): file '{missing}' does not exist (looked for {missing}). "
        "Check the path."
    ]
    assert done.stdout == ""


def test_summary_reports_the_detected_separator_and_time_column(runner, tmp_path):
    stamps = pd.date_range("2010-09-20", periods=48, freq="h")
    frame = pd.DataFrame(
        {
            "date": stamps.strftime("%Y-%m-%d"),
            "ts": stamps.strftime("%Y-%m-%d %H:%M"),
            "rentals": np.arange(48.0),
        }
    )
    path = tmp_path / "bikes.csv"
    frame.to_csv(path, index=False, sep=";")
    result = runner.invoke(app, ["summary", str(path), "-t", "rentals"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (
        "Time index: column 'ts' (detected; chosen over 'date' (values repeat)); "
        "frequency h; no gaps." in lines
    )
    assert "Columns split by the separator ';' (detected)." in lines
    assert "Dropped column 'date': another date/time column (the time index is 'ts')." in lines
