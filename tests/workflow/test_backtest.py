import re

import numpy as np
import pytest

from rnnkit.data.windows import make_windows
from rnnkit.errors import RnnkitValueError
from rnnkit.workflow.backtesting import backtest
from rnnkit.workflow.baselines import NaiveForecaster


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
