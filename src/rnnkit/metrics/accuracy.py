"""Accuracy metrics: exact, binary (thresholded), categorical (one-hot) and sparse (labels).

``"accuracy"`` in ``compile`` picks one of them: from a crossentropy loss, or else
from the shapes of the first batch, as Keras 3 does (see
:func:`rnnkit.metrics.registry.get`).
"""

from __future__ import annotations

from typing import Any

import torch

from rnnkit._tensors import to_tensor
from rnnkit.losses.base import prepare
from rnnkit.losses.base import squeeze_or_expand_to_same_rank
from rnnkit.metrics.base import Metric
from rnnkit.metrics.reduction import _FixedFnMetric


# ---------------------------------------------------------------------- functions
def accuracy(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Elementwise ``1.0`` where ``y_true == y_pred`` exactly, else ``0.0``."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*prepare(y_true, y_pred, "accuracy"))
    return torch.eq(y_true, y_pred).to(y_pred.dtype)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> torch.Tensor:
    """Elementwise ``1.0`` where ``y_true == (y_pred > threshold)``."""
    y_true, y_pred = _pair(y_true, y_pred, "binary_accuracy")
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    predicted = torch.gt(y_pred, threshold).to(y_true.dtype)
    return torch.eq(y_true, predicted).to(_float_dtype(y_pred))


def categorical_accuracy(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Per-sample ``1.0`` where ``argmax(y_true) == argmax(y_pred)`` (one-hot targets)."""
    y_true, y_pred = _pair(y_true, y_pred, "categorical_accuracy")
    matches = torch.eq(torch.argmax(y_true, dim=-1), torch.argmax(y_pred, dim=-1))
    return matches.to(_float_dtype(y_pred))


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Per-sample ``1.0`` where the integer label equals ``argmax(y_pred)``.

    Labels may be ``(batch,)`` or ``(batch, 1)`` for ``y_pred`` of ``(batch, classes)``.
    """
    y_true, y_pred = _pair(y_true, y_pred, "sparse_categorical_accuracy")
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    predicted = torch.argmax(y_pred, dim=-1)
    return torch.eq(y_true.to(predicted.dtype), predicted).to(_float_dtype(y_pred))


def _pair(y_true: Any, y_pred: Any, caller: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Both as tensors on ``y_pred``'s device, dtypes untouched."""
    y_pred = to_tensor(y_pred, name="y_pred", caller=caller)
    return to_tensor(y_true, name="y_true", caller=caller).to(y_pred.device), y_pred


def _float_dtype(tensor: torch.Tensor) -> torch.dtype:
    return tensor.dtype if tensor.is_floating_point() else torch.get_default_dtype()


# ---------------------------------------------------------------------- classes
class Accuracy(_FixedFnMetric):
    """How often predictions equal targets exactly.

    Args:
        name: Defaults to `"accuracy"`.
        dtype: Defaults to `None`.

    Example:
        >>> Accuracy()([[1.0], [2.0], [3.0], [4.0]], [[0.0], [2.0], [3.0], [4.0]])
        0.75
    """

    direction = "max"
    _fn_of_class = staticmethod(accuracy)

    def __init__(self, name: str = "accuracy", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)


class BinaryAccuracy(_FixedFnMetric):
    """How often ``y_pred > threshold`` equals the 0/1 target.

    Args:
        name: Defaults to `"binary_accuracy"`.
        dtype: Defaults to `None`.
        threshold: Decision threshold on ``y_pred``. Defaults to `0.5`.

    Example:
        >>> BinaryAccuracy()([[1.0], [1.0], [0.0], [0.0]], [[0.98], [1.0], [0.0], [0.6]])
        0.75
    """

    direction = "max"
    _fn_of_class = staticmethod(binary_accuracy)

    def __init__(
        self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5
    ) -> None:
        super().__init__(name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(_FixedFnMetric):
    """How often ``argmax(y_pred)`` equals ``argmax(y_true)`` (one-hot targets).

    Args:
        name: Defaults to `"categorical_accuracy"`.
        dtype: Defaults to `None`.

    Example:
        >>> CategoricalAccuracy()([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
        0.5
    """

    direction = "max"
    _fn_of_class = staticmethod(categorical_accuracy)

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)


class SparseCategoricalAccuracy(_FixedFnMetric):
    """How often ``argmax(y_pred)`` equals the integer label.

    Args:
        name: Defaults to `"sparse_categorical_accuracy"`.
        dtype: Defaults to `None`.

    Example:
        >>> SparseCategoricalAccuracy()([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
        0.5
    """

    direction = "max"
    _fn_of_class = staticmethod(sparse_categorical_accuracy)

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)


class _InferredAccuracy(Metric):
    """``"accuracy"`` without a crossentropy loss: picks the kind on the first batch.

    Keras 3's rule (``compile_utils.get_metric``): ``y_pred`` with one output
    column means binary accuracy; integer labels (``y_true`` of lower rank, or a
    trailing 1 against several columns) mean sparse categorical; otherwise
    categorical.
    """

    direction = "max"

    def __init__(self, name: str = "accuracy") -> None:
        super().__init__(name=name)
        self.inner: Metric | None = None

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if self.inner is None:
            true_shape = tuple(to_tensor(y_true, name="y_true", caller=self.name).shape)
            pred_shape = tuple(to_tensor(y_pred, name="y_pred", caller=self.name).shape)
            self.inner = _accuracy_for_shapes(true_shape, pred_shape, self.name)
        self.inner.update_state(y_true, y_pred, sample_weight)

    def result(self) -> float:
        return 0.0 if self.inner is None else self.inner.result()

    def reset_state(self) -> None:
        if self.inner is not None:
            self.inner.reset_state()


def _accuracy_for_shapes(
    true_shape: tuple[int, ...], pred_shape: tuple[int, ...], name: str
) -> Metric:
    if pred_shape and pred_shape[-1] == 1:
        return BinaryAccuracy(name=name)
    is_sparse = len(true_shape) < len(pred_shape) or (
        bool(true_shape) and true_shape[-1] == 1 and bool(pred_shape) and pred_shape[-1] > 1
    )
    return SparseCategoricalAccuracy(name=name) if is_sparse else CategoricalAccuracy(name=name)
