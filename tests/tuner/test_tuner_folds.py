"""Folds in the search: ``search(..., cv=...)`` and keras-tuner's cross-validation recipe."""

from __future__ import annotations

from typing import Any
from typing import ClassVar

import numpy as np
import optuna
import pytest
from sklearn import model_selection

import rnnkit.tuner as kt
from rnnkit.callbacks.base import CallbackList
from rnnkit.callbacks.base import History
from rnnkit.data.splits import expanding_window_splits
from rnnkit.errors import DataError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.tuner.refit import found_epochs

#: Every fake fit: (rows trained on, the last training target, the validation targets' mean).
FITS: list[tuple[int, float, float]] = []


class Level:
    """A fake model: its val_loss is the validation targets' mean (+10 for a bad trial),
    less a little every epoch, so each fold's value is known in advance."""

    def __init__(self, bad: bool) -> None:
        self.bad = bad

    def fit(self, x, y, epochs=1, validation_data=None, callbacks=None, **kwargs):
        _, y_val = validation_data
        FITS.append((len(x), float(np.asarray(y)[-1]), float(np.mean(y_val))))
        history = History()
        cbs = CallbackList([history, *(callbacks or [])], model=self, epochs=epochs, steps=1)
        self.stop_training = False
        cbs.on_train_begin()
        for epoch in range(epochs):
            cbs.on_epoch_begin(epoch)
            cbs.on_train_batch_end(0, {"loss": 1.0})
            value = float(np.mean(y_val)) + 10.0 * self.bad - 0.01 * epoch
            cbs.on_epoch_end(epoch, {"loss": 1.0, "val_loss": value})
            if self.stop_training:
                break
        cbs.on_train_end()
        return history


def build_level(hp):
    return Level(hp.Boolean("bad"))


def _tuner(tmp_path, name, **kwargs):
    FITS.clear()
    return kt.GridSearch(
        build_level, objective="val_loss", directory=tmp_path, project_name=name, **kwargs
    )


def _series(n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((n, 3, 1), dtype="float32"), np.arange(n, dtype="float32")


def test_time_series_split_scores_the_mean_of_the_folds_and_stores_each(tmp_path):
    tuner = _tuner(tmp_path, "tss")
    x, y = _series()
    tuner.search(x, y, epochs=2, cv=model_selection.TimeSeriesSplit(n_splits=3))
    # validation rows 3-5, 6-8, 9-11: means 4, 7, 10, minus 0.01 at the best (last) epoch
    frame = tuner.results_dataframe().set_index("hp_bad")
    good = frame.loc[False]
    assert [good[f"fold_{f}_score"] for f in range(3)] == pytest.approx([3.99, 6.99, 9.99])
    assert [good[f"fold_{f}_best_step"] for f in range(3)] == [1, 1, 1]
    assert good["score"] == pytest.approx(6.99)
    assert frame.loc[True, "score"] == pytest.approx(16.99)
    best = tuner.get_best_trials(1)[0]
    assert best.values == {"bad": False} and best.best_step == 1  # the last fold's
    attempt = next(t for t in tuner.study.trials if t.user_attrs["trial_id"] == best.trial_id)
    assert attempt.user_attrs["result"]["folds"] == [
        {"value": pytest.approx(v), "best_step": 1} for v in (3.99, 6.99, 9.99)
    ]
    # fold f's epochs reach the study at steps f * epochs + epoch (no pruner needed)
    assert sorted(attempt.intermediate_values) == [0, 1, 2, 3, 4, 5]
    assert attempt.intermediate_values[4] == pytest.approx(10.0)
    assert found_epochs(tuner, best) == 2
    assert [rows for rows, _, _ in FITS[:3]] == [3, 6, 9]  # training rows before each block


def test_expanding_window_index_pairs_leave_the_gap_out(tmp_path):
    tuner = _tuner(tmp_path, "pairs")
    x, y = _series(20)
    splits = expanding_window_splits(len(x), n_folds=2, test_size=4, gap=2)
    tuner.search(x, y, epochs=1, cv=splits)
    # fold 0 validates on rows 12-15 and trains on rows 0-9; fold 1 on 16-19 and 0-13
    assert FITS[:2] == [(10, 9.0, 13.5), (14, 13.0, 17.5)]
    good = tuner.results_dataframe().set_index("hp_bad").loc[False]
    assert good["score"] == pytest.approx((13.5 + 17.5) / 2)


def test_explicit_fold_datasets_are_used_as_given(tmp_path):
    tuner = _tuner(tmp_path, "datasets")
    x = np.zeros((4, 3, 1), dtype="float32")
    folds = [
        (x, np.full(4, 1.0), x[:2], np.full(2, 2.0)),
        (x, np.full(4, 3.0), x[:2], np.full(2, 6.0)),
    ]
    tuner.search(cv=folds, epochs=1)
    assert FITS[:2] == [(4, 1.0, 2.0), (4, 3.0, 6.0)]
    good = tuner.results_dataframe().set_index("hp_bad").loc[False]
    assert (good["fold_0_score"], good["fold_1_score"], good["score"]) == (2.0, 6.0, 4.0)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"validation_data": "VAL"}, RnnkitValueError, "`validation_data` cannot be combined"),
        ({"validation_split": 0.2}, RnnkitValueError, "`validation_split` cannot be combined"),
        ({"cv": []}, RnnkitValueError, "`cv` gave no folds"),
        ({"cv": [([0, 1], [2, 40])]}, RnnkitValueError, "must index x's 12 samples"),
        ({"cv": [([0, 1], [])]}, RnnkitValueError, "fold 0 of `cv` has an empty x_val"),
        ({"cv": [([0.5], [1])]}, RnnkitTypeError, "must be a 1-D array of integer positions"),
        ({"cv": 3}, RnnkitTypeError, "`cv` must be a splitter with split(x)"),
        ({"cv": [(1, 2, 3)]}, RnnkitTypeError, "`cv` must be a splitter with split(x)"),
    ],
)
def test_bad_folds_are_refused_before_any_trial(tmp_path, kwargs, error, message):
    tuner = _tuner(tmp_path, "bad")
    x, y = _series()
    kwargs = {"cv": model_selection.TimeSeriesSplit(2), **kwargs}
    if kwargs.get("validation_data") == "VAL":
        kwargs["validation_data"] = (x[:2], y[:2])
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        tuner.search(x, y, epochs=1, **kwargs)
    assert FITS == [] and tuner.results_dataframe().empty


