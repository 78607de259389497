"""kill -9 in the middle of a vectorised group: the rerun loses and repeats nothing.

Issue #17 asks that everything the tuner promises keeps holding with vectorisation on.
A vectorised search is SIGKILLed while its group of trials trains (held by
``rnn_builds.HoldOnce``, never after a guessed delay), then run again: the trials that
finished keep their scores, the group's trials are failed and retried once, and every
score equals the same search trained one trial after another. On PostgreSQL, a second
worker finishes the killed worker's group.
"""

from __future__ import annotations

import signal
import uuid

import numpy as np
import pytest
import rnn_builds
from optuna.trial import TrialState
from tuner_helpers import PATIENCE
from tuner_helpers import kill_still_running
from tuner_helpers import logical_trials
from tuner_helpers import postgres_trials
from tuner_helpers import run_script
from tuner_helpers import start_script
from tuner_helpers import study_trials
from tuner_helpers import wait_until_held

import rnnkit.tuner as kt

FIT = {"epochs": 2, "batch_size": 8, "validation_split": 0.25, "verbose": 0}
TRIALS = 3


def _kwargs(tmp_path, name, **extra):
    return {
        "objective": "val_loss",
        "max_trials": TRIALS,
        "seed": 11,
        "directory": str(tmp_path),
        "project_name": name,
        "heartbeat_interval": 1,
        "grace_period": 3,
        **extra,
    }


def _config(kwargs, *, hold: bool):
    config = {
        "module": "rnn_builds",
        "build": "build_gru",
        "kwargs": kwargs,
        "search": {**FIT, "vectorize": True},
    }
    if hold:
        config["callback"] = "HoldOnce"
    return config


def _plain_scores(tmp_path):
    """The same search trained one trial after another, in this process."""
    tuner = kt.RandomSearch(rnn_builds.build_gru, **_kwargs(tmp_path, "plain"))
    tuner.search(*rnn_builds.data(), **FIT, vectorize=False)
    return {t.trial_id: t.score for t in tuner.oracle.get_best_trials(100)}


def _check(trials, killed_ids, plain):
    logical = logical_trials(trials)
    assert sorted(logical) == sorted(plain)
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    for trial_id, attempts in logical.items():
        expected = [TrialState.FAIL, TrialState.COMPLETE] if trial_id in killed_ids else [
            TrialState.COMPLETE
        ]  # fmt: skip
        assert [t.state for t in attempts] == expected, trial_id
        np.testing.assert_allclose(attempts[-1].value, plain[trial_id], rtol=1e-5)


def test_sigkill_inside_a_vectorised_group_then_rerun(tmp_path):
    plain = _plain_scores(tmp_path / "plain")
    kwargs = _kwargs(tmp_path, "killed")
    gate, log = tmp_path / "gate", tmp_path / "a.txt"
    proc = start_script(_config(kwargs, hold=True), log, RNNKIT_TEST_GATE=str(gate))
    try:
        wait_until_held(proc, gate, log)  # the group is training its first epoch
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    project = tmp_path / "killed"
    killed = {
        t.user_attrs["trial_id"]
        for t in study_trials(project, "killed")
        if t.state == TrialState.RUNNING
    }
    assert len(killed) >= 2, "a group of several trials was running"
    assert run_script(_config(kwargs, hold=False), tmp_path / "b.txt") == 0
    _check(study_trials(project, "killed"), killed, plain)


@pytest.mark.postgres
def test_vectorised_worker_killed_on_postgres_survivor_finishes_its_group(tmp_path, postgres_url):
    plain = _plain_scores(tmp_path / "plain")
    name = f"vk_{uuid.uuid4().hex[:8]}"
    kwargs = _kwargs(tmp_path, name, storage=postgres_url)
    gate, log_a, log_b = tmp_path / "gate", tmp_path / "a.txt", tmp_path / "b.txt"
    a = start_script(_config(kwargs, hold=True), log_a, RNNKIT_TEST_GATE=str(gate))
    b = None
    try:
        wait_until_held(a, gate, log_a)  # a holds its group: every trial is taken
        running = [t for t in postgres_trials(postgres_url, name) if t.state == TrialState.RUNNING]
        killed = {t.user_attrs["trial_id"] for t in running}
        assert len(killed) >= 2
        a.send_signal(signal.SIGKILL)
        a.wait()
        b = start_script(_config(kwargs, hold=False), log_b)
        assert b.wait(timeout=PATIENCE) == 0, log_b.read_text()
    finally:
        kill_still_running(a, b)
    _check(postgres_trials(postgres_url, name), killed, plain)
