import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.utils.estimator_checks import parametrize_with_checks

from rnnkit.data.scaling import DifferenceScaler
from rnnkit.data.scaling import GlobalWindowScaler
from rnnkit.data.scaling import LastValueScaler
from rnnkit.data.scaling import MinMaxScaler
from rnnkit.data.scaling import StandardScaler
from rnnkit.data.scaling import make_window_scaler
from rnnkit.data.windows import make_windows
from rnnkit.errors import DataError
from rnnkit.errors import NotFittedError
from rnnkit.errors import RnnkitValueError
from rnnkit.workflow.baselines import naive_forecast


@parametrize_with_checks([StandardScaler(), MinMaxScaler()])
def test_scalers_pass_sklearn_checks(estimator, check):
    check(estimator)


def test_standard_scaler_fits_on_train_only():
    train = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    test = np.array([[7.0, 12.0]])
    scaler = StandardScaler().fit(train)
    np.testing.assert_allclose(scaler.mean_, [3.0, 10.0])
    np.testing.assert_allclose(scaler.scale_, [np.sqrt(8 / 3), 1.0])  # constant -> 1
    np.testing.assert_allclose(scaler.transform(test), [[4 / np.sqrt(8 / 3), 2.0]])
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(test)), test)


def test_standard_scaler_takes_windows():
    x = np.arange(24.0).reshape(2, 3, 4)  # (samples, timesteps, features)
    scaler = StandardScaler().fit(x)
    np.testing.assert_allclose(scaler.mean_, x.reshape(-1, 4).mean(axis=0))
    out = scaler.transform(x)
    assert out.shape == x.shape
    np.testing.assert_allclose(out.reshape(-1, 4).mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaler.inverse_transform(out), x)


def test_standard_scaler_keeps_float32():
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert StandardScaler().fit(x).transform(x).dtype == np.float32


def test_minmax_scaler_values_and_clip():
    train = np.array([[0.0], [4.0]])
    scaler = MinMaxScaler(feature_range=(-1, 1)).fit(train)
    np.testing.assert_allclose(scaler.transform(np.array([[2.0], [8.0]])), [[0.0], [3.0]])
    clipped = MinMaxScaler(clip=True).fit(train).transform(np.array([[8.0], [-4.0]]))
    np.testing.assert_allclose(clipped, [[1.0], [0.0]])


def test_minmax_scaler_bad_range_message():
    with pytest.raises(
        RnnkitValueError,
        match=re.escape(
            "MinMaxScaler.fit(): `feature_range` must be (low, high) with low < high. "
            "Received: feature_range=(1, 0)."
        ),
    ):
        MinMaxScaler(feature_range=(1, 0)).fit(np.ones((2, 1)))


def test_scaler_not_fitted_message():
    with pytest.raises(
        NotFittedError,
        match=re.escape(
            "StandardScaler.transform(): this StandardScaler is not fitted yet. "
            "Call fit(x) with the training part first."
        ),
    ):
        StandardScaler().transform(np.ones((2, 1)))


def test_scaler_feature_mismatch_message():
    scaler = StandardScaler().fit(np.ones((3, 2)))
    with pytest.raises(
        RnnkitValueError,
        match=re.escape("X has 3 features, but StandardScaler is expecting 2 features as input"),
    ):
        scaler.transform(np.ones((3, 3)))


def test_scaler_1d_message():
    with pytest.raises(
        RnnkitValueError, match=re.escape("Reshape your data with x.reshape(-1, 1)")
    ):
        StandardScaler().fit(np.arange(4.0))


def test_scaler_nan_message():
    x = np.ones((4, 2))
    x[2, 1] = np.nan
    with pytest.raises(
        DataError,
        match=re.escape("StandardScaler.fit(): `x` contains NaN (first at index (2, 1))"),
    ):
        StandardScaler().fit(x)


# --- window scalers -------------------------------------------------------------------------


def _windows(series, **kwargs):
    return make_windows(series, window=4, horizon=2, **kwargs)