def test_fold_datasets_beside_x_and_a_splitter_without_x_are_refused(tmp_path):
    tuner = _tuner(tmp_path, "mixed")
    x, y = _series()
    with pytest.raises(RnnkitValueError, match="x and y would go unused"):
        tuner.search(x, y, epochs=1, cv=[(x, y, x, y)])
    with pytest.raises(DataError, match="x or y is missing"):
        tuner.search(epochs=1, cv=model_selection.TimeSeriesSplit(2))


def test_a_hopeless_trial_is_pruned_in_its_first_fold(tmp_path):
    tuner = _tuner(tmp_path, "prune", pruner=optuna.pruners.ThresholdPruner(upper=12.0))
    x, y = _series()
    tuner.search(x, y, epochs=2, cv=model_selection.TimeSeriesSplit(n_splits=3))
    frame = tuner.results_dataframe().set_index("hp_bad")
    assert frame.loc[True, "status"] == "PRUNED"
    assert frame.loc[False, "status"] == "COMPLETED"
    # the good trial ran its 3 folds, the bad one stopped after fold 0's first epoch
    assert [mean for _, _, mean in FITS] == [4.0, 7.0, 10.0, 4.0]
    bad = next(t for t in tuner.study.trials if t.params.get("bad"))
    assert sorted(bad.intermediate_values) == [0]


