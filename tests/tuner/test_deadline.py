"""`search(max_time=...)` is a hard deadline: running trials stop and keep their best epoch."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest
import rnn_builds as rb

import rnnkit.tuner as kt
from rnnkit.callbacks import Callback


class SlowBatches(Callback):
    """Sleeps after every batch (so an epoch takes a while) and records what ran."""

    def __init__(self, seconds: float = 0.01) -> None:
        super().__init__()
        self.seconds = seconds
        self.batch_times: list[float] = []
        self.val_loss: list[float] = []

    def __deepcopy__(self, memo):  # the tuner copies callbacks per trial: keep one recorder
        return self

    def on_train_batch_end(self, batch, logs=None):
        time.sleep(self.seconds)
        self.batch_times.append(time.time())

    def on_epoch_end(self, epoch, logs=None):
        self.val_loss.append(float(logs["val_loss"]))


def _search(tuner, slow, *, epochs=100, max_time=2.0):
    x, y = rb.data()
    started = time.perf_counter()
    tuner.search(
        x, y, validation_data=(x, y), epochs=epochs, batch_size=1, callbacks=[slow],
        max_time=max_time, verbose=0,
    )  # fmt: skip
    return time.perf_counter() - started


def test_running_trial_stops_at_the_deadline_and_keeps_its_best_epoch(tmp_path, caplog):
    slow = SlowBatches()
    tuner = kt.RandomSearch(
        rb.build_gru, objective="val_loss", max_trials=3, seed=1,
        directory=tmp_path, project_name="deadline",
    )  # fmt: skip
    with caplog.at_level(logging.INFO, logger="rnnkit.tuner"):
        seconds = _search(tuner, slow)  # 100 epochs of 48 batches: minutes without a deadline
    assert seconds < 30
    frame = tuner.results_dataframe()
    assert list(frame.status) == ["COMPLETED"]  # the cut trial completes; no other starts
    assert 1 <= len(slow.val_loss) < 100
    # the batch in progress at the deadline is the last one (the cut epoch is still validated)
    assert sum(t >= tuner._deadline for t in slow.batch_times) <= 1
    best = tuner.get_best_trials(1)[0]
    assert best.score == pytest.approx(min(slow.val_loss))
    model = tuner.get_best_models(1)[0]  # the best epoch's checkpoint
    x, y = rb.data()
    val_loss = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    assert val_loss == pytest.approx(min(slow.val_loss), rel=1e-4)
    cut = [r.getMessage() for r in caplog.records if "stopped at epoch" in r.getMessage()]
    assert len(cut) == 1 and "keeps its best epoch" in cut[0]


def test_hyperband_trials_stop_at_the_deadline(tmp_path):
    slow = SlowBatches()
    tuner = kt.Hyperband(
        rb.build_gru, objective="val_loss", max_epochs=100, factor=3, seed=1,
        directory=tmp_path, project_name="deadline_hb",
    )  # fmt: skip
    seconds = _search(tuner, slow, max_time=1.5)
    assert seconds < 30
    frame = tuner.results_dataframe()
    assert len(frame) < tuner.search_cost().trials
    assert set(frame.status) == {"COMPLETED"}


def test_hyperband_search_cost_honours_max_trials_and_times_measured_epochs(tmp_path, xy):
    import tuner_fakes as f

    tuner = kt.Hyperband(
        f.build_model, objective="val_loss", max_epochs=10, factor=3, max_trials=5, seed=1,
        directory=tmp_path, project_name="hb_cost",
    )  # fmt: skip
    before = tuner.search_cost()
    # the first 5 trials of the schedule: bracket 2's first round (2 epochs each)
    assert (before.trials, before.max_epochs_trained, before.estimated_seconds) == (5, 10, None)
    assert "up to 5 trials (max_trials=5)" in str(before)
    assert "estimated once the first epochs" in str(before)
    tuner.search(*xy, epochs=10)
    after = tuner.search_cost()
    assert after.epochs_measured == 10  # 5 trials x 2 epochs, each reported to the study
    assert after.seconds_per_epoch > 0
    assert after.estimated_seconds == pytest.approx(10 * after.seconds_per_epoch)
    assert "measured over 10 epochs" in str(after)


def test_two_workers_stop_their_running_trials_at_the_deadline(tmp_path):
    tuner = kt.RandomSearch(
        rb.build_gru, objective="val_loss", max_trials=6, seed=1,
        directory=tmp_path, project_name="deadline_workers",
    )  # fmt: skip
    x, y = rb.data()
    started = time.perf_counter()
    tuner.search(
        x, y, validation_data=(x, y), epochs=10_000, batch_size=1, callbacks=[SlowBatches()],
        max_time=8.0, workers=2, verbose=0,
    )  # fmt: skip  # 10,000 epochs of 48 slow batches: hours without the deadline
    seconds = time.perf_counter() - started
    assert seconds < 8.0 + 90  # the workers' start and shutdown under load, not the epochs
    frame = tuner.results_dataframe()
    # no trial starts after the deadline: at most one per worker, each cut and completed
    assert len(frame) <= 2
    assert set(frame.status) <= {"COMPLETED"}
    for model in tuner.get_best_models(len(frame)):  # each kept its best epoch's checkpoint
        assert np.isfinite(model.predict(x[:2], verbose=0)).all()
