"""Masks through SimpleRNN/LSTM/GRU, Masking, Dense, Dropout: Keras 3 equivalence.

Keras (torch backend) is the oracle: the same weights are copied into a Keras layer
and both are called on the same inputs and masks; results agree within 1e-5.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from rnnkit.layers.core import Dropout
from rnnkit.layers.core import Masking
from rnnkit.layers.dense import Dense
from rnnkit.layers.recurrent import GRU
from rnnkit.layers.recurrent import LSTM
from rnnkit.layers.recurrent import SimpleRNN

keras = pytest.importorskip("keras")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: one thread avoids thread hand-off costs on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


ATOL = 1e-5
LAYERS = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}
BATCH, STEPS, FEATURES, UNITS = 4, 7, 3, 5

# Valid steps per row (1 = valid). Rows cover full, short, one-step and empty sequences.
MASKS = {
    "right": [
        [1, 1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 0, 0, 0],
        [1, 0, 0, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 1, 0],
    ],
    "left": [
        [1, 1, 1, 1, 1, 1, 1],
        [0, 0, 0, 1, 1, 1, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 1, 1, 1, 1, 1, 1],
    ],
    "gaps": [
        [1, 0, 1, 0, 1, 0, 1],
        [0, 1, 1, 0, 0, 1, 0],
        [1, 1, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0],
    ],
    "mixed": [
        [0, 0, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 0, 0, 0],
        [0, 1, 1, 0, 1, 1, 0],
        [1, 0, 0, 0, 0, 0, 1],
    ],
}


def _inputs(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(BATCH, STEPS, FEATURES)).astype("float32")


def _np(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return keras.ops.convert_to_numpy(value)


def _pair(kind: str, **kwargs):
    """An rnnkit layer and a Keras layer with the same config and weights."""
    ours = LAYERS[kind](UNITS, **kwargs)
    ours.ensure_built((BATCH, STEPS, FEATURES))
    theirs = getattr(keras.layers, kind)(UNITS, **kwargs)
    theirs.build((BATCH, STEPS, FEATURES))
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def _assert_close(ours, theirs) -> None:
    if isinstance(ours, (list, tuple)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            _assert_close(a, b)
        return
    np.testing.assert_allclose(_np(ours), _np(theirs), atol=ATOL, rtol=0)


@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("layout", list(MASKS))
@pytest.mark.parametrize("return_sequences", [False, True])
def test_rnn_mask_matches_keras(kind, layout, return_sequences):
    x = _inputs()
    mask = np.asarray(MASKS[layout], dtype=bool)
    ours, theirs = _pair(kind, return_sequences=return_sequences, return_state=True)
    expected = theirs(x, mask=mask)
    result = ours(torch.as_tensor(x), mask=torch.as_tensor(mask))
    _assert_close(result, expected)


@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_rnn_mask_go_backwards_and_zero_output_match_keras(kind, zero_output_for_mask):
    x = _inputs(1)
    mask = np.asarray(MASKS["mixed"], dtype=bool)
    for go_backwards in (False, True):
        for return_sequences in (False, True):
            ours, theirs = _pair(
                kind,
                return_sequences=return_sequences,
                return_state=True,
                go_backwards=go_backwards,
                zero_output_for_mask=zero_output_for_mask,
            )
            _assert_close(
                ours(torch.as_tensor(x), mask=torch.as_tensor(mask)), theirs(x, mask=mask)
            )


@pytest.mark.parametrize("kind", list(LAYERS))
def test_rnn_masked_steps_carry_previous_output(kind):
    x = torch.as_tensor(_inputs(2))
    mask = torch.as_tensor(MASKS["gaps"], dtype=torch.bool)
    layer = LAYERS[kind](UNITS, return_sequences=True)
    out = layer(x, mask=mask)
    for b in range(BATCH):
        previous = torch.zeros(UNITS)
        for t in range(STEPS):
            if not mask[b, t]:
                torch.testing.assert_close(out[b, t], previous)
            previous = out[b, t]


def test_rnn_zero_output_for_mask_zeroes_masked_steps():
    x = torch.as_tensor(_inputs(3))
    mask = torch.as_tensor(MASKS["gaps"], dtype=torch.bool)
    out = LSTM(UNITS, return_sequences=True, zero_output_for_mask=True)(x, mask=mask)
    assert torch.all(out[~mask] == 0)
    assert torch.all(out[mask].abs().sum(-1) > 0)


@pytest.mark.parametrize("kind", list(LAYERS))
def test_rnn_all_true_mask_equals_no_mask(kind):
    x = torch.as_tensor(_inputs(4))
    layer = LAYERS[kind](UNITS, return_sequences=True)
    torch.testing.assert_close(layer(x, mask=torch.ones(BATCH, STEPS, dtype=torch.bool)), layer(x))


def test_masking_matches_keras():
    x = _inputs(5)
    x[0, 2:4] = 0.0
    x[1, :3] = -1.0
    x[2, 5, 0] = 0.0  # one zero feature does not mask the step
    for mask_value in (0.0, -1.0):
        ours, theirs = Masking(mask_value), keras.layers.Masking(mask_value)
        np.testing.assert_array_equal(
            _np(ours.compute_mask(torch.as_tensor(x))), _np(theirs.compute_mask(x, None))
        )
        np.testing.assert_allclose(_np(ours(torch.as_tensor(x))), _np(theirs(x)), atol=0)


@pytest.mark.parametrize("mask_value", [0.0, -1.0])
def test_masking_gradient_matches_keras(mask_value):
    """Masked steps pass no gradient back to the inputs, as Keras' ``x * mask``."""
    x = _inputs(7)
    x[0, 2:4] = mask_value
    x[3, :5] = mask_value
    weights = torch.as_tensor(_inputs(8))
    ours = torch.as_tensor(x).requires_grad_()
    (Masking(mask_value)(ours) * weights).sum().backward()
    theirs = torch.as_tensor(x).requires_grad_()
    (keras.layers.Masking(mask_value)(theirs) * weights).sum().backward()
    np.testing.assert_array_equal(_np(ours.grad), _np(theirs.grad))
    assert torch.all(ours.grad[0, 2:4] == 0) and torch.all(ours.grad[0, :2] != 0)