def test_only_the_last_folds_checkpoint_is_kept(tmp_path):
    from rnn_builds import build_gru
    from rnn_builds import data

    x, y = data()
    folds = [(x[:16], y[:16], x[16:32], y[16:32]), (x[:32], y[:32], x[32:], y[32:])]
    with_cv = kt.RandomSearch(
        build_gru, objective="val_loss", max_trials=1, seed=3, directory=tmp_path,
        project_name="cv",
    )  # fmt: skip
    with_cv.search(cv=folds, epochs=2, batch_size=16, verbose=0)
    alone = kt.RandomSearch(
        build_gru, objective="val_loss", max_trials=1, seed=3, directory=tmp_path,
        project_name="alone",
    )  # fmt: skip
    alone.search(x[:32], y[:32], validation_data=(x[32:], y[32:]), epochs=2, batch_size=16)
    cv_row = with_cv.results_dataframe().iloc[0]
    # the last fold is the same trial trained without folds: same seeds, same score
    assert cv_row["fold_1_score"] == pytest.approx(alone.results_dataframe()["score"][0])
    assert cv_row["fold_0_score"] != pytest.approx(cv_row["fold_1_score"])
    assert cv_row["score"] == pytest.approx((cv_row["fold_0_score"] + cv_row["fold_1_score"]) / 2)
    assert sorted(p.name for p in with_cv.project_dir.glob("trial_*")) == ["trial_0"]
    model = with_cv.get_best_models(1)[0]
    assert model.evaluate(x[32:], y[32:], verbose=0) == pytest.approx(cv_row["fold_1_score"])


class ReportingCVTuner(kt.engine.tuner.Tuner):
    """keras-tuner's FAQ recipe, as printed (imports changed): update_trial + save_model."""

    losses: ClassVar[list[float]] = []

    def run_trial(self, trial, x, y, batch_size=32, epochs=1):
        cv = model_selection.KFold(3)
        val_losses = []
        for train_indices, test_indices in cv.split(x):
            x_train, x_test = x[train_indices], x[test_indices]
            y_train, y_test = y[train_indices], y[test_indices]
            model = self.hypermodel.build(trial.hyperparameters)
            model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0)
            val_losses.append(model.evaluate(x_test, y_test, verbose=0))
        self.oracle.update_trial(trial.trial_id, {"val_loss": np.mean(val_losses)})
        self.save_model(trial.trial_id, model)
        type(self).losses.append(float(np.mean(val_losses)))
        self.last = (model, x_test, y_test)


class ReturningCVTuner(kt.engine.tuner.Tuner):
    """The newer keras-tuner form: run_trial returns the mean validation loss."""

    def run_trial(self, trial, x, y, batch_size=32, epochs=1):
        val_losses = []
        for train_indices, test_indices in model_selection.KFold(3).split(x):
            model = self.hypermodel.build(trial.hyperparameters)
            model.fit(x[train_indices], y[train_indices], batch_size=batch_size, epochs=epochs)
            val_losses.append(model.evaluate(x[test_indices], y[test_indices], verbose=0))
        return np.mean(val_losses)


@pytest.mark.parametrize("form", [ReportingCVTuner, ReturningCVTuner])
def test_keras_tuners_cross_validation_recipe_works(tmp_path, form):
    from rnn_builds import build_gru
    from rnn_builds import data

    x, y = data()
    oracle = kt.oracles.RandomSearchOracle(objective="val_loss", max_trials=1, seed=1)
    tuner = form(oracle=oracle, hypermodel=build_gru, directory=tmp_path, project_name="faq")
    ReportingCVTuner.losses = []
    tuner.search(x, y, batch_size=16, epochs=1)
    frame = tuner.results_dataframe()
    assert list(frame["status"]) == ["COMPLETED"]
    assert np.isfinite(frame["score"][0]) and frame["score"][0] > 0
    if form is ReportingCVTuner:
        assert list(frame["score"]) == pytest.approx(ReportingCVTuner.losses)
        model, x_test, y_test = tuner.last
        saved = tuner.get_best_models(1)[0]  # what save_model stored: the last fold's model
        assert saved.evaluate(x_test, y_test, verbose=0) == pytest.approx(
            model.evaluate(x_test, y_test, verbose=0)
        )


def test_update_trial_for_another_trial_is_refused(tmp_path):
    class Wrong(kt.engine.tuner.Tuner):
        def run_trial(self, trial, *args, **kwargs):
            self.oracle.update_trial("99", {"val_loss": 1.0})

    oracle = kt.oracles.RandomSearchOracle(objective="val_loss", max_trials=1, seed=1)
    tuner = Wrong(oracle=oracle, hypermodel=build_level, directory=tmp_path, project_name="w")
    tuner.search()
    frame = tuner.results_dataframe()
    assert frame["status"][0] == "FAILED"
    assert "trial '99' is not the trial this tuner is running ('0')" in frame["message"][0]


