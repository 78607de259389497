"""Activation functions by Keras name.

Example:
    >>> import torch
    >>> from rnnkit.activations import get
    >>> get("relu")(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from rnnkit._validation import check_one_of
from rnnkit.errors import RnnkitTypeError

Activation = Callable[[torch.Tensor], torch.Tensor]


def linear(x: torch.Tensor) -> torch.Tensor:
    """Identity: ``f(x) = x``."""
    return x


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras 3 hard sigmoid: ``relu6(x + 3) / 6``."""
    return F.relu6(x + 3.0) / 6.0


def exponential(x: torch.Tensor) -> torch.Tensor:
    """``exp(x)``."""
    return torch.exp(x)


def softsign(x: torch.Tensor) -> torch.Tensor:
    """``x / (1 + |x|)``."""
    return F.softsign(x)


def gelu(x: torch.Tensor) -> torch.Tensor:
    """Gaussian error linear unit, approximate (tanh) form as Keras' default."""
    return F.gelu(x, approximate="tanh")


def relu6(x: torch.Tensor) -> torch.Tensor:
    """``min(max(x, 0), 6)``."""
    return F.relu6(x)


def leaky_relu(x: torch.Tensor) -> torch.Tensor:
    """Leaky ReLU with Keras' default slope 0.2."""
    return F.leaky_relu(x, 0.2)


def softmax(x: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis."""
    return torch.softmax(x, dim=-1)


def log_softmax(x: torch.Tensor) -> torch.Tensor:
    """Log-softmax over the last axis."""
    return torch.log_softmax(x, dim=-1)


def hard_tanh(x: torch.Tensor) -> torch.Tensor:
    """Clip to [-1, 1]."""
    return F.hardtanh(x)


ACTIVATIONS: dict[str, Activation] = {
    "linear": linear,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "elu": F.elu,
    "selu": F.selu,
    "gelu": gelu,
    "softplus": F.softplus,
    "softsign": softsign,
    "swish": F.silu,
    "silu": F.silu,
    "mish": F.mish,
    "hard_sigmoid": hard_sigmoid,
    "hard_silu": F.hardswish,
    "hard_swish": F.hardswish,
    "hard_tanh": hard_tanh,
    "exponential": exponential,
    "relu6": relu6,
    "leaky_relu": leaky_relu,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "log_sigmoid": F.logsigmoid,
}


def get(identifier: str | Activation | None, *, caller: str = "activations.get") -> Activation:
    """Return the activation function for a Keras name, a callable, or ``None`` (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return ACTIVATIONS[check_one_of("activation", identifier, ACTIVATIONS, caller=caller)]
    if callable(identifier):
        return identifier
    raise RnnkitTypeError(
        f"{caller}: activation must be a name such as 'tanh' or a callable. "
        f"Received: {identifier!r}."
    )


def serialize(fn: Activation) -> str | None:
    """Return the Keras name of ``fn``, or ``None`` when it is a custom callable."""
    for name, candidate in ACTIVATIONS.items():
        if candidate is fn:
            return name
    return None


def name_of(fn: Activation) -> str:
    """Return a readable name for ``fn`` (Keras name, else the function's name)."""
    fallback: str = getattr(fn, "__name__", repr(fn))
    return serialize(fn) or fallback


def deserialize(name: str) -> Activation:
    """Inverse of :func:`serialize`."""
    return get(name)


tanh = torch.tanh
sigmoid = torch.sigmoid
relu = torch.relu
elu = F.elu
selu = F.selu
softplus = F.softplus
swish = F.silu
silu = F.silu
