"""``rnnkit.utils.set_random_seed(s)`` makes two CPU runs bit-identical.

Weight initialisation, dropout masks (seeded or not) and ``fit``'s shuffling all
draw from generators the seed resets, so the same script twice gives the same bits:
weights, ``history`` and predictions.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from rnnkit.layers import GRU
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import Dropout
from rnnkit.layers import SimpleRNN
from rnnkit.models import Sequential
from rnnkit.utils import set_random_seed

STEPS, FEATURES = 6, 2


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny tensors on a shared machine: one intra-op thread is much faster."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((50, STEPS, FEATURES)).astype(np.float32)
    y = (x[:, -1, :1] - 0.5 * x[:, 0, 1:]).astype(np.float32)
    return x, y


def run(seed, data, layer_seed=None, optimizer="adam"):
    """The whole script: seed, build (random init), fit with dropout and shuffle."""
    set_random_seed(seed)
    model = Sequential(
        [
            SimpleRNN(6, return_sequences=True, dropout=0.3, input_shape=(STEPS, FEATURES)),
            LSTM(5, return_sequences=True, dropout=0.2, recurrent_dropout=0.3, seed=layer_seed),
            Dropout(0.25),
            GRU(4, recurrent_dropout=0.2),
            Dense(1),
        ]
    )
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    history = model.fit(
        *data, batch_size=8, epochs=3, shuffle=True, validation_split=0.2, verbose=0
    )
    return model, history.history


def assert_bit_identical(first, second):
    (model_a, hist_a), (model_b, hist_b) = first, second
    assert hist_a == hist_b  # floats compared exactly
    weights_a, weights_b = model_a.get_weights(), model_b.get_weights()
    assert len(weights_a) == len(weights_b) > 0
    for a, b in zip(weights_a, weights_b, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("layer_seed", [None, 123])
def test_same_seed_bit_identical_fit(data, layer_seed):
    first = run(42, data, layer_seed)
    torch.rand(17)  # disturb the global generators in between
    np.random.rand(3)  # noqa: NPY002
    random.random()
    second = run(42, data, layer_seed)
    assert_bit_identical(first, second)
    x = data[0]
    np.testing.assert_array_equal(first[0].predict(x, verbose=0), second[0].predict(x, verbose=0))


def test_sgd_with_momentum_bit_identical(data):
    assert_bit_identical(run(3, data, optimizer="sgd"), run(3, data, optimizer="sgd"))


def test_different_seed_differs(data):
    (model_a, hist_a), (model_b, hist_b) = run(1, data), run(2, data)
    assert hist_a["loss"] != hist_b["loss"]
    assert not np.array_equal(model_a.get_weights()[0], model_b.get_weights()[0])


def test_seed_controls_initialisation():
    def weights(seed):
        set_random_seed(seed)
        model = Sequential([LSTM(4, input_shape=(3, 2)), Dense(1)])
        return model.get_weights()

    for a, b in zip(weights(5), weights(5), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(weights(5)[0], weights(6)[0])


@pytest.mark.parametrize(("dropout", "shuffle"), [(0.3, False), (0.0, True)])
def test_seed_drives_dropout_and_shuffling(data, dropout, shuffle):
    """From the same initial weights, the fit depends only on the seed: the dropout
    masks (no shuffling) or the batch order (no dropout) come from its generators."""
    set_random_seed(0)
    start = Sequential([LSTM(5, dropout=dropout, input_shape=(STEPS, FEATURES)), Dense(1)])
    initial = start.get_weights()

    def fit(seed):
        model = Sequential([LSTM(5, dropout=dropout, input_shape=(STEPS, FEATURES)), Dense(1)])
        model.set_weights(initial)
        model.compile(optimizer="sgd", loss="mse")
        set_random_seed(seed)
        model.fit(*data, batch_size=8, epochs=2, shuffle=shuffle, verbose=0)
        return model.get_weights()

    same_a, same_b, other = fit(8), fit(8), fit(9)
    for a, b in zip(same_a, same_b, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(same_a[0], other[0])


def test_set_random_seed_seeds_python_numpy_and_torch():
    set_random_seed(11)
    first = (random.random(), np.random.rand(), torch.rand(1).item())  # noqa: NPY002
    set_random_seed(11)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first  # noqa: NPY002
