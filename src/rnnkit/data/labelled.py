"""Labelled sequences from a long-format table: one row per timestep.

The table has a sequence id, a time index, the label of the sequence and the
features. Rows may come in any order; they are sorted by id, then time. Every
sequence has one label (a label that changes within a sequence is an error), of
any type: labels become classes ``0 .. k-1`` in sorted order::

    id   time  label  f1   f2            sequence "a" (label "walk"): 3 steps
    a    0     walk   0.1  1.2           sequence "b" (label "run"):  2 steps
    a    1     walk   0.3  1.1
    a    2     walk   0.2  0.9           classes: 0 = "run", 1 = "walk"
    b    0     run    1.5  0.2
    b    1     run    1.7  0.1

Files are read by `rnnkit.data.tables.read_raw_table`, the reader `read_table`
uses too: the same file types, separator detection and bounded checks (line
length, header width, duplicate column names). Rows in error messages are
counted from 0, header not included (as pandas numbers them).

One job, a long table into labelled sequences; its checks are short steps that read best
in order.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rnnkit._validation import check_one_of
from rnnkit.data.tables import check_magnitude
from rnnkit.data.tables import read_raw_table
from rnnkit.errors import DataError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError

__all__ = [
    "SPLIT_VALUES",
    "LabelledSequences",
    "ParsedSequences",
    "parse_sequences",
    "read_labelled_sequences",
    "read_sequence_frame",
]

logger = logging.getLogger(__name__)


@dataclass
class LabelledSequences:
    """Labelled sequences read from a long-format table.

    Attributes:
        ids: Sequence ids, sorted.
        sequences: One float64 array `(length_i, features)` per id, sorted by time.
        labels: Class index of each sequence, int64 `(n,)`.
        class_names: Original label of each class index (sorted labels).
        feature_columns: The feature columns, in array order.
        id_column: Name of the id column.
        time_column: Name of the time column.
        label_column: Name of the label column.
        split: Part of each sequence (`"train"`, `"val"` or `"test"`) as the
            split column gives it, or `None` when there is no split column.
        split_column: Name of the split column, or `None`.
    """

    ids: list[Any]
    sequences: list[np.ndarray]
    labels: np.ndarray
    class_names: list[Any]
    feature_columns: list[str]
    id_column: str
    time_column: str
    label_column: str
    split: list[str] | None = None
    split_column: str | None = None

    def __len__(self) -> int:
        """Return the number of sequences."""
        return len(self.sequences)

    @property
    def lengths(self) -> np.ndarray:
        """Timesteps of every sequence."""
        return np.asarray([len(s) for s in self.sequences], dtype=np.int64)


def read_labelled_sequences(
    path_or_frame: str | os.PathLike | pd.DataFrame,
    *,
    id_column: str,
    time_column: str,
    label_column: str,
    feature_columns: Sequence[str] | str | None = None,
    split_column: str | None = None,
) -> LabelledSequences:
    """Read a long-format table (one row per timestep) into labelled sequences.

    Args:
        path_or_frame: A CSV (`.csv`, `.tsv`, `.txt`, optionally compressed) or
            Parquet file (read as `read_table` reads it: separator detected,
            bounded checks), or a pandas DataFrame.
        id_column: Column naming the sequence of each row.
        time_column: Column ordering the rows of a sequence: numbers or dates.
        label_column: Column with the sequence's label (any type; constant
            within a sequence).
        feature_columns: Numeric feature columns (a list, or one comma-separated
            string). Defaults to `None` (every other column; a text column among
            them is an error naming it).
        split_column: Column giving each sequence's part, `train`, `val` (or
            `validation`) or `test` in any case, constant within a sequence; it
            is never a feature. Defaults to `None` (no split column).

    Returns:
        A `LabelledSequences`, sorted by id, each sequence sorted by time.

    Raises:
        DataError: an unreadable or hostile file (unknown type, line or header
            over the limits, duplicate column names), empty id/time/label
            cells, a non-numeric, NaN, infinite or huge (beyond 1e30) feature
            (naming the column and the first bad row), a repeated (id, time)
            pair, a label or split that changes within a sequence, a split value
            other than train/val/test, or (with `feature_columns=None`) a text
            column that would be a feature.
        ValueError: an unknown column (with a "did you mean"), or one column in
            two roles.

    Example:
        >>> frame = pd.DataFrame({
        ...     "id": ["b", "a", "a", "b", "a"], "t": [1, 2, 0, 0, 1],
        ...     "label": ["run", "walk", "walk", "run", "walk"],
        ...     "x": [4.0, 3.0, 1.0, 5.0, 2.0]})
        >>> data = read_labelled_sequences(frame, id_column="id", time_column="t",
        ...                                label_column="label")
        >>> data.ids, data.class_names, data.labels.tolist()
        (['a', 'b'], ['run', 'walk'], [1, 0])
        >>> data.sequences[0][:, 0].tolist(), data.feature_columns
        ([1.0, 2.0, 3.0], ['x'])
    """
    caller = "read_labelled_sequences()"
    frame = read_sequence_frame(path_or_frame, caller)
    parsed = parse_sequences(
        frame,
        id_column=id_column,
        time_column=time_column,
        label_column=label_column,
        feature_columns=feature_columns,
        split_column=split_column,
        caller=caller,
    )
    assert parsed.labels is not None  # parse_sequences keeps labels when label_column is given
    class_names = _class_names(parsed.labels)
    index = {name: i for i, name in enumerate(class_names)}
    labels = np.asarray([index[_python_value(v)] for v in parsed.labels], dtype=np.int64)
    data = LabelledSequences(
        ids=parsed.ids,
        sequences=parsed.sequences,
        labels=labels,
        class_names=class_names,
        feature_columns=parsed.features,
        id_column=id_column,
        time_column=time_column,
        label_column=label_column,
        split=parsed.split,
        split_column=split_column,
    )
    lengths = data.lengths
    logger.info(
        "Read %d sequences (%d rows), %d classes, %d features; lengths %d..%d.",
        len(data),
        int(lengths.sum()),
        len(class_names),
        len(data.feature_columns),
        int(lengths.min()),
        int(lengths.max()),
    )
    return data


@dataclass
class ParsedSequences:
    """The rows of a long-format table cut into sequences (labels not yet classes).

    Attributes:
        ids: Sequence ids, sorted.
        sequences: One float64 array `(length_i, features)` per id, sorted by time.
        labels: The label of each sequence as found in the table, or `None`
            when no label column was read.
        features: The feature columns, in array order.
        split: The part of each sequence (`"train"`, `"val"` or `"test"`), or
            `None` when no split column was read.
    """

    ids: list[Any]
    sequences: list[np.ndarray]
    labels: list[Any] | None
    features: list[str]
    split: list[str] | None = None


def read_sequence_frame(source: Any, caller: str) -> pd.DataFrame:
    """Return `source` if it is a DataFrame, else read the file with `read_raw_table`.

    Args:
        source: A pandas DataFrame, or a CSV/Parquet path (see `read_raw_table`).
        caller: Name of the calling function, for messages.

    Returns:
        The table, with at least one row.

    Raises:
        DataError: an unreadable or hostile file (see `read_raw_table`), no rows.
        TypeError: `source` is neither a path nor a DataFrame.
    """
    if isinstance(source, pd.DataFrame):
        frame = source
    elif isinstance(source, (str, os.PathLike)):
        frame = read_raw_table(source, caller=caller).frame
    else:
        raise RnnkitTypeError(
            f"{caller}: expected a CSV/Parquet path or a pandas DataFrame. "
            f"Received: {type(source).__name__}."
        )
    if len(frame) == 0:
        raise DataError(f"{caller}: the table has no rows. Pass at least one labelled sequence.")
    return frame


def parse_sequences(
    frame: pd.DataFrame,
    *,
    id_column: str,
    time_column: str,
    label_column: str | None,
    feature_columns: Any,
    caller: str,
    split_column: str | None = None,
) -> ParsedSequences:
    """Check the columns and cut the rows into sequences sorted by id, then time.

    Args:
        frame: The long-format table.
        id_column: Column naming the sequence of each row.
        time_column: Column ordering the rows of a sequence: numbers or dates.
        label_column: Column with the sequence's label, or `None` (prediction).
        feature_columns: Feature columns (a list or a comma-separated string),
            or `None` for every other column (text columns among them are refused).
        caller: Name of the calling function, for messages.
        split_column: Column with each sequence's part (train/val/test), or
            `None`. Defaults to `None`.

    Returns:
        A `ParsedSequences`.

    Raises:
        DataError: as listed for `read_labelled_sequences`.
        ValueError: an unknown column, or one column in two roles.
    """
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    names = list(frame.columns)
    roles = {"id column": id_column, "time column": time_column}
    if label_column is not None:
        roles["label column"] = label_column
    if split_column is not None:
        roles["split column"] = split_column
    for role, name in roles.items():
        check_one_of(role, name, names, caller=caller)
    if len(set(roles.values())) != len(roles):
        given = ", ".join(f"{role.replace(' ', '_')}={name!r}" for role, name in roles.items())
        kinds = [role.split()[0] for role in roles]
        raise RnnkitValueError(
            f"{caller}: the {', '.join(kinds[:-1])} and {kinds[-1]} columns must be different "
            f"columns. Received: {given}."
        )
    features = _feature_names(names, roles, feature_columns, caller)
    if feature_columns is None:
        _refuse_text_features(frame, features, caller)
    for role, name in roles.items():
        _check_filled(frame[name], role, name, caller)
    times = _time_values(frame[time_column], time_column, caller)
    values = np.column_stack([_feature_values(frame, name, caller) for name in features])

    order = _sort_order(frame[id_column], times, id_column, caller)
    ids = pd.Series(frame[id_column].to_numpy()[order])
    starts_mask = (ids != ids.shift()).to_numpy(copy=True)
    starts_mask[0] = True
    sorted_times = pd.Series(times[order])
    repeated = ~starts_mask & (sorted_times == sorted_times.shift()).to_numpy()
    if repeated.any():
        p = int(np.argmax(repeated))
        raise DataError(
            f"{caller}: sequence {_plain(ids[p])!r} has time {_plain(sorted_times[p])!r} twice "
            f"(rows {int(order[p - 1])} and {int(order[p])}). Each (id, time) pair must "
            "appear once; remove or aggregate the duplicate rows."
        )
    starts = np.flatnonzero(starts_mask)
    labels: list[Any] | None = None
    split: list[str] | None = None
    if label_column is not None:
        labels = _per_sequence(
            frame[label_column], order, starts_mask, ids, ("label column", label_column), caller
        )
    if split_column is not None:
        parts = _split_parts(frame[split_column], split_column, caller)
        split = _per_sequence(
            parts, order, starts_mask, ids, ("split column", split_column), caller
        )
    return ParsedSequences(
        ids=[_plain(ids[s]) for s in starts],
        sequences=np.split(values[order], starts[1:]),
        labels=labels,
        features=features,
        split=split,
    )


def _feature_names(
    names: list[str], roles: dict[str, str], feature_columns: Any, caller: str
) -> list[str]:
    used = set(roles.values())
    if feature_columns is None:
        features = [n for n in names if n not in used]
        if not features:
            raise DataError(
                f"{caller}: the table has no feature columns besides "
                f"{', '.join(repr(n) for n in roles.values())}. Add numeric feature columns."
            )
        return features
    if isinstance(feature_columns, str):
        feature_columns = [p.strip() for p in feature_columns.split(",") if p.strip()]
    features = [str(n) for n in feature_columns]
    if not features:
        raise RnnkitValueError(
            f"{caller}: `feature_columns` is empty. Pass one or more column names, or None "
            "for every other column."
        )
    for name in features:
        check_one_of("feature column", name, names, caller=caller)
        for role, column in roles.items():
            if name == column:
                raise RnnkitValueError(
                    f"{caller}: {name!r} is the {role}; it cannot also be a feature column. "
                    f"Received: feature_columns={features!r}."
                )
    if len(set(features)) != len(features):
        raise RnnkitValueError(
            f"{caller}: `feature_columns` names a column twice. Received: {features!r}."
        )
    return features


def _check_filled(column: pd.Series, role: str, name: str, caller: str) -> None:
    empty = column.isna().to_numpy()
    if empty.any():
        raise DataError(
            f"{caller}: {role} {name!r} is empty at row {int(np.argmax(empty))}. Every row "
            "needs a sequence id, a time and a label (and its part, with a split column); fill "
            "or remove that row."
        )


def _time_values(column: pd.Series, name: str, caller: str) -> np.ndarray:
    """Return the time column as numbers or datetime64 values that sort in time order."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.to_numpy()
    if pd.api.types.is_integer_dtype(column):
        return column.to_numpy(dtype=np.int64)
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=np.float64)
    numbers = pd.to_numeric(column, errors="coerce")
    if numbers.notna().all():
        return numbers.to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stamps = pd.to_datetime(column, errors="coerce")
    bad = stamps.isna().to_numpy()
    if bad.any():
        neither = bad & numbers.isna().to_numpy()
        if neither.any():  # a value that is no time at all: name it
            bad = neither
        elif numbers.notna().sum() > stamps.notna().sum():  # mostly numbers
            bad = numbers.isna().to_numpy()
        p = int(np.argmax(bad))
        raise DataError(
            f"{caller}: time column {name!r} holds {column.iloc[p]!r} at row {p}, which is "
            "neither a number nor a date. Fix the value, or pass time_column= naming the "
            "column that orders the steps."
        )
    return stamps.to_numpy()


