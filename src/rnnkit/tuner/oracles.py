"""Oracles: what configuration to try next, with keras-tuner's names and arguments.

An oracle decides; the tuner runs. Here the oracle's state is not a file of its
own: it is recomputed from the Optuna study on every decision, under a lock shared
by all workers, which is what makes parallel workers and resuming exact.

- :class:`RandomSearchOracle`: independent draws; value ``k`` of trial ``i`` comes
  from a generator seeded with ``(seed, i, k)``, so a resumed search proposes what
  an uninterrupted one would have proposed.
- :class:`GridSearchOracle`: every combination once, first hyperparameter slowest.
- :class:`BayesianOptimizationOracle`: Optuna's ``GPSampler`` (or ``TPESampler`` with
  ``sampler="tpe"``).
- :class:`HyperbandOracle`: keras-tuner's brackets (see :mod:`rnnkit.tuner.hyperband`).

No oracle proposes a configuration twice: duplicates are redrawn; after 20 collisions
the oracle picks an untried point of the (finite) space, and stops when none is left.

One job, the oracles; the four keras-tuner oracles share one base class and read best
side by side.

Example:
    >>> oracle = RandomSearchOracle(objective="val_loss", max_trials=5, seed=1)
    >>> oracle.objective, oracle.max_trials
    (Objective(name="val_loss", direction="min"), 5)
"""

from __future__ import annotations

import enum
import random
import warnings
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from rnnkit._validation import check_int
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.tuner._hp_types import HyperParameter
from rnnkit.tuner._view import SearchView
from rnnkit.tuner._view import iter_grid
from rnnkit.tuner.hyperband import HyperbandSchedule
from rnnkit.tuner.hyperband import next_hyperband_trial
from rnnkit.tuner.hyperparameters import HyperParameters
from rnnkit.tuner.objective import create_objective
from rnnkit.tuner.trial import Trial
from rnnkit.tuner.trial import TrialStatus

MAX_COLLISIONS = 20


class ProposalKind(str, enum.Enum):
    """What the oracle wants next."""

    NEW = "NEW"
    IDLE = "IDLE"
    STOPPED = "STOPPED"


class EngineKind(str, enum.Enum):
    """Where a new trial's values come from."""

    RANDOM = "random"  # rnnkit's seeded draws
    PRESET = "preset"  # given values (grid point, promotion); defaults for the rest
    SAMPLER = "sampler"  # the study's Optuna sampler


@dataclass
class Proposal:
    """The oracle's answer."""

    kind: ProposalKind
    engine: EngineKind = EngineKind.RANDOM
    values: dict[str, Any] = field(default_factory=dict)
    control: dict[str, Any] = field(default_factory=dict)
    parent: Trial | None = None
    dedup: bool = True


def random_engine(seed: int, index: int, redraw: int) -> Any:
    """Draw each hyperparameter from a generator seeded by (seed, trial, redraw, name)."""

    def engine(hp: HyperParameter) -> Any:
        return hp.prob_to_value(random.Random(f"{seed}:{index}:{redraw}:{hp.name}").random())

    return engine


