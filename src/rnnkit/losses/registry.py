"""Looking losses up by name: Keras' names and aliases, ``get``, ``serialize``/``deserialize``.

Example:
    >>> get("mae").name, canonical_name("BinaryCrossentropy")
    ('mean_absolute_error', 'binary_crossentropy')
"""

from __future__ import annotations

from typing import Any

from rnnkit import errors
from rnnkit._validation import check_one_of
from rnnkit.losses.base import Loss
from rnnkit.losses.base import LossFn
from rnnkit.losses.base import LossFunctionWrapper
from rnnkit.losses.probabilistic import BinaryCrossentropy
from rnnkit.losses.probabilistic import CategoricalCrossentropy
from rnnkit.losses.probabilistic import SparseCategoricalCrossentropy
from rnnkit.losses.probabilistic import binary_crossentropy
from rnnkit.losses.probabilistic import categorical_crossentropy
from rnnkit.losses.probabilistic import sparse_categorical_crossentropy
from rnnkit.losses.regression import CosineSimilarity
from rnnkit.losses.regression import Huber
from rnnkit.losses.regression import LogCosh
from rnnkit.losses.regression import MeanAbsoluteError
from rnnkit.losses.regression import MeanAbsolutePercentageError
from rnnkit.losses.regression import MeanSquaredError
from rnnkit.losses.regression import MeanSquaredLogarithmicError
from rnnkit.losses.regression import cosine_similarity
from rnnkit.losses.regression import huber
from rnnkit.losses.regression import log_cosh
from rnnkit.losses.regression import mean_absolute_error
from rnnkit.losses.regression import mean_absolute_percentage_error
from rnnkit.losses.regression import mean_squared_error
from rnnkit.losses.regression import mean_squared_logarithmic_error

FUNCTIONS: dict[str, LossFn] = {
    fn.__name__: fn
    for fn in (
        mean_squared_error,
        mean_absolute_error,
        mean_absolute_percentage_error,
        mean_squared_logarithmic_error,
        huber,
        log_cosh,
        cosine_similarity,
        binary_crossentropy,
        categorical_crossentropy,
        sparse_categorical_crossentropy,
    )
}

CLASSES: dict[str, type[Loss]] = {
    cls.__name__: cls
    for cls in (
        MeanSquaredError,
        MeanAbsoluteError,
        MeanAbsolutePercentageError,
        MeanSquaredLogarithmicError,
        Huber,
        LogCosh,
        CosineSimilarity,
        BinaryCrossentropy,
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
    )
}

# Per-sample function -> the class that reduces it.
CLASS_OF_FUNCTION: dict[str, type[Loss]] = {
    "mean_squared_error": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "huber": Huber,
    "log_cosh": LogCosh,
    "cosine_similarity": CosineSimilarity,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}

ALIASES: dict[str, str] = {
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
    "bce": "binary_crossentropy",
    "logcosh": "log_cosh",
}


def canonical_name(identifier: str) -> str | None:
    """Return the per-sample function name a loss name stands for, or ``None``.

    Accepts function names, aliases (any case) and class names:
    ``"MSE" -> "mean_squared_error"``, ``"BinaryCrossentropy" -> "binary_crossentropy"``.

    Example:
        >>> canonical_name("MAE"), canonical_name("Huber"), canonical_name("nope")
        ('mean_absolute_error', 'huber', None)
    """
    if identifier in FUNCTIONS:
        return identifier
    if identifier.lower() in ALIASES:
        return ALIASES[identifier.lower()]
    for function_name, cls in CLASS_OF_FUNCTION.items():
        if identifier == cls.__name__:
            return function_name
    lowered = identifier.lower()
    return lowered if lowered in FUNCTIONS else None


def get(identifier: Any) -> Loss | None:
    """Resolve a loss from a name, a :class:`Loss`, a function or a config dict.

    Names are Keras': function names (``"mean_squared_error"``), aliases (``"mse"``,
    ``"MAE"``, ``"bce"``) and class names (``"Huber"``). A name returns the matching
    class named after the identifier's function (``get("mse").name`` is
    ``"mean_squared_error"``; ``get("Huber").name`` is ``"huber_loss"``). A custom
    function ``fn(y_true, y_pred) -> per-sample losses`` is wrapped in a
    :class:`LossFunctionWrapper`.

    Raises:
        ValueError: an unknown name (with a "did you mean" hint).
        TypeError: anything else that is not callable.

    Example:
        >>> get("mse")
        MeanSquaredError(name='mean_squared_error', reduction='sum_over_batch_size')
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        return _from_name(identifier)
    if isinstance(identifier, dict) and "class_name" in identifier:
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        name = getattr(identifier, "__name__", None)
        if name in FUNCTIONS and FUNCTIONS[name] is identifier:
            return CLASS_OF_FUNCTION[name](name=name)
        return LossFunctionWrapper(identifier)
    raise errors.RnnkitTypeError(
        "losses.get(): expected a loss name such as 'mse', a Loss, or a function "
        f"fn(y_true, y_pred). Received: {identifier!r}."
    )


def _from_name(identifier: str) -> Loss:
    if identifier in CLASSES:
        return CLASSES[identifier]()
    name = canonical_name(identifier)
    if name is None:
        options = [*FUNCTIONS, *ALIASES, *CLASSES]
        check_one_of("loss", identifier, options, caller="losses.get()")
    assert name is not None
    return CLASS_OF_FUNCTION[name](name=name)


def serialize(loss: Loss) -> dict[str, Any]:
    """Return ``{"class_name": ..., "config": ...}`` for a loss."""
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config: dict[str, Any]) -> Loss:
    """Inverse of :func:`serialize`."""
    known: dict[str, type[Loss]] = {**CLASSES, "LossFunctionWrapper": LossFunctionWrapper}
    name = check_one_of("loss class", config["class_name"], known, caller="losses.deserialize()")
    return known[name].from_config(dict(config.get("config", {})))
