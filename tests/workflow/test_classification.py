import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnkit.errors import CheckpointError
from rnnkit.errors import DataError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.workflow.classification import PAD_VALUE
from rnnkit.workflow.classification import ClassificationConfig
from rnnkit.workflow.classification import LabelledSequences
from rnnkit.workflow.classification import fit_sequence_classifier
from rnnkit.workflow.classification import load_classifier
from rnnkit.workflow.classification import predict_sequences
from rnnkit.workflow.classification import read_labelled_sequences
from rnnkit.workflow.classification import save_classifier
from rnnkit.workflow.classification import split_sequences
from rnnkit.workflow.classifier_files import MAX_DEPTH

COLUMNS = {"id_column": "seq", "time_column": "step", "label_column": "activity"}
FREQUENCIES = {"slow": 0.3, "medium": 1.0, "fast": 2.2}


def make_frame(n=120, seed=0):
    """Long-format labelled sequences: the class sets the frequency of two features.

    Classes are unbalanced (50/30/20 %), lengths 5..20, 4 features (two noisy
    sine/cosine channels, pure noise, an offset noise), rows shuffled.
    """
    rng = np.random.default_rng(seed)
    names = rng.choice(list(FREQUENCIES), size=n, p=[0.5, 0.3, 0.2])
    parts = []
    for i, name in enumerate(names):
        length = int(rng.integers(5, 21))
        t = np.arange(length)
        angle = FREQUENCIES[name] * t + rng.uniform(0, 2 * np.pi)
        parts.append(
            pd.DataFrame(
                {
                    "seq": f"s{i:03d}",
                    "step": t,
                    "activity": name,
                    "a": np.sin(angle) + rng.normal(0, 0.1, length),
                    "b": np.cos(angle) + rng.normal(0, 0.1, length),
                    "c": rng.normal(0, 0.3, length),
                    "d": 2 + rng.normal(0, 1, length),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    return frame.sample(frac=1, random_state=1).reset_index(drop=True)


def small_frame():
    return pd.DataFrame(
        {
            "seq": ["b", "a", "a", "b", "a", "c"],
            "step": [1, 2, 0, 0, 1, 0],
            "activity": [7, 3, 3, 7, 3, 3],
            "x": [4.0, 3.0, 1.0, 5.0, 2.0, 9.0],
            "y": [0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
        }
    )


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("classification") / "walks.csv"
    make_frame().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def result(csv_path):
    return fit_sequence_classifier(
        data=csv_path, units=8, epochs=20, learning_rate=0.01, batch_size=16, **COLUMNS
    )


# ------------------------------------------------------------------ reading
def test_read_labelled_sequences_sorts_by_id_then_time_and_maps_labels():
    data = read_labelled_sequences(small_frame(), **COLUMNS)
    assert data.ids == ["a", "b", "c"]
    assert data.class_names == [3, 7]
    assert data.labels.tolist() == [0, 1, 0]
    assert data.feature_columns == ["x", "y"]
    assert data.lengths.tolist() == [3, 2, 1]
    np.testing.assert_array_equal(data.sequences[0], [[1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    np.testing.assert_array_equal(data.sequences[1], [[5.0, 1.0], [4.0, 0.0]])


def test_read_labelled_sequences_reads_csv_with_dates_and_chosen_features(tmp_path):
    frame = small_frame()
    frame["step"] = pd.to_datetime("2024-01-01") + pd.to_timedelta(frame["step"], unit="D")
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    data = read_labelled_sequences(path, feature_columns="y", **COLUMNS)
    assert data.feature_columns == ["y"]
    np.testing.assert_array_equal(data.sequences[0][:, 0], [0.0, 1.0, 0.0])


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            {"id_column": "seq_id"},
            RnnkitValueError,
            "read_labelled_sequences(): unknown id column 'seq_id'. Expected one of "
            "'activity', 'seq', 'step', 'x', 'y'. Did you mean 'seq'?",
        ),
        (
            {"feature_columns": ["x", "yy"]},
            RnnkitValueError,
            "unknown feature column 'yy'. Expected one of 'activity', 'seq', 'step', 'x', "
            "'y'. Did you mean 'y'?",
        ),
        (
            {"feature_columns": ["x", "activity"]},
            RnnkitValueError,
            "'activity' is the label column; it cannot also be a feature column.",
        ),
        (
            {"time_column": "seq"},
            RnnkitValueError,
            "the id, time and label columns must be different columns. Received: "
            "id_column='seq', time_column='seq', label_column='activity'.",
        ),
    ],
)
def test_read_labelled_sequences_rejects_bad_columns(change, error, message):
    arguments = {**COLUMNS, **change}
    with pytest.raises(error, match=re.escape(message)):
        read_labelled_sequences(small_frame(), **arguments)


def _with(column, row, value):
    frame = small_frame()
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    return frame


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (
            _with("activity", 4, 8),
            "read_labelled_sequences(): label column 'activity' changes within sequence "
            "'a': 3 at row 2, then 8 at row 4. Each sequence needs one label; fix the label "
            "or give the part with the other label its own id.",
        ),
        (
            _with("x", 3, "high"),
            "read_labelled_sequences(): column(s) 'x' hold text ('high' at row 3), so they are "
            "not used as features by default. Pass feature_columns='y' (--features y), or "
            "encode the text as numbers first.",
        ),
        (
            _with("y", 5, np.nan),
            "read_labelled_sequences(): feature column 'y' is missing (NaN) at row 5. "
            "Remove or impute non-finite values first.",
        ),
        (
            _with("x", 1, np.inf),
            "read_labelled_sequences(): feature column 'x' is infinite at row 1.",
        ),
        (
            _with("step", 4, 2),
            "read_labelled_sequences(): sequence 'a' has time 2 twice (rows 1 and 4). "
            "Each (id, time) pair must appear once",
        ),
        (
            _with("activity", 0, None),
            "read_labelled_sequences(): label column 'activity' is empty at row 0.",
        ),
        (
            _with("step", 2, "soon"),
            "read_labelled_sequences(): time column 'step' holds 'soon' at row 2, which is "
            "neither a number nor a date.",
        ),
    ],
)
def test_read_labelled_sequences_rejects_bad_data(frame, message):
    with pytest.raises(DataError, match=re.escape(message)):
        read_labelled_sequences(frame, **COLUMNS)


def test_bad_time_in_text_numbers_is_the_one_named():
    frame = small_frame()
    frame["step"] = frame["step"].astype(str)
    frame.loc[2, "step"] = "x"
    message = "time column 'step' holds 'x' at row 2, which is neither a number nor a date."
    with pytest.raises(DataError, match=re.escape(message)):
        read_labelled_sequences(frame, **COLUMNS)


def test_read_labelled_sequences_rejects_missing_file(tmp_path):
    with pytest.raises(DataError, match=re.escape("none.csv' does not exist (looked for")):
        read_labelled_sequences(tmp_path / "none.csv", **COLUMNS)


# ---------------------------------------------------------------- splitting
def test_split_sequences_stratifies_and_repeats_with_a_seed():
    labels = np.repeat([0, 1, 2], [10, 6, 1])
    train, test = split_sequences(labels, test_fraction=0.5, seed=3)
    assert sorted([*train, *test]) == list(range(17))
    assert np.bincount(labels[test], minlength=3).tolist() == [5, 3, 0]
    again = split_sequences(labels, test_fraction=0.5, seed=3)
    np.testing.assert_array_equal(test, again[1])
    _, plain = split_sequences(labels, test_fraction=0.5, stratify=False, seed=3)
    assert len(plain) == 8


def test_split_sequences_needs_two_sequences():
    with pytest.raises(DataError, match=re.escape("need at least 2 sequences")):
        split_sequences([0])


# ------------------------------------------------------------------ fitting
def test_fit_sequence_classifier_beats_majority_baseline(result):
    assert result.baseline_accuracy < 0.6
    assert result.test_accuracy >= result.baseline_accuracy + 0.25
    assert result.train_accuracy > 0.8
    assert result.class_names == ["fast", "medium", "slow"]
    assert result.majority_class == "slow"
    assert result.confusion_matrix.shape == (3, 3)
    assert result.confusion_matrix.sum() == len(result.test_ids)
    parts = [set(result.train_ids), set(result.val_ids), set(result.test_ids)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert len(result.train_ids) + len(result.val_ids) + len(result.test_ids) == 120
    assert result.lengths["maxlen"] == result.lengths["train"]["max"] <= 20
    assert result.lengths["train"]["min"] >= 5
    assert len(result.history["loss"]) == 20
    assert [type(layer).__name__ for layer in result.model.layers] == ["Masking", "LSTM", "Dense"]
    assert "majority-class baseline (always 'slow')" in str(result)


def test_fit_sequence_classifier_pads_with_masked_steps(result):
    classifier = result.classifier
    sequence = make_frame(n=1, seed=5)[["a", "b", "c", "d"]].to_numpy()[:7]
    padded = classifier.transform([sequence])
    assert padded.shape == (1, result.lengths["maxlen"], 4)
    assert (padded[0, 7:] == PAD_VALUE).all()
    np.testing.assert_allclose(
        result.model.predict(padded, verbose=0),
        result.model.predict(padded[:, :7], verbose=0),
        atol=1e-6,
    )


def test_fit_sequence_classifier_accepts_labelled_sequences_and_a_config():
    data = read_labelled_sequences(make_frame(n=30, seed=2), **COLUMNS)
    config = ClassificationConfig(data=data, kind="gru", units=4, epochs=2, stratify=False)
    first = fit_sequence_classifier(config, seed=7)
    second = fit_sequence_classifier(config, seed=7)
    assert isinstance(config.data, LabelledSequences)
    assert [type(layer).__name__ for layer in first.model.layers][1] == "GRU"
    assert first.test_ids == second.test_ids
    assert first.history["loss"] == second.history["loss"]


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        (
            {"kind": "lstn"},
            RnnkitValueError,
            "fit_sequence_classifier(): unknown kind 'lstn'. Expected one of 'gru', 'lstm', "
            "'rnn'. Did you mean 'lstm'?",
        ),
        (
            {"epoch": 3},
            RnnkitTypeError,
            "fit_sequence_classifier(): unknown setting 'epoch'. Did you mean 'epochs'?",
        ),
        (
            {"test_fraction": 1.0},
            RnnkitValueError,
            "`test_fraction` must be (0, 1). Received: test_fraction=1.0.",
        ),
        (
            {"label_column": None},
            RnnkitValueError,
            "`label_column` is required to read a long-format table. Received: label_column=None.",
        ),
    ],
)
def test_fit_sequence_classifier_rejects_bad_settings(overrides, error, message):
    arguments = {**COLUMNS, "data": small_frame(), **overrides}
    with pytest.raises(error, match=re.escape(message)):
        fit_sequence_classifier(**arguments)


def test_fit_sequence_classifier_needs_two_classes():
    frame = small_frame().assign(activity="walk")
    with pytest.raises(DataError, match=re.escape("every sequence has the label 'walk'")):
        fit_sequence_classifier(data=frame, epochs=1, **COLUMNS)


# --------------------------------------------------- saving and prediction
def test_save_load_predict_round_trip(result, tmp_path):
    folder = save_classifier(result, tmp_path / "clf")
    assert sorted(p.name for p in folder.iterdir()) == ["classifier.json", "model.keras"]
    document = json.loads((folder / "classifier.json").read_text())
    assert document["class_names"] == ["fast", "medium", "slow"]
    assert document["scores"]["test_accuracy"] == result.test_accuracy

    loaded = load_classifier(folder)
    assert loaded.feature_columns == ["a", "b", "c", "d"]
    assert loaded.maxlen == result.classifier.maxlen
    np.testing.assert_array_equal(loaded.means, result.classifier.means)

    frame = make_frame(n=12, seed=9).drop(columns="activity")
    before = predict_sequences(result, frame)
    after = predict_sequences(loaded, frame)
    pd.testing.assert_frame_equal(before, after)
    assert list(after.columns) == [
        "seq",
        "length",
        "predicted_label",
        "probability_fast",
        "probability_medium",
        "probability_slow",
    ]
    assert after["seq"].tolist() == sorted(frame["seq"].unique())
    np.testing.assert_allclose(after.filter(like="probability_").sum(axis=1), 1.0, rtol=1e-5)
    assert set(after["predicted_label"]) <= {"fast", "medium", "slow"}


def test_predict_sequences_keeps_the_first_maxlen_steps_of_longer_sequences(result):
    maxlen = result.classifier.maxlen
    steps = maxlen + 5
    rng = np.random.default_rng(4)
    longer = pd.DataFrame(
        {"seq": "z", "step": np.arange(steps), **{c: rng.normal(size=steps) for c in "abcd"}}
    )
    out = predict_sequences(result, longer)
    head = predict_sequences(result, longer.iloc[:maxlen])
    assert out["length"].tolist() == [steps]
    pd.testing.assert_frame_equal(out.drop(columns="length"), head.drop(columns="length"))


def test_predict_sequences_names_missing_feature_column(result):
    frame = make_frame(n=2, seed=1).rename(columns={"d": "dd"})
    with pytest.raises(
        RnnkitValueError, match=re.escape("predict_sequences(): unknown feature column 'd'.")
    ):
        predict_sequences(result, frame)


def test_integer_labels_survive_save_and_load(tmp_path):
    frame = make_frame(n=20, seed=3)
    frame["activity"] = frame["activity"].map({"slow": 10, "medium": 20, "fast": 30})
    fitted = fit_sequence_classifier(data=frame, units=4, epochs=1, **COLUMNS)
    loaded = load_classifier(save_classifier(fitted.classifier, tmp_path / "int"))
    assert loaded.class_names == [10, 20, 30]
    assert set(predict_sequences(loaded, frame)["predicted_label"]) <= {10, 20, 30}


def test_load_classifier_rejects_a_foreign_folder(tmp_path):
    with pytest.raises(CheckpointError, match=re.escape("has no classifier.json")):
        load_classifier(tmp_path)
    (tmp_path / "classifier.json").write_text('{"format": "other"}')
    with pytest.raises(CheckpointError, match=re.escape("is not an rnnkit sequence classifier")):
        load_classifier(tmp_path)


def test_classifier_scaler_is_the_standard_scaler_of_the_training_steps(result):
    classifier = result.classifier
    data = read_labelled_sequences(make_frame(), **COLUMNS)
    index = {name: i for i, name in enumerate(data.ids)}
    train = np.concatenate([data.sequences[index[i]] for i in result.train_ids])
    np.testing.assert_allclose(classifier.means, train.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(classifier.stds, train.std(axis=0), rtol=1e-12)
    assert type(classifier.scaler).__name__ == "StandardScaler"
    first = data.sequences[0]
    expected = (first - train.mean(axis=0)) / train.std(axis=0)
    np.testing.assert_allclose(
        classifier.transform([first])[0, : len(first)], expected.astype(np.float32), rtol=1e-6
    )


def test_save_writes_no_temporary_files_and_replaces_the_json(result, tmp_path):
    folder = tmp_path / "clf"
    (folder).mkdir()
    (folder / "classifier.json").write_text("old")
    save_classifier(result, folder)
    assert sorted(p.name for p in folder.iterdir()) == ["classifier.json", "model.keras"]
    assert json.loads((folder / "classifier.json").read_text())["format_version"] == 1


def test_a_classifier_file_without_kind_loads_as_lstm(result, tmp_path):
    folder = save_classifier(result, tmp_path / "old")
    document = json.loads((folder / "classifier.json").read_text())
    del document["kind"]  # files written before the kind was stored
    (folder / "classifier.json").write_text(json.dumps(document))
    assert load_classifier(folder).kind == "lstm"


def _corrupt(folder: Path, **entries):
    document = json.loads((folder / "classifier.json").read_text())
    for key, value in entries.items():
        if value is _corrupt:
            del document[key]
        else:
            document[key] = value
    (folder / "classifier.json").write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"maxlen": _corrupt}, "entry 'maxlen' must be a positive integer. Found: '<missing>'."),
        ({"maxlen": "30"}, "entry 'maxlen' must be a positive integer. Found: '30'."),
        (
            {"kind": "transformer"},
            "entry 'kind' must be one of 'rnn', 'lstm', 'gru'. Found: 'transformer'.",
        ),
        (
            {"means": "0,0,0,0"},
            "entry 'means' must be a list of 4 finite numbers, one per feature column.",
        ),
        (
            {"stds": [1.0, 1.0, 0.0, 1.0]},
            "entry 'stds' must be a list of 4 positive numbers, one per feature column.",
        ),
        ({"means": [0.0, 0.0]}, "entry 'means' must be a list of 4 finite numbers"),
        ({"feature_columns": ["a", "a", "c", "d"]}, "entry 'feature_columns' must be a non-empty"),
        ({"class_names": [["fast"], "slow"]}, "entry 'class_names' must be a list of at least 2"),
        ({"id_column": 3}, "entry 'id_column' must be a column name (text). Found: 3."),
        ({"format_version": 2}, "has format_version 2, newer than this rnnkit reads (1)."),
        ({"format_version": True}, "entry 'format_version' must be the integer 1."),
        ({"scores": [1]}, "entry 'scores' must be an object."),
        ({"class_names": ["a", "b"]}, "predicts 3 classes but"),
    ],
)
def test_load_classifier_checks_every_entry(result, tmp_path, entries, message):
    folder = save_classifier(result, tmp_path / "clf")
    _corrupt(folder, **entries)
    with pytest.raises(CheckpointError, match=re.escape(message)) as caught:
        load_classifier(folder)
    assert str(caught.value).startswith("load_classifier(): ")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 200_000])
