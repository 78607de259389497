"""T14 (RELIABILITY.md): the disk fills up in the project folder mid-search, then resume.

A search of real rnnkit models finishes 2 trials; a forked child reopens it for 4 under
a 2 KB file size limit (every write that grows a file fails, as on a full disk). The
child must stop with a clear error naming the study file or the checkpoint folder.
The parent then resumes the search, which must complete all 4 trials, and the
checkpoints written before must still load.
"""

from __future__ import annotations

import os
import resource
import signal
import sys

import numpy as np
import pytest
import torch

import rnnkit.tuner as kt
from rnnkit import Sequential
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.tuner._checkpoint import load_checkpoint

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs fork")


def build(hp):
    model = Sequential([LSTM(hp.Int("units", 8, 32, step=8), input_shape=(6, 2)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _search(tmp_path, max_trials, xy):
    tuner = kt.RandomSearch(
        build, objective="val_loss", max_trials=max_trials, seed=0,
        directory=tmp_path, project_name="full", storage_retry_seconds=1,
    )  # fmt: skip
    tuner.search(*xy, epochs=1, validation_split=0.25, verbose=0)
    return tuner


def _in_child_with_small_files(body) -> str:
    """Run ``body`` in a forked child whose files may not grow past 2 KB; its outcome."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        message = "finished"
        try:
            os.close(read)
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG instead
            resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))
            body()
        except BaseException as exc:  # reported to the parent
            message = f"{type(exc).__name__}: {exc}"
        finally:
            os.write(write, message.encode()[:4000])
            os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 4096):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()


def test_full_disk_mid_search_is_a_clear_error_then_resume_completes_t14(tmp_path):
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6, 2)).astype("float32")
    xy = (x, x[:, -1, :1].copy())
    _search(tmp_path, 2, xy)
    project = tmp_path / "full"
    saved_before = sorted(project.glob("trial_*/checkpoint.json"))
    assert len(saved_before) == 2

    message = _in_child_with_small_files(lambda: _search(tmp_path, 4, xy))
    assert message.split(":")[0] in ("StorageError", "CheckpointError"), message
    assert str(project) in message, message
    assert "disk" in message.lower() or "too large" in message.lower(), message

    tuner = _search(tmp_path, 4, xy)
    completed = [t for t in tuner.oracle.trials.values() if t.status.name == "COMPLETED"]
    assert len(completed) == 4
    by_folder = {f"trial_{t.trial_id}": t for t in completed}
    for manifest in saved_before:
        trial = by_folder[manifest.parent.name]
        entry = load_checkpoint(manifest.parent, build(trial.hyperparameters))
        assert entry["epoch"] == 0
