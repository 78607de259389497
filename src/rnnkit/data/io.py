"""Read a CSV or Parquet table into a clean, numeric, time-indexed DataFrame.

`read_table` never cleans silently: it returns a `TableReport` that says how the
time index was built, what frequency and gaps it found, how many values it
filled or dropped per column, and which text columns it encoded or dropped.
Rows in error messages are counted from 0, header not included (as pandas
numbers them); values that are not dates are named by their file line (1-based,
the header is line 1). Files are opened through `rnnkit.data.tables.read_raw_table`,
which refuses hostile files (huge lines or headers, duplicate column names)
before pandas parses them and detects the separator.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from rnnkit._validation import check_one_of
from rnnkit._validation import check_positive_int
from rnnkit.data.tables import SEPARATORS
from rnnkit.data.tables import RawTable
from rnnkit.data.tables import check_magnitude
from rnnkit.data.tables import read_raw_table
from rnnkit.errors import DataError

__all__ = [
    "CATEGORICAL_POLICIES",
    "MISSING_POLICIES",
    "TableReport",
    "infer_frequency",
    "read_table",
]

logger = logging.getLogger(__name__)

MISSING_POLICIES = ("interpolate", "ffill", "drop", "error")
CATEGORICAL_POLICIES = ("onehot", "drop", "error")
_TIME_PARTS = ("year", "month", "day", "hour", "minute", "second")
_TIME_NAMES = ("datetime", "timestamp", "date", "time", "date_time", "ds", "period")
_ROW = "__rnnkit_row__"  # file row of each frame row (-1 for inserted timestamps)
_SAMPLE = 50  # values looked at to decide whether a text column holds dates
#: Epoch units and the range of values that reads as dates from 1973 to 2286 in them.
_EPOCH_UNITS = (("s", 1e8, 1e10), ("ms", 1e11, 1e13), ("us", 1e14, 1e16), ("ns", 1e17, 1e19))


@dataclass
class TableReport:
    """What `read_table` found and did, for logs and reports.

    Attributes:
        source: The file read.
        rows_read: Data rows in the file.
        rows: Rows in the returned frame.
        columns: Columns of the returned frame.
        time_index: How the index was built, in words.
        time_column: The column (or part columns) the index was built from, or `None`.
        separator: The CSV separator used (given or detected), or `None` for Parquet.
        frequency: Pandas frequency string of the index (`"h"`, `"D"`, ...), or `None`.
        missing_timestamps: Timestamps absent from the regular grid.
        inserted_rows: Rows inserted for missing timestamps (then filled).
        missing_policy: The missing-value policy applied.
        missing: Missing values per column before handling (inserted rows included).
        filled: Values filled per column.
        dropped_rows: Rows dropped for missing values.
        categorical_policy: The policy applied to text columns.
        encoded: Text column -> the one-hot columns made from it.
        dropped_columns: Column -> why it was dropped.
        notes: Anything else worth knowing, in words.
    """

    source: str
    rows_read: int = 0
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    time_index: str = "none"
    time_column: str | list[str] | None = None
    separator: str | None = None
    frequency: str | None = None
    missing_timestamps: int = 0
    inserted_rows: int = 0
    missing_policy: str = "interpolate"
    missing: dict[str, int] = field(default_factory=dict)
    filled: dict[str, int] = field(default_factory=dict)
    dropped_rows: int = 0
    categorical_policy: str = "onehot"
    encoded: dict[str, list[str]] = field(default_factory=dict)
    dropped_columns: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Return the report as plain-words lines."""
        out = [
            f"Read {self.rows_read:,} rows from {self.source}; kept {self.rows:,} rows x "
            f"{len(self.columns)} columns.",
            f"Time index: {self.time_index}"
            + (f"; frequency {self.frequency}" if self.frequency else "")
            + (
                f"; {self.missing_timestamps:,} missing timestamps"
                + (
                    f" ({self.inserted_rows:,} rows inserted and filled)"
                    if self.inserted_rows
                    else ""
                )
                if self.missing_timestamps
                else ("; no gaps" if self.frequency else "")
            )
            + ".",
        ]
        missing = {c: n for c, n in self.missing.items() if n}
        if missing:
            parts = [
                f"{c} {n:,} missing"
                + (f", {self.filled.get(c, 0):,} filled" if self.filled else "")
                for c, n in missing.items()
            ]
            policy = f"Missing values (policy {self.missing_policy!r}): "
            out.append(policy + "; ".join(parts) + ".")
        else:
            out.append("Missing values: none.")
        if self.dropped_rows and self.missing_policy == "drop":
            out.append(f"Dropped {self.dropped_rows:,} rows with missing values.")
        for column, made in self.encoded.items():
            out.append(f"Categorical column {column!r} one-hot encoded into {', '.join(made)}.")
        for column, why in self.dropped_columns.items():
            out.append(f"Dropped column {column!r}: {why}.")
        out.extend(self.notes)
        return out

    def __str__(self) -> str:
        """Return the report lines joined by newlines."""
        return "\n".join(self.lines())


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
    unit = np.datetime_data(index.dtype)[0]
    delta = pd.Timedelta(int(step), unit=unit)
    days, rest = divmod(delta, pd.Timedelta(days=1))
    if days and not rest:  # whole days read "D"/"7D", not "24h"/"168h"
        return to_offset(f"{days}D").freqstr
    return to_offset(delta).freqstr


