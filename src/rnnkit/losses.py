"""Losses with Keras 3's names and semantics, on torch tensors.

Two forms, as in Keras:

- functions such as :func:`mean_squared_error` return the *per-sample* loss:
  the mean over the last axis, so targets ``(batch, features)`` give ``(batch,)``
  and sequence targets ``(batch, timesteps, features)`` give ``(batch, timesteps)``;
- classes such as :class:`MeanSquaredError` call the function, multiply by
  ``sample_weight`` and reduce. The default reduction ``"sum_over_batch_size"``
  divides the weighted sum by the number of per-sample entries (not by the sum of
  the weights).

``sample_weight`` may have the shape of the per-sample losses, ``(batch, timesteps)``
for sequences, or just ``(batch,)``, which weights every timestep of a sample alike.
Computations run in ``y_pred``'s dtype; ``y_true`` is cast to it.

Example:
    >>> import torch
    >>> from rnnkit.losses import MeanSquaredError, mean_squared_error
    >>> y_true, y_pred = torch.tensor([[0.0, 1.0], [1.0, 1.0]]), torch.zeros(2, 2)
    >>> mean_squared_error(y_true, y_pred)
    tensor([0.5000, 1.0000])
    >>> MeanSquaredError()(y_true, y_pred, sample_weight=torch.tensor([1.0, 0.0]))
    tensor(0.2500)
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from rnnkit import errors
from rnnkit._validation import check_one_of

EPSILON = 1e-7  # Keras' backend.epsilon()
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none")

LossFn = Callable[..., torch.Tensor]


# ---------------------------------------------------------------------- helpers
def _to_tensor(value: Any, *, name: str, caller: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise errors.RnnkitTypeError(
            f"{caller}: `{name}` could not be converted to a tensor ({exc})."
        ) from None
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        raise errors.RnnkitTypeError(
            f"{caller}: `{name}` must be numeric. Received an array of dtype {array.dtype}."
        )
    return torch.as_tensor(array)


def _prepare(y_true: Any, y_pred: Any, caller: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Tensors, ``y_pred`` floating (float32 by default) and ``y_true`` in its dtype."""
    y_pred = _to_tensor(y_pred, name="y_pred", caller=caller)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.get_default_dtype())
    y_true = _to_tensor(y_true, name="y_true", caller=caller)
    return y_true.to(device=y_pred.device, dtype=y_pred.dtype), y_pred


def output_mask_of(y_pred: Any) -> torch.Tensor | None:
    """The timestep mask a model attached to its output (Keras' ``_keras_mask``), if any.

    A ``Sequential`` whose last layer outputs a masked sequence (``Masking`` →
    ``LSTM(return_sequences=True)`` → ``TimeDistributed(Dense)``, say) attaches the
    ``(batch, timesteps)`` mask; losses and metrics then average over the valid steps.
    """
    mask = getattr(y_pred, "_keras_mask", None)
    return mask.bool() if isinstance(mask, torch.Tensor) else None


def mask_for_values(mask: torch.Tensor | None, values: Any) -> torch.Tensor | None:
    """``mask`` spread over ``values`` that have its shape plus trailing axes, else None.

    Per-step losses and metrics are ``(batch, timesteps)``, like the mask; elementwise
    ones (``binary_accuracy`` on a ``Dense(1)`` output, a custom loss without a mean)
    keep a trailing axis, and each of its elements gets its timestep's flag.
    """
    if mask is None or not isinstance(values, torch.Tensor) or values.dim() < mask.dim():
        return None
    if tuple(values.shape[: mask.dim()]) != tuple(mask.shape):
        return None
    extra = values.dim() - mask.dim()
    return mask.reshape(*mask.shape, *([1] * extra)).expand(values.shape)


