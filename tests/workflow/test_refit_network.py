"""#15 part 3, the workflow side: the tuned network beside its values trained on train + val."""

from __future__ import annotations

import copy
import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from rnnkit.callbacks import Callback
from rnnkit.tuner import NoCompletedTrialError
from rnnkit.tuner.refit import found_epochs
from rnnkit.workflow.compare import ComparisonResult
from rnnkit.workflow.compare import fit_baselines
from rnnkit.workflow.compare import score_forecasts
from rnnkit.workflow.intervals import non_negative_targets
from rnnkit.workflow.prepare import prepare_data
from rnnkit.workflow.progress import ProgressListener
from rnnkit.workflow.refit import refit_tuned_network
from rnnkit.workflow.spec import ForecastConfig
from rnnkit.workflow.train import fit_forecaster
from rnnkit.workflow.train import run_search


class Recorder(ProgressListener):
    def __init__(self):
        self.calls = []

    def begin(self, task, total=None, description=""):
        self.calls.append(("begin", task, total, description))

    def advance(self, task, steps=1, description=None):
        self.calls.append(("advance", task))


class EpochBatches(Callback):
    """Counts the batches of each epoch."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.batches[-1] += 1


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    """A two-trial search of a small RNN, and the tuned network trained from its values."""
    steps = np.arange(160)
    # bounded at 0 (the report clips such forecasts), with a trend so MAPE stays finite
    frame = pd.DataFrame({"y": np.maximum(0.0, np.sin(2 * np.pi * steps / 12)) + 0.01 * steps})
    config = ForecastConfig(
        data=frame,
        target="y",
        window=6,
        epochs=3,
        batch_size=16,
        max_trials=2,
        seed=3,
        out=tmp_path_factory.mktemp("refit"),
    )
    data = prepare_data(config)
    tuner, _ = run_search(config, "rnn", data, ProgressListener())
    values = dict(tuner.get_best_hyperparameters(1)[0].values)
    fit = fit_forecaster(config, "rnn", values, data=data)
    return tuner, fit


def test_refit_trains_the_best_values_on_training_and_validation_windows(tuned):
    tuner, fit = tuned
    recorder = Recorder()
    refit = refit_tuned_network(tuner, fit, progress=recorder)
    sizes = fit.data.sizes()
    best = tuner.get_best_trials(1)[0]
    assert refit.trial_id == best.trial_id
    assert (refit.rows, refit.validation_rows) == (sizes["train"] + sizes["val"], sizes["val"])
    assert refit.epochs == refit.epochs_run == found_epochs(tuner, best)
    assert refit.epochs_from_search
    assert recorder.calls.count(("advance", "epochs")) == refit.epochs
    assert refit.forecaster.model.count_params() == fit.params  # the same values
    assert refit.predictions.shape == fit.predictions.shape
    assert refit.forecaster.spec["refit"] == {
        "trial": best.trial_id,
        "epochs": refit.epochs_run,
        "windows": refit.rows,
    }


def test_refit_scores_both_networks_with_the_report_metrics(tuned):
    tuner, fit = tuned
    assert any(non_negative_targets(fit.data.train_series))
    fit = dataclasses.replace(fit, predictions=fit.predictions - 5.0)  # below 0
    refit = refit_tuned_network(tuner, fit)
    assert refit.metrics.index.tolist() == ["RNN", "RNN refit"]
    report = ComparisonResult.from_results(fit.data, [copy.copy(fit)]).metrics
    scores = score_forecasts(fit.data, {**fit_baselines(fit.data), "x": refit.predictions})
    assert refit.metrics.columns.tolist() == scores.columns.tolist()
    columns = scores.columns.tolist()
    pd.testing.assert_series_equal(refit.metrics.loc["RNN"], report.loc["RNN", columns])
    np.testing.assert_allclose(refit.metrics.loc["RNN refit"], scores.loc["x"], equal_nan=True)
    assert refit.forecaster.spec["metrics"]["MAE"] == pytest.approx(scores.loc["x", "MAE"])
    [line] = refit.lines()
    epochs = f"{refit.epochs} epoch{'' if refit.epochs == 1 else 's'}"
    assert (
        f"trial {refit.trial_id}'s values, {epochs} as the search found, {refit.rows:,} windows)"
        in line
    )
    assert f"test MAE {refit.metrics.loc['RNN refit', 'MAE']:.4g}" in line
    assert f"the tuned RNN: MAE {refit.metrics.loc['RNN', 'MAE']:.4g}" in line


def test_refit_leaves_the_trial_records_of_the_hypermodel_alone(tuned):
    tuner, fit = tuned
    before = dict(tuner.hypermodel.runs)
    assert before  # the search recorded its trials (tune_forecaster reuses them)
    refit_tuned_network(tuner, fit)
    assert tuner.hypermodel.runs == before


def test_refit_caps_an_epoch_at_windows_per_epoch_as_the_search_does(tuned):
    tuner, fit = tuned
    data = dataclasses.replace(fit.data, config=fit.data.config.replace(windows_per_epoch=32))
    recorder = EpochBatches()
    refit_tuned_network(tuner, dataclasses.replace(fit, data=data), callbacks=[recorder])
    assert set(recorder.batches) == {32 // 16}  # windows_per_epoch / batch_size


class StopAfterOneEpoch(Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = True


def test_refit_stopped_by_a_callback_says_how_far_it_got(tuned):
    tuner, fit = tuned
    longer = dataclasses.replace(fit, extended_epochs=1, best_epoch=3)
    refit = refit_tuned_network(tuner, longer, callbacks=[StopAfterOneEpoch()])
    assert (refit.epochs, refit.epochs_run) == (3, 1)
    assert refit.forecaster.spec["refit"]["epochs"] == 1
    assert "stopped after 1 of 3 epochs as the tuned network" in refit.lines()[0]


def test_refit_of_the_same_search_repeats_itself(tuned):
    tuner, fit = tuned
    first = refit_tuned_network(tuner, fit)
    again = refit_tuned_network(tuner, fit)
    np.testing.assert_array_equal(first.predictions, again.predictions)


def test_refit_trains_as_long_as_a_tuned_network_that_trained_past_the_cap(tuned):
    tuner, fit = tuned
    extended = dataclasses.replace(fit, extended_epochs=2, best_epoch=5)
    refit = refit_tuned_network(tuner, extended)
    assert refit.epochs == 5
    assert not refit.epochs_from_search
    assert "5 epochs as the tuned network" in refit.lines()[0]


def test_refit_without_a_completed_trial_says_so(tuned):
    tuner, fit = tuned

    class Empty:
        project_dir = tuner.project_dir

        def get_best_trials(self, n):
            return []

    with pytest.raises(NoCompletedTrialError, match=re.escape("has no completed trial")):
        refit_tuned_network(Empty(), fit)
