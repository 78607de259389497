"""The logical view of a study: Optuna attempts grouped into keras-tuner trials.

Each Optuna trial started by rnnkit carries user attributes: ``trial_id`` (the
logical id shared by all attempts of one configuration), ``attempt``, ``values``
(every active hyperparameter, ``Fixed`` ones included), ``control`` (Hyperband
epochs/bracket/round/parent), ``holder`` (host, pid), and when finished
``metrics``, ``best_step``, ``error`` and ``traceback``. Optuna trials without a
``trial_id`` (a proposal discarded as a duplicate) are not part of the search.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from rnnkit.tuner._hp_types import HyperParameter
from rnnkit.tuner._optuna import Attempt
from rnnkit.tuner._optuna import AttemptState
from rnnkit.tuner.trial import Trial
from rnnkit.tuner.trial import TrialStatus


def values_key(values: dict[str, Any]) -> str:
    """A canonical key of a configuration (sorted JSON), used to refuse duplicates."""
    return json.dumps(values, sort_keys=True, default=str)


@dataclass
class LogicalTrial:
    """A :class:`Trial` plus its Optuna attempts."""

    trial: Trial
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def last(self) -> Attempt:
        """The newest attempt."""
        return self.attempts[-1]


@dataclass
class SearchView:
    """Everything the allocation step needs to know about a study."""

    trials: dict[str, LogicalTrial]
    waiting: int
    running: list[LogicalTrial]
    tried: set[str]
    #: Of ``waiting``, trials queued by hand with Optuna's ``enqueue_trial`` (no trial id
    #: yet): each becomes a new logical trial when it starts.
    by_hand: int = 0

    @property
    def count(self) -> int:
        """Number of logical trials created (any state)."""
        return len(self.trials)

    def ordered(self) -> list[Trial]:
        """Trials in creation order."""
        return [lt.trial for lt in self.trials.values()]


def _status(state: AttemptState) -> TrialStatus:
    return {
        AttemptState.WAITING: TrialStatus.RUNNING,
        AttemptState.RUNNING: TrialStatus.RUNNING,
        AttemptState.COMPLETE: TrialStatus.COMPLETED,
        AttemptState.PRUNED: TrialStatus.PRUNED,
        AttemptState.FAIL: TrialStatus.FAILED,
    }[state]


def build_view(attempts: Sequence[Attempt]) -> SearchView:
    """Group attempts by logical trial id (creation order = first attempt's number)."""
    groups: dict[str, LogicalTrial] = {}
    waiting = by_hand = 0
    for attempt in sorted(attempts, key=lambda a: a.number):
        trial_id = attempt.attr("trial_id")
        if attempt.attr("discarded"):
            continue
        if trial_id is None:
            if attempt.state is AttemptState.WAITING:  # Optuna's enqueue_trial
                waiting += 1
                by_hand += 1
            continue
        if attempt.state is AttemptState.WAITING:
            waiting += 1
        group = groups.get(trial_id)
        if group is None:
            group = groups[trial_id] = LogicalTrial(Trial(str(trial_id)))
        group.attempts.append(attempt)
    running = []
    tried = set()
    for group in groups.values():
        last = group.last
        trial = group.trial
        trial.status = _status(last.state)
        trial.values = dict(last.attr("values") or {})
        trial.control = dict(last.attr("control") or {})
        trial.numbers = [a.number for a in group.attempts]
        result = last.attr("result") or {}
        trial.metrics = dict(result.get("metrics") or {})
        trial.best_step = result.get("best_step")
        trial.message = result.get("error")
        trial.traceback = result.get("traceback")
        if last.state is AttemptState.FAIL and trial.message is None:
            trial.message = "its worker died (no heartbeat)"
        trial.worker = (last.attr("holder") or {}).get("worker")
        trial.score = last.value if last.state is AttemptState.COMPLETE else result.get("score")
        if last.started is not None and last.completed is not None:
            trial.duration_s = last.completed - last.started
        trial.completed_at = last.completed
        if trial.status is TrialStatus.RUNNING:
            running.append(group)
        tried.add(values_key(trial.values))
    return SearchView(groups, waiting, running, tried, by_hand)


def consecutive_failures(view: SearchView, since: float = 0.0) -> tuple[int, Trial | None]:
    """Failed trials in a row at the end (in order of completion), and the last one.

    Only trials that ended at or after ``since`` (a timestamp) count, so a resumed
    search is not stopped by the failures of an earlier session.
    """
    finished = [
        t
        for t in view.ordered()
        if t.is_finished and t.completed_at is not None and t.completed_at >= since
    ]
    finished.sort(key=lambda t: t.completed_at or 0.0)
    count, last = 0, None
    for trial in reversed(finished):
        if trial.status is not TrialStatus.FAILED:
            break
        count += 1
        last = last or trial
    return count, last


def conditions_met(hp: HyperParameter, values: dict[str, Any]) -> bool:
    """Whether ``hp`` is active given the (already assigned) ``values``."""
    return all(c.name in values and c.is_met(values[c.name]) for c in hp.conditions)


def iter_grid(space: Sequence[HyperParameter]) -> Iterator[dict[str, Any]]:
    """Every active combination of ``space``, first hyperparameter slowest.

    Inactive (conditional) hyperparameters are left out, so each distinct active
    configuration appears exactly once.
    """
    space = list(space)
    assigned: dict[str, Any] = {}

    def walk(i: int) -> Iterator[dict[str, Any]]:
        if i == len(space):
            yield dict(assigned)
            return
        hp = space[i]
        if not conditions_met(hp, assigned):
            yield from walk(i + 1)
            return
        for value in hp.grid_values():
            assigned[hp.name] = value
            yield from walk(i + 1)
            del assigned[hp.name]

    seen: set[str] = set()
    for combo in walk(0):
        key = values_key(combo)
        if key not in seen:
            seen.add(key)
            yield combo


def space_size(space: Sequence[HyperParameter]) -> int | None:
    """Number of distinct configurations ignoring conditions (``None``: infinite)."""
    total = 1
    for hp in space:
        count = hp.cardinality()
        if count is None:
            return None
        total *= count
    return total
