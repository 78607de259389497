"""The exponential moving average of the weights (``use_ema``), as Keras updates it."""

from __future__ import annotations

import torch


def update_moving_average(
    averages: list[torch.Tensor],
    params: list[torch.Tensor],
    *,
    momentum: float,
    iterations: int,
    overwrite_frequency: int | None,
) -> None:
    """``average = momentum * average + (1 - momentum) * w``, in place.

    The first update (``iterations == 0``) copies the weights (momentum 0). Every
    ``overwrite_frequency`` updates the averages are copied into the weights.

    Example:
        >>> avg, w = [torch.zeros(1)], [torch.ones(1)]
        >>> update_moving_average(avg, w, momentum=0.5, iterations=1, overwrite_frequency=None)
        >>> avg
        [tensor([0.5000])]
    """
    dtype = params[0].dtype
    rate = torch.tensor(momentum if iterations != 0 else 0.0, dtype=dtype)  # Keras' precision
    torch._foreach_mul_(averages, rate.item())
    torch._foreach_add_(averages, torch._foreach_mul(params, (1 - rate).item()))
    if overwrite_frequency and (iterations + 1) % overwrite_frequency == 0:
        torch._foreach_copy_(params, averages)
