"""A fake model that follows the tuner's model contract (docs/contracts.md).

Its ``val_loss`` is a deterministic function of the hyperparameters and of how many
epochs it has trained (``progress``, stored in its weights), so tests can check
which trial is best and that promoted trials continue from their parent. Build
functions live at module level so worker processes can import them.

Process-level tests never wait for "long enough": a trial can be *held* until the
test releases it (:func:`hold_if_asked`), and the workers of one search can wait for
each other (:class:`BuildTogether`), so a kill, a stop or a second worker always
lands at the state the test observed, however loaded the machine is.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from safetensors.numpy import save_file

from rnnkit.callbacks.base import CallbackList
from rnnkit.callbacks.base import History

ACTIVATION_COST = {"tanh": 0.0, "relu": 0.1, "sigmoid": 0.2}
#: How long a held or waiting trial waits before it gives up (a test that never
#: releases it has failed already; this only bounds the damage).
WAIT_LIMIT = 300.0
#: Trials (``fit`` calls) this process has started, for RNNKIT_TEST_HOLD_AT.
_fits_started = 0


def wait_for_files(folder: Path, pattern: str, count: int, what: str) -> None:
    """Poll ``folder`` until ``count`` files match ``pattern`` (at most WAIT_LIMIT s)."""
    deadline = time.monotonic() + WAIT_LIMIT
    while len(list(folder.glob(pattern))) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: no {count} x {folder / pattern} in {WAIT_LIMIT:.0f} s")
        time.sleep(0.02)


def hold_if_asked() -> None:
    """Hold this process's N-th trial when ``RNNKIT_TEST_HOLD_AT=N``.

    The held trial writes ``held-<pid>`` into the folder ``RNNKIT_TEST_GATE`` and
    waits until a file ``release`` appears there. A test that sees the marker knows
    this process is inside that trial (RUNNING in the study, heartbeat on) and stays
    there until it kills, stops or releases it.
    """
    global _fits_started
    _fits_started += 1
    gate, at = os.environ.get("RNNKIT_TEST_GATE"), os.environ.get("RNNKIT_TEST_HOLD_AT")
    if not gate or not at or _fits_started != int(at):
        return
    folder = Path(gate)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"held-{os.getpid()}").write_text(str(_fits_started))
    wait_for_files(folder, "release", 1, f"trial {_fits_started} of process {os.getpid()}")


class FakeOptimizer:
    """Counts steps; its state round-trips through state_dict / load_state_dict."""

    def __init__(self, learning_rate: float = 1e-3) -> None:
        self.learning_rate = learning_rate
        self.iterations = 0
        self.momentum = np.zeros(3, dtype=np.float32)

    def state_dict(self) -> dict:
        return {
            "iterations": self.iterations,
            "momentum": self.momentum.copy(),
            "param_groups": [{"lr": self.learning_rate}],
        }

    def load_state_dict(self, state: dict) -> None:
        self.iterations = int(state["iterations"])
        self.momentum = np.asarray(state["momentum"], dtype=np.float32)


class FakeModel:
    """fit() -> History with loss/val_loss; save_weights/load_weights via safetensors."""

    def __init__(
        self,
        quality: float,
        *,
        epoch_sleep: float = 0.0,
        bad_epoch: int | None = None,
        bad_value: float = math.nan,
        marker: str | None = None,
    ) -> None:
        self.quality = quality
        self.epoch_sleep = epoch_sleep
        self.bad_epoch, self.bad_value = bad_epoch, bad_value
        self.marker = marker
        #: (folder, parties): the first trial of each process waits for ``parties`` processes
        self.together: tuple[str, int] | None = None
        self.progress = 0.0
        self.optimizer = FakeOptimizer()
        self.stop_training = False
        self.history = None
        self.extra_logs: dict = {}

    def count_params(self) -> int:
        return 10

    def fit(
        self,
        x=None,
        y=None,
        batch_size=32,
        epochs=1,
        verbose=0,
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        initial_epoch=0,
        **kwargs,
    ):
        history = History()
        cbs = CallbackList(
            [history, *(callbacks or [])], model=self, epochs=epochs, steps=2, verbose=verbose
        )
        self.stop_training = False
        start_iterations, start_progress = self.optimizer.iterations, self.progress
        if self.marker:
            Path(self.marker).mkdir(parents=True, exist_ok=True)
            (Path(self.marker) / f"start-{os.getpid()}-{time.time_ns()}").write_text(
                json.dumps({"quality": self.quality})
            )
        hold_if_asked()
        if self.together:
            folder, parties = Path(self.together[0]), self.together[1]
            (folder / f"worker-{os.getpid()}").touch()
            wait_for_files(folder, "worker-*", parties, f"{parties} workers")
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch)
            bad = self.bad_epoch is not None and epoch >= self.bad_epoch
            for batch in range(2):
                self.optimizer.iterations += 1
                self.optimizer.momentum += 1.0
                loss = self.bad_value if bad else self.quality + 1.0 / (1.0 + self.progress)
                cbs.on_train_batch_end(batch, {"loss": loss})
            self.progress += 1.0
            if self.epoch_sleep:
                time.sleep(self.epoch_sleep)
            value = self.bad_value if bad else self.quality + 1.0 / (1.0 + self.progress)
            logs = {
                "loss": value,
                "val_loss": value,
                "start_iterations": float(start_iterations),
                "start_progress": float(start_progress),
                **self.extra_logs,
            }
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end()
        return history

    def save_weights(self, path: str) -> None:
        save_file({"progress": np.array([self.progress]), "q": np.array([self.quality])}, path)

    def load_weights(self, path: str) -> None:
        self.progress = float(load_file(path)["progress"][0])


def quality(units: int, activation: str, dropout: float) -> float:
    return abs(units - 40) / 40 + dropout + ACTIVATION_COST[activation]


def build_model(hp):
    units = hp.Int("units", 8, 64, step=8)
    activation = hp.Choice("activation", ["tanh", "relu", "sigmoid"])
    dropout = hp.Float("dropout", 0.0, 0.5, step=0.1)
    return FakeModel(quality(units, activation, dropout))


def build_slow(hp):
    model = build_model(hp)
    model.epoch_sleep = float(os.environ.get("RNNKIT_TEST_EPOCH_SLEEP", "0.3"))
    model.marker = os.environ.get("RNNKIT_TEST_MARKERS")
    return model


def build_threads(hp):
    """Reports torch's intra-op thread count in the epoch logs."""
    import torch

    model = build_model(hp)
    model.extra_logs = {"torch_threads": float(torch.get_num_threads())}
    return model