def _feature_values(frame: pd.DataFrame, name: str, caller: str) -> np.ndarray:
    column = frame[name]
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        numbers = pd.to_numeric(column, errors="coerce")
        bad = (column.notna() & numbers.isna()).to_numpy()
        if bad.any():
            p = int(np.argmax(bad))
            raise DataError(
                f"{caller}: feature column {name!r} is not numeric: {column.iloc[p]!r} at "
                f"row {p}. Pass only numeric columns as features (feature_columns=[...]) or "
                "encode the text as numbers first."
            )
        values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    for what, bad in (("missing (NaN)", np.isnan(values)), ("infinite", np.isinf(values))):
        if bad.any():
            raise DataError(
                f"{caller}: feature column {name!r} is {what} at row {int(np.argmax(bad))}. "
                "Remove or impute non-finite values first."
            )
    check_magnitude(values, name, caller, role="feature column")
    return values


def _sort_order(ids: pd.Series, times: np.ndarray, id_column: str, caller: str) -> np.ndarray:
    keys = pd.DataFrame({"id": ids.to_numpy(), "time": times})
    try:
        return keys.sort_values(["id", "time"], kind="stable").index.to_numpy()
    except TypeError:
        kinds = sorted({type(_plain(v)).__name__ for v in ids})
        raise DataError(
            f"{caller}: id column {id_column!r} mixes value types ({', '.join(kinds)}), so the "
            "ids cannot be sorted. Use one type for all ids (for example text)."
        ) from None


