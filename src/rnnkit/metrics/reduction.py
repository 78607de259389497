"""Mean metrics: :class:`Mean` (Keras' weighted running mean) and :class:`MeanMetricWrapper`.

Values are reduced to one per sample, weighted, and summed; ``result`` divides by
the sum of the weights (the sample count without weights), as Keras'
``reduction_metrics`` do. Timesteps that the model's output mask hides do not count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

import rnnkit.errors as errors
from rnnkit._naming import to_snake_case
from rnnkit._tensors import to_tensor
from rnnkit.losses.base import squeeze_or_expand_to_same_rank
from rnnkit.losses.masks import mask_for_values
from rnnkit.losses.masks import output_mask_of
from rnnkit.metrics.base import Metric
from rnnkit.metrics.base import direction_of

MetricFn = Callable[..., torch.Tensor]


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
        """Forget every accumulated value: the total and the count go back to zero."""
        self.total = torch.zeros((), dtype=torch.float64)
        self.count = torch.zeros((), dtype=torch.float64)

    @torch.no_grad()
    def update_state(self, values: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        """Accumulate ``values`` (any shape with a leading batch axis), optionally weighted."""
        values = to_tensor(values, name="values", caller=self.name)
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
        """Return the weighted mean of every value so far; 0.0 before any."""
        count = float(self.count)
        return float(self.total) / count if count else 0.0


def _reduce_to_samplewise(
    values: torch.Tensor, sample_weight: Any, caller: str
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Keras' ``reduce_to_samplewise_values`` with ``reduce_fn=mean``."""
    weights = None
    if sample_weight is not None:
        weights = to_tensor(sample_weight, name="sample_weight", caller=caller)
        weights = weights.to(device=values.device, dtype=values.dtype)
        values, weights = squeeze_or_expand_to_same_rank(values, weights)
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
        super().__init__(name=name or to_snake_case(getattr(fn, "__name__", "metric")), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        if type(self).direction is None:
            self.direction = direction_of(getattr(fn, "__name__", self.name)) or direction_of(
                self.name
            )

    @torch.no_grad()
    def update_state(  # type: ignore[override]  # Keras' signature, not Mean's
        self, y_true: Any, y_pred: Any, sample_weight: Any = None
    ) -> None:
        """Accumulate ``fn(y_true, y_pred)``; masked timesteps of ``y_pred`` do not count."""
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        mask = output_mask_of(y_pred)
        if mask is not None and mask_for_values(mask, values) is not None:
            weights = mask.to(values.dtype)  # as Keras: masked timesteps do not count
            if sample_weight is not None:
                given = to_tensor(sample_weight, name="sample_weight", caller=self.name)
                given = given.to(dtype=values.dtype, device=values.device)
                given = given.reshape(*given.shape, *([1] * (weights.dim() - given.dim())))
                weights = weights * given
            sample_weight = weights
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict[str, Any]:
        """Return ``name`` and the keyword arguments passed on to ``fn``."""
        return {"name": self.name, **self._fn_kwargs}


class _FixedFnMetric(MeanMetricWrapper):
    """A :class:`MeanMetricWrapper` whose function is fixed by the subclass."""

    _fn_of_class: MetricFn

    def __init__(self, name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:
        super().__init__(type(self)._fn_of_class, name=name, dtype=dtype, **kwargs)