class Oracle:
    """Base oracle: the arguments every keras-tuner oracle takes.

    Args:
        objective: Metric name, :class:`~rnnkit.tuner.Objective`, or a list. Defaults
            to `None` (``fit`` returns a float to minimise).
        max_trials: Trials to run (logical: retries do not count). Defaults to `None`.
        hyperparameters: A ``HyperParameters`` that pre-declares or overrides
            entries. Defaults to `None`.
        allow_new_entries: Whether ``build`` may declare entries not in
            ``hyperparameters``. Defaults to `True`.
        tune_new_entries: Whether such new entries are tuned (else kept at their
            default). Defaults to `True`.
        seed: Random seed; ``0`` is a valid seed (unlike keras-tuner). Defaults to
            `None` (chosen once and stored in the study, so a resumed search keeps it).
        max_retries_per_trial: Retries of a trial that raised. Defaults to `0`.
        max_consecutive_failed_trials: Failed trials in a row that stop the search.
            Defaults to `3`.
    """

    sampler_kind = "random"

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = None,
        hyperparameters: HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        seed: int | None = None,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
    ) -> None:
        caller = type(self).__name__
        self.objective = create_objective(objective)
        self.max_trials = check_int(
            "max_trials", max_trials, minimum=1, allow_none=True, caller=caller
        )
        if hyperparameters is not None and not isinstance(hyperparameters, HyperParameters):
            raise RnnkitTypeError(
                f"{caller}: `hyperparameters` must be a kt.HyperParameters. "
                f"Received: {type(hyperparameters).__name__}."
            )
        self.hyperparameters = hyperparameters.copy() if hyperparameters else HyperParameters()
        self.hyperparameters._allow_new_entries = bool(allow_new_entries)
        self.hyperparameters._tune_new_entries = bool(tune_new_entries)
        self.seed = check_int("seed", seed, minimum=0, allow_none=True, caller=caller)
        self.max_retries_per_trial = check_int(
            "max_retries_per_trial",
            max_retries_per_trial,
            minimum=0,
            allow_none=False,
            caller=caller,
        )
        self.max_consecutive_failed_trials = check_int(
            "max_consecutive_failed_trials",
            max_consecutive_failed_trials,
            minimum=1,
            allow_none=False,
            caller=caller,
        )
        self._tuner: Any = None

    # --------------------------------------------------------------- decisions
    def settings(self) -> dict[str, Any]:
        """Settings that must not change when a project is resumed."""
        return {"oracle": type(self).__name__}

    def populate(self, view: SearchView, space: list[HyperParameter]) -> Proposal:
        """Decide the next trial (called under the allocation lock)."""
        return Proposal(ProposalKind.NEW, EngineKind.RANDOM)

    def n_startup_trials(self) -> int:
        """Random trials before a model-based sampler takes over."""
        return 0

    # ------------------------------------------------ keras-tuner style access
    def _require_tuner(self) -> Any:
        if self._tuner is None:
            raise RnnkitValueError(f"{type(self).__name__} is not attached to a tuner yet.")
        return self._tuner

    @property
    def trials(self) -> dict[str, Trial]:
        """``{trial_id: Trial}`` of the study."""
        return {t.trial_id: t for t in self._require_tuner()._view().ordered()}

    def update_trial(self, trial_id: str, metrics: dict[str, float], step: int = 0) -> TrialStatus:
        """Report a running trial's metrics (keras-tuner's way, for a custom ``run_trial``).

        A ``run_trial`` that returns ``None`` is scored on what it reported here: the
        objective's best value over the reported steps (keras-tuner's semantics; the
        newer keras-tuner form, returning the metrics from ``run_trial``, works too).
        Each objective value reaches the study at ``step`` (optuna-dashboard draws it)
        and the pruner judges it.

        Args:
            trial_id: The running trial's id (``trial.trial_id``).
            metrics: Metric name -> value, e.g. ``{"val_loss": 0.25}``.
            step: The epoch (or other step) the values belong to. Defaults to `0`.

        Returns:
            ``TrialStatus.STOPPED`` when the pruner says stop (return from
            ``run_trial``: the trial ends PRUNED), else ``TrialStatus.RUNNING``.

        Raises:
            RnnkitValueError: another trial's id, metrics that are not numbers, or a
                negative step.
        """
        return self._require_tuner()._record_update(trial_id, metrics, step)

    def get_trial(self, trial_id: str) -> Trial:
        """One trial by id."""
        return self.trials[trial_id]

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        """The best completed trials, best first."""
        return self._require_tuner()._best_trials(num_trials)

    def get_space(self) -> HyperParameters:
        """The known search space."""
        return self._require_tuner()._space_hp()

    @property
    def remaining_trials(self) -> int | None:
        """Trials left before ``max_trials`` (``None`` when unlimited)."""
        if self.max_trials is None:
            return None
        return max(0, self.max_trials - self._require_tuner()._view().count)


class RandomSearchOracle(Oracle):
    """Random search (keras-tuner argument order; see :class:`Oracle`)."""

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = 10,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
    ) -> None:
        super().__init__(
            objective,
            max_trials,
            hyperparameters,
            allow_new_entries,
            tune_new_entries,
            seed,
            max_retries_per_trial,
            max_consecutive_failed_trials,
        )


class GridSearchOracle(Oracle):
    """Every combination of the space, once (a Float without step gives 10 points)."""

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = None,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
    ) -> None:
        super().__init__(
            objective,
            max_trials,
            hyperparameters,
            allow_new_entries,
            tune_new_entries,
            seed,
            max_retries_per_trial,
            max_consecutive_failed_trials,
        )

    def populate(self, view: SearchView, space: list[HyperParameter]) -> Proposal:
        """Propose the first grid combination not tried yet; idle or stopped once all were."""
        from rnnkit.tuner._view import values_key

        for combo in iter_grid(space):
            if values_key(combo) not in view.tried:
                return Proposal(ProposalKind.NEW, EngineKind.PRESET, values=combo)
        return Proposal(ProposalKind.IDLE if view.running else ProposalKind.STOPPED)


