"""Split conformal intervals, their coverage, and non-negative targets."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.errors import DataError
from rnnkit.errors import RnnkitValueError
from rnnkit.workflow.baselines import NaiveForecaster
from rnnkit.workflow.intervals import ConformalIntervals
from rnnkit.workflow.intervals import clip_non_negative
from rnnkit.workflow.intervals import coverage_table
from rnnkit.workflow.intervals import fit_conformal
from rnnkit.workflow.intervals import non_negative_targets
from rnnkit.workflow.intervals import parse_levels


def test_widths_use_the_finite_sample_rank_per_step():
    # 19 windows, absolute errors 1..19 at step 1 and 10..190 at step 2:
    # level 0.8 -> rank ceil(20 * 0.8) = 16, level 0.95 -> rank 19
    errors = np.arange(1.0, 20.0)
    actual = np.zeros((19, 2, 1))
    forecast = np.stack([errors, errors * 10], axis=1)[..., None]
    intervals = fit_conformal(actual, forecast, [0.95, 0.8])
    assert intervals.levels == (0.8, 0.95)
    assert intervals.widths[:, :, 0].tolist() == [[16.0, 160.0], [19.0, 190.0]]
    assert intervals.exact


def test_too_few_windows_use_the_largest_error_and_say_so():
    actual = np.zeros((5, 1, 1))
    forecast = np.arange(1.0, 6.0).reshape(5, 1, 1)
    intervals = fit_conformal(actual, forecast, [0.95])  # needs rank 6 of 5
    assert intervals.widths.ravel().tolist() == [5.0]
    assert not intervals.exact


def test_coverage_is_near_nominal_on_exchangeable_errors():
    rng = np.random.default_rng(0)
    val = rng.standard_t(df=3, size=(400, 3, 1))  # heavy tails: no normal assumption
    test = rng.standard_t(df=3, size=(4000, 3, 1))
    intervals = fit_conformal(val, np.zeros_like(val), [0.8, 0.95])
    table = coverage_table(test, {"m": np.zeros_like(test)}, {"m": intervals})
    assert table["coverage"].tolist() == pytest.approx([0.8, 0.95], abs=0.03)
    assert [c for c in table.columns if c.startswith("step_")] == ["step_1", "step_2", "step_3"]


def test_naive_lower_bound_clipped_at_zero_for_counts():
    # a count series near zero: the naive forecast's interval would reach below 0
    counts = np.array([0.0, 2.0, 1.0, 0.0, 5.0, 1.0, 0.0, 3.0, 1.0, 0.0, 2.0, 6.0] * 4)
    assert non_negative_targets(counts[:, None]) == (True,)
    x = np.lib.stride_tricks.sliding_window_view(counts[:-1], 3)[..., None]
    y = counts[3:, None, None]
    naive = NaiveForecaster().fit(x, y)
    forecast = naive.predict(x)
    intervals = fit_conformal(y, forecast, [0.9], non_negative=(True,))
    assert intervals.widths.ravel()[0] > 1.0
    lower, upper = intervals.bounds(forecast, 0.9)
    assert np.any(forecast - intervals.widths[0] < 0)  # what an unclipped bound would be
    assert lower.min() == 0.0
    assert np.all(upper == forecast + intervals.widths[0])
    unbounded = fit_conformal(y, forecast, [0.9])
    assert unbounded.bounds(forecast, 0.9)[0].min() < 0


def test_non_negative_rule():
    t = np.arange(200.0)
    pm25 = np.abs(np.sin(t / 5)) * 300  # touches 0
    price = 100 + np.sin(t / 7) * 10  # positive but far from 0
    temp = np.sin(t / 9) * 10  # goes negative
    near = 1 + np.abs(np.sin(t / 3)) * 100  # min 1 of range 100: within 5 %
    flat_zero = np.zeros(200)
    flags = non_negative_targets(np.stack([pm25, price, temp, near, flat_zero], axis=1))
    assert flags == (True, False, False, True, True)


def test_clip_non_negative_only_flagged_targets():
    values = np.array([[[-2.0, -2.0], [3.0, -1.0]]])
    assert clip_non_negative(values, (True, False)).tolist() == [[[0.0, -2.0], [3.0, -1.0]]]
    assert clip_non_negative(values, ()).tolist() == values.tolist()


def test_parse_levels_accepts_fractions_and_percentages():
    assert parse_levels("0.8, 0.95") == (0.8, 0.95)
    assert parse_levels("95,80") == (0.8, 0.95)
    assert parse_levels([0.9, 0.9]) == (0.9,)
    assert parse_levels("") == ()
    with pytest.raises(
        RnnkitValueError, match=r"^intervals: interval level '1.5x' is not a number"
    ):
        parse_levels("0.8,1.5x")
    with pytest.raises(RnnkitValueError, match=r"interval level '0' must be between 0 and 1"):
        parse_levels("0")


def test_round_trip_and_unknown_level():
    intervals = ConformalIntervals((0.8,), np.array([[[1.0, 2.0]]]), 12, (False, True))
    clone = ConformalIntervals.from_dict(intervals.to_dict(), (False, True))
    assert clone.levels == (0.8,) and clone.widths.tolist() == [[[1.0, 2.0]]]
    assert clone.calibration_windows == 12 and clone.non_negative == (False, True)
    with pytest.raises(RnnkitValueError, match=r"no intervals at level 0.95. Available: 0.8"):
        intervals.bounds(np.zeros((1, 1, 2)), 0.95)


def test_fit_conformal_errors():
    with pytest.raises(DataError, match=r"^fit_conformal\(\): actual and forecast must have"):
        fit_conformal(np.zeros((3, 1, 1)), np.zeros((3, 2, 1)), [0.8])
    with pytest.raises(DataError, match=r"hold 1 NaN or infinite values"):
        fit_conformal(np.zeros((3, 1, 1)), np.array([[[1.0]], [[np.nan]], [[0.0]]]), [0.8])


# ----------------------------------------------------------- through compare and predict
@pytest.fixture(scope="module")
def count_run(tmp_path_factory):
    import pandas as pd

    from rnnkit.workflow.compare import compare_models
    from rnnkit.workflow.spec import ForecastConfig

    rng = np.random.default_rng(5)
    t = np.arange(240)
    counts = rng.poisson(np.maximum(0.2, 3 + 3 * np.sin(t / 4.0))).astype(float)
    frame = pd.DataFrame({"visits": counts})
    config = ForecastConfig(
        data=frame,
        target="visits",
        window=6,
        horizon=2,
        epochs=1,
        max_trials=0,
        intervals="0.8,0.95",
        val_fraction=0.25,
    )
    result = compare_models(config, models=["gru"])
    folder = tmp_path_factory.mktemp("models")
    saved = result.save_models(folder)
    return frame, result, saved["GRU"]


def test_compare_calibrates_every_model_and_measures_coverage(count_run):
    _, result, _ = count_run
    assert result.non_negative == (True,)
    assert set(result.intervals) == {"naive", "seasonal naive", "linear on lags", "GRU"}
    table = result.coverage
    assert sorted(set(table["level"])) == [0.8, 0.95]
    assert {"step_1", "step_2"} <= set(table.columns)
    assert table["coverage"].between(0, 1).all()
    frame = result.forecast_frame()
    assert frame["GRU_lower_80"].min() >= 0.0
    assert (frame["GRU_lower_95"] <= frame["GRU_lower_80"]).all()
    assert (frame["GRU_upper_95"] >= frame["GRU_upper_80"]).all()
    for forecast in result.forecasts().values():
        assert forecast.min() >= 0.0
    assert any("treated as non-negative" in note for note in result.notes)
    assert any("split conformal" in note for note in result.notes)


def test_saved_forecaster_writes_interval_columns(count_run, tmp_path):
    import json

    from rnnkit.workflow.forecaster import Forecaster
    from rnnkit.workflow.forecaster import predict_from_csv

    frame, result, folder = count_run
    spec = json.loads((folder / "forecaster.json").read_text())["spec"]
    widths = result.intervals["GRU"].widths
    assert spec["intervals"]["levels"] == [0.8, 0.95]
    assert spec["intervals"]["widths"] == widths.tolist()
    assert spec["non_negative"] == [True]
    csv = tmp_path / "recent.csv"
    frame.tail(30).to_csv(csv, index=False)
    out = predict_from_csv(folder, csv)
    assert list(out.columns) == ["visits", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert np.allclose(out["upper_80"] - out["visits"], widths[0, :, 0])
    assert (out["lower_80"] >= 0).all() and (out["visits"] >= 0).all()
    only = predict_from_csv(folder, csv, intervals="0.95")
    assert list(only.columns) == ["visits", "lower_95", "upper_95"]
    origins = Forecaster.load(folder).predict(frame.tail(10), all_origins=True)
    assert {"visits_lower_80", "visits_upper_95"} <= set(origins.columns)
    with pytest.raises(RnnkitValueError, match=r"has no 0.5 interval \(saved levels: 0.8, 0.95\)"):
        predict_from_csv(folder, csv, intervals="0.5")


def test_forecaster_schema_checks_interval_widths(count_run, tmp_path):
    import json
    import shutil

    from rnnkit.errors import CheckpointError
    from rnnkit.workflow.forecaster import Forecaster

    _, _, folder = count_run
    copy = tmp_path / "gru"
    shutil.copytree(folder, copy)
    document = json.loads((copy / "forecaster.json").read_text())
    document["spec"]["intervals"]["widths"][0][0] = [-1.0]
    (copy / "forecaster.json").write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match=r"spec 'intervals' 'widths' must hold"):
        Forecaster.load(copy)
    document["spec"]["intervals"]["widths"] = [[[1.0]], [[2.0]]]  # one step for horizon 2
    (copy / "forecaster.json").write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match=r"widths must be 2 rows \(the horizon\)"):
        Forecaster.load(copy)


def test_cli_predict_interval_option(count_run, tmp_path):
    from typer.testing import CliRunner

    from rnnkit.cli.app import app

    frame, _, folder = count_run
    csv = tmp_path / "recent.csv"
    frame.tail(30).to_csv(csv, index=False)
    runner = CliRunner()
    result = runner.invoke(app, ["predict", str(folder), str(csv), "--interval", "0.8"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "step,visits,lower_80,upper_80"
    none = runner.invoke(app, ["predict", str(folder), str(csv), "--interval", ""])
    assert none.stdout.splitlines()[0] == "step,visits"
    bad = runner.invoke(app, ["predict", str(folder), str(csv), "--interval", "0.99"])
    assert bad.exit_code == 1
    assert "has no 0.99 interval (saved levels: 0.8, 0.95)" in bad.stderr


def test_cli_fit_interval_option_sets_the_saved_levels(tmp_path):
    import json

    import pandas as pd
    from typer.testing import CliRunner

    from rnnkit.cli.app import app

    csv = tmp_path / "series.csv"
    pd.DataFrame({"y": np.sin(np.arange(150) / 3.0) + 5}).to_csv(csv, index=False)
    out = tmp_path / "out"
    args = ["fit", str(csv), "--model", "gru", "--units", "4", "--window", "6", "--epochs", "1"]
    result = CliRunner().invoke(app, [*args, "--interval", "90", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    spec = json.loads((out / "models" / "gru" / "forecaster.json").read_text())["spec"]
    assert spec["intervals"]["levels"] == [0.9]
    assert spec["non_negative"] == [False]  # 4..6: positive, far from 0
    bad = CliRunner().invoke(app, [*args, "--interval", "0.8,150", "--out", str(out), "-q"])
    assert bad.exit_code == 2
    assert "interval level '150' must be between 0 and 1" in bad.stderr


def test_console_and_summary_lines_show_intervals(count_run):
    from rnnkit.cli.common import coverage_lines
    from rnnkit.workflow.summary import summarize_path

    _, result, folder = count_run
    rows = result.coverage[result.coverage["model"] == "GRU"]
    expected = (
        f"GRU prediction intervals on the test period: 80% interval covers "
        f"{rows['coverage'].iloc[0]:.0%}, 95% interval covers {rows['coverage'].iloc[1]:.0%}."
    )
    assert coverage_lines(result) == [expected]
    lines = summarize_path(folder)
    width = result.intervals["GRU"].widths[0, 0, 0]
    assert any(
        line.startswith("Prediction intervals (conformal, from ") and f"80% ± {width:.4g}" in line
        for line in lines
    )
    assert "Non-negative target(s), forecasts clipped at 0: visits." in lines


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ((), "wide", r"spec 'intervals' must be an object with 'levels', 'widths'"),
        (("levels",), [1.0, 0.95], r"'levels' must be 1 to 100 numbers between 0 and 1"),
        (("levels",), [0.8], r"'widths' must hold, per level, rows"),
        (("calibration_windows",), 0, r"'calibration_windows' must be a positive integer"),
        (("calibration_windows",), True, r"'calibration_windows' must be a positive integer"),
        (("widths",), [[[True], [1.0]], [[1.0], [2.0]]], r"'widths' must hold"),
        (("widths",), [[["1"], [1.0]], [[1.0], [2.0]]], r"'widths' must hold"),
        (("widths",), [[[1.0, 2.0], [1.0, 2.0]], [[1.0], [2.0]]], r"rows \(the horizon\) of 1"),
    ],
)
def test_forecaster_schema_refuses_bad_interval_values(count_run, tmp_path, path, value, message):
    import json
    import shutil

    from rnnkit.errors import CheckpointError
    from rnnkit.workflow.forecaster import Forecaster

    _, _, folder = count_run
    copy = tmp_path / "gru"
    shutil.copytree(folder, copy)
    document = json.loads((copy / "forecaster.json").read_text())
    if path:
        document["spec"]["intervals"][path[0]] = value
    else:
        document["spec"]["intervals"] = value
    (copy / "forecaster.json").write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match=message):
        Forecaster.load(copy)


def test_forecaster_schema_refuses_wrong_non_negative_flags(count_run, tmp_path):
    import json
    import shutil

    from rnnkit.errors import CheckpointError
    from rnnkit.workflow.forecaster import Forecaster

    _, _, folder = count_run
    copy = tmp_path / "gru"
    shutil.copytree(folder, copy)
    document = json.loads((copy / "forecaster.json").read_text())
    for flags, message in (
        ([True, False], r"spec 'non_negative' has 2 flags for 1 targets"),
        ([1], r"spec 'non_negative' must be a list of true/false, one per target"),
    ):
        document["spec"]["non_negative"] = flags
        (copy / "forecaster.json").write_text(json.dumps(document))
        with pytest.raises(CheckpointError, match=message):
            Forecaster.load(copy)
