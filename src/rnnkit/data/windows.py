"""Cut a series into supervised windows: `make_windows` and a Keras-style batcher.

Everything here is numpy in, numpy out. Time runs along axis 0 of the series.

One job, windowing; ``make_windows`` and the Keras-style batcher share the same target
and length checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnkit._validation import check_array
from rnnkit._validation import check_bool
from rnnkit._validation import check_non_negative_int
from rnnkit._validation import check_one_of
from rnnkit._validation import check_positive_int
from rnnkit.errors import DataError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError

__all__ = [
    "TimeseriesBatches",
    "make_windows",
    "resolve_targets",
    "timeseries_dataset_from_array",
    "window_starts",
]


def window_starts(timesteps: int, *, window: int, horizon: int = 1, stride: int = 1) -> np.ndarray:
    """Return the first index of every input window `make_windows` cuts.

    Window `i` reads inputs `starts[i] : starts[i] + window` and its target
    starts right after, at `starts[i] + window` (the *forecast origin* plus one).
    With `timesteps=9, window=3, horizon=1, stride=2`:

        starts   0        2        4
        inputs   [0 1 2]  [2 3 4]  [4 5 6]
        targets  [3]      [5]      [7]

    Args:
        timesteps: Length of the series.
        window: Timesteps in each input window, at least 1.
        horizon: Timesteps in each target. Defaults to `1`.
        stride: Distance between starts of consecutive windows. Defaults to `1`.

    Returns:
        Integer array of shape `(n,)`, `n = (timesteps - window - horizon) // stride + 1`.

    Raises:
        DataError: the series is shorter than `window + horizon`.

    Example:
        >>> window_starts(9, window=3, stride=2)
        array([0, 2, 4])
    """
    caller = "window_starts()"
    timesteps = check_non_negative_int("timesteps", timesteps, caller=caller)
    window = check_positive_int("window", window, caller=caller)
    horizon = check_positive_int("horizon", horizon, caller=caller)
    stride = check_positive_int("stride", stride, caller=caller)
    _check_length(timesteps, window, horizon, caller=caller)
    return np.arange(0, timesteps - window - horizon + 1, stride)


def make_windows(
    series: Any,
    *,
    window: int,
    horizon: int = 1,
    stride: int = 1,
    targets: int | str | Sequence[int | str] | None = None,
    flat_targets: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a series into (input, target) windows.

    With `window=3, horizon=1, stride=2` over indices 0..8:

        inputs   [0 1 2]  [2 3 4]  [4 5 6]
        targets  [3]      [5]      [7]

    Inputs always carry every feature of the series; targets carry only the
    `targets` columns, for the `horizon` timesteps that follow each input
    window. `window_starts` gives the start index of each window, to line the
    windows up with timestamps.

    Args:
        series: Array of shape `(timesteps,)` or `(timesteps, features)`, or a
            pandas DataFrame (then `targets` may name columns). Must be finite.
        window: Timesteps in each input window, at least 1.
        horizon: Timesteps in each target. Defaults to `1`.
        stride: Distance between starts of consecutive windows. Defaults to `1`.
        targets: Target column(s): an index, a column name (DataFrame only), or
            a sequence of them. Defaults to `None` (every column is a target).
        flat_targets: Return `y` as `(n, horizon * n_targets)`, horizon-major
            (all targets of step 1, then of step 2, ...): the layout a final
            `Dense(horizon * n_targets)` layer produces. Defaults to `False`.

    Returns:
        `(x, y)`: `x` of shape `(n, window, features)` and `y` of shape
        `(n, horizon, n_targets)` (or `(n, horizon * n_targets)` with
        `flat_targets=True`), `n = (timesteps - window - horizon) // stride + 1`.
        A 1-D series counts as one feature. Integer input becomes float64;
        float input keeps its dtype. Both arrays are copies.

    Raises:
        DataError: NaN/inf in the series, or fewer than `window + horizon` timesteps.
        ValueError: a bad option or an unknown target column.

    Example:
        >>> x, y = make_windows(np.arange(9.0), window=3, stride=2)
        >>> x.shape, y.shape
        ((3, 3, 1), (3, 1, 1))
        >>> x[1, :, 0], y[1, :, 0]
        (array([2., 3., 4.]), array([5.]))
        >>> series = np.arange(12.0).reshape(6, 2)  # two features
        >>> x, y = make_windows(series, window=2, horizon=2, targets=1, flat_targets=True)
        >>> x.shape, y.tolist()
        ((3, 2, 2), [[5.0, 7.0], [7.0, 9.0], [9.0, 11.0]])
    """
    caller = "make_windows()"
    window = check_positive_int("window", window, caller=caller)
    horizon = check_positive_int("horizon", horizon, caller=caller)
    stride = check_positive_int("stride", stride, caller=caller)
    flat_targets = check_bool("flat_targets", flat_targets, caller=caller)
    names = [str(c) for c in series.columns] if hasattr(series, "columns") else None
    array = _as_float(check_array("series", series, caller=caller, ndim=(1, 2)))
    if array.ndim == 1:
        array = array[:, None]
    timesteps, features = array.shape
    target_idx = resolve_targets(targets, features, names=names, caller=caller)
    _check_length(timesteps, window, horizon, caller=caller)
    starts = window_starts(timesteps, window=window, horizon=horizon, stride=stride)
    x = array[starts[:, None] + np.arange(window)]  # (n, window, features)
    y = array[(starts + window)[:, None] + np.arange(horizon)][:, :, target_idx]
    if flat_targets:
        y = y.reshape(len(y), -1)  # (n, horizon * n_targets), horizon-major
    return x, y


