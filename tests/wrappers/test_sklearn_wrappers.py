"""rnnkit.wrappers: scikit-learn estimators with Keras 3's names, for dense and recurrent models."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.model_selection import TimeSeriesSplit
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.layers import GRU
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.models import Sequential
from rnnkit.optimizers import Adam
from rnnkit.wrappers import SKLearnClassifier
from rnnkit.wrappers import SKLearnRegressor
from rnnkit.wrappers import SKLearnTransformer

QUIET = {"epochs": 1, "verbose": 0}


def dense_regressor(X, y, learning_rate=0.001):
    torch.manual_seed(0)
    model = Sequential([Dense(y.shape[1])])
    model.compile(optimizer=Adam(learning_rate=learning_rate), loss="mse")
    return model


def dense_classifier(X, y):
    torch.manual_seed(0)
    model = Sequential([Dense(y.shape[1], activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def recurrent_regressor(X, y, units=4, learning_rate=0.01):
    torch.manual_seed(0)
    model = Sequential([GRU(units), Dense(y.shape[1])])
    model.compile(optimizer=Adam(learning_rate=learning_rate), loss="mse")
    return model


def windows(n_steps: int = 200, window: int = 8, seed: int = 0):
    """A noisy sine cut into (samples, window, 1) inputs and next-step targets."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_steps)
    series = np.sin(2 * np.pi * t / 25) + 0.05 * rng.normal(size=n_steps)
    X = np.stack([series[i : i + window] for i in range(n_steps - window)])[..., None]
    return X.astype(np.float32), series[window:].astype(np.float32)


