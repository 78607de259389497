"""Describe a saved sequence classifier in plain lines (`rnnkit summary` on a classifier folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from rnnkit.workflow.classifier_files import load_classifier
from rnnkit.workflow.classifier_model import LAYERS
from rnnkit.workflow.classifier_model import SequenceClassifier

__all__ = ["describe_classifier"]


def describe_classifier(folder: str | Path) -> list[str]:
    """The spec of the classifier saved in `folder`: classes, features, network, scores.

    The folder is loaded (and checked) with `load_classifier`; the scores are those
    `save_classifier` stored from the training run, when it had them.

    Args:
        folder: A folder written by `save_classifier` or `rnnkit classify`.

    Returns:
        Lines of text: what it classifies from which columns, its preprocessing,
        how it trained, its scores and confusion matrix, and the layer table.

    Raises:
        CheckpointError: not a readable classifier folder (see `load_classifier`).

    Example:
        >>> import tempfile
        >>> import pandas as pd
        >>> from rnnkit.workflow.classification import fit_sequence_classifier, save_classifier
        >>> frame = pd.DataFrame({"id": [i // 3 for i in range(24)], "t": list(range(3)) * 8,
        ...                       "x": [float(i % 5) for i in range(24)]})
        >>> frame["label"] = frame["id"].map(lambda i: "ab"[i % 2])
        >>> result = fit_sequence_classifier(data=frame, id_column="id", time_column="t",
        ...                                  label_column="label", units=2, epochs=1)
        >>> folder = save_classifier(result, Path(tempfile.mkdtemp()) / "clf")
        >>> describe_classifier(folder)[1]
        "Classes (2, from column 'label'): 'a', 'b'."
    """
    folder = Path(folder)
    classifier = load_classifier(folder)
    scores = classifier.scores
    lines = [
        f"Sequence classifier in {folder}: {_network(classifier, scores)} reading "
        f"{len(classifier.feature_columns)} feature column(s) per step "
        f"({', '.join(classifier.feature_columns)}); sequences are the rows of each "
        f"{classifier.id_column!r} ordered by {classifier.time_column!r}, padded at the end "
        f"(and masked) or cut to {classifier.maxlen} steps.",
        f"Classes ({len(classifier.class_names)}, from column {classifier.label_column!r}): "
        f"{', '.join(repr(name) for name in classifier.class_names)}.",
        "Scaling: each feature standardised with the training steps' means ("
        + ", ".join(f"{v:.4g}" for v in classifier.means)
        + ") and standard deviations ("
        + ", ".join(f"{v:.4g}" for v in classifier.stds)
        + ").",
    ]
    lines += _training_lines(scores, classifier.class_names)
    classifier.model.summary(print_fn=lines.append)
    return lines


def _network(classifier: SequenceClassifier, scores: dict[str, Any]) -> str:
    units = scores.get("units")
    layer = LAYERS[classifier.kind].__name__ + (f"({units})" if isinstance(units, int) else "")
    return f"Bidirectional {layer}" if scores.get("bidirectional") is True else layer


def _training_lines(scores: dict[str, Any], class_names: list[Any]) -> list[str]:
    if not scores:
        return ["Scores: none stored (saved from a SequenceClassifier, not a training result)."]
    lines = []
    if isinstance(scores.get("split"), str):
        lines.append(f"Split: {scores['split']}.")
    training = scores.get("training")
    if isinstance(training, dict) and isinstance(training.get("description"), str):
        description = training["description"]
        lines.append(f"Training: {description[:1].upper()}{description[1:]}.")
        if training.get("note"):
            lines.append(str(training["note"]))
    shown = [
        f"{name} {scores[key]:.3f}"
        for name, key in (
            ("train", "train_accuracy"),
            ("validation", "validation_accuracy"),
            ("test", "test_accuracy"),
        )
        if isinstance(scores.get(key), (int, float))
    ]
    if shown:
        baseline = scores.get("baseline_accuracy")
        majority = scores.get("majority_class")
        line = "Accuracy: " + ", ".join(shown)
        if isinstance(baseline, (int, float)):
            line += f"; majority-class baseline (always {majority!r}) {baseline:.3f}"
        lines.append(line + ".")
    matrix = scores.get("confusion_matrix")
    k = len(class_names)
    if isinstance(matrix, list) and len(matrix) == k and all(len(r) == k for r in matrix):
        names = [str(n) for n in class_names]
        frame = pd.DataFrame(
            matrix, index=pd.Index(names, name="true"), columns=pd.Index(names, name="predicted")
        )
        lines.append("Confusion matrix (test; rows true, columns predicted):")
        lines += frame.to_string().splitlines()
    return lines
