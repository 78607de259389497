"""A fake model that follows the Model contract, and a tiny fit loop to drive callbacks."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from rnnkit.callbacks.base import Callback
from rnnkit.callbacks.base import CallbackList


class FakeOptimizer:
    """Only what callbacks use: a float `learning_rate` property."""

    def __init__(self, learning_rate: float = 0.01) -> None:
        self._learning_rate = learning_rate

    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._learning_rate = float(value)


class FakeModel:
    """Follows docs/contracts.md. `get_weights` returns the live arrays on purpose:
    a callback that keeps weights must copy them."""

    def __init__(self, learning_rate: float = 0.01, metric_directions=None) -> None:
        self.stop_training = False
        self.optimizer = FakeOptimizer(learning_rate)
        self.weights = [np.zeros((2, 3)), np.zeros(3)]
        self.metric_directions = dict(metric_directions or {})
        self.saved: list[tuple[str, str]] = []

    def train_to(self, epoch: int) -> None:
        """Pretend an epoch of training: weights become `epoch`, in place."""
        for w in self.weights:
            w[...] = epoch

    def get_weights(self) -> list[np.ndarray]:
        return self.weights

    def set_weights(self, weights) -> None:
        self.weights = [np.array(w, copy=True) for w in weights]

    def save(self, path) -> None:
        Path(path).write_text("model")
        self.saved.append(("model", str(path)))

    def save_weights(self, path) -> None:
        Path(path).write_text("weights")
        self.saved.append(("weights", str(path)))


def drive_fit(
    callbacks: Iterable[Callback],
    model: FakeModel,
    epoch_logs: Iterable[Mapping[str, float]],
    *,
    steps: int = 2,
    batch_loss: Callable[[int, int], float] | None = None,
    verbose: int = 0,
) -> list[dict[str, float]]:
    """Run the fit loop of the Model contract over scripted per-epoch logs.

    Returns the logs of the epochs that ran (as the callbacks left them).
    """
    epoch_logs = list(epoch_logs)
    hooks = CallbackList(
        callbacks, model=model, epochs=len(epoch_logs), steps=steps, verbose=verbose
    )
    model.stop_training = False
    hooks.on_train_begin()
    ran = []
    for epoch, scripted in enumerate(epoch_logs):
        hooks.on_epoch_begin(epoch)
        for batch in range(steps):
            hooks.on_train_batch_begin(batch)
            loss = batch_loss(epoch, batch) if batch_loss else scripted.get("loss", 0.0)
            hooks.on_train_batch_end(batch, {"loss": loss})
            if model.stop_training:
                break
        model.train_to(epoch)
        logs = dict(scripted)
        hooks.on_epoch_end(epoch, logs)
        ran.append(logs)
        if model.stop_training:
            break
    hooks.on_train_end()
    return ran


@pytest.fixture
def model() -> FakeModel:
    return FakeModel()


@pytest.fixture
def fit() -> Callable[..., list[dict[str, float]]]:
    return drive_fit


@pytest.fixture
def make_model() -> type[FakeModel]:
    return FakeModel
