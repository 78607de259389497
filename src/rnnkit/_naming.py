"""Names: the one CamelCase-to-snake_case converter, and which way a named metric improves.

Layers, losses, metrics and optimizers take their default ``name`` from their class
name through :func:`to_snake_case`, so rnnkit and Keras give the same names and log
keys (``LSTM`` -> ``"lstm"``, ``RMSprop`` -> ``"rm_sprop"``, ``Conv2D`` -> ``"conv2d"``).

:func:`metric_direction` is the one place that reads a log key's direction from its
name; metrics (``direction_of``), callbacks' ``mode="auto"`` and the tuner's objective
inference all use it. This module imports nothing heavy (the CLI and the tuner use it
before torch loads).
"""

from __future__ import annotations

import re

_NOT_WORD = re.compile(r"\W+")
_BEFORE_CAPITALISED_WORD = re.compile(r"(.)([A-Z][a-z]+)")
_LOWER_THEN_UPPER = re.compile(r"([a-z])([A-Z])")


def to_snake_case(name: str) -> str:
    """Return ``name`` in snake case exactly as Keras 3's ``to_snake_case`` does.

    Non-word characters are dropped; an underscore goes before every capitalised
    word (``"MeanSquaredError"`` -> ``"mean_squared_error"``) and between a lower-case
    letter and a capital (``"AdamW"`` -> ``"adam_w"``). A digit does not start a new
    word: ``"Conv2D"`` -> ``"conv2d"``, ``"F1Score"`` -> ``"f1_score"``.

    Args:
        name: A class or function name.

    Returns:
        The lower-case, underscore-separated name.

    Example:
        >>> to_snake_case("SimpleRNN"), to_snake_case("RMSprop"), to_snake_case("Conv2D")
        ('simple_rnn', 'rm_sprop', 'conv2d')
    """
    name = _NOT_WORD.sub("", name)
    name = _BEFORE_CAPITALISED_WORD.sub(r"\1_\2", name)
    return _LOWER_THEN_UPPER.sub(r"\1_\2", name).lower()


_MIN_TEXT = (
    "loss error crossentropy ce bce mse mae mape smape mase msle rmse hinge divergence kld "
    "poisson logcosh cosh huber"
)
_MAX_TEXT = "accuracy acc auc precision recall f1 fbeta iou r2 similarity"
_MIN_WORDS, _MAX_WORDS = frozenset(_MIN_TEXT.split()), frozenset(_MAX_TEXT.split())
# whole names: counts (more true answers is better, more false ones worse) and the
# tuner's sum of losses (keras-tuner's "default_objective")
_WHOLE_NAMES = {
    "default_objective": "min",
    "true_positives": "max",
    "true_negatives": "max",
    "false_positives": "min",
    "false_negatives": "min",
}


def metric_direction(name: str) -> str | None:
    """Whether a log key improves downwards (``"min"``) or upwards (``"max"``).

    Strips ``val_`` (and ``weighted_``), then looks at the words between
    underscores, last word first (the last word names what the value is:
    ``recall_loss`` is a loss): ``loss``, ``error``, ``crossentropy``, ``mse``,
    ``mae``, ``mase``, ... mean ``"min"``; ``accuracy``, ``acc``, ``auc``,
    ``precision``, ``recall``, ``r2``, ... mean ``"max"``. CamelCase names are read as
    snake case; ``true_positives`` and ``true_negatives`` are ``"max"``, the false
    ones ``"min"``, the tuner's ``default_objective`` ``"min"``.

    Returns:
        ``"min"``, ``"max"``, or ``None`` when the name does not tell.

    Example:
        >>> metric_direction("val_loss"), metric_direction("sparse_categorical_accuracy")
        ('min', 'max')
        >>> metric_direction("MeanAbsoluteError"), metric_direction("r_squared") is None
        ('min', True)
    """
    key = to_snake_case(name)
    for prefix in ("val_", "weighted_"):
        key = key.removeprefix(prefix)
    if key in _WHOLE_NAMES:
        return _WHOLE_NAMES[key]
    words = key.split("_")
    for word in (words[-1], *words):
        if word in _MIN_WORDS:
            return "min"
        if word in _MAX_WORDS:
            return "max"
    return None


__all__ = ["metric_direction", "to_snake_case"]
