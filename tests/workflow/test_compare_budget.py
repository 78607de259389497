"""A run's time budget: `max_time` (a hard deadline), its share per network, windows per epoch."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import rnnkit.cli.compare as compare_cli
from rnnkit.cli.app import app
from rnnkit.errors import RnnkitValueError
from rnnkit.workflow.compare import compare_models
from rnnkit.workflow.compare import network_share
from rnnkit.workflow.progress import TimeEstimate
from rnnkit.workflow.progress import WorkPlan
from rnnkit.workflow.spec import ForecastConfig
from rnnkit.workflow.spec import parse_duration
from rnnkit.workflow.train import fit_forecaster
from rnnkit.workflow.train import steps_per_epoch


def _frame(n: int = 400) -> pd.DataFrame:
    steps = np.arange(n)
    noise = np.random.default_rng(0).normal(0, 0.1, n)
    return pd.DataFrame({"y": np.sin(steps / 4.0) + noise})


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(90, 90.0), (2.5, 2.5), ("90", 90.0), ("90s", 90.0), ("5m", 300.0), ("5 min", 300.0),
     ("1.5h", 5400.0)],
)  # fmt: skip
def test_max_time_accepts_seconds_and_units(text, seconds):
    assert ForecastConfig(max_time=text).validate().max_time == seconds


@pytest.mark.parametrize("bad", [0, -5, "0s", "soon", "5 days", float("nan"), True])
def test_max_time_rejects_what_is_not_a_positive_duration(bad):
    with pytest.raises(RnnkitValueError, match=r"`max_time` must be a duration > 0.*Received"):
        ForecastConfig(max_time=bad).validate()


def test_each_network_gets_an_even_share_of_the_time_left():
    config = ForecastConfig(max_time="5m").validate()
    assert network_share(config, elapsed=0.0, networks_left=3) == 100.0
    assert network_share(config, elapsed=120.0, networks_left=2) == 90.0  # the first left 10 s
    assert network_share(config, elapsed=400.0, networks_left=1) == 1.0  # spent: one trial
    assert network_share(ForecastConfig(), elapsed=10.0, networks_left=1) is None


def test_an_epoch_draws_at_most_windows_per_epoch():
    config = ForecastConfig(batch_size=8, windows_per_epoch=64)
    assert steps_per_epoch(config, 1000) == 8
    assert steps_per_epoch(config, 64) is None
    assert steps_per_epoch(config.replace(windows_per_epoch=0), 1000) is None
    assert steps_per_epoch(config.replace(windows_per_epoch=None), 1000) is None


def test_capped_epochs_train_on_a_fresh_subset_and_are_seeded():
    def fit(**changes):
        config = ForecastConfig(data=_frame(), target="y", window=8, epochs=2, **changes)
        return fit_forecaster(config, "gru", {"units": 4}).history["loss"]

    capped = fit(windows_per_epoch=64, batch_size=16)
    assert capped == fit(windows_per_epoch=64, batch_size=16)  # seeded: the same subsets
    assert capped != fit(windows_per_epoch=0, batch_size=16)  # every window: another run


def test_fit_stops_at_max_time_and_keeps_its_best_epoch():
    config = ForecastConfig(
        data=_frame(2000), target="y", window=16, epochs=5000, patience=0, max_time=2,
        windows_per_epoch=0, batch_size=8,
    )  # fmt: skip
    started = time.perf_counter()
    result = fit_forecaster(config, "lstm", {"units": 8})
    assert time.perf_counter() - started < 30  # 5000 epochs would take an hour
    assert 1 <= result.epochs_run < 5000
    val_loss = result.history["val_loss"]
    assert result.best_epoch == int(np.argmin(val_loss)) + 1


def test_compare_shares_max_time_and_every_network_ends_with_a_result():
    config = ForecastConfig(
        data=_frame(2000), target="y", window=16, epochs=5000, patience=0, max_trials=2,
        max_time=6, windows_per_epoch=0, batch_size=8, intervals=(),
    )  # fmt: skip
    started = time.perf_counter()
    result = compare_models(config, models=["rnn", "gru"])
    assert time.perf_counter() - started < 60
    assert {"RNN", "GRU"} <= set(result.metrics.index)
    for tuning in result.tunings.values():
        assert set(tuning.trials.status) == {"COMPLETED"}  # cut trials complete
        assert tuning.fit.epochs_run < 5000
    assert np.isfinite(result.metrics.loc[["RNN", "GRU"], "MAE"]).all()


def test_time_left_never_passes_the_limit():
    now = [0.0]
    estimate = TimeEstimate(
        WorkPlan(trainings=10, epochs=20, max_seconds=30.0), clock=lambda: now[0]
    )
    estimate.begin("epochs", total=20)
    now[0] = 5.0
    estimate.advance("epochs")
    assert estimate.remaining() == 25.0  # 999 s of epochs at this pace, but 25 s to the limit
    now[0] = 40.0
    assert estimate.remaining() == 0.0


def test_cli_max_time_flag_is_parsed_and_compare_has_a_default_budget(tmp_path, monkeypatch):
    runs = []
    monkeypatch.setattr(compare_cli, "run_comparison", lambda run, **kw: runs.append(run))
    data = tmp_path / "series.csv"
    _frame().to_csv(data, index=False)
    runner = CliRunner()
    for flags, expected in (
        ([], 240.0),
        (["--max-time", "90s"], 90.0),
        (["--max-time", "none"], None),
    ):
        done = runner.invoke(app, ["compare", str(data), "--out", str(tmp_path / "o"), *flags])
        assert done.exit_code == 0, done.output
        assert runs[-1].max_time == expected
    assert parse_duration(compare_cli.DEFAULT_MAX_TIME) == 240.0
    bad = runner.invoke(app, ["tune", str(data), "--max-time", "soon"])
    assert bad.exit_code == 2
    assert "`max_time` must be a duration > 0" in bad.output


def test_max_time_none_means_no_limit_for_every_command_and_in_config_files(tmp_path, monkeypatch):
    from rnnkit.cli import common
    from rnnkit.workflow.spec import ForecastConfig
    from rnnkit.workflow.spec import config_from_mapping

    assert (
        config_from_mapping({"max_time": "None"}, base=ForecastConfig(max_time=240)).max_time
        is None
    )
    assert ForecastConfig(max_time="none").validate().max_time is None
    data = tmp_path / "series.csv"
    _frame().to_csv(data, index=False)
    config = tmp_path / "run.toml"
    config.write_text('max_time = "5m"\n')
    # fit and tune (no default budget): the flag overrides the file's limit
    run = common.build_config({"data": data, "max_time": "none"}, config)
    assert run.max_time is None
    assert common.build_config({"data": data}, config).max_time == 300.0
    runs = []
    monkeypatch.setattr(compare_cli, "run_comparison", lambda run, **kw: runs.append(run))
    done = CliRunner().invoke(
        app, ["compare", str(data), "--config", str(config), "--max-time", "none"]
    )
    assert done.exit_code == 0, done.output
    assert runs[-1].max_time is None
