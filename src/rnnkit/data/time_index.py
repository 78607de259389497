"""The time index of a table: which column holds the time, parsed and checked.

`build_time_index` turns a time column (or year/month/day/... part columns) into a
sorted `DatetimeIndex`, or detects the column when none is given: among the
columns named like `date` or `time`, datetime columns and text columns whose
values read as dates, the one whose values all parse, are unique and have the
most regular step wins, and the other date columns leave the features. A numeric
column is read as epoch seconds (or ms, us, ns) when its values fit, and is
otherwise refused when given. Values that are not dates are named by file line.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from rnnkit._validation import check_one_of
from rnnkit.data.tables import RawTable
from rnnkit.errors import DataError

if TYPE_CHECKING:
    from rnnkit.data.io import TableReport

__all__ = ["ROW", "build_time_index", "first_bad", "infer_frequency", "row_text"]

#: Column holding each frame row's data row in the file (-1 for inserted timestamps).
ROW = "__rnnkit_row__"
_TIME_PARTS = ("year", "month", "day", "hour", "minute", "second")
_TIME_NAMES = ("datetime", "timestamp", "date", "time", "date_time", "ds", "period")
_SAMPLE = 50  # values looked at to decide whether a text column holds dates
#: Epoch units and the range of values that reads as dates from 1973 to 2286 in them.
_EPOCH_UNITS = (("s", 1e8, 1e10), ("ms", 1e11, 1e13), ("us", 1e14, 1e16), ("ns", 1e17, 1e19))


def infer_frequency(index: pd.DatetimeIndex) -> str | None:
    """Return the frequency of a datetime index as a pandas string, or `None`.

    Uses `pd.infer_freq` on a regular index, else the most common step
    between timestamps (so an index with gaps still gets its frequency).

    Args:
        index: Sorted timestamps.

    Returns:
        A frequency string such as `"h"`, `"D"` or `"MS"`, or `None` with fewer
        than two timestamps.

    Example:
        >>> index = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 03:00"])
        >>> infer_frequency(index)
        'h'
    """
    if len(index) < 2:
        return None
    if len(index) >= 3:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            freq = pd.infer_freq(index)
        if freq is not None:
            return to_offset(freq).freqstr
    steps = pd.Series(np.diff(index.asi8))
    step = steps.mode().iloc[0]
    if step <= 0:
        return None
    delta = pd.Timedelta(int(step), unit=index.unit)
    days, rest = divmod(delta, pd.Timedelta(days=1))
    if days and not rest:  # whole days read "D"/"7D", not "24h"/"168h"
        return to_offset(f"{days}D").freqstr
    return to_offset(delta).freqstr


def first_bad(mask: np.ndarray, frame: pd.DataFrame) -> str:
    """Describe the first row where `mask` is True: its file row and timestamp."""
    return row_text(int(np.argmax(mask)), frame)


def row_text(position: int, frame: pd.DataFrame) -> str:
    """Describe a frame position: its file row and timestamp."""
    row = int(frame[ROW].iloc[position])
    where = f"row {row}" if row >= 0 else "an inserted row"
    if isinstance(frame.index, pd.DatetimeIndex):
        where += f" ({frame.index[position]})"
    return where


def build_time_index(
    frame: pd.DataFrame, time_column: Any, report: TableReport, raw: RawTable, caller: str
) -> pd.DataFrame:
    """Index `frame` by its time column(s), filling in `report` (see the module docs).

    Args:
        frame: The table as read, with the `ROW` column.
        time_column: A column name, a list of part columns, or `None` (detect).
        report: The `TableReport` to fill: `time_index`, `time_column`,
            `frequency`, `dropped_columns`, `notes`.
        raw: The file as read (for line numbers).
        caller: Name of the calling function, for messages.

    Returns:
        The frame without its time and other date columns, indexed by a sorted
        `DatetimeIndex` named `"time"` (a `RangeIndex` when no time column is found).

    Raises:
        DataError: values that are not dates (by file line), empty time cells, a
            numeric time column that is not epoch times, duplicate timestamps.
        ValueError: an unknown time column.
    """
    names = [c for c in frame.columns if c != ROW]
    lower = {c.lower(): c for c in names}
    how = "given"
    others: list[str] = []
    if time_column is None:
        how = "detected"
        parts = [lower[p] for p in _TIME_PARTS if p in lower]
        if {"year", "month", "day"} <= {p.lower() for p in parts}:
            time_column = parts
        else:
            chosen = _detect_time_column(frame, names, raw, report, caller)
            if chosen is None:
                report.time_index = "none found; rows are kept in file order"
                frame.index = pd.RangeIndex(len(frame))
                return frame
            time_column, stamps, how, others = chosen
    if isinstance(time_column, str):
        check_one_of("time column", time_column, names, caller=caller)
        used = [time_column]
        if how == "given":
            parsed = _parse_time(frame[time_column], time_column, frame, raw, caller)
            assert parsed is not None  # given=True raises instead of returning None
            stamps, unit = parsed
            _check_dates(stamps, frame[time_column], time_column, frame, raw, caller)
            _note_epoch(report, time_column, unit)
        report.time_index = f"column {time_column!r} ({how})"
        report.time_column = time_column
    else:
        used = list(time_column)
        stamps = _parse_parts(frame, used, names, caller)
        report.time_index = f"built from columns {', '.join(used)} ({how.split(';')[0]})"
        report.time_column = used
    others += [
        c
        for c in _text_columns(frame, names)
        if c not in used and c not in others and _looks_like_dates(frame[c])
    ]
    for other in others:
        report.dropped_columns[other] = (
            f"another date/time column (the time index is {', '.join(map(repr, used))})"
        )
    frame = frame.drop(columns=[*used, *others])
    frame.index = stamps.rename("time")
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index(kind="stable")
        report.notes.append("Rows were not in time order; they were sorted by time.")
    duplicated = np.asarray(frame.index.duplicated())
    if duplicated.any():
        position = int(np.argmax(duplicated))
        stamp = frame.index[position]
        rows = frame[ROW].to_numpy()[frame.index == stamp].tolist()
        raise DataError(
            f"{caller}: timestamp {stamp} appears more than once (rows {rows[0]} and "
            f"{rows[1]}). Remove or aggregate duplicate timestamps first."
        )
    report.frequency = infer_frequency(pd.DatetimeIndex(frame.index))
    return frame


def _parse_parts(frame: pd.DataFrame, used: list[str], names: list[str], caller: str) -> Any:
    for name in used:
        check_one_of("time column", name, names, caller=caller)
    keys = {name: name.lower() for name in used}
    unknown = [n for n, k in keys.items() if k not in _TIME_PARTS]
    if unknown or not {"year", "month", "day"} <= set(keys.values()):
        raise DataError(
            f"{caller}: time part columns must be named year, month, day and optionally "
            f"hour, minute, second. Received: {used}."
        )
    parts = frame[used].rename(columns=keys)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            stamps = pd.to_datetime(parts, errors="coerce")
        except (ValueError, TypeError):  # e.g. text in a part column
            numbers = parts.apply(pd.to_numeric, errors="coerce")
            stamps = pd.to_datetime(numbers, errors="coerce")
    bad = stamps.isna().to_numpy()
    if bad.any():
        where = first_bad(bad, frame)
        values = frame[used].iloc[int(np.argmax(bad))].to_dict()
        raise DataError(
            f"{caller}: time columns {', '.join(used)} do not form a valid date at "
            f"{where}: {values}. Fix or remove that row."
        )
    return pd.DatetimeIndex(stamps)


def _epoch_unit(values: np.ndarray) -> str | None:
    """The epoch unit in which every value reads as a date in 1973..2286, or `None`."""
    if not len(values) or not np.isfinite(values).all():
        return None
    low, high = float(values.min()), float(values.max())
    whole = bool(np.all(values == np.round(values)))
    for unit, start, stop in _EPOCH_UNITS:
        if start <= low and high < stop and (whole or unit == "s"):
            return unit
    return None


def _parse_time(
    column: pd.Series,
    name: str,
    frame: pd.DataFrame,
    raw: RawTable,
    caller: str,
    *,
    given: bool = True,
) -> tuple[pd.DatetimeIndex, str | None] | None:
    """`(timestamps, epoch unit or None)` of a time column (`NaT` where no date).

    A numeric column is read as epoch seconds (or ms, us, ns) when its values
    fit; otherwise it is an error when `given` and `None` (not a time column)
    when detected.
    """
    empty = column.isna().to_numpy()
    if given and empty.any():
        raise DataError(
            f"{caller}: time column {name!r} is empty at {first_bad(empty, frame)}. Fill or "
            "remove rows without a timestamp."
        )
    if pd.api.types.is_datetime64_any_dtype(column):
        return pd.DatetimeIndex(column), None
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        unit = None if pd.api.types.is_bool_dtype(column) else _epoch_unit(values)
        if unit is not None:
            # pandas-stubs types `unit` as a Literal; _epoch_unit returns one of those names.
            return pd.DatetimeIndex(pd.to_datetime(values, unit=unit)), unit  # type: ignore[call-overload]
        if not given:
            return None
        finite = values[np.isfinite(values)]
        span = f", values {finite.min():g} to {finite.max():g}" if len(finite) else ""
        raise DataError(
            f"{caller}: time column {name!r} is numeric ({column.dtype}{span}), not dates or "
            "epoch times. Pass time_column= (--time-column) naming a column of dates such as "
            "2024-01-31 13:00, or leave it out to keep the rows in file order."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.DatetimeIndex(pd.to_datetime(column, errors="coerce")), None


def _note_epoch(report: TableReport, name: str, unit: str | None) -> None:
    if unit is not None:
        report.notes.append(f"Time column {name!r} holds epoch times in {unit} (UTC).")


def _check_dates(
    stamps: pd.DatetimeIndex,
    column: pd.Series,
    name: str,
    frame: pd.DataFrame,
    raw: RawTable,
    caller: str,
) -> None:
    """Refuse values that are not dates, naming the first few by file line."""
    bad = np.flatnonzero(stamps.isna() & column.notna().to_numpy())
    if not len(bad):
        return
    rows = frame[ROW].to_numpy()
    shown = ", ".join(f"{column.iloc[p]!r} ({raw.where(int(rows[p]))})" for p in bad[:5])
    more = f" and {len(bad) - 5:,} more" if len(bad) > 5 else ""
    raise DataError(
        f"{caller}: time column {name!r} holds {len(bad):,} value(s) that are not dates: "
        f"{shown}{more}. Fix or remove those rows, or pass time_column= naming the right column."
    )


def _looks_like_dates(column: pd.Series) -> bool:
    """Whether a text column's first values mostly read as dates (digits needed)."""
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return False
    sample = column.dropna().head(_SAMPLE).astype(str)
    if sample.empty or not sample.str.contains(r"\d", regex=True).all():
        return False
    if pd.to_numeric(sample, errors="coerce").notna().mean() > 0.5:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.8)


