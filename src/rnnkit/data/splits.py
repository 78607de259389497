"""Chronological splits: train before validation before test, never shuffled.

Both splitters count positions along axis 0: rows of a series, or samples of
windows. When splitting windows made with `horizon > 1`, pass
`gap=horizon - 1` so no training target overlaps a later input's future.
"""

from __future__ import annotations

from typing import Any
from typing import NamedTuple

import numpy as np

from rnnkit._validation import check_non_negative_int
from rnnkit._validation import check_positive_int
from rnnkit.errors import DataError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError

__all__ = ["ChronologicalSplit", "chronological_split", "expanding_window_splits"]


class ChronologicalSplit(NamedTuple):
    """Train, validation and test parts as slices of axis 0 (`data[split.train]`)."""

    train: slice
    val: slice
    test: slice

    def sizes(self) -> tuple[int, int, int]:
        """Return the lengths of the train, validation and test parts."""
        return tuple(s.stop - s.start for s in self)


def _length(n: Any, caller: str) -> int:
    if isinstance(n, (int, np.integer)) and not isinstance(n, bool):
        return check_non_negative_int("n", n, caller=caller)
    if hasattr(n, "__len__"):
        return len(n)
    raise RnnkitTypeError(
        f"{caller}: `n` must be a length or an array. Received: {type(n).__name__}."
    )


def _fraction(name: str, value: Any, caller: str) -> float:
    try:
        fraction = float(value)
    except (TypeError, ValueError):
        fraction = float("nan")
    if not 0.0 <= fraction < 1.0:
        raise RnnkitValueError(
            f"{caller}: `{name}` must be a float in [0, 1). Received: {name}={value!r}."
        )
    return fraction


def chronological_split(
    n: Any, *, val_fraction: float = 0.1, test_fraction: float = 0.2, gap: int = 0
) -> ChronologicalSplit:
    """Split positions `0..n-1` into consecutive train, validation and test parts.

    With `n=10, val_fraction=0.2, test_fraction=0.2, gap=1` (`g` = left out):

        index   0 1 2 3 4 5 6 7 8 9
        part    T T T T g V V g S S

    Sizes are `round(n * fraction)` (at least 1 for a non-zero fraction); the
    gaps come out of the training part; train gets the rest. A zero fraction
    gives an empty part with no gap before it.

    Args:
        n: Number of positions, or an array (its length is used).
        val_fraction: Share of positions for validation, in [0, 1). Defaults to `0.1`.
        test_fraction: Share of positions for the test, in [0, 1). Defaults to `0.2`.
        gap: Positions left out between consecutive parts. Defaults to `0`.

    Returns:
        `ChronologicalSplit(train, val, test)` of slices.

    Raises:
        DataError: nothing would be left for training.
        ValueError: fractions outside [0, 1) or summing to 1 or more.

    Example:
        >>> split = chronological_split(10, val_fraction=0.2, test_fraction=0.2, gap=1)
        >>> split
        ChronologicalSplit(train=slice(0, 4, None), val=slice(5, 7, None), test=slice(8, 10, None))
        >>> np.arange(10)[split.test]
        array([8, 9])
    """
    caller = "chronological_split()"
    length = _length(n, caller)
    val_fraction = _fraction("val_fraction", val_fraction, caller)
    test_fraction = _fraction("test_fraction", test_fraction, caller)
    gap = check_non_negative_int("gap", gap, caller=caller)
    if val_fraction + test_fraction >= 1.0:
        raise RnnkitValueError(
            f"{caller}: val_fraction + test_fraction must be < 1 to leave data for training. "
            f"Received: val_fraction={val_fraction}, test_fraction={test_fraction}."
        )

    def size(fraction: float) -> int:
        return 0 if fraction == 0 else max(1, int(np.floor(length * fraction + 0.5)))

    n_val, n_test = size(val_fraction), size(test_fraction)
    gaps = gap * ((n_val > 0) + (n_test > 0))
    n_train = length - n_val - n_test - gaps
    if n_train < 1:
        raise DataError(
            f"{caller}: {length} positions leave {n_train} for training after "
            f"{n_val} validation, {n_test} test and {gaps} gap positions. Use smaller "
            "fractions, a smaller gap or a longer series."
        )
    val_start = n_train + (gap if n_val else 0)
    test_start = val_start + n_val + (gap if n_test else 0)
    return ChronologicalSplit(
        train=slice(0, n_train),
        val=slice(val_start, val_start + n_val),
        test=slice(test_start, test_start + n_test),
    )


def expanding_window_splits(
    n: Any, *, n_folds: int, test_size: int, gap: int = 0, min_train: int | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Backtesting folds: the training part grows, the test part walks forward.

    Test parts are consecutive blocks of `test_size` that end at `n`; each
    fold trains on everything before its test block minus `gap`. With
    `n=10, n_folds=3, test_size=2, gap=1`:

        index   0 1 2 3 4 5 6 7 8 9
        fold 0  T T T g S S
        fold 1  T T T T T g S S
        fold 2  T T T T T T T g S S

    Args:
        n: Number of positions, or an array (its length is used).
        n_folds: Number of folds, at least 1.
        test_size: Positions in each test block, at least 1.
        gap: Positions left out between train and test. Defaults to `0`.
        min_train: Smallest acceptable first training part. Defaults to `None` (1).

    Returns:
        List of `(train_idx, test_idx)` integer arrays, oldest fold first (the
        same form as scikit-learn's `TimeSeriesSplit`).

    Raises:
        DataError: the first fold would train on fewer than `min_train` positions.

    Example:
        >>> for train, test in expanding_window_splits(10, n_folds=3, test_size=2, gap=1):
        ...     print(train.tolist(), test.tolist())
        [0, 1, 2] [4, 5]
        [0, 1, 2, 3, 4] [6, 7]
        [0, 1, 2, 3, 4, 5, 6] [8, 9]
    """
    caller = "expanding_window_splits()"
    length = _length(n, caller)
    n_folds = check_positive_int("n_folds", n_folds, caller=caller)
    test_size = check_positive_int("test_size", test_size, caller=caller)
    gap = check_non_negative_int("gap", gap, caller=caller)
    if min_train is not None:
        min_train = check_positive_int("min_train", min_train, caller=caller)
    min_train = min_train or 1
    first_train = length - n_folds * test_size - gap
    if first_train < min_train:
        raise DataError(
            f"{caller}: {length} positions leave {first_train} for the first training part "
            f"(n - n_folds * test_size - gap = {length} - {n_folds} * {test_size} - {gap}), "
            f"fewer than min_train={min_train}. Use fewer folds, a smaller test_size or "
            "a longer series."
        )
    folds = []
    for fold in range(n_folds):
        test_start = length - (n_folds - fold) * test_size
        folds.append((np.arange(test_start - gap), np.arange(test_start, test_start + test_size)))
    return folds
