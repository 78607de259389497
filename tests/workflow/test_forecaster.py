"""The forecasting workflow as a library: data preparation, training, tuning, saving, predicting."""

import itertools
import json
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from rnnkit.errors import CheckpointError
from rnnkit.errors import DataError
from rnnkit.workflow import ForecastConfig
from rnnkit.workflow import Forecaster
from rnnkit.workflow import compare_models
from rnnkit.workflow import config_from_mapping
from rnnkit.workflow import fit_forecaster
from rnnkit.workflow import load_config
from rnnkit.workflow import predict_from_csv
from rnnkit.workflow import prepare_data
from rnnkit.workflow import tune_forecaster
from rnnkit.workflow.importance import hyperparameter_importance
from rnnkit.workflow.measure import count_training_memory
from rnnkit.workflow.networks import build_network
from rnnkit.workflow.networks import check_hyperparameters
from rnnkit.workflow.networks import fixed_hyperparameters
from rnnkit.workflow.progress import ProgressListener

TINY = {"window": 12, "epochs": 1, "batch_size": 32}


def series_frame(n=200, *, seed=0, time=True):
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    frame = pd.DataFrame(
        {
            "sales": 100 + 10 * np.sin(2 * np.pi * steps / 24) + steps * 0.5 + rng.normal(0, 1, n),
            "price": 5 + rng.normal(0, 0.1, n),
        }
    )
    if time:
        frame.insert(0, "when", pd.date_range("2022-01-01", periods=n, freq="h").astype(str))
    return frame


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "sales.csv"
    series_frame().to_csv(path, index=False)
    return path


class Recorder(ProgressListener):
    def __init__(self):
        self.calls = []

    def begin(self, task, total=None, description=""):
        self.calls.append(("begin", task, total))

    def advance(self, task, steps=1, description=None):
        self.calls.append(("advance", task))


def test_prepare_data_finds_a_date_column_with_an_unusual_name(csv):
    data = prepare_data(ForecastConfig(data=csv, target="sales", **TINY))
    assert isinstance(data.frame.index, pd.DatetimeIndex)
    assert data.time_column == "when"
    assert data.frequency == "h"
    assert data.season == 1 and "longer than the 12-step window" in data.season_source
    assert data.features[:2] == ["sales", "price"]
    assert data.calendar == ["day", "week"]  # from the hourly index


def test_prepare_data_without_time_column_uses_row_numbers():
    data = prepare_data(ForecastConfig(data=series_frame(time=False), target="sales", **TINY))
    assert isinstance(data.frame.index, pd.RangeIndex)
    assert data.target_times("test")[0, 0] == data.starts[data.split.test][0] + 12


def test_prepare_data_scales_with_training_windows_only():
    frame = series_frame(time=False)
    data = prepare_data(ForecastConfig(data=frame, target="sales", scaling="global", **TINY))
    x_train, _ = data.part("train")
    assert data.scaler.mean_[0] == pytest.approx(x_train[:, :, 0].mean())
    assert data.scaler.mean_[0] < frame["sales"].mean()  # the trend: later values are higher


def test_prepare_data_leaves_horizon_gap_between_parts():
    data = prepare_data(
        ForecastConfig(data=series_frame(time=False), target="sales", horizon=4, window=12)
    )
    train_targets = data.target_times("train").max()
    assert data.target_times("val").min() > train_targets
    assert data.target_times("test").min() > data.target_times("val").max()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(60, 160),
    window=st.integers(1, 12),
    horizon=st.integers(1, 4),
    stride=st.integers(1, 3),
    gap=st.integers(0, 3),
)
def test_prepare_data_parts_are_chronological_and_share_no_target(n, window, horizon, stride, gap):
    frame = pd.DataFrame({"y": np.arange(n, dtype=float)})
    config = ForecastConfig(
        data=frame, target="y", window=window, horizon=horizon, stride=stride, gap=gap
    )
    data = prepare_data(config)
    parts = [data.target_times(p) for p in ("train", "val", "test")]
    assert all(len(p) for p in parts)
    for earlier, later in itertools.pairwise(parts):
        assert earlier.max() + gap < later.min()
    _, y = data.part("test")
    np.testing.assert_array_equal(y[:, :, 0], parts[2])  # y equals the row number here


