"""Shared logic of callbacks that watch one logged quantity.

`EarlyStopping`, `ModelCheckpoint` and `ReduceLROnPlateau` all watch a value such
as `"val_loss"` and ask one question each epoch: did it improve? This module holds
the answer, as Keras 3 computes it (`keras/src/callbacks/monitor_callback.py`):

- `mode="min"` or `"max"` fixes the direction. `mode="auto"` strips a `val_`
  prefix and reads the name: `loss`, `error`, `crossentropy`, `mae`, `mse`, ... are
  minimised; `acc`, `accuracy`, `auc`, `precision`, `recall`, ... are maximised;
  any other name is looked up in `model.metric_directions`. If the direction is
  still unknown, a `ValueError` asks for `mode`.
- `min_delta` is stored as an absolute value. `current` improves on `reference`
  when `current + min_delta < reference` (min) or `current - min_delta >
  reference` (max); a `reference` of `None` is always improved on.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from rnnkit._naming import metric_direction
from rnnkit._validation import check_number
from rnnkit._validation import check_one_of
from rnnkit.callbacks.base import Callback
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError

MODES = ("auto", "min", "max")


def infer_direction(monitor: str, model: Any = None) -> str | None:
    """Guess whether a logged quantity should be minimised or maximised.

    The name decides first (`rnnkit._naming.metric_direction`, the rule metrics and
    the tuner use too); when it is not telling, `model.metric_directions` (a
    `{log key: "min" | "max"}` dict) is asked.

    Args:
        monitor: A log key such as `"val_loss"` or `"accuracy"`.
        model: An object with a `metric_directions` dict, or `None`. Defaults to `None`.

    Returns:
        `"min"`, `"max"`, or `None` when neither the name nor the model tells.

    Example:
        >>> infer_direction("val_loss"), infer_direction("val_binary_accuracy")
        ('min', 'max')
        >>> infer_direction("val_r_squared") is None
        True
        >>> class Model:
        ...     metric_directions = {"r_squared": "max", "val_r_squared": "max"}
        >>> infer_direction("val_r_squared", Model())
        'max'
    """
    direction = metric_direction(monitor)
    if direction is not None:
        return direction
    name = monitor.removeprefix("val_")
    directions = getattr(model, "metric_directions", None)
    if isinstance(directions, Mapping):
        for key in (monitor, name):
            if directions.get(key) in ("min", "max"):
                return str(directions[key])
    return None


class MonitorCallback(Callback):
    """Base class for callbacks that watch one logged quantity.

    Subclasses call :meth:`get_monitor_value` to read the value from an epoch's
    logs and :meth:`is_improvement` to compare it with `best`.

    Args:
        monitor: Log key to watch. Defaults to `"val_loss"`.
        mode: `"auto"`, `"min"` or `"max"`; see the module docstring. Defaults to `"auto"`.
        baseline: Initial value of `best`, or `None`. Defaults to `None`.
        min_delta: Smallest change that counts as an improvement (its absolute
            value is used). Defaults to `0`.

    Raises:
        ValueError: `mode` is not one of `"auto"`, `"min"`, `"max"`; or (when the
            direction is first needed) `mode="auto"` cannot tell the direction.

    Example:
        >>> watch = MonitorCallback("val_accuracy", min_delta=0.01)
        >>> watch.direction
        'max'
        >>> watch.is_improvement(0.905, 0.9), watch.is_improvement(0.92, 0.9)
        (False, True)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        baseline: float | None = None,
        min_delta: float = 0,
    ) -> None:
        super().__init__()
        caller = type(self).__name__
        if not isinstance(monitor, str):
            raise RnnkitTypeError(
                f"{caller}: `monitor` must be a log key such as 'val_loss'. "
                f"Received: monitor={monitor!r}."
            )
        self.monitor = monitor
        self.mode = check_one_of("mode", mode, MODES, caller=f"{caller}(monitor={monitor!r})")
        self.best = check_number("baseline", baseline, caller=caller, allow_none=True)
        self.min_delta = abs(check_number("min_delta", min_delta, caller=caller))
        self._name_direction = mode if mode != "auto" else infer_direction(monitor)
        self._direction: str | None = self._name_direction
        self._warned_missing = False

    def set_model(self, model: Any) -> None:
        """Attach the model; `mode="auto"` may consult its `metric_directions`."""
        super().set_model(model)
        self._direction = self._name_direction

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Forget that a missing `monitor` key was already reported."""
        self._warned_missing = False

    @property
    def direction(self) -> str:
        """`"min"` or `"max"`: which way `monitor` improves."""
        if self._direction is None:
            self._direction = infer_direction(self.monitor, self.model)
        if self._direction is None:
            name = self.monitor.removeprefix("val_")
            raise RnnkitValueError(
                f"{type(self).__name__}(monitor={self.monitor!r}): cannot tell whether "
                f"{name!r} should be minimised or maximised. Pass mode='min' to "
                "monitor the lowest value or mode='max' to monitor the highest."
            )
        return self._direction

    def is_improvement(self, current: float, reference: float | None) -> bool:
        """Whether `current` beats `reference` by more than `min_delta`."""
        if reference is None:
            return True
        if self.direction == "min":
            return bool(current + self.min_delta < reference)
        return bool(current - self.min_delta > reference)

    def get_monitor_value(self, logs: Mapping[str, Any] | None) -> float | None:
        """Read `monitor` from `logs` as a float; warn once (per fit) if it is missing.

        Also settles the direction (as Keras does at the first epoch end), so an
        unknown one is reported at once rather than at the first comparison.
        """
        self.direction  # noqa: B018
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            if not self._warned_missing:
                self._warned_missing = True
                available = ", ".join(repr(key) for key in logs) or "none"
                warnings.warn(
                    f"{type(self).__name__} is monitoring {self.monitor!r}, which is not "
                    f"in the logs, so it does nothing. Available keys: {available}. "
                    "Keys starting with 'val_' need validation_data= or "
                    "validation_split= in fit().",
                    stacklevel=2,
                )
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise RnnkitTypeError(
                f"{type(self).__name__}: the monitored value must be a scalar. "
                f"Received: {self.monitor}={value!r}."
            ) from None
