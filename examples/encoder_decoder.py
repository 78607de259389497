"""Many-to-many with a horizon: encoder-decoder (seq2seq) forecasting.

    (batch, 30, 1) -> LSTM(24)                   encoder: the past as one vector
                   -> RepeatVector(6)            one copy per future step
                   -> LSTM(24, return_sequences) decoder
                   -> TimeDistributed(Dense(1))  -> (batch, 6, 1)

From the last 30 steps of a seasonal series the model forecasts the next 6. Exits with
status 1 unless it beats the seasonal-naive forecast (repeat the last period) and the
naive one (repeat the last value).

Run: python examples/encoder_decoder.py
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

LOOKBACK, HORIZON, PERIOD = 30, 6, 12


def make_windows(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    starts = np.arange(0, len(series) - LOOKBACK - HORIZON + 1)
    x = np.stack([series[s : s + LOOKBACK] for s in starts])  # (n, lookback)
    y = np.stack([series[s + LOOKBACK : s + LOOKBACK + HORIZON] for s in starts])  # (n, horizon)
    return x[..., None].astype("float32"), y[..., None].astype("float32")


def main() -> int:
    set_random_seed(0)
    rng = np.random.default_rng(0)
    t = np.arange(1600)
    amplitude = 1.0 + 0.5 * np.sin(2 * np.pi * t / 300)  # slowly changing season
    series = amplitude * np.sin(2 * np.pi * t / PERIOD) + 0.5 * np.sin(2 * np.pi * t / 5.0)
    series = series + 0.05 * rng.normal(size=len(t))
    x_train, y_train = make_windows(series[:1200])
    x_test, y_test = make_windows(series[1200:])

    model = Sequential(
        [
            LSTM(24, input_shape=(LOOKBACK, 1)),
            RepeatVector(HORIZON),
            LSTM(24, return_sequences=True),
            TimeDistributed(Dense(1)),
        ]
    )
    model.compile(optimizer=Adam(learning_rate=0.01), loss="mse")
    model.fit(x_train, y_train, epochs=8, batch_size=32, verbose=0)

    mse = model.evaluate(x_test, y_test, verbose=0)
    naive = float(np.mean((y_test - x_test[:, -1:, :]) ** 2))
    seasonal = x_test[:, LOOKBACK - PERIOD : LOOKBACK - PERIOD + HORIZON, :]
    seasonal_naive = float(np.mean((y_test - seasonal) ** 2))
    print(
        f"encoder-decoder: test MSE over {HORIZON} steps {mse:.4f} "
        f"(naive {naive:.4f}, seasonal naive {seasonal_naive:.4f})"
    )
    return 0 if mse < min(naive, seasonal_naive) else 1


if __name__ == "__main__":
    sys.exit(main())
