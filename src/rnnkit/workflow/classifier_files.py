"""The saved sequence classifier: a folder without pickle, written atomically, loaded with checks.

::

    my_classifier/
        model.keras        the network (JSON + safetensors)
        classifier.json    classes, columns, scaler means/stds, maxlen, test scores

`save_classifier` writes `classifier.json` with `rnnkit._files.atomic_write`, after
the model (itself written atomically), so no file is ever half-written.
`load_classifier` reads it with a size cap and checks it against its schema before
anything is built: every required entry present with the right type, the kind
allow-listed, one mean and one standard deviation per feature column, no deep
nesting. Anything else is a `CheckpointError` naming the file, the entry, what was
expected and what was found.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any
from typing import TypeGuard

import numpy as np

from rnnkit._files import atomic_write
from rnnkit._files import json_depth
from rnnkit._files import read_bytes_bounded
from rnnkit._files import replace_atomically
from rnnkit._files import sha256_file
from rnnkit.errors import CheckpointError
from rnnkit.errors import RnnkitTypeError
from rnnkit.models.saving import load_model
from rnnkit.workflow.classification_result import ClassificationResult
from rnnkit.workflow.classifier_model import CLASSIFIER_KINDS
from rnnkit.workflow.classifier_model import PAD_VALUE
from rnnkit.workflow.classifier_model import SequenceClassifier
from rnnkit.workflow.model_folder import MODEL_FILE
from rnnkit.workflow.model_folder import NEXT_MODEL_FILE
from rnnkit.workflow.model_folder import find_model_file

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_SPEC_BYTES",
    "MODEL_FILE",
    "SPEC_FILE",
    "load_classifier",
    "save_classifier",
]

logger = logging.getLogger(__name__)

FORMAT = "rnnkit-sequence-classifier"
FORMAT_VERSION = 1
SPEC_FILE = "classifier.json"
#: Largest `classifier.json` read (class names and scores fit in far less).
MAX_SPEC_BYTES = 16 << 20
#: Deepest nesting of lists and objects in `classifier.json` (the scores reach 4).
MAX_DEPTH = 8
_LABEL_TYPES = (str, int, float, bool)


def save_classifier(result: ClassificationResult | SequenceClassifier, folder: str | Path) -> Path:
    """Write a classifier folder: `model.keras` and `classifier.json` (no pickle).

    Crash-safe like the forecaster folder (`rnnkit.workflow.model_folder`): the
    network goes to `model-next.keras`, then `classifier.json` (naming the
    network's SHA-256) is written atomically, then the network is renamed onto
    `model.keras`. A kill at any moment leaves a folder that loads as the previous
    or the new classifier.

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
        classifier, scores = result, result.scores
    else:
        raise RnnkitTypeError(
            "save_classifier(): expected a ClassificationResult or a SequenceClassifier. "
            f"Received: {type(result).__name__}."
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / NEXT_MODEL_FILE
    classifier.model.save(str(staged))
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
        "model_sha256": sha256_file(staged),
    }
    atomic_write(folder / SPEC_FILE, json.dumps(document, indent=2))
    replace_atomically(staged, folder / MODEL_FILE)  # classifier.json already names it
    logger.info("Saved the sequence classifier to %s.", folder)
    return folder


def _scores(result: ClassificationResult) -> dict[str, Any]:
    scores = {
        "train_accuracy": result.train_accuracy,
        "validation_accuracy": result.validation_accuracy,
        "test_accuracy": result.test_accuracy,
        "baseline_accuracy": result.baseline_accuracy,
        "majority_class": result.majority_class,
        "confusion_matrix": result.confusion_matrix.tolist(),
        "lengths": result.lengths,
        "split": result.split,
        "units": result.config.units,
        "bidirectional": result.config.bidirectional,
    }
    run = result.training
    if run is not None:
        scores["training"] = {
            **asdict(run),
            "still_improving": run.still_improving,
            "description": run.description(),
            "note": run.note(),
        }
    return scores


def load_classifier(folder: str | Path) -> SequenceClassifier:
    """Read a folder written by `save_classifier`, checking `classifier.json` first.

    Args:
        folder: The classifier folder.

    Returns:
        The `SequenceClassifier`.

    Raises:
        CheckpointError: the folder or its files are missing, too large or not
            regular files; `classifier.json` is not JSON, is nested too deeply,
            is not a sequence classifier, was written by a newer rnnkit, or has
            an entry missing or of the wrong type or length (named).
    """
    caller = "load_classifier()"
    folder = Path(folder)
    spec_file = folder / SPEC_FILE
    if not folder.is_dir() or not spec_file.exists():
        what = "is not a folder" if not folder.is_dir() else f"has no {SPEC_FILE}"
        raise CheckpointError(
            f"{caller}: {str(folder)!r} {what}. Pass the folder save_classifier() or "
            f"`rnnkit classify` wrote (it holds {SPEC_FILE} and {MODEL_FILE})."
        )
    document = _read_spec(spec_file, caller)
    spec = _check_spec(document, spec_file, caller)
    checksum = document.get("model_sha256")  # absent in folders saved before it was recorded
    if checksum is not None and not (
        isinstance(checksum, str)
        and len(checksum) == 64
        and set(checksum) <= set("0123456789abcdef")
    ):
        raise CheckpointError(
            f"{caller}: {spec_file} entry 'model_sha256' must be 64 lowercase hex digits. "
            "The file is damaged; save the classifier again."
        )
    model_file = find_model_file(folder, checksum, caller, spec_name=SPEC_FILE)
    model = load_model(model_file)
    layers = getattr(model, "layers", None) or [None]
    units = getattr(layers[-1], "units", None)
    if units is not None and units != len(spec["class_names"]):
        raise CheckpointError(
            f"{caller}: {model_file} predicts {units} classes but {spec_file} names "
            f"{len(spec['class_names'])}. The two files come from different classifiers; save "
            "the classifier again."
        )
    return SequenceClassifier(model=model, **spec)


def _read_spec(spec_file: Path, caller: str) -> dict[str, Any]:
    try:
        data = read_bytes_bounded(spec_file, what=SPEC_FILE, max_bytes=MAX_SPEC_BYTES)
    except CheckpointError as exc:
        raise CheckpointError(f"{caller}: {exc}") from None
    try:
        document = json.loads(data.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(
            f"{caller}: {spec_file} is not valid JSON ({exc}). Save the classifier again."
        ) from None
    except RecursionError:
        document = None
    if document is None or json_depth(document, limit=MAX_DEPTH) > MAX_DEPTH:
        raise CheckpointError(
            f"{caller}: {spec_file} is nested more than {MAX_DEPTH} levels deep; a classifier "
            "file never is. The file is damaged or not from save_classifier(); save it again."
        )
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise CheckpointError(
            f"{caller}: {spec_file} is not an rnnkit sequence classifier file (format "
            f"{found!r}, expected {FORMAT!r}). Pass the folder save_classifier() wrote."
        )
    return document


def _check_spec(document: dict[str, Any], spec_file: Path, caller: str) -> dict[str, Any]:
    """The `SequenceClassifier` arguments of a checked document (all but the model)."""

    def fail(key: str, expected: str) -> CheckpointError:
        found = document.get(key, "<missing>")
        shown = repr(found) if len(repr(found)) <= 80 else repr(found)[:77] + "..."
        return CheckpointError(
            f"{caller}: {spec_file} entry {key!r} must be {expected}. Found: {shown}. The file "
            "is damaged or not from save_classifier(); save the classifier again."
        )

    version = document.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise CheckpointError(
            f"{caller}: {spec_file} has format_version {version}, newer than this rnnkit reads "
            f"({FORMAT_VERSION}). Upgrade rnnkit to load it."
        )
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise fail("format_version", f"the integer {FORMAT_VERSION}")
    kind = document.get("kind", "lstm")  # files from before `kind` was stored are LSTMs
    if kind not in CLASSIFIER_KINDS:
        raise fail("kind", f"one of {', '.join(repr(k) for k in CLASSIFIER_KINDS)}")
    names = document.get("class_names")
    if not _is_list_of(names, _LABEL_TYPES) or len(names) < 2 or not _unique(names):
        raise fail("class_names", "a list of at least 2 different labels (text or numbers)")
    features = document.get("feature_columns")
    if not _is_list_of(features, (str,)) or not features or not _unique(features):
        raise fail("feature_columns", "a non-empty list of different column names")
    for key in ("id_column", "time_column", "label_column"):
        if not isinstance(document.get(key), str):
            raise fail(key, "a column name (text)")
    for key, positive in (("means", False), ("stds", True)):
        values = document.get(key)
        if (
            not _is_list_of(values, (int, float))
            or len(values) != len(features)
            or not all(math.isfinite(v) and (v > 0 or not positive) for v in values)
        ):
            what = "positive" if positive else "finite"
            raise fail(key, f"a list of {len(features)} {what} numbers, one per feature column")
    maxlen = document.get("maxlen")
    if not isinstance(maxlen, int) or isinstance(maxlen, bool) or maxlen < 1:
        raise fail("maxlen", "a positive integer")
    for key, expected in (("pad_value", PAD_VALUE), ("padding", "post"), ("truncating", "post")):
        if key in document and document[key] != expected:
            raise fail(key, repr(expected))
    if not isinstance(document.get("scores", {}), dict):
        raise fail("scores", "an object")
    return {
        "class_names": list(names),
        "feature_columns": list(features),
        "id_column": document["id_column"],
        "time_column": document["time_column"],
        "label_column": document["label_column"],
        "means": np.asarray(document["means"], dtype=np.float64),
        "stds": np.asarray(document["stds"], dtype=np.float64),
        "maxlen": maxlen,
        "kind": kind,
        "scores": dict(document.get("scores", {})),
    }


def _is_list_of(value: Any, types: tuple[type, ...]) -> TypeGuard[list[Any]]:
    if not isinstance(value, list):
        return False
    numbers_only = bool not in types
    return all(
        isinstance(item, types) and not (numbers_only and isinstance(item, bool)) for item in value
    )


def _unique(values: list[Any]) -> bool:
    keys = [(type(v).__name__, v) for v in values]
    return len(set(keys)) == len(keys)
