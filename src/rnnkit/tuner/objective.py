"""What a search optimises: a metric name and a direction, as in keras-tuner.

``objective="val_loss"`` infers the direction from the name the way keras-tuner
does: strip a leading ``val_`` and ``weighted_``; ``loss``, ``crossentropy``,
``ce`` and names ending in ``loss``, ``crossentropy`` or ``error`` (and the usual
error metrics ``mse``, ``mae``, ``mape``, …) are minimised; ``acc``, ``accuracy``,
``auc``, ``precision``, ``recall`` (and ``r2_score``) are maximised. Anything else
needs an explicit ``Objective(name, direction)``.

Example:
    >>> create_objective("val_loss")
    Objective(name="val_loss", direction="min")
    >>> create_objective("val_accuracy").direction
    'max'
    >>> create_objective([Objective("val_mae", "min"), "val_accuracy"]).get_value(
    ...     {"val_mae": 0.5, "val_accuracy": 0.75})
    -0.25
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rnnkit._naming import metric_direction
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.tuner.errors import FailedTrialError
from rnnkit.tuner.errors import FatalTypeError
from rnnkit.tuner.errors import FatalValueError


def infer_metric_direction(name: str) -> str | None:
    """Return ``"min"``, ``"max"`` or ``None`` (unknown) for a metric name.

    The rule metrics and callbacks use too (:func:`rnnkit._naming.metric_direction`).

    Example:
        >>> infer_metric_direction("val_mean_squared_error"), infer_metric_direction("val_acc")
        ('min', 'max')
        >>> infer_metric_direction("sharpe") is None
        True
    """
    return metric_direction(name)


@dataclass(frozen=True)
class Objective:
    """The metric to optimise and its direction.

    Args:
        name: The metric's key in the epoch logs, e.g. ``"val_loss"``.
        direction: ``"min"`` or ``"max"``.

    Example:
        >>> Objective("val_mape", "min").better_than(1.0, 2.0)
        True
    """

    name: str
    direction: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise RnnkitTypeError(
                f"Objective(name={self.name!r}): `name` must be a non-empty string."
            )
        if self.direction not in ("min", "max"):
            raise RnnkitValueError(
                f"Objective(name={self.name!r}): `direction` must be 'min' or 'max'. "
                f"Received: direction={self.direction!r}."
            )

    def __repr__(self) -> str:
        return f'Objective(name="{self.name}", direction="{self.direction}")'

    def get_value(self, logs: Mapping[str, float]) -> float:
        """Return the objective's value from one epoch's logs."""
        return float(logs[self.name])

    def has_value(self, logs: Mapping[str, Any]) -> bool:
        """Whether ``logs`` contain what :meth:`get_value` needs."""
        return self.name in logs

    @property
    def names(self) -> tuple[str, ...]:
        """The metric names this objective reads."""
        return (self.name,)

    def better_than(self, a: float, b: float) -> bool:
        """Whether value ``a`` is strictly better than ``b``."""
        return (a > b) if self.direction == "max" else (a < b)

    def get_config(self) -> dict[str, Any]:
        """JSON-ready description, used to detect a changed objective on resume."""
        return {"name": self.name, "direction": self.direction}


class MultiObjective(Objective):
    """keras-tuner's scalarised list of objectives (minimised).

    The value is the sum of the "min" objectives minus the sum of the "max" ones.
    """

    objectives: tuple[Objective, ...]  # set in __init__ (the dataclass is frozen)

    def __init__(self, objectives: Sequence[Objective]) -> None:
        super().__init__("multi_objective", "min")
        object.__setattr__(self, "objectives", tuple(objectives))

    def __repr__(self) -> str:
        return "MultiObjective([" + ", ".join(repr(o) for o in self.objectives) + "])"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MultiObjective) and self.objectives == other.objectives

    def __hash__(self) -> int:
        return hash(self.objectives)

    def get_value(self, logs: Mapping[str, float]) -> float:
        """Return the sum of the "min" objectives' values minus the "max" ones'."""
        total = 0.0
        for objective in self.objectives:
            value = float(logs[objective.name])
            total += value if objective.direction == "min" else -value
        return total

    def has_value(self, logs: Mapping[str, Any]) -> bool:
        """Whether ``logs`` hold every objective's metric."""
        return all(o.name in logs for o in self.objectives)

    @property
    def names(self) -> tuple[str, ...]:
        """The metric names of every objective, in order."""
        return tuple(o.name for o in self.objectives)

    def get_config(self) -> dict[str, Any]:
        """JSON-ready description: ``{"multi": [each objective's config]}``."""
        return {"multi": [o.get_config() for o in self.objectives]}


