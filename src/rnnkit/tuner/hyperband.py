"""Hyperband's schedule, exactly as keras-tuner computes it, and its cost preview.

With ``B`` brackets (the count of ``k >= 0`` with ``max_epochs / factor**k >= 1``),
bracket ``b`` has ``b + 1`` rounds; round ``r`` holds

    size(b, r)   = ceil(ceil(1 + log_factor(max_epochs)) / (b + 1) * factor**(b - r))
    epochs(b, r) = ceil(max_epochs / factor**(b - r))          (cumulative epochs)

Brackets run from the most aggressive (``b = B - 1``) down to 0, and the sweep
repeats ``hyperband_iterations`` times. A promoted trial continues its parent's
best-epoch checkpoint (weights *and* optimizer state) from ``epochs(b, r - 1)`` to
``epochs(b, r)``, so it trains the difference.

Example:
    >>> plan = HyperbandSchedule(max_epochs=100, factor=3, iterations=5).plan()
    >>> plan.trials, plan.max_epochs_trained
    (1270, 13360)
    >>> HyperbandSchedule(max_epochs=10, factor=3).plan().trials
    30
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from rnnkit.errors import RnnkitValueError
from rnnkit.tuner.trial import Trial
from rnnkit.tuner.trial import TrialStatus


@dataclass(frozen=True)
class HyperbandSchedule:
    """keras-tuner's bracket arithmetic.

    Args:
        max_epochs: The most epochs one model trains (at least 1).
        factor: Reduction factor between rounds (at least 2).
        iterations: Sweeps over all brackets (at least 1).
    """

    max_epochs: int = 100
    factor: int = 3
    iterations: int = 1
    min_epochs: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.max_epochs, int) or self.max_epochs < 1:
            raise RnnkitValueError(
                f"Hyperband: max_epochs must be an integer >= 1. Received: {self.max_epochs!r}."
            )
        if not isinstance(self.factor, int) or self.factor < 2:
            raise RnnkitValueError(
                f"Hyperband: factor must be an integer >= 2. Received: factor={self.factor!r}."
            )
        if not isinstance(self.iterations, int) or self.iterations < 1:
            raise RnnkitValueError(
                "Hyperband: hyperband_iterations must be an integer >= 1. "
                f"Received: {self.iterations!r}."
            )

    @property
    def num_brackets(self) -> int:
        """Number of brackets per iteration."""
        epochs, brackets = float(self.max_epochs), 0
        while epochs >= self.min_epochs:
            epochs /= self.factor
            brackets += 1
        return brackets

    def size(self, bracket: int, round_num: int) -> int:
        """Trials in round ``round_num`` of bracket ``bracket``."""
        end_size = math.ceil(1 + math.log(self.max_epochs, self.factor)) / (bracket + 1)
        return math.ceil(end_size * self.factor ** (bracket - round_num))

    def epochs(self, bracket: int, round_num: int) -> int:
        """Cumulative epochs a trial of that round trains to."""
        return math.ceil(self.max_epochs / self.factor ** (bracket - round_num))

    @property
    def total_brackets(self) -> int:
        """Brackets over all iterations."""
        return self.num_brackets * self.iterations

    def bracket_of(self, seq: int) -> int:
        """Bracket number of the ``seq``-th bracket created (0-based)."""
        return self.num_brackets - 1 - seq % self.num_brackets

    def plan(
        self,
        max_trials: int | None = None,
        *,
        seconds_per_epoch: float | None = None,
        epochs_measured: int = 0,
    ) -> HyperbandPlan:
        """The full schedule and its cost, before anything runs.

        Args:
            max_trials: The search's cap on trials (the first ``max_trials`` trials
                of the schedule run). Defaults to `None` (no cap).
            seconds_per_epoch: Measured wall-clock seconds per epoch, for a time
                estimate. Defaults to `None` (no estimate).
            epochs_measured: How many epochs that figure comes from. Defaults to `0`.
        """
        rows = []
        for seq in range(self.num_brackets):
            bracket = self.bracket_of(seq)
            for r in range(bracket + 1):
                start = 0 if r == 0 else self.epochs(bracket, r - 1)
                rows.append(
                    PlanRow(bracket, r, self.size(bracket, r), self.epochs(bracket, r), start)
                )
        return HyperbandPlan(self, rows, max_trials, seconds_per_epoch, epochs_measured)


@dataclass(frozen=True)
class PlanRow:
    """One round: ``trials`` models trained from ``initial_epoch`` to ``epochs``."""

    bracket: int
    round: int
    trials: int
    epochs: int
    initial_epoch: int


@dataclass(frozen=True)
class HyperbandPlan:
    """What a Hyperband search will cost at most (without early stopping).

    Attributes:
        rows: One :class:`PlanRow` per bracket round (one iteration).
        max_trials: The search's cap on trials, or `None`.
        seconds_per_epoch: Measured seconds per epoch, or `None` before any.
        epochs_measured: Epochs behind ``seconds_per_epoch``.
        trials: Trials over all iterations, at most ``max_trials``.
        max_epochs_trained: Epochs those trials train (promotions train only their
            extra epochs).
        estimated_seconds: ``max_epochs_trained`` x ``seconds_per_epoch``, or `None`.

    Example:
        >>> plan = HyperbandSchedule(max_epochs=10, factor=3).plan(max_trials=12)
        >>> plan.trials, plan.max_epochs_trained, plan.estimated_seconds
        (12, 24, None)
        >>> HyperbandSchedule(max_epochs=10, factor=3).plan(
        ...     max_trials=12, seconds_per_epoch=1.5, epochs_measured=4).estimated_seconds
        36.0
    """

    schedule: HyperbandSchedule
    rows: list[PlanRow] = field(default_factory=list)
    max_trials: int | None = None
    seconds_per_epoch: float | None = None
    epochs_measured: int = 0

    def _runs(self) -> list[tuple[int, int]]:
        """``(trials, epochs each trains)`` per round, in schedule order, within ``max_trials``."""
        left = self.max_trials
        out: list[tuple[int, int]] = []
        for _ in range(self.schedule.iterations):
            for r in self.rows:
                count = r.trials if left is None else min(r.trials, left)
                if count <= 0:
                    return out
                out.append((count, r.epochs - r.initial_epoch))
                if left is not None:
                    left -= count
        return out

    @property
    def trials(self) -> int:
        """Total trials over all iterations (at most ``max_trials``)."""
        return sum(count for count, _ in self._runs())

    @property
    def max_epochs_trained(self) -> int:
        """Epochs trained by those trials (promotions count only their extra epochs)."""
        return sum(count * epochs for count, epochs in self._runs())

    @property
    def estimated_seconds(self) -> float | None:
        """The most time the trials take at the measured speed, or `None` before a measure."""
        if self.seconds_per_epoch is None:
            return None
        return self.max_epochs_trained * self.seconds_per_epoch

    def __str__(self) -> str:
        s = self.schedule
        capped = f" (max_trials={self.max_trials})" if self.max_trials is not None else ""
        lines = [
            f"Hyperband plan: max_epochs={s.max_epochs}, factor={s.factor}, "
            f"hyperband_iterations={s.iterations}",
            f"{s.num_brackets} brackets per iteration; up to {self.trials:,} trials{capped} "
            f"and {self.max_epochs_trained:,} epochs in total (without early stopping).",
        ]
        if self.estimated_seconds is not None:
            lines.append(
                f"At {self.seconds_per_epoch:.3g} s per epoch (measured over "
                f"{self.epochs_measured} epochs): at most about {self.estimated_seconds:,.0f} s."
            )
        else:
            lines.append("Time: estimated once the first epochs have been measured.")
        lines.append("bracket  round  trials  epochs (from)")
        for r in self.rows:
            lines.append(
                f"{r.bracket:>7}  {r.round:>5}  {r.trials:>6}  {r.epochs:>6} ({r.initial_epoch})"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class HyperbandChoice:
    """What to run next: a new random trial or a promotion (``parent`` set)."""

    control: dict[str, Any]
    parent: Trial | None = None


def next_hyperband_trial(
    schedule: HyperbandSchedule, trials: list[Trial], direction: str
) -> HyperbandChoice | None:
    """keras-tuner's ``populate_space``, recomputed from the trials of the study.

    Returns ``None`` when every bracket of every iteration has been created (the
    caller then waits for running trials or stops).
    """
    brackets: dict[int, list[list[Trial]]] = {}
    for trial in trials:
        c = trial.control
        if "bracket_seq" not in c:
            continue
        rounds = brackets.setdefault(c["bracket_seq"], [[] for _ in range(c["bracket"] + 1)])
        rounds[c["round"]].append(trial)
    for seq in sorted(brackets):
        bracket, rounds = schedule.bracket_of(seq), brackets[seq]
        last = len(rounds) - 1
        if len(rounds[last]) >= schedule.size(bracket, last):
            continue  # complete: every trial of its last round was created
        if len(rounds[0]) < schedule.size(bracket, 0):
            return HyperbandChoice(_control(schedule, seq, 0))
        for r in range(1, len(rounds)):
            promoted = {t.control.get("parent") for t in rounds[r]}
            candidates = [
                (t.score, t)
                for t in rounds[r - 1]
                if t.status is TrialStatus.COMPLETED
                and t.score is not None
                and t.trial_id not in promoted
            ]
            if len(candidates) > schedule.size(bracket, r - 1) - schedule.size(bracket, r):
                ranked = sorted(candidates, key=lambda c: c[0], reverse=direction == "max")
                best = ranked[0][1]
                control = _control(schedule, seq, r)
                control["parent"] = best.trial_id
                return HyperbandChoice(control, parent=best)
    next_seq = max(brackets) + 1 if brackets else 0
    if next_seq >= schedule.total_brackets:
        return None
    return HyperbandChoice(_control(schedule, next_seq, 0))


def _control(schedule: HyperbandSchedule, seq: int, round_num: int) -> dict[str, Any]:
    bracket = schedule.bracket_of(seq)
    return {
        "bracket_seq": seq,
        "iteration": seq // schedule.num_brackets,
        "bracket": bracket,
        "round": round_num,
        "epochs": schedule.epochs(bracket, round_num),
        "initial_epoch": 0 if round_num == 0 else schedule.epochs(bracket, round_num - 1),
        "parent": None,
    }