def test_global_window_scaler_values():
    x = np.array([[[1.0, 0.0], [3.0, 0.0]]])
    scaler = GlobalWindowScaler(targets=[0]).fit(x)
    np.testing.assert_allclose(scaler.transform(x)[0], [[-1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(scaler.transform_targets(np.array([[[4.0]]]), x), [[[2.0]]])
    np.testing.assert_allclose(scaler.inverse_transform_targets(np.array([[[2.0]]]), x), [[[4.0]]])


def test_last_value_scaler_hand_values():
    # two windows at very different levels: relative values are the same
    x = np.array([[[10.0], [12.0]], [[100.0], [102.0]]])
    y = np.array([[[14.0]], [[98.0]]])  # changes +2 and -4 from the last values
    scaler = LastValueScaler().fit(x, y)
    np.testing.assert_allclose(scaler.scale_, [2.0])  # RMS of the -2, -2 relative inputs
    np.testing.assert_allclose(scaler.target_scale_, [[np.sqrt(10.0)]])  # RMS of +2, -4
    np.testing.assert_allclose(scaler.transform(x)[:, :, 0], [[-1.0, 0.0], [-1.0, 0.0]])
    np.testing.assert_allclose(
        scaler.transform_targets(y, x)[:, 0, 0], [2 / np.sqrt(10), -4 / np.sqrt(10)]
    )


def test_last_value_scaler_ratio():
    x = np.array([[[50.0], [100.0]]])
    y = np.array([[[110.0]]])
    scaler = LastValueScaler(relative="ratio").fit(x, y)
    np.testing.assert_allclose(scaler.scale_, [0.5])  # 50 / 100 - 1
    np.testing.assert_allclose(scaler.target_scale_, [[0.1]])
    np.testing.assert_allclose(scaler.transform_targets(y, x), [[[1.0]]])
    np.testing.assert_allclose(
        scaler.inverse_transform_targets(np.array([[[2.0]]]), x), [[[120.0]]]
    )


def test_last_value_scaler_ratio_zero_message():
    with pytest.raises(
        DataError,
        match=re.escape(
            "LastValueScaler.fit(): window 1 ends with 0 in feature 0, so ratios to the last "
            "value are undefined. Use relative='difference'."
        ),
    ):
        LastValueScaler(relative="ratio").fit(np.array([[[1.0], [2.0]], [[1.0], [0.0]]]))


def test_difference_scaler_inputs_are_scaled_differences():
    x = np.array([[[1.0], [3.0], [1.0]]])
    scaler = DifferenceScaler().fit(x)
    np.testing.assert_allclose(scaler.transform(x)[0, :, 0], [0.0, 1.0, -1.0])


@pytest.mark.parametrize("method", ["window", "diff"])
def test_relative_scalers_zero_prediction_is_naive(method):
    rng = np.random.default_rng(0)
    series = np.cumsum(rng.normal(size=(60, 2)), axis=0) + 100.0
    x, y = _windows(series, targets=[1])
    scaler = make_window_scaler(method, targets=[1]).fit(x, y)
    back = scaler.inverse_transform_targets(np.zeros_like(y), x)
    np.testing.assert_allclose(back, naive_forecast(x, horizon=2, targets=[1]))


@pytest.mark.parametrize("method", ["global", "window", "diff"])
def test_window_scalers_keep_trending_series_in_training_range(method):
    series = np.arange(200.0)  # a pure trend: test levels never seen in training
    x, y = _windows(series)
    scaler = make_window_scaler(method).fit(x[:100], y[:100])
    test_x = scaler.transform(x[150:])
    train_x = scaler.transform(x[:100])
    inside = np.abs(test_x).max() <= np.abs(train_x).max() + 1e-9
    assert inside == (method != "global")


@settings(max_examples=30, deadline=None)
@given(
    series=arrays(
        np.float64,
        st.tuples(st.integers(8, 30), st.integers(1, 3)),
        elements=st.floats(1.0, 1e3, allow_nan=False),
    ),
    method=st.sampled_from(["global", "window", "diff"]),
    flat=st.booleans(),
)
def test_window_scalers_round_trip(series, method, flat):
    x, y = make_windows(series, window=3, horizon=2, targets=[0], flat_targets=flat)
    scaler = make_window_scaler(method, targets=[0]).fit(x, y)
    scaled = scaler.transform_targets(y, x)
    assert scaled.shape == y.shape
    np.testing.assert_allclose(scaler.inverse_transform_targets(scaled, x), y, rtol=1e-9, atol=1e-6)
    assert np.isfinite(scaler.transform(x)).all()


def test_window_scaler_describe_reports_choice():
    for method in ("global", "window", "diff"):
        scaler = make_window_scaler(method)
        assert scaler.method == method
        assert scaler.describe().startswith(f"{method}: ")


def test_make_window_scaler_unknown_method_suggests():
    with pytest.raises(
        RnnkitValueError,
        match=re.escape(
            "make_window_scaler(): unknown scaling method 'windows'. Expected one of 'diff', "
            "'global', 'window'. Did you mean 'window'?"
        ),
    ):
        make_window_scaler("windows")


def test_window_scaler_not_fitted_and_mismatch_messages():
    x = np.ones((2, 3, 2))
    with pytest.raises(NotFittedError, match=re.escape("LastValueScaler.transform(): this")):
        LastValueScaler().transform(x)
    scaler = LastValueScaler(targets=[0]).fit(x)
    with pytest.raises(
        RnnkitValueError,
        match=re.escape("LastValueScaler.transform_targets(): `y` has 3 samples but `x` has 2."),
    ):
        scaler.transform_targets(np.ones((3, 1, 1)), x)
    with pytest.raises(RnnkitValueError, match=re.escape("`x` must have 3 dimensions")):
        scaler.transform(np.ones((2, 3)))
