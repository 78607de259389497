"""Regression metrics: running means of squared, absolute, percentage, log and log-cosh errors.

Example:
    >>> m = MeanAbsoluteError()
    >>> m.update_state([[0.0, 1.0]], [[1.0, 1.0]])
    >>> m.update_state([[2.0]], [[2.0]])
    >>> m.result()
    0.25
"""

from __future__ import annotations

from typing import Any

import torch

from rnnkit.losses import regression as loss_fns
from rnnkit.losses.base import prepare
from rnnkit.losses.base import squeeze_or_expand_to_same_rank
from rnnkit.metrics.reduction import Mean
from rnnkit.metrics.reduction import _FixedFnMetric

mean_squared_error = loss_fns.mean_squared_error
mean_absolute_error = loss_fns.mean_absolute_error
mean_absolute_percentage_error = loss_fns.mean_absolute_percentage_error
mean_squared_logarithmic_error = loss_fns.mean_squared_logarithmic_error
log_cosh = loss_fns.log_cosh
mse = mean_squared_error
mae = mean_absolute_error
mape = mean_absolute_percentage_error
msle = mean_squared_logarithmic_error


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
    _fn_of_class = staticmethod(loss_fns.mean_squared_error)

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
    _fn_of_class = staticmethod(loss_fns.mean_absolute_error)

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
    _fn_of_class = staticmethod(loss_fns.mean_absolute_percentage_error)

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
    _fn_of_class = staticmethod(loss_fns.mean_squared_logarithmic_error)

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
    _fn_of_class = staticmethod(loss_fns.log_cosh)

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
    def update_state(  # type: ignore[override]  # Keras' signature, not Mean's
        self, y_true: Any, y_pred: Any, sample_weight: Any = None
    ) -> None:
        """Accumulate the squared errors of one batch."""
        y_true, y_pred = squeeze_or_expand_to_same_rank(*prepare(y_true, y_pred, self.name))
        super().update_state(torch.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self) -> float:
        """Return the square root of the weighted mean squared error so far; 0.0 before any."""
        return super().result() ** 0.5
