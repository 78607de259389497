"""Padding and encoding helpers with Keras semantics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnkit._validation import check_one_of
from rnnkit.errors import RnnkitValueError


def pad_sequences(
    sequences: Sequence[Any],
    maxlen: int | None = None,
    dtype: Any = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: float = 0.0,
) -> np.ndarray:
    """Pad (or truncate) a list of sequences to one length, as Keras does.

    Each sequence may be a list of scalars or an array ``(length, features...)``.
    ``padding``/``truncating`` are ``"pre"`` (at the start, Keras' default) or
    ``"post"``.

    Returns:
        ``(n, maxlen, *features)`` array of ``dtype``.

    Example:
        >>> pad_sequences([[1, 2], [3]], padding="post")
        array([[1, 2],
               [3, 0]], dtype=int32)
    """
    caller = "pad_sequences()"
    check_one_of("padding", padding, ("pre", "post"), caller=caller)
    check_one_of("truncating", truncating, ("pre", "post"), caller=caller)
    arrays = [np.asarray(s) for s in sequences]
    lengths = [len(a) for a in arrays]
    if maxlen is None:
        maxlen = max(lengths, default=0)
    if maxlen < 0:
        raise RnnkitValueError(f"{caller}: maxlen must be >= 0. Received: maxlen={maxlen}.")
    trailing: tuple[int, ...] = ()
    for a in arrays:
        if len(a):
            trailing = a.shape[1:]
            break
    for i, a in enumerate(arrays):
        if len(a) and a.shape[1:] != trailing:
            raise RnnkitValueError(
                f"{caller}: sequence {i} has feature shape {a.shape[1:]} but the first "
                f"non-empty one has {trailing}. All sequences need the same features."
            )
    is_str = np.issubdtype(np.dtype(dtype), np.str_) or np.dtype(dtype) == object
    if not is_str and isinstance(value, str):
        raise RnnkitValueError(f"{caller}: value {value!r} does not fit dtype {dtype}.")
    out = np.full((len(arrays), maxlen, *trailing), value, dtype=dtype)
    for i, a in enumerate(arrays):
        if not len(a) or maxlen == 0:
            continue
        part = a[-maxlen:] if truncating == "pre" else a[:maxlen]
        if padding == "post":
            out[i, : len(part)] = part
        else:
            out[i, maxlen - len(part) :] = part
    return out


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode integer labels.

    Example:
        >>> to_categorical([0, 2], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    labels = np.asarray(x, dtype=np.int64)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise RnnkitValueError(
            f"to_categorical(): labels must be in [0, {num_classes}). Received min "
            f"{labels.min()}, max {labels.max()}."
        )
    return np.eye(num_classes, dtype=np.float32)[labels]
