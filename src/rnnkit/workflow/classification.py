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

from rnnkit.callbacks.early_stopping import EarlyStopping
from rnnkit.data.labelled import LabelledSequences
from rnnkit.data.labelled import parse_sequences
from rnnkit.data.labelled import read_labelled_sequences
from rnnkit.data.labelled import read_sequence_frame
from rnnkit.errors import DataError
from rnnkit.errors import RnnkitTypeError
from rnnkit.utils.random import set_random_seed
from rnnkit.workflow.classification_config import AUTO_MAX_EPOCHS
from rnnkit.workflow.classification_config import AUTO_MIN_EPOCHS
from rnnkit.workflow.classification_config import DEFAULT_TEST_FRACTION
from rnnkit.workflow.classification_config import ClassificationConfig
from rnnkit.workflow.classification_config import check_open_unit
from rnnkit.workflow.classification_config import resolve_config
from rnnkit.workflow.classification_result import ClassificationResult
from rnnkit.workflow.classification_result import TrainingRun
from rnnkit.workflow.classification_result import score_classifier
from rnnkit.workflow.classifier_files import load_classifier
from rnnkit.workflow.classifier_files import save_classifier
from rnnkit.workflow.classifier_model import CLASSIFIER_KINDS
from rnnkit.workflow.classifier_model import LAYERS
from rnnkit.workflow.classifier_model import PAD_VALUE
from rnnkit.workflow.classifier_model import SequenceClassifier
from rnnkit.workflow.classifier_model import build_sequence_classifier
from rnnkit.workflow.classifier_model import fit_feature_scaler
from rnnkit.workflow.measure import torch_threads
from rnnkit.workflow.progress import EpochProgress
from rnnkit.workflow.progress import ProgressListener

__all__ = [
    "AUTO_MAX_EPOCHS",
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
    "split_parts",
    "split_sequences",
]

logger = logging.getLogger(__name__)


