"""Masked sequence outputs in training: Keras 3 skips masked timesteps in the loss,
the metrics and so the gradients (``Masking`` → ``LSTM(return_sequences=True)`` →
``TimeDistributed(Dense)``). Same weights, same batches: rnnkit must give Keras'
losses, metrics and weights."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit import Sequential
from rnnkit.layers import GRU
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import Masking
from rnnkit.layers import TimeDistributed

BATCH, STEPS, FEATURES, CLASSES = 4, 7, 3, 3
LENGTHS = [7, 5, 3, 1]  # 16 valid steps of 28
TOL = {"rtol": 1e-5, "atol": 1e-6}


def _data(layout: str, seed: int = 8):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2 * BATCH, STEPS, FEATURES)).astype("float32")
    for i, n in enumerate(LENGTHS * 2):
        if layout == "right":
            x[i, n:] = 0.0
        elif layout == "left":
            x[i, : STEPS - n] = 0.0
        else:  # gaps
            x[i, (i % 3) :: 3] = 0.0
    labels = rng.integers(0, CLASSES, size=(2 * BATCH, STEPS))
    return x, labels


def _pair(keras, recurrent: str, rng):
    ours = Sequential(
        [
            Masking(0.0),
            {"LSTM": LSTM, "GRU": GRU}[recurrent](5, return_sequences=True),
            TimeDistributed(Dense(CLASSES, activation="softmax")),
        ]
    )
    ours.build((None, None, FEATURES))
    theirs = keras.Sequential(
        [
            keras.Input((None, FEATURES)),
            keras.layers.Masking(0.0),
            getattr(keras.layers, recurrent)(5, return_sequences=True),
            keras.layers.TimeDistributed(keras.layers.Dense(CLASSES, activation="softmax")),
        ]
    )
    weights = [rng.uniform(-0.5, 0.5, size=w.shape).astype("float32") for w in ours.get_weights()]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    return ours, theirs


@pytest.mark.parametrize("layout", ["right", "left", "gaps"])
@pytest.mark.parametrize("recurrent", ["LSTM", "GRU"])
def test_masked_sequence_training_matches_keras(keras, rng, layout, recurrent):
    x, labels = _data(layout)
    ours, theirs = _pair(keras, recurrent, rng)
    for model, module in ((ours, None), (theirs, keras)):
        model.compile(
            optimizer="sgd" if module is None else keras.optimizers.SGD(0.01),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    ours.optimizer.learning_rate = 0.01
    args = {"batch_size": BATCH, "epochs": 2, "shuffle": False, "verbose": 0}
    history = ours.fit(x, labels, **args).history
    expected = theirs.fit(x, labels, **args).history
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(history[key], expected[key], **TOL)
    for got, want in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, **TOL)
    got = ours.evaluate(x, labels, verbose=0, return_dict=True)
    want = theirs.evaluate(x, labels, verbose=0, return_dict=True)
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(got[key], want[key], **TOL)


def test_masked_steps_weigh_nothing_with_sample_weight_and_categorical_loss(keras, rng):
    x, labels = _data("right")
    one_hot = np.eye(CLASSES, dtype="float32")[labels]
    weights = np.linspace(0.5, 2.0, labels.size).astype("float32").reshape(labels.shape)
    ours, theirs = _pair(keras, "LSTM", rng)
    for model in (ours, theirs):
        model.compile(
            optimizer="sgd",
            loss="categorical_crossentropy",
            metrics=["categorical_accuracy"],
            weighted_metrics=["categorical_accuracy"],
        )
    got = ours.evaluate(x, one_hot, sample_weight=weights, verbose=0, return_dict=True)
    want = theirs.evaluate(x, one_hot, sample_weight=weights, verbose=0, return_dict=True)
    assert set(got) == set(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], **TOL, err_msg=key)
    # and the padding really is ignored: changing the labels of masked steps changes nothing
    valid = ~(x == 0).all(-1)
    shuffled = np.where(valid[..., None], one_hot, one_hot[:, ::-1])
    again = ours.evaluate(x, shuffled, sample_weight=weights, verbose=0, return_dict=True)
    np.testing.assert_allclose(again["loss"], got["loss"], **TOL)


def test_masked_binary_outputs_and_elementwise_losses_match_keras(keras, rng):
    """Per-element values ``(batch, timesteps, 1)`` get their timestep's flag too."""
    x, _ = _data("right")
    y = (rng.random(size=(len(x), STEPS, 1)) > 0.5).astype("float32")
    ours = Sequential([Masking(0.0), GRU(4, return_sequences=True), Dense(1, activation="sigmoid")])
    ours.build((None, None, FEATURES))
    theirs = keras.Sequential(
        [
            keras.Input((None, FEATURES)),
            keras.layers.Masking(0.0),
            keras.layers.GRU(4, return_sequences=True),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    theirs.set_weights(ours.get_weights())

    def squared(a, b):  # elementwise: no mean over the last axis
        return (a - b) ** 2

    for model in (ours, theirs):
        model.compile(optimizer="sgd", loss=squared, metrics=["accuracy", "binary_accuracy"])
    got = ours.evaluate(x, y, verbose=0, return_dict=True)
    want = theirs.evaluate(x, y, verbose=0, return_dict=True)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], **TOL, err_msg=key)
    valid = ~(x == 0).all(-1)
    hits = ((ours.predict(x, verbose=0) > 0.5) == (y > 0.5))[..., 0]
    np.testing.assert_allclose(got["binary_accuracy"], hits[valid].mean(), rtol=1e-6)
