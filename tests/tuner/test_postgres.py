"""Multi-worker tests on a real PostgreSQL server (T2, T3, T13, T17).

They need ``RNNKIT_TEST_POSTGRES_URL``: ``bash .ci/postgres.sh && . .ci/postgres.env``
starts a throwaway server on 127.0.0.1. Without it they are skipped with that hint
(and fail when ``RNNKIT_REQUIRE_SERVICES`` names postgres, as in `.ci/run`). A worker
is killed, and the server stopped, while a trial the test holds is running
(``tuner_fakes.hold_if_asked``), never after a guessed delay.
"""

import os
import signal
import traceback
import uuid
from pathlib import Path

import pytest
import tuner_fakes as f
from optuna.trial import TrialState
from tuner_helpers import PATIENCE
from tuner_helpers import held_env
from tuner_helpers import kill_still_running
from tuner_helpers import logical_trials
from tuner_helpers import postgres_trials
from tuner_helpers import run_script
from tuner_helpers import start_script
from tuner_helpers import wait_for
from tuner_helpers import wait_until_held

import rnnkit.tuner as kt
from rnnkit.errors import StorageError
from rnnkit.tuner._storage import resolve_storage

pytestmark = pytest.mark.postgres


def _config(tmp_path, url, name, *, max_trials, **extra):
    kwargs = {
        "objective": "val_loss",
        "max_trials": max_trials,
        "seed": 5,
        "storage": url,
        "directory": str(tmp_path),
        "project_name": name,
        "heartbeat_interval": 1,
        "grace_period": 3,
        **extra,
    }
    return {
        "tuner": "RandomSearch",
        "build": "build_slow",
        "kwargs": kwargs,
        "search": {"epochs": 3},
    }


def test_two_workers_one_killed_survivor_retries_t2(tmp_path, postgres_url):
    name = f"t2_{uuid.uuid4().hex[:8]}"
    config = _config(tmp_path, postgres_url, name, max_trials=4)
    gate, markers = tmp_path / "gate", tmp_path / "markers"
    env = {"RNNKIT_TEST_EPOCH_SLEEP": "0", "RNNKIT_TEST_MARKERS": str(markers)}
    kt.RandomSearch(f.build_slow, **config["kwargs"])  # create the study once
    a = start_script(config, tmp_path / "a.txt", **env, **held_env(gate, 1))
    b = None
    try:
        wait_until_held(a, gate, tmp_path / "a.txt")  # a holds its first trial
        b = start_script(config, tmp_path / "b.txt", **env)
        wait_for(lambda: any(markers.glob(f"start-{b.pid}-*")), timeout=PATIENCE)  # b runs trials
        victim = next(
            t
            for t in postgres_trials(postgres_url, name)
            if t.state == TrialState.RUNNING and t.user_attrs["holder"]["pid"] == a.pid
        )
        a.send_signal(signal.SIGKILL)
        a.wait()
        assert b.wait(timeout=PATIENCE) == 0, (tmp_path / "b.txt").read_text()
    finally:
        kill_still_running(a, b)
    trials = postgres_trials(postgres_url, name)
    logical = logical_trials(trials)
    assert len(logical) == 4
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    assert all(group[-1].state == TrialState.COMPLETE for group in logical.values())
    retried = logical[victim.user_attrs["trial_id"]]
    assert [t.state for t in retried] == [TrialState.FAIL, TrialState.COMPLETE]
    assert retried[1].user_attrs["holder"]["pid"] == b.pid


def test_grid_search_two_workers_on_postgres_t3(tmp_path, postgres_url, xy):
    name = f"t3_{uuid.uuid4().hex[:8]}"
    tuner = kt.GridSearch(
        f.build_grid,
        objective="val_loss",
        storage=postgres_url,
        directory=tmp_path,
        project_name=name,
    )
    tuner.search(*xy, epochs=1, workers=2)
    combos = [(t.values["a"], t.values["b"]) for t in tuner.oracle.trials.values()]
    assert len(combos) == 20 == len(set(combos))
    assert [t.number for t in postgres_trials(postgres_url, name)] == list(range(20))


def test_postgres_stopped_mid_search_then_resumed_t13_t17(tmp_path, postgres_url, pg_ctl):
    password = resolve_storage(postgres_url, None).url.split(":")[2].split("@")[0]
    name = f"t13_{uuid.uuid4().hex[:8]}"
    config = _config(tmp_path, postgres_url, name, max_trials=4, storage_retry_seconds=3)
    env = {"RNNKIT_TEST_EPOCH_SLEEP": "0"}
    gate, log = tmp_path / "gate", tmp_path / "run1.txt"
    proc = start_script(config, log, **env, **held_env(gate, 2))
    try:
        wait_until_held(proc, gate, log)  # one trial done, the second running
        done_before = {
            t.number: t.value
            for t in postgres_trials(postgres_url, name)
            if t.state == TrialState.COMPLETE
        }
        assert len(done_before) == 1
        pg_ctl("stop", "-m", "fast", "-w")
        try:
            (gate / "release").touch()  # the trial ends with the server down
            assert proc.wait(timeout=PATIENCE) != 0
        finally:
            pg_ctl("start", "-w")
    finally:
        kill_still_running(proc)
    output = log.read_text()
    assert "StorageError" in output and "rnnkit:***@127.0.0.1" in output
    assert password not in output

    assert run_script(config, tmp_path / "run2.txt", **env) == 0
    trials = postgres_trials(postgres_url, name)
    logical = logical_trials(trials)
    assert len(logical) == 4
    assert all(group[-1].state == TrialState.COMPLETE for group in logical.values())
    for number, value in done_before.items():
        assert trials[number].value == value
    assert password not in (tmp_path / "run2.txt").read_text()
    for root, _, files in os.walk(tmp_path):
        for file in files:
            assert password.encode() not in Path(root, file).read_bytes()


def test_password_never_in_repr_or_errors_t17(tmp_path, postgres_url):
    password = resolve_storage(postgres_url, None).url.split(":")[2].split("@")[0]
    tuner = kt.RandomSearch(
        f.build_model,
        objective="val_loss",
        storage=postgres_url,
        directory=tmp_path,
        project_name=f"t17_{uuid.uuid4().hex[:8]}",
    )
    assert password not in repr(tuner) and "***" in repr(tuner)
    wrong = postgres_url.replace(password, password + "x")
    with pytest.raises(StorageError) as info:
        kt.RandomSearch(
            f.build_model,
            objective="val_loss",
            storage=wrong,
            directory=tmp_path,
            project_name="other",
            storage_retry_seconds=0.5,
        )
    text = "".join(traceback.format_exception(info.value))
    assert password not in text and "password authentication failed" in text