def read_table(
    path: str | Path,
    *,
    time_column: str | list[str] | None = None,
    target: str | list[str] | None = None,
    columns: list[str] | None = None,
    missing: str = "interpolate",
    categorical: str = "onehot",
    max_categories: int = 50,
    sep: str | None = None,
) -> tuple[pd.DataFrame, TableReport]:
    """Read a CSV or Parquet file into a numeric DataFrame with a time index.

    Steps, each reported in the returned `TableReport`:

    1. Time index: `time_column` (a datetime column) or a list of part
       columns (`year`, `month`, `day`, optionally `hour`, `minute`,
       `second`) become a sorted `DatetimeIndex`, and those columns leave the
       frame. With `time_column=None` they are detected: year/month/day
       columns, else a column named like `date`, `datetime`, `time` or
       `timestamp`, else a datetime column; with none found the row order is kept.
    2. Frequency and gaps: the frequency is inferred; missing timestamps are
       counted, and with `missing="interpolate"` or `"ffill"` inserted as
       empty rows to be filled, so the result has a regular grid.
    3. Missing values in numeric columns: `"interpolate"` (linear in time
       inside each gap, last value carried to the end), `"ffill"` (carry the
       last value forward), `"drop"` (drop rows) or `"error"`. Leading rows
       that have no earlier value are dropped, never back-filled.
    4. Text columns: `"onehot"` (one 0/1 column per category; missing
       categories follow the missing-value policy, with "interpolate" meaning
       carry forward), `"drop"` or `"error"`. A text column that is mostly
       numbers is an error naming the bad row, not a category.

    Args:
        path: A `.csv`, `.tsv`, `.txt` (optionally compressed: `.gz`, `.bz2`,
            `.zip`, `.xz`, `.zst`) or `.parquet`/`.pq` file.
        time_column: Datetime column name, or list of part columns. Defaults
            to `None` (detect).
        target: Column(s) that will be forecast: checked to exist, be numeric
            and have values. Defaults to `None`.
        columns: Keep only these columns (besides the time columns).
            Defaults to `None` (all).
        missing: `"interpolate"`, `"ffill"`, `"drop"` or `"error"`. Defaults
            to `"interpolate"`.
        categorical: `"onehot"`, `"drop"` or `"error"`. Defaults to `"onehot"`.
        max_categories: Most categories a text column may have to be one-hot
            encoded. Defaults to `50`.
        sep: CSV field separator. Defaults to `None` (`","`, or tab for `.tsv`).

    Returns:
        `(frame, report)`: a float64 DataFrame (index: `DatetimeIndex` named
        `"time"`, or a `RangeIndex`) and the `TableReport`.

    Raises:
        DataError: missing or empty file, unparseable dates, duplicate
            timestamps, an all-empty or non-numeric column, inf values, missing
            values under `missing="error"`, nothing left after cleaning.
        ValueError: an unknown column, policy or file type (with a "did you mean").

    Example:
        >>> import tempfile
        >>> file = Path(tempfile.mkdtemp()) / "t.csv"
        >>> _ = file.write_text(
        ...     "date,temp,wind\\n2024-01-01,1.0,N\\n2024-01-02,,S\\n2024-01-03,3.0,N\\n")
        >>> frame, report = read_table(file, target="temp")
        >>> frame.columns.tolist(), frame["temp"].tolist(), frame["wind_S"].tolist()
        (['temp', 'wind_N', 'wind_S'], [1.0, 2.0, 3.0], [0.0, 1.0, 0.0])
        >>> str(frame.index[1])
        '2024-01-02 00:00:00'
        >>> report.frequency, report.filled
        ('D', {'temp': 1})
    """
    caller = "read_table()"
    check_one_of("missing-value policy", missing, MISSING_POLICIES, caller=caller)
    check_one_of("categorical policy", categorical, CATEGORICAL_POLICIES, caller=caller)
    max_categories = check_positive_int("max_categories", max_categories, caller=caller)
    raw = read_raw_table(path, sep=sep, caller=caller)
    frame = raw.frame
    report = TableReport(
        source=str(path),
        rows_read=len(frame),
        missing_policy=missing,
        categorical_policy=categorical,
        separator=raw.separator,
    )
    separator = raw.describe_separator()
    if separator:
        report.notes.append(f"Columns split by the {separator}.")
    if raw.skipped_lines:
        report.notes.append(f"Skipped {raw.skipped_lines:,} empty line(s).")
    frame[_ROW] = np.arange(len(frame))
    names = [c for c in frame.columns if c != _ROW]
    targets = _as_list(target)
    _check_single_column(names, [*targets, *_as_list(columns)], raw, caller)
    for name in targets:
        check_one_of("target column", name, names, caller=caller)
    for name in _as_list(columns):
        check_one_of("column", name, names, caller=caller)

    frame = _build_time_index(frame, time_column, report, raw, caller)
    if columns is not None:
        keep = list(dict.fromkeys([*columns, *targets]))
        dropped = [c for c in frame.columns if c not in keep and c != _ROW]
        frame = frame[[*keep, _ROW]]
        if dropped:
            report.notes.append(f"Kept only the chosen columns; left out {', '.join(dropped)}.")
    numeric, text = _classify_columns(frame, targets, report, caller)
    frame = _regularise_grid(frame, missing, report, caller)
    frame = _handle_missing(frame, numeric, missing, report, caller)
    frame = _encode_text(frame, text, categorical, max_categories, missing, report, caller)

    frame = frame.drop(columns=_ROW).astype(np.float64)
    if isinstance(frame.index, pd.DatetimeIndex) and report.frequency and len(frame) > 1:
        # a regular grid keeps its frequency on the index (for season inference)
        with contextlib.suppress(ValueError):
            frame.index = pd.DatetimeIndex(frame.index, freq=report.frequency, name="time")
    if frame.empty or frame.shape[1] == 0:
        raise DataError(
            f"{caller}: nothing is left of {path} after cleaning ({len(frame)} rows, "
            f"{frame.shape[1]} numeric columns). Check the missing-value and column choices."
        )
    report.rows = len(frame)
    report.columns = [str(c) for c in frame.columns]
    for line in report.lines():
        logger.info(line)
    return frame, report


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _check_single_column(names: list[str], wanted: list[str], raw: RawTable, caller: str) -> None:
    """A one-column file whose header holds another separator: say which to pass."""
    if len(names) != 1 or not wanted or wanted[0] in names:
        return
    for candidate in SEPARATORS:
        if candidate != raw.separator and candidate in names[0]:
            raise DataError(
                f"{caller}: {str(raw.path)!r} read as one column {names[0]!r} with separator "
                f"{raw.separator!r}, so there is no column {wanted[0]!r}; the header looks "
                f"{candidate!r}-separated. Pass sep={candidate!r}, or leave sep out to detect it."
            )


