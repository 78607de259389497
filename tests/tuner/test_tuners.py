import math
import re

import numpy as np
import pytest
import tuner_fakes as f

import rnnkit.tuner as kt
from rnnkit.errors import DataError
from rnnkit.tuner.errors import ConsecutiveFailuresError


def _random(tmp_path, build=f.build_model, **kwargs):
    kwargs.setdefault("objective", "val_loss")
    kwargs.setdefault("max_trials", 4)
    kwargs.setdefault("seed", 1)
    return kt.RandomSearch(build, directory=tmp_path, project_name="p", **kwargs)


def test_random_search_respects_max_trials_and_finds_best(tmp_path, xy):
    tuner = _random(tmp_path, max_trials=6)
    tuner.search(*xy, epochs=2, validation_split=0.25)
    df = tuner.results_dataframe()
    assert len(df) == 6 and set(df.status) == {"COMPLETED"}
    best = tuner.get_best_hyperparameters(1)[0]
    expected = f.quality(best["units"], best["activation"], best["dropout"]) + 1 / 3
    assert df.score.min() == pytest.approx(expected)
    assert tuner.remaining_trials == 0
    assert len({tuple(sorted(t.values.items())) for t in tuner.oracle.trials.values()}) == 6


def test_get_best_models_loads_best_epoch_weights(tmp_path, xy):
    tuner = _random(tmp_path, max_trials=2)
    tuner.search(*xy, epochs=3)
    model = tuner.get_best_models(1)[0]
    assert model.progress == 3.0  # the fake improves every epoch: best epoch is the last


def test_tiny_space_never_repeats_and_stops_when_exhausted(tmp_path, xy):
    def build(hp):
        return f.FakeModel(["a", "b", "c"].index(hp.Choice("x", ["a", "b", "c"])))

    tuner = _random(tmp_path, build=build, max_trials=10)
    tuner.search(*xy, epochs=1)
    values = [t.values["x"] for t in tuner.oracle.trials.values()]
    assert sorted(values) == ["a", "b", "c"]


def test_grid_search_enumerates_every_point_once(tmp_path, xy):
    tuner = kt.GridSearch(f.build_grid, objective="val_loss", directory=tmp_path, project_name="g")
    tuner.search(*xy, epochs=1)
    combos = [(t.values["a"], t.values["b"]) for t in tuner.oracle.trials.values()]
    assert len(combos) == 20 == len(set(combos))
    assert tuner.get_best_hyperparameters()[0].values == {"a": 0, "b": "w"}


@pytest.mark.parametrize("sampler", ["gp", "tpe"])
def test_bayesian_optimization_runs_without_duplicates(tmp_path, xy, sampler):
    def build(hp):
        return f.FakeModel(abs(hp.Int("u", 1, 4) - 3) + hp.Choice("c", [0, 1]))

    tuner = kt.BayesianOptimization(
        build,
        objective="val_loss",
        max_trials=8,
        num_initial_points=2,
        seed=3,
        sampler=sampler,
        directory=tmp_path,
        project_name=sampler,
    )
    tuner.search(*xy, epochs=1)
    combos = [tuple(sorted(t.values.items())) for t in tuner.oracle.trials.values()]
    assert len(combos) == 8 == len(set(combos))
    assert tuner.get_best_hyperparameters()[0].values == {"u": 3, "c": 0}


def test_finished_search_run_again_starts_nothing_t4(tmp_path, xy):
    _random(tmp_path, max_trials=3).search(*xy, epochs=1)
    again = _random(tmp_path, max_trials=3)
    before = again.get_best_hyperparameters()[0].values
    again.search(*xy, epochs=1)
    assert len(again.study.trials) == 3
    assert again.get_best_hyperparameters()[0].values == before


def test_max_trials_can_grow_on_resume(tmp_path, xy):
    _random(tmp_path, max_trials=2).search(*xy, epochs=1)
    more = _random(tmp_path, max_trials=4)
    more.search(*xy, epochs=1)
    assert len(more.results_dataframe()) == 4


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tuner": kt.GridSearch}, "tuner"),
        ({"objective": "val_mae"}, "objective"),
        ({"seed": 2}, "seed"),
    ],
)
def test_reopen_with_other_settings_names_project_field_and_overwrite_t5(
    tmp_path, xy, change, field
):
    _random(tmp_path, max_trials=1).search(*xy, epochs=1)
    cls = change.pop("tuner", kt.RandomSearch)
    kwargs = {"objective": "val_loss", "max_trials": 1, "seed": 1, **change}
    if cls is kt.GridSearch:
        kwargs.pop("max_trials")
    with pytest.raises(ValueError, match=rf"Project 'p'.*different {field}.*overwrite=True"):
        cls(f.build_model, directory=tmp_path, project_name="p", **kwargs)


