"""Argument checks shared by the optimizers: numbers, ranges, rates and parameter lists."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from rnnkit import errors
from rnnkit._validation import check_int
from rnnkit._validation import check_number
from rnnkit.optimizers.schedules import LearningRateSchedule


def to_float(name: str, value: Any, *, caller: str) -> float:
    """Return ``value`` as a finite float, or raise naming ``caller`` and ``name``."""
    return check_number(name, value, caller=caller)


def check_range(
    name: str, value: Any, *, caller: str, low: float, high: float = math.inf, closed: str = "[]"
) -> float:
    """Return ``value`` as a finite float inside the interval; ``closed`` is like ``"[)"``."""
    return check_number(name, value, caller=caller, low=low, high=high, closed=closed)


def check_optional_positive(name: str, value: Any, *, caller: str) -> float | None:
    """``None``, or ``value`` as a float > 0."""
    if value is None:
        return None
    return check_range(name, value, caller=caller, low=0.0, closed="(]")


def check_clipping(
    clipnorm: Any, clipvalue: Any, global_clipnorm: Any, *, caller: str
) -> tuple[float | None, float | None, float | None]:
    """The three clip arguments, each ``None`` or > 0, at most one of them set."""
    clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
    if sum(v is not None for v in clips.values()) > 1:
        received = ", ".join(f"{k}={v!r}" for k, v in clips.items())
        raise errors.RnnkitValueError(
            f"{caller}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
            f"set. Received: {received}."
        )
    return (
        check_optional_positive("clipnorm", clipnorm, caller=caller),
        check_optional_positive("clipvalue", clipvalue, caller=caller),
        check_optional_positive("global_clipnorm", global_clipnorm, caller=caller),
    )


def check_optional_int(name: str, value: Any, *, minimum: int, caller: str) -> int | None:
    """``None``, or ``value`` as an int >= ``minimum``."""
    return check_int(name, value, caller=caller, minimum=minimum, allow_none=True)


def check_learning_rate(value: Any, *, caller: str) -> float | LearningRateSchedule:
    """A schedule as is, or a rate > 0 rounded to float32 (Keras keeps it in a float32 variable)."""
    if isinstance(value, LearningRateSchedule):
        return value
    if isinstance(value, (torch.Tensor, np.ndarray)) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise errors.RnnkitTypeError(
            f"{caller}: `learning_rate` must be a float or a LearningRateSchedule. "
            f"Received: learning_rate={value!r}."
        )
    rate = check_range("learning_rate", value, caller=caller, low=0.0, closed="(]")
    return float(np.float32(rate))


def check_schedule_owns_rate(
    group_rate: Any, rate: float, schedule: LearningRateSchedule, *, caller: str
) -> None:
    """Refuse a ``param_groups[0]["lr"]`` that differs from the schedule's ``rate``.

    A torch LR scheduler writes that entry; with a Keras schedule it would be ignored.
    """
    if group_rate != rate:
        raise errors.RnnkitValueError(
            f"{caller}: param_groups[0]['lr'] was set to {group_rate!r} (by a torch LR "
            f"scheduler?), but the rate comes from a {type(schedule).__name__} ({rate!r} at "
            "this step). Use one or the other, not both: give the optimizer a float "
            "learning_rate to drive it with a torch scheduler."
        )


def split_named(
    params: Iterable[Any], *, caller: str
) -> tuple[list[str | None], list[torch.Tensor]]:
    """Split parameters or ``(name, parameter)`` pairs into names and tensors.

    Raises:
        errors.RnnkitTypeError: an entry is not a floating-point tensor.
        errors.RnnkitValueError: a parameter appears twice.
    """
    names: list[str | None] = []
    tensors: list[torch.Tensor] = []
    seen: set[int] = set()
    for item in params:
        name, tensor = item if isinstance(item, tuple) else (None, item)
        if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
            raise errors.RnnkitTypeError(
                f"{caller}: expected floating-point torch parameters. Received: {type(tensor)}."
            )
        if id(tensor) in seen:
            raise errors.RnnkitValueError(
                f"{caller}: parameter {name or len(tensors)} appears twice. Pass each once."
            )
        seen.add(id(tensor))
        names.append(name)
        tensors.append(tensor)
    return names, tensors
