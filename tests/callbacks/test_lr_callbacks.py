import re

import pytest

from rnnkit.callbacks.base import History
from rnnkit.callbacks.learning_rate import LearningRateScheduler
from rnnkit.callbacks.learning_rate import ReduceLROnPlateau


def flat(n, first=1.0, rest=1.0):
    return [{"val_loss": first}] + [{"val_loss": rest}] * (n - 1)


@pytest.mark.parametrize(
    ("cooldown", "expected_logged", "final_lr"),
    [
        # reduced at the end of epochs 2, 4, 6, 8 (the logged rate drops one epoch later)
        (0, [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125], 0.0625),
        # cooldown=1 does not delay anything: the counter is spent before the check
        (1, [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125], 0.0625),
        # cooldown=2: reduced at the end of epochs 2, 5, 8
        (2, [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25], 0.125),
    ],
)
def test_reduce_lr_reduces_at_keras_epochs(make_model, fit, cooldown, expected_logged, final_lr):
    model = make_model(learning_rate=1.0)
    reduce = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=cooldown, min_delta=0)
    ran = fit([reduce], model, flat(9))
    assert [logs["learning_rate"] for logs in ran] == expected_logged
    assert model.optimizer.learning_rate == final_lr


def test_reduce_lr_improvement_resets_wait(make_model, fit):
    model = make_model(learning_rate=1.0)
    reduce = ReduceLROnPlateau(factor=0.1, patience=2)
    values = [1.0, 1.1, 0.9, 1.0, 1.0, 0.5]
    ran = fit([reduce], model, [{"val_loss": v} for v in values])
    # no improvement at epochs 1 (wait 1), improvement at 2, then 3 (1), 4 (2): reduce
    assert [logs["learning_rate"] for logs in ran] == [1.0, 1.0, 1.0, 1.0, 1.0, 0.1]
    assert reduce.best == 0.5
    assert reduce.wait == 0


def test_reduce_lr_min_delta_default_is_1e_4(make_model, fit):
    model = make_model(learning_rate=1.0)
    reduce = ReduceLROnPlateau(factor=0.5, patience=1)
    fit([reduce], model, [{"val_loss": 1.0}, {"val_loss": 0.99995}])
    assert model.optimizer.learning_rate == 0.5


def test_reduce_lr_respects_min_lr(make_model, fit):
    model = make_model(learning_rate=0.1)
    reduce = ReduceLROnPlateau(factor=0.1, patience=0, min_lr=0.05)
    ran = fit([reduce], model, flat(4))
    assert [logs["learning_rate"] for logs in ran] == [0.1, 0.1, 0.05, 0.05]
    assert model.optimizer.learning_rate == 0.05
    # at min_lr nothing is reduced, so the wait counter keeps growing (as in Keras)
    assert reduce.wait == 2


def test_reduce_lr_max_mode(make_model, fit):
    model = make_model(learning_rate=1.0)
    reduce = ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=1)
    fit([reduce], model, [{"val_accuracy": v} for v in (0.5, 0.6, 0.55)])
    assert model.optimizer.learning_rate == 0.5


def test_reduce_lr_learning_rate_reaches_history(make_model, fit):
    model = make_model(learning_rate=0.01)
    history = History()
    fit([ReduceLROnPlateau(), history], model, flat(2))
    assert history.history["learning_rate"] == [0.01, 0.01]


def test_reduce_lr_verbose_message(make_model, fit, capsys):
    model = make_model(learning_rate=1.0)
    fit([ReduceLROnPlateau(factor=0.5, patience=1, verbose=1)], model, flat(2))
    assert capsys.readouterr().out == "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.5.\n"


def test_reduce_lr_resets_between_fits(make_model, fit):
    model = make_model(learning_rate=1.0)
    reduce = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=3)
    fit([reduce], model, flat(3))
    assert reduce.cooldown_counter == 3
    fit([reduce], model, flat(1, first=5.0))
    assert (reduce.best, reduce.wait, reduce.cooldown_counter) == (5.0, 0, 0)


