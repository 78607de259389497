"""fit/evaluate/predict on datasets of whole batches: PyDataset, DataLoader, generators.

The Keras oracle for PyDataset training is in tests/reference/test_keras_training.py;
these tests pin down the rest of the contract: shuffling and epoch hooks, generators
across epochs, DataLoaders, class weights, RaggedBatches with masking, and the errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnnkit import Sequential
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import Masking
from rnnkit.utils import PyDataset
from rnnkit.utils import RaggedBatches
from rnnkit.utils import Sequence
from rnnkit.utils import predict_ragged
from rnnkit.utils import set_random_seed

SAMPLES, STEPS, FEATURES, BATCH = 20, 4, 3, 6


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(SAMPLES, STEPS, FEATURES)).astype("float32")
    y = (x[:, -1, :1] - 0.5 * x[:, 0, 1:2]).astype("float32")
    return x, y


def make_model(seed: int = 0) -> Sequential:
    set_random_seed(seed)
    model = Sequential([LSTM(4, input_shape=(STEPS, FEATURES)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


class Slices(PyDataset):
    """Consecutive batches of arrays; records every batch index it is asked for."""

    def __init__(self, *arrays, batch_size=BATCH):
        super().__init__()
        self.arrays = arrays
        self.batch_size = batch_size
        self.requested: list[int] = []
        self.events: list[str] = []

    def __len__(self):
        return math.ceil(len(self.arrays[0]) / self.batch_size)

    def __getitem__(self, i):
        self.requested.append(i)
        part = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return tuple(a[part] for a in self.arrays)

    def on_epoch_begin(self):
        self.events.append("begin")

    def on_epoch_end(self):
        self.events.append("end")


def test_sequence_is_the_keras_alias():
    assert Sequence is PyDataset


def test_py_dataset_trains_like_the_same_arrays(arrays):
    x, y = arrays
    by_arrays = make_model().fit(x, y, batch_size=BATCH, epochs=3, shuffle=False, verbose=0)
    by_dataset = make_model().fit(Slices(x, y), epochs=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(by_dataset.history["loss"], by_arrays.history["loss"], rtol=1e-6)


def test_shuffle_visits_every_batch_once_per_epoch_in_new_orders(arrays):
    x, y = arrays
    data = Slices(x, y)
    torch.manual_seed(3)
    make_model().fit(data, epochs=4, verbose=0)  # shuffle=True is fit's default
    epochs = [data.requested[i : i + len(data)] for i in range(0, 4 * len(data), len(data))]
    assert len(data.requested) == 4 * len(data)
    assert all(sorted(e) == list(range(len(data))) for e in epochs)
    assert len({tuple(e) for e in epochs}) > 1
    assert data.events == ["begin", "end"] * 4


def test_generator_with_steps_per_epoch_is_read_on_across_epochs(arrays):
    x, y = arrays
    served = []

    def batches():
        for i in range(6):
            served.append(i)
            yield x[i * 3 : i * 3 + 3], y[i * 3 : i * 3 + 3]

    history = make_model().fit(batches(), steps_per_epoch=2, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    assert served == list(range(6))  # no batch read twice, none skipped


def test_generator_that_runs_out_stops_training_with_a_warning(arrays):
    x, y = arrays
    batches = ((x[i : i + 5], y[i : i + 5]) for i in range(0, SAMPLES, 5))
    with pytest.warns(UserWarning, match="ran out of data"):
        history = make_model().fit(batches, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1  # the first epoch read it all


def test_torch_dataloader(arrays):
    x, y = arrays
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.as_tensor(x), torch.as_tensor(y)), batch_size=BATCH
    )
    model = make_model()
    history = model.fit(loader, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.evaluate(loader, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))
    np.testing.assert_allclose(
        model.predict(loader, verbose=0), model.predict(x, verbose=0), rtol=1e-5
    )


def test_class_weight_applies_to_dataset_batches():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, 3, 2)).astype("float32")
    labels = np.arange(12) % 3

    def model():
        set_random_seed(0)
        m = Sequential([LSTM(3, input_shape=(3, 2)), Dense(3, activation="softmax")])
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        return m

    weights = {0: 1.0, 1: 3.0, 2: 0.5}
    by_arrays = model().fit(
        x, labels, batch_size=4, epochs=2, shuffle=False, class_weight=weights, verbose=0
    )
    by_dataset = model().fit(
        Slices(x, labels, batch_size=4), epochs=2, shuffle=False, class_weight=weights, verbose=0
    )
    np.testing.assert_allclose(by_dataset.history["loss"], by_arrays.history["loss"], rtol=1e-6)
    plain = model().fit(Slices(x, labels, batch_size=4), epochs=1, shuffle=False, verbose=0)
    assert plain.history["loss"][0] != pytest.approx(by_dataset.history["loss"][0])


def test_predict_takes_x_from_x_y_batches_and_keeps_their_order(arrays):
    x, y = arrays
    model = make_model()
    np.testing.assert_allclose(
        model.predict(Slices(x, y), verbose=0), model.predict(x, verbose=0), rtol=1e-6
    )
    assert model.predict(Slices(x), steps=2, verbose=0).shape == (2 * BATCH, 1)


def test_ragged_batches_train_a_masked_model_through_fit():
    rng = np.random.default_rng(2)
    lengths = rng.integers(2, 9, size=40)
    x = [rng.normal(size=(n, 2)).astype("float32") + 1.0 for n in lengths]
    y = np.array([s[:, 0].sum() > n for s, n in zip(x, lengths, strict=True)], dtype="float32")
    set_random_seed(0)
    model = Sequential([Masking(0.0, input_shape=(None, 2)), LSTM(4), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    data = RaggedBatches(x, y, batch_size=8, shuffle=True, seed=0)
    before = [b.copy() for b in data.batches]
    history = model.fit(data, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    assert any(not np.array_equal(a, b) for a, b in zip(before, data.batches, strict=True))
    assert model.evaluate(RaggedBatches(x, y, batch_size=8), verbose=0) == pytest.approx(
        float(np.mean((predict_ragged(model, x, batch_size=8)[:, 0] - y) ** 2)), rel=1e-5
    )


def test_predict_with_sequence_outputs_of_different_lengths_says_what_to_use():
    x = [np.ones((n, 2), dtype="float32") for n in (2, 2, 5, 5)]
    model = Sequential([Masking(0.0, input_shape=(None, 2)), LSTM(3, return_sequences=True)])
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="predict_ragged"):
        model.predict(RaggedBatches(x, batch_size=2), verbose=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y": np.zeros((SAMPLES, 1))}, "`y` is not supported when x is a PyDataset"),
        ({"sample_weight": np.ones(SAMPLES)}, "`sample_weight` is not supported"),
        ({"validation_split": 0.2}, "`validation_split` is not supported"),
    ],
)
def test_array_only_arguments_with_a_dataset_are_refused(arrays, kwargs, message):
    x, y = arrays
    with pytest.raises(ValueError, match=message):
        make_model().fit(Slices(x, y), verbose=0, **kwargs)


def test_endless_dataset_needs_steps(arrays):
    x, y = arrays

    class Endless(PyDataset):
        num_batches = None

        def __getitem__(self, i):
            return x[:4], y[:4]

    with pytest.raises(ValueError, match="steps_per_epoch"):
        make_model().fit(Endless(), epochs=1, verbose=0)
    history = make_model().fit(Endless(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_bad_batches_get_clear_errors(arrays):
    x, y = arrays

    class Dicts(Slices):
        def __getitem__(self, i):
            return {"x": x[:2], "y": y[:2]}

        def __len__(self):
            return 1

    with pytest.raises(ValueError, match="Sequential model takes one input"):
        make_model().fit(Dicts(), verbose=0)
    bad = x.copy()
    bad[7, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"batch x\[1\]: `x` contains NaN"):
        make_model().fit(Slices(bad, y), verbose=0)
    with pytest.raises(ValueError, match="no targets"):
        make_model().evaluate(Slices(x), verbose=0)


def test_fewer_steps_than_batches_read_on_across_epochs_like_keras(arrays):
    x, y = arrays
    data = Slices(x, y, batch_size=4)  # 5 batches
    with pytest.warns(UserWarning, match="ran out of data; epoch 3 ended after 1 batches"):
        history = make_model().fit(data, steps_per_epoch=2, epochs=4, shuffle=False, verbose=0)
    assert data.requested == [0, 1, 2, 3, 4, 0, 1]  # Keras: [0, 1], [2, 3], [4], [0, 1]
    assert len(history.history["loss"]) == 4


def test_dataloader_with_fewer_steps_reads_on(arrays):
    x, y = arrays

    class Recorded(torch.utils.data.Dataset):
        def __init__(self):
            self.requested = []

        def __len__(self):
            return len(x)

        def __getitem__(self, i):
            self.requested.append(i)
            return torch.as_tensor(x[i]), torch.as_tensor(y[i])

    data = Recorded()
    loader = torch.utils.data.DataLoader(data, batch_size=5)  # 4 batches
    make_model().fit(loader, steps_per_epoch=1, epochs=3, verbose=0)
    assert data.requested == list(range(15))  # batches 0, 1, 2; not batch 0 three times


def test_validation_generator_that_runs_out_warns(arrays):
    x, y = arrays
    val = ((x[i : i + 5], y[i : i + 5]) for i in range(0, 10, 5))
    with pytest.warns(UserWarning, match="validation_data ran out of data"):
        history = make_model().fit(x, y, validation_data=val, epochs=2, verbose=0)
    assert len(history.history["val_loss"]) == 1


def test_output_mask_is_never_attached_to_the_callers_tensor():
    model = Sequential([Masking(0.0, input_shape=(3, 2))])
    x = torch.ones(2, 3, 2)
    x[0, 2] = 0.0
    out = model(x)
    assert out is not x and not hasattr(x, "_keras_mask")
    assert out._keras_mask.tolist() == [[True, True, False], [True, True, True]]
