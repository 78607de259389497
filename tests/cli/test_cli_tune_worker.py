"""`rnnkit tune-worker`: more machines join a `rnnkit tune` search through its storage."""

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest
from cli_helpers import TINY

import rnnkit.tuner as kt
from rnnkit.cli.app import app
from rnnkit.workflow.train import RUN_ATTR

#: How long the test waits for a process: only a broken test waits that long.
PATIENCE = 300
HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"


def _trials_run_by_workers(url: str) -> int:
    """Trials of the search that a `rnnkit tune-worker` process has finished."""
    try:
        trials = optuna.load_study(study_name="rnnkit_rnn", storage=url).get_trials(deepcopy=False)
    except Exception:  # the tables are being written
        return 0
    return sum(
        t.state == optuna.trial.TrialState.COMPLETE
        and str(t.user_attrs.get("holder", {}).get("worker", "")).startswith("tune-worker-")
        for t in trials
    )


def _release_when(gate: Path, predicate, stop: threading.Event) -> None:
    """Create ``gate / "release"`` once ``predicate()`` is true (polled until ``stop``)."""
    while not stop.is_set():
        if predicate():
            (gate / "release").touch()
            return
        stop.wait(0.05)


def test_a_worker_runs_trials_of_the_search_tune_started(runner, plain_csv, tmp_path):
    url = f"sqlite:///{tmp_path / 'shared' / 'study.db'}"
    (tmp_path / "shared").mkdir()
    gate = tmp_path / "gate"
    # machine A: `rnnkit tune` in its own process, holding its first trial until the
    # test releases it, so machine B always joins a search that is still running
    log = open(tmp_path / "tune.log", "wb")  # noqa: SIM115 - closed below
    tune = subprocess.Popen(
        [
            *(sys.executable, str(HERE / "gated_cli.py"), str(gate), "tune", str(plain_csv)),
            *("-t", "demand", "--model", "rnn", *TINY, "--epochs", "3", "--max-trials", "4"),
            *("--storage", url, "--out", str(tmp_path / "a"), "-q"),
        ],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(HERE)])},
    )
    stop = threading.Event()
    try:
        deadline = time.monotonic() + PATIENCE
        while not (gate / f"held-{tune.pid}").exists():
            assert tune.poll() is None, (tmp_path / "tune.log").read_text()
            assert time.monotonic() < deadline, "tune's first trial never started"
            time.sleep(0.05)
        record = _record_of(url)
        # machine B (this process), where the data lives elsewhere; A's trial goes on
        # once B has finished one of its own
        elsewhere = tmp_path / "b" / "copy.csv"
        elsewhere.parent.mkdir()
        shutil.copy(plain_csv, elsewhere)
        releaser = threading.Thread(
            target=_release_when, args=(gate, lambda: _trials_run_by_workers(url) >= 1, stop)
        )
        releaser.start()
        result = runner.invoke(
            app,
            [
                *("tune-worker", "--storage", url, "--data", str(elsewhere)),
                *("--out", str(tmp_path / "b"), "-q"),
            ],
        )
        assert tune.wait(timeout=PATIENCE) == 0, (tmp_path / "tune.log").read_text()
    finally:
        stop.set()
        if tune.poll() is None:
            tune.kill()
            tune.wait()
        log.close()
    releaser.join()
    assert result.exit_code == 0, result.output
    assert record["model"] == "rnn" and record["data"] == str(plain_csv.resolve())
    assert record["config"]["max_trials"] == 4 and "storage" not in record["config"]
    line = result.stdout.strip()
    assert "\n" not in line and "of study 'rnnkit_rnn'" in line
    ran = int(line.split("Ran ", 1)[1].split(" ", 1)[0])
    assert 1 <= ran <= 3 and "the search has 4 of 4 trials finished" in line
    # the trials of the one study, as machine A's report lists them
    trials = pd.read_csv(tmp_path / "a" / "tuning_rnn.csv")
    assert len(trials) == 4 and set(trials["status"]) == {"COMPLETED"}
    by_worker = trials["worker"].astype(str).str.startswith("tune-worker-")
    assert by_worker.sum() == ran and (~by_worker).sum() == 4 - ran
    assert list(kt.list_studies(url)) == ["rnnkit_rnn"]


def _record_of(url: str) -> dict:
    studies = kt.list_studies(url)
    return next(attrs[RUN_ATTR] for attrs in studies.values() if RUN_ATTR in attrs)


def _fake_search(url: str, name: str, data: str, **record) -> None:
    study = optuna.create_study(storage=url, study_name=name)
    record = {"format": 1, "model": "rnn", "data": data, "config": {}, **record}
    study.set_user_attr(RUN_ATTR, record)


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'studies.db'}"


def _error(runner, *args):
    result = runner.invoke(app, ["tune-worker", *args])
    assert result.exit_code == 1, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    return result.stderr


def test_worker_errors_are_one_line(runner, url, tmp_path, plain_csv):
    assert "There is no study file" in _error(runner, "--storage", url)
    optuna.create_study(storage=url, study_name="by_a_script")
    assert "no search started by `rnnkit tune`" in _error(runner, "--storage", url)
    assert "was not started by `rnnkit tune`" in _error(
        runner, "--storage", url, "--study", "by_a_script"
    )
    _fake_search(url, "rnnkit_lstm", str(tmp_path / "gone.csv"))
    assert "does not exist on this machine" in _error(runner, "--storage", url)
    _fake_search(url, "rnnkit_gru", str(plain_csv))
    message = _error(runner, "--storage", url)
    assert "2 searches started by `rnnkit tune`: rnnkit_lstm, rnnkit_gru" in message
    assert "--study NAME" in message
    assert "no study named 'nope'" in _error(runner, "--storage", url, "--study", "nope")
    missing = _error(runner, "--storage", url, "--study", "rnnkit_gru", "--data", "no.csv")
    assert "no.csv (given with --data) does not exist" in missing


def test_worker_needs_a_storage_and_its_help_has_an_example(runner):
    result = runner.invoke(app, ["tune-worker"])
    assert result.exit_code == 2 and "--storage" in result.output
    help_text = runner.invoke(app, ["tune-worker", "--help"]).stdout
    assert "Example:" in help_text and "rnnkit tune-worker --storage" in help_text


def test_worker_refuses_data_that_differs_from_the_search(runner, url, plain_csv):
    config = {"target": "demand", "window": 12}
    _fake_search(url, "rnnkit_rnn", str(plain_csv), config=config, fingerprint={"train": 999})
    message = _error(runner, "--storage", url)
    assert "differs from the search's: train is" in message
    assert "but 999 in study 'rnnkit_rnn'" in message
