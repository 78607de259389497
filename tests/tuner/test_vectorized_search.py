"""search(vectorize=...): trials that share a structure train together, exactly.

A vectorised search scores every trial as the same search run one trial after
another (within float rounding), records each trial in the study with its learning
curve, and says in one line why a trial trained alone.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import rnn_builds

import rnnkit.tuner as kt
from rnnkit.callbacks import EarlyStopping
from rnnkit.errors import RnnkitValueError

FIT = {"epochs": 2, "batch_size": 8, "validation_split": 0.25, "verbose": 0}


def _search(tmp_path, name, build=rnn_builds.build_gru, tuner_class=kt.RandomSearch, **kwargs):
    options = {"max_trials": 4} if tuner_class is kt.RandomSearch else {}
    tuner = tuner_class(
        build, objective="val_loss", seed=11, directory=tmp_path, project_name=name, **options
    )
    fit = {**FIT, **kwargs.pop("fit", {})}
    kwargs.setdefault("vectorize", True)  # "auto" groups on a GPU only
    tuner.search(*rnn_builds.data(), **fit, **kwargs)
    return tuner


def _by_trial(tuner):
    trials = tuner.oracle.get_best_trials(100)
    return {t.trial_id: t.score for t in trials}


def test_grouped_trials_score_as_trained_one_by_one(tmp_path, caplog):
    plain = _by_trial(_search(tmp_path, "plain", vectorize=False))
    with caplog.at_level(logging.INFO, logger="rnnkit.tuner"):
        tuner = _search(tmp_path, "grouped")
    assert "vectorize: trials 0, 1, 2, 3 train together (4 models)." in caplog.messages
    grouped = _by_trial(tuner)
    assert grouped.keys() == plain.keys()
    np.testing.assert_allclose(
        [grouped[k] for k in sorted(plain)], [plain[k] for k in sorted(plain)], rtol=1e-5
    )
    best = tuner.get_best_models(1)[0]  # checkpoints written per trial, as before
    x, y = rnn_builds.data()
    assert best.evaluate(x[-12:], y[-12:], verbose=0) == pytest.approx(min(grouped.values()))


def test_every_trial_reports_its_learning_curve_to_the_study(tmp_path):
    tuner = _search(tmp_path, "curves")
    curves = [t.intermediate_values for t in tuner.study.get_trials()]
    assert len(curves) == 4
    assert all(sorted(c) == [0, 1] for c in curves)


def test_early_stopping_runs_inside_a_group_and_matches(tmp_path):
    fit = {"callbacks": [EarlyStopping(patience=0, restore_best_weights=True)], "epochs": 6}
    plain = _by_trial(_search(tmp_path, "plain", vectorize=False, fit=fit))
    grouped = _by_trial(_search(tmp_path, "grouped", vectorize=True, fit=fit))
    np.testing.assert_allclose(
        [grouped[k] for k in sorted(plain)], [plain[k] for k in sorted(plain)], rtol=1e-5
    )


def test_a_trial_of_another_structure_trains_alone_and_says_why(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="rnnkit.tuner"):
        tuner = _search(tmp_path, "mixed", build=rnn_builds.build_mixed)
    cells = {t.trial_id: t.values["cell"] for t in tuner.oracle.get_best_trials(4)}
    names = {"gru": "GRU", "lstm": "LSTM"}
    first = cells["0"]
    others = sorted(k for k, c in cells.items() if c != first)
    assert len(others) == 1, cells  # seed 11 draws one trial of the other cell
    (lone,) = others
    expected = (
        f"vectorize: trial {lone} not grouped: {names[cells[lone]]} vs {names[first]} at layer 0"
    )
    assert [m for m in caplog.messages if "not grouped" in m] == [expected]


def test_an_overridden_run_trial_runs_trials_one_by_one(tmp_path, caplog):
    class Custom(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            return super().run_trial(trial, *args, **kwargs)

    with caplog.at_level(logging.INFO, logger="rnnkit.tuner"):
        _search(tmp_path, "custom", tuner_class=Custom)
    reasons = [m for m in caplog.messages if m.startswith("vectorize:")]
    assert reasons == ["vectorize: trials run one by one: Custom.run_trial is overridden."]


def test_hyperband_groups_trials_of_one_budget_and_matches(tmp_path):
    def hyperband(name, vectorize):
        tuner = kt.Hyperband(
            rnn_builds.build_gru, objective="val_loss", max_epochs=3, factor=3, seed=5,
            directory=tmp_path, project_name=name,
        )  # fmt: skip
        tuner.search(*rnn_builds.data(), batch_size=8, validation_split=0.25, verbose=0,
                     vectorize=vectorize)  # fmt: skip
        return _by_trial(tuner)

    plain, grouped = hyperband("plain", False), hyperband("grouped", True)
    assert grouped.keys() == plain.keys() and len(plain) >= 4
    np.testing.assert_allclose(
        [grouped[k] for k in sorted(plain)], [plain[k] for k in sorted(plain)], rtol=1e-5
    )


def test_auto_trains_one_by_one_on_a_cpu_and_says_why_once(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="rnnkit.tuner"):
        _search(tmp_path, "auto", vectorize="auto")
    reasons = [m for m in caplog.messages if m.startswith("vectorize:")]
    assert len(reasons) == 1
    assert reasons[0].startswith("vectorize: trials run one by one: on a CPU rnnkit's native")


def test_vectorize_must_be_auto_a_bool_or_a_group_size(tmp_path):
    with pytest.raises(RnnkitValueError, match=r"`vectorize` must be .* Received: vectorize=1"):
        _search(tmp_path, "bad", vectorize=1)


def test_an_interrupted_group_reruns_its_trials_with_the_same_scores(tmp_path):
    plain = _by_trial(_search(tmp_path, "plain", vectorize=False))
    interrupt = rnn_builds.InterruptOnce(tmp_path / "flag")
    with pytest.raises(KeyboardInterrupt):
        _search(tmp_path, "resumed", fit={"callbacks": [interrupt]})
    tuner = _search(tmp_path, "resumed", fit={"callbacks": [interrupt]})
    resumed = _by_trial(tuner)
    assert resumed.keys() == plain.keys()
    np.testing.assert_allclose(
        [resumed[k] for k in sorted(plain)], [plain[k] for k in sorted(plain)], rtol=1e-5
    )
    attempts = [t.attempts for t in tuner.oracle.trials.values()]
    assert attempts == [2, 2, 2, 2]  # the whole group was interrupted and ran again
