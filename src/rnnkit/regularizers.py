"""Weight regularisers with Keras names: penalties added to the training loss.

Example:
    >>> import torch
    >>> from rnnkit.regularizers import L2
    >>> float(L2(0.5)(torch.tensor([1.0, 2.0])))
    2.5
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from rnnkit._validation import check_number
from rnnkit._validation import check_one_of
from rnnkit.errors import RnnkitTypeError
from rnnkit.initializers import from_class_config


class Regularizer:
    """Base class: ``__call__(weight) -> scalar penalty``."""

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        """Return the penalty (a scalar tensor) this regularizer adds to the loss."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments."""
        return {}


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w**2)``."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        caller = type(self).__name__
        self.l1 = check_number("l1", l1, caller=caller, low=0)
        self.l2 = check_number("l2", l2, caller=caller, low=0)

    def __call__(self, weight):
        """Return `l1 * sum(|weight|) + l2 * sum(weight ** 2)` as a scalar tensor."""
        penalty = weight.new_zeros(())
        if self.l1:
            penalty = penalty + self.l1 * weight.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * weight.square().sum()
        return penalty

    def get_config(self):
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|w|)``; Keras default ``l1=0.01``."""

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)

    def get_config(self):
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(w**2)``; Keras default ``l2=0.01``."""

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)

    def get_config(self):
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {"l2": self.l2}


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """Keras' ``l1_l2`` helper (both default to 0.01)."""
    return L1L2(l1, l2)


REGULARIZERS: dict[str, Callable[..., Any]] = {
    "l1": L1,
    "l2": L2,
    "l1_l2": l1_l2,
    "L1": L1,
    "L2": L2,
    "L1L2": L1L2,
}


def get(identifier: Any, *, caller: str = "regularizers.get") -> Any:
    """Return a regulariser for a name, an instance, a config dict or ``None``."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return REGULARIZERS[check_one_of("regularizer", identifier, REGULARIZERS, caller=caller)]()
    if isinstance(identifier, dict):
        return from_class_config("regularizer", identifier, REGULARIZERS, caller=caller)
    if callable(identifier):
        return identifier
    raise RnnkitTypeError(f"{caller}: unknown regularizer {identifier!r}.")


def serialize(reg: Any) -> dict[str, Any] | None:
    """Return ``{"class_name", "config"}`` for a built-in regulariser."""
    if reg is None:
        return None
    if type(reg) in (L1, L2, L1L2):
        return {"class_name": type(reg).__name__, "config": reg.get_config()}
    return None