def resolve_targets(
    targets: int | str | Sequence[int | str] | None,
    features: int,
    *,
    names: Sequence[str] | None = None,
    caller: str,
) -> np.ndarray:
    """Turn a target specification into an array of feature indices.

    Args:
        targets: `None` (all features), an index, a name, or a sequence of them.
        features: Number of features in the series.
        names: Column names, when the series had them. Defaults to `None`.
        caller: Name of the public call, for error messages.

    Returns:
        Integer array of target feature indices, in the order given.

    Raises:
        ValueError: an index out of range, an unknown or repeated name.

    Example:
        >>> resolve_targets(["b", 0], 3, names=["a", "b", "c"], caller="demo()")
        array([1, 0])
    """
    if targets is None:
        return np.arange(features)
    items = [targets] if isinstance(targets, (int, np.integer, str)) else list(targets)
    if not items:
        raise RnnkitValueError(
            f"{caller}: `targets` is empty. Pass at least one target column, "
            "or targets=None for all columns."
        )
    indices = []
    for item in items:
        if isinstance(item, str):
            if names is None:
                raise RnnkitTypeError(
                    f"{caller}: target column {item!r} is a name, but the series has no "
                    "column names. Pass a pandas DataFrame or use column indices."
                )
            check_one_of("target column", item, names, caller=caller)
            indices.append(list(names).index(item))
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not -features <= item < features:
                raise RnnkitValueError(
                    f"{caller}: target column index {item} is out of range for a series "
                    f"with {features} features. Expected 0..{features - 1}."
                )
            indices.append(int(item) % features)
        else:
            raise RnnkitTypeError(
                f"{caller}: `targets` must hold column indices or names. Received: {item!r}."
            )
    if len(set(indices)) != len(indices):
        raise RnnkitValueError(
            f"{caller}: `targets` names a column twice. Received: targets={targets!r}."
        )
    return np.asarray(indices, dtype=np.intp)


