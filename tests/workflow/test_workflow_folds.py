"""Tuning folds in the workflow: `ForecastConfig.folds`, `tuning_folds`, `--folds K`."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rnnkit.cli.app import app
from rnnkit.data.splits import ChronologicalSplit
from rnnkit.errors import DataError
from rnnkit.workflow.prepare import prepare_data
from rnnkit.workflow.prepare import tuning_folds
from rnnkit.workflow.prepare import tuning_splits
from rnnkit.workflow.spec import ForecastConfig


def _config(values: np.ndarray, **changes) -> ForecastConfig:
    frame = pd.DataFrame({"y": values})
    settings = {"data": frame, "target": "y", "window": 6, "horizon": 2, "calendar": False}
    return ForecastConfig(**{**settings, **changes})


def _level_shift(n: int = 200, *, later: float) -> np.ndarray:
    """A noisy cycle whose level jumps by `later` at row 120."""
    rng = np.random.default_rng(3)
    values = 10 + np.sin(np.arange(n) / 3.0) + 0.1 * rng.normal(size=n)
    values[120:] += later
    return values


def test_a_folds_scaler_and_baselines_see_only_its_training_windows():
    low = prepare_data(_config(_level_shift(later=0.0), scaling="global"))
    high = prepare_data(_config(_level_shift(later=100.0), scaling="global"))
    folds_low, folds_high = tuning_folds(low, 3), tuning_folds(high, 3)
    first = folds_low[0].split
    last_row = int(low.starts[first.val.stop - 1]) + 6 + 2  # rows fold 0 reads, end excluded
    assert last_row <= 120  # the level shift comes after everything fold 0 sees
    # fold 0 is identical whatever the later level: scaler, scaled parts, baselines
    for part in ("train", "val"):
        for a, b in zip(folds_low[0].scaled(part), folds_high[0].scaled(part), strict=True):
            np.testing.assert_array_equal(a, b)
    assert folds_low[0].base_scores == folds_high[0].base_scores
    train_values = low.x[first.train].reshape(-1, 1)
    np.testing.assert_allclose(folds_high[0].scaler.mean_, train_values.mean(axis=0))
    # the usual split's scaler has seen the jump (its training part reaches past row 120)
    assert high.scaler.mean_[0] > folds_high[0].scaler.mean_[0] + 10
    assert folds_high[-1] is high


def test_the_last_fold_is_the_usual_split_and_blocks_walk_back_by_its_size():
    data = prepare_data(_config(np.sin(np.arange(300) / 5.0), gap=2))
    splits = tuning_splits(data.split, 3)
    assert splits[-1] == data.split
    gap = data.split.val.start - data.split.train.stop
    size = data.split.val.stop - data.split.val.start
    for earlier, later in itertools.pairwise(splits):
        assert earlier.val.stop == later.val.start
        assert earlier.val.stop - earlier.val.start == size
        assert earlier.val.start - earlier.train.stop == gap
        assert earlier.test == data.split.test


def test_too_few_windows_for_the_folds_is_a_data_error_that_names_a_fix():
    split = ChronologicalSplit(slice(0, 8), slice(9, 12), slice(12, 15))
    with pytest.raises(DataError, match=r"leave 0 training window\(s\).*Use folds=3 or fewer"):
        tuning_splits(split, 4, caller="tune_forecaster()")


def test_tune_with_two_folds_reports_each_folds_score(tmp_path):
    path = tmp_path / "series.csv"
    pd.DataFrame({"level": _level_shift(240, later=3.0)}).to_csv(path, index=False)
    out = tmp_path / "report"
    args = ["tune", str(path), "--model", "gru", "--folds", "2", "--max-trials", "2"]
    args += ["--window", "8", "--epochs", "2", "--out", str(out), "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    trials = pd.read_csv(out / "tuning_gru.csv")
    assert list(trials["status"]) == ["COMPLETED", "COMPLETED"]
    folds = trials[["fold_0_score", "fold_1_score"]].to_numpy()
    np.testing.assert_allclose(trials["score"], folds.mean(axis=1), rtol=1e-6)
    assert (trials["best_step"] == trials["fold_1_best_step"]).all()
    html = (out / "report.html").read_text()
    assert "Each trial was scored on 2 validation blocks" in html
    assert "fold_1_score" in html


def test_compare_refuses_more_folds_than_the_series_holds_before_training(tmp_path):
    path = tmp_path / "short.csv"
    pd.DataFrame({"level": np.arange(60.0)}).to_csv(path, index=False)
    args = ["compare", str(path), "--folds", "9", "--window", "8", "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(app, [*args, "--max-trials", "1", "-q"])
    assert result.exit_code == 1
    assert "compare_models(): 9 folds of" in result.output
    assert not (tmp_path / "o" / "tuning").exists()
