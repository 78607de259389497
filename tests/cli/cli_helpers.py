"""Shared helpers of the command-line tests (a unique module name, importable from tests)."""

import numpy as np
import pandas as pd

#: Flags that keep every training run tiny (about a second per network).
TINY = ["--window", "12", "--epochs", "1", "--batch-size", "32"]
#: Compare without tuning (each network trains its default hyperparameters once).
NO_TUNING = ["--max-trials", "0"]


def make_series(n: int = 240, *, seed: int = 0) -> pd.DataFrame:
    """An hourly series with a daily cycle, a drift and a noisy second column."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    level = 20 + 5 * np.sin(2 * np.pi * steps / 24) + 0.02 * steps + rng.normal(0, 0.3, n)
    return pd.DataFrame(
        {
            "stamp": pd.date_range("2023-03-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M"),
            "demand": level,
            "humidity": 50 + rng.normal(0, 5, n),
        }
    )