def test_load_classifier_refuses_deep_nesting(result, tmp_path, depth):
    folder = save_classifier(result, tmp_path / "clf")
    text = (folder / "classifier.json").read_text()
    nested = "[" * depth + "]" * depth
    (folder / "classifier.json").write_text(
        text.replace('"scores": {', f'"deep": {nested}, "s": {{')
    )
    with pytest.raises(
        CheckpointError, match=re.escape(f"is nested more than {MAX_DEPTH} levels deep")
    ):
        load_classifier(folder)


def test_load_classifier_refuses_a_fifo(tmp_path):
    os.mkfifo(tmp_path / "classifier.json")
    with pytest.raises(CheckpointError, match=re.escape("is not a regular file")):
        load_classifier(tmp_path)


def _classes_of(folder):
    return list(load_classifier(folder).class_names)


def test_kill_between_the_json_and_the_rename_loads_the_new_classifier(
    result, tmp_path, monkeypatch
):
    from rnnkit.workflow import classifier_files

    folder = save_classifier(result, tmp_path / "clf")
    new = result.classifier
    new_names = [f"new_{name}" for name in new.class_names]
    monkeypatch.setattr(new, "class_names", new_names)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # stands for SIGKILL after classifier.json, before the rename

    monkeypatch.setattr(classifier_files, "replace_atomically", killed)
    with pytest.raises(KeyboardInterrupt):
        save_classifier(new, folder)
    assert (folder / "model-next.keras").exists()
    assert _classes_of(folder) == new_names  # the JSON names the staged network


