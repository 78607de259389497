"""Read a CSV or Parquet table into a clean, numeric, time-indexed DataFrame.

`read_table` never cleans silently: it returns a `TableReport` that says how the
time index was built, what frequency and gaps it found, how many values it
filled or dropped per column, and which text columns it encoded or dropped.
Rows in error messages are counted from 0, header not included (as pandas
numbers them); values that are not dates are named by their file line (1-based,
the header is line 1). Files are opened through `rnnkit.data.tables.read_raw_table`,
which refuses hostile files (huge lines or headers, duplicate column names)
before pandas parses them and detects the separator.

One job, ``read_table``'s cleaning pipeline; its steps read best in order in one place.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Literal

import numpy as np
import pandas as pd

from rnnkit._validation import check_one_of
from rnnkit._validation import check_positive_int
from rnnkit.data.choices import CATEGORICAL_POLICIES
from rnnkit.data.choices import MISSING_POLICIES
from rnnkit.data.tables import MAX_ABS_VALUE
from rnnkit.data.tables import SEPARATORS
from rnnkit.data.tables import RawTable
from rnnkit.data.tables import check_magnitude
from rnnkit.data.tables import read_raw_table
from rnnkit.data.time_index import ROW as _ROW
from rnnkit.data.time_index import build_time_index
from rnnkit.data.time_index import first_bad
from rnnkit.data.time_index import infer_frequency
from rnnkit.data.time_index import row_text
from rnnkit.errors import DataError

__all__ = [
    "CATEGORICAL_POLICIES",
    "MISSING_POLICIES",
    "TableReport",
    "infer_frequency",
    "read_table",
]

logger = logging.getLogger(__name__)


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
    r"""Read a CSV or Parquet file into a numeric DataFrame with a time index.

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
        ...     "date,temp,wind\n2024-01-01,1.0,N\n2024-01-02,,S\n2024-01-03,3.0,N\n")
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

    frame = build_time_index(frame, time_column, report, raw, caller)
    if columns is not None:
        keep = [c for c in dict.fromkeys([*columns, *targets]) if c in frame.columns]
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


def _classify_columns(
    frame: pd.DataFrame, targets: list[str], report: TableReport, caller: str
) -> tuple[list[str], list[str]]:
    names = [c for c in frame.columns if c != _ROW]
    dtypes = frame.dtypes
    numeric = [
        name
        for name in names
        if pd.api.types.is_bool_dtype(dtypes[name]) or pd.api.types.is_numeric_dtype(dtypes[name])
    ]
    text = []
    for name in names:
        if name in numeric:
            continue
        column = frame[name]
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
                f"{first_bad(bad, frame)}. Fix that value or leave it empty (empty cells "
                "count as missing)."
            )
        if name in targets:
            example = present.iloc[0] if len(present) else None
            hint = f" Numeric columns: {', '.join(numeric)}." if numeric else ""
            raise DataError(
                f"{caller}: target column {name!r} is not numeric (it holds text such as "
                f"{example!r}). Choose a numeric target column.{hint}"
            )
        text.append(name)
    _check_numbers(frame, numeric, caller)
    return numeric, text


def _check_numbers(frame: pd.DataFrame, numeric: list[str], caller: str) -> None:
    """Refuse an all-empty numeric column, inf or a value beyond 1e30 (first column first)."""
    if not numeric:
        return
    values = frame[numeric].to_numpy(dtype=np.float64, na_value=np.nan)  # one pass, any width
    empty = np.isnan(values).all(axis=0)
    with np.errstate(invalid="ignore"):
        wrong = (~np.isfinite(values) & ~np.isnan(values)) | (np.abs(values) > MAX_ABS_VALUE)
    flagged = empty | wrong.any(axis=0)
    if not flagged.any():
        return
    j = int(np.argmax(flagged))
    name = numeric[j]
    if empty[j]:
        raise DataError(
            f"{caller}: column {name!r} has no values (all {len(frame)} rows are missing). "
            "Remove the column (columns=[...]) or fix the file."
        )
    check_magnitude(values[:, j], name, caller, where=lambda p: row_text(p, frame))


def _with_columns(frame: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """`frame` with the columns of `values` replaced (one concat, not one write per column)."""
    rest = frame.drop(columns=list(values.columns))
    return pd.concat([values, rest], axis=1)[list(frame.columns)]


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
        return _with_columns(frame, values)
    if missing == "error":
        name = str(counts[counts > 0].index[0])
        where = first_bad(values[name].isna().to_numpy(), frame)
        raise DataError(
            f"{caller}: column {name!r} has {int(counts[name]):,} missing values (first at "
            f"{where}). Choose missing='interpolate', 'ffill' or 'drop'."
        )
    if missing == "drop":
        keep = values.notna().all(axis=1).to_numpy()
        report.dropped_rows = int((~keep).sum())
        return _with_columns(frame.loc[keep], values.loc[keep])
    if missing == "interpolate":
        method: Literal["time", "linear"] = (
            "time" if isinstance(frame.index, pd.DatetimeIndex) else "linear"
        )
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
    counts = (values.isna() & filled.notna()).iloc[leading:].sum()
    report.filled = {name: int(counts[name]) for name in numeric}
    return _with_columns(frame.iloc[leading:], filled.iloc[leading:])


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
                where = first_bad(column.isna().to_numpy(), frame)
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
