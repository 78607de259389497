"""Tuners for models with ``fit``: RandomSearch, GridSearch, BayesianOptimization, Hyperband.

Argument names, order and defaults follow keras-tuner 1.4; rnnkit's additions
(``workers=``, ``max_time=``, ``storage=``, ``pruner=``, ``sampler=``) are keywords.

One job, the keras-tuner tuner classes; the four tuners are thin and share ``Tuner`` and
its callback.

Example:
    >>> import rnnkit.tuner as kt
    >>> def build_model(hp):
    ...     return {"units": hp.Int("units", 32, 128, step=32)}   # any model object
    >>> tuner = kt.RandomSearch(build_model, objective="val_loss", max_trials=3,
    ...                         directory=getfixture("tmp_path"), project_name="demo")
    >>> tuner.oracle.max_trials
    3
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import time
from pathlib import Path
from typing import Any

from rnnkit.callbacks.base import Callback
from rnnkit.errors import CheckpointError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.tuner import _checkpoint
from rnnkit.tuner._worker_loop import TrialPruned
from rnnkit.tuner._worker_loop import check_trial_id
from rnnkit.tuner.base_tuner import BaseTuner
from rnnkit.tuner.errors import FailedTrialError
from rnnkit.tuner.folds import run_folds
from rnnkit.tuner.hyperband import HyperbandPlan
from rnnkit.tuner.hypermodel import HyperModel
from rnnkit.tuner.hyperparameters import HyperParameters
from rnnkit.tuner.hyperparameters import with_engine
from rnnkit.tuner.objective import Objective
from rnnkit.tuner.objective import is_finite
from rnnkit.tuner.oracles import BayesianOptimizationOracle
from rnnkit.tuner.oracles import GridSearchOracle
from rnnkit.tuner.oracles import HyperbandOracle
from rnnkit.tuner.oracles import Oracle
from rnnkit.tuner.oracles import RandomSearchOracle
from rnnkit.tuner.resume import TrialResume
from rnnkit.tuner.trial import Trial
from rnnkit.utils.random import derive_seed
from rnnkit.utils.random import seed_trial

logger = logging.getLogger("rnnkit.tuner")
#: Study attribute holding the shape of one sample of ``x`` (models built without one).
INPUT_SHAPE_ATTR = "rnnkit_input_shape"


def unbuilt(model: Any) -> bool:
    """Whether ``model`` has ``build()`` and is not built yet (its first layer had no shape).

    Example:
        >>> from rnnkit import layers
        >>> from rnnkit.models import Sequential
        >>> unbuilt(Sequential([layers.Dense(1)])), unbuilt({"not": "a model"})
        (True, False)
    """
    return not getattr(model, "built", True) and callable(getattr(model, "build", None))


class _BestCheckpoint:
    """Saves the best epoch (over all executions of a trial) to the trial folder."""

    def __init__(self, folder: Path, objective: Objective) -> None:
        self.folder, self.objective = folder, objective
        self.best: float | None = None
        self.warned = False

    def update(self, model: Any, epoch: int, value: float) -> None:
        if self.best is not None and not self.objective.better_than(value, self.best):
            return
        self.best = value
        if not hasattr(model, "save_weights"):
            if not self.warned:
                logger.info("The model has no save_weights(): no best-epoch checkpoint is kept.")
                self.warned = True
            return
        _checkpoint.save_checkpoint(self.folder, model, epoch=epoch, value=value)


class TunerCallback(Callback):
    """Added to every trial's ``fit``: checkpoints, pruning reports, NaN guard.

    ``attempt`` is the Optuna trial its epochs are reported to (``None``: the trial the
    worker is running). It uses only the hooks ``fit`` calls and the model's public API,
    so the stacked trainer runs it (``stackable``).
    """

    stackable = True

    def __init__(
        self, tuner: BaseTuner, execution: int, saver: _BestCheckpoint, attempt: Any = None
    ) -> None:
        super().__init__()
        self.tuner, self.execution, self.saver = tuner, execution, saver
        self.attempt = attempt
        self.objective: Objective = tuner.oracle.objective
        self.failure: str | None = None
        self.pruned = False
        self.cut_at: tuple[int, int] | None = None
        self.resume: TrialResume | None = None  # set by run_trial: resume points
        self._epoch = 0

    def _fail(self, reason: str) -> None:
        self.failure = self.failure or reason
        if self.model is not None:
            self.model.stop_training = True

    def on_train_begin(self, logs=None):
        """Put back a resumed trial's generator and callback states."""
        if self.resume is not None:
            self.resume.on_train_begin()

    def on_epoch_begin(self, epoch, logs=None):
        """Remember the epoch, to name it in a failure message."""
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        """Stop at the first batch whose loss is NaN or infinite, or once ``max_time`` is up.

        At the search's deadline (``search(max_time=...)``) training stops after the
        batch in progress: ``fit`` still validates the cut epoch, so the trial ends
        normally, scored at its best epoch, with that epoch's checkpoint.
        """
        loss = (logs or {}).get("loss")
        if loss is not None and not is_finite(loss):
            self._fail(f"non-finite loss ({float(loss)}) at epoch {self._epoch}, batch {batch}")
            return
        deadline = getattr(self.tuner, "_deadline", None)
        if self.cut_at is None and deadline is not None and time.time() >= deadline:
            self.cut_at = (self._epoch, batch)
            if self.model is not None:
                self.model.stop_training = True

    def on_train_end(self, logs=None):
        """Complete a resumed trial's ``History``; say that ``max_time`` cut it (when it did)."""
        if self.resume is not None:
            self.resume.complete_history(getattr(self.model, "history", None))
        if self.cut_at is not None:
            epoch, batch = self.cut_at
            logger.info(
                "max_time reached: trial %s stopped at epoch %d, batch %d, and keeps its best "
                "epoch (%s = %s).",
                self.saver.folder.name.removeprefix("trial_"),
                epoch + 1,
                batch + 1,
                self.objective.name,
                self.saver.best,
            )

    def on_epoch_end(self, epoch, logs=None):
        """Check the epoch's logs, checkpoint a new best epoch, report, keep a resume point.

        A non-finite loss or objective fails the trial. Only the first execution of a
        trial reports; training stops when the pruner says so. The resume point
        (when run by :meth:`Tuner.run_trial`) is written last, after the report.
        """
        logs = logs or {}
        for key in ("loss", *self.objective.names):
            if key in logs and not is_finite(logs[key]):
                self._fail(f"non-finite {key} ({float(logs[key])}) at epoch {epoch}")
                return
        stop = bool(getattr(self.model, "stop_training", False))  # asked by other callbacks
        if self.objective.has_value(logs):
            value = self.objective.get_value(logs)
            self.saver.update(self.model, epoch, value)
            if self.execution == 0 and self.tuner.report(value, epoch, attempt=self.attempt):
                self.pruned = True
                if self.model is not None:
                    self.model.stop_training = True
        if self.resume is not None and not self.pruned:
            self.resume.on_epoch_end(epoch, logs, stop=stop)

    def finish(self) -> None:
        """Raise what happened during ``fit`` (a failure, or a pruning decision)."""
        if self.failure:
            raise FailedTrialError(self.failure)
        if self.pruned:
            raise TrialPruned(self.saver.best)