def _per_sequence(
    column: pd.Series,
    order: np.ndarray,
    starts_mask: np.ndarray,
    ids: pd.Series,
    role: tuple[str, str],
    caller: str,
) -> list[Any]:
    """The value of `column` for each sequence; one that changes within a sequence is an error."""
    values = pd.Series(column.to_numpy()[order])
    changed = ~starts_mask & (values != values.shift()).to_numpy()
    if changed.any():
        p = int(np.argmax(changed))
        s = int(np.flatnonzero(starts_mask[: p + 1])[-1])  # first row of that sequence
        what, name = role
        fix = (
            "Each sequence needs one label; fix the label or give the part with the other "
            "label its own id."
            if what == "label column"
            else "A sequence belongs to one part (train, val or test); fix the split value or "
            "give the rows of the other part their own id."
        )
        raise DataError(
            f"{caller}: {what} {name!r} changes within sequence {_plain(ids[p])!r}: "
            f"{_plain(values[s])!r} at row {int(order[s])}, then {_plain(values[p])!r} at row "
            f"{int(order[p])}. {fix}"
        )
    return [values[s] for s in np.flatnonzero(starts_mask)]


#: Values a split column may hold (any case, surrounding spaces ignored), and their part.
SPLIT_VALUES = {"train": "train", "val": "val", "validation": "val", "test": "test"}


