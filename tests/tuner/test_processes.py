"""Process-level reliability tests: SIGKILL, SIGSTOP and parallel workers (T1, T3, T15, T16).

None depends on timing: a victim process is killed or stopped while it holds a trial
that waits for the test (``tuner_fakes.hold_if_asked``), and parallel workers wait for
each other (``tuner_fakes.BuildTogether``), so each step happens at a state the test
observed, however loaded the machine is.
"""

import logging
import os
import signal
import sqlite3
import time
from collections import Counter

import pytest
import tuner_fakes as f
from optuna.trial import TrialState
from tuner_helpers import PATIENCE
from tuner_helpers import held_env
from tuner_helpers import kill_still_running
from tuner_helpers import logical_trials
from tuner_helpers import run_script
from tuner_helpers import start_script
from tuner_helpers import study_trials
from tuner_helpers import wait_for
from tuner_helpers import wait_until_held

import rnnkit.tuner as kt


def _config(
    tmp_path, name, *, max_trials, seed=7, build="build_slow", tuner="RandomSearch", **extra
):
    kwargs = {
        "objective": "val_loss",
        "max_trials": max_trials,
        "seed": seed,
        "directory": str(tmp_path),
        "project_name": name,
        "heartbeat_interval": 1,
        "grace_period": 3,
        **extra,
    }
    if tuner == "GridSearch":
        kwargs.pop("max_trials")
    return {"tuner": tuner, "build": build, "kwargs": kwargs, "search": {"epochs": 3}}


def _states(project_dir, name):
    if not (project_dir / "study.db").exists():
        return Counter()
    try:
        return Counter(t.state for t in study_trials(project_dir, name))
    except Exception:  # the study is being created
        return Counter()


def test_sigkill_mid_search_then_rerun_loses_and_repeats_nothing_t1(tmp_path):
    markers, gate = tmp_path / "markers", tmp_path / "gate"
    env = {"RNNKIT_TEST_EPOCH_SLEEP": "0", "RNNKIT_TEST_MARKERS": str(markers)}
    config = _config(tmp_path, "t1", max_trials=5)
    log = tmp_path / "log1.txt"
    proc = start_script(config, log, **env, **held_env(gate, 3))
    try:
        wait_until_held(proc, gate, log)  # 2 trials done, the 3rd running
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    project = tmp_path / "t1"
    before = {t.number: t for t in study_trials(project, "t1") if t.state == TrialState.COMPLETE}
    killed = [t for t in study_trials(project, "t1") if t.state == TrialState.RUNNING]
    assert len(before) == 2 and len(killed) == 1

    assert run_script(config, tmp_path / "log2.txt", **env) == 0
    trials = study_trials(project, "t1")
    assert [t.number for t in trials] == list(range(len(trials)))  # no number repeats
    logical = logical_trials(trials)
    assert len(logical) == 5  # exactly max_trials logical trials
    assert all(attempts[-1].state == TrialState.COMPLETE for attempts in logical.values())
    for number, old in before.items():  # finished trials keep their scores, never re-run
        assert trials[number].value == old.value
        assert len(logical[old.user_attrs["trial_id"]]) == 1
    retried = logical[killed[0].user_attrs["trial_id"]]
    assert [t.state for t in retried] == [TrialState.FAIL, TrialState.COMPLETE]  # retried once
    assert retried[1].params == killed[0].params
    assert len(list(markers.iterdir())) == 6  # 5 trials started once + 1 retry


def test_seeded_random_search_resumes_to_identical_values_t16(tmp_path, xy, monkeypatch):
    monkeypatch.setenv("RNNKIT_TEST_EPOCH_SLEEP", "0.0")
    straight = kt.RandomSearch(
        f.build_slow,
        objective="val_loss",
        max_trials=10,
        seed=11,
        directory=tmp_path,
        project_name="straight",
    )
    straight.search(*xy, epochs=3)
    config = _config(tmp_path, "resumed", max_trials=10, seed=11)
    gate, log = tmp_path / "gate", tmp_path / "log1.txt"
    env = {"RNNKIT_TEST_EPOCH_SLEEP": "0"}
    proc = start_script(config, log, **env, **held_env(gate, 5))
    try:
        wait_until_held(proc, gate, log)  # killed after 4 trials, in the 5th
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert _states(tmp_path / "resumed", "resumed")[TrialState.COMPLETE] == 4
    assert run_script(config, tmp_path / "log2.txt", **env) == 0
    resumed = kt.RandomSearch(
        f.build_slow,
        objective="val_loss",
        max_trials=10,
        seed=11,
        directory=tmp_path,
        project_name="resumed",
    )
    first = {t.trial_id: t.values for t in straight.oracle.trials.values()}
    second = {t.trial_id: t.values for t in resumed.oracle.trials.values()}
    assert first == second and len(first) == 10


