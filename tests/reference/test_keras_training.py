"""Sequential training against Keras 3 (torch backend).

Same initial weights, same data, ``shuffle=False``, mse, ``batch_size=8`` (with a
partial last batch): after one or two epochs the weights and ``history`` must
match Keras to ~1e-5 relative; ``validation_split`` takes the last fraction;
``evaluate``/``predict`` give Keras' numbers; ``EarlyStopping`` stops at the same
epoch on the same loss curve.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnnkit import callbacks
from rnnkit import optimizers
from rnnkit.layers import GRU
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import SimpleRNN
from rnnkit.models import Sequential

SAMPLES, STEPS, FEATURES = 45, 5, 2
BATCH = 8
LOSS_TOL = {"rtol": 1e-5, "atol": 1e-7}
WEIGHT_TOL = {"rtol": 1e-5, "atol": 1e-6}

# name -> list of (rnnkit class, Keras class name, units, kwargs); Dense(1) is appended.
STACKS = {
    "simple_rnn": [(SimpleRNN, "SimpleRNN", 6, {})],
    "lstm": [(LSTM, "LSTM", 6, {})],
    "gru": [(GRU, "GRU", 6, {})],
    "stacked": [
        (LSTM, "LSTM", 5, {"return_sequences": True}),
        (GRU, "GRU", 4, {"reset_after": False}),
    ],
}

OPTIMIZERS = {
    "sgd": ("SGD", {"learning_rate": 0.05}),
    "sgd_nesterov": ("SGD", {"learning_rate": 0.02, "momentum": 0.9, "nesterov": True}),
    "adam": ("Adam", {"learning_rate": 0.01}),
    "rmsprop": ("RMSprop", {"learning_rate": 0.005}),
}


@pytest.fixture
def data(rng):
    x = rng.standard_normal((SAMPLES, STEPS, FEATURES)).astype(np.float32)
    signal = x[:, -1, :1] * 0.7 - x[:, 0, 1:] * 0.3
    y = (signal + 0.3 * rng.standard_normal((SAMPLES, 1))).astype(np.float32)
    return x, y


def build_pair(keras, rng, stack="lstm"):
    """The same architecture in Keras and rnnkit, with the same random weights."""
    k_model = keras.Sequential([keras.Input((STEPS, FEATURES))])
    r_model = Sequential()
    for i, (cls, keras_name, units, kwargs) in enumerate(STACKS[stack]):
        k_model.add(getattr(keras.layers, keras_name)(units, **kwargs))
        extra = {"input_shape": (STEPS, FEATURES)} if i == 0 else {}
        r_model.add(cls(units, **kwargs, **extra))
    k_model.add(keras.layers.Dense(1))
    r_model.add(Dense(1))
    weights = [
        rng.uniform(-0.4, 0.4, size=w.shape).astype(np.float32) for w in k_model.get_weights()
    ]
    k_model.set_weights(weights)
    r_model.set_weights(weights)
    return k_model, r_model


def compile_pair(keras, k_model, r_model, optimizer="sgd", metrics=None):
    name, kwargs = OPTIMIZERS[optimizer]
    k_model.compile(
        optimizer=getattr(keras.optimizers, name)(**kwargs), loss="mse", metrics=metrics
    )
    r_model.compile(optimizer=getattr(optimizers, name)(**kwargs), loss="mse", metrics=metrics)


def assert_weights_close(r_model, k_model):
    r_weights, k_weights = r_model.get_weights(), k_model.get_weights()
    assert len(r_weights) == len(k_weights)
    for r_w, k_w in zip(r_weights, k_weights, strict=True):
        np.testing.assert_allclose(r_w, k_w, **WEIGHT_TOL)


# ------------------------------------------------------------------- fit
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("stack", list(STACKS))
def test_fit_matches_keras(keras, rng, data, stack, optimizer):
    x, y = data
    k_model, r_model = build_pair(keras, rng, stack)
    start = r_model.get_weights()
    compile_pair(keras, k_model, r_model, optimizer, metrics=["mae"])
    fit_args = {"batch_size": BATCH, "epochs": 2, "shuffle": False, "verbose": 0}
    k_hist = k_model.fit(x, y, **fit_args).history
    r_hist = r_model.fit(x, y, **fit_args).history
    assert set(r_hist) == set(k_hist) == {"loss", "mae"}
    for key in k_hist:
        assert len(r_hist[key]) == 2
        np.testing.assert_allclose(r_hist[key], k_hist[key], **LOSS_TOL)
    assert_weights_close(r_model, k_model)
    moved = max(np.abs(a - b).max() for a, b in zip(r_model.get_weights(), start, strict=True))
    assert moved > 1e-3  # training happened


def test_fit_with_sample_weight_matches_keras(keras, rng, data):
    x, y = data
    k_model, r_model = build_pair(keras, rng, "gru")
    compile_pair(keras, k_model, r_model, "sgd")
    weights = rng.uniform(0.0, 2.0, size=SAMPLES).astype(np.float32)
    fit_args = {"batch_size": BATCH, "epochs": 1, "shuffle": False, "verbose": 0}
    k_hist = k_model.fit(x, y, sample_weight=weights, **fit_args).history
    r_hist = r_model.fit(x, y, sample_weight=weights, **fit_args).history
    np.testing.assert_allclose(r_hist["loss"], k_hist["loss"], **LOSS_TOL)
    assert_weights_close(r_model, k_model)


# ------------------------------------------------------ validation_split
@pytest.mark.parametrize("shuffle", [False, True])
def test_validation_split_is_the_last_fraction(keras, rng, data, shuffle):
    x, y = data
    split_at = math.floor(SAMPLES * (1 - 0.2))  # Keras: floor(N * (1 - v))
    k_model, r_model = build_pair(keras, rng, "lstm")
    compile_pair(keras, k_model, r_model, "sgd")
    r_hist = r_model.fit(
        x, y, batch_size=BATCH, epochs=1, validation_split=0.2, shuffle=shuffle, verbose=0
    ).history
    last = r_model.evaluate(x[split_at:], y[split_at:], batch_size=BATCH, verbose=0)
    first = r_model.evaluate(x[: SAMPLES - split_at], y[: SAMPLES - split_at], verbose=0)
    assert r_hist["val_loss"][0] == pytest.approx(last, rel=1e-6)
    assert r_hist["val_loss"][0] != pytest.approx(first, rel=1e-3)
    if not shuffle:
        k_hist = k_model.fit(
            x, y, batch_size=BATCH, epochs=1, validation_split=0.2, shuffle=False, verbose=0
        ).history
        np.testing.assert_allclose(r_hist["loss"], k_hist["loss"], **LOSS_TOL)
        np.testing.assert_allclose(r_hist["val_loss"], k_hist["val_loss"], **LOSS_TOL)
        assert_weights_close(r_model, k_model)


def test_validation_split_trains_only_on_the_first_part(keras, rng, data):
    x, y = data
    split_at = math.floor(SAMPLES * 0.75)
    _, with_split = build_pair(keras, rng, "gru")
    plain = Sequential([GRU(6, input_shape=(STEPS, FEATURES)), Dense(1)])
    plain.set_weights(with_split.get_weights())
    for model in (with_split, plain):
        model.compile(optimizer=optimizers.SGD(learning_rate=0.05), loss="mse")
    args = {"batch_size": BATCH, "epochs": 2, "shuffle": False, "verbose": 0}
    with_split.fit(x, y, validation_split=0.25, **args)
    plain.fit(x[:split_at], y[:split_at], **args)
    for a, b in zip(with_split.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------ evaluate / predict
@pytest.mark.parametrize("batch_size", [BATCH, 7, 64])
def test_evaluate_and_predict_match_keras(keras, rng, data, batch_size):
    x, y = data
    k_model, r_model = build_pair(keras, rng, "stacked")
    compile_pair(keras, k_model, r_model, "adam", metrics=["mae"])
    k_pred = k_model.predict(x, batch_size=batch_size, verbose=0)
    r_pred = r_model.predict(x, batch_size=batch_size, verbose=0)
    assert isinstance(r_pred, np.ndarray)
    assert r_pred.shape == k_pred.shape == (SAMPLES, 1)
    np.testing.assert_allclose(r_pred, k_pred, rtol=1e-5, atol=1e-6)
    k_eval = k_model.evaluate(x, y, batch_size=batch_size, verbose=0)
    r_eval = r_model.evaluate(x, y, batch_size=batch_size, verbose=0)
    assert len(r_eval) == len(k_eval) == 2
    np.testing.assert_allclose(r_eval, k_eval, **LOSS_TOL)
    k_dict = k_model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
    r_dict = r_model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
    assert set(r_dict) == set(k_dict)
    np.testing.assert_allclose(
        [r_dict[k] for k in sorted(k_dict)], [k_dict[k] for k in sorted(k_dict)], **LOSS_TOL
    )


def test_evaluate_loss_only_is_a_float_like_keras(keras, rng, data):
    x, y = data
    k_model, r_model = build_pair(keras, rng, "simple_rnn")
    compile_pair(keras, k_model, r_model, "sgd")
    r_loss = r_model.evaluate(x, y, verbose=0)
    assert isinstance(r_loss, float)
    assert r_loss == pytest.approx(float(k_model.evaluate(x, y, verbose=0)), rel=1e-5)


def test_predict_is_inference_mode(keras, rng, data):
    """Dropout is off in predict/evaluate: two predicts agree, and match Keras."""
    x, _ = data
    k_model = keras.Sequential([keras.Input((STEPS, FEATURES)), keras.layers.LSTM(4)])
    r_model = Sequential(
        [LSTM(4, dropout=0.5, recurrent_dropout=0.5, input_shape=(STEPS, FEATURES))]
    )
    weights = [rng.uniform(-0.4, 0.4, w.shape).astype(np.float32) for w in k_model.get_weights()]
    k_model.set_weights(weights)
    r_model.set_weights(weights)
    first = r_model.predict(x, verbose=0)
    np.testing.assert_array_equal(first, r_model.predict(x, verbose=0))
    np.testing.assert_allclose(first, k_model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


# --------------------------------------------------------- EarlyStopping
def test_early_stopping_stops_at_the_same_epoch_as_keras(keras, rng):
    x = rng.standard_normal((40, STEPS, FEATURES)).astype(np.float32)
    y = (x[:, -1, :1] * 0.5 + 0.5 * rng.standard_normal((40, 1))).astype(np.float32)
    k_model, r_model = build_pair(keras, rng, "gru")
    compile_pair(keras, k_model, r_model, "adam")
    args = {
        "batch_size": BATCH,
        "epochs": 60,
        "shuffle": False,
        "verbose": 0,
        "validation_split": 0.25,
    }
    k_stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)
    r_stop = callbacks.EarlyStopping(monitor="val_loss", patience=3)
    k_hist = k_model.fit(x, y, callbacks=[k_stop], **args).history
    r_hist = r_model.fit(x, y, callbacks=[r_stop], **args).history
    ran = len(k_hist["val_loss"])
    assert ran < 60  # it really stopped early
    assert len(r_hist["val_loss"]) == ran
    assert r_stop.stopped_epoch == k_stop.stopped_epoch == ran - 1
    np.testing.assert_allclose(r_hist["val_loss"], k_hist["val_loss"], rtol=1e-5, atol=1e-7)
    assert_weights_close(r_model, k_model)  # restore_best_weights=False: last epoch kept


def test_early_stopping_restore_best_weights_like_keras(keras, rng):
    x = rng.standard_normal((40, STEPS, FEATURES)).astype(np.float32)
    y = (x[:, -1, :1] * 0.5 + 0.5 * rng.standard_normal((40, 1))).astype(np.float32)
    k_model, r_model = build_pair(keras, rng, "lstm")
    compile_pair(keras, k_model, r_model, "adam")
    args = {"batch_size": BATCH, "epochs": 40, "shuffle": False, "verbose": 0}
    args["validation_split"] = 0.25
    k_stop = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    r_stop = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    k_hist = k_model.fit(x, y, callbacks=[k_stop], **args).history
    r_hist = r_model.fit(x, y, callbacks=[r_stop], **args).history
    assert len(r_hist["val_loss"]) == len(k_hist["val_loss"])
    assert_weights_close(r_model, k_model)
    best = int(np.argmin(r_hist["val_loss"]))
    split_at = math.floor(40 * 0.75)
    restored = r_model.evaluate(x[split_at:], y[split_at:], batch_size=BATCH, verbose=0)
    assert restored == pytest.approx(r_hist["val_loss"][best], rel=1e-5)


def test_fit_is_deterministic_without_shuffle(rng, data):
    """Sanity for the comparisons above: the same fit twice gives the same bits."""
    x, y = data
    results = []
    for _ in range(2):
        torch.manual_seed(0)
        model = Sequential([LSTM(4, input_shape=(STEPS, FEATURES)), Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        hist = model.fit(x, y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
        results.append((hist.history["loss"], model.get_weights()))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1], strict=True):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------ PyDataset
def _dataset_pair(keras, x, y, sample_weight=None, ragged=False):
    """The same batches as a Keras PyDataset and an rnnkit PyDataset.

    ``ragged``: every batch keeps only its last ``2 + i % 3`` steps, so shapes differ.
    """
    from rnnkit.utils import PyDataset

    def batch(i):
        part = slice(i * BATCH, (i + 1) * BATCH)
        xb = x[part][:, -(2 + i % 3) :] if ragged else x[part]
        items = (xb, y[part]) if sample_weight is None else (xb, y[part], sample_weight[part])
        return items

    class Ours(PyDataset):
        def __len__(self):
            return math.ceil(len(x) / BATCH)

        def __getitem__(self, i):
            return batch(i)

    class Theirs(keras.utils.PyDataset):
        def __len__(self):
            return math.ceil(len(x) / BATCH)

        def __getitem__(self, i):
            return batch(i)

    return Ours(), Theirs()


@pytest.mark.parametrize("ragged", [False, True], ids=["same-shape", "ragged"])
def test_fit_evaluate_predict_on_a_py_dataset_match_keras(keras, rng, data, ragged):
    """A PyDataset (batches of different lengths too) trains as in Keras."""
    x, y = data
    k_model, r_model = build_pair(keras, rng, "gru")
    k_model = keras.Sequential([keras.Input((None, FEATURES)), *k_model.layers])
    compile_pair(keras, k_model, r_model, "adam", metrics=["mae"])
    ours, theirs = _dataset_pair(keras, x, y, ragged=ragged)
    k_hist = k_model.fit(theirs, epochs=2, shuffle=False, verbose=0).history
    r_hist = r_model.fit(ours, epochs=2, shuffle=False, verbose=0).history
    for key in ("loss", "mae"):
        np.testing.assert_allclose(r_hist[key], k_hist[key], **LOSS_TOL)
    assert_weights_close(r_model, k_model)
    np.testing.assert_allclose(
        r_model.evaluate(ours, verbose=0), k_model.evaluate(theirs, verbose=0), **LOSS_TOL
    )
    np.testing.assert_allclose(
        r_model.predict(ours, verbose=0), k_model.predict(theirs, verbose=0), **WEIGHT_TOL
    )


def test_py_dataset_with_sample_weights_and_validation_matches_keras(keras, rng, data):
    x, y = data
    k_model, r_model = build_pair(keras, rng, "lstm")
    compile_pair(keras, k_model, r_model, "sgd")
    weights = rng.uniform(0.0, 2.0, size=SAMPLES).astype(np.float32)
    ours, theirs = _dataset_pair(keras, x, y, sample_weight=weights)
    val_ours, val_theirs = _dataset_pair(keras, x[::-1].copy(), y[::-1].copy())
    k_hist = k_model.fit(
        theirs, validation_data=val_theirs, epochs=2, shuffle=False, verbose=0
    ).history
    r_hist = r_model.fit(ours, validation_data=val_ours, epochs=2, shuffle=False, verbose=0).history
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(r_hist[key], k_hist[key], **LOSS_TOL)
    assert_weights_close(r_model, k_model)


def test_repeated_and_weighted_metric_names_match_keras(keras, rng, data):
    x, y = data
    k_model, r_model = build_pair(keras, rng, "gru")
    for model in (k_model, r_model):
        model.compile(
            optimizer="sgd", loss="mse", metrics=["mae", "mae"], weighted_metrics=["mae", "mse"]
        )
    weights = rng.uniform(0.0, 2.0, size=SAMPLES).astype(np.float32)
    got = r_model.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    want = k_model.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    assert set(got) == set(want) == {"loss", "mae", "mae_1", "weighted_mae", "mse"}
    for key in want:
        np.testing.assert_allclose(got[key], want[key], **LOSS_TOL, err_msg=key)
    assert r_model.metrics_names == ["loss", "mae", "mae_1", "weighted_mae", "mse"]
