"""The callback protocol: hooks that ``fit``, ``evaluate`` and ``predict`` call.

A callback sees the model as ``self.model`` (set by :meth:`set_model`) and the
run's parameters as ``self.params`` (``epochs``, ``steps``, ``verbose``). It stops
training by setting ``self.model.stop_training = True`` and resets its own state
in ``on_train_begin``, so one instance can serve several ``fit`` calls.

A callback whose decisions depend on earlier epochs (a patience counter, a best
value) may offer ``get_state() -> dict`` and ``set_state(state)``: the dict holds
only numbers, strings, ``None``, lists, dicts and NumPy arrays, and ``set_state``,
called after ``on_train_begin``, makes training continued with ``initial_epoch``
behave as if it had never stopped. The tuner stores it in each trial's resume point
(docs/tuning.md, "Resuming an interrupted trial"); :func:`checked_state` checks a
state read back from disk.

Example:
    >>> class Count(Callback):
    ...     def on_train_begin(self, logs=None):
    ...         self.epochs = 0
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         self.epochs += 1
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

import numpy as np

from rnnkit.errors import RnnkitValueError


class Callback:
    """Base class: override the hooks you need; every hook takes ``logs``."""

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        """Attach the model being trained."""
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Attach the run's parameters (epochs, steps, verbose)."""
        self.params = params

    def on_train_begin(self, logs=None):
        """Called once when ``fit`` starts, before the first epoch."""

    def on_train_end(self, logs=None):
        """Called once when ``fit`` ends; ``logs`` holds the last epoch's values."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of epoch ``epoch`` (0-based) during ``fit``."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of epoch ``epoch``; ``logs`` holds its losses and metrics.

        ``logs`` has ``val_`` keys in the epochs where ``fit`` validated.
        """

    def on_train_batch_begin(self, batch, logs=None):
        """Called before training step ``batch`` (0-based within the epoch)."""

    def on_train_batch_end(self, batch, logs=None):
        """Called after training step ``batch``; ``logs`` holds the running metrics."""

    def on_test_begin(self, logs=None):
        """Called when ``evaluate`` starts (not for ``fit``'s validation pass)."""

    def on_test_end(self, logs=None):
        """Called when ``evaluate`` ends; ``logs`` holds its final loss and metrics."""

    def on_test_batch_begin(self, batch, logs=None):
        """Called before step ``batch`` of ``evaluate``."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after step ``batch`` of ``evaluate``; ``logs`` holds the running metrics."""

    def on_predict_begin(self, logs=None):
        """Called when ``predict`` starts."""

    def on_predict_end(self, logs=None):
        """Called when ``predict`` ends."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before prediction step ``batch``."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after prediction step ``batch``."""


_HOOKS = [name for name in vars(Callback) if name.startswith("on_")]


class CallbackList(Callback):
    """Calls each hook on every callback in order."""

    def __init__(self, callbacks: Iterable[Callback] | None = None, model: Any = None, **params):
        super().__init__()
        self.callbacks = list(callbacks or [])
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback: Callback) -> None:
        """Add a callback at the end."""
        self.callbacks.append(callback)

    def set_model(self, model: Any) -> None:
        """Attach the model to this list and to every callback in it."""
        super().set_model(model)
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params: dict[str, Any]) -> None:
        """Attach the run's parameters to this list and to every callback in it."""
        super().set_params(params)
        for cb in self.callbacks:
            cb.set_params(params)

    def __iter__(self):
        return iter(self.callbacks)

    def overrides(self, *hooks: str) -> bool:
        """Whether some callback in the list implements one of ``hooks`` itself.

        A hook that no callback overrides does nothing, so the training loop can
        skip calling it and building its logs (Keras skips batch hooks the same way).

        Example:
            >>> callbacks = CallbackList([History()])
            >>> callbacks.overrides("on_epoch_end"), callbacks.overrides("on_train_batch_end")
            (True, False)
        """
        return any(_implements(cb, hook) for cb in self.callbacks for hook in hooks)


def _implements(callback: Any, hook: str) -> bool:
    """Whether ``callback.<hook>`` is something other than the base class's no-op."""
    method = getattr(callback, hook, None)
    if method is None:
        return False
    return getattr(method, "__func__", None) is not getattr(Callback, hook)


def _make_dispatch(hook: str):
    def dispatch(self, *args, **kwargs):
        for cb in self.callbacks:
            getattr(cb, hook)(*args, **kwargs)

    dispatch.__name__ = hook
    dispatch.__doc__ = f"Call ``{hook}`` on every callback."
    return dispatch


for _hook in _HOOKS:
    setattr(CallbackList, _hook, _make_dispatch(_hook))


class History(Callback):
    """Records every epoch's logs; ``fit`` returns it.

    Attributes:
        history: ``{"loss": [...], "val_loss": [...], ...}``, one value per epoch.
        epoch: The epoch indices that ran.
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        """Start a fresh record, so a reused History holds only this ``fit``."""
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        """Append the epoch index and each of its logged values; set ``model.history``."""
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self

    def __repr__(self) -> str:
        keys = ", ".join(self.history)
        return f"<History epochs={len(self.epoch)} keys=[{keys}]>"


_KINDS = {
    "count": "a non-negative integer",
    "number": "a number or None",
    "arrays": "a list of arrays or None",
}


def checked_state(owner: Any, state: Any, fields: Mapping[str, str]) -> dict[str, Any]:
    """``state`` if it holds exactly ``fields``, each of its kind; else an error.

    For ``set_state`` methods, whose state may come back from a file: kinds are
    ``"count"`` (a non-negative integer), ``"number"`` (a number or ``None``) and
    ``"arrays"`` (a list of NumPy arrays, or ``None``).

    Args:
        owner: The callback (its class names it in the message).
        state: The state to check.
        fields: ``{key: kind}``.

    Returns:
        ``state``, unchanged.

    Raises:
        RnnkitValueError: a key is missing or unknown, or a value is of another kind.

    Example:
        >>> checked_state(Callback(), {"wait": 2}, {"wait": "count"})
        {'wait': 2}
        >>> try:
        ...     checked_state(Callback(), {"wait": -1}, {"wait": "count"})
        ... except ValueError as exc:
        ...     print(exc)
        Callback.set_state(): 'wait' must be a non-negative integer. Received: wait=-1. Pass \
what get_state() returned.
    """
    caller = f"{type(owner).__name__}.set_state()"
    if not isinstance(state, dict) or set(state) != set(fields):
        got = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise RnnkitValueError(
            f"{caller}: expected a dict with keys {sorted(fields)}. Received: {got}. "
            "Pass what get_state() returned."
        )
    for key, kind in fields.items():
        value = state[key]
        if kind == "count":
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        elif kind == "number":
            ok = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
        else:
            ok = value is None or (
                isinstance(value, list) and all(isinstance(a, np.ndarray) for a in value)
            )
        if not ok:
            shown = f"a list of {len(value)}" if isinstance(value, list) else repr(value)[:80]
            raise RnnkitValueError(
                f"{caller}: {key!r} must be {_KINDS[kind]}. Received: {key}={shown}. "
                "Pass what get_state() returned."
            )
    return state
