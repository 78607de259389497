"""The text summary and the PNG plots of gradient-health figures."""

from __future__ import annotations

import json

import numpy as np

from rnnkit.callbacks import GradientHealth
from rnnkit.diagnostics import diagnose
from rnnkit.diagnostics import plot_gradient_norms
from rnnkit.diagnostics import plot_health_over_epochs
from rnnkit.initializers import Constant
from rnnkit.layers import GRU
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import SimpleRNN
from rnnkit.models import Sequential
from rnnkit.utils.random import set_random_seed

PNG = b"\x89PNG\r\n\x1a\n"


def _model(layer):
    set_random_seed(0)
    model = Sequential([layer, Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _data():
    x = np.random.default_rng(1).normal(size=(16, 9, 1)).astype("float32")
    return x, x[:, 0]


def test_summary_lists_each_layer_then_the_verdicts():
    dead = SimpleRNN(4, activation="relu", bias_initializer=Constant(-3.0), name="dead")
    text = diagnose(_model(dead), *_data()).summary()
    lines = text.splitlines()
    assert lines[0].startswith("Gradient health on 16 sequences (loss ")
    assert lines[1].startswith("  SimpleRNN 1 ('dead'): memory 1 of 9 steps")
    assert "dead 100%" in lines[1]
    assert lines[-1].startswith("- SimpleRNN 1 ('dead'): 100% of relu units are dead")
    healthy = diagnose(_model(LSTM(3, name="ok")), *_data()).summary()
    assert healthy.splitlines()[-1] == "No problems found."


def test_plots_write_pngs_for_one_or_several_networks(tmp_path):
    x, y = _data()
    lstm = diagnose(_model(LSTM(3)), x, y)
    gru = diagnose(_model(GRU(3)), x, y)
    single = lstm.plot(tmp_path / "one.png")
    several = plot_gradient_norms(
        {"lstm": lstm.figures, "gru": json.loads(json.dumps(gru.to_dict()["figures"]))},
        tmp_path / "nested" / "two.png",
    )
    assert single.read_bytes()[:8] == PNG and several.read_bytes()[:8] == PNG
    assert several.stat().st_size > single.stat().st_size  # two lines drawn, not one


def test_health_over_epochs_plot(tmp_path):
    x, y = _data()
    health = GradientHealth(x, y)
    _model(GRU(3, activation="relu")).fit(x, y, epochs=2, verbose=0, callbacks=[health])
    path = plot_health_over_epochs(health.records, tmp_path / "epochs.png")
    assert path.read_bytes()[:8] == PNG
