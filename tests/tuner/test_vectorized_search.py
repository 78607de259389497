"""search(vectorize=...): trials that share a structure train together, exactly.

A vectorised search scores every trial as the same search run one trial after
another (within float rounding), records each trial in the study with its learning
curve, and says in one line why a trial trained alone.
"""

from __future__ import annotations

import contextlib
import logging

import numpy as np
import pytest
import rnn_builds

import rnnkit.tuner as kt
from rnnkit.callbacks import EarlyStopping
from rnnkit.errors import RnnkitValueError

FIT = {"epochs": 2, "batch_size": 8, "validation_split": 0.25, "verbose": 0}
# A search's cost is mostly the tuner's own work per trial (study storage, checkpoints),
# not training, so these tests run few, small searches: the two 3-trial searches most
# tests compare against run once per module.


def _search(
    tmp_path, name, build=rnn_builds.build_gru, tuner_class=kt.RandomSearch, max_trials=3, **kwargs
):
    options = {"max_trials": max_trials} if tuner_class is kt.RandomSearch else {}
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


class _Messages(logging.Handler):
    """Keeps the messages logged to it (caplog is per test, these searches per module)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _tuner_messages():
    """The messages the tuner logs at INFO while the block runs."""
    handler = _Messages()
    logger = logging.getLogger("rnnkit.tuner")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """Scores of the 3-trial search trained one trial after another."""
    return _by_trial(_search(tmp_path_factory.mktemp("plain"), "plain", vectorize=False))


@pytest.fixture(scope="module")
def grouped(tmp_path_factory):
    """The same search vectorised: its tuner and what the tuner logged."""
    with _tuner_messages() as messages:
        tuner = _search(tmp_path_factory.mktemp("grouped"), "grouped")
    return tuner, messages


def test_grouped_trials_score_as_trained_one_by_one(plain, grouped):
    tuner, messages = grouped
    assert "vectorize: trials 0, 1, 2 train together (3 models)." in messages
    scores = _by_trial(tuner)
    assert scores.keys() == plain.keys()
    np.testing.assert_allclose(
        [scores[k] for k in sorted(plain)], [plain[k] for k in sorted(plain)], rtol=1e-5
    )
    best = tuner.get_best_models(1)[0]  # checkpoints written per trial, as before
    x, y = rnn_builds.data()
    assert best.evaluate(x[-12:], y[-12:], verbose=0) == pytest.approx(min(scores.values()))


def test_every_trial_reports_its_learning_curve_to_the_study(grouped):
    tuner, _ = grouped
    curves = [t.intermediate_values for t in tuner.study.get_trials()]
    assert len(curves) == 3
    assert all(sorted(c) == [0, 1] for c in curves)


def test_early_stopping_runs_inside_a_group_and_matches(tmp_path, caplog):
    # min_delta=0.1 stops trial 0 of seed 11 after 2 epochs; trial 1 improves more and runs 3
    stop = EarlyStopping(patience=0, min_delta=0.1, restore_best_weights=True)
    fit = {"callbacks": [stop], "epochs": 3}
    plain = _by_trial(_search(tmp_path, "plain", max_trials=2, vectorize=False, fit=fit))
    with caplog.at_level(logging.INFO, logger="rnnkit.tuner"):
        tuner = _search(tmp_path, "grouped", max_trials=2, vectorize=True, fit=fit)
    assert "vectorize: trials 0, 1 train together (2 models)." in caplog.messages
    grouped = _by_trial(tuner)
    np.testing.assert_allclose(
        [grouped[k] for k in sorted(plain)], [plain[k] for k in sorted(plain)], rtol=1e-5
    )
    epochs_run = [len(t.intermediate_values) for t in tuner.study.get_trials()]
    assert epochs_run == [2, 3]  # trial 0 left the group early, trial 1 trained on


def test_a_trial_of_another_structure_trains_alone_and_says_why(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="rnnkit.tuner"):
        tuner = _search(
            tmp_path, "mixed", build=rnn_builds.build_mixed, max_trials=4, fit={"epochs": 1}
        )
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
        _search(tmp_path, "custom", tuner_class=Custom, max_trials=1, fit={"epochs": 1})
    reasons = [m for m in caplog.messages if m.startswith("vectorize:")]
    assert reasons == ["vectorize: trials run one by one: Custom.run_trial is overridden."]


def test_hyperband_groups_trials_of_one_budget_and_matches(tmp_path, caplog):
    def hyperband(name, vectorize):
        tuner = kt.Hyperband(
            rnn_builds.build_gru, objective="val_loss", max_epochs=2, factor=2, seed=5,
            directory=tmp_path, project_name=name,
        )  # fmt: skip
        tuner.search(*rnn_builds.data(), batch_size=8, validation_split=0.25, verbose=0,
                     vectorize=vectorize)  # fmt: skip
        return _by_trial(tuner)

    plain = hyperband("plain", False)
    with caplog.at_level(logging.INFO, logger="rnnkit.tuner"):
        grouped = hyperband("grouped", True)
    assert grouped.keys() == plain.keys() and len(plain) >= 4
    together = [m for m in caplog.messages if m.endswith("train together (2 models).")]
    assert len(together) == 2, caplog.messages  # one group per bracket of 2 models
    np.testing.assert_allclose(
        [grouped[k] for k in sorted(plain)], [plain[k] for k in sorted(plain)], rtol=1e-5
    )


def test_auto_trains_one_by_one_on_a_cpu_and_says_why_once(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="rnnkit.tuner"):
        _search(tmp_path, "auto", vectorize="auto", max_trials=1, fit={"epochs": 1})
    reasons = [m for m in caplog.messages if m.startswith("vectorize:")]
    assert len(reasons) == 1
    assert reasons[0].startswith("vectorize: trials run one by one: on a CPU rnnkit's native")


def test_vectorize_must_be_auto_a_bool_or_a_group_size(grouped):
    tuner, _ = grouped  # search() checks its arguments before it looks at the study
    with pytest.raises(RnnkitValueError, match=r"`vectorize` must be .* Received: vectorize=1"):
        tuner.search(*rnn_builds.data(), **FIT, vectorize=1)


def test_an_interrupted_group_reruns_its_trials_with_the_same_scores(tmp_path, plain):
    interrupt = rnn_builds.InterruptOnce(tmp_path / "flag")
    fit = {"callbacks": [interrupt]}
    with pytest.raises(KeyboardInterrupt):
        _search(tmp_path, "resumed", max_trials=2, fit=fit)
    tuner = _search(tmp_path, "resumed", max_trials=2, fit=fit)
    resumed = _by_trial(tuner)
    assert sorted(resumed) == sorted(plain)[:2]  # trials are drawn from (seed, trial id)
    np.testing.assert_allclose(
        [resumed[k] for k in sorted(resumed)], [plain[k] for k in sorted(resumed)], rtol=1e-5
    )
    attempts = [t.attempts for t in tuner.oracle.trials.values()]
    assert attempts == [2, 2]  # the whole group was interrupted and ran again
