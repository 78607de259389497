"""The :class:`Metric` base class, and :func:`direction_of`: which way a log key improves."""

from __future__ import annotations

from typing import Any

from rnnkit._naming import metric_direction
from rnnkit._naming import to_snake_case
from rnnkit._tensors import resolve_dtype


class Metric:
    """Base class of stateful metrics.

    Subclasses implement ``update_state(y_true, y_pred, sample_weight=None)``,
    ``result() -> float`` and ``reset_state()``; ``metric(y_true, y_pred)`` updates
    and returns the running result.

    Args:
        name: Log key. Defaults to the snake-case class name.
        dtype: Accepted for Keras compatibility and checked like a layer's (a
            floating dtype); running sums are kept in float64 whatever it is.
            Defaults to `None`.
    """

    direction: str | None = None

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        self.name = name or to_snake_case(type(self).__name__)
        caller = f"{type(self).__name__}()"
        self.dtype = None if dtype is None else resolve_dtype(dtype, caller=caller)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Accumulate one batch."""
        raise NotImplementedError(f"{type(self).__name__} must implement update_state().")

    def result(self) -> float:
        """Return the value over all batches since the last reset."""
        raise NotImplementedError(f"{type(self).__name__} must implement result().")

    def reset_state(self) -> None:
        """Forget every batch."""
        raise NotImplementedError(f"{type(self).__name__} must implement reset_state().")

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        """Update with one batch and return the running result."""
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments (JSON-friendly)."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        """Rebuild a metric from :meth:`get_config`'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


# ---------------------------------------------------------------------- directions
direction_of = metric_direction
"""Whether a log key improves downwards or upwards: :func:`rnnkit._naming.metric_direction`."""
