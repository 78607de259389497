import math
import re

import numpy as np
import pytest

from rnnkit.callbacks.misc import CSVLogger
from rnnkit.callbacks.misc import LambdaCallback
from rnnkit.callbacks.misc import TerminateOnNaN

# --- TerminateOnNaN ---


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.float32("nan")])
def test_terminate_on_nan_stops_at_the_bad_batch(model, fit, capsys, bad):
    def batch_loss(epoch, batch):
        return bad if (epoch, batch) == (1, 2) else 0.5

    ran = fit([TerminateOnNaN()], model, [{"loss": 0.5}] * 5, steps=4, batch_loss=batch_loss)
    assert len(ran) == 2
    assert model.stop_training
    assert capsys.readouterr().out == "Batch 2: Invalid loss, terminating training\n"


def test_terminate_on_nan_raise_error(model, fit):
    with pytest.raises(RuntimeError, match=re.escape("NaN or Inf loss encountered at batch 0")):
        fit([TerminateOnNaN(raise_error=True)], model, [{"loss": math.nan}])


def test_terminate_on_nan_ignores_finite_and_missing_loss(model):
    terminate = TerminateOnNaN()
    terminate.set_model(model)
    terminate.on_train_batch_end(0, {"loss": 1e30})
    terminate.on_train_batch_end(1, {"mae": math.nan})
    terminate.on_train_batch_end(2, None)
    assert not model.stop_training


def test_terminate_on_nan_rejects_non_bool():
    with pytest.raises(TypeError, match="raise_error"):
        TerminateOnNaN(raise_error="yes")


# --- CSVLogger ---


def test_csv_logger_writes_sorted_header_and_rows(model, fit, tmp_path):
    path = tmp_path / "training.csv"
    logs = [
        {"val_loss": 0.5, "loss": 0.75, "mae": 0.25},
        {"val_loss": 0.25, "loss": 0.5, "mae": np.float32(0.125)},
    ]
    fit([CSVLogger(path)], model, logs)
    assert path.read_text() == ("epoch,loss,mae,val_loss\n0,0.75,0.25,0.5\n1,0.5,0.125,0.25\n")


def test_csv_logger_flushes_each_epoch(model, tmp_path):
    path = tmp_path / "log.csv"
    logger = CSVLogger(path)
    logger.set_model(model)
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 1.0})
    assert path.read_text() == "epoch,loss\n0,1.0\n"
    logger.on_train_end()
    assert logger.csv_file is None


def test_csv_logger_separator_and_missing_keys(model, fit, tmp_path):
    path = tmp_path / "log.csv"
    fit([CSVLogger(path, separator=";")], model, [{"loss": 1.0, "mae": 2.0}, {"loss": 0.5}])
    assert path.read_text() == "epoch;loss;mae\n0;1.0;2.0\n1;0.5;NA\n"


def test_csv_logger_append_keeps_one_header(model, fit, tmp_path):
    path = tmp_path / "log.csv"
    fit([CSVLogger(path, append=True)], model, [{"loss": 1.0}])
    fit([CSVLogger(path, append=True)], model, [{"loss": 0.5}])
    assert path.read_text() == "epoch,loss\n0,1.0\n0,0.5\n"


def test_csv_logger_overwrites_by_default(model, fit, tmp_path):
    path = tmp_path / "log.csv"
    logger = CSVLogger(path)
    fit([logger], model, [{"loss": 1.0}, {"loss": 0.9}])
    fit([logger], model, [{"loss": 0.5}])
    assert path.read_text() == "epoch,loss\n0,0.5\n"


def test_csv_logger_sequences_and_arrays(model, fit, tmp_path):
    path = tmp_path / "log.csv"
    fit([CSVLogger(path)], model, [{"loss": np.array(0.5), "per_output": [1.0, 2.0]}])
    assert path.read_text() == 'epoch,loss,per_output\n0,0.5,"[1.0, 2.0]"\n'


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"filename": 1}, TypeError, "Received: filename=1"),
        ({"filename": "a.csv", "separator": ";;"}, ValueError, "Received: separator=';;'"),
        ({"filename": "a.csv", "append": "no"}, TypeError, "append"),
    ],
)
def test_csv_logger_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        CSVLogger(**kwargs)


# --- LambdaCallback ---


def test_lambda_callback_calls_each_hook(model, fit):
    events = []
    callback = LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: events.append(f"epoch_begin {epoch}"),
        on_train_batch_begin=lambda batch, logs: events.append(f"batch_begin {batch}"),
        on_train_batch_end=lambda batch, logs: events.append(f"batch_end {batch}"),
        on_epoch_end=lambda epoch, logs: events.append(f"epoch_end {epoch} {logs['loss']}"),
        on_train_end=lambda logs: events.append("train_end"),
    )
    fit([callback], model, [{"loss": 0.5}], steps=1)
    assert events == [
        "train_begin",
        "epoch_begin 0",
        "batch_begin 0",
        "batch_end 0",
        "epoch_end 0 0.5",
        "train_end",
    ]


def test_lambda_callback_other_hooks_by_keyword():
    seen = []
    callback = LambdaCallback(on_test_end=lambda logs: seen.append(logs))
    callback.on_test_end({"loss": 1.0})
    callback.on_epoch_end(0, {})  # not given: the base class's no-op
    assert seen == [{"loss": 1.0}]


def test_lambda_callback_unknown_hook_suggests():
    with pytest.raises(TypeError, match=re.escape("unknown hook 'on_epoch_ends'. Did you mean")):
        LambdaCallback(on_epoch_ends=print)


def test_lambda_callback_rejects_non_callable():
    with pytest.raises(TypeError, match=re.escape("Received: on_epoch_end=3")):
        LambdaCallback(on_epoch_end=3)
