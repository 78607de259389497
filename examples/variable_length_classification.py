"""Variable-length sequence classification with padding and masking.

Sequences of 5 to 30 steps are padded at the end to one length; ``Masking`` marks the
padding so that the LSTM skips it (its states carry over the padded steps) and its
last output is the one after each sequence's own last step:

    (batch, 30, 6) -> Masking(0.0) -> LSTM(24) -> Dense(4, softmax) -> (batch, 4)

A second model trains on the ragged list itself (``fit(RaggedBatches(...))``: batches
of similar length, each padded to its own longest sequence).

Each class is a pattern of two "formants" (bumps over the 6 features) that move
along a class-specific path, stretched to the sequence's length, plus noise. Exits with
status 1 unless the test accuracy is well above chance (0.25).

Run: python examples/variable_length_classification.py
"""

import sys

import numpy as np

from rnnkit import Sequential
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import Masking
from rnnkit.optimizers import Adam
from rnnkit.utils import RaggedBatches
from rnnkit.utils import pad_sequences
from rnnkit.utils import predict_ragged
from rnnkit.utils import set_random_seed

CLASSES, FEATURES, MAX_LEN = 4, 6, 30


def make_sequences(n: int, rng: np.random.Generator) -> tuple[list[np.ndarray], np.ndarray]:
    """Ragged list of (length, features) arrays and their labels."""
    paths = np.random.default_rng(42).uniform(0, FEATURES - 1, size=(CLASSES, 2, 2))
    labels = rng.integers(0, CLASSES, size=n)
    bands = np.arange(FEATURES)
    sequences = []
    for label in labels:
        length = int(rng.integers(5, MAX_LEN + 1))
        tau = np.linspace(0.0, 1.0, length)[:, None]  # (length, 1): position in the sequence
        start, end = paths[label, :, 0], paths[label, :, 1]  # (2,) formant positions
        centres = start + (end - start) * tau  # (length, 2)
        bumps = np.exp(-0.5 * (bands[None, :, None] - centres[:, None, :]) ** 2)
        frames = bumps.sum(axis=-1) + 0.3 * rng.normal(size=(length, FEATURES))
        sequences.append(frames.astype("float32"))
    return sequences, labels


def main() -> int:
    set_random_seed(0)
    rng = np.random.default_rng(0)
    train_sequences, y_train = make_sequences(1200, rng)
    test_sequences, y_test = make_sequences(400, rng)

    # Post-padding with zeros: Masking(0.0) marks exactly the padded steps.
    x_train = pad_sequences(train_sequences, maxlen=MAX_LEN, dtype="float32", padding="post")
    x_test = pad_sequences(test_sequences, maxlen=MAX_LEN, dtype="float32", padding="post")

    model = build_model()
    model.fit(x_train, y_train, epochs=8, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)

    # The ragged list directly: length-bucketed batches, each padded to its own length.
    ragged = predict_ragged(model, test_sequences, batch_size=64)
    ragged_accuracy = float(np.mean(ragged.argmax(axis=1) == y_test))

    # Or train on the ragged list itself: RaggedBatches is a PyDataset for fit/evaluate.
    set_random_seed(0)
    bucketed = build_model()
    train = RaggedBatches(train_sequences, y_train, batch_size=32, shuffle=True, seed=0)
    bucketed.fit(train, epochs=8, verbose=0)
    test = RaggedBatches(test_sequences, y_test, batch_size=64)
    _, bucketed_accuracy = bucketed.evaluate(test, verbose=0)
    print(
        f"variable-length classification: test accuracy {accuracy:.3f} "
        f"(predicted in ragged batches {ragged_accuracy:.3f}; trained on ragged batches "
        f"{bucketed_accuracy:.3f}; chance 0.25)"
    )
    same = abs(accuracy - ragged_accuracy) < 1e-6
    return 0 if accuracy > 0.8 and bucketed_accuracy > 0.8 and same else 1


def build_model() -> Sequential:
    """Masking(0.0) -> LSTM(24) -> Dense(4, softmax), compiled."""
    model = Sequential(
        [
            Masking(0.0, input_shape=(None, FEATURES)),
            LSTM(24),
            Dense(CLASSES, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=Adam(learning_rate=0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


if __name__ == "__main__":
    sys.exit(main())
