"""A small real search whose trials can be held mid-training (for the resume tests).

With ``RNNKIT_TEST_HOLD_EPOCH=k`` the first trial that begins epoch ``k`` writes
``held-<pid>`` into ``RNNKIT_TEST_GATE`` and waits there to be killed: its resume
point of epoch ``k - 1`` is on disk when the tuner writes one after every epoch
(``rnnkit.tuner.resume.RESUME_COST_RATIO = 0``, as the tests set it), since it is
written last at the end of each epoch.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import tuner_fakes

import rnnkit.tuner as kt
from rnnkit.callbacks import Callback
from rnnkit.callbacks import EarlyStopping
from rnnkit.callbacks import ReduceLROnPlateau
from rnnkit.layers import Dense
from rnnkit.layers import Dropout
from rnnkit.layers import Input
from rnnkit.layers import SimpleRNN
from rnnkit.models import Sequential

EPOCHS = 6


class HoldAtEpoch(Callback):
    """Holds the process at the start of epoch ``RNNKIT_TEST_HOLD_EPOCH`` (once)."""

    def on_epoch_begin(self, epoch, logs=None):
        at, gate = os.environ.get("RNNKIT_TEST_HOLD_EPOCH"), os.environ.get("RNNKIT_TEST_GATE")
        if at is None or gate is None or epoch != int(at):
            return
        folder = Path(gate)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"held-{os.getpid()}").write_text(str(epoch))
        tuner_fakes.wait_for_files(folder, "release", 1, f"epoch {epoch} of {os.getpid()}")


def build(hp):
    model = Sequential(
        [
            Input((8, 1)),
            SimpleRNN(hp.Int("units", 4, 8, step=4), dropout=0.2),
            Dropout(hp.Choice("rate", [0.1, 0.3])),
            Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    return model


class CapturingSearch(kt.RandomSearch):
    """RandomSearch that keeps each trial's per-execution histories in ``captured``."""

    def run_trial(self, trial, *fit_args, **fit_kwargs):
        results = super().run_trial(trial, *fit_args, **fit_kwargs)
        self.captured[trial.trial_id] = [
            {"history": dict(r.history), "epoch": list(r.epoch)} for r in results
        ]
        return results


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 8, 1)).astype("float32")
    return x, 0.5 * x[:, -1] + 0.1 * x[:, 0]


def search(
    directory, project, *, executions=1, max_trials=2, stopping=None, **kwargs
) -> CapturingSearch:
    """Run the seeded search (resume points after every epoch: set RESUME_COST_RATIO=0).

    ``stopping``: EarlyStopping's arguments. Defaults to ``{"patience": 2}``.
    """
    tuner = CapturingSearch(
        build,
        objective="val_loss",
        max_trials=max_trials,
        seed=11,
        executions_per_trial=executions,
        directory=str(directory),
        project_name=project,
        **kwargs,
    )
    tuner.captured = {}
    x, y = data()
    stopper = EarlyStopping(**(stopping or {"patience": 2}))
    callbacks = [stopper, ReduceLROnPlateau(patience=1, factor=0.5)]
    tuner.search(
        x,
        y,
        epochs=EPOCHS,
        batch_size=16,
        validation_split=0.25,
        verbose=0,
        callbacks=[*callbacks, HoldAtEpoch()],
    )
    return tuner