def _first_bad(mask: np.ndarray, frame: pd.DataFrame) -> str:
    """Describe the first row where `mask` is True: its file row and timestamp."""
    return _row_text(int(np.argmax(mask)), frame)


def _row_text(position: int, frame: pd.DataFrame) -> str:
    """Describe a frame position: its file row and timestamp."""
    row = int(frame[_ROW].iloc[position])
    where = f"row {row}" if row >= 0 else "an inserted row"
    if isinstance(frame.index, pd.DatetimeIndex):
        where += f" ({frame.index[position]})"
    return where


def _build_time_index(
    frame: pd.DataFrame, time_column: Any, report: TableReport, raw: RawTable, caller: str
) -> pd.DataFrame:
    names = [c for c in frame.columns if c != _ROW]
    lower = {c.lower(): c for c in names}
    how = "given"
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
            time_column, stamps, how = chosen
    if isinstance(time_column, str):
        check_one_of("time column", time_column, names, caller=caller)
        used = [time_column]
        if how == "given":
            stamps, unit = _parse_time(frame[time_column], time_column, frame, raw, caller)
            _check_dates(stamps, frame[time_column], time_column, frame, raw, caller)
            _note_epoch(report, time_column, unit)
        report.time_index = f"column {time_column!r} ({how})"
        report.time_column = time_column
    else:
        used = list(time_column)
        stamps = _parse_parts(frame, used, names, caller)
        report.time_index = f"built from columns {', '.join(used)} ({how.split(';')[0]})"
        report.time_column = used
    frame = frame.drop(columns=used)
    frame.index = stamps.rename("time")
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index(kind="stable")
        report.notes.append("Rows were not in time order; they were sorted by time.")
    duplicated = np.asarray(frame.index.duplicated())
    if duplicated.any():
        position = int(np.argmax(duplicated))
        stamp = frame.index[position]
        rows = frame[_ROW].to_numpy()[frame.index == stamp].tolist()
        raise DataError(
            f"{caller}: timestamp {stamp} appears more than once (rows {rows[0]} and "
            f"{rows[1]}). Remove or aggregate duplicate timestamps first."
        )
    report.frequency = infer_frequency(frame.index)
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
        where = _first_bad(bad, frame)
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
            f"{caller}: time column {name!r} is empty at {_first_bad(empty, frame)}. Fill or "
            "remove rows without a timestamp."
        )
    if pd.api.types.is_datetime64_any_dtype(column):
        return pd.DatetimeIndex(column), None
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        unit = None if pd.api.types.is_bool_dtype(column) else _epoch_unit(values)
        if unit is not None:
            return pd.DatetimeIndex(pd.to_datetime(values, unit=unit)), unit
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
    rows = frame[_ROW].to_numpy()
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
) -> tuple[str, pd.DatetimeIndex, str] | None:
    """Pick the time column among the date-like columns: complete, unique, regular.

    Candidates: columns named like `date` or `time`, datetime columns, then text
    columns whose values read as dates. The one whose values all parse, are
    unique and have the most regular step wins (ties: the earlier candidate);
    the other date columns are dropped from the features.
    """
    lower = {c.lower(): c for c in names}
    named = [lower[n] for n in _TIME_NAMES if n in lower]
    ordered = named + [
        c
        for c in names
        if c not in named
        and (pd.api.types.is_datetime64_any_dtype(frame[c]) or _looks_like_dates(frame[c]))
    ]
    scored = []
    for name in ordered:
        column = frame[name]
        parsed = _parse_time(column, name, frame, raw, caller, given=False)
        if parsed is None:
            continue
        stamps, unit = parsed
        found = int(stamps.notna().sum())
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
    for _, other, _, _ in others:
        report.dropped_columns[other] = f"another date/time column (the time index is {name!r})"
        frame.drop(columns=other, inplace=True)
    return name, stamps, how


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
            f"{caller}: time column {name!r} is empty at {_first_bad(empty, frame)}. Fill or "
            "remove rows without a timestamp."
        )
    _check_dates(stamps, column, name, frame, raw, caller)


