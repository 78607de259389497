"""Which hyperparameters mattered in a search: importance from the trial table.

With fewer than four completed trials no importance is computed and the
reason is given instead. Otherwise Optuna's fANOVA importance is used when
the tuner offers it (the tuner's public `get_hyperparameter_importances()`);
when it is not available, or raises (nothing varied, every score equal),
rnnkit estimates it from the completed trials alone: for each
hyperparameter, the share of the score's variance explained by that
hyperparameter by itself (eta squared: the variance of the mean score per
value, numeric values grouped into quartiles), normalised to sum to 1.

Importance from a handful of trials is a hint, not a measurement: the report
quotes `importance_caveat` beside it (how many trials; "indicative only"
below `RELIABLE_TRIALS`) and names the hyperparameters that never varied
(`unvaried_hyperparameters`), whose importance of 0 says nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["hyperparameter_importance", "importance_caveat", "unvaried_hyperparameters"]

logger = logging.getLogger(__name__)

MIN_TRIALS = 4
#: Below this many completed trials, importance is called indicative only.
RELIABLE_TRIALS = 20
_ETA = (
    "share of the score's variance explained by each hyperparameter alone (eta squared over "
    "{n} completed trials; rnnkit's estimate, since Optuna's fANOVA importance was not "
    "available)"
)


def hyperparameter_importance(
    trials: pd.DataFrame, *, tuner: Any = None
) -> tuple[dict[str, float] | None, str]:
    """Estimate how much each hyperparameter moved the score.

    Args:
        trials: `tuner.results_dataframe()`: columns `status`, `score` and `hp_*`.
        tuner: The tuner, asked first for Optuna's importance. Defaults to `None`.

    Returns:
        `(importance, method)`: name -> share (summing to 1, largest first),
        or `None` when not computable; `method` says how it was computed or
        why it was not.

    Example:
        >>> trials = pd.DataFrame({
        ...     "status": ["COMPLETED"] * 4, "score": [1.0, 1.1, 3.0, 3.1],
        ...     "hp_units": [8, 8, 64, 64], "hp_dropout": [0.0, 0.1, 0.0, 0.1]})
        >>> importance, method = hyperparameter_importance(trials)
        >>> {k: round(v, 3) for k, v in importance.items()}
        {'units': 0.998, 'dropout': 0.002}
    """
    if trials is None or trials.empty or "score" not in trials:
        return None, "not computed: no trials were recorded"
    done = _completed(trials)
    if len(done) < MIN_TRIALS:
        return None, (
            f"not computed: {len(done)} completed trial(s), at least {MIN_TRIALS} are needed "
            "(raise max_trials)"
        )
    native = getattr(tuner, "get_hyperparameter_importances", None)
    if callable(native):
        try:
            values = dict(native())
            if values:
                ranked = dict(sorted(values.items(), key=lambda kv: -kv[1]))
                return ranked, (
                    f"Optuna's fANOVA importance over {len(done)} completed trials "
                    "(tuner.get_hyperparameter_importances())"
                )
        except Exception as exc:  # fall back to the estimate below, and say why
            logger.info("Optuna importance not available: %s", exc)
    score = done["score"].astype(float).to_numpy()
    total = float(np.var(score))
    if total == 0:
        return None, "not computed: every trial scored the same"
    shares: dict[str, float] = {}
    for column in [c for c in done.columns if str(c).startswith("hp_")]:
        groups = _groups(done[column])
        if groups is None:
            continue
        frame = pd.DataFrame({"group": groups, "score": score})
        means = frame.groupby("group", observed=True)["score"].transform("mean").to_numpy()
        shares[str(column)[3:]] = float(np.mean((means - score.mean()) ** 2) / total)
    if not shares or sum(shares.values()) == 0:
        return None, "not computed: no hyperparameter varied between completed trials"
    norm = sum(shares.values())
    ranked = dict(sorted(((k, v / norm) for k, v in shares.items()), key=lambda kv: -kv[1]))
    return ranked, _ETA.format(n=len(done))


def _completed(trials: pd.DataFrame) -> pd.DataFrame:
    """The completed trials with a finite score."""
    if trials is None or trials.empty or "score" not in trials:
        return pd.DataFrame()
    if "status" in trials:
        done = trials[trials["status"].astype(str).str.upper() == "COMPLETED"]
    else:  # a table without a status column holds completed trials only
        done = trials
    return done[np.isfinite(pd.to_numeric(done["score"], errors="coerce"))]


def unvaried_hyperparameters(trials: pd.DataFrame) -> dict[str, Any]:
    """Hyperparameters that kept one value in every completed trial, with that value.

    Their importance is 0 by construction: the search never tried another value,
    so it cannot tell whether they matter.

    Example:
        >>> trials = pd.DataFrame({
        ...     "status": ["COMPLETED"] * 3, "score": [1.0, 2.0, 3.0],
        ...     "hp_units": [8, 16, 8], "hp_activation": ["relu"] * 3})
        >>> unvaried_hyperparameters(trials)
        {'activation': 'relu'}
    """
    done = _completed(trials)
    out: dict[str, Any] = {}
    if len(done) < 2:
        return out
    for column in [c for c in done.columns if str(c).startswith("hp_")]:
        values = done[column].astype(object).where(done[column].notna(), None)
        if values.nunique(dropna=False) == 1:
            value = values.iloc[0]
            out[str(column)[3:]] = value.item() if isinstance(value, np.generic) else value
    return out


def importance_caveat(trials: pd.DataFrame) -> str:
    """How far to trust an importance from these trials, in one phrase.

    Example:
        >>> importance_caveat(pd.DataFrame({"status": ["COMPLETED"] * 4, "score": [1, 2, 3, 4]}))
        'from 4 trials: indicative only'
    """
    n = len(_completed(trials))
    if n < RELIABLE_TRIALS:
        return f"from {n} trial{'s' if n != 1 else ''}: indicative only"
    return f"from {n} trials"


def _groups(column: pd.Series) -> pd.Series | None:
    values = column.astype(object).where(column.notna(), "(inactive)")
    if values.nunique() < 2:
        return None
    numeric = pd.to_numeric(column, errors="coerce")
    if numeric.notna().all() and numeric.nunique() > 4:
        return pd.qcut(numeric.rank(method="first"), 4, labels=False)
    return values.astype(str)
