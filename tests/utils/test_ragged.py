"""pad_sequences (vs keras.utils.pad_sequences) and the ragged-batching helpers."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.utils.ragged import RaggedBatches
from rnnkit.utils.ragged import bucket_by_length
from rnnkit.utils.ragged import pad_ragged
from rnnkit.utils.ragged import predict_ragged
from rnnkit.utils.ragged import sequence_lengths
from rnnkit.utils.ragged import sequence_mask
from rnnkit.utils.sequences import pad_sequences

keras = pytest.importorskip("keras")

INT_SEQUENCES = [[1, 2, 3, 4, 5], [6], [7, 8, 9], [], [10, 11]]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: one thread avoids thread hand-off costs on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _ragged_arrays(lengths, features=3, seed=0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, features)).astype("float32") for n in lengths]


# ---------------------------------------------------------------- pad_sequences
@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 1, 3, 8])
def test_pad_sequences_matches_keras(padding, truncating, maxlen):
    ours = pad_sequences(INT_SEQUENCES, maxlen=maxlen, padding=padding, truncating=truncating)
    theirs = keras.utils.pad_sequences(
        INT_SEQUENCES, maxlen=maxlen, padding=padding, truncating=truncating
    )
    np.testing.assert_array_equal(ours, theirs)
    assert ours.dtype == theirs.dtype == np.int32


@pytest.mark.parametrize(
    ("dtype", "value"),
    [("int32", -1), ("int64", 7), ("float32", 0.5), ("float64", -2.0), ("int32", 0.7)],
)
def test_pad_sequences_dtype_and_value_match_keras(dtype, value):
    sequences = [[1.5, 2.25], [3.0], [4.75, 5.5, 6.0]]
    ours = pad_sequences(sequences, maxlen=4, dtype=dtype, value=value, padding="post")
    theirs = keras.utils.pad_sequences(
        sequences, maxlen=4, dtype=dtype, value=value, padding="post"
    )
    np.testing.assert_array_equal(ours, theirs)
    assert ours.dtype == theirs.dtype


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
def test_pad_sequences_feature_arrays_match_keras(padding, truncating):
    sequences = _ragged_arrays([4, 1, 6, 2])
    kwargs = {
        "maxlen": 5,
        "dtype": "float32",
        "padding": padding,
        "truncating": truncating,
        "value": -1.0,
    }
    ours = pad_sequences(sequences, **kwargs)
    np.testing.assert_array_equal(ours, keras.utils.pad_sequences(sequences, **kwargs))
    assert ours.shape == (4, 5, 3)


def test_pad_sequences_strings_match_keras():
    sequences = [["a", "b"], ["c"], ["d", "e", "f"]]
    ours = pad_sequences(sequences, dtype=object, value="<pad>")
    theirs = keras.utils.pad_sequences(sequences, dtype=object, value="<pad>")
    assert ours.tolist() == theirs.tolist()


def test_pad_sequences_string_value_needs_string_dtype():
    with pytest.raises(ValueError, match="value"):
        pad_sequences([[1, 2]], value="x")
    with pytest.raises(ValueError):  # Keras raises a plain ValueError too
        keras.utils.pad_sequences([[1, 2]], value="x")


def test_pad_sequences_inconsistent_features_raise():
    with pytest.raises(ValueError, match="feature shape"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 4))])


def test_pad_sequences_unknown_padding_raises():
    with pytest.raises(ValueError, match="Did you mean 'post'"):
        pad_sequences([[1]], padding="posts")


# ------------------------------------------------------------------ pad_ragged
@pytest.mark.parametrize("padding", ["pre", "post"])
def test_pad_ragged_returns_values_and_mask(padding):
    sequences = _ragged_arrays([2, 5, 3])
    x, mask = pad_ragged(sequences, padding=padding, value=-1.0)
    assert x.shape == (3, 5, 3) and x.dtype == np.float32
    assert mask.dtype == bool
    np.testing.assert_array_equal(mask.sum(axis=1), [2, 5, 3])
    for i, s in enumerate(sequences):
        np.testing.assert_array_equal(x[i][mask[i]], s)
        assert np.all(x[i][~mask[i]] == -1.0)
    np.testing.assert_array_equal(mask, sequence_mask([2, 5, 3], 5, padding=padding))


def test_pad_ragged_mask_comes_from_lengths_not_values():
    _, mask = pad_ragged([np.zeros((3, 2)), np.ones((1, 2))])
    assert mask.tolist() == [[True, True, True], [True, False, False]]


def test_pad_ragged_truncates_to_maxlen():
    x, mask = pad_ragged([np.arange(6.0)[:, None]], maxlen=4, truncating="pre")
    assert x[0, :, 0].tolist() == [2.0, 3.0, 4.0, 5.0] and mask.all()


def test_pad_ragged_rejects_non_sequences():
    with pytest.raises(RnnkitTypeError, match="Sequence 1"):
        pad_ragged([[1.0], 2.0])
    with pytest.raises(RnnkitTypeError, match="list of sequences"):
        pad_ragged(3)


def test_sequence_helpers():
    assert sequence_lengths([[1, 2], [], np.ones((4, 2))]).tolist() == [2, 0, 4]
    assert sequence_mask([1, 3], padding="pre").astype(int).tolist() == [[0, 0, 1], [1, 1, 1]]
    assert sequence_mask([5], 2).tolist() == [[True, True]]
    with pytest.raises(RnnkitValueError, match=">= 0"):
        sequence_mask([-1])


# --------------------------------------------------------------- bucketing
def test_bucket_by_length_groups_similar_lengths():
    lengths = np.random.default_rng(0).integers(5, 31, size=103)
    batches = bucket_by_length(lengths, batch_size=10)
    assert [len(b) for b in batches] == [10] * 10 + [3]
    assert sorted(np.concatenate(batches).tolist()) == list(range(103))
    maxima = [lengths[b].max() for b in batches]
    assert maxima == sorted(maxima)
    assert sum(lengths[b].max() * len(b) for b in batches) < 31 * 103


def test_bucket_by_length_shuffle_is_seeded():
    lengths = np.random.default_rng(1).integers(5, 31, size=50)
    first = bucket_by_length(lengths, batch_size=8, shuffle=True, seed=3)
    again = bucket_by_length(lengths, batch_size=8, shuffle=True, seed=3)
    other = bucket_by_length(lengths, batch_size=8, shuffle=True, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))
    assert sorted(np.concatenate(first).tolist()) == list(range(50))
    for batch in first:  # still buckets: each batch spans few lengths
        assert np.ptp(lengths[batch]) <= 8


def test_bucket_by_length_rejects_bad_batch_size():
    with pytest.raises(RnnkitValueError, match="batch_size"):
        bucket_by_length([1, 2], batch_size=0)


def test_ragged_batches_pad_each_batch_to_its_own_length():
    sequences = _ragged_arrays([3, 9, 4, 8, 5])
    labels = np.array([0, 1, 2, 3, 4])
    batches = RaggedBatches(sequences, labels, batch_size=2, value=-1.0)
    assert len(batches) == 3
    for index, (xb, yb) in zip(batches.batches, batches, strict=True):
        np.testing.assert_array_equal(yb, labels[index])
        assert xb.shape[1] == max(len(sequences[i]) for i in index)
        for row, i in enumerate(index):
            np.testing.assert_array_equal(xb[row, : len(sequences[i])], sequences[i])
    assert [xb.shape for xb in RaggedBatches(sequences, batch_size=5)] == [(5, 9, 3)]


@pytest.mark.parametrize("padding", ["post", "pre"])
@pytest.mark.parametrize("trailing", [(3,), (), (2, 2)], ids=["features", "scalars", "2-D"])
def test_ragged_batches_equal_pad_sequences_of_each_batch(padding, trailing):
    rng = np.random.default_rng(0)
    sequences = [rng.normal(size=(n, *trailing)) for n in rng.integers(1, 9, size=40)]
    batches = RaggedBatches(
        sequences, batch_size=7, padding=padding, value=-1.0, shuffle=True, seed=1
    )
    for index, xb in zip(batches.batches, batches, strict=True):
        expected = pad_sequences(
            [sequences[i] for i in index], dtype="float32", padding=padding, value=-1.0
        )
        assert xb.dtype == expected.dtype
        np.testing.assert_array_equal(xb, expected)


def test_ragged_batches_regroup_after_each_epoch_only_when_shuffled():
    sequences = _ragged_arrays([3, 9, 4, 8, 5, 3, 3, 3])
    fixed = RaggedBatches(sequences, batch_size=2)
    before = [b.copy() for b in fixed.batches]
    fixed.on_epoch_end()
    assert all(np.array_equal(a, b) for a, b in zip(before, fixed.batches, strict=True))
    shuffled = RaggedBatches(sequences, batch_size=2, shuffle=True, seed=0)
    orders = set()
    for _ in range(6):
        orders.add(tuple(np.concatenate(shuffled.batches)))
        shuffled.on_epoch_end()
    assert len(orders) > 1
    again = RaggedBatches(sequences, batch_size=2, shuffle=True, seed=0)
    assert tuple(np.concatenate(again.batches)) in orders  # seeded


def test_ragged_batches_need_one_feature_shape():
    with pytest.raises(RnnkitValueError, match="same features"):
        RaggedBatches([np.ones((2, 3)), np.ones((4, 2))])


def test_ragged_batches_checks_lengths():
    with pytest.raises(RnnkitValueError, match="same number"):
        RaggedBatches(_ragged_arrays([2, 3]), [1])


# -------------------------------------------------- with a model (Masking + LSTM)
def _masked_model(return_sequences: bool):
    from rnnkit.layers.core import Masking
    from rnnkit.layers.dense import Dense
    from rnnkit.layers.recurrent import LSTM
    from rnnkit.models.sequential import Sequential

    model = Sequential([Masking(0.0), LSTM(4, return_sequences=return_sequences), Dense(2)])
    model.build((None, None, 3))
    return model


@pytest.mark.parametrize("padding", ["post", "pre"])
def test_predict_ragged_equals_each_sequence_alone(padding):
    sequences = _ragged_arrays([5, 1, 12, 7, 3, 9], seed=2)
    model = _masked_model(return_sequences=False)
    predictions = predict_ragged(model, sequences, batch_size=4, padding=padding)
    assert predictions.shape == (6, 2)
    for i, s in enumerate(sequences):
        alone = model.predict_on_batch(s[None])
        np.testing.assert_allclose(predictions[i], alone[0], atol=1e-6)


def test_predict_ragged_sequence_outputs_are_trimmed():
    sequences = _ragged_arrays([5, 1, 12], seed=3)
    model = _masked_model(return_sequences=True)
    predictions = predict_ragged(model, sequences, batch_size=2)
    assert [p.shape for p in predictions] == [(5, 2), (1, 2), (12, 2)]
    for p, s in zip(predictions, sequences, strict=True):
        np.testing.assert_allclose(p, model.predict_on_batch(s[None])[0], atol=1e-6)


def test_padded_batch_through_model_equals_alone():
    """The model-level version of the padded-vs-alone property, with pad_ragged."""
    sequences = _ragged_arrays([4, 10, 2], seed=4)
    model = _masked_model(return_sequences=False)
    x, _ = pad_ragged(sequences)
    batch = model.predict(x, verbose=0)
    for i, s in enumerate(sequences):
        np.testing.assert_allclose(batch[i], model.predict(s[None], verbose=0)[0], atol=1e-6)


def test_predict_ragged_needs_predict_on_batch():
    with pytest.raises(RnnkitTypeError, match="predict_on_batch"):
        predict_ragged(object(), [[1.0]])


@pytest.mark.parametrize("batch_size", [2, 3])
def test_predict_ragged_keeps_a_fixed_horizon_whole(batch_size):
    """Encoder–decoder forecasts (RepeatVector) are not trimmed like per-step outputs,
    even when a batch's padded length equals the horizon."""
    from rnnkit.layers import LSTM
    from rnnkit.layers import Dense
    from rnnkit.layers import Masking
    from rnnkit.layers import RepeatVector
    from rnnkit.layers import TimeDistributed
    from rnnkit.models.sequential import Sequential

    model = Sequential(
        [
            Masking(0.0),
            LSTM(4),
            RepeatVector(5),
            LSTM(4, return_sequences=True),
            TimeDistributed(Dense(1)),
        ]
    )
    model.build((None, None, 3))
    sequences = _ragged_arrays([3, 4, 5, 7, 8, 9])
    forecasts = predict_ragged(model, sequences, batch_size=batch_size)
    assert isinstance(forecasts, np.ndarray) and forecasts.shape == (6, 5, 1)
    for forecast, sequence in zip(forecasts, sequences, strict=True):
        alone = model.predict(sequence[None], verbose=0)[0]
        np.testing.assert_allclose(forecast, alone, atol=1e-6)
