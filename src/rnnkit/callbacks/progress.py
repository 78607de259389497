"""Keras-style progress output for `fit`, `evaluate` and `predict`.

With `verbose=1` each epoch prints a header and a bar; on a terminal the bar is
redrawn in place (at most every `interval` seconds), elsewhere (files, CI logs)
only its final state is printed::

    Epoch 3/10
     45/256 ━━━━━━────────────── 1s 5ms/step - loss: 0.1234 - mae: 0.2345
    256/256 ━━━━━━━━━━━━━━━━━━━━ 2s 7ms/step - loss: 0.1000 - val_loss: 0.2000

With `verbose=2`, one line per epoch::

    Epoch 3/10
    256/256 - 2s - 7ms/step - loss: 0.1234 - val_loss: 0.2345

Other callbacks print their `verbose=1` messages with :func:`print_msg`, which
first ends a bar line left open on the same stream.
"""

from __future__ import annotations

import math
import numbers
import sys
import time
import weakref
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import TextIO

from rnnkit.callbacks.base import Callback
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError

_now = time.monotonic


class _OpenLine:
    """Remembers the stream on which a bar was left without its newline (one at most)."""

    def __init__(self) -> None:
        self._stream: weakref.ReferenceType[TextIO] | None = None

    def open(self, stream: TextIO) -> None:
        try:
            self._stream = weakref.ref(stream)
        except TypeError:  # a stream without weak references: not tracked
            self._stream = None

    def close(self) -> None:
        self._stream = None

    def is_on(self, stream: TextIO) -> bool:
        return self._stream is not None and self._stream() is stream


_open_line = _OpenLine()


def print_msg(message: str, stream: TextIO | None = None) -> None:
    """Write one line of callback output to `stream` (default: the current `sys.stdout`).

    Example:
        >>> print_msg("Epoch 4: early stopping")
        Epoch 4: early stopping
    """
    stream = sys.stdout if stream is None else stream
    if _open_line.is_on(stream):
        _open_line.close()
        stream.write("\n")
    stream.write(f"{message}\n")
    stream.flush()


def format_value(value: Any) -> str:
    """Format a logged value as Keras does: 4 decimals, or scientific when tiny.

    Example:
        >>> format_value(0.123456), format_value(2e-05), format_value("n/a")
        ('0.1235', '2.0000e-05', 'n/a')
    """
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    return f"{value:.4f}" if abs(float(value)) > 1e-3 else f"{value:.4e}"


def format_step_time(seconds: float, unit: str = "step") -> str:
    """Format the time one step takes: `"2s/step"`, `"7ms/step"` or `"85us/step"`.

    Example:
        >>> format_step_time(0.0071), format_step_time(2.2), format_step_time(8.5e-5)
        ('7ms/step', '2s/step', '85us/step')
    """
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def _format_eta(seconds: float) -> str:
    """`"2:46:38"`, `"3:05"` or `"42s"`, truncated to whole seconds as in Keras."""
    whole = int(seconds)
    if seconds > 3600:
        return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    if seconds > 60:
        return f"{whole // 60}:{whole % 60:02d}"
    return f"{whole}s"


def _format_logs(logs: Mapping[str, Any]) -> str:
    return "".join(f" - {key}: {format_value(value)}" for key, value in logs.items())


class _Output:
    """Where a bar goes: a stream (in place on a terminal) or a `print_fn` (whole lines)."""

    def __init__(self, stream: TextIO | None, print_fn: Callable[[str], Any] | None) -> None:
        self._stream = stream
        self._print_fn = print_fn

    @property
    def stream(self) -> TextIO:
        return sys.stdout if self._stream is None else self._stream

    @property
    def is_dynamic(self) -> bool:
        """Whether lines can be redrawn in place with a carriage return."""
        if self._print_fn is not None:
            return False
        stream = self.stream
        try:
            if stream.isatty():
                return True
        except (AttributeError, ValueError):
            return False
        return stream is sys.stdout and "ipykernel" in sys.modules

    def line(self, text: str) -> None:
        if self._print_fn is not None:
            self._print_fn(text)
        else:
            print_msg(text, self.stream)

    def redraw(self, text: str, *, final: bool) -> None:
        stream = self.stream
        stream.write(f"\r{text}\n" if final else f"\r{text}")
        stream.flush()
        if final:
            _open_line.close()
        else:
            _open_line.open(stream)

    def line_is_open(self) -> bool:
        return _open_line.is_on(self.stream)


