"""The one module that talks to Optuna: studies, trials, distributions, samplers.

Everything else in the tuner sees plain dataclasses (:class:`Attempt`) and calls
:class:`StudyHandle`, which also turns storage failures into
:class:`rnnkit.errors.StorageError` with the password redacted, retrying transient
ones (a locked SQLite file, a PostgreSQL restart) for ``retry_seconds``.

How keras-tuner spaces map to Optuna distributions (what ``optuna-dashboard`` shows):

- ``Int`` linear -> ``IntDistribution(step=step)``; ``Int`` log without step ->
  ``IntDistribution(log=True)``;
- ``Float`` linear -> ``FloatDistribution`` (with ``step``; values are snapped back to
  the exact decimal grid); ``Float`` log without step -> ``FloatDistribution(log=True)``;
- log or reverse_log *with* a step (a geometric grid) -> ``CategoricalDistribution``
  of the grid values; reverse_log without step -> the linear distribution (Optuna
  has no reverse-log law; RandomSearch and GridSearch honour it exactly);
- ``Choice`` and ``Boolean`` -> ``CategoricalDistribution``; ``Fixed`` is recorded
  in the trial's ``values`` user attribute only.

One job, the Optuna boundary; keeping every Optuna call in this one module is the point,
so it stays long.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import itertools
import logging
import warnings
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import optuna
import sqlalchemy.event
import sqlalchemy.exc
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.trial import TrialState

from rnnkit.errors import RnnkitValueError
from rnnkit.errors import StorageError
from rnnkit.tuner._hp_types import Boolean
from rnnkit.tuner._hp_types import Choice
from rnnkit.tuner._hp_types import Fixed
from rnnkit.tuner._hp_types import Float
from rnnkit.tuner._hp_types import HyperParameter
from rnnkit.tuner._hp_types import Int
from rnnkit.tuner._storage import StorageKind
from rnnkit.tuner._storage import StorageSpec
from rnnkit.tuner._storage import _first_line
from rnnkit.tuner._storage import backoff_delays
from rnnkit.tuner._storage import sleep

optuna.logging.set_verbosity(optuna.logging.WARNING)
logger = logging.getLogger("rnnkit.tuner")

_RETRYABLE = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError,
    optuna.exceptions.StorageInternalError,
)


class AttemptState(str, enum.Enum):
    """State of one Optuna trial (one attempt of a logical trial)."""

    WAITING = "WAITING"
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    PRUNED = "PRUNED"
    FAIL = "FAIL"

    @property
    def is_finished(self) -> bool:
        """COMPLETE, PRUNED or FAIL."""
        return self in (AttemptState.COMPLETE, AttemptState.PRUNED, AttemptState.FAIL)


_STATES = {
    TrialState.WAITING: AttemptState.WAITING,
    TrialState.RUNNING: AttemptState.RUNNING,
    TrialState.COMPLETE: AttemptState.COMPLETE,
    TrialState.PRUNED: AttemptState.PRUNED,
    TrialState.FAIL: AttemptState.FAIL,
}
_TO_OPTUNA = {v: k for k, v in _STATES.items()}


@dataclass
class Attempt:
    """One Optuna trial, as plain data."""

    number: int
    trial_id: int
    state: AttemptState
    value: float | None
    params: dict[str, Any]
    user_attrs: dict[str, Any]
    started: float | None
    completed: float | None
    intermediate: dict[int, float] = field(default_factory=dict)
    distributions: dict[str, Any] = field(default_factory=dict, repr=False)

    def attr(self, key: str, default: Any = None) -> Any:
        """A user attribute."""
        return self.user_attrs.get(key, default)


def _attempt(trial: optuna.trial.FrozenTrial) -> Attempt:
    return Attempt(
        number=trial.number,
        trial_id=trial._trial_id,
        state=_STATES[trial.state],
        value=trial.value if trial.state == TrialState.COMPLETE else None,
        params=dict(trial.params),
        user_attrs=dict(trial.user_attrs),
        started=trial.datetime_start.timestamp() if trial.datetime_start else None,
        completed=trial.datetime_complete.timestamp() if trial.datetime_complete else None,
        intermediate=dict(trial.intermediate_values),
        distributions=dict(trial.distributions),
    )


# -------------------------------------------------------------- distributions
def to_distribution(
    hp: HyperParameter,
) -> CategoricalDistribution | IntDistribution | FloatDistribution | None:
    """The Optuna distribution for ``hp`` (``None`` for ``Fixed``)."""
    if isinstance(hp, Fixed):
        return None
    if isinstance(hp, Boolean):
        return CategoricalDistribution([False, True])
    if isinstance(hp, Choice):
        return CategoricalDistribution(list(hp.values))
    assert isinstance(hp, (Int, Float))
    geometric = hp.step is not None and hp.sampling != "linear"
    if geometric:
        return CategoricalDistribution(list(hp.grid() or ()))
    log = hp.sampling == "log"
    if isinstance(hp, Int):
        if hp.step is None:
            return IntDistribution(hp.min_value, hp.max_value, log=log)
        last = hp.min_value + (int(hp.cardinality() or 1) - 1) * hp.step
        return IntDistribution(hp.min_value, last, step=hp.step)
    if hp.step is None:
        return FloatDistribution(hp.min_value, hp.max_value, log=log)
    last = hp.snap(hp.max_value)
    if last > hp.max_value:  # snap rounds to nearest; keep the last whole step
        last = hp.grid()[-1] if hp.grid() else hp.max_value  # type: ignore[index]
    return FloatDistribution(hp.min_value, last, step=hp.step)


def decode(hp: HyperParameter, value: Any) -> Any:
    """An Optuna-suggested value as the exact value of ``hp``."""
    if isinstance(hp, (Int, Float)):
        return hp.snap(value)
    return value


# ------------------------------------------------------------ samplers/pruners
def make_sampler(kind: str, seed: int | None, n_startup_trials: int = 10) -> Any:
    """``"random"``, ``"gp"`` (Gaussian process) or ``"tpe"``."""
    with _quiet():
        if kind == "gp":
            return optuna.samplers.GPSampler(
                seed=seed, n_startup_trials=n_startup_trials, warn_independent_sampling=False
            )
        if kind == "tpe":
            return optuna.samplers.TPESampler(
                seed=seed,
                n_startup_trials=n_startup_trials,
                multivariate=True,
                constant_liar=True,
                warn_independent_sampling=False,
            )
    return optuna.samplers.RandomSampler(seed=seed)


PRUNERS = ("median", "asha", "hyperband")


def make_pruner(pruner: Any) -> Any:
    """``None``, ``"median"``, ``"asha"``, ``"hyperband"`` or an Optuna pruner."""
    if pruner is None:
        return optuna.pruners.NopPruner()
    if isinstance(pruner, optuna.pruners.BasePruner):
        return pruner
    if pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    if pruner == "asha":
        return optuna.pruners.SuccessiveHalvingPruner()
    if pruner == "hyperband":
        return optuna.pruners.HyperbandPruner()
    raise RnnkitValueError(
        f"Unknown pruner {pruner!r}. Expected None, 'median', 'asha', 'hyperband' or an "
        "optuna.pruners.BasePruner instance."
    )


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # rnnkit runs its own heartbeat thread around ask/tell (Optuna only does in optimize)
        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
        yield


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def params_for(
    values: dict[str, Any], space: dict[str, HyperParameter]
) -> tuple[dict[str, Any], dict[str, BaseDistribution]]:
    """Optuna ``params`` and ``distributions`` for values chosen by rnnkit."""
    params: dict[str, Any] = {}
    dists: dict[str, BaseDistribution] = {}
    for name, value in values.items():
        hp = space.get(name)
        dist = None if hp is None else to_distribution(hp)
        if dist is not None:
            params[name], dists[name] = value, dist
    return params, dists


# ---------------------------------------------------------------- the study
class StudyHandle:
    """An open Optuna study plus the storage calls the tuner needs.

    Args:
        spec: Where the study lives.
        study_name: The study (the tuner's ``project_name``).
        direction: ``"min"`` or ``"max"``.
        sampler: An Optuna sampler (see :func:`make_sampler`).
        pruner: An Optuna pruner (see :func:`make_pruner`).
        heartbeat_interval: Seconds between heartbeats of a running trial.
        grace_period: Seconds without heartbeat after which a trial is failed.
        retry_seconds: How long transient storage errors are retried.
        known_schema: The tables exist and were checked by this search's parent
            process (a worker child skips creating and checking them).
    """

    def __init__(
        self,
        spec: StorageSpec,
        study_name: str,
        direction: str,
        *,
        sampler: Any = None,
        pruner: Any = None,
        heartbeat_interval: int = 10,
        grace_period: int = 60,
        retry_seconds: float = 30.0,
        known_schema: bool = False,
    ) -> None:
        self.spec = spec
        self.study_name = study_name
        self.retry_seconds = retry_seconds
        self._stale: list[optuna.trial.FrozenTrial] = []
        engine_kwargs: dict[str, Any] = {}
        if spec.kind is StorageKind.SQLITE:
            engine_kwargs["connect_args"] = {"timeout": 60}
        else:
            engine_kwargs["pool_pre_ping"] = True

        def open_storage() -> Any:
            with _quiet():
                rdb = optuna.storages.RDBStorage(
                    spec.url,
                    engine_kwargs=engine_kwargs,
                    heartbeat_interval=heartbeat_interval,
                    grace_period=grace_period,
                    heartbeat_stale_trial_callback=self._on_stale,
                    skip_compatibility_check=known_schema,
                    skip_table_creation=known_schema,
                )
            if spec.kind is StorageKind.SQLITE:
                # WAL + synchronous=NORMAL: safe against killed processes, ~30x faster commits
                sqlalchemy.event.listen(rdb.engine, "connect", _sqlite_pragmas)
                rdb.engine.dispose()
            self._rdb = rdb
            return optuna.storages.get_storage(rdb)

        self.storage = self._guard("open the study store", open_storage, attempts_any=3)
        self.study = self._guard(
            f"open study {study_name!r}",
            lambda: optuna.create_study(
                storage=self.storage,
                study_name=study_name,
                direction="maximize" if direction == "max" else "minimize",
                sampler=sampler,
                pruner=make_pruner(pruner),
                load_if_exists=True,
            ),
            attempts_any=3,
        )

    # ------------------------------------------------------------- guarding
    def _guard(self, what: str, fn: Callable[[], Any], *, attempts_any: int = 1) -> Any:
        """Run ``fn``; retry transient storage errors; raise StorageError, redacted."""
        delays = itertools.chain(backoff_delays(self.retry_seconds), [None])
        tries = 0
        while True:
            tries += 1
            try:
                return fn()
            except _RETRYABLE as exc:
                delay = next(delays)
                if delay is None:
                    raise self._error(what, exc) from None
                log = logger.warning if tries == 1 else logger.debug
                log("retrying to %s after: %s", what, self.spec.scrub(_first_line(exc)))
                sleep(delay)
            except sqlalchemy.exc.SQLAlchemyError as exc:
                if tries >= attempts_any:
                    raise self._error(what, exc) from None
                sleep(0.2 * tries)

    def _error(self, what: str, exc: BaseException) -> StorageError:
        message = self.spec.scrub(_first_line(exc))
        return StorageError(f"Could not {what} on {self.spec.redacted}: {message}")

    # --------------------------------------------------------------- reading
    def attempts(self) -> list[Attempt]:
        """Every Optuna trial of the study, oldest first."""
        trials = self._guard("read the trials", lambda: self.study.get_trials(deepcopy=False))
        return [_attempt(t) for t in trials]

    def study_attrs(self) -> dict[str, Any]:
        """The study's user attributes."""
        return dict(self._guard("read the study", lambda: self.study.user_attrs))

    def set_study_attr(self, key: str, value: Any) -> None:
        """Set one study user attribute."""
        self._guard("write the study", lambda: self.study.set_user_attr(key, value))

    # ---------------------------------------------------------------- trials
    def ask(self) -> optuna.Trial:
        """A new RUNNING trial (a queued retry first, if any)."""
        with _quiet():
            return self._guard("start a trial", self.study.ask)

    def ask_with(
        self, params: dict[str, Any], distributions: dict[str, Any], user_attrs: dict[str, Any]
    ) -> optuna.Trial:
        """Start a trial whose params and attributes are written in one transaction.

        The trial is queued (WAITING) and popped at once; under the allocation lock
        no other worker can pop it first.
        """
        template = optuna.trial.create_trial(
            state=TrialState.WAITING,
            params=params,
            distributions=distributions,
            user_attrs=user_attrs,
        )
        with _quiet():
            self._guard("queue a trial", lambda: self.study.add_trial(template))
        return self.ask()

    def queued_params(self, trial: optuna.Trial) -> dict[str, Any]:
        """The params ``trial`` was queued with by Optuna's ``enqueue_trial`` (else ``{}``).

        ``enqueue_trial`` keeps them aside (the ``fixed_params`` system attribute) until
        the sampler asks for each; the tuner reads them all at once.
        """

        def read() -> dict[str, Any]:
            attrs = self.study._storage.get_trial_system_attrs(trial._trial_id)
            fixed = attrs.get("fixed_params")
            return dict(fixed) if isinstance(fixed, dict) else {}

        return self._guard("read a queued trial", read)

    @staticmethod
    def asked_attrs(trial: optuna.Trial) -> dict[str, Any]:
        """User attributes of an asked trial (a popped retry carries its identity)."""
        return dict(trial.user_attrs)

    def suggest(self, trial: optuna.Trial, hp: HyperParameter) -> Any:
        """Let the study's sampler choose a value for ``hp``."""
        dist = to_distribution(hp)
        if dist is None:
            return hp.default

        def run() -> Any:
            with _quiet():
                if isinstance(dist, CategoricalDistribution):
                    return trial.suggest_categorical(hp.name, list(dist.choices))
                if isinstance(dist, IntDistribution):
                    return trial.suggest_int(
                        hp.name, dist.low, dist.high, step=dist.step, log=dist.log
                    )
                return trial.suggest_float(
                    hp.name, dist.low, dist.high, step=dist.step, log=dist.log
                )

        return decode(hp, self._guard("record a suggestion", run))

    def write_params(
        self, trial_id: int, values: dict[str, Any], space: dict[str, HyperParameter]
    ) -> None:
        """Record values chosen by rnnkit (not the sampler) as the trial's params."""
        for name, value in values.items():
            hp = space.get(name)
            dist = None if hp is None else to_distribution(hp)
            if dist is None:
                continue
            internal = dist.to_internal_repr(value)
            self._guard(
                "record a parameter",
                functools.partial(self.storage.set_trial_param, trial_id, name, internal, dist),
            )

    def set_attrs(self, trial_id: int, attrs: dict[str, Any]) -> None:
        """Set user attributes of a trial (before it finishes)."""
        for key, value in attrs.items():
            self._guard(
                "write a trial attribute",
                functools.partial(self.storage.set_trial_user_attr, trial_id, key, value),
            )

    def report(self, trial: optuna.Trial, value: float, step: int) -> bool:
        """Report an intermediate value; return whether the pruner says stop."""
        self._guard("report a value", lambda: trial.report(float(value), step))
        return bool(self._guard("ask the pruner", trial.should_prune))

    def tell(self, trial_id: int, number: int, state: AttemptState, value: float | None) -> bool:
        """Finish a trial. ``False`` if another worker had already failed it (taken over)."""

        def run() -> Any:
            return self.study.tell(
                number,
                values=value if state is AttemptState.COMPLETE else None,
                state=_TO_OPTUNA[state],
                skip_if_finished=True,
            )

        frozen = self._guard("finish a trial", run)
        return _STATES[frozen.state] is state

    def add_retry(self, attempt: Attempt, user_attrs: dict[str, Any]) -> None:
        """Queue a WAITING copy of ``attempt`` (same params) with ``user_attrs``."""
        key = (user_attrs.get("trial_id"), user_attrs.get("attempt"))

        def exists() -> bool:
            return any(
                (a.attr("trial_id"), a.attr("attempt")) == key
                for a in self.attempts()
                if a.number > attempt.number
            )

        def run() -> None:
            if exists():  # a previous try committed before its connection dropped
                return
            self.study.add_trial(
                optuna.trial.create_trial(
                    state=TrialState.WAITING,
                    params=attempt.params,
                    distributions=attempt.distributions,
                    user_attrs=user_attrs,
                )
            )

        with _quiet():
            self._guard("queue a retry", run)

    def fail(self, trial_id: int) -> bool:
        """Mark a RUNNING trial FAIL; ``False`` if it had already finished."""

        def run() -> bool:
            try:
                return bool(self.storage.set_trial_state_values(trial_id, state=TrialState.FAIL))
            except optuna.exceptions.UpdateFinishedTrialError:
                return False

        return bool(self._guard("fail a trial", run))

    def _on_stale(self, study: Any, trial: optuna.trial.FrozenTrial) -> None:
        self._stale.append(trial)

    def fail_stale(self) -> list[int]:
        """Fail trials whose heartbeat is older than the grace period; their numbers."""
        self._stale = []
        with _quiet():
            self._guard("check heartbeats", lambda: optuna.storages.fail_stale_trials(self.study))
        return [t.number for t in self._stale]

    def record_heartbeat(self, trial_id: int) -> None:
        """One heartbeat for a running trial (called from the heartbeat thread)."""
        self.storage.record_heartbeat(trial_id)

    def close(self) -> None:
        """Release the database connections."""
        with contextlib.suppress(Exception):
            self._rdb.engine.dispose()


def delete_study(spec: StorageSpec, study_name: str) -> None:
    """Delete a study if it exists (``overwrite=True`` on a shared database)."""
    try:
        with _quiet():
            storage = optuna.storages.RDBStorage(spec.url)
        try:
            optuna.delete_study(study_name=study_name, storage=storage)
        except KeyError:
            pass
        finally:
            storage.engine.dispose()
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise StorageError(
            f"Could not delete study {study_name!r} on {spec.redacted}: "
            f"{spec.scrub(_first_line(exc))}"
        ) from None


def list_studies(storage: str) -> dict[str, dict[str, Any]]:
    """Every study in a study store, with its user attributes (read-only).

    Lets a process that was not told the ``project_name`` find the searches
    stored in a shared database (``rnnkit tune-worker`` does).

    Args:
        storage: A database URL, as the tuners' ``storage=`` argument
            (``"postgresql://user:password@host:5432/db"``, ``"sqlite:////abs/study.db"``).

    Returns:
        Study name -> user attributes (``"rnnkit"`` holds a tuner's settings), in
        creation order.

    Raises:
        StorageError: the store cannot be read, or a SQLite file is missing,
            damaged or not an Optuna study.

    Example:
        >>> import rnnkit.tuner as kt
        >>> kt.list_studies("sqlite:////no/such/study.db")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rnnkit.errors.StorageError: There is no study file /no/such/study.db ...
    """
    from rnnkit.tuner._storage import check_sqlite_file
    from rnnkit.tuner._storage import resolve_storage

    spec = resolve_storage(storage, None)
    if spec.kind is StorageKind.SQLITE:
        assert spec.path is not None
        if not spec.path.is_file():
            raise StorageError(
                f"There is no study file {spec.path} (storage {spec.redacted}). Check the "
                "path; on another machine it must be a shared file."
            )
        check_sqlite_file(spec.path)
    try:
        with _quiet():
            rdb = optuna.storages.RDBStorage(spec.url)
        try:
            return {
                study.study_name: dict(study.user_attrs)
                for study in sorted(rdb.get_all_studies(), key=lambda s: s._study_id)
            }
        finally:
            rdb.engine.dispose()
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise StorageError(
            f"Could not list the studies on {spec.redacted}: {spec.scrub(_first_line(exc))}"
        ) from None


def is_taken_over(exc: BaseException) -> bool:
    """Whether ``exc`` says a trial was already finished (by a worker that took it over)."""
    if isinstance(exc, optuna.exceptions.UpdateFinishedTrialError):
        return True
    return isinstance(exc, ValueError) and "Cannot tell a" in str(exc)
