"""The facts the report states: the winner, the units, the networks cut off at the epoch cap."""

from types import SimpleNamespace as NS

import numpy as np
import pandas as pd
import pytest

from rnnkit.workflow.importance import importance_caveat
from rnnkit.workflow.importance import unvaried_hyperparameters
from rnnkit.workflow.report_facts import best_model
from rnnkit.workflow.report_facts import cap_sentence
from rnnkit.workflow.report_facts import stopped_at_cap
from rnnkit.workflow.report_facts import target_units


def _fit(val_loss, *, epochs=20, **fields):
    best = int(np.argmin(val_loss)) + 1
    return NS(
        history={"loss": list(val_loss), "val_loss": list(val_loss)},
        best_epoch=best,
        epochs_run=len(val_loss),
        data=NS(config=NS(epochs=epochs, patience=3)),
        **fields,
    )


@pytest.mark.parametrize(
    ("val_loss", "capped"),
    [
        (np.linspace(2, 1, 20), True),  # still falling at the last epoch
        ([*np.linspace(2, 1, 18), 1.1, 1.2], True),  # best 18 of 20: among the last 3
        ([*np.linspace(2, 1, 17), 1.1, 1.2, 1.3], False),  # best 17: rising for 3 epochs
        ([*np.linspace(2, 1, 10), 1.1, 1.2, 1.3], False),  # early stopping at 13 of 20
    ],
)
def test_stopped_at_cap_from_the_run(val_loss, capped):
    assert stopped_at_cap(_fit(val_loss)) is capped


def test_stopped_at_cap_reads_the_field_training_records():
    falling = np.linspace(2, 1, 20)
    assert stopped_at_cap(_fit(falling, stopped_at_cap=False)) is False
    assert stopped_at_cap(_fit(falling[:5], stopped_at_cap=True)) is True


def test_stopped_at_cap_uses_the_epoch_cap_when_epochs_is_not_set():
    fit = _fit(np.linspace(2, 1, 20))
    assert stopped_at_cap(fit, NS(epochs=None, epoch_cap=20)) is True
    assert stopped_at_cap(fit, NS(epochs=None, epoch_cap=40)) is False


def test_cap_sentence_names_each_network_and_what_to_do():
    falling = np.linspace(2, 1, 20)
    result = NS(
        fits={"RNN": _fit(falling), "LSTM": _fit(falling[:12]), "GRU": _fit(falling)},
        config=NS(epochs=20),
    )
    assert cap_sentence(result) == (
        "RNN and GRU stopped at the epoch cap while still improving (RNN: best epoch 20 of 20; "
        "GRU: best epoch 20 of 20): not converged, so their scores may understate them; "
        "raise --epochs."
    )
    assert cap_sentence(NS(fits={"LSTM": _fit(falling[:12])}, config=NS(epochs=20))) is None


def test_best_model_is_the_lowest_finite_test_mae_baselines_included():
    metrics = pd.DataFrame(
        {"MAE": [35.2, 76.9, 32.2, 34.7, np.nan]},
        index=["naive", "seasonal naive", "linear on lags", "RNN", "GRU"],
    )
    assert best_model(metrics) == "linear on lags"
    assert best_model(pd.DataFrame({"MAE": [np.nan]}, index=["GRU"])) is None


def test_target_units_given_bundled_or_unknown():
    bundled = NS(targets=["pm2.5", "TEMP"], is_bundled=True)
    assert target_units(bundled) == {"pm2.5": "µg/m³", "TEMP": "°C"}
    assert target_units(bundled, {"TEMP": "K"}) == {"pm2.5": "µg/m³", "TEMP": "K"}
    own = NS(targets=["load"], is_bundled=False)
    assert target_units(own) == {}
    assert target_units(own, "MW") == {"load": "MW"}


def test_importance_caveat_counts_completed_trials_and_names_fixed_values():
    trials = pd.DataFrame(
        {
            "status": ["COMPLETED", "COMPLETED", "FAILED", "COMPLETED", "COMPLETED"],
            "score": [1.0, 2.0, np.nan, 1.5, np.inf],
            "hp_units": [8, 16, 32, 8, 64],
            "hp_activation": ["relu", "relu", "tanh", "relu", "tanh"],
            "hp_layers": [1, 1, 1, 1, 2],
        }
    )
    # the failed trial and the infinite score do not count: 3 completed, relu and 1 layer each
    assert importance_caveat(trials) == "from 3 trials: indicative only"
    assert unvaried_hyperparameters(trials) == {"activation": "relu", "layers": 1}
    many = pd.DataFrame({"status": ["COMPLETED"] * 25, "score": np.arange(25.0)})
    assert importance_caveat(many) == "from 25 trials"