class BayesianOptimizationOracle(Oracle):
    """Bayesian optimisation with Optuna's Gaussian-process sampler.

    Args:
        num_initial_points: Random trials before the model is used. Defaults to
            `None`: ``max(2, min(10, max_trials // 3))`` (keras-tuner uses
            ``3 * len(space)``, which keeps small searches purely random).
        alpha: keras-tuner's GP noise. Accepted for compatibility; Optuna's
            ``GPSampler`` fits its own noise, so other values warn. Defaults to `1e-4`.
        beta: keras-tuner's UCB weight; likewise ignored with a warning. Defaults to `2.6`.
        sampler: ``"gp"`` (Gaussian process) or ``"tpe"``. Defaults to `"gp"`.

    Other arguments: see :class:`Oracle`.
    """

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = 10,
        num_initial_points: int | None = None,
        alpha: float = 1e-4,
        beta: float = 2.6,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        *,
        sampler: str = "gp",
    ) -> None:
        super().__init__(
            objective,
            max_trials,
            hyperparameters,
            allow_new_entries,
            tune_new_entries,
            seed,
            max_retries_per_trial,
            max_consecutive_failed_trials,
        )
        if sampler not in ("gp", "tpe"):
            raise RnnkitValueError(
                f"BayesianOptimization: unknown sampler {sampler!r}. Expected 'gp' or 'tpe'."
            )
        if (alpha, beta) != (1e-4, 2.6):
            warnings.warn(
                "BayesianOptimization: `alpha` and `beta` configure keras-tuner's own GP and "
                "are ignored by Optuna's GPSampler (which fits its noise and uses log-EI).",
                stacklevel=2,
            )
        self.num_initial_points = check_int(
            "num_initial_points",
            num_initial_points,
            minimum=0,
            allow_none=True,
            caller="BayesianOptimization",
        )
        self.alpha, self.beta = alpha, beta
        self.sampler_kind = sampler

    def n_startup_trials(self) -> int:
        """Random trials before the sampler takes over.

        ``num_initial_points`` when given, else ``max(2, min(10, max_trials // 3))`` (10 when
        ``max_trials`` is unlimited).
        """
        if self.num_initial_points is not None:
            return self.num_initial_points
        if self.max_trials is None:
            return 10
        return max(2, min(10, self.max_trials // 3))

    def settings(self) -> dict[str, Any]:
        """Settings a resumed search must keep: the oracle and its sampler (``gp`` or ``tpe``)."""
        return {"oracle": type(self).__name__, "sampler": self.sampler_kind}

    def populate(self, view: SearchView, space: list[HyperParameter]) -> Proposal:
        """Propose a new trial whose values the Optuna sampler (GP or TPE) chooses."""
        return Proposal(ProposalKind.NEW, EngineKind.SAMPLER)


class HyperbandOracle(Oracle):
    """Hyperband (keras-tuner's brackets, promotions that keep optimizer state).

    Args:
        max_epochs: The most epochs one model trains. Defaults to `100`.
        factor: Reduction factor between rounds. Defaults to `3`.
        hyperband_iterations: Sweeps over all brackets. Defaults to `1`.
        max_trials: Optional cap on trials (keras-tuner has none). Defaults to `None`.

    Other arguments: see :class:`Oracle`.
    """

    def __init__(
        self,
        objective: Any = None,
        max_epochs: int = 100,
        factor: int = 3,
        hyperband_iterations: int = 1,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        *,
        max_trials: int | None = None,
    ) -> None:
        super().__init__(
            objective,
            max_trials,
            hyperparameters,
            allow_new_entries,
            tune_new_entries,
            seed,
            max_retries_per_trial,
            max_consecutive_failed_trials,
        )
        self.schedule = HyperbandSchedule(max_epochs, factor, hyperband_iterations)
        self.max_epochs, self.factor = max_epochs, factor
        self.hyperband_iterations = hyperband_iterations

    def settings(self) -> dict[str, Any]:
        """Settings a resumed search must keep: the oracle and its Hyperband schedule."""
        s = self.schedule
        return {
            "oracle": type(self).__name__,
            "max_epochs": s.max_epochs,
            "factor": s.factor,
            "hyperband_iterations": s.iterations,
        }

    def populate(self, view: SearchView, space: list[HyperParameter]) -> Proposal:
        """Propose the next Hyperband trial: a promotion of a bracket's best, or a fresh random one.

        When no trial can start, the oracle idles while others run, else the search stops.
        """
        choice = next_hyperband_trial(self.schedule, view.ordered(), self.objective.direction)
        if choice is None:
            return Proposal(ProposalKind.IDLE if view.running else ProposalKind.STOPPED)
        if choice.parent is not None:
            return Proposal(
                ProposalKind.NEW,
                EngineKind.PRESET,
                values=dict(choice.parent.values),
                control=choice.control,
                parent=choice.parent,
                dedup=False,
            )
        return Proposal(ProposalKind.NEW, EngineKind.RANDOM, control=choice.control)


def median_pruner(*, startup_trials: int, warmup_epochs: int) -> Any:
    """Optuna's median rule, for callers that must not import optuna themselves.

    Args:
        startup_trials: Trials that finish before any is pruned.
        warmup_epochs: Epochs a trial always runs before it can be pruned.

    Returns:
        An ``optuna.pruners.MedianPruner`` to pass as ``pruner=``.

    Example:
        >>> type(median_pruner(startup_trials=2, warmup_epochs=4)).__name__
        'MedianPruner'
    """
    import optuna

    return optuna.pruners.MedianPruner(
        n_startup_trials=startup_trials, n_warmup_steps=warmup_epochs
    )
