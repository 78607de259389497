import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from rnnkit.data.windows import make_windows
from rnnkit.data.windows import timeseries_dataset_from_array
from rnnkit.data.windows import window_starts
from rnnkit.errors import DataError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError


def test_make_windows_style_guide_example():
    x, y = make_windows(np.arange(9.0), window=3, horizon=1, stride=2)
    np.testing.assert_array_equal(x[:, :, 0], [[0, 1, 2], [2, 3, 4], [4, 5, 6]])
    np.testing.assert_array_equal(y[:, :, 0], [[3], [5], [7]])


def test_make_windows_multivariate_target_subset_and_horizon():
    series = np.column_stack([np.arange(6.0), 10 * np.arange(6.0), 100 * np.arange(6.0)])
    x, y = make_windows(series, window=2, horizon=2, targets=[2, 0])
    assert x.shape == (3, 2, 3)
    assert y.shape == (3, 2, 2)
    np.testing.assert_array_equal(x[0], series[0:2])
    # window 0 targets rows 2 and 3, columns 2 then 0
    np.testing.assert_array_equal(y[0], [[200.0, 2.0], [300.0, 3.0]])


def test_make_windows_flat_targets_is_horizon_major():
    series = np.column_stack([np.arange(5.0), -np.arange(5.0)])
    _, y = make_windows(series, window=2, horizon=2, flat_targets=True)
    np.testing.assert_array_equal(y[0], [2.0, -2.0, 3.0, -3.0])


def test_make_windows_dataframe_target_by_name():
    frame = pd.DataFrame({"temp": np.arange(5.0), "pm2.5": np.arange(5.0) * 2})
    x, y = make_windows(frame, window=3, targets="pm2.5")
    assert x.shape == (2, 3, 2)
    np.testing.assert_array_equal(y[:, 0, 0], [6.0, 8.0])


def test_make_windows_keeps_float32_and_converts_ints():
    x32, _ = make_windows(np.arange(5, dtype=np.float32), window=2)
    xi, _ = make_windows(np.arange(5), window=2)
    assert x32.dtype == np.float32
    assert xi.dtype == np.float64


def test_make_windows_returns_copies():
    series = np.arange(6.0)
    x, _ = make_windows(series, window=2)
    x[0, 0, 0] = 99.0
    assert series[0] == 0.0


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 120),
    w=st.integers(1, 20),
    h=st.integers(1, 5),
    s=st.integers(1, 5),
    f=st.integers(1, 3),
)
def test_make_windows_count_and_alignment(n, w, h, s, f):
    assume(n >= w + h)
    series = np.arange(n * f, dtype=float).reshape(n, f)
    x, y = make_windows(series, window=w, horizon=h, stride=s)
    starts = window_starts(n, window=w, horizon=h, stride=s)
    assert len(x) == len(y) == len(starts) == (n - w - h) // s + 1
    for i, start in enumerate(starts):
        np.testing.assert_array_equal(x[i], series[start : start + w])
        np.testing.assert_array_equal(y[i], series[start + w : start + w + h])
    # the last target never runs past the series, and no usable window is skipped
    assert starts[-1] + w + h <= n < starts[-1] + s + w + h


def test_make_windows_too_short_message():
    with pytest.raises(
        DataError,
        match=re.escape(
            "make_windows(): 5 timesteps < window + horizon = 8. "
            "Use a shorter window or a longer series."
        ),
    ):
        make_windows(np.arange(5.0), window=6, horizon=2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"window": 0},
            "make_windows(): `window` must be a positive integer. Received: window=0.",
        ),
        (
            {"window": 2, "horizon": -1},
            "make_windows(): `horizon` must be a positive integer. Received: horizon=-1.",
        ),
        (
            {"window": 2, "stride": 1.5},
            "make_windows(): `stride` must be a positive integer. Received: stride=1.5.",
        ),
    ],
)
def test_make_windows_bad_option_messages(kwargs, message):
    with pytest.raises(RnnkitValueError, match=re.escape(message)):
        make_windows(np.arange(10.0), **kwargs)


