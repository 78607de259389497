"""The tuners on real (tiny) rnnkit models: the tutorial's code with the imports changed."""

import numpy as np
import pytest

import rnnkit.tuner as kt
from rnnkit.callbacks import EarlyStopping
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import Dropout
from rnnkit.layers import SimpleRNN
from rnnkit.models import Sequential
from rnnkit.tuner._checkpoint import load_checkpoint
from rnnkit.tuner._checkpoint import save_checkpoint


def build_rnn_model(hp):
    """A two-layer version of the tutorial's build_RNN_model(hp)."""
    model = Sequential()
    model.add(
        SimpleRNN(hp.Int("input_unit", 4, 8, step=4), return_sequences=True, input_shape=(6, 2))
    )
    model.add(
        SimpleRNN(
            hp.Int("layer_2_neurons", 4, 8, step=4),
            activation=hp.Choice("rnn_activation", ["tanh", "relu", "sigmoid"]),
        )
    )
    model.add(Dropout(hp.Float("Dropout_rate", 0, 0.5, step=0.1)))
    model.add(Dense(1))
    model.compile(loss="mean_squared_error", optimizer="adam", metrics=["mse"])
    return model


@pytest.fixture
def series():
    rng = np.random.default_rng(0)
    t = np.arange(200, dtype="float32")
    wave = np.sin(t / 8).astype("float32") + 0.05 * rng.normal(size=200).astype("float32")
    x = np.stack([np.stack([wave[i : i + 6], np.roll(wave, 1)[i : i + 6]], -1) for i in range(128)])
    return x.astype("float32"), wave[6:134, None].astype("float32")


@pytest.mark.parametrize("tuner_cls", ["RandomSearch", "Hyperband", "BayesianOptimization"])
def test_tutorial_search_runs_unchanged(tmp_path, series, tuner_cls):
    x, y = series
    common = {"objective": "val_loss", "directory": tmp_path, "project_name": "tutorial"}
    if tuner_cls == "Hyperband":
        tuner = kt.Hyperband(build_rnn_model, max_epochs=3, factor=3, overwrite=True, **common)
    else:
        tuner = getattr(kt, tuner_cls)(build_rnn_model, max_trials=3, seed=1, **common)
    tuner.search(
        x,
        y,
        epochs=2,
        batch_size=32,
        validation_split=0.2,
        verbose=0,
        callbacks=[EarlyStopping(monitor="val_loss", patience=5)],
    )
    best = tuner.get_best_hyperparameters(num_trials=1)[0]
    assert best.get("input_unit") in (4, 8)
    assert best.get("Dropout_rate") in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
    model = tuner.get_best_models(1)[0]
    trial = tuner.get_best_trials(1)[0]
    split = int(len(x) * 0.8)  # Keras: validation is the last 20 % of the samples
    loss = model.evaluate(x[split:], y[split:], verbose=0, return_dict=True)["loss"]
    assert loss == pytest.approx(trial.score, rel=1e-4)  # the best epoch's weights


def test_promotion_checkpoint_restores_weights_and_optimizer_state(tmp_path, series):
    x, y = series

    def make():
        model = Sequential([LSTM(4, input_shape=(6, 2)), Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        return model

    parent = make()
    parent.fit(x, y, epochs=2, batch_size=32, verbose=0)
    save_checkpoint(tmp_path, parent, epoch=1, value=0.0)
    child = make()
    entry = load_checkpoint(tmp_path, child)
    assert entry["optimizer_loaded"]
    np.testing.assert_allclose(child.predict(x, verbose=0), parent.predict(x, verbose=0), rtol=1e-6)
    child.fit(x, y, epochs=3, initial_epoch=2, batch_size=32, verbose=0)
    assert child.optimizer.iterations == parent.optimizer.iterations + 4
