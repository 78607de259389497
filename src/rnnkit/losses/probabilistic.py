"""Probabilistic losses: binary, categorical and sparse categorical crossentropy.

Each comes as a per-sample function and as a :class:`~rnnkit.losses.base.Loss`
class that weights and reduces it. Without ``from_logits``, probabilities are
clipped to ``[1e-7, 1 - 1e-7]`` as in Keras.

Example:
    >>> import torch
    >>> y_pred = torch.tensor([[0.25, 0.75], [0.5, 0.5]])
    >>> sparse_categorical_crossentropy(torch.tensor([1, 0]), y_pred)
    tensor([0.2877, 0.6931])
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F

from rnnkit import errors
from rnnkit._tensors import to_tensor
from rnnkit._validation import check_number
from rnnkit.losses.base import EPSILON
from rnnkit.losses.base import Loss
from rnnkit.losses.base import LossFn
from rnnkit.losses.base import LossFunctionWrapper
from rnnkit.losses.base import aligned


# ---------------------------------------------------------------------- functions
def binary_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> torch.Tensor:
    """Per-sample binary crossentropy, the mean over ``axis``.

    Probabilities are clipped to ``[1e-7, 1 - 1e-7]`` unless ``from_logits``;
    ``label_smoothing`` moves targets towards 0.5: ``y * (1 - s) + 0.5 * s``.
    """
    y_true, y_pred = aligned(y_true, y_pred, "binary_crossentropy")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        elementwise = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        clipped = torch.clamp(y_pred, EPSILON, 1.0 - EPSILON)
        elementwise = F.binary_cross_entropy(clipped, y_true, reduction="none")
    return torch.mean(elementwise, dim=axis)


def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> torch.Tensor:
    """Per-sample crossentropy between one-hot ``y_true`` and ``y_pred`` along ``axis``.

    Without ``from_logits``, ``y_pred`` is rescaled to sum to 1 and clipped to
    ``[1e-7, 1 - 1e-7]``; ``label_smoothing`` gives ``y * (1 - s) + s / classes``.
    """
    y_true, y_pred = aligned(y_true, y_pred, "categorical_crossentropy")
    if y_pred.shape[-1] == 1:
        warnings.warn(
            "categorical_crossentropy: y_pred has 1 class, so the loss is always 0. "
            "Use binary_crossentropy for two classes.",
            stacklevel=2,
        )
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        log_prob = F.log_softmax(y_pred, dim=axis)
    else:
        probs = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
        log_prob = torch.log(torch.clamp(probs, EPSILON, 1.0 - EPSILON))
    return -torch.sum(y_true * log_prob, dim=axis)


def sparse_categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> torch.Tensor:
    """Per-sample crossentropy between integer labels and class scores.

    ``y_true`` holds labels in ``[0, classes)`` with the shape of ``y_pred`` minus
    its class axis, or with a trailing axis of 1: ``(batch,)`` or ``(batch, 1)``
    for ``y_pred`` of shape ``(batch, classes)``. Entries labelled
    ``ignore_class`` get loss 0.
    """
    caller = "sparse_categorical_crossentropy"
    y_pred = to_tensor(y_pred, name="y_pred", caller=caller)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.get_default_dtype())
    labels = to_tensor(y_true, name="y_true", caller=caller).to(y_pred.device)
    if labels.dim() == y_pred.dim() and labels.shape[axis] == 1:
        labels = labels.squeeze(axis)
    class_axis = axis % y_pred.dim()
    expected = tuple(d for i, d in enumerate(y_pred.shape) if i != class_axis)
    if tuple(labels.shape) != expected:
        raise errors.RnnkitValueError(
            f"{caller}: y_true has shape {tuple(labels.shape)} but y_pred of shape "
            f"{tuple(y_pred.shape)} needs integer labels of shape {expected} (or with a "
            "trailing axis of 1)."
        )
    valid = None if ignore_class is None else labels != ignore_class
    labels = labels.long() if valid is None else torch.where(valid, labels, 0).long()
    _check_labels(labels, y_pred.shape[class_axis], caller)
    scores = y_pred.movedim(class_axis, 1) if y_pred.dim() > 1 else y_pred.unsqueeze(0)
    targets = labels if y_pred.dim() > 1 else labels.unsqueeze(0)
    if from_logits:
        result = F.cross_entropy(scores, targets, reduction="none")
    else:
        probs = scores / torch.sum(scores, dim=1, keepdim=True)
        log_prob = torch.log(torch.clamp(probs, EPSILON, 1.0 - EPSILON))
        result = F.nll_loss(log_prob, targets, reduction="none")
    result = result if y_pred.dim() > 1 else result.squeeze(0)
    return result if valid is None else torch.where(valid, result, 0.0)


def _check_labels(labels: torch.Tensor, classes: int, caller: str) -> None:
    if labels.numel() == 0:
        return
    low, high = (int(v) for v in torch.aminmax(labels))
    if low < 0 or high >= classes:
        raise errors.RnnkitValueError(
            f"{caller}: labels must be integers in [0, {classes}) for {classes} classes. "
            f"Received labels from {low} to {high}."
        )


# ---------------------------------------------------------------------- classes
class _Crossentropy(LossFunctionWrapper):
    """Shared arguments of the two dense crossentropies; the subclass fixes ``_fn``."""

    _fn: LossFn

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: torch.dtype | str | None = None,
    ) -> None:
        caller = f"{type(self).__name__}()"
        check_number("label_smoothing", label_smoothing, caller=caller, low=0.0, high=1.0)
        super().__init__(
            type(self)._fn,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self) -> dict[str, Any]:
        return {
            **Loss.get_config(self),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)


class BinaryCrossentropy(_Crossentropy):
    """Binary crossentropy for 0/1 targets (one or several independent labels).

    Args:
        from_logits: ``y_pred`` holds logits, not probabilities. Defaults to `False`.
        label_smoothing: In [0, 1]; targets become ``y * (1 - s) + 0.5 * s``.
            Defaults to `0.0`.
        axis: Axis averaged over. Defaults to `-1`.
        reduction: Defaults to `"sum_over_batch_size"`.
        name: Defaults to `"binary_crossentropy"`.
        dtype: Defaults to `None`.

    Example:
        >>> import torch
        >>> loss = BinaryCrossentropy()(torch.tensor([[1.0], [0.0]]), torch.tensor([[0.5], [0.5]]))
        >>> round(loss.item(), 4)
        0.6931
    """

    _fn = staticmethod(binary_crossentropy)

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_crossentropy",
        dtype: torch.dtype | str | None = None,
    ) -> None:
        super().__init__(from_logits, label_smoothing, axis, reduction, name, dtype)


class CategoricalCrossentropy(_Crossentropy):
    """Crossentropy between one-hot targets and class probabilities (or logits).

    Args:
        from_logits: ``y_pred`` holds logits. Defaults to `False`.
        label_smoothing: In [0, 1]; targets become ``y * (1 - s) + s / classes``.
            Defaults to `0.0`.
        axis: Class axis. Defaults to `-1`.
        reduction: Defaults to `"sum_over_batch_size"`.
        name: Defaults to `"categorical_crossentropy"`.
        dtype: Defaults to `None`.

    Example:
        >>> import torch
        >>> y_true, y_pred = torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]])
        >>> round(CategoricalCrossentropy()(y_true, y_pred).item(), 4)
        0.6931
    """

    _fn = staticmethod(categorical_crossentropy)

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_crossentropy",
        dtype: torch.dtype | str | None = None,
    ) -> None:
        super().__init__(from_logits, label_smoothing, axis, reduction, name, dtype)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy between integer labels and class probabilities (or logits).

    Args:
        from_logits: ``y_pred`` holds logits. Defaults to `False`.
        ignore_class: A label whose entries are left out (loss 0, not counted in the
            average). Defaults to `None`.
        reduction: Defaults to `"sum_over_batch_size"`.
        axis: Class axis of ``y_pred``. Defaults to `-1`.
        name: Defaults to `"sparse_categorical_crossentropy"`.
        dtype: Defaults to `None`.

    Example:
        >>> import torch
        >>> y_pred = torch.tensor([[0.25, 0.75], [0.5, 0.5]])
        >>> round(SparseCategoricalCrossentropy()(torch.tensor([1, 0]), y_pred).item(), 4)
        0.4904
    """

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        reduction: str | None = "sum_over_batch_size",
        axis: int = -1,
        name: str = "sparse_categorical_crossentropy",
        dtype: torch.dtype | str | None = None,
    ) -> None:
        super().__init__(
            sparse_categorical_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def _mask(self, y_true: Any) -> torch.Tensor | None:
        if self.ignore_class is None:
            return None
        labels = to_tensor(y_true, name="y_true", caller=self.name)
        if labels.dim() >= 2 and labels.shape[-1] == 1:
            labels = labels.squeeze(-1)
        return labels != self.ignore_class

    def get_config(self) -> dict[str, Any]:
        """Return name, reduction, ``from_logits``, ``ignore_class`` and ``axis``."""
        return {
            **Loss.get_config(self),
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
            "axis": self.axis,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """Rebuild the loss from :meth:`get_config`'s output (no ``fn`` to look up)."""
        return cls(**config)
