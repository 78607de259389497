"""`rnnkit backtest` on CSV files the project has never seen: outputs, refit choice, bad flags."""

import re

import pandas as pd
import pytest
from cli_helpers import TINY

from rnnkit.cli.app import app

#: One SimpleRNN, two origins: the smallest real backtest.
SMALL = [*TINY, "--models", "rnn", "--folds", "2"]


def _ok(result):
    assert result.exit_code == 0, result.stderr + result.stdout
    return result


def test_backtest_with_defaults_writes_the_report_folder(runner, tmp_path, dated_csv):
    result = _ok(runner.invoke(app, ["backtest", str(dated_csv), "--target", "demand", *SMALL]))
    out = tmp_path / "rnnkit_backtest"  # the default folder, in the working directory
    for name in ("folds.csv", "pooled.csv", "forecasts.csv", "fold_mase.png", "origins.png"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "models" / "rnn" / "forecaster.json").is_file()
    folds = pd.read_csv(out / "folds.csv")
    models = ["naive", "seasonal naive", "linear on lags", "RNN"]
    assert folds["model"].tolist() == models * 2
    assert folds["fold"].tolist() == [1] * 4 + [2] * 4
    assert folds["trained"].all()
    # the time column ('stamp') was detected: origins are timestamps, an hour before each test
    origin = pd.Timestamp(folds["origin"].iloc[0])
    assert pd.Timestamp(folds["test_start"].iloc[0]) - origin == pd.Timedelta(hours=1)
    # --test-fraction 0.3 by default, split over the 2 folds
    windows = 240 - 12  # rows minus the window
    assert folds["test_windows"].iloc[0] == int(windows * 0.3 / 2)
    pooled = pd.read_csv(out / "pooled.csv", index_col="model")
    assert pooled.index.tolist() == models
    assert pooled["windows"].eq(2 * folds["test_windows"].iloc[0]).all()
    best = pooled["MASE"].idxmin()
    assert f"Lowest pooled MASE: {best} (" in result.stdout
    assert re.search(r"│ RNN +│[^\n]*│ +\d/2 │", result.stdout)  # the printed table
    html = (out / "report.html").read_text()
    assert "MASE in each fold" in html and f"Lowest pooled MASE: {best}" in html
    assert "max_time&quot;: 480.0" in html  # 4 minutes per fold trained, 2 folds


def test_no_refit_trains_the_networks_at_the_first_origin_only(runner, tmp_path, plain_csv):
    out = tmp_path / "bt"
    args = ["backtest", str(plain_csv), "--target", "demand", *SMALL, "--no-refit"]
    result = _ok(runner.invoke(app, [*args, "--out", str(out), "--quiet"]))
    folds = pd.read_csv(out / "folds.csv").set_index(["fold", "model"])
    assert folds.loc[(1, "RNN"), "trained"] and not folds.loc[(2, "RNN"), "trained"]
    assert folds.loc[(2, "linear on lags"), "trained"]  # baselines: refitted at every origin
    assert "trained at the first origin only (--no-refit)" in result.stdout
    assert "Backtest: 2 fold(s)" not in result.stdout  # --quiet: no table
    assert "max_time&quot;: 240.0" in (out / "report.html").read_text()  # one fold trained


def test_max_time_none_lifts_the_limit(runner, tmp_path, plain_csv):
    out = tmp_path / "bt"
    args = ["backtest", str(plain_csv), "--target", "demand", *SMALL, "--folds", "1"]
    _ok(runner.invoke(app, [*args, "--max-time", "none", "--out", str(out), "--quiet"]))
    assert "max_time&quot;: null" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--folds", "0"], 2, "Error: --folds must be between 1 and 50 (each fold trains every "),
        (["--folds", "500"], 2, "Received: --folds 500."),
        (["--test-fraction", "1.5"], 2, "`test_fraction` must be in (0, 1). Received: "),
        (["--models", "rnn,cnn"], 2, "unknown model 'cnn'"),
        (["--max-time", "soon"], 2, "max_time"),
        (
            ["--max-rows", "60", "--folds", "47", "--test-fraction", "0.7"],
            1,
            "Error: run_backtest(): 48 windows leave 1 before the first of 47 test blocks of 1 "
            "window(s) (test_fraction=0.7, gap=0 window(s)): too few for 2 training and 1 ",
        ),
    ],
)
def test_bad_arguments_fail_with_one_line(runner, dated_csv, args, code, message):
    result = runner.invoke(app, ["backtest", str(dated_csv), "--target", "demand", *TINY, *args])
    assert result.exit_code == code, result.stderr + result.stdout
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
