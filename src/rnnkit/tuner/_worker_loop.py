"""The search loop shared by every tuner: allocate, run, record, repeat.

Every worker (the calling process, a ``workers=N`` child, a process on another
machine) runs the same loop against the same Optuna study:

1. under the allocation lock: fail trials whose worker died (heartbeat older than
   ``grace_period``, or a dead process on this host) and queue their retries; take a
   queued retry, or ask the oracle for a new configuration (building the model to
   learn its active hyperparameters and refusing duplicates); record it;
2. outside the lock: train it, with a heartbeat thread, reporting each epoch;
3. under the lock: store the outcome and, for a retryable failure, queue a retry.

``max_trials`` counts logical trials (a retry is not a new trial); a finished
search run again starts nothing (T4).

One job, the worker loop; allocating, running and recording a trial share the loop's
state and its crash handling.
"""

from __future__ import annotations

import gc
import logging
import random
import re
import reprlib
import time
import traceback as tb
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any
from typing import NoReturn

from rnnkit.errors import StorageError
from rnnkit.tuner import _storage
from rnnkit.tuner._optuna import AttemptState
from rnnkit.tuner._optuna import is_taken_over
from rnnkit.tuner._optuna import params_for
from rnnkit.tuner._storage import describe_holder
from rnnkit.tuner._storage import holder_is_dead
from rnnkit.tuner._view import SearchView
from rnnkit.tuner._view import build_view
from rnnkit.tuner._view import consecutive_failures
from rnnkit.tuner._view import iter_grid
from rnnkit.tuner._view import values_key
from rnnkit.tuner.errors import ConsecutiveFailuresError
from rnnkit.tuner.errors import FailedTrialError
from rnnkit.tuner.errors import FatalError
from rnnkit.tuner.folds import FoldResults
from rnnkit.tuner.folds import fold_scores
from rnnkit.tuner.hyperparameters import HyperParameters
from rnnkit.tuner.hyperparameters import with_engine
from rnnkit.tuner.oracles import MAX_COLLISIONS
from rnnkit.tuner.oracles import EngineKind
from rnnkit.tuner.oracles import Proposal
from rnnkit.tuner.oracles import ProposalKind
from rnnkit.tuner.oracles import random_engine
from rnnkit.tuner.trial import Trial
from rnnkit.utils.random import seed_trial

if TYPE_CHECKING:
    from rnnkit.tuner._hp_types import HyperParameter

logger = logging.getLogger("rnnkit.tuner")

_IDLE = "IDLE"
_TRACEBACK_LIMIT = 20_000

TRIAL_ID_PATTERN = re.compile(r"[0-9A-Za-z_-]{1,64}")
"""What a trial id read back from a study may look like (the tuner writes zero-padded
numbers); anything else could name a folder outside the project when joined to it."""

_COUNTERS = ("attempt", "crashes", "errors")


def check_trial_id(trial_id: Any, where: str) -> str:
    """Return ``trial_id`` if it is a safe trial id, else raise :class:`StorageError`.

    Args:
        trial_id: A trial id read back from a study (or a Hyperband parent id).
        where: What it was read from, for the message (the study, the trial).

    Raises:
        StorageError: ``trial_id`` is not 1-64 letters, digits, ``_`` or ``-``.

    Example:
        >>> check_trial_id("0007", "study 'demo'")
        '0007'
        >>> check_trial_id("../../x", "study 'demo'")
        Traceback (most recent call last):
        ...
        rnnkit.errors.StorageError: study 'demo' holds the trial id '../../x', ...
    """
    if isinstance(trial_id, str) and TRIAL_ID_PATTERN.fullmatch(trial_id):
        return trial_id
    raise StorageError(
        f"{where} holds the trial id {reprlib.repr(trial_id)}, which is not 1-64 letters, "
        "digits, '_' or '-'; the study was not written by this tuner or was edited. Delete "
        "that trial from the study, or start a new project (overwrite=True)."
    )


def _is_outside(name: str, value: Any, space: dict[str, HyperParameter]) -> bool:
    """Whether ``value`` is not a value of the hyperparameter ``name`` of ``space``."""
    contains = getattr(space.get(name), "contains", None)
    return contains is not None and not contains(value)


