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

The parts live in their own modules and are re-exported here: reading
(`rnnkit.data.labelled`), settings (`classification_config`), the network
(`classifier_model`), the measured result (`classification_result`) and the
saved folder (`classifier_files`).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.data.labelled import LabelledSequences
from rnnkit.data.labelled import parse_sequences
from rnnkit.data.labelled import read_labelled_sequences
from rnnkit.data.labelled import read_sequence_frame
from rnnkit.errors import DataError
from rnnkit.errors import RnnkitTypeError
from rnnkit.utils.random import set_random_seed
from rnnkit.workflow.classification_config import ClassificationConfig
from rnnkit.workflow.classification_config import check_open_unit
from rnnkit.workflow.classification_config import resolve_config
from rnnkit.workflow.classification_result import ClassificationResult
from rnnkit.workflow.classification_result import score_classifier
from rnnkit.workflow.classifier_files import load_classifier
from rnnkit.workflow.classifier_files import save_classifier
from rnnkit.workflow.classifier_model import CLASSIFIER_KINDS
from rnnkit.workflow.classifier_model import PAD_VALUE
from rnnkit.workflow.classifier_model import SequenceClassifier
from rnnkit.workflow.classifier_model import build_sequence_classifier
from rnnkit.workflow.classifier_model import fit_feature_scaler
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
    config = resolve_config(config, overrides, caller)
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
    scaler = fit_feature_scaler(train_seqs)
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
            means=scaler.mean_,
            stds=scaler.scale_,
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
    return score_classifier(
        classifier, config, data, (train, test), (train_pred, test_pred), history.history
    )


def _labelled_data(config: ClassificationConfig) -> LabelledSequences:
    if isinstance(config.data, LabelledSequences):
        return config.data
    # ClassificationConfig requires the three columns when `data` is a table
    assert config.id_column is not None
    assert config.time_column is not None
    assert config.label_column is not None
    return read_labelled_sequences(
        config.data,
        id_column=config.id_column,
        time_column=config.time_column,
        label_column=config.label_column,
        feature_columns=config.feature_columns,
    )


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
    fraction = check_open_unit("test_fraction", test_fraction, caller, 1.0)
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
    parsed = parse_sequences(
        read_sequence_frame(frame, caller),
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
