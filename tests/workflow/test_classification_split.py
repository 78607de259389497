"""Sequence classification: a split column, text columns, validation, the epoch budget, summary."""

import re

import numpy as np
import pandas as pd
import pytest

from rnnkit.errors import DataError
from rnnkit.errors import RnnkitValueError
from rnnkit.workflow.classification import fit_sequence_classifier
from rnnkit.workflow.classification import load_classifier
from rnnkit.workflow.classification import read_labelled_sequences
from rnnkit.workflow.classification import save_classifier
from rnnkit.workflow.classification_result import TrainingRun
from rnnkit.workflow.classifier_summary import describe_classifier
from rnnkit.workflow.progress import ProgressListener

COLUMNS = {"id_column": "seq", "time_column": "step", "label_column": "activity"}


def har_frame(n=48, seed=0):
    """Two activities told apart by the level of `x`; sequence i is test when i % 4 == 0."""
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n):
        label = ["rest", "walk"][i % 2]
        length = int(rng.integers(4, 9))
        part = "Test" if i % 4 == 0 else "TRAIN"
        parts.append(
            pd.DataFrame(
                {
                    "seq": f"s{i:02d}",
                    "step": np.arange(length),
                    "activity": label,
                    "x": (1.0 if label == "walk" else -1.0) + rng.normal(0, 0.3, length),
                    "y": rng.normal(0, 1, length),
                    "split": part,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


class Recorder(ProgressListener):
    def __init__(self):
        self.calls = []

    def begin(self, task, total=None, description=""):
        self.calls.append(("begin", task, total))

    def advance(self, task, steps=1, description=None):
        self.calls.append(("advance", task, steps))


# ------------------------------------------------------------------ reading
def test_split_column_is_read_per_sequence_in_any_case_and_never_a_feature():
    frame = har_frame(n=8)
    frame.loc[frame["seq"] == "s01", "split"] = " Validation "
    data = read_labelled_sequences(frame, split_column="split", **COLUMNS)
    assert data.feature_columns == ["x", "y"]
    assert data.split_column == "split"
    assert data.split == ["test", "val", "train", "train", "test", "train", "train", "train"]


def test_split_column_values_other_than_train_val_test_are_named():
    frame = har_frame(n=8)
    frame.loc[frame["seq"] == "s03", "split"] = "dev"
    frame.loc[frame["seq"] == "s05", "split"] = "holdout"
    first = int(np.flatnonzero(frame["seq"] == "s03")[0])
    message = (
        f"read_labelled_sequences(): split column 'split' holds 'dev', 'holdout' (first at row "
        f"{first}); expected train, val (or validation) or test, in any case. Rename those "
        "values (for example 'dev' to 'val') or drop their rows."
    )
    with pytest.raises(DataError, match=re.escape(message)):
        read_labelled_sequences(frame, split_column="split", **COLUMNS)


def test_split_column_that_changes_within_a_sequence_is_an_error():
    frame = har_frame(n=4)
    rows = np.flatnonzero(frame["seq"] == "s01")
    frame.loc[rows[2], "split"] = "test"
    message = (
        f"split column 'split' changes within sequence 's01': 'train' at row {rows[0]}, then "
        f"'test' at row {rows[2]}. A sequence belongs to one part (train, val or test)"
    )
    with pytest.raises(DataError, match=re.escape(message)):
        read_labelled_sequences(frame, split_column="split", **COLUMNS)


def test_text_columns_are_refused_as_default_features_with_the_fix():
    frame = har_frame(n=4).assign(device=lambda f: np.where(f["x"] > 0, "watch", "phone"))
    message = (
        "read_labelled_sequences(): column(s) 'split', 'device' hold text ('Test' at row 0), "
        "so they are not used as features by default. Pass feature_columns='x,y' "
        "(--features x,y), or encode the text as numbers first. If 'split' marks the "
        "train/test rows, pass "
        "split_column='split' (--split-column split)."
    )
    with pytest.raises(DataError, match=re.escape(message)):
        read_labelled_sequences(frame, **COLUMNS)
    # an explicit text feature keeps its precise message (column and row)
    with pytest.raises(DataError, match="feature column 'device' is not numeric: 'phone' at row 0"):
        read_labelled_sequences(frame, feature_columns=["x", "device"], **COLUMNS)
    # numbers stored as text are numbers
    frame = har_frame(n=4).assign(y=lambda f: f["y"].round(3).astype(str))
    assert read_labelled_sequences(frame, split_column="split", **COLUMNS).feature_columns == [
        "x",
        "y",
    ]


# ------------------------------------------------------------------ settings
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"split_column": "split", "test_fraction": 0.3},
            "`test_fraction` and `split_column` both choose the test sequences; pass one of "
            "them. Received: test_fraction=0.3, split_column='split'.",
        ),
        (
            {"test_fraction": 0},
            "`test_fraction` must be in (0, 1): every run is scored on held-out sequences. To "
            "use the train/test split your data already has, pass split_column='<column>' "
            "(rnnkit classify --split-column <column>). Received: test_fraction=0.",
        ),
        ({"val_fraction": 1.0}, "`val_fraction` must be (0, 1). Received: val_fraction=1.0."),
        ({"patience": -1}, "patience"),
    ],
)
def test_split_settings_are_checked(overrides, message):
    with pytest.raises(RnnkitValueError, match=re.escape(message)):
        fit_sequence_classifier(data=har_frame(n=8), **COLUMNS, **overrides)


