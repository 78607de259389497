"""Stop training when a monitored quantity has stopped improving."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit._validation import check_bool
from rnnkit._validation import check_non_negative_int
from rnnkit._validation import check_number
from rnnkit.callbacks.base import checked_state
from rnnkit.callbacks.monitor import MonitorCallback
from rnnkit.callbacks.progress import print_msg


class EarlyStopping(MonitorCallback):
    """Stop training when a monitored quantity has stopped improving.

    At the end of each epoch from `start_from_epoch` on, a wait counter goes up
    by one; an improvement on the best value so far (by more than `min_delta`)
    records it and resets the counter, unless a `baseline` is set and not beaten.
    Training stops once the counter reaches `patience`, but never after the
    first epoch (epoch 0). With `patience=0` that is the first epoch without
    improvement; with `baseline` set and never beaten, it is epoch `patience`
    (counting from the first monitored epoch). This is Keras 3's algorithm, step
    for step.

    With `restore_best_weights=True`, the weights of the best epoch are put back
    when training ends, whether or not it stopped early.

    Args:
        monitor: Log key to watch. Defaults to `"val_loss"`.
        min_delta: Smallest change (in absolute value) that counts as an
            improvement. Defaults to `0`.
        patience: Epochs without improvement after which training stops.
            Defaults to `0`.
        verbose: `1` prints when training stops and when weights are restored.
            Defaults to `0`.
        mode: `"auto"`, `"min"` or `"max"`; `"auto"` infers the direction from
            the name (`loss` is minimised, `accuracy` maximised, ...). Defaults
            to `"auto"`.
        baseline: Value the quantity must beat for the wait counter to reset, or
            `None`. Defaults to `None`.
        restore_best_weights: Restore the weights of the best epoch at the end of
            training. Defaults to `False` (keep the last epoch's weights).
        start_from_epoch: Epochs to let pass before monitoring starts (warm-up).
            Defaults to `0`.

    Attributes:
        best: Best monitored value so far (`None` before the first).
        best_epoch: Epoch index (0-based) of `best`.
        stopped_epoch: Epoch index at which training was stopped, `0` if it was not.
        wait: Epochs since the last improvement.

    Example:
        >>> class Model:
        ...     stop_training = False
        >>> stopper = EarlyStopping(monitor="val_loss", patience=2)
        >>> stopper.set_model(Model())
        >>> stopper.on_train_begin()
        >>> for epoch, val_loss in enumerate([0.9, 0.5, 0.6, 0.55, 0.4]):
        ...     stopper.on_epoch_end(epoch, {"val_loss": val_loss})
        ...     if stopper.model.stop_training:
        ...         break
        >>> stopper.stopped_epoch, stopper.best, stopper.best_epoch
        (3, 0.5, 1)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__(monitor, mode, min_delta=min_delta)
        caller = "EarlyStopping"
        self.patience = check_non_negative_int("patience", patience, caller=caller)
        self.verbose = verbose
        self.baseline = check_number("baseline", baseline, caller=caller, allow_none=True)
        self.restore_best_weights = check_bool(
            "restore_best_weights", restore_best_weights, caller=caller
        )
        self.start_from_epoch = check_non_negative_int(
            "start_from_epoch", start_from_epoch, caller=caller
        )
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best_weights: list[np.ndarray] | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Reset the counters, so one instance can serve several `fit` calls."""
        super().on_train_begin(logs)
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Count, compare with the best value, and stop when patience runs out."""
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # The first monitored epoch is the best so far.
            self.best_weights = self._copy_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self.is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self._copy_weights()
            # Restart the count only if the baseline is beaten too.
            if self.baseline is None or self.is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Report the stop and restore the best weights if asked to."""
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print_msg(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)

    def get_state(self) -> dict[str, Any]:
        """The counters, best value and best weights the coming epochs depend on.

        With :meth:`set_state` (after `on_train_begin`), a `fit` continued with
        `initial_epoch` stops and restores exactly as one uninterrupted `fit` would.

        Example:
            >>> stopper = EarlyStopping(patience=3)
            >>> stopper.on_train_begin()
            >>> stopper.set_state({**stopper.get_state(), "wait": 2, "best": 0.5})
            >>> stopper.wait, stopper.best
            (2, 0.5)
        """
        weights = None if self.best_weights is None else list(self.best_weights)
        return {
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "best_weights": weights,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Put back what :meth:`get_state` returned.

        Raises:
            RnnkitValueError: `state` is not such a dict.
        """
        fields = {"wait": "count", "stopped_epoch": "count", "best": "number"}
        fields.update(best_epoch="count", best_weights="arrays")
        state = checked_state(self, state, fields)
        self.wait, self.stopped_epoch = state["wait"], state["stopped_epoch"]
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        weights = state["best_weights"]
        self.best_weights = None if weights is None else [np.array(w) for w in weights]

    def _copy_weights(self) -> list[np.ndarray]:
        return [np.array(w, copy=True) for w in self.model.get_weights()]