def _text_columns(frame: pd.DataFrame, names: list[str]) -> list[str]:
    """The columns among `names` that hold neither numbers, booleans nor datetimes."""
    dtypes = frame.dtypes
    return [
        c
        for c in names
        if not (
            pd.api.types.is_numeric_dtype(dtypes[c])
            or pd.api.types.is_bool_dtype(dtypes[c])
            or pd.api.types.is_datetime64_any_dtype(dtypes[c])
        )
    ]


def _regularity(stamps: pd.DatetimeIndex) -> tuple[bool, float, bool]:
    """`(unique, share of the commonest step, increasing)` of parsed timestamps."""
    valid = stamps[stamps.notna()]
    unique = bool(valid.is_unique)
    if len(valid) < 3:
        return unique, 1.0, bool(valid.is_monotonic_increasing)
    steps = pd.Series(np.diff(valid.sort_values().asi8))
    share = float(steps.value_counts().iloc[0] / len(steps))
    return unique, share, bool(valid.is_monotonic_increasing)


def _detect_time_column(
    frame: pd.DataFrame, names: list[str], raw: RawTable, report: TableReport, caller: str
) -> tuple[str, pd.DatetimeIndex, str, list[str]] | None:
    """Pick the time column among the date-like columns: complete, unique, regular.

    Candidates: columns named like `date` or `time`, datetime columns, then text
    columns whose values read as dates. The one whose values all parse, are
    unique and have the most regular step wins (ties: the earlier candidate).

    Returns:
        `(column, timestamps, how it was chosen, the other date columns)`, or
        `None` when no column holds dates.
    """
    lower = {c.lower(): c for c in names}
    named = [lower[n] for n in _TIME_NAMES if n in lower]
    dtypes = frame.dtypes
    text = set(_text_columns(frame, names))
    ordered = named + [
        c
        for c in names
        if c not in named
        and (
            pd.api.types.is_datetime64_any_dtype(dtypes[c])
            or (c in text and _looks_like_dates(frame[c]))
        )
    ]
    scored = []
    for name in ordered:
        column = frame[name]
        parsed = _parse_time(column, name, frame, raw, caller, given=False)
        if parsed is None:
            continue
        stamps, unit = parsed
        found = int(np.count_nonzero(stamps.notna()))
        if not found or (name not in named and found < 0.8 * column.notna().sum()):
            continue
        complete = bool(stamps.notna().all())
        unique, share, increasing = _regularity(stamps)
        scored.append(((complete, unique, share, increasing), name, stamps, unit))
    if not scored:
        return None
    best = max(range(len(scored)), key=lambda i: (scored[i][0], -i))
    _, name, stamps, unit = scored[best]
    _check_empty_and_dates(stamps, frame[name], name, frame, raw, caller)
    _note_epoch(report, name, unit)
    how = "detected"
    others = [entry for i, entry in enumerate(scored) if i != best]
    if others:
        reasons = [
            f"{other!r} ({'values repeat' if not score[1] else 'less regular'})"
            for score, other, _, _ in others
        ]
        how += f"; chosen over {', '.join(reasons)}"
    return name, stamps, how, [other for _, other, _, _ in others]


def _check_empty_and_dates(
    stamps: pd.DatetimeIndex,
    column: pd.Series,
    name: str,
    frame: pd.DataFrame,
    raw: RawTable,
    caller: str,
) -> None:
    empty = column.isna().to_numpy()
    if empty.any():
        raise DataError(
            f"{caller}: time column {name!r} is empty at {first_bad(empty, frame)}. Fill or "
            "remove rows without a timestamp."
        )
    _check_dates(stamps, column, name, frame, raw, caller)
