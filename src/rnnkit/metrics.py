"""Stateful metrics with Keras 3's names, log keys and averaging rules.

A metric accumulates over batches (``update_state``), reports a float
(``result``) and starts again with ``reset_state``. Mean-type metrics follow
Keras' ``Mean``: per-sample values are reduced to one value per sample, weighted,
and ``result = sum(weighted values) / sum(weights)`` (the sample count without
weights). ``direction`` says whether larger is better (``"max"``) or smaller
(``"min"``); callbacks and the tuner use it.

Example:
    >>> import torch
    >>> from rnnkit.metrics import MeanAbsoluteError
    >>> m = MeanAbsoluteError()
    >>> m.update_state(torch.tensor([[1.0], [2.0]]), torch.tensor([[1.5], [2.0]]))
    >>> m.update_state(torch.tensor([[0.0]]), torch.tensor([[1.0]]))
    >>> m.name, m.direction, m.result()
    ('mean_absolute_error', 'min', 0.5)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

import rnnkit.errors as errors
from rnnkit import losses
from rnnkit._validation import check_one_of
from rnnkit.losses import mask_for_values
from rnnkit.losses import output_mask_of

MetricFn = Callable[..., torch.Tensor]


def _snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _to_tensor(value: Any, name: str, caller: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach()
    array = np.asarray(value)
    if not (np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)):
        raise errors.RnnkitTypeError(
            f"{caller}: `{name}` must be numeric. Received an array of dtype {array.dtype}."
        )
    return torch.as_tensor(array)


def _prepare(y_true: Any, y_pred: Any, caller: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``y_pred`` as a floating tensor, ``y_true`` in its dtype, ranks aligned."""
    y_pred = _to_tensor(y_pred, "y_pred", caller)
    y_pred = y_pred if y_pred.is_floating_point() else y_pred.to(torch.get_default_dtype())
    y_true = _to_tensor(y_true, "y_true", caller).to(device=y_pred.device, dtype=y_pred.dtype)
    return losses.squeeze_or_expand_to_same_rank(y_true, y_pred)


