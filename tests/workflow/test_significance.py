"""The Diebold–Mariano test with the Harvey–Leybourne–Newbold correction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnkit.errors import DataError
from rnnkit.workflow.significance import diebold_mariano
from rnnkit.workflow.significance import format_p
from rnnkit.workflow.significance import loss_differential
from rnnkit.workflow.significance import overlap_lag


def test_equal_forecasts_show_no_difference():
    losses = np.random.default_rng(0).exponential(size=50)
    result = diebold_mariano(losses, losses.copy(), horizon=3)
    assert result.p_value == 1.0
    assert result.statistic == 0.0
    assert result.outcome() == "no difference"


def test_a_clearly_better_forecast_is_significant():
    rng = np.random.default_rng(1)
    actual = rng.normal(size=(200, 1, 1))
    good = actual + rng.normal(scale=0.1, size=actual.shape)
    bad = actual + rng.normal(scale=1.0, size=actual.shape)
    d = loss_differential(actual, good, bad)
    result = diebold_mariano(d)
    assert result.outcome() == "better"
    assert result.p_value < 1e-6 and result.p_better < 1e-6 and result.p_worse > 0.99
    reverse = diebold_mariano(-d)
    assert reverse.outcome() == "worse"
    assert reverse.p_worse == pytest.approx(result.p_better)


def test_noise_sized_difference_is_not_significant():
    rng = np.random.default_rng(2)
    actual = rng.normal(size=(300, 1, 1))
    a = actual + rng.normal(size=actual.shape)
    b = actual + rng.normal(size=actual.shape) * 1.001
    result = diebold_mariano(loss_differential(actual, a, b))
    assert result.outcome() == "no difference"
    assert result.p_value > 0.05


def test_hand_computed_example_with_horizon_two():
    # d = 0.1 0.2 0.3 0.2 0.1 0.0 0.1 0.2: mean 0.15; centred squares sum 0.06 -> gamma0 0.0075;
    # lag-1 products sum 0.0225 -> gamma1 0.0028125; long-run variance 0.0075 + 2 * 0.0028125
    # = 0.013125; DM = 0.15 / sqrt(0.013125 / 8) = 3.7033; HLN factor with n=8, h=2:
    # sqrt((8 + 1 - 4 + 2/8) / 8) = sqrt(0.65625); DM* = 0.15 * sqrt(5.25 / 0.013125) = 3.
    d = [0.1, 0.2, 0.3, 0.2, 0.1, 0.0, 0.1, 0.2]
    result = diebold_mariano(d, horizon=2)
    assert result.lag == 1 and result.kernel == "rectangular"
    assert result.mean_difference == pytest.approx(0.15)
    assert result.statistic == pytest.approx(3.0)
    # Student t with 7 degrees of freedom: P(|T| > 3) = 0.019942
    assert result.p_value == pytest.approx(0.019942, abs=1e-6)
    assert result.p_worse == pytest.approx(0.019942 / 2, abs=1e-6)
    assert result.outcome() == "worse"


def test_hand_computed_example_with_horizon_one():
    # d = -0.5 -0.4 -0.5 -0.6 -0.5 -0.5 -0.5 -0.5: mean -0.5, gamma0 = 0.02 / 8;
    # DM = -0.5 / sqrt(0.0025 / 8) = -28.284; HLN factor sqrt(7/8) -> -26.458
    model = [0.5, 0.7, 0.4, 0.6, 0.5, 0.8, 0.3, 0.6]
    naive = [1.0, 1.1, 0.9, 1.2, 1.0, 1.3, 0.8, 1.1]
    result = diebold_mariano(model, naive)
    assert result.statistic == pytest.approx(-0.5 / math.sqrt(0.0025 / 8) * math.sqrt(7 / 8))
    assert result.statistic == pytest.approx(-26.458, abs=1e-3)


def test_negative_rectangular_variance_falls_back_to_bartlett():
    # alternating differentials: gamma0 = 0.0525, gamma1 = -0.0403125, so the rectangular
    # estimate 0.0525 - 0.080625 is negative; Bartlett weight 1/2 gives 0.0525 - 0.0403125
    d = [0.2, -0.1, 0.4, 0.1, 0.3, -0.2, 0.5, 0.0]
    result = diebold_mariano(d, horizon=2)
    assert result.kernel == "bartlett"
    expected = 0.15 / math.sqrt((0.0525 - 0.0403125) / 8) * math.sqrt(5.25 / 8)
    assert result.statistic == pytest.approx(expected)


def test_overlapping_windows_widen_the_variance():
    # positively autocorrelated differentials: allowing for the overlap of 6-step windows
    # gives a larger p-value than treating the windows as independent
    rng = np.random.default_rng(3)
    noise = rng.normal(size=400)
    d = np.convolve(noise, np.ones(6), mode="valid") * 0.1 - 0.03
    independent = diebold_mariano(d, horizon=1)
    overlapping = diebold_mariano(d, horizon=6)
    assert overlapping.lag == 5
    assert overlapping.p_value > independent.p_value


def test_constant_nonzero_differential_is_certain():
    result = diebold_mariano([1.0, 1.0, 1.0], [2.0, 2.0, 2.0])
    assert result.p_value == 0.0 and result.outcome() == "better"
    assert result.statistic == -math.inf


def test_overlap_lag_follows_stride():
    assert [overlap_lag(h) for h in (1, 2, 24)] == [0, 1, 23]
    assert overlap_lag(6, stride=3) == 1
    assert overlap_lag(6, stride=6) == 0


def test_loss_differential_scales_and_squares():
    actual = np.zeros((2, 1, 2))
    model = np.array([[[1.0, 4.0]], [[2.0, 2.0]]])
    ref = np.zeros((2, 1, 2))
    assert loss_differential(actual, model, ref, scale=np.array([1.0, 2.0])).tolist() == [1.5, 1.5]
    assert loss_differential(actual, model, ref, loss="squared").tolist() == [8.5, 4.0]


def test_errors_are_one_line_and_name_the_call():
    with pytest.raises(DataError, match=r"^diebold_mariano\(\): the test needs at least 2"):
        diebold_mariano([1.0])
    with pytest.raises(DataError, match=r"model_losses has 3 windows but reference_losses has 2"):
        diebold_mariano([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(DataError, match=r"NaN or infinite values \(1 windows\)"):
        diebold_mariano([1.0, np.nan, 3.0])
    with pytest.raises(DataError, match=r"^loss_differential\(\): actual, forecast and reference"):
        loss_differential(np.zeros(3), np.zeros(3), np.zeros(4))


def test_format_p():
    assert format_p(0.0004) == "< 0.001"
    assert format_p(0.81234) == "0.812"
    assert format_p(float("nan")) == "n/a"
