"""The contract every public layer keeps (STYLE §7 "Contracts").

One parametrised sweep over every layer class that ``rnnkit.layers`` exports:
it builds lazily on its first batch, re-initialises with ``reset_parameters``,
round-trips ``get_config``, survives a save/load round trip with equal outputs,
and lays out ``get_weights()`` exactly as the same Keras 3 layer does. A new
public layer without a case here fails ``test_every_public_layer_has_a_case``.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

os.environ.setdefault("KERAS_BACKEND", "torch")

import rnnkit.layers as L
from rnnkit import Sequential
from rnnkit.models import load_model

# name -> (rnnkit layer factory, input shape with batch, Keras layer factory or None)
CASES = {
    "SimpleRNN": (lambda: L.SimpleRNN(4), (2, 5, 3), lambda k: k.layers.SimpleRNN(4)),
    "LSTM": (lambda: L.LSTM(4, return_sequences=True), (2, 5, 3), lambda k: k.layers.LSTM(4)),
    "GRU": (lambda: L.GRU(4), (2, 5, 3), lambda k: k.layers.GRU(4)),
    "GRU-reset-before": (
        lambda: L.GRU(4, reset_after=False),
        (2, 5, 3),
        lambda k: k.layers.GRU(4, reset_after=False),
    ),
    "RNN": (
        lambda: L.RNN(L.LSTMCell(4)),
        (2, 5, 3),
        lambda k: k.layers.RNN(k.layers.LSTMCell(4)),
    ),
    "SimpleRNNCell": (
        lambda: L.RNN(L.SimpleRNNCell(4)),
        (2, 5, 3),
        lambda k: k.layers.RNN(k.layers.SimpleRNNCell(4)),
    ),
    "LSTMCell": (
        lambda: L.RNN(L.LSTMCell(3), return_sequences=True),
        (2, 5, 3),
        lambda k: k.layers.RNN(k.layers.LSTMCell(3)),
    ),
    "GRUCell": (
        lambda: L.RNN(L.GRUCell(4)),
        (2, 5, 3),
        lambda k: k.layers.RNN(k.layers.GRUCell(4)),
    ),
    "Dense": (lambda: L.Dense(3), (2, 4), lambda k: k.layers.Dense(3)),
    "Dropout": (lambda: L.Dropout(0.3), (2, 4), lambda k: k.layers.Dropout(0.3)),
    "Activation": (lambda: L.Activation("relu"), (2, 4), lambda k: k.layers.Activation("relu")),
    "Flatten": (lambda: L.Flatten(), (2, 3, 4), lambda k: k.layers.Flatten()),
    "RepeatVector": (lambda: L.RepeatVector(3), (2, 4), lambda k: k.layers.RepeatVector(3)),
    "Reshape": (lambda: L.Reshape((2, 6)), (2, 3, 4), lambda k: k.layers.Reshape((2, 6))),
    "Masking": (lambda: L.Masking(0.0), (2, 5, 3), lambda k: k.layers.Masking(0.0)),
    "Embedding": (
        lambda: L.Embedding(7, 3, mask_zero=True),
        (2, 5),
        lambda k: k.layers.Embedding(7, 3, mask_zero=True),
    ),
    "InputLayer": (lambda: L.InputLayer(shape=(5, 3)), (2, 5, 3), None),
    "Bidirectional": (
        lambda: L.Bidirectional(L.LSTM(4)),
        (2, 5, 3),
        lambda k: k.layers.Bidirectional(k.layers.LSTM(4)),
    ),
    "TimeDistributed": (
        lambda: L.TimeDistributed(L.Dense(3)),
        (2, 5, 4),
        lambda k: k.layers.TimeDistributed(k.layers.Dense(3)),
    ),
}
IDS = sorted(CASES)
ID_INPUTS = {"Embedding": 7}  # layers fed token ids: name -> vocabulary size


def _input(shape, name=None):
    rng = np.random.default_rng(0)
    if name in ID_INPUTS:
        return torch.from_numpy(rng.integers(0, ID_INPUTS[name], size=shape))
    return torch.from_numpy(rng.normal(size=shape).astype("float32"))


def _built(name):
    factory, shape, _ = CASES[name]
    layer = factory()
    layer(_input(shape, name))
    return layer, shape


def test_every_public_layer_has_a_case():
    public = {
        name
        for name in L.__all__
        if isinstance(getattr(L, name), type)
        and issubclass(getattr(L, name), L.Layer)
        and name != "Layer"
    }
    assert public <= set(CASES), f"no contract case for {sorted(public - set(CASES))}"


@pytest.mark.parametrize("name", IDS)
def test_layer_builds_lazily_on_its_first_batch(name):
    factory, shape, _ = CASES[name]
    layer = factory()
    has_weights = bool(_built(name)[0].get_weights())
    if has_weights:  # weightless layers are built at construction, as in Keras 3
        assert not layer.built
    assert [p for p in layer.parameters() if p.numel()] == []
    out = layer(_input(shape, name))
    out = out[0] if isinstance(out, (list, tuple)) else out
    assert layer.built
    assert out.shape[0] == shape[0]


@pytest.mark.parametrize("name", IDS)
def test_reset_parameters_reinitialises_every_weight(name):
    layer, _ = _built(name)
    weights = layer.get_weights()
    if not weights:
        assert not list(layer.parameters())
        return
    layer.set_weights([np.full_like(w, 0.123) for w in weights])
    layer.reset_parameters()
    after = layer.get_weights()
    assert [w.shape for w in after] == [w.shape for w in weights]
    for w in after:
        assert not np.allclose(w, 0.123), "a weight kept the value set before reset_parameters()"


@pytest.mark.parametrize("name", IDS)
def test_get_config_round_trips_through_json(name):
    layer = CASES[name][0]()
    config = layer.get_config()
    clone = type(layer).from_config(json.loads(json.dumps(config)))
    assert type(clone) is type(layer)
    assert clone.get_config() == config


@pytest.mark.parametrize("name", IDS)
def test_save_and_load_keep_outputs(name, tmp_path):
    layer, shape = _built(name)
    model = Sequential([layer])
    x = _input(shape, name).numpy()
    expected = model.predict(x, verbose=0)
    model.save(str(tmp_path / "m.keras"))
    restored = load_model(str(tmp_path / "m.keras"))
    np.testing.assert_allclose(restored.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-6)


@pytest.fixture(scope="module")
def keras():
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip(f"Keras runs on {keras.backend.backend()!r}; the layout check needs 'torch'.")
    return keras


@pytest.mark.parametrize("name", [n for n in IDS if CASES[n][2] is not None])
def test_get_weights_has_the_keras_layout(name, keras):
    layer, shape = _built(name)
    keras_layer = CASES[name][2](keras)
    keras_layer.build(shape)
    assert [w.shape for w in layer.get_weights()] == [
        tuple(w.shape) for w in keras_layer.get_weights()
    ]


@pytest.mark.parametrize("cell_class", [L.SimpleRNNCell, L.LSTMCell, L.GRUCell])
def test_cell_get_config_round_trips_through_json(cell_class):
    cell = cell_class(4, activation="relu", dropout=0.25)
    config = cell.get_config()
    clone = cell_class.from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
