"""T8 (RELIABILITY.md): SIGKILL while a checkpoint is saved; a full disk (RLIMIT_FSIZE).

A forked child saves checkpoints of a real rnnkit model (weights and Adam state) in a
loop, every version filled with its own number, and is killed at a random moment, 20
times, each time after it reported a completed save. Each time the folder must load a
complete saved version, bit for bit, never an older one than the last completed save.
A child whose file size limit is below a checkpoint's size must fail with a clear
error while the previous checkpoint survives.
"""

from __future__ import annotations

import os
import random
import resource
import signal
import sys
import time

import numpy as np
import pytest
import torch

from rnnkit import Sequential
from rnnkit.errors import CheckpointError
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.tuner._checkpoint import load_checkpoint
from rnnkit.tuner._checkpoint import save_checkpoint

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs fork")


def _model() -> Sequential:
    model = Sequential([LSTM(32, input_shape=(5, 3)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = np.zeros((4, 5, 3), dtype="float32")
    model.fit(x, np.zeros((4, 1), dtype="float32"), epochs=1, verbose=0)  # Adam has state
    return model


def _fill(model: Sequential, version: int) -> None:
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(float(version))


def _loaded_version(folder) -> int:
    """Load the folder's checkpoint; check it is one whole version and return it."""
    fresh = _model()
    entry = load_checkpoint(folder, fresh)
    values = {float(v) for w in fresh.get_weights() for v in np.unique(w)}
    assert values == {float(entry["epoch"])}, "weights mix versions"
    assert entry["optimizer_loaded"]
    return int(entry["epoch"])


def _fork(body) -> int:
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 1
        try:
            body()
            code = 0
        finally:
            os._exit(code)
    return pid


def test_sigkill_while_saving_always_leaves_a_whole_checkpoint_t8(tmp_path):
    torch.set_num_threads(1)
    model = _model()
    _fill(model, 0)
    save_checkpoint(tmp_path, model, epoch=0, value=0.0)
    rng = random.Random(8)
    last = 0
    for _ in range(20):
        start = last + 1
        read, write = os.pipe()

        def save_forever(first=start, read=read, write=write):
            os.close(read)
            version = first
            while True:
                _fill(model, version)
                save_checkpoint(tmp_path, model, epoch=version, value=float(version))
                if version == first:  # tell the parent one save is complete
                    os.write(write, b"s")
                    os.close(write)
                version += 1

        pid = _fork(save_forever)
        os.close(write)
        saved = os.read(read, 1)  # blocks until the first save is done (b"" if it died)
        os.close(read)
        time.sleep(rng.uniform(0.0, 0.15))  # then kill it at a random point of later saves
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        assert saved == b"s", "the child died before its first save"
        version = _loaded_version(tmp_path)
        assert version >= start  # the completed save is never lost
        last = version
    assert last >= 20


def test_full_disk_is_a_clear_error_and_keeps_the_previous_checkpoint_t8(tmp_path):
    torch.set_num_threads(1)
    model = _model()
    _fill(model, 1)
    save_checkpoint(tmp_path, model, epoch=1, value=1.0)
    read, write = os.pipe()

    def save_with_small_limit():
        os.close(read)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        _fill(model, 2)
        try:
            save_checkpoint(tmp_path, model, epoch=2, value=2.0)
            message = "saved"
        except Exception as exc:  # reported to the parent
            message = f"{type(exc).__name__}: {exc}"
        os.write(write, message.encode())

    pid = _fork(save_with_small_limit)
    os.close(write)
    message = os.read(read, 4096).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert message.startswith(CheckpointError.__name__), message
    assert "no space" in message.lower() or "too large" in message.lower(), message
    assert str(tmp_path) in message
    assert _loaded_version(tmp_path) == 1
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
