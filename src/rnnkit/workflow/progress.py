"""Progress reporting for long workflow steps, without any terminal code.

The workflow announces its tasks to a `ProgressListener`: `"models"` (one
step per model in a comparison), `"trials"` (one per tuning trial) and
`"epochs"` (one per training epoch). The base class does nothing; the CLI
subclasses it to draw rich progress bars, and tests can record the calls.

`TimeEstimate` listens to the same calls and turns them into the time
left for a whole command (`WorkPlan`: how many training runs of how many
epochs), from the epoch times measured so far: nothing is guessed before
the first epoch ends.

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

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rnnkit.callbacks.base import Callback
from rnnkit.errors import RnnkitValueError

__all__ = ["EpochProgress", "ProgressListener", "TimeEstimate", "WorkPlan", "format_duration"]


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


@dataclass(frozen=True)
class WorkPlan:
    """The training a command will do: `trainings` runs of at most `epochs` epochs each.

    Attributes:
        trainings: Training runs in all (tuning trials and final fits).
        epochs: Most epochs of one run (early stopping may end a run sooner).
        models: Networks trained one after another. Defaults to `1`.
        max_seconds: The command's hard time limit (`max_time`): training stops
            there, so no more time is left after it. Defaults to `None`.

    Example:
        >>> WorkPlan.for_comparison(models=3, max_trials=4, epochs=20)
        WorkPlan(trainings=15, epochs=20, models=3, max_seconds=None)
    """

    trainings: int
    epochs: int
    models: int = 1
    max_seconds: float | None = None

    @classmethod
    def for_comparison(
        cls, *, models: int, max_trials: int, epochs: int, max_seconds: float | None = None
    ) -> WorkPlan:
        """Each network tunes `max_trials` trials and then trains its best values once more."""
        per_model = max_trials + 1 if max_trials > 0 else 1
        return cls(
            trainings=models * per_model, epochs=epochs, models=models, max_seconds=max_seconds
        )


def format_duration(seconds: float) -> str:
    """Seconds as `"45 s"`, `"2 min 05 s"` or `"1 h 02 min"`.

    Example:
        >>> format_duration(44.6), format_duration(125), format_duration(3720)
        ('45 s', '2 min 05 s', '1 h 02 min')
    """
    total = max(0, round(seconds))
    if total < 60:
        return f"{total} s"
    if total < 3600:
        return f"{total // 60} min {total % 60:02d} s"
    return f"{total // 3600} h {total % 3600 // 60:02d} min"


class TimeEstimate:
    """Elapsed time and the time left of a command's training, from measured epoch times.

    Feed it the listener calls (`begin`, `advance`, `end`, as a
    `ProgressListener` receives them). The time left is

        (epochs left in the current run + runs not started x epochs per run)
        x seconds per epoch,

    where epochs per run is the mean of the finished runs (early stopping
    makes them shorter than the cap; the cap until one has finished) and
    seconds per epoch is wall-clock time over epochs since the current
    network's first epoch began (the networks differ in speed; the time
    between runs, building and checkpointing, is included), or since the
    first epoch of all for networks not started yet. When a network
    finishes, the count of runs is set from the plan, so a skipped or
    extended final fit does not skew it. Before the first epoch has ended
    there is no estimate. With a time limit (`WorkPlan.max_seconds`), the
    estimate is at most the time left before it.

    Args:
        plan: What the command will train.
        clock: Seconds, monotonic. Defaults to `time.monotonic`.

    Raises:
        RnnkitValueError: a plan with no training, epoch or model.

    Example:
        >>> now = [0.0]
        >>> estimate = TimeEstimate(WorkPlan(trainings=2, epochs=10), clock=lambda: now[0])
        >>> estimate.begin("epochs", total=10)
        >>> now[0] = 3.0; estimate.advance("epochs")
        >>> estimate.remaining()  # 9 more epochs in this run, 10 in the next, 3 s each
        57.0
        >>> limited = TimeEstimate(WorkPlan(2, 10, max_seconds=40.0), clock=lambda: now[0])
        >>> limited.begin("epochs", total=10)
        >>> now[0] = 6.0; limited.advance("epochs")
        >>> limited.remaining()  # 57 s of epochs, but the limit comes in 37 s
        37.0
    """

    def __init__(self, plan: WorkPlan, *, clock: Callable[[], float] = time.monotonic) -> None:
        if plan.trainings < 1 or plan.epochs < 1 or plan.models < 1:
            raise RnnkitValueError(
                "TimeEstimate(): the plan needs at least 1 training of 1 epoch for 1 model. "
                f"Received: {plan}."
            )
        self.plan = plan
        self.clock = clock
        self.started = clock()
        self._first_start: float | None = None
        self._model_start: float | None = None
        self._last_epoch: float | None = None
        self._model_epochs = 0
        self._all_epochs = 0
        self._run_lengths: list[int] = []
        self._current = 0
        self._running = False
        self._finished_runs = 0
        self._finished_models = 0

    @property
    def epochs_measured(self) -> int:
        """Epochs timed so far."""
        return self._all_epochs

    def begin(self, task: str, total: int | None = None, description: str = "") -> None:
        """A task starts; an `"epochs"` task is a training run."""
        if task == "epochs":
            now = self.clock()
            self._first_start = now if self._first_start is None else self._first_start
            self._model_start = now if self._model_start is None else self._model_start
            self._current = 0
            self._running = True

    def advance(self, task: str, steps: int = 1, description: str | None = None) -> None:
        """An epoch ended, or a network finished."""
        if task == "epochs" and self._model_start is not None:
            self._last_epoch = self.clock()
            self._model_epochs += steps
            self._all_epochs += steps
            self._current += steps
        elif task == "models":
            self._finished_models += steps
            self._finished_runs = round(
                self._finished_models * self.plan.trainings / self.plan.models
            )
            self._model_start = None
            self._model_epochs = 0
            self._running = False

    def end(self, task: str) -> None:
        """A training run finished (early stopping may end it before its cap)."""
        if task == "epochs" and self._running:
            self._run_lengths.append(self._current)
            self._finished_runs += 1
            self._running = False

    def elapsed(self) -> float:
        """Seconds since the estimate was made."""
        return self.clock() - self.started

    def remaining(self) -> float | None:
        """Estimated seconds of training left, or `None` before the first epoch has ended."""
        if not self._all_epochs or self._last_epoch is None or self._first_start is None:
            return None
        per_run = statistics.fmean(self._run_lengths) if self._run_lengths else self.plan.epochs
        running = 1 if self._running else 0
        current_left = max(per_run - self._current, 0) if running else 0
        runs_left = max(self.plan.trainings - self._finished_runs - running, 0)
        model_end = round((self._finished_models + 1) * self.plan.trainings / self.plan.models)
        this_model_left = min(max(model_end - self._finished_runs - running, 0), runs_left)
        later = runs_left - this_model_left
        overall = (self._last_epoch - self._first_start) / self._all_epochs
        here = overall
        if self._model_epochs and self._model_start is not None:
            here = (self._last_epoch - self._model_start) / self._model_epochs
        left = (current_left + this_model_left * per_run) * here + later * per_run * overall
        if self.plan.max_seconds is not None:
            left = min(left, max(self.plan.max_seconds - self.elapsed(), 0.0))
        return left

    def describe(self) -> str:
        """`"elapsed 1 min 10 s, about 2 min 30 s left (from 34 epochs timed)"`, or elapsed only."""
        text = f"elapsed {format_duration(self.elapsed())}"
        left = self.remaining()
        if left is None:
            return f"{text}, time left: measuring the first epoch"
        return (
            f"{text}, about {format_duration(left)} left "
            f"(from {self.epochs_measured} epoch{'s' if self.epochs_measured != 1 else ''} timed)"
        )
