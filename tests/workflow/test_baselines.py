import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from rnnkit.data.windows import make_windows
from rnnkit.errors import DataError
from rnnkit.errors import NotFittedError
from rnnkit.errors import RnnkitValueError
from rnnkit.workflow.baselines import LinearLagForecaster
from rnnkit.workflow.baselines import NaiveForecaster
from rnnkit.workflow.baselines import Season
from rnnkit.workflow.baselines import SeasonalNaiveForecaster
from rnnkit.workflow.baselines import infer_season
from rnnkit.workflow.baselines import naive_forecast
from rnnkit.workflow.baselines import seasonal_naive_forecast


def test_naive_forecast_repeats_last_value_of_targets():
    series = np.column_stack([np.arange(6.0), 10 * np.arange(6.0)])
    x, y = make_windows(series, window=3, horizon=2, targets=[1])
    pred = naive_forecast(x, horizon=2, targets=[1])
    assert pred.shape == y.shape == (2, 2, 1)
    np.testing.assert_array_equal(pred[:, :, 0], [[20.0, 20.0], [30.0, 30.0]])


def test_seasonal_naive_forecast_hand_values():
    x = np.arange(6.0)[None, :, None]  # window [0..5], season 3 -> last season [3, 4, 5]
    pred = seasonal_naive_forecast(x, season=3, horizon=5)
    np.testing.assert_array_equal(pred[0, :, 0], [3.0, 4.0, 5.0, 3.0, 4.0])


def test_seasonal_naive_with_season_one_is_naive():
    x = np.random.default_rng(0).normal(size=(4, 5, 2))
    np.testing.assert_array_equal(
        seasonal_naive_forecast(x, season=1, horizon=3), naive_forecast(x, horizon=3)
    )


def test_seasonal_naive_is_exact_on_periodic_series():
    series = np.tile([1.0, 5.0, 2.0, 8.0], 10)
    x, y = make_windows(series, window=8, horizon=6)
    model = SeasonalNaiveForecaster(season=4).fit(x, y)
    np.testing.assert_array_equal(model.predict(x), y)


def test_seasonal_naive_window_shorter_than_season_message():
    with pytest.raises(
        DataError,
        match=re.escape(
            "seasonal_naive_forecast(): input windows have 12 timesteps < season 24. "
            "Make windows at least one season long (window >= 24) or use a smaller season."
        ),
    ):
        seasonal_naive_forecast(np.zeros((2, 12, 1)), season=24)


@pytest.mark.parametrize(
    ("freq", "period"),
    [
        ("h", 24),
        ("30min", 48),
        ("15min", 96),
        ("2h", 12),
        ("D", 7),
        ("B", 5),
        ("W", 52),
        ("7D", 52),
        ("MS", 12),
        ("ME", 12),
        ("QS", 4),
        ("YE", 1),
    ],
)
def test_infer_season_from_frequency(freq, period):
    assert infer_season(freq=freq).period == period


def test_infer_season_from_index_without_freq_attribute():
    index = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 03:00"])
    season = infer_season(freq=index)
    assert season == Season(24, "from the index frequency h (a daily cycle)")


def test_infer_season_from_autocorrelation():
    rng = np.random.default_rng(1)
    t = np.arange(24 * 30)
    series = np.sin(2 * np.pi * t / 24) + 0.2 * rng.normal(size=len(t))
    season = infer_season(series)
    assert season.period == 24
    assert season.source.startswith("from the autocorrelation (peak 0.")


def test_infer_season_trend_plus_season_uses_differences():
    t = np.arange(24 * 20)
    season = infer_season(0.05 * t + np.sin(2 * np.pi * t / 24))
    assert season.period == 24
    assert season.source.startswith("from the autocorrelation of differences")


def test_infer_season_trend_has_none():
    for seed in range(5):
        random_walk = np.cumsum(np.random.default_rng(seed).normal(size=1000))
        assert infer_season(random_walk).period == 1
    assert infer_season(np.arange(100.0)).period == 1
    assert infer_season(np.ones(50)).period == 1
    assert infer_season().period == 1


def test_seasonal_naive_forecaster_infers_and_reports_season():
    series = np.tile([0.0, 3.0, 1.0, 7.0, 2.0], 30)
    x, y = make_windows(series, window=10, horizon=2)
    model = SeasonalNaiveForecaster().fit(x, y)
    assert model.season_ == 5
    assert "autocorrelation" in model.season_source_
    np.testing.assert_array_equal(model.predict(x), y)