def squeeze_or_expand_to_same_rank(
    x1: torch.Tensor, x2: torch.Tensor, expand_rank_1: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Keras' rank alignment: drop or add a trailing axis of size 1 when ranks differ by one.

    Example:
        >>> a, b = squeeze_or_expand_to_same_rank(torch.zeros(4), torch.zeros(4, 1))
        >>> tuple(a.shape), tuple(b.shape)
        ((4, 1), (4, 1))
    """
    rank1, rank2 = x1.dim(), x2.dim()
    if rank1 == rank2 + 1 and x1.shape[-1] == 1:
        if rank2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    if rank2 == rank1 + 1 and x2.shape[-1] == 1:
        if rank1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def _aligned(y_true: Any, y_pred: Any, caller: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Prepare, align ranks, and require equal shapes (no silent broadcasting)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_prepare(y_true, y_pred, caller))
    if y_true.shape != y_pred.shape:
        raise errors.RnnkitValueError(
            f"{caller}: y_true has shape {tuple(y_true.shape)} but y_pred has shape "
            f"{tuple(y_pred.shape)}. Give targets the shape of the model output."
        )
    return y_true, y_pred


# ---------------------------------------------------------------------- functions
def mean_squared_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Per-sample ``mean((y_true - y_pred) ** 2, axis=-1)``."""
    y_true, y_pred = _aligned(y_true, y_pred, "mean_squared_error")
    return torch.mean(torch.square(y_true - y_pred), dim=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Per-sample ``mean(|y_true - y_pred|, axis=-1)``."""
    y_true, y_pred = _aligned(y_true, y_pred, "mean_absolute_error")
    return torch.mean(torch.abs(y_true - y_pred), dim=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Per-sample ``100 * mean(|(y_true - y_pred) / max(|y_true|, 1e-7)|, axis=-1)``."""
    y_true, y_pred = _aligned(y_true, y_pred, "mean_absolute_percentage_error")
    diff = torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=EPSILON))
    return 100.0 * torch.mean(diff, dim=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Per-sample ``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)) ** 2)``."""
    y_true, y_pred = _aligned(y_true, y_pred, "mean_squared_logarithmic_error")
    first = torch.log(torch.clamp(y_pred, min=EPSILON) + 1.0)
    second = torch.log(torch.clamp(y_true, min=EPSILON) + 1.0)
    return torch.mean(torch.square(first - second), dim=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> torch.Tensor:
    """Per-sample Huber loss: ``0.5 e**2`` if ``|e| <= delta``, else ``delta (|e| - 0.5 delta)``."""
    y_true, y_pred = _aligned(y_true, y_pred, "huber")
    error = y_pred - y_true
    abs_error = torch.abs(error)
    delta_t = torch.as_tensor(delta, dtype=y_pred.dtype, device=y_pred.device)
    quadratic = 0.5 * torch.square(error)
    linear = delta_t * abs_error - 0.5 * torch.square(delta_t)
    return torch.mean(torch.where(abs_error <= delta_t, quadratic, linear), dim=-1)


def log_cosh(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Per-sample ``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed stably."""
    y_true, y_pred = _aligned(y_true, y_pred, "log_cosh")
    x = y_pred - y_true
    return torch.mean(x + F.softplus(-2.0 * x) - math.log(2.0), dim=-1)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Per-sample *negative* cosine similarity along ``axis`` (−1 is best), as Keras."""
    y_true, y_pred = _aligned(y_true, y_pred, "cosine_similarity")
    return -torch.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), dim=axis)


def _l2_normalize(x: torch.Tensor, axis: int) -> torch.Tensor:
    inv_norm = torch.rsqrt(torch.sum(torch.square(x), dim=axis, keepdim=True))
    return x * torch.clamp(inv_norm, max=1.0 / EPSILON)


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
    y_true, y_pred = _aligned(y_true, y_pred, "binary_crossentropy")
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
    y_true, y_pred = _aligned(y_true, y_pred, "categorical_crossentropy")
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
    y_pred = _to_tensor(y_pred, name="y_pred", caller=caller)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.get_default_dtype())
    labels = _to_tensor(y_true, name="y_true", caller=caller).to(y_pred.device)
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


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error


# ---------------------------------------------------------------------- reduction
def _broadcast_weights(
    sample_weight: torch.Tensor, values: torch.Tensor, caller: str
) -> torch.Tensor:
    """Align ``sample_weight`` to ``values``: ``(batch,)`` spreads over trailing axes."""
    given = tuple(sample_weight.shape)
    values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
    if sample_weight.dim() < values.dim():
        extra = values.dim() - sample_weight.dim()
        sample_weight = sample_weight.reshape(*sample_weight.shape, *([1] * extra))
    try:
        shape = torch.broadcast_shapes(sample_weight.shape, values.shape)
    except RuntimeError:
        shape = None
    if shape != values.shape:
        raise errors.RnnkitValueError(
            f"{caller}: sample_weight has shape {given} but the "
            f"per-sample losses have shape {tuple(values.shape)}. Pass one weight per "
            "sample (batch,) or per timestep (batch, timesteps)."
        )
    return sample_weight


def reduce_weighted_values(
    values: torch.Tensor,
    sample_weight: Any = None,
    mask: torch.Tensor | None = None,
    reduction: str | None = "sum_over_batch_size",
    *,
    caller: str = "loss",
) -> torch.Tensor:
    """Weight per-sample losses and reduce them as Keras' ``reduce_weighted_values``."""
    if mask is not None:
        weight_dtype = values.dtype
        if reduction in ("mean", "sum_over_batch_size"):
            valid = mask.sum().to(weight_dtype)
            scale = torch.where(valid > 0, mask.numel() / valid, torch.zeros_like(valid))
            float_mask = torch.where(mask, scale, torch.zeros_like(scale))
        else:
            float_mask = mask.to(weight_dtype)
        if sample_weight is not None:
            weights = _to_tensor(sample_weight, name="sample_weight", caller=caller)
            weights = weights.to(device=values.device, dtype=values.dtype)
            sample_weight = _broadcast_weights(weights, float_mask, caller) * float_mask
        else:
            sample_weight = float_mask
    weights = None
    if sample_weight is not None:
        weights = _to_tensor(sample_weight, name="sample_weight", caller=caller)
        weights = _broadcast_weights(
            weights.to(device=values.device, dtype=values.dtype), values, caller
        )
        values = values * weights
    if reduction in (None, "none") or values.dim() == 0 or tuple(values.shape) == (0,):
        return values
    total = torch.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weights is not None:
        divisor = torch.sum(torch.broadcast_to(weights, values.shape))
        return torch.where(divisor != 0, total / divisor, torch.zeros_like(total))
    return total / values.numel() if values.numel() else torch.zeros_like(total)