def test_make_windows_nan_names_first_bad_position():
    series = np.ones((6, 2))
    series[3, 1] = np.nan
    with pytest.raises(DataError, match=re.escape("contains NaN (first at index (3, 1))")):
        make_windows(series, window=2)


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    n=st.integers(3, 40),
    f=st.integers(1, 3),
    bad=st.sampled_from([np.nan, np.inf, -np.inf]),
)
def test_make_windows_names_first_non_finite_position(data, n, f, bad):
    series = np.zeros((n, f))
    cells = data.draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, f - 1)), min_size=1, max_size=4)
    )
    for row, col in cells:
        series[row, col] = bad
    first = min(cells)
    kind = "NaN" if np.isnan(bad) else "inf"
    with pytest.raises(
        DataError,
        match=re.escape(f"`series` contains {kind} (first at index ({first[0]}, {first[1]}))"),
    ):
        make_windows(series, window=1)


def test_make_windows_inf_is_rejected():
    with pytest.raises(DataError, match=re.escape("contains inf (first at index (2,))")):
        make_windows(np.array([1.0, 2.0, np.inf, 4.0]), window=2)


def test_make_windows_wrong_rank_message():
    with pytest.raises(RnnkitValueError, match=re.escape("must have 1 or 2 dimensions")):
        make_windows(np.zeros((4, 2, 2)), window=2)


def test_make_windows_non_numeric_is_type_error():
    with pytest.raises(RnnkitTypeError, match=re.escape("`series` must be numeric")):
        make_windows(np.array(["a", "b", "c"]), window=1)


def test_make_windows_unknown_target_name_suggests():
    frame = pd.DataFrame({"temp": np.arange(5.0), "pm2.5": np.arange(5.0)})
    with pytest.raises(
        RnnkitValueError,
        match=re.escape(
            "make_windows(): unknown target column 'pm25'. Expected one of 'pm2.5', 'temp'. "
            "Did you mean 'pm2.5'?"
        ),
    ):
        make_windows(frame, window=2, targets="pm25")


def test_make_windows_target_index_out_of_range():
    with pytest.raises(
        RnnkitValueError,
        match=re.escape(
            "make_windows(): target column index 3 is out of range for a series with 2 "
            "features. Expected 0..1."
        ),
    ):
        make_windows(np.zeros((5, 2)), window=2, targets=3)


def test_make_windows_target_name_without_columns():
    with pytest.raises(RnnkitTypeError, match=re.escape("the series has no column names")):
        make_windows(np.zeros((5, 2)), window=2, targets="temp")


# --- timeseries_dataset_from_array: Keras 3 semantics -------------------------------------


def test_timeseries_dataset_keras_example_1_indices():
    batches = timeseries_dataset_from_array(
        np.arange(99), None, sequence_length=10, sequence_stride=3, sampling_rate=2
    )
    x = np.concatenate(list(batches))
    np.testing.assert_array_equal(x[0], np.arange(0, 19, 2))
    np.testing.assert_array_equal(x[1], np.arange(3, 22, 2))
    np.testing.assert_array_equal(x[2], np.arange(6, 25, 2))
    np.testing.assert_array_equal(x[-1], np.arange(78, 97, 2))
    assert len(x) == 27


def test_timeseries_dataset_keras_example_2_next_step():
    data = np.arange(50.0) ** 2
    batches = timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10)
    x, y = batches[0]
    np.testing.assert_array_equal(x[0], data[:10])
    assert y[0] == data[10]
    assert sum(len(b[0]) for b in batches) == 31


def test_timeseries_dataset_keras_example_3_many_to_many():
    features, labels = np.arange(100), np.arange(100) * 2
    inputs = timeseries_dataset_from_array(features, None, sequence_length=20, sequence_stride=20)
    targets = timeseries_dataset_from_array(labels, None, sequence_length=20, sequence_stride=20)
    x, y = inputs[0], targets[0]
    np.testing.assert_array_equal(x[0], features[:20])
    np.testing.assert_array_equal(y[1], labels[20:40])
    assert len(x) == 5


