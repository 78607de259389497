"""stateful=True and initial_state: Keras 3 equivalence, reset_states, batch-size errors."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from rnnkit.errors import RnnkitValueError
from rnnkit.layers.recurrent import GRU
from rnnkit.layers.recurrent import LSTM
from rnnkit.layers.recurrent import SimpleRNN
from rnnkit.layers.wrappers import Bidirectional

keras = pytest.importorskip("keras")

ATOL = 1e-5
LAYERS = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}
BATCH, STEPS, FEATURES, UNITS = 3, 4, 2, 5


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: one thread avoids thread hand-off costs on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _chunks(count: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32") for _ in range(count)]


def _np(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return keras.ops.convert_to_numpy(value)


def _close(ours, theirs) -> None:
    np.testing.assert_allclose(_np(ours), _np(theirs), atol=ATOL, rtol=0)


def _pair(kind: str, **kwargs):
    ours = LAYERS[kind](UNITS, stateful=True, **kwargs)
    ours.ensure_built((BATCH, STEPS, FEATURES))
    theirs = getattr(keras.layers, kind)(UNITS, stateful=True, **kwargs)
    theirs.build((BATCH, STEPS, FEATURES))
    theirs.set_weights(ours.get_weights())
    return ours, theirs


@pytest.mark.parametrize("kind", list(LAYERS))
def test_stateful_states_carry_across_batches_like_keras(kind):
    ours, theirs = _pair(kind, return_sequences=True)
    for x in _chunks(3):
        _close(ours(torch.as_tensor(x)), theirs(x))
        for mine, keras_state in zip(ours.states, theirs.states, strict=True):
            _close(mine, keras_state)
    ours.reset_states()
    theirs.reset_states()
    x = _chunks(1, seed=1)[0]
    _close(ours(torch.as_tensor(x)), theirs(x))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_stateful_with_mask_matches_keras(kind):
    ours, theirs = _pair(kind)
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [0, 1, 1, 1]], dtype=bool)
    for x in _chunks(2, seed=2):
        _close(ours(torch.as_tensor(x), mask=torch.as_tensor(mask)), theirs(x, mask=mask))


@pytest.mark.parametrize("kind", list(LAYERS))
def test_stateful_chunks_equal_one_long_sequence(kind):
    chunks = [torch.as_tensor(c) for c in _chunks(3, seed=3)]
    stateful = LAYERS[kind](UNITS, stateful=True, return_sequences=True)
    stateless = LAYERS[kind](UNITS, return_sequences=True)
    stateful.ensure_built((BATCH, STEPS, FEATURES))
    stateless.ensure_built((BATCH, STEPS, FEATURES))
    stateless.set_weights(stateful.get_weights())
    pieces = torch.cat([stateful(c) for c in chunks], dim=1)
    torch.testing.assert_close(pieces, stateless(torch.cat(chunks, dim=1)))


def test_reset_states_restarts_from_zeros():
    layer = LSTM(UNITS, stateful=True)
    x = torch.as_tensor(_chunks(1, seed=4)[0])
    first = layer(x)
    assert not torch.allclose(layer(x), first)
    layer.reset_states()
    assert layer.states is None
    torch.testing.assert_close(layer(x), first)


def test_stateful_batch_size_change_raises():
    layer = GRU(UNITS, stateful=True)
    layer(torch.ones(BATCH, STEPS, FEATURES))
    with pytest.raises(RnnkitValueError, match=f"stateful with batch size {BATCH}"):
        layer(torch.ones(BATCH + 1, STEPS, FEATURES))


def test_stateful_batch_size_is_kept_after_reset_states():
    layer = GRU(UNITS, stateful=True)
    layer(torch.ones(BATCH, STEPS, FEATURES))
    layer.reset_states()
    with pytest.raises(RnnkitValueError, match=f"stateful with batch size {BATCH}"):
        layer(torch.ones(BATCH + 1, STEPS, FEATURES))


def test_keras_keeps_the_stateful_batch_size_after_reset():
    layer = keras.layers.GRU(UNITS, stateful=True)
    layer(np.ones((BATCH, STEPS, FEATURES), dtype="float32"))
    layer.reset_states()
    with pytest.raises(ValueError, match="batch size"):
        layer(np.ones((BATCH + 1, STEPS, FEATURES), dtype="float32"))


def test_stateful_declared_batch_size_is_enforced_on_first_call():
    layer = LSTM(UNITS, stateful=True, batch_size=4)
    with pytest.raises(RnnkitValueError, match="received a batch of 3"):
        layer(torch.ones(3, STEPS, FEATURES))


def test_keras_also_rejects_a_batch_size_change():
    """The error we mirror: Keras refuses a different batch size too."""
    layer = keras.layers.GRU(UNITS, stateful=True)
    layer(np.ones((BATCH, STEPS, FEATURES), dtype="float32"))
    with pytest.raises(ValueError):  # Keras' message varies between versions
        layer(np.ones((BATCH + 1, STEPS, FEATURES), dtype="float32"))


def test_stateful_bidirectional_matches_keras():
    ours = Bidirectional(LSTM(UNITS, stateful=True, return_sequences=True))
    ours.ensure_built((BATCH, STEPS, FEATURES))
    theirs = keras.layers.Bidirectional(
        keras.layers.LSTM(UNITS, stateful=True, return_sequences=True)
    )
    theirs.build((BATCH, STEPS, FEATURES))
    theirs.set_weights(ours.get_weights())
    assert ours.stateful
    for x in _chunks(2, seed=5):
        _close(ours(torch.as_tensor(x)), theirs(x))
    assert len(ours.states) == 4
    for mine, keras_state in zip(ours.states, theirs.states, strict=True):
        _close(mine, keras_state)
    ours.reset_states()
    theirs.reset_states()
    assert ours.states is None
    x = _chunks(1, seed=6)[0]
    _close(ours(torch.as_tensor(x)), theirs(x))


@pytest.mark.parametrize("kind", list(LAYERS))
def test_initial_state_matches_keras(kind):
    ours = LAYERS[kind](UNITS, return_state=True)
    ours.ensure_built((BATCH, STEPS, FEATURES))
    theirs = getattr(keras.layers, kind)(UNITS, return_state=True)
    theirs.build((BATCH, STEPS, FEATURES))
    theirs.set_weights(ours.get_weights())
    rng = np.random.default_rng(7)
    states = [rng.normal(size=(BATCH, UNITS)).astype("float32") for _ in ours.cell.state_size]
    x = _chunks(1, seed=8)[0]
    result = ours(torch.as_tensor(x), initial_state=[torch.as_tensor(s) for s in states])
    expected = theirs(x, initial_state=states)
    for a, b in zip(result, expected, strict=True):
        _close(a, b)


def test_initial_state_overrides_carried_state():
    layer = SimpleRNN(UNITS, stateful=True)
    x = torch.ones(BATCH, STEPS, FEATURES)
    layer(x)
    zeros = [torch.zeros(BATCH, UNITS)]
    fresh = SimpleRNN(UNITS)
    fresh.ensure_built(tuple(x.shape))
    fresh.set_weights(layer.get_weights())
    torch.testing.assert_close(layer(x, initial_state=zeros), fresh(x))


def test_initial_state_with_wrong_shape_raises():
    layer = LSTM(UNITS)
    with pytest.raises(RnnkitValueError, match="initial_state"):
        layer(torch.ones(BATCH, STEPS, FEATURES), initial_state=[torch.zeros(BATCH, UNITS)])


def test_sequential_reset_states_resets_every_stateful_layer():
    from rnnkit.layers.dense import Dense
    from rnnkit.models.sequential import Sequential

    model = Sequential(
        [
            Bidirectional(GRU(UNITS, stateful=True, return_sequences=True)),
            LSTM(UNITS, stateful=True),
            Dense(1),
        ]
    )
    x = torch.ones(BATCH, STEPS, FEATURES)
    first = model(x)
    assert not torch.allclose(model(x), first)
    model.reset_states()
    torch.testing.assert_close(model(x), first)