def fit_sequence_classifier(
    config: ClassificationConfig | None = None,
    /,
    *,
    progress: ProgressListener | None = None,
    **overrides: Any,
) -> ClassificationResult:
    """Train a recurrent classifier on labelled sequences and measure it.

    Steps: read the table (`read_labelled_sequences`); split by sequence id into
    train, validation and test (`split_parts`: the split column, or seeded and
    stratified shares); standardise the features with the training steps' means
    and standard deviations; pad every sequence at the end to the longest
    training length with `PAD_VALUE` (longer sequences keep their first steps,
    and a note says how many test sequences were cut); train
    `Masking -> LSTM | GRU | SimpleRNN -> Dense(softmax)` with the sparse
    categorical crossentropy, stopping `patience` epochs after the best
    validation loss and keeping that epoch's weights; score train, validation,
    test and a majority-class baseline. A run that reaches its epoch cap while
    the validation loss is still improving gets a note saying what to change.

    Args:
        config: A `ClassificationConfig`. Defaults to `None` (the defaults).
        progress: Receives the epochs as they pass (`"epochs"` task). Defaults
            to `None`.
        **overrides: Fields of `ClassificationConfig` to set, e.g.
            `data="walks.csv", id_column="id", time_column="t", label_column="activity"`.

    Returns:
        A `ClassificationResult`.

    Raises:
        DataError: bad data (see `read_labelled_sequences`), fewer than two
            classes, or a split without train or test sequences.
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
    parts, split_note = split_parts(data, config, caller)
    train_seqs, val_seqs, test_seqs = ([data.sequences[i] for i in part] for part in parts)
    scaler = fit_feature_scaler(train_seqs)
    maxlen = int(max(len(s) for s in train_seqs))
    cap = config.epochs if config.epochs is not None else AUTO_MAX_EPOCHS
    min_epochs = AUTO_MIN_EPOCHS if config.epochs is None else 0
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
        # patience 0 never stops early; the best epoch's weights are kept either way
        stopper = _EarlyStopping(
            min_epochs=min_epochs,
            monitor="val_loss",
            patience=config.patience or cap,
            restore_best_weights=True,
        )
        label = LAYERS[config.kind].__name__
        listener = progress or ProgressListener()
        history = model.fit(
            classifier.transform(train_seqs),
            data.labels[parts[0]],
            batch_size=config.batch_size,
            epochs=cap,
            verbose=config.verbose,
            shuffle=True,
            validation_data=(classifier.transform(val_seqs), data.labels[parts[1]]),
            callbacks=[stopper, EpochProgress(listener, label=label, epochs=cap)],
        )
        predicted = tuple(
            classifier.predict_proba(seqs).argmax(axis=1)
            for seqs in (train_seqs, val_seqs, test_seqs)
        )
    run = TrainingRun(
        epochs_run=len(history.history["loss"]),
        best_epoch=stopper.best_epoch + 1,
        epoch_cap=cap,
        adaptive=config.epochs is None,
        patience=config.patience,
        stopped_early=stopper.stopped_epoch > 0,
        min_epochs=min_epochs,
    )
    notes = _identifier_notes(data) if config.feature_columns is None else []
    return score_classifier(
        classifier,
        config,
        data,
        parts,
        predicted,
        history.history,
        run=run,
        split_note=split_note,
        notes=notes,
    )


def _identifier_notes(data: LabelledSequences) -> list[str]:
    """Notes on default features that look like ids: whole numbers, constant within each sequence.

    Such a column describes the sequence (a subject, a device), not its steps; a
    network reads it as a quantity, which rarely carries over to new ids.
    """
    notes = []
    for j, name in enumerate(data.feature_columns):
        columns = [s[:, j] for s in data.sequences]
        values = np.concatenate(columns)
        if (
            len(np.unique(values)) > 2
            and np.array_equal(values, np.round(values))
            and all(np.ptp(c) == 0 for c in columns)
        ):
            notes.append(
                f"Feature {name!r} holds whole numbers that never change within a sequence, "
                "like an id (a subject, a device): the network reads it as a quantity, which "
                "rarely carries over to new ids. If it is one, leave it out with --features "
                "(feature_columns=)."
            )
    return notes


class _EarlyStopping(EarlyStopping):
    """`EarlyStopping` that never stops before `min_epochs` (the best epoch counts from the first).

    After `min_epochs` it stops as soon as the best validation loss is `patience`
    epochs old, so the adaptive budget goes on only while the loss still improves.
    """

    def __init__(self, *, min_epochs: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.min_epochs = min_epochs

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        super().on_epoch_end(epoch, logs)
        if self.model.stop_training and self.stopped_epoch == epoch and epoch < self.min_epochs - 1:
            self.stopped_epoch = 0
            self.model.stop_training = False


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
        split_column=config.split_column,
    )


def split_parts(
    data: LabelledSequences, config: ClassificationConfig, caller: str = "split_parts()"
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], str]:
    """The train, validation and test sequences of a run, and how they were chosen.

    With a split column (`data.split`) its `train`, `val` and `test` sequences
    are used; without `val` sequences, `config.val_fraction` of the `train`
    sequences are held out for validation (seeded, stratified as configured).
    Without a split column, `config.test_fraction` (default 0.2) of all
    sequences are held out for the test, then `val_fraction` of the rest for
    validation (`split_sequences` both times).

    Args:
        data: The labelled sequences.
        config: The settings of the run (`test_fraction`, `val_fraction`,
            `stratify`, `seed`).
        caller: Name of the calling function, for messages.

    Returns:
        `((train, val, test), description)`: sorted index arrays into `data`,
        and one line saying how they were chosen.

    Raises:
        DataError: a split column without train or test sequences, or too few
            sequences to split.
    """
    if data.split is None:
        fraction = config.test_fraction or DEFAULT_TEST_FRACTION
        rest, test = split_sequences(
            data.labels, test_fraction=fraction, stratify=config.stratify, seed=config.seed
        )
        how = f"Split by sequence id ({_stratified(config)}, seed {config.seed})"
        val = None
    else:
        part = np.asarray(data.split)
        rest, val, test = (np.flatnonzero(part == name) for name in ("train", "val", "test"))
        for name, index in (("train", rest), ("test", test)):
            if not len(index):
                raise DataError(
                    f"{caller}: split column {data.split_column!r} marks no sequence as "
                    f"{name!r} (found: {_counts(part)}). Mark some sequences {name!r}, or drop "
                    "split_column (--split-column) to split at random."
                )
        how = f"Split from column {data.split_column!r}"
        if len(val):
            how += " (validation rows given)"
    if val is None or not len(val):
        inner_train, inner_val = split_sequences(
            data.labels[rest],
            test_fraction=config.val_fraction,
            stratify=config.stratify,
            seed=config.seed,
        )
        train, val = rest[inner_train], rest[inner_val]
        if data.split is not None:
            how += (
                f" (validation carved from the train sequences: {config.val_fraction:g}, "
                f"{_stratified(config)}, seed {config.seed})"
            )
    else:
        train = rest
    return (train, val, test), how


def _stratified(config: ClassificationConfig) -> str:
    return "stratified" if config.stratify else "not stratified"


def _counts(part: np.ndarray) -> str:
    names, counts = np.unique(part, return_counts=True)
    return ", ".join(f"{n} {c}" for n, c in zip(names.tolist(), counts.tolist(), strict=True))


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
