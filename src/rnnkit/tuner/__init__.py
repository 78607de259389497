"""Hyperparameter tuning with keras-tuner's API, on Optuna: ``import rnnkit.tuner as kt``.

Code written for ``keras_tuner`` runs with the import changed, and gains parallel
workers (``search(..., workers=N)``), crash-safe resuming, a time budget
(``max_time=``), Optuna pruners, exact decimal grids, Hyperband cost previews and
scale-out to many machines on PostgreSQL (``storage="postgresql://..."``).
See ``docs/tuning.md``.

Example:
    >>> import rnnkit.tuner as kt
    >>> hp = kt.HyperParameters()
    >>> hp.Float("dropout", 0.0, 0.5, step=0.1), hp.space[0].grid()[-1]
    (0.0, 0.5)
    >>> kt.Hyperband.__name__, kt.Objective("val_loss", "min")
    ('Hyperband', Objective(name="val_loss", direction="min"))
"""

from rnnkit.tuner import errors, oracles
from rnnkit.tuner.base_tuner import BaseTuner, TrialPruned
from rnnkit.tuner.errors import (
    FailedTrialError,
    FatalError,
    FatalRuntimeError,
    FatalTypeError,
    FatalValueError,
)
from rnnkit.tuner.hyperband import HyperbandPlan, HyperbandSchedule
from rnnkit.tuner.hypermodel import HyperModel
from rnnkit.tuner.hyperparameters import HyperParameters
from rnnkit.tuner.objective import Objective
from rnnkit.tuner.oracles import (
    BayesianOptimizationOracle,
    GridSearchOracle,
    HyperbandOracle,
    Oracle,
    RandomSearchOracle,
)
from rnnkit.tuner.sklearn import SklearnTuner
from rnnkit.tuner.trial import Trial, TrialStatus
from rnnkit.tuner.tuners import BayesianOptimization, GridSearch, Hyperband, RandomSearch, Tuner

# keras-tuner spells it both ways
Sklearn = SklearnTuner

__all__ = [
    "BaseTuner",
    "BayesianOptimization",
    "BayesianOptimizationOracle",
    "FailedTrialError",
    "FatalError",
    "FatalRuntimeError",
    "FatalTypeError",
    "FatalValueError",
    "GridSearch",
    "GridSearchOracle",
    "HyperModel",
    "HyperParameters",
    "Hyperband",
    "HyperbandOracle",
    "HyperbandPlan",
    "HyperbandSchedule",
    "Objective",
    "Oracle",
    "RandomSearch",
    "RandomSearchOracle",
    "Sklearn",
    "SklearnTuner",
    "Trial",
    "TrialPruned",
    "TrialStatus",
    "Tuner",
    "errors",
    "oracles",
]