class Tuner(BaseTuner):
    """Tuner for models with ``fit(x, y, callbacks=..., epochs=...)`` (keras-tuner's ``Tuner``).

    Args:
        oracle: The oracle that proposes values.
        hypermodel: ``build(hp)`` function or ``HyperModel``. Defaults to `None`.
        max_model_size: Largest ``model.count_params()`` allowed; bigger models fail
            their trial (no retry). Defaults to `None`.
        optimizer: Recompile each model with this optimizer. Defaults to `None`.
        loss: Recompile with this loss. Defaults to `None`.
        metrics: Recompile with these metrics. Defaults to `None`.
        distribution_strategy: Not supported (use ``workers=``). Defaults to `None`.
        directory: Parent folder of the project. Defaults to `None`.
        project_name: Project name. Defaults to `None`.
        logger: Not supported. Defaults to `None`.
        tuner_id: Worker name in the records. Defaults to `None`.
        overwrite: Start the project afresh. Defaults to `False`.
        executions_per_trial: Trainings per configuration; the score is their
            mean. Defaults to `1`.
        **kwargs: ``storage``, ``pruner``, ``heartbeat_interval``, ``grace_period``,
            ``storage_retry_seconds`` (see :class:`~rnnkit.tuner.base_tuner.BaseTuner`).
    """

    def __init__(
        self,
        oracle: Oracle,
        hypermodel: Any = None,
        max_model_size: int | None = None,
        optimizer: Any = None,
        loss: Any = None,
        metrics: Any = None,
        distribution_strategy: Any = None,
        directory: str | Path | None = None,
        project_name: str | None = None,
        logger: Any = None,
        tuner_id: str | None = None,
        overwrite: bool = False,
        executions_per_trial: int = 1,
        **kwargs: Any,
    ) -> None:
        if distribution_strategy is not None:
            raise RnnkitValueError(
                "distribution_strategy is not supported: run trials in parallel with "
                "search(..., workers=N) instead."
            )
        if logger is not None:
            raise RnnkitValueError("`logger` is not supported; use the 'rnnkit.tuner' logger.")
        if (
            isinstance(executions_per_trial, bool)
            or not isinstance(executions_per_trial, int)
            or executions_per_trial < 1
        ):
            raise RnnkitValueError(
                "`executions_per_trial` must be an integer >= 1. "
                f"Received: {executions_per_trial!r}."
            )
        self.max_model_size = max_model_size
        self.optimizer, self.loss, self.metrics = optimizer, loss, metrics
        self.executions_per_trial = executions_per_trial
        super().__init__(
            oracle, hypermodel, directory, project_name, overwrite, tuner_id=tuner_id, **kwargs
        )

    def trial_dir(self, trial_id: str) -> Path:
        """Folder of a trial's checkpoint, always inside the project folder.

        Raises:
            StorageError: ``trial_id`` (read back from the study) is not a safe id.
        """
        check_trial_id(trial_id, f"Study {self._study_label()}")
        return self.project_dir / f"trial_{trial_id}"

    def _hp_for(self, values: dict[str, Any]) -> HyperParameters:
        return with_engine(None, values=values, template=self.oracle.hyperparameters)

    def _build_model(self, hp: HyperParameters) -> Any:
        model, self._prebuilt = self._prebuilt, None
        if model is None:
            assert self.hypermodel is not None
            model = self.hypermodel.build(hp)
        if any(a is not None for a in (self.optimizer, self.loss, self.metrics)):
            model.compile(
                optimizer=self.optimizer
                if self.optimizer is not None
                else getattr(model, "optimizer", "adam"),
                loss=self.loss if self.loss is not None else getattr(model, "loss", None),
                metrics=self.metrics,
            )
        if self.max_model_size is not None and hasattr(model, "count_params"):
            size = int(model.count_params())
            if size > self.max_model_size:
                raise FailedTrialError(
                    f"Oversized model: {size} parameters > max_model_size={self.max_model_size}."
                )
        return model

    def _before_fit(self, trial: Trial, model: Any, fit_kwargs: dict[str, Any]) -> None:
        """Hook before each execution's ``fit`` (Hyperband loads the parent here)."""

    def run_trial(self, trial: Trial, *fit_args: Any, **fit_kwargs: Any) -> Any:
        """Train the trial: its executions, on each fold with ``search(cv=...)``.

        Returns:
            One result per execution (see :meth:`_run_executions`), or with folds a
            :class:`~rnnkit.tuner.folds.FoldResults` (see :mod:`rnnkit.tuner.folds`).
        """
        if self._folds:
            return run_folds(self, trial, self._folds, fit_args, fit_kwargs, self._run_executions)
        return self._run_executions(trial, *fit_args, **fit_kwargs)

    def _run_executions(self, trial: Trial, *fit_args: Any, **fit_kwargs: Any) -> list[Any]:
        """Build and fit the trial's model ``executions_per_trial`` times.

        Each execution's model is built after seeding every generator from (search
        seed, trial id, execution, "build") and fitted after seeding them from (...,
        "fit"): the same seed gives the same scores, whichever worker runs the trial,
        in which order, fresh or resumed.

        A trial interrupted by a kill continues from its resume point
        (:mod:`rnnkit.tuner.resume`): executions already finished keep their results
        and the interrupted one continues after its last saved epoch.
        """
        assert self.hypermodel is not None
        saver = _BestCheckpoint(self.trial_dir(trial.trial_id), self.oracle.objective)
        resume = TrialResume.open(saver.folder, self._resume_identity(trial, fit_kwargs))
        results: list[Any] = resume.finished_results()
        try:
            for execution in range(len(results), self.executions_per_trial):
                if results and self._past_deadline():  # max_time: score the executions done
                    break
                model, kwargs, tuner_callback = self._prepare_execution(
                    trial, execution, saver, fit_args, fit_kwargs
                )
                seed_trial(self.oracle.seed, trial.trial_id, execution, "fit")
                resume.start(execution, model, kwargs, saver, own=tuner_callback)
                tuner_callback.resume = resume
                result = self.hypermodel.fit(trial.hyperparameters, model, *fit_args, **kwargs)
                tuner_callback.finish()
                results.append(resume.finish(result))
                del model
        except (FailedTrialError, TrialPruned):  # ended for good: nothing to resume
            resume.remove()
            raise
        resume.remove()
        return results

    def _resume_identity(self, trial: Trial, fit_kwargs: dict[str, Any]) -> dict[str, Any]:
        """What a resume point must match to be used: the trial and its training budget."""
        return {
            "trial_id": trial.trial_id,
            "values": trial.hyperparameters.values,
            "control": trial.control,
            "seed": self.oracle.seed,
            "executions": self.executions_per_trial,
            "epochs": fit_kwargs.get("epochs", 1),
            "batch_size": fit_kwargs.get("batch_size"),
        }

    def _prepare_execution(
        self,
        trial: Trial,
        execution: int,
        saver: _BestCheckpoint,
        fit_args: tuple[Any, ...],
        fit_kwargs: dict[str, Any],
        attempt: Any = None,
    ) -> tuple[Any, dict[str, Any], TunerCallback]:
        """The seeded, built model of one execution, its fit arguments and tuner callback."""
        kwargs = dict(fit_kwargs)
        callbacks = list(kwargs.get("callbacks") or [])
        # a fresh copy per execution; one that cannot be copied is reused (callbacks
        # reset their state in on_train_begin)
        with contextlib.suppress(Exception):
            callbacks = copy.deepcopy(callbacks)
        tuner_callback = TunerCallback(self, execution, saver, attempt)
        kwargs["callbacks"] = [*callbacks, tuner_callback]
        hp = trial.hyperparameters
        if execution > 0 or self._prebuilt is None:
            self._prebuilt = None  # the allocation built execution 0 with the same seed
            seed_trial(self.oracle.seed, trial.trial_id, execution, "build")
        model = self._build_model(hp)
        self._build_for_data(model, trial.trial_id, execution, fit_args, kwargs)
        self._before_fit(trial, model, kwargs)
        return model, kwargs, tuner_callback

    def _build_for_data(
        self,
        model: Any,
        trial_id: str,
        execution: int,
        fit_args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        """Build an unbuilt model for ``x``'s shape now, its weights drawn from the build seed.

        A model whose first layer has no input shape creates its weights when first
        built; building it here, freshly seeded, gives it the same weights whether it is
        then trained alone or in a group.
        """
        if not unbuilt(model):
            return
        x = fit_args[0] if fit_args else kwargs.get("x")
        shape = getattr(x, "shape", None)
        if shape is None or len(shape) < 2:
            return
        seed_trial(self.oracle.seed, trial_id, execution, "build")
        with contextlib.suppress(Exception):  # fit builds it (or explains why it cannot)
            model.build((None, *tuple(shape)[1:]))
        self._remember_input_shape(tuple(int(n) for n in tuple(shape)[1:]))

    def _remember_input_shape(self, shape: tuple[int, ...]) -> None:
        """Record a sample's shape in the study, so ``get_best_models`` can build for it."""
        if getattr(self, "_input_shape_stored", None) == shape:
            return
        self._ensure_open()
        assert self._study is not None
        if self._study.study_attrs().get(INPUT_SHAPE_ATTR) != list(shape):
            self._study.set_study_attr(INPUT_SHAPE_ATTR, list(shape))
        self._input_shape_stored = shape

    def _build_like_the_search(self, model: Any) -> None:
        """Build a model whose first layer has no input shape for the search's samples."""
        if not unbuilt(model):
            return
        self._ensure_open()
        assert self._study is not None
        shape = self._study.study_attrs().get(INPUT_SHAPE_ATTR)
        if isinstance(shape, list) and all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
        ):
            model.build((None, *shape))

    # ------------------------------------------------------------ vectorised
    def _group_limit(
        self, first: Any, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
    ) -> int:
        """Trials to allocate at once: the ``vectorize`` group size when grouping can work.

        ``first`` is the trial just allocated. A failed build or a queued retry runs on
        its own; when its model, the fit arguments or this tuner can never be grouped,
        trials run one by one and the tuner says why, once.
        """
        size = getattr(self, "_group_size", 1)
        if size <= 1 or first.model is None:
            return 1
        reason = self._why_never_grouped(first, fit_args, fit_kwargs)
        if reason is not None:
            if getattr(self, "_said_why", None) != reason:
                logger.info("vectorize: trials run one by one: %s.", reason)
                self._said_why = reason
            return 1
        if self.oracle.max_trials is not None:  # leave a share for every worker
            share = -(-int(self.oracle.max_trials) // max(1, getattr(self, "_workers", 1)))
            size = min(size, share)
        return max(1, size)

    def _why_never_grouped(
        self, first: Any, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
    ) -> str | None:
        if self._folds:
            return "with cv= each trial trains its folds one after another"
        if type(self).run_trial is not Tuner.run_trial:
            return f"{type(self).__name__}.run_trial is overridden"
        if type(self.hypermodel).fit is not HyperModel.fit:
            return f"{type(self.hypermodel).__name__}.fit is overridden"
        x, _, rest = _split_data(fit_args, fit_kwargs)
        if x is None:
            return "x and y are not passed as fit's first arguments"
        stacked = _group_trainer(first.model)
        if stacked is None:
            return f"{type(first.model).__name__} offers no group_training()"
        problem = stacked.fit_problem(x, rest)
        if problem is not None:
            return problem
        self._build_for_data(first.model, first.trial.trial_id, 0, fit_args, fit_kwargs)
        try:
            shape = stacked.structure(first.model)
        except stacked.NotStackable as exc:
            return str(exc)
        if getattr(self, "_vectorize_auto", False) and shape.device == "cpu":
            return (
                "on a CPU rnnkit's native kernels train a stacked group no faster than its "
                "trials one by one (docs/performance.md); vectorize=True groups them anyway"
            )
        return None

    def run_trials(
        self, steps: list[Any], fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
    ) -> list[Any]:
        """Train allocated trials, those whose models share a structure together.

        Trials that cannot be grouped train one by one (as :meth:`run_trial`), and the
        tuner logs one line per trial saying why.

        Returns:
            One result per step: a list of per-execution ``History`` objects, or the
            exception the trial raised (pruning included).
        """
        assert self.hypermodel is not None
        trials = [step.trial for step in steps]
        savers = [
            _BestCheckpoint(self.trial_dir(t.trial_id), self.oracle.objective) for t in trials
        ]
        results: list[Any] = [[] for _ in steps]
        for execution in range(self.executions_per_trial):
            if execution and self._past_deadline():  # max_time: score the executions done
                break
            running = [i for i, r in enumerate(results) if not isinstance(r, BaseException)]
            prepared: dict[int, tuple[Any, dict[str, Any], TunerCallback]] = {}
            for i in running:
                self._prebuilt, steps[i].model = (steps[i].model if execution == 0 else None), None
                try:
                    prepared[i] = self._prepare_execution(
                        trials[i], execution, savers[i], fit_args, fit_kwargs, steps[i].asked
                    )
                except Exception as exc:
                    results[i] = exc
            self._prebuilt = None
            for group, reason in self._groups(prepared, fit_args):
                if len(group) == 1:
                    if reason:
                        logger.info(
                            "vectorize: trial %s not grouped: %s", trials[group[0]].trial_id, reason
                        )
                    self._fit_alone(group[0], trials, prepared, fit_args, execution, results)
                else:
                    self._fit_group(group, trials, prepared, fit_args, execution, results)
        return results

    def _groups(
        self, prepared: dict[int, tuple[Any, dict[str, Any], TunerCallback]], fit_args: Any
    ) -> list[tuple[list[int], str | None]]:
        """Positions that train together, and for each lone trial why it is alone."""
        by_budget: dict[tuple[Any, Any], list[int]] = {}
        for i, (_, kwargs, _) in prepared.items():
            budget = (kwargs.get("epochs", 1), kwargs.get("initial_epoch", 0))
            by_budget.setdefault(budget, []).append(i)
        out: list[tuple[list[int], str | None]] = []
        for members in by_budget.values():
            x, _, rest = _split_data(fit_args, prepared[members[0]][1])
            stacked = _group_trainer(prepared[members[0]][0])
            reason = None
            if stacked is None:
                reason = f"{type(prepared[members[0]][0]).__name__} offers no group_training()"
            elif x is None:
                reason = "x and y are not passed as fit's first arguments"
            if reason is not None:
                out.extend(([i], reason) for i in members)
                continue
            grouping = stacked.group_models([prepared[i][0] for i in members], x, rest)
            out.extend(([members[p] for p in group], None) for group in grouping.groups)
            out.extend(([members[p]], why) for p, why in sorted(grouping.alone.items()))
        return out

    def _fit_alone(self, i, trials, prepared, fit_args, execution, results) -> None:
        model, kwargs, tuner_callback = prepared.pop(i)
        try:
            seed_trial(self.oracle.seed, trials[i].trial_id, execution, "fit")
            result = self.hypermodel.fit(trials[i].hyperparameters, model, *fit_args, **kwargs)
            tuner_callback.finish()
            results[i].append(result)
        except Exception as exc:
            results[i] = exc

    def _fit_group(self, group, trials, prepared, fit_args, execution, results) -> None:
        models = [prepared[i][0] for i in group]
        stacked = _group_trainer(models[0])
        x, y, rest = _split_data(fit_args, prepared[group[0]][1])
        rest.pop("callbacks", None)
        seeds = [derive_seed(self.oracle.seed, trials[i].trial_id, execution, "fit") for i in group]
        callbacks = [prepared[i][1]["callbacks"] for i in group]
        logger.info(
            "vectorize: trials %s train together (%d models).",
            ", ".join(trials[i].trial_id for i in group),
            len(group),
        )
        try:
            histories = stacked.fit_stacked(models, x, y, seeds=seeds, callbacks=callbacks, **rest)
        except Exception as exc:  # the whole group failed (e.g. out of memory)
            for i in group:
                results[i] = exc
            return
        for i, history in zip(group, histories, strict=True):
            try:
                prepared[i][2].finish()
                results[i].append(history)
            except Exception as exc:
                results[i] = exc

    def refit_best(
        self,
        x: Any,
        y: Any,
        *,
        validation_data: tuple[Any, Any] | None = None,
        epochs: int | None = None,
        seed: int | None = None,
        **fit_kwargs: Any,
    ) -> Any:
        """Train the best trial's values on ``x, y`` then ``validation_data``, for the found epochs.

        The model to deploy once the search is over; ``get_best_models()`` is the model
        the search scored. See :func:`rnnkit.tuner.refit.refit_best` for the data order,
        the epoch count (Hyperband promotions, ``executions_per_trial``), the seeds and
        why there is no early stopping; docs/tuning.md, "The best model: get_best_models
        or refit_best", compares the two.

        Args:
            x: Training inputs.
            y: Training targets.
            validation_data: ``(x_val, y_val)``, trained on after ``x, y``. Defaults to
                `None`.
            epochs: Epochs instead of the found count. Defaults to `None`.
            seed: Seed of the build and fit seeds. Defaults to `None` (the search's).
            **fit_kwargs: Passed to ``hypermodel.fit`` (``batch_size``, ``callbacks``, ...).

        Returns:
            A :class:`~rnnkit.tuner.refit.RefitResult`; ``.model`` is the trained model.

        Raises:
            NoCompletedTrialError: no trial completed.
        """
        from rnnkit.tuner import refit  # refit imports this module

        return refit.refit_best(
            self, x, y, validation_data=validation_data, epochs=epochs, seed=seed, **fit_kwargs
        )

    def save_model(self, trial_id: str, model: Any, step: int = 0) -> None:
        """Save ``model`` as the trial's checkpoint (keras-tuner's ``Tuner.save_model``).

        For a custom ``run_trial`` (keras-tuner's cross-validation recipe calls it
        after ``self.oracle.update_trial``): ``get_best_models()`` loads what was saved
        last. The checkpoint records ``step`` and the objective value reported for it
        (NaN when none was).

        Args:
            trial_id: The trial's id.
            model: A model with ``save_weights`` (rnnkit's and Keras's models).
            step: The epoch the weights belong to. Defaults to `0`.

        Raises:
            RnnkitTypeError: ``model`` has no ``save_weights``.
            CheckpointError: the files could not be written.
        """
        if not callable(getattr(model, "save_weights", None)):
            raise RnnkitTypeError(
                f"{type(self).__name__}.save_model(): the model must have save_weights() to "
                f"be checkpointed. Received: {type(model).__name__}. Drop the save_model call "
                "or return a model with save_weights."
            )
        reported = self._updates.get(step, {})
        objective = self.oracle.objective
        value = objective.get_value(reported) if objective.has_value(reported) else math.nan
        _checkpoint.save_checkpoint(self.trial_dir(trial_id), model, epoch=step, value=value)

    def get_best_models(self, num_models: int = 1) -> list[Any]:
        """The best trials' models with their best-epoch weights.

        keras-tuner's documentation recommends retraining the best
        hyperparameters on all data instead; these are the models as searched.

        Raises:
            CheckpointError: a best trial has no usable checkpoint (for example its
                worker ran on another machine with a non-shared ``directory``).
        """
        assert self.hypermodel is not None
        models = []
        for trial in self._best_trials(num_models):
            model = self.hypermodel.build(self._hp_for(trial.values))
            folder = self.trial_dir(trial.trial_id)
            if not _checkpoint.has_checkpoint(folder):
                raise CheckpointError(
                    f"Trial {trial.trial_id} has no checkpoint in {folder} (was it run on "
                    f"{trial.worker or 'another worker'} with a non-shared directory?)."
                )
            self._build_like_the_search(model)  # built without an input shape: weights now
            _checkpoint.load_checkpoint(folder, model, with_optimizer=False)
            models.append(model)
        return models


class RandomSearch(Tuner):
    """Random search (see :class:`~rnnkit.tuner.oracles.RandomSearchOracle`)."""

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int = 10,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        **kwargs: Any,
    ) -> None:
        oracle = RandomSearchOracle(
            objective=objective,
            max_trials=max_trials,
            seed=seed,
            hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        super().__init__(oracle, hypermodel, **kwargs)


class GridSearch(Tuner):
    """Grid search: every combination once (see :class:`~rnnkit.tuner.oracles.GridSearchOracle`)."""

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int | None = None,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        **kwargs: Any,
    ) -> None:
        oracle = GridSearchOracle(
            objective=objective,
            max_trials=max_trials,
            seed=seed,
            hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        super().__init__(oracle, hypermodel, **kwargs)


class BayesianOptimization(Tuner):
    """Bayesian optimisation on Optuna's ``GPSampler`` (``sampler="tpe"`` for TPE).

    See :class:`~rnnkit.tuner.oracles.BayesianOptimizationOracle` for the arguments.
    """

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int = 10,
        num_initial_points: int | None = None,
        alpha: float = 1e-4,
        beta: float = 2.6,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        *,
        sampler: str = "gp",
        **kwargs: Any,
    ) -> None:
        oracle = BayesianOptimizationOracle(
            objective=objective,
            max_trials=max_trials,
            num_initial_points=num_initial_points,
            alpha=alpha,
            beta=beta,
            seed=seed,
            hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            sampler=sampler,
        )
        super().__init__(oracle, hypermodel, **kwargs)


