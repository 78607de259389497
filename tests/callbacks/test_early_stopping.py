import re
import warnings

import numpy as np
import pytest

from rnnkit.callbacks.early_stopping import EarlyStopping


def val_losses(*values):
    return [{"loss": 1.0, "val_loss": v} for v in values]


@pytest.mark.parametrize(
    ("kwargs", "values", "stopped_epoch", "best", "best_epoch"),
    [
        # patience=0 stops at the first epoch without improvement
        ({}, [1.0, 0.9, 0.95, 0.8], 2, 0.9, 1),
        # the wait counter is incremented before the comparison
        ({"patience": 2}, [1.0, 0.5, 0.6, 0.55, 0.4], 3, 0.5, 1),
        # min_delta: 0.95 and 0.89 are not better by more than 0.1
        ({"patience": 2, "min_delta": 0.1}, [1.0, 0.95, 0.85, 0.89, 0.7, 0.75, 0.8], 6, 0.7, 4),
        # a negative min_delta counts as its absolute value
        ({"patience": 2, "min_delta": -0.1}, [1.0, 0.95, 0.85, 0.89, 0.7, 0.75, 0.8], 6, 0.7, 4),
        # warm-up: epochs 0..2 are not monitored at all
        ({"start_from_epoch": 3}, [1.0, 2.0, 3.0, 4.0, 5.0], 4, 4.0, 3),
        # baseline never beaten: improvements keep `best` but not the counter
        ({"patience": 3, "baseline": 0.1}, [0.5, 0.4, 0.45, 0.6, 0.3], 2, 0.4, 1),
        # baseline beaten once: counting restarts from there
        ({"patience": 1, "baseline": 0.5}, [0.6, 0.45, 0.5, 0.4], 2, 0.45, 1),
    ],
)
def test_early_stopping_stops_at_keras_epoch(
    model, fit, kwargs, values, stopped_epoch, best, best_epoch
):
    stopper = EarlyStopping(**kwargs)
    ran = fit([stopper], model, val_losses(*values))
    assert stopper.stopped_epoch == stopped_epoch
    assert len(ran) == stopped_epoch + 1
    assert model.stop_training
    assert stopper.best == pytest.approx(best)
    assert stopper.best_epoch == best_epoch


def test_early_stopping_baseline_never_beaten_and_improving_never_stops(model, fit):
    # Each epoch improves on `best` (so it returns before the patience check).
    stopper = EarlyStopping(patience=0, baseline=0.5)
    ran = fit([stopper], model, val_losses(0.9, 0.8, 0.7, 0.6))
    assert len(ran) == 4
    assert stopper.stopped_epoch == 0
    assert stopper.wait == 4


def test_early_stopping_max_mode_inferred_from_accuracy(model, fit):
    stopper = EarlyStopping(monitor="val_accuracy", patience=1)
    logs = [{"val_accuracy": v} for v in (0.5, 0.6, 0.6, 0.55)]
    fit([stopper], model, logs)
    assert stopper.direction == "max"
    assert stopper.stopped_epoch == 2


def test_early_stopping_explicit_min_mode_on_accuracy_inverts(model, fit):
    stopper = EarlyStopping(monitor="val_accuracy", mode="min", patience=0)
    fit([stopper], model, [{"val_accuracy": v} for v in (0.5, 0.6)])
    assert stopper.stopped_epoch == 1


def test_early_stopping_restores_best_weights_when_stopping(model, fit):
    stopper = EarlyStopping(patience=1, restore_best_weights=True)
    fit([stopper], model, val_losses(1.0, 0.5, 0.7, 0.6))
    assert stopper.stopped_epoch == 2
    for w in model.get_weights():
        np.testing.assert_array_equal(w, np.full_like(w, 1.0))


def test_early_stopping_restores_best_weights_without_stopping(model, fit):
    stopper = EarlyStopping(patience=5, restore_best_weights=True)
    ran = fit([stopper], model, val_losses(1.0, 0.5, 0.7))
    assert len(ran) == 3
    assert stopper.stopped_epoch == 0
    np.testing.assert_array_equal(model.get_weights()[0], np.ones((2, 3)))


def test_early_stopping_restores_best_of_patience_window_when_baseline_not_beaten(model, fit):
    stopper = EarlyStopping(patience=3, baseline=0.1, restore_best_weights=True)
    fit([stopper], model, val_losses(0.5, 0.4, 0.45, 0.6, 0.3))
    assert stopper.stopped_epoch == 2
    np.testing.assert_array_equal(model.get_weights()[1], np.full(3, 1.0))


