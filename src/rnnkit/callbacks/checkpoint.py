"""Save the model, or its weights, during training."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from rnnkit._validation import check_bool
from rnnkit.callbacks.base import checked_state
from rnnkit.callbacks.monitor import MonitorCallback
from rnnkit.callbacks.progress import print_msg
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError

MODEL_SUFFIXES = (".keras", ".rnnkit")
WEIGHTS_SUFFIXES = (".safetensors",)


class ModelCheckpoint(MonitorCallback):
    """Save the model, or its weights, at the end of every epoch or every N batches.

    `filepath` may hold format fields filled from `epoch` (1-based, as in Keras),
    `batch` (1-based, when saving every N batches) and the keys of the logs:
    `"ckpt/{epoch:02d}-{val_loss:.2f}.keras"` gives `ckpt/03-0.41.keras`. Missing
    folders are created.

    rnnkit writes its own formats, which never run code when loaded: a whole model
    is a zip (config JSON + safetensors), saved by `model.save` under a `.keras` or
    `.rnnkit` name; weights alone are a safetensors file, saved by
    `model.save_weights` under a `.safetensors` name (for example
    `best.weights.safetensors`).

    With `save_best_only=True`, a file is written only when `monitor` improves on
    the best value so far (`best`, seeded by `initial_value_threshold`). As in
    Keras, `best` is kept across `fit` calls, so a later `fit` does not overwrite a
    better checkpoint.

    Args:
        filepath: Where to save (str or path-like, may contain format fields).
            Must end in `.keras` or `.rnnkit`, or in `.safetensors` with
            `save_weights_only=True`.
        monitor: Log key compared when `save_best_only=True`. Defaults to `"val_loss"`.
        verbose: `1` prints a line for each decision and save. Defaults to `0`.
        save_best_only: Save only when `monitor` improves. Defaults to `False`.
        save_weights_only: Save only the weights (`model.save_weights`).
            Defaults to `False`.
        mode: `"auto"`, `"min"` or `"max"`: which way `monitor` improves.
            Defaults to `"auto"`.
        save_freq: `"epoch"`, or a positive integer: save every that many
            training batches. Defaults to `"epoch"`.
        initial_value_threshold: Value a first checkpoint must beat when
            `save_best_only=True`, or `None`. Defaults to `None`.

    Raises:
        ValueError: the suffix of `filepath` does not match `save_weights_only`, or
            `save_freq` is neither `"epoch"` nor a positive integer.

    Example:
        >>> import pathlib, tempfile
        >>> class Model:
        ...     def save(self, path):
        ...         pathlib.Path(path).write_text("model")
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> checkpoint = ModelCheckpoint(folder / "{epoch:02d}-{val_loss:.2f}.keras",
        ...                              save_best_only=True)
        >>> checkpoint.set_model(Model())
        >>> checkpoint.on_train_begin()
        >>> for epoch, val_loss in enumerate([0.5, 0.7, 0.25]):
        ...     checkpoint.on_epoch_begin(epoch)
        ...     checkpoint.on_epoch_end(epoch, {"loss": 0.1, "val_loss": val_loss})
        >>> sorted(path.name for path in folder.iterdir())
        ['01-0.50.keras', '03-0.25.keras']
    """

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        caller = "ModelCheckpoint"
        if not isinstance(filepath, (str, os.PathLike)):
            raise RnnkitTypeError(
                f"{caller}: `filepath` must be a str or a path. Received: filepath={filepath!r}."
            )
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = check_bool("save_best_only", save_best_only, caller=caller)
        self.save_weights_only = check_bool("save_weights_only", save_weights_only, caller=caller)
        self.save_freq = _check_save_freq(save_freq)
        _check_suffix(self.filepath, save_weights_only=self.save_weights_only)
        self._current_epoch = 0
        self._batches_since_save = 0
        self._last_batch: int | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Reset the batch counters (`best` is kept, as in Keras)."""
        super().on_train_begin(logs)
        self._current_epoch = 0
        self._batches_since_save = 0
        self._last_batch = None

    def get_state(self) -> dict[str, Any]:
        """The best value and the batches since the last save (what later saves depend on)."""
        return {"best": self.best, "batches_since_save": self._batches_since_save}

    def set_state(self, state: dict[str, Any]) -> None:
        """Put back what :meth:`get_state` returned.

        Raises:
            RnnkitValueError: `state` is not such a dict.
        """
        state = checked_state(self, state, {"best": "number", "batches_since_save": "count"})
        self.best, self._batches_since_save = state["best"], state["batches_since_save"]

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Remember the epoch, for batch-level file names."""
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Save every `save_freq` batches when `save_freq` is an integer."""
        if self._should_save_on_batch(batch):
            self._save(self._current_epoch, batch, logs or {})

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Save at the end of the epoch when `save_freq="epoch"`."""
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _should_save_on_batch(self, batch: int) -> bool:
        if isinstance(self.save_freq, str):  # "epoch", the only string _check_save_freq lets in
            return False
        if self._last_batch is None or batch <= self._last_batch:
            seen = batch + 1  # a new epoch started: batches are 0-based
        else:
            seen = batch - self._last_batch
        self._batches_since_save += seen
        self._last_batch = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            return True
        return False

    def _save(self, epoch: int, batch: int | None, logs: Mapping[str, Any]) -> None:
        path = self.format_filepath(epoch, batch, logs)
        if not self._should_save(epoch, logs, path):
            return
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if os.path.isdir(path):
            raise RnnkitValueError(
                f"ModelCheckpoint: filepath {path!r} is an existing folder. "
                "Pass a file name, such as 'ckpt/{epoch:02d}.keras'."
            )
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose > 0:
            print_msg(f"Epoch {epoch + 1}: finished saving model to {path}")

    def _should_save(self, epoch: int, logs: Mapping[str, Any], path: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print_msg(f"Epoch {epoch + 1}: saving model to {path}")
            return True
        current = self.get_monitor_value(logs)
        if current is None:
            return True  # as Keras: save anyway (get_monitor_value warned)
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self.is_improvement(current, self.best):
            if self.verbose > 0:
                print_msg(
                    f"Epoch {epoch + 1}: {self.monitor} improved from {best} to "
                    f"{current:.5f}, saving model to {path}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            print_msg(f"Epoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def format_filepath(self, epoch: int, batch: int | None, logs: Mapping[str, Any]) -> str:
        """Fill `filepath` with `epoch + 1`, `batch + 1` (if not `None`) and `logs`."""
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as exc:
            available = ", ".join(fields)
            raise RnnkitValueError(
                f"ModelCheckpoint: cannot fill filepath {self.filepath!r}: no value for "
                f"{{{exc.args[0]}}}. Available fields: {available}."
            ) from None


def _check_save_freq(save_freq: Any) -> str | int:
    if save_freq == "epoch":
        return "epoch"
    if isinstance(save_freq, int) and not isinstance(save_freq, bool) and save_freq > 0:
        return save_freq
    raise RnnkitValueError(
        "ModelCheckpoint: `save_freq` must be 'epoch' or a positive number of batches. "
        f"Received: save_freq={save_freq!r}."
    )


def _check_suffix(filepath: str, *, save_weights_only: bool) -> None:
    if save_weights_only:
        if filepath.endswith(WEIGHTS_SUFFIXES):
            return
        if filepath.endswith(".h5"):
            stem = filepath.removesuffix(".h5").removesuffix(".weights")
            raise RnnkitValueError(
                "ModelCheckpoint(save_weights_only=True): rnnkit saves weights as "
                "safetensors, not HDF5, so the file name must end in '.safetensors'; "
                f"use {stem + '.weights.safetensors'!r}. Received: filepath={filepath!r}."
            )
        raise RnnkitValueError(
            "ModelCheckpoint(save_weights_only=True): the file name must end in "
            "'.safetensors' (for example 'best.weights.safetensors'). "
            f"Received: filepath={filepath!r}."
        )
    if filepath.endswith(MODEL_SUFFIXES):
        return
    if filepath.endswith(".safetensors"):
        hint = " To save only the weights, pass save_weights_only=True."
    elif filepath.endswith(".h5"):
        hint = " rnnkit does not write legacy HDF5 models."
    else:
        hint = ""
    raise RnnkitValueError(
        "ModelCheckpoint: the file name must end in '.keras' or '.rnnkit' (rnnkit's "
        f"model format).{hint} Received: filepath={filepath!r}."
    )