def test_reopen_with_other_search_space_t5(tmp_path, xy):
    _random(tmp_path, max_trials=1).search(*xy, epochs=1)

    def build(hp):
        return f.FakeModel(hp.Int("units", 8, 128, step=8) / 100)

    tuner = _random(tmp_path, build=build, max_trials=1)
    with pytest.raises(
        ValueError, match=r"Project 'p'.*search space \(hyperparameter 'units'\).*overwrite=True"
    ):
        tuner.search(*xy, epochs=1)
    fresh = _random(tmp_path, build=build, max_trials=1, overwrite=True)
    fresh.search(*xy, epochs=1)
    assert len(fresh.results_dataframe()) == 1


class Flaky:
    """Fails ``n`` calls with ``exc`` after the first (the tuner's dry run)."""

    def __init__(self, exc, n):
        self.exc, self.n, self.calls = exc, n, 0

    def __call__(self, hp):
        hp.Int("units", 1, 100)
        self.calls += 1
        if 1 < self.calls <= self.n + 1:
            raise self.exc
        return f.FakeModel(0.5)


def test_retryable_failure_is_retried_t6(tmp_path, xy):
    build = Flaky(RuntimeError("flaky"), 1)
    tuner = _random(tmp_path, build=build, max_trials=1, max_retries_per_trial=1)
    tuner.search(*xy, epochs=1)
    trial = next(iter(tuner.oracle.trials.values()))
    assert trial.status is kt.TrialStatus.COMPLETED and trial.attempts == 2
    assert len(tuner.study.trials) == 2


def test_failed_trial_error_is_not_retried_and_traceback_stored_t6(tmp_path, xy):
    build = Flaky(kt.FailedTrialError("too big"), 1)
    tuner = _random(tmp_path, build=build, max_trials=2, max_retries_per_trial=3)
    tuner.search(*xy, epochs=1)
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == [kt.TrialStatus.FAILED, kt.TrialStatus.COMPLETED]
    assert trials[0].attempts == 1 and "too big" in trials[0].message
    assert "FailedTrialError" in trials[0].traceback


def test_fatal_error_propagates_t6(tmp_path, xy):
    tuner = _random(tmp_path, build=Flaky(kt.FatalValueError("bad setup"), 5), max_trials=3)
    with pytest.raises(kt.FatalValueError, match="bad setup"):
        tuner.search(*xy, epochs=1)
    assert len(tuner.results_dataframe()) == 1


def test_consecutive_failures_stop_with_last_error_t6(tmp_path, xy):
    tuner = _random(
        tmp_path,
        build=Flaky(RuntimeError("always"), 99),
        max_trials=10,
        max_consecutive_failed_trials=3,
        max_retries_per_trial=1,
    )
    with pytest.raises(ConsecutiveFailuresError, match=r"(?s)limit of 3.*RuntimeError: always"):
        tuner.search(*xy, epochs=1)
    df = tuner.results_dataframe()
    assert list(df.status) == ["FAILED"] * 3 and list(df.attempts) == [2, 2, 2]


def test_nan_and_inf_loss_fail_the_trial_and_never_win_t7(tmp_path, xy):
    tuner = kt.GridSearch(
        f.build_nonfinite, objective="val_loss", directory=tmp_path, project_name="n"
    )
    tuner.search(*xy, epochs=3)
    by_units = {t.values["units"]: t for t in tuner.oracle.trials.values()}
    assert by_units[8].status is kt.TrialStatus.FAILED
    assert "non-finite loss (nan) at epoch 1, batch 0" in by_units[8].message
    assert by_units[16].status is kt.TrialStatus.FAILED
    assert "non-finite loss (inf) at epoch 1" in by_units[16].message
    assert by_units[32].status is kt.TrialStatus.COMPLETED
    best = tuner.get_best_hyperparameters(4)
    assert [hp["units"] for hp in best] == [32, 64]
    assert all(math.isfinite(t.score) for t in tuner.get_best_trials(4))


def test_missing_objective_is_a_clear_fatal_error(tmp_path, xy):
    tuner = _random(tmp_path, objective="val_mae", max_trials=1)
    with pytest.raises(ValueError, match=r"'val_mae' is not among the metrics fit\(\) reported"):
        tuner.search(*xy, epochs=1)


