"""Small callbacks: stop on NaN, log epochs to CSV, build a callback from functions."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable
from collections.abc import Iterable
from typing import IO
from typing import Any

from rnnkit._validation import check_bool
from rnnkit._validation import suggest
from rnnkit.callbacks.base import Callback
from rnnkit.callbacks.base import checked_state
from rnnkit.callbacks.progress import print_msg
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError

_HOOKS = tuple(name for name in vars(Callback) if name.startswith("on_"))


class TerminateOnNaN(Callback):
    """Stop training as soon as a training batch's loss is NaN or infinite.

    Checked at the end of every training batch. The epoch in progress ends at
    once (the model sets `stop_training = True`), or, with `raise_error=True`,
    a `RuntimeError` is raised.

    Args:
        raise_error: Raise `RuntimeError` instead of stopping quietly.
            Defaults to `False`.

    Example:
        >>> class Model:
        ...     stop_training = False
        >>> terminate = TerminateOnNaN()
        >>> terminate.set_model(Model())
        >>> terminate.on_train_batch_end(0, {"loss": 0.3})
        >>> terminate.model.stop_training
        False
        >>> terminate.on_train_batch_end(1, {"loss": float("nan")})
        Batch 1: Invalid loss, terminating training
        >>> terminate.model.stop_training
        True
    """

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = check_bool("raise_error", raise_error, caller="TerminateOnNaN")

    def get_state(self) -> dict[str, Any]:
        """Nothing: each batch is checked on its own (resumable as it is)."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Accept :meth:`get_state`'s empty state."""
        checked_state(self, state, {})

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Check `logs["loss"]` and stop (or raise) if it is NaN or infinite."""
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at batch {batch}. Loss value: {float(loss)}. "
                "Terminating training immediately."
            )
        print_msg(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file.

    The header is `epoch` followed by the sorted log keys of the first epoch; the
    `epoch` column is 0-based, as in Keras. A key missing from a later epoch is
    written as `NA`. The file is flushed after every row and closed at the end
    of training.

    Args:
        filename: Path of the CSV file.
        separator: One-character field separator. Defaults to `","`.
        append: Append to an existing file (writing the header only if the file
            is empty) instead of overwriting it. Defaults to `False`.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
        >>> logger = CSVLogger(path)
        >>> logger.on_train_begin()
        >>> logger.on_epoch_end(0, {"val_loss": 0.5, "loss": 0.75})
        >>> logger.on_epoch_end(1, {"val_loss": 0.25, "loss": 0.5})
        >>> logger.on_train_end()
        >>> print(path.read_text(), end="")
        epoch,loss,val_loss
        0,0.75,0.5
        1,0.5,0.25
    """

    def __init__(
        self, filename: str | os.PathLike[str], separator: str = ",", append: bool = False
    ) -> None:
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise RnnkitTypeError(
                f"CSVLogger: `filename` must be a str or a path. Received: filename={filename!r}."
            )
        if not isinstance(separator, str) or len(separator) != 1:
            raise RnnkitValueError(
                "CSVLogger: `separator` must be a single character such as ',' or ';'. "
                f"Received: separator={separator!r}."
            )
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = check_bool("append", append, caller="CSVLogger")
        self.keys: list[str] | None = None
        self.csv_file: IO[str] | None = None
        self._writer: Any = None
        self._write_header = True

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Open the file (truncating it unless `append=True`)."""
        self._close()
        if self.append:
            self._write_header = not _has_content(self.filename)
            mode = "a"
        else:
            self._write_header = True
            mode = "w"
        folder = os.path.dirname(self.filename)
        if folder:
            os.makedirs(folder, exist_ok=True)
        self.csv_file = open(self.filename, mode, newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.writer(self.csv_file, delimiter=self.sep, lineterminator="\n")
        self.keys = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Write one row (and the header before the first)."""
        logs = logs or {}
        if self._writer is None:
            self.on_train_begin()
        if self.keys is None:
            self.keys = sorted(logs)
            if self._write_header:
                self._writer.writerow(["epoch", *self.keys])
        self._writer.writerow([epoch, *(_csv_value(logs.get(key, "NA")) for key in self.keys)])
        assert self.csv_file is not None
        self.csv_file.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Close the file."""
        self._close()

    def _close(self) -> None:
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = None
        self._writer = None


def _has_content(filename: str) -> bool:
    return os.path.exists(filename) and os.path.getsize(filename) > 0


def _csv_value(value: Any) -> Any:
    """Plain numbers as they are; 0-d arrays and tensors as numbers; sequences as "[a, b]"."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    if isinstance(value, str) or not isinstance(value, Iterable):
        return value
    return f"[{', '.join(map(str, value))}]"


class LambdaCallback(Callback):
    """Build a callback from plain functions, one per hook.

    Each function takes the hook's arguments: `on_epoch_begin(epoch, logs)`,
    `on_epoch_end(epoch, logs)`, `on_train_begin(logs)`, `on_train_end(logs)`,
    `on_train_batch_begin(batch, logs)`, `on_train_batch_end(batch, logs)`. Other
    hooks (`on_test_end=...`, `on_predict_batch_end=...`, ...) may be passed by
    keyword too.

    Args:
        on_epoch_begin: Called at the start of every epoch. Defaults to `None`.
        on_epoch_end: Called at the end of every epoch. Defaults to `None`.
        on_train_begin: Called at the start of training. Defaults to `None`.
        on_train_end: Called at the end of training. Defaults to `None`.
        on_train_batch_begin: Called at the start of every training batch.
            Defaults to `None`.
        on_train_batch_end: Called at the end of every training batch.
            Defaults to `None`.
        **hooks: Functions for any other hook, by hook name.

    Raises:
        TypeError: a hook name is unknown or a function is not callable.

    Example:
        >>> seen = []
        >>> record = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(logs["loss"]))
        >>> for epoch, loss in enumerate([0.5, 0.25]):
        ...     record.on_epoch_end(epoch, {"loss": loss})
        >>> seen
        [0.5, 0.25]
    """

    def __init__(
        self,
        on_epoch_begin: Callable[..., Any] | None = None,
        on_epoch_end: Callable[..., Any] | None = None,
        on_train_begin: Callable[..., Any] | None = None,
        on_train_end: Callable[..., Any] | None = None,
        on_train_batch_begin: Callable[..., Any] | None = None,
        on_train_batch_end: Callable[..., Any] | None = None,
        **hooks: Callable[..., Any],
    ) -> None:
        super().__init__()
        named = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
        }
        for name, function in {**named, **hooks}.items():
            if name not in _HOOKS:
                raise RnnkitTypeError(
                    f"LambdaCallback: unknown hook {name!r}.{suggest(name, _HOOKS)} "
                    f"Expected one of {', '.join(_HOOKS)}."
                )
            if function is None:
                continue
            if not callable(function):
                raise RnnkitTypeError(
                    f"LambdaCallback: `{name}` must be callable. Received: {name}={function!r}."
                )
            setattr(self, name, _as_hook(name, function))


def _as_hook(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap `function` so the hook may be called with or without `logs`."""
    if "epoch" in name or "batch" in name:

        def indexed_hook(index: int, logs: dict[str, Any] | None = None) -> Any:
            return function(index, logs)

        return indexed_hook

    def hook(logs: dict[str, Any] | None = None) -> Any:
        return function(logs)

    return hook
