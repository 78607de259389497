"""The commands on CSV files the project has never seen: outputs, reports, round trips."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from cli_helpers import NO_TUNING
from cli_helpers import TINY

from rnnkit.cli.app import app
from rnnkit.workflow.forecaster import predict_from_csv


def _ok(result):
    assert result.exit_code == 0, result.stderr + result.stdout
    return result


@pytest.mark.parametrize("fixture", ["dated_csv", "plain_csv"])
def test_compare_reports_mase_against_seasonal_naive_for_each_model(
    runner, tmp_path, request, fixture
):
    csv = request.getfixturevalue(fixture)
    out = tmp_path / "report"
    result = _ok(
        runner.invoke(
            app,
            [
                "compare",
                str(csv),
                "--target",
                "demand",
                *TINY,
                *NO_TUNING,
                "--out",
                str(out),
                "--quiet",
            ],
        )
    )
    metrics = pd.read_csv(out / "metrics.csv", index_col="model")
    assert list(metrics.index) == [
        "naive",
        "seasonal naive",
        "linear on lags",
        "RNN",
        "LSTM",
        "GRU",
    ]
    assert metrics.loc[["RNN", "LSTM", "GRU"], "MASE_seasonal"].notna().all()
    html = (out / "report.html").read_text()
    for network in ("RNN", "LSTM", "GRU"):
        assert re.search(rf"{network} (beats|does not beat) the seasonal naive forecast", html)
    assert "seasonal naive forecast on the test period" in result.stdout
    for name in ("rnn", "lstm", "gru"):
        assert (out / "models" / name / "forecaster.json").is_file()


def test_compare_detects_datetime_column_and_daily_season(runner, dated_csv, tmp_path):
    out = tmp_path / "r"
    _ok(
        runner.invoke(
            app,
            [
                "compare",
                str(dated_csv),
                "-t",
                "demand",
                *TINY,
                *NO_TUNING,
                "--window",
                "24",
                "--models",
                "gru",
                "-o",
                str(out),
                "-q",
            ],
        )
    )
    html = (out / "report.html").read_text()
    assert "column &#x27;stamp&#x27;" in html or "column 'stamp'" in html
    assert "Season: 24 step(s)" in html
    forecasts = pd.read_csv(out / "forecasts.csv")
    assert forecasts["time"].iloc[0].startswith("2023-03")


def test_fit_then_predict_round_trip(runner, dated_csv, tmp_path):
    out = tmp_path / "fit"
    _ok(
        runner.invoke(
            app,
            [
                "fit",
                str(dated_csv),
                "--target",
                "demand",
                "--model",
                "gru",
                "--units",
                "4",
                "--horizon",
                "3",
                *TINY,
                "--out",
                str(out),
                "-q",
            ],
        )
    )
    model_dir = out / "models" / "gru"
    target = tmp_path / "forecast.csv"
    result = _ok(runner.invoke(app, ["predict", str(model_dir), str(dated_csv), "-o", str(target)]))
    assert "Wrote 3 forecast rows" in result.stdout
    written = pd.read_csv(target, index_col="time")
    expected = predict_from_csv(model_dir, dated_csv)
    assert list(written.index) == [str(t) for t in expected.index]
    assert str(expected.index[0]) == "2023-03-11 00:00:00"  # the hour after the last row
    np.testing.assert_allclose(written["demand"], expected["demand"], rtol=1e-6)
    printed = _ok(runner.invoke(app, ["predict", str(model_dir), str(dated_csv), "--all-origins"]))
    assert printed.stdout.splitlines()[0] == (
        "origin,step,time,demand,demand_actual,demand_lower_80,demand_upper_80,"
        "demand_lower_95,demand_upper_95"
    )


def test_config_file_run_with_flag_override(runner, plain_csv, tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(
        f'data = "{plain_csv.name}"\ntarget = "demand"\nwindow = 12\nepochs = 1\n'
        'max_trials = 0\nmodels = ["rnn"]\nout = "from_toml"\nscaling = "diff"\n'
    )
    _ok(runner.invoke(app, ["compare", "--config", str(config), "--horizon", "2", "-q"]))
    out = tmp_path / "from_toml"  # relative to the TOML file
    html = (out / "report.html").read_text()
    assert "diff: the network reads step-to-step differences" in html
    assert pd.read_csv(out / "horizon_errors.csv").shape[0] == 2


def test_tune_writes_tuning_history_and_model(runner, plain_csv, tmp_path):
    out = tmp_path / "tuned"
    result = _ok(
        runner.invoke(
            app,
            [
                "tune",
                str(plain_csv),
                "-t",
                "demand",
                "--model",
                "rnn",
                "--window",
                "12",
                "--epochs",
                "1",
                "--max-trials",
                "2",
                "--out",
                str(out),
                "-q",
            ],
        )
    )
    trials = pd.read_csv(out / "tuning_rnn.csv")
    assert len(trials) == 2
    assert (out / "tuning_history.png").is_file()
    assert "Importance: not computed: 2 completed trial(s)" in (out / "report.html").read_text()
    assert (out / "models" / "rnn" / "model.keras").is_file()
    assert "RNN trained again on the training + validation windows" in result.stdout
    assert "the tuned RNN: MAE" in result.stdout
    assert "RNN trained again on the training + validation windows" in (
        (out / "report.html").read_text()
    )


def test_summary_describes_data_model_and_report(runner, dated_csv, tmp_path):
    result = _ok(runner.invoke(app, ["summary", str(dated_csv), "--target", "demand"]))
    assert "Season of demand: 24 step(s)" in result.stdout
    out = tmp_path / "r"
    _ok(
        runner.invoke(
            app,
            [
                "compare",
                str(dated_csv),
                "-t",
                "demand",
                *TINY,
                *NO_TUNING,
                "--models",
                "lstm",
                "-o",
                str(out),
                "-q",
            ],
        )
    )
    model = _ok(runner.invoke(app, ["summary", str(out / "models" / "lstm")]))
    assert "Forecaster LSTM" in model.stdout and "Total params" in model.stdout
    report = _ok(runner.invoke(app, ["summary", str(out)]))
    assert "MASE_seasonal" in report.stdout


def test_quiet_prints_no_table_and_no_progress(runner, plain_csv, tmp_path):
    args = [
        "compare",
        str(plain_csv),
        "-t",
        "demand",
        *TINY,
        *NO_TUNING,
        "--models",
        "rnn",
        "-o",
        str(tmp_path / "q"),
    ]
    quiet = _ok(runner.invoke(app, [*args, "--quiet"]))
    assert "Test scores" not in quiet.stdout and quiet.stderr == ""
    assert "Report:" in quiet.stdout
    loud = _ok(runner.invoke(app, args))
    assert "Test scores" in loud.stdout


def test_demo_runs_on_the_bundled_data_with_attribution(runner, tmp_path):
    out = tmp_path / "demo"
    _ok(
        runner.invoke(
            app,
            [
                "demo",
                "--out",
                str(out),
                "--max-rows",
                "400",
                "--epochs",
                "1",
                "--max-trials",
                "0",
                "-q",
            ],
        )
    )
    html = (out / "report.html").read_text()
    assert "UCI Machine Learning Repository" in html and "CC BY 4.0" in html
    assert "Missing values (policy &#x27;interpolate&#x27;)" in html or "Missing values" in html
    assert "cbwd" in html  # the wind direction, one-hot encoded


def test_every_command_help_shows_an_example(runner):
    for command in sorted(typer.main.get_command(app).commands):  # every registered one
        result = _ok(runner.invoke(app, [command, "--help"]))
        assert "Example:" in result.stdout
        assert f"rnnkit {command}" in result.stdout


def test_fit_unit_labels_the_report_and_the_printed_table(runner, plain_csv, tmp_path):
    out = tmp_path / "unit"
    args = ["fit", str(plain_csv), "-t", "demand", "-m", "gru", *TINY, "--out", str(out)]
    result = _ok(runner.invoke(app, [*args, "--unit", "MWh"]))
    assert "Test scores (MAE in MWh)" in result.stdout
    # one epoch of one allowed: the best epoch is where the budget ended, not convergence
    assert re.search(r"GRU .* 1 \(cap\) ", result.stdout)
    assert "GRU stopped at the epoch cap while still improving" in result.stdout
    page = (out / "report.html").read_text()
    assert "<h2>Test scores (MAE and RMSE in MWh)</h2>" in page
    assert "Values: demand in MWh." in page


def test_one_unit_per_target_or_one_for_all(runner, plain_csv):
    result = runner.invoke(app, ["fit", str(plain_csv), "-t", "demand", "--unit", "MWh,%"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Error: --unit: give one unit, or one per --target (1 target(s): demand). "
        "Received: --unit 'MWh,%'."
    )


def test_demo_help_lists_the_settings_the_demo_uses(runner):
    from rnnkit.cli.demo import DEMO_SETTINGS

    text = " ".join(_ok(runner.invoke(app, ["demo", "--help"])).stdout.split())
    for key in ("target", "window", "horizon", "max_rows", "epochs", "max_trials"):
        flag = "--" + key.replace("_", "-")
        shown = re.search(rf"{flag} (?:<int>|COLUMN) [^\[]*\[default: ([^\]]*)\]", text)
        assert shown is not None and shown.group(1) == str(DEMO_SETTINGS[key]), key


@pytest.mark.slow
def test_demo_finishes_within_five_minutes(tmp_path):
    import subprocess
    import sys
    import time

    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rnnkit.cli", "demo", "--out", str(tmp_path), "-q"],
        check=True,
        env={**__import__("os").environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")},
    )
    assert time.perf_counter() - started < 300
    assert (tmp_path / "report.html").is_file()


@pytest.mark.slow
def test_tune_with_two_worker_processes(runner, plain_csv, tmp_path):
    out = tmp_path / "workers"
    _ok(
        runner.invoke(
            app,
            [
                "tune",
                str(plain_csv),
                "-t",
                "demand",
                "--model",
                "gru",
                *TINY,
                "--max-trials",
                "4",
                "--workers",
                "2",
                "--out",
                str(out),
                "-q",
            ],
        )
    )
    trials = pd.read_csv(out / "tuning_gru.csv")
    assert len(trials) == 4 and trials["worker"].nunique() >= 1
    assert (out / "importance.png").is_file()  # 4 completed trials: importance is computed
