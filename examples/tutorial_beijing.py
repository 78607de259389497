"""The "RNN vs LSTM vs GRU" tutorial flow, with only the imports changed, on real data.

The three stacked models of the usual tensorflow.keras tutorial — built with
``Sequential().add(...)``, compiled with ``mean_squared_error`` and
``Adam(learning_rate=0.001)``, fitted with ``validation_split=0.2`` and
``EarlyStopping(monitor="val_loss", patience=5)``, evaluated with
``predict(X_test, verbose=0)`` — on the bundled Beijing hourly temperature series:
the past 24 hours predict the next hour.

The script exits with an error if a model does not beat the mean forecast on the
test period. Sizes are kept small so that it runs in about a minute on a 2-core CPU;
pass ``--full`` for the tutorial's sizes and more data.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from rnnkit import Sequential
from rnnkit.callbacks import EarlyStopping
from rnnkit.datasets import load_beijing_pm25
from rnnkit.layers import GRU
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import Dropout
from rnnkit.layers import SimpleRNN
from rnnkit.optimizers import Adam
from rnnkit.utils import set_random_seed

FULL = "--full" in sys.argv
WINDOW = 24
N_TRAIN = 6000 if FULL else 1200
N_TEST = 2000 if FULL else 400
EPOCHS = 30 if FULL else 4
SCALE = 1.0 if FULL else 0.25  # fraction of the tutorial's layer sizes


def units(n: int) -> int:
    return max(4, int(n * SCALE))


def make_data():
    temp = load_beijing_pm25()["TEMP"].to_numpy(dtype="float32")[-(N_TRAIN + N_TEST + WINDOW) :]
    mean, std = temp[:N_TRAIN].mean(), temp[:N_TRAIN].std()  # fitted on the training part only
    scaled = (temp - mean) / std
    x = np.stack([scaled[i : i + WINDOW] for i in range(len(scaled) - WINDOW)])[..., None]
    y = scaled[WINDOW:][:, None]
    return x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:]


def build_rnn():
    model = Sequential()
    model.add(SimpleRNN(units(130), return_sequences=True, input_shape=(WINDOW, 1)))
    model.add(Dropout(0.2))
    model.add(SimpleRNN(units(110), return_sequences=True))
    model.add(SimpleRNN(units(130), return_sequences=True))
    model.add(SimpleRNN(units(100), activation="sigmoid", return_sequences=True))
    model.add(SimpleRNN(units(40)))
    model.add(Dense(1))
    return model


def build_lstm():
    model = Sequential()
    model.add(LSTM(units(130), return_sequences=True, input_shape=(WINDOW, 1)))
    model.add(Dropout(0.2))
    model.add(LSTM(units(70), activation="relu", return_sequences=True))
    model.add(LSTM(units(100)))
    model.add(Dense(1))
    return model


def build_gru():
    model = Sequential()
    model.add(GRU(units(90), return_sequences=True, input_shape=(WINDOW, 1)))
    model.add(Dropout(0.2))
    model.add(GRU(units(150), return_sequences=True))
    model.add(GRU(units(60), activation="relu"))
    model.add(Dense(1))
    return model


def main() -> int:
    set_random_seed(7)
    X_train, y_train, X_test, y_test = make_data()
    mean_mse = float(np.mean((y_test - y_train.mean()) ** 2))
    print(f"train {X_train.shape}, test {X_test.shape}; mean-forecast test MSE {mean_mse:.4f}")
    failures = []
    for name, build in [("RNN", build_rnn), ("LSTM", build_lstm), ("GRU", build_gru)]:
        model = build()
        model.compile(optimizer=Adam(learning_rate=0.001), loss="mean_squared_error")
        model.summary()
        start = time.perf_counter()
        history = model.fit(
            X_train,
            y_train,
            epochs=EPOCHS,
            batch_size=32,
            validation_split=0.2,
            callbacks=[EarlyStopping(monitor="val_loss", patience=5)],
            verbose=2,
        )
        seconds = time.perf_counter() - start
        y_pred = model.predict(X_test, verbose=0)
        mse = float(np.mean((y_pred - y_test) ** 2))
        print(
            f"{name}: test MSE {mse:.4f} (mean forecast {mean_mse:.4f}), "
            f"{len(history.epoch)} epochs in {seconds:.1f} s"
        )
        if not mse < mean_mse:
            failures.append(name)
    if failures:
        print(f"did not beat the mean forecast: {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