def test_a_split_column_without_test_sequences_is_an_error():
    frame = har_frame(n=8).assign(split="train")
    message = (
        "fit_sequence_classifier(): split column 'split' marks no sequence as 'test' (found: "
        "train 8). Mark some sequences 'test', or drop split_column (--split-column) to split "
        "at random."
    )
    with pytest.raises(DataError, match=re.escape(message)):
        fit_sequence_classifier(data=frame, split_column="split", **COLUMNS)


# ------------------------------------------------------------------ training
@pytest.fixture(scope="module")
def split_result():
    recorder = Recorder()
    result = fit_sequence_classifier(
        data=har_frame(),
        split_column="split",
        units=4,
        epochs=3,
        learning_rate=1e-3,
        progress=recorder,
        **COLUMNS,
    )
    return result, recorder


def test_split_column_chooses_test_and_validation_comes_from_train(split_result):
    result, _ = split_result
    test = [f"s{i:02d}" for i in range(0, 48, 4)]
    assert result.test_ids == test
    assert len(result.val_ids) == 6  # round(0.15 * 18) of each class's 18 train sequences
    assert not set(result.val_ids) & set(result.train_ids)
    assert sorted(result.train_ids + result.val_ids + test) == [f"s{i:02d}" for i in range(48)]
    assert result.lengths["val"]["sequences"] == 6
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    lines = result.lines()
    assert lines[1] == (
        "Split from column 'split' (validation carved from the train sequences: 0.15, "
        "stratified, seed 0): 30 train, 6 validation, 12 test."
    )
    assert re.search(r"Accuracy: train [\d.]+, validation [\d.]+, test [\d.]+;", lines[4])


def test_given_validation_rows_are_used_as_they_are():
    frame = har_frame()
    frame.loc[frame["seq"].isin(["s01", "s02"]), "split"] = "val"
    result = fit_sequence_classifier(data=frame, split_column="split", units=2, epochs=1, **COLUMNS)
    assert result.val_ids == ["s01", "s02"]
    assert "Split from column 'split' (validation rows given): 34 train, 2 validation" in str(
        result
    )


def test_progress_is_reported_per_epoch(split_result):
    result, recorder = split_result
    epochs = result.training.epochs_run
    assert recorder.calls[0] == ("begin", "epochs", 3)
    assert recorder.calls[1:] == [("advance", "epochs", 1)] * epochs


def test_stopping_at_the_cap_while_improving_says_so(split_result):
    result, _ = split_result
    run = result.training
    assert (run.epochs_run, run.epoch_cap, run.adaptive, run.stopped_early) == (3, 3, False, False)
    # three epochs of a small learning rate: the validation loss falls every epoch
    assert np.all(np.diff(result.history["val_loss"]) < 0)
    assert run.best_epoch == 3 and run.still_improving
    note = (
        "Stopped at the epoch cap (3 epochs) while the validation loss was still improving "
        "(best at epoch 3); the network is probably undertrained: raise --epochs (epochs=), "
        "or leave it unset for the adaptive budget."
    )
    assert result.notes[0] == note
    assert str(result).splitlines()[-1] == note


