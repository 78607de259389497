"""Hyperparameter tuning with keras-tuner's API, on Optuna: ``import rnnkit.tuner as kt``.

Code written for ``keras_tuner`` runs with the import changed, and gains parallel
workers (``search(..., workers=N)``), crash-safe resuming, a time budget
(``max_time=``), Optuna pruners, exact decimal grids, Hyperband cost previews,
scale-out to many machines on PostgreSQL (``storage="postgresql://..."``) and
``refit_best`` (the best values trained again on training + validation data).
See ``docs/tuning.md``.

Example:
    >>> import rnnkit.tuner as kt
    >>> hp = kt.HyperParameters()
    >>> hp.Float("dropout", 0.0, 0.5, step=0.1), hp.space[0].grid()[-1]
    (0.0, 0.5)
    >>> kt.Hyperband.__name__, kt.Objective("val_loss", "min")
    ('Hyperband', Objective(name="val_loss", direction="min"))
    >>> from rnnkit.tuner.engine.hyperparameters import HyperParameters
    >>> HyperParameters is kt.HyperParameters
    True
"""

import sys
import types

from rnnkit.tuner import base_tuner as _base_tuner
from rnnkit.tuner import errors
from rnnkit.tuner import hypermodel as _hypermodel
from rnnkit.tuner import hyperparameters as _hyperparameters
from rnnkit.tuner import objective as _objective
from rnnkit.tuner import oracles
from rnnkit.tuner import refit
from rnnkit.tuner import trial as _trial
from rnnkit.tuner import tuners
from rnnkit.tuner._optuna import list_studies
from rnnkit.tuner._worker_loop import TrialPruned
from rnnkit.tuner.base_tuner import BaseTuner
from rnnkit.tuner.errors import FailedTrialError
from rnnkit.tuner.errors import FatalError
from rnnkit.tuner.errors import FatalRuntimeError
from rnnkit.tuner.errors import FatalTypeError
from rnnkit.tuner.errors import FatalValueError
from rnnkit.tuner.hyperband import HyperbandPlan
from rnnkit.tuner.hyperband import HyperbandSchedule
from rnnkit.tuner.hypermodel import HyperModel
from rnnkit.tuner.hyperparameters import HyperParameters
from rnnkit.tuner.objective import Objective
from rnnkit.tuner.oracles import BayesianOptimizationOracle
from rnnkit.tuner.oracles import GridSearchOracle
from rnnkit.tuner.oracles import HyperbandOracle
from rnnkit.tuner.oracles import Oracle
from rnnkit.tuner.oracles import RandomSearchOracle
from rnnkit.tuner.refit import NoCompletedTrialError
from rnnkit.tuner.refit import RefitResult
from rnnkit.tuner.refit import refit_best
from rnnkit.tuner.sklearn import SklearnTuner
from rnnkit.tuner.trial import Trial
from rnnkit.tuner.trial import TrialStatus
from rnnkit.tuner.tuners import BayesianOptimization
from rnnkit.tuner.tuners import GridSearch
from rnnkit.tuner.tuners import Hyperband
from rnnkit.tuner.tuners import RandomSearch
from rnnkit.tuner.tuners import Tuner

# keras-tuner spells it both ways
Sklearn = SklearnTuner

# keras-tuner's module paths (``kt.engine.hyperparameters.HyperParameters``, ...)
engine = types.ModuleType("rnnkit.tuner.engine", "keras-tuner's ``keras_tuner.engine`` names.")
for _name, _module in {
    "base_tuner": _base_tuner,
    "hypermodel": _hypermodel,
    "hyperparameters": _hyperparameters,
    "objective": _objective,
    "oracle": oracles,
    "trial": _trial,
    "tuner": tuners,
}.items():
    setattr(engine, _name, _module)
    sys.modules[f"rnnkit.tuner.engine.{_name}"] = _module
sys.modules["rnnkit.tuner.engine"] = engine

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
    "NoCompletedTrialError",
    "Objective",
    "Oracle",
    "RandomSearch",
    "RandomSearchOracle",
    "RefitResult",
    "Sklearn",
    "SklearnTuner",
    "Trial",
    "TrialPruned",
    "TrialStatus",
    "Tuner",
    "engine",
    "errors",
    "list_studies",
    "oracles",
    "refit",
    "refit_best",
    "tuners",
]