@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("layout", ["left", "gaps"])
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_rnn_mask_with_initial_state_matches_keras(kind, layout, zero_output_for_mask):
    """Non-zero initial states: outputs before the first valid step are still zeros."""
    x = _inputs(9)
    mask = np.asarray(MASKS[layout], dtype=bool)
    rng = np.random.default_rng(10)
    count = 2 if kind == "LSTM" else 1
    states = [rng.normal(size=(BATCH, UNITS)).astype("float32") for _ in range(count)]
    for return_sequences in (False, True):
        ours, theirs = _pair(
            kind,
            return_sequences=return_sequences,
            return_state=True,
            zero_output_for_mask=zero_output_for_mask,
        )
        initial = [torch.as_tensor(s) for s in states]
        result = ours(torch.as_tensor(x), mask=torch.as_tensor(mask), initial_state=initial)
        _assert_close(result, theirs(x, mask=mask, initial_state=initial))


@pytest.mark.parametrize("kind", list(LAYERS))
def test_stateful_masked_calls_match_keras(kind):
    """The second call starts from carried (non-zero) states and left padding."""
    ours = LAYERS[kind](UNITS, stateful=True, return_sequences=True)
    ours.ensure_built((BATCH, STEPS, FEATURES))
    theirs = getattr(keras.layers, kind)(UNITS, stateful=True, return_sequences=True)
    theirs.build((BATCH, STEPS, FEATURES))
    theirs.set_weights(ours.get_weights())
    for seed, layout in ((11, "right"), (12, "left")):
        x = _inputs(seed)
        mask = np.asarray(MASKS[layout], dtype=bool)
        _assert_close(ours(torch.as_tensor(x), mask=torch.as_tensor(mask)), theirs(x, mask=mask))


