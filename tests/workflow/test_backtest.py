import re

import numpy as np
import pandas as pd
import pytest

from rnnkit.data.windows import make_windows
from rnnkit.errors import DataError
from rnnkit.errors import RnnkitValueError
from rnnkit.workflow.backtest_report import write_backtest_report
from rnnkit.workflow.backtest_run import fold_splits
from rnnkit.workflow.backtest_run import run_backtest
from rnnkit.workflow.backtesting import backtest
from rnnkit.workflow.baselines import NaiveForecaster
from rnnkit.workflow.spec import ForecastConfig
from rnnkit.workflow.train import fit_forecaster


def test_backtest_naive_on_a_line_hand_values():
    y = np.arange(20.0)
    seen = []

    def last_value(train_idx, test_idx):
        seen.append((train_idx.copy(), test_idx.copy()))
        return np.full(len(test_idx), y[train_idx[-1]])

    result = backtest(last_value, y, n_folds=2, test_size=5, gap=1)
    assert [len(t) for t, _ in seen] == [9, 14]
    assert [s[0] for _, s in seen] == [10, 15]
    # fold 0 forecasts 8 for 10..14: errors 2..6
    assert result.folds[0].metrics["MAE"] == pytest.approx(4.0)
    assert result.folds[0].metrics["MASE"] == pytest.approx(4.0)  # naive in-sample MAE is 1
    assert result.metrics["MAE"] == pytest.approx(4.0)
    np.testing.assert_array_equal(result.test_index, np.arange(10, 20))
    assert result.predictions.shape == (10,)
    table = result.to_frame()
    assert table["train_size"].tolist() == [9, 14]
    assert table["test_start"].tolist() == [10, 15]


def test_backtest_with_window_baseline_and_progress_callback():
    series = np.sin(np.arange(200.0) / 5)
    x, y = make_windows(series, window=10, horizon=3)
    folds = []

    def fit_predict(train_idx, test_idx):
        model = NaiveForecaster().fit(x[train_idx], y[train_idx])
        return model.predict(x[test_idx])

    result = backtest(fit_predict, y, n_folds=3, test_size=20, gap=2, on_fold=folds.append)
    assert [f.fold for f in folds] == [0, 1, 2]
    assert set(result.metrics) == {"MAE", "RMSE", "MAPE", "sMAPE", "MASE"}
    assert result.predictions.shape == (60, 3, 1)


def test_backtest_wrong_forecast_shape_message():
    with pytest.raises(
        RnnkitValueError,
        match=re.escape(
            "backtest(): fold 0: fit_predict returned shape (5, 1), but the test targets have "
            "shape (5,). Return one forecast per test sample, shaped like y[test_idx]."
        ),
    ):
        backtest(lambda tr, te: np.zeros((len(te), 1)), np.arange(20.0), n_folds=1, test_size=5)


def test_backtest_not_callable_message():
    with pytest.raises(RnnkitValueError, match=re.escape("`fit_predict` must be a callable")):
        backtest("model", np.arange(20.0), n_folds=1, test_size=5)


# ------------------------------------------------------------ rolling-origin runs