# ---------------------------------------------------------------------- functions
def accuracy(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Elementwise ``1.0`` where ``y_true == y_pred`` exactly, else ``0.0``."""
    y_true, y_pred = _prepare(y_true, y_pred, "accuracy")
    return torch.eq(y_true, y_pred).to(y_pred.dtype)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> torch.Tensor:
    """Elementwise ``1.0`` where ``y_true == (y_pred > threshold)``."""
    y_true, y_pred = _pair(y_true, y_pred, "binary_accuracy")
    y_true, y_pred = losses.squeeze_or_expand_to_same_rank(y_true, y_pred)
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
    y_pred = _to_tensor(y_pred, "y_pred", caller)
    return _to_tensor(y_true, "y_true", caller).to(y_pred.device), y_pred


def _float_dtype(tensor: torch.Tensor) -> torch.dtype:
    return tensor.dtype if tensor.is_floating_point() else torch.get_default_dtype()


mean_squared_error = losses.mean_squared_error
mean_absolute_error = losses.mean_absolute_error
mean_absolute_percentage_error = losses.mean_absolute_percentage_error
mean_squared_logarithmic_error = losses.mean_squared_logarithmic_error
binary_crossentropy = losses.binary_crossentropy
categorical_crossentropy = losses.categorical_crossentropy
sparse_categorical_crossentropy = losses.sparse_categorical_crossentropy
log_cosh = losses.log_cosh
mse = mean_squared_error
mae = mean_absolute_error
mape = mean_absolute_percentage_error
msle = mean_squared_logarithmic_error


# ---------------------------------------------------------------------- base classes
class Metric:
    """Base class of stateful metrics.

    Subclasses implement ``update_state(y_true, y_pred, sample_weight=None)``,
    ``result() -> float`` and ``reset_state()``; ``metric(y_true, y_pred)`` updates
    and returns the running result.

    Args:
        name: Log key. Defaults to the snake-case class name.
        dtype: Accepted for Keras compatibility. Defaults to `None`.
    """

    direction: str | None = None

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        self.name = name or _snake_case(type(self).__name__)
        self.dtype = dtype

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Accumulate one batch."""
        raise NotImplementedError(f"{type(self).__name__} must implement update_state().")

    def result(self) -> float:
        """Return the value over all batches since the last reset."""
        raise NotImplementedError(f"{type(self).__name__} must implement result().")

    def reset_state(self) -> None:
        """Forget every batch."""
        raise NotImplementedError(f"{type(self).__name__} must implement reset_state().")

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        """Update with one batch and return the running result."""
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments (JSON-friendly)."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        """Rebuild a metric from :meth:`get_config`'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Mean(Metric):
    """Weighted mean of values: ``sum(w * v) / sum(w)`` over all updates.

    Values of shape ``(batch, ...)`` are first reduced to one value per sample
    (the mean over the trailing axes not covered by ``sample_weight``), as Keras does.

    Args:
        name: Defaults to `"mean"`.
        dtype: Defaults to `None`.

    Example:
        >>> m = Mean()
        >>> m.update_state([1.0, 3.0], sample_weight=[1.0, 3.0])
        >>> m.result()
        2.5
    """

    def __init__(self, name: str = "mean", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = torch.zeros((), dtype=torch.float64)
        self.count = torch.zeros((), dtype=torch.float64)

    def reset_state(self) -> None:
        self.total = torch.zeros((), dtype=torch.float64)
        self.count = torch.zeros((), dtype=torch.float64)

    @torch.no_grad()
    def update_state(self, values: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        """Accumulate ``values`` (any shape with a leading batch axis), optionally weighted."""
        values = _to_tensor(values, "values", self.name)
        if not values.is_floating_point():
            values = values.to(torch.get_default_dtype())
        values, weights = _reduce_to_samplewise(values, sample_weight, self.name)
        if self.total.device != values.device:  # accumulate where the data lives, no syncs
            dtype = torch.float32 if values.device.type == "mps" else torch.float64
            self.total = self.total.to(device=values.device, dtype=dtype)
            self.count = self.count.to(device=values.device, dtype=dtype)
        self.total += torch.sum(values).to(self.total.dtype)
        if weights is not None:
            self.count += torch.sum(weights).to(self.count.dtype)
        else:
            self.count += values.shape[0] if values.dim() >= 1 else 1

    def result(self) -> float:
        count = float(self.count)
        return float(self.total) / count if count else 0.0


def _reduce_to_samplewise(
    values: torch.Tensor, sample_weight: Any, caller: str
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Keras' ``reduce_to_samplewise_values`` with ``reduce_fn=mean``."""
    weights = None
    if sample_weight is not None:
        weights = _to_tensor(sample_weight, "sample_weight", caller)
        weights = weights.to(device=values.device, dtype=values.dtype)
        values, weights = losses.squeeze_or_expand_to_same_rank(values, weights)
        if values.dim() > weights.dim():
            values = torch.mean(values, dim=tuple(range(weights.dim(), values.dim())))
        try:
            weights = torch.broadcast_to(weights, values.shape)
        except RuntimeError:
            raise errors.RnnkitValueError(
                f"{caller}: sample_weight has shape {tuple(weights.shape)} but the values "
                f"have shape {tuple(values.shape)}. Pass one weight per sample (batch,) or "
                "per timestep (batch, timesteps)."
            ) from None
        values = values * weights
        if weights.dim() > 1:
            weights = torch.mean(weights, dim=tuple(range(1, weights.dim())))
    if values.dim() > 1:
        values = torch.mean(values, dim=tuple(range(1, values.dim())))
    return values, weights


class MeanMetricWrapper(Mean):
    """The running weighted mean of ``fn(y_true, y_pred, **kwargs)``.

    Args:
        fn: Returns per-sample (or elementwise) values.
        name: Log key. Defaults to ``fn.__name__``.
        dtype: Defaults to `None`.
        **kwargs: Passed to ``fn``.

    Example:
        >>> import torch
        >>> def max_error(y_true, y_pred):
        ...     return (y_true - y_pred).abs().amax(dim=-1)
        >>> m = MeanMetricWrapper(max_error)
        >>> m.update_state(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.0, 3.0]]))
        >>> m.name, m.result(), m.direction
        ('max_error', 2.0, 'min')
    """

    def __init__(
        self, fn: MetricFn, name: str | None = None, dtype: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(name=name or _snake_case(getattr(fn, "__name__", "metric")), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        if type(self).direction is None:
            self.direction = direction_of(getattr(fn, "__name__", self.name)) or direction_of(
                self.name
            )

    @torch.no_grad()
    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        mask = output_mask_of(y_pred)
        if mask_for_values(mask, values) is not None:
            weights = mask.to(values.dtype)  # as Keras: masked timesteps do not count
            if sample_weight is not None:
                given = torch.as_tensor(sample_weight, dtype=values.dtype, device=values.device)
                given = given.reshape(*given.shape, *([1] * (weights.dim() - given.dim())))
                weights = weights * given
            sample_weight = weights
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self._fn_kwargs}


# ---------------------------------------------------------------------- regression
class _FixedFnMetric(MeanMetricWrapper):
    """A :class:`MeanMetricWrapper` whose function is fixed by the subclass."""

    _fn_of_class: MetricFn

    def __init__(self, name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:
        super().__init__(type(self)._fn_of_class, name=name, dtype=dtype, **kwargs)


class MeanSquaredError(_FixedFnMetric):
    """Running mean of ``mean((y_true - y_pred) ** 2, axis=-1)``.

    Args:
        name: Defaults to `"mean_squared_error"`.
        dtype: Defaults to `None`.

    Example:
        >>> MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]])
        0.5
    """

    direction = "min"
    _fn_of_class = staticmethod(losses.mean_squared_error)

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)


class MeanAbsoluteError(_FixedFnMetric):
    """Running mean of ``mean(|y_true - y_pred|, axis=-1)``.

    Args:
        name: Defaults to `"mean_absolute_error"`.
        dtype: Defaults to `None`.

    Example:
        >>> MeanAbsoluteError()([[0.0, 1.0]], [[1.0, 1.0]])
        0.5
    """

    direction = "min"
    _fn_of_class = staticmethod(losses.mean_absolute_error)

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)


class MeanAbsolutePercentageError(_FixedFnMetric):
    """Running mean of the absolute percentage error (see ``losses``).

    Args:
        name: Defaults to `"mean_absolute_percentage_error"`.
        dtype: Defaults to `None`.

    Example:
        >>> MeanAbsolutePercentageError()([[2.0]], [[1.0]])
        50.0
    """

    direction = "min"
    _fn_of_class = staticmethod(losses.mean_absolute_percentage_error)

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)


class MeanSquaredLogarithmicError(_FixedFnMetric):
    """Running mean of the squared logarithmic error (see ``losses``).

    Args:
        name: Defaults to `"mean_squared_logarithmic_error"`.
        dtype: Defaults to `None`.

    Example:
        >>> round(MeanSquaredLogarithmicError()([[0.0]], [[1.718281828]]), 6)
        1.0
    """

    direction = "min"
    _fn_of_class = staticmethod(losses.mean_squared_logarithmic_error)

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)


class LogCoshError(_FixedFnMetric):
    """Running mean of ``log(cosh(y_pred - y_true))``.

    Args:
        name: Defaults to `"logcosh"`.
        dtype: Defaults to `None`.

    Example:
        >>> round(LogCoshError()([[0.0]], [[1.0]]), 4)
        0.4338
    """

    direction = "min"
    _fn_of_class = staticmethod(losses.log_cosh)

    def __init__(self, name: str = "logcosh", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """``sqrt`` of the running weighted mean of squared errors (over all elements).

    Args:
        name: Defaults to `"root_mean_squared_error"`.
        dtype: Defaults to `None`.

    Example:
        >>> RootMeanSquaredError()([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]])
        0.5
    """

    direction = "min"

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)

    @torch.no_grad()
    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred = _prepare(y_true, y_pred, self.name)
        super().update_state(torch.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self) -> float:
        return super().result() ** 0.5


# ---------------------------------------------------------------------- accuracy
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
            true_shape = tuple(_to_tensor(y_true, "y_true", self.name).shape)
            pred_shape = tuple(_to_tensor(y_pred, "y_pred", self.name).shape)
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


# ---------------------------------------------------------------------- crossentropy
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
    _fn_of_class = staticmethod(losses.binary_crossentropy)

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
    _fn_of_class = staticmethod(losses.categorical_crossentropy)

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
    _fn_of_class = staticmethod(losses.sparse_categorical_crossentropy)

    def __init__(
        self,
        name: str = "sparse_categorical_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        axis: int = -1,
    ) -> None:
        super().__init__(name=name, dtype=dtype, from_logits=from_logits, axis=axis)


# ---------------------------------------------------------------------- lookup
CLASSES: dict[str, type[Metric]] = {
    cls.__name__: cls
    for cls in (
        Mean,
        MeanSquaredError,
        MeanAbsoluteError,
        MeanAbsolutePercentageError,
        MeanSquaredLogarithmicError,
        RootMeanSquaredError,
        LogCoshError,
        Accuracy,
        BinaryAccuracy,
        CategoricalAccuracy,
        SparseCategoricalAccuracy,
        BinaryCrossentropy,
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
    )
}

# Keras' metrics.get keys: class names, their snake case, and short aliases.
NAMES: dict[str, type[Metric]] = {
    **CLASSES,
    **{_snake_case(name): cls for name, cls in CLASSES.items()},
}
NAMES.update(
    {
        "mse": MeanSquaredError,
        "mae": MeanAbsoluteError,
        "mape": MeanAbsolutePercentageError,
        "msle": MeanSquaredLogarithmicError,
        "rmse": RootMeanSquaredError,
        "bce": BinaryCrossentropy,
        "log_cosh": LogCoshError,
    }
)

_ACCURACY_FOR_LOSS: dict[str, type[Metric]] = {
    "binary_crossentropy": BinaryAccuracy,
    "categorical_crossentropy": CategoricalAccuracy,
    "sparse_categorical_crossentropy": SparseCategoricalAccuracy,
}


def get(identifier: Any, loss: Any = None) -> Metric:
    """Resolve a metric; its ``name`` is the Keras log key.

    - ``"accuracy"``/``"acc"`` (any case): with a crossentropy ``loss``, the matching
      binary, categorical or sparse categorical accuracy; otherwise chosen from the
      shapes of the first batch as Keras 3 does. Logged under the string given.
    - Other names (``"mae"``, ``"MAE"``, ``"mean_absolute_error"``,
      ``"MeanAbsoluteError"``, ``"rmse"``, ...) give the metric logged under the
      string given, as Keras 3 logs it.
    - A :class:`Metric` is returned as is; a :class:`Metric` subclass is instantiated.
    - A function ``fn(y_true, y_pred)`` returning per-sample values (or a scalar)
      is averaged by a :class:`MeanMetricWrapper` named after ``fn.__name__``.

    Args:
        identifier: See above.
        loss: The compiled loss (name, :class:`~rnnkit.losses.Loss` or function),
            used for ``"accuracy"``. Defaults to `None`.

    Raises:
        ValueError: an unknown name (with a "did you mean" hint).
        TypeError: anything else.

    Example:
        >>> get("mae").name, get("acc", loss="binary_crossentropy")
        ('mae', BinaryAccuracy(name='acc', threshold=0.5))
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        return _from_name(identifier, loss)
    if isinstance(identifier, dict) and "class_name" in identifier:
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise errors.RnnkitTypeError(
        "metrics.get(): expected a metric name such as 'mae', a Metric, or a function "
        f"fn(y_true, y_pred). Received: {identifier!r}."
    )


def _from_name(identifier: str, loss: Any) -> Metric:
    if identifier.lower() in ("accuracy", "acc"):
        kind = _ACCURACY_FOR_LOSS.get(_loss_name(loss) or "")
        return kind(name=identifier) if kind else _InferredAccuracy(name=identifier)
    cls = NAMES.get(identifier) or NAMES.get(identifier.lower())
    if cls is None:
        check_one_of("metric", identifier, [*NAMES, "accuracy", "acc"], caller="metrics.get()")
    assert cls is not None
    return cls(name=identifier)


def _loss_name(loss: Any) -> str | None:
    if loss is None:
        return None
    if isinstance(loss, str):
        return losses.canonical_name(loss)
    if isinstance(loss, losses.LossFunctionWrapper):
        return getattr(loss.fn, "__name__", None)
    name = getattr(loss, "__name__", None)
    return losses.canonical_name(name) if isinstance(name, str) else None


def serialize(metric: Metric) -> dict[str, Any]:
    """Return ``{"class_name": ..., "config": ...}`` for a built-in metric."""
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config: dict[str, Any]) -> Metric:
    """Inverse of :func:`serialize`."""
    name = check_one_of(
        "metric class", config["class_name"], CLASSES, caller="metrics.deserialize()"
    )
    return CLASSES[name].from_config(dict(config.get("config", {})))


# ---------------------------------------------------------------------- directions
_MIN_TEXT = (
    "loss error crossentropy ce bce mse mae mape msle rmse hinge divergence kld poisson "
    "logcosh cosh huber"
)
_MAX_TEXT = "accuracy acc auc precision recall f1 fbeta iou r2 similarity"
_MIN_WORDS, _MAX_WORDS = frozenset(_MIN_TEXT.split()), frozenset(_MAX_TEXT.split())


def direction_of(name: str) -> str | None:
    """Whether a log key improves downwards (``"min"``) or upwards (``"max"``).

    Strips ``val_`` (and ``weighted_``), then looks at the words between
    underscores, last word first: ``loss``, ``error``, ``crossentropy``, ``mse``,
    ``mae``, ... mean ``"min"``; ``accuracy``, ``acc``, ``auc``, ``precision``,
    ``recall``, ... mean ``"max"``. CamelCase names are read as snake case.

    Returns:
        ``"min"``, ``"max"``, or ``None`` when the name does not tell.

    Example:
        >>> direction_of("val_loss"), direction_of("sparse_categorical_accuracy")
        ('min', 'max')
        >>> direction_of("MeanAbsoluteError"), direction_of("r_squared") is None
        ('min', True)
    """
    key = _snake_case(name)
    for prefix in ("val_", "weighted_"):
        key = key.removeprefix(prefix)
    words = key.split("_")
    for word in (words[-1], *words):
        if word in _MIN_WORDS:
            return "min"
        if word in _MAX_WORDS:
            return "max"
    return None


__all__ = [
    "Accuracy",
    "BinaryAccuracy",
    "BinaryCrossentropy",
    "CategoricalAccuracy",
    "CategoricalCrossentropy",
    "LogCoshError",
    "Mean",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Metric",
    "RootMeanSquaredError",
    "SparseCategoricalAccuracy",
    "SparseCategoricalCrossentropy",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "deserialize",
    "direction_of",
    "get",
    "serialize",
    "sparse_categorical_accuracy",
]
