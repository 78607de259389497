"""Looking metrics up by Keras' names and aliases: ``get``, ``serialize``, ``deserialize``."""

from __future__ import annotations

from typing import Any

import rnnkit.errors as errors
from rnnkit._naming import to_snake_case
from rnnkit._validation import check_one_of
from rnnkit.losses.base import LossFunctionWrapper
from rnnkit.losses.registry import canonical_name
from rnnkit.metrics.accuracy import Accuracy
from rnnkit.metrics.accuracy import BinaryAccuracy
from rnnkit.metrics.accuracy import CategoricalAccuracy
from rnnkit.metrics.accuracy import SparseCategoricalAccuracy
from rnnkit.metrics.accuracy import _InferredAccuracy
from rnnkit.metrics.base import Metric
from rnnkit.metrics.probabilistic import BinaryCrossentropy
from rnnkit.metrics.probabilistic import CategoricalCrossentropy
from rnnkit.metrics.probabilistic import SparseCategoricalCrossentropy
from rnnkit.metrics.reduction import Mean
from rnnkit.metrics.reduction import MeanMetricWrapper
from rnnkit.metrics.regression import LogCoshError
from rnnkit.metrics.regression import MeanAbsoluteError
from rnnkit.metrics.regression import MeanAbsolutePercentageError
from rnnkit.metrics.regression import MeanSquaredError
from rnnkit.metrics.regression import MeanSquaredLogarithmicError
from rnnkit.metrics.regression import RootMeanSquaredError

CLASSES: dict[str, type[Metric]] = {
    cls.__name__: cls
    for cls in (
        Mean,
        MeanSquaredError,
        MeanAbsoluteError,
        MeanAbsolutePercentageError,
        MeanSquaredLogarithmicError,
        RootMeanSquaredError,
        LogCoshError,
        Accuracy,
        BinaryAccuracy,
        CategoricalAccuracy,
        SparseCategoricalAccuracy,
        BinaryCrossentropy,
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
    )
}

# Keras' metrics.get keys: class names, their snake case, and short aliases.
NAMES: dict[str, type[Metric]] = {
    **CLASSES,
    **{to_snake_case(name): cls for name, cls in CLASSES.items()},
}
NAMES.update(
    {
        "mse": MeanSquaredError,
        "mae": MeanAbsoluteError,
        "mape": MeanAbsolutePercentageError,
        "msle": MeanSquaredLogarithmicError,
        "rmse": RootMeanSquaredError,
        "bce": BinaryCrossentropy,
        "log_cosh": LogCoshError,
    }
)

_ACCURACY_FOR_LOSS: dict[str, type[Metric]] = {
    "binary_crossentropy": BinaryAccuracy,
    "categorical_crossentropy": CategoricalAccuracy,
    "sparse_categorical_crossentropy": SparseCategoricalAccuracy,
}


def get(identifier: Any, loss: Any = None) -> Metric:
    """Resolve a metric; its ``name`` is the Keras log key.

    - ``"accuracy"``/``"acc"`` (any case): with a crossentropy ``loss``, the matching
      binary, categorical or sparse categorical accuracy; otherwise chosen from the
      shapes of the first batch as Keras 3 does. Logged under the string given.
    - Other names (``"mae"``, ``"MAE"``, ``"mean_absolute_error"``,
      ``"MeanAbsoluteError"``, ``"rmse"``, ...) give the metric logged under the
      string given, as Keras 3 logs it.
    - A :class:`Metric` is returned as is; a :class:`Metric` subclass is instantiated.
    - A function ``fn(y_true, y_pred)`` returning per-sample values (or a scalar)
      is averaged by a :class:`MeanMetricWrapper` named after ``fn.__name__``.

    Args:
        identifier: See above.
        loss: The compiled loss (name, :class:`~rnnkit.losses.Loss` or function),
            used for ``"accuracy"``. Defaults to `None`.

    Raises:
        ValueError: an unknown name (with a "did you mean" hint).
        TypeError: anything else.

    Example:
        >>> get("mae").name, get("acc", loss="binary_crossentropy")
        ('mae', BinaryAccuracy(name='acc', threshold=0.5))
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        return _from_name(identifier, loss)
    if isinstance(identifier, dict) and "class_name" in identifier:
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise errors.RnnkitTypeError(
        "metrics.get(): expected a metric name such as 'mae', a Metric, or a function "
        f"fn(y_true, y_pred). Received: {identifier!r}."
    )


def _from_name(identifier: str, loss: Any) -> Metric:
    if identifier.lower() in ("accuracy", "acc"):
        kind = _ACCURACY_FOR_LOSS.get(_loss_name(loss) or "")
        return kind(name=identifier) if kind else _InferredAccuracy(name=identifier)
    cls = NAMES.get(identifier) or NAMES.get(identifier.lower())
    if cls is None:
        check_one_of("metric", identifier, [*NAMES, "accuracy", "acc"], caller="metrics.get()")
    assert cls is not None
    return cls(name=identifier)


def _loss_name(loss: Any) -> str | None:
    if loss is None:
        return None
    if isinstance(loss, str):
        return canonical_name(loss)
    if isinstance(loss, LossFunctionWrapper):
        return getattr(loss.fn, "__name__", None)
    name = getattr(loss, "__name__", None)
    return canonical_name(name) if isinstance(name, str) else None


def serialize(metric: Metric) -> dict[str, Any]:
    """Return ``{"class_name": ..., "config": ...}`` for a built-in metric."""
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config: dict[str, Any]) -> Metric:
    """Inverse of :func:`serialize`."""
    name = check_one_of(
        "metric class", config["class_name"], CLASSES, caller="metrics.deserialize()"
    )
    return CLASSES[name].from_config(dict(config.get("config", {})))
