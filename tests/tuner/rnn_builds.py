"""Small rnnkit networks for the tuner's seeding and vectorisation tests.

Module-level build functions and data, so worker processes can import them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from tuner_fakes import wait_for_files

from rnnkit import Sequential
from rnnkit.callbacks import Callback
from rnnkit.layers import GRU
from rnnkit.layers import LSTM
from rnnkit.layers import Dense


def data() -> tuple[np.ndarray, np.ndarray]:
    """48 windows of 6 steps, 2 features; a learnable target."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 6, 2)).astype("float32")
    y = (x[:, -1, :1] + 0.1 * rng.normal(size=(48, 1))).astype("float32")
    return x, y


def build_gru(hp) -> Sequential:
    """A GRU whose units, dropout and learning rate are tuned: every trial stacks."""
    from rnnkit.optimizers import Adam

    model = Sequential(
        [
            GRU(
                hp.Int("units", 2, 12),
                dropout=hp.Float("dropout", 0.0, 0.3),
                recurrent_dropout=hp.Float("recurrent_dropout", 0.0, 0.3),
                input_shape=(6, 2),
            ),
            Dense(1),
        ]
    )
    model.compile(optimizer=Adam(hp.Float("lr", 1e-3, 3e-2, sampling="log")), loss="mse")
    return model


def build_mixed(hp) -> Sequential:
    """GRU or LSTM: trials of the other cell cannot join a group."""
    layer = {"gru": GRU, "lstm": LSTM}[hp.Choice("cell", ["gru", "lstm"])]
    model = Sequential([layer(hp.Int("units", 2, 8), input_shape=(6, 2)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def build_unshaped(hp) -> Sequential:
    """No input shape: the model is built (and its weights drawn) only for the data."""
    model = Sequential([GRU(hp.Int("units", 2, 8), dropout=0.2), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


class InterruptOnce(Callback):
    """A callback that raises KeyboardInterrupt at the end of epoch 1, once per ``flag``.

    It declares ``stackable`` (it only reads the epoch), so it runs inside a group.
    """

    stackable = True

    def __init__(self, flag) -> None:
        super().__init__()
        self.flag = flag

    def on_epoch_end(self, epoch, logs=None) -> None:
        """Interrupt at the end of epoch 1 the first time."""
        if epoch == 1 and not self.flag.exists():
            self.flag.write_text("interrupted")
            raise KeyboardInterrupt


class HoldOnce(Callback):
    """Holds this process at its first epoch end while ``RNNKIT_TEST_GATE`` is set.

    It writes ``held-<pid>`` into the gate folder and waits for a file ``release``
    there, so a test can kill the process while a trial (or a vectorised group) is
    running, never after a guessed delay. ``stackable``: it runs inside a group.
    """

    stackable = True
    _held = False

    def on_epoch_end(self, epoch, logs=None) -> None:
        """Hold the first time, if asked."""
        gate = os.environ.get("RNNKIT_TEST_GATE")
        if not gate or HoldOnce._held:
            return
        HoldOnce._held = True
        folder = Path(gate)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"held-{os.getpid()}").write_text("held")
        wait_for_files(folder, "release", 1, f"HoldOnce in process {os.getpid()}")