def test_prepare_data_too_short_series_says_what_to_change():
    frame = pd.DataFrame({"y": np.arange(10.0)})
    with pytest.raises(DataError, match=re.escape("fewer than window + horizon = 13")):
        prepare_data(ForecastConfig(data=frame, target="y", window=12))


def test_prepare_data_unknown_target_suggests_the_column(csv):
    with pytest.raises(ValueError, match="Did you mean 'sales'"):
        prepare_data(ForecastConfig(data=csv, target="sale"))


def test_prepare_data_without_target_lists_the_columns(csv):
    with pytest.raises(DataError, match="one of: sales, price"):
        prepare_data(ForecastConfig(data=csv))


def test_fit_forecaster_forecasts_in_original_units(csv):
    recorder = Recorder()
    result = fit_forecaster(
        ForecastConfig(data=csv, target="sales", horizon=2, **TINY),
        "lstm",
        {"units": 4},
        progress=recorder,
    )
    _, y_test = result.data.part("test")
    assert result.predictions.shape == y_test.shape
    assert np.abs(result.predictions - y_test).mean() < 20  # levels near 200, not scaled values
    assert result.best_epoch == 1 and result.epochs_run == 1
    assert result.hyperparameters["units"] == 4
    assert result.params == 4 * 4 * (6 + 4 + 1) + 5 * 2  # inputs: 2 columns + 4 calendar
    assert result.peak_memory_bytes > 0 and "CPU" in result.memory_method
    assert result.kernels and result.kernels[0][0].startswith("lstm")
    assert ("advance", "epochs") in recorder.calls


def test_fit_forecaster_is_reproducible_with_a_seed(csv):
    config = ForecastConfig(data=csv, target="sales", seed=3, **TINY)
    first = fit_forecaster(config, "gru", {"units": 4}).predictions
    second = fit_forecaster(config, "gru", {"units": 4}).predictions
    np.testing.assert_array_equal(first, second)


def test_unknown_hyperparameter_is_rejected():
    with pytest.raises(ValueError, match="Did you mean 'units'"):
        check_hyperparameters({"unit": 4}, caller="fit_forecaster()")


def test_training_memory_orders_the_cells_by_size():
    x = np.zeros((32, 12, 3), dtype="float32")
    hp = fixed_hyperparameters({"units": 16})
    counts = {
        kind: count_training_memory(
            build_network(hp, kind=kind, window=12, features=3, outputs=1), x
        )
        for kind in ("rnn", "gru", "lstm")
    }
    assert counts["rnn"] < counts["gru"] < counts["lstm"]


def test_forecaster_save_load_round_trip_without_pickle(csv, tmp_path):
    result = fit_forecaster(ForecastConfig(data=csv, target="sales", **TINY), "rnn", {"units": 4})
    folder = result.save(tmp_path / "model")
    assert sorted(p.name for p in folder.iterdir()) == ["forecaster.json", "model.keras"]
    document = json.loads((folder / "forecaster.json").read_text())
    assert document["scaler"]["method"] == "window"
    assert document["spec"]["time_column"] == "when"
    loaded = Forecaster.load(folder)
    x_test, _ = result.data.part("test")
    np.testing.assert_allclose(loaded.predict_windows(x_test), result.predictions, rtol=1e-6)


def test_predict_from_csv_forecasts_after_the_last_row(csv, tmp_path):
    config = ForecastConfig(data=csv, target="sales", horizon=3, **TINY)
    folder = fit_forecaster(config, "gru", {"units": 4}).save(tmp_path / "model")
    future = predict_from_csv(folder, csv)
    assert list(future.columns) == ["sales"]
    assert [str(t) for t in future.index] == [
        "2022-01-09 08:00:00",
        "2022-01-09 09:00:00",
        "2022-01-09 10:00:00",
    ]
    every = predict_from_csv(folder, csv, all_origins=True)
    assert len(every) == (200 - 12 + 1) * 3
    assert (
        every["sales_actual"].iloc[:3].notna().all()
        and every["sales_actual"].iloc[-1:].isna().all()
    )


