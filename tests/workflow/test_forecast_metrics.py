import math
import re

import numpy as np
import pytest

from rnnkit.errors import DataError
from rnnkit.errors import RnnkitValueError
from rnnkit.workflow.forecast_metrics import compare_to_naive
from rnnkit.workflow.forecast_metrics import forecast_metrics
from rnnkit.workflow.forecast_metrics import horizon_errors
from rnnkit.workflow.forecast_metrics import mae
from rnnkit.workflow.forecast_metrics import mape
from rnnkit.workflow.forecast_metrics import mase
from rnnkit.workflow.forecast_metrics import naive_scale
from rnnkit.workflow.forecast_metrics import rmse
from rnnkit.workflow.forecast_metrics import smape
from rnnkit.workflow.forecast_metrics import summarize_verdicts

TRUE = np.array([2.0, 4.0, 8.0])
PRED = np.array([3.0, 4.0, 5.0])


def test_point_metrics_hand_values():
    assert mae(TRUE, PRED) == pytest.approx(4 / 3)  # |-1| + 0 + 3
    assert rmse(TRUE, PRED) == pytest.approx(math.sqrt(10 / 3))
    assert mape(TRUE, PRED) == pytest.approx(100 * (1 / 2 + 0 + 3 / 8) / 3)
    assert smape(TRUE, PRED) == pytest.approx(200 * (1 / 5 + 0 + 3 / 13) / 3)


def test_mape_is_nan_with_a_zero_actual_and_smape_handles_zero_pairs():
    assert math.isnan(mape([0.0, 1.0], [1.0, 1.0]))
    assert smape([0.0, 1.0], [0.0, 3.0]) == pytest.approx(200 * (0 + 2 / 4) / 2)


def test_naive_scale_plain_and_seasonal():
    train = np.array([1.0, 3.0, 2.0, 6.0, 4.0])
    assert naive_scale(train).tolist() == [pytest.approx((2 + 1 + 4 + 2) / 4)]
    assert naive_scale(train, season=2).tolist() == [pytest.approx((1 + 3 + 2) / 3)]


def test_mase_hand_value():
    # MAE 4/3, in-sample naive MAE of [1, 3, 2, 6, 4] is 9/4
    assert mase(TRUE, PRED, y_train=[1.0, 3.0, 2.0, 6.0, 4.0]) == pytest.approx((4 / 3) / (9 / 4))


def test_mase_with_seasonal_scale_hand_value():
    train = [1.0, 5.0, 3.0, 2.0, 5.0, 3.0, 1.0, 6.0, 3.0]  # lag-3 changes 1,0,0,1,1,0
    assert naive_scale(train, season=3).tolist() == [0.5]
    assert mase([2.0, 5.0, 3.0], [1.0, 5.0, 3.0], y_train=train, season=3) == pytest.approx(2 / 3)


def test_mase_multi_target_averages_per_target_ratios():
    y_true = np.zeros((2, 1, 2))
    y_pred = np.array([[[1.0, 10.0]], [[1.0, 10.0]]])
    train = np.column_stack([[0.0, 1.0, 2.0], [0.0, 10.0, 20.0]])  # scales 1 and 10
    assert mase(y_true, y_pred, y_train=train) == pytest.approx((1 / 1 + 10 / 10) / 2)
    # the flat 2-D layout with a 2-column training series means the same
    assert mase(y_true.reshape(2, 2), y_pred.reshape(2, 2), y_train=train) == pytest.approx(1.0)


def test_mase_constant_training_series_is_nan():
    assert math.isnan(mase([1.0], [2.0], y_train=[3.0, 3.0, 3.0]))


def test_forecast_metrics_table():
    scores = forecast_metrics(TRUE, PRED, y_train=[1.0, 3.0, 2.0, 6.0, 4.0])
    assert list(scores) == ["MAE", "RMSE", "MAPE", "sMAPE", "MASE"]
    assert scores["MAE"] == pytest.approx(4 / 3)
    assert "MASE" not in forecast_metrics(TRUE, PRED)


