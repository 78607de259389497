"""Hostile or edited study records never crash the tuner or escape its folder (issue #11).

Each test writes odd values into a real SQLite study with Optuna itself (the study's
``rnnkit`` attribute, queued trials with rnnkit attributes), or into a lock's holder
file, then resumes the tuner: the answer is a :class:`StorageError` naming the study
and the bad value, or the record is treated as unknown; nothing appears outside the
project folder.
"""

import json
import socket

import optuna
import pytest
import tuner_fakes as f

import rnnkit.tuner as kt
from rnnkit.errors import StorageError
from rnnkit.tuner._storage import FileLock
from rnnkit.tuner._storage import describe_holder
from rnnkit.tuner._storage import holder_is_dead

PROJECT = "p"


def _tuner(root, max_trials=2):
    return kt.RandomSearch(
        f.build_model,
        objective="val_loss",
        max_trials=max_trials,
        seed=1,
        directory=root / "projects",
        project_name=PROJECT,
    )


@pytest.fixture
def study(tmp_path, xy):
    """A finished two-trial search; yields the Optuna study behind it."""
    _tuner(tmp_path).search(*xy, epochs=1)
    url = f"sqlite:///{tmp_path / 'projects' / PROJECT / 'study.db'}"
    loaded = optuna.load_study(study_name=PROJECT, storage=url)
    yield loaded
    loaded._storage.remove_session()


def _queue(study, **attrs):
    """Queue a trial as a retry written by someone else, with ``attrs`` on top."""
    base = {"trial_id": "0009", "attempt": 2, "values": {}, "control": {}}
    study.enqueue_trial(dict(study.trials[0].params), user_attrs={**base, **attrs})


def _files_outside_project(tmp_path):
    return sorted(
        str(p.relative_to(tmp_path))
        for p in tmp_path.rglob("*")
        if p != tmp_path / "projects" and tmp_path / "projects" not in p.parents
    )


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        (["not", "a", "dict"], r"rnnkit=\['not', 'a', 'dict'\], expected a JSON object"),
        ("seedless", r"rnnkit='seedless', expected a JSON object"),
    ],
)
def test_study_metadata_that_is_not_an_object_is_a_named_storage_error(
    study, tmp_path, xy, meta, message
):
    study.set_user_attr("rnnkit", meta)
    with pytest.raises(StorageError, match=f"Project 'p' .*study.db.* {message}"):
        _tuner(tmp_path, max_trials=3).search(*xy, epochs=1)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("seed", None, "seed=None, expected an integer"),
        ("seed", "7", "seed='7', expected an integer"),
        ("id_width", "wide", "id_width='wide', expected an integer from 1 to 64"),
        ("id_width", 10**6, "id_width=1000000, expected an integer from 1 to 64"),
    ],
)
def test_bad_seed_or_id_width_in_study_metadata_is_a_named_storage_error(
    study, tmp_path, xy, field, value, message
):
    meta = dict(study.user_attrs["rnnkit"])
    if value is None:
        del meta[field]
    else:
        meta[field] = value
    study.set_user_attr("rnnkit", meta)
    with pytest.raises(StorageError, match=f"Project 'p' .*unreadable tuner metadata: {message}"):
        _tuner(tmp_path, max_trials=3).search(*xy, epochs=1)


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({"trial_id": "../../escape"}, r"trial id '../../escape', which is not 1-64"),
        ({"trial_id": "/tmp/escape"}, r"trial id '/tmp/escape', which is not 1-64"),
        ({"trial_id": 7}, r"trial id 7, which is not 1-64"),
        ({"trial_id": "x" * 65}, r"trial id 'x+\.\.\.x+', which is not 1-64"),
        ({"control": {"parent": "../../escape"}}, r"parent holds the trial id '../../escape'"),
        ({"values": [1, 2]}, r"holds values=\[1, 2\], expected a JSON object"),
        ({"control": "epochs"}, r"holds control='epochs', expected a JSON object"),
        ({"holder": []}, r"holds holder=\[\], expected a JSON object"),
        ({"crashes": "many"}, r"holds crashes='many', expected a non-negative integer"),
        ({"attempt": -1}, r"holds attempt=-1, expected a non-negative integer"),
        ({"errors": True}, r"holds errors=True, expected a non-negative integer"),
    ],
)
def test_hostile_trial_attributes_are_a_named_storage_error_and_escape_nothing(
    study, tmp_path, xy, attrs, message
):
    _queue(study, **attrs)
    number = len(study.trials) - 1
    tuner = _tuner(tmp_path, max_trials=3)
    expected = f"Study 'p' .*study.db.*, Optuna trial {number},.*{message}"
    with pytest.raises(StorageError, match=expected):
        tuner.search(*xy, epochs=1)
    assert _files_outside_project(tmp_path) == []


def test_a_queued_trial_with_a_safe_id_still_runs(study, tmp_path, xy):
    _queue(study, trial_id="retry_0009", control={})
    tuner = _tuner(tmp_path, max_trials=3)
    tuner.search(*xy, epochs=1)
    assert (tmp_path / "projects" / PROJECT / "trial_retry_0009").is_dir()
    assert _files_outside_project(tmp_path) == []


def test_trial_dir_refuses_an_id_that_leaves_the_project(tmp_path):
    tuner = _tuner(tmp_path)
    assert tuner.trial_dir("0001") == tmp_path / "projects" / PROJECT / "trial_0001"
    with pytest.raises(StorageError, match=r"trial id '../x', which is not 1-64 letters"):
        tuner.trial_dir("../x")


@pytest.mark.parametrize(
    "holder",
    [b"[]", b'"text"', b"42", b'{"host": 1, "pid": 2}', b"\xff\xfe", b'{"pid": "abc"}'],
)
def test_a_bad_lock_holder_file_reads_as_an_unknown_process(tmp_path, holder):
    lock = FileLock(tmp_path / "study.db.lock")
    lock.holder_path.write_bytes(holder)
    assert lock._holder() == "an unknown process"


@pytest.mark.parametrize("pid", ["abc", None, 1.5, True, -3, [1]])
def test_a_holder_with_a_bad_pid_is_unknown_and_never_declared_dead(pid):
    holder = {"host": socket.gethostname(), "pid": pid, "start": 1}
    assert describe_holder(holder) == "an unknown process"
    assert holder_is_dead(holder) is False


@pytest.mark.parametrize("holder", [[], "host:1", 3, None])
def test_a_holder_that_is_not_an_object_is_unknown(holder):
    assert describe_holder(holder) == "an unknown process"
    assert holder_is_dead(holder) is False


def test_a_good_holder_is_described_by_host_and_pid():
    assert describe_holder(json.loads('{"host": "node1", "pid": 42}')) == "node1:42"


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({"values": [1, 2]}, r"holds values=\[1, 2\], expected a JSON object"),
        ({"trial_id": "../../escape"}, r"trial id '../../escape', which is not 1-64"),
    ],
)
def test_results_of_a_hostile_study_are_a_named_storage_error(study, tmp_path, attrs, message):
    # the results API reads the study without running a search
    _queue(study, **attrs)
    study.tell(study.ask(), 0.5)  # the queued trial, finished by someone else
    tuner = _tuner(tmp_path)
    with pytest.raises(StorageError, match=message):
        tuner.get_best_hyperparameters(1)
    assert _files_outside_project(tmp_path) == []
