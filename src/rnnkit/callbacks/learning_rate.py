"""Change the optimizer's learning rate during training.

Both callbacks read and assign `model.optimizer.learning_rate` (a float) and add
the rate in use to each epoch's logs as `"learning_rate"`, so it shows up in
`history.history["learning_rate"]`.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable
from typing import Any

from rnnkit._validation import check_non_negative_int
from rnnkit._validation import check_number
from rnnkit.callbacks.base import Callback
from rnnkit.callbacks.base import checked_state
from rnnkit.callbacks.monitor import MonitorCallback
from rnnkit.callbacks.progress import print_msg
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError


def _optimizer(model: Any, caller: str) -> Any:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise RnnkitValueError(
            f"{caller} needs a compiled model whose optimizer has a `learning_rate`. "
            'Call model.compile(optimizer="adam", loss="mse") first.'
        )
    return optimizer


def _get_lr(model: Any, caller: str) -> float:
    return float(_optimizer(model, caller).learning_rate)


def _set_lr(model: Any, lr: float, caller: str) -> None:
    _optimizer(model, caller).learning_rate = lr


class ReduceLROnPlateau(MonitorCallback):
    """Reduce the learning rate when a monitored quantity has stopped improving.

    At the end of each epoch (Keras 3's algorithm): during a cooldown the
    cooldown counter goes down and the wait counter is reset; an improvement by
    more than `min_delta` records the value and resets the wait counter;
    otherwise, outside a cooldown, the wait counter goes up, and when it reaches
    `patience` the rate (if above `min_lr`) becomes `max(lr * factor, min_lr)`
    and a cooldown of `cooldown` epochs starts.

    Args:
        monitor: Log key to watch. Defaults to `"val_loss"`.
        factor: Multiplier applied to the rate, in `[0, 1)`. Defaults to `0.1`.
        patience: Epochs without improvement before the rate is reduced.
            Defaults to `10`.
        verbose: `1` prints each reduction. Defaults to `0`.
        mode: `"auto"`, `"min"` or `"max"`: which way `monitor` improves.
            Defaults to `"auto"`.
        min_delta: Smallest change (in absolute value) that counts as an
            improvement. Defaults to `1e-4`.
        cooldown: Epochs to wait after a reduction before counting again.
            Defaults to `0`.
        min_lr: Lower bound of the rate. Defaults to `0.0`.

    Raises:
        ValueError: `factor >= 1`, or `factor`, `min_lr` below 0.

    Example:
        >>> class Optimizer:
        ...     learning_rate = 0.1
        >>> class Model:
        ...     optimizer = Optimizer()
        >>> reduce = ReduceLROnPlateau(patience=1, factor=0.5)
        >>> reduce.set_model(Model())
        >>> reduce.on_train_begin()
        >>> rates = []
        >>> for epoch, val_loss in enumerate([1.0, 0.8, 0.9, 0.85, 0.7]):
        ...     logs = {"val_loss": val_loss}
        ...     reduce.on_epoch_end(epoch, logs)
        ...     rates.append(logs["learning_rate"])
        >>> rates, Model.optimizer.learning_rate
        ([0.1, 0.1, 0.1, 0.05, 0.025], 0.025)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__(monitor, mode, min_delta=min_delta)
        caller = "ReduceLROnPlateau"
        factor = check_number("factor", factor, caller=caller)
        if factor >= 1.0 or factor < 0.0:
            raise RnnkitValueError(
                f"{caller}: `factor` must be in [0, 1): the new rate is lr * factor, and "
                f"a factor >= 1 would not reduce it. Received: factor={factor}."
            )
        min_lr = check_number("min_lr", min_lr, caller=caller)
        if min_lr < 0:
            raise RnnkitValueError(f"{caller}: `min_lr` must be >= 0. Received: min_lr={min_lr}.")
        self.factor = factor
        self.patience = check_non_negative_int("patience", patience, caller=caller)
        self.verbose = verbose
        self.cooldown = check_non_negative_int("cooldown", cooldown, caller=caller)
        self.min_lr = min_lr
        self.wait = 0
        self.cooldown_counter = 0

    def in_cooldown(self) -> bool:
        """Whether a cooldown after a reduction is running."""
        return self.cooldown_counter > 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Reset `best` and the counters."""
        super().on_train_begin(logs)
        self.best = None
        self.wait = 0
        self.cooldown_counter = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Log the rate, then count and reduce as described above."""
        logs = {} if logs is None else logs
        logs["learning_rate"] = _get_lr(self.model, "ReduceLROnPlateau")
        current = self.get_monitor_value(logs)
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def get_state(self) -> dict[str, Any]:
        """The best value and counters the coming epochs depend on.

        The rate itself lives in the optimizer (and in its state); with
        :meth:`set_state` (after `on_train_begin`), a `fit` continued with
        `initial_epoch` reduces exactly as one uninterrupted `fit` would.
        """
        return {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter}

    def set_state(self, state: dict[str, Any]) -> None:
        """Put back what :meth:`get_state` returned.

        Raises:
            RnnkitValueError: `state` is not such a dict.
        """
        fields = {"best": "number", "wait": "count", "cooldown_counter": "count"}
        state = checked_state(self, state, fields)
        self.best, self.wait = state["best"], state["wait"]
        self.cooldown_counter = state["cooldown_counter"]

    def _reduce(self, epoch: int) -> bool:
        old_lr = _get_lr(self.model, "ReduceLROnPlateau")
        if not old_lr > self.min_lr:
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        _set_lr(self.model, new_lr, "ReduceLROnPlateau")
        if self.verbose > 0:
            print_msg(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
        return True


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from a schedule.

    `schedule(epoch, lr)` receives the 0-based epoch index and the current rate
    and returns the new rate; a one-argument `schedule(epoch)` works too.

    Args:
        schedule: Callable `(epoch, lr) -> float` or `(epoch) -> float`.
        verbose: `1` prints each new rate. Defaults to `0`.

    Raises:
        TypeError: `schedule` is not callable, takes neither one nor two
            arguments, or (at an epoch start) returns something that is not a number.

    Example:
        >>> class Optimizer:
        ...     learning_rate = 0.1
        >>> class Model:
        ...     optimizer = Optimizer()
        >>> halve_after_two = LearningRateScheduler(lambda epoch, lr: lr if epoch < 2 else lr / 2)
        >>> halve_after_two.set_model(Model())
        >>> rates = []
        >>> for epoch in range(4):
        ...     halve_after_two.on_epoch_begin(epoch)
        ...     rates.append(Model.optimizer.learning_rate)
        >>> rates
        [0.1, 0.1, 0.05, 0.025]
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        self._takes_lr = _schedule_takes_lr(schedule)
        self.schedule = schedule
        self.verbose = verbose

    def get_state(self) -> dict[str, Any]:
        """Nothing: the rate comes from the schedule and the optimizer (resumable as it is)."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Accept :meth:`get_state`'s empty state."""
        checked_state(self, state, {})

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Call the schedule and assign the rate it returns."""
        if self._takes_lr:
            lr = self.schedule(epoch, _get_lr(self.model, "LearningRateScheduler"))
        else:
            lr = self.schedule(epoch)
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
            raise RnnkitTypeError(
                "LearningRateScheduler: `schedule` must return a float. "
                f"Received: {lr!r} at epoch {epoch}."
            )
        _set_lr(self.model, float(lr), "LearningRateScheduler")
        if self.verbose > 0:
            print_msg(
                f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(lr)}."
            )

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Add the rate in use to the logs as `"learning_rate"`."""
        if logs is not None:
            logs["learning_rate"] = _get_lr(self.model, "LearningRateScheduler")


def _schedule_takes_lr(schedule: Any) -> bool:
    """Whether `schedule` takes `(epoch, lr)` (True) or only `(epoch)` (False)."""
    if not callable(schedule):
        raise RnnkitTypeError(
            "LearningRateScheduler: `schedule` must be a callable (epoch, lr) -> float. "
            f"Received: schedule={schedule!r}."
        )
    try:
        signature = inspect.signature(schedule)
    except (TypeError, ValueError):  # some builtins have no signature: assume Keras's form
        return True
    for args in ((0, 0.1), (0,)):
        try:
            signature.bind(*args)
        except TypeError:
            continue
        return len(args) == 2
    raise RnnkitTypeError(
        "LearningRateScheduler: `schedule` must accept (epoch, lr) or (epoch). "
        f"Received a callable with signature {signature}."
    )