@pytest.mark.parametrize(
    ("run", "improving"),
    [
        (dict(epochs_run=30, best_epoch=25, epoch_cap=30, patience=10, stopped_early=False), True),
        (dict(epochs_run=30, best_epoch=20, epoch_cap=30, patience=10, stopped_early=False), False),
        (dict(epochs_run=18, best_epoch=8, epoch_cap=30, patience=10, stopped_early=True), False),
        (dict(epochs_run=30, best_epoch=28, epoch_cap=30, patience=0, stopped_early=False), True),
        (dict(epochs_run=30, best_epoch=26, epoch_cap=30, patience=0, stopped_early=False), False),
    ],
)
def test_still_improving_means_best_epoch_within_the_patience_at_the_cap(run, improving):
    run = TrainingRun(adaptive=False, **run)
    assert run.still_improving is improving
    assert bool(run.note()) is improving


def test_adaptive_budget_descriptions():
    run = TrainingRun(
        epochs_run=200,
        best_epoch=199,
        epoch_cap=200,
        adaptive=True,
        patience=10,
        stopped_early=False,
        min_epochs=30,
    )
    assert run.description() == (
        "trained 200 epochs (adaptive budget: at least 30, then until the validation loss had "
        "not improved for 10 epochs, at most 200); kept epoch 199, the best validation loss"
    )
    assert run.note() == (
        "Stopped at the adaptive budget's maximum (200 epochs) while the validation loss was "
        "still improving (best at epoch 199); the network is probably undertrained: raise "
        "--epochs (epochs=) above 200 or the --learning-rate."
    )


def test_adaptive_budget_stops_after_patience_and_keeps_the_best_epoch():
    # a large learning rate on an easy problem: the validation loss bottoms out quickly
    result = fit_sequence_classifier(
        data=har_frame(), split_column="split", units=4, learning_rate=0.2, patience=2, **COLUMNS
    )
    run = result.training
    assert run.adaptive and (run.epoch_cap, run.min_epochs) == (200, 30)
    # never before 30 epochs, then as soon as the best epoch is `patience` epochs old
    assert run.stopped_early and run.epochs_run == max(30, run.best_epoch + 2) < 200
    best = int(np.argmin(result.history["val_loss"])) + 1
    assert run.best_epoch == best
    assert not any(note.startswith("Stopped at") for note in result.notes)


def test_default_features_that_look_like_ids_get_a_note():
    frame = har_frame().assign(subject=lambda f: f["seq"].str[1:].astype(int) % 7)
    result = fit_sequence_classifier(data=frame, split_column="split", units=2, epochs=1, **COLUMNS)
    assert result.classifier.feature_columns == ["x", "y", "subject"]
    assert result.notes[-1] == (
        "Feature 'subject' holds whole numbers that never change within a sequence, like an id "
        "(a subject, a device): the network reads it as a quantity, which rarely carries over "
        "to new ids. If it is one, leave it out with --features (feature_columns=)."
    )
    chosen = fit_sequence_classifier(
        data=frame, split_column="split", feature_columns="x,subject", epochs=1, **COLUMNS
    )
    assert not any("like an id" in note for note in chosen.notes)


# ------------------------------------------------------------------ saved folder
def test_saved_classifier_keeps_its_scores_and_describes_itself(split_result, tmp_path):
    result, _ = split_result
    folder = save_classifier(result, tmp_path / "clf")
    classifier = load_classifier(folder)
    scores = classifier.scores
    assert scores["test_accuracy"] == result.test_accuracy
    assert scores["validation_accuracy"] == result.validation_accuracy
    assert scores["training"]["epochs_run"] == 3 and scores["training"]["still_improving"]
    lines = describe_classifier(folder)
    assert lines[0] == (
        f"Sequence classifier in {folder}: LSTM(4) reading 2 feature column(s) per step (x, y); "
        "sequences are the rows of each 'seq' ordered by 'step', padded at the end (and "
        f"masked) or cut to {result.lengths['maxlen']} steps."
    )
    assert lines[1] == "Classes (2, from column 'activity'): 'rest', 'walk'."
    assert lines[3].startswith("Split: Split from column 'split'")
    assert lines[4].startswith("Training: Trained 3 of at most 3 epochs")
    assert lines[5] == result.notes[0]
    assert lines[6] == (
        f"Accuracy: train {result.train_accuracy:.3f}, validation "
        f"{result.validation_accuracy:.3f}, test {result.test_accuracy:.3f}; majority-class "
        f"baseline (always {result.majority_class!r}) {result.baseline_accuracy:.3f}."
    )
    assert lines[7:12] == [
        "Confusion matrix (test; rows true, columns predicted):",
        *result.confusion_frame().to_string().splitlines(),
    ]
    # saved again from the loaded classifier, the scores stay
    again = load_classifier(save_classifier(classifier, tmp_path / "again"))
    assert again.scores == classifier.scores