class _Progbar:
    """One bar over `target` steps (`None`: unknown until the end), as `keras.utils.Progbar`."""

    def __init__(
        self, target: int | None, verbose: int, output: _Output, *, interval: float, width: int = 20
    ) -> None:
        self.target = target
        self.verbose = verbose
        self.output = output
        self.interval = interval
        self.width = width
        self._start = _now()
        self._last_update = -math.inf
        self._after_first_step: float | None = None
        self._prev_width = 0

    def update(self, current: int, logs: Mapping[str, Any], *, finalize: bool) -> None:
        now = _now()
        per_step = self._step_duration(current, now)
        if self.verbose == 2:
            if finalize:
                self.output.line(self._render_line(current, now, per_step, logs))
            return
        if self.verbose != 1:
            return
        if not finalize and (now - self._last_update < self.interval):
            return
        self._last_update = now
        if not self.output.is_dynamic:
            if finalize:
                self.output.line(self._render_bar(current, now, per_step, logs, finalize=True))
            return
        text = self._render_bar(current, now, per_step, logs, finalize=finalize)
        if not self.output.line_is_open():
            self._prev_width = 0  # someone else ended our line: start afresh
        padded = text.ljust(self._prev_width)
        self._prev_width = len(text)
        self.output.redraw(padded, final=finalize)

    def _step_duration(self, current: int, now: float) -> float:
        """Seconds per step, ignoring the (slow, compiling) first step when possible."""
        if not current:
            return 0.0
        if self._after_first_step is not None and current > 1:
            per_step = (now - self._after_first_step) / (current - 1)
        else:
            per_step = (now - self._start) / current
        if current == 1:
            self._after_first_step = now
        return per_step

    def _count(self, current: int) -> str:
        assert self.target is not None and self.target > 0
        digits = len(str(self.target))
        return f"{current:>{digits}d}/{self.target}"

    def _render_bar(
        self, current: int, now: float, per_step: float, logs: Mapping[str, Any], *, finalize: bool
    ) -> str:
        if self.target is not None and self.target > 0:
            done = min(int(self.width * current / self.target), self.width)
            bar = f"{self._count(current)} {'━' * done}{'─' * (self.width - done)}"
        else:
            bar = f"{current:7d}/Unknown"
        if self.target is not None and self.target > 0 and not finalize:
            when = _format_eta(per_step * (self.target - current))
        else:
            when = f"{now - self._start:.0f}s"
        return f"{bar} {when} {format_step_time(per_step)}{_format_logs(logs)}"

    def _render_line(
        self, current: int, now: float, per_step: float, logs: Mapping[str, Any]
    ) -> str:
        count = self._count(current) if self.target else f"{current}"
        elapsed = f"{now - self._start:.0f}s"
        return f"{count} - {elapsed} - {format_step_time(per_step)}{_format_logs(logs)}"