@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("layout", list(MASKS))
def test_masking_then_rnn_matches_keras(kind, layout):
    """Masking(-1) + RNN: the mask comes from the padding value, as in a model."""
    x = _inputs(6)
    mask = np.asarray(MASKS[layout], dtype=bool)
    x[~mask] = -1.0
    ours, theirs = _pair(kind, return_sequences=True)
    masking, keras_masking = Masking(-1.0), keras.layers.Masking(-1.0)
    xt = torch.as_tensor(x)
    result = ours(masking(xt), mask=masking.compute_mask(xt))
    expected = theirs(keras_masking(x), mask=keras_masking.compute_mask(x, None))
    _assert_close(result, expected)
    assert torch.equal(masking.compute_mask(xt), torch.as_tensor(mask))


@pytest.mark.parametrize("layer", [Dense(2), Dropout(0.5)], ids=["Dense", "Dropout"])
def test_mask_passes_through_dense_and_dropout(layer):
    x = torch.ones(BATCH, STEPS, FEATURES)
    mask = torch.as_tensor(MASKS["left"], dtype=torch.bool)
    layer(x, mask=mask)
    assert layer.compute_mask(x, mask) is mask


@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("return_sequences", [False, True])
def test_rnn_output_mask_propagates_only_with_return_sequences(kind, return_sequences):
    layer = LAYERS[kind](UNITS, return_sequences=return_sequences)
    mask = torch.as_tensor(MASKS["right"], dtype=torch.bool)
    result = layer.compute_mask(torch.ones(BATCH, STEPS, FEATURES), mask)
    assert (result is mask) if return_sequences else (result is None)


# ----------------------------------------------------------- padded batch vs alone
def _ragged(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, FEATURES)).astype("float32") for n in (1, 6, 3, 9, 5)]


def _padded(sequences, padding):
    steps = max(len(s) for s in sequences)
    x = np.zeros((len(sequences), steps, FEATURES), dtype="float32")
    mask = np.zeros((len(sequences), steps), dtype=bool)
    for i, s in enumerate(sequences):
        where = slice(0, len(s)) if padding == "post" else slice(steps - len(s), steps)
        x[i, where], mask[i, where] = s, True
    return torch.as_tensor(x), torch.as_tensor(mask)


@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("padding", ["post", "pre"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_padded_batch_equals_each_sequence_alone(kind, padding, go_backwards):
    sequences = _ragged(7)
    x, mask = _padded(sequences, padding)
    steps = x.shape[1]
    layer = LAYERS[kind](UNITS, return_sequences=True, return_state=True, go_backwards=go_backwards)
    outputs, *states = layer(x, mask=mask)
    if go_backwards:  # back into input order
        outputs = torch.flip(outputs, dims=(1,))
    for i, s in enumerate(sequences):
        alone, *alone_states = layer(torch.as_tensor(s)[None])
        if go_backwards:
            alone = torch.flip(alone, dims=(1,))
        valid = slice(0, len(s)) if padding == "post" else slice(steps - len(s), steps)
        torch.testing.assert_close(outputs[i, valid], alone[0], atol=1e-6, rtol=0)
        for state, alone_state in zip(states, alone_states, strict=True):
            torch.testing.assert_close(state[i], alone_state[0], atol=1e-6, rtol=0)


@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("padding", ["post", "pre"])
def test_padded_batch_last_output_equals_alone(kind, padding):
    sequences = _ragged(8)
    x, mask = _padded(sequences, padding)
    layer = LAYERS[kind](UNITS)
    last = layer(x, mask=mask)
    for i, s in enumerate(sequences):
        torch.testing.assert_close(last[i], layer(torch.as_tensor(s)[None])[0], atol=1e-6, rtol=0)


@pytest.mark.parametrize("shape", [(BATCH, STEPS - 1), (BATCH - 1, STEPS), (1, STEPS), (BATCH,)])
def test_mask_of_the_wrong_shape_is_refused(shape):
    layer = LSTM(UNITS, return_sequences=True)
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, timesteps\)"):
        layer(torch.as_tensor(_inputs()), mask=torch.ones(shape, dtype=torch.bool))
