"""The fit loop's per-batch work: batch hooks only when read, layers found once per fit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit.callbacks.base import Callback
from rnnkit.kernels.dropout import keep_factors
from rnnkit.layers import Dense
from rnnkit.layers import Dropout
from rnnkit.layers import Input
from rnnkit.layers import SimpleRNN
from rnnkit.models import Sequential
from rnnkit.models import training
from rnnkit.models.training import StepLayers


def _model(seed: int = 0) -> Sequential:
    torch.manual_seed(seed)
    model = Sequential(
        [Input((6, 2)), SimpleRNN(4, kernel_regularizer="l2"), Dropout(0.2), Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 6, 2)).astype("float32"), rng.normal(size=(40, 1)).astype("float32")


class _BatchLogs(Callback):
    def __init__(self):
        super().__init__()
        self.begun: list[int] = []
        self.logs: list[dict] = []

    def on_train_batch_begin(self, batch, logs=None):
        self.begun.append(batch)

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append(dict(logs))


def test_epoch_logs_are_the_same_with_and_without_batch_hooks():
    x, y = _data()
    quiet = _model().fit(x, y, batch_size=16, epochs=3, verbose=0).history
    reader = _BatchLogs()
    hooked = _model().fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[reader])
    assert hooked.history == quiet  # same seed, same numbers, whichever way logs are built
    assert reader.begun == [0, 1, 2] * 3
    assert reader.logs[-1] == {"loss": quiet["loss"][-1], "mae": quiet["mae"][-1]}


def test_fit_finds_the_step_layers_once(monkeypatch):
    calls = []
    real = StepLayers.of.__func__

    def counted(cls, model):
        calls.append(model)
        return real(cls, model)

    monkeypatch.setattr(training.StepLayers, "of", classmethod(counted))
    x, y = _data()
    model = _model()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)  # 10 batches
    assert len(calls) == 1
    assert model._fit_step_layers is None  # the plan lives for one fit only
    model.train_on_batch(x[:8], y[:8])  # outside fit: found for the penalties and constraints
    assert len(calls) == 3


def test_step_layers_list_the_penalised_and_constrained_layers():
    model = _model()
    plan = StepLayers.of(model)
    penalised = [type(layer).__name__ for layer, penalty in plan.loss_terms if penalty]
    assert penalised == ["SimpleRNNCell", "Dense"]
    assert [type(layer).__name__ for layer in plan.constrained] == ["SimpleRNNCell", "Dense"]
    assert len(plan.loss_terms) == len(list(model.modules()))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dropout_scales_the_kept_inputs_as_keras(dtype):
    x = torch.randn(4, 5, 6, dtype=dtype)
    out = Dropout(0.25, seed=7)(x, training=True)
    generator = torch.Generator().manual_seed(7)
    factors = keep_factors(x.shape, 0.25, dtype=dtype, generator=generator)
    assert out.dtype == dtype
    assert torch.equal(out, x * factors)  # the seeded layer draws the documented mask
    kept = out != 0
    assert 0 < int(kept.sum()) < x.numel()
    assert torch.equal(out[kept], x[kept] * (torch.tensor(1.0, dtype=dtype) / 0.75))


class _PredictBatches(Callback):
    def __init__(self):
        super().__init__()
        self.batches: list[int] = []

    def on_predict_batch_end(self, batch, logs=None):
        self.batches.append(batch)


def test_predict_calls_batch_hooks_only_for_callbacks_that_have_them():
    x, _ = _data()
    model = _model()
    seen = _PredictBatches()
    with_hook = model.predict(x, batch_size=16, verbose=0, callbacks=[seen])
    without = model.predict(x, batch_size=16, verbose=0)
    assert seen.batches == [0, 1, 2]
    np.testing.assert_array_equal(with_hook, without)