# ---------------------------------------------------------------------- classes
class Loss:
    """Base class: ``loss(y_true, y_pred, sample_weight=None)`` returns the reduced loss.

    Subclasses implement ``call(y_true, y_pred)`` returning per-sample losses.

    Args:
        name: Name. Defaults to the snake-case class name.
        reduction: ``"sum_over_batch_size"``, ``"sum"``, ``"mean"``,
            ``"mean_with_sample_weight"``, ``"none"`` or ``None``.
            Defaults to `"sum_over_batch_size"`.
        dtype: Torch dtype (or its name) to compute in. Defaults to `None` (``y_pred``'s).
    """

    def __init__(
        self,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        dtype: torch.dtype | str | None = None,
    ) -> None:
        caller = f"{type(self).__name__}()"
        if reduction is not None:
            check_one_of("reduction", reduction, REDUCTIONS, caller=caller)
        self.name = name or _snake_case(type(self).__name__)
        self.reduction = reduction
        self.dtype = _resolve_dtype(dtype, caller=caller)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> torch.Tensor:
        """Return the reduced, weighted loss (a 0-d tensor unless ``reduction="none"``)."""
        if self.dtype is not None:
            y_pred = _to_tensor(y_pred, name="y_pred", caller=self.name).to(self.dtype)
        values = self.call(y_true, y_pred)
        mask = self._mask(y_true)
        output_mask = mask_for_values(output_mask_of(y_pred), values)
        if output_mask is not None:
            mask = output_mask if mask is None else mask & output_mask
        return reduce_weighted_values(values, sample_weight, mask, self.reduction, caller=self.name)

    def call(self, y_true: Any, y_pred: Any) -> torch.Tensor:
        """Per-sample losses."""
        raise NotImplementedError(f"{type(self).__name__} must implement call().")

    def _mask(self, y_true: Any) -> torch.Tensor | None:
        return None

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments (JSON-friendly)."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """Rebuild a loss from :meth:`get_config`'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class LossFunctionWrapper(Loss):
    """Turn a per-sample loss function ``fn(y_true, y_pred, **kwargs)`` into a :class:`Loss`.

    Args:
        fn: The per-sample loss function.
        reduction: See :class:`Loss`. Defaults to `"sum_over_batch_size"`.
        name: Name. Defaults to ``fn.__name__``.
        dtype: See :class:`Loss`. Defaults to `None`.
        **kwargs: Passed to ``fn``.

    Example:
        >>> import torch
        >>> def l4(y_true, y_pred):
        ...     return ((y_true - y_pred) ** 4).mean(dim=-1)
        >>> LossFunctionWrapper(l4)(torch.ones(2, 1), torch.zeros(2, 1))
        tensor(1.)
    """

    def __init__(
        self,
        fn: LossFn,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: torch.dtype | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            name=name or _snake_case(getattr(fn, "__name__", "loss")),
            reduction=reduction,
            dtype=dtype,
        )
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: Any, y_pred: Any) -> torch.Tensor:
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "fn": getattr(self.fn, "__name__", repr(self.fn))}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        config = dict(config)
        fn_name = config.pop("fn")
        if fn_name not in FUNCTIONS:
            check_one_of("loss function", fn_name, FUNCTIONS, caller="LossFunctionWrapper")
        return cls(FUNCTIONS[fn_name], **config)


