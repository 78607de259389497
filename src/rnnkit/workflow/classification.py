"""Sequence classification from a long-format table of labelled sequences.

The table has one row per timestep: a sequence id, a time index, the label of
the sequence and the features. Rows may come in any order; they are sorted by
id, then time. Every sequence has one label (a label that changes within a
sequence is an error), of any type: labels become classes ``0 .. k-1`` in
sorted order and the mapping is kept::

    id   time  label  f1   f2            sequence "a" (label "walk"): 3 steps
    a    0     walk   0.1  1.2           sequence "b" (label "run"):  2 steps
    a    1     walk   0.3  1.1
    a    2     walk   0.2  0.9           classes: 0 = "run", 1 = "walk"
    b    0     run    1.5  0.2
    b    1     run    1.7  0.1

`fit_sequence_classifier` splits by sequence id (so no sequence is in both
parts), standardises the features with the training sequences' statistics,
pads every sequence at the end to the longest training sequence and trains
``Masking -> LSTM | GRU | SimpleRNN -> Dense(softmax)`` with the sparse
categorical crossentropy. The padding is masked, so a short sequence gives the
same answer as if it ran alone; a longer (test or new) sequence keeps its first
``maxlen`` steps. A saved classifier is a folder without pickle::

    my_classifier/
        model.keras        the network (JSON + safetensors)
        classifier.json    classes, columns, scaler means/stds, maxlen

Rows in error messages are counted from 0, header not included (as pandas
numbers them, and as `rnnkit.data.read_table` does).
"""

from __future__ import annotations

import json
import logging
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit._validation import check_bool
from rnnkit._validation import check_one_of
from rnnkit._validation import check_positive_int
from rnnkit._validation import suggest
from rnnkit.errors import CheckpointError
from rnnkit.errors import DataError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.layers.core import Input
from rnnkit.layers.core import Masking
from rnnkit.layers.dense import Dense
from rnnkit.layers.recurrent import GRU
from rnnkit.layers.recurrent import LSTM
from rnnkit.layers.recurrent import SimpleRNN
from rnnkit.layers.wrappers import Bidirectional
from rnnkit.models.saving import load_model
from rnnkit.models.sequential import Sequential
from rnnkit.optimizers import Adam
from rnnkit.utils.random import set_random_seed
from rnnkit.utils.sequences import pad_sequences
from rnnkit.workflow.measure import torch_threads

__all__ = [
    "CLASSIFIER_KINDS",
    "PAD_VALUE",
    "ClassificationConfig",
    "ClassificationResult",
    "LabelledSequences",
    "SequenceClassifier",
    "build_sequence_classifier",
    "fit_sequence_classifier",
    "load_classifier",
    "predict_sequences",
    "read_labelled_sequences",
    "save_classifier",
    "split_sequences",
]

logger = logging.getLogger(__name__)

#: Recurrent layer of each classifier kind.
_LAYERS = {"rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}
CLASSIFIER_KINDS = tuple(_LAYERS)
#: Value of the padded steps (after standardisation), masked by the `Masking` layer.
#: Far outside any standardised feature, so a real step is never taken for padding.
PAD_VALUE = -1e9
FORMAT = "rnnkit-sequence-classifier"
FORMAT_VERSION = 1
MODEL_FILE = "model.keras"
SPEC_FILE = "classifier.json"


# ---------------------------------------------------------------------- reading
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
    """

    ids: list[Any]
    sequences: list[np.ndarray]
    labels: np.ndarray
    class_names: list[Any]
    feature_columns: list[str]
    id_column: str
    time_column: str
    label_column: str

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
) -> LabelledSequences:
    """Read a long-format table (one row per timestep) into labelled sequences.

    Args:
        path_or_frame: A CSV (`.csv`, `.tsv`, `.txt`, optionally compressed) or
            Parquet file, or a pandas DataFrame.
        id_column: Column naming the sequence of each row.
        time_column: Column ordering the rows of a sequence: numbers or dates.
        label_column: Column with the sequence's label (any type; constant
            within a sequence).
        feature_columns: Numeric feature columns (a list, or one comma-separated
            string). Defaults to `None` (every other column).

    Returns:
        A `LabelledSequences`, sorted by id, each sequence sorted by time.

    Raises:
        DataError: unreadable file, empty id/time/label cells, a non-numeric,
            NaN or infinite feature (naming the column and the first bad row),
            a repeated (id, time) pair, or a label that changes within a sequence.
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
    frame = _read_frame(path_or_frame, caller)
    parsed = _parse_long(
        frame,
        id_column=id_column,
        time_column=time_column,
        label_column=label_column,
        feature_columns=feature_columns,
        caller=caller,
    )
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
class _Parsed:
    ids: list[Any]
    sequences: list[np.ndarray]
    labels: list[Any] | None
    features: list[str]


