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
from pathlib import Path
from typing import Any

from rnnkit.callbacks.base import Callback
from rnnkit.errors import CheckpointError
from rnnkit.errors import RnnkitValueError
from rnnkit.tuner import _checkpoint
from rnnkit.tuner._worker_loop import TrialPruned
from rnnkit.tuner._worker_loop import check_trial_id
from rnnkit.tuner.base_tuner import BaseTuner
from rnnkit.tuner.errors import FailedTrialError
from rnnkit.tuner.hyperband import HyperbandPlan
from rnnkit.tuner.hyperparameters import HyperParameters
from rnnkit.tuner.hyperparameters import with_engine
from rnnkit.tuner.objective import Objective
from rnnkit.tuner.objective import is_finite
from rnnkit.tuner.oracles import BayesianOptimizationOracle
from rnnkit.tuner.oracles import GridSearchOracle
from rnnkit.tuner.oracles import HyperbandOracle
from rnnkit.tuner.oracles import Oracle
from rnnkit.tuner.oracles import RandomSearchOracle
from rnnkit.tuner.trial import Trial

logger = logging.getLogger("rnnkit.tuner")


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
    """Added to every trial's ``fit``: checkpoints, pruning reports, NaN guard."""

    def __init__(self, tuner: BaseTuner, execution: int, saver: _BestCheckpoint) -> None:
        super().__init__()
        self.tuner, self.execution, self.saver = tuner, execution, saver
        self.objective: Objective = tuner.oracle.objective
        self.failure: str | None = None
        self.pruned = False
        self._epoch = 0

    def _fail(self, reason: str) -> None:
        self.failure = self.failure or reason
        if self.model is not None:
            self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        """Remember the epoch, to name it in a failure message."""
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        """Stop training at the first batch whose loss is NaN or infinite."""
        loss = (logs or {}).get("loss")
        if loss is not None and not is_finite(loss):
            self._fail(f"non-finite loss ({float(loss)}) at epoch {self._epoch}, batch {batch}")

    def on_epoch_end(self, epoch, logs=None):
        """Check the epoch's logs, checkpoint a new best epoch and report to the pruner.

        A non-finite loss or objective fails the trial. Only the first execution of a
        trial reports; training stops when the pruner says so.
        """
        logs = logs or {}
        for key in ("loss", *self.objective.names):
            if key in logs and not is_finite(logs[key]):
                self._fail(f"non-finite {key} ({float(logs[key])}) at epoch {epoch}")
                return
        if not self.objective.has_value(logs):
            return
        value = self.objective.get_value(logs)
        self.saver.update(self.model, epoch, value)
        if self.execution == 0 and self.tuner.report(value, epoch):
            self.pruned = True
            if self.model is not None:
                self.model.stop_training = True

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

    def run_trial(self, trial: Trial, *fit_args: Any, **fit_kwargs: Any) -> list[Any]:
        """Build and fit the trial's model ``executions_per_trial`` times."""
        assert self.hypermodel is not None
        saver = _BestCheckpoint(self.trial_dir(trial.trial_id), self.oracle.objective)
        results = []
        for execution in range(self.executions_per_trial):
            kwargs = dict(fit_kwargs)
            callbacks = list(kwargs.get("callbacks") or [])
            # a fresh copy per execution; one that cannot be copied is reused (callbacks
            # reset their state in on_train_begin)
            with contextlib.suppress(Exception):
                callbacks = copy.deepcopy(callbacks)
            tuner_callback = TunerCallback(self, execution, saver)
            kwargs["callbacks"] = [*callbacks, tuner_callback]
            hp = trial.hyperparameters
            model = self._build_model(hp)
            self._before_fit(trial, model, kwargs)
            result = self.hypermodel.fit(hp, model, *fit_args, **kwargs)
            tuner_callback.finish()
            results.append(result)
            del model
        return results

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
        """The schedule and its maximum cost (trials, epochs) before running anything.

        Example:
            ``print(tuner.search_cost())`` shows one row per bracket round.
        """
        return self.oracle.schedule.plan()

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
