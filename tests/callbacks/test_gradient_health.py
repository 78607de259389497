"""GradientHealth: measures off the hot path, on a fixed sample, without changing training."""

from __future__ import annotations

import re

import numpy as np
import pytest

from rnnkit.callbacks import GradientHealth
from rnnkit.errors import RnnkitValueError
from rnnkit.initializers import Constant
from rnnkit.layers import GRU
from rnnkit.layers import Dense
from rnnkit.layers import Dropout
from rnnkit.layers import SimpleRNN
from rnnkit.models import Sequential
from rnnkit.utils.random import set_random_seed


def _data(n=24, steps=6):
    x = np.random.default_rng(0).normal(size=(n, steps, 2)).astype("float32")
    return x, x[:, 0, :1]


def _model(*layers):
    set_random_seed(7)
    model = Sequential([*layers, Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _fit(model, callbacks, epochs=4):
    x, y = _data()
    model.fit(x, y, epochs=epochs, batch_size=8, verbose=0, callbacks=callbacks)
    return model


def test_records_before_training_and_every_n_epochs():
    health = GradientHealth(*_data(), every=2, samples=10)
    first = GRU(4, return_sequences=True, dropout=0.2, name="first")
    _fit(_model(first, Dropout(0.2), GRU(3, name="second")), [health])
    assert [r.epoch for r in health.records] == [0, 2, 4]
    assert all(r.samples == 10 for r in health.records)
    assert [layer.name for layer in health.records[-1].layers] == ["first", "second"]
    assert all(len(layer.grad_norms) == 6 for layer in health.records[-1].layers)


def test_training_is_the_same_with_and_without_the_callback():
    plain = _fit(_model(SimpleRNN(4, dropout=0.3)), [])
    watched = _fit(_model(SimpleRNN(4, dropout=0.3)), [GradientHealth(*_data())])
    for a, b in zip(plain.get_weights(), watched.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_second_fit_starts_a_fresh_record():
    health = GradientHealth(*_data())
    model = _fit(_model(GRU(3)), [health], epochs=1)
    _fit(model, [health], epochs=2)
    assert [r.epoch for r in health.records] == [0, 1, 2]


def test_summary_and_verbose_report_the_verdicts(capsys):
    layer = SimpleRNN(6, activation="relu", bias_initializer=Constant(-3.0), name="rnn")
    health = GradientHealth(*_data(), verbose=1)
    assert health.summary() == "GradientHealth: nothing measured yet."
    _fit(_model(layer), [health], epochs=2)
    printed = capsys.readouterr().out
    # each verdict is printed once, when it first appears, not at every measurement
    assert printed.count("of relu units are dead") == 1
    summary = health.summary()
    assert summary.startswith("Gradient health after 2 epoch(s), on 24 sequences:")
    assert "SimpleRNN 1 ('rnn'): memory" in summary
    assert "dead 100%" in summary
    assert "- SimpleRNN 1 ('rnn'): 100% of relu units are dead after epoch 2" in summary
    assert [v.problem.value for v in health.verdicts] == ["short_memory", "dead_units"]


def test_bad_arguments_are_one_line_errors():
    x, y = _data()
    with pytest.raises(RnnkitValueError, match=re.escape("Received x of shape (24, 6, 2) and y")):
        GradientHealth(x, y[:5])
    with pytest.raises(RnnkitValueError, match=re.escape("(samples, timesteps, features)")):
        GradientHealth(x[:, 0], y)
    with pytest.raises(ValueError, match="every"):
        GradientHealth(x, y, every=0)
