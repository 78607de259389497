"""``Embedding`` against Keras 3: lookups, ``mask_zero`` masks consumed by the
recurrent layers (outputs at padded steps included), gradients, one epoch of
training and the parameter count, with the same weights on both sides."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit import Sequential
from rnnkit.errors import RnnkitValueError
from rnnkit.layers import GRU
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import Embedding
from rnnkit.layers import SimpleRNN

VOCAB, DIM, UNITS, STEPS = 12, 4, 5, 6
LENGTHS = [6, 4, 2, 1, 5, 3]
TOL = {"rtol": 1e-5, "atol": 1e-5}
RECURRENT = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}


def _ids(padding: str, seed: int = 3) -> np.ndarray:
    """Zero-padded id sequences of LENGTHS, padded before or after the tokens."""
    rng = np.random.default_rng(seed)
    x = np.zeros((len(LENGTHS), STEPS), dtype="int64")
    for i, n in enumerate(LENGTHS):
        tokens = rng.integers(1, VOCAB, size=n)
        if padding == "post":
            x[i, :n] = tokens
        else:
            x[i, STEPS - n :] = tokens
    return x


def _pair(keras, rng, recurrent: str, return_sequences: bool, activation=None):
    ours = Sequential(
        [
            Embedding(VOCAB, DIM, mask_zero=True),
            RECURRENT[recurrent](UNITS, return_sequences=return_sequences),
            Dense(3, activation=activation),
        ]
    )
    ours.build((None, STEPS))
    theirs = keras.Sequential(
        [
            keras.Input((STEPS,), dtype="int32"),
            keras.layers.Embedding(VOCAB, DIM, mask_zero=True),
            getattr(keras.layers, recurrent)(UNITS, return_sequences=return_sequences),
            keras.layers.Dense(3, activation=activation),
        ]
    )
    weights = [rng.uniform(-0.5, 0.5, size=w.shape).astype("float32") for w in ours.get_weights()]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    return ours, theirs


def test_lookup_equals_keras_with_the_same_weights(keras, rng):
    ours, theirs = Embedding(VOCAB, DIM), keras.layers.Embedding(VOCAB, DIM)
    ids = rng.integers(0, VOCAB, size=(3, 7))
    ours(torch.as_tensor(ids))
    theirs.build((3, 7))
    table = rng.normal(size=(VOCAB, DIM)).astype("float32")
    ours.set_weights([table])
    theirs.set_weights([table])
    expected = keras.ops.convert_to_numpy(theirs(ids))
    for dtype in ("int32", "int64", "float32"):  # Keras casts float ids too
        got = ours(torch.as_tensor(ids.astype(dtype))).detach().numpy()
        np.testing.assert_array_equal(got, expected)
    assert [w.shape for w in ours.get_weights()] == [(VOCAB, DIM)]
    assert [v.path.split("/")[-1] for v in theirs.weights] == ["embeddings"]
    assert [name for name, _ in ours.named_parameters()] == ["embeddings"]


def test_default_initializer_is_keras_uniform_005(keras):
    layer = Embedding(400, 50)
    layer(torch.zeros(1, 1, dtype=torch.long))
    values = layer.get_weights()[0]
    assert values.min() >= -0.05 and values.max() < 0.05
    assert values.min() < -0.045 and values.max() > 0.045  # spans the range, not a narrower one
    keras_config = keras.layers.Embedding(400, 50).get_config()["embeddings_initializer"]
    assert keras_config["class_name"] == "RandomUniform"
    assert keras_config["config"]["minval"] == -0.05 and keras_config["config"]["maxval"] == 0.05


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("recurrent", sorted(RECURRENT))
def test_mask_zero_feeds_the_recurrent_layer_as_in_keras(
    keras, rng, recurrent, return_sequences, padding
):
    ours, theirs = _pair(keras, rng, recurrent, return_sequences)
    x = _ids(padding)
    got = ours.predict(x, verbose=0)
    expected = theirs.predict(x, verbose=0)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, **TOL)  # padded steps included
    if return_sequences:
        out = ours(torch.as_tensor(x))
        np.testing.assert_array_equal(out._keras_mask.numpy(), x != 0)
    # and the mask matters: without it the outputs differ
    unmasked = Sequential([Embedding(VOCAB, DIM), *list(ours.layers)[1:]])
    unmasked.build((None, STEPS))
    unmasked.layers[0].set_weights(ours.layers[0].get_weights())
    assert not np.allclose(unmasked.predict(x, verbose=0), got, atol=1e-4)


@pytest.mark.parametrize("recurrent", sorted(RECURRENT))
def test_embedding_gradients_equal_keras(keras, rng, recurrent):
    ours, theirs = _pair(keras, rng, recurrent, return_sequences=False)
    x = _ids("pre")
    ours(torch.as_tensor(x)).square().sum().backward()
    theirs(torch.as_tensor(x.astype("int32"))).square().sum().backward()
    got = ours.layers[0].embeddings.grad.numpy()
    expected = theirs.layers[0].embeddings.value.grad.cpu().numpy()
    assert np.abs(expected).max() > 0
    np.testing.assert_array_equal(got[0], np.zeros(DIM))  # padding id 0 contributes nothing
    np.testing.assert_allclose(got, expected, **TOL)


@pytest.mark.parametrize("recurrent", ["LSTM", "GRU"])
def test_one_epoch_of_training_gives_keras_weights(keras, rng, recurrent):
    ours, theirs = _pair(keras, rng, recurrent, return_sequences=False, activation="softmax")
    before = ours.get_weights()
    x = np.concatenate([_ids("pre", 1), _ids("post", 2)])
    y = np.random.default_rng(5).integers(0, 3, size=len(x))
    ours.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    theirs.compile(
        optimizer=keras.optimizers.Adam(),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    args = {"batch_size": 4, "epochs": 1, "shuffle": False, "verbose": 0}
    history = ours.fit(x, y, **args).history
    expected = theirs.fit(x, y, **args).history
    np.testing.assert_allclose(history["loss"], expected["loss"], **TOL)
    np.testing.assert_allclose(history["accuracy"], expected["accuracy"], **TOL)
    for got, want in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, **TOL)
    changed = np.abs(ours.get_weights()[0] - before[0]).max(axis=1)
    assert changed[0] == 0.0  # the padding row gets no gradient
    assert changed[1:].max() > 1e-4  # the token rows were trained


def test_parameter_count_and_summary_match_keras(keras, capsys):
    ours = Sequential([Embedding(1000, 16, mask_zero=True), LSTM(8), Dense(1)])
    ours.build((None, 20))
    theirs = keras.Sequential(
        [
            keras.Input((20,)),
            keras.layers.Embedding(1000, 16, mask_zero=True),
            keras.layers.LSTM(8),
            keras.layers.Dense(1),
        ]
    )
    assert ours.count_params() == theirs.count_params() == 16000 + 800 + 9
    ours.summary()
    printed = capsys.readouterr().out
    assert "Total params: 16,809" in printed
    assert "(None, 20, 16)" in printed


def test_ids_out_of_range_are_refused_with_the_id(keras):
    layer = Embedding(5, 2)
    with pytest.raises(RnnkitValueError, match=r"ids must lie in \[0, 5\).*Received id 5"):
        layer(torch.tensor([[1, 5]]))
    with pytest.raises(RnnkitValueError, match=r"Received id -1"):
        layer(torch.tensor([[-1, 2]]))
    with pytest.raises(RnnkitValueError, match=r"whole-number ids.*Received 1.5"):
        layer(torch.tensor([[1.5, 2.0]]))
    with pytest.raises(IndexError):  # Keras on torch refuses too, less readably
        keras.layers.Embedding(5, 2)(np.array([[1, 5]]))


def test_keras_3_arguments(keras):
    table = np.arange(6 * 2, dtype="float32").reshape(6, 2)
    layer = Embedding(6, 2, weights=table)  # built at once, as Keras does
    assert layer.built
    np.testing.assert_array_equal(layer.get_weights()[0], table)
    np.testing.assert_array_equal(Embedding(6, 2, weights=[table]).get_weights()[0], table)
    with pytest.warns(UserWarning, match="input_length"):
        keras.layers.Embedding(6, 2, input_length=9)
    with pytest.warns(UserWarning, match="`input_length` is deprecated in Keras 3"):
        legacy = Embedding(6, 2, input_length=9)
    assert legacy.declared_input_shape == (9,)
    with pytest.raises(RnnkitValueError, match=r"does not implement LoRA.*lora_rank=4"):
        Embedding(6, 2, lora_rank=4)
    with pytest.raises(RnnkitValueError, match=r"sparse=True"):
        Embedding(6, 2, sparse=True)
    with pytest.raises(RnnkitValueError, match="output_dim"):
        Embedding(6, 0)
    regularized = Embedding(6, 2, weights=table, embeddings_regularizer="l2")
    penalty = float(regularized.regularization_loss().detach())
    assert penalty == pytest.approx(0.01 * (table**2).sum())
    clipped = Embedding(6, 2, weights=table, embeddings_constraint="non_neg")
    clipped.embeddings.data.fill_(-1.0)
    clipped.apply_constraints()
    assert clipped.get_weights()[0].min() == 0.0
    config = Embedding(6, 2, mask_zero=True).get_config()
    assert {k: config[k] for k in ("input_dim", "output_dim", "mask_zero")} == {
        k: keras.layers.Embedding(6, 2, mask_zero=True).get_config()[k]
        for k in ("input_dim", "output_dim", "mask_zero")
    }
    assert Embedding(6, 2).compute_mask(torch.tensor([[0, 1]])) is None


@pytest.mark.parametrize("padding", ["pre", "post"])
def test_the_mask_passes_dropout_and_feeds_bidirectional_as_in_keras(keras, rng, padding):
    from rnnkit.layers import Bidirectional
    from rnnkit.layers import Dropout

    ours = Sequential(
        [
            Embedding(VOCAB, DIM, mask_zero=True),
            Dropout(0.3),
            Bidirectional(GRU(UNITS, return_sequences=True)),
            LSTM(UNITS),
            Dense(2),
        ]
    )
    ours.build((None, STEPS))
    theirs = keras.Sequential(
        [
            keras.Input((STEPS,), dtype="int32"),
            keras.layers.Embedding(VOCAB, DIM, mask_zero=True),
            keras.layers.Dropout(0.3),
            keras.layers.Bidirectional(keras.layers.GRU(UNITS, return_sequences=True)),
            keras.layers.LSTM(UNITS),
            keras.layers.Dense(2),
        ]
    )
    weights = [rng.uniform(-0.5, 0.5, size=w.shape).astype("float32") for w in ours.get_weights()]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    x = _ids(padding)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), **TOL)
