"""``BaseTuner``: a project (folder + Optuna study), its search space, and ``search``.

The worker loop that ``search`` runs (in this process and in every worker) lives in
:mod:`rnnkit.tuner._worker_loop`; reading results in :mod:`rnnkit.tuner._results`.

One job, the ``BaseTuner`` class; its public methods are keras-tuner's API and stay on
one class.
"""

from __future__ import annotations

import logging
import math
import numbers
import random
import reprlib
import shutil
import time
from pathlib import Path
from typing import Any
from typing import NoReturn

from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.errors import StorageError
from rnnkit.tuner import _storage
from rnnkit.tuner._hp_types import HyperParameter
from rnnkit.tuner._optuna import StudyHandle
from rnnkit.tuner._optuna import delete_study
from rnnkit.tuner._optuna import make_pruner
from rnnkit.tuner._results import SPACE_ATTR
from rnnkit.tuner._results import ResultsMixin
from rnnkit.tuner._storage import StorageKind
from rnnkit.tuner._worker_loop import Step
from rnnkit.tuner._worker_loop import WorkerLoop
from rnnkit.tuner.errors import FailedTrialError
from rnnkit.tuner.errors import FatalError
from rnnkit.tuner.errors import FatalValueError
from rnnkit.tuner.folds import make_folds
from rnnkit.tuner.hypermodel import get_hypermodel
from rnnkit.tuner.hyperparameters import with_engine
from rnnkit.tuner.objective import is_finite
from rnnkit.tuner.objective import metrics_at_best_epoch
from rnnkit.tuner.oracles import Oracle
from rnnkit.tuner.trial import Trial
from rnnkit.tuner.trial import TrialStatus

logger = logging.getLogger("rnnkit.tuner")
META_ATTR = "rnnkit"


