"""What a sequence-classification run measured: `ClassificationResult` and its report."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.data.labelled import LabelledSequences
from rnnkit.workflow.classification_config import ClassificationConfig
from rnnkit.workflow.classifier_model import LAYERS
from rnnkit.workflow.classifier_model import SequenceClassifier

__all__ = ["ClassificationResult", "TrainingRun", "score_classifier"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingRun:
    """How the training went: epochs run, the epoch kept, and whether it was cut short.

    Attributes:
        epochs_run: Epochs trained.
        best_epoch: The epoch (from 1) with the best validation loss, whose
            weights the classifier keeps.
        epoch_cap: Most epochs allowed (`epochs`, or `AUTO_MAX_EPOCHS` for the
            adaptive budget).
        adaptive: `True` when `epochs` was not given (the adaptive budget).
        patience: Early-stopping patience (0: never stopped early).
        stopped_early: Early stopping ended the training before the cap.
        min_epochs: Fewest epochs (the adaptive budget's `AUTO_MIN_EPOCHS`; 0
            otherwise). Defaults to `0`.

    Example:
        >>> run = TrainingRun(epochs_run=30, best_epoch=29, epoch_cap=30, adaptive=False,
        ...                   patience=10, stopped_early=False)
        >>> run.still_improving
        True
        >>> run.note()  # doctest: +ELLIPSIS
        'Stopped at the epoch cap (30 epochs) while the validation loss was still improving ...'
    """

    epochs_run: int
    best_epoch: int
    epoch_cap: int
    adaptive: bool
    patience: int
    stopped_early: bool
    min_epochs: int = 0

    @property
    def still_improving(self) -> bool:
        """Training reached the cap with its best validation loss among the last epochs.

        "The last epochs" are the last `patience` (those early stopping would
        have waited for), or the last tenth of the cap when `patience` is 0.
        """
        window = self.patience or max(1, self.epoch_cap // 10)
        return (
            not self.stopped_early
            and self.epochs_run >= self.epoch_cap
            and self.epoch_cap - self.best_epoch < window
        )

    def description(self) -> str:
        """One sentence: how many epochs ran, under which budget, and the epoch kept."""
        kept = f"kept epoch {self.best_epoch}, the best validation loss"
        if self.adaptive:
            return (
                f"trained {self.epochs_run} epochs (adaptive budget: at least {self.min_epochs}, "
                f"then until the validation loss had not improved for {self.patience} epochs, "
                f"at most {self.epoch_cap}); {kept}"
            )
        if not self.patience:
            return f"trained {self.epochs_run} epochs (no early stopping); {kept}"
        return (
            f"trained {self.epochs_run} of at most {self.epoch_cap} epochs (early stopping "
            f"after {self.patience} epochs without a better validation loss); {kept}"
        )

    def note(self) -> str:
        """What to change when the run stopped at its cap still improving (else `""`)."""
        if not self.still_improving:
            return ""
        where = (
            f"the adaptive budget's maximum ({self.epoch_cap} epochs)"
            if self.adaptive
            else f"the epoch cap ({self.epoch_cap} epochs)"
        )
        fix = (
            f"raise --epochs (epochs=) above {self.epoch_cap} or the --learning-rate"
            if self.adaptive
            else "raise --epochs (epochs=), or leave it unset for the adaptive budget"
        )
        return (
            f"Stopped at {where} while the validation loss was still improving (best at epoch "
            f"{self.best_epoch}); the network is probably undertrained: {fix}."
        )


@dataclass
class ClassificationResult:
    """A trained sequence classifier and how well it does.

    Attributes:
        classifier: The network with its preprocessing (`save_classifier`,
            `predict_sequences`).
        config: The settings of the run.
        history: Per-epoch `loss` and `accuracy` on the training sequences,
            `val_loss` and `val_accuracy` on the validation sequences.
        train_accuracy: Accuracy on the training sequences.
        test_accuracy: Accuracy on the held-out test sequences.
        baseline_accuracy: Test accuracy of always predicting the most common
            training class.
        majority_class: That class's label.
        confusion_matrix: Test counts, `[true class, predicted class]`.
        train_ids: Ids of the training sequences.
        test_ids: Ids of the test sequences.
        lengths: `{"train": {...}, "test": {...}, "maxlen": n, "truncated_test": n}`,
            with `sequences`, `min`, `median`, `max` per part.
        notes: Anything worth saying, in words (stopped at the epoch cap while
            still improving, truncated test sequences, ...).
        validation_accuracy: Accuracy on the validation sequences.
        val_ids: Ids of the validation sequences.
        training: How the training went (`TrainingRun`), or `None`.
        split: How the sequences were split, in words.
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
    validation_accuracy: float = float("nan")
    val_ids: list[Any] = field(default_factory=list)
    training: TrainingRun | None = None
    split: str = "Split by sequence id"

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
        val = self.lengths.get("val", {"sequences": 0})
        layer = f"{LAYERS[c.kind].__name__}({c.units})"
        epochs = self.training.description() if self.training is not None else f"{c.epochs} epochs"
        features = self.classifier.feature_columns
        out = [
            f"{train['sequences'] + val['sequences'] + test['sequences']} sequences, "
            f"{len(self.class_names)} classes, {len(features)} features "
            f"({', '.join(features)}).",
            f"{self.split}: {train['sequences']} train, {val['sequences']} validation, "
            f"{test['sequences']} test.",
            f"Lengths: train {train['min']}..{train['max']} (median {train['median']}), "
            f"test {test['min']}..{test['max']} (median {test['median']}).",
            f"{'Bidirectional ' if c.bidirectional else ''}{layer} on sequences padded at the "
            f"end to {self.lengths['maxlen']} steps and masked; {epochs}.",
            f"Accuracy: train {self.train_accuracy:.3f}, validation "
            f"{self.validation_accuracy:.3f}, test {self.test_accuracy:.3f}; "
            f"majority-class baseline (always {self.majority_class!r}) "
            f"{self.baseline_accuracy:.3f}.",
            "Confusion matrix (test; rows true, columns predicted):",
            *self.confusion_frame().to_string().splitlines(),
        ]
        return out + self.notes

    def __str__(self) -> str:
        """Return the result lines joined by newlines."""
        return "\n".join(self.lines())


