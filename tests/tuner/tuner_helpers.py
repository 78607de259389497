"""Helpers for the process-level tuner tests (importable by test modules)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import rnnkit.tuner

#: How long a test waits for a process to reach a state or to finish. Generous: only
#: a broken test waits that long, and on a loaded 2-core machine starting one Python
#: process that imports torch took up to a minute.
PATIENCE = 300.0
HERE = Path(__file__).resolve().parent
SRC = Path(rnnkit.tuner.__file__).resolve().parents[2]


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), str(HERE), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def start_script(config: dict, log: Path, **env: str) -> subprocess.Popen:
    """Run tests/tuner/tuner_script.py with ``config`` in a new process."""
    with open(log, "ab") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, str(HERE / "tuner_script.py"), json.dumps(config)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=subprocess_env(**env),
        )


def run_script(config: dict, log: Path, timeout: float = PATIENCE, **env: str) -> int:
    proc = start_script(config, log, **env)
    try:
        return proc.wait(timeout=timeout)
    finally:
        kill_still_running(proc)


def kill_still_running(*procs: subprocess.Popen | None) -> None:
    """Kill and reap each of ``procs`` that is still running (``None`` entries skipped)."""
    for proc in procs:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


def logical_trials(trials) -> dict:
    """Optuna trials grouped by rnnkit trial id, each group in attempt order."""
    groups: dict = {}
    for t in sorted(trials, key=lambda t: t.number):
        groups.setdefault(t.user_attrs["trial_id"], []).append(t)
    return groups


def held_env(gate: Path, at: int) -> dict[str, str]:
    """Environment that holds a tuner_script process in its ``at``-th trial until
    ``gate / "release"`` exists (``tuner_fakes.hold_if_asked``)."""
    return {"RNNKIT_TEST_GATE": str(gate), "RNNKIT_TEST_HOLD_AT": str(at)}


def wait_until_held(proc: subprocess.Popen, gate: Path, log: Path) -> None:
    """Wait until ``proc`` is inside its held trial; fail with its log if it exits first."""

    def held() -> bool:
        assert proc.poll() is None, f"exited with {proc.returncode}:\n{log.read_text()}"
        return (gate / f"held-{proc.pid}").exists()

    wait_for(held, timeout=PATIENCE)


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def study_trials(project_dir: Path, name: str):
    """The Optuna trials of a project's SQLite study (read-only use)."""
    import optuna

    storage = optuna.storages.RDBStorage(f"sqlite:///{project_dir / 'study.db'}")
    try:
        return optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=True)
    finally:
        storage.engine.dispose()


def postgres_trials(url: str, name: str):
    """The Optuna trials of study ``name`` on the PostgreSQL server ``url`` (none: [])."""
    import optuna

    from rnnkit.tuner._storage import resolve_storage

    storage = optuna.storages.RDBStorage(resolve_storage(url, None).url)
    try:
        return optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=True)
    except KeyError:
        return []
    finally:
        storage.engine.dispose()