def _series(n: int = 260, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    return 10 + 3 * np.sin(2 * np.pi * steps / 6) + 0.01 * steps + rng.normal(0, 0.4, n)


WINDOW, SEASON = 8, 6


def _config(frame, **changes):
    settings = {
        "data": frame,
        "target": "y",
        "window": WINDOW,
        "season": SEASON,
        "epochs": 1,
        "batch_size": 32,
        "models": ("rnn",),
        "calendar": False,
    }
    return ForecastConfig(**{**settings, **changes})


@pytest.fixture(scope="module")
def refitted():
    """Two folds, refit at each origin, one SimpleRNN epoch: shared by the read-only tests."""
    frame = pd.DataFrame({"y": _series()})
    return frame, run_backtest(_config(frame), folds=2)


def test_fold_splits_hand_layout_with_a_gap():
    splits = fold_splits(40, folds=2, test_fraction=0.25, val_fraction=0.2, gap=1)
    # 5 test windows per fold ending at 40; fold 1 trains on 0..28 (29 is the gap before 30)
    assert [s.test for s in splits] == [slice(30, 35), slice(35, 40)]
    assert [(s.train, s.val) for s in splits] == [
        (slice(0, 22), slice(23, 29)),
        (slice(0, 26), slice(27, 34)),
    ]


def test_fold_splits_too_few_windows_message():
    message = (
        "run_backtest(): 12 windows leave 2 before the first of 5 test blocks of 2 window(s) "
        "(test_fraction=0.9, gap=0 window(s)): too few for 2 training and 1 validation window "
        "(after the gaps). Use fewer --folds, a smaller --test-fraction, a smaller window or "
        "horizon, or a longer series."
    )
    with pytest.raises(DataError, match=re.escape(message)):
        fold_splits(12, folds=5, test_fraction=0.9, val_fraction=0.15, caller="run_backtest()")


def test_baseline_fold_scores_equal_an_independent_computation(refitted):
    frame, run = refitted
    series = frame["y"].to_numpy()
    folds = run.fold_frame().set_index(["fold", "model"])
    errors = {"naive": [], "seasonal naive": []}
    scaled = {"naive": [], "seasonal naive": []}
    for number, fold in enumerate(run.folds, 1):
        split = fold.data.split
        targets = np.arange(split.test.start, split.test.stop) + WINDOW  # window i -> row i + 8
        last_train_target = split.train.stop - 1 + WINDOW
        history = series[: last_train_target + 1]
        for name, lag in (("naive", 1), ("seasonal naive", SEASON)):
            forecast = series[targets - lag]
            error = np.abs(series[targets] - forecast)
            scale = np.mean(np.abs(np.diff(history)))
            scale_seasonal = np.mean(np.abs(history[SEASON:] - history[:-SEASON]))
            row = folds.loc[(number, name)]
            assert row["MAE"] == pytest.approx(error.mean(), rel=1e-12)
            assert row["MASE"] == pytest.approx(error.mean() / scale, rel=1e-12)
            assert row["MASE_seasonal"] == pytest.approx(error.mean() / scale_seasonal, rel=1e-12)
            assert row["train_windows"] == split.train.stop
            errors[name].append(error)
            scaled[name].append(error / scale)
    pooled = run.pooled_frame()
    for name in errors:
        assert pooled.loc[name, "MAE"] == pytest.approx(np.concatenate(errors[name]).mean())
        assert pooled.loc[name, "MASE"] == pytest.approx(np.concatenate(scaled[name]).mean())
    ratio = np.concatenate(errors["seasonal naive"]).mean() / np.concatenate(errors["naive"]).mean()
    assert pooled.loc["seasonal naive", "rel_naive"] == pytest.approx(ratio)


def test_pooled_mase_is_the_mean_of_scaled_errors_and_the_verdict_names_the_best(refitted):
    _, run = refitted
    folds = run.fold_frame()
    pooled = run.pooled_frame()
    assert list(pooled.index) == ["naive", "seasonal naive", "linear on lags", "RNN"]
    assert set(folds["fold"]) == {1, 2} and len(folds) == 8
    sizes = folds.drop_duplicates("fold")["test_windows"].tolist()
    assert sizes[0] == sizes[1] == int(len(run.data.x) * run.config.test_fraction / 2)
    # equal test blocks: the pooled scaled errors average to the mean of the fold MASEs
    for name, rows in folds.groupby("model"):
        assert pooled.loc[name, "MASE"] == pytest.approx(rows["MASE"].mean(), rel=1e-12)
        assert pooled.loc[name, "windows"] == sum(sizes)
    best = pooled["MASE"].idxmin()
    verdict = run.verdict()
    assert verdict[0].startswith(f"Lowest pooled MASE: {best} (")
    wins = pooled.loc[best, "best_in_folds"]
    expected = "in every fold" if wins == 2 else f"in {wins} of 2 folds"
    assert expected in verdict[1]
    assert verdict[2].startswith("Best network RNN against the best baseline ")


def test_no_data_after_an_origin_reaches_its_fold():
    """Scramble everything after fold 1's test block: fold 1 must not change, fold 2 must.

    With global scaling, a scaler fitted on any later row would shift every forecast.
    """
    series = _series()
    clean = run_backtest(_config(pd.DataFrame({"y": series}), scaling="global"), folds=2)
    split = clean.folds[0].data.split
    after = split.test.stop - 1 + WINDOW + 1  # the row after fold 1's last test target
    scrambled = series.copy()
    scrambled[after:] = np.random.default_rng(7).normal(500, 200, len(series) - after)
    dirty = run_backtest(_config(pd.DataFrame({"y": scrambled}), scaling="global"), folds=2)
    first, changed = clean.folds[0], dirty.folds[0]
    assert changed.data.split == split
    for name, forecast in first.forecasts().items():
        np.testing.assert_array_equal(changed.forecasts()[name], forecast, err_msg=name)
    x_train = first.data.part("train")[0]
    np.testing.assert_array_equal(
        changed.data.scaler.transform(x_train), first.data.scaler.transform(x_train)
    )
    linear = "linear on lags"
    assert changed.data.baselines[linear].alpha_ == first.data.baselines[linear].alpha_
    assert changed.data.base_name == first.data.base_name
    a, b = clean.fold_frame(), dirty.fold_frame()
    pd.testing.assert_frame_equal(a[a["fold"] == 1], b[b["fold"] == 1])
    assert not np.allclose(a[a["fold"] == 2]["MAE"], b[b["fold"] == 2]["MAE"])


def test_no_refit_reuses_the_first_folds_networks_and_refits_the_baselines(refitted):
    frame, refit = refitted
    run = run_backtest(_config(frame), folds=2, refit=False)
    first, second = (fold.fits["RNN"] for fold in run.folds)
    assert second.forecaster is first.forecaster
    x_test = run.folds[1].data.part("test")[0]
    np.testing.assert_array_equal(second.predictions, first.forecaster.predict_windows(x_test))
    assert run.trained == [("RNN",), ()]
    table = run.fold_frame().set_index(["fold", "model"])
    assert table.loc[(1, "RNN"), "trained"] and not table.loc[(2, "RNN"), "trained"]
    assert np.isnan(table.loc[(2, "RNN"), "epochs_run"])
    # the first fold is the same run either way; the baselines move with each origin
    np.testing.assert_array_equal(first.predictions, refit.folds[0].fits["RNN"].predictions)
    baselines = [fold.data.baselines["linear on lags"] for fold in run.folds]
    assert baselines[0] is not baselines[1]
    np.testing.assert_array_equal(
        run.folds[1].baselines["linear on lags"], refit.folds[1].baselines["linear on lags"]
    )
    assert refit.folds[1].fits["RNN"].forecaster is not refit.folds[0].fits["RNN"].forecaster
    assert "trained at the first origin only (--no-refit)" in run.verdict()[-1]


def test_write_backtest_report_files(refitted, tmp_path):
    _, run = refitted
    page = write_backtest_report(run, tmp_path / "out", units="kWh")
    folder = page.parent
    for name in ("folds.csv", "pooled.csv", "forecasts.csv", "fold_mase.png", "origins.png"):
        assert (folder / name).stat().st_size > 0, name
    assert (folder / "fold_mase.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pooled = pd.read_csv(folder / "pooled.csv", index_col="model")
    pd.testing.assert_frame_equal(pooled, run.pooled_frame(), check_dtype=False)
    forecasts = pd.read_csv(folder / "forecasts.csv")
    per_fold = run.fold_frame().drop_duplicates("fold")["test_windows"].tolist()
    assert forecasts.groupby("fold").size().tolist() == per_fold
    text = page.read_text()
    assert run.verdict()[0] in text and "MAE and RMSE in kWh" in text
    assert f"Windows: {len(run.data.x):,} of {WINDOW} steps forecasting 1 step(s)" in text


def test_multi_step_folds_share_no_target_row_between_parts():
    frame = pd.DataFrame({"y": _series(200)})
    run = run_backtest(_config(frame, horizon=3), folds=2)
    for fold in run.folds:
        split, starts = fold.data.split, fold.data.starts
        rows = {  # first and last target row of each part: window i -> rows i + 8 .. i + 10
            part: (starts[s.start] + WINDOW, starts[s.stop - 1] + WINDOW + 2)
            for part, s in zip(("train", "val", "test"), split, strict=True)
        }
        assert rows["train"][1] < rows["val"][0] and rows["val"][1] < rows["test"][0]
        assert split.val.start - split.train.stop == 2 == split.test.start - split.val.stop
    assert run.pooled_frame().loc["naive", "windows"] == 2 * run.folds[0].data.sizes()["test"]
    assert run.forecast_frame()["step"].max() == 3


def test_fold_mase_axis_leaves_out_a_far_off_model():
    from rnnkit.workflow.backtest_report import _top

    table = pd.DataFrame(
        {"model": ["naive", "seasonal naive", "GRU"] * 2, "MASE": [0.9, 5.0, 0.8, 1.2, 5.5, 0.7]}
    )
    pooled = pd.Series({"naive": 1.05, "seasonal naive": 5.25, "GRU": 0.75})
    assert _top(table, pooled) == pytest.approx(1.2 * 1.1)
    assert _top(table, pooled.drop("seasonal naive")) is None  # nothing far off: automatic axis


def test_tuning_on_the_first_fold_sets_the_values_of_later_folds(tmp_path):
    frame = pd.DataFrame({"y": _series(200)})
    run = run_backtest(_config(frame, out=str(tmp_path)), folds=2, max_trials=2)
    tuning = run.tunings["RNN"]
    assert len(tuning.trials) == 2
    later = run.folds[1].fits["RNN"]
    assert later.hyperparameters == {**later.hyperparameters, **tuning.best_hyperparameters}
    assert run.folds[0].fits["RNN"] is tuning.fit
    assert (tmp_path / "tuning").is_dir()  # the study lives in the output folder, as for compare
    page = write_backtest_report(run, tmp_path / "report")
    assert len(pd.read_csv(page.parent / "tuning_rnn.csv")) == 2
    assert "tuned on the first fold (2 trial(s) each)" in page.read_text()


def test_a_target_constant_before_the_origin_gets_a_verdict_on_mae():
    series = np.r_[np.full(150, 5.0), np.arange(50.0)]
    run = run_backtest(_config(pd.DataFrame({"y": series}), season=None), folds=2)
    pooled = run.pooled_frame()
    assert pooled["MASE"].isna().all() and pooled["MAE"].notna().all()
    verdict = run.verdict()
    assert verdict[0].startswith("No model has a finite pooled MASE: the in-sample naive MAE")
    assert verdict[1].startswith(f"Lowest pooled MAE: {pooled['MAE'].idxmin()} (")


def test_max_time_is_shared_evenly_over_the_trainings_left(monkeypatch):
    from rnnkit.workflow import backtest_run

    shares = []

    def recording(config, *args, **kwargs):
        shares.append(config.max_time)
        return fit_forecaster(config, *args, **kwargs)

    monkeypatch.setattr(backtest_run, "fit_forecaster", recording)
    frame = pd.DataFrame({"y": _series(200)})
    run_backtest(_config(frame, max_time="10m"), folds=2)
    assert len(shares) == 2
    assert 250 < shares[0] < 300  # (600 s - what preparing took) / 2 trainings
    assert shares[0] < shares[1] < 600  # the first finished early and left its time
    shares.clear()
    run_backtest(_config(frame), folds=2)
    assert shares == [None, None]


def test_times_are_dates_only_when_every_time_is_midnight():
    from rnnkit.workflow.backtest_run import _time_text

    midnight = np.datetime64("2023-03-10T00:00")
    hourly = pd.date_range("2023-03-09", periods=48, freq="h")
    daily = pd.date_range("2023-03-01", periods=20, freq="D")
    assert _time_text(midnight, hourly) == "2023-03-10 00:00:00"
    assert _time_text(midnight, daily) == "2023-03-10"
    assert _time_text(np.int64(17), pd.RangeIndex(40)) == "17"