def test_trials_with_folds_run_one_by_one_and_say_why(tmp_path, caplog):
    tuner = _tuner(tmp_path, "vectorize")
    x, y = _series()
    with caplog.at_level("INFO", logger="rnnkit.tuner"):
        tuner.search(x, y, epochs=1, cv=model_selection.TimeSeriesSplit(2), vectorize=True)
    reasons = [r.getMessage() for r in caplog.records if r.getMessage().startswith("vectorize")]
    assert reasons == [
        "vectorize: trials run one by one: with cv= each trial trains its folds one after another."
    ]


def build_level_k(hp):
    hp.Int("k", 0, 20)
    return Level(hp.Boolean("bad"))


def test_hyperband_promotions_train_each_fold_from_scratch(tmp_path):
    FITS.clear()
    tuner = kt.Hyperband(
        build_level_k, objective="val_loss", max_epochs=4, factor=2, max_trials=6,
        directory=tmp_path, project_name="hb",
    )  # fmt: skip
    x, y = _series()
    tuner.search(x, y, epochs=4, cv=model_selection.TimeSeriesSplit(3))
    frame = tuner.results_dataframe()
    promoted = frame[frame["hyperband_parent"].notna()]
    assert len(promoted) >= 1 and set(frame["status"]) == {"COMPLETED"}
    for _, row in promoted.iterrows():
        trial = tuner.oracle.get_trial(row["trial_id"])
        attempt = next(t for t in tuner.study.trials if t.user_attrs["trial_id"] == row["trial_id"])
        epochs = int(row["hyperband_epochs"])
        # every fold trained its round's epochs from epoch 0: steps 0 .. 3 * epochs - 1
        assert sorted(attempt.intermediate_values) == list(range(3 * epochs))
        assert found_epochs(tuner, trial) == epochs  # the last fold's, no parent added


def test_update_trial_stopped_by_the_pruner_ends_the_trial_pruned(tmp_path):
    class Reporting(kt.engine.tuner.Tuner):
        def run_trial(self, trial, *args, **kwargs):
            bad = trial.hyperparameters.get("bad")
            for step in range(3):
                status = self.oracle.update_trial(
                    trial.trial_id, {"val_loss": 20.0 if bad else 1.0 - step / 10}, step=step
                )
                if status == kt.TrialStatus.STOPPED:
                    return None
            return None

    oracle = kt.oracles.GridSearchOracle(objective="val_loss")
    tuner = Reporting(
        oracle=oracle, hypermodel=build_level, directory=tmp_path, project_name="stop",
        pruner=optuna.pruners.ThresholdPruner(upper=12.0),
    )  # fmt: skip
    tuner.search()
    frame = tuner.results_dataframe().set_index("hp_bad")
    assert frame.loc[False, "status"] == "COMPLETED"
    assert frame.loc[False, "score"] == pytest.approx(0.8)  # the best reported step's
    assert frame.loc[False, "best_step"] == 2
    assert frame.loc[True, "status"] == "PRUNED"


class _CutsTheSearch(Level):
    """A Level whose fit moves the search's deadline into the past: max_time is up."""

    tuner: ClassVar[Any] = None

    def fit(self, x, y, **kwargs):
        type(self).tuner._deadline = 1.0  # 1970: every later deadline check says "up"
        return super().fit(x, y, **kwargs)


def test_at_max_time_no_later_fold_starts_and_the_folds_that_ran_score(tmp_path):
    tuner = _tuner(tmp_path, "deadline")
    tuner.hypermodel.build = lambda hp: _CutsTheSearch(hp.Boolean("bad"))
    _CutsTheSearch.tuner = tuner
    x, y = _series()
    tuner.search(x, y, epochs=3, cv=model_selection.TimeSeriesSplit(n_splits=3))
    frame = tuner.results_dataframe().set_index("hp_bad")
    assert list(frame["status"]) == ["COMPLETED", "COMPLETED"]
    # each trial ran fold 0 only (cut after its first batch, still validated)
    assert [mean for _, _, mean in FITS] == [4.0, 4.0]
    assert list(frame["score"]) == pytest.approx([4.0, 14.0])
    assert list(frame["fold_0_score"]) == pytest.approx([4.0, 14.0])
    assert "fold_1_score" not in frame
    assert [t.user_attrs["result"]["folds_planned"] for t in tuner.study.trials] == [3, 3]
