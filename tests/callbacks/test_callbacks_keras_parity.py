"""Drive rnnkit's and Keras 3's callbacks with the same scripted logs; compare what they do.

No training happens: both get a stub model (stop flag, weights, optimizer, save).
"""

import inspect
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from rnnkit import callbacks as rk  # noqa: E402

if keras.backend.backend() != "torch":  # pragma: no cover
    pytest.skip("Keras runs with another backend", allow_module_level=True)


@pytest.fixture
def run(make_model, fit):
    """Drive one callback over scripted logs with a Keras-like stub; return (model, logs)."""

    class KerasStub(make_model):
        """As a Keras model: `get_weights` returns copies; `save` takes `overwrite`."""

        def get_weights(self):
            return [w.copy() for w in self.weights]

        def save(self, path, overwrite=True):
            super().save(path)

        def save_weights(self, path, overwrite=True):
            super().save_weights(path)

    def run(callback, logs):
        model = KerasStub(learning_rate=1.0)
        return model, fit([callback], model, logs)

    return run


def scripted(seed, n=12, key="val_loss"):
    rng = np.random.default_rng(seed)
    # a noisy, mostly decreasing curve with plateaus, rounded so ties happen
    values = np.round(1.0 / (1 + np.arange(n)) + rng.normal(0, 0.05, n), 2)
    return [{"loss": float(v) + 0.1, key: float(v)} for v in values]


EARLY_STOPPING_CASES = [
    {},
    {"patience": 1},
    {"patience": 2, "min_delta": 0.03},
    {"patience": 3, "restore_best_weights": True},
    {"patience": 2, "baseline": 0.3},
    {"patience": 2, "baseline": 0.3, "restore_best_weights": True},
    {"patience": 1, "start_from_epoch": 3, "restore_best_weights": True},
    {"patience": 0, "baseline": 2.0},
    {"monitor": "val_accuracy", "mode": "max", "patience": 2},
    {"monitor": "val_accuracy", "mode": "min", "patience": 1, "min_delta": -0.02},
]


@pytest.mark.parametrize("kwargs", EARLY_STOPPING_CASES)
@pytest.mark.parametrize("seed", range(6))
def test_early_stopping_matches_keras(run, kwargs, seed):
    key = kwargs.get("monitor", "val_loss")
    logs = scripted(seed, key=key)
    ours, keras_cb = rk.EarlyStopping(**kwargs), keras.callbacks.EarlyStopping(**kwargs)
    our_model, our_ran = run(ours, logs)
    keras_model, keras_ran = run(keras_cb, logs)
    assert len(our_ran) == len(keras_ran)
    assert ours.stopped_epoch == keras_cb.stopped_epoch
    assert ours.best == pytest.approx(keras_cb.best)
    assert ours.best_epoch == keras_cb.best_epoch
    assert ours.wait == keras_cb.wait
    for a, b in zip(our_model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


REDUCE_LR_CASES = [
    {"factor": 0.5, "patience": 0},
    {"factor": 0.5, "patience": 1, "min_delta": 0.0},
    {"factor": 0.5, "patience": 1, "cooldown": 2},
    {"factor": 0.25, "patience": 2, "cooldown": 1, "min_delta": 0.02},
    {"factor": 0.5, "patience": 0, "min_lr": 0.125},
    {"monitor": "val_accuracy", "mode": "max", "factor": 0.5, "patience": 1},
]


@pytest.mark.parametrize("kwargs", REDUCE_LR_CASES)
@pytest.mark.parametrize("seed", range(6))
def test_reduce_lr_on_plateau_matches_keras(run, kwargs, seed):
    logs = scripted(seed, n=16, key=kwargs.get("monitor", "val_loss"))
    ours, keras_cb = rk.ReduceLROnPlateau(**kwargs), keras.callbacks.ReduceLROnPlateau(**kwargs)
    our_model, our_ran = run(ours, logs)
    keras_model, keras_ran = run(keras_cb, logs)
    assert [r["learning_rate"] for r in our_ran] == [r["learning_rate"] for r in keras_ran]
    assert our_model.optimizer.learning_rate == keras_model.optimizer.learning_rate
    assert (ours.wait, ours.cooldown_counter) == (keras_cb.wait, keras_cb.cooldown_counter)


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("seed", range(4))
def test_model_checkpoint_best_only_matches_keras(run, tmp_path, mode, seed):
    logs = scripted(seed)
    kwargs = {"save_best_only": True, "mode": mode}
    ours = rk.ModelCheckpoint(tmp_path / "ours" / "{epoch:02d}-{val_loss:.2f}.keras", **kwargs)
    keras_cb = keras.callbacks.ModelCheckpoint(
        str(tmp_path / "keras" / "{epoch:02d}-{val_loss:.2f}.keras"), **kwargs
    )
    run(ours, logs)
    run(keras_cb, logs)
    assert sorted(os.listdir(tmp_path / "ours")) == sorted(os.listdir(tmp_path / "keras"))
    assert ours.best == keras_cb.best


def test_learning_rate_scheduler_matches_keras(run):
    def schedule(epoch, lr):
        return lr * 0.5 if epoch % 2 else lr

    _, our_ran = run(rk.LearningRateScheduler(schedule), [{"loss": 1.0}] * 6)
    _, keras_ran = run(keras.callbacks.LearningRateScheduler(schedule), [{"loss": 1.0}] * 6)
    assert [r["learning_rate"] for r in our_ran] == [r["learning_rate"] for r in keras_ran]


@pytest.mark.parametrize(
    "name",
    [
        "EarlyStopping",
        "ReduceLROnPlateau",
        "ModelCheckpoint",
        "LearningRateScheduler",
        "TerminateOnNaN",
        "CSVLogger",
        "LambdaCallback",
    ],
)
def test_signature_matches_keras(name):
    def params(cls):
        return [
            (p.name, p.default)
            for p in inspect.signature(cls).parameters.values()
            if p.kind is not inspect.Parameter.VAR_KEYWORD
        ]

    assert params(getattr(rk, name)) == params(getattr(keras.callbacks, name))
