"""Regression losses: squared, absolute, percentage, logarithmic, Huber, log-cosh, cosine.

Each comes as a per-sample function (the mean over the last axis) and as a
:class:`~rnnkit.losses.base.Loss` class that weights and reduces it.

Example:
    >>> import torch
    >>> y_true, y_pred = torch.tensor([[0.0, 1.0], [1.0, 1.0]]), torch.zeros(2, 2)
    >>> mean_absolute_error(y_true, y_pred)
    tensor([0.5000, 1.0000])
    >>> MeanAbsoluteError()(y_true, y_pred)
    tensor(0.7500)
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from rnnkit._validation import check_number
from rnnkit.losses.base import EPSILON
from rnnkit.losses.base import Loss
from rnnkit.losses.base import LossFn
from rnnkit.losses.base import LossFunctionWrapper
from rnnkit.losses.base import aligned


# ---------------------------------------------------------------------- functions
def mean_squared_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Per-sample ``mean((y_true - y_pred) ** 2, axis=-1)``."""
    y_true, y_pred = aligned(y_true, y_pred, "mean_squared_error")
    return torch.mean(torch.square(y_true - y_pred), dim=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Per-sample ``mean(|y_true - y_pred|, axis=-1)``."""
    y_true, y_pred = aligned(y_true, y_pred, "mean_absolute_error")
    return torch.mean(torch.abs(y_true - y_pred), dim=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Per-sample ``100 * mean(|(y_true - y_pred) / max(|y_true|, 1e-7)|, axis=-1)``."""
    y_true, y_pred = aligned(y_true, y_pred, "mean_absolute_percentage_error")
    diff = torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=EPSILON))
    return 100.0 * torch.mean(diff, dim=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Per-sample ``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)) ** 2)``."""
    y_true, y_pred = aligned(y_true, y_pred, "mean_squared_logarithmic_error")
    first = torch.log(torch.clamp(y_pred, min=EPSILON) + 1.0)
    second = torch.log(torch.clamp(y_true, min=EPSILON) + 1.0)
    return torch.mean(torch.square(first - second), dim=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> torch.Tensor:
    """Per-sample Huber loss: ``0.5 e**2`` if ``|e| <= delta``, else ``delta (|e| - 0.5 delta)``."""
    y_true, y_pred = aligned(y_true, y_pred, "huber")
    error = y_pred - y_true
    abs_error = torch.abs(error)
    delta_t = torch.as_tensor(delta, dtype=y_pred.dtype, device=y_pred.device)
    quadratic = 0.5 * torch.square(error)
    linear = delta_t * abs_error - 0.5 * torch.square(delta_t)
    return torch.mean(torch.where(abs_error <= delta_t, quadratic, linear), dim=-1)


def log_cosh(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Per-sample ``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed stably."""
    y_true, y_pred = aligned(y_true, y_pred, "log_cosh")
    x = y_pred - y_true
    return torch.mean(x + F.softplus(-2.0 * x) - math.log(2.0), dim=-1)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Per-sample *negative* cosine similarity along ``axis`` (−1 is best), as Keras."""
    y_true, y_pred = aligned(y_true, y_pred, "cosine_similarity")
    return -torch.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), dim=axis)


def _l2_normalize(x: torch.Tensor, axis: int) -> torch.Tensor:
    inv_norm = torch.rsqrt(torch.sum(torch.square(x), dim=axis, keepdim=True))
    return x * torch.clamp(inv_norm, max=1.0 / EPSILON)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error


# ---------------------------------------------------------------------- classes
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
        check_number("delta", delta, caller="Huber()", low=0.0, closed="(]")
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)
        self.delta = delta

    def get_config(self) -> dict[str, Any]:
        """Return name, reduction and ``delta``."""
        return {**Loss.get_config(self), "delta": self.delta}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """Rebuild the loss from :meth:`get_config`'s output (no ``fn`` to look up)."""
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
        """Return name, reduction and ``axis``."""
        return {**Loss.get_config(self), "axis": self.axis}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """Rebuild the loss from :meth:`get_config`'s output (no ``fn`` to look up)."""
        return cls(**config)
