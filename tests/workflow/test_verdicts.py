"""Verdicts claim "beats" or "is worse" only when the Diebold-Mariano test says so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnkit.workflow.compare import NAIVE
from rnnkit.workflow.compare import SEASONAL
from rnnkit.workflow.compare import fit_baselines
from rnnkit.workflow.compare import score_forecasts
from rnnkit.workflow.compare import significance_tests
from rnnkit.workflow.compare import verdict_sentences
from rnnkit.workflow.prepare import prepare_data
from rnnkit.workflow.spec import ForecastConfig


@pytest.fixture(scope="module")
def data():
    # a random walk: the naive forecast is hard to beat, as on stock prices
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"y": 100 + np.cumsum(rng.normal(size=900))})
    return prepare_data(ForecastConfig(data=frame, target="y", window=8, horizon=3, season=5))


def _verdicts(data, network_forecast):
    forecasts = {**fit_baselines(data), "GRU": network_forecast}
    metrics = score_forecasts(data, forecasts)
    tests = significance_tests(data, forecasts, ["GRU"])
    headline, details = verdict_sentences(
        metrics, ["GRU"], season=data.season, season_source="given", tests=tests
    )
    return metrics, tests, headline, details


def test_a_clearly_better_forecast_beats(data):
    _, y_test = data.part("test")
    naive = fit_baselines(data)[NAIVE]
    better = y_test + 0.2 * (naive - y_test)  # errors a fifth of the naive forecast's
    _, tests, headline, details = _verdicts(data, better)
    assert tests[("GRU", NAIVE)].outcome() == "better"
    assert tests[("GRU", NAIVE)].p_value < 0.001
    assert tests[("GRU", NAIVE)].lag == 2  # horizon 3, stride 1
    assert details[0].startswith("GRU beats the naive forecast (MASE ")
    assert "Diebold-Mariano test on absolute errors, p < 0.001" in details[0]
    assert headline[0].startswith(
        "GRU beats the naive forecast on the test period (Diebold-Mariano test at the 5% level; "
        "MASE "
    )


def test_a_clearly_worse_forecast_is_worse(data):
    _, y_test = data.part("test")
    naive = fit_baselines(data)[NAIVE]
    worse = y_test + 3.0 * (naive - y_test)
    _, tests, headline, details = _verdicts(data, worse)
    assert tests[("GRU", NAIVE)].outcome() == "worse"
    assert details[0].startswith("GRU does not beat the naive forecast: it is worse (MASE ")
    assert headline[0].startswith("No network beats the naive forecast on the test period")
    assert "GRU: worse (MASE " in headline[0]


def test_a_noise_sized_gain_is_no_meaningful_difference(data):
    # errors about 0.4 % smaller than the naive forecast's on average, but up or down by
    # 30 % from window to window: a lower MASE, and no evidence
    _, y_test = data.part("test")
    naive = fit_baselines(data)[NAIVE]
    rng = np.random.default_rng(0)
    factor = 1.0 + 0.3 * rng.standard_normal(size=(len(naive), 1, 1))
    weight = np.abs(naive - y_test)  # each window's share of the naive forecast's MAE
    factor += 0.996 - (factor * weight).sum() / weight.sum()  # exactly 0.4 % lower MAE
    slightly = y_test + factor * (naive - y_test)
    metrics, tests, headline, details = _verdicts(data, slightly)
    ratio = metrics.loc["GRU", "MASE"] / metrics.loc[NAIVE, "MASE"]
    assert ratio == pytest.approx(0.996, abs=1e-3)
    test = tests[("GRU", NAIVE)]
    assert test.outcome() == "no difference"
    assert test.p_value >= 0.05
    assert "beats the naive forecast (" not in " ".join(details)
    assert details[0].startswith(
        "GRU does not beat the naive forecast: no meaningful difference (MASE "
    )
    assert f"p = {test.p_value:.3g}" in details[0]
    assert headline[0].startswith(
        "No network beats the naive forecast on the test period (Diebold-Mariano test at the "
        "5% level): GRU: no meaningful difference (MASE "
    )


def test_identical_forecast_has_p_one(data):
    naive = fit_baselines(data)[NAIVE]
    _, tests, _, details = _verdicts(data, naive.copy())
    assert tests[("GRU", NAIVE)].p_value == 1.0
    assert "no meaningful difference" in details[0] and "p = 1," in details[0]


def test_seasonal_reference_is_tested_too(data):
    _, y_test = data.part("test")
    seasonal = fit_baselines(data)[SEASONAL]
    better = y_test + 0.1 * (seasonal - y_test)
    _, tests, _, details = _verdicts(data, better)
    assert tests[("GRU", SEASONAL)].outcome() == "better"
    assert details[1].startswith("GRU beats the seasonal naive forecast (seasonal MASE (season 5)")


def test_without_a_test_no_claim_is_made():
    table = pd.DataFrame(
        {"MASE": [1.0, 1.0, 0.5], "MASE_seasonal": [1.0, 1.0, 0.5], "MAE": [1.0, 1.0, 0.5]},
        index=[NAIVE, SEASONAL, "LSTM"],
    )
    headline, details = verdict_sentences(table, ["LSTM"], season=7)
    assert details[0] == (
        "LSTM could not be compared with the naive forecast (no test was possible)."
    )
    assert headline[0].startswith("No network beats the naive forecast")
    assert "untested" in headline[0]


def test_mixed_outcomes_name_each_network(data):
    _, y_test = data.part("test")
    naive = fit_baselines(data)[NAIVE]
    forecasts = {
        **fit_baselines(data),
        "GRU": y_test + 0.2 * (naive - y_test),
        "LSTM": naive.copy(),
        "RNN": y_test + 3.0 * (naive - y_test),
    }
    names = ["GRU", "LSTM", "RNN"]
    metrics = score_forecasts(data, forecasts)
    tests = significance_tests(data, forecasts, names)
    headline, _ = verdict_sentences(metrics, names, season=5, tests=tests)
    assert headline[0].startswith("GRU beats the naive forecast on the test period")
    assert "; LSTM: no meaningful difference (MASE " in headline[0]
    assert "; RNN: worse (MASE " in headline[0]


def test_the_networks_are_tested_against_linear_on_lags_too(data):
    from rnnkit.workflow.compare import LINEAR

    _, y_test = data.part("test")
    linear = fit_baselines(data)[LINEAR]
    _, tests, headline, details = _verdicts(data, linear.copy())  # adds nothing to linear
    assert tests[("GRU", LINEAR)].outcome() == "no difference"
    assert details[2].startswith(
        "GRU does not beat the linear-on-lags forecast: no meaningful difference (MASE "
    )
    assert headline[2].startswith("No network beats the linear-on-lags forecast")
    better = y_test + 0.5 * (linear - y_test)  # half the linear forecast's errors
    _, tests, headline, details = _verdicts(data, better)
    assert tests[("GRU", LINEAR)].outcome() == "better"
    assert details[2].startswith("GRU beats the linear-on-lags forecast (MASE ")