def test_horizon_errors_per_step():
    y_true = np.array([[1.0, 2.0, 4.0], [3.0, 4.0, 2.0]])
    y_pred = np.array([[1.0, 3.0, 1.0], [3.0, 6.0, 5.0]])
    errors = horizon_errors(y_true, y_pred, y_train=[0.0, 2.0, 4.0])  # naive scale 2
    np.testing.assert_allclose(errors["MAE"], [0.0, 1.5, 3.0])
    np.testing.assert_allclose(errors["RMSE"], [0.0, math.sqrt(2.5), 3.0])
    np.testing.assert_allclose(errors["MASE"], [0.0, 0.75, 1.5])
    np.testing.assert_allclose(errors["MAPE"], [0.0, 50.0, 112.5])


def test_metrics_shape_mismatch_message():
    with pytest.raises(
        RnnkitValueError,
        match=re.escape(
            "mae(): y_true and y_pred must have the same shape. Received: y_true (3,), "
            "y_pred (3, 1)."
        ),
    ):
        mae(TRUE, PRED[:, None])


def test_metrics_nan_message():
    with pytest.raises(
        DataError, match=re.escape("rmse(): `y_pred` contains NaN (first at index (1,))")
    ):
        rmse(TRUE, [1.0, np.nan, 2.0])


def test_naive_scale_too_short_message():
    with pytest.raises(
        DataError,
        match=re.escape(
            "naive_scale(): y_train has 3 timesteps, but the naive scale with season=24 "
            "needs more than 24. Pass a longer training series."
        ),
    ):
        naive_scale([1.0, 2.0, 3.0], season=24)


def test_compare_to_naive_plain_words_against_mase_one():
    verdicts = compare_to_naive({"LSTM": 1.12, "GRU": 0.87})
    assert [str(v) for v in verdicts] == [
        "LSTM does not beat the naive forecast (MASE 1.12 >= 1)",
        "GRU beats the naive forecast (MASE 0.87 < 1)",
    ]
    assert [v.beats for v in verdicts] == [False, True]


def test_compare_to_naive_uses_the_naive_entry():
    verdicts = compare_to_naive({"naive": 2.3, "LSTM": 33.0, "GRU": 1.9})
    assert [v.text for v in verdicts] == [
        "LSTM does not beat the naive forecast (MASE 33 >= 2.3)",
        "GRU beats the naive forecast (MASE 1.9 < 2.3)",
    ]


def test_compare_to_named_reference_and_nan():
    verdicts = compare_to_naive(
        {"seasonal naive": 10.0, "RNN": float("nan")}, metric="RMSE", reference="seasonal naive"
    )
    assert verdicts[0].text == (
        "RNN could not be compared with the seasonal naive forecast (RMSE is NaN)"
    )
    assert not verdicts[0].beats


def test_compare_to_naive_needs_reference_for_other_metrics():
    with pytest.raises(
        RnnkitValueError,
        match=re.escape(
            "compare_to_naive(): no reference for RMSE. Include a 'naive' entry in scores or "
            "pass reference=<the naive forecast's score>."
        ),
    ):
        compare_to_naive({"LSTM": 1.0}, metric="RMSE")
    with pytest.raises(RnnkitValueError, match=re.escape("Did you mean 'naive'?")):
        compare_to_naive({"naive": 1.0, "LSTM": 2.0}, reference="naiv")


def test_summarize_verdicts_sentences():
    assert summarize_verdicts(compare_to_naive({"LSTM": 1.12, "GRU": 1.3})) == (
        "No model beats the naive forecast (best: LSTM, MASE 1.12 >= 1)."
    )
    assert summarize_verdicts(compare_to_naive({"LSTM": 0.5, "GRU": 0.7})) == (
        "All models beat the naive forecast."
    )
    assert summarize_verdicts(compare_to_naive({"RNN": 2.0, "LSTM": 0.5, "GRU": 0.7})) == (
        "LSTM and GRU beat the naive forecast; RNN does not."
    )
