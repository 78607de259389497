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
"""

from __future__ import annotations

import gc
import logging
import math
import random
import shutil
import time
import traceback as tb
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnkit.errors import RnnkitTypeError, RnnkitValueError
from rnnkit.tuner import _storage
from rnnkit.tuner._hp_types import HyperParameter
from rnnkit.tuner._optuna import (
    AttemptState,
    StudyHandle,
    delete_study,
    is_taken_over,
    make_pruner,
    params_for,
)
from rnnkit.tuner._results import SPACE_ATTR, ResultsMixin
from rnnkit.tuner._storage import StorageKind, describe_holder, holder_is_dead
from rnnkit.tuner._view import SearchView, build_view, consecutive_failures, iter_grid, values_key
from rnnkit.tuner.errors import ConsecutiveFailuresError, FailedTrialError, FatalError
from rnnkit.tuner.hypermodel import get_hypermodel
from rnnkit.tuner.hyperparameters import HyperParameters, with_engine
from rnnkit.tuner.objective import is_finite
from rnnkit.tuner.oracles import (
    MAX_COLLISIONS,
    EngineKind,
    Oracle,
    Proposal,
    ProposalKind,
    random_engine,
)
from rnnkit.tuner.trial import Trial

logger = logging.getLogger("rnnkit.tuner")
META_ATTR = "rnnkit"
_IDLE = "IDLE"
_TRACEBACK_LIMIT = 20_000


class WorkerStopped(BaseException):  # noqa: N818 - control flow, like KeyboardInterrupt
    """Raised in a worker process asked to stop (SIGTERM): its trial is requeued."""


class TrialPruned(Exception):  # noqa: N818 - Optuna's name
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


class BaseTuner(ResultsMixin):
    """Runs an oracle's trials against an Optuna study (keras-tuner's ``BaseTuner``).

    Args:
        oracle: An :class:`~rnnkit.tuner.oracles.Oracle`.
        hypermodel: ``build(hp)`` function or :class:`~rnnkit.tuner.HyperModel`. May
            be `None` when ``run_trial`` is overridden. Defaults to `None`.
        directory: Parent folder of the project. Defaults to `None` (``"."``).
        project_name: Project folder and Optuna study name. Defaults to `None`
            (``"untitled_project"``).
        overwrite: Delete the project (folder and study) first. Defaults to `False`
            (resume it).
        storage: `None` for SQLite in the project folder, or a database URL
            (``"postgresql://user:password@host:5432/db"``) shared by workers on
            several machines. Defaults to `None`.
        pruner: `None`, ``"median"``, ``"asha"``, ``"hyperband"`` or an Optuna pruner:
            stops unpromising trials early from their per-epoch objective.
            Defaults to `None`.
        tuner_id: Name of this worker in the trial records. Defaults to `None`.
        heartbeat_interval: Seconds between heartbeats of a running trial.
            Defaults to `10`.
        grace_period: Seconds without heartbeat after which a trial is failed and
            requeued (a dead process on this host is taken over at once). Defaults
            to `60`.
        storage_retry_seconds: How long transient storage errors are retried
            before a ``StorageError``. Defaults to `30`.
    """

    def __init__(
        self,
        oracle: Oracle,
        hypermodel: Any = None,
        directory: str | Path | None = None,
        project_name: str | None = None,
        overwrite: bool = False,
        *,
        storage: str | None = None,
        pruner: Any = None,
        tuner_id: str | None = None,
        heartbeat_interval: int = 10,
        grace_period: int = 60,
        storage_retry_seconds: float = 30.0,
    ) -> None:
        if not isinstance(oracle, Oracle):
            raise RnnkitTypeError(
                f"{type(self).__name__}: `oracle` must be a kt.oracles.*Oracle. "
                f"Received: {type(oracle).__name__}."
            )
        self.oracle = oracle
        oracle._tuner = self
        self.hypermodel = None if hypermodel is None else get_hypermodel(hypermodel)
        if self.hypermodel is None and type(self).run_trial is BaseTuner.run_trial:
            raise RnnkitValueError(
                f"{type(self).__name__}: pass a `hypermodel` (a build(hp) function) or "
                "override run_trial()."
            )
        self.directory = Path(directory if directory is not None else ".")
        self.project_name = project_name or "untitled_project"
        if "/" in self.project_name or self.project_name in (".", ".."):
            raise RnnkitValueError(
                f"`project_name` must be a plain folder name. Received: {self.project_name!r}."
            )
        self.project_dir = self.directory / self.project_name
        self.storage_spec = _storage.resolve_storage(storage, self.project_dir)
        make_pruner(pruner)  # validate now
        self.pruner = pruner
        self.tuner_id = tuner_id or "tuner0"
        for name, value in (("heartbeat_interval", heartbeat_interval), ("grace_period", grace_period)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise RnnkitValueError(
                    f"`{name}` must be an integer number of seconds >= 1. Received: {value!r}."
                )
        if grace_period <= heartbeat_interval:
            raise RnnkitValueError(
                "`grace_period` must exceed `heartbeat_interval`. "
                f"Received: grace_period={grace_period}, heartbeat_interval={heartbeat_interval}."
            )
        self.heartbeat_interval, self.grace_period = heartbeat_interval, grace_period
        self.storage_retry_seconds = float(storage_retry_seconds)
        self.poll_interval = min(1.0, heartbeat_interval / 2)
        self._study: StudyHandle | None = None
        self._lock: Any = None
        self._space_checked = False
        self._prebuilt: Any = None
        self._step: Step | None = None
        if overwrite:
            self._delete_project()
        self._ensure_open()

    # ----------------------------------------------------------- the study
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_study=None, _lock=None, _prebuilt=None, _step=None)
        return state

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(project_dir={str(self.project_dir)!r}, "
            f"storage={self.storage_spec.redacted!r}, objective={self.oracle.objective!r})"
        )

    @property
    def study(self) -> Any:
        """The Optuna study (open it with optuna-dashboard or ``optuna.load_study``)."""
        self._ensure_open()
        assert self._study is not None
        return self._study.study

    def _delete_project(self) -> None:
        spec = self.storage_spec
        in_project = spec.kind is StorageKind.SQLITE and spec.path is not None and (
            self.project_dir.resolve() in spec.path.parents
        )
        if not in_project:
            if spec.kind is StorageKind.SQLITE and spec.path is not None:
                _storage.check_sqlite_file(spec.path)
            if spec.kind is not StorageKind.SQLITE or (spec.path and spec.path.exists()):
                delete_study(spec, self.project_name)
        if self.project_dir.exists():
            shutil.rmtree(self.project_dir)

    def _ensure_open(self) -> None:
        if self._study is not None:
            return
        spec = self.storage_spec
        self.project_dir.mkdir(parents=True, exist_ok=True)
        if spec.kind is StorageKind.SQLITE:
            assert spec.path is not None
            _storage.check_sqlite_file(spec.path)
            _storage.prepare_sqlite_file(spec.path)
        self._study = StudyHandle(
            spec,
            self.project_name,
            self.oracle.objective.direction,
            pruner=self.pruner,
            heartbeat_interval=self.heartbeat_interval,
            grace_period=self.grace_period,
            retry_seconds=self.storage_retry_seconds,
        )
        self._lock = _storage.make_lock(spec, self.project_name, self.project_dir)
        with self._lock.hold():
            self._check_metadata()
        from rnnkit.tuner._optuna import make_sampler

        self._study.study.sampler = make_sampler(
            self.oracle.sampler_kind, self.oracle.seed, self.oracle.n_startup_trials()
        )

    def _check_metadata(self) -> None:
        assert self._study is not None
        mine = {
            "tuner": type(self).__name__,
            "objective": self.oracle.objective.get_config(),
            "settings": self.oracle.settings(),
        }
        stored = self._study.study_attrs().get(META_ATTR)
        if stored is None:
            if self.oracle.seed is None:
                self.oracle.seed = random.randint(1, 10_000)
            width = len(str(self.oracle.max_trials)) if self.oracle.max_trials else 4
            meta = {**mine, "seed": self.oracle.seed, "id_width": width, "format": 1}
            self._study.set_study_attr(META_ATTR, meta)
            self._id_width = width
            return
        for field_name, now in mine.items():
            if stored.get(field_name) != now:
                self._mismatch(field_name, stored.get(field_name), now)
        if self.oracle.seed is None:
            self.oracle.seed = stored["seed"]
        elif self.oracle.seed != stored["seed"]:
            self._mismatch("seed", stored["seed"], self.oracle.seed)
        self._id_width = int(stored.get("id_width", 4))

    def _mismatch(self, field_name: str, stored: Any, now: Any) -> None:
        raise RnnkitValueError(
            f"Project {self.project_name!r} ({self.storage_spec.redacted}) was created with a "
            f"different {field_name}: stored {stored!r}, this tuner has {now!r}. Resume it with "
            "the same settings, use another project_name, or pass overwrite=True to delete the "
            "old results."
        )

    # ------------------------------------------------------- the space
    def _known_space(self, *, refresh: bool = False) -> dict[str, HyperParameter]:
        space = dict(self.oracle.hyperparameters._space)
        space.update(self._stored_space(refresh=refresh))
        return space

    def _remember_space(self, hps: list[HyperParameter]) -> None:
        """Record newly seen hyperparameters in the study (call under the lock)."""
        assert self._study is not None
        known = self._stored_space(refresh=False)
        if all(hp.name in known for hp in hps):
            return
        known = self._stored_space(refresh=True)
        new = [hp for hp in hps if hp.name not in known]
        if new:
            configs = [
                {"class_name": type(hp).__name__, "config": hp.get_config()}
                for hp in [*known.values(), *new]
            ]
            self._study.set_study_attr(SPACE_ATTR, configs)
            self._space_cache = {**known, **{hp.name: hp for hp in new}}

    def _ensure_space(self) -> None:
        """Dry-run ``build`` once (defaults) and compare with the stored space (T5)."""
        if self._space_checked or self.hypermodel is None:
            return
        hp = with_engine(None, template=self.oracle.hyperparameters)
        self.hypermodel.declare_hyperparameters(hp)
        try:
            self.hypermodel.build(hp)
        except FatalError:
            raise
        except Exception as exc:  # advisory: a build that fails fails its own trial later
            logger.debug("dry-run build(hp) with default values failed: %s", exc)
        assert self._lock is not None
        with self._lock.hold():
            stored = self._stored_space(refresh=True)
            seen = {h.name for h in hp.space}
            for h in hp.space:
                old = stored.get(h.name)
                if old is not None and old.get_config() != h.get_config():
                    self._mismatch(
                        f"search space (hyperparameter {h.name!r})", old.get_config(), h.get_config()
                    )
                if old is None and stored:
                    self._mismatch("search space (new hyperparameter)", None, h.name)
            gone = [n for n, old in stored.items() if not old.conditions and n not in seen]
            if gone and not self.oracle.hyperparameters._space:
                self._mismatch("search space (hyperparameters no longer declared)", gone, None)
            self._remember_space(hp.space)
        self._space_checked = True

    # -------------------------------------------------------------- search
    def search(self, *fit_args: Any, workers: int = 1, max_time: float | None = None, **fit_kwargs: Any) -> None:
        """Run trials until ``max_trials``, the oracle's end, or ``max_time``.

        Args:
            *fit_args: Passed to ``fit`` (``x``, ``y``).
            workers: Parallel worker processes on this machine; each gets
                ``max(1, cores // workers)`` torch threads. Defaults to `1` (this process).
            max_time: Seconds after which no new trial starts. Defaults to `None`.
            **fit_kwargs: Passed to ``fit`` (``epochs``, ``validation_split``,
                ``callbacks``, ...).
        """
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise RnnkitValueError(
                f"search(): `workers` must be an integer >= 1. Received: workers={workers!r}."
            )
        if max_time is not None and (not is_finite(max_time) or max_time <= 0):
            raise RnnkitValueError(
                f"search(): `max_time` must be a number of seconds > 0. Received: {max_time!r}."
            )
        self._validate_data(fit_args, fit_kwargs)
        self._ensure_open()
        self._ensure_space()
        deadline = None if max_time is None else time.time() + float(max_time)
        self.on_search_begin()
        if workers == 1:
            self._work(fit_args, fit_kwargs, deadline)
        else:
            from rnnkit.tuner._workers import run_parallel

            run_parallel(self, fit_args, fit_kwargs, workers, deadline)
            self._work(fit_args, fit_kwargs, deadline)  # finish what dead workers left
        self.on_search_end()

    def _validate_data(self, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]) -> None:
        """Reject NaN/inf or mismatched arrays before any trial starts."""
        from rnnkit._validation import check_array
        from rnnkit.errors import DataError

        arrays = list(fit_args[:2])
        names = ["x", "y"][: len(arrays)]
        for name in ("x", "y"):
            if name in fit_kwargs:
                arrays.append(fit_kwargs[name])
                names.append(name)
        checked = []
        for name, value in zip(names, arrays):
            if hasattr(value, "shape") or isinstance(value, list):
                checked.append(check_array(name, value, caller="search()"))
        if len(checked) == 2 and len(checked[0]) != len(checked[1]):
            raise DataError(
                f"search(): x and y have different numbers of samples: {len(checked[0])} and "
                f"{len(checked[1])}."
            )

    def _work(self, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any], deadline: float | None) -> None:
        """The worker loop (this process, or a worker child)."""
        self._ensure_open()
        waited = 0.0
        while True:
            step = self._allocate(deadline)
            if step is None:
                return
            if step == _IDLE:
                if waited == 0.0 or waited >= 30.0:
                    self._report_holders()
                    waited = 0.0
                _storage.sleep(self.poll_interval)
                waited += self.poll_interval
                continue
            waited = 0.0
            self._run_step(step, fit_args, fit_kwargs)

    # ----------------------------------------------------------- allocation
    def _allocate(self, deadline: float | None) -> Step | str | None:
        assert self._lock is not None and self._study is not None
        with self._lock.hold():
            view = build_view(self._take_over())
            self._raise_if_failing(view)
            if deadline is not None and time.time() >= deadline:
                logger.info("max_time reached: no new trials are started.")
                return None
            if view.waiting:
                return self._start_queued(view)
            if self.oracle.max_trials is not None and view.count >= self.oracle.max_trials:
                return _IDLE if view.running else None
            space = list(self._known_space(refresh=True).values())
            proposal = self.oracle.populate(view, space)
            if proposal.kind is ProposalKind.STOPPED:
                return None
            if proposal.kind is ProposalKind.IDLE:
                return _IDLE
            return self._start_new(proposal, view)

    def _identity(self) -> dict[str, Any]:
        return {**_storage.process_identity(), "worker": self.tuner_id}

    def _begin(self, asked: Any) -> Any:
        assert self._study is not None
        study = self._study
        study.record_heartbeat(asked._trial_id)
        beat = _storage.Heartbeat(
            lambda: study.record_heartbeat(asked._trial_id), self.heartbeat_interval, self.storage_spec
        )
        beat.__enter__()
        return beat

    def _start_queued(self, view: SearchView) -> Step | str | None:
        assert self._study is not None
        asked = self._study.ask()
        beat = self._begin(asked)
        attrs = self._study.asked_attrs(asked)
        if "trial_id" not in attrs:  # enqueued by hand with optuna's enqueue_trial
            attrs = {
                "trial_id": str(view.count).zfill(self._id_width),
                "attempt": 1,
                "values": dict(asked.params),
                "control": {},
                "crashes": 0,
                "errors": 0,
            }
        attrs["holder"] = self._identity()
        self._study.set_attrs(asked._trial_id, attrs)
        trial = Trial(attrs["trial_id"], values=dict(attrs["values"]), control=dict(attrs["control"]))
        trial.numbers = [asked.number]
        return Step(asked, trial, attrs, beat)

    def _propose(self, engine: Any, preset: dict[str, Any]) -> tuple[HyperParameters, Any, Any, str | None]:
        """Values (and the model built for them) for one proposal."""
        hp = with_engine(engine, values=preset, template=self.oracle.hyperparameters)
        if self.hypermodel is None:  # custom run_trial: draw over the known space
            for h in self._known_space().values():
                hp._register(h)
            return hp, None, None, None
        try:
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
        asked = beat = None
        engine_kind, preset = proposal.engine, dict(proposal.values)
        redraw = 0
        while True:
            if engine_kind is EngineKind.SAMPLER:
                asked = self._study.ask()
                beat = self._begin(asked)
                engine = (lambda a: lambda h: self._study.suggest(a, h))(asked)  # type: ignore[union-attr]
            elif engine_kind is EngineKind.RANDOM:
                engine = random_engine(self.oracle.seed, index, redraw)
            else:
                engine = None
            hp, model, error, trace = self._propose(engine, preset)
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
                combo = self._untried(view, hp, index)
                if combo is None:
                    logger.info("The search space is exhausted after %d trials.", view.count)
                    return _IDLE if view.running else None
                engine_kind, preset = EngineKind.PRESET, combo
        self._remember_space(hp.space)
        space = {h.name: h for h in hp.space}
        attrs = {
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
                asked._trial_id, {k: v for k, v in hp.values.items() if k not in asked.params}, space
            )
            self._study.set_attrs(asked._trial_id, attrs)
        trial = Trial(attrs["trial_id"], values=dict(hp.values), control=dict(proposal.control))
        trial.numbers = [asked.number]
        return Step(asked, trial, attrs, beat, model, error, trace)

    def _untried(self, view: SearchView, hp: HyperParameters, index: int) -> dict[str, Any] | None:
        space = {**self._known_space(), **{h.name: h for h in hp.space}}
        candidates = []
        for combo in iter_grid(list(space.values())):
            if values_key(combo) not in view.tried:
                candidates.append(combo)
            if len(candidates) >= 100_000:
                break
        if not candidates:
            return None
        return random.Random(f"{self.oracle.seed}:{index}:exhaustive").choice(candidates)

    # ------------------------------------------------------------- takeover
    def _take_over(self) -> list[Any]:
        """Fail trials whose worker is gone, queue their retries; return all attempts."""
        assert self._study is not None
        stale = set(self._study.fail_stale())
        attempts = self._study.attempts()
        changed = False
        for attempt in attempts:
            if attempt.number in stale:
                reason = f"heartbeat lost for more than {self.grace_period} s"
                changed |= self._requeue_crashed(attempt, reason)
            elif attempt.state is AttemptState.RUNNING and holder_is_dead(attempt.attr("holder")):
                if self._study.fail(attempt.trial_id):
                    changed |= self._requeue_crashed(attempt, "its process is no longer running")
        return self._study.attempts() if changed or stale else attempts

    def _requeue_crashed(self, attempt: Any, reason: str) -> bool:
        assert self._study is not None
        holder = describe_holder(attempt.attr("holder"))
        trial_id = attempt.attr("trial_id")
        if trial_id is None:
            return True
        crashes = int(attempt.attr("crashes", 0)) + 1
        if crashes > 1 + self.oracle.max_retries_per_trial:
            logger.warning("Trial %s failed: worker %s died (%s); no retries left.", trial_id, holder, reason)
            return True
        logger.warning(
            "Trial %s (Optuna trial %d) was held by %s, %s: failed and queued to run again.",
            trial_id, attempt.number, holder, reason,
        )
        self._queue_retry(attempt, crashes=crashes, errors=int(attempt.attr("errors", 0)),
                          note=f"worker {holder} died ({reason})")
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
                    group.trial.trial_id, describe_holder(last.attr("holder")), age, self.grace_period,
                )

    def _raise_if_failing(self, view: SearchView) -> None:
        count, last = consecutive_failures(view)
        limit = self.oracle.max_consecutive_failed_trials
        if count >= limit and last is not None:
            detail = last.traceback or last.message or ""
            raise ConsecutiveFailuresError(
                f"Number of consecutive failures exceeded the limit of {limit}.\n{detail}"
            )

    # -------------------------------------------------------------- running
    def _run_step(self, step: Step, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]) -> None:
        started = time.time()
        hp = with_engine(None, values=step.trial.values, template=self.oracle.hyperparameters)
        step.trial._hp = hp
        self._step, self._prebuilt = step, step.model
        step.model = None
        outcome: Outcome
        interrupt: BaseException | None = None
        try:
            try:
                if step.build_error is not None:
                    raise step.build_error
                self.on_trial_begin(step.trial)
                results = self.run_trial(step.trial, *fit_args, **dict(fit_kwargs))
                value, best_step, metrics = self._score(results)
                outcome = Outcome(AttemptState.COMPLETE, value, metrics, best_step)
            except TrialPruned as pruned:
                outcome = Outcome(AttemptState.PRUNED, pruned.value, error="pruned")
            except FatalError as exc:
                outcome = self._failure(exc, step, retry=False)
                interrupt = exc
            except FailedTrialError as exc:
                outcome = self._failure(exc, step, retry=False)
            except (KeyboardInterrupt, WorkerStopped) as exc:
                outcome = Outcome(AttemptState.FAIL, error="interrupted", retry=True, crash=True)
                interrupt = exc
            except Exception as exc:
                errors = int(step.attrs.get("errors", 0))
                outcome = self._failure(exc, step, retry=errors < self.oracle.max_retries_per_trial)
            outcome_attrs = {"duration_s": round(time.time() - started, 3)}
            if hp.values != step.trial.values:  # hyperparameters declared in HyperModel.fit
                step.trial.values = dict(hp.values)
                with self._lock.hold():
                    self._remember_space(hp.space)
            self._finalize(step, outcome, outcome_attrs)
        finally:
            step.heartbeat.__exit__()
            self._step, self._prebuilt = None, None
            # a full collection frees cycles holding tensors (keras-tuner does it per
            # execution) but costs ~0.1-0.3 s: skip it after very short trials
            if time.time() - started > 2.0:
                gc.collect()
            else:
                gc.collect(1)
        self.on_trial_end(step.trial)
        self._log_outcome(step, outcome, started)
        if interrupt is not None:
            raise interrupt
        assert self._study is not None
        if outcome.state is AttemptState.FAIL and not outcome.retry:
            self._raise_if_failing(build_view(self._study.attempts()))

    def _failure(self, exc: BaseException, step: Step, *, retry: bool) -> Outcome:
        trace = step.build_traceback if exc is step.build_error else None
        trace = trace or "".join(tb.format_exception(type(exc), exc, exc.__traceback__))
        message = f"{type(exc).__name__}: {exc}"
        return Outcome(AttemptState.FAIL, error=message[:2000], traceback=trace[-_TRACEBACK_LIMIT:], retry=retry)

    def _finalize(self, step: Step, outcome: Outcome, extra: dict[str, Any]) -> None:
        assert self._study is not None and self._lock is not None
        result: dict[str, Any] = dict(extra)
        if outcome.metrics:
            result["metrics"] = outcome.metrics
        if outcome.best_step is not None:
            result["best_step"] = outcome.best_step
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
        with self._lock.hold():
            try:
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
                    "this result is discarded.", step.trial.trial_id,
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
            logger.info("Trial %s Complete [%s]: %s = %s", step.trial.trial_id, elapsed,
                        self.oracle.objective.name, outcome.value)
        else:
            logger.info("Trial %s %s [%s]: %s", step.trial.trial_id, outcome.state.value, elapsed,
                        outcome.error)

    # --------------------------------------------------------- scoring
    def _score(self, results: Any) -> tuple[float, int, dict[str, float]]:
        """Normalise ``run_trial``'s results (one per execution) into score, step, metrics."""
        from rnnkit.tuner.tuners import metrics_at_best_epoch

        if not isinstance(results, list):
            results = [results]
        per_execution = [metrics_at_best_epoch(r, self.oracle.objective) for r in results]
        values = [v for v, _, _ in per_execution]
        value = float(sum(values) / len(values))
        best_step = int(round(sum(s for _, s, _ in per_execution) / len(per_execution)))
        keys = set.intersection(*(set(m) for _, _, m in per_execution))
        metrics = {k: float(sum(m[k] for _, _, m in per_execution) / len(per_execution)) for k in sorted(keys)}
        if not math.isfinite(value):
            raise FailedTrialError(
                f"non-finite objective {self.oracle.objective.name} = {value}: the trial failed"
            )
        return value, best_step, metrics

    # ------------------------------------------------------------ hooks
    def run_trial(self, trial: Trial, *fit_args: Any, **fit_kwargs: Any) -> Any:
        """Train one trial; return a History, a dict, a float, or a list (executions)."""
        raise NotImplementedError

    def report(self, value: float, step: int) -> bool:
        """Report an intermediate objective value; ``True`` if the pruner says stop."""
        if self._step is None or self.pruner is None or not is_finite(value):
            return False
        assert self._study is not None
        return self._study.report(self._step.asked, value, step)

    def on_search_begin(self) -> None:
        """Called at the start of ``search``."""

    def on_search_end(self) -> None:
        """Called at the end of ``search``."""

    def on_trial_begin(self, trial: Trial) -> None:
        """Called before a trial runs."""

    def on_trial_end(self, trial: Trial) -> None:
        """Called after a trial's outcome is stored."""