def _classify_columns(
    frame: pd.DataFrame, targets: list[str], report: TableReport, caller: str
) -> tuple[list[str], list[str]]:
    numeric, text = [], []
    candidates = [
        str(c)
        for c in frame.columns
        if c != _ROW
        and (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
    ]
    for name in frame.columns:
        if name == _ROW:
            continue
        column = frame[name]
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
            numeric.append(name)
            continue
        if pd.api.types.is_datetime64_any_dtype(column) or isinstance(column.dtype, pd.PeriodDtype):
            if name in targets:
                raise DataError(
                    f"{caller}: target column {name!r} holds dates, not numbers. Choose a "
                    "numeric target column."
                )
            report.dropped_columns[name] = "a second date/time column, not a feature"
            continue
        present = column.dropna()
        bad = (column.notna() & pd.to_numeric(column, errors="coerce").isna()).to_numpy()
        if len(present) and bad.sum() <= 0.1 * len(present):
            raise DataError(
                f"{caller}: column {name!r} is not numeric: {column[bad].iloc[0]!r} at "
                f"{_first_bad(bad, frame)}. Fix that value or leave it empty (empty cells "
                "count as missing)."
            )
        if name in targets:
            example = present.iloc[0] if len(present) else None
            hint = f" Numeric columns: {', '.join(candidates)}." if candidates else ""
            raise DataError(
                f"{caller}: target column {name!r} is not numeric (it holds text such as "
                f"{example!r}). Choose a numeric target column.{hint}"
            )
        text.append(name)
    for name in numeric:
        if frame[name].isna().all():
            raise DataError(
                f"{caller}: column {name!r} has no values (all {len(frame)} rows are missing). "
                "Remove the column (columns=[...]) or fix the file."
            )
        values = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
        check_magnitude(values, name, caller, where=lambda p: _row_text(p, frame))
    return numeric, text


def _regularise_grid(
    frame: pd.DataFrame, missing: str, report: TableReport, caller: str
) -> pd.DataFrame:
    if not isinstance(frame.index, pd.DatetimeIndex) or report.frequency is None:
        return frame
    grid = pd.date_range(frame.index[0], frame.index[-1], freq=report.frequency, name="time")
    off_grid = ~frame.index.isin(grid)
    if off_grid.any():
        report.notes.append(
            f"{int(off_grid.sum()):,} timestamps are off the {report.frequency} grid "
            f"(first {frame.index[int(np.argmax(off_grid))]}); the grid was not regularised."
        )
        return frame
    absent = grid.difference(frame.index)
    report.missing_timestamps = len(absent)
    if not len(absent):
        return frame
    if missing == "error":
        raise DataError(
            f"{caller}: {len(absent):,} timestamps are missing from the {report.frequency} grid "
            f"(first {absent[0]}). Choose missing='interpolate', 'ffill' or 'drop'."
        )
    if missing == "drop":
        report.notes.append(
            f"Missing timestamps were left out (policy 'drop'): windows may span the gaps "
            f"(first {absent[0]})."
        )
        return frame
    frame = frame.reindex(grid)
    frame[_ROW] = frame[_ROW].fillna(-1).astype(np.int64)
    report.inserted_rows = len(absent)
    return frame


def _handle_missing(
    frame: pd.DataFrame, numeric: list[str], missing: str, report: TableReport, caller: str
) -> pd.DataFrame:
    if not numeric:
        return frame
    values = frame[numeric].astype(np.float64)
    counts = values.isna().sum()
    report.missing = {name: int(counts[name]) for name in numeric}
    if not counts.any():
        frame[numeric] = values
        return frame
    if missing == "error":
        name = str(counts[counts > 0].index[0])
        where = _first_bad(values[name].isna().to_numpy(), frame)
        raise DataError(
            f"{caller}: column {name!r} has {int(counts[name]):,} missing values (first at "
            f"{where}). Choose missing='interpolate', 'ffill' or 'drop'."
        )
    if missing == "drop":
        keep = values.notna().all(axis=1).to_numpy()
        report.dropped_rows = int((~keep).sum())
        frame = frame.loc[keep].copy()
        frame[numeric] = values.loc[keep]
        return frame
    if missing == "interpolate":
        method = "time" if isinstance(frame.index, pd.DatetimeIndex) else "linear"
        filled = values.interpolate(method=method, limit_area="inside").ffill()
    else:
        filled = values.ffill()
    leading = int(filled.notna().all(axis=1).to_numpy().argmax())
    if not filled.notna().all(axis=1).any():
        leading = len(filled)
    if leading:
        report.dropped_rows = leading
        columns = [c for c in numeric if filled[c].iloc[:leading].isna().any()]
        report.notes.append(
            f"Dropped the first {leading:,} rows: {', '.join(columns)} had no earlier value "
            "to fill from (never back-filled)."
        )
    report.filled = {
        name: int((values[name].isna() & filled[name].notna()).iloc[leading:].sum())
        for name in numeric
    }
    frame = frame.iloc[leading:].copy()
    frame[numeric] = filled.iloc[leading:]
    return frame


def _encode_text(
    frame: pd.DataFrame,
    text: list[str],
    categorical: str,
    max_categories: int,
    missing: str,
    report: TableReport,
    caller: str,
) -> pd.DataFrame:
    for name in text:
        column = frame[name]
        if categorical == "error":
            example = column.dropna().iloc[0] if column.notna().any() else None
            raise DataError(
                f"{caller}: column {name!r} holds text (such as {example!r}). Choose "
                "categorical='onehot' or 'drop', or remove the column."
            )
        if categorical == "drop":
            frame = frame.drop(columns=name)
            report.dropped_columns[name] = "text column (categorical='drop')"
            continue
        levels = column.dropna().unique()
        if len(levels) > max_categories:
            raise DataError(
                f"{caller}: column {name!r} has {len(levels):,} distinct text values, more than "
                f"max_categories={max_categories}; one-hot encoding would add a column for "
                "each. Drop it (categorical='drop' or columns=[...]) or raise max_categories."
            )
        n_missing = int(column.isna().sum())
        if n_missing:
            report.missing[name] = n_missing
            if missing == "error":
                where = _first_bad(column.isna().to_numpy(), frame)
                raise DataError(
                    f"{caller}: column {name!r} has {n_missing:,} missing values (first at "
                    f"{where}). Choose missing='interpolate', 'ffill' or 'drop'."
                )
            if missing == "drop":
                keep = column.notna().to_numpy()
                frame, column = frame.loc[keep], column.loc[keep]
                report.dropped_rows += n_missing
            else:
                column = column.ffill()
                report.filled[name] = n_missing - int(column.isna().sum())
                if column.isna().any():
                    report.notes.append(
                        f"{name}: {int(column.isna().sum()):,} leading missing categories "
                        "left as all-zero one-hot rows."
                    )
        dummies = pd.get_dummies(column, prefix=name, dtype=np.float64)
        dummies = dummies[sorted(dummies.columns)]
        position = list(frame.columns).index(name)
        frame = pd.concat(
            [frame.iloc[:, :position], dummies, frame.iloc[:, position + 1 :]], axis=1
        )
        report.encoded[name] = [str(c) for c in dummies.columns]
    return frame
