import numpy as np
import pytest
import torch

from rnnkit import Sequential
from rnnkit.constraints import NonNeg
from rnnkit.layers import LSTM
from rnnkit.layers import Dense


def test_weight_penalty_of_a_recurrent_layer_is_counted_once():
    model = Sequential([LSTM(2, kernel_regularizer="l2", input_shape=(3, 2)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    layer_penalty = float(model.layers[0].regularization_loss().detach())
    assert layer_penalty > 0
    assert float(model._regularization().detach()) == pytest.approx(layer_penalty, rel=1e-6)


def test_training_loss_includes_the_penalty_once():
    torch.manual_seed(0)
    model = Sequential([LSTM(3, kernel_regularizer="l2", input_shape=(4, 2)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 4, 2)).astype("float32")
    y = np.zeros((8, 1), dtype="float32")
    expected = float(model.evaluate(x, y, verbose=0))
    plain = float(((model.predict(x, verbose=0) - y) ** 2).mean())
    penalty = float(model.layers[0].regularization_loss().detach())
    assert expected == pytest.approx(plain + penalty, rel=1e-5)


def test_constraints_apply_after_each_step():
    model = Sequential([Dense(2, kernel_constraint=NonNeg(), input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 3), dtype="float32")
    model.fit(x, -np.ones((4, 2), dtype="float32") * 5, epochs=3, verbose=0)
    assert (model.layers[0].kernel.detach() >= 0).all()
