"""Bidirectional and TimeDistributed: Keras 3 equivalence, shapes, weights, config."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.layers.core import Dropout
from rnnkit.layers.dense import Dense
from rnnkit.layers.recurrent import GRU
from rnnkit.layers.recurrent import LSTM
from rnnkit.layers.recurrent import SimpleRNN
from rnnkit.layers.wrappers import Bidirectional
from rnnkit.layers.wrappers import TimeDistributed

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
BATCH, STEPS, FEATURES, UNITS = 3, 6, 4, 5
LEFT_AND_GAPS = np.array([[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1], [1, 0, 1, 1, 0, 0]], dtype=bool)


def _inputs(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(BATCH, STEPS, FEATURES)).astype("float32")


def _np(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return keras.ops.convert_to_numpy(value)


def _assert_close(ours, theirs) -> None:
    if isinstance(ours, (list, tuple)):
        assert isinstance(theirs, (list, tuple)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            _assert_close(a, b)
        return
    np.testing.assert_allclose(_np(ours), _np(theirs), atol=ATOL, rtol=0)


def _bidirectional_pair(kind: str, merge_mode="concat", **kwargs):
    ours = Bidirectional(LAYERS[kind](UNITS, **kwargs), merge_mode=merge_mode)
    ours.ensure_built((BATCH, STEPS, FEATURES))
    theirs = keras.layers.Bidirectional(
        getattr(keras.layers, kind)(UNITS, **kwargs), merge_mode=merge_mode
    )
    theirs.build((BATCH, STEPS, FEATURES))
    theirs.set_weights(ours.get_weights())
    return ours, theirs


# --------------------------------------------------------------- Bidirectional
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_merge_modes_match_keras(merge_mode, return_sequences):
    x = _inputs()
    ours, theirs = _bidirectional_pair("LSTM", merge_mode, return_sequences=return_sequences)
    result = ours(torch.as_tensor(x))
    _assert_close(result, theirs(x))
    expected_shape = ours.compute_output_shape((BATCH, STEPS, FEATURES))
    if merge_mode is None:
        assert [tuple(r.shape) for r in result] == [tuple(s) for s in expected_shape]
    else:
        assert tuple(result.shape) == tuple(expected_shape)
        assert tuple(expected_shape) == tuple(theirs.compute_output_shape((BATCH, STEPS, FEATURES)))


@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("merge_mode", ["concat", None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_return_state_with_mask_matches_keras(kind, merge_mode, return_sequences):
    """Left padding and gaps, states of both directions, every layer kind."""
    x = _inputs(1)
    ours, theirs = _bidirectional_pair(
        kind, merge_mode, return_sequences=return_sequences, return_state=True
    )
    result = ours(torch.as_tensor(x), mask=torch.as_tensor(LEFT_AND_GAPS))
    expected = theirs(x, mask=LEFT_AND_GAPS)
    _assert_close(result, expected)
    states_per_direction = len(ours.forward_layer.cell.state_size)
    heads = 2 if merge_mode is None else 1
    assert len(result) == heads + 2 * states_per_direction
    shapes = ours.compute_output_shape((BATCH, STEPS, FEATURES))
    assert [tuple(r.shape) for r in result] == [tuple(s) for s in shapes]


def test_bidirectional_masked_sequence_outputs_are_zero():
    x = torch.as_tensor(_inputs(2))
    mask = torch.as_tensor(LEFT_AND_GAPS)
    layer = Bidirectional(GRU(UNITS, return_sequences=True))
    out = layer(x, mask=mask)
    assert torch.all(out[~mask] == 0)
    assert layer.forward_layer.zero_output_for_mask
    assert not Bidirectional(GRU(UNITS)).forward_layer.zero_output_for_mask


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_bidirectional_initial_state_matches_keras(kind):
    x = _inputs(3)
    ours, theirs = _bidirectional_pair(kind, return_sequences=True)
    count = 2 * len(ours.forward_layer.cell.state_size)
    rng = np.random.default_rng(4)
    states = [rng.normal(size=(BATCH, UNITS)).astype("float32") for _ in range(count)]
    result = ours(torch.as_tensor(x), initial_state=[torch.as_tensor(s) for s in states])
    _assert_close(result, theirs(x, initial_state=states))
    assert not np.allclose(_np(result), _np(ours(torch.as_tensor(x))))


def test_bidirectional_initial_state_must_split_in_halves():
    layer = Bidirectional(LSTM(UNITS))
    with pytest.raises(RnnkitValueError, match="even number"):
        layer(torch.ones(BATCH, STEPS, FEATURES), initial_state=[torch.zeros(BATCH, UNITS)] * 3)


def test_bidirectional_weights_order_and_count_match_keras():
    ours, theirs = _bidirectional_pair("GRU")
    assert (
        ours.count_params()
        == theirs.count_params()
        == 2 * GRU(UNITS).cell.gates * (UNITS * (FEATURES + UNITS) + 2 * UNITS)
    )
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.weights]
    forward = ours.forward_layer.get_weights()
    backward = ours.backward_layer.get_weights()
    for a, b in zip(ours.get_weights(), forward + backward, strict=True):
        np.testing.assert_array_equal(a, b)


def test_bidirectional_copies_are_fresh_and_named_like_keras():
    inner = LSTM(UNITS, name="enc")
    layer = Bidirectional(inner)
    assert layer.forward_layer is not inner
    assert (layer.forward_layer.name, layer.backward_layer.name) == ("forward_enc", "backward_enc")
    assert not layer.forward_layer.go_backwards and layer.backward_layer.go_backwards
    layer.ensure_built((BATCH, STEPS, FEATURES))
    assert not inner.built
    forward, backward = layer.forward_layer.get_weights(), layer.backward_layer.get_weights()
    assert not np.allclose(forward[0], backward[0])


def test_bidirectional_weights_argument_sets_initial_weights():
    source = Bidirectional(SimpleRNN(UNITS))
    source.ensure_built((BATCH, STEPS, FEATURES))
    layer = Bidirectional(SimpleRNN(UNITS), weights=source.get_weights())
    x = torch.as_tensor(_inputs(5))
    torch.testing.assert_close(layer(x), source(x))


def test_bidirectional_custom_backward_layer():
    backward = GRU(UNITS, activation="relu", go_backwards=True, return_sequences=True)
    layer = Bidirectional(
        GRU(UNITS, return_sequences=True), backward_layer=backward, merge_mode="sum"
    )
    assert layer.backward_layer is backward
    x = _inputs(6)
    layer.ensure_built(x.shape)
    theirs = keras.layers.Bidirectional(
        keras.layers.GRU(UNITS, return_sequences=True),
        backward_layer=keras.layers.GRU(
            UNITS, activation="relu", go_backwards=True, return_sequences=True
        ),
        merge_mode="sum",
    )
    theirs.build(x.shape)
    theirs.set_weights(layer.get_weights())
    _assert_close(layer(torch.as_tensor(x)), theirs(x))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"merge_mode": "avg"}, RnnkitValueError, "Did you mean 'ave'"),
        ({"backward_layer": GRU(2)}, RnnkitValueError, "go_backwards"),
        (
            {"backward_layer": GRU(2, go_backwards=True, return_sequences=True)},
            RnnkitValueError,
            "return_sequences",
        ),
        ({"backward_layer": "gru"}, RnnkitTypeError, "backward_layer"),
    ],
)
def test_bidirectional_invalid_arguments_raise(kwargs, error, match):
    with pytest.raises(error, match=match):
        Bidirectional(GRU(2), **kwargs)


def test_bidirectional_rejects_non_layers():
    with pytest.raises(RnnkitTypeError, match="rnnkit layer"):
        Bidirectional(torch.nn.LSTM(2, 2))


def test_bidirectional_config_round_trip():
    layer = Bidirectional(
        LSTM(UNITS, return_sequences=True, activation="relu"),
        merge_mode="ave",
        input_shape=(STEPS, FEATURES),
    )
    config = layer.get_config()
    assert config["merge_mode"] == "ave"
    assert config["layer"]["class_name"] == "LSTM"
    assert config["layer"]["config"]["name"] == layer.forward_layer.name
    assert config["backward_layer"]["config"]["go_backwards"] is True
    clone = Bidirectional.from_config(config)
    assert clone.get_config() == config
    assert clone.forward_layer.name == layer.forward_layer.name  # no forward_forward_
    clone.ensure_built((BATCH, STEPS, FEATURES))
    layer.ensure_built((BATCH, STEPS, FEATURES))
    clone.set_weights(layer.get_weights())
    x = torch.as_tensor(_inputs(7))
    torch.testing.assert_close(clone(x), layer(x))


def test_bidirectional_takes_declared_input_shape_from_inner_layer():
    layer = Bidirectional(LSTM(UNITS, input_shape=(STEPS, FEATURES)))
    assert layer.declared_input_shape == (STEPS, FEATURES)
    assert Bidirectional(LSTM(UNITS), input_shape=(9, 2)).declared_input_shape == (9, 2)


def test_bidirectional_compute_mask():
    mask = torch.as_tensor(LEFT_AND_GAPS)
    x = torch.ones(BATCH, STEPS, FEATURES)
    assert Bidirectional(LSTM(2, return_sequences=True)).compute_mask(x, mask) is mask
    assert Bidirectional(LSTM(2)).compute_mask(x, mask) is None


def test_bidirectional_keeps_use_cudnn():
    layer = Bidirectional(LSTM(2, use_cudnn=False))
    assert layer.forward_layer.use_cudnn is False and layer.backward_layer.use_cudnn is False
    assert layer.backward_layer.kernel_preference == LSTM(2, use_cudnn=False).kernel_preference


def test_bidirectional_trains_both_directions():
    layer = Bidirectional(SimpleRNN(UNITS))
    layer(torch.as_tensor(_inputs(8))).sum().backward()
    grads = [p.grad for p in layer.parameters()]
    assert len(grads) == 6 and all(g is not None and g.abs().sum() > 0 for g in grads)


# -------------------------------------------------------------- TimeDistributed
def test_time_distributed_dense_matches_keras():
    x = _inputs(9)
    ours = TimeDistributed(Dense(UNITS, activation="tanh"))
    ours.ensure_built(x.shape)
    theirs = keras.layers.TimeDistributed(keras.layers.Dense(UNITS, activation="tanh"))
    theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    _assert_close(ours(torch.as_tensor(x)), theirs(x))
    assert ours.count_params() == theirs.count_params() == FEATURES * UNITS + UNITS
    assert ours.compute_output_shape((None, STEPS, FEATURES)) == (None, STEPS, UNITS)
    assert tuple(theirs.compute_output_shape((None, STEPS, FEATURES))) == (None, STEPS, UNITS)


def test_time_distributed_dense_equals_dense_on_each_step():
    x = torch.as_tensor(_inputs(10))
    layer = TimeDistributed(Dense(2))
    out = layer(x)
    for t in range(STEPS):
        torch.testing.assert_close(out[:, t], layer.layer(x[:, t]))


def test_time_distributed_on_four_dimensional_inputs():
    layer = TimeDistributed(Dense(2))
    assert layer(torch.ones(2, 3, 4, 5)).shape == (2, 3, 4, 2)


def test_time_distributed_propagates_and_checks_mask():
    layer = TimeDistributed(Dense(2))
    x = torch.ones(BATCH, STEPS, FEATURES)
    mask = torch.as_tensor(LEFT_AND_GAPS)
    layer(x, mask=mask)
    assert layer.compute_mask(x, mask) is mask
    with pytest.raises(RnnkitValueError, match="mask"):
        layer(x, mask=mask[:, :2])


def test_time_distributed_passes_training_flag():
    layer = TimeDistributed(Dropout(0.5, seed=1))
    x = torch.ones(2, 50, 4)
    assert torch.equal(layer(x, training=False), x)
    dropped = layer(x, training=True)
    assert torch.any(dropped == 0) and torch.any(dropped == 2)


def test_time_distributed_errors():
    with pytest.raises(RnnkitValueError, match="at least 3 dimensions"):
        TimeDistributed(Dense(2))(torch.ones(4, 3))
    with pytest.raises(RnnkitTypeError, match="rnnkit layer"):
        TimeDistributed(torch.nn.Linear(2, 2))


def test_time_distributed_config_round_trip_and_weights():
    layer = TimeDistributed(Dense(3, activation="relu"), name="td")
    layer.ensure_built((BATCH, STEPS, FEATURES))
    config = layer.get_config()
    assert config["layer"]["class_name"] == "Dense"
    assert config["name"] == "td"
    clone = TimeDistributed.from_config(config)
    clone.ensure_built((BATCH, STEPS, FEATURES))
    clone.set_weights(layer.get_weights())
    x = torch.as_tensor(_inputs(11))
    torch.testing.assert_close(clone(x), layer(x))


# ------------------------------------------------------------------ in a model
def test_masked_model_with_wrappers_matches_keras():
    """Masking -> Bidirectional -> TimeDistributed(Dense) -> Dropout -> LSTM -> Dense."""
    from rnnkit.layers.core import Masking
    from rnnkit.models.sequential import Sequential

    x = _inputs(12)
    x[~LEFT_AND_GAPS] = 0.0
    ours = Sequential(
        [
            Masking(0.0, input_shape=(STEPS, FEATURES)),
            Bidirectional(GRU(UNITS, return_sequences=True), merge_mode="ave"),
            TimeDistributed(Dense(3, activation="tanh")),
            Dropout(0.5),
            LSTM(UNITS),
            Dense(2),
        ]
    )
    k = keras.layers
    theirs = keras.Sequential(
        [
            keras.Input((STEPS, FEATURES)),
            k.Masking(0.0),
            k.Bidirectional(k.GRU(UNITS, return_sequences=True), merge_mode="ave"),
            k.TimeDistributed(k.Dense(3, activation="tanh")),
            k.Dropout(0.5),
            k.LSTM(UNITS),
            k.Dense(2),
        ]
    )
    theirs.set_weights(ours.get_weights())
    assert ours.count_params() == theirs.count_params()
    _assert_close(ours(torch.as_tensor(x)), theirs(x, training=False))
    assert ours.output_shape == (None, 2)


def test_model_with_wrappers_saves_and_loads(tmp_path):
    from rnnkit.layers.core import Masking
    from rnnkit.models.saving import load_model
    from rnnkit.models.sequential import Sequential

    model = Sequential(
        [
            Masking(0.0, input_shape=(STEPS, FEATURES)),
            Bidirectional(LSTM(UNITS, return_sequences=True), merge_mode="mul"),
            TimeDistributed(Dense(2)),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    path = tmp_path / "wrapped.rnnkit"
    model.save(str(path))
    loaded = load_model(str(path))
    x = torch.as_tensor(_inputs(13))
    torch.testing.assert_close(loaded(x), model(x))
    assert isinstance(loaded.layers[1], Bidirectional)
    assert loaded.layers[1].merge_mode == "mul"


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_time_distributed_rnn_sees_the_inner_mask_like_keras(kind):
    """Masking on 4-D input -> TimeDistributed(RNN): each inner sequence skips its padding."""
    from rnnkit.layers.core import Masking
    from rnnkit.models.sequential import Sequential

    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 3, 6, 4)).astype("float32")
    x[0, 0, 4:] = 0.0  # right padding inside an inner sequence
    x[0, 2, :2] = 0.0  # left padding
    x[1, 1, ::2] = 0.0  # gaps
    inner = {"LSTM": LSTM, "GRU": GRU}[kind](3)
    ours = Sequential([Masking(0.0), TimeDistributed(inner)])
    ours.build((None, 3, 6, 4))
    theirs = keras.Sequential(
        [
            keras.Input((3, 6, 4)),
            keras.layers.Masking(0.0),
            keras.layers.TimeDistributed(getattr(keras.layers, kind)(3)),
        ]
    )
    theirs.set_weights(ours.get_weights())
    got = ours(torch.as_tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(theirs(x)), atol=1e-5)
    alone = inner(torch.as_tensor(x[0, 0, :4][None])).detach().numpy()[0]
    np.testing.assert_allclose(got[0, 0], alone, atol=1e-6)


def test_bidirectional_needs_recurrent_layers_and_matching_units_to_add():
    with pytest.raises(RnnkitTypeError, match="must be a recurrent layer"):
        Bidirectional(Dense(3))
    with pytest.raises(RnnkitTypeError, match="`backward_layer` must be a recurrent layer"):
        Bidirectional(LSTM(3), backward_layer=Dense(3))
    with pytest.raises(RnnkitValueError, match="needs the same units"):
        Bidirectional(LSTM(3), backward_layer=LSTM(2, go_backwards=True), merge_mode="sum")
    layer = Bidirectional(LSTM(3), backward_layer=LSTM(2, go_backwards=True))  # concat: fine
    assert layer(torch.ones(2, 4, 5)).shape == (2, 5)


def test_bidirectional_reports_its_kernel():
    layer = Bidirectional(LSTM(3))
    assert layer.kernel_choice is None  # not called yet
    layer(torch.ones(2, 4, 5))
    assert layer.kernel_choice == layer.forward_layer.kernel_choice
    mixed = Bidirectional(LSTM(3), backward_layer=LSTM(3, go_backwards=True, use_cudnn=False))
    mixed.backward_layer.kernel_preference = "reference"
    mixed(torch.ones(2, 4, 5))
    name = mixed.kernel_choice.name
    assert "(forward)" in name and "reference (backward)" in name