def test_bad_data_is_rejected_before_any_trial(tmp_path, xy):
    x, y = xy
    x = x.copy()
    x[3, 1, 0] = np.nan
    tuner = _random(tmp_path)
    with pytest.raises(DataError, match=re.escape("`x` contains NaN (first at index (3, 1, 0))")):
        tuner.search(x, y, epochs=1)
    with pytest.raises(DataError, match="different numbers of samples"):
        tuner.search(xy[0], xy[1][:5], epochs=1)
    assert len(tuner.study.trials) == 0


def test_max_time_stops_starting_trials(tmp_path, xy, monkeypatch):
    monkeypatch.setenv("RNNKIT_TEST_EPOCH_SLEEP", "0.4")
    tuner = _random(tmp_path, build=f.build_slow, max_trials=50)
    tuner.search(*xy, epochs=1, max_time=0.5)
    assert 1 <= len(tuner.results_dataframe()) <= 2


def test_executions_per_trial_average(tmp_path, xy):
    tuner = _random(tmp_path, max_trials=1, executions_per_trial=2)
    tuner.search(*xy, epochs=2)
    trial = tuner.get_best_trials()[0]
    q = f.quality(trial.values["units"], trial.values["activation"], trial.values["dropout"])
    assert trial.score == pytest.approx(q + 1 / 3)


def test_median_pruner_prunes(tmp_path, xy):
    def build(hp):
        return f.FakeModel(float(hp.Int("q", 0, 40)))

    tuner = kt.GridSearch(
        build,
        objective="val_loss",
        max_trials=12,
        pruner="median",
        directory=tmp_path,
        project_name="pr",
    )
    tuner.search(*xy, epochs=4)
    statuses = list(tuner.results_dataframe().status)
    assert "PRUNED" in statuses and statuses[:5] == ["COMPLETED"] * 5


def test_hypermodel_fit_can_tune_fit_arguments_and_return_float(tmp_path, xy):
    class MyHyperModel(kt.HyperModel):
        def build(self, hp):
            return f.FakeModel(hp.Float("q", 0.0, 1.0, step=0.5))

        def fit(self, hp, model, *args, **kwargs):
            kwargs["epochs"] = hp.Int("epochs", 1, 3)
            model.fit(*args, **kwargs)
            return model.quality + kwargs["epochs"]

    tuner = kt.GridSearch(MyHyperModel(), directory=tmp_path, project_name="hm")
    tuner.search(*xy)
    assert tuner.get_best_hyperparameters()[0].values == {"q": 0.0, "epochs": 1}
    assert tuner.get_best_trials()[0].score == 1.0


def test_summaries_print_like_keras_tuner(tmp_path, xy):
    tuner = _random(tmp_path, max_trials=2)
    lines = []
    tuner.search_space_summary(print_fn=lambda *a: lines.append(" ".join(map(str, a))))
    assert lines[:3] == ["Search space summary", "Default search space size: 3", "units (Int)"]
    assert "'step': 8" in lines[3]
    assert lines[-1] == "Distinct configurations: 144"
    tuner.search(*xy, epochs=1)
    lines.clear()
    tuner.results_summary(1, print_fn=lambda *a: lines.append(" ".join(map(str, a))))
    assert lines[:4] == [
        "Results summary",
        f"Results in {tmp_path / 'p'}",
        "Showing 1 best trials",
        'Objective(name="val_loss", direction="min")',
    ]
    assert re.fullmatch(r"Trial \d summary", lines[5]) and lines[6] == "Hyperparameters:"
    assert lines[-1].startswith("Score: ")


def test_argument_validation(tmp_path):
    with pytest.raises(ValueError, match="max_trials"):
        kt.RandomSearch(f.build_model, objective="val_loss", max_trials=0, directory=tmp_path)
    with pytest.raises(ValueError, match="workers"):
        _random(tmp_path).search(workers=0)
    with pytest.raises(ValueError, match="Unknown pruner"):
        _random(tmp_path, pruner="mediann")
    with pytest.raises(ValueError, match="factor must be an integer >= 2"):
        kt.Hyperband(f.build_model, objective="val_loss", factor=1, directory=tmp_path)
    with pytest.raises(ValueError, match="distribution_strategy"):
        _random(tmp_path, distribution_strategy=object())


def test_optuna_study_is_readable_by_optuna(tmp_path, xy):
    import optuna

    tuner = _random(tmp_path, max_trials=2)
    tuner.search(*xy, epochs=1)
    study = optuna.load_study(study_name="p", storage=f"sqlite:///{tmp_path / 'p' / 'study.db'}")
    assert len(study.trials) == 2 and set(study.best_trial.params) == {
        "units",
        "activation",
        "dropout",
    }
    assert study.best_trial.user_attrs["values"] == tuner.get_best_hyperparameters()[0].values
