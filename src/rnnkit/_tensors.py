"""Turning user values into tensors and dtypes: the one place both are converted.

:func:`to_tensor` is for values a computation receives (``y_true``, ``y_pred``,
``sample_weight``): tensors pass through untouched, so gradients still flow, and
anything else must be numeric. :func:`resolve_dtype` reads a ``dtype=`` argument the
way Keras' ``standardize_dtype`` does. Both raise rnnkit errors that name the call.
(Arrays that ``fit``/``predict`` receive are validated more strictly, finiteness
included, by ``models.data_adapter.to_tensor``.)
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import torch

from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError


def to_tensor(value: Any, *, name: str, caller: str) -> torch.Tensor:
    """Return ``value`` as a tensor; a tensor is returned as is (not detached, not copied).

    Args:
        value: A tensor, numpy array, scalar or nested list of numbers or bools.
        name: The argument's name, for messages (``"y_true"``).
        caller: The call that received it, for messages (``"mean_squared_error"``).

    Returns:
        ``value`` itself if it is a tensor, else ``torch.as_tensor(np.asarray(value))``.

    Raises:
        RnnkitTypeError: ``value`` cannot be converted (a ragged list, say) or is
            not numeric (strings, objects).

    Example:
        >>> to_tensor([[1, 2]], name="y_true", caller="loss")
        tensor([[1, 2]])
    """
    if isinstance(value, torch.Tensor):
        return value
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise RnnkitTypeError(
            f"{caller}: `{name}` could not be converted to a tensor ({exc}). "
            "Pass a tensor or an array of numbers of one shape."
        ) from None
    if array.dtype.kind not in "biufc":  # bool, (unsigned) integer, float, complex
        raise RnnkitTypeError(
            f"{caller}: `{name}` must be numeric. Received an array of dtype {array.dtype}."
        )
    return torch.as_tensor(array)


def resolve_dtype(
    dtype: Any, *, caller: str, allowed: Collection[torch.dtype] | None = None
) -> torch.dtype:
    """Read a ``dtype=`` argument as a floating ``torch.dtype``, as Keras reads it.

    Accepts a ``torch.dtype``, a name (``"float32"``, ``"float64"``, ``"torch.float64"``),
    a numpy dtype, or a Keras ``DTypePolicy`` config dict (its ``config.name`` is used).
    ``None`` means Keras' default float type, ``torch.float32``.

    Args:
        dtype: The argument as given.
        caller: The call that received it, for messages (``"LSTM()"``).
        allowed: The dtypes the caller supports. Defaults to `None`: any floating dtype.

    Returns:
        The ``torch.dtype``.

    Raises:
        RnnkitValueError: ``dtype`` is not a floating dtype, or not one of ``allowed``.

    Example:
        >>> resolve_dtype("float64", caller="Dense()"), resolve_dtype(None, caller="Dense()")
        (torch.float64, torch.float32)
    """
    if dtype is None:
        return torch.float32
    resolved = _lookup(dtype)
    ok = resolved is not None and resolved.is_floating_point
    if ok and allowed is not None:
        ok = resolved in allowed
    if not ok:
        if allowed is None:
            expected = "a floating dtype such as 'float32'"
        else:
            names = [f"'{str(d).removeprefix('torch.')}'" for d in allowed]
            expected = " or ".join(names)
        raise RnnkitValueError(f"{caller}: `dtype` must be {expected}. Received: dtype={dtype!r}.")
    assert resolved is not None
    return resolved


def _lookup(dtype: Any) -> torch.dtype | None:
    """``dtype`` as a ``torch.dtype``, or ``None`` when it names no torch dtype."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, dict):  # Keras DTypePolicy config: {"config": {"name": ...}}
        dtype = dtype.get("config", {}).get("name", "float32")
    if isinstance(dtype, np.dtype):
        dtype = dtype.name
    elif isinstance(dtype, type) and issubclass(dtype, np.generic):
        dtype = np.dtype(dtype).name
    if not isinstance(dtype, str):
        return None
    resolved = getattr(torch, dtype.removeprefix("torch."), None)
    return resolved if isinstance(resolved, torch.dtype) else None


__all__ = ["resolve_dtype", "to_tensor"]