def test_seasonal_naive_forecaster_caps_inferred_season_at_window():
    series = np.tile(np.arange(12.0), 20)
    x, y = make_windows(series, window=6)
    model = SeasonalNaiveForecaster(freq="MS").fit(x, y)
    assert model.season_ == 1
    assert "longer than the 6-step window" in model.season_source_


def test_linear_lag_forecaster_recovers_linear_rule_exactly():
    # targets follow y = 0.5 * x[t-1] - 0.2 * x[t-2] + 3 exactly
    x = np.random.default_rng(3).normal(size=(40, 5, 1))
    y = 0.5 * x[:, -1, :] - 0.2 * x[:, -2, :] + 3.0
    model = LinearLagForecaster(lags=2, alpha=0.0).fit(x, y)
    np.testing.assert_allclose(model.predict(x), y, atol=1e-10)
    slopes = model.coef_[:, 0] / model.scale_  # back in original units, oldest lag first
    np.testing.assert_allclose(slopes, [-0.2, 0.5], atol=1e-10)
    new = np.array([[[9.0], [9.0], [9.0], [2.0], [4.0]]])
    np.testing.assert_allclose(model.predict(new), [[0.5 * 4 - 0.2 * 2 + 3]], atol=1e-10)


def test_linear_lag_forecaster_multi_step_multi_target_layouts():
    rng = np.random.default_rng(4)
    series = rng.normal(size=(80, 3))
    x, y3 = make_windows(series, window=4, horizon=3, targets=[0, 2])
    _, y2 = make_windows(series, window=4, horizon=3, targets=[0, 2], flat_targets=True)
    model3 = LinearLagForecaster(targets=[0, 2]).fit(x, y3)
    model2 = LinearLagForecaster(targets=[0, 2]).fit(x, y2)
    assert model3.predict(x).shape == (len(x), 3, 2)
    assert model2.predict(x).shape == (len(x), 6)
    np.testing.assert_allclose(model2.predict(x), model3.predict(x).reshape(len(x), -1))


def test_ridge_penalty_shrinks_coefficients():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(50, 4, 1))
    y = x[:, -1, :] + 0.1 * rng.normal(size=(50, 1))
    small = LinearLagForecaster(alpha=0.0).fit(x, y)
    large = LinearLagForecaster(alpha=100.0).fit(x, y)
    assert np.linalg.norm(large.coef_) < np.linalg.norm(small.coef_)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(12, 60),
    window=st.integers(2, 6),
    horizon=st.integers(1, 4),
    flat=st.booleans(),
)
def test_baselines_match_target_layout(n, window, horizon, flat):
    series = np.random.default_rng(n).normal(size=(n, 2))
    x, y = make_windows(series, window=window, horizon=horizon, targets=[1], flat_targets=flat)
    for model in (
        NaiveForecaster(targets=[1]),
        SeasonalNaiveForecaster(season=2, targets=[1]),
        LinearLagForecaster(targets=[1]),
    ):
        assert model.fit(x, y).predict(x).shape == y.shape


def test_naive_forecaster_1d_targets_stay_1d():
    x = np.arange(10.0).reshape(5, 2, 1)
    model = NaiveForecaster().fit(x, np.zeros(5))
    np.testing.assert_array_equal(model.predict(x), [1.0, 3.0, 5.0, 7.0, 9.0])


def test_forecaster_not_fitted_message():
    with pytest.raises(
        NotFittedError,
        match=re.escape(
            "NaiveForecaster.predict(): this NaiveForecaster is not fitted yet. "
            "Call fit(x_train, y_train) first."
        ),
    ):
        NaiveForecaster().predict(np.zeros((1, 2, 1)))


def test_forecaster_sample_mismatch_message():
    with pytest.raises(
        RnnkitValueError,
        match=re.escape("NaiveForecaster.fit(): `y` has 3 samples but `x` has 2."),
    ):
        NaiveForecaster().fit(np.zeros((2, 3, 1)), np.zeros((3, 1, 1)))


def test_linear_lags_longer_than_window_message():
    with pytest.raises(
        RnnkitValueError,
        match=re.escape(
            "LinearLagForecaster.fit(): lags=5 > window length 3. "
            "Use lags <= window or longer windows."
        ),
    ):
        LinearLagForecaster(lags=5).fit(np.zeros((4, 3, 1)), np.zeros((4, 1)))
