"""#15 part 3: ``refit_best`` trains the best values on training + validation data.

For the epoch count the search found (a Hyperband promotion counts its parent's
epochs), seeded reproducibly, without early stopping, through ``hypermodel.build``
and ``hypermodel.fit``.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest
import rnn_builds
import tuner_fakes

import rnnkit.tuner as kt
from rnnkit.callbacks import EarlyStopping
from rnnkit.callbacks.base import CallbackList
from rnnkit.callbacks.base import History
from rnnkit.errors import DataError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.tuner import _checkpoint
from rnnkit.tuner.refit import NoCompletedTrialError
from rnnkit.tuner.refit import found_epochs
from rnnkit.tuner.refit import refit_best

#: The curve model's validation loss is lowest at this epoch (0-based): 3 epochs found.
PEAK = 2


class CurveModel:
    """``val_loss = |epoch - PEAK| + |units - 4|``; records the rows and epochs it trained."""

    def __init__(self, units: int) -> None:
        self.units = units
        self.stop_training = False
        self.x_seen: np.ndarray | None = None
        self.rows_per_epoch: list[int] = []

    def fit(self, x, y, epochs=1, callbacks=None, initial_epoch=0, verbose=0, **kwargs):
        history = History()
        cbs = CallbackList([history, *(callbacks or [])], model=self, epochs=epochs, steps=1)
        self.x_seen = np.asarray(x)
        self.stop_training = False
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch)
            self.rows_per_epoch.append(len(x))
            value = float(abs(epoch - PEAK) + abs(self.units - 4))
            cbs.on_epoch_end(epoch, {"loss": value, "val_loss": value})
            if self.stop_training:
                break
        cbs.on_train_end()
        return history


def build_curve(hp):
    return CurveModel(hp.Choice("units", [2, 4, 8]))


def _data(n, offset=0.0):
    x = (offset + np.arange(n * 3, dtype="float32")).reshape(n, 3, 1)
    return x, x[:, -1, :]


def _grid(tmp_path, build=build_curve, name="curve", **kwargs):
    return kt.GridSearch(
        build,
        objective="val_loss",
        seed=3,
        directory=tmp_path,
        project_name=name,
        **kwargs,
    )


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """A grid search over the curve model: trial with units=4 is best, at epoch 2."""
    tuner = _grid(tmp_path_factory.mktemp("refit"))
    x, y = _data(12)
    x_val, y_val = _data(4, offset=100.0)
    tuner.search(x, y, epochs=6, validation_data=(x_val, y_val))
    return tuner, (x, y), (x_val, y_val)


def test_refit_best_trains_the_best_values_on_train_then_validation_rows(searched):
    tuner, (x, y), (x_val, y_val) = searched
    refit = refit_best(tuner, x, y, validation_data=(x_val, y_val))
    best = tuner.get_best_trials(1)[0]
    assert refit.trial_id == best.trial_id
    assert refit.hyperparameters.get("units") == 4
    assert refit.model.units == 4
    assert (refit.epochs, refit.epochs_found) == (PEAK + 1, PEAK + 1)
    assert len(refit.history.history["loss"]) == PEAK + 1
    assert refit.model.rows_per_epoch == [16] * (PEAK + 1)
    assert (refit.rows, refit.validation_rows) == (16, 4)
    np.testing.assert_array_equal(refit.model.x_seen, np.concatenate([x, x_val]))  # in order


def test_refit_best_without_validation_data_trains_on_x_alone(searched):
    tuner, (x, y), _ = searched
    refit = refit_best(tuner, x, y)
    assert (refit.rows, refit.validation_rows) == (12, 0)
    assert refit.model.rows_per_epoch == [12] * (PEAK + 1)


def test_refit_best_epochs_overrides_the_found_count(searched):
    tuner, (x, y), _ = searched
    refit = refit_best(tuner, x, y, epochs=5)
    assert (refit.epochs, refit.epochs_found) == (5, PEAK + 1)
    assert len(refit.history.history["loss"]) == 5


def test_refit_best_leaves_early_stopping_out_with_a_warning(searched):
    tuner, (x, y), _ = searched
    # the loss only rises after epoch 0: this would stop training at epoch 1
    stop = EarlyStopping(monitor="loss", patience=0)
    with pytest.warns(UserWarning, match="EarlyStopping callbacks left out"):
        refit = refit_best(tuner, x, y, callbacks=[stop])
    assert len(refit.history.history["loss"]) == PEAK + 1


def test_refit_best_refuses_validation_split(searched):
    tuner, (x, y), _ = searched
    with pytest.raises(RnnkitValueError, match=re.escape("validation_split=0.2 would hold out")):
        refit_best(tuner, x, y, validation_split=0.2)


@pytest.mark.parametrize(
    ("validation_data", "error", "message"),
    [
        ((np.zeros((4, 3, 2)), np.zeros((4, 1))), DataError, "x_val must have the sample shape"),
        (
            (np.zeros((4, 3, 1)), np.zeros((3, 1))),
            DataError,
            "different numbers of samples: 4 and 3",
        ),
        ((np.zeros((4, 3, 1)),), RnnkitValueError, "must be a pair (x_val, y_val)"),
    ],
)
def test_refit_best_rejects_validation_data_that_does_not_fit(
    searched, validation_data, error, message
):
    tuner, (x, y), _ = searched
    with pytest.raises(error, match=re.escape(message)):
        refit_best(tuner, x, y, validation_data=validation_data)


@pytest.mark.parametrize(("name", "value"), [("epochs", 0), ("seed", -1), ("epochs", 2.5)])
def test_refit_best_rejects_bad_counts(searched, name, value):
    tuner, (x, y), _ = searched
    with pytest.raises(RnnkitValueError, match=re.escape(f"Received: {name}={value!r}")):
        refit_best(tuner, x, y, **{name: value})


def test_refit_best_without_a_completed_trial_names_the_fix(tmp_path):
    tuner = _grid(tmp_path)
    x, y = _data(12)
    with pytest.raises(NoCompletedTrialError, match=r"trials: none\).*Run tuner\.search"):
        refit_best(tuner, x, y)


def _build_failing(hp):
    hp.Choice("units", [2])
    raise kt.FailedTrialError("too big")


def test_refit_best_after_only_failed_trials_counts_them(tmp_path):
    tuner = _grid(tmp_path, build=_build_failing)
    x, y = _data(12)
    tuner.search(x, y, epochs=2, validation_data=_data(4))
    with pytest.raises(NoCompletedTrialError, match=re.escape("(trials: 1 failed)")):
        refit_best(tuner, x, y)


def test_refit_best_needs_a_tuner_that_trains_with_fit():
    tuner = object.__new__(kt.SklearnTuner)  # refused before any use: no study needed
    with pytest.raises(RnnkitTypeError, match="Received: SklearnTuner; its get_best_models"):
        refit_best(tuner, *_data(4))


class CurveHyperModel(kt.HyperModel):
    """Tunes ``batch_size`` in ``fit``, as keras-tuner's examples do."""

    def __init__(self) -> None:
        super().__init__()
        self.fits: list[tuple[dict, int, int]] = []

    def build(self, hp):
        return build_curve(hp)

    def fit(self, hp, model, *args, **kwargs):
        batch_size = hp.Choice("batch_size", [8, 16])
        self.fits.append((dict(hp.values), kwargs["epochs"], batch_size))
        return model.fit(*args, batch_size=batch_size, **kwargs)