def _lengths(lengths: np.ndarray) -> dict[str, Any]:
    if not len(lengths):
        return {"sequences": 0, "min": 0, "median": 0.0, "max": 0}
    return {
        "sequences": len(lengths),
        "min": int(lengths.min()),
        "median": float(np.median(lengths)),
        "max": int(lengths.max()),
    }


def score_classifier(
    classifier: SequenceClassifier,
    config: ClassificationConfig,
    data: LabelledSequences,
    split: tuple[np.ndarray, np.ndarray, np.ndarray],
    predicted: tuple[np.ndarray, np.ndarray, np.ndarray],
    history: dict[str, list[float]],
    *,
    run: TrainingRun | None = None,
    split_note: str = "Split by sequence id",
    notes: list[str] | None = None,
) -> ClassificationResult:
    """Score a trained classifier on its train, validation and test sequences.

    Args:
        classifier: The trained classifier.
        config: The settings of the run.
        data: The labelled sequences.
        split: `(train, val, test)` index arrays.
        predicted: Predicted class indices of the train, validation and test sequences.
        history: `fit`'s per-epoch history.
        run: How the training went; its note (stopped at the cap while still
            improving) leads the notes. Defaults to `None`.
        split_note: How the sequences were split, in words. Defaults to
            `"Split by sequence id"`.
        notes: More notes, in words, added after those found here. Defaults to `None`.

    Returns:
        A `ClassificationResult` (see there), whose lines are also logged.
    """
    train, val, test = split
    train_pred, val_pred, test_pred = predicted
    y_train, y_test = data.labels[train], data.labels[test]
    k = len(data.class_names)
    majority = int(np.bincount(y_train, minlength=k).argmax())
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y_test, test_pred), 1)
    lengths = data.lengths
    truncated = int((lengths[test] > classifier.maxlen).sum())
    extra = list(notes or [])
    notes = [run.note()] if run is not None and run.still_improving else []
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
            "val": _lengths(lengths[val]),
            "test": _lengths(lengths[test]),
            "maxlen": classifier.maxlen,
            "truncated_test": truncated,
        },
        notes=notes + extra,
        validation_accuracy=_accuracy(data.labels[val], val_pred),
        val_ids=[data.ids[i] for i in val],
        training=run,
        split=split_note,
    )
    for line in result.lines():
        logger.info(line)
    return result


def _accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true == y_pred)) if len(y_true) else float("nan")
