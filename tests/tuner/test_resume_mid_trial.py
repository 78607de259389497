"""Resumable trials (#15 part 4): a trial killed mid-way continues from its resume point.

The process-level test holds a search in a forked process at the start of an epoch
(``resume_search.py``: its resume point of the previous epoch is on disk), SIGKILLs
it, runs the search again
and compares with an uninterrupted search of the same seed in another project: the
same value, best step and per-epoch history, bit for bit. No step waits for time to
pass; each waits for a state the test observed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import signal
import sys
import time

import numpy as np
import pytest
import resume_search
import torch
from optuna.trial import TrialState
from tuner_helpers import PATIENCE
from tuner_helpers import study_trials

from rnnkit.callbacks import EarlyStopping
from rnnkit.callbacks import ReduceLROnPlateau
from rnnkit.errors import CheckpointError
from rnnkit.errors import RnnkitValueError
from rnnkit.layers import Dense
from rnnkit.layers import Dropout
from rnnkit.layers import Input
from rnnkit.layers import SimpleRNN
from rnnkit.models import Sequential
from rnnkit.tuner import _checkpoint
from rnnkit.tuner import resume
from rnnkit.tuner.resume import TrialResume
from rnnkit.utils.random import get_rng_state
from rnnkit.utils.random import set_rng_state


@pytest.fixture(autouse=True)
def _resume_point_every_epoch(monkeypatch):
    monkeypatch.setattr(resume, "RESUME_COST_RATIO", 0.0)


def _attempts(project_dir, name):
    """``{trial_id: [(state, intermediate values, value, best_step), ...]}`` in order."""
    out = {}
    for t in sorted(study_trials(project_dir, name), key=lambda t: t.number):
        best_step = (t.user_attrs.get("result") or {}).get("best_step")
        row = (t.state, dict(t.intermediate_values), t.value, best_step)
        out.setdefault(t.user_attrs["trial_id"], []).append(row)
    return out


def _hold_in_child(tmp_path, gate) -> int:
    """Fork a process that runs the search and holds at the start of epoch 3."""
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        try:
            os.environ.update(RNNKIT_TEST_HOLD_EPOCH="3", RNNKIT_TEST_GATE=str(gate))
            resume_search.search(tmp_path, "killed", heartbeat_interval=1, grace_period=3)
        finally:
            os._exit(1)  # the search ended: it was never held, the test fails
    return pid


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs fork")
def test_sigkill_mid_trial_resumes_and_scores_as_uninterrupted(tmp_path, caplog, monkeypatch):
    monkeypatch.delenv("RNNKIT_TEST_HOLD_EPOCH", raising=False)
    gate = tmp_path / "gate"
    pid = _hold_in_child(tmp_path, gate)
    try:
        deadline = time.monotonic() + PATIENCE
        while not (gate / f"held-{pid}").exists():  # at the start of epoch 3 of trial 0
            assert os.waitpid(pid, os.WNOHANG) == (0, 0), "the search ended without holding"
            assert time.monotonic() < deadline, f"not held within {PATIENCE} s"
            time.sleep(0.05)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    project = tmp_path / "killed"
    [folder] = [p.parent for p in project.glob("trial_*/resume.json")]
    point = _checkpoint.read_manifest(folder, kind=_checkpoint.RESUME)["current"]
    assert point["epoch"] == 2  # the resume point of epoch 2 (k >= 1) was on disk
    trial_id = folder.name.removeprefix("trial_")

    with caplog.at_level(logging.INFO, logger="rnnkit.tuner"):
        resumed = resume_search.search(tmp_path, "killed", heartbeat_interval=1, grace_period=3)
    assert f"Trial {trial_id} resumes from its resume point: execution 1, after epoch 3." in (
        caplog.text
    )
    fresh = resume_search.search(tmp_path, "fresh")

    # the per-epoch history, as run_trial returned it, bit for bit
    assert resumed.captured == fresh.captured
    assert resumed.captured[trial_id][0]["epoch"][:4] == [0, 1, 2, 3]
    # the study: the same values and best steps; the killed attempt holds epochs 0-2,
    # its retry the rest, none twice
    killed, uninterrupted = _attempts(project, "killed"), _attempts(tmp_path / "fresh", "fresh")
    first, retry = killed.pop(trial_id)
    [(_, steps, value, best_step)] = uninterrupted.pop(trial_id)
    assert first[0] == TrialState.FAIL and sorted(first[1]) == [0, 1, 2]
    assert retry[0] == TrialState.COMPLETE and min(retry[1]) == 3
    assert {**first[1], **retry[1]} == steps
    assert (retry[2], retry[3]) == (value, best_step)
    assert killed == uninterrupted  # the other trial too
    assert not list(project.glob("trial_*/resume*"))  # finished trials keep no resume point


def test_a_retried_trial_keeps_its_finished_executions(tmp_path, monkeypatch):
    begun: list[tuple[int, int]] = []  # (fit call, epoch) once the crash happened
    calls = {"fit": 0, "crashed": False}

    def on_train_begin(self, logs=None):
        calls["fit"] += 1

    def on_epoch_begin(self, epoch, logs=None):
        if calls["crashed"]:
            begun.append((calls["fit"], epoch))
        elif calls["fit"] == 2 and epoch == 3:  # the second execution, at epoch 3
            calls["crashed"] = True
            raise RuntimeError("simulated crash")

    monkeypatch.setattr(resume_search.HoldAtEpoch, "on_train_begin", on_train_begin)
    monkeypatch.setattr(resume_search.HoldAtEpoch, "on_epoch_begin", on_epoch_begin)
    crashed = resume_search.search(
        tmp_path, "crashed", executions=2, max_trials=1, max_retries_per_trial=1
    )
    monkeypatch.undo()
    fresh = resume_search.search(tmp_path, "fresh", executions=2, max_trials=1)

    assert crashed.captured == fresh.captured
    [(trial_id, executions)] = fresh.captured.items()
    later = [e for e in executions[1]["epoch"] if e >= 3]
    # after the crash only the second execution ran, from epoch 3 on: the first kept
    # its result and was not trained again
    assert begun == [(3, e) for e in later]
    study = _attempts(tmp_path / "crashed", "crashed")[trial_id]
    assert [row[0] for row in study] == [TrialState.FAIL, TrialState.COMPLETE]
    assert study[-1][2:] == _attempts(tmp_path / "fresh", "fresh")[trial_id][0][2:]


STOP_SOON = {"patience": 0, "min_delta": 0.05, "restore_best_weights": True}


def test_a_trial_stopped_early_before_the_kill_only_finishes(tmp_path, monkeypatch, caplog):
    calls = {"crashed": 0, "epochs_after": 0}

    def on_epoch_begin(self, epoch, logs=None):
        calls["epochs_after"] += calls["crashed"]

    def on_train_end(self, logs=None):  # after EarlyStopping stopped it, before it is scored
        if self.model.stop_training and not calls["crashed"]:
            calls["crashed"] = 1
            raise RuntimeError("simulated crash")

    monkeypatch.setattr(resume_search.HoldAtEpoch, "on_epoch_begin", on_epoch_begin)
    monkeypatch.setattr(resume_search.HoldAtEpoch, "on_train_end", on_train_end, raising=False)
    with caplog.at_level(logging.INFO, logger="rnnkit.tuner"):
        crashed = resume_search.search(
            tmp_path, "crashed", max_trials=1, stopping=STOP_SOON, max_retries_per_trial=1
        )
    monkeypatch.undo()
    fresh = resume_search.search(tmp_path, "fresh", max_trials=1, stopping=STOP_SOON)
    assert calls == {"crashed": 1, "epochs_after": 0}  # the retry trained no epoch
    assert "resumes from its resume point" in caplog.text
    assert crashed.captured == fresh.captured
    [history] = next(iter(fresh.captured.values()))
    assert history["epoch"][-1] < resume_search.EPOCHS - 1  # it did stop early


def test_a_callback_state_that_cannot_be_stored_only_disables_resume_points(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.setattr(
        resume_search.HoldAtEpoch, "get_state", lambda self: {"x": object()}, raising=False
    )
    monkeypatch.setattr(resume_search.HoldAtEpoch, "set_state", lambda self, s: None, raising=False)
    with caplog.at_level(logging.INFO, logger="rnnkit.tuner"):
        tuner = resume_search.search(tmp_path, "p", max_trials=1)
    assert "keeps no resume point: its training state cannot be stored" in caplog.text
    assert "Cannot store a value of type object (at /callbacks/2/state/x)" in caplog.text
    assert len(tuner.captured) == 1  # the trial completed
    assert not list((tmp_path / "p").glob("trial_*/resume*"))


def _dropout_model(seed: int) -> Sequential:
    torch.manual_seed(0)
    return Sequential(
        [Input((5, 2)), SimpleRNN(3, dropout=0.5, seed=seed), Dropout(0.5, seed=seed), Dense(1)]
    )


def test_rng_state_includes_the_generators_of_seeded_layers():
    x = torch.ones(4, 5, 2)
    model = _dropout_model(seed=3)
    model(x, training=True)  # the layers' generators exist and have drawn
    state = get_rng_state(model)
    expected = (model(x, training=True), torch.rand(3), np.random.rand(2))  # noqa: NPY002
    fresh = _dropout_model(seed=3)  # same weights, generators not created yet
    set_rng_state(state, fresh)
    got = (fresh(x, training=True), torch.rand(3), np.random.rand(2))  # noqa: NPY002
    torch.testing.assert_close(got[0], expected[0], rtol=0, atol=0)
    torch.testing.assert_close(got[1], expected[1], rtol=0, atol=0)
    np.testing.assert_array_equal(got[2], expected[2])


def test_set_rng_state_refuses_a_malformed_state_and_changes_nothing():
    state = get_rng_state()
    state["torch"] = state["torch"][:-1]
    before = torch.get_rng_state()
    with pytest.raises(RnnkitValueError, match=r"torch must be a 1-d uint8 array of \d+ values"):
        set_rng_state(state)
    assert torch.equal(torch.get_rng_state(), before)


class _Model:
    stop_training = False

    class optimizer:  # a stand-in with a learning_rate
        learning_rate = 0.1


@pytest.mark.parametrize(
    "make", [lambda: EarlyStopping(patience=2), lambda: ReduceLROnPlateau(patience=1)]
)
def test_callback_state_continues_as_one_uninterrupted_fit(make):
    values = [0.9, 0.5, 0.6, 0.55, 0.4, 0.45, 0.5, 0.47]

    def run(callback, epochs, state=None):
        callback.set_model(_Model())
        callback.on_train_begin()
        if state is not None:
            callback.set_state(state)
        for epoch in epochs:
            callback.on_epoch_end(epoch, {"val_loss": values[epoch]})
            if callback.model.stop_training:
                break
        return callback

    _Model.optimizer.learning_rate = 0.1
    whole = run(make(), range(8)).get_state()
    rate = _Model.optimizer.learning_rate
    _Model.optimizer.learning_rate = 0.1
    half = run(make(), range(3)).get_state()
    assert run(make(), range(3, 8), half).get_state() == whole
    assert _Model.optimizer.learning_rate == rate


def test_set_state_names_the_callback_and_the_bad_field():
    with pytest.raises(RnnkitValueError, match=r"EarlyStopping.set_state\(\): 'wait' must be"):
        EarlyStopping().set_state(
            {"wait": -1, "stopped_epoch": 0, "best": None, "best_epoch": 0, "best_weights": None}
        )


def _compiled():
    model = Sequential([Input((4, 1)), SimpleRNN(2), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def test_resume_points_and_best_checkpoints_keep_each_others_files(tmp_path):
    model = _compiled()
    _checkpoint.save_checkpoint(tmp_path, model, epoch=0, value=1.0)
    _checkpoint.save_resume_point(tmp_path, model, epoch=0, state={"a": np.arange(3)})
    _checkpoint.save_checkpoint(tmp_path, model, epoch=1, value=0.5)
    _checkpoint.save_checkpoint(tmp_path, model, epoch=2, value=0.4)
    loaded = _checkpoint.read_checkpoint(tmp_path, kind=_checkpoint.RESUME)
    np.testing.assert_array_equal(loaded.state["a"], np.arange(3))
    assert _checkpoint.load_checkpoint(tmp_path, _compiled())["epoch"] == 2
    _checkpoint.remove_resume_point(tmp_path)
    assert not list(tmp_path.glob("resume*"))
    assert _checkpoint.load_checkpoint(tmp_path, _compiled())["epoch"] == 2


def test_a_damaged_or_foreign_resume_point_is_not_used(tmp_path, caplog):
    model = _compiled()
    identity = {"trial_id": "3", "epochs": 5}
    state = {
        "identity": identity, "execution": 0, "epoch": 1, "stop": False,
        "history": {"epoch": [0, 1], "logs": {"loss": [0.5, 0.4]}}, "finished": [],
        "best": 0.4, "callbacks": [], "rng": get_rng_state(),
    }  # fmt: skip
    folder = tmp_path / "trial_3"
    _checkpoint.save_resume_point(folder, model, epoch=1, state=state)
    with caplog.at_level(logging.INFO, logger="rnnkit.tuner"):
        assert TrialResume.open(folder, identity)._state is not None
        assert TrialResume.open(folder, {**identity, "epochs": 9})._state is None
    assert "saved with other settings (epochs differ); training from epoch 0" in caplog.text

    state_file = (
        folder
        / _checkpoint.read_manifest(folder, kind=_checkpoint.RESUME)["current"]["state"]["file"]
    )
    data = bytearray(state_file.read_bytes())
    data[-2] ^= 0xFF
    state_file.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        _checkpoint.read_checkpoint(folder, kind=_checkpoint.RESUME)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="rnnkit.tuner"):
        assert TrialResume.open(folder, identity)._state is None
    assert "its resume point is not usable" in caplog.text
    assert "checksum mismatch" in caplog.text

    bad = {**state, "finished": [{"value": "x"}]}
    _checkpoint.save_resume_point(folder, model, epoch=1, state=bad)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="rnnkit.tuner"):
        assert TrialResume.open(folder, identity)._state is None
    assert "'finished' must list one result per execution" in caplog.text
    assert json.loads((folder / "resume.json").read_text())["format"] == "rnnkit.tuner.resume/1"


def test_a_resume_point_a_callback_refuses_is_not_used(tmp_path, caplog):
    model = _compiled()
    identity = {"trial_id": "4"}
    refused = {"wait": -1, "stopped_epoch": 0, "best": None, "best_epoch": 0, "best_weights": None}
    state = {
        "identity": identity, "execution": 0, "epoch": 2, "stop": False,
        "history": {"epoch": [0, 1, 2], "logs": {"loss": [0.5, 0.4, 0.3]}}, "finished": [],
        "best": 0.3, "callbacks": [{"class": "EarlyStopping", "state": refused}],
        "rng": get_rng_state(model),
    }  # fmt: skip
    folder = tmp_path / "trial_4"
    _checkpoint.save_resume_point(folder, model, epoch=2, state=state)
    before = [w.copy() for w in model.get_weights()]
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)  # the model a retry builds differs from the saved one
    kwargs = {"callbacks": [EarlyStopping()], "epochs": 5}

    class Saver:
        best = None

    with caplog.at_level(logging.INFO, logger="rnnkit.tuner"):
        TrialResume.open(folder, identity).start(0, model, kwargs, Saver(), own=None)
    assert "EarlyStopping refused its saved state" in caplog.text
    assert "training from epoch 0" in caplog.text
    assert "initial_epoch" not in kwargs and Saver.best is None
    assert all((w != b).all() for w, b in zip(model.get_weights(), before, strict=True))


def test_set_rng_state_puts_generators_only_where_the_layer_keeps_one():
    model = _dropout_model(seed=3)
    model(torch.ones(2, 5, 2), training=True)
    state = get_rng_state(model)
    state["modules"][0]["attribute"] = "forward"
    with pytest.raises(RnnkitValueError, match="has no generator attribute 'forward'"):
        set_rng_state(state, model)
    assert callable(model.forward)


class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_payload_in_a_resume_point_never_runs(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker, folder = tmp_path / "ran", tmp_path / "trial_5"
    identity = {"trial_id": "5"}
    state = {
        "identity": identity, "execution": 0, "epoch": 0, "stop": False,
        "history": {"epoch": [0], "logs": {"loss": [0.5]}}, "finished": [], "best": 0.5,
        "callbacks": [], "rng": get_rng_state(),
    }  # fmt: skip
    payload = pickle.dumps(_Payload(marker))
    for key in ("state", "optimizer", "weights"):  # each file, its manifest entry agreeing
        _checkpoint.save_resume_point(folder, _compiled(), epoch=0, state=state)
        manifest = json.loads((folder / "resume.json").read_text())
        item = manifest["current"][key]
        (folder / item["file"]).write_bytes(payload)
        item.update(size=len(payload), sha256=hashlib.sha256(payload).hexdigest())
        manifest["previous"] = None
        (folder / "resume.json").write_text(json.dumps(manifest))
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="rnnkit.tuner"):
            resume_point = TrialResume.open(folder, identity)
        if key == "weights":  # parsed when applied to the model
            with pytest.raises(CheckpointError, match=r"not valid safetensors data.*deleted"):
                resume_point.start(0, _compiled(), {"callbacks": []}, object(), own=None)
            assert not (folder / "resume.json").exists()
        else:
            assert resume_point._loaded is None
            assert "not valid safetensors data" in caplog.text
        assert not marker.exists()


def test_the_history_a_resumed_fit_returns_holds_the_earlier_epochs(tmp_path, monkeypatch):
    """A hypermodel that reads ``model.fit``'s History (the workflow's report does) sees
    the whole execution after a resume, as if it had never been interrupted."""
    import rnnkit.tuner as kt

    seen: list[tuple[list[int], dict]] = []

    class Recording(kt.HyperModel):
        def build(self, hp):
            return resume_search.build(hp)

        def fit(self, hp, model, *args, **kwargs):
            history = model.fit(*args, **kwargs)
            seen.append((list(history.epoch), {k: list(v) for k, v in history.history.items()}))
            return history

    def run(project, crash_at=None):
        crashed = {"done": crash_at is None}

        def on_epoch_begin(self, epoch, logs=None):
            if not crashed["done"] and epoch == crash_at:
                crashed["done"] = True
                raise RuntimeError("simulated crash")

        monkeypatch.setattr(resume_search.HoldAtEpoch, "on_epoch_begin", on_epoch_begin)
        seen.clear()
        tuner = kt.RandomSearch(
            Recording(), objective="val_loss", max_trials=1, seed=11, directory=str(tmp_path),
            project_name=project, max_retries_per_trial=1,
        )  # fmt: skip
        x, y = resume_search.data()
        tuner.search(
            x, y, epochs=5, batch_size=16, validation_split=0.25, verbose=0,
            callbacks=[resume_search.HoldAtEpoch()],
        )  # fmt: skip
        return list(seen), tuner

    resumed, tuner = run("resumed", crash_at=3)
    fresh, _ = run("fresh")
    assert [epochs for epochs, _ in resumed] == [[0, 1, 2, 3, 4]]  # the crashed fit never returned
    assert resumed == fresh  # the same logs, bit for bit
    [trial] = tuner.oracle.trials.values()
    assert trial.attempts == 2  # it did crash once and resume
