"""Weight constraints with Keras names, applied after each optimizer step.

Example:
    >>> import torch
    >>> from rnnkit.constraints import NonNeg
    >>> NonNeg()(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
"""

from __future__ import annotations

from typing import Any

import torch

from rnnkit._validation import check_number
from rnnkit._validation import check_one_of
from rnnkit.errors import RnnkitTypeError
from rnnkit.initializers import from_class_config


class Constraint:
    """Base class: ``__call__(weight) -> projected weight``."""

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        """Return `weight` with the constraint applied (run after each optimizer step)."""
        return weight

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments."""
        return {}


class NonNeg(Constraint):
    """Clip weights at zero from below."""

    def __call__(self, weight):
        """Return `weight` with its negative entries set to zero."""
        return weight.clamp_min(0.0)


class MaxNorm(Constraint):
    """Rescale so the norm along ``axis`` is at most ``max_value``."""

    def __init__(self, max_value: float = 2.0, axis: int = 0):
        self.max_value = check_number("max_value", max_value, caller="MaxNorm", low=0)
        self.axis = _check_axis(axis, "MaxNorm")

    def __call__(self, weight):
        """Return `weight` rescaled so its norm along `axis` is at most `max_value`."""
        norms = weight.square().sum(dim=self.axis, keepdim=True).sqrt()
        desired = norms.clamp(0, self.max_value)
        return weight * (desired / (1e-7 + norms))

    def get_config(self):
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {"max_value": self.max_value, "axis": self.axis}


class UnitNorm(Constraint):
    """Rescale to unit norm along ``axis``."""

    def __init__(self, axis: int = 0):
        self.axis = _check_axis(axis, "UnitNorm")

    def __call__(self, weight):
        """Return `weight` rescaled to unit norm along `axis`."""
        return weight / (1e-7 + weight.square().sum(dim=self.axis, keepdim=True).sqrt())

    def get_config(self):
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Keep the norm along ``axis`` within ``[min_value, max_value]``."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        caller = "MinMaxNorm"
        self.min_value = check_number("min_value", min_value, caller=caller, low=0)
        self.max_value = check_number("max_value", max_value, caller=caller, low=0)
        self.rate = check_number("rate", rate, caller=caller, low=0)
        self.axis = _check_axis(axis, caller)

    def __call__(self, weight):
        """Return `weight` with norms along `axis` moved into [min_value, max_value] at `rate`."""
        norms = weight.square().sum(dim=self.axis, keepdim=True).sqrt()
        desired = self.rate * norms.clamp(self.min_value, self.max_value) + (1 - self.rate) * norms
        return weight * (desired / (1e-7 + norms))

    def get_config(self):
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


def _check_axis(axis: Any, caller: str) -> int | list[int]:
    """``axis`` as an int or a list of ints (Keras allows both)."""
    items = axis if isinstance(axis, (list, tuple)) else [axis]
    if not items or any(isinstance(a, bool) or not isinstance(a, int) for a in items):
        raise RnnkitTypeError(
            f"{caller}: `axis` must be an integer or a list of integers. Received: axis={axis!r}."
        )
    return list(axis) if isinstance(axis, (list, tuple)) else axis


CONSTRAINTS = {
    "non_neg": NonNeg,
    "max_norm": MaxNorm,
    "unit_norm": UnitNorm,
    "min_max_norm": MinMaxNorm,
    "NonNeg": NonNeg,
    "MaxNorm": MaxNorm,
    "UnitNorm": UnitNorm,
    "MinMaxNorm": MinMaxNorm,
}


def get(identifier: Any, *, caller: str = "constraints.get") -> Any:
    """Return a constraint for a name, an instance, a config dict or ``None``."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return CONSTRAINTS[check_one_of("constraint", identifier, CONSTRAINTS, caller=caller)]()
    if isinstance(identifier, dict):
        return from_class_config("constraint", identifier, CONSTRAINTS, caller=caller)
    if callable(identifier):
        return identifier
    raise RnnkitTypeError(f"{caller}: unknown constraint {identifier!r}.")


def serialize(constraint: Any) -> dict[str, Any] | None:
    """Return ``{"class_name", "config"}`` for a built-in constraint."""
    if constraint is None or type(constraint) not in CONSTRAINTS.values():
        return None
    return {"class_name": type(constraint).__name__, "config": constraint.get_config()}
