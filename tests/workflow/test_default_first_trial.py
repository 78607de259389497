"""`rnnkit tune`/`compare` try the default hyperparameters first (random and Bayesian search).

So tuning never ends below the untuned network on validation: trial 0 is the defaults,
the other trials draw as before, and a resumed search does not queue the defaults again.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from rnnkit.workflow.networks import default_hyperparameters
from rnnkit.workflow.prepare import prepare_data
from rnnkit.workflow.progress import ProgressListener
from rnnkit.workflow.spec import ForecastConfig
from rnnkit.workflow.train import run_search


def _config(out, **changes):
    steps = np.arange(120)
    frame = pd.DataFrame({"y": np.sin(2 * np.pi * steps / 12) + 0.01 * steps})
    config = ForecastConfig(
        data=frame, target="y", window=6, epochs=2, batch_size=16, max_trials=2, seed=3, out=out
    )
    return dataclasses.replace(config, **changes)


def _trial_values(tuner):
    return [t.hyperparameters.values for t in tuner.oracle.trials.values()]


@pytest.mark.parametrize("kind", ["random", "bayesian"])
def test_trial_zero_is_the_defaults_and_resuming_does_not_queue_them_again(tmp_path, kind):
    config = _config(tmp_path, tuner=kind)
    data = prepare_data(config)
    tuner, _ = run_search(config, "gru", data, ProgressListener(), record=True)
    values = _trial_values(tuner)
    assert values[0] == default_hyperparameters()
    assert values[1] != default_hyperparameters()
    assert tuner.study.trials[0].params == default_hyperparameters()  # seen by the sampler

    resumed = dataclasses.replace(config, resume=True, max_trials=3)
    tuner, _ = run_search(resumed, "gru", prepare_data(resumed), ProgressListener(), record=True)
    values = _trial_values(tuner)
    assert len(values) == 3
    assert values.count(default_hyperparameters()) == 1


def test_a_search_that_only_joins_queues_nothing(tmp_path):
    config = _config(tmp_path, max_trials=1)
    tuner, _ = run_search(config, "gru", prepare_data(config), ProgressListener())
    assert _trial_values(tuner)[0] != default_hyperparameters()  # drawn, as tune-worker does
