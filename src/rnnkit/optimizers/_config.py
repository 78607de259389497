"""How an optimizer describes itself: Keras' config, default names and a short repr."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from rnnkit._naming import to_snake_case
from rnnkit.optimizers import schedules

# The arguments every optimizer takes, as attributes of the same names (Keras' order).
_BASE_KEYS = (
    "name",
    "learning_rate",
    "weight_decay",
    "clipnorm",
    "global_clipnorm",
    "clipvalue",
    "use_ema",
    "ema_momentum",
    "ema_overwrite_frequency",
    "loss_scale_factor",
    "gradient_accumulation_steps",
)


def default_name(cls: type) -> str:
    """Keras' snake-case class name: ``RMSprop -> "rm_sprop"``, ``AdamW -> "adam_w"``.

    Example:
        >>> class AdamW: ...
        >>> default_name(AdamW)
        'adam_w'
    """
    return to_snake_case(cls.__name__)


class ConfigMixin:
    """``get_config``/``from_config``/``repr`` of :class:`~rnnkit.optimizers.base.Optimizer`.

    Subclasses add their own arguments to ``super().get_config()``. A learning-rate
    schedule (the optimizer's ``_schedule``) is stored as its serialized dict.
    """

    _schedule: schedules.LearningRateSchedule | None

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments with Keras' keys (a schedule is serialized)."""
        config = {key: getattr(self, key) for key in _BASE_KEYS}
        if self._schedule is not None:
            config["learning_rate"] = schedules.serialize(self._schedule)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        """Build an optimizer from :meth:`get_config`'s output."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self) -> str:
        """``Adam(learning_rate=0.001)``: the rate, then each argument that is not a default.

        The rate shows as the shortest float32 repr, a schedule as its own repr.
        """
        cls = type(self)
        defaults = {
            key: parameter.default
            for key, parameter in inspect.signature(cls.__init__).parameters.items()
            if parameter.default is not inspect.Parameter.empty
        }
        defaults["name"] = default_name(cls)
        config = self.get_config()
        rate = config.pop("learning_rate")
        shown = [
            f"learning_rate={self._schedule!r}"
            if self._schedule is not None
            else f"learning_rate={np.float32(rate)!s}"
        ]
        shown += [f"{k}={v!r}" for k, v in config.items() if defaults.get(k, v) != v]
        return f"{cls.__name__}({', '.join(shown)})"