def build_env_threads(hp):
    """Reports the thread count the worker was given (without importing torch)."""
    model = build_model(hp)
    model.extra_logs = {"omp_threads": float(os.environ.get("OMP_NUM_THREADS", "-1"))}
    return model


def build_grid(hp):
    """5 x 4 = 20 configurations."""
    a = hp.Int("a", 0, 4)
    b = hp.Choice("b", ["w", "x", "y", "z"])
    model = FakeModel(a + "wxyz".index(b) / 10)
    model.marker = os.environ.get("RNNKIT_TEST_MARKERS")
    return model


def build_big(hp):
    """A large space (for many fast trials)."""
    units = hp.Int("units", 1, 10_000)
    lr = hp.Float("lr", 1e-4, 1e-1, sampling="log")
    model = FakeModel(abs(units - 5000) / 5000 + lr)
    model.epoch_sleep = float(os.environ.get("RNNKIT_TEST_EPOCH_SLEEP", "0"))
    return model


class BuildTogether:
    """``build_big`` whose trials wait until ``parties`` processes have each started one.

    A picklable hypermodel (worker processes may be forked or spawned): with it,
    every one of ``search(workers=parties)``'s workers runs at least one trial, since
    none can finish a trial before all have started one.
    """

    def __init__(self, folder: Path, parties: int) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        self.folder, self.parties = str(folder), parties

    def __call__(self, hp):
        model = build_big(hp)
        model.together = (self.folder, self.parties)
        return model


def build_nonfinite(hp):
    """units=8 -> NaN loss at epoch 1; units=16 -> +inf at epoch 1."""
    units = hp.Choice("units", [8, 16, 32, 64])
    model = FakeModel(abs(units - 40) / 40)
    if units == 8:
        model.bad_epoch, model.bad_value = 1, math.nan
    elif units == 16:
        model.bad_epoch, model.bad_value = 1, math.inf
    return model


def data(n: int = 16):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4, 2)).astype("float32"), rng.normal(size=(n, 1)).astype("float32")