def test_early_stopping_first_monitored_epoch_weights_after_warmup(model, fit):
    stopper = EarlyStopping(patience=1, start_from_epoch=2, restore_best_weights=True)
    fit([stopper], model, val_losses(0.1, 0.1, 0.9, 1.0, 1.1))
    assert (stopper.stopped_epoch, stopper.best_epoch) == (3, 2)
    np.testing.assert_array_equal(model.get_weights()[0], np.full((2, 3), 2.0))


def test_early_stopping_keeps_last_weights_by_default(model, fit):
    fit([EarlyStopping(patience=1)], model, val_losses(1.0, 0.5, 0.7, 0.6))
    np.testing.assert_array_equal(model.get_weights()[0], np.full((2, 3), 2.0))


def test_early_stopping_verbose_messages(model, fit, capsys):
    stopper = EarlyStopping(patience=1, verbose=1, restore_best_weights=True)
    fit([stopper], model, val_losses(1.0, 0.5, 0.7, 0.6))
    assert capsys.readouterr().out == (
        "Epoch 3: early stopping\nRestoring model weights from the end of the best epoch: 2.\n"
    )


def test_early_stopping_silent_by_default(model, fit, capsys):
    fit([EarlyStopping(restore_best_weights=True)], model, val_losses(1.0, 2.0))
    assert capsys.readouterr().out == ""


def test_early_stopping_missing_monitor_warns_once_naming_keys(model, fit):
    stopper = EarlyStopping(monitor="val_loss")
    with pytest.warns(UserWarning, match=re.escape("Available keys: 'loss', 'mae'")) as record:
        ran = fit([stopper], model, [{"loss": 1.0, "mae": 2.0}] * 3)
    assert len(record) == 1
    assert len(ran) == 3
    assert stopper.best is None


def test_early_stopping_resets_between_fits(model, fit):
    stopper = EarlyStopping(patience=0)
    fit([stopper], model, val_losses(1.0, 2.0))
    assert stopper.stopped_epoch == 1
    ran = fit([stopper], model, val_losses(5.0, 4.0, 3.0))
    assert len(ran) == 3
    assert (stopper.stopped_epoch, stopper.best, stopper.wait) == (0, 3.0, 0)


def test_early_stopping_second_fit_warns_again_for_missing_key(model, fit):
    stopper = EarlyStopping()
    for _ in range(2):
        with pytest.warns(UserWarning, match="'val_loss'"):
            fit([stopper], model, [{"loss": 1.0}])


def test_early_stopping_accepts_numpy_scalars(model, fit):
    stopper = EarlyStopping(patience=0)
    fit([stopper], model, [{"val_loss": np.float32(1.0)}, {"val_loss": np.float32(1.5)}])
    assert stopper.stopped_epoch == 1
    assert isinstance(stopper.best, float)


def test_early_stopping_nan_is_never_an_improvement(model, fit):
    stopper = EarlyStopping(patience=0)
    fit([stopper], model, val_losses(1.0, float("nan")))
    assert stopper.stopped_epoch == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"patience": -1}, ValueError, "Received: patience=-1"),
        ({"patience": 1.5}, ValueError, "Received: patience=1.5"),
        ({"start_from_epoch": -2}, ValueError, "Received: start_from_epoch=-2"),
        ({"mode": "mx"}, ValueError, "Did you mean 'max'?"),
        ({"baseline": "0.5"}, TypeError, "Received: baseline='0.5'"),
        ({"min_delta": None}, TypeError, "Received: min_delta=None"),
        ({"restore_best_weights": "yes"}, TypeError, "restore_best_weights"),
        ({"monitor": 3}, TypeError, "Received: monitor=3"),
    ],
)
def test_early_stopping_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        EarlyStopping(**kwargs)


def test_early_stopping_auto_mode_unknown_metric_asks_for_mode(model, fit):
    stopper = EarlyStopping(monitor="val_r_squared")
    with pytest.raises(ValueError, match=re.escape("Pass mode='min'")):
        fit([stopper], model, [{"val_r_squared": 0.3}])


def test_early_stopping_auto_mode_uses_model_metric_directions(make_model, fit):
    model = make_model(metric_directions={"r_squared": "max", "val_r_squared": "max"})
    stopper = EarlyStopping(monitor="val_r_squared", patience=0)
    fit([stopper], model, [{"val_r_squared": v} for v in (0.3, 0.5, 0.4)])
    assert stopper.direction == "max"
    assert stopper.stopped_epoch == 2


def test_early_stopping_no_warning_when_key_present(model, fit):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit([EarlyStopping()], model, val_losses(1.0, 0.5))
