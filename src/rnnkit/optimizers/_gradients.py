"""What happens to gradients before the update: loss unscaling and clipping, as Keras does it.

Functions on lists of tensors; none of them changes its input in place.
"""

from __future__ import annotations

import torch

Tensors = list[torch.Tensor]


def unscale(grads: Tensors, loss_scale_factor: float | None) -> Tensors:
    """Divide by ``loss_scale_factor`` (the loss was multiplied by it), or return ``grads``."""
    if loss_scale_factor is None:
        return grads
    return list(torch._foreach_div(grads, loss_scale_factor))


def clip(
    grads: Tensors,
    *,
    clipnorm: float | None,
    clipvalue: float | None,
    global_clipnorm: float | None,
) -> Tensors:
    """Apply the one clipping rule that is set (the optimizer allows at most one).

    Example:
        >>> clip([torch.tensor([3.0, 4.0])], clipnorm=1.0, clipvalue=None, global_clipnorm=None)
        [tensor([0.6000, 0.8000])]
    """
    if clipnorm:
        return [clip_by_norm(g, clipnorm) for g in grads]
    if global_clipnorm:
        return clip_by_global_norm(grads, global_clipnorm)
    if clipvalue:
        low = torch._foreach_clamp_min(grads, -clipvalue)
        return list(torch._foreach_clamp_max(low, clipvalue))
    return grads


def clip_by_norm(grad: torch.Tensor, clipnorm: float) -> torch.Tensor:
    """Keras' ``_clip_by_norm``: ``g * c / max(||g||, c)``."""
    l2norm = torch.sqrt(torch.sum(torch.square(grad)))
    return grad * clipnorm / torch.maximum(l2norm, torch.full_like(l2norm, clipnorm))


def clip_by_global_norm(grads: Tensors, clip_norm: float) -> Tensors:
    """Keras' ``clip_by_global_norm``; a non-finite norm turns every gradient into NaN."""
    norm = torch.sqrt(torch.sum(torch.stack([torch.sum(torch.square(g)) for g in grads])))
    inverse_clip = torch.full_like(norm, 1.0 / clip_norm)
    scale = clip_norm * torch.minimum(1.0 / norm, inverse_clip)
    scale = scale + (norm - norm)
    return list(torch._foreach_mul(grads, scale))
