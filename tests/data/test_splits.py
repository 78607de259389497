import re

import numpy as np
import pytest
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from rnnkit.data.splits import chronological_split
from rnnkit.data.splits import expanding_window_splits
from rnnkit.errors import DataError
from rnnkit.errors import RnnkitValueError


def test_chronological_split_docstring_picture():
    split = chronological_split(10, val_fraction=0.2, test_fraction=0.2, gap=1)
    assert split.train == slice(0, 4)
    assert split.val == slice(5, 7)
    assert split.test == slice(8, 10)
    assert split.sizes() == (4, 2, 2)


def test_chronological_split_accepts_arrays_and_defaults():
    data = np.arange(100.0)
    split = chronological_split(data)
    assert split.sizes() == (70, 10, 20)
    np.testing.assert_array_equal(data[split.test], np.arange(80, 100))


def test_chronological_split_zero_validation_has_no_gap_before_it():
    split = chronological_split(10, val_fraction=0.0, test_fraction=0.3, gap=2)
    assert split.train == slice(0, 5)
    assert split.val == slice(5, 5)
    assert split.test == slice(7, 10)


def test_chronological_split_tiny_fraction_gets_one_position():
    assert chronological_split(5, val_fraction=0.01, test_fraction=0.01).sizes() == (3, 1, 1)


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(0, 500),
    val=st.floats(0.0, 0.5),
    test=st.floats(0.0, 0.45),
    gap=st.integers(0, 10),
)
def test_chronological_split_is_ordered_and_disjoint(n, val, test, gap):
    try:
        split = chronological_split(n, val_fraction=val, test_fraction=test, gap=gap)
    except DataError:
        return  # too short for these fractions: refused, never garbage
    train, val_part, test_part = (np.arange(n)[s] for s in split)
    assert len(train) >= 1
    assert train[0] == 0
    later = np.concatenate([val_part, test_part])
    assert not set(train) & set(later)
    assert not set(val_part) & set(test_part)
    if len(later):
        assert train[-1] + gap < later[0]
    if len(val_part) and len(test_part):
        assert val_part[-1] + gap < test_part[0]
    if len(test_part):
        assert test_part[-1] == n - 1  # the test part is the most recent data
    assert (val > 0) == (len(val_part) > 0)
    assert (test > 0) == (len(test_part) > 0)


def test_chronological_split_too_short_message():
    with pytest.raises(
        DataError,
        match=re.escape(
            "chronological_split(): 4 positions leave 0 for training after 1 validation, "
            "1 test and 2 gap positions. Use smaller fractions, a smaller gap or a longer "
            "series."
        ),
    ):
        chronological_split(4, val_fraction=0.25, test_fraction=0.25, gap=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"val_fraction": 0.6, "test_fraction": 0.4},
            "chronological_split(): val_fraction + test_fraction must be < 1 to leave data "
            "for training. Received: val_fraction=0.6, test_fraction=0.4.",
        ),
        (
            {"val_fraction": -0.1},
            "chronological_split(): `val_fraction` must be a float in [0, 1). "
            "Received: val_fraction=-0.1.",
        ),
        (
            {"gap": -1},
            "chronological_split(): `gap` must be an integer >= 0. Received: gap=-1.",
        ),
    ],
)
def test_chronological_split_bad_options(kwargs, message):
    with pytest.raises(RnnkitValueError, match=re.escape(message)):
        chronological_split(100, **kwargs)


def test_expanding_window_splits_docstring_picture():
    folds = expanding_window_splits(10, n_folds=3, test_size=2, gap=1)
    assert [(t.tolist(), s.tolist()) for t, s in folds] == [
        ([0, 1, 2], [4, 5]),
        ([0, 1, 2, 3, 4], [6, 7]),
        ([0, 1, 2, 3, 4, 5, 6], [8, 9]),
    ]


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(1, 300),
    n_folds=st.integers(1, 6),
    test_size=st.integers(1, 30),
    gap=st.integers(0, 5),
    min_train=st.integers(1, 20),
)
def test_expanding_window_splits_never_leak(n, n_folds, test_size, gap, min_train):
    assume(n - n_folds * test_size - gap >= min_train)
    folds = expanding_window_splits(
        n, n_folds=n_folds, test_size=test_size, gap=gap, min_train=min_train
    )
    assert len(folds) == n_folds
    assert len(folds[0][0]) >= min_train
    previous_train = 0
    for k, (train, test) in enumerate(folds):
        assert len(test) == test_size
        assert not set(train) & set(test)
        assert train.max() + gap < test.min()  # no test index inside or before training
        np.testing.assert_array_equal(train, np.arange(len(train)))  # expanding from 0
        assert len(train) > previous_train
        previous_train = len(train)
        if k:
            assert test[0] == folds[k - 1][1][-1] + 1  # test blocks walk forward
    assert folds[-1][1][-1] == n - 1


def test_expanding_window_splits_too_short_message():
    with pytest.raises(
        DataError,
        match=re.escape(
            "expanding_window_splits(): 10 positions leave 1 for the first training part "
            "(n - n_folds * test_size - gap = 10 - 3 * 3 - 0), fewer than min_train=2. "
            "Use fewer folds, a smaller test_size or a longer series."
        ),
    ):
        expanding_window_splits(10, n_folds=3, test_size=3, min_train=2)


def test_expanding_window_splits_bad_folds_message():
    with pytest.raises(
        RnnkitValueError,
        match=re.escape(
            "expanding_window_splits(): `n_folds` must be a positive integer. Received: n_folds=0."
        ),
    ):
        expanding_window_splits(10, n_folds=0, test_size=2)