def test_refit_best_calls_an_overridden_hypermodel_fit(tmp_path):
    hypermodel = CurveHyperModel()
    tuner = _grid(tmp_path, build=hypermodel)
    x, y = _data(12)
    tuner.search(x, y, epochs=6, validation_data=_data(4))
    hypermodel.fits.clear()
    refit = refit_best(tuner, x, y)
    assert hypermodel.fits == [(refit.hyperparameters.values, PEAK + 1, 8)]
    assert refit.hyperparameters.values == tuner.get_best_hyperparameters(1)[0].values


class BatchSizeSearch(kt.GridSearch):
    """keras-tuner's pattern: run_trial tunes a fit argument."""

    def run_trial(self, trial, *args, **kwargs):
        kwargs["batch_size"] = trial.hyperparameters.Choice("batch_size", [8, 16])
        return super().run_trial(trial, *args, **kwargs)


def test_refit_best_warns_that_an_overridden_run_trial_is_not_called(tmp_path):
    tuner = BatchSizeSearch(
        build_curve, objective="val_loss", seed=3, directory=tmp_path, project_name="bs"
    )
    x, y = _data(12)
    tuner.search(x, y, epochs=4, validation_data=_data(4))
    with pytest.warns(UserWarning, match=r"BatchSizeSearch\.run_trial is overridden"):
        refit = refit_best(tuner, x, y, batch_size=8)
    assert refit.model.units == 4


def _build_scored(hp):
    units = hp.Choice("units", [2, 4])
    model = SimpleNamespace(fit=lambda *args, **kwargs: float(abs(units - 4)))
    return model


def test_refit_best_asks_for_epochs_when_the_search_recorded_none(tmp_path):
    tuner = _grid(tmp_path, build=_build_scored, name="scored")
    x, y = _data(12)
    tuner.search(x, y, epochs=3)
    with pytest.raises(RnnkitValueError, match=r"recorded no per-epoch values.*Pass epochs="):
        refit_best(tuner, x, y)
    assert refit_best(tuner, x, y, epochs=2).history == 0.0


def test_tuner_refit_best_is_the_function(searched):
    tuner, (x, y), val = searched
    refit = tuner.refit_best(x, y, validation_data=val, seed=4)
    assert (refit.epochs, refit.rows, refit.seed, refit.model.units) == (PEAK + 1, 16, 4, 4)


