"""A logical trial: one configuration, however many attempts it took.

A search stores every attempt as an Optuna trial. Retries (after an exception or
after the worker running it died) are new Optuna trials linked to the first one,
so a :class:`Trial` here gathers them: its ``trial_id`` is keras-tuner style
(``"03"``), its ``numbers`` the Optuna trial numbers of its attempts.

Example:
    >>> t = Trial("03", status=TrialStatus.COMPLETED, score=0.25, values={"units": 64})
    >>> t.hyperparameters.get("units"), t.is_finished
    (64, True)
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from rnnkit.tuner.hyperparameters import HyperParameters


class TrialStatus(str, enum.Enum):
    """keras-tuner's trial states, plus ``PRUNED`` (stopped early by an Optuna pruner)."""

    RUNNING = "RUNNING"
    IDLE = "IDLE"
    INVALID = "INVALID"
    STOPPED = "STOPPED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    PRUNED = "PRUNED"

    def __str__(self) -> str:
        return self.value


@dataclass
class Trial:
    """One configuration and its outcome.

    Attributes:
        trial_id: keras-tuner style id, zero-padded (``"07"``).
        status: A :class:`TrialStatus`.
        score: Best objective value (mean over executions), ``None`` if none.
        best_step: Epoch of the best value.
        values: The hyperparameter values.
        metrics: Every reported metric at the best epoch.
        message: Error message of a failed trial (traceback in ``traceback``).
        numbers: Optuna trial numbers of the attempts, oldest first.
        control: Tuner control data (Hyperband epochs, bracket, round, parent).
    """

    trial_id: str
    status: TrialStatus = TrialStatus.RUNNING
    score: float | None = None
    best_step: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    message: str | None = None
    traceback: str | None = None
    numbers: list[int] = field(default_factory=list)
    control: dict[str, Any] = field(default_factory=dict)
    duration_s: float | None = None
    worker: str | None = None
    completed_at: float | None = None
    _hp: HyperParameters | None = field(default=None, repr=False, compare=False)

    @property
    def hyperparameters(self) -> HyperParameters:
        """The values as a :class:`HyperParameters` (what ``build`` receives).

        While the trial runs this is the object its ``build`` and ``fit`` share.
        """
        if self._hp is not None:
            return self._hp
        hp = HyperParameters()
        hp.values = dict(self.values)
        return hp

    @property
    def is_finished(self) -> bool:
        """Whether no attempt of this trial is running or queued."""
        return self.status in (TrialStatus.COMPLETED, TrialStatus.FAILED, TrialStatus.PRUNED)

    @property
    def attempts(self) -> int:
        """How many times the configuration was started."""
        return len(self.numbers)

    def summary(self, print_fn: Callable[..., None] = print) -> None:
        """Print the trial like keras-tuner's ``Trial.summary()``."""
        print_fn(f"Trial {self.trial_id} summary")
        print_fn("Hyperparameters:")
        for name, value in self.values.items():
            print_fn(f"{name}: {value}")
        if self.score is not None:
            print_fn(f"Score: {self.score}")
        if self.message is not None:
            print_fn(self.message)