def _split_parts(column: pd.Series, name: str, caller: str) -> pd.Series:
    """The split column as `"train"`, `"val"` or `"test"` per row; other values are an error."""
    parts = column.astype(str).str.strip().str.lower().map(SPLIT_VALUES)
    bad = parts.isna().to_numpy()
    if bad.any():
        unknown = list(dict.fromkeys(_plain(v) for v in column[bad]))
        shown = ", ".join(repr(v) for v in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise DataError(
            f"{caller}: split column {name!r} holds {shown} (first at row "
            f"{int(np.argmax(bad))}); expected train, val (or validation) or test, in any case. "
            "Rename those values (for example 'dev' to 'val') or drop their rows."
        )
    return parts


def _refuse_text_features(frame: pd.DataFrame, features: list[str], caller: str) -> None:
    """Refuse default feature columns that hold text: never feed names or codes silently."""
    text = [name for name in features if _holds_text(frame[name])]
    if not text:
        return
    numeric = [name for name in features if name not in text]
    splits = [
        name
        for name in text
        if frame[name].astype(str).str.strip().str.lower().isin(list(SPLIT_VALUES)).all()
    ]
    hint = (
        f" If {splits[0]!r} marks the train/test rows, pass split_column={splits[0]!r} "
        f"(--split-column {splits[0]})."
        if splits
        else ""
    )
    keep = (
        f"feature_columns={','.join(numeric)!r} (--features {','.join(numeric)})"
        if numeric
        else "numeric feature columns"
    )
    first = frame[text[0]]
    row = int(np.argmax(_text_cells(first)))
    raise DataError(
        f"{caller}: column(s) {', '.join(repr(n) for n in text)} hold text ({first.iloc[row]!r} "
        f"at row {row}), so they are not used as features by default. Pass {keep}, or encode "
        f"the text as numbers first.{hint}"
    )


def _holds_text(column: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return False
    return bool(_text_cells(column).any())


def _text_cells(column: pd.Series) -> np.ndarray:
    """Which cells hold something that is neither empty nor a number."""
    numbers = pd.to_numeric(column, errors="coerce")
    return (column.notna() & numbers.isna()).to_numpy()


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds."""
    return value.item() if isinstance(value, np.generic) else value


def _python_value(value: Any) -> Any:
    """A label as a JSON-ready Python value (text for anything but str/int/float/bool)."""
    value = _plain(value)
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def _class_names(labels: list[Any]) -> list[Any]:
    unique = list(dict.fromkeys(_python_value(v) for v in labels))
    try:
        return sorted(unique)
    except TypeError:  # mixed types, e.g. 1 and "a"
        return sorted(unique, key=lambda v: (type(v).__name__, str(v)))