def create_objective(objective: Any) -> Objective:
    """Turn a name, an :class:`Objective`, a list of them or ``None`` into an Objective.

    ``None`` gives keras-tuner's ``default_objective`` (minimised): ``fit`` must then
    return a single float.

    Raises:
        ValueError: the direction of a name cannot be inferred.
        TypeError: anything else.
    """
    if objective is None:
        return Objective("default_objective", "min")
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, (list, tuple)):
        parts = [create_objective(o) for o in objective]
        return parts[0] if len(parts) == 1 else MultiObjective(parts)
    if isinstance(objective, str):
        direction = infer_metric_direction(objective)
        if direction is None:
            raise RnnkitValueError(
                f'Could not infer the direction ("min" or "max") of the objective '
                f"{objective!r}. Pass it explicitly, e.g. "
                f'objective=kt.Objective("{objective}", direction="min").'
            )
        return Objective(objective, direction)
    raise RnnkitTypeError(
        "`objective` must be a metric name, a kt.Objective, or a list of them. "
        f"Received: objective={objective!r}."
    )


def is_finite(value: Any) -> bool:
    """Whether ``value`` is a real, finite number."""
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def metrics_at_best_epoch(result: Any, objective: Objective) -> tuple[float, int, dict[str, float]]:
    """``(objective value, best epoch, metrics at that epoch)`` from what ``fit`` returned.

    Accepts a History (``.history`` dict of per-epoch lists), a dict of floats or
    of per-epoch lists, or a single float. A number beside per-epoch lists (a
    figure measured once, after training, such as the forecasting hypermodel's
    ``effective_memory``) is reported as it is, with the best epoch's metrics.

    Example:
        >>> fitted = {"val_loss": [0.5, 0.2, 0.3], "effective_memory": 12.0}
        >>> metrics_at_best_epoch(fitted, Objective("val_loss", "min"))
        (0.2, 1, {'val_loss': 0.2, 'effective_memory': 12.0})

    Raises:
        FailedTrialError: a non-finite loss or objective.
        FatalValueError: the objective is not among the reported metrics.
    """
    if isinstance(result, bool):
        raise FatalTypeError("fit() returned a bool; return a History, a dict or a float.")
    if isinstance(result, numbers.Real):
        value = float(result)
        return value, 0, {objective.name: value}
    epochs: list[int] = []  # a History's epoch numbers; a plain dict counts from 0
    if hasattr(result, "history") and isinstance(result.history, dict):
        epochs = list(getattr(result, "epoch", None) or [])
        result = result.history
    if not isinstance(result, dict):
        raise FatalTypeError(
            "fit() must return a History, a dict of metrics or a float. "
            f"Received: {type(result).__name__}."
        )
    if not objective.has_value(result):
        raise FatalValueError(
            f"The objective {objective.name!r} is not among the metrics fit() reported: "
            f"{sorted(result)}. For a val_* objective pass validation_split= or "
            "validation_data= to search(); otherwise choose objective= from these names."
        )
    if all(not isinstance(v, (list, tuple)) for v in result.values()):
        metrics = {k: float(v) for k, v in result.items() if is_finite(v) or isinstance(v, float)}
        return objective.get_value(metrics), 0, metrics
    history = {k: list(v) for k, v in result.items() if isinstance(v, (list, tuple))}
    n = min(len(history[name]) for name in objective.names)
    if n == 0:
        raise FailedTrialError("fit() ran no epochs")
    per_epoch = [
        objective.get_value({k: v[i] for k, v in history.items() if len(v) > i}) for i in range(n)
    ]
    for key in ("loss", *objective.names):
        for i, v in enumerate(history.get(key, [])[:n]):
            if not is_finite(v):
                epoch = epochs[i] if len(epochs) > i else i
                raise FailedTrialError(f"non-finite {key} ({v}) at epoch {epoch}")
    sign = -1.0 if objective.direction == "max" else 1.0
    best = min(range(n), key=lambda i: (sign * per_epoch[i], i))
    metrics = {k: float(v[best]) for k, v in history.items() if len(v) > best}
    metrics.update(
        (k, float(v))
        for k, v in result.items()
        if k not in history and isinstance(v, numbers.Real) and not isinstance(v, bool)
    )
    step = epochs[best] if len(epochs) > best else best
    return float(per_epoch[best]), int(step), metrics
