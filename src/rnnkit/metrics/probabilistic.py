"""Probabilistic metrics: running means of the binary, categorical and sparse crossentropy."""

from __future__ import annotations

from typing import Any

from rnnkit.losses import probabilistic as loss_fns
from rnnkit.metrics.reduction import _FixedFnMetric

binary_crossentropy = loss_fns.binary_crossentropy
categorical_crossentropy = loss_fns.categorical_crossentropy
sparse_categorical_crossentropy = loss_fns.sparse_categorical_crossentropy


class BinaryCrossentropy(_FixedFnMetric):
    """Running mean of the binary crossentropy.

    Args:
        name: Defaults to `"binary_crossentropy"`.
        dtype: Defaults to `None`.
        from_logits: Defaults to `False`.
        label_smoothing: Defaults to `0`.

    Example:
        >>> round(BinaryCrossentropy()([[1.0]], [[0.5]]), 4)
        0.6931
    """

    direction = "min"
    _fn_of_class = staticmethod(loss_fns.binary_crossentropy)

    def __init__(
        self,
        name: str = "binary_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        label_smoothing: float = 0,
    ) -> None:
        super().__init__(
            name=name, dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing
        )


class CategoricalCrossentropy(_FixedFnMetric):
    """Running mean of the categorical crossentropy.

    Args:
        name: Defaults to `"categorical_crossentropy"`.
        dtype: Defaults to `None`.
        from_logits: Defaults to `False`.
        label_smoothing: Defaults to `0`.
        axis: Defaults to `-1`.

    Example:
        >>> round(CategoricalCrossentropy()([[0.0, 1.0]], [[0.5, 0.5]]), 4)
        0.6931
    """

    direction = "min"
    _fn_of_class = staticmethod(loss_fns.categorical_crossentropy)

    def __init__(
        self,
        name: str = "categorical_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        label_smoothing: float = 0,
        axis: int = -1,
    ) -> None:
        super().__init__(
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class SparseCategoricalCrossentropy(_FixedFnMetric):
    """Running mean of the sparse categorical crossentropy.

    Args:
        name: Defaults to `"sparse_categorical_crossentropy"`.
        dtype: Defaults to `None`.
        from_logits: Defaults to `False`.
        axis: Defaults to `-1`.

    Example:
        >>> round(SparseCategoricalCrossentropy()([1], [[0.5, 0.5]]), 4)
        0.6931
    """

    direction = "min"
    _fn_of_class = staticmethod(loss_fns.sparse_categorical_crossentropy)

    def __init__(
        self,
        name: str = "sparse_categorical_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        axis: int = -1,
    ) -> None:
        super().__init__(name=name, dtype=dtype, from_logits=from_logits, axis=axis)
