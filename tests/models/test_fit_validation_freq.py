"""fit(validation_freq=n) validates at the same epochs with or without initial_epoch (Keras)."""

import numpy as np

from rnnkit.layers import Dense
from rnnkit.layers import Input
from rnnkit.layers import SimpleRNN
from rnnkit.models import Sequential


def _model():
    model = Sequential([Input((4, 1)), SimpleRNN(2), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_fit_validation_freq_counts_epochs_from_zero_like_keras():
    x = np.linspace(0, 1, 32, dtype="float32").reshape(8, 4, 1)
    y = x[:, -1]
    history = _model().fit(
        x, y, epochs=6, initial_epoch=1, validation_freq=2, validation_split=0.25, verbose=0
    )
    assert history.epoch == [1, 2, 3, 4, 5]
    # Keras validates epochs whose 1-based number is a multiple of 2: 2, 4, 6
    assert len(history.history["val_loss"]) == 3
    assert len(history.history["loss"]) == 5