def _outside_space(values: dict[str, Any], space: dict[str, HyperParameter]) -> list[str]:
    """``name=value`` for each of ``values`` that is not a value of its hyperparameter."""
    return [f"{k}={v!r}" for k, v in values.items() if _is_outside(k, v, space)]


def check_attempt(attempt: Any, where: str) -> None:
    """Check the rnnkit attributes of one stored attempt; raise :class:`StorageError`.

    ``where`` names the study. Attempts without a trial id (enqueued by hand) pass.
    """
    trial_id = attempt.attr("trial_id")
    if trial_id is None:
        return
    here = f"{where}, Optuna trial {attempt.number},"
    check_trial_id(trial_id, here)
    for key in ("values", "control", "holder"):
        value = attempt.attr(key)
        if value is not None and not isinstance(value, dict):
            _bad_attr(here, key, value, "a JSON object")
    parent = (attempt.attr("control") or {}).get("parent")
    if parent is not None:
        check_trial_id(parent, f"{here} as its Hyperband parent")
    for key in _COUNTERS:
        value = attempt.attr(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            _bad_attr(here, key, value, "a non-negative integer")


def _bad_attr(where: str, key: str, value: Any, expected: str) -> NoReturn:
    raise StorageError(
        f"{where} holds {key}={reprlib.repr(value)}, expected {expected}; the study was not "
        "written by this tuner or was edited. Delete that trial from the study, or start a "
        "new project (overwrite=True)."
    )


def _budget(control: dict[str, Any]) -> tuple[Any, Any]:
    """A trial's epoch budget (Hyperband sets it; other oracles leave it unset)."""
    return control.get("epochs"), control.get("initial_epoch")


@dataclass
class _Attrs:
    """Stored attributes not yet wrapped in an attempt, for :func:`check_attempt`."""

    number: int
    attrs: dict[str, Any]

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)


class WorkerStopped(BaseException):
    """Raised in a worker process asked to stop (SIGTERM): its trial is requeued."""


class TrialPruned(Exception):
    """Raised by the tuner when the pruner stops a trial (documented control flow)."""

    def __init__(self, value: float | None = None) -> None:
        super().__init__("pruned")
        self.value = value


@dataclass
class Step:
    """A trial this worker is about to run."""

    asked: Any
    trial: Trial
    attrs: dict[str, Any]
    heartbeat: Any
    model: Any = None
    build_error: BaseException | None = None
    build_traceback: str | None = None


@dataclass
class Outcome:
    """How an attempt ended."""

    state: AttemptState
    value: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    best_step: int | None = None
    error: str | None = None
    traceback: str | None = None
    retry: bool = False
    crash: bool = False
    folds: list[dict[str, Any]] = field(default_factory=list)
    folds_planned: int = 0