def _read_frame(source: Any, caller: str) -> pd.DataFrame:
    """Return `source` if it is a DataFrame, else read the CSV or Parquet file."""
    if isinstance(source, pd.DataFrame):
        frame = source
    elif isinstance(source, (str, os.PathLike)):
        frame = _read_file(Path(source), caller)
    else:
        raise RnnkitTypeError(
            f"{caller}: expected a CSV/Parquet path or a pandas DataFrame. "
            f"Received: {type(source).__name__}."
        )
    if len(frame) == 0:
        raise DataError(f"{caller}: the table has no rows. Pass at least one labelled sequence.")
    return frame


def _read_file(path: Path, caller: str) -> pd.DataFrame:
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise DataError(f"{caller}: {str(path)!r} {what}. Pass a CSV or Parquet file.")
    suffixes = [s.lower() for s in path.suffixes if s.lower() not in (".gz", ".bz2", ".zip", ".xz")]
    try:
        if suffixes and suffixes[-1] in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if suffixes and suffixes[-1] == ".tsv" else ",")
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{caller}: file {str(path)!r} is empty. Pass a CSV with a header row and data rows."
        ) from None
    except UnicodeDecodeError:
        raise DataError(f"{caller}: file {str(path)!r} is not UTF-8 text.") from None
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{caller}: could not read {str(path)!r}: {detail}") from None


