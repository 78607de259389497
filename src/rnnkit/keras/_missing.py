"""The error of a ``keras.*`` path that rnnkit does not implement."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from collections.abc import Iterable

from rnnkit.errors import RnnkitError


class KerasNameError(RnnkitError, AttributeError):
    """A ``tf.keras`` / ``keras`` name that rnnkit does not implement."""


_HINTS = {
    "keras.Model": " rnnkit builds Sequential models; use rnnkit.keras.Sequential([...]).",
    "keras.models.Model": " rnnkit builds Sequential models; use rnnkit.keras.Sequential([...]).",
    "keras.layers.CuDNNLSTM": " Use keras.layers.LSTM: rnnkit runs it on cuDNN when it can.",
    "keras.layers.CuDNNGRU": " Use keras.layers.GRU: rnnkit runs it on cuDNN when it can.",
}


def missing_name(keras_path: str, name: str, available: Iterable[str]) -> AttributeError:
    """The error for ``<keras_path>.<name>``: what is missing, what exists, where to read.

    Example:
        >>> print(missing_name("keras.layers", "Lstm", ["LSTM", "GRU"]))
        rnnkit.keras.layers has no attribute 'Lstm': rnnkit does not implement keras.layers.Lstm. Did you mean 'LSTM'? See docs/coming_from_keras.md for what rnnkit implements.
    """  # noqa: E501
    module = f"rnnkit.{keras_path}"
    if name.startswith("_"):  # introspection (``__wrapped__``, ``__path__``, ...): not a Keras name
        return AttributeError(f"module {module!r} has no attribute {name!r}")
    available = list(available)
    close = [n for n in available if n.lower() == name.lower()]
    close = close or difflib.get_close_matches(name, available, n=1, cutoff=0.6)
    hint = _HINTS.get(f"{keras_path}.{name}") or (f" Did you mean {close[0]!r}?" if close else "")
    return KerasNameError(
        f"{module} has no attribute {name!r}: rnnkit does not implement {keras_path}.{name}."
        f"{hint} See docs/coming_from_keras.md for what rnnkit implements."
    )


def module_getattr(keras_path: str, available: Iterable[str]) -> Callable[[str], object]:
    """A module ``__getattr__`` raising :func:`missing_name` for every unknown name."""
    names = sorted(available)

    def __getattr__(name: str) -> object:
        raise missing_name(keras_path, name, names)

    return __getattr__