class _RegressionLoss(LossFunctionWrapper):
    """A :class:`LossFunctionWrapper` whose function is fixed by the subclass."""

    _fn: LossFn

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: torch.dtype | str | None = None,
    ) -> None:
        super().__init__(type(self)._fn, reduction=reduction, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return Loss.get_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)


class MeanSquaredError(_RegressionLoss):
    """Mean of squares of errors: ``mean((y_true - y_pred) ** 2)``.

    Args:
        reduction: Defaults to `"sum_over_batch_size"`.
        name: Defaults to `"mean_squared_error"`.
        dtype: Defaults to `None`.

    Example:
        >>> import torch
        >>> MeanSquaredError()(torch.tensor([[1.0, 2.0]]), torch.tensor([[1.0, 0.0]]))
        tensor(2.)
    """

    _fn = staticmethod(mean_squared_error)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_squared_error",
        dtype: torch.dtype | str | None = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(_RegressionLoss):
    """Mean of absolute errors: ``mean(|y_true - y_pred|)``.

    Args:
        reduction: Defaults to `"sum_over_batch_size"`.
        name: Defaults to `"mean_absolute_error"`.
        dtype: Defaults to `None`.

    Example:
        >>> import torch
        >>> MeanAbsoluteError()(torch.tensor([[1.0, 2.0]]), torch.tensor([[1.0, 0.0]]))
        tensor(1.)
    """

    _fn = staticmethod(mean_absolute_error)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_absolute_error",
        dtype: torch.dtype | str | None = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(_RegressionLoss):
    """``100 * mean(|(y_true - y_pred) / y_true|)``, with ``|y_true|`` floored at 1e-7.

    Args:
        reduction: Defaults to `"sum_over_batch_size"`.
        name: Defaults to `"mean_absolute_percentage_error"`.
        dtype: Defaults to `None`.

    Example:
        >>> import torch
        >>> MeanAbsolutePercentageError()(torch.tensor([[2.0, 4.0]]), torch.tensor([[1.0, 4.0]]))
        tensor(25.)
    """

    _fn = staticmethod(mean_absolute_percentage_error)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_absolute_percentage_error",
        dtype: torch.dtype | str | None = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(_RegressionLoss):
    """``mean((log(1 + y_pred) - log(1 + y_true)) ** 2)``, inputs floored at 1e-7.

    Args:
        reduction: Defaults to `"sum_over_batch_size"`.
        name: Defaults to `"mean_squared_logarithmic_error"`.
        dtype: Defaults to `None`.

    Example:
        >>> import torch
        >>> loss = MeanSquaredLogarithmicError()(torch.zeros(1, 1), torch.full((1, 1), math.e - 1))
        >>> round(loss.item(), 5)
        1.0
    """

    _fn = staticmethod(mean_squared_logarithmic_error)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_squared_logarithmic_error",
        dtype: torch.dtype | str | None = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class LogCosh(_RegressionLoss):
    """``mean(log(cosh(y_pred - y_true)))``: like MSE near 0, like MAE far away.

    Args:
        reduction: Defaults to `"sum_over_batch_size"`.
        name: Defaults to `"log_cosh"`.
        dtype: Defaults to `None`.

    Example:
        >>> import torch
        >>> round(LogCosh()(torch.zeros(1, 1), torch.ones(1, 1)).item(), 4)
        0.4338
    """

    _fn = staticmethod(log_cosh)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "log_cosh",
        dtype: torch.dtype | str | None = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class Huber(LossFunctionWrapper):
    """Huber loss: quadratic for errors up to ``delta``, linear beyond.

    Args:
        delta: Where the loss turns linear, > 0. Defaults to `1.0`.
        reduction: Defaults to `"sum_over_batch_size"`.
        name: Defaults to `"huber_loss"`.
        dtype: Defaults to `None`.

    Example:
        >>> import torch
        >>> Huber()(torch.zeros(1, 2), torch.tensor([[0.5, 3.0]]))
        tensor(1.3125)
    """

    def __init__(
        self,
        delta: float = 1.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "huber_loss",
        dtype: torch.dtype | str | None = None,
    ) -> None:
        _check_number("delta", delta, caller="Huber()", low=0.0, low_open=True)
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)
        self.delta = delta

    def get_config(self) -> dict[str, Any]:
        return {**Loss.get_config(self), "delta": self.delta}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis``: −1 for aligned vectors, 0 for orthogonal.

    Args:
        axis: Axis of the vectors. Defaults to `-1`.
        reduction: Defaults to `"sum_over_batch_size"`.
        name: Defaults to `"cosine_similarity"`.
        dtype: Defaults to `None`.

    Example:
        >>> import torch
        >>> CosineSimilarity()(torch.tensor([[1.0, 0.0]]), torch.tensor([[2.0, 0.0]]))
        tensor(-1.)
    """

    def __init__(
        self,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "cosine_similarity",
        dtype: torch.dtype | str | None = None,
    ) -> None:
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self) -> dict[str, Any]:
        return {**Loss.get_config(self), "axis": self.axis}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)


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
        _check_number("label_smoothing", label_smoothing, caller=caller, low=0.0, high=1.0)
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
        labels = _to_tensor(y_true, name="y_true", caller=self.name)
        if labels.dim() >= 2 and labels.shape[-1] == 1:
            labels = labels.squeeze(-1)
        return labels != self.ignore_class

    def get_config(self) -> dict[str, Any]:
        return {
            **Loss.get_config(self),
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
            "axis": self.axis,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)


FUNCTIONS: dict[str, LossFn] = {
    fn.__name__: fn
    for fn in (
        mean_squared_error,
        mean_absolute_error,
        mean_absolute_percentage_error,
        mean_squared_logarithmic_error,
        huber,
        log_cosh,
        cosine_similarity,
        binary_crossentropy,
        categorical_crossentropy,
        sparse_categorical_crossentropy,
    )
}

CLASSES: dict[str, type[Loss]] = {
    cls.__name__: cls
    for cls in (
        MeanSquaredError,
        MeanAbsoluteError,
        MeanAbsolutePercentageError,
        MeanSquaredLogarithmicError,
        Huber,
        LogCosh,
        CosineSimilarity,
        BinaryCrossentropy,
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
    )
}

# Per-sample function -> the class that reduces it.
CLASS_OF_FUNCTION: dict[str, type[Loss]] = {
    "mean_squared_error": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "huber": Huber,
    "log_cosh": LogCosh,
    "cosine_similarity": CosineSimilarity,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}

ALIASES: dict[str, str] = {
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
    "bce": "binary_crossentropy",
    "logcosh": "log_cosh",
}


def canonical_name(identifier: str) -> str | None:
    """Return the per-sample function name a loss name stands for, or ``None``.

    Accepts function names, aliases (any case) and class names:
    ``"MSE" -> "mean_squared_error"``, ``"BinaryCrossentropy" -> "binary_crossentropy"``.

    Example:
        >>> canonical_name("MAE"), canonical_name("Huber"), canonical_name("nope")
        ('mean_absolute_error', 'huber', None)
    """
    if identifier in FUNCTIONS:
        return identifier
    if identifier.lower() in ALIASES:
        return ALIASES[identifier.lower()]
    for function_name, cls in CLASS_OF_FUNCTION.items():
        if identifier == cls.__name__:
            return function_name
    lowered = identifier.lower()
    return lowered if lowered in FUNCTIONS else None


def get(identifier: Any) -> Loss | None:
    """Resolve a loss from a name, a :class:`Loss`, a function or a config dict.

    Names are Keras': function names (``"mean_squared_error"``), aliases (``"mse"``,
    ``"MAE"``, ``"bce"``) and class names (``"Huber"``). A name returns the matching
    class named after the identifier's function (``get("mse").name`` is
    ``"mean_squared_error"``; ``get("Huber").name`` is ``"huber_loss"``). A custom
    function ``fn(y_true, y_pred) -> per-sample losses`` is wrapped in a
    :class:`LossFunctionWrapper`.

    Raises:
        ValueError: an unknown name (with a "did you mean" hint).
        TypeError: anything else that is not callable.

    Example:
        >>> get("mse")
        MeanSquaredError(name='mean_squared_error', reduction='sum_over_batch_size')
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        return _from_name(identifier)
    if isinstance(identifier, dict) and "class_name" in identifier:
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        name = getattr(identifier, "__name__", None)
        if name in FUNCTIONS and FUNCTIONS[name] is identifier:
            return CLASS_OF_FUNCTION[name](name=name)
        return LossFunctionWrapper(identifier)
    raise errors.RnnkitTypeError(
        "losses.get(): expected a loss name such as 'mse', a Loss, or a function "
        f"fn(y_true, y_pred). Received: {identifier!r}."
    )


