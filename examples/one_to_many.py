"""One-to-many: one input vector in, a whole sequence out.

    (batch, 2) -> Dense -> RepeatVector(10) -> LSTM(return_sequences) -> TimeDistributed(Dense(1))
               -> (batch, 10, 1)

Each sample's two numbers (a, b) describe a wave, y_t = a cos(0.5 t) + b sin(0.5 t); the
model learns to draw it. Exits with status 1 if it does not beat predicting the average
wave by a wide margin.

Run: python examples/one_to_many.py
"""

import sys

import numpy as np

from rnnkit import Sequential
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import RepeatVector
from rnnkit.layers import TimeDistributed
from rnnkit.optimizers import Adam
from rnnkit.utils import set_random_seed

STEPS = 10


def make_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    params = rng.uniform(-1.0, 1.0, size=(n, 2)).astype("float32")  # (n, 2): a, b
    t = np.arange(STEPS)
    waves = params[:, :1] * np.cos(0.5 * t) + params[:, 1:] * np.sin(0.5 * t)  # (n, steps)
    return params, waves[..., None].astype("float32")  # targets (n, steps, 1)


def main() -> int:
    set_random_seed(0)
    rng = np.random.default_rng(0)
    x_train, y_train = make_data(1200, rng)
    x_test, y_test = make_data(500, rng)

    model = Sequential(
        [
            Dense(16, activation="tanh", input_shape=(2,)),
            RepeatVector(STEPS),
            LSTM(16, return_sequences=True),
            TimeDistributed(Dense(1)),
        ]
    )
    model.compile(optimizer=Adam(learning_rate=0.01), loss="mse")
    model.fit(x_train, y_train, epochs=10, batch_size=32, verbose=0)

    mse = model.evaluate(x_test, y_test, verbose=0)
    baseline = float(np.mean((y_test - y_train.mean(axis=0)) ** 2))
    print(f"one-to-many: test MSE {mse:.4f} (average-wave baseline {baseline:.4f})")
    return 0 if mse < 0.2 * baseline else 1


if __name__ == "__main__":
    sys.exit(main())