def test_four_workers_fifty_trials_unique_contiguous_t3(tmp_path, xy, caplog):
    # millisecond trials; each worker's first trial waits until all 4 have started one,
    # so every worker runs trials (without it the first worker up may run all 50)
    caplog.set_level(logging.WARNING)
    tuner = kt.RandomSearch(
        f.BuildTogether(tmp_path / "together", parties=4),
        objective="val_loss",
        max_trials=50,
        seed=3,
        directory=tmp_path,
        project_name="w4",
    )
    tuner.search(*xy, epochs=1, workers=4)
    trials = study_trials(tmp_path / "w4", "w4")
    assert [t.number for t in trials] == list(range(50))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert sorted(t.user_attrs["trial_id"] for t in trials) == [f"{i:02d}" for i in range(50)]
    workers = {t.user_attrs["holder"]["pid"] for t in trials}
    assert len(workers) == 4 and os.getpid() not in workers
    assert len({t.user_attrs["holder"]["worker"] for t in trials}) == 4
    assert "database is locked" not in caplog.text


def test_grid_search_with_two_workers_visits_each_point_once_t3(tmp_path, xy):
    tuner = kt.GridSearch(
        f.build_grid, objective="val_loss", seed=1, directory=tmp_path, project_name="g2"
    )
    tuner.search(*xy, epochs=1, workers=2)
    combos = [(t.values["a"], t.values["b"]) for t in tuner.oracle.trials.values()]
    assert len(combos) == 20 == len(set(combos))
    assert len(tuner.study.trials) == 20


def _heartbeat(project_dir):
    """The running trial's last heartbeat as Optuna stored it (None before the first)."""
    with sqlite3.connect(f"file:{project_dir / 'study.db'}?mode=ro", uri=True) as db:
        row = db.execute(
            "SELECT h.heartbeat FROM trial_heartbeats h JOIN trials t USING (trial_id)"
            " WHERE t.state = 'RUNNING'"
        ).fetchone()
    return None if row is None else row[0]


def test_stopped_holder_is_reported_then_taken_over_after_grace_t15(tmp_path):
    gate = tmp_path / "gate"
    config = _config(tmp_path, "t15", max_trials=2, grace_period=4)
    env = {"RNNKIT_TEST_EPOCH_SLEEP": "0"}
    holder_log, other_log = tmp_path / "holder.txt", tmp_path / "other.txt"
    holder = start_script(config, holder_log, **env, **held_env(gate, 1))
    other = None
    try:
        wait_until_held(holder, gate, holder_log)
        # a second process runs the other trial, then waits for the held one and says so
        other = start_script(config, other_log, **env)
        wait_for(lambda: "(running for" in other_log.read_text(), timeout=PATIENCE)
        # stop the holder just after a heartbeat the test saw land (written after
        # `unchanged_at`): the trial may be taken over only `grace_period` s after it
        unchanged_at, seen = time.time(), _heartbeat(tmp_path / "t15")
        deadline = unchanged_at + 60
        while True:
            looking_at = time.time()
            if _heartbeat(tmp_path / "t15") != seen:
                break
            unchanged_at = looking_at
            assert looking_at < deadline, "the holder's heartbeat stopped by itself"
            time.sleep(0.02)
        os.kill(holder.pid, signal.SIGSTOP)  # alive but silent: a hung or partitioned worker
        assert other.wait(timeout=PATIENCE) == 0, other_log.read_text()
    finally:
        kill_still_running(holder, other)
    text = other_log.read_text()
    assert f":{holder.pid} (running for" in text  # the holder is reported meanwhile
    assert "was held by" in text and "heartbeat lost for more than 4 s" in text
    logical = logical_trials(study_trials(tmp_path / "t15", "t15"))
    assert len(logical) == 2
    assert all(attempts[-1].state == TrialState.COMPLETE for attempts in logical.values())
    taken = next(a for attempts in logical.values() for a in attempts if a.state == TrialState.FAIL)
    assert taken.user_attrs["holder"]["pid"] == holder.pid
    assert taken.datetime_complete.timestamp() - unchanged_at > 4  # not before the grace period


@pytest.mark.slow
def test_workers_get_their_share_of_torch_threads(tmp_path, xy):
    from rnnkit.tuner._workers import available_cores
    from rnnkit.tuner._workers import threads_per_worker

    tuner = kt.RandomSearch(
        f.build_threads,
        objective="val_loss",
        max_trials=2,
        seed=1,
        directory=tmp_path,
        project_name="threads",
    )
    tuner.search(*xy, epochs=1, workers=2)
    expected = threads_per_worker(2, cores=available_cores())
    assert {t.metrics["torch_threads"] for t in tuner.oracle.trials.values()} == {expected}
    assert threads_per_worker(4, cores=2) == 1 and threads_per_worker(2, cores=16) == 8


def test_workers_share_the_cores(tmp_path, xy):
    from rnnkit.tuner._workers import available_cores
    from rnnkit.tuner._workers import threads_per_worker

    tuner = kt.RandomSearch(
        f.build_env_threads,
        objective="val_loss",
        max_trials=2,
        seed=1,
        directory=tmp_path,
        project_name="env",
    )
    tuner.search(*xy, epochs=1, workers=2)
    expected = threads_per_worker(2, cores=available_cores())
    assert {t.metrics["omp_threads"] for t in tuner.oracle.trials.values()} == {expected}
