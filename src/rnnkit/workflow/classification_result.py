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

__all__ = ["ClassificationResult", "score_classifier"]

logger = logging.getLogger(__name__)


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
        layer = f"{LAYERS[c.kind].__name__}({c.units})"
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
    split: tuple[np.ndarray, np.ndarray],
    predicted: tuple[np.ndarray, np.ndarray],
    history: dict[str, list[float]],
) -> ClassificationResult:
    """Score a trained classifier on its training and test sequences (see `ClassificationResult`).

    Args:
        classifier: The trained classifier.
        config: The settings of the run.
        data: The labelled sequences.
        split: `(train, test)` index arrays.
        predicted: Predicted class indices of the train and test sequences.
        history: `fit`'s per-epoch history.

    Returns:
        A `ClassificationResult`, whose lines are also logged.
    """
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
