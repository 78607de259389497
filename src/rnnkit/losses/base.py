"""The :class:`Loss` base class, its reduction, and the input preparation every loss shares.

A loss class calls its per-sample function, multiplies by ``sample_weight`` (and the
output's timestep mask) and reduces with :func:`reduce_weighted_values`, as Keras'
``Loss.__call__`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from rnnkit import errors
from rnnkit._naming import to_snake_case
from rnnkit._tensors import resolve_dtype
from rnnkit._tensors import to_tensor
from rnnkit._validation import check_one_of
from rnnkit.losses.masks import mask_for_values
from rnnkit.losses.masks import output_mask_of

EPSILON = 1e-7  # Keras' backend.epsilon()
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none")

LossFn = Callable[..., torch.Tensor]


# ---------------------------------------------------------------------- inputs
def prepare(y_true: Any, y_pred: Any, caller: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Tensors, ``y_pred`` floating (float32 by default) and ``y_true`` in its dtype and device."""
    y_pred = to_tensor(y_pred, name="y_pred", caller=caller)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.get_default_dtype())
    y_true = to_tensor(y_true, name="y_true", caller=caller)
    return y_true.to(device=y_pred.device, dtype=y_pred.dtype), y_pred


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


def aligned(y_true: Any, y_pred: Any, caller: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Prepare, align ranks, and require equal shapes (no silent broadcasting)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*prepare(y_true, y_pred, caller))
    if y_true.shape != y_pred.shape:
        raise errors.RnnkitValueError(
            f"{caller}: y_true has shape {tuple(y_true.shape)} but y_pred has shape "
            f"{tuple(y_pred.shape)}. Give targets the shape of the model output."
        )
    return y_true, y_pred


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
    """Weight per-sample losses and reduce them as Keras' ``reduce_weighted_values``.

    Example:
        >>> values = torch.tensor([1.0, 3.0])
        >>> reduce_weighted_values(values, torch.tensor([1.0, 0.0]))
        tensor(0.5000)
        >>> reduce_weighted_values(values, torch.tensor([1.0, 0.0]), reduction="sum")
        tensor(1.)
    """
    if mask is not None:
        weight_dtype = values.dtype
        if reduction in ("mean", "sum_over_batch_size"):
            valid = mask.sum().to(weight_dtype)
            scale = torch.where(valid > 0, mask.numel() / valid, torch.zeros_like(valid))
            float_mask = torch.where(mask, scale, torch.zeros_like(scale))
        else:
            float_mask = mask.to(weight_dtype)
        if sample_weight is not None:
            given = to_tensor(sample_weight, name="sample_weight", caller=caller)
            given = given.to(device=values.device, dtype=values.dtype)
            sample_weight = _broadcast_weights(given, float_mask, caller) * float_mask
        else:
            sample_weight = float_mask
    weights: torch.Tensor | None = None
    if sample_weight is not None:
        weights = to_tensor(sample_weight, name="sample_weight", caller=caller)
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
        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = reduction
        self.dtype = None if dtype is None else resolve_dtype(dtype, caller=caller)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> torch.Tensor:
        """Return the reduced, weighted loss (a 0-d tensor unless ``reduction="none"``)."""
        if self.dtype is not None:
            y_pred = to_tensor(y_pred, name="y_pred", caller=self.name).to(self.dtype)
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
            name=name or to_snake_case(getattr(fn, "__name__", "loss")),
            reduction=reduction,
            dtype=dtype,
        )
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: Any, y_pred: Any) -> torch.Tensor:
        """Per-sample losses: ``fn(y_true, y_pred, **kwargs)``."""
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments, with ``fn`` as its name."""
        return {**super().get_config(), "fn": getattr(self.fn, "__name__", repr(self.fn))}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """Rebuild the wrapper around the built-in function that ``config["fn"]`` names."""
        # The built-in functions live in the family modules, which import this one.
        from rnnkit.losses.registry import FUNCTIONS

        config = dict(config)
        fn_name = check_one_of(
            "loss function", config.pop("fn"), FUNCTIONS, caller="LossFunctionWrapper"
        )
        return cls(FUNCTIONS[fn_name], **config)
