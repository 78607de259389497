"""Hypermodels: what builds (and optionally fits) one model for a set of values.

A hypermodel is either a plain function ``build(hp) -> model`` or a
:class:`HyperModel` subclass. Override :meth:`HyperModel.fit` to tune fit
arguments such as ``batch_size`` or ``epochs``, or to preprocess data per trial.
``fit`` may return a ``History`` (anything with a ``.history`` dict), a dict of
metric values, or a single float (minimised when the tuner has no objective).

Example:
    >>> class MyHyperModel(HyperModel):
    ...     def build(self, hp):
    ...         return {"units": hp.Int("units", 8, 64, step=8)}
    ...     def fit(self, hp, model, *args, **kwargs):
    ...         return float(model["units"])    # a score to minimise
    >>> from rnnkit.tuner.hyperparameters import HyperParameters
    >>> hm = MyHyperModel()
    >>> hm.fit(HyperParameters(), hm.build(HyperParameters()))
    8.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rnnkit.errors import RnnkitTypeError


class HyperModel:
    """Base class for hypermodels (keras-tuner's ``HyperModel``).

    Args:
        name: Optional name. Defaults to `None`.
        tunable: Whether the hypermodel's own hyperparameters are tuned. Defaults
            to `True`.
    """

    def __init__(self, name: str | None = None, tunable: bool = True) -> None:
        self.name = name
        self.tunable = tunable

    def build(self, hp: Any) -> Any:
        """Build a model for the values in ``hp``. Must be overridden."""
        raise NotImplementedError(f"{type(self).__name__}.build(hp) is not implemented.")

    def declare_hyperparameters(self, hp: Any) -> None:
        """Register hyperparameters ahead of ``build`` (optional)."""

    def fit(self, hp: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
        """Train ``model``; the default is ``model.fit(*args, **kwargs)``."""
        return model.fit(*args, **kwargs)


class FunctionHyperModel(HyperModel):
    """Wraps a ``build(hp)`` function (kept picklable for worker processes)."""

    def __init__(self, build: Callable[[Any], Any]) -> None:
        super().__init__(name=getattr(build, "__name__", None))
        self._build = build

    def build(self, hp: Any) -> Any:
        """Build the model by calling the wrapped ``build(hp)`` function."""
        return self._build(hp)


def get_hypermodel(hypermodel: Any) -> HyperModel:
    """Return ``hypermodel`` as a :class:`HyperModel` (wrapping a function)."""
    if isinstance(hypermodel, HyperModel):
        return hypermodel
    if callable(hypermodel):
        return FunctionHyperModel(hypermodel)
    raise RnnkitTypeError(
        "`hypermodel` must be a function build(hp) -> model or a kt.HyperModel instance. "
        f"Received: hypermodel={hypermodel!r}."
    )
