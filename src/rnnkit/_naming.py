"""Object names: the one CamelCase-to-snake_case converter (Keras' ``to_snake_case``).

Layers, losses, metrics and optimizers take their default ``name`` from their class
name through :func:`to_snake_case`, so rnnkit and Keras give the same names and log
keys (``LSTM`` -> ``"lstm"``, ``RMSprop`` -> ``"rm_sprop"``, ``Conv2D`` -> ``"conv2d"``).
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


__all__ = ["to_snake_case"]
