"""``get_hyperparameter_importances()``: Optuna's fANOVA over the completed trials."""

import math

import pytest
import tuner_fakes as f
from optuna.distributions import CategoricalDistribution
from optuna.distributions import IntDistribution
from optuna.importance import PedAnovaImportanceEvaluator

import rnnkit.tuner as kt
from rnnkit.errors import RnnkitValueError
from rnnkit.tuner._importance import param_importances
from rnnkit.tuner._optuna import Attempt
from rnnkit.tuner._optuna import AttemptState


def build_one_matters(hp):
    """Only ``units`` moves the loss; ``activation`` and ``dropout`` do nothing."""
    units = hp.Int("units", 1, 4)
    hp.Choice("activation", ["tanh", "relu"])
    hp.Float("dropout", 0.0, 0.5, step=0.25)
    return f.FakeModel(10.0 * units)


def _tuner(kind, tmp_path, **kwargs):
    common = {"objective": "val_loss", "directory": tmp_path, "project_name": kind, "seed": 3}
    if kind == "random":
        return kt.RandomSearch(build_one_matters, max_trials=16, **common, **kwargs)
    if kind == "grid":
        return kt.GridSearch(build_one_matters, **common, **kwargs)
    if kind == "bayesian":
        return kt.BayesianOptimization(build_one_matters, max_trials=16, **common, **kwargs)
    return kt.Hyperband(build_one_matters, max_epochs=9, factor=3, **common, **kwargs)


def _check_shares(importances):
    assert set(importances) == {"units", "activation", "dropout"}
    assert all(0.0 <= v <= 1.0 for v in importances.values())
    assert math.isclose(sum(importances.values()), 1.0)
    values = list(importances.values())
    assert values == sorted(values, reverse=True)  # most important first


@pytest.mark.parametrize("kind", ["random", "grid", "bayesian", "hyperband"])
def test_the_only_hyperparameter_that_matters_comes_first(tmp_path, xy, kind):
    tuner = _tuner(kind, tmp_path)
    tuner.search(*xy, epochs=1)
    importances = tuner.get_hyperparameter_importances()
    _check_shares(importances)
    assert next(iter(importances)) == "units"
    assert importances["units"] > 0.9
    assert importances == tuner.get_hyperparameter_importances()  # deterministic


def test_importance_reads_the_study_from_a_new_tuner_and_accepts_an_evaluator(tmp_path, xy):
    _tuner("random", tmp_path).search(*xy, epochs=1)
    reopened = _tuner("random", tmp_path)  # resumes the finished study: runs nothing
    _check_shares(reopened.get_hyperparameter_importances())
    ped = reopened.get_hyperparameter_importances(evaluator=PedAnovaImportanceEvaluator())
    assert math.isclose(sum(ped.values()), 1.0) and next(iter(ped)) == "units"


def test_importance_needs_two_completed_trials(tmp_path, xy):
    tuner = kt.RandomSearch(
        build_one_matters, objective="val_loss", max_trials=1, directory=tmp_path, seed=1
    )
    with pytest.raises(RnnkitValueError, match="at least 2 completed trials; the search has 0"):
        tuner.get_hyperparameter_importances()
    tuner.search(*xy, epochs=1)
    with pytest.raises(RnnkitValueError, match="at least 2 completed trials; the search has 1"):
        tuner.get_hyperparameter_importances()


def _attempt(number, value, units, state=AttemptState.COMPLETE, **attrs):
    return Attempt(
        number=number,
        trial_id=number,
        state=state,
        value=value,
        params={"units": units, "act": "tanh"},
        user_attrs={"trial_id": str(number), **attrs},
        started=None,
        completed=None,
        distributions={
            "units": IntDistribution(1, 8),
            "act": CategoricalDistribution(["tanh", "relu"]),
        },
    )


def test_importance_says_when_nothing_varied_or_every_score_is_equal():
    same_values = [_attempt(0, 1.0, 4), _attempt(1, 2.0, 4)]
    nothing_varied = r"no hyperparameter varied .*\(each of units, act kept one value\)"
    with pytest.raises(RnnkitValueError, match=nothing_varied):
        param_importances(same_values, "min")
    same_score = [_attempt(0, 1.0, 2), _attempt(1, 1.0, 4)]
    with pytest.raises(RnnkitValueError, match=r"every one of the 2 completed trials scored 1\.0"):
        param_importances(same_score, "min")


def test_only_finite_completed_search_trials_count():
    attempts = [
        _attempt(0, 1.0, 1),
        _attempt(1, 5.0, 5),
        _attempt(2, None, 8, state=AttemptState.FAIL),
        _attempt(3, math.inf, 8),
        _attempt(4, 0.0, 3, discarded="duplicate configuration"),
    ]
    importances = param_importances(attempts, "min")
    assert importances == {"units": 1.0, "act": 0.0}  # act kept one value
    with pytest.raises(RnnkitValueError, match="the search has 1"):
        param_importances(attempts[1:], "min")
