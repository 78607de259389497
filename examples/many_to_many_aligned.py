"""Many-to-many, aligned: one label per input step.

    (batch, 12, 1) -> Bidirectional(LSTM(return_sequences)) -> TimeDistributed(Dense(2))
                   -> (batch, 12, 2)

Step t is labelled 1 when x_t is above the mean of the WHOLE sequence, so every label
depends on steps that come later: a job for Bidirectional. Exits with status 1 unless
the per-step accuracy is high.

Run: python examples/many_to_many_aligned.py
"""

import sys

import numpy as np

from rnnkit import Sequential
from rnnkit.layers import LSTM
from rnnkit.layers import Bidirectional
from rnnkit.layers import Dense
from rnnkit.layers import TimeDistributed
from rnnkit.optimizers import Adam
from rnnkit.utils import set_random_seed

STEPS = 12


def make_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(size=(n, STEPS, 1)).astype("float32")
    x += rng.normal(size=(n, 1, 1)).astype("float32")  # each sequence has its own level
    labels = (x[..., 0] > x[..., 0].mean(axis=1, keepdims=True)).astype("int64")  # (n, steps)
    return x, labels


def main() -> int:
    set_random_seed(0)
    rng = np.random.default_rng(0)
    x_train, y_train = make_data(1000, rng)
    x_test, y_test = make_data(500, rng)

    model = Sequential(
        [
            Bidirectional(LSTM(16, return_sequences=True), input_shape=(STEPS, 1)),
            TimeDistributed(Dense(2, activation="softmax")),
        ]
    )
    model.compile(
        optimizer=Adam(learning_rate=0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=8, batch_size=32, verbose=0)

    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"many-to-many (aligned): per-step test accuracy {accuracy:.3f} (chance 0.5)")
    return 0 if accuracy > 0.85 else 1


if __name__ == "__main__":
    sys.exit(main())