# ---------------------------------------------------------------- Hyperband
def test_found_epochs_of_hyperband_promotions_include_their_parents(tmp_path):
    tuner = kt.Hyperband(
        tuner_fakes.build_model,
        objective="val_loss",
        max_epochs=3,
        factor=3,
        seed=1,
        directory=tmp_path,
        project_name="hb",
    )
    x, y = tuner_fakes.data()
    tuner.search(x, y, validation_data=(x, y))
    trials = tuner.get_best_trials(100)
    promoted = [t for t in trials if t.control.get("parent")]
    assert promoted, "the schedule promotes trials"
    # the fake model's loss falls every epoch: a trial's best epoch is its last
    for trial in trials:
        assert found_epochs(tuner, trial) == trial.control["epochs"]
    best = trials[0]
    refit = refit_best(tuner, x, y)
    assert refit.epochs == best.control["epochs"]
    # the fake's loss depends only on its values and the epochs it trained
    assert refit.history.history["val_loss"][-1] == pytest.approx(best.score)


def _stub_tuner(*trials):
    """A stand-in with the study view ``found_epochs`` reads."""
    records = {
        t.trial_id: SimpleNamespace(trial=t, last=SimpleNamespace(intermediate=steps))
        for t, steps in trials
    }
    return SimpleNamespace(_view=lambda: SimpleNamespace(trials=records))


def test_found_epochs_counts_the_epochs_the_best_weights_trained():
    parent = kt.Trial("1", best_step=1, control={"epochs": 3, "initial_epoch": 0})
    child = kt.Trial("2", best_step=6, control={"epochs": 9, "initial_epoch": 3, "parent": "1"})
    restarted = kt.Trial(  # its parent's checkpoint did not load: it ran epochs 0..8
        "3", best_step=6, control={"epochs": 9, "initial_epoch": 3, "parent": "1"}
    )
    grandchild = kt.Trial(
        "4", best_step=10, control={"epochs": 27, "initial_epoch": 9, "parent": "2"}
    )
    tuner = _stub_tuner(
        (parent, {0: 3.0, 1: 2.0, 2: 2.5}),
        (child, {e: 1.0 for e in range(3, 9)}),
        (restarted, {e: 1.0 for e in range(9)}),
        (grandchild, {e: 1.0 for e in range(9, 27)}),
    )
    assert found_epochs(tuner, parent) == 2
    assert found_epochs(tuner, child) == 2 + (6 - 3 + 1)  # parent's best 2, then 4 more
    assert found_epochs(tuner, restarted) == 7
    assert found_epochs(tuner, grandchild) == 6 + (10 - 9 + 1)


# ------------------------------------------------------------ reproducibility
def _gru_search(tmp_path, build):
    tuner = kt.RandomSearch(
        build,
        objective="val_loss",
        max_trials=2,
        seed=7,
        directory=tmp_path,
        project_name="gru",
    )
    x, y = rnn_builds.data()
    train, val = slice(0, 36), slice(36, 48)
    tuner.search(
        x[train], y[train], validation_data=(x[val], y[val]), epochs=3, batch_size=8,
        verbose=0, vectorize=False,
    )  # fmt: skip
    return tuner, (x[train], y[train]), (x[val], y[val])


def _weights(model):
    return [np.array(w, copy=True) for w in model.get_weights()]


@pytest.fixture(scope="module")
def gru_searched(tmp_path_factory):
    return _gru_search(tmp_path_factory.mktemp("gru"), rnn_builds.build_gru)


def test_refit_best_with_a_seed_repeats_itself_exactly(gru_searched):
    tuner, (x, y), val = gru_searched
    fit = {"validation_data": val, "batch_size": 8, "verbose": 0}
    first = refit_best(tuner, x, y, seed=5, **fit)
    again = refit_best(tuner, x, y, seed=5, **fit)
    other = refit_best(tuner, x, y, seed=6, **fit)
    assert first.seed == 5
    assert first.rows == 48
    for a, b in zip(_weights(first.model), _weights(again.model), strict=True):
        np.testing.assert_array_equal(a, b)  # bit-identical
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(_weights(first.model), _weights(other.model), strict=True)
    )


@pytest.mark.parametrize("build", [rnn_builds.build_gru, rnn_builds.build_unshaped])
def test_refit_best_on_the_training_rows_reproduces_the_best_trial(gru_searched, tmp_path, build):
    """With the search's seed and no added rows, the refit is the searched model."""
    if build is rnn_builds.build_gru:
        tuner, (x, y), _ = gru_searched
    else:
        tuner, (x, y), _ = _gru_search(tmp_path, build)
    refit = refit_best(tuner, x, y, batch_size=8, verbose=0)
    assert refit.seed == tuner.oracle.seed
    if build is rnn_builds.build_gru:
        searched = tuner.get_best_models(1)[0]
    else:  # get_best_models does not build an unshaped model before loading: load it here
        searched = build(refit.hyperparameters)
        searched.build((None, *x.shape[1:]))
        folder = tuner.trial_dir(refit.trial_id)
        _checkpoint.load_checkpoint(folder, searched, with_optimizer=False)
    for a, b in zip(_weights(refit.model), _weights(searched), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
