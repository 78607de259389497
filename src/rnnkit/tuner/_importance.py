"""Hyperparameter importance of a search, with Optuna's ``optuna.importance``.

Only completed trials with a finite score count (failed, pruned, running and
duplicate-discarded attempts do not). They are copied into an in-memory Optuna
study and evaluated there, so the storage is read once and the result does not
depend on trials still being written. The default evaluator is fANOVA with a
fixed seed (the same trials always give the same importances); any
``optuna.importance`` evaluator can be passed instead.

Hyperparameters recorded in every completed trial are assessed; conditional ones
(inactive in some trials) and ``Fixed`` ones are left out, as in Optuna.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import optuna

from rnnkit.errors import RnnkitValueError
from rnnkit.tuner._optuna import Attempt
from rnnkit.tuner._optuna import AttemptState
from rnnkit.tuner._optuna import _quiet

__all__ = ["param_importances"]

_CALLER = "get_hyperparameter_importances()"


def _completed(attempts: Sequence[Attempt]) -> list[Attempt]:
    return [
        a
        for a in attempts
        if a.state is AttemptState.COMPLETE
        and a.attr("trial_id") is not None
        and not a.attr("discarded")
        and a.value is not None
        and math.isfinite(a.value)
    ]


def param_importances(
    attempts: Sequence[Attempt], direction: str, *, evaluator: Any = None, seed: int = 0
) -> dict[str, float]:
    """Importance of each hyperparameter over the completed trials, most important first.

    Args:
        attempts: Every Optuna trial of the study (``StudyHandle.attempts()``).
        direction: ``"min"`` or ``"max"`` (the objective's direction).
        evaluator: An ``optuna.importance`` evaluator. Defaults to `None`
            (``FanovaImportanceEvaluator(seed=seed)``).
        seed: Seed of the default fANOVA evaluator. Defaults to `0`.

    Returns:
        Name -> share in ``[0, 1]``, summing to 1; hyperparameters that took a single
        value in the completed trials get 0.

    Raises:
        RnnkitValueError: fewer than 2 completed trials, no hyperparameter varied
            between them, or every completed trial scored the same.
    """
    done = _completed(attempts)
    if len(done) < 2:
        raise RnnkitValueError(
            f"{_CALLER}: importance needs at least 2 completed trials; the search has "
            f"{len(done)}. Run more trials (raise max_trials) and call it again."
        )
    names = [n for n in done[0].distributions if all(n in a.distributions for a in done)]
    varying = [n for n in names if len({repr(a.params[n]) for a in done}) > 1]
    if not varying:
        which = (
            f"each of {', '.join(names)} kept one value"
            if names
            else "every hyperparameter is Fixed or conditional"
        )
        raise RnnkitValueError(
            f"{_CALLER}: no hyperparameter varied between the {len(done)} completed trials "
            f"({which}), so none can explain the scores."
        )
    if len({a.value for a in done}) < 2:
        raise RnnkitValueError(
            f"{_CALLER}: every one of the {len(done)} completed trials scored "
            f"{done[0].value}, so no hyperparameter made a difference."
        )
    with _quiet():
        study = optuna.create_study(
            direction="maximize" if direction == "max" else "minimize",
            storage=optuna.storages.InMemoryStorage(),
        )
        study.add_trials(
            [
                optuna.trial.create_trial(
                    state=optuna.trial.TrialState.COMPLETE,
                    value=a.value,
                    params={n: a.params[n] for n in varying},
                    distributions={n: a.distributions[n] for n in varying},
                )
                for a in done
            ]
        )
        if evaluator is None:
            evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
        raw = optuna.importance.get_param_importances(
            study, evaluator=evaluator, params=varying, normalize=False
        )
    scores = {n: max(0.0, float(raw.get(n, 0.0))) for n in varying}
    total = sum(scores.values())
    if not math.isfinite(total) or total <= 0.0:  # nothing stands out: an even split
        scores = {n: 1.0 for n in varying}
        total = float(len(varying))
    shares = {n: scores.get(n, 0.0) / total for n in names}
    order = sorted(names, key=lambda n: -shares[n])  # stable: ties keep the space's order
    return {n: shares[n] for n in order}
