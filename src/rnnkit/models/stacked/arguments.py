"""Which ``fit`` arguments and callbacks the stacked trainer takes, and why not.

One job: the argument and callback checks shared by the trainer and the grouping.
"""

from __future__ import annotations

from typing import Any

from rnnkit.callbacks.base import Callback
from rnnkit.callbacks.base import History
from rnnkit.callbacks.early_stopping import EarlyStopping
from rnnkit.callbacks.misc import TerminateOnNaN
from rnnkit.models.data_adapter import is_dataset

SAFE_CALLBACKS: tuple[type, ...] = (History, EarlyStopping, TerminateOnNaN)
"""Callbacks that only read logs, set ``stop_training`` and read or restore weights at
the hooks ``fit`` calls: each trial gets its own, attached to its own model."""

_DEFAULTS: dict[str, Any] = {
    "class_weight": None,
    "steps_per_epoch": None,
    "validation_steps": None,
    "validation_freq": 1,
}
_TAKEN = {
    "batch_size", "epochs", "verbose", "callbacks", "validation_split", "validation_data",
    "shuffle", "initial_epoch", "sample_weight", "validation_batch_size", *_DEFAULTS,
}  # fmt: skip


def _overrides_a_hook(callback: Any) -> bool:
    for name, value in vars(Callback).items():
        if name.startswith("on_") and getattr(type(callback), name, value) is not value:
            return True
    return False


def callback_problem(callback: Any) -> str | None:
    """Why the stacked trainer cannot run ``callback``, or ``None``.

    It runs rnnkit's ``History``, ``EarlyStopping`` and ``TerminateOnNaN``, callbacks that
    override no hook, and callbacks that declare ``stackable = True`` (they promise to use
    only the hooks ``fit`` calls and the model's public API).

    Example:
        >>> from rnnkit.callbacks import EarlyStopping, LearningRateScheduler
        >>> callback_problem(EarlyStopping(patience=2)) is None
        True
        >>> callback_problem(LearningRateScheduler(lambda epoch, lr: lr))
        'the callback LearningRateScheduler is not one the stacked trainer runs'
    """
    if isinstance(callback, SAFE_CALLBACKS) or getattr(callback, "stackable", False):
        return None
    if isinstance(callback, Callback) and not _overrides_a_hook(callback):
        return None
    return f"the callback {type(callback).__name__} is not one the stacked trainer runs"


def fit_problem(x: Any, fit_kwargs: dict[str, Any]) -> str | None:
    """Why ``fit(x, y, **fit_kwargs)`` cannot run stacked, or ``None``.

    Example:
        >>> import numpy as np
        >>> fit_problem(np.zeros((4, 3, 1)), {"epochs": 2, "shuffle": "batch"})
        "shuffle='batch'"
        >>> fit_problem(np.zeros((4, 3, 1)), {"epochs": 2}) is None
        True
    """
    if x is None or is_dataset(x):
        return "x is a dataset of batches, not arrays"
    for key, value in fit_kwargs.items():
        if key not in _TAKEN:
            return f"the fit argument {key}= is not one the stacked trainer takes"
        if key in _DEFAULTS and value != _DEFAULTS[key]:
            return f"{key}={value!r}"
    if fit_kwargs.get("shuffle", True) not in (True, False):
        return f"shuffle={fit_kwargs['shuffle']!r}"
    data = fit_kwargs.get("validation_data")
    if data is not None and (is_dataset(data) or not isinstance(data, (tuple, list))):
        return "validation_data is a dataset of batches, not arrays"
    for callback in fit_kwargs.get("callbacks") or []:
        problem = callback_problem(callback)
        if problem is not None:
            return problem
    return None
