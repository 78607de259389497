"""Progress reporting for long workflow steps, without any terminal code.

The workflow announces its tasks to a `ProgressListener`: `"models"` (one
step per model in a comparison), `"trials"` (one per tuning trial) and
`"epochs"` (one per training epoch). The base class does nothing; the CLI
subclasses it to draw rich progress bars, and tests can record the calls.

Example:
    >>> class Recorder(ProgressListener):
    ...     def __init__(self):
    ...         self.calls = []
    ...     def advance(self, task, steps=1, description=None):
    ...         self.calls.append(task)
    >>> recorder = Recorder()
    >>> recorder.advance("epochs")
    >>> recorder.calls
    ['epochs']
"""

from __future__ import annotations

from typing import Any

from rnnkit.callbacks.base import Callback

__all__ = ["EpochProgress", "ProgressListener"]


class ProgressListener:
    """Receives progress of workflow tasks; every method does nothing by default."""

    def begin(self, task: str, total: int | None = None, description: str = "") -> None:
        """A task starts (again) with `total` steps (`None`: unknown)."""

    def advance(self, task: str, steps: int = 1, description: str | None = None) -> None:
        """A task made `steps` steps; `description` replaces its label when given."""

    def end(self, task: str) -> None:
        """A task finished."""

    def message(self, text: str) -> None:
        """A line worth showing (the CLI prints it unless `--quiet`)."""


class EpochProgress(Callback):
    """Callback that reports epochs (and optionally finished trainings) to a listener.

    Deep copies return the same instance, so a tuner that copies its
    callbacks for each trial keeps reporting to the same listener.

    Args:
        listener: Where progress goes.
        label: Shown before the loss in the epoch bar. Defaults to `""`.
        epochs: Total epochs per training. Defaults to `None`.
        count_trials: Advance the `"trials"` task when a training ends.
            Defaults to `False`.
    """

    def __init__(
        self,
        listener: ProgressListener,
        *,
        label: str = "",
        epochs: int | None = None,
        count_trials: bool = False,
    ) -> None:
        super().__init__()
        self.listener = listener
        self.label = label
        self.epochs = epochs
        self.count_trials = count_trials

    def __deepcopy__(self, memo: dict[int, Any]) -> EpochProgress:
        return self

    def on_train_begin(self, logs: Any = None) -> None:
        """Open the epochs bar (total: ``epochs``, when known)."""
        self.listener.begin("epochs", total=self.epochs, description=f"{self.label} epochs")

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        """Advance the epochs bar, showing the epoch's loss and val_loss."""
        logs = logs or {}
        parts = [f"{key} {logs[key]:.4g}" for key in ("loss", "val_loss") if key in logs]
        self.listener.advance("epochs", description=" ".join([f"{self.label}", *parts]).strip())

    def on_train_end(self, logs: Any = None) -> None:
        """Close the epochs bar; with ``count_trials``, advance the trials bar by one."""
        self.listener.end("epochs")
        if self.count_trials:
            self.listener.advance("trials")
