"""Calendar features from the time index: where in the day, week and year each row falls.

A seasonal series repeats with the clock and the calendar; a model that reads only past
values has to infer the phase from them. `calendar_columns` adds that phase directly, as
a sine and a cosine per cycle (so midnight is next to 23:00), chosen by the frequency:

| frequency | cycles |
|---|---|
| below a day (hourly, half-hourly, 15min, ...) | time of day, day of week (+ day of year) |
| daily, business daily | day of week (+ day of year) |
| weekly, monthly, quarterly | day of year |
| yearly, irregular, no time index | none |

Day of year is only added when the table spans at least `MIN_YEAR_SPAN_DAYS` days, so a
yearly cycle is seen at least about twice. The columns are inputs like any other: the
linear baseline and the networks both read them. The window scalers leave them as they
are (they are already in [-1, 1], and subtracting the window's last value would erase the
phase they carry); see `passthrough_indices`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from rnnkit.errors import DataError

__all__ = [
    "CALENDAR_PREFIX",
    "CYCLES",
    "MIN_YEAR_SPAN_DAYS",
    "calendar_columns",
    "calendar_cycles",
    "calendar_frame",
    "calendar_names",
    "passthrough_indices",
]

#: Every calendar column's name starts with this (`calendar_day_sin`, ...).
CALENDAR_PREFIX = "calendar_"
#: Cycle name -> what it measures, in words.
CYCLES = {"day": "time of day", "week": "day of week", "year": "day of year"}
#: Shortest span of the table (days) for which the day-of-year cycle is added.
MIN_YEAR_SPAN_DAYS = 700

_DAY = 86_400.0


def _phase(index: pd.DatetimeIndex, cycle: str) -> np.ndarray:
    """Position of each timestamp in its cycle, in [0, 1)."""
    seconds = (index.hour * 3600 + index.minute * 60 + index.second).to_numpy(np.float64)
    day = seconds / _DAY
    if cycle == "day":
        return day
    if cycle == "week":
        return (index.dayofweek.to_numpy(np.float64) + day) / 7.0
    length = np.where(index.is_leap_year, 366.0, 365.0)
    return (index.dayofyear.to_numpy(np.float64) - 1.0 + day) / length


def _step_days(frequency: str) -> float | None:
    """Length of one step in days, or `None` for calendar frequencies without a fixed step."""
    offset: Any = to_offset(frequency)
    code = offset.rule_code.split("-")[0]
    if code == "B" or code.startswith("C"):
        return 1.0
    if code.startswith(("W",)):
        return 7.0 * offset.n
    if code.startswith(("M", "Q", "SM", "BM", "BQ")):
        return 30.0 * offset.n
    if code.startswith(("Y", "A", "BY", "BA")):
        return 365.0 * offset.n
    try:
        return pd.Timedelta(offset).total_seconds() / _DAY
    except ValueError:
        return None


def calendar_cycles(index: Any, frequency: str | None) -> list[str]:
    """The cycles (`"day"`, `"week"`, `"year"`) worth adding for a time index.

    Args:
        index: The table's index; anything but a `DatetimeIndex` gets none.
        frequency: Its pandas frequency (`"h"`, `"30min"`, `"D"`...), or `None`
            (irregular or unknown: none).

    Returns:
        The cycles, in the order of `CYCLES`.

    Example:
        >>> hours = pd.date_range("2024-01-01", periods=48, freq="h")
        >>> calendar_cycles(hours, "h")
        ['day', 'week']
        >>> calendar_cycles(pd.RangeIndex(48), None)
        []
    """
    if not isinstance(index, pd.DatetimeIndex) or not frequency or len(index) < 2:
        return []
    step = _step_days(frequency)
    if step is None:
        return []
    span = (index[-1] - index[0]).total_seconds() / _DAY
    cycles = []
    if step < 1.0 and (1.0 / step) >= 2:
        cycles.append("day")
    if step < 7.0 and (7.0 / step) >= 2:
        cycles.append("week")
    if step < 183.0 and span >= MIN_YEAR_SPAN_DAYS:
        cycles.append("year")
    return cycles


def calendar_frame(
    index: pd.Index, cycles: list[str], *, caller: str = "calendar_frame()"
) -> pd.DataFrame:
    """The sine and cosine columns of `cycles` for timestamps `index`.

    Raises:
        DataError: `index` is not a `DatetimeIndex` (forecasting from a table
            without times for a model trained with calendar features).

    Example:
        >>> times = pd.DatetimeIndex(["2024-01-01 06:00"])
        >>> calendar_frame(times, ["day"]).round(6).to_dict("records")
        [{'calendar_day_sin': 1.0, 'calendar_day_cos': 0.0}]
    """
    if not isinstance(index, pd.DatetimeIndex):
        raise DataError(
            f"{caller}: the model reads calendar features (time of day, day of week "
            f"or year), but the table has no time index (its index is {type(index).__name__}). "
            "Pass the table with its time column."
        )
    columns = {}
    for cycle in cycles:
        angle = 2.0 * np.pi * _phase(index, cycle)
        sin_name, cos_name = calendar_names([cycle])
        columns[sin_name] = np.sin(angle)
        columns[cos_name] = np.cos(angle)
    return pd.DataFrame(columns, index=index)


def calendar_columns(
    frame: pd.DataFrame, frequency: str | None
) -> tuple[pd.DataFrame, list[str], str]:
    """Add the calendar columns that fit the frame's time index.

    Args:
        frame: The cleaned table (time index or row numbers).
        frequency: Its pandas frequency, or `None`.

    Returns:
        `(frame with the columns appended, cycles added, a report line)`. With no
        time index or frequency the frame comes back unchanged with `[]`.

    Raises:
        DataError: the table already has a column named like a calendar column.

    Example:
        >>> hours = pd.date_range("2024-01-01", periods=4, freq="6h")
        >>> frame = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0]}, index=hours)
        >>> out, cycles, line = calendar_columns(frame, "6h")
        >>> list(out.columns), cycles
        (['y', 'calendar_day_sin', 'calendar_day_cos', 'calendar_week_sin', \
'calendar_week_cos'], ['day', 'week'])
    """
    cycles = calendar_cycles(frame.index, frequency)
    if not cycles:
        why = (
            "no time index"
            if not isinstance(frame.index, pd.DatetimeIndex)
            else (
                f"no cycle fits the frequency {frequency}" if frequency else "irregular time steps"
            )
        )
        return frame, [], f"Calendar features: none ({why})."
    extra = calendar_frame(frame.index, cycles)
    clash = [c for c in extra.columns if c in frame.columns]
    if clash:
        raise DataError(
            f"prepare_data(): the table already has a column {clash[0]!r}, the name of a "
            "calendar feature. Rename that column, or pass calendar=False (--no-calendar)."
        )
    words = ", ".join(CYCLES[c] for c in cycles)
    line = (
        f"Calendar features: {words} (a sine and a cosine each, from the time index), "
        "read by the networks and the linear baseline."
    )
    return pd.concat([frame, extra], axis=1), cycles, line


def calendar_names(cycles: list[str]) -> list[str]:
    """The column names of `cycles`, in `calendar_frame` order.

    Example:
        >>> calendar_names(["week"])
        ['calendar_week_sin', 'calendar_week_cos']
    """
    return [f"{CALENDAR_PREFIX}{cycle}_{part}" for cycle in cycles for part in ("sin", "cos")]


def passthrough_indices(features: list[str], cycles: list[str]) -> np.ndarray:
    """Positions of the calendar columns of `cycles` among `features` (fed unscaled).

    Example:
        >>> passthrough_indices(["y", "calendar_day_sin", "calendar_day_cos"], ["day"]).tolist()
        [1, 2]
    """
    names = set(calendar_names(cycles))
    return np.asarray([i for i, name in enumerate(features) if name in names], dtype=np.intp)