class Hyperband(Tuner):
    """Hyperband with keras-tuner's schedule; promotions keep optimizer state.

    ``search_cost()`` previews the schedule: the tutorial's ``max_epochs=100,
    factor=3, hyperband_iterations=5`` means up to 1,270 trials.

    Args:
        max_epochs: The most epochs one model trains. Defaults to `100`.
        factor: Reduction factor. Defaults to `3`.
        hyperband_iterations: Sweeps over all brackets. Defaults to `1`.
        max_trials: Optional cap on trials. Defaults to `None`.

    Other arguments: as :class:`RandomSearch`.
    """

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_epochs: int = 100,
        factor: int = 3,
        hyperband_iterations: int = 1,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        *,
        max_trials: int | None = None,
        **kwargs: Any,
    ) -> None:
        oracle = HyperbandOracle(
            objective=objective,
            max_epochs=max_epochs,
            factor=factor,
            hyperband_iterations=hyperband_iterations,
            seed=seed,
            hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            max_trials=max_trials,
        )
        super().__init__(oracle, hypermodel, **kwargs)

    def search_cost(self) -> HyperbandPlan:
        """The schedule and its maximum cost (trials within ``max_trials``, epochs, time).

        The time estimate comes from the epochs already measured in this study
        (finished trials' wall-clock time over the epochs they reported, so building
        and checkpointing count); before any epoch has been measured there is none.

        Example:
            ``print(tuner.search_cost())`` shows one row per bracket round.
        """
        self._ensure_open()
        assert self._study is not None
        seconds, epochs = 0.0, 0
        for attempt in self._study.attempts():
            took = attempt.attr("result", {}).get("duration_s")
            if attempt.state.is_finished and attempt.intermediate and took is not None:
                seconds += float(took)
                epochs += len(attempt.intermediate)
        return self.oracle.schedule.plan(
            self.oracle.max_trials,
            seconds_per_epoch=seconds / epochs if epochs else None,
            epochs_measured=epochs,
        )

    plan = search_cost

    def _before_fit(self, trial: Trial, model: Any, fit_kwargs: dict[str, Any]) -> None:
        control = trial.control
        if "epochs" not in control:
            return
        fit_kwargs["epochs"] = control["epochs"]
        fit_kwargs["initial_epoch"] = control["initial_epoch"]
        parent = control.get("parent")
        if not parent:
            return
        folder = self.trial_dir(parent)
        try:
            entry = _checkpoint.load_checkpoint(folder, model, with_optimizer=True)
        except Exception as exc:  # no usable parent checkpoint: train from scratch
            logger.warning(
                "Trial %s: could not continue from trial %s (%s); training from epoch 0.",
                trial.trial_id,
                parent,
                exc,
            )
            fit_kwargs["initial_epoch"] = 0
            return
        if not entry.get("optimizer_loaded"):
            logger.info(
                "Trial %s continues trial %s without optimizer state.", trial.trial_id, parent
            )


def _group_trainer(model: Any) -> Any:
    """What trains `model` together with others of its structure, or ``None``.

    The tuner sees a model only through ``build(hp)`` and ``fit`` (the import contract
    in pyproject.toml); a model class that can train in a stacked group offers a
    ``group_training()`` hook returning the trainer (rnnkit's models return
    ``rnnkit.models.stacked``). Any other model trains one by one.
    """
    hook = getattr(model, "group_training", None)
    return hook() if callable(hook) else None


def _split_data(
    fit_args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, Any, dict[str, Any]]:
    """``x``, ``y`` and the other fit arguments (``x`` is ``None`` unless fit takes plain x, y)."""
    rest = {k: v for k, v in kwargs.items() if k not in ("x", "y")}
    x = fit_args[0] if fit_args else kwargs.get("x")
    y = fit_args[1] if len(fit_args) > 1 else kwargs.get("y")
    if len(fit_args) > 2 or y is None:
        return None, None, rest
    return x, y, rest
