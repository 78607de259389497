"""Process-level reliability tests: SIGKILL, SIGSTOP and parallel workers (T1, T3, T15, T16)."""

import logging
import os
import signal
import time
from collections import Counter

import pytest
import tuner_fakes as f
from optuna.trial import TrialState
from tuner_helpers import run_script
from tuner_helpers import start_script
from tuner_helpers import study_trials
from tuner_helpers import wait_for

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


def _logical(trials):
    groups = {}
    for t in sorted(trials, key=lambda t: t.number):
        groups.setdefault(t.user_attrs["trial_id"], []).append(t)
    return groups


def test_sigkill_mid_search_then_rerun_loses_and_repeats_nothing_t1(tmp_path):
    markers = tmp_path / "markers"
    env = {"RNNKIT_TEST_EPOCH_SLEEP": "0.2", "RNNKIT_TEST_MARKERS": str(markers)}
    config = _config(tmp_path, "t1", max_trials=5)
    proc = start_script(config, tmp_path / "log1.txt", **env)
    project = tmp_path / "t1"
    wait_for(
        lambda: (
            (s := _states(project, "t1"))[TrialState.COMPLETE] >= 2 and s[TrialState.RUNNING] == 1
        ),
        timeout=40,
    )
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {t.number: t for t in study_trials(project, "t1") if t.state == TrialState.COMPLETE}
    killed = [t for t in study_trials(project, "t1") if t.state == TrialState.RUNNING]
    assert len(killed) == 1

    assert run_script(config, tmp_path / "log2.txt", timeout=60, **env) == 0
    trials = study_trials(project, "t1")
    assert [t.number for t in trials] == list(range(len(trials)))  # no number repeats
    logical = _logical(trials)
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
    env = {"RNNKIT_TEST_EPOCH_SLEEP": "0.1"}
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
    proc = start_script(config, tmp_path / "log1.txt", **env)
    wait_for(lambda: _states(tmp_path / "resumed", "resumed")[TrialState.COMPLETE] >= 4, timeout=40)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert run_script(config, tmp_path / "log2.txt", timeout=60, **env) == 0
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


def _many_workers(tmp_path, xy, caplog, trials):
    caplog.set_level(logging.WARNING)
    tuner = kt.RandomSearch(
        f.build_big,
        objective="val_loss",
        max_trials=trials,
        seed=3,
        directory=tmp_path,
        project_name="w4",
    )
    tuner.search(*xy, epochs=1, workers=4)
    return study_trials(tmp_path / "w4", "w4")


@pytest.mark.slow
def test_four_workers_fifty_trials_unique_contiguous_t3(tmp_path, xy, caplog):
    trials = _many_workers(tmp_path, xy, caplog, 50)
    assert [t.number for t in trials] == list(range(50))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert sorted(t.user_attrs["trial_id"] for t in trials) == [f"{i:02d}" for i in range(50)]
    assert "database is locked" not in caplog.text


def test_four_workers_unique_contiguous_numbers_t3(tmp_path, xy, caplog, monkeypatch):
    # Trials that take a moment, so that every worker has started before the queue is
    # empty (with instant trials the first worker up can finish all 16 alone).
    monkeypatch.setenv("RNNKIT_TEST_EPOCH_SLEEP", "1.0")
    trials = _many_workers(tmp_path, xy, caplog, 16)
    assert [t.number for t in trials] == list(range(16))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    ids = [t.user_attrs["trial_id"] for t in trials]
    assert sorted(ids) == [f"{i:02d}" for i in range(16)]
    workers = {t.user_attrs["holder"]["pid"] for t in trials}
    assert len(workers) >= 2 and os.getpid() not in workers
    assert "database is locked" not in caplog.text


def test_grid_search_with_two_workers_visits_each_point_once_t3(tmp_path, xy):
    tuner = kt.GridSearch(
        f.build_grid, objective="val_loss", seed=1, directory=tmp_path, project_name="g2"
    )
    tuner.search(*xy, epochs=1, workers=2)
    combos = [(t.values["a"], t.values["b"]) for t in tuner.oracle.trials.values()]
    assert len(combos) == 20 == len(set(combos))
    assert len(tuner.study.trials) == 20


def test_stopped_holder_is_reported_then_taken_over_after_grace_t15(
    tmp_path, xy, monkeypatch, caplog
):
    markers = tmp_path / "markers"
    env = {"RNNKIT_TEST_EPOCH_SLEEP": "1.0", "RNNKIT_TEST_MARKERS": str(markers)}
    config = _config(tmp_path, "t15", max_trials=2, grace_period=4)
    proc = start_script(config, tmp_path / "log.txt", **env)
    try:
        wait_for(lambda: markers.exists() and any(markers.iterdir()), timeout=40)
        time.sleep(0.3)
        os.kill(proc.pid, signal.SIGSTOP)  # alive but silent: a hung or partitioned worker
        stopped_at = time.time()
        caplog.set_level(logging.INFO, logger="rnnkit.tuner")
        monkeypatch.setenv("RNNKIT_TEST_EPOCH_SLEEP", "0.0")
        monkeypatch.delenv("RNNKIT_TEST_MARKERS", raising=False)
        tuner = kt.RandomSearch(f.build_slow, **config["kwargs"])
        tuner.search(*xy, epochs=3)
        took_over_after = time.time() - stopped_at
    finally:
        proc.kill()
        proc.wait()
    assert f":{proc.pid} (running for" in caplog.text  # the holder is reported meanwhile
    assert "was held by" in caplog.text and "heartbeat lost" in caplog.text
    assert took_over_after >= 3  # not before the grace period
    logical = _logical(study_trials(tmp_path / "t15", "t15"))
    assert len(logical) == 2
    assert all(attempts[-1].state == TrialState.COMPLETE for attempts in logical.values())


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