def _from_name(identifier: str) -> Loss:
    if identifier in CLASSES:
        return CLASSES[identifier]()
    name = canonical_name(identifier)
    if name is None:
        options = [*FUNCTIONS, *ALIASES, *CLASSES]
        check_one_of("loss", identifier, options, caller="losses.get()")
    assert name is not None
    return CLASS_OF_FUNCTION[name](name=name)


def serialize(loss: Loss) -> dict[str, Any]:
    """Return ``{"class_name": ..., "config": ...}`` for a loss."""
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config: dict[str, Any]) -> Loss:
    """Inverse of :func:`serialize`."""
    known = {**CLASSES, "LossFunctionWrapper": LossFunctionWrapper}
    name = check_one_of("loss class", config["class_name"], known, caller="losses.deserialize()")
    return known[name].from_config(dict(config.get("config", {})))


# ---------------------------------------------------------------------- small helpers
def _snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _resolve_dtype(dtype: torch.dtype | str | None, *, caller: str) -> torch.dtype | None:
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    resolved = getattr(torch, str(dtype), None)
    if not isinstance(resolved, torch.dtype) or not resolved.is_floating_point:
        raise errors.RnnkitValueError(
            f"{caller}: `dtype` must be a floating dtype such as 'float32'. "
            f"Received: dtype={dtype!r}."
        )
    return resolved


def _check_number(
    name: str,
    value: Any,
    *,
    caller: str,
    low: float,
    high: float = math.inf,
    low_open: bool = False,
) -> None:
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    ok = ok and (value > low if low_open else value >= low) and value <= high
    if not ok:
        bound = f"> {low:g}" if low_open else f">= {low:g}"
        wanted = f"a number {bound}" if high == math.inf else f"a number in [{low:g}, {high:g}]"
        raise errors.RnnkitValueError(
            f"{caller}: `{name}` must be {wanted}. Received: {name}={value!r}."
        )


__all__ = [
    "MAE",
    "MAPE",
    "MSE",
    "MSLE",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CosineSimilarity",
    "Huber",
    "LogCosh",
    "Loss",
    "LossFunctionWrapper",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "SparseCategoricalCrossentropy",
    "binary_crossentropy",
    "canonical_name",
    "categorical_crossentropy",
    "cosine_similarity",
    "deserialize",
    "get",
    "huber",
    "log_cosh",
    "mae",
    "mape",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "mse",
    "msle",
    "serialize",
    "sparse_categorical_crossentropy",
]