class TimeseriesBatches(Sequence):
    """Batches of sliding windows, as returned by `timeseries_dataset_from_array`.

    A re-iterable sequence: `len(batches)` is the number of batches, indexing
    returns one batch, and iterating yields every batch in order (so it can
    serve many epochs). Each batch is `(x, y)` when targets were given, else
    `x` alone. Windows are cut lazily, one batch at a time.

    Attributes:
        start_positions: Start index (relative to `start_index`) of every
            sequence, in the order they are served.
    """

    def __init__(
        self,
        data: np.ndarray,
        targets: np.ndarray | None,
        start_positions: np.ndarray,
        offsets: np.ndarray,
        batch_size: int | None,
    ):
        self._data = data
        self._targets = targets
        self.start_positions = start_positions
        self._offsets = offsets
        self._batch_size = batch_size

    def __len__(self) -> int:
        """Number of batches (or samples when `batch_size=None`)."""
        if self._batch_size is None:
            return len(self.start_positions)
        return -(-len(self.start_positions) // self._batch_size)

    def __getitem__(self, index: int) -> Any:  # type: ignore[override]
        """Return batch `index`: `(x, y)`, or `x` when there are no targets."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches")
        index %= len(self)
        if self._batch_size is None:
            positions = self.start_positions[index]
        else:
            positions = self.start_positions[
                index * self._batch_size : (index + 1) * self._batch_size
            ]
        x = self._data[np.asarray(positions)[..., None] + self._offsets]
        if self._targets is None:
            return x
        return x, self._targets[positions]

    def __iter__(self) -> Iterator[Any]:
        """Yield every batch in order."""
        for index in range(len(self)):
            yield self[index]


def timeseries_dataset_from_array(
    data: Any,
    targets: Any,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size: int | None = 128,
    shuffle: bool = False,
    seed: int | None = None,
    start_index: int | None = None,
    end_index: int | None = None,
) -> TimeseriesBatches:
    """Batches of sliding windows over an array, like `keras.utils.timeseries_dataset_from_array`.

    Same arguments, defaults and windows as Keras 3, served as numpy batches
    instead of a `tf.data.Dataset`. Sequence `i` starts at
    `p = start_index + i * sequence_stride` and reads
    `data[p], data[p + sampling_rate], ..., data[p + (sequence_length - 1) * sampling_rate]`;
    its target is `targets[p]` (so pass `targets = data[sequence_length:]`
    with `data[:-sequence_length]` to predict the next step). With
    `sequence_length=3, sequence_stride=2` over indices 0..7:

        sequences  [0 1 2]  [2 3 4]  [4 5 6]
        targets    t[0]     t[2]     t[4]

    Differences from Keras: no sequence fitting raises an error instead of
    giving an empty dataset; `end_index` may equal `len(data)`; with
    `shuffle=True` the order is a seeded permutation of all sequences (Keras
    also shuffles within a buffer, so orders differ from Keras's).

    Args:
        data: Array whose axis 0 is time. Must be numeric and finite.
        targets: Array with `targets[i]` the target of the window starting at
            `i`, or `None` to yield inputs only.
        sequence_length: Timesteps in each sequence.
        sequence_stride: Distance between starts of consecutive sequences.
            Defaults to `1`.
        sampling_rate: Distance between timesteps inside a sequence. Defaults to `1`.
        batch_size: Sequences per batch (the last may be smaller), or `None`
            to serve single samples. Defaults to `128`.
        shuffle: Serve sequences in a random order. Defaults to `False`.
        seed: Seed for the shuffle. Defaults to `None`.
        start_index: First timestep used. Defaults to `None` (0).
        end_index: Timesteps from here on are not used. Defaults to `None`
            (`len(data)`).

    Returns:
        A `TimeseriesBatches` sequence of `(x, y)` batches (`x` alone without
        targets); `x` has shape `(batch, sequence_length, *data.shape[1:])`.

    Raises:
        DataError: NaN/inf in the data, or no complete sequence fits.
        ValueError: a bad option (same conditions as Keras).

    Example:
        >>> batches = timeseries_dataset_from_array(
        ...     np.arange(10), np.arange(10) * 10, sequence_length=3, batch_size=4)
        >>> len(batches)
        2
        >>> x, y = batches[0]
        >>> x.tolist(), y.tolist()
        ([[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]], [0, 10, 20, 30])
    """
    caller = "timeseries_dataset_from_array()"
    array = check_array("data", data, caller=caller)
    if array.ndim == 0:
        raise RnnkitValueError(
            f"{caller}: `data` must have a time axis. Received a scalar of shape ()."
        )
    length = len(array)
    target_array = None
    if targets is not None:
        target_array = check_array("targets", targets, caller=caller)
        if target_array.ndim == 0:
            raise RnnkitValueError(
                f"{caller}: `targets` must have one entry per timestep. Received a scalar."
            )
    sequence_length = check_positive_int("sequence_length", sequence_length, caller=caller)
    sequence_stride = check_positive_int("sequence_stride", sequence_stride, caller=caller)
    sampling_rate = check_positive_int("sampling_rate", sampling_rate, caller=caller)
    if batch_size is not None:
        batch_size = check_positive_int("batch_size", batch_size, caller=caller)
    shuffle = check_bool("shuffle", shuffle, caller=caller)
    start = (
        0
        if start_index is None
        else check_non_negative_int("start_index", start_index, caller=caller)
    )
    end = length if end_index is None else check_positive_int("end_index", end_index, caller=caller)
    if start >= length:
        raise RnnkitValueError(
            f"{caller}: `start_index` must be lower than the length of the data. "
            f"Received: start_index={start}, for data of length {length}."
        )
    if end > length or end <= start:
        raise RnnkitValueError(
            f"{caller}: `end_index` must be in ({start}, {length}] (after start_index, "
            f"at most the data length). Received: end_index={end}."
        )
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value >= length:
            raise RnnkitValueError(
                f"{caller}: `{name}` must be lower than the length of the data. "
                f"Received: {name}={value}, for data of length {length}."
            )
    span = (sequence_length - 1) * sampling_rate + 1
    num_seqs = end - start - span + 1
    if target_array is not None:
        num_seqs = min(num_seqs, len(target_array) - start)
    if num_seqs <= 0:
        raise DataError(
            f"{caller}: no complete sequence fits: {end - start} timesteps from "
            f"start_index={start} to end_index={end} < (sequence_length - 1) * "
            f"sampling_rate + 1 = {span}"
            + (
                ""
                if target_array is None or len(target_array) - start >= end - start
                else f" (or targets has only {len(target_array)} entries)"
            )
            + ". Use a shorter sequence_length or more data."
        )
    positions = np.arange(0, num_seqs, sequence_stride)
    if shuffle:
        if seed is None:
            seed = int(np.random.default_rng().integers(1_000_000))
        rng = np.random.RandomState(seed)
        rng.shuffle(positions)
    offsets = np.arange(sequence_length) * sampling_rate
    data_part = array[start:end]
    target_part = None if target_array is None else target_array[start:]
    return TimeseriesBatches(data_part, target_part, positions, offsets, batch_size)


def _as_float(array: np.ndarray) -> np.ndarray:
    """Keep float dtypes, turn ints and bools into float64."""
    if np.issubdtype(array.dtype, np.floating):
        return array
    return array.astype(np.float64)


def _check_length(timesteps: int, window: int, horizon: int, *, caller: str) -> None:
    if timesteps < window + horizon:
        raise DataError(
            f"{caller}: {timesteps} timesteps < window + horizon = {window + horizon}. "
            "Use a shorter window or a longer series."
        )


def _as_3d_targets(
    y: Any, n_targets: int, *, caller: str, name: str = "y"
) -> tuple[np.ndarray, int]:
    """Return `y` as `(n, horizon, n_targets)` and the number of dimensions it came with.

    A 2-D `y` is read as the `flat_targets=True` layout of `make_windows`
    (horizon-major); a 1-D `y` as one value per sample (one step, one target).
    """
    array = _as_float(check_array(name, y, caller=caller, ndim=(1, 2, 3)))
    ndim = array.ndim
    if ndim == 3:
        if array.shape[2] != n_targets:
            raise RnnkitValueError(
                f"{caller}: `{name}` has {array.shape[2]} target columns, expected "
                f"{n_targets}. Received shape {array.shape}."
            )
        return array, ndim
    if ndim == 1:
        if n_targets != 1:
            raise RnnkitValueError(
                f"{caller}: 1-D `{name}` holds one target, expected {n_targets}. "
                f"Received shape {array.shape}."
            )
        array = array[:, None]
    if array.shape[1] % n_targets:
        raise RnnkitValueError(
            f"{caller}: 2-D `{name}` must have horizon * n_targets columns (n_targets="
            f"{n_targets}). Received shape {array.shape}."
        )
    return array.reshape(len(array), -1, n_targets), ndim


def _restore_targets(y: np.ndarray, ndim: int) -> np.ndarray:
    """Undo `_as_3d_targets`: give `(n, horizon, n_targets)` back its original layout."""
    if ndim == 3:
        return y
    if ndim == 2:
        return y.reshape(len(y), -1)
    return y.reshape(len(y))