class BaseTuner(WorkerLoop, ResultsMixin):
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
        for name, value in (
            ("heartbeat_interval", heartbeat_interval),
            ("grace_period", grace_period),
        ):
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
        self._folds: list[Any] | None = None  # search(cv=...): rnnkit.tuner.folds
        self._fold_step = 0
        self._updates: dict[int, dict[str, float]] = {}  # oracle.update_trial, by step
        self._updates_pruned = False
        if overwrite:
            self._delete_project()
        self._ensure_open()

    # ----------------------------------------------------------- the study
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_study=None, _lock=None, _prebuilt=None, _step=None, _wake=None)
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
        in_project = (
            spec.kind is StorageKind.SQLITE
            and spec.path is not None
            and (self.project_dir.resolve() in spec.path.parents)
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
            known_schema=getattr(self, "_schema_checked", False),
        )
        self._schema_checked = True
        self._lock = _storage.make_lock(spec, self.project_name, self.storage_retry_seconds)
        with self._lock.hold():
            self._check_metadata()
        from rnnkit.tuner._optuna import make_sampler

        self._study.study.sampler = make_sampler(
            self.oracle.sampler_kind, self.oracle.seed, self.oracle.n_startup_trials()
        )

    def _close(self) -> None:
        """Release the study's database connections (reopened on next use)."""
        if self._study is not None:
            self._study.close()
        self._study = self._lock = None

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
        if not isinstance(stored, dict):
            self._bad_metadata(f"{META_ATTR}={reprlib.repr(stored)}", "a JSON object")
        for field_name, now in mine.items():
            if stored.get(field_name) != now:
                self._mismatch(field_name, stored.get(field_name), now)
        seed, width = stored.get("seed"), stored.get("id_width", 4)
        if isinstance(seed, bool) or not isinstance(seed, int):
            self._bad_metadata(f"seed={reprlib.repr(seed)}", "an integer")
        if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= 64:
            self._bad_metadata(f"id_width={reprlib.repr(width)}", "an integer from 1 to 64")
        if self.oracle.seed is None:
            self.oracle.seed = seed
        elif self.oracle.seed != seed:
            self._mismatch("seed", seed, self.oracle.seed)
        self._id_width = width

    def _bad_metadata(self, received: str, expected: str) -> NoReturn:
        raise StorageError(
            f"Project {self.project_name!r} ({self.storage_spec.redacted}) has unreadable "
            f"tuner metadata: {received}, expected {expected}; the study was not written by "
            "this tuner or was edited. Use another project_name, or pass overwrite=True to "
            "delete the old results."
        )

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
            for h in hp.space:
                old = stored.get(h.name)
                if old is not None and old.get_config() != h.get_config():
                    self._mismatch(
                        f"search space (hyperparameter {h.name!r})",
                        old.get_config(),
                        h.get_config(),
                    )
                if old is None and stored:
                    self._mismatch("search space (new hyperparameter)", None, h.name)
            self._remember_space(hp.space)
        self._space_checked = True

    # -------------------------------------------------------------- search
    def search(
        self,
        *fit_args: Any,
        workers: int = 1,
        max_time: float | None = None,
        vectorize: bool | str | int = "auto",
        cv: Any = None,
        **fit_kwargs: Any,
    ) -> None:
        """Run trials until ``max_trials``, the oracle's end, or ``max_time``.

        Args:
            *fit_args: Passed to ``fit`` (``x``, ``y``).
            workers: Parallel worker processes on this machine; each gets
                ``max(1, cores // workers)`` torch threads. Defaults to `1` (this process).
            max_time: A hard deadline in seconds from now: no trial starts after it,
                and trials running at it stop after the batch in progress (the cut
                epoch is still validated); they complete with their best epoch and
                its checkpoint, and each logs one line. Defaults to `None` (no limit).
            vectorize: Train pending trials whose models share a structure together, as
                one computation (see docs/tuning.md, "Vectorised trials"): ``"auto"``
                (groups of up to 8 where that is faster: on a GPU; on a CPU a group,
                each trial on its own parameters with the recurrences in one native
                call, measured no faster than its trials one by one), ``True`` (groups of up
                to 8 on any device), an integer >= 2 (the largest group), or ``False``
                (one trial after another). Each trial's scores equal training it alone
                within float rounding. Defaults to `"auto"`.
            cv: Folds (time-series cross-validation, :mod:`rnnkit.tuner.folds`): a
                splitter with ``split(x)`` such as ``TimeSeriesSplit(3)``,
                ``(train_idx, val_idx)`` pairs such as
                ``expanding_window_splits(len(x), n_folds=3, test_size=50, gap=5)``, or
                ``(x_train, y_train, x_val, y_val)`` datasets prepared per fold (then no
                ``x, y``). A trial's objective is the mean over folds of each fold's
                best-epoch value; ``validation_data=`` and ``validation_split=`` are
                refused. Defaults to `None` (one validation block).
            **fit_kwargs: Passed to ``fit`` (``epochs``, ``validation_split``,
                ``callbacks``, ...).

        Raises:
            RnnkitValueError: a bad ``workers``, ``max_time``, ``vectorize`` or ``cv``.
            DataError: NaN or infinite values, or ``x`` and ``y`` of different lengths.
        """
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise RnnkitValueError(
                f"search(): `workers` must be an integer >= 1. Received: workers={workers!r}."
            )
        self._group_size = _check_vectorize(vectorize)
        self._vectorize_auto = isinstance(vectorize, str)
        self._said_why: str | None = None
        self._said_deadline = False
        self._workers = workers
        if max_time is not None and (not is_finite(max_time) or max_time <= 0):
            raise RnnkitValueError(
                f"search(): `max_time` must be a number of seconds > 0. Received: {max_time!r}."
            )
        self._folds = None
        if cv is not None:
            self._folds, fit_args, fit_kwargs = make_folds(cv, fit_args, fit_kwargs)
            self._validate_folds(self._folds)
        else:
            self._validate_data(fit_args, fit_kwargs)
        self._ensure_open()
        self._ensure_space()
        self._search_started = time.time() - 1.0  # failures of earlier sessions do not count
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
        arrays = list(fit_args[:2])
        names = ["x", "y"][: len(arrays)]
        for name in ("x", "y"):
            if name in fit_kwargs:
                arrays.append(fit_kwargs[name])
                names.append(name)
        _check_samples(names, arrays, "search()")

    def _validate_folds(self, folds: list[Any]) -> None:
        """Reject NaN/inf or mismatched arrays in any fold of ``search(cv=...)``."""
        for number, fold in enumerate(folds):
            for part, x, y in (
                ("training", fold.x_train, fold.y_train),
                ("validation", fold.x_val, fold.y_val),
            ):
                _check_samples(["x", "y"], [x, y], f"search(): fold {number}'s {part} part")

    # --------------------------------------------------------- scoring
    def _score(self, results: Any) -> tuple[float, int, dict[str, float]]:
        """Normalise ``run_trial``'s results (one per execution) into score, step, metrics."""
        if not isinstance(results, list):
            results = [results]
        per_execution = [metrics_at_best_epoch(r, self.oracle.objective) for r in results]
        values = [v for v, _, _ in per_execution]
        value = float(sum(values) / len(values))
        best_step = round(sum(s for _, s, _ in per_execution) / len(per_execution))
        keys = set.intersection(*(set(m) for _, _, m in per_execution))
        metrics = {
            k: float(sum(m[k] for _, _, m in per_execution) / len(per_execution))
            for k in sorted(keys)
        }
        if not math.isfinite(value):
            raise FailedTrialError(
                f"non-finite objective {self.oracle.objective.name} = {value}: the trial failed"
            )
        return value, best_step, metrics

    # --------------------------------------------------------- importance
    def get_hyperparameter_importances(
        self, *, evaluator: Any = None, seed: int = 0
    ) -> dict[str, float]:
        """How much each hyperparameter mattered, from the completed trials (Optuna's fANOVA).

        Reads the study, so trials run by other processes or machines count too.
        Hyperparameters active in every completed trial are assessed (conditional and
        ``Fixed`` ones are left out); one that kept a single value gets 0.

        Args:
            evaluator: An ``optuna.importance`` evaluator (e.g.
                ``PedAnovaImportanceEvaluator()``). Defaults to `None`: fANOVA
                with ``seed``, so the same trials always give the same answer.
            seed: Seed of the default fANOVA evaluator. Defaults to `0`.

        Returns:
            Hyperparameter name -> importance in ``[0, 1]``, summing to 1, most
            important first.

        Raises:
            RnnkitValueError: fewer than 2 completed trials, no hyperparameter
                varied between them, or every trial scored the same.

        Example:
            ``tuner.search(x, y, epochs=5); tuner.get_hyperparameter_importances()``
            gives e.g. ``{"learning_rate": 0.71, "units": 0.22, "dropout": 0.07}``.
        """
        from rnnkit.tuner._importance import param_importances

        self._ensure_open()
        assert self._study is not None
        return param_importances(
            self._study.attempts(),
            self.oracle.objective.direction,
            evaluator=evaluator,
            seed=seed,
        )

    # ------------------------------------------------------------ hooks
    def run_trial(self, trial: Trial, *fit_args: Any, **fit_kwargs: Any) -> Any:
        """Train one trial; return a History, a dict, a float, or a list (executions)."""
        raise NotImplementedError

    def _past_deadline(self) -> bool:
        """Whether this search's ``max_time`` is up."""
        deadline = getattr(self, "_deadline", None)
        return deadline is not None and time.time() >= deadline

    def report(self, value: float, step: int, *, attempt: Any = None) -> bool:
        """Report an intermediate objective value; ``True`` if the pruner says stop.

        Every epoch's value reaches the study (optuna-dashboard draws learning curves
        from them), with or without a pruner.

        Args:
            value: The objective's value at this epoch.
            step: The epoch.
            attempt: The Optuna trial to report for. Defaults to `None`: the trial this
                worker is running (a vectorised group passes each trial's own).
        """
        if attempt is None:
            attempt = None if self._step is None else self._step.asked
        if attempt is None or not is_finite(value):
            return False
        assert self._study is not None
        step += self._fold_step  # with folds: fold f's epochs are steps f * epochs + epoch
        return self._study.report(attempt, value, step) and self.pruner is not None

    def _record_update(self, trial_id: str, metrics: Any, step: int) -> TrialStatus:
        """``oracle.update_trial``: keep a custom ``run_trial``'s metrics, report the objective.

        See :meth:`rnnkit.tuner.oracles.Oracle.update_trial`.
        """
        caller = "oracle.update_trial()"
        running = None if self._step is None else self._step.trial.trial_id
        if trial_id != running:
            raise RnnkitValueError(
                f"{caller}: trial {trial_id!r} is not the trial this tuner is running "
                f"({running!r}). Call it from run_trial with trial.trial_id."
            )
        if not isinstance(metrics, dict) or not all(
            isinstance(k, str) and isinstance(v, numbers.Real) and not isinstance(v, bool)
            for k, v in metrics.items()
        ):
            raise RnnkitValueError(
                f"{caller}: `metrics` must be a dict of metric name -> number. Received: "
                f"{reprlib.repr(metrics)}. Pass e.g. {{'val_loss': 0.25}}."
            )
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise RnnkitValueError(
                f"{caller}: `step` must be an integer >= 0. Received: step={step!r}."
            )
        self._updates.setdefault(step, {}).update({k: float(v) for k, v in metrics.items()})
        objective = self.oracle.objective
        if objective.has_value(metrics) and self.report(objective.get_value(metrics), step):
            self._updates_pruned = True
            return TrialStatus.STOPPED
        return TrialStatus.RUNNING

    def _take_updates(self) -> Any:
        """What the running trial reported with ``oracle.update_trial``, as a fit result.

        Raises:
            FatalValueError: ``run_trial`` returned nothing and reported nothing.
            TrialPruned: the pruner stopped it (``update_trial`` returned ``STOPPED``).
        """
        from rnnkit.tuner._worker_loop import TrialPruned

        updates, self._updates = self._updates, {}
        pruned, self._updates_pruned = self._updates_pruned, False
        objective = self.oracle.objective
        steps = [s for s in sorted(updates) if objective.has_value(updates[s])]
        if not steps:
            raise FatalValueError(
                f"{type(self).__name__}.run_trial returned None and reported no "
                f"{objective.name!r}: return the metrics (a dict, a float or a History) "
                f"or call self.oracle.update_trial(trial.trial_id, {{{objective.name!r}: ...}})."
            )
        names = set.intersection(*(set(updates[s]) for s in steps))
        history = {k: [updates[s][k] for s in steps] for k in sorted(names)}
        if pruned:
            values = [objective.get_value(updates[s]) for s in steps]
            raise TrialPruned(min(values) if objective.direction == "min" else max(values))
        return _Reported(history, steps)

    def _group_limit(
        self, first: Any, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
    ) -> int:
        """Trials allocated at once: 1 here; :class:`~rnnkit.tuner.tuners.Tuner` groups."""
        return 1

    def run_trials(
        self, steps: list[Any], fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
    ) -> list[Any]:
        """Train several allocated trials; one result (or exception) per step.

        The base class runs them one by one with :meth:`run_trial`.
        """
        results: list[Any] = []
        for step in steps:
            self._step, self._prebuilt = step, step.model
            step.model = None
            try:
                results.append(self.run_trial(step.trial, *fit_args, **dict(fit_kwargs)))
            except Exception as exc:
                results.append(exc)
        return results

    def on_search_begin(self) -> None:
        """Called at the start of ``search``."""

    def on_search_end(self) -> None:
        """Called at the end of ``search``."""

    def on_trial_begin(self, trial: Trial) -> None:
        """Called before a trial runs."""

    def on_trial_end(self, trial: Trial) -> None:
        """Called after a trial's outcome is stored."""