def test_predict_from_csv_names_a_missing_column(csv, tmp_path):
    folder = fit_forecaster(
        ForecastConfig(data=csv, target="sales", **TINY), "rnn", {"units": 4}
    ).save(tmp_path / "model")
    other = tmp_path / "other.csv"
    series_frame().drop(columns="price").to_csv(other, index=False)
    with pytest.raises(DataError, match="no column 'price'"):
        predict_from_csv(folder, other)


def test_predict_from_csv_needs_a_forecaster_folder(csv, tmp_path):
    with pytest.raises(CheckpointError, match="not a saved forecaster"):
        predict_from_csv(tmp_path, csv)


def test_tune_forecaster_runs_the_trials_and_refits_the_best(csv, tmp_path):
    config = ForecastConfig(data=csv, target="sales", max_trials=2, out=tmp_path, **TINY)
    recorder = Recorder()
    tuned = tune_forecaster(config, "rnn", progress=recorder)
    assert len(tuned.trials) == 2
    assert tuned.fit.hyperparameters == {**tuned.fit.hyperparameters, **tuned.best_hyperparameters}
    assert tuned.importance is None and "at least 4" in tuned.importance_method
    assert tuned.project_dir == tmp_path / "tuning" / "rnnkit_rnn"
    assert recorder.calls.count(("advance", "trials")) == 2


def test_tune_forecaster_needs_trials(csv):
    with pytest.raises(ValueError, match="max_trials must be at least 1"):
        tune_forecaster(ForecastConfig(data=csv, target="sales", max_trials=0), "rnn")


def test_compare_models_scores_networks_beside_baselines(csv):
    result = compare_models(
        ForecastConfig(data=csv, target="sales", max_trials=0, **TINY), models=["rnn", "gru"]
    )
    metrics = result.metrics
    assert list(metrics.index) == ["naive", "seasonal naive", "linear on lags", "RNN", "GRU"]
    assert metrics.loc["naive", "rel_naive"] == pytest.approx(1.0)
    assert (
        metrics.loc[["RNN", "GRU"], ["params", "seconds_per_epoch", "peak_memory_mb", "best_epoch"]]
        .notna()
        .all()
        .all()
    )
    assert any("seasonal naive forecast on the test period" in line for line in result.headline)
    assert len(result.verdicts) == 6  # 2 networks x (naive, seasonal naive, linear on lags)
    frame = result.forecast_frame()
    assert list(frame.columns[:4]) == ["time", "step", "target", "actual"]
    assert {"RNN", "GRU", "naive"} <= set(frame.columns)


def test_config_from_mapping_rejects_unknown_settings():
    with pytest.raises(ValueError, match="Did you mean 'horizon'"):
        config_from_mapping({"horizn": 3})


def test_load_config_resolves_paths_relative_to_the_file(tmp_path):
    file = tmp_path / "run.toml"
    file.write_text('[forecast]\ndata = "a.csv"\nwindow = 6\n')
    values = load_config(file)
    assert values == {"data": str(tmp_path / "a.csv"), "window": 6}


def test_importance_falls_back_with_a_reason():
    trials = pd.DataFrame({"status": ["COMPLETED"] * 2, "score": [1.0, 2.0], "hp_units": [8, 16]})
    importance, method = hyperparameter_importance(trials)
    assert importance is None and "at least 4 are needed" in method


class _Tuner:
    def __init__(self, answer):
        self.answer, self.calls = answer, 0

    def get_hyperparameter_importances(self):
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_importance_asks_the_tuner_from_four_trials_and_falls_back_when_it_cannot():
    trials = pd.DataFrame(
        {"status": ["COMPLETED"] * 4, "score": [1.0, 1.1, 3.0, 3.1], "hp_units": [8, 8, 64, 64]}
    )
    native = _Tuner({"units": 1.0})
    assert hyperparameter_importance(trials.head(3), tuner=native)[0] is None
    assert native.calls == 0  # fewer than 4 trials: not asked
    importance, method = hyperparameter_importance(trials, tuner=native)
    assert importance == {"units": 1.0} and "fANOVA importance over 4 completed" in method
    failing = _Tuner(ValueError("no hyperparameter varied"))
    importance, method = hyperparameter_importance(trials, tuner=failing)
    assert importance == {"units": 1.0} and method.startswith("share of the score")