class WorkerLoop:
    """The worker loop, mixed into :class:`~rnnkit.tuner.base_tuner.BaseTuner`."""

    oracle: Any
    hypermodel: Any
    _study: Any
    _lock: Any
    _step: Step | None
    _prebuilt: Any
    _id_width: int
    tuner_id: str
    heartbeat_interval: int
    grace_period: int
    poll_interval: float
    storage_spec: Any
    _wake: Any = None
    _gc_frozen: bool = False
    _deadline: float | None = None
    _updates: dict[int, dict[str, float]]

    if TYPE_CHECKING:  # defined by BaseTuner, which this loop is mixed into

        def _ensure_open(self) -> None: ...

        def _known_space(self, *, refresh: bool = False) -> dict[str, HyperParameter]: ...

        def _remember_space(self, hps: list[HyperParameter]) -> None: ...

        def _score(self, results: Any) -> tuple[float, int, dict[str, float]]: ...

        def _take_updates(self) -> Any: ...

        def run_trial(self, trial: Trial, *fit_args: Any, **fit_kwargs: Any) -> Any:
            """Train one trial; return a History, a dict, a float, or a list (executions)."""

        def _group_limit(
            self, first: Step, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
        ) -> int:
            """How many trials to allocate at once (1 unless trials are vectorised)."""

        def run_trials(
            self, steps: list[Step], fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
        ) -> list[Any]:
            """Train several trials; one result (or the exception it raised) per step."""

        def on_trial_begin(self, trial: Trial) -> None:
            """Called before a trial runs."""

        def on_trial_end(self, trial: Trial) -> None:
            """Called after a trial's outcome is stored."""

    def _work(
        self,
        fit_args: tuple[Any, ...],
        fit_kwargs: dict[str, Any],
        deadline: float | None,
        *,
        wake: Any = None,
    ) -> None:
        """The worker loop (this process, or a worker child).

        ``wake``: a shared counter (``multiprocessing.RawValue``) that the workers of
        one ``search(workers=N)`` bump after each trial, so idle ones look at once.
        """
        self._ensure_open()
        self._wake, self._gc_frozen = wake, False
        self._deadline = deadline  # the trials' callbacks stop training at it
        waited = 0.0
        try:
            while True:
                seen = self._wake_count()  # before allocating: no wake-up is missed
                step = self._allocate(deadline)
                if step is None:
                    return
                if isinstance(step, str):  # _IDLE, the only string _allocate returns
                    if waited == 0.0 or waited >= 30.0:
                        self._report_holders()
                        waited = 0.0
                    waited += self._idle_wait(seen, self.poll_interval)
                    continue
                waited = 0.0
                steps = [step]
                limit = self._group_limit(step, fit_args, fit_kwargs)
                while len(steps) < limit:
                    more = self._allocate(deadline, like=step.trial)
                    if not isinstance(more, Step):  # the search is over or must wait: run these
                        break
                    steps.append(more)
                self._run_steps(steps, fit_args, fit_kwargs)
                self._wake_others()
        finally:
            self._wake = None
            if self._gc_frozen:
                gc.unfreeze()
                self._gc_frozen = False

    def _wake_count(self) -> int:
        return -1 if self._wake is None else int(self._wake.value)

    def _wake_others(self) -> None:
        if self._wake is not None:
            self._wake.value += 1  # unlocked: a lost increment still changes the value

    def _idle_wait(self, seen: int, seconds: float) -> float:
        """Sleep up to ``seconds``, less if another worker finished a trial; the time slept."""
        wake = self._wake
        if wake is None:
            _storage.sleep(seconds)
            return seconds
        started = time.monotonic()
        while wake.value == seen:
            left = seconds - (time.monotonic() - started)
            if left <= 0:
                break
            time.sleep(min(0.02, left))
        return time.monotonic() - started

    def _collect_garbage(self, long_trial: bool) -> None:
        """Free the trial's reference cycles (tensors among them) after each trial.

        keras-tuner collects per execution too. A full collection scans every object
        (~0.15 s with torch imported), so after the first one the surviving objects
        are frozen for the rest of this loop (unless something else froze objects
        already, e.g. a worker process at start-up): later collections scan only
        what the trials create.
        """
        if not long_trial:  # very short trials: a young-generation pass is enough
            gc.collect(1)
            return
        gc.collect()
        if not self._gc_frozen and gc.get_freeze_count() == 0:
            gc.freeze()
            self._gc_frozen = True

    # ----------------------------------------------------------- allocation
    def _allocate(self, deadline: float | None, like: Trial | None = None) -> Step | str | None:
        """Start the next trial; ``_IDLE`` when none can start now; ``None`` when done.

        ``like``: the first trial of a group being allocated. Only a new trial with the
        same epoch budget joins it (others could not train with it, and starting them
        early would reorder a Hyperband schedule); queued retries wait for the next loop.
        """
        assert self._lock is not None and self._study is not None
        with self._lock.hold():
            view = build_view(self._take_over())
            self._raise_if_failing(view)
            if deadline is not None and time.time() >= deadline:
                if not getattr(self, "_said_deadline", False):
                    logger.info("max_time reached: no new trials are started.")
                    self._said_deadline = True
                return None
            full = self.oracle.max_trials is not None and view.count >= self.oracle.max_trials
            # retries first; trials queued by hand count against max_trials
            if view.waiting > view.by_hand or (view.by_hand and not full):
                return _IDLE if like is not None else self._start_queued(view)
            if full:
                return _IDLE if view.running else None
            space = list(self._known_space(refresh=True).values())
            proposal = self.oracle.populate(view, space)
            if proposal.kind is ProposalKind.STOPPED:
                return None
            if proposal.kind is ProposalKind.IDLE:
                return _IDLE
            if like is not None and _budget(proposal.control) != _budget(like.control):
                return _IDLE
            return self._start_new(proposal, view)

    def _study_label(self) -> str:
        return f"{getattr(self, 'project_name', '?')!r} ({self.storage_spec.redacted})"

    def _identity(self) -> dict[str, Any]:
        return {**_storage.process_identity(), "worker": self.tuner_id}

    def _begin(self, asked: Any) -> Any:
        assert self._study is not None
        study = self._study
        beat = _storage.Heartbeat(
            lambda: study.record_heartbeat(asked._trial_id),
            self.heartbeat_interval,
            self.storage_spec,
        )
        beat.__enter__()
        return beat

    def _start_queued(self, view: SearchView) -> Step | str | None:
        assert self._study is not None
        asked = self._study.ask()
        beat = self._begin(asked)
        attrs = self._study.asked_attrs(asked)
        if "trial_id" not in attrs:  # enqueued by hand with optuna's enqueue_trial
            trial_id = str(view.count).zfill(self._id_width)
            values = {**self._study.queued_params(asked), **asked.params}
            space = self._known_space()
            unknown = sorted(set(values) - set(space))
            if unknown and space:
                logger.warning(
                    "Trial %s was queued with %s, which the search has no hyperparameter "
                    "for (it has %s): check the name; the value is kept but nothing reads it.",
                    trial_id,
                    ", ".join(unknown),
                    ", ".join(sorted(space)),
                )
            outside = _outside_space(values, space)
            if outside:
                logger.warning(
                    "Trial %s was queued with %s, outside the search space; it runs with "
                    "these values as given.",
                    trial_id,
                    ", ".join(outside),
                )
            attrs = {
                "trial_id": trial_id,
                "attempt": 1,
                "values": values,
                "control": {},
                "crashes": 0,
                "errors": 0,
            }
        check_attempt(_Attrs(asked.number, attrs), f"Study {self._study_label()}")
        attrs["holder"] = self._identity()
        self._study.set_attrs(asked._trial_id, attrs)
        trial = Trial(
            attrs["trial_id"], values=dict(attrs["values"]), control=dict(attrs["control"])
        )
        trial.numbers = [asked.number]
        return Step(asked, trial, attrs, beat)

    def _propose(
        self, engine: Any, preset: dict[str, Any], trial_id: str
    ) -> tuple[HyperParameters, Any, Any, str | None]:
        """Values (and the model built for them, seeded for ``trial_id``) for one proposal."""
        hp = with_engine(engine, values=preset, template=self.oracle.hyperparameters)
        if self.hypermodel is None:  # custom run_trial: draw over the known space
            for h in self._known_space().values():
                hp._register(h)
            return hp, None, None, None
        try:
            seed_trial(self.oracle.seed, trial_id, 0, "build")
            model = self.hypermodel.build(hp)
        except Exception as exc:  # a failing build is a failing trial (FatalError included)
            return hp, None, exc, tb.format_exc()[-_TRACEBACK_LIMIT:]
        # hyperparameters seen before only in HyperModel.fit: draw them now too
        for h in self._known_space().values():
            if h.name not in hp.values:
                hp._register(h)
        return hp, model, None, None

    def _start_new(self, proposal: Proposal, view: SearchView) -> Step | str | None:
        assert self._study is not None
        index = view.count
        asked: Any = None
        beat: Any = None
        engine_kind, preset = proposal.engine, dict(proposal.values)
        redraw = 0
        while True:
            if engine_kind is EngineKind.SAMPLER:
                asked = self._study.ask()
                beat = self._begin(asked)
                engine = (lambda a: lambda h: self._study.suggest(a, h))(asked)
            elif engine_kind is EngineKind.RANDOM:
                engine = random_engine(self.oracle.seed, index, redraw)
            else:
                engine = None
            hp, model, error, trace = self._propose(
                engine, preset, str(index).zfill(self._id_width)
            )
            if not proposal.dedup or values_key(hp.values) not in view.tried:
                break
            del model
            if asked is not None:  # the sampler repeated itself: drop its proposal
                self._study.set_attrs(asked._trial_id, {"discarded": "duplicate configuration"})
                self._study.tell(asked._trial_id, asked.number, AttemptState.FAIL, None)
                beat.__exit__()
                asked = beat = None
            redraw += 1
            engine_kind, preset = EngineKind.RANDOM, dict(proposal.values)
            if redraw > MAX_COLLISIONS:
                combo = self._untried(view, hp, index, redraw)
                if combo is None or redraw > 3 * MAX_COLLISIONS:
                    logger.info("The search space is exhausted after %d trials.", view.count)
                    return _IDLE if view.running else None
                engine_kind, preset = EngineKind.PRESET, combo
        self._remember_space(hp.space)
        space = {h.name: h for h in hp.space}
        attrs: dict[str, Any] = {
            "trial_id": str(index).zfill(self._id_width),
            "attempt": 1,
            "values": dict(hp.values),
            "control": dict(proposal.control),
            "holder": self._identity(),
            "crashes": 0,
            "errors": 0,
        }
        if asked is None:
            params, dists = params_for(hp.values, space)
            asked = self._study.ask_with(params, dists, attrs)
            beat = self._begin(asked)
        else:
            self._study.write_params(
                asked._trial_id,
                {k: v for k, v in hp.values.items() if k not in asked.params},
                space,
            )
            self._study.set_attrs(asked._trial_id, attrs)
        trial = Trial(attrs["trial_id"], values=dict(hp.values), control=dict(proposal.control))
        trial.numbers = [asked.number]
        return Step(asked, trial, attrs, beat, model, error, trace)

    def _untried(
        self, view: SearchView, hp: HyperParameters, index: int, redraw: int
    ) -> dict[str, Any] | None:
        space = {**self._known_space(), **{h.name: h for h in hp.space}}
        candidates = []
        for combo in iter_grid(list(space.values())):
            if values_key(combo) not in view.tried:
                candidates.append(combo)
            if len(candidates) >= 100_000:
                break
        if not candidates:
            return None
        return random.Random(f"{self.oracle.seed}:{index}:{redraw}:untried").choice(candidates)

    # ------------------------------------------------------------- takeover
    def _take_over(self) -> list[Any]:
        """Fail trials whose worker is gone, queue their retries; return all attempts."""
        assert self._study is not None
        attempts = self._study.attempts()
        where = f"Study {self._study_label()}"
        for attempt in attempts:
            check_attempt(attempt, where)
        stale = set(self._study.fail_stale())
        attempts = self._study.attempts() if stale else attempts
        changed = False
        for attempt in attempts:
            if attempt.number in stale:
                reason = f"heartbeat lost for more than {self.grace_period} s"
                changed |= self._requeue_crashed(attempt, reason)
            elif (
                attempt.state is AttemptState.RUNNING
                and holder_is_dead(attempt.attr("holder"))
                and self._study.fail(attempt.trial_id)
            ):
                changed |= self._requeue_crashed(attempt, "its process is no longer running")
        return self._study.attempts() if changed else attempts

    def _requeue_crashed(self, attempt: Any, reason: str) -> bool:
        assert self._study is not None
        holder = describe_holder(attempt.attr("holder"))
        trial_id = attempt.attr("trial_id")
        if trial_id is None:
            return True
        crashes = int(attempt.attr("crashes", 0)) + 1
        if crashes > 1 + self.oracle.max_retries_per_trial:
            logger.warning(
                "Trial %s failed: worker %s died (%s); no retries left.", trial_id, holder, reason
            )
            return True
        logger.warning(
            "Trial %s (Optuna trial %d) was held by %s, %s: failed and queued to run again.",
            trial_id,
            attempt.number,
            holder,
            reason,
        )
        self._queue_retry(
            attempt,
            crashes=crashes,
            errors=int(attempt.attr("errors", 0)),
            note=f"worker {holder} died ({reason})",
        )
        return True

    def _queue_retry(self, attempt: Any, *, crashes: int, errors: int, note: str) -> None:
        assert self._study is not None
        attrs = {
            "trial_id": attempt.attr("trial_id"),
            "attempt": int(attempt.attr("attempt", 1)) + 1,
            "retry_of": attempt.number,
            "values": attempt.attr("values") or {},
            "control": attempt.attr("control") or {},
            "crashes": crashes,
            "errors": errors,
            "previous_error": note[:2000],
        }
        self._study.add_retry(attempt, attrs)

    def _report_holders(self) -> None:
        assert self._study is not None
        for group in build_view(self._study.attempts()).running:
            last = group.last
            if last.state is AttemptState.RUNNING:
                age = time.time() - (last.started or time.time())
                logger.info(
                    "Waiting for trial %s held by %s (running for %.0f s; taken over if its "
                    "heartbeat stops for %d s).",
                    group.trial.trial_id,
                    describe_holder(last.attr("holder")),
                    age,
                    self.grace_period,
                )

    def _raise_if_failing(self, view: SearchView) -> None:
        count, last = consecutive_failures(view, since=getattr(self, "_search_started", 0.0))
        limit = self.oracle.max_consecutive_failed_trials
        if count >= limit and last is not None:
            detail = last.traceback or last.message or ""
            raise ConsecutiveFailuresError(
                f"Number of consecutive failures exceeded the limit of {limit}.\n{detail}"
            )

    # -------------------------------------------------------------- running
    def _run_steps(
        self, steps: list[Step], fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
    ) -> None:
        """Run the allocated trials (one, or a group trained together) and record each."""
        started = time.time()
        hps = []
        for step in steps:
            hp = with_engine(None, values=step.trial.values, template=self.oracle.hyperparameters)
            step.trial._hp = hp
            hps.append(hp)
        outcomes: list[Outcome] = []
        interrupt: BaseException | None = None
        try:
            results = self._results(steps, fit_args, fit_kwargs)
            for step, hp, result in zip(steps, hps, results, strict=True):
                outcome, stop = self._outcome(step, result)
                interrupt = interrupt or stop
                outcome_attrs = {"duration_s": round(time.time() - started, 3)}
                if hp.values != step.trial.values:  # hyperparameters declared in HyperModel.fit
                    step.trial.values = dict(hp.values)
                    with self._lock.hold():
                        self._remember_space(hp.space)
                self._finalize(step, outcome, outcome_attrs)
                outcomes.append(outcome)
        finally:
            for step in steps:
                step.heartbeat.__exit__()
            self._step, self._prebuilt = None, None
            self._collect_garbage(time.time() - started > 2.0)
        for step, outcome in zip(steps, outcomes, strict=True):
            self.on_trial_end(step.trial)
            self._log_outcome(step, outcome, started)
        if interrupt is not None:
            raise interrupt
        assert self._study is not None
        if any(o.state is AttemptState.FAIL and not o.retry for o in outcomes):
            self._raise_if_failing(build_view(self._study.attempts()))

    def _results(
        self, steps: list[Step], fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
    ) -> list[Any]:
        """Each step's ``run_trial`` result, or the exception its trial raised."""
        results: list[Any] = [None] * len(steps)
        ready = []
        for index, step in enumerate(steps):
            try:
                if step.build_error is not None:
                    raise step.build_error
                self.on_trial_begin(step.trial)
                ready.append(index)
            except (Exception, KeyboardInterrupt, WorkerStopped) as exc:
                results[index] = exc
        if len(ready) == 1 or len(steps) == 1:
            for index in ready:
                step = steps[index]
                self._step, self._prebuilt = step, step.model
                step.model = None
                self._updates = {}  # what a custom run_trial reports with oracle.update_trial
                try:
                    results[index] = self.run_trial(step.trial, *fit_args, **dict(fit_kwargs))
                    if results[index] is None:  # keras-tuner's update_trial form
                        results[index] = self._take_updates()
                except (Exception, KeyboardInterrupt, WorkerStopped) as exc:
                    results[index] = exc
            return results
        if ready:
            try:
                group = self.run_trials([steps[i] for i in ready], fit_args, dict(fit_kwargs))
            except (KeyboardInterrupt, WorkerStopped) as exc:
                group = [exc] * len(ready)
            for index, result in zip(ready, group, strict=True):
                results[index] = result
        return results

    def _outcome(self, step: Step, result: Any) -> tuple[Outcome, BaseException | None]:
        """How a trial ended, and the exception that must stop this worker (if any)."""
        if not isinstance(result, BaseException):
            try:
                if isinstance(result, FoldResults):  # search(cv=...): rnnkit.tuner.folds
                    value, best_step, metrics, folds = fold_scores(result, self._score)
                else:
                    (value, best_step, metrics), folds = self._score(result), []
            except Exception as exc:
                result = exc
            else:
                outcome = Outcome(AttemptState.COMPLETE, value, metrics, best_step)
                if isinstance(result, FoldResults):
                    outcome.folds, outcome.folds_planned = folds, result.planned
                return outcome, None
        if isinstance(result, TrialPruned):
            return Outcome(AttemptState.PRUNED, result.value, error="pruned"), None
        if isinstance(result, FatalError):
            return self._failure(result, step, retry=False), result
        if isinstance(result, FailedTrialError):
            return self._failure(result, step, retry=False), None
        if isinstance(result, (KeyboardInterrupt, WorkerStopped)):
            return Outcome(AttemptState.FAIL, error="interrupted", retry=True, crash=True), result
        if not isinstance(result, Exception):
            raise result
        errors = int(step.attrs.get("errors", 0))
        return self._failure(result, step, retry=errors < self.oracle.max_retries_per_trial), None

    def _failure(self, exc: BaseException, step: Step, *, retry: bool) -> Outcome:
        trace = step.build_traceback if exc is step.build_error else None
        trace = trace or "".join(tb.format_exception(type(exc), exc, exc.__traceback__))
        message = f"{type(exc).__name__}: {exc}"
        return Outcome(
            AttemptState.FAIL,
            error=message[:2000],
            traceback=trace[-_TRACEBACK_LIMIT:],
            retry=retry,
        )

    def _finalize(self, step: Step, outcome: Outcome, extra: dict[str, Any]) -> None:
        assert self._study is not None and self._lock is not None
        result: dict[str, Any] = dict(extra)
        if outcome.metrics:
            result["metrics"] = outcome.metrics
        if outcome.best_step is not None:
            result["best_step"] = outcome.best_step
        if outcome.folds:
            result["folds"] = outcome.folds  # rnnkit.tuner.folds.stored_folds reads them
            result["folds_planned"] = outcome.folds_planned
        if outcome.state is AttemptState.PRUNED and outcome.value is not None:
            result["score"] = outcome.value
        if outcome.error:
            result["error"] = outcome.error
        if outcome.traceback:
            result["traceback"] = outcome.traceback
        attrs: dict[str, Any] = {"result": result}
        if step.trial.values != step.attrs.get("values"):
            attrs["values"] = step.trial.values
        asked = step.asked
        # a trial queued by hand holds the params it was queued with: record the rest
        # (defaults), so that importances and model-based samplers see the whole trial
        unrecorded = {k: v for k, v in step.trial.values.items() if k not in asked.params}
        if unrecorded:
            space = self._known_space()
            unrecorded = {k: v for k, v in unrecorded.items() if not _is_outside(k, v, space)}
        with self._lock.hold():
            try:
                if unrecorded:
                    self._study.write_params(asked._trial_id, unrecorded, space)
                self._study.set_attrs(asked._trial_id, attrs)
                value = outcome.value if outcome.state is AttemptState.COMPLETE else None
                told = self._study.tell(asked._trial_id, asked.number, outcome.state, value)
            except Exception as exc:  # taken over while we were finishing
                if not is_taken_over(exc):
                    raise
                told = False
            if not told:
                logger.warning(
                    "Trial %s was taken over by another worker after its heartbeat stopped; "
                    "this result is discarded.",
                    step.trial.trial_id,
                )
                return
            if outcome.retry:
                attempt = next(a for a in self._study.attempts() if a.number == asked.number)
                crashes = int(step.attrs.get("crashes", 0)) + (1 if outcome.crash else 0)
                errors = int(step.attrs.get("errors", 0)) + (0 if outcome.crash else 1)
                self._queue_retry(attempt, crashes=crashes, errors=errors, note=outcome.error or "")

    def _log_outcome(self, step: Step, outcome: Outcome, started: float) -> None:
        elapsed = time.strftime("%Hh %Mm %Ss", time.gmtime(time.time() - started))
        if outcome.state is AttemptState.COMPLETE:
            logger.info(
                "Trial %s Complete [%s]: %s = %s",
                step.trial.trial_id,
                elapsed,
                self.oracle.objective.name,
                outcome.value,
            )
        else:
            logger.info(
                "Trial %s %s [%s]: %s",
                step.trial.trial_id,
                outcome.state.value,
                elapsed,
                outcome.error,
            )
