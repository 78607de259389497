"""Learning-rate schedules, evaluated at the optimizer's step count.

Reach them as ``rnnkit.optimizers.schedules``. Each schedule is called with the
number of steps taken so far and returns a float, computed in float32 as Keras 3
does, so an optimizer driven by a schedule follows Keras step for step.

Example:
    >>> from rnnkit.optimizers import schedules
    >>> lr = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> round(lr(10), 6), round(lr(20), 6)
    (0.05, 0.025)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rnnkit import errors
from rnnkit._validation import check_one_of

_F32 = np.float32


def _check_decay_steps(name: str, value: Any, *, caller: str) -> None:
    if not isinstance(value, (int, float, np.number)) or isinstance(value, bool) or value <= 0:
        raise errors.RnnkitValueError(
            f"{caller}: `{name}` must be > 0. Received: {name}={value!r}."
        )


class LearningRateSchedule:
    """Base class: a callable ``schedule(step) -> learning rate``.

    Subclasses implement ``__call__`` and ``get_config``; ``from_config`` rebuilds
    one from its config.
    """

    def __call__(self, step: int) -> float:
        """Return the learning rate at optimizer step `step`."""
        raise NotImplementedError(f"{type(self).__name__} must override __call__(step).")

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as a JSON-friendly dict."""
        raise NotImplementedError(f"{type(self).__name__} must override get_config().")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        """Rebuild a schedule from :meth:`get_config`'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    Args:
        initial_learning_rate: Rate at step 0.
        decay_steps: Steps over which the rate is multiplied by ``decay_rate``; > 0.
        decay_rate: Multiplier per ``decay_steps``.
        staircase: Decay in whole steps (``floor(step / decay_steps)``). Defaults to `False`.
        name: Name. Defaults to `"ExponentialDecay"`.

    Example:
        >>> ExponentialDecay(1.0, decay_steps=2, decay_rate=0.5, staircase=True)(3)
        0.5
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ) -> None:
        _check_decay_steps("decay_steps", decay_steps, caller="ExponentialDecay")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: int) -> float:
        """Return the learning rate at optimizer step `step`."""
        p = _F32(step) / _F32(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return float(_F32(self.initial_learning_rate) * np.power(_F32(self.decay_rate), p))

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    Args:
        initial_learning_rate: Rate at step 0.
        decay_steps: Steps per unit of decay; > 0.
        decay_rate: Decay per ``decay_steps``.
        staircase: Decay in whole steps. Defaults to `False`.
        name: Name. Defaults to `"InverseTimeDecay"`.

    Example:
        >>> InverseTimeDecay(1.0, decay_steps=1, decay_rate=1.0)(3)
        0.25
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ) -> None:
        _check_decay_steps("decay_steps", decay_steps, caller="InverseTimeDecay")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: int) -> float:
        """Return the learning rate at optimizer step `step`."""
        p = _F32(step) / _F32(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        denom = _F32(1) + _F32(self.decay_rate) * p
        return float(_F32(self.initial_learning_rate) / denom)

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` while ``boundaries[i-1] < step <= boundaries[i]``.

    Args:
        boundaries: Increasing step boundaries.
        values: Rates, one more than ``boundaries``.
        name: Name. Defaults to `"PiecewiseConstant"`.

    Example:
        >>> lr = PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
        >>> lr(10), lr(11), round(lr(21), 6)
        (1.0, 0.5, 0.1)
    """

    def __init__(
        self, boundaries: list[int], values: list[float], name: str = "PiecewiseConstant"
    ) -> None:
        if len(boundaries) != len(values) - 1:
            raise errors.RnnkitValueError(
                "PiecewiseConstantDecay: `values` must have one more entry than `boundaries`. "
                f"Received: {len(boundaries)} boundaries and {len(values)} values."
            )
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step: int) -> float:
        """Return the learning rate at optimizer step `step`."""
        for boundary, value in zip(self.boundaries, self.values, strict=False):
            if step <= boundary:
                return float(_F32(value))
        return float(_F32(self.values[-1]))

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate``.

    ``(initial - end) * (1 - min(step, decay_steps) / decay_steps) ** power + end``;
    with ``cycle=True`` the horizon grows to the next multiple of ``decay_steps``.

    Args:
        initial_learning_rate: Rate at step 0.
        decay_steps: Steps to reach ``end_learning_rate``; > 0.
        end_learning_rate: Final rate. Defaults to `0.0001`.
        power: Exponent. Defaults to `1.0`.
        cycle: Restart past ``decay_steps``. Defaults to `False`.
        name: Name. Defaults to `"PolynomialDecay"`.

    Example:
        >>> PolynomialDecay(1.0, decay_steps=4, end_learning_rate=0.0)(2)
        0.5
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ) -> None:
        _check_decay_steps("decay_steps", decay_steps, caller="PolynomialDecay")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step: int) -> float:
        """Return the learning rate at optimizer step `step`."""
        step_f = _F32(step)
        decay_steps = _F32(self.decay_steps)
        if self.cycle:
            multiplier = _F32(1) if step == 0 else np.ceil(step_f / decay_steps)
            decay_steps = decay_steps * multiplier
        else:
            step_f = min(step_f, decay_steps)
        p = step_f / decay_steps
        start, end = _F32(self.initial_learning_rate), _F32(self.end_learning_rate)
        return float((start - end) * np.power(_F32(1) - p, _F32(self.power)) + end)

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """Cosine decay, with an optional linear warmup first.

    Without warmup: ``lr = initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps))
    + alpha)`` with ``s = min(step, decay_steps)``. With ``warmup_target``, the rate
    rises linearly from ``initial_learning_rate`` to ``warmup_target`` over
    ``warmup_steps`` steps, then decays from ``warmup_target``.

    Args:
        initial_learning_rate: Rate at step 0.
        decay_steps: Steps of the cosine part; > 0.
        alpha: Final rate as a fraction of the starting rate. Defaults to `0.0`.
        name: Name. Defaults to `"CosineDecay"`.
        warmup_target: Rate reached at the end of the warmup. Defaults to `None` (no warmup).
        warmup_steps: Warmup length. Defaults to `0`.

    Example:
        >>> round(CosineDecay(1.0, decay_steps=10)(5), 6)
        0.5
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ) -> None:
        _check_decay_steps("decay_steps", decay_steps, caller="CosineDecay")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step: np.float32, decay_from: np.float32) -> float:
        fraction = step / _F32(self.decay_steps)
        cosine = _F32(0.5) * (_F32(1) + np.cos(_F32(math.pi) * fraction))
        alpha = _F32(self.alpha)
        return float(decay_from * ((_F32(1) - alpha) * cosine + alpha))

    def __call__(self, step: int) -> float:
        """Return the learning rate at optimizer step `step`."""
        initial = _F32(self.initial_learning_rate)
        decay_steps = _F32(self.decay_steps)
        if self.warmup_target is None:
            return self._decay(min(_F32(step), decay_steps), initial)
        target, warmup = _F32(self.warmup_target), _F32(self.warmup_steps)
        step_f = min(_F32(step), decay_steps + warmup)
        if step_f < warmup:
            return float((target - initial) * (step_f / warmup) + initial)
        return self._decay(step_f - warmup, target)

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


SCHEDULES: dict[str, type[LearningRateSchedule]] = {
    cls.__name__: cls
    for cls in (
        ExponentialDecay,
        InverseTimeDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        CosineDecay,
    )
}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """Return ``{"class_name": ..., "config": ...}`` for a schedule."""
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict[str, Any]) -> LearningRateSchedule:
    """Rebuild a schedule from :func:`serialize`'s output (Keras' format too)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise errors.RnnkitTypeError(
            "schedules.deserialize(): expected a dict with 'class_name' and 'config'. "
            f"Received: {config!r}."
        )
    name = check_one_of(
        "schedule", config["class_name"], SCHEDULES, caller="schedules.deserialize()"
    )
    return SCHEDULES[name].from_config(dict(config.get("config", {})))


__all__ = [
    "CosineDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "serialize",
]