def test_kill_before_the_json_loads_the_old_classifier(result, tmp_path, monkeypatch):
    from rnnkit.workflow import classifier_files

    folder = save_classifier(result, tmp_path / "clf")
    old_names = _classes_of(folder)
    with torch_no_grad_fill(result.classifier.model, 0.5):

        def killed(*args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(classifier_files, "atomic_write", killed)
        with pytest.raises(KeyboardInterrupt):
            save_classifier(result, folder)  # model-next.keras written, JSON not
    loaded = load_classifier(folder)
    assert list(loaded.class_names) == old_names
    weights = [w for w in loaded.model.get_weights() if w.size]
    assert not all(np.allclose(w, 0.5) for w in weights)  # the old network, not the staged one


def test_a_network_replaced_after_saving_is_refused(result, tmp_path):
    folder = save_classifier(result, tmp_path / "clf")
    document = json.loads((folder / "classifier.json").read_text())
    document["model_sha256"] = "0" * 64
    (folder / "classifier.json").write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match="SHA-256 mismatch"):
        load_classifier(folder)


class torch_no_grad_fill:
    """Fill a model's weights with a constant, and put the old ones back afterwards."""

    def __init__(self, model, value):
        self.model, self.value = model, value

    def __enter__(self):
        self.saved = self.model.get_weights()
        self.model.set_weights([np.full_like(w, self.value) for w in self.saved])

    def __exit__(self, *exc):
        self.model.set_weights(self.saved)
