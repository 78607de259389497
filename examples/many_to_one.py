"""Many-to-one: a window of a series in, the next value out.

    (batch, 24, 1) -> LSTM(16) -> Dense(1) -> (batch, 1)

A noisy sum of two sines is cut into windows of 24 steps; the model predicts step 25.
Exits with status 1 unless it beats the naive forecast (repeat the last value).

Run: python examples/many_to_one.py
"""

import sys

import numpy as np

from rnnkit import Sequential
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.optimizers import Adam
from rnnkit.utils import set_random_seed

WINDOW = 24


def make_windows(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    starts = np.arange(len(series) - WINDOW)
    x = np.stack([series[s : s + WINDOW] for s in starts])[..., None]  # (n, window, 1)
    y = series[starts + WINDOW][:, None]  # (n, 1)
    return x.astype("float32"), y.astype("float32")


def main() -> int:
    set_random_seed(0)
    rng = np.random.default_rng(0)
    t = np.arange(1400)
    series = np.sin(2 * np.pi * t / 20) + 0.5 * np.sin(2 * np.pi * t / 7)
    series = series + 0.05 * rng.normal(size=len(t))
    split = 1000  # chronological split: the test windows lie in the future
    x_train, y_train = make_windows(series[:split])
    x_test, y_test = make_windows(series[split:])

    model = Sequential([LSTM(16, input_shape=(WINDOW, 1)), Dense(1)])
    model.compile(optimizer=Adam(learning_rate=0.01), loss="mse")
    model.fit(x_train, y_train, epochs=8, batch_size=32, verbose=0)

    mse = model.evaluate(x_test, y_test, verbose=0)
    naive = float(np.mean((y_test[:, 0] - x_test[:, -1, 0]) ** 2))
    print(f"many-to-one: test MSE {mse:.4f} (naive last-value forecast {naive:.4f})")
    return 0 if mse < 0.5 * naive else 1


if __name__ == "__main__":
    sys.exit(main())
