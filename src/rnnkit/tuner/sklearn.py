"""Tuning scikit-learn estimators with cross-validation (keras-tuner's ``SklearnTuner``).

The hypermodel returns an estimator; each trial fits it on every fold of ``cv`` and
reports ``{"score": mean fold score, <metric>: mean}``. For time series pass
``cv=TimeSeriesSplit(n_splits=5)``: keras-tuner's default ``KFold(5, shuffle=True)``
trains on the future and validates on the past.

Unlike keras-tuner nothing is pickled to disk; :meth:`SklearnTuner.get_best_models`
refits the best configurations on the data of the last ``search``.

Example:
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.model_selection import TimeSeriesSplit
    >>> import rnnkit.tuner as kt
    >>> tuner = kt.SklearnTuner(
    ...     oracle=kt.oracles.GridSearchOracle(kt.Objective("score", "max"), max_trials=3),
    ...     hypermodel=lambda hp: Ridge(alpha=hp.Choice("alpha", [0.1, 1.0, 10.0])),
    ...     cv=TimeSeriesSplit(n_splits=3),
    ...     directory=getfixture("tmp_path"), project_name="ridge")
    >>> x = np.arange(60.0).reshape(30, 2); y = x @ np.array([1.0, -2.0])
    >>> tuner.search(x, y)
    >>> tuner.get_best_hyperparameters()[0].get("alpha")
    0.1
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnkit.errors import NotFittedError
from rnnkit.tuner.base_tuner import BaseTuner
from rnnkit.tuner.hyperparameters import with_engine
from rnnkit.tuner.objective import Objective
from rnnkit.tuner.oracles import Oracle
from rnnkit.tuner.trial import Trial


def _take(data: Any, index: np.ndarray) -> Any:
    if data is None:
        return None
    if hasattr(data, "iloc"):
        return data.iloc[index]
    return np.asarray(data)[index]


class SklearnTuner(BaseTuner):
    """Tune scikit-learn style estimators with cross-validation.

    Args:
        oracle: An oracle (``kt.oracles.BayesianOptimizationOracle(...)``, …). With no
            objective the tuner maximises ``"score"``.
        hypermodel: ``build(hp) -> estimator``.
        scoring: ``scoring(estimator, X, y)`` (e.g. from ``sklearn.metrics.make_scorer``)
            or a scorer name. Defaults to `None` (``estimator.score``).
        metrics: Extra ``metric(y_true, y_pred)`` functions reported per trial.
            Defaults to `None`.
        cv: A scikit-learn splitter. Defaults to `None` (keras-tuner's
            ``KFold(5, shuffle=True, random_state=1)``).
        **kwargs: ``directory``, ``project_name``, ``overwrite``, ``storage``, …
    """

    def __init__(
        self,
        oracle: Oracle,
        hypermodel: Any,
        scoring: Any = None,
        metrics: Sequence[Callable[..., float]] | None = None,
        cv: Any = None,
        **kwargs: Any,
    ) -> None:
        from sklearn import metrics as sk_metrics
        from sklearn import model_selection

        if isinstance(oracle, Oracle) and oracle.objective.name == "default_objective":
            oracle.objective = Objective("score", "max")
        self.scoring = sk_metrics.get_scorer(scoring) if isinstance(scoring, str) else scoring
        self.metrics = list(metrics or [])
        self.cv = cv if cv is not None else model_selection.KFold(5, shuffle=True, random_state=1)
        self._last_data: tuple[Any, ...] | None = None
        super().__init__(oracle, hypermodel, **kwargs)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_last_data"] = None
        return state

    def search(  # type: ignore[override]
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        groups: Any = None,
        *,
        workers: int = 1,
        max_time: float | None = None,
    ) -> None:
        """Cross-validate trials on ``X, y`` (``workers``/``max_time`` as in ``BaseTuner``)."""
        self._last_data = (X, y, sample_weight)
        super().search(
            X, y, sample_weight=sample_weight, groups=groups, workers=workers, max_time=max_time
        )

    def _validate_data(self, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]) -> None:
        """scikit-learn estimators validate their own input (columns may be categorical)."""

    def run_trial(
        self, trial: Trial, X: Any, y: Any, sample_weight: Any = None, groups: Any = None
    ) -> dict[str, float]:
        """Fit and score the trial's estimator on every fold."""
        assert self.hypermodel is not None
        results: dict[str, list[float]] = defaultdict(list)
        for train, test in self.cv.split(X, y, groups):
            model, self._prebuilt = self._prebuilt, None
            if model is None:
                model = self.hypermodel.build(trial.hyperparameters)
            x_train, y_train, x_test, y_test = (
                _take(X, train),
                _take(y, train),
                _take(X, test),
                _take(y, test),
            )
            if sample_weight is not None:
                model.fit(x_train, y_train, sample_weight=_take(sample_weight, train))
                weights = {"sample_weight": _take(sample_weight, test)}
            else:
                model.fit(x_train, y_train)
                weights = {}
            if self.scoring is None:
                score = model.score(x_test, y_test, **weights)
            else:
                score = self.scoring(model, x_test, y_test, **weights)
            results["score"].append(float(score))
            if self.metrics:
                y_pred = model.predict(x_test)
                for metric in self.metrics:
                    results[metric.__name__].append(float(metric(y_test, y_pred)))
        return {name: float(np.mean(values)) for name, values in results.items()}

    def get_best_models(self, num_models: int = 1) -> list[Any]:
        """The best configurations, refitted on all the data of the last ``search``.

        Raises:
            NotFittedError: ``search`` was not called in this session.
        """
        if self._last_data is None:
            raise NotFittedError(
                "SklearnTuner.get_best_models() refits on the data of the last search() in "
                "this session. Call search(X, y) first, or build the best hyperparameters "
                "yourself: hypermodel(tuner.get_best_hyperparameters()[0])."
            )
        assert self.hypermodel is not None
        X, y, sample_weight = self._last_data
        models = []
        for trial in self._best_trials(num_models):
            model = self.hypermodel.build(
                with_engine(None, values=trial.values, template=self.oracle.hyperparameters)
            )
            if sample_weight is not None:
                model.fit(X, y, sample_weight=sample_weight)
            else:
                model.fit(X, y)
            models.append(model)
        return models