DEFAULT_GROUP_SIZE = 8
"""Trials trained together at most with ``search(vectorize="auto")``."""


def _check_samples(names: list[str], arrays: list[Any], caller: str) -> None:
    """Check each array (finite numbers) and that ``x`` and ``y`` have as many samples."""
    from rnnkit._validation import check_array
    from rnnkit.errors import DataError

    checked = []
    for name, value in zip(names, arrays, strict=True):
        if hasattr(value, "shape") or isinstance(value, list):
            checked.append(check_array(name, value, caller=caller))
    if len(checked) == 2 and len(checked[0]) != len(checked[1]):
        raise DataError(
            f"{caller}: x and y have different numbers of samples: {len(checked[0])} and "
            f"{len(checked[1])}. Pass as many targets as input samples."
        )


class _Reported:
    """A History-like record of what ``oracle.update_trial`` received, step by step."""

    def __init__(self, history: dict[str, list[float]], steps: list[int]) -> None:
        self.history, self.epoch = history, steps


def _check_vectorize(vectorize: Any) -> int:
    """The largest group ``search(vectorize=...)`` asks for (1: no grouping).

    Example:
        >>> _check_vectorize("auto"), _check_vectorize(False), _check_vectorize(16)
        (8, 1, 16)
    """
    if vectorize is True or vectorize == "auto":
        return DEFAULT_GROUP_SIZE
    if vectorize is False:
        return 1
    if isinstance(vectorize, int) and not isinstance(vectorize, bool) and vectorize >= 2:
        return vectorize
    raise RnnkitValueError(
        'search(): `vectorize` must be "auto", True, False or a group size >= 2. '
        f"Received: vectorize={vectorize!r}."
    )
