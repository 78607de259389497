"""Each verdict, on a small model where the truth is known (tiny sizes, seeded, few epochs)."""

from __future__ import annotations

import math

import numpy as np
import torch

from rnnkit.callbacks.gradient_health import GradientHealth
from rnnkit.diagnostics import Problem
from rnnkit.diagnostics import judge
from rnnkit.diagnostics import measure
from rnnkit.initializers import Constant
from rnnkit.initializers import Orthogonal
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import SimpleRNN
from rnnkit.models import Sequential
from rnnkit.optimizers import SGD
from rnnkit.utils.random import set_random_seed


def _copy_task(steps: int, *, n: int = 32, scale: float = 1.0):
    """Recall the first input after ``steps - 1`` steps: a long-lag copy task."""
    x = (scale * np.random.default_rng(0).normal(size=(n, steps, 1))).astype("float32")
    return x, x[:, 0, :]


def _compiled(layer, optimizer="adam"):
    set_random_seed(1)
    model = Sequential([layer, Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def _problems(figures):
    return {v.problem for v in judge(figures)}


def test_copy_task_tanh_simple_rnn_has_short_memory_and_an_open_lstm_long():
    steps = 60
    x, y = _copy_task(steps, scale=2.0)
    rnn = _compiled(SimpleRNN(8, input_shape=(steps, 1)))
    lstm = _compiled(LSTM(8, input_shape=(steps, 1)))
    lstm.build((None, steps, 1))
    with torch.no_grad():  # an open forget gate (f ≈ 0.95): how an LSTM keeps a long lag
        lstm.layers[0].cell.bias[8:16] = 3.0
    found = {}
    for name, model in (("rnn", rnn), ("lstm", lstm)):
        health = GradientHealth(x, y)
        model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[health])
        found[name] = health.records[-1]
    rnn_layer, lstm_layer = found["rnn"].layers[0], found["lstm"].layers[0]
    assert rnn_layer.effective_memory is not None and rnn_layer.effective_memory < steps // 2
    assert rnn_layer.growth_per_step < 0.85  # the gradient shrinks by > 15 % per step back
    assert Problem.SHORT_MEMORY in _problems(found["rnn"])
    assert lstm_layer.memory_covers_window and lstm_layer.effective_memory == steps
    assert lstm_layer.growth_per_step > 0.95
    assert _problems(found["lstm"]) == set()


def test_relu_rnn_with_a_large_recurrent_init_is_flagged_exploding_before_nan():
    steps = 20
    x, y = _copy_task(steps)
    layer = SimpleRNN(
        8, activation="relu", recurrent_initializer=Orthogonal(gain=3.0), input_shape=(steps, 1)
    )
    model = _compiled(layer, SGD(0.1))
    health = GradientHealth(x, y)
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[health])
    before = health.records[0]
    assert math.isfinite(before.loss)  # the loss is still a number...
    assert before.layers[0].exploding and before.layers[0].growth_over_window > 100
    assert Problem.EXPLODING in _problems(before)  # ...but the verdict is already out
    assert not math.isfinite(history.history["loss"][-1])  # and the loss did turn NaN
    assert Problem.NON_FINITE in _problems(health.records[-1])


def test_relu_rnn_with_a_strongly_negative_bias_has_dead_units():
    x, y = _copy_task(12)
    model = _compiled(SimpleRNN(8, activation="relu", bias_initializer=Constant(-3.0)))
    figures = measure(model, x, y)
    assert figures.layers[0].dead_fraction == 1.0
    assert Problem.DEAD_UNITS in _problems(figures)
    healthy = measure(_compiled(SimpleRNN(8, activation="relu")), x, y)
    assert healthy.layers[0].dead_fraction < 0.2
    assert Problem.DEAD_UNITS not in _problems(healthy)


def test_lstm_with_a_huge_forget_bias_has_saturated_gates():
    x, y = _copy_task(12)
    model = _compiled(LSTM(8))
    model.build((None, 12, 1))
    default = measure(model, x, y)
    with torch.no_grad():
        model.layers[0].cell.bias[8:16] = 30.0
    figures = measure(model, x, y)
    assert figures.layers[0].saturation["f"] == 1.0
    assert figures.layers[0].saturation["i"] < 0.5
    verdicts = judge(figures)
    assert [v.problem for v in verdicts] == [Problem.SATURATED_GATES]
    assert "forget-gate (f)" in verdicts[0].message
    assert default.layers[0].saturation["f"] < 0.5
    assert Problem.SATURATED_GATES not in _problems(default)
