"""Calendar features: which cycles a frequency gets, their values, and their use in a run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnkit.errors import DataError
from rnnkit.workflow.calendar import calendar_columns
from rnnkit.workflow.calendar import calendar_cycles
from rnnkit.workflow.calendar import calendar_frame
from rnnkit.workflow.prepare import prepare_data
from rnnkit.workflow.spec import ForecastConfig


@pytest.mark.parametrize(
    ("freq", "periods", "expected"),
    [
        ("h", 48, ["day", "week"]),
        ("30min", 48 * 800, ["day", "week", "year"]),
        ("D", 100, ["week"]),
        ("D", 800, ["week", "year"]),
        ("B", 50, ["week"]),
        ("MS", 36, ["year"]),
        ("MS", 12, []),
        ("YS", 30, []),
    ],
)
def test_cycles_follow_the_frequency_and_span(freq, periods, expected):
    index = pd.date_range("2020-01-01", periods=periods, freq=freq)
    assert calendar_cycles(index, freq) == expected


def test_no_time_index_or_frequency_gives_no_cycles():
    assert calendar_cycles(pd.RangeIndex(100), "h") == []
    assert calendar_cycles(pd.date_range("2020-01-01", periods=10, freq="h"), None) == []


def test_values_are_the_phase_on_the_unit_circle():
    times = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 12:00", "2024-01-04 00:00"])
    frame = calendar_frame(times, ["day", "week"])
    np.testing.assert_allclose(frame["calendar_day_sin"], [0.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(frame["calendar_day_cos"], [1.0, -1.0, 1.0], atol=1e-12)
    # 2024-01-01 is a Monday (day 0 of the week); Thursday is 3/7 of the way round
    np.testing.assert_allclose(frame["calendar_week_sin"].iloc[2], np.sin(2 * np.pi * 3 / 7))


def test_frame_without_times_is_refused():
    with pytest.raises(DataError, match="no time index"):
        calendar_frame(pd.RangeIndex(3), ["day"])


def test_existing_column_with_a_calendar_name_is_refused():
    index = pd.date_range("2024-01-01", periods=10, freq="h")
    frame = pd.DataFrame({"y": 1.0, "calendar_day_sin": 0.0}, index=index)
    with pytest.raises(DataError, match="calendar_day_sin"):
        calendar_columns(frame, "h")


def _hourly(rows: int = 400) -> pd.DataFrame:
    time = pd.date_range("2024-01-01", periods=rows, freq="h")
    hours = np.arange(rows)
    return pd.DataFrame({"time": time, "y": 10 + np.sin(2 * np.pi * hours / 24)})


def test_prepare_adds_the_columns_and_reports_them():
    data = prepare_data(ForecastConfig(data=_hourly(), target="y", window=24))
    assert data.calendar == ["day", "week"]
    assert data.features[-4:] == [
        "calendar_day_sin",
        "calendar_day_cos",
        "calendar_week_sin",
        "calendar_week_cos",
    ]
    assert data.passthrough.tolist() == [1, 2, 3, 4]
    assert any(
        line.startswith("Calendar features: time of day, day of week") for line in data.lines()
    )
    x_scaled, _ = data.scaled("train")
    x, _ = data.part("train")  # the calendar columns reach the network unscaled
    np.testing.assert_allclose(x_scaled[:, :, 1:], x[:, :, 1:].astype(np.float32))


def test_calendar_off_and_without_time_column():
    off = prepare_data(ForecastConfig(data=_hourly(), target="y", window=24, calendar=False))
    assert off.calendar == [] and off.features == ["y"]
    rows = prepare_data(ForecastConfig(data=_hourly()[["y"]], target="y", window=24))
    assert rows.calendar == [] and rows.features == ["y"]
    assert "Calendar features: none (no time index)." in rows.lines()
