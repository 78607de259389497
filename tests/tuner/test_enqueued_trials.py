"""Trials queued with Optuna's ``enqueue_trial`` run with the values they were queued with.

A user (or the workflow) can put a known-good configuration first: queue it in
``tuner.study`` before ``search``. It becomes the next logical trial, its left-out
hyperparameters take their defaults, it counts against ``max_trials``, and values
outside the search space, or names it does not have, are named in a warning.
"""

from __future__ import annotations

import logging

import tuner_fakes as f
from optuna.trial import TrialState

import rnnkit.tuner as kt


def _tuner(tmp_path, max_trials):
    return kt.RandomSearch(
        f.build_model,
        objective="val_loss",
        max_trials=max_trials,
        seed=1,
        directory=tmp_path,
        project_name="p",
    )


def _values(tuner):
    return {t.trial_id: t.hyperparameters.values for t in tuner.oracle.trials.values()}


def test_a_trial_queued_before_the_search_runs_first_with_its_values(tmp_path, xy):
    tuner = _tuner(tmp_path, max_trials=2)
    tuner.study.enqueue_trial({"units": 24, "activation": "sigmoid"})
    tuner.search(*xy, epochs=1)
    values = _values(tuner)
    assert values["0"] == {"units": 24, "activation": "sigmoid", "dropout": 0.0}  # default
    assert sorted(values) == ["0", "1"]  # it counts against max_trials
    unseeded = _values(_search_without_queue(tmp_path / "plain", xy))
    assert values["1"] == unseeded["1"]  # the random trials draw as they would anyway
    completed = [t for t in tuner.study.trials if t.state == TrialState.COMPLETE]
    assert len(completed) == 2
    # the Optuna trial holds every value (importances and samplers read params)
    assert completed[0].params == {"units": 24, "activation": "sigmoid", "dropout": 0.0}


def _search_without_queue(root, xy):
    tuner = _tuner(root, max_trials=2)
    tuner.search(*xy, epochs=1)
    return tuner


def test_a_trial_queued_into_a_finished_search_runs_when_it_grows(tmp_path, xy):
    _tuner(tmp_path, max_trials=2).search(*xy, epochs=1)
    tuner = _tuner(tmp_path, max_trials=2)
    tuner.study.enqueue_trial({"units": 64, "activation": "relu", "dropout": 0.1})
    tuner.search(*xy, epochs=1)  # max_trials reached: nothing starts, the trial waits
    assert sorted(_values(tuner)) == ["0", "1"]
    assert [t.state for t in tuner.study.trials].count(TrialState.WAITING) == 1
    tuner = _tuner(tmp_path, max_trials=3)
    tuner.search(*xy, epochs=1)
    assert _values(tuner)["2"] == {"units": 64, "activation": "relu", "dropout": 0.1}
    assert TrialState.WAITING not in [t.state for t in tuner.study.trials]


def test_values_outside_the_space_are_named_in_a_warning(tmp_path, xy, caplog):
    tuner = _tuner(tmp_path, max_trials=1)
    tuner.study.enqueue_trial({"units": 7, "activation": "relu"})
    with caplog.at_level(logging.WARNING, logger="rnnkit.tuner"):
        tuner.search(*xy, epochs=1)
    assert (
        "Trial 0 was queued with units=7, outside the search space; it runs with these "
        "values as given." in caplog.text
    )
    assert _values(tuner)["0"]["units"] == 7


def test_a_name_the_search_does_not_have_is_named_in_a_warning(tmp_path, xy, caplog):
    tuner = _tuner(tmp_path, max_trials=1)
    tuner.study.enqueue_trial({"unit": 64, "activation": "relu"})  # "unit": a typo
    with caplog.at_level(logging.WARNING, logger="rnnkit.tuner"):
        tuner.search(*xy, epochs=1)
    assert (
        "Trial 0 was queued with unit, which the search has no hyperparameter for (it has "
        "activation, dropout, units): check the name; the value is kept but nothing reads it."
        in caplog.text
    )
    assert _values(tuner)["0"]["units"] == 8  # the default: nothing read "unit"