def test_timeseries_dataset_start_and_end_index():
    batches = timeseries_dataset_from_array(
        np.arange(12), np.arange(12) * 10, sequence_length=3, start_index=2, end_index=10
    )
    x, y = batches[0]
    np.testing.assert_array_equal(x[0], [2, 3, 4])
    np.testing.assert_array_equal(x[-1], [7, 8, 9])
    np.testing.assert_array_equal(y, [20, 30, 40, 50, 60, 70])


def test_timeseries_dataset_batching_and_unbatched():
    data = np.arange(20.0).reshape(10, 2)
    batches = timeseries_dataset_from_array(data, None, sequence_length=4, batch_size=3)
    assert [len(b) for b in batches] == [3, 3, 1]
    assert batches[0].shape == (3, 4, 2)
    assert batches[-1].shape == (1, 4, 2)
    single = timeseries_dataset_from_array(data, None, sequence_length=4, batch_size=None)
    assert len(single) == 7
    assert single[6].shape == (4, 2)
    np.testing.assert_array_equal(single[6], data[6:10])
    # re-iterable: a second epoch sees the same batches
    assert sum(1 for _ in batches) == sum(1 for _ in batches) == 3


def test_timeseries_dataset_shuffle_is_seeded_permutation():
    data = np.arange(30.0)
    first = timeseries_dataset_from_array(data, data, sequence_length=5, shuffle=True, seed=3)
    again = timeseries_dataset_from_array(data, data, sequence_length=5, shuffle=True, seed=3)
    x1, y1 = first[0]
    x2, _ = again[0]
    np.testing.assert_array_equal(x1, x2)
    assert sorted(x1[:, 0].tolist()) == list(range(26))
    assert x1[:, 0].tolist() != list(range(26))
    np.testing.assert_array_equal(y1, x1[:, 0])  # targets stay with their sequence


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(3, 80),
    length=st.integers(1, 10),
    stride=st.integers(1, 4),
    rate=st.integers(1, 3),
)
def test_timeseries_dataset_matches_keras_formula(n, length, stride, rate):
    assume(stride < n and rate < n and (length - 1) * rate + 1 <= n)
    batches = timeseries_dataset_from_array(
        np.arange(n),
        np.arange(n),
        sequence_length=length,
        sequence_stride=stride,
        sampling_rate=rate,
        batch_size=7,
    )
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    expected_starts = np.arange(0, n - (length - 1) * rate, stride)
    np.testing.assert_array_equal(x[:, 0], expected_starts)
    np.testing.assert_array_equal(y, expected_starts)
    np.testing.assert_array_equal(np.diff(x, axis=1), rate)


def test_timeseries_dataset_nothing_fits_message():
    with pytest.raises(
        DataError,
        match=re.escape(
            "timeseries_dataset_from_array(): no complete sequence fits: 5 timesteps from "
            "start_index=0 to end_index=5 < (sequence_length - 1) * sampling_rate + 1 = 10. "
            "Use a shorter sequence_length or more data."
        ),
    ):
        timeseries_dataset_from_array(np.arange(5), None, sequence_length=10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sampling_rate": 0}, "`sampling_rate` must be a positive integer"),
        ({"sampling_rate": 10}, "`sampling_rate` must be lower than the length of the data"),
        ({"sequence_stride": 12}, "`sequence_stride` must be lower than the length of the data"),
        ({"start_index": 10}, "`start_index` must be lower than the length of the data"),
        ({"start_index": -1}, "`start_index` must be an integer >= 0"),
        ({"start_index": 4, "end_index": 3}, "`end_index` must be in (4, 10]"),
    ],
)
def test_timeseries_dataset_bad_options(kwargs, message):
    with pytest.raises(RnnkitValueError, match=re.escape(message)):
        timeseries_dataset_from_array(np.arange(10), None, sequence_length=2, **kwargs)


def test_timeseries_dataset_nan_in_data():
    data = np.arange(6.0)
    data[4] = np.nan
    with pytest.raises(DataError, match=re.escape("`data` contains NaN (first at index (4,))")):
        timeseries_dataset_from_array(data, None, sequence_length=2)


def test_window_starts_values():
    np.testing.assert_array_equal(window_starts(10, window=3, horizon=2, stride=2), [0, 2, 4])