def test_reduce_lr_missing_monitor_warns_but_logs_rate(make_model, fit):
    model = make_model(learning_rate=0.3)
    with pytest.warns(UserWarning, match="Available keys: 'loss', 'learning_rate'"):
        ran = fit([ReduceLROnPlateau(patience=0)], model, [{"loss": 1.0}] * 2)
    assert ran[-1]["learning_rate"] == 0.3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"factor": 1.0}, "Received: factor=1.0"),
        ({"factor": 2}, "a factor >= 1 would not reduce it"),
        ({"factor": -0.5}, "Received: factor=-0.5"),
        ({"min_lr": -1e-3}, "Received: min_lr=-0.001"),
        ({"patience": -1}, "Received: patience=-1"),
        ({"cooldown": -1}, "Received: cooldown=-1"),
        ({"mode": "minimum"}, "unknown mode 'minimum'"),
    ],
)
def test_reduce_lr_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ReduceLROnPlateau(**kwargs)


def test_reduce_lr_needs_an_optimizer(fit):
    class NoOptimizer:
        stop_training = False

    reduce = ReduceLROnPlateau()
    reduce.set_model(NoOptimizer())
    with pytest.raises(ValueError, match=re.escape("Call model.compile(")):
        reduce.on_epoch_end(0, {"val_loss": 1.0})


def test_scheduler_two_argument_schedule(make_model, fit):
    model = make_model(learning_rate=0.1)
    seen = []

    def schedule(epoch, lr):
        seen.append((epoch, lr))
        return lr * 0.5 if epoch >= 1 else lr

    ran = fit([LearningRateScheduler(schedule)], model, [{"loss": 1.0}] * 3)
    assert seen == [(0, 0.1), (1, 0.1), (2, 0.05)]
    assert [logs["learning_rate"] for logs in ran] == [0.1, 0.05, 0.025]
    assert model.optimizer.learning_rate == 0.025


def test_scheduler_one_argument_schedule(make_model, fit):
    model = make_model(learning_rate=0.1)
    ran = fit([LearningRateScheduler(lambda epoch: 0.25 * (epoch + 1))], model, [{}] * 3)
    assert [logs["learning_rate"] for logs in ran] == [0.25, 0.5, 0.75]


def test_scheduler_accepts_numpy_float_and_int(make_model, fit):
    import numpy as np

    model = make_model()
    fit([LearningRateScheduler(lambda epoch, lr: np.float32(0.5))], model, [{}])
    assert model.optimizer.learning_rate == 0.5
    assert isinstance(model.optimizer.learning_rate, float)
    fit([LearningRateScheduler(lambda epoch: 1)], model, [{}])
    assert model.optimizer.learning_rate == 1.0


def test_scheduler_verbose_message(make_model, fit, capsys):
    fit([LearningRateScheduler(lambda e, lr: 0.5, verbose=1)], make_model(), [{}])
    assert (
        capsys.readouterr().out == "Epoch 1: LearningRateScheduler setting learning rate to 0.5.\n"
    )


def test_scheduler_type_error_inside_schedule_is_not_swallowed(make_model, fit):
    def schedule(epoch, lr):
        return lr + "oops"

    with pytest.raises(TypeError, match="unsupported operand"):
        fit([LearningRateScheduler(schedule)], make_model(), [{}])


def test_scheduler_bad_return_value(make_model, fit):
    with pytest.raises(
        TypeError, match=re.escape("must return a float. Received: '0.1' at epoch 0")
    ):
        fit([LearningRateScheduler(lambda epoch, lr: "0.1")], make_model(), [{}])


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        (0.1, "must be a callable"),
        (lambda a, b, c: 0.1, "must accept (epoch, lr) or (epoch)"),
        (lambda: 0.1, "must accept (epoch, lr) or (epoch)"),
    ],
)
def test_scheduler_rejects_bad_schedule(schedule, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        LearningRateScheduler(schedule)
