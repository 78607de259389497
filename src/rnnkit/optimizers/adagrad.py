"""Adagrad."""

from __future__ import annotations

from typing import Any

import torch

from rnnkit.optimizers._checks import check_range
from rnnkit.optimizers._docstrings import with_base_args
from rnnkit.optimizers.base import Optimizer
from rnnkit.optimizers.base import Tensors
from rnnkit.optimizers.schedules import LearningRateSchedule


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011).

    ::

        acc = acc + g**2                      # acc starts at initial_accumulator_value
        w = w - lr * g / sqrt(acc + epsilon)

    Args:
        learning_rate: Step size, float > 0 or schedule. Defaults to `0.001`.
        initial_accumulator_value: Starting value of ``acc``, >= 0. Defaults to `0.1`.
        epsilon: >= 0. Defaults to `1e-07`.

    Example:
        >>> import torch
        >>> w = torch.nn.Parameter(torch.zeros(1))
        >>> opt = Adagrad(learning_rate=1.0, initial_accumulator_value=0.0, epsilon=0.0)
        >>> opt.build([w])
        >>> w.grad = torch.tensor([3.0])
        >>> opt.step()
        >>> w.data
        tensor([-1.])
    """

    __doc__ = with_base_args(__doc__)

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-07,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(
            learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
        )
        self.initial_accumulator_value = check_range(
            "initial_accumulator_value", initial_accumulator_value, caller="Adagrad()", low=0.0
        )
        self.epsilon = check_range("epsilon", epsilon, caller="Adagrad()", low=0.0)

    def _slot_names(self) -> tuple[str, ...]:
        return ("accumulator",)

    def _init_slot(self, slot: str, param: torch.Tensor) -> torch.Tensor:
        if slot == "accumulator":
            return torch.full_like(param, self.initial_accumulator_value)
        return super()._init_slot(slot, param)

    def _update_step(self, grads: Tensors, params: Tensors, indices: list[int], lr: float) -> None:
        accumulators = self._slots("accumulator", indices)
        torch._foreach_add_(accumulators, torch._foreach_mul(grads, grads))
        denominators = torch._foreach_sqrt(torch._foreach_add(accumulators, self.epsilon))
        steps = torch._foreach_div(torch._foreach_mul(grads, lr), denominators)
        torch._foreach_add_(params, steps, alpha=-1)

    def get_config(self) -> dict[str, Any]:
        """Return the hyperparameters as a Keras-compatible config dict."""
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }
