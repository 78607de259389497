"""What the workflow relies on: continued fits keep the record; plots take the report's colours."""

from __future__ import annotations

import matplotlib.colors
import matplotlib.image
import numpy as np

from rnnkit.callbacks import GradientHealth
from rnnkit.diagnostics import diagnose
from rnnkit.diagnostics import plot_gradient_norms
from rnnkit.diagnostics import plot_health_over_epochs
from rnnkit.layers import GRU
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.models import Sequential
from rnnkit.utils.random import set_random_seed


def _data():
    x = np.random.default_rng(0).normal(size=(24, 6, 2)).astype("float32")
    return x, x[:, 0, :1]


def _model(layer):
    set_random_seed(3)
    model = Sequential([layer, Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _fit(model, health, first, last):
    x, y = _data()
    model.fit(x, y, epochs=last, initial_epoch=first, batch_size=8, verbose=0, callbacks=[health])


def test_a_continued_fit_appends_to_the_record():
    health = GradientHealth(*_data(), samples=8)
    model = _model(GRU(3))
    _fit(model, health, 0, 2)
    _fit(model, health, 2, 4)  # as the workflow extends a run that is still improving
    assert [r.epoch for r in health.records] == [0, 1, 2, 3, 4]
    fresh = GradientHealth(*_data(), samples=8)
    _fit(model, fresh, 4, 6)  # a callback that joins late measures where it starts
    assert [r.epoch for r in fresh.records] == [4, 5, 6]
    _fit(model, fresh, 0, 1)  # from epoch 0: a fresh record
    assert [r.epoch for r in fresh.records] == [0, 1]


def _has_colour(path, colour):
    pixels = matplotlib.image.imread(path)[..., :3]
    target = np.array(matplotlib.colors.to_rgb(colour))
    return bool((np.abs(pixels - target).max(axis=-1) < 0.02).sum() > 50)


def test_plots_draw_each_network_in_the_colour_given(tmp_path):
    x, y = _data()
    lstm = diagnose(_model(LSTM(3)), x, y).figures
    gru = diagnose(_model(GRU(3)), x, y).figures
    colours = {"LSTM": "#D55E00", "GRU": "#009E73"}
    norms = plot_gradient_norms({"LSTM": lstm, "GRU": gru}, tmp_path / "g.png", colors=colours)
    assert _has_colour(norms, "#D55E00") and _has_colour(norms, "#009E73")
    plain = plot_gradient_norms({"LSTM": lstm}, tmp_path / "plain.png")
    assert not _has_colour(plain, "#D55E00")  # without colours: matplotlib's cycle
    epochs = plot_health_over_epochs(
        {"LSTM": [lstm, lstm], "GRU": [gru]}, tmp_path / "e.png", colors=colours
    )
    assert _has_colour(epochs, "#D55E00") and _has_colour(epochs, "#009E73")
