import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import TimeSeriesSplit

import rnnkit.tuner as kt
from rnnkit.errors import NotFittedError


def build(hp):
    return Ridge(alpha=hp.Float("alpha", 0.01, 100.0, step=10, sampling="log"))


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 3))
    return x, x @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=120)


def test_sklearn_tuner_with_time_series_split(tmp_path, data):
    tuner = kt.SklearnTuner(
        oracle=kt.oracles.GridSearchOracle(objective=kt.Objective("score", "max")),
        hypermodel=build,
        cv=TimeSeriesSplit(n_splits=4),
        metrics=[mean_absolute_error],
        directory=tmp_path,
        project_name="sk",
    )
    tuner.search(*data)
    trials = list(tuner.oracle.trials.values())
    assert sorted(t.values["alpha"] for t in trials) == [0.01, 0.1, 1.0, 10.0, 100.0]
    best = tuner.get_best_trials()[0]
    assert best.values["alpha"] == 0.01 and set(best.metrics) == {"score", "mean_absolute_error"}
    model = tuner.get_best_models()[0]
    assert model.alpha == 0.01 and hasattr(model, "coef_")


def test_sklearn_tuner_defaults_to_score_max_and_needs_search_for_models(tmp_path, data):
    tuner = kt.SklearnTuner(
        kt.oracles.RandomSearchOracle(max_trials=2, seed=0),
        build,
        scoring="neg_mean_absolute_error",
        directory=tmp_path,
        project_name="s2",
    )
    assert tuner.oracle.objective == kt.Objective("score", "max")
    with pytest.raises(NotFittedError, match="search"):
        tuner.get_best_models()
    tuner.search(*data, workers=1)
    assert all(t.score < 0 for t in tuner.oracle.trials.values())