# ------------------------------------------------------------------ scikit-learn's checks
# Every check runs and passes, so expected_failed_checks stays empty. scikit-learn itself
# skips these 9 (pytest reports them as skipped):
#  - check_pipeline_consistency (each wrapper), check_transformer_general (2 variants),
#    check_transformer_data_not_an_array: the estimators are tagged non_deterministic
#    (random initial weights, stochastic training), and these checks compare two fits.
#  - check_array_api_input (each wrapper): needs SCIPY_ARRAY_API=1 and an array-API library; the
#    wrappers convert to NumPy float32 for rnnkit.
# Thresholds of check_classifiers_train/check_regressors_train are lowered by the
# poor_score tag (as Keras' wrappers tag themselves): one epoch of a tiny network.
@parametrize_with_checks(
    [
        SKLearnRegressor(dense_regressor, fit_kwargs=QUIET),
        SKLearnClassifier(dense_classifier, fit_kwargs=QUIET),
        SKLearnTransformer(dense_regressor, fit_kwargs=QUIET),
    ]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# --------------------------------------------------------------------- the estimator API
def test_init_stores_arguments_and_get_set_params():
    kwargs = {"units": 3}
    reg = SKLearnRegressor(recurrent_regressor, model_kwargs=kwargs, fit_kwargs=QUIET)
    assert reg.model_kwargs is kwargs
    assert reg.get_params() == {
        "model": recurrent_regressor,
        "warm_start": False,
        "model_kwargs": kwargs,
        "fit_kwargs": QUIET,
    }
    assert reg.set_params(warm_start=True, model_kwargs={"units": 5}) is reg
    assert reg.warm_start is True and reg.model_kwargs == {"units": 5}
    assert not hasattr(reg, "model_")


def test_clone_is_unfitted_with_equal_params():
    X, y = windows(60)
    reg = SKLearnRegressor(recurrent_regressor, model_kwargs={"units": 2}, fit_kwargs=QUIET)
    reg.fit(X, y)
    copy = clone(reg)
    assert copy.get_params() == reg.get_params()
    assert copy.model_kwargs is not reg.model_kwargs  # clone deep-copies plain params
    with pytest.raises(NotFittedError):
        copy.predict(X)


def test_model_instance_is_copied_not_trained_in_place():
    X, y = windows(60)
    model = recurrent_regressor(X, y[:, None])
    model.build((None, *X.shape[1:]))
    before = [w.copy() for w in model.get_weights()]
    reg = SKLearnRegressor(model, fit_kwargs={"epochs": 2, "verbose": 0}).fit(X, y)
    assert reg.model_ is not model
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    assert any(
        not np.array_equal(a, b) for a, b in zip(before, reg.model_.get_weights(), strict=True)
    )
    assert clone(reg).fit(X, y).predict(X[:3]).shape == (3,)


def test_recurrent_regressor_learns_and_scores_r2():
    X, y = windows(300)
    reg = SKLearnRegressor(
        recurrent_regressor,
        model_kwargs={"units": 8, "learning_rate": 0.02},
        fit_kwargs={"epochs": 15, "batch_size": 32, "verbose": 0},
    )
    reg.fit(X, y)
    assert reg.n_features_in_ == X.shape[1]  # scikit-learn's axis 1: the timesteps
    assert len(reg.history_["loss"]) == 15
    assert reg.history_["loss"][-1] < reg.history_["loss"][0]
    predictions = reg.predict(X)
    assert predictions.shape == y.shape and predictions.dtype == np.float64
    expected_r2 = 1 - ((y - predictions) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert reg.score(X, y) == pytest.approx(expected_r2, rel=1e-6)
    assert reg.score(X, y) > 0.8


def test_fit_kwargs_and_fit_arguments_merge_without_mutation():
    X, y = windows(60)
    fit_kwargs = {"epochs": 1, "verbose": 0}
    reg = SKLearnRegressor(recurrent_regressor, fit_kwargs=fit_kwargs)
    reg.fit(X, y, epochs=3)
    assert len(reg.history_["loss"]) == 3
    assert fit_kwargs == {"epochs": 1, "verbose": 0}


def test_warm_start_continues_training_the_fitted_model():
    X, y = windows(60)
    reg = SKLearnRegressor(recurrent_regressor, warm_start=True, fit_kwargs=QUIET).fit(X, y)
    first = reg.model_
    weights = [w.copy() for w in first.get_weights()]
    reg.fit(X, y)
    assert reg.model_ is first
    assert any(not np.array_equal(a, b) for a, b in zip(weights, first.get_weights(), strict=True))
    cold = SKLearnRegressor(recurrent_regressor, fit_kwargs=QUIET).fit(X, y)
    previous = cold.model_
    assert cold.fit(X, y).model_ is not previous


def test_classifier_encodes_labels_and_scores_accuracy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6, 2)).astype(np.float32)
    labels = np.where(X[:, :, 0].mean(axis=1) > 0, "up", "down")

    def build(X, y):
        torch.manual_seed(0)
        assert y.shape == (len(X), 2)  # one-hot, one column per class
        model = Sequential([LSTM(6), Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        return model

    clf = SKLearnClassifier(build, fit_kwargs={"epochs": 25, "batch_size": 16, "verbose": 0})
    clf.fit(X, labels)
    assert clf.classes_.tolist() == ["down", "up"]
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    predicted = clf.predict(X)
    np.testing.assert_array_equal(predicted, clf.classes_[proba.argmax(axis=1)])
    assert clf.score(X, labels) == pytest.approx(np.mean(predicted == labels))
    assert clf.score(X, labels) > 0.85
    np.testing.assert_allclose(clf.decision_function(X), proba[:, 1] - proba[:, 0])


def test_classifier_output_columns_must_match_the_classes():
    X = np.array([[0.0], [1.0], [0.0], [1.0]], dtype=np.float32)

    def three_outputs(X, y):
        model = Sequential([Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="mse")
        return model

    clf = SKLearnClassifier(three_outputs, fit_kwargs=QUIET)
    clf.model_ = three_outputs(X, None)
    clf.model_.build((None, 1))
    clf.classes_, clf.n_features_in_ = np.array([3, 7]), 1
    with pytest.raises(RnnkitValueError, match=r"returns 3 column\(s\), but there are 2 classes"):
        clf.predict(X)


def test_classifier_refuses_one_class_and_continuous_targets():
    X = np.ones((4, 2), dtype=np.float32)
    clf = SKLearnClassifier(dense_classifier, fit_kwargs=QUIET)
    with pytest.raises(RnnkitValueError, match=r"only one class \('a'\)"):
        clf.fit(X, np.array(["a"] * 4))
    with pytest.raises(RnnkitValueError, match=r"'continuous' target; use SKLearnRegressor"):
        clf.fit(X, np.array([0.1, 0.2, 0.3, 0.4]))


def test_model_errors_name_the_call_and_the_fix():
    X, y = windows(40)
    with pytest.raises(RnnkitTypeError, match=r"SKLearnRegressor\.fit\(\): `model` must be"):
        SKLearnRegressor(42).fit(X, y)
    with pytest.raises(RnnkitTypeError, match=r"must return a compiled rnnkit model.*NoneType"):
        SKLearnRegressor(lambda X, y: None).fit(X, y)

    def uncompiled(X, y):
        return Sequential([GRU(2), Dense(1)])

    with pytest.raises(RnnkitValueError, match=r"not compiled\. Call model\.compile"):
        SKLearnRegressor(uncompiled).fit(X, y)
    with pytest.raises(RnnkitTypeError, match=r"`model_kwargs` must be a dict"):
        SKLearnRegressor(recurrent_regressor, model_kwargs=[1]).fit(X, y)
    with pytest.raises(RnnkitTypeError, match=r"`warm_start` must be True or False"):
        SKLearnRegressor(recurrent_regressor, warm_start="yes").fit(X, y)


# ------------------------------------------------------------- inside scikit-learn tools
def test_grid_search_over_model_kwargs_on_3d_windows():
    X, y = windows(120)
    search = GridSearchCV(
        SKLearnRegressor(recurrent_regressor, fit_kwargs={"epochs": 2, "verbose": 0}),
        {"model_kwargs": [{"units": 2}, {"units": 6}]},
        cv=TimeSeriesSplit(n_splits=2),
    )
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    assert search.best_params_["model_kwargs"] in ({"units": 2}, {"units": 6})
    units = search.best_params_["model_kwargs"]["units"]
    assert search.best_estimator_.model_.layers[0].units == units
    assert search.predict(X[:5]).shape == (5,)


def test_cross_val_score_with_time_series_split():
    X, y = windows(150)
    splitter = TimeSeriesSplit(n_splits=3)
    reg = SKLearnRegressor(recurrent_regressor, fit_kwargs={"epochs": 2, "verbose": 0})
    scores = cross_val_score(reg, X, y, cv=splitter)
    assert scores.shape == (3,)
    assert np.all(np.isfinite(scores))
    # each fold trains on the past only: the same numbers by hand
    train, test = next(iter(splitter.split(X)))
    assert train.max() < test.min()
    by_hand = clone(reg).fit(X[train], y[train]).score(X[test], y[test])
    assert scores[0] == pytest.approx(by_hand, rel=1e-4, abs=1e-5)


def test_pipeline_with_standard_scaler_on_2d_inputs():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=50.0, scale=10.0, size=(200, 3))
    y = (X - 50.0) @ np.array([0.1, -0.2, 0.05])
    pipe = make_pipeline(
        StandardScaler(),
        SKLearnRegressor(
            dense_regressor,
            model_kwargs={"learning_rate": 0.05},
            fit_kwargs={"epochs": 30, "batch_size": 16, "verbose": 0},
        ),
    )
    pipe.fit(X, y)
    scaled = pipe.named_steps["standardscaler"].transform(X)
    direct = pipe.named_steps["sklearnregressor"].predict(scaled)
    np.testing.assert_allclose(pipe.predict(X), direct)
    assert pipe.score(X, y) > 0.9
    assert pipe.get_params()["sklearnregressor__warm_start"] is False


def test_transformer_outputs_the_model_predictions():
    X, y = windows(40)
    trans = SKLearnTransformer(recurrent_regressor, fit_kwargs=QUIET).fit(X, y)
    out = trans.transform(X)
    np.testing.assert_array_equal(out, trans.model_.predict(X, verbose=0))
    assert out.shape == (len(X), 1)


def test_fit_arguments_reach_the_model_fit():
    X, y = windows(40)
    reg = SKLearnRegressor(recurrent_regressor, fit_kwargs=QUIET)
    reg.fit(X, y, sample_weight=np.zeros(len(y)))
    assert reg.history_["loss"] == [0.0]  # every sample weighs nothing
    reg.fit(X, y, sample_weight=np.ones(len(y)))
    assert reg.history_["loss"][0] > 0.0
