import io
import re

import pytest

from rnnkit.callbacks import progress
from rnnkit.callbacks.progress import ProgbarLogger
from rnnkit.callbacks.progress import format_step_time
from rnnkit.callbacks.progress import format_value
from rnnkit.callbacks.progress import print_msg


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


class TTY(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(progress, "_now", clock)
    return clock


def run_fit(progbar, clock, *, epochs=2, steps=4, verbose=1, dt=0.25, epoch_logs=None):
    """Drive the logger as fit does; each batch takes `dt` seconds."""
    progbar.set_params({"epochs": epochs, "steps": steps, "verbose": verbose})
    progbar.on_train_begin()
    for epoch in range(epochs):
        progbar.on_epoch_begin(epoch)
        for batch in range(steps):
            clock.t += dt
            progbar.on_train_batch_end(batch, {"loss": 1.0 / (batch + 1), "mae": 0.5})
        # validation inside fit draws no bar
        progbar.on_test_begin()
        progbar.on_test_batch_end(0, {"loss": 9.0})
        progbar.on_test_end({"loss": 9.0})
        progbar.on_epoch_end(epoch, epoch_logs or {"loss": 0.25, "val_loss": 0.5})
    progbar.on_train_end()


FINAL = "4/4 ━━━━━━━━━━━━━━━━━━━━ 1s 250ms/step - loss: 0.2500 - val_loss: 0.5000"


def test_progbar_verbose_1_non_tty_prints_only_final_lines(clock):
    stream = io.StringIO()
    run_fit(ProgbarLogger(stream=stream, interval=0), clock)
    assert stream.getvalue() == f"Epoch 1/2\n{FINAL}\nEpoch 2/2\n{FINAL}\n"


def test_progbar_verbose_2_one_line_per_epoch(clock):
    lines = []
    run_fit(ProgbarLogger(print_fn=lines.append), clock, verbose=2, steps=256, dt=0.007)
    line = "256/256 - 2s - 7ms/step - loss: 0.2500 - val_loss: 0.5000"
    assert lines == ["Epoch 1/2", line, "Epoch 2/2", line]


def test_progbar_single_epoch_has_no_header(clock):
    stream = io.StringIO()
    run_fit(ProgbarLogger(stream=stream), clock, epochs=1)
    assert stream.getvalue() == f"{FINAL}\n"


def test_progbar_tty_redraws_in_place(clock):
    stream = TTY()
    run_fit(ProgbarLogger(stream=stream, interval=0), clock, epochs=1)
    out = stream.getvalue()
    frames = out.split("\r")[1:]
    # ETA after 1 step: 250 ms/step x 3 steps left = 0.75 s, truncated as in Keras
    assert frames[0] == "1/4 ━━━━━─────────────── 0s 250ms/step - loss: 1.0000 - mae: 0.5000"
    # ETA after 2 steps: 250 ms/step (first step excluded) x 2 steps left
    assert frames[1] == "2/4 ━━━━━━━━━━────────── 0s 250ms/step - loss: 0.5000 - mae: 0.5000"
    assert frames[-1] == f"{FINAL}\n"
    assert len(frames) == 5
    assert out.count("\n") == 1


def test_progbar_tty_pads_shorter_lines(clock):
    stream = TTY()
    progbar = ProgbarLogger(stream=stream, interval=0)
    progbar.set_params({"epochs": 1, "steps": 2, "verbose": 1})
    progbar.on_epoch_begin(0)
    progbar.on_train_batch_end(0, {"loss": 1.0, "a_long_metric_name": 1.0})
    progbar.on_epoch_end(0, {"loss": 1.0})
    first, final = stream.getvalue().split("\r")[1:]
    assert len(final.rstrip("\n")) == len(first)
    assert final.rstrip("\n").rstrip() == "2/2 ━━━━━━━━━━━━━━━━━━━━ 0s 0s/step - loss: 1.0000"


def test_progbar_throttles_redraws(clock):
    stream = TTY()
    run_fit(ProgbarLogger(stream=stream, interval=10), clock, epochs=1, steps=8)
    # the first batch draws, the next 7 are within 10 s, the final line always draws
    assert stream.getvalue().count("\r") == 2


def test_progbar_messages_end_an_open_bar_line(clock):
    stream = TTY()
    progbar = ProgbarLogger(stream=stream, interval=0)
    progbar.set_params({"epochs": 1, "steps": 2, "verbose": 1})
    progbar.on_epoch_begin(0)
    clock.t = 1.0
    progbar.on_train_batch_end(0, {"loss": 1.0})
    print_msg("Epoch 1: ReduceLROnPlateau reducing learning rate to 0.5.", stream)
    clock.t = 2.0
    progbar.on_epoch_end(0, {"loss": 1.0})
    lines = stream.getvalue().split("\n")
    assert lines[0] == f"\r1/2 {'━' * 10}{'─' * 10} 1s 1s/step - loss: 1.0000"
    assert lines[1] == "Epoch 1: ReduceLROnPlateau reducing learning rate to 0.5."
    assert lines[2] == "\r2/2 ━━━━━━━━━━━━━━━━━━━━ 2s 1s/step - loss: 1.0000"
    assert lines[3] == ""


def test_print_msg_without_open_line_is_one_line():
    stream = io.StringIO()
    print_msg("hello", stream)
    print_msg("world", stream)
    assert stream.getvalue() == "hello\nworld\n"


def test_progbar_evaluate_outside_fit(clock):
    stream = io.StringIO()
    progbar = ProgbarLogger(stream=stream)
    progbar.set_params({"epochs": 1, "steps": 3, "verbose": 1})
    progbar.on_test_begin()
    for batch in range(3):
        clock.t += 0.002
        progbar.on_test_batch_end(batch, {"loss": 0.5})
    progbar.on_test_end({"loss": 0.125, "mae": 0.0005})
    assert stream.getvalue() == (
        "3/3 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - loss: 0.1250 - mae: 5.0000e-04\n"
    )


def test_progbar_predict_with_unknown_steps(clock):
    stream = io.StringIO()
    progbar = ProgbarLogger(stream=stream)
    progbar.set_params({"epochs": 1, "steps": None, "verbose": 1})
    progbar.on_predict_begin()
    for batch in range(12):
        clock.t += 0.0001
        progbar.on_predict_batch_end(batch, {"outputs": [1, 2]})
    progbar.on_predict_end()
    assert stream.getvalue() == "12/12 ━━━━━━━━━━━━━━━━━━━━ 0s 100us/step\n"


def test_progbar_unknown_steps_in_progress_on_tty(clock):
    stream = TTY()
    progbar = ProgbarLogger(stream=stream, interval=0)
    progbar.set_params({"epochs": 1, "steps": None, "verbose": 1})
    progbar.on_predict_begin()
    clock.t = 0.5
    progbar.on_predict_batch_end(0)
    assert stream.getvalue() == "\r      1/Unknown 0s 500ms/step"


def test_progbar_verbose_0_is_silent(clock):
    stream = TTY()
    run_fit(ProgbarLogger(stream=stream, interval=0), clock, verbose=0)
    assert stream.getvalue() == ""


def test_progbar_verbose_auto_means_1(clock):
    stream = io.StringIO()
    run_fit(ProgbarLogger(stream=stream), clock, verbose="auto", epochs=1)
    assert stream.getvalue() == f"{FINAL}\n"


def test_progbar_defaults_to_current_stdout(clock, capsys):
    run_fit(ProgbarLogger(), clock, epochs=1)
    assert capsys.readouterr().out == f"{FINAL}\n"


def test_progbar_long_epoch_eta_format(clock):
    stream = TTY()
    progbar = ProgbarLogger(stream=stream, interval=0)
    progbar.set_params({"epochs": 1, "steps": 10000, "verbose": 1})
    progbar.on_epoch_begin(0)
    clock.t = 1.0
    progbar.on_train_batch_end(0, {})
    clock.t = 2.0
    progbar.on_train_batch_end(1, {})
    # 1 s/step x 9998 steps left = 2:46:38
    assert stream.getvalue().split("\r")[-1] == f"    2/10000 {'─' * 20} 2:46:38 1s/step"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"stream": io.StringIO(), "print_fn": print}, ValueError, "not both"),
        ({"print_fn": "stdout"}, TypeError, "Received: print_fn='stdout'"),
        ({"interval": -1}, ValueError, "Received: interval=-1"),
    ],
)
def test_progbar_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        ProgbarLogger(**kwargs)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.12345, "0.1235"), (-2.5, "-2.5000"), (1e-4, "1.0000e-04"), (0.0, "0.0000e+00"), ("x", "x")],
)
def test_format_value(value, text):
    assert format_value(value) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(59.9, "59s"), (61.5, "1:01"), (3599.0, "59:59"), (3661.9, "1:01:01")],
)
def test_format_eta(seconds, text):
    assert progress._format_eta(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s/step"), (3.4, "3s/step"), (0.0071, "7ms/step"), (2e-5, "20us/step")],
)
def test_format_step_time(seconds, text):
    assert format_step_time(seconds) == text