class ProgbarLogger(Callback):
    r"""Print Keras-style progress: an epoch header and a bar per epoch.

    `fit` adds one when `verbose != 0`; `evaluate` and `predict` use one to draw a
    bar over their batches. It reads `params["verbose"]` (`1`: bar, `2`: one line
    per epoch, `0`: silent, `"auto"`: 1), `params["epochs"]` and `params["steps"]`
    (batches per epoch, or `None` if unknown). Inside `fit`, validation batches
    draw no bar: the `val_` values appear on the epoch's final line.

    On a terminal the bar is redrawn in place with `"\r"`; on any other stream,
    or through `print_fn`, only the final line of each bar is written, so log
    files stay clean.

    Args:
        stream: Text stream to write to; `None` means the current `sys.stdout`.
            Defaults to `None`.
        print_fn: Callable that receives each finished line instead of a stream
            (no in-place updates). Defaults to `None`.
        interval: Least number of seconds between two redraws of a bar.
            Defaults to `0.1`.

    Raises:
        ValueError: both `stream` and `print_fn` are given, or `interval < 0`.

    Example:
        >>> lines = []
        >>> progbar = ProgbarLogger(print_fn=lines.append)
        >>> progbar.set_params({"epochs": 2, "steps": 4, "verbose": 2})
        >>> progbar.on_train_begin()
        >>> for epoch in range(2):
        ...     progbar.on_epoch_begin(epoch)
        ...     for batch in range(4):
        ...         progbar.on_train_batch_end(batch, {"loss": 0.5})
        ...     progbar.on_epoch_end(epoch, {"loss": 0.25, "val_loss": 0.5})
        >>> progbar.on_train_end()
        >>> lines[0], lines[1].split(" - ")[0], lines[1].split(" - ")[3:]
        ('Epoch 1/2', '4/4', ['loss: 0.2500', 'val_loss: 0.5000'])
    """

    def __init__(
        self,
        *,
        stream: TextIO | None = None,
        print_fn: Callable[[str], Any] | None = None,
        interval: float = 0.1,
    ) -> None:
        super().__init__()
        if stream is not None and print_fn is not None:
            raise RnnkitValueError("ProgbarLogger(): pass either `stream` or `print_fn`, not both.")
        if print_fn is not None and not callable(print_fn):
            raise RnnkitTypeError(
                f"ProgbarLogger(): `print_fn` must be callable. Received: print_fn={print_fn!r}."
            )
        given: object = interval  # numbers.Real admits numpy scalars; typeshed's float does not
        if isinstance(given, bool) or not isinstance(given, numbers.Real) or given < 0:
            raise RnnkitValueError(
                f"ProgbarLogger(): `interval` must be a number >= 0 (seconds). "
                f"Received: interval={interval!r}."
            )
        self.stream = stream
        self.print_fn = print_fn
        self.interval = float(interval)
        self.verbose = 1
        self.epochs = 1
        self.target: int | None = None
        self.seen = 0
        self._output = _Output(stream, print_fn)
        self._progbar: _Progbar | None = None
        self._called_in_fit = False

    def set_params(self, params: dict[str, Any]) -> None:
        """Read `verbose`, `epochs` and `steps` from the run's parameters."""
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else int(verbose)
        self.epochs = int(params.get("epochs") or 1)
        steps = params.get("steps")
        self.target = None if steps is None else int(steps)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Enter `fit`: validation batches from now on draw no bar."""
        self._called_in_fit = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Leave `fit`: a later `evaluate` draws its bar again."""
        self._called_in_fit = False

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Print `Epoch i/n` (when there are several epochs) and start a bar."""
        self._start_bar()
        if self.verbose and self.epochs > 1:
            self._output.line(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Advance the bar to `batch + 1` steps."""
        self._advance(batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Finish the bar with the epoch's logs (validation included)."""
        self._finish(logs)

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Start a bar for `evaluate` (not for validation inside `fit`)."""
        if not self._called_in_fit:
            self._start_bar()

    def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Advance the `evaluate` bar."""
        if not self._called_in_fit:
            self._advance(batch, logs)

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        """Finish the `evaluate` bar with its logs."""
        if not self._called_in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Start a bar for `predict`."""
        self._start_bar()

    def on_predict_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Advance the `predict` bar (predictions are not shown)."""
        self._advance(batch, None)

    def on_predict_end(self, logs: dict[str, Any] | None = None) -> None:
        """Finish the `predict` bar."""
        self._finish(None)

    def _start_bar(self) -> None:
        self.seen = 0
        self._progbar = _Progbar(self.target, self.verbose, self._output, interval=self.interval)

    def _advance(self, batch: int, logs: Mapping[str, Any] | None) -> None:
        if self._progbar is None:
            self._start_bar()
        assert self._progbar is not None
        self.seen = batch + 1
        if self.verbose == 1:
            self._progbar.update(self.seen, logs or {}, finalize=False)

    def _finish(self, logs: Mapping[str, Any] | None) -> None:
        if self._progbar is None:
            self._start_bar()
        assert self._progbar is not None
        if self.target is None:  # now known: later epochs draw a proper bar
            self.target = self.seen
        self._progbar.target = self.target
        self._progbar.update(self.target, logs or {}, finalize=True)
        self._progbar = None