def _parse_long(
    frame: pd.DataFrame,
    *,
    id_column: str,
    time_column: str,
    label_column: str | None,
    feature_columns: Any,
    caller: str,
) -> _Parsed:
    """Check the columns and cut the rows into sequences sorted by id, then time."""
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    names = list(frame.columns)
    roles = {"id column": id_column, "time column": time_column}
    if label_column is not None:
        roles["label column"] = label_column
    for role, name in roles.items():
        check_one_of(role, name, names, caller=caller)
    if len(set(roles.values())) != len(roles):
        given = ", ".join(f"{role.replace(' ', '_')}={name!r}" for role, name in roles.items())
        raise RnnkitValueError(
            f"{caller}: the id, time and label columns must be different columns. "
            f"Received: {given}."
        )
    features = _feature_names(names, roles, feature_columns, caller)
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
    labels = None
    if label_column is not None:
        labels = _sequence_labels(
            frame[label_column], order, starts_mask, ids, label_column, caller
        )
    return _Parsed(
        ids=[_plain(ids[s]) for s in starts],
        sequences=np.split(values[order], starts[1:]),
        labels=labels,
        features=features,
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
            "needs a sequence id, a time and a label; fill or remove that row."
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


def _sequence_labels(
    column: pd.Series,
    order: np.ndarray,
    starts_mask: np.ndarray,
    ids: pd.Series,
    name: str,
    caller: str,
) -> list[Any]:
    labels = pd.Series(column.to_numpy()[order])
    changed = ~starts_mask & (labels != labels.shift()).to_numpy()
    if changed.any():
        p = int(np.argmax(changed))
        s = int(np.flatnonzero(starts_mask[: p + 1])[-1])  # first row of that sequence
        raise DataError(
            f"{caller}: label column {name!r} changes within sequence {_plain(ids[p])!r}: "
            f"{_plain(labels[s])!r} at row {int(order[s])}, then {_plain(labels[p])!r} at row "
            f"{int(order[p])}. Each sequence needs one label; fix the label or give the part "
            "with the other label its own id."
        )
    return [labels[s] for s in np.flatnonzero(starts_mask)]


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


# ---------------------------------------------------------------- configuration
@dataclass
class ClassificationConfig:
    """Everything `fit_sequence_classifier` needs.

    Attributes:
        data: A CSV/Parquet path, a long-format DataFrame or a `LabelledSequences`.
            Defaults to `None` (must be set before a run).
        id_column: Column naming the sequence of each row. Defaults to `None`
            (required unless `data` is a `LabelledSequences`).
        time_column: Column ordering the steps of a sequence. Defaults to `None`
            (required like `id_column`).
        label_column: Column holding each sequence's label. Defaults to `None`
            (required like `id_column`).
        feature_columns: Numeric feature columns. Defaults to `None` (every
            other column).
        kind: Recurrent layer: `"lstm"`, `"gru"` or `"rnn"` (SimpleRNN).
            Defaults to `"lstm"`.
        units: Units of the recurrent layer. Defaults to `32`.
        bidirectional: Wrap the recurrent layer in `Bidirectional`. Defaults to `False`.
        epochs: Training epochs. Defaults to `30`.
        batch_size: Sequences per batch. Defaults to `32`.
        learning_rate: Adam's learning rate. Defaults to `1e-3`.
        test_fraction: Share of the sequences held out for the test, in (0, 1).
            Defaults to `0.2`.
        stratify: Hold out the same share of every class. Defaults to `True`.
        seed: Seed of the split, the weights and the shuffling. Defaults to `0`.
        threads: Torch CPU threads while training (`None`: leave torch's
            setting). Defaults to `1`.
        verbose: `fit`'s verbosity (0 silent, 1 progress bar, 2 one line per
            epoch). Defaults to `0`.
    """

    data: Any = None
    id_column: str | None = None
    time_column: str | None = None
    label_column: str | None = None
    feature_columns: list[str] | None = None
    kind: str = "lstm"
    units: int = 32
    bidirectional: bool = False
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 1e-3
    test_fraction: float = 0.2
    stratify: bool = True
    seed: int = 0
    threads: int | None = 1
    verbose: int = 0

    def validate(self, caller: str = "ClassificationConfig") -> ClassificationConfig:
        """Check every field; return `self`.

        Raises:
            ValueError: a value out of range or an unknown kind (with a "did you mean").
            TypeError: a value of the wrong type.

        Example:
            >>> ClassificationConfig(kind="lstn").validate()  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            rnnkit.errors.RnnkitValueError: ClassificationConfig: unknown kind 'lstn'. ...
        """
        check_one_of("kind", self.kind, CLASSIFIER_KINDS, caller=caller)
        for name in ("units", "epochs", "batch_size"):
            setattr(self, name, check_positive_int(name, getattr(self, name), caller=caller))
        if self.threads is not None:
            self.threads = check_positive_int("threads", self.threads, caller=caller)
        self.bidirectional = check_bool("bidirectional", self.bidirectional, caller=caller)
        self.stratify = check_bool("stratify", self.stratify, caller=caller)
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise RnnkitTypeError(f"{caller}: `seed` must be an integer. Received: {self.seed!r}.")
        if isinstance(self.verbose, bool) or self.verbose not in (0, 1, 2):
            raise RnnkitValueError(
                f"{caller}: `verbose` must be 0, 1 or 2. Received: verbose={self.verbose!r}."
            )
        self.learning_rate = _check_open_unit("learning_rate", self.learning_rate, caller, 1e9)
        self.test_fraction = _check_open_unit("test_fraction", self.test_fraction, caller, 1.0)
        if self.data is None:
            raise RnnkitValueError(
                f"{caller}: `data` is not set. Pass a CSV path, a DataFrame or a LabelledSequences."
            )
        if not isinstance(self.data, LabelledSequences):
            for name in ("id_column", "time_column", "label_column"):
                if not isinstance(getattr(self, name), str):
                    raise RnnkitValueError(
                        f"{caller}: `{name}` is required to read a long-format table. "
                        f"Received: {name}={getattr(self, name)!r}."
                    )
        return self


def _check_open_unit(name: str, value: Any, caller: str, upper: float) -> float:
    """Return `value` as a float in (0, upper)."""
    bounds = "(0, 1)" if upper == 1.0 else "> 0"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise RnnkitTypeError(
            f"{caller}: `{name}` must be a number {bounds}. Received: {name}={value!r}."
        )
    if math.isnan(value) or not 0.0 < float(value) < upper:
        raise RnnkitValueError(f"{caller}: `{name}` must be {bounds}. Received: {name}={value!r}.")
    return float(value)


def _resolve_config(
    config: ClassificationConfig | None, overrides: dict[str, Any], caller: str
) -> ClassificationConfig:
    if config is not None and not isinstance(config, ClassificationConfig):
        raise RnnkitTypeError(
            f"{caller}: `config` must be a ClassificationConfig or None. "
            f"Received: {type(config).__name__}."
        )
    known = [f.name for f in fields(ClassificationConfig)]
    for key in overrides:
        if key not in known:
            raise RnnkitTypeError(
                f"{caller}: unknown setting {key!r}.{suggest(key, known)} Settings: "
                f"{', '.join(known)}."
            )
    config = replace(config or ClassificationConfig(), **overrides)
    return config.validate(caller)


# ------------------------------------------------------------------ splitting
def split_sequences(
    labels: Any, *, test_fraction: float = 0.2, stratify: bool = True, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split sequence indices into train and test, at random but seeded.

    With `stratify`, every class keeps `round(test_fraction * n_class)` of its
    sequences for the test (at least one, and at least one for training; a class
    with a single sequence stays in training). Without it the indices are split
    as a whole, with at least one on each side.

    Args:
        labels: Class index of each sequence.
        test_fraction: Share held out, in (0, 1). Defaults to `0.2`.
        stratify: Split each class separately. Defaults to `True`.
        seed: Seed of the shuffle. Defaults to `0`.

    Returns:
        `(train, test)`: sorted index arrays that together hold each index once.

    Raises:
        DataError: fewer than two sequences.

    Example:
        >>> train, test = split_sequences([0, 0, 0, 0, 1, 1, 1, 1, 1, 1], test_fraction=0.25)
        >>> len(train), len(test)
        (7, 3)
    """
    caller = "split_sequences()"
    labels = np.asarray(labels).reshape(-1)
    fraction = _check_open_unit("test_fraction", test_fraction, caller, 1.0)
    if len(labels) < 2:
        raise DataError(
            f"{caller}: need at least 2 sequences to split into train and test. "
            f"Received {len(labels)}."
        )
    rng = np.random.default_rng(seed)
    groups = (
        [np.flatnonzero(labels == c) for c in np.unique(labels)]
        if stratify
        else [np.arange(len(labels))]
    )
    test = []
    for group in groups:
        if len(group) < 2:
            continue
        n_test = min(max(round(fraction * len(group)), 1), len(group) - 1)
        test.append(rng.permutation(group)[:n_test])
    test_index = np.sort(np.concatenate(test)) if test else np.zeros(0, dtype=np.int64)
    train_index = np.setdiff1d(np.arange(len(labels)), test_index)
    return train_index, test_index


# ------------------------------------------------------------------- the model
def build_sequence_classifier(
    *,
    maxlen: int,
    features: int,
    classes: int,
    kind: str = "lstm",
    units: int = 32,
    bidirectional: bool = False,
    learning_rate: float = 1e-3,
) -> Sequential:
    """Build and compile `Masking -> recurrent layer -> Dense(softmax)`.

    The `Masking` layer masks steps whose features all equal `PAD_VALUE`.

    Args:
        maxlen: Timesteps of the padded input.
        features: Features per timestep.
        classes: Number of classes (softmax outputs).
        kind: `"lstm"`, `"gru"` or `"rnn"`. Defaults to `"lstm"`.
        units: Units of the recurrent layer. Defaults to `32`.
        bidirectional: Wrap the recurrent layer in `Bidirectional`. Defaults to `False`.
        learning_rate: Adam's learning rate. Defaults to `1e-3`.

    Returns:
        A `Sequential` compiled with Adam, `"sparse_categorical_crossentropy"`
        and `["accuracy"]`.

    Example:
        >>> model = build_sequence_classifier(maxlen=20, features=4, classes=3, units=8)
        >>> [type(layer).__name__ for layer in model.layers], model.count_params()
        (['Masking', 'LSTM', 'Dense'], 443)
    """
    caller = "build_sequence_classifier()"
    check_one_of("kind", kind, CLASSIFIER_KINDS, caller=caller)
    for name, value in (("maxlen", maxlen), ("features", features), ("classes", classes)):
        check_positive_int(name, value, caller=caller)
    model = Sequential(name=f"{kind}_classifier")
    model.add(Input((int(maxlen), int(features))))
    model.add(Masking(PAD_VALUE))
    layer = _LAYERS[kind](check_positive_int("units", units, caller=caller))
    model.add(Bidirectional(layer) if bidirectional else layer)
    model.add(Dense(int(classes), activation="softmax"))
    model.compile(
        optimizer=Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


@dataclass
class SequenceClassifier:
    """A trained network plus the preprocessing that feeds it.

    Attributes:
        model: The compiled `Sequential`.
        class_names: Original label of each class index.
        feature_columns: Feature columns, in the order the network reads them.
        id_column: Name of the id column.
        time_column: Name of the time column.
        label_column: Name of the label column (not needed for prediction).
        means: Per-feature means of the training steps.
        stds: Per-feature standard deviations of the training steps (1 where
            a feature was constant).
        maxlen: Padded length: the longest training sequence. Longer sequences
            keep their first `maxlen` steps.
        kind: `"lstm"`, `"gru"` or `"rnn"`.
    """

    model: Any
    class_names: list[Any]
    feature_columns: list[str]
    id_column: str
    time_column: str
    label_column: str
    means: np.ndarray
    stds: np.ndarray
    maxlen: int
    kind: str = "lstm"

    def transform(self, sequences: Sequence[np.ndarray]) -> np.ndarray:
        """Standardise and pad (at the end, with `PAD_VALUE`) to `(n, maxlen, features)`."""
        scaled = [(np.asarray(s, dtype=np.float64) - self.means) / self.stds for s in sequences]
        return pad_sequences(
            scaled,
            maxlen=self.maxlen,
            dtype="float32",
            padding="post",
            truncating="post",
            value=PAD_VALUE,
        )

    def predict_proba(self, sequences: Sequence[np.ndarray]) -> np.ndarray:
        """Class probabilities `(n, classes)` of raw (unscaled) sequences."""
        if not len(sequences):
            return np.zeros((0, len(self.class_names)), dtype=np.float32)
        return np.asarray(self.model.predict(self.transform(sequences), verbose=0))


def _fit_scaler(sequences: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    steps = np.concatenate(sequences)  # (all training steps, features)
    means = steps.mean(axis=0)
    stds = steps.std(axis=0)
    return means, np.where(stds > 0, stds, 1.0)


# ---------------------------------------------------------------------- fitting
@dataclass
class ClassificationResult:
    """A trained sequence classifier and how well it does.

    Attributes:
        classifier: The network with its preprocessing (`save_classifier`,
            `predict_sequences`).
        config: The settings of the run.
        history: Per-epoch `loss` and `accuracy` on the training sequences.
        train_accuracy: Accuracy on the training sequences.
        test_accuracy: Accuracy on the held-out sequences.
        baseline_accuracy: Test accuracy of always predicting the most common
            training class.
        majority_class: That class's label.
        confusion_matrix: Test counts, `[true class, predicted class]`.
        train_ids: Ids of the training sequences.
        test_ids: Ids of the test sequences.
        lengths: `{"train": {...}, "test": {...}, "maxlen": n, "truncated_test": n}`,
            with `sequences`, `min`, `median`, `max` per part.
        notes: Anything worth saying, in words (truncated test sequences, ...).
    """

    classifier: SequenceClassifier
    config: ClassificationConfig
    history: dict[str, list[float]]
    train_accuracy: float
    test_accuracy: float
    baseline_accuracy: float
    majority_class: Any
    confusion_matrix: np.ndarray
    train_ids: list[Any]
    test_ids: list[Any]
    lengths: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def model(self) -> Any:
        """The trained `Sequential`."""
        return self.classifier.model

    @property
    def class_names(self) -> list[Any]:
        """Original label of each class index."""
        return self.classifier.class_names

    def confusion_frame(self) -> pd.DataFrame:
        """The confusion matrix labelled with class names (rows true, columns predicted)."""
        names = [str(n) for n in self.class_names]
        return pd.DataFrame(
            self.confusion_matrix,
            index=pd.Index(names, name="true"),
            columns=pd.Index(names, name="predicted"),
        )

    def lines(self) -> list[str]:
        """Return the result as plain-words lines (what the CLI prints)."""
        c = self.config
        train, test = self.lengths["train"], self.lengths["test"]
        layer = f"{_LAYERS[c.kind].__name__}({c.units})"
        out = [
            f"{train['sequences'] + test['sequences']} sequences, "
            f"{len(self.class_names)} classes, {len(self.classifier.feature_columns)} features.",
            f"Split by sequence id ({'stratified' if c.stratify else 'not stratified'}, "
            f"seed {c.seed}): {train['sequences']} train, {test['sequences']} test.",
            f"Lengths: train {train['min']}..{train['max']} (median {train['median']}), "
            f"test {test['min']}..{test['max']} (median {test['median']}).",
            f"{'Bidirectional ' if c.bidirectional else ''}{layer} on sequences padded at the "
            f"end to {self.lengths['maxlen']} steps and masked; {c.epochs} epochs.",
            f"Accuracy: train {self.train_accuracy:.3f}, test {self.test_accuracy:.3f}; "
            f"majority-class baseline (always {self.majority_class!r}) "
            f"{self.baseline_accuracy:.3f}.",
            "Confusion matrix (test; rows true, columns predicted):",
            *self.confusion_frame().to_string().splitlines(),
        ]
        return out + self.notes

    def __str__(self) -> str:
        """Return the result lines joined by newlines."""
        return "\n".join(self.lines())


def fit_sequence_classifier(
    config: ClassificationConfig | None = None, /, **overrides: Any
) -> ClassificationResult:
    """Train a recurrent classifier on labelled sequences and measure it.

    Steps: read the table (`read_labelled_sequences`); split by sequence id
    (`split_sequences`, seeded, stratified by default); standardise the features
    with the training steps' means and standard deviations; pad every sequence
    at the end to the longest training length with `PAD_VALUE` (longer test
    sequences keep their first steps, and a note says how many); train
    `Masking -> LSTM | GRU | SimpleRNN -> Dense(softmax)` with the sparse
    categorical crossentropy; score train, test and a majority-class baseline.

    Args:
        config: A `ClassificationConfig`. Defaults to `None` (the defaults).
        **overrides: Fields of `ClassificationConfig` to set, e.g.
            `data="walks.csv", id_column="id", time_column="t", label_column="activity"`.

    Returns:
        A `ClassificationResult`.

    Raises:
        DataError: bad data (see `read_labelled_sequences`), fewer than two
            classes or two sequences.
        ValueError: a bad setting (with a "did you mean").
        TypeError: an unknown setting, or one of the wrong type.
    """
    caller = "fit_sequence_classifier()"
    config = _resolve_config(config, overrides, caller)
    data = _labelled_data(config)
    if len(data.class_names) < 2:
        raise DataError(
            f"{caller}: every sequence has the label {data.class_names[0]!r}; a classifier "
            "needs at least two classes."
        )
    train, test = split_sequences(
        data.labels, test_fraction=config.test_fraction, stratify=config.stratify, seed=config.seed
    )
    train_seqs = [data.sequences[i] for i in train]
    test_seqs = [data.sequences[i] for i in test]
    means, stds = _fit_scaler(train_seqs)
    maxlen = int(max(len(s) for s in train_seqs))
    with torch_threads(config.threads):
        set_random_seed(config.seed)
        model = build_sequence_classifier(
            maxlen=maxlen,
            features=len(data.feature_columns),
            classes=len(data.class_names),
            kind=config.kind,
            units=config.units,
            bidirectional=config.bidirectional,
            learning_rate=config.learning_rate,
        )
        classifier = SequenceClassifier(
            model=model,
            class_names=data.class_names,
            feature_columns=data.feature_columns,
            id_column=data.id_column,
            time_column=data.time_column,
            label_column=data.label_column,
            means=means,
            stds=stds,
            maxlen=maxlen,
            kind=config.kind,
        )
        history = model.fit(
            classifier.transform(train_seqs),
            data.labels[train],
            batch_size=config.batch_size,
            epochs=config.epochs,
            verbose=config.verbose,
            shuffle=True,
        )
        train_pred = classifier.predict_proba(train_seqs).argmax(axis=1)
        test_pred = classifier.predict_proba(test_seqs).argmax(axis=1)
    return _score(classifier, config, data, (train, test), (train_pred, test_pred), history.history)


def _labelled_data(config: ClassificationConfig) -> LabelledSequences:
    if isinstance(config.data, LabelledSequences):
        return config.data
    return read_labelled_sequences(
        config.data,
        id_column=config.id_column,
        time_column=config.time_column,
        label_column=config.label_column,
        feature_columns=config.feature_columns,
    )


def _lengths(lengths: np.ndarray) -> dict[str, Any]:
    if not len(lengths):
        return {"sequences": 0, "min": 0, "median": 0.0, "max": 0}
    return {
        "sequences": len(lengths),
        "min": int(lengths.min()),
        "median": float(np.median(lengths)),
        "max": int(lengths.max()),
    }


def _score(
    classifier: SequenceClassifier,
    config: ClassificationConfig,
    data: LabelledSequences,
    split: tuple[np.ndarray, np.ndarray],
    predicted: tuple[np.ndarray, np.ndarray],
    history: dict[str, list[float]],
) -> ClassificationResult:
    train, test = split
    train_pred, test_pred = predicted
    y_train, y_test = data.labels[train], data.labels[test]
    k = len(data.class_names)
    majority = int(np.bincount(y_train, minlength=k).argmax())
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y_test, test_pred), 1)
    lengths = data.lengths
    truncated = int((lengths[test] > classifier.maxlen).sum())
    notes = []
    if truncated:
        notes.append(
            f"{truncated} test sequence(s) are longer than the longest training sequence "
            f"({classifier.maxlen} steps); only their first {classifier.maxlen} steps were used."
        )
    result = ClassificationResult(
        classifier=classifier,
        config=config,
        history={key: [float(v) for v in values] for key, values in history.items()},
        train_accuracy=_accuracy(y_train, train_pred),
        test_accuracy=_accuracy(y_test, test_pred),
        baseline_accuracy=_accuracy(y_test, np.full_like(y_test, majority)),
        majority_class=data.class_names[majority],
        confusion_matrix=confusion,
        train_ids=[data.ids[i] for i in train],
        test_ids=[data.ids[i] for i in test],
        lengths={
            "train": _lengths(lengths[train]),
            "test": _lengths(lengths[test]),
            "maxlen": classifier.maxlen,
            "truncated_test": truncated,
        },
        notes=notes,
    )
    for line in result.lines():
        logger.info(line)
    return result


def _accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true == y_pred)) if len(y_true) else float("nan")


# --------------------------------------------------------- saving and prediction
def save_classifier(result: ClassificationResult | SequenceClassifier, folder: str | Path) -> Path:
    """Write a classifier folder: `model.keras` and `classifier.json` (no pickle).

    Args:
        result: A `ClassificationResult` (its test scores are stored too) or a
            `SequenceClassifier`.
        folder: Folder to write; created if needed, files in it replaced.

    Returns:
        The folder, as a `Path`.
    """
    if isinstance(result, ClassificationResult):
        classifier, scores = result.classifier, _scores(result)
    elif isinstance(result, SequenceClassifier):
        classifier, scores = result, {}
    else:
        raise RnnkitTypeError(
            "save_classifier(): expected a ClassificationResult or a SequenceClassifier. "
            f"Received: {type(result).__name__}."
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    classifier.model.save(str(folder / MODEL_FILE))
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": classifier.kind,
        "class_names": classifier.class_names,
        "feature_columns": classifier.feature_columns,
        "id_column": classifier.id_column,
        "time_column": classifier.time_column,
        "label_column": classifier.label_column,
        "means": [float(v) for v in classifier.means],
        "stds": [float(v) for v in classifier.stds],
        "maxlen": int(classifier.maxlen),
        "pad_value": PAD_VALUE,
        "padding": "post",
        "truncating": "post",
        "scores": scores,
    }
    (folder / SPEC_FILE).write_text(json.dumps(document, indent=2))
    logger.info("Saved the sequence classifier to %s.", folder)
    return folder


def _scores(result: ClassificationResult) -> dict[str, Any]:
    return {
        "train_accuracy": result.train_accuracy,
        "test_accuracy": result.test_accuracy,
        "baseline_accuracy": result.baseline_accuracy,
        "confusion_matrix": result.confusion_matrix.tolist(),
        "lengths": result.lengths,
    }


def load_classifier(folder: str | Path) -> SequenceClassifier:
    """Read a folder written by `save_classifier`.

    Raises:
        CheckpointError: the folder or its files are missing, or are not a
            sequence classifier.
    """
    caller = "load_classifier()"
    folder = Path(folder)
    spec_file = folder / SPEC_FILE
    if not folder.is_dir() or not spec_file.is_file():
        what = "is not a folder" if not folder.is_dir() else f"has no {SPEC_FILE}"
        raise CheckpointError(
            f"{caller}: {str(folder)!r} {what}. Pass the folder save_classifier() or "
            f"`rnnkit classify` wrote (it holds {SPEC_FILE} and {MODEL_FILE})."
        )
    try:
        document = json.loads(spec_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{caller}: {spec_file} is not valid JSON ({exc}).") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"{caller}: {spec_file} is not an rnnkit sequence classifier file.")
    try:
        classifier = SequenceClassifier(
            model=load_model(folder / MODEL_FILE),
            class_names=list(document["class_names"]),
            feature_columns=[str(c) for c in document["feature_columns"]],
            id_column=str(document["id_column"]),
            time_column=str(document["time_column"]),
            label_column=str(document["label_column"]),
            means=np.asarray(document["means"], dtype=np.float64),
            stds=np.asarray(document["stds"], dtype=np.float64),
            maxlen=int(document["maxlen"]),
            kind=str(document.get("kind", "lstm")),
        )
    except KeyError as exc:
        raise CheckpointError(f"{caller}: {spec_file} lacks the entry {exc}.") from None
    return classifier


def predict_sequences(
    classifier: SequenceClassifier | ClassificationResult,
    frame: pd.DataFrame | str | os.PathLike,
) -> pd.DataFrame:
    """Classify every sequence of a long-format table.

    The table needs the classifier's id, time and feature columns; a label
    column, if present, is ignored. Sequences are standardised, padded and
    truncated exactly as in training.

    Args:
        classifier: A `SequenceClassifier` (from `load_classifier`) or a
            `ClassificationResult`.
        frame: A long-format DataFrame, or a CSV/Parquet path.

    Returns:
        A DataFrame with one row per sequence (sorted by id): the id column,
        `length` (steps in the table), `predicted_label`, and one
        `probability_<class>` column per class.

    Raises:
        DataError: bad data, as in `read_labelled_sequences`.
        ValueError: a missing column (with a "did you mean").
    """
    caller = "predict_sequences()"
    if isinstance(classifier, ClassificationResult):
        classifier = classifier.classifier
    if not isinstance(classifier, SequenceClassifier):
        raise RnnkitTypeError(
            f"{caller}: expected a SequenceClassifier (load_classifier(folder)) or a "
            f"ClassificationResult. Received: {type(classifier).__name__}."
        )
    parsed = _parse_long(
        _read_frame(frame, caller),
        id_column=classifier.id_column,
        time_column=classifier.time_column,
        label_column=None,
        feature_columns=classifier.feature_columns,
        caller=caller,
    )
    probabilities = classifier.predict_proba(parsed.sequences)
    predicted = probabilities.argmax(axis=1)
    longer = sum(len(s) > classifier.maxlen for s in parsed.sequences)
    if longer:
        logger.info(
            "%d sequence(s) are longer than %d steps; only their first %d steps were used.",
            longer,
            classifier.maxlen,
            classifier.maxlen,
        )
    out = pd.DataFrame(
        {
            classifier.id_column: parsed.ids,
            "length": [len(s) for s in parsed.sequences],
            "predicted_label": [classifier.class_names[i] for i in predicted],
        }
    )
    for k, name in enumerate(classifier.class_names):
        out[f"probability_{name}"] = probabilities[:, k].astype(np.float64)
    return out
