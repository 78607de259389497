"""Turning user arrays into validated tensors and batches for fit/evaluate/predict."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from rnnkit._validation import check_array
from rnnkit.errors import RnnkitValueError


def to_tensor(array: Any, *, name: str, caller: str, dtype=torch.float32) -> torch.Tensor:
    """Validate ``array`` (numeric, finite) and return it as a CPU tensor."""
    if isinstance(array, torch.Tensor):
        tensor = array.detach()
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            check_array(name, tensor.cpu().numpy(), caller=caller)  # raises with the location
        return tensor.to(dtype) if tensor.is_floating_point() or dtype != torch.long else tensor
    checked = check_array(name, array, caller=caller)
    if np.issubdtype(checked.dtype, np.integer) and dtype == torch.long:
        return torch.as_tensor(checked, dtype=torch.long)
    return torch.as_tensor(np.ascontiguousarray(checked), dtype=dtype)


def check_same_length(x: torch.Tensor, y: torch.Tensor | None, *, caller: str) -> None:
    """Raise if x and y hold different numbers of samples."""
    if y is not None and len(x) != len(y):
        raise RnnkitValueError(
            f"{caller}: x and y must have the same number of samples. Received x with "
            f"{len(x)} samples (shape {tuple(x.shape)}) and y with {len(y)} "
            f"(shape {tuple(y.shape)})."
        )


def split_validation(arrays: list[torch.Tensor | None], fraction: float, *, caller: str):
    """Keras' ``validation_split``: the LAST ``fraction`` of samples, before shuffling.

    Returns:
        ``(train_arrays, validation_arrays)``.
    """
    if not 0.0 < fraction < 1.0:
        raise RnnkitValueError(
            f"{caller}: validation_split must be in (0, 1). Received: {fraction}."
        )
    n = len(arrays[0])
    split_at = math.floor(n * (1.0 - fraction))
    if split_at in (0, n):
        raise RnnkitValueError(
            f"{caller}: validation_split={fraction} leaves no samples for "
            f"{'training' if split_at == 0 else 'validation'} out of {n}. Use more data "
            "or another fraction."
        )
    train = [None if a is None else a[:split_at] for a in arrays]
    val = [None if a is None else a[split_at:] for a in arrays]
    return train, val


def batch_indices(
    n: int, batch_size: int, *, shuffle: bool | str, generator: torch.Generator | None = None
) -> Iterator[torch.Tensor | slice]:
    """Yield index tensors (shuffled) or slices (in order) covering ``range(n)``."""
    if shuffle == "batch":
        starts = torch.randperm(math.ceil(n / batch_size), generator=generator) * batch_size
        for start in starts.tolist():
            yield slice(start, min(start + batch_size, n))
    elif shuffle:
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            yield order[start : start + batch_size]
    else:
        for start in range(0, n, batch_size):
            yield slice(start, min(start + batch_size, n))


def take(tensor: torch.Tensor | None, index: torch.Tensor | slice, device: torch.device):
    """Select a batch and move it to ``device``."""
    if tensor is None:
        return None
    part = tensor[index]
    return part.to(device, non_blocking=True) if part.device != device else part
