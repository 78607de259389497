"""Timestep masks that a model's output carries, shared by losses and metrics.

A ``Sequential`` whose last layer outputs a masked sequence attaches the
``(batch, timesteps)`` mask to its output as ``_keras_mask``, as Keras does; losses
and metrics then leave the masked steps out of their averages.
"""

from __future__ import annotations

from typing import Any

import torch


def output_mask_of(y_pred: Any) -> torch.Tensor | None:
    """The timestep mask a model attached to its output (Keras' ``_keras_mask``), if any.

    A ``Sequential`` whose last layer outputs a masked sequence (``Masking`` →
    ``LSTM(return_sequences=True)`` → ``TimeDistributed(Dense)``, say) attaches the
    ``(batch, timesteps)`` mask; losses and metrics then average over the valid steps.

    Example:
        >>> import torch
        >>> y_pred = torch.zeros(2, 3, 1)
        >>> output_mask_of(y_pred) is None
        True
        >>> y_pred._keras_mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
        >>> output_mask_of(y_pred)
        tensor([[ True,  True, False],
                [ True, False, False]])
    """
    mask = getattr(y_pred, "_keras_mask", None)
    return mask.bool() if isinstance(mask, torch.Tensor) else None


def mask_for_values(mask: torch.Tensor | None, values: Any) -> torch.Tensor | None:
    """``mask`` spread over ``values`` that have its shape plus trailing axes, else None.

    Per-step losses and metrics are ``(batch, timesteps)``, like the mask; elementwise
    ones (``binary_accuracy`` on a ``Dense(1)`` output, a custom loss without a mean)
    keep a trailing axis, and each of its elements gets its timestep's flag.

    Example:
        >>> import torch
        >>> mask = torch.tensor([[True, False]])
        >>> mask_for_values(mask, torch.zeros(1, 2, 3)).shape
        torch.Size([1, 2, 3])
        >>> mask_for_values(mask, torch.zeros(1)) is None
        True
    """
    if mask is None or not isinstance(values, torch.Tensor) or values.dim() < mask.dim():
        return None
    if tuple(values.shape[: mask.dim()]) != tuple(mask.shape):
        return None
    extra = values.dim() - mask.dim()
    return mask.reshape(*mask.shape, *([1] * extra)).expand(values.shape)


__all__ = ["mask_for_values", "output_mask_of"]
